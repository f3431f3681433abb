//! `cloudabi-oci build`: an OCI image archive (the image layout of the OCI
//! image spec v1, as a tar) holding one CloudABI program, its cloudabi-run
//! configuration and any files it is to be handed, on no base image.
//!
//! Layout of the archive (what `ctr image import` reads):
//! - `oci-layout`, `index.json`: the index names one manifest, with the
//!   platform (`linux/amd64` or `linux/arm64`) and the image's name in the
//!   `io.containerd.image.name` and `org.opencontainers.image.ref.name`
//!   annotations;
//! - `blobs/sha256/HEX`: the manifest, the image config and the layer, each
//!   named by the sha256 of its bytes.
//!
//! The layer is an uncompressed tar: `/cloudabi/program` (mode 0755),
//! `/cloudabi/config.yaml` (0644), then every `--add`ed file, directory
//! and symbolic link at its destination. Owners are 0:0 and times are
//! `SOURCE_DATE_EPOCH` (0 if unset), entries are sorted, so the same
//! inputs give the same bytes and digests. The config's entrypoint is the
//! program (which is how the runtime recognises a CloudABI container; see
//! [`crate::spec`]).

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};

use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use crate::error::io;
use crate::{CONFIG_ANNOTATION, CONFIG_PATH, Error, PROGRAM_ANNOTATION, PROGRAM_PATH, elf};

/// The platforms images are built for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Arch {
    Amd64,
    Arm64,
}

impl Arch {
    /// From the OCI name (`amd64`, `arm64`) or the machine's (`x86_64`,
    /// `aarch64`).
    pub fn parse(s: &str) -> Result<Arch, Error> {
        match s {
            "amd64" | "x86_64" => Ok(Arch::Amd64),
            "arm64" | "aarch64" => Ok(Arch::Arm64),
            _ => Err(Error::new(format!("unknown architecture {s:?}: use amd64 or arm64"))),
        }
    }

    /// The OCI `architecture` value.
    pub fn oci(self) -> &'static str {
        match self {
            Arch::Amd64 => "amd64",
            Arch::Arm64 => "arm64",
        }
    }

    fn machine(self) -> u16 {
        match self {
            Arch::Amd64 => elf::EM_X86_64,
            Arch::Arm64 => elf::EM_AARCH64,
        }
    }
}

/// A host file, directory tree or symbolic link to put at `dest` in the
/// image.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Add {
    pub source: PathBuf,
    pub dest: String,
}

impl Add {
    /// From `SOURCE:DEST` (the last `:` separates them).
    pub fn parse(s: &str) -> Result<Add, Error> {
        match s.rsplit_once(':') {
            Some((src, dest)) if !src.is_empty() && dest.starts_with('/') => {
                Ok(Add { source: PathBuf::from(src), dest: dest.to_owned() })
            }
            _ => Err(Error::new(format!("--add {s:?}: expected SOURCE:/ABSOLUTE/DESTINATION"))),
        }
    }
}

/// What to build.
#[derive(Debug, Clone)]
pub struct Options {
    pub program: PathBuf,
    pub config: PathBuf,
    pub adds: Vec<Add>,
    pub arch: Arch,
    pub name: String,
    /// Modification time of every layer entry (seconds since the epoch).
    pub mtime: u64,
}

/// A built archive and what it holds.
#[derive(Debug)]
pub struct Built {
    pub archive: Vec<u8>,
    /// The full image name (`docker.io/library/web:latest`).
    pub name: String,
    pub manifest_digest: String,
    /// Entries in the layer.
    pub entries: usize,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Node {
    Dir,
    File { data: Vec<u8>, mode: u32 },
    Link { target: PathBuf },
}

/// The layer's contents by path (relative, no leading `/`).
#[derive(Debug, Default)]
struct Tree(BTreeMap<String, Node>);

impl Tree {
    /// Puts `node` at the absolute path `dest`, creating parent directories.
    fn insert(&mut self, dest: &str, node: Node) -> Result<(), Error> {
        let parts: Vec<&str> = dest.split('/').filter(|p| !p.is_empty()).collect();
        if !dest.starts_with('/') || parts.iter().any(|p| *p == "." || *p == "..") || dest.contains('\0') {
            return Err(Error::new(format!("{dest:?}: not a plain absolute path in the image")));
        }
        let Some((last, parents)) = parts.split_last() else {
            return Err(Error::new("cannot replace the image's root directory"));
        };
        let mut path = String::new();
        for p in parents {
            path.push_str(p);
            match self.0.entry(path.clone()).or_insert(Node::Dir) {
                Node::Dir => {}
                _ => return Err(Error::new(format!("/{path} is a file in the image, not a directory"))),
            }
            path.push('/');
        }
        path.push_str(last);
        match self.0.get(&path) {
            None => {
                self.0.insert(path, node);
                Ok(())
            }
            Some(Node::Dir) if node == Node::Dir => Ok(()),
            Some(_) => Err(Error::new(format!("two sources for /{path} in the image"))),
        }
    }

