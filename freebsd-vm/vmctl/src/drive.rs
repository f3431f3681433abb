//! `vmctl drive`: runs QEMU with its serial console on standard input and
//! output, follows a console script (script.rs) and records everything.
//!
//! The log gets the console output byte for byte, QEMU's own messages as
//! `[qemu] ...` lines and this program's notes as `[vmctl] ...` lines, so
//! that `vmctl parse` can judge a run from the log alone.

use std::ffi::OsString;
use std::fs::File;
use std::io::{BufRead, BufReader, Read, Write};
use std::os::unix::process::CommandExt;
use std::path::PathBuf;
use std::process::{Child, ChildStdin, Command, ExitStatus, Stdio};
use std::sync::{Arc, Condvar, Mutex};
use std::thread;
use std::time::{Duration, Instant};

use crate::script::{self, Script, Step};

pub struct Options {
    pub log: PathBuf,
    /// For the whole run, boot to power-off.
    pub timeout: Duration,
    pub script: Script,
    /// Copy the console to standard error as it arrives.
    pub echo: bool,
    /// Pause between typed characters.
    pub type_delay: Duration,
    /// How long to keep recording after a fail pattern (for the panic
    /// message and backtrace) before QEMU is killed.
    pub grace: Duration,
    pub command: Vec<OsString>,
}

#[derive(Debug, PartialEq, Eq)]
pub enum Outcome {
    Done,
    Failed(String),
    Timeout(String),
    Exited(String),
    CannotStart(String),
}

impl Outcome {
    /// The exit status of `vmctl drive` (documented in docs/testing.md).
    pub fn code(&self) -> u8 {
        match self {
            Outcome::Done => 0,
            Outcome::Failed(_) => 10,
            Outcome::Timeout(_) => 11,
            Outcome::Exited(_) => 12,
            Outcome::CannotStart(_) => 13,
        }
    }
}

#[derive(Default)]
struct State {
    data: Vec<u8>,
    eof: bool,
}

struct Console {
    state: Mutex<State>,
    arrived: Condvar,
    log: Mutex<File>,
    echo: bool,
}

impl Console {
    fn note(&self, message: &str) {
        let mut log = self.log.lock().unwrap();
        let _ = write!(log, "\n[vmctl] {message}\n");
        let _ = log.flush();
        eprintln!("vmctl: {message}");
    }
}

