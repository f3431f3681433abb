//! The simulated process: exec of a CloudABI executable through the
//! module's sysentvec (the kernel's `do_execve()` with the ELF image
//! activator, sys/kern/kern_exec.c and imgact_elf.c, 14.x/15.0), the
//! syscall path (`syscallenter()`, sys/kern/subr_syscall.c), and exit
//! (`exit1()`).

use std::ffi::{c_int, c_void};
use std::os::fd::OwnedFd;

use cloudabi64::consts::*;
use cloudabi64::sim_api::*;
use sys::backend::FdRights;

use crate::account;
use crate::kernel::{self, SimThread, put};
use crate::shim::filecaps::Caps;
use crate::shim::{files, malloc, module, uvm, vm};
use crate::trap;

const PAGE: usize = 4096;
/// Where the executable (ET_DYN) is loaded: the base the kernel's ELF
/// activator would pick without ASLR (`ET_DYN_LOAD_ADDR`, 0x01021000 on
/// amd64) is below the simulated user space, so one inside it.
const LOAD_BASE: usize = kernel::USER_BASE + 0x1_0000_0000;
/// The per-process stack: top and size (the sysentvec's ASLR lets the
/// kernel place it; the module reads `vm_stacktop`).
const STACK_TOP: usize = kernel::USER_BASE + kernel::USER_SIZE - (2 << 30);
const STACK_SIZE: usize = 8 << 20;
/// The shared page (the module's vDSO object): `vm_shp_base`.
const SHP_BASE: usize = kernel::USER_BASE + kernel::USER_SIZE - (1 << 30);

/// The process that runs, and what exec needs to know about it.
pub struct Process {
    pub thread: SimThread,
}

/// A program to run: the executable, its argument data and descriptors.
pub struct Program {
    pub image: Vec<u8>,
    pub argdata: Vec<u8>,
    pub fds: Vec<(OwnedFd, FdRights)>,
}

/// Why exec failed: the errno and what to say.
pub struct ExecError(pub c_int, pub String);

/// Values of the ELF header and program headers exec needs.
struct Elf {
    osabi: u8,
    machine: u16,
    etype: u16,
    entry: u64,
    phoff: u64,
    phnum: u16,
    phentsize: u16,
    phdrs: Vec<(u32, u32, u64, u64, u64, u64)>, // type, flags, offset, vaddr, filesz, memsz
}

fn parse(image: &[u8]) -> Option<Elf> {
    let u16_at = |o: usize| Some(u16::from_le_bytes(image.get(o..o + 2)?.try_into().ok()?));
    let u32_at = |o: usize| Some(u32::from_le_bytes(image.get(o..o + 4)?.try_into().ok()?));
    let u64_at = |o: usize| Some(u64::from_le_bytes(image.get(o..o + 8)?.try_into().ok()?));
    if image.get(0..4)? != b"\x7fELF" || image[4] != 2 || image[5] != 1 {
        return None;
    }
    let (phoff, phentsize, phnum) = (u64_at(32)?, u16_at(54)?, u16_at(56)?);
    let mut phdrs = Vec::new();
    for i in 0..phnum as usize {
        let o = usize::try_from(phoff).ok()? + i * phentsize as usize;
        phdrs.push((
            u32_at(o)?,
            u32_at(o + 4)?,
            u64_at(o + 8)?,
            u64_at(o + 16)?,
            u64_at(o + 32)?,
            u64_at(o + 40)?,
        ));
    }
    Some(Elf {
        osabi: image[7],
        machine: u16_at(18)?,
        etype: u16_at(16)?,
        entry: u64_at(24)?,
        phoff,
        phnum,
        phentsize,
        phdrs,
    })
}