    /// Puts a host file, symbolic link or directory tree at `dest`.
    fn add_host(&mut self, source: &Path, dest: &str) -> Result<(), Error> {
        let meta = fs::symlink_metadata(source).map_err(|e| io(source.display(), e))?;
        let kind = meta.file_type();
        if kind.is_symlink() {
            // Kept as a link: it resolves inside the container, where
            // cloudabi-run's path rules apply to it.
            let target = fs::read_link(source).map_err(|e| io(source.display(), e))?;
            self.insert(dest, Node::Link { target })
        } else if kind.is_file() {
            use std::os::unix::fs::PermissionsExt;
            let data = fs::read(source).map_err(|e| io(source.display(), e))?;
            let mode = if meta.permissions().mode() & 0o111 != 0 { 0o755 } else { 0o644 };
            self.insert(dest, Node::File { data, mode })
        } else if kind.is_dir() {
            self.insert(dest, Node::Dir)?;
            let mut names = Vec::new();
            for e in fs::read_dir(source).map_err(|e| io(source.display(), e))? {
                names.push(e.map_err(|e| io(source.display(), e))?.file_name());
            }
            names.sort();
            for name in names {
                let Some(n) = name.to_str() else {
                    return Err(Error::new(format!("{}: file name {name:?} is not UTF-8", source.display())));
                };
                self.add_host(&source.join(n), &format!("{}/{n}", dest.trim_end_matches('/')))?;
            }
            Ok(())
        } else {
            Err(Error::new(format!(
                "{}: only files, directories and symbolic links go into an image",
                source.display()
            )))
        }
    }
}

fn tar_error(e: std::io::Error) -> Error {
    Error::new(format!("writing a tar archive: {e}"))
}

/// A tar of `tree`, every entry owned by 0:0 with time `mtime`.
fn tar(tree: &Tree, mtime: u64) -> Result<Vec<u8>, Error> {
    let mut b = tar::Builder::new(Vec::new());
    for (path, node) in &tree.0 {
        let mut h = tar::Header::new_gnu();
        h.set_mtime(mtime);
        h.set_uid(0);
        h.set_gid(0);
        h.set_size(0);
        match node {
            Node::Dir => {
                h.set_entry_type(tar::EntryType::Directory);
                h.set_mode(0o755);
                b.append_data(&mut h, format!("{path}/"), std::io::empty()).map_err(tar_error)?;
            }
            Node::File { data, mode } => {
                h.set_entry_type(tar::EntryType::Regular);
                h.set_mode(*mode);
                h.set_size(data.len() as u64);
                b.append_data(&mut h, path, data.as_slice()).map_err(tar_error)?;
            }
            Node::Link { target } => {
                h.set_entry_type(tar::EntryType::Symlink);
                h.set_mode(0o777);
                b.append_link(&mut h, path, target).map_err(tar_error)?;
            }
        }
    }
    b.into_inner().map_err(tar_error)
}

/// `sha256:HEX` of `data`.
pub fn digest(data: &[u8]) -> String {
    let hash = Sha256::digest(data);
    let mut s = String::from("sha256:");
    for b in hash {
        s.push_str(&format!("{b:02x}"));
    }
    s
}

/// The full image name and its tag, normalised the way Docker and the
/// kubelet do: `web` → `docker.io/library/web:latest`,
/// `example.com/a/web:1` unchanged.
pub fn reference(name: &str) -> Result<(String, String), Error> {
    let bad = |why: &str| Err(Error::new(format!("image name {name:?}: {why}")));
    if name.contains('@') {
        return bad("give a tag, not a digest");
    }
    let (repo, tag) = match name.rsplit_once(':') {
        Some((r, t)) if !t.contains('/') => (r, t),
        _ => (name, "latest"),
    };
    if tag.is_empty()
        || tag.len() > 128
        || !tag.bytes().all(|b| b.is_ascii_alphanumeric() || b"_.-".contains(&b))
    {
        return bad("the tag may hold letters, digits, '_', '.' and '-' (at most 128)");
    }
    let mut parts: Vec<&str> = repo.split('/').collect();
    let has_domain = parts.len() > 1 && (parts[0].contains(['.', ':']) || parts[0] == "localhost");
    let path = if has_domain { &parts[1..] } else { &parts[..] };
    let valid = |p: &&str| {
        !p.is_empty()
            && p.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b"._-".contains(&b))
    };
    if path.is_empty() || !path.iter().all(valid) {
        return bad("path components are lower-case letters, digits, '.', '_' and '-'");
    }
    if !has_domain {
        if parts.len() == 1 {
            parts.insert(0, "library");
        }
        parts.insert(0, "docker.io");
    }
    Ok((format!("{}:{tag}", parts.join("/")), tag.to_owned()))
}

