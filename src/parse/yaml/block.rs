//! A hand-written event source for the block YAML that Kubernetes manifests are made
//! of: the same events, values and positions as granit-parser ([`GranitSource`]), from
//! one pass over the text, several times faster.
//!
//! It reads block mappings and sequences (compact `- key: v` items and sequences at
//! their key's indentation included), single-line plain and quoted scalars, literal and
//! folded block scalars, comments, document markers, one-line flow collections, anchors
//! and aliases. Anything else — tabs, tags, directives, `?` keys, multi-line plain or
//! quoted scalars, multi-line flow collections, odd indentation, a byte order mark, any
//! syntax error — is declined before it is guessed at: the caller then reads the whole
//! text again with granit (see [`super::events::parse_lenient`]). What it reads must be
//! event for event what granit reads, every position included; the differential tests in
//! `yaml.rs` and the `yaml_differential` fuzz target check it.
//!
//! Work is linear in the text: each byte is looked at a bounded number of times, nesting
//! is bounded ([`MAX_DEPTH`]) and so is what one line can queue ([`MAX_LINE_EVENTS`]).
//!
//! [`GranitSource`]: super::events::GranitSource

use super::events::{Declined, Kind, Source, SourceEvent};
use crate::parse::Pos;
use std::borrow::Cow;
use std::collections::{HashMap, VecDeque};

type Result<T> = std::result::Result<T, Declined>;

/// Nested collections, block and flow together (the event reader's own limit is 100;
/// beyond it the file goes to the reference anyway).
const MAX_DEPTH: usize = 100;
/// Events one line may queue (a one-line flow collection): bigger ones are declined so
/// that the queue stays small whatever the input.
const MAX_LINE_EVENTS: usize = 4096;
/// A simple key's length: granit looks for the `:` of a key at most 1024 characters
/// ahead; keys near that are declined.
const MAX_KEY_BYTES: usize = 1000;

/// Declines with a reason (kept for [`BlockSource::why`]).
macro_rules! decline {
    ($self:ident, $why:expr) => {{
        $self.why = $why;
        return Err(Declined);
    }};
}

/// An open block collection.
#[derive(Clone, Copy, Debug)]
struct Block {
    map: bool,
    /// Its column (0-based): where its keys or `-` are.
    indent: usize,
    /// A sequence at its parent key's indentation (`key:\n- a`).
    indentless: bool,
}

/// A node announced (by `key:`, `-` or `---`) whose content may start on a later line.
#[derive(Clone, Copy, Debug)]
struct Pending {
    /// The indentation of the collection it belongs to (-1 at the root): content must be
    /// indented deeper.
    parent: isize,
    /// A mapping value, which may also be a sequence at the key's indentation.
    map_value: bool,
    /// Its anchor id, 0 for none.
    anchor: usize,
    /// Where granit puts the empty scalar if no content comes.
    empty_at: Pos,
}

/// What may start at a node position.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Place {
    /// At the start of a line, or after `- `: any node, block collections included.
    Block,
    /// After `key: `, `--- ` or an anchor: a scalar, a flow collection or an alias.
    Inline,
}

/// Where the last node event's text ends, which is where granit puts the end of a
/// document that has no `...`.
#[derive(Clone, Copy, Debug)]
enum LastEnd {
    At(Pos),
    /// A byte offset on a line (its number and start): its column is counted only if
    /// a document ends there.
    Byte(u32, usize, usize),
}

/// A scalar token on one line.
struct Token<'a> {
    value: Cow<'a, str>,
    plain: bool,
    /// The index after its last content byte (after the closing quote).
    end: usize,
}

/// Events scanned straight from block YAML text (see the module documentation).
pub(crate) struct BlockSource<'a> {
    text: &'a str,
    b: &'a [u8],
    /// The next line to read (always a line start between steps).
    at: usize,
    /// 1-based line number of `line_start`.
    line: u32,
    /// Start of the line being read.
    line_start: usize,
    /// Column cache for the line being read: a byte offset and its column.
    memo: (usize, u32),
    queue: VecDeque<(SourceEvent<'a>, Pos)>,
    blocks: Vec<Block>,
    pending: Option<Pending>,
    /// A document is open.
    in_doc: bool,
    /// Anchors of the current document, by name; ids go on across documents, as
    /// granit's do.
    anchors: HashMap<&'a str, usize>,
    next_anchor: usize,
    /// The queued start of an implicit document, which granit puts where its first
    /// token is, but for a block scalar where the scalar's content is.
    doc_patch: Option<usize>,
    last_end: LastEnd,
    started: bool,
    done: bool,
    /// Why the source declined, for measurements and tests.
    pub(crate) why: &'static str,
}

impl<'a> BlockSource<'a> {
    /// A source reading `text` from its start.
    pub(crate) fn new(text: &'a str) -> Self {
        BlockSource {
            text,
            b: text.as_bytes(),
            at: 0,
            line: 1,
            line_start: 0,
            memo: (0, 0),
            queue: VecDeque::new(),
            blocks: Vec::new(),
            pending: None,
            in_doc: false,
            anchors: HashMap::new(),
            next_anchor: 1,
            doc_patch: None,
            last_end: LastEnd::At(Pos::new(1, 1)),
            started: false,
            done: false,
            why: "",
        }
    }

    // -----------------------------------------------------------------------------
    // Bytes and positions

    /// The byte at `i`, 0 past the end (NUL itself is declined up front).
    #[inline]
    fn byte(&self, i: usize) -> u8 {
        self.b.get(i).copied().unwrap_or(0)
    }

    /// A line break (`\n`, or `\r` of `\r\n`: lone `\r` is declined up front) or the end.
    #[inline]
    fn is_eol(&self, i: usize) -> bool {
        matches!(self.byte(i), b'\n' | b'\r' | 0)
    }

    /// A space, a line break or the end.
    #[inline]
    fn is_blank_or_eol(&self, i: usize) -> bool {
        matches!(self.byte(i), b' ' | b'\n' | b'\r' | 0)
    }

    fn skip_spaces(&self, mut i: usize) -> usize {
        while self.byte(i) == b' ' {
            i += 1;
        }
        i
    }

    /// Where the line holding `i` ends (at its break, or the end of the text).
    fn eol(&self, i: usize) -> usize {
        match self
            .b
            .get(i..)
            .and_then(|r| r.iter().position(|&c| c == b'\n'))
        {
            Some(n) => {
                let e = i + n;
                if e > i && self.b[e - 1] == b'\r' {
                    e - 1
                } else {
                    e
                }
            }
            None => self.b.len(),
        }
    }

    /// Moves to the line after the break at or after `i`, or to the end of the text
    /// (staying on the last line, for the positions of what ends there).
    fn next_line(&mut self, i: usize) {
        let e = self.eol(i);
        let next = match self.byte(e) {
            b'\r' => e + 2,
            b'\n' => e + 1,
            _ => {
                self.at = e;
                return;
            }
        };
        self.line += 1;
        self.at = next;
        self.line_start = next;
        self.memo = (next, 0);
    }

