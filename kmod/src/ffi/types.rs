//! Kernel types the module only handles by pointer. They are opaque on
//! purpose: their layouts differ between releases and are reached only
//! through [`super::access`].

use core::marker::{PhantomData, PhantomPinned};

macro_rules! opaque {
    ($($(#[$doc:meta])* $name:ident;)*) => {$(
        $(#[$doc])*
        #[repr(C)]
        pub struct $name {
            _data: [u8; 0],
            _marker: PhantomData<(*mut u8, PhantomPinned)>,
        }
    )*};
}

opaque! {
    /// `struct sysctl_oid` (sys/sysctl.h): a sysctl node, only by address
    SysctlOid;
    /// `struct sysctl_oid_list` (sys/sysctl.h): a node's children
    SysctlOidList;
    /// `struct sysctl_ctx_list` (sys/sysctl.h); passed as NULL
    SysctlCtxList;
    /// `struct sysctl_req` (sys/sysctl.h): handled by `sysctl_handle_int`
    SysctlReq;
    /// `struct thread` (sys/proc.h)
    Thread;
    /// `struct proc` (sys/proc.h)
    Proc;
    /// `struct filedesc` (sys/filedesc.h): a process's descriptor table
    Filedesc;
    /// `struct fdescenttbl` (sys/filedesc.h): its array of entries
    Fdescenttbl;
    /// `struct filedescent` (sys/filedesc.h): one descriptor's entry
    Filedescent;
    /// `struct sx` (sys/_sx.h): a shared/exclusive lock, only by address
    Sx;
    /// `struct vmspace` (vm/vm_map.h)
    Vmspace;
    /// `struct vm_map` (vm/vm_map.h), the first member of `struct vmspace`
    VmMap;
    /// `struct image_params` (sys/imgact.h)
    ImageParams;
    /// `struct vm_object` (vm/vm_object.h)
    VmObject;
    /// `struct vm_page` (vm/vm_page.h)
    VmPage;
    /// `struct vnode` (sys/vnode.h): 14.x core dumps, and the type of a
    /// vnode-backed file (`v_type`, through [`super::access`])
    Vnode;
    /// `struct coredump_writer`, 15.x core dumps
    #[cfg(freebsd15)]
    CoredumpWriter;
    /// `struct note_info_list` (sys/imgact_elf.h)
    NoteInfoList;
    /// `struct cap_enter_args` (sys/sysproto.h); passed as NULL
    CapEnterArgs;
    /// `struct ucred` (sys/ucred.h)
    Ucred;
    /// `struct file` (sys/file.h): an open file, only through
    /// [`super::access`]
    File;
    /// `struct socket` (sys/socketvar.h), only through [`super::access`]
    Socket;
    /// `struct mbuf` (sys/mbuf.h): control data of a received message,
    /// only through [`super::access`]
    Mbuf;
    /// `struct umtx_q` (sys/umtxvar.h): a thread's wait-queue entry, only
    /// through [`super::access`]
    UmtxQ;
    /// `struct umtxq_chain` (sys/umtxvar.h): a hash chain of wait queues
    UmtxqChain;
    /// `struct rtprio` (sys/rtprio.h); passed as NULL
    Rtprio;
    /// `struct mac` (sys/mac.h); passed as NULL
    Mac;
    /// `struct malloc_type` (sys/malloc.h)
    MallocType;
    /// `struct sockaddr` (sys/socket.h)
    Sockaddr;
    /// `struct uma_zone` (vm/uma.h): a UMA zone (`uma_zone_t`)
    UmaZone;
    /// `struct pcb` (machine/pcb.h), amd64 only: restarts need a full iret
    #[cfg(target_arch = "x86_64")]
    Pcb;
}
