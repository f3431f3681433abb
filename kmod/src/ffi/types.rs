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
    /// `struct thread` (sys/proc.h)
    Thread;
    /// `struct proc` (sys/proc.h)
    Proc;
    /// `struct vmspace` (vm/vm_map.h)
    Vmspace;
    /// `struct image_params` (sys/imgact.h)
    ImageParams;
    /// `struct image_args` (sys/imgact.h)
    ImageArgs;
    /// `struct vm_object` (vm/vm_object.h)
    VmObject;
    /// `struct vm_page` (vm/vm_page.h)
    VmPage;
    /// `struct vnode` (sys/vnode.h), 14.x core dumps
    #[cfg(freebsd14)]
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
    /// `struct pcb` (machine/pcb.h), amd64 only: restarts need a full iret
    #[cfg(target_arch = "x86_64")]
    Pcb;
}
