//! Turns the configuration tree into the program's argdata, opening a
//! descriptor for each CloudABI tag:
//!
//! | tag | value | descriptor |
//! |---|---|---|
//! | `!fd` | `N`, `stdin`, `stdout`, `stderr` | cloudabi-run's own descriptor N |
//! | `!file` | `{path: P, mode: M}` | P opened with mode M; without `mode` as the original cloudabi-run did: read-only, a directory with every directory right |
//! | `!socket` | `{bind: A, type: T, domain: D}` | a socket bound to A (T `stream` or `seqpacket`, listening, or `dgram`; D, optional, `inet`, `inet6` or `unix`, must match A) |
//! | `!executable` | nothing | the executable being run |
//!
//! Everything else follows the YAML core schema (see [`crate::scalar`]).
//! Opening is left to an [`Opener`], so that this module can be tested
//! (and fuzzed) without touching the file system.

mod attrs;
mod fdlist;
mod spec;

use std::collections::HashMap;
use std::collections::hash_map::Entry;
use std::os::fd::{AsFd, OwnedFd, RawFd};

use sys::backend::FdRights;

use crate::argdata::{self, Value};
use crate::config::{Body, ConfigError, NodeId, Pos, Tag, Tree};
use crate::{rights, scalar};

pub use attrs::Attrs;
pub use fdlist::{Descriptor, FdKey, FdList};
pub use spec::{
    BindAddr, FD_EXPECTS, FileMode, FileSpec, SocketDomain, SocketKind, SocketSpec, parse_bind, parse_fd,
};

/// Opens what the tags ask for. Errors are messages; the resolver adds
/// the tag's position.
pub trait Opener {
    /// A duplicate of cloudabi-run's descriptor `fd`, or an error if it is
    /// not open.
    fn inherited(&mut self, fd: RawFd) -> Result<OwnedFd, String>;
    fn file(&mut self, spec: &FileSpec) -> Result<OwnedFd, String>;
    fn socket(&mut self, spec: &SocketSpec) -> Result<OwnedFd, String>;
    /// A descriptor of the executable being run.
    fn executable(&mut self) -> Result<OwnedFd, String>;
}

/// The program's argument data and descriptors.
#[derive(Debug)]
pub struct Resolved {
    pub value: Value,
    pub fds: FdList,
}

pub fn resolve(tree: &Tree, opener: &mut dyn Opener) -> Result<Resolved, ConfigError> {
    let mut resolver = Resolver { tree, opener, fds: FdList::default() };
    let value = resolver.value(tree.root())?;
    Ok(Resolved { value, fds: resolver.fds })
}

/// What [`Resolver::open`] produces.
type Opened = (Result<OwnedFd, String>, String, Option<FdRights>);

struct Resolver<'a> {
    tree: &'a Tree,
    opener: &'a mut dyn Opener,
    fds: FdList,
}

