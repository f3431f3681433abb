//! Which family a YAML tag belongs to.
//!
//! saphyr reports a tag as handle + suffix after `%TAG` resolution, so
//! `!fd` reaches us in three spellings that all mean the same thing:
//! `tag:nuxi.nl,2015:cloudabi/` + `fd` (declared with `%TAG !`), `!` + `fd`
//! (a bare local tag, no directive) and `` + `tag:nuxi.nl,2015:cloudabi/fd`
//! (verbatim `!<...>`).

use std::fmt;

/// The CloudABI tag namespace (cloudabi-run's `%TAG !` prefix).
pub const CLOUDABI_PREFIX: &str = "tag:nuxi.nl,2015:cloudabi/";
/// The YAML core schema namespace (`!!`).
pub const CORE_PREFIX: &str = "tag:yaml.org,2002:";

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Tag {
    /// `!name` in the CloudABI namespace (or a bare local tag).
    Cloudabi(String),
    /// `!!name` of the YAML core schema.
    Core(String),
    /// The non-specific tag `!`: the node is a string (or a plain
    /// collection), never resolved by the core schema.
    NonSpecific,
    /// Anything else, spelled out for error messages.
    Other(String),
}

impl Tag {
    pub fn classify(handle: &str, suffix: &str) -> Tag {
        match handle {
            "!" => Tag::Cloudabi(suffix.to_owned()),
            CLOUDABI_PREFIX => Tag::Cloudabi(suffix.to_owned()),
            CORE_PREFIX => Tag::Core(suffix.to_owned()),
            "" => Self::verbatim(suffix),
            _ => Tag::Other(format!("!<{handle}{suffix}>")),
        }
    }

    /// A tag written `!<suffix>`.
    fn verbatim(uri: &str) -> Tag {
        if uri == "!" {
            Tag::NonSpecific
        } else if let Some(name) = uri.strip_prefix(CLOUDABI_PREFIX) {
            Tag::Cloudabi(name.to_owned())
        } else if let Some(name) = uri.strip_prefix(CORE_PREFIX) {
            Tag::Core(name.to_owned())
        } else if let Some(name) = uri.strip_prefix('!') {
            Tag::Cloudabi(name.to_owned())
        } else {
            Tag::Other(format!("!<{uri}>"))
        }
    }
}

impl fmt::Display for Tag {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Tag::Cloudabi(name) => write!(f, "!{name}"),
            Tag::Core(name) => write!(f, "!!{name}"),
            Tag::NonSpecific => f.write_str("!"),
            Tag::Other(spelled) => f.write_str(spelled),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_three_spellings_of_a_cloudabi_tag_agree() {
        let fd = Tag::Cloudabi("fd".into());
        assert_eq!(Tag::classify(CLOUDABI_PREFIX, "fd"), fd);
        assert_eq!(Tag::classify("!", "fd"), fd);
        assert_eq!(Tag::classify("", "tag:nuxi.nl,2015:cloudabi/fd"), fd);
        assert_eq!(Tag::classify("", "!fd"), fd);
    }

    #[test]
    fn core_and_other_tags() {
        assert_eq!(Tag::classify(CORE_PREFIX, "binary"), Tag::Core("binary".into()));
        assert_eq!(Tag::classify("", "tag:yaml.org,2002:int"), Tag::Core("int".into()));
        assert_eq!(Tag::classify("", "!"), Tag::NonSpecific);
        let other = Tag::classify("tag:example.com,2000:", "x");
        assert_eq!(other.to_string(), "!<tag:example.com,2000:x>");
        assert_eq!(Tag::classify("", "urn:x").to_string(), "!<urn:x>");
    }

    #[test]
    fn display_uses_the_short_forms() {
        assert_eq!(Tag::Cloudabi("file".into()).to_string(), "!file");
        assert_eq!(Tag::Core("set".into()).to_string(), "!!set");
    }
}
