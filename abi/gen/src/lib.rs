//! The ABI generator: reads `abi/cloudabi.spec` (and the backends' syscall
//! status tables) and produces every derived artefact.
//!
//! | output | emitter |
//! |---|---|
//! | `abi/src/generated.rs` | [`emit_rust`] |
//! | `guest/include/cloudabi*.h` | [`emit_c`] |
//! | `abi/vdso/cloudabi_vdso_{x86_64,aarch64}.S` | [`emit_vdso`] |
//! | `docs/syscalls.md` | [`emit_docs`] |

pub mod emit_c;
pub mod emit_docs;
pub mod emit_rust;
pub mod emit_vdso;
pub mod error;
pub mod layout;
pub mod model;
pub mod naming;
pub mod parse;
pub mod status;
pub mod tree;

use std::path::Path;

pub use error::SpecError;
pub use model::Spec;

/// Where the spec lives, relative to the repository root.
pub const SPEC_PATH: &str = "abi/cloudabi.spec";

/// One generated file: its path relative to the repository root and text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Output {
    pub path: &'static str,
    pub text: String,
}

/// Reads the spec and status tables under `root` and renders every output.
pub fn generate(root: &Path) -> Result<Vec<Output>, String> {
    let spec_text = read(root, SPEC_PATH)?;
    let spec = parse::parse_spec(SPEC_PATH, &spec_text).map_err(|e| e.to_string())?;
    let mut statuses = Vec::new();
    for backend in status::BACKENDS {
        let text = read(root, backend.path)?;
        statuses.push(status::parse(backend, &text, &spec).map_err(|e| e.to_string())?);
    }
    render(&spec, &statuses)
}

/// Renders every output from a parsed spec and parsed status tables.
pub fn render(spec: &Spec, statuses: &[status::Table]) -> Result<Vec<Output>, String> {
    let mut out = vec![Output { path: "abi/src/generated.rs", text: emit_rust::emit(spec)? }];
    out.extend(emit_c::emit(spec));
    out.extend(emit_vdso::emit(spec));
    out.push(Output { path: "docs/syscalls.md", text: emit_docs::emit(spec, statuses) });
    Ok(out)
}

fn read(root: &Path, rel: &str) -> Result<String, String> {
    std::fs::read_to_string(root.join(rel)).map_err(|e| format!("{rel}: cannot read: {e}"))
}
