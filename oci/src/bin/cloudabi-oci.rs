//! `cloudabi-oci build`: an OCI image archive from a CloudABI executable
//! and its cloudabi-run YAML, for `ctr image import` (see docs/cluster.md).
//!
//! Exit status: 0 built, 1 an input or the output is wrong (the message
//! says which), 2 usage.

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use cloudabi_oci::Error;
use cloudabi_oci::image::{self, Add, Arch, Options};

const USAGE: &str = "usage: cloudabi-oci build --program FILE --config FILE --name NAME[:TAG] \
                     [--arch amd64|arm64] [--add SOURCE:/DEST]... --output FILE";

const HELP: &str = "
Packs a CloudABI executable and its cloudabi-run configuration into an OCI
image archive (OCI image layout, tar) with one layer and no base image:
  /cloudabi/program      the executable (the image's entrypoint)
  /cloudabi/config.yaml  the configuration cloudabi-run reads
plus every --add: a host file, symbolic link or directory tree placed at
DEST. Import it with `ctr image import FILE`; run it with the runtime
io.containerd.cloudabi.v1 (docs/cluster.md).

  --arch     the image's platform, linux/amd64 (default: this machine's) or
             linux/arm64; the program must be built for it
  --name     the image name; without a registry it is docker.io/library/NAME
             or docker.io/NAME, without a tag :latest
  SOURCE_DATE_EPOCH  the time stamp of every file (default 0)";

fn usage(msg: &str) -> ExitCode {
    eprintln!("cloudabi-oci: {msg}\n{USAGE}");
    ExitCode::from(2)
}

fn main() -> ExitCode {
    let args: Vec<String> = match std::env::args_os().skip(1).map(|a| a.into_string()).collect() {
        Ok(a) => a,
        Err(a) => return usage(&format!("argument {a:?} is not UTF-8")),
    };
    match args.first().map(String::as_str) {
        Some("build") => {}
        Some("-h" | "--help" | "help") => {
            println!("{USAGE}\n{HELP}");
            return ExitCode::SUCCESS;
        }
        Some(other) => return usage(&format!("unknown command {other:?}")),
        None => return usage("no command"),
    }
    let mut program = None;
    let mut config = None;
    let mut name = None;
    let mut output = None;
    let mut adds = Vec::new();
    let mut arch = if cfg!(target_arch = "aarch64") { Arch::Arm64 } else { Arch::Amd64 };
    let mut it = args[1..].iter();
    while let Some(flag) = it.next() {
        let Some(value) = it.next() else { return usage(&format!("{flag} needs a value")) };
        let parsed = match flag.as_str() {
            "--program" => set(&mut program, PathBuf::from(value)),
            "--config" => set(&mut config, PathBuf::from(value)),
            "--name" => set(&mut name, value.clone()),
            "--output" | "-o" => set(&mut output, PathBuf::from(value)),
            "--add" => Add::parse(value).map(|a| adds.push(a)),
            "--arch" => Arch::parse(value).map(|a| arch = a),
            _ => return usage(&format!("unknown option {flag:?}")),
        };
        if let Err(e) = parsed {
            return usage(&format!("{flag}: {e}"));
        }
    }
    let (Some(program), Some(config), Some(name), Some(output)) = (program, config, name, output) else {
        return usage("--program, --config, --name and --output are required");
    };
    let mtime = match std::env::var("SOURCE_DATE_EPOCH") {
        Err(_) => 0,
        Ok(s) => match s.parse() {
            Ok(t) => t,
            Err(_) => return usage(&format!("SOURCE_DATE_EPOCH={s:?} is not a number of seconds")),
        },
    };
    let options = Options { program, config, adds, arch, name, mtime };
    match image::build(&options).and_then(|built| write(&output, &built.archive).map(|()| built)) {
        Ok(built) => {
            println!(
                "cloudabi-oci: wrote {}: {} (linux/{}), manifest {}, {} entries in the layer",
                output.display(),
                built.name,
                arch.oci(),
                built.manifest_digest,
                built.entries
            );
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("cloudabi-oci: {e}");
            ExitCode::FAILURE
        }
    }
}

/// Sets an option given once.
fn set<T>(slot: &mut Option<T>, value: T) -> Result<(), Error> {
    match slot.replace(value) {
        None => Ok(()),
        Some(_) => Err(Error::new("given twice")),
    }
}

/// Writes `data` to `path` through a temporary file beside it, so that a
/// failed build leaves no partial archive.
fn write(path: &std::path::Path, data: &[u8]) -> Result<(), Error> {
    let tmp = path.with_extension("partial");
    let result = std::fs::File::create(&tmp)
        .and_then(|mut f| f.write_all(data).and_then(|()| f.sync_all()))
        .and_then(|()| std::fs::rename(&tmp, path));
    result.map_err(|e| {
        let _ = std::fs::remove_file(&tmp);
        Error::new(format!("{}: {e}", path.display()))
    })
}
