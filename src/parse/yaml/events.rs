//! The event reader: [`Node`] trees built straight from a YAML parser's events, with
//! the semantics of the serde-saphyr reader ([`super::reference`]) and without its serde
//! machinery (a `Spanned` wrapper, a map of locations and a recorded key per value).
//!
//! It reads what manifests contain and declines the rest: any parser error, any tag,
//! complex or non-finite keys and values, recursive aliases, and anything within reach
//! of a budget or limit of the reference reader. A declined file is read again by the
//! reference, so every error message and position stays the reference's own; what this
//! reader returns is what the reference would return, which the differential tests
//! (`differential` in `yaml.rs`) check on every YAML file the project
//! has.
//!
//! What it reproduces, and where the reference does it:
//! - scalars resolved as serde-saphyr's `deserialize_any` does with legacy octal
//!   numbers: YAML 1.1 booleans, `~`/`null`/empty as null, integers in any base with
//!   underscores, `0644` as octal, floats, the rest strings; quoted and block scalars are
//!   strings ([`resolve`]);
//! - positions: a node is where its first event is, or, inside an alias, where the alias
//!   is; inside a merged entry, where the merged value is referenced;
//! - duplicate keys: each one is reported at the repeated key and the last value kept,
//!   again for every expansion of an alias that contains it;
//! - merge keys: explicit keys first in their order, then merged entries whose key was
//!   not seen (by value, as serde-saphyr's key fingerprints compare them), earlier
//!   merges winning over later ones;
//! - documents whose root is a plain null are left out.

use super::block::BlockSource;
use super::reference::MAX_DEPTH;
use crate::parse::{Entry, Node, ParseError, Pos, Value};
use serde_saphyr::granit_parser::{Event, Parser, ScalarStyle, StrInput};
use std::borrow::Cow;

/// Why the event reader gave a file back to the reference reader (no detail: the
/// reference says what is wrong, or reads it).
#[derive(Debug)]
pub(crate) struct Declined;

type Result<T> = std::result::Result<T, Declined>;

/// Reads every document of a YAML stream as [`super::parse_lenient`] does, or declines:
/// from [`BlockSource`] events when it reads the text, else from granit's (a decline
/// anywhere costs one more reading of a small text, from the start).
pub(crate) fn parse_lenient(text: &str) -> Result<(Vec<Node>, Vec<ParseError>)> {
    read(BlockSource::new(text)).or_else(|_| read(GranitSource::new(text)))
}

/// Reads every document from granit's events alone, or declines.
pub(crate) fn parse_lenient_granit(text: &str) -> Result<(Vec<Node>, Vec<ParseError>)> {
    read(GranitSource::new(text))
}

/// Reads every document from `source`'s events, or declines.
fn read<'a, S: Source<'a>>(source: S) -> Result<(Vec<Node>, Vec<ParseError>)> {
    let mut builder = Builder::new(Stream::new(source));
    let mut docs = Vec::new();
    while let Some(first) = builder.stream.next()? {
        // A document whose root is a plain null (empty, `~`, `null`) is left out.
        if let Kind::Scalar(v, true) = &first.kind {
            if is_null(v) {
                continue;
            }
        }
        let node = builder.node(first, None)?;
        docs.push(node);
    }
    builder.stream.finish()?;
    Ok((docs, builder.duplicates))
}

// ---------------------------------------------------------------------------------
// Events

/// What an event says, without tags (a tagged node is declined).
#[derive(Clone, Debug, PartialEq)]
pub(crate) enum Kind<'a> {
    /// A scalar and whether it is plain (unquoted, not a block scalar).
    Scalar(Cow<'a, str>, bool),
    SeqStart,
    SeqEnd,
    MapStart,
    MapEnd,
}

/// An event of the source, before aliases are expanded.
#[derive(Debug, PartialEq)]
pub(crate) enum SourceEvent<'a> {
    /// A node event and the anchor it defines (0 for none).
    Node(Kind<'a>, usize),
    /// `*name`, by anchor id.
    Alias(usize),
    DocumentStart,
    DocumentEnd,
    /// Stream start and end, comments: nothing for the tree.
    Other,
}

