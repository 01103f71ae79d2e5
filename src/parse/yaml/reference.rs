//! The serde-saphyr reader: YAML → [`Node`] through serde-saphyr's `Spanned`
//! deserialisation. It was the only reader until the event reader
//! ([`super::parse_lenient`]) replaced it for speed; it stays as the reference that reader
//! is tested against (same trees, same positions, same duplicate-key errors) and reads
//! every file the event reader declines, so that every error message and position is
//! the one this reader gives. Its error conversion also serves policy files
//! ([`to_parse_error`]).

use crate::parse::{Entry, Node, ParseError, Pos, Value};
use serde::de::{self, Deserialize, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_saphyr::budget::{Budget, BudgetBreach};
use serde_saphyr::granit_parser::{
    ErrorKind as ScanErrorKind, Event, Parser, ScanError, StructureStyle,
};
use serde_saphyr::localizer::ExternalMessageSource;
use serde_saphyr::{MessageFormatter, Spanned, UserMessageFormatter};
use std::fmt;

/// Deepest nesting accepted; real manifests (CRD schemas included) stay far below.
pub(super) const MAX_DEPTH: usize = 128;

/// How every message about a limit ends.
const NOT_SCANNED: &str = "; not scanned";

/// [`super::parse_lenient`] through serde-saphyr: the same documents, duplicate-key
/// errors and failures.
pub fn parse_lenient(text: &str) -> Result<(Vec<Node>, Vec<ParseError>), ParseError> {
    DUPLICATES.with(|d| d.borrow_mut().clear());
    let docs: Result<Vec<YamlNode>, _> = serde_saphyr::from_multiple_with_options(text, options());
    let duplicates = DUPLICATES.with(|d| std::mem::take(&mut *d.borrow_mut()));
    let docs = docs.map_err(|e| to_parse_error(text, &e))?;
    Ok((docs.into_iter().map(|d| d.0).collect(), duplicates))
}

thread_local! {
    /// Duplicate keys met while deserializing on this thread (the visitor cannot
    /// return them alongside its value).
    static DUPLICATES: std::cell::RefCell<Vec<ParseError>> = const { std::cell::RefCell::new(Vec::new()) };
}

fn options() -> serde_saphyr::Options {
    let mut opts = serde_saphyr::Options::default();
    opts.budget = Some(budget());
    // Aliases in real manifests copy a few small blocks; a bomb replays millions.
    opts.alias_limits.max_total_replayed_events = 200_000;
    opts.legacy_octal_numbers = true;
    // Repeated keys reach the visitor, which keeps the last and records the error.
    opts.duplicate_keys = serde_saphyr::DuplicateKeyPolicy::PassThrough;
    opts.with_snippet = false;
    opts.emit_comments = false;
    opts
}

fn budget() -> Budget {
    let mut budget = Budget::default();
    // Defaults suit config files; a large manifest bundle (10 MB and more) needs room.
    budget.max_events = 50_000_000;
    budget.max_nodes = 20_000_000;
    budget.max_documents = 1_000_000;
    budget.max_depth = MAX_DEPTH;
    budget.max_reader_input_bytes = None;
    budget
}

/// A serde-saphyr error as a [`ParseError`]: one line in the user's terms, at the
/// position that explains it best.
pub(crate) fn to_parse_error(text: &str, e: &serde_saphyr::Error) -> ParseError {
    let (mut pos, mut message) = describe(e);
    if let (Some(scan), Some(p)) = (scan_error(e), pos) {
        if matches!(scan.kind(), ScanErrorKind::TabInBlockIndentation) {
            // The scanner reports the content after the indentation; point at the tab.
            pos = Some(first_tab_before(text, p));
        } else if let Some((bracket, open)) = unclosed_flow(text, p) {
            // As the parser says when the file ends inside the collection.
            message = format!("unclosed bracket '{bracket}' (parsing stopped at {p}: {message})");
            pos = Some(open);
        }
    }
    let limit = is_limit(e);
    ParseError {
        pos,
        message,
        limit,
    }
}

/// Whether serde-saphyr stopped at one of the budgets rather than at bad syntax.
fn is_limit(e: &serde_saphyr::Error) -> bool {
    use serde_saphyr::Error as E;
    match e {
        E::WithSnippet { error, .. } | E::AliasError { error, .. } => is_limit(error),
        E::Budget { .. }
        | E::AliasReplayLimitExceeded { .. }
        | E::AliasExpansionLimitExceeded { .. }
        | E::AliasReplayStackDepthExceeded { .. }
        | E::AliasReplayCounterOverflow { .. } => true,
        _ => {
            scan_error(e).is_some_and(|s| matches!(s.kind(), ScanErrorKind::RecursionLimitExceeded))
        }
    }
}

/// Position and message of an error, unwrapping the alias and snippet wrappers
/// serde-saphyr puts around the original error.
fn describe(e: &serde_saphyr::Error) -> (Option<Pos>, String) {
    use serde_saphyr::Error as E;
    match e {
        E::WithSnippet { error, .. } => describe(error),
        // Inside an alias the inner error's own location is that of the replayed
        // events; the alias, where the anchor was used, is what the user wrote.
        E::AliasError {
            error, locations, ..
        } => {
            let (inner, message) = describe(error);
            let used = to_pos(locations.reference_location);
            let defined = to_pos(locations.defined_location);
            let pos = used.or(defined).or(inner);
            let message = match defined {
                Some(d) if Some(d) != pos => {
                    let (what, end) = message
                        .strip_suffix(NOT_SCANNED)
                        .map_or((message.as_str(), ""), |m| (m, NOT_SCANNED));
                    format!("{what} (this alias repeats the anchor at {d}){end}")
                }
                _ => message,
            };
            (pos, message)
        }
        _ => (e.location().and_then(to_pos), message(e)),
    }
}

fn to_pos(l: serde_saphyr::Location) -> Option<Pos> {
    (l.line() > 0).then(|| Pos::new(l.line() as u32, l.column().max(1) as u32))
}

/// One line, in the user's terms: no Rust values, no advice about library options.
pub(super) fn message(e: &serde_saphyr::Error) -> String {
    use serde_saphyr::Error as E;
    let text = match e {
        E::Budget { breach, .. } => budget_message(breach),
        E::AliasReplayLimitExceeded {
            max_total_replayed_events,
            ..
        } => format!(
            "alias bomb: aliases expand to more than {max_total_replayed_events} YAML values; \
             not scanned"
        ),
        E::AliasExpansionLimitExceeded {
            max_expansions_per_anchor,
            ..
        } => format!(
            "alias bomb: an anchor is repeated by aliases more than \
             {max_expansions_per_anchor} times; not scanned"
        ),
        E::AliasReplayStackDepthExceeded { max_depth, .. } => {
            format!("aliases nested more than {max_depth} levels deep; not scanned")
        }
        E::AliasReplayCounterOverflow { .. } => {
            "alias bomb: aliases expand too far; not scanned".to_string()
        }
        E::UnknownAnchor { .. } => "alias to an anchor that is not defined before it".to_string(),
        E::DuplicateMappingKey { key: Some(k), .. } => {
            format!("duplicate mapping key `{k}` (Kubernetes rejects duplicate fields)")
        }
        E::DuplicateMappingKey { key: None, .. } => {
            "duplicate mapping key (Kubernetes rejects duplicate fields)".to_string()
        }
        _ => UserMessageFormatter.format_message(e).into_owned(),
    };
    // A multi-line message keeps its first line; control characters go.
    let line = text.lines().next().unwrap_or("").trim();
    line.chars().filter(|c| !c.is_control()).collect()
}

/// The limit a budget breach hit, as the user would say it.
pub(super) fn budget_message(breach: &BudgetBreach) -> String {
    let b = budget();
    match breach {
        BudgetBreach::Depth { .. } => {
            format!("nesting deeper than {} levels; not scanned", b.max_depth)
        }
        BudgetBreach::Events { .. } => format!(
            "too large: more than {} YAML parser events; not scanned",
            b.max_events
        ),
        BudgetBreach::Nodes { .. } => {
            format!(
                "too large: more than {} YAML values; not scanned",
                b.max_nodes
            )
        }
        BudgetBreach::Documents { .. } => {
            format!("more than {} YAML documents; not scanned", b.max_documents)
        }
        BudgetBreach::ScalarBytes { .. } => format!(
            "too large: more than {} bytes of text in values; not scanned",
            b.max_total_scalar_bytes
        ),
        BudgetBreach::InputBytes { .. } => "too large; not scanned".to_string(),
        BudgetBreach::Aliases { .. } => {
            format!("more than {} aliases; not scanned", b.max_aliases)
        }
        BudgetBreach::Anchors { .. } => {
            format!("more than {} anchors; not scanned", b.max_anchors)
        }
        BudgetBreach::AliasAnchorRatio { aliases, anchors } => {
            format!("alias bomb: {aliases} aliases for {anchors} anchors; not scanned")
        }
        BudgetBreach::MergeKeys { .. } => format!(
            "more than {} merge keys (`<<`); not scanned",
            b.max_merge_keys
        ),
        BudgetBreach::RecordedAnchorEvents { .. } | BudgetBreach::RecordedAnchorBytes { .. } => {
            "anchored blocks too large to replay; not scanned".to_string()
        }
        BudgetBreach::SequenceUnbalanced => "a closing bracket without its opening one".to_string(),
        BudgetBreach::InclusionDepth { .. }
        | BudgetBreach::PropertyExpansionDepth { .. }
        | BudgetBreach::PropertyInterpolationWork { .. } => {
            "too complex to expand; not scanned".to_string()
        }
        _ => "too large or too complex; not scanned".to_string(),
    }
}

/// The YAML parser's own error, when the error is a syntax error.
fn scan_error(e: &serde_saphyr::Error) -> Option<&ScanError> {
    match e {
        serde_saphyr::Error::WithSnippet { error, .. } => scan_error(error),
        serde_saphyr::Error::ExternalMessage { source, .. } => match source.as_ref() {
            ExternalMessageSource::Parser(scan) => Some(scan),
            _ => None,
        },
        _ => None,
    }
}

/// The first tab of the run of blanks that ends just before `pos` on its line.
pub(super) fn first_tab_before(text: &str, pos: Pos) -> Pos {
    let Some(line) = text.lines().nth(pos.line as usize - 1) else {
        return pos;
    };
    let before: Vec<char> = line.chars().take(pos.column as usize - 1).collect();
    let blanks = before
        .iter()
        .rev()
        .take_while(|c| matches!(c, ' ' | '\t'))
        .count();
    let start = before.len() - blanks;
    match before[start..].iter().position(|&c| c == '\t') {
        Some(i) => Pos::new(pos.line, (start + i) as u32 + 1),
        None => pos,
    }
}

/// When the parser stopped at `at` inside a flow collection (`[...]`, `{...}`) that
/// was opened on an earlier line indented no less than the line it stopped on, the
/// collection was most likely never closed: its bracket and where it is.
pub(super) fn unclosed_flow(text: &str, at: Pos) -> Option<(char, Pos)> {
    // Replay the events up to the error, keeping the collections still open.
    let mut open: Vec<Option<(char, Pos)>> = Vec::new();
    let mut parser = Parser::new_from_str(text);
    let error = loop {
        match parser.next_event()? {
            Ok((event, span)) => match event {
                Event::SequenceStart(style, ..) | Event::MappingStart(style, ..) => {
                    let pos = Pos::new(span.start.line() as u32, span.start.col() as u32 + 1);
                    let bracket = text
                        .get(span.start.byte_offset()?..)
                        .and_then(|t| t.chars().next())
                        .filter(|c| matches!(c, '[' | '{'));
                    open.push(match (style, bracket) {
                        (StructureStyle::Flow, Some(b)) => Some((b, pos)),
                        _ => None,
                    });
                }
                Event::SequenceEnd | Event::MappingEnd => {
                    open.pop();
                }
                Event::StreamEnd => return None,
                _ => {}
            },
            Err(e) => break e,
        }
    };
    // Only when this replay stopped where serde-saphyr did.
    let m = error.marker();
    if (m.line() as u32, m.col() as u32 + 1) != (at.line, at.column) {
        return None;
    }
    // Implicit `key: value` pairs in a flow sequence open a mapping of their own.
    let (bracket, pos) = open.iter().rev().find_map(|o| *o)?;
    let indent = |line: u32| {
        let l = text.lines().nth(line as usize - 1).unwrap_or("");
        l.len() - l.trim_start_matches([' ', '\t']).len()
    };
    (at.line > pos.line && indent(at.line) <= indent(pos.line)).then_some((bracket, pos))
}

/// A [`Node`] deserialized from YAML, with the position serde-saphyr reports.
struct YamlNode(Node);

impl<'de> Deserialize<'de> for YamlNode {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = Spanned::<YamlValue>::deserialize(d)?;
        let pos = Pos::new(s.referenced.line() as u32, s.referenced.column() as u32);
        Ok(YamlNode(Node::new(pos, s.value.0)))
    }
}

