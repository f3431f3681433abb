//! `vmctl parse`: the verdict of one VM run, from its console log.
//!
//! What the log holds (see freebsd-vm/guest/vm-run.sh and drive.rs):
//!
//! - the kernel's own lines: a line starting with `panic: ` or
//!   `Fatal trap ` means the kernel died;
//! - the runner's lines, all starting with `cloudabi64-vm: `:
//!   `ok NAME`, `FAIL NAME: why`, `SKIP NAME: why` per case,
//!   `kldload failed: ...`, `kldunload failed: ...`, `layouts: FAILED ...`,
//!   `result: RELEASE ARCH: N passed, N failed, N skipped` and `done`;
//!   echoed details are indented (`cloudabi64-vm:     | ...`) and never
//!   taken for verdicts; dmesg lines start with `dmesg| `;
//! - kldload(8)'s own complaints (`kldload: ...`);
//! - vmctl drive's notes: `[vmctl] timeout ...`, `[vmctl] fail pattern ...`,
//!   `[vmctl] QEMU exited ...`.
//!
//! Precedence: a kernel panic or fatal trap, then a kldload/kldunload
//! error, then a timeout, then a run without its result line, then
//! failed cases or a failed layout check. A timeout after the runner's
//! `done` (a slow power-off) is only a note: the run was complete, its
//! verdict is the result line's.

pub const PREFIX: &str = "cloudabi64-vm: ";

#[derive(Debug, Default, PartialEq, Eq)]
pub struct Report {
    pub ok: Vec<String>,
    pub failed: Vec<String>,
    pub skipped: Vec<String>,
    /// `(release, arch, passed, failed, skipped)` from the result line.
    pub result: Option<(String, String, usize, usize, usize)>,
    pub fatal: Option<String>,
    pub kld: Option<String>,
    pub timeout: Option<String>,
    pub exited: Option<String>,
    pub done: bool,
    /// A timeout of vmctl drive after `done` (waiting for the power-off).
    pub after_done: Option<String>,
    /// The layout check ran against kernel sources and failed.
    pub layouts_failed: bool,
    pub dmesg: Vec<String>,
}

#[derive(Debug, PartialEq, Eq)]
pub enum Verdict {
    Passed,
    Failures,
    Fatal,
    Kld,
    Timeout,
    Incomplete,
}

impl Verdict {
    /// The exit status of `vmctl parse` and of freebsd-vm/run for this run.
    pub fn code(&self) -> u8 {
        match self {
            Verdict::Passed => 0,
            Verdict::Failures => 1,
            Verdict::Fatal => 6,
            Verdict::Kld => 7,
            Verdict::Timeout => 8,
            Verdict::Incomplete => 10,
        }
    }
}

/// `N passed, N failed, N skipped` (the last part optional).
fn counts(text: &str) -> Option<(usize, usize, usize)> {
    let mut parts = text.split(", ");
    let num =
        |part: Option<&str>, word: &str| -> Option<usize> { part?.strip_suffix(word)?.trim().parse().ok() };
    let passed = num(parts.next(), " passed")?;
    let failed = num(parts.next(), " failed")?;
    let skipped = match parts.next() {
        Some(p) => num(Some(p), " skipped")?,
        None => 0,
    };
    parts.next().is_none().then_some((passed, failed, skipped))
}