/// Where events come from: a YAML parser, reading one text once.
pub(crate) trait Source<'a> {
    /// The next event and where it starts, `None` after the last.
    fn next(&mut self) -> Result<Option<(SourceEvent<'a>, Pos)>>;
}

/// granit-parser, the parser inside serde-saphyr, with the options serde-saphyr gives it
/// for our budget: the same events, spans and syntax errors as the reference reader.
pub(crate) struct GranitSource<'a> {
    parser: Parser<'a, StrInput<'a>>,
}

impl<'a> GranitSource<'a> {
    pub(crate) fn new(text: &'a str) -> Self {
        let mut options = serde_saphyr::granit_parser::Options::default();
        options.set_emit_comments(false);
        options.simple_key_max_lookahead = 1024;
        options.flow_nesting_limit = 255;
        // serde-saphyr: max(parser default, budget depth + 1).
        options.block_nesting_limit = options.block_nesting_limit.max(MAX_DEPTH + 1);
        GranitSource {
            parser: Parser::new_from_str_with_options(text, options),
        }
    }
}

impl<'a> Source<'a> for GranitSource<'a> {
    fn next(&mut self) -> Result<Option<(SourceEvent<'a>, Pos)>> {
        let Some(item) = self.parser.next_event() else {
            return Ok(None);
        };
        let (event, span) = item.map_err(|_| Declined)?;
        let pos = Pos::new(span.start.line() as u32, span.start.col() as u32 + 1);
        let event = match event {
            Event::Scalar(value, style, anchor, tag) => {
                if tag.is_some() {
                    return Err(Declined);
                }
                let plain = matches!(style, ScalarStyle::Plain);
                SourceEvent::Node(Kind::Scalar(value, plain), anchor)
            }
            Event::SequenceStart(_, anchor, tag) => {
                if tag.is_some() {
                    return Err(Declined);
                }
                SourceEvent::Node(Kind::SeqStart, anchor)
            }
            Event::MappingStart(_, anchor, tag) => {
                if tag.is_some() {
                    return Err(Declined);
                }
                SourceEvent::Node(Kind::MapStart, anchor)
            }
            Event::SequenceEnd => SourceEvent::Node(Kind::SeqEnd, 0),
            Event::MappingEnd => SourceEvent::Node(Kind::MapEnd, 0),
            Event::Alias(id) => SourceEvent::Alias(id),
            Event::DocumentStart(..) => SourceEvent::DocumentStart,
            Event::DocumentEnd => SourceEvent::DocumentEnd,
            Event::StreamStart | Event::StreamEnd => SourceEvent::Other,
            _ => return Err(Declined),
        };
        Ok(Some((event, pos)))
    }
}

// ---------------------------------------------------------------------------------
// The stream: aliases expanded, budgets watched

/// A node event as the tree builder sees it: aliases replaced by the events of their
/// anchor, each carrying where the alias is.
#[derive(Clone, Debug)]
pub(crate) struct Item<'a> {
    kind: Kind<'a>,
    /// Where the event is written.
    pos: Pos,
    /// Where the alias is, for an event replayed from an anchor.
    alias: Option<Pos>,
}

/// An event recorded for an anchor.
#[derive(Clone, Debug)]
struct Recorded<'a> {
    kind: Kind<'a>,
    pos: Pos,
}

/// An anchored collection being recorded.
struct Recording<'a> {
    id: usize,
    depth: usize,
    events: Vec<Recorded<'a>>,
}

