//! The argdata travels as `execve` arguments.
//!
//! The kernel copies argv strings to the new process one after another,
//! each with its terminating NUL; the CloudABI image activator hands that
//! area to the program as its argdata, less the final NUL. So the argdata
//! is split at its NUL bytes and every piece becomes an argument, including
//! empty pieces and an empty last one: the kernel then reassembles exactly
//! `argdata + NUL`.

/// The argument strings' backing store: the argdata with a NUL appended,
/// so that each piece is NUL-terminated where it lies.
pub fn buffer(argdata: &[u8]) -> Vec<u8> {
    let mut buffer = Vec::with_capacity(argdata.len() + 1);
    buffer.extend_from_slice(argdata);
    buffer.push(0);
    buffer
}

/// Where each argument starts in [`buffer`]: at 0 and after every NUL of
/// the argdata.
pub fn offsets(argdata: &[u8]) -> Vec<usize> {
    std::iter::once(0)
        .chain(argdata.iter().enumerate().filter(|(_, b)| **b == 0).map(|(i, _)| i + 1))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// What the kernel builds from the arguments: each string up to its
    /// NUL, and that NUL.
    fn kernel_join(buffer: &[u8], offsets: &[usize]) -> Vec<u8> {
        let mut joined = Vec::new();
        for &start in offsets {
            let len = buffer[start..].iter().position(|&b| b == 0).unwrap();
            joined.extend_from_slice(&buffer[start..=start + len]);
        }
        joined
    }

    #[test]
    fn splits_at_every_nul() {
        assert_eq!(offsets(b""), [0]);
        assert_eq!(offsets(b"ab"), [0]);
        assert_eq!(offsets(b"a\0b"), [0, 2]);
        assert_eq!(offsets(b"\0"), [0, 1]);
        assert_eq!(offsets(b"a\0\0"), [0, 2, 3]);
    }

    #[test]
    fn the_readme_example_travels_as_three_arguments() {
        let argdata = [0x07, 0x81, 0x05, 0x82, 0x02, 0x01, 0x83, 0x08, 0x41, 0x00];
        let buffer = buffer(&argdata);
        let offsets = offsets(&argdata);
        assert_eq!(offsets, [0, 10]);
        assert_eq!(kernel_join(&buffer, &offsets), [&argdata[..], &[0]].concat());
    }

    proptest! {
        #[test]
        fn the_kernel_reassembles_argdata_and_one_nul(argdata in proptest::collection::vec(
            prop_oneof![Just(0u8), any::<u8>()], 0..64)
        ) {
            let buffer = buffer(&argdata);
            let mut expected = argdata.clone();
            expected.push(0);
            prop_assert_eq!(kernel_join(&buffer, &offsets(&argdata)), expected);
        }
    }
}