pub fn parse(log: &[u8]) -> Report {
    let text = String::from_utf8_lossy(log);
    let mut report = Report::default();
    let mut in_dmesg = false;
    for raw in text.split('\n') {
        let line = raw.trim_start_matches('\r').trim_end();
        if let Some(rest) = line.strip_prefix("dmesg| ").or_else(|| (line == "dmesg|").then_some("")) {
            if in_dmesg {
                report.dmesg.push(rest.to_string());
            }
            continue;
        }
        if (line.starts_with("panic: ") || line.starts_with("Fatal trap ")) && report.fatal.is_none() {
            report.fatal = Some(line.to_string());
            continue;
        }
        if let Some(note) = line.strip_prefix("[vmctl] ") {
            if note.starts_with("timeout") {
                let slot = if report.done { &mut report.after_done } else { &mut report.timeout };
                slot.get_or_insert_with(|| note.to_string());
            } else if note.starts_with("fail pattern \"panic")
                || note.starts_with("fail pattern \"Fatal trap")
            {
                report.fatal.get_or_insert_with(|| note.to_string());
            } else if note.starts_with("fail pattern") || note.starts_with("QEMU exited") {
                // Another fail pattern of the console script (a password
                // prompt): the run stopped before its end.
                report.exited.get_or_insert_with(|| note.to_string());
            }
            continue;
        }
        if line.starts_with("kldload: ") {
            report.kld.get_or_insert_with(|| line.to_string());
            continue;
        }
        let Some(rest) = line.strip_prefix(PREFIX) else { continue };
        if let Some(name) = rest.strip_prefix("ok ") {
            report.ok.push(name.trim().to_string());
        } else if let Some(r) = rest.strip_prefix("FAIL ") {
            report.failed.push(r.split(':').next().unwrap_or(r).trim().to_string());
        } else if let Some(r) = rest.strip_prefix("SKIP ") {
            report.skipped.push(r.split(':').next().unwrap_or(r).trim().to_string());
        } else if rest.starts_with("kldload failed") || rest.starts_with("kldunload failed") {
            report.kld.get_or_insert_with(|| rest.to_string());
        } else if let Some(r) = rest.strip_prefix("result: ") {
            // RELEASE ARCH: N passed, N failed, N skipped
            let parsed = r.split_once(": ").and_then(|(what, numbers)| {
                let (release, arch) = what.split_once(' ')?;
                let (p, f, s) = counts(numbers)?;
                Some((release.to_string(), arch.to_string(), p, f, s))
            });
            if parsed.is_some() {
                report.result = parsed;
            }
        } else if rest.starts_with("layouts: FAILED") {
            report.layouts_failed = true;
        } else if rest == "dmesg begin" {
            in_dmesg = true;
        } else if rest == "dmesg end" {
            in_dmesg = false;
        } else if rest == "done" {
            report.done = true;
        }
    }
    report
}

impl Report {
    pub fn verdict(&self) -> Verdict {
        if self.fatal.is_some() {
            Verdict::Fatal
        } else if self.kld.is_some() {
            Verdict::Kld
        } else if self.timeout.is_some() {
            Verdict::Timeout
        } else if self.result.is_none() || self.counts_disagree() {
            Verdict::Incomplete
        } else if self.result.as_ref().is_some_and(|r| r.3 > 0) || self.layouts_failed {
            Verdict::Failures
        } else {
            Verdict::Passed
        }
    }

    /// The per-case lines do not add up to the result line (a garbled
    /// console, or a runner bug).
    pub fn counts_disagree(&self) -> bool {
        self.result.as_ref().is_some_and(|&(_, _, p, f, s)| {
            (p, f, s) != (self.ok.len(), self.failed.len(), self.skipped.len())
        })
    }