/// The reference reader's limits (see `reference::options` and `reference::budget`),
/// each with a margin: a file near one is declined, and the reference decides.
mod limits {
    /// Parser events, replayed ones included (reference: 50,000,000).
    pub const EVENTS: usize = 45_000_000;
    /// Scalars and collections (reference: 20,000,000).
    pub const NODES: usize = 18_000_000;
    /// Bytes of scalar text (reference: 64 MiB).
    pub const SCALAR_BYTES: usize = 56 * 1024 * 1024;
    /// Documents (reference: 1,000,000).
    pub const DOCUMENTS: usize = 900_000;
    /// Nested collections, replayed ones included (reference: 128).
    pub const DEPTH: usize = 100;
    /// Aliases (reference: 50,000).
    pub const ALIASES: usize = 45_000;
    /// Anchors (reference: 50,000).
    pub const ANCHORS: usize = 45_000;
    /// `<<` scalars (reference: 10,000 merge keys).
    pub const MERGE_KEYS: usize = 9_000;
    /// Events copied into anchor recordings (reference: 1,000,000).
    pub const RECORDED_EVENTS: usize = 900_000;
    /// Scalar bytes copied into anchor recordings (reference: 64 MiB).
    pub const RECORDED_BYTES: usize = 56 * 1024 * 1024;
    /// Events replayed by aliases in one document (reference: 200,000).
    pub const REPLAYED_EVENTS: usize = 190_000;
}

/// Events from a [`Source`] with aliases expanded, as serde-saphyr's `LiveEvents`
/// delivers them, and the reference reader's budgets counted.
pub(crate) struct Stream<'a, S> {
    source: S,
    /// Recorded events of each anchor of the current document, by anchor id.
    anchors: Vec<Option<Vec<Recorded<'a>>>>,
    recording: Vec<Recording<'a>>,
    /// The alias being replayed: anchor id, next event, where the alias is.
    replay: Option<(usize, usize, Pos)>,
    events: usize,
    nodes: usize,
    scalar_bytes: usize,
    documents: usize,
    depth: usize,
    aliases: usize,
    anchor_ids: std::collections::HashSet<usize>,
    merge_keys: usize,
    recorded_events: usize,
    recorded_bytes: usize,
    replayed: usize,
}