    /// The position of byte `i` of the current line: granit's line and 1-based column
    /// in characters. Columns are counted from the last asked one, so a long line costs
    /// one pass.
    fn pos(&mut self, i: usize) -> Pos {
        let (from, col) = if i >= self.memo.0 && self.memo.0 >= self.line_start {
            self.memo
        } else {
            (self.line_start, 0)
        };
        // Never asked for a byte before its line; kept from panicking all the same.
        let i = i.clamp(from, self.b.len());
        let chars = self.b[from..i]
            .iter()
            .filter(|&&c| (c & 0xC0) != 0x80)
            .count() as u32;
        self.memo = (i, col + chars);
        Pos::new(self.line, col + chars + 1)
    }

    fn emit(&mut self, event: SourceEvent<'a>, pos: Pos) {
        if matches!(event, SourceEvent::Node(..) | SourceEvent::Alias(_)) {
            self.doc_patch = None;
            // Empty spans (collection ends, empty scalars); text is noted by `ended_at`.
            self.last_end = LastEnd::At(pos);
        }
        self.queue.push_back((event, pos));
    }

    /// The event just emitted ends at byte `off` of the current line.
    fn ended_at(&mut self, off: usize) {
        self.last_end = LastEnd::Byte(self.line, self.line_start, off);
    }

    fn depth_check(&mut self, extra: usize) -> Result<()> {
        if self.blocks.len() + extra >= MAX_DEPTH {
            decline!(self, "nesting");
        }
        Ok(())
    }

    // -----------------------------------------------------------------------------
    // Lines

    /// Reads what comes next until at least one event is queued or the text ends.
    fn step(&mut self) -> Result<()> {
        if !self.started {
            self.started = true;
            self.check_text()?;
            self.emit(SourceEvent::Other, Pos::new(1, 1));
            return Ok(());
        }
        // Blank and comment lines.
        loop {
            if self.at >= self.b.len() {
                return self.end_stream();
            }
            let p = self.skip_spaces(self.at);
            match self.byte(p) {
                b'\n' | b'\r' | b'#' => self.next_line(p),
                0 => {
                    // Spaces and then the end.
                    self.at = p;
                    self.memo = (self.line_start, 0);
                    return self.end_stream();
                }
                _ => return self.content_line(p),
            }
        }
    }

    /// The text is one the source can read without surprises: no control characters
    /// (tabs included), no lone `\r`, nothing granit would refuse as unprintable, no
    /// byte order mark and no Unicode line breaks.
    fn check_text(&mut self) -> Result<()> {
        let b = self.b;
        // Most texts have no control character but `\n`: checked a block at a time,
        // without a branch per byte, before the exact check below.
        let clean = b.chunks(64).all(|chunk| {
            chunk.iter().fold(true, |ok, &c| {
                ok & ((c >= 0x20 && c != 0x7f) | (c == b'\n'))
            })
        });
        if !clean {
            for (i, &c) in b.iter().enumerate() {
                match c {
                    b'\n' => {}
                    b'\r' if b.get(i + 1) == Some(&b'\n') => {}
                    b'\t' => decline!(self, "tab"),
                    b'\r' => decline!(self, "lone CR"),
                    0..=0x1f | 0x7f => decline!(self, "control character"),
                    _ => {}
                }
            }
        }
        if !self.text.is_ascii() {
            for ch in self.text.chars() {
                let ok = matches!(ch as u32, 0x20..=0x7e | 0xa0..=0xd7ff | 0xe000..=0xfffd | 0x10000..)
                    && !matches!(ch, '\u{feff}' | '\u{2028}' | '\u{2029}')
                    || matches!(ch, '\n' | '\r');
                if !ok {
                    decline!(self, "unusual character");
                }
            }
        }
        Ok(())
    }

    /// A line with content at `p`, after `p - line_start` spaces.
    fn content_line(&mut self, p: usize) -> Result<()> {
        self.memo = (self.line_start, 0);
        let indent = p - self.line_start;
        if indent == 0 {
            match self.marker(p) {
                Some(b'-') => return self.document_start(p),
                Some(b'.') => return self.document_end(p),
                _ => {}
            }
            if matches!(self.byte(p), b'%') {
                decline!(self, "directive");
            }
            if self.b[p..].starts_with(b"---") || self.b[p..].starts_with(b"...") {
                decline!(self, "document marker lookalike");
            }
        }
        if !self.in_doc {
            let at = self.pos(p);
            self.open_document(at, false);
        }
        if let Some(pending) = self.pending.take() {
            if indent as isize > pending.parent {
                return self.node(p, pending.parent, pending.anchor, Place::Block);
            }
            if pending.map_value && indent as isize == pending.parent && self.is_entry(p) {
                self.depth_check(1)?;
                // granit puts it at the entry's first token, or at the end of its line.
                let q = self.skip_spaces(p + 1);
                let at = if self.is_eol(q) || self.byte(q) == b'#' {
                    let e = self.eol(q);
                    self.pos(e)
                } else {
                    self.pos(q)
                };
                self.emit(SourceEvent::Node(Kind::SeqStart, pending.anchor), at);
                self.blocks.push(Block {
                    map: false,
                    indent,
                    indentless: true,
                });
                return self.seq_item(p);
            }
            self.emit_empty(pending);
        }
        // Close what this line is outside of.
        let entry = self.is_entry(p);
        while let Some(top) = self.blocks.last().copied() {
            if top.indent > indent || (top.indentless && top.indent == indent && !entry) {
                self.blocks.pop();
                let at = self.pos(p);
                self.end_block(top, at);
            } else {
                break;
            }
        }
        match self.blocks.last().copied() {
            None => decline!(self, "content after the root node"),
            Some(top) if top.indent != indent => decline!(self, "indentation"),
            Some(top) if top.map => self.map_entry(p, indent),
            Some(_) if entry => self.seq_item(p),
            Some(_) => decline!(self, "sequence expected"),
        }
    }

    /// `---` or `...` (returned as `-` or `.`) at `p`, a line start, followed by a blank.
    fn marker(&self, p: usize) -> Option<u8> {
        let c = self.byte(p);
        if (c == b'-' || c == b'.')
            && self.byte(p + 1) == c
            && self.byte(p + 2) == c
            && self.is_blank_or_eol(p + 3)
        {
            Some(c)
        } else {
            None
        }
    }

    /// `-` followed by a blank: a block sequence entry.
    fn is_entry(&self, p: usize) -> bool {
        self.byte(p) == b'-' && self.is_blank_or_eol(p + 1)
    }

    fn open_document(&mut self, at: Pos, explicit: bool) {
        self.emit(SourceEvent::DocumentStart, at);
        if !explicit {
            self.doc_patch = Some(self.queue.len() - 1);
        }
        self.in_doc = true;
        self.anchors.clear();
        self.pending = Some(Pending {
            parent: -1,
            map_value: false,
            anchor: 0,
            empty_at: at,
        });
    }

