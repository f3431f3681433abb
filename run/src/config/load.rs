//! Loads YAML text into a [`Tree`], from saphyr's event stream.
//!
//! The loader consumes parser events itself rather than asking saphyr for
//! a `MarkedYaml`, because it has to:
//! - refuse nesting deeper than [`MAX_DEPTH`] while parsing, before a tree
//!   is built that would overflow the stack of every recursive step after
//!   loading (`[[[[...` is a few bytes per level);
//! - keep an alias as a reference to its anchor (so `*log` of a `!file` is
//!   one descriptor), with an expansion budget against "billion laughs";
//! - keep each scalar's text and style, so that the core schema can be
//!   applied by [`crate::scalar`] (an integer too large for 64 bits is an
//!   error there, not silently a float or a string);
//! - report a second document at its position.

use std::borrow::Cow;
use std::collections::HashMap;

use saphyr_parser::{Event, Parser, ScalarStyle, Span};

use super::{Body, ConfigError, Node, NodeId, Pos, Tag, Tree};

/// Collections may nest this deep (counting the outermost as 1). saphyr's
/// scanner, which looks ahead of the events, refuses a 256th level of flow
/// collections itself; the same limit here covers block collections, and
/// [`load`] words saphyr's error like its own.
pub const MAX_DEPTH: usize = 255;

/// saphyr's error for its flow nesting limit.
const SAPHYR_DEPTH_ERROR: &str = "recursion limit exceeded";
/// Aliases may add at most this many nodes to the expanded document.
pub const MAX_ALIAS_EXPANSION: u64 = 100_000;

/// Loads a configuration: a stream holding at most one document.
pub fn load(text: &str) -> Result<Tree, ConfigError> {
    let mut parser = Parser::new_from_str(text);
    let mut loader = Loader::default();
    while let Some(event) = parser.next_event() {
        let (event, span) = event.map_err(|e| {
            let at = Pos::from_marker(e.marker());
            if let Some(error) = loader.unclosed(e.info(), at) {
                return error;
            }
            let message = if e.info() == SAPHYR_DEPTH_ERROR { too_deep() } else { e.info().to_owned() };
            ConfigError::new(at, message)
        })?;
        loader.event(event, span)?;
    }
    Ok(loader.finish())
}

fn too_deep() -> String {
    format!("nesting deeper than {MAX_DEPTH} levels")
}

/// A collection whose end event has not arrived yet.
struct Open {
    id: NodeId,
    anchor: usize,
    /// In a mapping: the key that waits for its value.
    key: Option<NodeId>,
}

/// What aliases of a node cost: its nesting height and its node count
/// with aliases expanded.
#[derive(Clone, Copy)]
struct Shape {
    height: usize,
    size: u64,
}

#[derive(Default)]
struct Loader {
    nodes: Vec<Node>,
    /// Parallel to `nodes`.
    shapes: Vec<Shape>,
    open: Vec<Open>,
    /// saphyr's anchor ids of finished nodes.
    anchors: HashMap<usize, NodeId>,
    root: Option<NodeId>,
    documents: usize,
    expanded: u64,
}

impl Loader {
    /// saphyr reports a flow collection that is never closed where it
    /// gave up (often the next line); the error belongs to the bracket
    /// that opened it, the innermost collection still open.
    fn unclosed(&self, info: &str, gave_up: Pos) -> Option<ConfigError> {
        let (open, close) = if info.contains("expected ',' or '}'") {
            ('{', '}')
        } else if info.contains("expected ',' or ']'") {
            ('[', ']')
        } else {
            return None;
        };
        let pos = self.nodes[self.open.last()?.id].pos;
        Some(ConfigError::new(
            pos,
            format!(
                "unclosed `{open}`: no `{close}` or `,` where the parser stopped at {}:{}",
                gave_up.line, gave_up.column
            ),
        ))
    }

    fn event(&mut self, event: Event<'_>, span: Span) -> Result<(), ConfigError> {
        let pos = Pos::from_marker(&span.start);
        match event {
            Event::DocumentStart(_) => self.start_document(pos),
            Event::Scalar(text, style, anchor, tag) => {
                let body = Body::Scalar { text: text.into_owned(), plain: style == ScalarStyle::Plain };
                let id = self.push(pos, tag, body, Shape { height: 0, size: 1 });
                self.anchors.insert(anchor, id);
                self.attach(id);
                Ok(())
            }
            Event::SequenceStart(anchor, tag) => self.start(pos, anchor, tag, Body::Seq(Vec::new())),
            Event::MappingStart(anchor, tag) => self.start(pos, anchor, tag, Body::Map(Vec::new())),
            Event::SequenceEnd | Event::MappingEnd => {
                self.end();
                Ok(())
            }
            Event::Alias(anchor) => self.alias(pos, anchor),
            Event::StreamStart | Event::StreamEnd | Event::DocumentEnd | Event::Nothing => Ok(()),
        }
    }