impl<'a, S: Source<'a>> Stream<'a, S> {
    pub(crate) fn new(source: S) -> Self {
        Stream {
            source,
            anchors: Vec::new(),
            recording: Vec::new(),
            replay: None,
            events: 0,
            nodes: 0,
            scalar_bytes: 0,
            documents: 0,
            depth: 0,
            aliases: 0,
            anchor_ids: Default::default(),
            merge_keys: 0,
            recorded_events: 0,
            recorded_bytes: 0,
            replayed: 0,
        }
    }

    /// The next node event, `None` at the end of the stream.
    pub(crate) fn next(&mut self) -> Result<Option<Item<'a>>> {
        if let Some((id, idx, alias)) = self.replay {
            let events = self.anchors[id].as_ref().ok_or(Declined)?;
            if idx < events.len() {
                let Recorded { kind, pos } = events[idx].clone();
                self.replay = Some((id, idx + 1, alias));
                self.replayed += 1;
                if self.replayed > limits::REPLAYED_EVENTS {
                    return Err(Declined);
                }
                self.count(&kind)?;
                self.record(&kind, pos)?;
                return Ok(Some(Item {
                    kind,
                    pos,
                    alias: Some(alias),
                }));
            }
            self.replay = None;
        }
        loop {
            let Some((event, pos)) = self.source.next()? else {
                return Ok(None);
            };
            self.events += 1;
            match event {
                SourceEvent::Node(kind, anchor) => {
                    self.count(&kind)?;
                    match kind {
                        Kind::SeqStart | Kind::MapStart => {
                            for r in &mut self.recording {
                                r.depth += 1;
                            }
                            self.record(&kind, pos)?;
                            if anchor != 0 {
                                self.define(anchor)?;
                                self.copied(&kind)?;
                                self.recording.push(Recording {
                                    id: anchor,
                                    depth: 1,
                                    events: vec![Recorded {
                                        kind: kind.clone(),
                                        pos,
                                    }],
                                });
                            }
                        }
                        Kind::SeqEnd | Kind::MapEnd => {
                            self.record(&kind, pos)?;
                            for r in &mut self.recording {
                                r.depth -= 1;
                            }
                            while self.recording.last().is_some_and(|r| r.depth == 0) {
                                let done = self.recording.pop().ok_or(Declined)?;
                                self.store(done.id, done.events);
                            }
                        }
                        Kind::Scalar(..) => {
                            self.record(&kind, pos)?;
                            if anchor != 0 {
                                self.define(anchor)?;
                                self.copied(&kind)?;
                                self.store(
                                    anchor,
                                    vec![Recorded {
                                        kind: kind.clone(),
                                        pos,
                                    }],
                                );
                            }
                        }
                    }
                    return Ok(Some(Item {
                        kind,
                        pos,
                        alias: None,
                    }));
                }
                SourceEvent::Alias(id) => {
                    self.aliases += 1;
                    if self.aliases > limits::ALIASES
                        || self.recording.iter().any(|r| r.id == id)
                        || !self.anchors.get(id).is_some_and(Option::is_some)
                    {
                        return Err(Declined);
                    }
                    self.replay = Some((id, 0, pos));
                    return self.next();
                }
                SourceEvent::DocumentStart | SourceEvent::DocumentEnd => {
                    if matches!(event, SourceEvent::DocumentStart) {
                        self.documents += 1;
                        if self.documents > limits::DOCUMENTS {
                            return Err(Declined);
                        }
                    }
                    // Anchors and replay counts are per document.
                    self.anchors.iter_mut().for_each(|a| *a = None);
                    self.recording.clear();
                    self.replay = None;
                    self.replayed = 0;
                }
                SourceEvent::Other => {}
            }
            if self.events > limits::EVENTS {
                return Err(Declined);
            }
        }
    }

    /// Budget counts of one delivered event, live or replayed.
    fn count(&mut self, kind: &Kind<'a>) -> Result<()> {
        self.events += usize::from(self.replay.is_some());
        match kind {
            Kind::Scalar(v, plain) => {
                self.nodes += 1;
                self.scalar_bytes += v.len();
                if *plain && v == "<<" {
                    self.merge_keys += 1;
                }
            }
            Kind::SeqStart | Kind::MapStart => {
                self.nodes += 1;
                self.depth += 1;
            }
            Kind::SeqEnd | Kind::MapEnd => self.depth = self.depth.saturating_sub(1),
        }
        if self.events > limits::EVENTS
            || self.nodes > limits::NODES
            || self.scalar_bytes > limits::SCALAR_BYTES
            || self.depth > limits::DEPTH
            || self.merge_keys > limits::MERGE_KEYS
        {
            return Err(Declined);
        }
        Ok(())
    }

    /// Copies an event into every anchored collection being recorded.
    fn record(&mut self, kind: &Kind<'a>, pos: Pos) -> Result<()> {
        if self.recording.is_empty() {
            return Ok(());
        }
        for _ in 0..self.recording.len() {
            self.copied(kind)?;
        }
        for r in &mut self.recording {
            r.events.push(Recorded {
                kind: kind.clone(),
                pos,
            });
        }
        Ok(())
    }

    fn copied(&mut self, kind: &Kind<'a>) -> Result<()> {
        self.recorded_events += 1;
        if let Kind::Scalar(v, _) = kind {
            self.recorded_bytes += v.len();
        }
        if self.recorded_events > limits::RECORDED_EVENTS
            || self.recorded_bytes > limits::RECORDED_BYTES
        {
            return Err(Declined);
        }
        Ok(())
    }

    fn define(&mut self, anchor: usize) -> Result<()> {
        self.anchor_ids.insert(anchor);
        if self.anchor_ids.len() > limits::ANCHORS {
            return Err(Declined);
        }
        Ok(())
    }

    fn store(&mut self, id: usize, events: Vec<Recorded<'a>>) {
        if id >= self.anchors.len() {
            self.anchors.resize_with(id + 8, || None);
        }
        self.anchors[id] = Some(events);
    }

    /// The checks the reference makes once the stream is read: many aliases for few
    /// anchors is a bomb (reference: at least 100 aliases, more than 10 per anchor).
    pub(crate) fn finish(&self) -> Result<()> {
        let anchors = self.anchor_ids.len();
        if self.aliases >= 90 && (anchors == 0 || self.aliases > 9 * anchors) {
            return Err(Declined);
        }
        Ok(())
    }
}

