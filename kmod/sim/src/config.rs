//! The program and its configuration, exactly as cloudabi-run reads them
//! (run/src/cli.rs): the YAML from standard input or `--config FILE`,
//! resolved into argument data and the descriptor list with the run
//! crate's own code, so the program gets what `cloudabi-run` would give it.

use std::fs::{self, File};
use std::io::Read;
use std::path::Path;

use cloudabi_run::exit::{Failure, Status};
use cloudabi_run::{argdata, config, resolve, resources};

use crate::proc::Program;

/// Reads the executable and resolves the configuration.
pub fn program(path: &Path, config_path: Option<&Path>) -> Result<Program, Failure> {
    let cannot =
        |e: std::io::Error| Failure::new(Status::NoInput, format!("cannot open `{}`: {e}", path.display()));
    if !fs::metadata(path).map_err(cannot)?.is_file() {
        return Err(Failure::new(Status::NoInput, format!("`{}` is not a regular file", path.display())));
    }
    let exe = File::open(path).map_err(cannot)?;
    let image = fs::read(path).map_err(cannot)?;
    let config_path = config_path.filter(|p| p.as_os_str() != "-");
    let (source, bytes) = match config_path {
        Some(p) => (
            p.display().to_string(),
            fs::read(p)
                .map_err(|e| Failure::new(Status::NoInput, format!("cannot read `{}`: {e}", p.display())))?,
        ),
        None => {
            let mut b = Vec::new();
            std::io::stdin().lock().read_to_end(&mut b).map_err(|e| {
                Failure::new(
                    Status::NoInput,
                    format!("cannot read the configuration from standard input: {e}"),
                )
            })?;
            ("<stdin>".to_owned(), b)
        }
    };
    let located = |e: config::ConfigError| Failure::new(Status::Config, e.located(&source));
    let text = config::text_from_bytes(bytes).map_err(located)?;
    let tree = config::load(&text).map_err(located)?;
    let resolved = resolve::resolve(&tree, &mut resources::System::new(&exe, path)).map_err(located)?;
    Ok(Program { image, argdata: argdata::encode(&resolved.value), fds: resolved.fds.into_fds() })
}
