//! Parsing: source text → spanned [`Node`] trees, one per document.
//!
//! Every error carries the position it was found at, so the CLI can print
//! `file:line:col: message`. Reading a file as text (within the size limit) is here
//! too: it is the first step of parsing, and loaders that read files themselves
//! (Terraform modules, `file()`, a compose project's `.env`) share it.

pub mod dockerfile;
pub mod hcl;
pub mod json;
pub mod node;
pub mod substitute;
pub mod yaml;

pub use node::{Entry, LineIndex, Node, Origin, Pos, Value};

use serde::Serialize;
use std::io::Read;
use std::path::Path;

/// Files above this size are reported as errors rather than read.
pub const MAX_FILE_BYTES: u64 = 64 * 1024 * 1024;

/// An input that could not be read or parsed.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct FileError {
    /// The file.
    pub file: String,
    /// 1-based line, when known.
    pub line: Option<u32>,
    /// 1-based column, when known.
    pub column: Option<u32>,
    /// What is wrong.
    pub message: String,
}

impl FileError {
    /// An error in `file`, at `pos` when known.
    pub fn new(file: &str, pos: Option<Pos>, message: impl Into<String>) -> Self {
        FileError {
            file: file.to_string(),
            line: pos.map(|p| p.line),
            column: pos.map(|p| p.column),
            message: message.into(),
        }
    }
}

impl std::fmt::Display for FileError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match (self.line, self.column) {
            (Some(l), Some(c)) => write!(f, "{}:{l}:{c}: {}", self.file, self.message),
            (Some(l), None) => write!(f, "{}:{l}: {}", self.file, self.message),
            _ => write!(f, "{}: {}", self.file, self.message),
        }
    }
}

/// Reads a file (or standard input for `-`), refusing anything above
/// [`MAX_FILE_BYTES`] and anything that is not a regular file.
pub fn read_limited(path: &Path) -> Result<Vec<u8>, String> {
    let mut buf = Vec::new();
    let limit = MAX_FILE_BYTES + 1;
    if path.as_os_str() == "-" {
        std::io::stdin()
            .lock()
            .take(limit)
            .read_to_end(&mut buf)
            .map_err(|e| format!("cannot read: {e}"))?;
    } else {
        let (file, size) = open_regular(path)?;
        // Sized from the open file, so that a file is read in one call rather than in
        // growing chunks (`take` hides the size from `read_to_end`).
        let size = size.min(limit);
        buf.reserve_exact(usize::try_from(size).unwrap_or(0).saturating_add(1));
        file.take(limit)
            .read_to_end(&mut buf)
            .map_err(|e| format!("cannot read: {e}"))?;
    }
    if buf.len() as u64 > MAX_FILE_BYTES {
        return Err(format!(
            "file is larger than {} MiB; not scanned",
            MAX_FILE_BYTES / (1024 * 1024)
        ));
    }
    Ok(buf)
}

/// Opens a file for reading only if it is a regular file. The open itself never
/// blocks (`O_NONBLOCK`: a FIFO named `x.auto.tfvars` would otherwise wait forever for
/// a writer), and the type is checked on the opened file, so nothing can be swapped in
/// between the check and the read. Returns the file and its size.
fn open_regular(path: &Path) -> Result<(std::fs::File, u64), String> {
    let mut options = std::fs::OpenOptions::new();
    options.read(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.custom_flags(libc::O_NONBLOCK);
    }
    let file = options
        .open(path)
        .map_err(|e| format!("cannot read: {e}"))?;
    let meta = file.metadata().map_err(|e| format!("cannot read: {e}"))?;
    if !meta.is_file() {
        let kind = file_kind(&meta);
        return Err(format!("not a regular file ({kind}); not read"));
    }
    Ok((file, meta.len()))
}

/// What a non-regular file is, in words.
fn file_kind(meta: &std::fs::Metadata) -> &'static str {
    #[cfg(unix)]
    {
        use std::os::unix::fs::FileTypeExt;
        let t = meta.file_type();
        if t.is_fifo() {
            return "a named pipe";
        }
        if t.is_socket() {
            return "a socket";
        }
        if t.is_char_device() || t.is_block_device() {
            return "a device";
        }
    }
    if meta.is_dir() {
        "a folder"
    } else {
        "not a regular file"
    }
}

/// Reads a file as text within the size limit (BOM stripped, binary and invalid UTF-8
/// refused with their position), for loaders that read files themselves (Terraform
/// modules, `file()`, `.env`).
pub fn read_text(path: &Path) -> Result<String, (Option<Pos>, String)> {
    let bytes = read_limited(path).map_err(|m| (None, m))?;
    decode_text(&bytes)
        .map(str::to_string)
        .map_err(|e| (e.pos, e.message))
}

/// Why [`read_text_within`] refused a file: the walk lists such links as passed over
/// with the same words, so loaders need not report them again.
pub const OUTSIDE_ROOT: &str = "symbolic link to a file outside the scanned folder; not read";

/// Reads, as [`read_text`] does, a file that a loader found by itself (a
/// `terraform.tfvars`, a compose `.env`, a module manifest), but only when its real
/// path, symbolic links resolved, lies inside `root` (a canonical folder): a link to
/// `/etc/passwd` planted in a scanned repository is not read.
pub fn read_text_within(path: &Path, root: &Path) -> Result<String, (Option<Pos>, String)> {
    let real = path
        .canonicalize()
        .map_err(|e| (None, format!("cannot read: {e}")))?;
    if !real.starts_with(root) {
        return Err((None, OUTSIDE_ROOT.into()));
    }
    // The resolved path is read, so a link swapped in after the check changes nothing.
    read_text(&real)
}

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