/// `__elfN(get_brandinfo)` for static executables: a registered brand of
/// the image's machine whose OS/ABI byte matches; `BI_BRAND_ONLY_STATIC`
/// brands refuse images with an interpreter, ET_DYN needs
/// `BI_CAN_EXEC_DYN`.
fn brand(elf: &Elf) -> Option<*mut Brandinfo> {
    let interp = elf.phdrs.iter().any(|p| p.0 == 3);
    let brands = module::BRANDS.lock().unwrap_or_else(|e| e.into_inner()).clone();
    brands.into_iter().map(|b| b as *mut Brandinfo).find(|&b| {
        // SAFETY: registered brands are the module's live statics.
        let bi = unsafe { &*b };
        bi.machine == i32::from(elf.machine)
            && bi.brand == i32::from(elf.osabi)
            && !(interp && bi.flags & BI_BRAND_ONLY_STATIC != 0)
            && (elf.etype != 3 || bi.flags & BI_CAN_EXEC_DYN != 0)
    })
}

/// The entry point of the image being executed (`imgp->entry_addr`),
/// which exec_setregs reads.
static ENTRY: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);

/// `imgp->entry_addr` for exec_setregs.
pub fn entry_addr() -> u64 {
    ENTRY.load(std::sync::atomic::Ordering::Relaxed)
}

/// Loads the PT_LOAD segments at `base` with their protections.
fn load_segments(elf: &Elf, image: &[u8], base: usize) -> Result<(), ExecError> {
    for &(ty, flags, off, vaddr, filesz, memsz) in &elf.phdrs {
        if ty != 1 {
            continue;
        }
        let start = base + (vaddr as usize & !(PAGE - 1));
        let end = (base + vaddr as usize + memsz as usize).next_multiple_of(PAGE);
        uvm::map_anon_fixed(start, end - start, libc::PROT_READ | libc::PROT_WRITE)
            .map_err(|e| ExecError(e, "cannot map a segment".into()))?;
        let src = image
            .get(off as usize..(off + filesz) as usize)
            .ok_or_else(|| ExecError(ENOEXEC, "a segment lies outside the file".into()))?;
        // SAFETY: the destination was just mapped read+write.
        unsafe { std::ptr::copy_nonoverlapping(src.as_ptr(), (base + vaddr as usize) as *mut u8, src.len()) };
        let prot = (if flags & 4 != 0 { libc::PROT_READ } else { 0 })
            | (if flags & 2 != 0 { libc::PROT_WRITE } else { 0 })
            | (if flags & 1 != 0 { libc::PROT_EXEC } else { 0 });
        uvm::protect(start, end - start, prot)
            .map_err(|e| ExecError(e, "cannot protect a segment".into()))?;
    }
    Ok(())
}

/// `do_execve()` of `program` as the first CloudABI process (pid 1235),
/// on the calling host thread. Returns the process, ready to enter user
/// mode.
pub fn exec(program: Program) -> Result<Process, ExecError> {
    let (elf, sv) = check(&program.image)?;
    let proc = kernel::new_proc(sv, 1235, STACK_TOP, SHP_BASE);
    let thread = kernel::new_thread(&proc, 100_235);
    // SAFETY: the per-CPU area of this host thread.
    unsafe { (*kernel::pcpu()).curthread = thread.td };
    module::SYSVEC_USERS.lock().unwrap_or_else(|e| e.into_inner()).push(sv as usize);
    for (i, (fd, ceiling)) in program.fds.into_iter().enumerate() {
        // As cloudabi-run's native launch limits them (run/src/native/caps.rs:
        // cap_rights_limit, then cap_ioctls_limit with the exact rights).
        let caps = match cloudabi_run::native::caps::capsicum_for(ceiling) {
            None => Caps::unlimited(),
            Some(rights) => {
                let (list, n) = sys::caplist::encode(ceiling);
                Caps::with_list(rights, &list[..n])
            }
        };
        files::install(files::new_file(fd), caps, Some(i));
    }
    // exec's argument buffer: the argdata and the NUL execve's strings
    // end with.
    let mut buf = program.argdata.clone();
    buf.push(0);
    let args = kernel::kzalloc(size_of::<ImageArgs>()).cast::<ImageArgs>();
    // SAFETY: a fresh image_args; the buffer outlives the exec.
    unsafe {
        let a = &mut *args;
        a.buf = buf.as_mut_ptr().cast();
        a.begin_argv = a.buf;
        a.begin_envv = a.buf.add(buf.len());
        a.endp = a.begin_envv;
        a.argc = buf.iter().filter(|&&b| b == 0).count() as c_int;
        a.envc = 0;
        a.fd = -1;
    }
    let process = Process { thread };
    // SAFETY: the new process's only thread, on this host thread.
    unsafe { activate(process.thread.td, &program.image, &elf, sv, args) }?;
    drop(buf);
    Ok(process)
}