impl Resolver<'_> {
    fn value(&mut self, id: NodeId) -> Result<Value, ConfigError> {
        let node = self.tree.node(id);
        let at = |message: String| ConfigError::new(node.pos, message);
        match (&node.tag, &node.body) {
            (Some(Tag::Cloudabi(name)), _) => self.descriptor(id, name),
            (Some(Tag::Other(tag)), _) => Err(at(format!("unknown tag `{tag}` ({TAGS})"))),
            (Some(Tag::Core(name)), Body::Scalar { text, .. }) => scalar::core(name, text).map_err(at),
            (Some(Tag::NonSpecific), Body::Scalar { text, .. }) => scalar::string(text).map_err(at),
            (None, Body::Scalar { text, plain: true }) => scalar::plain(text).map_err(at),
            (None, Body::Scalar { text, plain: false }) => scalar::string(text).map_err(at),
            (Some(Tag::Core(name)), Body::Seq(_)) if name != "seq" => Err(at(not_for(name, "a sequence"))),
            (Some(Tag::Core(name)), Body::Map(_)) if name != "map" => Err(at(not_for(name, "a mapping"))),
            (_, Body::Seq(items)) => {
                items.iter().map(|&item| self.value(item)).collect::<Result<_, _>>().map(Value::Seq)
            }
            (_, Body::Map(pairs)) => self.map(pairs),
        }
    }

    fn map(&mut self, pairs: &[(NodeId, NodeId)]) -> Result<Value, ConfigError> {
        // Keys are compared by their encoding, which is canonical.
        let mut seen: HashMap<Vec<u8>, Pos> = HashMap::new();
        let mut out = Vec::with_capacity(pairs.len());
        for &(key_id, value_id) in pairs {
            let key = self.value(key_id)?;
            let pos = self.tree.node(key_id).pos;
            match seen.entry(argdata::encode(&key)) {
                Entry::Occupied(first) => {
                    let (l, c) = (first.get().line, first.get().column);
                    let shown = self.label(key_id, &key);
                    let message = format!("duplicate key {shown} (first at line {l}, column {c})");
                    return Err(ConfigError::new(pos, message));
                }
                Entry::Vacant(slot) => {
                    slot.insert(pos);
                }
            }
            out.push((key, self.value(value_id)?));
        }
        Ok(Value::Map(out))
    }

    /// A key as the user wrote it, if it is a scalar.
    fn label(&self, id: NodeId, value: &Value) -> String {
        match &self.tree.node(id).body {
            Body::Scalar { text, .. } => format!("`{text}`"),
            _ => argdata::render(value),
        }
    }

    fn descriptor(&mut self, id: NodeId, name: &str) -> Result<Value, ConfigError> {
        let node = self.tree.node(id);
        let at = |message: String| ConfigError::new(node.pos, message);
        let key = match name {
            "fd" => {
                let text =
                    self.scalar_text(id).ok_or_else(|| at(format!("{FD_EXPECTS}, not a collection")))?;
                FdKey::Inherited(parse_fd(text).map_err(at)?)
            }
            "executable" if self.scalar_text(id) == Some("") => FdKey::Executable,
            "executable" => return Err(at("`!executable` takes no value".into())),
            "file" | "socket" => FdKey::Node(id),
            _ => return Err(at(unknown_tag(name))),
        };
        if let Some(index) = self.fds.find(key) {
            return Ok(Value::Fd(index));
        }
        let (fd, description, ceiling) = self.open(id, key, name)?;
        let fd = fd.map_err(at)?;
        // The rights of one of cloudabi-run's own descriptors follow its
        // access mode; everything else's follow the configuration.
        let ceiling = ceiling.unwrap_or_else(|| rights::for_inherited(fd.as_fd()));
        let index = self.fds.add(key, fd, description, ceiling).map_err(at)?;
        Ok(Value::Fd(index))
    }

    /// Opens the descriptor for `key`: the result of opening, a
    /// description for `--dump-argdata` and the rights ceiling the
    /// configuration implies (`None`: decided by the descriptor). Errors in
    /// the tag's attributes come first, before anything is opened.
    fn open(&mut self, id: NodeId, key: FdKey, name: &str) -> Result<Opened, ConfigError> {
        Ok(match key {
            FdKey::Inherited(fd) => (self.opener.inherited(fd), format!("!fd {fd}"), None),
            FdKey::Executable => {
                (self.opener.executable(), "!executable".into(), Some(rights::for_executable()))
            }
            FdKey::Node(_) if name == "file" => {
                let spec = file_spec(self.tree, id)?;
                let opened = self.opener.file(&spec);
                let ceiling = match (spec.mode, &opened) {
                    (FileMode::Unspecified, Ok(fd)) => rights::for_unspecified_file(fd.as_fd()),
                    (mode, _) => rights::for_file(mode),
                };
                (opened, spec.to_string(), Some(ceiling))
            }
            FdKey::Node(_) => {
                let spec = socket_spec(self.tree, id)?;
                (self.opener.socket(&spec), spec.to_string(), Some(rights::for_socket(spec.kind)))
            }
        })
    }

    /// The text of a scalar node; `None` for a collection.
    fn scalar_text(&self, id: NodeId) -> Option<&str> {
        match &self.tree.node(id).body {
            Body::Scalar { text, .. } => Some(text),
            _ => None,
        }
    }
}