    /// Ends the open document: its pending node, its open collections at `at`, then
    /// the document itself, at `at` for `...` (`explicit`), else where the last node
    /// ended.
    fn close_document(&mut self, at: Pos, explicit: bool) {
        if let Some(pending) = self.pending.take() {
            self.emit_empty(pending);
        }
        while let Some(top) = self.blocks.pop() {
            self.end_block(top, at);
        }
        let end = match self.last_end {
            _ if explicit => at,
            LastEnd::At(pos) => pos,
            LastEnd::Byte(line, start, off) => {
                let chars = self.b[start..off.max(start)]
                    .iter()
                    .filter(|&&c| (c & 0xC0) != 0x80)
                    .count() as u32;
                Pos::new(line, chars + 1)
            }
        };
        self.emit(SourceEvent::DocumentEnd, end);
        self.in_doc = false;
    }

    fn end_block(&mut self, block: Block, at: Pos) {
        let kind = if block.map {
            Kind::MapEnd
        } else {
            Kind::SeqEnd
        };
        self.emit(SourceEvent::Node(kind, 0), at);
    }

    /// granit's empty node: a plain `~`.
    fn emit_empty(&mut self, pending: Pending) {
        self.emit(
            SourceEvent::Node(Kind::Scalar(Cow::Borrowed("~"), true), pending.anchor),
            pending.empty_at,
        );
    }

    fn end_stream(&mut self) -> Result<()> {
        let at = self.pos(self.at);
        if self.in_doc {
            self.close_document(at, false);
        }
        self.emit(SourceEvent::Other, at);
        self.done = true;
        Ok(())
    }

    /// `---` at `p`, and what follows it on the line.
    fn document_start(&mut self, p: usize) -> Result<()> {
        let at = self.pos(p);
        if self.in_doc {
            self.close_document(at, false);
        }
        self.open_document(at, true);
        let after = self.pos(p + 3);
        if let Some(pending) = &mut self.pending {
            pending.empty_at = after;
        }
        let q = self.skip_spaces(p + 3);
        if self.is_eol(q) || self.byte(q) == b'#' {
            self.next_line(q);
            return Ok(());
        }
        let pending = self.pending.take().ok_or(Declined)?;
        self.inline_value(q, pending)
    }

    /// `...` at `p`.
    fn document_end(&mut self, p: usize) -> Result<()> {
        let at = self.pos(p);
        // Outside a document it is nothing, as in granit.
        if self.in_doc {
            self.close_document(at, true);
        }
        self.end_of_line(p + 3)
    }

    /// The rest of a line after a node: blanks, perhaps a comment after a blank.
    fn end_of_line(&mut self, i: usize) -> Result<()> {
        let q = self.skip_spaces(i);
        match self.byte(q) {
            b'\n' | b'\r' | 0 => {}
            b'#' if q > i => {}
            _ => decline!(self, "content after a node"),
        }
        self.next_line(q);
        Ok(())
    }

    /// A node announced by `pending` whose content starts at `q` on the same line
    /// (after `key:`, `-` or `---`): an anchor, then content or the end of the line.
    fn inline_value(&mut self, q: usize, mut pending: Pending) -> Result<()> {
        let mut place = if pending.map_value || pending.parent < 0 {
            Place::Inline
        } else {
            Place::Block
        };
        let mut q = q;
        if self.byte(q) == b'&' {
            let (name, end) = self.anchor_name(q + 1, false)?;
            if !self.is_blank_or_eol(end) {
                decline!(self, "anchor");
            }
            let id = self.next_anchor;
            self.next_anchor += 1;
            self.anchors.insert(name, id);
            pending.anchor = id;
            pending.empty_at = self.pos(end);
            place = Place::Inline;
            q = self.skip_spaces(end);
            if self.is_eol(q) || (self.byte(q) == b'#' && q > end) {
                self.pending = Some(pending);
                self.next_line(q);
                return Ok(());
            }
        }
        self.node(q, pending.parent, pending.anchor, place)
    }

    /// Opens a block mapping or sequence whose first key or `-` is at `q`; returns its
    /// indentation.
    fn open_block(&mut self, q: usize, map: bool, anchor: usize) -> Result<usize> {
        self.depth_check(1)?;
        let at = self.pos(q);
        let kind = if map { Kind::MapStart } else { Kind::SeqStart };
        self.emit(SourceEvent::Node(kind, anchor), at);
        let indent = q - self.line_start;
        self.blocks.push(Block {
            map,
            indent,
            indentless: false,
        });
        Ok(indent)
    }

    /// The node starting at `q`, in a collection indented at `parent`.
    fn node(&mut self, q: usize, parent: isize, anchor: usize, place: Place) -> Result<()> {
        match self.byte(q) {
            b'-' if self.is_blank_or_eol(q + 1) => {
                if place != Place::Block {
                    decline!(self, "sequence after a key or anchor");
                }
                self.open_block(q, false, anchor)?;
                self.seq_item(q)
            }
            b'|' | b'>' => self.block_scalar(q, parent, anchor),
            b'[' | b'{' => {
                let end = self.flow(q, anchor)?;
                if self.byte(self.skip_spaces(end)) == b':' {
                    decline!(self, "flow key");
                }
                self.end_of_line(end)
            }
            b'*' => {
                if anchor != 0 {
                    decline!(self, "anchored alias");
                }
                let end = self.alias(q, false)?;
                if self.byte(self.skip_spaces(end)) == b':' {
                    decline!(self, "alias key");
                }
                self.end_of_line(end)
            }
            _ => {
                let token = self.scalar(q)?;
                let after = self.skip_spaces(token.end);
                if self.byte(after) == b':' && self.is_blank_or_eol(after + 1) {
                    // A key: a block mapping starts here.
                    if place != Place::Block {
                        decline!(self, "mapping after a key or anchor");
                    }
                    let indent = self.open_block(q, true, anchor)?;
                    return self.key_and_value(q, token, after, indent);
                }
                let at = self.pos(q);
                self.emit(
                    SourceEvent::Node(Kind::Scalar(token.value, token.plain), anchor),
                    at,
                );
                self.ended_at(token.end);
                self.end_of_line(token.end)
            }
        }
    }

    /// A line `key: ...` of the block mapping at `indent`, the key at `p`.
    fn map_entry(&mut self, p: usize, indent: usize) -> Result<()> {
        // `scalar` declines indicators: no `-` entry, `?` key, alias, anchor or flow key.
        let token = self.scalar(p)?;
        let after = self.skip_spaces(token.end);
        if !(self.byte(after) == b':' && self.is_blank_or_eol(after + 1)) {
            decline!(self, "key expected");
        }
        self.key_and_value(p, token, after, indent)
    }

    /// Emits the key `token` at `p`, its `:` at `colon`, then reads its value.
    fn key_and_value(
        &mut self,
        p: usize,
        token: Token<'a>,
        colon: usize,
        indent: usize,
    ) -> Result<()> {
        if colon - p > MAX_KEY_BYTES {
            decline!(self, "long key");
        }
        let at = self.pos(p);
        self.emit(
            SourceEvent::Node(Kind::Scalar(token.value, token.plain), 0),
            at,
        );
        let empty_at = self.pos(colon);
        let pending = Pending {
            parent: indent as isize,
            map_value: true,
            anchor: 0,
            empty_at,
        };
        let q = self.skip_spaces(colon + 1);
        if self.is_eol(q) || (self.byte(q) == b'#' && q > colon + 1) {
            self.pending = Some(pending);
            self.next_line(q);
            return Ok(());
        }
        self.inline_value(q, pending)
    }