/// The image's ELF data and the sysentvec of the brand that takes it.
fn check(image: &[u8]) -> Result<(Elf, *mut Sysentvec), ExecError> {
    let elf = parse(image).ok_or_else(|| ExecError(ENOEXEC, "not an ELF64 little-endian file".into()))?;
    let bi = brand(&elf).ok_or_else(|| {
        ExecError(
            ENOEXEC,
            format!("no registered ELF brand takes it (OS/ABI {}, machine {})", elf.osabi, elf.machine),
        )
    })?;
    // SAFETY: the module's brand.
    Ok((elf, unsafe { (*bi).sysvec }))
}

/// The part of `do_execve()` after the point of no return, on the
/// process of `td` (whose address space is empty): `p_sysent`, the
/// shared page (`exec_map_sysvec()`, a reference on the module's
/// object), the segments and the stack, the activator's `Elf64_Auxargs`
/// (`malloc(M_TEMP)`), then the module's `sv_copyout_strings`,
/// `sv_fixup` and `sv_setregs`, in that order.
///
/// # Safety
/// `td` is the current thread and the only one of its process; `args`
/// is exec's argument record.
unsafe fn activate(
    td: *mut Thread,
    image: &[u8],
    elf: &Elf,
    sv: *mut Sysentvec,
    args: *mut ImageArgs,
) -> Result<(), ExecError> {
    // SAFETY: caller contract.
    let p = unsafe { kernel::td_proc(td) };
    // SAFETY: the process; p_sysent at its layouts.txt offset.
    unsafe { put(p.cast(), PROC_P_SYSENT, sv) };
    // SAFETY: the brand's sysentvec, as installed at MOD_LOAD.
    let shared_obj = unsafe { (*sv).sv_shared_page_obj } as usize;
    vm::object_reference(shared_obj);
    for (i, (_, phys)) in vm::object_pages(shared_obj).into_iter().enumerate() {
        vm::map_page(SHP_BASE + i * PAGE, phys, libc::PROT_READ | libc::PROT_EXEC);
        uvm::record(SHP_BASE + i * PAGE, PAGE, libc::PROT_READ | libc::PROT_EXEC);
    }
    let base = if elf.etype == 3 { LOAD_BASE } else { 0 };
    load_segments(elf, image, base)?;
    uvm::map_anon_fixed(STACK_TOP - STACK_SIZE, STACK_SIZE, libc::PROT_READ | libc::PROT_WRITE)
        .map_err(|e| ExecError(e, "cannot map the stack".into()))?;
    let phdr = elf
        .phdrs
        .iter()
        .find(|p| p.0 == 6)
        .map(|p| p.3)
        .or_else(|| {
            elf.phdrs
                .iter()
                .find(|p| p.0 == 1 && elf.phoff >= p.2 && elf.phoff < p.2 + p.4)
                .map(|p| p.3 + (elf.phoff - p.2))
        })
        .ok_or_else(|| ExecError(ENOEXEC, "the program headers are not loaded".into()))?;
    let aux = malloc::fbsd_malloc(size_of::<Auxargs>(), &malloc::M_TEMP, malloc::M_WAITOK | malloc::M_ZERO)
        .cast::<Auxargs>();
    // SAFETY: a fresh M_TEMP allocation of an Auxargs.
    unsafe {
        *aux = Auxargs {
            execfd: -1,
            phdr: base as u64 + phdr,
            phent: u64::from(elf.phentsize),
            phnum: u64::from(elf.phnum),
            pagesz: PAGE as u64,
            base: base as u64,
            flags: 0,
            entry: base as u64 + elf.entry,
            hdr_eflags: 0,
        };
    }
    ENTRY.store(base as u64 + elf.entry, std::sync::atomic::Ordering::Relaxed);
    let imgp = kernel::kzalloc(512);
    // SAFETY: a fresh image_params block; offsets from layouts.txt.
    unsafe {
        put(imgp, IMAGE_PARAMS_PROC, p);
        put(imgp, IMAGE_PARAMS_ARGS, args);
        put(imgp, IMAGE_PARAMS_AUXARGS, aux);
    }
    let imgp = imgp.cast::<ImageParams>();
    // SAFETY: the module's hooks, called as do_execve calls them.
    let (e, stack) = unsafe {
        let svr = &*sv;
        let mut stack_base: usize = 0;
        let mut e = (svr.sv_copyout_strings.unwrap_or_else(|| crate::fatal("no sv_copyout_strings")))(
            imgp,
            &mut stack_base,
        );
        if e == 0 {
            if let Some(fixup) = svr.sv_fixup {
                e = fixup(&mut stack_base, imgp);
            }
        }
        (e, stack_base)
    };
    if e != 0 {
        return Err(ExecError(e, "the module's exec hooks failed".into()));
    }
    // SAFETY: as above.
    unsafe { ((*sv).sv_setregs.unwrap_or_else(|| crate::fatal("no sv_setregs")))(td, imgp, stack) };
    Ok(())
}