/// The first complete line since `*scan` that starts with a fail pattern
/// (leading carriage returns ignored); moves `*scan` past the lines looked
/// at. With `all`, an unterminated last line counts too.
fn find_fail(data: &[u8], scan: &mut usize, fails: &[Vec<u8>], all: bool) -> Option<(Vec<u8>, String)> {
    let end = if all {
        data.len()
    } else {
        data[*scan..].iter().rposition(|&b| b == b'\n').map_or(*scan, |p| *scan + p + 1)
    };
    let region = &data[*scan..end];
    *scan = end;
    for line in region.split(|&b| b == b'\n') {
        let start = line.iter().position(|&b| b != b'\r').unwrap_or(line.len());
        let line = &line[start..];
        if let Some(pattern) = fails.iter().find(|p| line.starts_with(p)) {
            let text = String::from_utf8_lossy(line).trim_end().to_string();
            return Some((pattern.clone(), text));
        }
    }
    None
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

struct Run {
    console: Arc<Console>,
    child: Child,
    stdin: Option<ChildStdin>,
    fails: Vec<Vec<u8>>,
    cursor: usize,
    scan: usize,
    deadline: Instant,
    grace: Duration,
    type_delay: Duration,
    status: Option<ExitStatus>,
}

/// Why a step stopped early.
enum Stop {
    Fail(String),
    Exited(ExitStatus),
}

impl Run {
    /// Checks for a fail pattern and for QEMU having exited.
    fn poll(&mut self) -> Result<(), Stop> {
        let exited = match self.status {
            Some(s) => Some(s),
            None => self.child.try_wait().ok().flatten(),
        };
        self.status = exited;
        {
            let state = self.console.state.lock().unwrap();
            // Once QEMU is gone, nothing more will arrive: look at the
            // unterminated last line too.
            let all = exited.is_some() && state.eof;
            if let Some((pattern, line)) = find_fail(&state.data, &mut self.scan, &self.fails, all) {
                return Err(Stop::Fail(format!(
                    "fail pattern \"{}\" on the console: {line}",
                    script::show(&pattern)
                )));
            }
        }
        match exited {
            // Let the reader drain what QEMU wrote before it exited.
            Some(status) if self.console.state.lock().unwrap().eof => Err(Stop::Exited(status)),
            _ => Ok(()),
        }
    }

    /// Sleeps until more output arrives or `limit` passes (at most 100 ms).
    fn pause(&self, limit: Instant) {
        let state = self.console.state.lock().unwrap();
        let wait = limit.saturating_duration_since(Instant::now()).min(Duration::from_millis(100));
        let len = state.data.len();
        let _ = self.console.arrived.wait_timeout_while(state, wait, |s| s.data.len() == len && !s.eof);
    }

    fn wait_for(&mut self, secs: u64, text: &[u8]) -> Result<bool, Stop> {
        let limit = (Instant::now() + Duration::from_secs(secs)).min(self.deadline);
        loop {
            {
                let state = self.console.state.lock().unwrap();
                if let Some(pos) = find(&state.data[self.cursor..], text) {
                    self.cursor += pos + text.len();
                    return Ok(true);
                }
            }
            self.poll()?;
            if Instant::now() >= limit {
                return Ok(false);
            }
            self.pause(limit);
        }
    }

    fn idle(&mut self, until: Instant) -> Result<(), Stop> {
        loop {
            self.poll()?;
            if Instant::now() >= until {
                return Ok(());
            }
            self.pause(until);
        }
    }

    fn send(&mut self, bytes: &[u8]) -> Result<(), Stop> {
        for &b in bytes {
            self.poll()?;
            let Some(stdin) = self.stdin.as_mut() else { break };
            if stdin.write_all(&[b]).and_then(|_| stdin.flush()).is_err() {
                // QEMU closed its end: it is exiting; poll says how.
                self.stdin = None;
                let until = Instant::now() + Duration::from_secs(5);
                self.idle(until)?;
                break;
            }
            thread::sleep(self.type_delay);
        }
        Ok(())
    }

    fn wait_exit(&mut self, secs: u64) -> Result<bool, Stop> {
        let limit = (Instant::now() + Duration::from_secs(secs)).min(self.deadline);
        loop {
            match self.poll() {
                Err(Stop::Exited(_)) => return Ok(true),
                Err(fail) => return Err(fail),
                Ok(()) => {}
            }
            if Instant::now() >= limit {
                return Ok(false);
            }
            self.pause(limit);
        }
    }

    /// Kills QEMU's whole process group (a wrapper script's children
    /// would otherwise keep the console pipe open).
    fn kill(&mut self) {
        unsafe extern "C" {
            fn kill(pid: i32, signal: i32) -> i32;
        }
        const SIGKILL: i32 = 9;
        if let Ok(pid) = i32::try_from(self.child.id()) {
            // SAFETY: kill(2) with the group of a child this process made.
            unsafe { kill(-pid, SIGKILL) };
        }
        if self.status.is_none() {
            let _ = self.child.kill();
            self.status = self.child.wait().ok();
        }
    }

    /// Follows the script.
    fn steps(&mut self, steps: &[(usize, Step)]) -> Outcome {
        for (line, step) in steps {
            let what = match step {
                Step::Wait { text, .. } => {
                    format!("waiting for \"{}\" (script line {line})", script::show(text))
                }
                Step::Send(text) => format!("typing \"{}\" (script line {line})", script::show(text)),
                Step::Sleep(_) => format!("sleeping (script line {line})"),
                Step::Exit(_) => format!("waiting for QEMU to exit (script line {line})"),
            };
            let result = match step {
                Step::Wait { secs, text } => self.wait_for(*secs, text),
                Step::Send(text) => self.send(text).map(|_| true),
                Step::Sleep(secs) => {
                    let until = (Instant::now() + Duration::from_secs(*secs)).min(self.deadline);
                    self.idle(until).map(|_| Instant::now() < self.deadline)
                }
                Step::Exit(secs) => self.wait_exit(*secs),
            };
            match result {
                Ok(true) => {}
                Ok(false) => {
                    let overall = Instant::now() >= self.deadline;
                    return Outcome::Timeout(format!(
                        "timeout{} while {what}",
                        if overall { " (overall limit)" } else { "" }
                    ));
                }
                Err(Stop::Fail(message)) => {
                    // Keep recording a little: the panic message and the
                    // backtrace follow the first line.
                    let until = Instant::now() + self.grace;
                    let _ = self.idle_ignoring_fails(until);
                    return Outcome::Failed(message);
                }
                Err(Stop::Exited(status)) => {
                    if matches!(step, Step::Exit(_)) {
                        continue;
                    }
                    return Outcome::Exited(format!("QEMU exited ({status}) while {what}"));
                }
            }
        }
        Outcome::Done
    }

    fn idle_ignoring_fails(&mut self, until: Instant) -> Result<(), ()> {
        while Instant::now() < until {
            if self.child.try_wait().ok().flatten().is_some() {
                return Err(());
            }
            self.pause(until);
        }
        Ok(())
    }
}

fn reader(mut from: impl Read, console: Arc<Console>) {
    let mut buf = [0u8; 4096];
    loop {
        let n = match from.read(&mut buf) {
            Ok(0) | Err(_) => break,
            Ok(n) => n,
        };
        {
            let mut log = console.log.lock().unwrap();
            let _ = log.write_all(&buf[..n]);
            let _ = log.flush();
        }
        if console.echo {
            let _ = std::io::stderr().write_all(&buf[..n]);
        }
        let mut state = console.state.lock().unwrap();
        state.data.extend_from_slice(&buf[..n]);
        console.arrived.notify_all();
    }
    console.state.lock().unwrap().eof = true;
    console.arrived.notify_all();
}

fn error_reader(from: impl Read, console: Arc<Console>) {
    for line in BufReader::new(from).lines() {
        let Ok(line) = line else { break };
        let mut log = console.log.lock().unwrap();
        let _ = write!(log, "\n[qemu] {line}\n");
        let _ = log.flush();
        eprintln!("qemu: {line}");
    }
}

pub fn drive(opts: Options) -> Outcome {
    let log = match File::create(&opts.log) {
        Ok(f) => f,
        Err(e) => return Outcome::CannotStart(format!("cannot create {}: {e}", opts.log.display())),
    };
    let console = Arc::new(Console {
        state: Mutex::new(State::default()),
        arrived: Condvar::new(),
        log: Mutex::new(log),
        echo: opts.echo,
    });
    let Some((program, args)) = opts.command.split_first() else {
        return Outcome::CannotStart("no command to run".into());
    };
    let mut child = match Command::new(program)
        .args(args)
        .process_group(0)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
    {
        Ok(c) => c,
        Err(e) => {
            let message = format!("cannot start {}: {e}", program.to_string_lossy());
            console.note(&message);
            return Outcome::CannotStart(message);
        }
    };
    let out = child.stdout.take().unwrap();
    let err = child.stderr.take().unwrap();
    let readers = [
        thread::spawn({
            let c = console.clone();
            move || reader(out, c)
        }),
        thread::spawn({
            let c = console.clone();
            move || error_reader(err, c)
        }),
    ];
    let stdin = child.stdin.take();
    let mut run = Run {
        console: console.clone(),
        child,
        stdin,
        fails: opts.script.fails.clone(),
        cursor: 0,
        scan: 0,
        deadline: Instant::now() + opts.timeout,
        grace: opts.grace,
        type_delay: opts.type_delay,
        status: None,
    };
    let outcome = run.steps(&opts.script.steps);
    match &outcome {
        Outcome::Done => {
            if run.status.is_none() && run.child.try_wait().ok().flatten().is_none() {
                console.note("script finished; stopping QEMU");
            }
        }
        Outcome::Failed(m) | Outcome::Timeout(m) | Outcome::Exited(m) | Outcome::CannotStart(m) => {
            console.note(m)
        }
    }
    run.stdin = None;
    run.kill();
    for r in readers {
        let _ = r.join();
    }
    if let Some(status) = run.status {
        console.note(&format!("QEMU finished: {status}"));
    }
    outcome
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fail_patterns_match_at_line_starts_only() {
        let fails = vec![b"panic: ".to_vec(), b"Fatal trap".to_vec()];
        let data = b"boot\r\n  | panic: not this\r\nok panic: nor this\r\n\r\rpanic: page fault\r\nmore";
        let mut scan = 0;
        let (pattern, line) = find_fail(data, &mut scan, &fails, false).unwrap();
        assert_eq!(pattern, b"panic: ");
        assert_eq!(line, "panic: page fault");
        // Nothing more among complete lines; the partial line waits.
        assert_eq!(find_fail(data, &mut scan, &fails, false), None);
        let data = b"x\nFatal trap 12: page fault while in kernel mode";
        let mut scan = 0;
        assert_eq!(find_fail(data, &mut scan, &fails, false), None);
        let mut scan = 0;
        assert!(find_fail(data, &mut scan, &fails, true).is_some());
    }

    #[test]
    fn finds_text() {
        assert_eq!(find(b"FreeBSD/amd64 (freebsd) (ttyu0)\r\n\r\nlogin: ", b"login: "), Some(35));
        assert_eq!(find(b"log", b"login: "), None);
    }
}
