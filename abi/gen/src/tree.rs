//! Turns the text of a spec file into a tree of lines.
//!
//! Each non-blank, non-comment line is a [`Node`]; indentation (four spaces
//! per level) gives the nesting, and `///` lines become the documentation of
//! the next line at the same depth. Nothing here knows about keywords.

use crate::error::{Pos, SpecError};

/// One line of the spec with its children.
#[derive(Debug, Clone)]
pub struct Node {
    pub pos: Pos,
    /// The tokens of the line, each with the column it starts at.
    pub tokens: Vec<Token>,
    /// Documentation lines (without the `///` marker), possibly empty.
    pub doc: Vec<String>,
    pub children: Vec<Node>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Token {
    pub text: String,
    pub pos: Pos,
}

/// A line after lexing: its depth, tokens and doc status.
struct Line {
    depth: usize,
    pos: Pos,
    kind: LineKind,
}

enum LineKind {
    Doc(String),
    Code(Vec<Token>),
}

const INDENT: usize = 4;

/// Parses the whole file into top-level nodes.
pub fn parse(file: &str, text: &str) -> Result<Vec<Node>, SpecError> {
    let lines = lex(file, text)?;
    let mut iter = lines.into_iter().peekable();
    let nodes = build(file, &mut iter, 0)?;
    if let Some(line) = iter.next() {
        // `build` only stops early on a line shallower than depth 0, which
        // cannot exist; keep the check so a logic slip is an error, not a
        // silently dropped line.
        return Err(SpecError::new(file, line.pos, "unexpected line"));
    }
    Ok(nodes)
}

fn lex(file: &str, text: &str) -> Result<Vec<Line>, SpecError> {
    let mut out = Vec::new();
    for (idx, raw) in text.lines().enumerate() {
        let line_no = idx + 1;
        let trimmed = raw.trim_start_matches(' ');
        let indent = raw.len() - trimmed.len();
        if trimmed.trim().is_empty() {
            continue;
        }
        if let Some(tab_at) = raw[..raw.len() - trimmed.trim_start().len()].find('\t') {
            let col = raw[..tab_at].chars().count() + 1;
            return Err(SpecError::new(
                file,
                Pos::new(line_no, col),
                "tab in indentation (indent with four spaces per level)",
            ));
        }
        if trimmed.starts_with('#') {
            continue;
        }
        if indent % INDENT != 0 {
            return Err(SpecError::new(
                file,
                Pos::new(line_no, 1),
                format!("indentation must be a multiple of {INDENT} spaces (found {indent})"),
            ));
        }
        let depth = indent / INDENT;
        let pos = Pos::new(line_no, indent + 1);
        let kind = if let Some(rest) = trimmed.strip_prefix("///") {
            let rest = rest.strip_prefix(' ').unwrap_or(rest);
            LineKind::Doc(rest.trim_end().to_string())
        } else {
            LineKind::Code(tokenize(trimmed.trim_end(), line_no, indent)?)
        };
        out.push(Line { depth, pos, kind });
    }
    Ok(out)
}

fn tokenize(text: &str, line_no: usize, indent: usize) -> Result<Vec<Token>, SpecError> {
    let mut tokens = Vec::new();
    let mut start: Option<(usize, usize)> = None; // (byte offset, column)
    let mut col = indent;
    for (off, ch) in text.char_indices() {
        col += 1;
        if ch == ' ' || ch == '\t' {
            if let Some((s, c)) = start.take() {
                tokens.push(Token { text: text[s..off].to_string(), pos: Pos::new(line_no, c) });
            }
        } else if start.is_none() {
            start = Some((off, col));
        }
    }
    if let Some((s, c)) = start {
        tokens.push(Token { text: text[s..].to_string(), pos: Pos::new(line_no, c) });
    }
    Ok(tokens)
}

fn build(
    file: &str,
    lines: &mut std::iter::Peekable<std::vec::IntoIter<Line>>,
    depth: usize,
) -> Result<Vec<Node>, SpecError> {
    let mut nodes: Vec<Node> = Vec::new();
    let mut pending_doc: Option<(Pos, Vec<String>)> = None;
    while let Some(line) = lines.peek() {
        if line.depth < depth {
            break;
        }
        if line.depth > depth {
            let pos = line.pos;
            if pending_doc.is_some() {
                return Err(SpecError::new(
                    file,
                    pos,
                    "documentation must be followed by a line at its own indentation",
                ));
            }
            let Some(parent) = nodes.last_mut() else {
                return Err(SpecError::new(file, pos, "indented line has no parent line"));
            };
            if line.depth > depth + 1 {
                return Err(SpecError::new(
                    file,
                    pos,
                    format!(
                        "line is indented {} levels deeper than its parent (at most one)",
                        line.depth - depth
                    ),
                ));
            }
            parent.children = build(file, lines, depth + 1)?;
            continue;
        }
        let Some(line) = lines.next() else { break };
        match line.kind {
            LineKind::Doc(text) => {
                pending_doc.get_or_insert_with(|| (line.pos, Vec::new())).1.push(text);
            }
            LineKind::Code(tokens) => {
                let doc = pending_doc.take().map(|(_, d)| d).unwrap_or_default();
                nodes.push(Node { pos: line.pos, tokens, doc, children: Vec::new() });
            }
        }
    }
    if let Some((pos, _)) = pending_doc {
        return Err(SpecError::new(
            file,
            pos,
            "documentation must be followed by a line at its own indentation",
        ));
    }
    Ok(nodes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nests_and_attaches_docs() {
        let text = "/// Top.\nenum a: u8\n    /// One.\n    1 one\n\n# comment\nalias b: u32\n";
        let nodes = parse("t.spec", text).unwrap();
        assert_eq!(nodes.len(), 2);
        assert_eq!(nodes[0].doc, vec!["Top."]);
        assert_eq!(nodes[0].children.len(), 1);
        assert_eq!(nodes[0].children[0].doc, vec!["One."]);
        assert_eq!(nodes[0].children[0].tokens[1].text, "one");
        assert_eq!(nodes[0].children[0].tokens[1].pos, Pos::new(4, 7));
        assert!(nodes[1].children.is_empty());
    }

    #[test]
    fn rejects_bad_indentation() {
        let err = parse("t.spec", "enum a: u8\n   1 one\n").unwrap_err();
        assert_eq!(err.to_string(), "t.spec:2:1: indentation must be a multiple of 4 spaces (found 3)");
        let err = parse("t.spec", "enum a: u8\n\t1 one\n").unwrap_err();
        assert_eq!(err.to_string(), "t.spec:2:1: tab in indentation (indent with four spaces per level)");
        let err = parse("t.spec", "enum a: u8\n        1 one\n").unwrap_err();
        assert_eq!(
            err.to_string(),
            "t.spec:2:9: line is indented 2 levels deeper than its parent (at most one)"
        );
        let err = parse("t.spec", "    enum a: u8\n").unwrap_err();
        assert_eq!(err.to_string(), "t.spec:1:5: indented line has no parent line");
    }

    #[test]
    fn rejects_dangling_doc() {
        let err = parse("t.spec", "enum a: u8\n    /// Lost.\n").unwrap_err();
        assert_eq!(
            err.to_string(),
            "t.spec:2:5: documentation must be followed by a line at its own indentation"
        );
    }
}