// ---------------------------------------------------------------------------------
// The tree

/// A key as serde-saphyr compares keys to let explicit keys win over merged ones: an
/// integer by value, a null or any other scalar by its text.
#[derive(Debug, PartialEq)]
enum Fingerprint<'a> {
    Integer(bool, u128),
    Null(Cow<'a, str>),
    Str(Cow<'a, str>),
}

fn fingerprint<'a>(value: &Cow<'a, str>, plain: bool) -> Fingerprint<'a> {
    if plain {
        let t = yaml_trim(value);
        let int = if t.starts_with('-') {
            parse_int_signed(t).map(|i| (i < 0, i.unsigned_abs()))
        } else {
            parse_int_unsigned(t).map(|u| (false, u))
        };
        if let Some((negative, magnitude)) = int {
            return Fingerprint::Integer(negative, magnitude);
        }
        if is_null(value) {
            return Fingerprint::Null(value.clone());
        }
    }
    Fingerprint::Str(value.clone())
}

/// One entry a merge key brings: its key, and its value's events to build when (and
/// only if) the entry is taken.
struct Merged<'a> {
    fingerprint: Fingerprint<'a>,
    key: String,
    key_pos: Pos,
    value: Vec<Item<'a>>,
    /// Where the value is located (what serde-saphyr's merge replay reports).
    at: Pos,
}

struct Builder<'a, S> {
    stream: Stream<'a, S>,
    /// Events of a merged value being built, and the next one.
    buffered: Vec<(Vec<Item<'a>>, usize)>,
    duplicates: Vec<ParseError>,
    /// The keys of the mappings being built, for merge keys (a stack shared by them).
    keys: Vec<Fingerprint<'a>>,
}

impl<'a, S: Source<'a>> Builder<'a, S> {
    fn new(stream: Stream<'a, S>) -> Self {
        Builder {
            stream,
            buffered: Vec::new(),
            duplicates: Vec::new(),
            keys: Vec::new(),
        }
    }

    fn next(&mut self) -> Result<Item<'a>> {
        if let Some((items, idx)) = self.buffered.last_mut() {
            let item = items.get(*idx).cloned().ok_or(Declined)?;
            *idx += 1;
            return Ok(item);
        }
        self.stream.next()?.ok_or(Declined)
    }

    /// The node that starts with `first`. `at` is where everything in it is located
    /// unless it comes from an alias (inside a merged entry).
    fn node(&mut self, first: Item<'a>, at: Option<Pos>) -> Result<Node> {
        let pos = first.alias.or(at).unwrap_or(first.pos);
        let value = match first.kind {
            Kind::Scalar(v, plain) => resolve(v, plain)?,
            Kind::SeqStart => {
                let mut items = Vec::new();
                loop {
                    let item = self.next()?;
                    if matches!(item.kind, Kind::SeqEnd) {
                        break;
                    }
                    items.push(self.node(item, at)?);
                }
                Value::Seq(items)
            }
            Kind::MapStart => self.map(at)?,
            Kind::SeqEnd | Kind::MapEnd => return Err(Declined),
        };
        Ok(Node::new(pos, value))
    }

    fn map(&mut self, at: Option<Pos>) -> Result<Value> {
        let mut entries: Vec<Entry> = Vec::new();
        let mut merges: Vec<Merged<'a>> = Vec::new();
        let keys_start = self.keys.len();
        loop {
            let key = self.next()?;
            let key_pos = key.alias.or(at).unwrap_or(key.pos);
            let (raw, plain) = match key.kind {
                Kind::MapEnd => break,
                Kind::Scalar(v, plain) => (v, plain),
                // A complex key: the reference refuses it.
                _ => return Err(Declined),
            };
            if plain && raw == "<<" {
                let first = self.next()?;
                let value = self.capture(first)?;
                merges.extend(merged_entries(&value, at)?);
                continue;
            }
            let text = key_text(&raw, plain)?;
            self.keys.push(fingerprint(&raw, plain));
            let first = self.next()?;
            let value = self.node(first, at)?;
            self.add(&mut entries, text, key_pos, value);
        }
        for m in merges {
            if self.keys[keys_start..].contains(&m.fingerprint) {
                continue;
            }
            self.keys.push(m.fingerprint);
            self.buffered.push((m.value, 1));
            let first = self.buffered.last().ok_or(Declined)?.0[0].clone();
            let value = self.node(first, Some(m.at));
            self.buffered.pop();
            self.add(&mut entries, m.key, m.key_pos, value?);
        }
        self.keys.truncate(keys_start);
        Ok(Value::Map(entries))
    }

    /// Adds an entry as the reference's visitor does: a key already there is reported
    /// and its earlier entry dropped.
    fn add(&mut self, entries: &mut Vec<Entry>, key: String, key_pos: Pos, value: Node) {
        if let Some(i) = entries.iter().position(|e| e.key == key) {
            self.duplicates.push(ParseError::at(
                key_pos,
                format!(
                    "duplicate mapping key `{key}` (Kubernetes rejects duplicate fields; the last one is judged)"
                ),
            ));
            entries.remove(i);
        }
        entries.push(Entry {
            key,
            key_pos,
            value,
        });
    }

    /// The events of the node that starts with `first`.
    fn capture(&mut self, first: Item<'a>) -> Result<Vec<Item<'a>>> {
        let mut depth = match first.kind {
            Kind::SeqStart | Kind::MapStart => 1usize,
            Kind::Scalar(..) => 0,
            Kind::SeqEnd | Kind::MapEnd => return Err(Declined),
        };
        let mut items = vec![first];
        while depth > 0 {
            let item = self.next()?;
            match item.kind {
                Kind::SeqStart | Kind::MapStart => depth += 1,
                Kind::SeqEnd | Kind::MapEnd => depth -= 1,
                Kind::Scalar(..) => {}
            }
            items.push(item);
        }
        Ok(items)
    }
}

