//! Reproducible random testing.
//!
//! Property tests run from a fixed seed so that the test command gives the
//! same verdict on every machine; `CLOUDABI_TEST_SEED=<u64>` explores other
//! seeds (`random` picks one and prints it, so a failure can be replayed).

use proptest::test_runner::{Config, RngAlgorithm, TestRng, TestRunner};

/// The seed used when `CLOUDABI_TEST_SEED` is unset.
pub const DEFAULT_SEED: u64 = 0x636c_6f75_6461_6269; // "cloudabi"

/// The seed for this run, as described in the module documentation.
pub fn seed() -> u64 {
    match std::env::var("CLOUDABI_TEST_SEED").as_deref() {
        Err(_) => DEFAULT_SEED,
        Ok("random") => {
            let t = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap_or_default();
            t.as_nanos() as u64 ^ u64::from(std::process::id())
        }
        Ok(s) => {
            s.parse().unwrap_or_else(|_| panic!("CLOUDABI_TEST_SEED must be a u64 or `random`, not {s:?}"))
        }
    }
}

/// A proptest runner for `cases` cases from [`seed`], which it prints.
pub fn runner(name: &str, cases: u32) -> TestRunner {
    let seed = seed();
    println!("{name}: seed {seed} (replay with CLOUDABI_TEST_SEED={seed})");
    let mut bytes = [0u8; 32];
    for (i, chunk) in bytes.chunks_mut(8).enumerate() {
        chunk.copy_from_slice(
            &seed.wrapping_mul(0x9e37_79b9_7f4a_7c15).rotate_left(i as u32 * 16).to_le_bytes(),
        );
    }
    let rng = TestRng::from_seed(RngAlgorithm::ChaCha, &bytes);
    TestRunner::new_with_rng(Config { cases, failure_persistence: None, ..Config::default() }, rng)
}