/// Checks that `program` is a CloudABI executable for `arch`.
fn check_program(path: &Path, data: &[u8], arch: Arch) -> Result<(), Error> {
    let h = elf::header(data).map_err(|e| Error::new(format!("{}: {e}", path.display())))?;
    if h.osabi != elf::ELFOSABI_CLOUDABI {
        return Err(Error::new(format!(
            "{}: not a CloudABI executable (ELF OS/ABI {}, CloudABI is {})",
            path.display(),
            h.osabi,
            elf::ELFOSABI_CLOUDABI
        )));
    }
    if h.machine != arch.machine() {
        return Err(Error::new(format!(
            "{}: built for ELF machine {}, not for {} (machine {})",
            path.display(),
            h.machine,
            arch.oci(),
            arch.machine()
        )));
    }
    Ok(())
}

/// Checks that the configuration parses, with cloudabi-run's own loader
/// (errors as `file:line:column`). Tags and paths are checked when the
/// container starts, by cloudabi-run inside it: the paths name files in the
/// container, and resolving tags opens them.
fn check_config(path: &Path, data: &[u8]) -> Result<(), Error> {
    let located = |e: cloudabi_run::config::ConfigError| Error::new(e.located(&path.display().to_string()));
    let text = cloudabi_run::config::text_from_bytes(data.to_vec()).map_err(located)?;
    cloudabi_run::config::load(&text).map_err(located)?;
    Ok(())
}

/// A JSON document's bytes and its descriptor.
fn blob(media_type: &str, doc: &Value) -> (Vec<u8>, Value) {
    // Serialising a Value built here cannot fail.
    let bytes = serde_json::to_vec(doc).unwrap_or_default();
    let desc = json!({"mediaType": media_type, "digest": digest(&bytes), "size": bytes.len()});
    (bytes, desc)
}

