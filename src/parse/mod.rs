//! Parsing: source text → spanned [`Node`] trees, one per document.
//!
//! Every error carries the position it was found at, so the CLI can print
//! `file:line:col: message`.

pub mod dockerfile;
pub mod hcl;
pub mod json;
pub mod node;
pub mod substitute;
pub mod yaml;

pub use node::{Entry, LineIndex, Node, Pos, Value};

/// Why a file could not be read as text or parsed.
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
#[error("{message}")]
pub struct ParseError {
    /// Where the problem is, when it is known.
    pub pos: Option<Pos>,
    /// What is wrong, in one line.
    pub message: String,
    /// The input broke a safety limit (nesting depth, alias expansion, size) rather than
    /// the syntax: such a file is reported whatever it holds, never passed over as "not
    /// one of ours", since hostile input would otherwise hide that way.
    pub limit: bool,
}

impl ParseError {
    /// An error at a known position.
    pub fn at(pos: Pos, message: impl Into<String>) -> Self {
        ParseError {
            pos: Some(pos),
            message: message.into(),
            limit: false,
        }
    }

    /// The same error, marked as a broken safety limit.
    pub fn as_limit(mut self) -> Self {
        self.limit = true;
        self
    }
}

/// Decodes file bytes as UTF-8 text: strips a byte-order mark, rejects binary
/// content and invalid UTF-8 with the position of the first bad byte.
pub fn decode_text(bytes: &[u8]) -> Result<&str, ParseError> {
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    if let Some(at) = bytes.iter().position(|&b| b == 0) {
        return Err(ParseError::at(
            byte_pos(bytes, at),
            "binary content (NUL byte); not a text file",
        ));
    }
    std::str::from_utf8(bytes).map_err(|e| {
        ParseError::at(
            byte_pos(bytes, e.valid_up_to()),
            "invalid UTF-8 (the file must be UTF-8 text)",
        )
    })
}

/// Line and column of byte `at`, counting the valid prefix only.
fn byte_pos(bytes: &[u8], at: usize) -> Pos {
    let prefix = &bytes[..at];
    let line = prefix.iter().filter(|&&b| b == b'\n').count() as u32 + 1;
    let line_start = prefix
        .iter()
        .rposition(|&b| b == b'\n')
        .map_or(0, |i| i + 1);
    let column = String::from_utf8_lossy(&prefix[line_start..])
        .chars()
        .count() as u32
        + 1;
    Pos::new(line, column)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bom_is_stripped() {
        assert_eq!(decode_text(b"\xEF\xBB\xBFkind: Pod").unwrap(), "kind: Pod");
    }

    #[test]
    fn binary_and_invalid_utf8_are_located() {
        let e = decode_text(b"a: 1\nb: \x00\x01").unwrap_err();
        assert_eq!(e.pos, Some(Pos::new(2, 4)));
        assert!(e.message.contains("binary"));
        let e = decode_text(b"a: 1\nname: caf\xE9\n").unwrap_err();
        assert_eq!(e.pos, Some(Pos::new(2, 10)));
        assert!(e.message.contains("UTF-8"));
    }
}
