//! check-kld: structural checks of a built cloudabi64.ko (see
//! kmod_tools::kld and scripts/check-kld).
//!
//!   check-kld --arch amd64|arm64 --release 14|15 --kpi kmod/kpi-symbols.txt
//!             [--max-frame 2048] [--self-test] KO [KO.debug]
//!
//! With --self-test the checks are run on broken variants of KO instead
//! and must each report the breakage.

use std::process::ExitCode;

use kmod_tools::kld::{self, Arch, Config};

fn usage() -> ExitCode {
    eprintln!(
        "usage: check-kld --arch amd64|arm64 --release 14|15 --kpi FILE [--max-frame N] [--self-test] KO [KO.debug]"
    );
    ExitCode::from(2)
}

fn main() -> ExitCode {
    let mut args = std::env::args().skip(1);
    let (mut arch, mut release, mut kpi, mut max_frame, mut files) = (None, None, None, 2048u64, Vec::new());
    let mut self_test = false;
    while let Some(a) = args.next() {
        match a.as_str() {
            "--arch" => arch = args.next().as_deref().and_then(Arch::parse),
            "--release" => {
                release = args.next().and_then(|r| r.parse::<u32>().ok()).filter(|r| *r == 14 || *r == 15)
            }
            "--kpi" => kpi = args.next(),
            "--self-test" => self_test = true,
            "--max-frame" => match args.next().and_then(|n| n.parse().ok()) {
                Some(n) => max_frame = n,
                None => return usage(),
            },
            _ if a.starts_with("--") => return usage(),
            _ => files.push(a),
        }
    }
    let (Some(arch), Some(release), Some(kpi)) = (arch, release, kpi) else { return usage() };
    let Some(ko) = files.first().cloned() else { return usage() };
    let debug = files.get(1).cloned().unwrap_or_else(|| format!("{ko}.debug"));
    let kpi = match std::fs::read_to_string(&kpi) {
        Ok(k) => k,
        Err(e) => {
            eprintln!("check-kld: {kpi}: {e}");
            return ExitCode::from(2);
        }
    };
    let cfg = Config { arch, release, kpi, max_frame };
    if self_test {
        let results = kmod_tools::selftest::run(&ko, &debug, &cfg);
        let failed: Vec<&(String, bool)> = results.iter().filter(|(_, ok)| !ok).collect();
        for (name, _) in &failed {
            println!("check-kld self-test: {ko}: FAIL: {name}");
        }
        println!(
            "check-kld self-test: {ko}: {} passed, {} failed",
            results.len() - failed.len(),
            failed.len()
        );
        return if failed.is_empty() { ExitCode::SUCCESS } else { ExitCode::FAILURE };
    }
    let r = kld::run(&ko, &debug, &cfg);
    let relocs: Vec<String> = r.relocations.iter().map(|(k, n)| format!("{k}\u{d7}{n}")).collect();
    println!("check-kld: {ko}: relocations {}", relocs.join(" "));
    println!("check-kld: {ko}: {} undefined kernel symbols, {} functions", r.undefined, r.functions);
    if let Some((size, name)) = &r.largest_frame {
        println!("check-kld: {ko}: largest stack frame {size} bytes ({name})");
    }
    for f in &r.failures {
        println!("check-kld: {ko}: FAIL: {f}");
    }
    if r.failures.is_empty() {
        println!("check-kld: {ko}: ok");
        ExitCode::SUCCESS
    } else {
        println!("check-kld: {ko}: {} failure(s)", r.failures.len());
        ExitCode::FAILURE
    }
}