/// `kern_execve()` of the executable at `(*args).fd` (fexecve), as
/// `do_execve()` runs it: the file needs `CAP_FEXECVE`; an image no
/// brand takes is `ENOEXEC` with the process untouched; past that point
/// the old image goes (the address space, the shared-page reference,
/// `sv_onexec_old`) and the new one is activated; `EJUSTRETURN` then
/// (the frame is the new image's). A failure after the point of no
/// return kills the process, as `exec_fail` does. `args` is freed on
/// every path (`exec_free_args`).
///
/// # Safety
/// `td` is the current thread; `args` came from `exec_alloc_args`.
pub unsafe fn execve(td: *mut Thread, args: *mut ImageArgs) -> c_int {
    let r = (|| {
        if live_threads() > 1 {
            crate::shim::unimplemented_kpi("kern_execve in a process with several threads");
        }
        // SAFETY: caller contract.
        let fd = unsafe { (*args).fd };
        let need = sys::rights::CapRights::NONE.with(sys::rights::cap::FEXECVE);
        let (fp, _, _) = files::lookup(fd, Some(&need)).map_err(|e| ExecError(e, String::new()))?;
        let host = files::host_fd(fp);
        let mut image = Vec::new();
        let mut chunk = vec![0u8; 1 << 16];
        loop {
            // SAFETY: pread on our host descriptor into a local buffer.
            let n = unsafe { libc::pread(host, chunk.as_mut_ptr().cast(), chunk.len(), image.len() as i64) };
            if n <= 0 {
                break;
            }
            image.extend_from_slice(&chunk[..n as usize]);
        }
        files::fdrop(fp);
        let (elf, sv) = check(&image)?;
        // The point of no return: the old image goes.
        // SAFETY: the current thread's process and its sysentvec.
        unsafe {
            let p = kernel::td_proc(td);
            let old = kernel::p_sysent(p);
            if let Some(onexec_old) = (*old).sv_onexec_old {
                onexec_old(td);
            }
            uvm::unmap_all();
            let obj = (*old).sv_shared_page_obj;
            if !obj.is_null() {
                vm::vm_object_deallocate(obj);
            }
            let mut users = module::SYSVEC_USERS.lock().unwrap_or_else(|e| e.into_inner());
            if let Some(i) = users.iter().position(|&s| s == old as usize) {
                users[i] = sv as usize;
            }
        }
        // SAFETY: caller contract.
        if let Err(ExecError(e, why)) = unsafe { activate(td, &image, &elf, sv, args) } {
            crate::console_line(&format!(
                "kmod-sim: exec failed after the point of no return: {why} (errno {e})\n"
            ));
            exit(td, 0, 9);
        }
        Ok(())
    })();
    // SAFETY: exec's arguments, freed as do_execve frees them.
    unsafe { crate::shim::proc::exec_free_args(args) };
    match r {
        Ok(()) => EJUSTRETURN,
        Err(ExecError(e, _)) => e,
    }
}