/// The CloudABI tags, for messages.
const TAGS: &str = "the CloudABI tags are !fd, !file, !socket and !executable";

/// `unknown tag `!fle` (the CloudABI tags are ...; did you mean `!file`?)`:
/// a suggestion when a tag is one edit away (two for `!socket` and
/// `!executable`).
fn unknown_tag(name: &str) -> String {
    let near = ["fd", "file", "socket", "executable"]
        .into_iter()
        .map(|t| (edit_distance(name, t), t))
        // One edit for the short tags, two for the long ones.
        .filter(|&(d, t)| d <= (t.len() / 3).clamp(1, 2))
        .min();
    match near {
        Some((_, t)) => format!("unknown tag `!{name}` ({TAGS}; did you mean `!{t}`?)"),
        None => format!("unknown tag `!{name}` ({TAGS})"),
    }
}

/// Levenshtein distance of two short strings.
fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut prev = row[0];
        row[0] = i + 1;
        for (j, &cb) in b.iter().enumerate() {
            let cur = row[j + 1];
            row[j + 1] = (prev + usize::from(ca != cb)).min(row[j] + 1).min(cur + 1);
            prev = cur;
        }
    }
    row[b.len()]
}

fn not_for(tag: &str, what: &str) -> String {
    format!("`!!{tag}` does not apply to {what}")
}

fn file_spec(tree: &Tree, id: NodeId) -> Result<FileSpec, ConfigError> {
    let attrs = Attrs::read(tree, id, "!file", &["path", "mode"], "{path: ..., mode: read}")?;
    let (path, path_pos) = attrs.require("path")?;
    if path.is_empty() {
        return Err(ConfigError::new(path_pos, "`path` in `!file` must not be empty"));
    }
    let mode = match attrs.get("mode") {
        None => FileMode::Unspecified,
        Some((text, pos)) => FileMode::parse(text).ok_or_else(|| {
            let expected = FileMode::NAMES.join(", ");
            ConfigError::new(pos, format!("unknown mode `{text}` in `!file` (expected one of {expected})"))
        })?,
    };
    Ok(FileSpec { path: path.to_owned(), mode })
}

fn socket_spec(tree: &Tree, id: NodeId) -> Result<SocketSpec, ConfigError> {
    let attrs = Attrs::read(
        tree,
        id,
        "!socket",
        &["bind", "type", "domain"],
        "{bind: \"127.0.0.1:8080\", type: stream}",
    )?;
    let (text, pos) = attrs.require("bind")?;
    let bind = parse_bind(text).map_err(|m| ConfigError::new(pos, m))?;
    let kind = match attrs.get("type") {
        None => SocketKind::Stream,
        Some((text, pos)) => SocketKind::parse(text).ok_or_else(|| {
            let expected = SocketKind::NAMES.join(", ");
            ConfigError::new(
                pos,
                format!("unknown socket type `{text}` in `!socket` (expected one of {expected})"),
            )
        })?,
    };
    let domain = match attrs.get("domain") {
        None => None,
        Some((name, dpos)) => {
            let domain = SocketDomain::parse(name).ok_or_else(|| {
                let expected = SocketDomain::NAMES.join(", ");
                ConfigError::new(
                    dpos,
                    format!("unknown domain `{name}` in `!socket` (expected one of {expected})"),
                )
            })?;
            let fits = match (&bind, domain) {
                (BindAddr::Unix(_), d) => d == SocketDomain::Unix,
                (BindAddr::Inet { .. }, d) => d != SocketDomain::Unix,
            };
            if !fits {
                return Err(ConfigError::new(
                    dpos,
                    format!("domain `{name}` does not match the address `{text}` in `!socket`"),
                ));
            }
            Some(domain)
        }
    };
    Ok(SocketSpec { text: text.to_owned(), bind, kind, domain })
}

#[cfg(test)]
mod tests;