/// The extent of the node that starts at `items[start]`: the index after its last event.
fn node_end(items: &[Item<'_>], start: usize) -> Result<usize> {
    let mut depth = 0usize;
    for (i, item) in items.iter().enumerate().skip(start) {
        match item.kind {
            Kind::SeqStart | Kind::MapStart => depth += 1,
            Kind::SeqEnd | Kind::MapEnd => depth = depth.checked_sub(1).ok_or(Declined)?,
            Kind::Scalar(..) => {}
        }
        if depth == 0 {
            return Ok(i + 1);
        }
    }
    Err(Declined)
}

/// The entries a merge key's value brings, in order (serde-saphyr's
/// `pending_entries_from_live_events` and `pending_entries_from_events`): a mapping's
/// own entries then those of its merge keys; a sequence's elements one after the other;
/// nothing for null. `at` is where the mapping holding the merge key puts its nodes.
fn merged_entries<'a>(items: &[Item<'a>], at: Option<Pos>) -> Result<Vec<Merged<'a>>> {
    let first = items.first().ok_or(Declined)?;
    match &first.kind {
        Kind::Scalar(v, true) if is_null(v) => Ok(Vec::new()),
        Kind::MapStart => {
            let r = first.alias.or(at).unwrap_or(first.pos);
            mapping_entries(items, r)
        }
        Kind::SeqStart => {
            let mut out = Vec::new();
            let mut i = 1;
            while !matches!(items.get(i).ok_or(Declined)?.kind, Kind::SeqEnd) {
                let end = node_end(items, i)?;
                let element = &items[i..end];
                let r = element[0].alias.or(at).unwrap_or(element[0].pos);
                out.extend(merged_entries(element, Some(r))?);
                i = end;
            }
            Ok(out)
        }
        _ => Err(Declined),
    }
}

