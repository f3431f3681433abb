//! The loaded configuration: an arena of nodes.
//!
//! Children are indices, not boxes, so that a YAML alias is simply a second
//! reference to the anchored node (which keeps `*a` of a `!file` one
//! descriptor), and so that dropping a deep tree needs no recursion.

use super::{Pos, Tag};

/// Index of a node in its [`Tree`].
pub type NodeId = usize;

#[derive(Clone, Debug, PartialEq)]
pub struct Node {
    /// Where the node starts (at its tag or anchor, if it has one).
    pub pos: Pos,
    pub tag: Option<Tag>,
    pub body: Body,
}

#[derive(Clone, Debug, PartialEq)]
pub enum Body {
    /// A scalar's text; `plain` is false for quoted and block scalars,
    /// which are always strings unless tagged.
    Scalar {
        text: String,
        plain: bool,
    },
    Seq(Vec<NodeId>),
    /// Key and value pairs in document order.
    Map(Vec<(NodeId, NodeId)>),
}

/// One YAML document. An empty stream is a document holding a null.
#[derive(Clone, Debug)]
pub struct Tree {
    pub(super) nodes: Vec<Node>,
    pub(super) root: NodeId,
}

impl Tree {
    pub fn root(&self) -> NodeId {
        self.root
    }

    /// The node `id`, which must come from this tree.
    pub fn node(&self, id: NodeId) -> &Node {
        &self.nodes[id]
    }

    /// How many distinct nodes the document has (aliases not counted).
    pub fn len(&self) -> usize {
        self.nodes.len()
    }

    pub fn is_empty(&self) -> bool {
        self.nodes.is_empty()
    }
}
