//! The spanned tree every parser produces and every extractor reads.
//!
//! Only what policies need is kept: a value and the position it was written at.
//! Map keys keep their own position so a finding can point at the offending key.

use serde::Serialize;

/// A 1-based line and column in a source file (columns count characters), and the
/// file itself when it is not the file of the fact that holds the position: a value a
/// Kustomize patch sets, a value a Terraform module passes out to its caller.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Pos {
    /// 1-based line number.
    pub line: u32,
    /// 1-based column, in characters.
    pub column: u32,
    /// The file, when the position says which (see [`Origin`]).
    pub origin: Origin,
}

impl Pos {
    /// A position from 1-based line and column.
    pub fn new(line: u32, column: u32) -> Self {
        Pos {
            line,
            column,
            origin: Origin::NONE,
        }
    }

    /// The same position, in `origin`'s file.
    pub fn in_file(self, origin: Origin) -> Self {
        Pos { origin, ..self }
    }

    /// The file this position is in: its own, or `default` (the fact's file) when it
    /// names none.
    pub fn file_or(&self, default: &str) -> String {
        self.origin
            .file()
            .map_or_else(|| default.to_string(), |f| f.to_string())
    }
}

impl Serialize for Pos {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        let file = self.origin.file();
        let mut m = s.serialize_map(Some(2 + usize::from(file.is_some())))?;
        m.serialize_entry("line", &self.line)?;
        m.serialize_entry("column", &self.column)?;
        if let Some(f) = file {
            m.serialize_entry("file", &*f)?;
        }
        m.end()
    }
}

/// Which file a [`Pos`] is in, when it says: a small handle on a file name, so that a
/// position stays a plain copyable value. [`Origin::NONE`] (the default) is the file of
/// the fact that holds the position. Names are kept for the life of the process, once
/// each.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct Origin(u32);

/// File names behind [`Origin`] handles: index `i - 1` is handle `i`.
struct Names {
    list: Vec<std::sync::Arc<str>>,
    index: std::collections::HashMap<std::sync::Arc<str>, u32>,
}

fn names() -> &'static std::sync::RwLock<Names> {
    static NAMES: std::sync::OnceLock<std::sync::RwLock<Names>> = std::sync::OnceLock::new();
    NAMES.get_or_init(|| {
        std::sync::RwLock::new(Names {
            list: Vec::new(),
            index: std::collections::HashMap::new(),
        })
    })
}

impl Origin {
    /// No file of its own: the fact's.
    pub const NONE: Origin = Origin(0);

    /// The handle of a file name (the same name always gives the same handle).
    pub fn of(file: &str) -> Origin {
        if let Some(&i) = names()
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .index
            .get(file)
        {
            return Origin(i);
        }
        let mut n = names().write().unwrap_or_else(|e| e.into_inner());
        if let Some(&i) = n.index.get(file) {
            return Origin(i);
        }
        let name: std::sync::Arc<str> = std::sync::Arc::from(file);
        n.list.push(name.clone());
        let i = n.list.len() as u32;
        n.index.insert(name, i);
        Origin(i)
    }

    /// The file name, unless this is [`Origin::NONE`].
    pub fn file(self) -> Option<std::sync::Arc<str>> {
        if self.0 == 0 {
            return None;
        }
        names()
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .list
            .get(self.0 as usize - 1)
            .cloned()
    }

    /// Whether this names a file.
    pub fn is_some(self) -> bool {
        self.0 != 0
    }

    /// The handle as a number (never 0 for a file): Terraform's evaluator identifies
    /// files this way.
    pub fn index(self) -> u32 {
        self.0
    }

    /// The handle of a number [`Origin::index`] gave.
    pub fn from_index(index: u32) -> Origin {
        Origin(index)
    }
}

/// Ordered by file name (no name first), so that sorting positions never depends on
/// the order in which files were named.
impl PartialOrd for Origin {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Origin {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        if self.0 == other.0 {
            return std::cmp::Ordering::Equal;
        }
        self.file().cmp(&other.file())
    }
}

impl std::fmt::Display for Pos {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}:{}", self.line, self.column)
    }
}

/// A parsed value with the position where it starts.
#[derive(Clone, Debug, PartialEq)]
pub struct Node {
    /// Where the value starts.
    pub pos: Pos,
    /// The value itself.
    pub value: Value,
}