/// The process's threads and its end: live guest threads, the host
/// threads running them, the wait status once it exited.
struct Life {
    threads: usize,
    hosts: Vec<libc::pid_t>,
    exiting: bool,
    status: Option<u64>,
}

static LIFE: std::sync::Mutex<Life> =
    std::sync::Mutex::new(Life { threads: 0, hosts: Vec::new(), exiting: false, status: None });
static LIFE_CV: std::sync::Condvar = std::sync::Condvar::new();

fn life() -> std::sync::MutexGuard<'static, Life> {
    LIFE.lock().unwrap_or_else(|e| e.into_inner())
}

fn gettid() -> libc::pid_t {
    // SAFETY: gettid has no preconditions.
    unsafe { libc::gettid() }
}

/// Whether the process is exiting (another thread called exit1).
pub fn exiting() -> bool {
    life().exiting
}

/// Live guest threads.
pub fn live_threads() -> usize {
    life().threads
}

/// The child of a fork: one thread (this one), not exiting.
pub fn forked_child() {
    let mut l = life();
    l.threads = 1;
    l.hosts = vec![gettid()];
    l.exiting = false;
    l.status = None;
}

/// A thread was created (before its host thread starts).
pub fn thread_started() {
    life().threads += 1;
}

/// This guest thread ends (thread exit, or the process single-threading
/// for exit1): its host thread leaves user mode.
pub fn leave_thread() -> ! {
    {
        let mut l = life();
        l.threads -= 1;
        let me = gettid();
        l.hosts.retain(|&h| h != me);
        LIFE_CV.notify_all();
    }
    // SAFETY: leaves user mode for good on this host thread.
    unsafe { trap::kmodsim_leave(0) }
}

/// The body of a host thread running a created guest thread.
pub fn run_thread(td: *mut Thread) {
    kernel::set_curthread(td);
    trap::alt_stack();
    {
        let mut l = life();
        if l.exiting {
            l.threads -= 1;
            LIFE_CV.notify_all();
            return;
        }
        l.hosts.push(gettid());
    }
    // SAFETY: the new thread's frame and pcb, set up by thread_create.
    unsafe { trap::kmodsim_enter_user(kernel::td_frame(td), (*kernel::td_pcb(td)).fsbase) };
}

/// Enters user mode on the calling host thread; returns the wait status
/// (`W_EXITCODE`) when the process has exited (all its threads gone).
pub fn run(process: &Process) -> u64 {
    trap::alt_stack();
    if let Err(e) = trap::install() {
        crate::fatal(&e);
    }
    {
        let mut l = life();
        l.threads = 1;
        l.hosts = vec![gettid()];
    }
    let td = process.thread.td;
    // SAFETY: the process's first thread, set up by exec; it returns
    // through kmodsim_leave when it ends.
    unsafe { trap::kmodsim_enter_user(kernel::td_frame(td), (*kernel::td_pcb(td)).fsbase) };
    let mut l = life();
    loop {
        if let (Some(s), 0) = (l.status, l.threads) {
            return s;
        }
        l = LIFE_CV.wait(l).unwrap_or_else(|e| e.into_inner());
    }
}

/// Kinds of resources every syscall must give back before it returns.
const BALANCED: [&str; 14] = [
    "umtx key",
    "mtx held",
    "umtx chain busy",
    "mbuf",
    "foffset lock",
    "rwlock held",
    "vm_map read lock",
    "kva",
    "pmap_qenter mapping",
    "uma(namei)",
    "malloc(M_TEMP)",
    "malloc(M_IOV)",
    "vm_page xbusy",
    files::SX_KIND,
];