    fn start_document(&mut self, pos: Pos) -> Result<(), ConfigError> {
        self.documents += 1;
        if self.documents > 1 {
            return Err(ConfigError::new(pos, "the configuration must be a single YAML document"));
        }
        Ok(())
    }

    fn push(
        &mut self,
        pos: Pos,
        tag: Option<Cow<'_, saphyr_parser::Tag>>,
        body: Body,
        shape: Shape,
    ) -> NodeId {
        let tag = tag.map(|t| Tag::classify(&t.handle, &t.suffix));
        self.nodes.push(Node { pos, tag, body });
        self.shapes.push(shape);
        self.nodes.len() - 1
    }

    fn start(
        &mut self,
        pos: Pos,
        anchor: usize,
        tag: Option<Cow<'_, saphyr_parser::Tag>>,
        body: Body,
    ) -> Result<(), ConfigError> {
        if self.open.len() >= MAX_DEPTH {
            return Err(ConfigError::new(pos, too_deep()));
        }
        let id = self.push(pos, tag, body, Shape { height: 1, size: 1 });
        self.open.push(Open { id, anchor, key: None });
        Ok(())
    }

    fn end(&mut self) {
        let Some(open) = self.open.pop() else { return };
        self.shapes[open.id] = self.shape_of(open.id);
        self.anchors.insert(open.anchor, open.id);
        self.attach(open.id);
    }

    /// The shape of a finished collection, from its children's.
    fn shape_of(&self, id: NodeId) -> Shape {
        let children: Vec<NodeId> = match &self.nodes[id].body {
            Body::Seq(items) => items.clone(),
            Body::Map(pairs) => pairs.iter().flat_map(|&(k, v)| [k, v]).collect(),
            Body::Scalar { .. } => Vec::new(),
        };
        let shapes = children.iter().map(|&c| self.shapes[c]);
        let height = 1 + shapes.clone().map(|s| s.height).max().unwrap_or(0);
        let size = shapes.fold(1u64, |total, s| total.saturating_add(s.size));
        Shape { height, size }
    }

    fn alias(&mut self, pos: Pos, anchor: usize) -> Result<(), ConfigError> {
        // Anchors are registered when their node ends, so an alias inside
        // its own anchor's node is not found here.
        let Some(&target) = self.anchors.get(&anchor) else {
            return Err(ConfigError::new(pos, "alias refers to a node that contains it"));
        };
        let shape = self.shapes[target];
        if self.open.len() + shape.height > MAX_DEPTH {
            return Err(ConfigError::new(pos, format!("alias makes nesting deeper than {MAX_DEPTH} levels")));
        }
        self.expanded = self.expanded.saturating_add(shape.size);
        if self.expanded > MAX_ALIAS_EXPANSION {
            return Err(ConfigError::new(
                pos,
                format!("aliases expand to more than {MAX_ALIAS_EXPANSION} nodes"),
            ));
        }
        self.attach(target);
        Ok(())
    }

    /// Makes a finished node the next child of the innermost open
    /// collection, or the document's root.
    fn attach(&mut self, id: NodeId) {
        let Some(top) = self.open.last_mut() else {
            self.root = Some(id);
            return;
        };
        match &mut self.nodes[top.id].body {
            Body::Seq(items) => items.push(id),
            Body::Map(pairs) => match top.key.take() {
                None => top.key = Some(id),
                Some(key) => pairs.push((key, id)),
            },
            Body::Scalar { .. } => {}
        }
    }