/// The value of a [`Node`]: the JSON data model, which YAML and HCL values map onto.
#[derive(Clone, Debug, PartialEq)]
pub enum Value {
    /// `null`, `~` or an empty value.
    Null,
    /// A boolean.
    Bool(bool),
    /// An integer that fits in 64 bits.
    Int(i64),
    /// Any other number.
    Float(f64),
    /// A string.
    Str(String),
    /// A sequence / array.
    Seq(Vec<Node>),
    /// A mapping / object, in source order.
    Map(Vec<Entry>),
    /// A value the input leaves open: a Terraform variable without value, an attribute
    /// known only after apply. Never read as safe or as guilty.
    Unknown,
}

/// One key/value pair of a mapping.
#[derive(Clone, Debug, PartialEq)]
pub struct Entry {
    /// The key as text (non-string YAML keys are written as their plain text).
    pub key: String,
    /// Where the key is written.
    pub key_pos: Pos,
    /// The value.
    pub value: Node,
}

impl Node {
    /// A node from a position and a value.
    pub fn new(pos: Pos, value: Value) -> Self {
        Node { pos, value }
    }

    /// The entry for `key` if this is a mapping that has it.
    pub fn entry(&self, key: &str) -> Option<&Entry> {
        match &self.value {
            Value::Map(entries) => entries.iter().rev().find(|e| e.key == key),
            _ => None,
        }
    }

    /// The value for `key` if this is a mapping that has it.
    pub fn get(&self, key: &str) -> Option<&Node> {
        self.entry(key).map(|e| &e.value)
    }

    /// Follows a chain of mapping keys.
    pub fn path(&self, keys: &[&str]) -> Option<&Node> {
        keys.iter().try_fold(self, |node, key| node.get(key))
    }

    /// The string if this is a string.
    pub fn as_str(&self) -> Option<&str> {
        match &self.value {
            Value::Str(s) => Some(s),
            _ => None,
        }
    }

    /// The boolean if this is a boolean.
    pub fn as_bool(&self) -> Option<bool> {
        match self.value {
            Value::Bool(b) => Some(b),
            _ => None,
        }
    }

    /// The integer if this is an integer, or a float with no fraction.
    pub fn as_i64(&self) -> Option<i64> {
        match self.value {
            Value::Int(i) => Some(i),
            Value::Float(f) if f.fract() == 0.0 && f.abs() < 9.0e15 => Some(f as i64),
            _ => None,
        }
    }

    /// The items if this is a sequence (an empty slice otherwise).
    pub fn items(&self) -> &[Node] {
        match &self.value {
            Value::Seq(items) => items,
            _ => &[],
        }
    }

    /// The entries if this is a mapping (an empty slice otherwise).
    pub fn entries(&self) -> &[Entry] {
        match &self.value {
            Value::Map(entries) => entries,
            _ => &[],
        }
    }

    /// Moves this node and everything in it to `pos`: for a document embedded in a
    /// string, whose own positions say nothing about the file.
    pub fn relocate(&mut self, pos: Pos) {
        self.pos = pos;
        match &mut self.value {
            Value::Seq(items) => items.iter_mut().for_each(|i| i.relocate(pos)),
            Value::Map(entries) => entries.iter_mut().for_each(|e| {
                e.key_pos = pos;
                e.value.relocate(pos);
            }),
            _ => {}
        }
    }

    /// Marks this node and everything in it as written in `origin`'s file: for
    /// documents assembled from several files (a rendered Kustomize object).
    pub fn set_origin(&mut self, origin: Origin) {
        self.pos.origin = origin;
        match &mut self.value {
            Value::Seq(items) => items.iter_mut().for_each(|i| i.set_origin(origin)),
            Value::Map(entries) => entries.iter_mut().for_each(|e| {
                e.key_pos.origin = origin;
                e.value.set_origin(origin);
            }),
            _ => {}
        }
    }

    /// Whether the value is unknown.
    pub fn is_unknown(&self) -> bool {
        matches!(self.value, Value::Unknown)
    }

    /// Whether this is a mapping.
    pub fn is_map(&self) -> bool {
        matches!(self.value, Value::Map(_))
    }

    /// A scalar written as text (strings as they are, numbers and booleans printed).
    pub fn scalar_text(&self) -> Option<String> {
        match &self.value {
            Value::Str(s) => Some(s.clone()),
            Value::Int(i) => Some(i.to_string()),
            Value::Float(f) => Some(f.to_string()),
            Value::Bool(b) => Some(b.to_string()),
            _ => None,
        }
    }
}