/// `syscallenter()` + `syscallret()`'s retval step for the current
/// thread, whose frame holds the trapped registers.
///
/// # Safety
/// `td` is the current thread, in a syscall trap.
pub unsafe fn syscallenter(td: *mut Thread) {
    let before: Vec<usize> = BALANCED.iter().map(|k| account::count_mine(k)).collect();
    // SAFETY: caller contract.
    unsafe {
        let sv = &*kernel::p_sysent(kernel::td_proc(td));
        let mut error =
            (sv.sv_fetch_syscall_args.unwrap_or_else(|| crate::fatal("no sv_fetch_syscall_args")))(td);
        let sa = &mut *kernel::td_sa(td);
        let se = &*sa.callp;
        if error == 0 {
            if se.sy_flags & SYF_CAPENABLED == 0 && crate::shim::proc::in_capability_mode() {
                error = ECAPMODE;
            } else {
                let call = se.sy_call.unwrap_or_else(|| crate::fatal("sysent entry without sy_call"));
                error = call(td, sa.args.as_mut_ptr().cast::<c_void>());
            }
        }
        (sv.sv_set_syscall_retval.unwrap_or_else(|| crate::fatal("no sv_set_syscall_retval")))(td, error);
    }
    for (k, n) in BALANCED.iter().zip(before) {
        if account::count_mine(k) != n {
            // SAFETY: caller contract.
            let code = unsafe { (*kernel::td_sa(td)).code };
            crate::fatal(&format!(
                "syscall {code} returned holding {} more {k} than before",
                account::count_mine(k) as isize - n as isize
            ));
        }
    }
}

/// The process exits (`exit1()`): its descriptors are closed, its address
/// space and the shared-page reference released, `sv_onexit` runs; the
/// host thread leaves user mode with the wait status.
pub fn exit(td: *mut Thread, rv: c_int, sig: c_int) -> ! {
    // thread_single(SINGLE_EXIT): the other threads leave first (those in
    // user mode are interrupted, those in the kernel leave when their
    // syscall returns or their sleep is interrupted).
    {
        let mut l = life();
        if l.exiting {
            drop(l);
            leave_thread();
        }
        l.exiting = true;
        let me = gettid();
        while l.threads > 1 {
            for &h in l.hosts.iter().filter(|&&h| h != me) {
                // SAFETY: a signal to a host thread of this process.
                unsafe { libc::syscall(libc::SYS_tgkill, libc::getpid(), h, libc::SIGUSR2) };
            }
            l = LIFE_CV
                .wait_timeout(l, std::time::Duration::from_millis(20))
                .unwrap_or_else(|e| e.into_inner())
                .0;
        }
    }
    // SAFETY: the exiting thread's process.
    let (p, sv) = unsafe {
        let p = kernel::td_proc(td);
        (p, kernel::p_sysent(p))
    };
    // SAFETY: the process's sysentvec.
    if let Some(onexit) = unsafe { (*sv).sv_onexit } {
        // SAFETY: as exit1() calls it.
        unsafe { onexit(p) };
    }
    files::close_all();
    uvm::unmap_all();
    // SAFETY: the sysentvec installed by the module at MOD_LOAD.
    let obj = unsafe { (*sv).sv_shared_page_obj };
    if !obj.is_null() {
        vm::vm_object_deallocate(obj);
    }
    {
        let mut users = module::SYSVEC_USERS.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(i) = users.iter().position(|&s| s == sv as usize) {
            users.remove(i);
        }
    }
    let status = ((rv as u64 & 0xff) << 8) | (sig as u64 & 0x7f);
    {
        let mut l = life();
        l.threads = 0;
        l.status = Some(status);
        let me = gettid();
        l.hosts.retain(|&h| h != me);
        LIFE_CV.notify_all();
    }
    // SAFETY: leaves user mode for good; nothing on this stack needs
    // dropping (the syscall's frames are abandoned, as exit1 abandons
    // the kernel stack).
    unsafe { trap::kmodsim_leave(status) }
}