    fn finish(mut self) -> Tree {
        let root = match self.root {
            Some(root) => root,
            None => {
                let null = Body::Scalar { text: String::new(), plain: true };
                self.push(Pos::START, None, null, Shape { height: 0, size: 1 })
            }
        };
        Tree { nodes: self.nodes, root }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scalar(tree: &Tree, id: NodeId) -> &str {
        match &tree.node(id).body {
            Body::Scalar { text, .. } => text,
            other => panic!("not a scalar: {other:?}"),
        }
    }

    fn pairs(tree: &Tree, id: NodeId) -> &[(NodeId, NodeId)] {
        match &tree.node(id).body {
            Body::Map(pairs) => pairs,
            other => panic!("not a map: {other:?}"),
        }
    }

    fn err(text: &str) -> (usize, usize, String) {
        let e = load(text).unwrap_err();
        (e.pos.line, e.pos.column, e.message)
    }

    #[test]
    fn nodes_carry_positions_tags_and_styles() {
        let tree = load("%TAG ! tag:nuxi.nl,2015:cloudabi/\n---\nout: !fd stdout\nq: \"1\"\n").unwrap();
        let p = pairs(&tree, tree.root()).to_vec();
        assert_eq!(scalar(&tree, p[0].0), "out");
        let fd = tree.node(p[0].1);
        assert_eq!(fd.pos, Pos { line: 3, column: 6 });
        assert_eq!(fd.tag, Some(Tag::Cloudabi("fd".into())));
        assert_eq!(fd.body, Body::Scalar { text: "stdout".into(), plain: true });
        assert_eq!(tree.node(p[1].1).body, Body::Scalar { text: "1".into(), plain: false });
    }

    #[test]
    fn an_alias_is_the_same_node() {
        let tree = load("a: &x !file {path: p}\nb: *x\n").unwrap();
        let p = pairs(&tree, tree.root()).to_vec();
        assert_eq!(p[0].1, p[1].1);
    }

    #[test]
    fn empty_streams_are_null_documents() {
        for text in ["", "# nothing\n", "%TAG ! tag:nuxi.nl,2015:cloudabi/\n---\n"] {
            let tree = load(text).unwrap();
            assert_eq!(tree.node(tree.root()).body, Body::Scalar { text: String::new(), plain: true });
        }
    }

    #[test]
    fn parser_errors_keep_their_position() {
        // An unclosed flow collection: where it opens, and where saphyr gave up.
        assert_eq!(
            err("a: [1, 2\n"),
            (1, 4, "unclosed `[`: no `]` or `,` where the parser stopped at 2:1".into())
        );
        assert_eq!(
            err("{a: 1\n"),
            (1, 1, "unclosed `{`: no `}` or `,` where the parser stopped at 2:1".into())
        );
        let (line, column, message) = err("a:\n\t- 1\n");
        assert_eq!((line, column), (2, 2));
        assert!(message.contains("tabs"), "{message}");
    }

    #[test]
    fn a_second_document_is_an_error_at_its_start() {
        assert_eq!(err("- 1\n---\n- 2\n"), (2, 1, "the configuration must be a single YAML document".into()));
    }

    #[test]
    fn nesting_is_limited_while_parsing() {
        let ok = format!("{}{}", "[".repeat(MAX_DEPTH), "]".repeat(MAX_DEPTH));
        assert!(load(&ok).is_ok());
        let message = format!("nesting deeper than {MAX_DEPTH} levels");
        // Flow nesting is stopped by saphyr's scanner, block nesting here;
        // both at the first collection too many.
        assert_eq!(err(&"[".repeat(100_000)), (1, MAX_DEPTH + 1, message.clone()));
        let block: String = (0..MAX_DEPTH + 10).map(|i| format!("{}-\n", " ".repeat(i))).collect();
        assert_eq!(err(&block), (MAX_DEPTH + 1, MAX_DEPTH + 1, message.clone()));
        let mixed = format!("{}{}", "- ".repeat(100), "[".repeat(200));
        assert_eq!(err(&mixed), (1, 2 * 100 + (MAX_DEPTH - 100) + 1, message));
    }

    #[test]
    fn aliases_cannot_deepen_the_tree_beyond_the_limit() {
        let inner = format!("{}{}", "[".repeat(200), "]".repeat(200));
        let text = format!("a: &x {inner}\nb: {}*x{}\n", "[".repeat(60), "]".repeat(60));
        let (line, column, message) = err(&text);
        assert_eq!((line, column), (2, 64));
        assert_eq!(message, format!("alias makes nesting deeper than {MAX_DEPTH} levels"));
    }

    #[test]
    fn alias_expansion_is_bounded() {
        let mut text = String::from("a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n");
        for i in 1..8 {
            let refs = vec![format!("*a{}", i - 1); 10].join(", ");
            text.push_str(&format!("a{i}: &a{i} [{refs}]\n"));
        }
        assert!(err(&text).2.starts_with("aliases expand to more than"));
    }

    #[test]
    fn recursive_aliases_are_refused() {
        assert_eq!(err("&a [1, *a]\n"), (1, 8, "alias refers to a node that contains it".into()));
    }
}