/// Maps byte offsets in a text to 1-based line and character column, in constant
/// time per lookup whatever the line length: `terraform show -json` writes a whole
/// plan on one line, and counting characters from the line start for every position
/// was quadratic.
pub struct LineIndex<'a> {
    text: &'a str,
    line_starts: Vec<usize>,
    /// For text that is not pure ASCII: the number of characters before each multiple
    /// of [`CHECKPOINT_BYTES`]. Empty for ASCII text, where a column is a byte count.
    chars_before: Vec<usize>,
}

/// Distance between character-count checkpoints: a lookup counts at most this many
/// bytes.
const CHECKPOINT_BYTES: usize = 1024;

impl<'a> LineIndex<'a> {
    /// Indexes the line starts of `text`.
    pub fn new(text: &'a str) -> Self {
        let mut line_starts = vec![0];
        line_starts.extend(newline_ends(text));
        let chars_before = if text.is_ascii() {
            Vec::new()
        } else {
            let mut counts = Vec::with_capacity(text.len() / CHECKPOINT_BYTES + 1);
            let mut chars = 0;
            for chunk in text.as_bytes().chunks(CHECKPOINT_BYTES) {
                counts.push(chars);
                chars += chunk.iter().filter(|&&b| !is_continuation(b)).count();
            }
            counts
        };
        LineIndex {
            text,
            line_starts,
            chars_before,
        }
    }

    /// The position of byte `offset` (clamped to the text).
    pub fn pos(&self, offset: usize) -> Pos {
        let offset = offset.min(self.text.len());
        let line = self.line_starts.partition_point(|&s| s <= offset) - 1;
        let start = self.line_starts[line];
        let column = self.chars_to(offset) - self.chars_to(start);
        Pos::new(line as u32 + 1, column as u32 + 1)
    }

    /// Characters that begin before byte `offset`.
    fn chars_to(&self, offset: usize) -> usize {
        if self.chars_before.is_empty() {
            return offset;
        }
        let chunk = offset / CHECKPOINT_BYTES;
        let from = chunk * CHECKPOINT_BYTES;
        self.chars_before[chunk.min(self.chars_before.len() - 1)]
            + self.text.as_bytes()[from.min(offset)..offset]
                .iter()
                .filter(|&&b| !is_continuation(b))
                .count()
    }
}

/// A UTF-8 continuation byte (`10xxxxxx`): part of a character begun earlier.
fn is_continuation(b: u8) -> bool {
    b & 0xC0 == 0x80
}

/// Offsets just after each `\n`.
fn newline_ends(text: &str) -> impl Iterator<Item = usize> + '_ {
    text.bytes()
        .enumerate()
        .filter(|&(_, b)| b == b'\n')
        .map(|(i, _)| i + 1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn line_index_counts_characters_not_bytes() {
        let text = "ab\nxé=1\n\nz";
        let idx = LineIndex::new(text);
        assert_eq!(idx.pos(0), Pos::new(1, 1));
        assert_eq!(idx.pos(3), Pos::new(2, 1));
        assert_eq!(idx.pos(text.find('=').unwrap()), Pos::new(2, 3));
        assert_eq!(idx.pos(text.find('z').unwrap()), Pos::new(4, 1));
        assert_eq!(idx.pos(10_000), Pos::new(4, 2));
    }

    #[test]
    fn columns_on_long_lines_agree_with_counting() {
        // One long line mixing ASCII and multi-byte characters, across checkpoints.
        let line: String = (0..5000)
            .map(|i| match i % 7 {
                0 => 'é',
                3 => '€',
                5 => '𝄞',
                _ => 'a',
            })
            .collect();
        let text = format!("x\n{line}\n{line}");
        let idx = LineIndex::new(&text);
        for (offset, _) in text.char_indices().step_by(97) {
            let line_start = text[..offset].rfind('\n').map_or(0, |i| i + 1);
            let want = text[line_start..offset].chars().count() as u32 + 1;
            let line_no = text[..offset].matches('\n').count() as u32 + 1;
            assert_eq!(idx.pos(offset), Pos::new(line_no, want), "offset {offset}");
        }
        assert_eq!(idx.pos(text.len()).line, 3);
    }
}
