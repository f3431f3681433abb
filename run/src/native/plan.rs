//! Moving descriptors into place before `fexecve`.
//!
//! The program must get `fds[i]` as descriptor `i` and nothing else. The
//! sources can sit anywhere, including on each other's targets (the
//! executable may be descriptor 0 if cloudabi-run was started with 0
//! closed), so moving them one by one could clobber a source before it is
//! moved. The plan therefore first duplicates every source above all
//! targets, then `dup2`s each duplicate onto its target, then closes
//! everything above the targets.
//!
//! Two extra targets ride along, close-on-exec so the program never sees
//! them: the executable (`fexecve` needs it) and cloudabi-run's standard
//! error (to report a failed `fexecve` after descriptor 2 was replaced).

use std::fmt;
use std::io;
use std::os::fd::RawFd;

/// One descriptor to place.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Move {
    pub from: RawFd,
    pub to: RawFd,
    pub cloexec: bool,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Plan {
    pub moves: Vec<Move>,
    /// Where the executable ends up.
    pub exe: RawFd,
    /// Where cloudabi-run's standard error ends up, if it had one.
    pub stderr: Option<RawFd>,
    /// Every descriptor from here on is closed; above every target.
    pub close_from: RawFd,
}

/// The plan for giving the program `fds` (in order), executing `exe`, and
/// keeping `stderr` for messages.
pub fn plan(fds: &[RawFd], exe: RawFd, stderr: Option<RawFd>) -> Plan {
    let mut moves: Vec<Move> = (0..).zip(fds).map(|(to, &from)| Move { from, to, cloexec: false }).collect();
    let exe_slot = fd_number(moves.len());
    moves.push(Move { from: exe, to: exe_slot, cloexec: true });
    let stderr_slot = stderr.map(|from| {
        let to = exe_slot + 1;
        moves.push(Move { from, to, cloexec: true });
        to
    });
    let close_from = fd_number(moves.len());
    Plan { moves, exe: exe_slot, stderr: stderr_slot, close_from }
}

/// Descriptor numbers are small (below RLIMIT_NOFILE), so they fit.
fn fd_number(n: usize) -> RawFd {
    RawFd::try_from(n).unwrap_or(RawFd::MAX)
}

/// The descriptor operations a plan needs.
pub trait FdTable {
    /// A close-on-exec duplicate of `fd` at the lowest free number ≥ `min`
    /// (`F_DUPFD_CLOEXEC`).
    fn dup_above(&mut self, fd: RawFd, min: RawFd) -> io::Result<RawFd>;
    /// Makes `to` refer to what `from` refers to (`dup2`).
    fn dup2(&mut self, from: RawFd, to: RawFd) -> io::Result<()>;
    fn set_cloexec(&mut self, fd: RawFd, cloexec: bool) -> io::Result<()>;
    /// Closes every descriptor ≥ `fd`.
    fn close_from(&mut self, fd: RawFd) -> io::Result<()>;
}

/// The steps of [`apply`], in order.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Step {
    /// Checking the arguments; nothing was done.
    Prepare,
    /// Duplicating sources above the targets; the targets are untouched.
    Duplicate,
    /// Placing the duplicates on their targets.
    Move,
    SetFlags,
    /// Closing everything from `close_from` on; every target is placed.
    Close,
}

/// A failed step; building one does not allocate.
#[derive(Debug)]
pub struct StepError {
    pub step: Step,
    pub fd: RawFd,
    pub error: io::Error,
}

impl fmt::Display for StepError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let verb = match self.step {
            Step::Prepare => "prepare to move",
            Step::Duplicate => "duplicate",
            Step::Move => "move",
            Step::SetFlags => "set the flags of",
            Step::Close => "close from",
        };
        write!(f, "cannot {verb} descriptor {}: {}", self.fd, self.error)
    }
}

impl Plan {
    /// Where a copy of cloudabi-run's standard error is, after [`apply`]
    /// succeeded (`failed` is `None`) or failed, so that messages can be
    /// written there; `None` if descriptor 2 was not touched or there is
    /// no copy. `stash` is the one `apply` used.
    pub fn stderr_copy(&self, failed: Option<&StepError>, stash: &[RawFd]) -> Option<RawFd> {
        self.stderr?;
        match failed.map(|e| e.step) {
            None | Some(Step::Close) => self.stderr,
            // The duplicates are all made and none is closed yet; standard
            // error's is the last.
            Some(Step::Move | Step::SetFlags) => stash.get(self.moves.len().checked_sub(1)?).copied(),
            Some(Step::Prepare | Step::Duplicate) => None,
        }
    }
}

