//! CloudABI programs as containerd workloads.
//!
//! Two programs share this library:
//!
//! - `cloudabi-oci build` packs a CloudABI executable and its cloudabi-run
//!   YAML into an OCI image archive ([`image`]) that `ctr image import`
//!   accepts: one layer, no base image.
//! - `cloudabi-oci-runtime` is what containerd's runc shim runs instead of
//!   runc (`BinaryName`). It passes every command to runc unchanged except
//!   `create` and `run`, where it rewrites the bundle's `config.json`
//!   ([`spec`]) so that a CloudABI container's process is
//!   `cloudabi-run --sandbox --config CONFIG PROGRAM`, with the host's
//!   cloudabi-run bind-mounted read-only; namespaces, cgroups and mounts
//!   stay runc's. [`runc_args`] finds the command and the bundle in runc's
//!   command line.
//!
//! See docs/cluster.md for the design and the image format.

pub mod elf;
pub mod error;
pub mod image;
pub mod runc_args;
pub mod runtime;
pub mod spec;

pub use error::Error;

/// Where a CloudABI image keeps its executable (the image's entrypoint).
pub const PROGRAM_PATH: &str = "/cloudabi/program";
/// Where a CloudABI image keeps its cloudabi-run configuration.
pub const CONFIG_PATH: &str = "/cloudabi/config.yaml";
/// Annotation naming the program inside the container, when it is not
/// [`PROGRAM_PATH`].
pub const PROGRAM_ANNOTATION: &str = "org.cloudabi.program";
/// Annotation naming the configuration inside the container, when it is
/// not [`CONFIG_PATH`].
pub const CONFIG_ANNOTATION: &str = "org.cloudabi.config";