struct YamlValue(Value);

impl<'de> Deserialize<'de> for YamlValue {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(ValueVisitor).map(YamlValue)
    }
}

/// A mapping key: any scalar, kept as its text.
struct KeyText(String);

impl<'de> Deserialize<'de> for KeyText {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        match d.deserialize_any(ValueVisitor)? {
            Value::Str(s) => Ok(KeyText(s)),
            Value::Int(i) => Ok(KeyText(i.to_string())),
            Value::Float(f) => Ok(KeyText(f.to_string())),
            Value::Bool(b) => Ok(KeyText(b.to_string())),
            Value::Null => Ok(KeyText("null".into())),
            _ => Err(de::Error::custom("complex mapping keys are not supported")),
        }
    }
}

struct ValueVisitor;

impl<'de> Visitor<'de> for ValueVisitor {
    type Value = Value;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("any YAML value")
    }
    fn visit_bool<E>(self, v: bool) -> Result<Value, E> {
        Ok(Value::Bool(v))
    }
    fn visit_i64<E>(self, v: i64) -> Result<Value, E> {
        Ok(Value::Int(v))
    }
    fn visit_u64<E>(self, v: u64) -> Result<Value, E> {
        Ok(i64::try_from(v).map_or(Value::Float(v as f64), Value::Int))
    }
    fn visit_i128<E>(self, v: i128) -> Result<Value, E> {
        Ok(i64::try_from(v).map_or(Value::Float(v as f64), Value::Int))
    }
    fn visit_u128<E>(self, v: u128) -> Result<Value, E> {
        Ok(i64::try_from(v).map_or(Value::Float(v as f64), Value::Int))
    }
    fn visit_f64<E>(self, v: f64) -> Result<Value, E> {
        Ok(Value::Float(v))
    }
    fn visit_str<E>(self, v: &str) -> Result<Value, E> {
        Ok(Value::Str(v.to_string()))
    }
    fn visit_string<E>(self, v: String) -> Result<Value, E> {
        Ok(Value::Str(v))
    }
    fn visit_bytes<E>(self, v: &[u8]) -> Result<Value, E> {
        Ok(Value::Str(String::from_utf8_lossy(v).into_owned()))
    }
    fn visit_unit<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }
    fn visit_none<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }
    fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Value, D::Error> {
        d.deserialize_any(self)
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        let mut items = Vec::with_capacity(seq.size_hint().unwrap_or(0).min(1024));
        while let Some(YamlNode(n)) = seq.next_element()? {
            items.push(n);
        }
        Ok(Value::Seq(items))
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Value, A::Error> {
        let mut entries: Vec<Entry> = Vec::new();
        while let Some(key) = map.next_key::<Spanned<KeyText>>()? {
            let YamlNode(value) = map.next_value()?;
            let key_pos = Pos::new(key.referenced.line() as u32, key.referenced.column() as u32);
            if let Some(i) = entries.iter().position(|e| e.key == key.value.0) {
                DUPLICATES.with(|d| {
                    d.borrow_mut().push(ParseError::at(
                        key_pos,
                        format!(
                            "duplicate mapping key `{}` (Kubernetes rejects duplicate fields; the last one is judged)",
                            key.value.0
                        ),
                    ))
                });
                entries.remove(i);
            }
            entries.push(Entry {
                key: key.value.0,
                key_pos,
                value,
            });
        }
        Ok(Value::Map(entries))
    }
}