/// Carries out `plan`. `stash` holds the intermediate duplicates and must
/// have one slot per move; it is passed in so that this function does not
/// allocate (the tests run it in a forked child).
pub fn apply(plan: &Plan, table: &mut impl FdTable, stash: &mut [RawFd]) -> Result<(), StepError> {
    let fail = |step, fd| move |error| StepError { step, fd, error };
    if stash.len() < plan.moves.len() {
        return Err(fail(Step::Prepare, -1)(io::Error::from(io::ErrorKind::InvalidInput)));
    }
    for (slot, m) in stash.iter_mut().zip(&plan.moves) {
        *slot = table.dup_above(m.from, plan.close_from).map_err(fail(Step::Duplicate, m.from))?;
    }
    for (&from, m) in stash.iter().zip(&plan.moves) {
        table.dup2(from, m.to).map_err(fail(Step::Move, m.to))?;
        table.set_cloexec(m.to, m.cloexec).map_err(fail(Step::SetFlags, m.to))?;
    }
    table.close_from(plan.close_from).map_err(fail(Step::Close, plan.close_from))
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use proptest::prelude::*;

    use super::*;

    /// A descriptor table: number → (open file, close-on-exec).
    #[derive(Clone, Debug, Default)]
    struct Model {
        table: BTreeMap<RawFd, (u32, bool)>,
    }

    const LIMIT: RawFd = 1024;

    fn ebadf() -> io::Error {
        io::Error::from_raw_os_error(libc::EBADF)
    }

    impl Model {
        fn file(&self, fd: RawFd) -> io::Result<u32> {
            self.table.get(&fd).map(|e| e.0).ok_or_else(ebadf)
        }

        /// What survives `execve`.
        fn after_exec(&self) -> BTreeMap<RawFd, u32> {
            self.table.iter().filter(|(_, e)| !e.1).map(|(&fd, e)| (fd, e.0)).collect()
        }
    }

    impl FdTable for Model {
        fn dup_above(&mut self, fd: RawFd, min: RawFd) -> io::Result<RawFd> {
            let file = self.file(fd)?;
            let free = (min..LIMIT).find(|n| !self.table.contains_key(n));
            let new = free.ok_or_else(|| io::Error::from_raw_os_error(libc::EMFILE))?;
            self.table.insert(new, (file, true));
            Ok(new)
        }

        fn dup2(&mut self, from: RawFd, to: RawFd) -> io::Result<()> {
            let file = self.file(from)?;
            if from != to {
                // dup2 closes `to` first and clears close-on-exec.
                self.table.insert(to, (file, false));
            }
            Ok(())
        }

        fn set_cloexec(&mut self, fd: RawFd, cloexec: bool) -> io::Result<()> {
            self.table.get_mut(&fd).ok_or_else(ebadf)?.1 = cloexec;
            Ok(())
        }

        fn close_from(&mut self, fd: RawFd) -> io::Result<()> {
            self.table.retain(|&n, _| n < fd);
            Ok(())
        }
    }

    fn run(model: &mut Model, fds: &[RawFd], exe: RawFd, stderr: Option<RawFd>) -> Result<Plan, StepError> {
        let plan = plan(fds, exe, stderr);
        let mut stash = vec![-1; plan.moves.len()];
        apply(&plan, model, &mut stash)?;
        Ok(plan)
    }

    #[test]
    fn sources_on_each_others_targets_are_not_clobbered() {
        // The executable is 0, the program's descriptors are 2, 1, 0's
        // targets' owners in reverse.
        let mut model = Model::default();
        for (fd, file) in [(0, 100), (1, 101), (2, 102), (3, 103)] {
            model.table.insert(fd, (file, false));
        }
        let plan = run(&mut model, &[3, 2, 1], 0, Some(2)).unwrap();
        assert_eq!((plan.exe, plan.stderr, plan.close_from), (3, Some(4), 5));
        let expected: BTreeMap<_, _> =
            [(0, (103, false)), (1, (102, false)), (2, (101, false)), (3, (100, true)), (4, (102, true))]
                .into();
        assert_eq!(model.table, expected);
        assert_eq!(model.after_exec(), [(0, 103), (1, 102), (2, 101)].into());
    }

    #[test]
    fn no_descriptors_leaves_only_the_executable() {
        let mut model = Model::default();
        model.table.insert(7, (1, true));
        run(&mut model, &[], 7, None).unwrap();
        assert_eq!(model.table, [(0, (1, true))].into());
        assert!(model.after_exec().is_empty());
    }

    #[test]
    fn a_closed_source_is_reported() {
        let mut model = Model::default();
        model.table.insert(0, (1, false));
        let err = run(&mut model, &[5], 0, None).unwrap_err();
        assert_eq!((err.step, err.fd), (Step::Duplicate, 5));
        assert!(err.to_string().starts_with("cannot duplicate descriptor 5: "));
    }

    #[test]
    fn a_short_stash_is_refused() {
        let plan = plan(&[0], 1, None);
        let mut model = Model::default();
        assert_eq!(apply(&plan, &mut model, &mut [0]).unwrap_err().step, Step::Prepare);
    }

    /// A model whose `fail_at`-th operation fails.
    struct Faulty {
        model: Model,
        ops: usize,
        fail_at: usize,
    }

    impl Faulty {
        fn op(&mut self) -> io::Result<()> {
            self.ops += 1;
            if self.ops == self.fail_at { Err(io::Error::from_raw_os_error(libc::EIO)) } else { Ok(()) }
        }
    }

    impl FdTable for Faulty {
        fn dup_above(&mut self, fd: RawFd, min: RawFd) -> io::Result<RawFd> {
            self.op()?;
            self.model.dup_above(fd, min)
        }
        fn dup2(&mut self, from: RawFd, to: RawFd) -> io::Result<()> {
            self.op()?;
            self.model.dup2(from, to)
        }
        fn set_cloexec(&mut self, fd: RawFd, cloexec: bool) -> io::Result<()> {
            self.op()?;
            self.model.set_cloexec(fd, cloexec)
        }
        fn close_from(&mut self, fd: RawFd) -> io::Result<()> {
            self.op()?;
            self.model.close_from(fd)
        }
    }

    /// Whichever step fails (or none), standard error can be put back.
    #[test]
    fn standard_error_survives_a_failure_at_any_step() {
        const STDERR_FILE: u32 = 102;
        // 4 moves: 4 duplicates, 4 dup2s, 4 flag changes, 1 close.
        for fail_at in 1..=14 {
            let mut model = Model::default();
            for (fd, file) in [(0, 100), (1, 101), (2, STDERR_FILE), (5, 105), (6, 106)] {
                model.table.insert(fd, (file, false));
            }
            let mut faulty = Faulty { model, ops: 0, fail_at };
            let plan = plan(&[6, 5], 0, Some(2));
            let mut stash = vec![-1; plan.moves.len()];
            let result = apply(&plan, &mut faulty, &mut stash);
            assert_eq!(result.is_ok(), fail_at == 14, "{fail_at}");
            if let Some(copy) = plan.stderr_copy(result.as_ref().err(), &stash) {
                faulty.model.dup2(copy, 2).unwrap();
            }
            assert_eq!(faulty.model.file(2).unwrap(), STDERR_FILE, "failing operation {fail_at}");
        }
    }

    /// Open descriptor numbers (files 0.. in order), which of them the
    /// program gets in which order, the executable, and whether standard
    /// error is kept.
    fn scenario() -> impl Strategy<Value = (Vec<RawFd>, Vec<usize>, usize, bool)> {
        proptest::collection::btree_set(0..40, 2..16)
            .prop_flat_map(|set| {
                let numbers: Vec<RawFd> = set.into_iter().collect();
                let n = numbers.len();
                (Just(numbers), Just((0..n).collect::<Vec<usize>>()).prop_shuffle(), 0..n, any::<bool>())
            })
            .prop_map(|(numbers, order, take, stderr)| (numbers, order[1..=take].to_vec(), order[0], stderr))
    }

    proptest! {
        #[test]
        fn the_program_gets_exactly_its_descriptors((numbers, chosen, exe, stderr) in scenario()) {
            let mut model = Model::default();
            for (file, &fd) in (0..).zip(&numbers) {
                model.table.insert(fd, (file, fd % 3 == 0));
            }
            let stderr = (stderr && model.table.contains_key(&2)).then_some(2);
            let fds: Vec<RawFd> = chosen.iter().map(|&i| numbers[i]).collect();
            let before = model.clone();
            let plan = run(&mut model, &fds, numbers[exe], stderr).unwrap();

            let program: BTreeMap<RawFd, u32> =
                (0..).zip(&fds).map(|(i, fd)| (i, before.file(*fd).unwrap())).collect();
            prop_assert_eq!(model.after_exec(), program);
            prop_assert_eq!(model.table.get(&plan.exe), Some(&(before.file(numbers[exe]).unwrap(), true)));
            if let (Some(slot), Some(fd)) = (plan.stderr, stderr) {
                prop_assert_eq!(model.table.get(&slot), Some(&(before.file(fd).unwrap(), true)));
            }
            prop_assert!(model.table.keys().all(|&fd| fd < plan.close_from));
        }
    }
}
