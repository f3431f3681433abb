//! The attribute mappings of `!file {path: ..., mode: ...}` and
//! `!socket {bind: ..., type: ...}`.

use crate::config::{Body, ConfigError, NodeId, Pos, Tag, Tree};

/// The attributes of one tagged mapping, each a string with the position
/// of its value.
pub struct Attrs<'t> {
    tag: &'static str,
    pos: Pos,
    values: Vec<Attr<'t>>,
}

struct Attr<'t> {
    name: &'static str,
    text: &'t str,
    key_pos: Pos,
    value_pos: Pos,
}

impl<'t> Attrs<'t> {
    /// Reads the mapping at `id`, tagged `tag` (say `!file`), which may
    /// only have the attributes `allowed`; `shape` shows its form in the
    /// error for a node that is not a mapping.
    pub fn read(
        tree: &'t Tree,
        id: NodeId,
        tag: &'static str,
        allowed: &[&'static str],
        shape: &str,
    ) -> Result<Self, ConfigError> {
        let node = tree.node(id);
        let Body::Map(pairs) = &node.body else {
            return Err(ConfigError::new(node.pos, format!("`{tag}` expects a mapping like {shape}")));
        };
        let mut attrs = Attrs { tag, pos: node.pos, values: Vec::new() };
        for &(key, value) in pairs {
            let key_pos = tree.node(key).pos;
            let name = string(tree, key).and_then(|k| allowed.iter().copied().find(|a| *a == k)).ok_or_else(
                || {
                    let shown = string(tree, key).map(|k| format!(" `{k}`")).unwrap_or_default();
                    let expected = allowed.iter().map(|a| format!("`{a}`")).collect::<Vec<_>>().join(" or ");
                    ConfigError::new(
                        key_pos,
                        format!("unknown attribute{shown} in `{tag}` (expected {expected})"),
                    )
                },
            )?;
            if let Some(first) = attrs.values.iter().find(|a| a.name == name) {
                let (l, c) = (first.key_pos.line, first.key_pos.column);
                return Err(ConfigError::new(
                    key_pos,
                    format!("duplicate key `{name}` (first at line {l}, column {c})"),
                ));
            }
            let text = string(tree, value).ok_or_else(|| {
                ConfigError::new(tree.node(value).pos, format!("`{name}` in `{tag}` must be a string"))
            })?;
            attrs.values.push(Attr { name, text, key_pos, value_pos: tree.node(value).pos });
        }
        Ok(attrs)
    }

    /// The value of an attribute that may be left out.
    pub fn get(&self, name: &str) -> Option<(&'t str, Pos)> {
        self.values.iter().find(|a| a.name == name).map(|a| (a.text, a.value_pos))
    }

    /// The value of an attribute that must be there.
    pub fn require(&self, name: &str) -> Result<(&'t str, Pos), ConfigError> {
        self.get(name)
            .ok_or_else(|| ConfigError::new(self.pos, format!("missing `{name}` in `{}`", self.tag)))
    }
}

/// The text of a scalar that can only be a string (untagged, `!!str` or
/// `!`); `None` for anything else.
fn string(tree: &Tree, id: NodeId) -> Option<&str> {
    let node = tree.node(id);
    let stringy = match &node.tag {
        None | Some(Tag::NonSpecific) => true,
        Some(Tag::Core(name)) => name == "str",
        Some(_) => false,
    };
    match &node.body {
        Body::Scalar { text, .. } if stringy => Some(text),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::load;

    fn read(text: &str) -> Result<Vec<(String, String)>, String> {
        let tree = load(text).unwrap();
        let attrs = Attrs::read(&tree, tree.root(), "!file", &["path", "mode"], "{path: ...}")
            .map_err(|e| format!("{}: {}", e.pos, e.message))?;
        Ok(attrs.values.iter().map(|a| (a.name.to_string(), a.text.to_string())).collect())
    }

    #[test]
    fn reads_known_attributes() {
        let attrs = read("{path: /etc, mode: directory}").unwrap();
        assert_eq!(attrs, [("path".into(), "/etc".into()), ("mode".into(), "directory".into())]);
        // Quoted and numeric-looking values are strings all the same.
        assert_eq!(read("{path: \"1\"}").unwrap(), [("path".into(), "1".into())]);
        assert_eq!(read("{path: 2024}").unwrap(), [("path".into(), "2024".into())]);
    }

    #[test]
    fn rejects_unknown_duplicate_and_non_string_attributes() {
        assert_eq!(
            read("{paht: x}").unwrap_err(),
            "1:2: unknown attribute `paht` in `!file` (expected `path` or `mode`)"
        );
        assert_eq!(
            read("{[x]: y}").unwrap_err(),
            "1:2: unknown attribute in `!file` (expected `path` or `mode`)"
        );
        assert_eq!(
            read("{path: a, path: b}").unwrap_err(),
            "1:11: duplicate key `path` (first at line 1, column 2)"
        );
        assert_eq!(read("{path: [a]}").unwrap_err(), "1:8: `path` in `!file` must be a string");
        assert_eq!(read("{path: !fd 1}").unwrap_err(), "1:8: `path` in `!file` must be a string");
        assert_eq!(read("x").unwrap_err(), "1:1: `!file` expects a mapping like {path: ...}");
    }

    #[test]
    fn missing_attributes_are_reported_at_the_mapping() {
        let tree = load("\n  {mode: read}").unwrap();
        let attrs = Attrs::read(&tree, tree.root(), "!file", &["path", "mode"], "").unwrap();
        let e = attrs.require("path").unwrap_err();
        assert_eq!((e.pos, e.message.as_str()), (Pos { line: 2, column: 3 }, "missing `path` in `!file`"));
        assert_eq!(attrs.get("mode").map(|(t, _)| t), Some("read"));
    }
}