    /// A sequence entry: `-` at `p`, in the sequence it belongs to (on top).
    fn seq_item(&mut self, p: usize) -> Result<()> {
        let indent = p - self.line_start;
        let q = self.skip_spaces(p + 1);
        if self.is_eol(q) || (self.byte(q) == b'#' && q > p + 1) {
            // granit puts an empty entry at the end of its line, comment included.
            let empty_at = self.pos(self.eol(q));
            self.pending = Some(Pending {
                parent: indent as isize,
                map_value: false,
                anchor: 0,
                empty_at,
            });
            self.next_line(q);
            return Ok(());
        }
        let pending = Pending {
            parent: indent as isize,
            map_value: false,
            anchor: 0,
            empty_at: Pos::new(0, 0),
        };
        self.inline_value(q, pending)
    }

    // -----------------------------------------------------------------------------
    // Scalars

    /// A plain or quoted scalar starting at `q` on the current line (block context).
    fn scalar(&mut self, q: usize) -> Result<Token<'a>> {
        match self.byte(q) {
            b'"' => self.double_quoted(q),
            b'\'' => self.single_quoted(q),
            b'-' | b':' if !self.is_blank_or_eol(q + 1) => Ok(self.plain(q, false)),
            b'-' | b':' | b'?' | b'!' | b'%' | b'@' | b'`' | b',' | b']' | b'}' | b'#' | b'&'
            | b'*' | b'|' | b'>' | b'[' | b'{' => decline!(self, "indicator"),
            _ => Ok(self.plain(q, false)),
        }
    }

    /// A plain scalar on one line from `q` (not an indicator): it ends before `: `, a
    /// comment, the line's end, and in flow context before `,[]{}` and `:` followed by
    /// one of them; trailing spaces are not part of it.
    fn plain(&self, q: usize, flow: bool) -> Token<'a> {
        let b = self.b;
        let mut i = q;
        let mut end = q;
        while i < b.len() {
            let c = b[i];
            match c {
                b'\n' | b'\r' => break,
                b' ' => {
                    i += 1;
                    if self.byte(i) == b'#' {
                        break;
                    }
                    continue;
                }
                b':' => {
                    let n = self.byte(i + 1);
                    if matches!(n, b' ' | b'\n' | b'\r' | 0)
                        || (flow && matches!(n, b',' | b'[' | b']' | b'{' | b'}'))
                    {
                        break;
                    }
                }
                b',' | b'[' | b']' | b'{' | b'}' if flow => break,
                _ => {}
            }
            i += 1;
            end = i;
        }
        Token {
            value: Cow::Borrowed(&self.text[q..end]),
            plain: true,
            end,
        }
    }

    /// `'...'` on one line.
    fn single_quoted(&mut self, q: usize) -> Result<Token<'a>> {
        let mut i = q + 1;
        let mut owned: Option<String> = None;
        let mut from = i;
        loop {
            match self.byte(i) {
                b'\'' if self.byte(i + 1) == b'\'' => {
                    let s = owned.get_or_insert_with(String::new);
                    s.push_str(&self.text[from..i + 1]);
                    i += 2;
                    from = i;
                }
                b'\'' => break,
                b'\n' | b'\r' | 0 => decline!(self, "multi-line quoted scalar"),
                _ => i += 1,
            }
        }
        Ok(self.quoted_token(q, i, from, owned))
    }

    /// The scalar quoted from `q` to the closing quote at `i`: borrowed from the text
    /// when nothing was unescaped, else what was (`owned`) and the rest from `from`.
    fn quoted_token(&self, q: usize, i: usize, from: usize, owned: Option<String>) -> Token<'a> {
        let value = match owned {
            Some(mut s) => {
                s.push_str(&self.text[from..i]);
                Cow::Owned(s)
            }
            None => Cow::Borrowed(&self.text[q + 1..i]),
        };
        Token {
            value,
            plain: false,
            end: i + 1,
        }
    }

    /// `"..."` on one line, escapes resolved as granit resolves them.
    fn double_quoted(&mut self, q: usize) -> Result<Token<'a>> {
        let mut i = q + 1;
        let mut owned: Option<String> = None;
        let mut from = i;
        loop {
            match self.byte(i) {
                b'"' => break,
                b'\n' | b'\r' | 0 => decline!(self, "multi-line quoted scalar"),
                b'\\' => {
                    let s = owned.get_or_insert_with(String::new);
                    s.push_str(&self.text[from..i]);
                    let (ch, len) = match self.escape(i + 1) {
                        Some(x) => x,
                        None => decline!(self, "escape"),
                    };
                    s.push(ch);
                    i += 1 + len;
                    from = i;
                }
                _ => i += 1,
            }
        }
        Ok(self.quoted_token(q, i, from, owned))
    }

    /// The escape after a `\` at `i - 1`: its character and how many bytes follow the
    /// backslash. Escaped line breaks and surrogates are left to granit.
    fn escape(&self, i: usize) -> Option<(char, usize)> {
        let ch = match self.byte(i) {
            b'0' => '\0',
            b'a' => '\x07',
            b'b' => '\x08',
            b't' => '\t',
            b'n' => '\n',
            b'v' => '\x0b',
            b'f' => '\x0c',
            b'r' => '\r',
            b'e' => '\x1b',
            b' ' => ' ',
            b'"' => '"',
            b'/' => '/',
            b'\\' => '\\',
            b'N' => '\u{85}',
            b'_' => '\u{a0}',
            b'L' => '\u{2028}',
            b'P' => '\u{2029}',
            b'x' | b'u' | b'U' => {
                let n = match self.byte(i) {
                    b'x' => 2,
                    b'u' => 4,
                    _ => 8,
                };
                let digits = self.b.get(i + 1..i + 1 + n)?;
                let mut v = 0u32;
                for &d in digits {
                    v = (v << 4) | (d as char).to_digit(16)?;
                }
                if (0xD800..=0xDFFF).contains(&v) {
                    return None;
                }
                return Some((char::from_u32(v)?, 1 + n));
            }
            _ => return None,
        };
        Some((ch, 1))
    }

    /// An anchor or alias name from `i`: the run of characters granit takes for one,
    /// kept to the plain ones (`[A-Za-z0-9_.-]`). Returns it and where it ends.
    fn anchor_name(&mut self, i: usize, flow: bool) -> Result<(&'a str, usize)> {
        let mut e = i;
        while matches!(self.byte(e), b'a'..=b'z' | b'A'..=b'Z' | b'0'..=b'9' | b'_' | b'.' | b'-') {
            e += 1;
        }
        let next = self.byte(e);
        let ends = matches!(next, b' ' | b'\n' | b'\r' | 0)
            || (flow && matches!(next, b',' | b']' | b'}'));
        if e == i || !ends {
            decline!(self, "anchor name");
        }
        Ok((&self.text[i..e], e))
    }

    /// `*name` at `q`: emits the alias, returns where it ends.
    fn alias(&mut self, q: usize, flow: bool) -> Result<usize> {
        let (name, end) = self.anchor_name(q + 1, flow)?;
        let Some(&id) = self.anchors.get(name) else {
            decline!(self, "unknown alias");
        };
        let at = self.pos(q);
        self.emit(SourceEvent::Alias(id), at);
        self.ended_at(end);
        Ok(end)
    }

    /// A literal or folded block scalar whose header (`|` or `>`) is at `h`, in a
    /// collection indented at `parent`: granit's `scan_block_scalar`, ported.
    fn block_scalar(&mut self, h: usize, parent: isize, anchor: usize) -> Result<()> {
        let literal = self.byte(h) == b'|';
        let header_at = self.pos(h);
        let header_line = self.line;
        let mut i = h + 1;
        // Chomping: 0 clip, 1 keep, 2 strip.
        let mut chomping = 0u8;
        let mut increment = 0usize;
        let chomp = |c: u8| match c {
            b'+' => Some(1u8),
            b'-' => Some(2u8),
            _ => None,
        };
        if let Some(c) = chomp(self.byte(i)) {
            chomping = c;
            i += 1;
            if self.byte(i).is_ascii_digit() {
                increment = usize::from(self.byte(i) - b'0');
                i += 1;
            }
        } else if self.byte(i).is_ascii_digit() {
            increment = usize::from(self.byte(i) - b'0');
            i += 1;
            if let Some(c) = chomp(self.byte(i)) {
                chomping = c;
                i += 1;
            }
        }
        if self.byte(i - 1) == b'0' {
            decline!(self, "block scalar indentation 0");
        }
        let q = self.skip_spaces(i);
        match self.byte(q) {
            b'\n' | b'\r' | 0 => {}
            b'#' if q > i => {}
            _ => decline!(self, "block scalar header"),
        }
        let e = self.eol(q);
        // Past the header's line break, if any.
        let chomping_break = e < self.b.len();
        self.next_line(e);
        let mut i = self.at;

        let mut indent = 0usize;
        let mut trailing_breaks = 0usize;
        if increment > 0 {
            indent = if parent >= 0 {
                parent as usize + increment
            } else {
                increment
            };
        }
        if indent == 0 {
            let mut max_indent = 0;
            loop {
                i = self.skip_spaces(i);
                max_indent = max_indent.max(i - self.line_start);
                if matches!(self.byte(i), b'\n' | b'\r') {
                    self.next_line(i);
                    i = self.at;
                    trailing_breaks += 1;
                } else {
                    break;
                }
            }
            indent = max_indent.max((parent + 1) as usize);
        } else {
            i = self.block_indent(i, indent, &mut trailing_breaks);
        }
        let mut col = i - self.line_start;

        if i >= self.b.len() {
            let contents = match chomping {
                2 => String::new(),
                _ if self.line == header_line => String::new(),
                0 => String::new(),
                _ if trailing_breaks == 0 && col > 0 => {
                    if chomping_break {
                        "\n".into()
                    } else {
                        String::new()
                    }
                }
                _ => "\n".repeat(trailing_breaks),
            };
            self.patch_document(header_at);
            self.emit(
                SourceEvent::Node(Kind::Scalar(Cow::Owned(contents), false), anchor),
                header_at,
            );
            self.ended_at(i);
            self.at = i;
            return Ok(());
        }

        if col < indent && col as isize > parent {
            let root_ok =
                parent < 0 && col == 0 && (self.marker(i).is_some() || self.byte(i) == b'#');
            if !root_ok {
                decline!(self, "block scalar indentation");
            }
        }

        let start_at = self.pos(i);
        let mut string = String::new();
        let mut leading_break = false;
        let mut leading_blank = false;
        while col == indent && i < self.b.len() {
            if indent == 0 && self.marker(i).is_some() {
                break;
            }
            let trailing_blank = self.byte(i) == b' ';
            if !literal && leading_break && !leading_blank && !trailing_blank {
                string.extend(std::iter::repeat_n('\n', trailing_breaks));
                if trailing_breaks == 0 {
                    string.push(' ');
                }
            } else {
                if leading_break {
                    string.push('\n');
                }
                string.extend(std::iter::repeat_n('\n', trailing_breaks));
            }
            leading_break = false;
            trailing_breaks = 0;
            leading_blank = trailing_blank;
            let e = self.eol(i);
            string.push_str(&self.text[i..e]);
            if e >= self.b.len() {
                i = e;
                col = indent + 1;
                break;
            }
            self.next_line(e);
            leading_break = true;
            i = self.block_indent(self.at, indent, &mut trailing_breaks);
            col = i - self.line_start;
        }
        if chomping != 2 {
            if !leading_break && i >= self.b.len() && col >= indent.max(1) {
                string.push('\n');
            }
            if leading_break {
                string.push('\n');
            }
        }
        if chomping == 1 {
            string.extend(std::iter::repeat_n('\n', trailing_breaks));
        }
        self.patch_document(start_at);
        self.emit(
            SourceEvent::Node(Kind::Scalar(Cow::Owned(string), false), anchor),
            start_at,
        );
        self.ended_at(i);
        // The structure goes on at the start of the line where the scalar stopped.
        if i >= self.b.len() && self.line_start < self.b.len() && col > 0 {
            // Stopped at the end of a last line with content: nothing follows.
            self.at = self.b.len();
        } else {
            self.at = self.line_start;
        }
        self.memo = (self.line_start, 0);
        Ok(())
    }

    /// Moves the start of an implicit document just opened to `at`.
    fn patch_document(&mut self, at: Pos) {
        if let Some(i) = self.doc_patch.take() {
            if let Some(e) = self.queue.get_mut(i) {
                e.1 = at;
            }
        }
    }

    /// granit's `skip_block_scalar_indent`: spaces up to `indent`, and empty lines
    /// (counted in `breaks`). Returns where it stopped.
    fn block_indent(&mut self, mut i: usize, indent: usize, breaks: &mut usize) -> usize {
        loop {
            while i - self.line_start < indent && self.byte(i) == b' ' {
                i += 1;
            }
            if matches!(self.byte(i), b'\n' | b'\r') {
                self.next_line(i);
                i = self.at;
                *breaks += 1;
            } else {
                return i;
            }
        }
    }

    // -----------------------------------------------------------------------------
    // Flow collections

    /// Closes the innermost flow collection (opened by `open`) at its closing bracket
    /// at `i`; returns where reading goes on.
    fn close_flow(&mut self, open: u8, i: usize, stack: &mut Vec<u8>) -> usize {
        let at = self.pos(i);
        let kind = if open == b'[' {
            Kind::SeqEnd
        } else {
            Kind::MapEnd
        };
        self.emit(SourceEvent::Node(kind, 0), at);
        self.ended_at(i + 1);
        stack.pop();
        i + 1
    }

    /// A flow collection at `q`, all on this line: emits its events, returns the index
    /// after its closing bracket.
    fn flow(&mut self, q: usize, anchor: usize) -> Result<usize> {
        // Open collections: `[` or `{`, and whether an entry was read since the last
        // bracket or comma.
        let mut stack: Vec<u8> = Vec::new();
        let queued = self.queue.len();
        let mut i = q;
        let mut anchor = anchor;
        // Whether the next thing is an entry (after `[`, `{` or `,`) or a separator.
        let mut want_entry = true;
        let mut after_comma = false;
        loop {
            if self.queue.len() - queued > MAX_LINE_EVENTS {
                decline!(self, "large flow collection");
            }
            i = self.skip_spaces(i);
            let c = self.byte(i);
            let top = stack.last().copied();
            if matches!(c, b'\n' | b'\r' | 0 | b'#') {
                decline!(self, "multi-line flow collection");
            }
            if top.is_none() || want_entry {
                // An entry, or the end of an empty collection.
                if let Some(open) = top {
                    let close = if open == b'[' { b']' } else { b'}' };
                    if c == close {
                        if after_comma {
                            decline!(self, "trailing comma");
                        }
                        i = self.close_flow(open, i, &mut stack);
                        want_entry = false;
                        after_comma = false;
                        if stack.is_empty() {
                            return Ok(i);
                        }
                        continue;
                    }
                }
                if top == Some(b'{') {
                    // A key, `:`, and the value's start.
                    if matches!(c, b'[' | b'{') {
                        decline!(self, "flow collection as a key ({{x}} templates)");
                    }
                    let key = self.flow_scalar(i)?;
                    if key.end - i > MAX_KEY_BYTES {
                        decline!(self, "long key");
                    }
                    let at = self.pos(i);
                    self.emit(SourceEvent::Node(Kind::Scalar(key.value, key.plain), 0), at);
                    let colon = self.skip_spaces(key.end);
                    if self.byte(colon) != b':' || self.byte(colon + 1) != b' ' {
                        decline!(self, "flow mapping entry");
                    }
                    i = self.skip_spaces(colon + 1);
                }
                let c = self.byte(i);
                match c {
                    b'[' | b'{' => {
                        if self.blocks.len() + stack.len() + 1 >= MAX_DEPTH {
                            decline!(self, "nesting");
                        }
                        let at = self.pos(i);
                        let kind = if c == b'[' {
                            Kind::SeqStart
                        } else {
                            Kind::MapStart
                        };
                        self.emit(SourceEvent::Node(kind, anchor), at);
                        anchor = 0;
                        stack.push(c);
                        i += 1;
                        want_entry = true;
                        after_comma = false;
                    }
                    _ if top.is_none() => decline!(self, "flow"),
                    b'*' => {
                        i = self.alias(i, true)?;
                        want_entry = false;
                    }
                    _ => {
                        let token = self.flow_scalar(i)?;
                        let next = self.skip_spaces(token.end);
                        if self.byte(next) == b':' {
                            decline!(self, "flow pair");
                        }
                        let at = self.pos(i);
                        self.emit(
                            SourceEvent::Node(Kind::Scalar(token.value, token.plain), 0),
                            at,
                        );
                        i = token.end;
                        want_entry = false;
                    }
                }
            } else {
                let open = top.unwrap_or(b'[');
                let close = if open == b'[' { b']' } else { b'}' };
                if c == b',' {
                    i += 1;
                    want_entry = true;
                    after_comma = true;
                } else if c == close {
                    i = self.close_flow(open, i, &mut stack);
                    if stack.is_empty() {
                        return Ok(i);
                    }
                } else {
                    decline!(self, "flow separator");
                }
            }
        }
    }

    /// A plain or quoted scalar inside a flow collection.
    fn flow_scalar(&mut self, i: usize) -> Result<Token<'a>> {
        let token = match self.byte(i) {
            b'"' => self.double_quoted(i)?,
            b'\'' => self.single_quoted(i)?,
            b'-' | b':' | b'?' | b'!' | b'%' | b'@' | b'`' | b',' | b'[' | b']' | b'{' | b'}'
            | b'#' | b'&' | b'*' | b'|' | b'>' | b'\n' | b'\r' | 0 => {
                decline!(self, "flow indicator")
            }
            _ => self.plain(i, true),
        };
        // What follows must be a separator, a `:` or spaces: a comment or the line's
        // end would make it multi-line.
        let next = self.skip_spaces(token.end);
        if !matches!(self.byte(next), b',' | b']' | b'}' | b':') {
            decline!(self, "flow scalar end");
        }
        Ok(token)
    }
}