/// Builds the image archive.
pub fn build(o: &Options) -> Result<Built, Error> {
    let (name, tag) = reference(&o.name)?;
    let program = fs::read(&o.program).map_err(|e| io(o.program.display(), e))?;
    check_program(&o.program, &program, o.arch)?;
    let config_yaml = fs::read(&o.config).map_err(|e| io(o.config.display(), e))?;
    check_config(&o.config, &config_yaml)?;

    let mut tree = Tree::default();
    tree.insert(PROGRAM_PATH, Node::File { data: program, mode: 0o755 })?;
    tree.insert(CONFIG_PATH, Node::File { data: config_yaml, mode: 0o644 })?;
    for add in &o.adds {
        tree.add_host(&add.source, &add.dest)?;
    }
    let entries = tree.0.len();
    let layer = tar(&tree, o.mtime)?;
    let layer_digest = digest(&layer);

    let labels = json!({PROGRAM_ANNOTATION: PROGRAM_PATH, CONFIG_ANNOTATION: CONFIG_PATH});
    let (config_bytes, config_desc) = blob(
        "application/vnd.oci.image.config.v1+json",
        &json!({
            "architecture": o.arch.oci(),
            "os": "linux",
            "config": {"Entrypoint": [PROGRAM_PATH], "WorkingDir": "/", "Labels": labels},
            "rootfs": {"type": "layers", "diff_ids": [layer_digest]},
            "history": [{"created_by": "cloudabi-oci build"}],
        }),
    );
    let (manifest_bytes, mut manifest_desc) = blob(
        "application/vnd.oci.image.manifest.v1+json",
        &json!({
            "schemaVersion": 2,
            "mediaType": "application/vnd.oci.image.manifest.v1+json",
            "config": config_desc,
            "layers": [{
                "mediaType": "application/vnd.oci.image.layer.v1.tar",
                "digest": layer_digest,
                "size": layer.len(),
            }],
            "annotations": labels,
        }),
    );
    let manifest_digest = manifest_desc["digest"].as_str().unwrap_or_default().to_owned();
    manifest_desc["platform"] = json!({"architecture": o.arch.oci(), "os": "linux"});
    manifest_desc["annotations"] =
        json!({"io.containerd.image.name": name, "org.opencontainers.image.ref.name": tag});
    let index = json!({
        "schemaVersion": 2,
        "mediaType": "application/vnd.oci.image.index.v1+json",
        "manifests": [manifest_desc],
    });

    let mut outer = Tree::default();
    let json_file = |v: &Value| Node::File { data: serde_json::to_vec(v).unwrap_or_default(), mode: 0o644 };
    outer.insert("/oci-layout", json_file(&json!({"imageLayoutVersion": "1.0.0"})))?;
    outer.insert("/index.json", json_file(&index))?;
    for data in [layer, config_bytes, manifest_bytes] {
        let hex = digest(&data)["sha256:".len()..].to_owned();
        outer.insert(&format!("/blobs/sha256/{hex}"), Node::File { data, mode: 0o644 })?;
    }
    Ok(Built { archive: tar(&outer, o.mtime)?, name, manifest_digest, entries })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_normalised_like_the_kubelets() {
        let r = |s| reference(s).unwrap();
        assert_eq!(r("web"), ("docker.io/library/web:latest".into(), "latest".into()));
        assert_eq!(r("cloudabi/web:v1"), ("docker.io/cloudabi/web:v1".into(), "v1".into()));
        assert_eq!(r("localhost/web"), ("localhost/web:latest".into(), "latest".into()));
        assert_eq!(r("reg.example:5000/a/web:2"), ("reg.example:5000/a/web:2".into(), "2".into()));
        for bad in ["", "Web", "web@sha256:00", "a//b", "web:", "web:a/b:"] {
            assert!(reference(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn add_arguments() {
        assert_eq!(
            Add::parse("www:/srv/www").unwrap(),
            Add { source: "www".into(), dest: "/srv/www".into() }
        );
        assert_eq!(Add::parse("c:\\x:/y").unwrap().source, PathBuf::from("c:\\x"));
        for bad in ["www", "www:srv", ":/x"] {
            assert!(Add::parse(bad).unwrap_err().0.contains("SOURCE:/ABSOLUTE"), "{bad}");
        }
    }

    #[test]
    fn the_tree_refuses_escapes_and_clashes() {
        let mut t = Tree::default();
        let f = || Node::File { data: vec![1], mode: 0o644 };
        t.insert("/a/b", f()).unwrap();
        assert_eq!(t.0.get("a"), Some(&Node::Dir));
        assert!(t.insert("/a/b", f()).unwrap_err().0.contains("two sources for /a/b"));
        assert!(t.insert("/a/b/c", f()).unwrap_err().0.contains("/a/b is a file"));
        for bad in ["relative", "/a/../etc", "/./x", "/"] {
            assert!(t.insert(bad, f()).is_err(), "{bad}");
        }
        t.insert("/a", Node::Dir).unwrap();
    }
}
