//! Resource accounting: every kernel resource the shim hands to the module
//! is counted when it is taken and when it is given back, so that what the
//! module forgets to release is found (by syscall, and at the end).
//!
//! The end of the run prints one line, `kmod-sim: <N> leaked`, followed by
//! one line per kind of leaked resource; the exit status is non-zero when
//! N > 0 (see main.rs).

use std::collections::BTreeMap;
use std::sync::Mutex;

/// Outstanding resources, by kind (e.g. `malloc(M_TEMP)`, `vm_object
/// reference`), each with its live instances (address → description).
static LIVE: Mutex<BTreeMap<String, Instances>> = Mutex::new(BTreeMap::new());

/// Live instances of one kind: address → (taking thread, description).
type Instances = BTreeMap<usize, (usize, String)>;

/// Counts `addr` as taken, of `kind`. Taking the same address twice is a
/// shim bug (or the module double-registering), reported loudly.
pub fn take(kind: &str, addr: usize, what: impl Into<String>) {
    let mut live = LIVE.lock().unwrap_or_else(|e| e.into_inner());
    let set = live.entry(kind.to_string()).or_default();
    if set.insert(addr, (crate::kernel::current_thread_id(), what.into())).is_some() {
        crate::fatal(&format!("{kind} {addr:#x} taken twice"));
    }
}

/// Counts `addr` of `kind` as given back; giving back what was not taken
/// (a double free, a foreign pointer) is fatal.
pub fn give(kind: &str, addr: usize) -> String {
    let mut live = LIVE.lock().unwrap_or_else(|e| e.into_inner());
    match live.get_mut(kind).and_then(|s| s.remove(&addr)) {
        Some((_, what)) => what,
        None => crate::fatal(&format!("{kind} {addr:#x} released but not held (double release?)")),
    }
}

/// Whether `addr` of `kind` is currently held.
pub fn holds(kind: &str, addr: usize) -> bool {
    let live = LIVE.lock().unwrap_or_else(|e| e.into_inner());
    live.get(kind).is_some_and(|s| s.contains_key(&addr))
}

/// Number of live instances of `kind` taken by the calling thread.
pub fn count_mine(kind: &str) -> usize {
    let me = crate::kernel::current_thread_id();
    let live = LIVE.lock().unwrap_or_else(|e| e.into_inner());
    live.get(kind).map_or(0, |s| s.values().filter(|(t, _)| *t == me).count())
}

/// Everything still held: `(kind, description)` per instance.
pub fn outstanding() -> Vec<(String, String)> {
    let live = LIVE.lock().unwrap_or_else(|e| e.into_inner());
    live.iter().flat_map(|(k, s)| s.values().map(move |(_, w)| (k.clone(), w.clone()))).collect()
}