impl<'a> Source<'a> for BlockSource<'a> {
    fn next(&mut self) -> Result<Option<(SourceEvent<'a>, Pos)>> {
        loop {
            if let Some(event) = self.queue.pop_front() {
                return Ok(Some(event));
            }
            if self.done {
                return Ok(None);
            }
            self.step()?;
        }
    }
}

/// Every event of `source` to its end, and whether it declined on the way.
pub(crate) fn all_events<'a, S: Source<'a>>(mut source: S) -> (Vec<(SourceEvent<'a>, Pos)>, bool) {
    let mut out = Vec::new();
    loop {
        match source.next() {
            Ok(Some(event)) => out.push(event),
            Ok(None) => return (out, false),
            Err(Declined) => return (out, true),
        }
    }
}

/// The block source against granit on `text`: `Err(reason)` if the block source
/// declines, else `Ok` with both event lists, which must then be equal.
#[allow(clippy::type_complexity)]
pub(crate) fn compare_with_granit(
    text: &str,
) -> std::result::Result<(Vec<(SourceEvent<'_>, Pos)>, Vec<(SourceEvent<'_>, Pos)>), &'static str> {
    let mut block = BlockSource::new(text);
    let mut ours: Vec<(SourceEvent<'_>, Pos)> = Vec::new();
    loop {
        match block.next() {
            Ok(Some(event)) => ours.push(event),
            Ok(None) => break,
            Err(Declined) => return Err(block.why),
        }
    }
    let (granit, declined) = all_events(super::events::GranitSource::new(text));
    if declined {
        // granit refused the text (or has a tag...): the block source must not read it.
        return Ok((ours, Vec::new()));
    }
    Ok((ours, granit))
}

/// The documents of the block source's events on `text`, counted, or the reason it
/// declines.
pub(crate) fn count_documents(text: &str) -> std::result::Result<usize, &'static str> {
    let mut block = BlockSource::new(text);
    let mut n = 0;
    loop {
        match block.next() {
            Ok(Some((SourceEvent::DocumentStart, _))) => n += 1,
            Ok(Some(_)) => {}
            Ok(None) => return Ok(n),
            Err(Declined) => return Err(block.why),
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::parse::yaml::check::block_source;

    /// Texts the block source must read, event for event as granit does.
    const READ: &[&str] = &[
        "a: 1\n",
        "kind: Pod\nspec:\n  containers:\n  - name: web\n    image: nginx\n",
        "a:\n  b: 1\n  c:\n    - x\n    - y\nd: 2\n",
        "a: 1 # comment\nb: two words  # c\nc:   spaced   \n",
        "a:\nb:\n  c:\nd: 1\n",
        "- a\n- b:\n    c: d\n- - nested\n  - seq\n-\n- ''\n",
        "a:\n- 1\n- 2\nb: 3\n",
        "a: |\n  line\n  two\n\n\nb: >\n  folded\n  text\n\n  more\nc: |-\n  x\n\nd: |+\n  y\n\ne: >-\n  z\n",
        "'quoted key': 1\n\"double\": \"v\\n\\t\\u00e9\"\nit's: ok\n",
        "url: http://example.com:8080/x\nab: a:b\nhash: a#b\n",
        "---\na: 1\n---\nb: 2\n...\n---\n",
        "--- |\n  text\n",
        "--- value\n",
        "a: 1",
        "a: |\n  no newline at end",
        "",
        "# only a comment\n",
        "---\n",
        "a: []\nb: {}\nc: [\"a\", \"b\"]\nd: {x: 1, y: 'two'}\ne: [1, [2, 3], {z: 4}]\n",
        "a: &x 1\nb: *x\nc: &m\n  k: v\nd: *m\n",
        "a: 1\r\nb:\r\n  c: 2\r\n",
        "é: ünï\nkey: 日本語 value  # ç\n",
        "a:\n  - b: 1\n    c: 2\n  - d: 3\n",
        "-   a: 1\n    b: 2\n",
        "a: |\n   indented more\n  # not a comment\n",
        "top:\n  key: |\n    x\n  other: y\n",
        "a: |\nb: 1\n",
        "a: |\n\n  x\n",
        "a: >\n  one\n   two\n  three\n\n\n",
        "k: \"\"\nl: ''\nm: '''x'''\n",
        "a:    # comment\n  b: 1\n",
        "a:\n  # comment\n  b: 1\n\n# end\n",
    ];

    /// Runs `block_source` on each text, collecting every divergence and decline.
    fn failures(texts: &[&str], must_read: bool) -> Vec<String> {
        let mut out = Vec::new();
        for text in texts {
            match std::panic::catch_unwind(|| block_source(text)) {
                Ok(Ok(())) => {}
                Ok(Err(why)) if must_read => out.push(format!("declined ({why}): {text:?}")),
                Ok(Err(_)) => {}
                Err(e) => out.push(
                    e.downcast_ref::<String>()
                        .cloned()
                        .unwrap_or_else(|| format!("panic: {text:?}")),
                ),
            }
        }
        out
    }

    /// Texts that must be read alike or declined (no divergence), with cases granit reads
    /// in ways worth checking: block scalar edges, indentation indicators, documents.
    const EDGES: &[&str] = &[
        "a: |2\n   x\n  y\n",
        "- |1\n  x\n",
        "a: |-2\n    x\n",
        "a: >+\n  x\n\n\n",
        "a: |+\n  x\n  ",
        "a: |+\n",
        "a: |+",
        "a: |-\n\n",
        "a: |\n  x\n   \n  ",
        "a: >\n  a\n  b\n\n   c\n  d\n",
        "a: >\n\n  a\n",
        "a: |\n    \n  x\n",
        "|\nfoo\nbar\n",
        "--- >\n a\n b\n--- |\n x\n...\n",
        "a: | # c\n  x\n",
        "a: |#c\n  x\n",
        "a: |0\n  x\n",
        "a:\n  - |\n    x\n  - >-\n    y\n\n",
        "a:\n- |\n  x\n- b\n",
        "a: |\r\n  x\r\n\r\n  y\r\nb: 1\r\n",
        "a: 'x'\r\nb: \"y\"\r\n",
        "a:\n- - x\n  - y\n- &a z\n- *a\n",
        "a:\n-\n  x\n",
        "a:\n- &a\n  x: 1\n",
        "a: &a 1\n---\nb: &a 2\nc: *a\n",
        "a: &a 1\nb: &a 2\nc: *a\n",
        "a: &a [1, 2]\nb: *a\nc: &b {x: *a}\n",
        "a: [a b, 'c, d', \"e]\", [f, [g]]]\n",
        "a: [a:b, http://x, -1]\n",
        "a: [a, ]\n",
        "a: [a,b]\n",
        "a: {x: 1, 'y': [2], \"z\": {w: 3}}\n",
        "a: {x:1}\n",
        "a: {x}\n",
        "a: [x: 1]\n",
        "[a, b]\n",
        "{a: 1}\n",
        "a: [\n  1]\n",
        "é: ü\nkey: 日本 # ç\nx: [é, 'ü']\n",
        "a:    b   \nc:   'd'   \n",
        "a : 1\n'b' : 2\n",
        "a: b: c\n",
        "a:b\n",
        "- a:b\n- -x\n- :y\n",
        "a: -\n",
        "a: 1\n  b: 2\n",
        "a:\n    b: 1\n  c: 2\n",
        "  a: 1\n  b: 2\n",
        "  a: 1\nb: 2\n",
        "- a\nb: 1\n",
        "a: 1\n- b\n",
        "a: 1\n...\nb: 2\n",
        "...\n",
        "a: 1\n... # c\n",
        "...\na: 1\n...\n...\n--- &a\n...\n",
        "a: 1\n--- # c\nb: 2\n",
        "---a\n",
        "--- a: 1\n",
        "--- - a\n",
        "--- &a\n- x\n",
        "--- 'x'\n",
        "--- [a]\n",
        "a: 'it''s'\nb: 'x''\n",
        "a: \"\\x41\\u00e9\\U0001F600\\t\\\\ \\/\\0\\N\\_\\L\\P\\e\"\n",
        "a: \"\\ud83d\\ude00\"\n",
        "a: \"\\q\"\n",
        "a: \"x\"y\n",
        "a: \"x\"#c\n",
        "a: x#c\n",
        "a: x #c\n",
        "a: *\n",
        "a: &\n",
        "a: &a:b 1\n",
        "? a\n: b\n",
        "a: !t x\n",
        "%YAML 1.2\n---\na: 1\n",
        "a:\tb\n",
        "\u{feff}a: 1\n",
        "a: 1\rb: 2\n",
        "a: b\n  c\n",
        "a: 'b\n  c'\n",
        "- a\n  # c\n- b\n",
        "a:\n  # c\nb: 1\n",
        "a: 1\n # c\n",
        "a: b # c\n  d\n",
        "k: |\n  a\n # c\n  b\n",
        "- - - x\n    - y\n  - z\n",
        "-\n-\n",
        "- \n",
        "a:\n-\n",
        "x: -1\ny: - 1\n",
        "<<: {a: 1}\nb: 2\n",
        "a: \"\"\nb: ''\nc: \" \"\n",
        "a: 0x1F\nb: 1e3\nc: .inf\n",
        "a:\n- &x v\n",
        "a:\n- &y [x]\n",
        "a:\n- &z\n  k: 1\n",
        "a:\n- # c\n  k: 1\n",
        "x: &x 1\na:\n- *x\n",
        "&a x\n",
        "\"q\"\n",
    ];

    #[test]
    fn reads_like_granit() {
        let f = failures(READ, true);
        assert!(f.is_empty(), "{}", f.join("\n\n"));
    }

    #[test]
    fn edges_read_alike_or_are_declined() {
        let f = failures(EDGES, false);
        assert!(f.is_empty(), "{}", f.join("\n\n"));
    }

    /// Random manifests-like texts from a vocabulary of the constructs the block source
    /// reads (and a few it must decline), at random indentations: every one must be read
    /// as granit reads it, or declined. `BLOCK_RANDOM_CASES` sets how many (default
    /// 3000); the generator is seeded, so a failure repeats.
    #[test]
    fn random_manifests_read_alike() {
        const PREFIXES: &[&str] = &["", "", "", "", "- ", "- ", "-   ", "- - "];
        const KEYS: &[&str] = &[
            "a", "name", "image", "\"q k\"", "'s'", "é", "<<", "a b", "x:y", "1", "on", "~", "-k",
            "k#", "http://x",
        ];
        const SEPS: &[&str] = &[": ", ": ", ": ", ":  ", " : "];
        const VALUES: &[&str] = &[
            "",
            "",
            "",
            "v",
            "two words",
            "1",
            "0644",
            "yes",
            "'it''s'",
            "\"a\\n\\u00e9\"",
            "|",
            "|-",
            ">",
            ">+",
            "|2",
            "&a",
            "&a v",
            "*a",
            "&b [1, 2]",
            "*b",
            "[a, \"b\"]",
            "{x: 1, y: [z]}",
            "[]",
            "{}",
            "# c",
            "v # c",
            "a:b",
            "x#y",
            "v  ",
            "é ü",
            "-1",
            ":x",
        ];
        // Rarer: what must be declined, or is an error.
        const ODD: &[&str] = &[
            "- v", "'", "\"x", "!t v", "? k", "[a,", "---", "...", "a: b", "\tv", "{{x}}",
        ];
        const ENDS: &[&str] = &[
            "\n", "\n", "\n", "\n", "\n", "\n\n", "\r\n", " \n", "  # c\n", "",
        ];
        const LINES: &[&str] = &[
            "---\n",
            "...\n",
            "# comment\n",
            "\n",
            "--- |\n",
            "--- v\n",
            "  text\n",
            "    text\n",
            " \n",
            "--- &a\n",
        ];
        let cases: usize = std::env::var("BLOCK_RANDOM_CASES")
            .ok()
            .and_then(|v| v.parse().ok())
            .unwrap_or(3000);
        let mut seed = 0x9e37_79b9_7f4a_7c15u64;
        let mut next = |n: usize| {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            (seed % n as u64) as usize
        };
        let mut texts = Vec::new();
        for _ in 0..cases {
            let mut text = String::new();
            // Indentation mostly follows the previous line's: the same, a level deeper or
            // shallower, or the root; sometimes one space off.
            let mut indent = 0usize;
            for _ in 0..1 + next(10) {
                if next(8) == 0 {
                    text.push_str(LINES[next(LINES.len())]);
                    continue;
                }
                indent = match next(12) {
                    0..=4 => indent,
                    5..=7 => indent + 2,
                    8 | 9 => indent.saturating_sub(2),
                    10 => 0,
                    _ => indent + 1,
                };
                text.push_str(&" ".repeat(indent));
                text.push_str(PREFIXES[next(PREFIXES.len())]);
                if next(6) > 0 {
                    text.push_str(KEYS[next(KEYS.len())]);
                    text.push_str(SEPS[next(SEPS.len())]);
                }
                if next(12) == 0 {
                    text.push_str(ODD[next(ODD.len())]);
                } else {
                    text.push_str(VALUES[next(VALUES.len())]);
                }
                text.push_str(ENDS[next(ENDS.len())]);
            }
            texts.push(text);
        }
        let refs: Vec<&str> = texts.iter().map(String::as_str).collect();
        let f = failures(&refs, false);
        assert!(f.is_empty(), "{} failures:\n{}", f.len(), f.join("\n\n"));
        // Of the texts granit reads, how many the block source reads, and why not.
        let (mut valid, mut read) = (0, 0);
        let mut why = std::collections::BTreeMap::<&str, usize>::new();
        for text in &refs {
            let (_, declined) = super::all_events(super::super::events::GranitSource::new(text));
            if declined {
                continue;
            }
            valid += 1;
            match super::count_documents(text) {
                Ok(_) => read += 1,
                Err(reason) => {
                    let n = why.entry(reason).or_default();
                    *n += 1;
                    if *n <= 2 && std::env::var_os("BLOCK_RANDOM_SHOW").is_some() {
                        eprintln!("{reason}: {text:?}");
                    }
                }
            }
        }
        eprintln!("of {cases} random texts granit reads {valid}, the block source {read}; declined: {why:?}");
        // The vocabulary is mostly what it reads: a test of declines alone proves little.
        assert!(read * 2 > valid, "only {read} of {valid} read");
    }

    /// What the block source must give back to granit.
    #[test]
    fn declines_what_it_does_not_read() {
        for text in [
            "a:\tb\n",
            "a: !t x\n",
            "? a\n: b\n",
            "%YAML 1.2\n---\na: 1\n",
            "a: b\n  c\n",
            "a: 'b\n  c'\n",
            "a: [\n  1]\n",
            "\u{feff}a: 1\n",
            "a: 1\rb: 2\n",
            "a: [a, ]\n",
            "a: {x}\n",
            "a: b: c\n",
            "a: *nope\n",
        ] {
            assert!(super::count_documents(text).is_err(), "read: {text:?}");
        }
    }

    /// Long lines cost one pass: a 1 MB plain scalar, quoted scalar, flow sequence and
    /// line of non-ASCII text are read (or declined) at once.
    #[test]
    fn long_lines_are_linear() {
        let long = "x".repeat(1 << 20);
        let items = vec!["é"; 2000].join(", ");
        for text in [
            format!("a: {long}\n"),
            format!("a: '{long}'\n"),
            format!("a: [{items}]\n"),
            format!("a: {}\n", "é ".repeat(1 << 19)),
            format!("{}\n", "- ".repeat(1 << 19)),
            format!("a: {}\n", "[".repeat(1 << 19)),
        ] {
            // Test threads have small stacks; scans run on 8 MiB ones (see `crate::scan`),
            // which the reference needs for deep nesting.
            std::thread::Builder::new()
                .stack_size(8 * 1024 * 1024)
                .spawn(move || {
                    let _ = block_source(&text);
                })
                .unwrap()
                .join()
                .unwrap();
        }
    }
}

#[cfg(test)]
mod probe {
    /// Prints granit's events for `PROBE` texts (`;;`-separated, `\n` escaped): a tool to
    /// see what granit does, run by hand.
    #[test]
    #[ignore]
    fn probe() {
        let texts = std::env::var("PROBE").unwrap_or_default();
        for text in texts.split(";;") {
            let text = text.replace("\\n", "\n");
            let (events, declined) =
                super::all_events(super::super::events::GranitSource::new(&text));
            println!("{text:?} declined={declined}");
            for (e, p) in events {
                println!("  {}:{} {e:?}", p.line, p.column);
            }
        }
    }
}