/// A merged mapping's entries, everything in it located at `r` unless it comes from an
/// alias (serde-saphyr's `collect_entries_from_map`).
fn mapping_entries<'a>(items: &[Item<'a>], r: Pos) -> Result<Vec<Merged<'a>>> {
    let mut fields = Vec::new();
    let mut nested = Vec::new();
    let mut i = 1;
    loop {
        let key = items.get(i).ok_or(Declined)?;
        let (raw, plain) = match &key.kind {
            Kind::MapEnd => break,
            Kind::Scalar(v, plain) => (v, *plain),
            _ => return Err(Declined),
        };
        let start = i + 1;
        let end = node_end(items, start)?;
        let value = &items[start..end];
        if plain && raw == "<<" {
            nested.extend(merged_entries(value, Some(r))?);
        } else {
            fields.push(Merged {
                fingerprint: fingerprint(raw, plain),
                key: key_text(raw, plain)?,
                key_pos: key.alias.unwrap_or(r),
                value: value.to_vec(),
                at: r,
            });
        }
        i = end;
    }
    fields.extend(nested);
    Ok(fields)
}

// ---------------------------------------------------------------------------------
// Scalars, as serde-saphyr's `deserialize_any` reads them with `legacy_octal_numbers`
// (its `parse_scalars.rs`, MIT OR Apache-2.0, ported function by function).

/// A mapping key as the reference writes it: the text of the value it resolves to.
fn key_text(raw: &str, plain: bool) -> Result<String> {
    Ok(match resolve(Cow::Borrowed(raw), plain)? {
        Value::Str(s) => s,
        Value::Int(i) => i.to_string(),
        Value::Float(f) => f.to_string(),
        Value::Bool(b) => b.to_string(),
        Value::Null => "null".into(),
        _ => return Err(Declined),
    })
}

/// `""`, `~`, `null`, `Null`, `NULL`: a plain null.
fn is_null(v: &str) -> bool {
    matches!(v, "" | "~" | "null" | "Null" | "NULL")
}

/// A scalar's value: quoted and block scalars are strings; a plain scalar is null, a
/// YAML 1.1 boolean, an integer (legacy octal included), a float or a string. A
/// non-finite float (`.inf`, `1e999`) is declined: the reference refuses it.
pub(crate) fn resolve(v: Cow<'_, str>, plain: bool) -> Result<Value> {
    if !plain {
        return Ok(Value::Str(v.into_owned()));
    }
    let Some(&b) = v.as_bytes().first() else {
        return Ok(Value::Null);
    };
    // Most plain scalars are words that can be nothing but strings.
    if b.is_ascii_alphabetic()
        && !matches!(
            b,
            b'y' | b'Y' | b'n' | b'N' | b't' | b'T' | b'f' | b'F' | b'o' | b'O'
        )
    {
        return Ok(Value::Str(v.into_owned()));
    }
    if is_null(&v) {
        return Ok(Value::Null);
    }
    if let Some(b) = parse_yaml11_bool(&v) {
        return Ok(Value::Bool(b));
    }
    let t = yaml_trim(&v);
    if t.starts_with('-') {
        if let Some(i) = parse_int_signed(t).and_then(|i| i64::try_from(i).ok()) {
            return Ok(Value::Int(i));
        }
    } else if let Some(u) = parse_int_unsigned(t).and_then(|u| u64::try_from(u).ok()) {
        return Ok(i64::try_from(u).map_or(Value::Float(u as f64), Value::Int));
    }
    if let Some(f) = try_parse_float_incl_overflow(&v) {
        return if f.is_finite() {
            Ok(Value::Float(f))
        } else {
            Err(Declined)
        };
    }
    Ok(Value::Str(v.into_owned()))
}

fn yaml_trim(s: &str) -> &str {
    s.trim_matches([' ', '\t', '\r', '\n'])
}

fn parse_yaml11_bool(s: &str) -> Option<bool> {
    let t = yaml_trim(s);
    if ["true", "yes", "y", "on"]
        .iter()
        .any(|w| t.eq_ignore_ascii_case(w))
    {
        Some(true)
    } else if ["false", "no", "n", "off"]
        .iter()
        .any(|w| t.eq_ignore_ascii_case(w))
    {
        Some(false)
    } else {
        None
    }
}