    /// One line for people: `LABEL: N passed, N failed, N skipped` or
    /// what went wrong.
    pub fn summary(&self, label: &str) -> String {
        let seen =
            format!("{} passed, {} failed, {} skipped", self.ok.len(), self.failed.len(), self.skipped.len());
        match self.verdict() {
            Verdict::Passed | Verdict::Failures => {
                let (_, _, p, f, s) = self.result.as_ref().unwrap();
                let layouts = if self.layouts_failed { " (and the layout check FAILED)" } else { "" };
                format!("{label}: {p} passed, {f} failed, {s} skipped{layouts}")
            }
            Verdict::Fatal => {
                format!("{label}: KERNEL PANIC: {} (cases before it: {seen})", self.fatal.as_ref().unwrap())
            }
            Verdict::Kld => format!("{label}: MODULE ERROR: {}", self.kld.as_ref().unwrap()),
            Verdict::Timeout => {
                format!("{label}: TIMEOUT: {} (cases before it: {seen})", self.timeout.as_ref().unwrap())
            }
            Verdict::Incomplete if self.counts_disagree() => {
                let (_, _, p, f, s) = self.result.as_ref().unwrap();
                format!(
                    "{label}: INCOMPLETE: the result line says {p} passed, {f} failed, {s} skipped but the case lines say {seen}"
                )
            }
            Verdict::Incomplete => {
                let why = self.exited.clone().unwrap_or_else(|| "the log has no result line".into());
                format!("{label}: INCOMPLETE: {why} (cases seen: {seen})")
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const RUN: &str = "\
FreeBSD/amd64 (freebsd) (ttyu0)\r\n\r\nlogin: root\r\n\
cloudabi64-vm: start 14.3-RELEASE amd64\r\n\
cloudabi64-vm: ok fd_read\r\n\
cloudabi64-vm: FAIL fd_write: status 1 (expected exit 0), 3 ok\r\n\
cloudabi64-vm:     | FAIL fd_write/ebadf: expected EBADF got ENOSYS\r\n\
cloudabi64-vm:     | ok fd_write/x\r\n\
cloudabi64-vm: SKIP rt_threads: needs thread_create\r\n\
cloudabi64-vm: result: 14.3-RELEASE amd64: 1 passed, 1 failed, 1 skipped\r\n\
cloudabi64-vm: dmesg begin\r\n\
dmesg| Copyright (c) 1992-2025 The FreeBSD Project.\r\n\
dmesg| panic: not a real one, inside dmesg\r\n\
dmesg|\r\n\
cloudabi64-vm: dmesg end\r\n\
cloudabi64-vm: done\r\n";

    #[test]
    fn a_complete_run() {
        let r = parse(RUN.as_bytes());
        assert_eq!(r.ok, ["fd_read"]);
        assert_eq!(r.failed, ["fd_write"]);
        assert_eq!(r.skipped, ["rt_threads"]);
        assert_eq!(r.result, Some(("14.3-RELEASE".into(), "amd64".into(), 1, 1, 1)));
        assert!(r.done && r.fatal.is_none());
        assert_eq!(r.dmesg.len(), 3);
        assert_eq!(r.verdict(), Verdict::Failures);
        assert_eq!(r.summary("14.3 amd64"), "14.3 amd64: 1 passed, 1 failed, 1 skipped");
    }

    #[test]
    fn precedence() {
        let panic = format!("{RUN}panic: page fault\r\n[vmctl] timeout while x\r\nkldload: can't load x\r\n");
        assert_eq!(parse(panic.as_bytes()).verdict(), Verdict::Fatal);
        let kld =
            format!("{RUN}kldload: can't load ./cloudabi64.ko: Exec format error\r\n[vmctl] timeout x\r\n");
        assert_eq!(parse(kld.as_bytes()).verdict(), Verdict::Kld);
        let password =
            "login: root\nPassword:\n[vmctl] fail pattern \"Password:\" on the console: Password:\n";
        let r = parse(password.as_bytes());
        assert_eq!(r.verdict(), Verdict::Incomplete);
        assert!(r.summary("x").contains("Password:"), "{}", r.summary("x"));
        let timeout = "cloudabi64-vm: ok a\n[vmctl] timeout while waiting\n";
        let r = parse(timeout.as_bytes());
        assert_eq!(r.verdict(), Verdict::Timeout);
        assert!(r.summary("x").contains("cases before it: 1 passed"), "{}", r.summary("x"));
        assert_eq!(parse(b"cloudabi64-vm: ok a\n").verdict(), Verdict::Incomplete);
        let all_ok =
            "cloudabi64-vm: ok a\ncloudabi64-vm: result: 15.0-RELEASE arm64: 1 passed, 0 failed, 0 skipped\n";
        assert_eq!(parse(all_ok.as_bytes()).verdict(), Verdict::Passed);
        let layouts = format!("cloudabi64-vm: layouts: FAILED against /usr/src/sys\n{all_ok}");
        let r = parse(layouts.as_bytes());
        assert_eq!(r.verdict(), Verdict::Failures);
        assert_eq!(r.summary("x"), "x: 1 passed, 0 failed, 0 skipped (and the layout check FAILED)");
        let mismatch = "cloudabi64-vm: result: 15.0-RELEASE arm64: 2 passed, 0 failed, 0 skipped\n";
        assert_eq!(parse(mismatch.as_bytes()).verdict(), Verdict::Incomplete);
    }

    #[test]
    fn a_slow_power_off_after_done_keeps_the_verdict() {
        let late = format!("{RUN}[vmctl] timeout while waiting for QEMU to exit (script line 12)\r\n");
        let r = parse(late.as_bytes());
        assert_eq!(r.verdict(), Verdict::Failures);
        assert_eq!(r.summary("x"), "x: 1 passed, 1 failed, 1 skipped");
        assert!(r.after_done.as_deref().is_some_and(|n| n.contains("QEMU to exit")), "{:?}", r.after_done);
        let overall = format!(
            "{RUN}\n[vmctl] timeout (overall limit) while waiting for QEMU to exit (script line 12)\n"
        );
        assert_eq!(parse(overall.as_bytes()).verdict(), Verdict::Failures);
        // Before `done`, a timeout is one.
        let early = RUN.replace("cloudabi64-vm: done\r\n", "[vmctl] timeout while waiting\r\n");
        assert_eq!(parse(early.as_bytes()).verdict(), Verdict::Timeout);
    }

    #[test]
    fn counts_lines() {
        assert_eq!(counts("3 passed, 1 failed, 2 skipped"), Some((3, 1, 2)));
        assert_eq!(counts("3 passed, 1 failed"), Some((3, 1, 0)));
        assert_eq!(counts("3 passed"), None);
        assert_eq!(counts("3 passed, x failed"), None);
    }
}