/// Digits in `radix` with single underscores between them.
fn parse_digits(digits: &str, radix: u32) -> Option<u128> {
    let bytes = digits.as_bytes();
    let mut val: u128 = 0;
    let mut saw = false;
    for (i, &b) in bytes.iter().enumerate() {
        let d = match b {
            b'_' => {
                let prev_ok = i > 0 && bytes[i - 1] != b'_';
                let next_ok = i + 1 < bytes.len() && bytes[i + 1] != b'_';
                if !prev_ok || !next_ok {
                    return None;
                }
                continue;
            }
            b'0'..=b'9' => u32::from(b - b'0'),
            b'a'..=b'f' if radix > 10 => 10 + u32::from(b - b'a'),
            b'A'..=b'F' if radix > 10 => 10 + u32::from(b - b'A'),
            _ => return None,
        };
        if d >= radix {
            return None;
        }
        val = val.checked_mul(u128::from(radix))?;
        val = val.checked_add(u128::from(d))?;
        saw = true;
    }
    saw.then_some(val)
}

/// The radix a (sign-less) integer is written in, and its digits.
fn radix_and_digits(rest: &str) -> (u32, &str) {
    // Legacy octal numbers allow an underscore right after the prefix.
    fn strip(d: &str) -> &str {
        d.strip_prefix('_').unwrap_or(d)
    }
    if let Some(r) = rest.strip_prefix("0x").or_else(|| rest.strip_prefix("0X")) {
        (16, strip(r))
    } else if let Some(r) = rest.strip_prefix("0o").or_else(|| rest.strip_prefix("0O")) {
        (8, strip(r))
    } else if let Some(r) = rest.strip_prefix("0b").or_else(|| rest.strip_prefix("0B")) {
        (2, strip(r))
    } else if let Some(r) = rest.strip_prefix('0') {
        if r.is_empty() {
            (8, "0")
        } else {
            (8, strip(r))
        }
    } else {
        (10, rest)
    }
}

fn parse_int_signed(t: &str) -> Option<i128> {
    let t = yaml_trim(t);
    let (neg, rest) = match t.strip_prefix('+') {
        Some(r) => (false, r),
        None => match t.strip_prefix('-') {
            Some(r) => (true, r),
            None => (false, t),
        },
    };
    let (radix, digits) = radix_and_digits(rest);
    let mag = parse_digits(digits, radix)?;
    if neg {
        if mag == (i128::MAX as u128) + 1 {
            Some(i128::MIN)
        } else {
            i128::try_from(mag).ok()?.checked_neg()
        }
    } else {
        i128::try_from(mag).ok()
    }
}

fn parse_int_unsigned(t: &str) -> Option<u128> {
    let t = yaml_trim(t);
    if t.starts_with('-') {
        return None;
    }
    let rest = t.strip_prefix('+').unwrap_or(t);
    let (radix, digits) = radix_and_digits(rest);
    parse_digits(digits, radix)
}

fn try_parse_float_incl_overflow(s: &str) -> Option<f64> {
    let t = yaml_trim(s);
    let (negative, unsigned) = match t.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, t.strip_prefix('+').unwrap_or(t)),
    };
    match unsigned {
        ".nan" | ".NaN" | ".NAN" => return Some(f64::NAN),
        ".inf" | ".Inf" | ".INF" if negative => return Some(f64::NEG_INFINITY),
        ".inf" | ".Inf" | ".INF" => return Some(f64::INFINITY),
        _ => {}
    }
    match t.parse::<f64>() {
        Ok(v) if v.is_finite() => Some(v),
        _ => {
            // A numeral too large for f64 is infinite; `inf`, `nan` are strings.
            let unsigned = t.strip_prefix(['+', '-']).unwrap_or(t);
            if !unsigned.as_bytes().first().is_some_and(u8::is_ascii_digit) {
                return None;
            }
            match t.parse::<f64>() {
                Ok(v) if v.is_infinite() => Some(v),
                _ => None,
            }
        }
    }
}
