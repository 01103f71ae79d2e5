//! YAML → [`Node`] with serde-saphyr, read the way Kubernetes reads manifests:
//! multi-document, YAML 1.1 booleans, legacy octal numbers, merge keys, and
//! budgets that stop alias bombs and runaway nesting before they expand.
//!
//! A key written twice in one mapping is an error (YAML requires unique keys and the
//! Kubernetes API server rejects duplicate fields under strict validation), located at
//! the second key; [`parse_lenient`] still returns the documents, the last value
//! winning as it does where the API server only warns, so they can be judged.

use super::{Entry, Node, ParseError, Pos, Value};
use serde::de::{self, Deserialize, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_saphyr::budget::{Budget, BudgetBreach};
use serde_saphyr::granit_parser::{
    ErrorKind as ScanErrorKind, Event, Parser, ScanError, StructureStyle,
};
use serde_saphyr::localizer::ExternalMessageSource;
use serde_saphyr::{MessageFormatter, Spanned, UserMessageFormatter};
use std::fmt;

/// Deepest nesting accepted; real manifests (CRD schemas included) stay far below.
const MAX_DEPTH: usize = 128;

/// How every message about a limit ends.
const NOT_SCANNED: &str = "; not scanned";

/// Parses every document of a YAML stream. Empty documents become `Null` nodes. A
/// duplicate key is an error.
pub fn parse(text: &str) -> Result<Vec<Node>, ParseError> {
    let (docs, duplicates) = parse_lenient(text)?;
    match duplicates.into_iter().next() {
        Some(e) => Err(e),
        None => Ok(docs),
    }
}

/// Parses every document of a YAML stream, reading a mapping with a duplicate key with
/// its last value (the earlier one dropped). Returns the documents and one error per
/// duplicate key, at the repeated key; fails only on errors that stop reading.
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
fn message(e: &serde_saphyr::Error) -> String {
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
fn budget_message(breach: &BudgetBreach) -> String {
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
fn first_tab_before(text: &str, pos: Pos) -> Pos {
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
fn unclosed_flow(text: &str, at: Pos) -> Option<(char, Pos)> {
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

#[cfg(test)]
mod tests {
    use super::*;

    fn one(text: &str) -> Node {
        let mut docs = parse(text).unwrap();
        assert_eq!(docs.len(), 1);
        docs.remove(0)
    }

    #[test]
    fn keys_and_values_carry_positions() {
        let n = one("kind: Pod\nspec:\n  containers:\n  - name: web\n    image: nginx\n");
        let spec = n.entry("spec").unwrap();
        assert_eq!(spec.key_pos, Pos::new(2, 1));
        let c = &n.path(&["spec", "containers"]).unwrap().items()[0];
        assert_eq!(c.pos, Pos::new(4, 5));
        assert_eq!(c.entry("image").unwrap().key_pos, Pos::new(5, 5));
        assert_eq!(c.get("image").unwrap().pos, Pos::new(5, 12));
    }

    #[test]
    fn kubernetes_scalar_rules() {
        let n = one("a: yes\nb: 0644\nc: '0'\nd: ~\ne: 1.5\nf: off\n");
        assert_eq!(n.get("a").unwrap().as_bool(), Some(true));
        assert_eq!(n.get("b").unwrap().as_i64(), Some(420));
        assert_eq!(n.get("c").unwrap().as_str(), Some("0"));
        assert_eq!(n.get("d").unwrap().value, Value::Null);
        assert_eq!(n.get("e").unwrap().value, Value::Float(1.5));
        assert_eq!(n.get("f").unwrap().as_bool(), Some(false));
    }

    #[test]
    fn multi_document_with_empty_documents() {
        let docs = parse("---\nkind: A\n---\n---\nkind: B\n").unwrap();
        let kinds: Vec<_> = docs
            .iter()
            .filter_map(|d| d.get("kind")?.as_str())
            .collect();
        assert_eq!(kinds, ["A", "B"]);
    }

    #[test]
    fn anchors_aliases_and_merge_keys() {
        let n = one("base: &b\n  privileged: true\n  user: 0\nc:\n  <<: *b\n  user: 1000\nd: *b\n");
        let c = n.get("c").unwrap();
        assert_eq!(c.get("privileged").unwrap().as_bool(), Some(true));
        assert_eq!(c.get("user").unwrap().as_i64(), Some(1000));
        assert_eq!(n.path(&["d", "privileged"]).unwrap().as_bool(), Some(true));
    }

    #[test]
    fn crlf_lines_are_counted_once() {
        let n = one("a: 1\r\nb:\r\n  c: 2\r\n");
        assert_eq!(n.path(&["b", "c"]).unwrap().pos, Pos::new(3, 6));
    }

    #[test]
    fn duplicate_keys_keep_the_last_value_and_are_reported() {
        let text = "a: 1\nb:\n  c: 2\n  c: 3\nd: 4\n";
        let (docs, dups) = parse_lenient(text).unwrap();
        assert_eq!(docs[0].path(&["b", "c"]).unwrap().as_i64(), Some(3));
        assert_eq!(docs[0].get("b").unwrap().entries().len(), 1);
        assert_eq!(dups.len(), 1);
        assert_eq!(dups[0].pos, Some(Pos::new(4, 3)));
        assert!(dups[0].message.contains("`c`"), "{}", dups[0].message);
        // Merge keys are not duplicates: an explicit key overrides the merged one.
        let (_, dups) = parse_lenient("base: &b\n  x: 1\nc:\n  <<: *b\n  x: 2\n").unwrap();
        assert!(dups.is_empty(), "{dups:?}");
        // `parse` refuses the file.
        assert!(parse(text).is_err());
    }

    #[test]
    fn errors_are_located() {
        let e = parse("a:\n\tb: 1\n").unwrap_err();
        assert_eq!(e.pos.map(|p| p.line), Some(2), "{e:?}");
        let e = parse("a: [1, 2\nb: 3\n").unwrap_err();
        assert!(e.pos.is_some(), "{e:?}");
    }

    #[test]
    fn duplicate_keys_are_errors_in_user_terms() {
        let e = parse("kind: Pod\nkind: Pod\n").unwrap_err();
        assert_eq!(e.pos, Some(Pos::new(2, 1)));
        assert!(!e.message.contains("DuplicateKeyPolicy"), "{}", e.message);
        assert!(e.message.contains("duplicate"), "{}", e.message);
    }

    #[test]
    fn tab_in_block_indentation_points_at_the_tab() {
        let e = parse("kind: Service\nmetadata:\n\tname: x\n").unwrap_err();
        assert_eq!(e.pos, Some(Pos::new(3, 1)), "{e:?}");
        assert!(e.message.contains("tab"), "{}", e.message);
        assert_eq!(
            first_tab_before("a:\n  \t\tb: 1\n", Pos::new(2, 5)),
            Pos::new(2, 3)
        );
        assert_eq!(first_tab_before("a: b\n", Pos::new(1, 4)), Pos::new(1, 4));
    }

    #[test]
    fn unclosed_flow_collection_is_located_at_its_bracket() {
        let e = parse("a:\n  args: [\"--port\", \"8080\"\n  ports: 1\n").unwrap_err();
        assert_eq!(e.pos, Some(Pos::new(2, 9)), "{e:?}");
        assert!(
            e.message.starts_with("unclosed bracket '['"),
            "{}",
            e.message
        );
        // Where the parser stopped is still named.
        assert!(e.message.contains("3:8"), "{}", e.message);
        let e = parse("a: {b: 1,\n  c: [1, d: 2\ne: 3\n").unwrap_err();
        assert!(e.message.starts_with("unclosed bracket '['"), "{e:?}");
        assert_eq!(e.pos, Some(Pos::new(2, 6)), "{e:?}");
    }

    #[test]
    fn errors_inside_a_closed_or_one_line_flow_collection_stay_where_they_are() {
        // Same line as the bracket: the message is the parser's own.
        let e = parse("a: [1, 2 b: c: d]\n").unwrap_err();
        assert!(!e.message.contains("unclosed"), "{e:?}");
        // A continuation line indented deeper than the bracket's line.
        assert_eq!(
            unclosed_flow("a: [1,\n     2: 3: 4]\n", Pos::new(2, 10)),
            None
        );
    }

    #[test]
    fn nesting_limit_is_in_user_terms() {
        let mut text = String::new();
        for i in 0..200 {
            text.push_str(&format!("{}k{i}:\n", "  ".repeat(i)));
        }
        // Test threads have small stacks; scans run on 8 MiB ones (see `crate::scan`).
        let e = std::thread::Builder::new()
            .stack_size(8 * 1024 * 1024)
            .spawn(move || parse(&text).unwrap_err())
            .unwrap()
            .join()
            .unwrap();
        assert_eq!(e.message, "nesting deeper than 128 levels; not scanned");
        assert_eq!(e.pos, Some(Pos::new(129, 257)));
    }

    #[test]
    fn no_budget_or_alias_limit_message_is_a_debug_value() {
        use serde_saphyr::{Error as E, Location};
        let location = Location::UNKNOWN;
        let breaches = [
            BudgetBreach::Events { events: 1 },
            BudgetBreach::Aliases { aliases: 1 },
            BudgetBreach::Anchors { anchors: 1 },
            BudgetBreach::Depth { depth: 1 },
            BudgetBreach::InclusionDepth { depth: 1 },
            BudgetBreach::Documents { documents: 1 },
            BudgetBreach::Nodes { nodes: 1 },
            BudgetBreach::ScalarBytes {
                total_scalar_bytes: 1,
            },
            BudgetBreach::MergeKeys { merge_keys: 1 },
            BudgetBreach::AliasAnchorRatio {
                aliases: 1,
                anchors: 1,
            },
            BudgetBreach::SequenceUnbalanced,
            BudgetBreach::InputBytes { input_bytes: 1 },
            BudgetBreach::RecordedAnchorEvents {
                recorded_anchor_events: 1,
            },
            BudgetBreach::RecordedAnchorBytes {
                recorded_anchor_bytes: 1,
            },
            BudgetBreach::PropertyExpansionDepth {
                depth: 1,
                max_depth: 1,
            },
            BudgetBreach::PropertyInterpolationWork {
                work: 1,
                max_work: 1,
            },
        ];
        let mut errors: Vec<E> = breaches
            .into_iter()
            .map(|breach| E::Budget { breach, location })
            .collect();
        errors.extend([
            E::AliasReplayCounterOverflow { location },
            E::AliasReplayLimitExceeded {
                total_replayed_events: 2,
                max_total_replayed_events: 1,
                location,
            },
            E::AliasExpansionLimitExceeded {
                anchor_id: 1,
                expansions: 2,
                max_expansions_per_anchor: 1,
                location,
            },
            E::AliasReplayStackDepthExceeded {
                depth: 2,
                max_depth: 1,
                location,
            },
        ]);
        for e in &errors {
            let m = message(e);
            assert!(!m.is_empty());
            for bad in ["{", "=", "budget", "breach", "_", "Options"] {
                assert!(!m.contains(bad), "{m:?} contains {bad:?}");
            }
        }
    }

    #[test]
    fn alias_bomb_message_is_whole_and_at_an_alias() {
        let mut text = String::from("a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n");
        for i in 1..12 {
            let p = i - 1;
            let refs = vec![format!("*a{p}"); 10].join(", ");
            text.push_str(&format!("a{i}: &a{i} [{refs}]\n"));
        }
        let e = parse(&text).unwrap_err();
        let pos = e.pos.unwrap();
        let line = text.lines().nth(pos.line as usize - 1).unwrap();
        let at: String = line.chars().skip(pos.column as usize - 1).take(2).collect();
        assert_eq!(at, "*a", "{e:?}");
        assert!(e.message.starts_with("alias bomb: "), "{}", e.message);
        assert!(e.message.ends_with("; not scanned"), "{}", e.message);
        assert_eq!(
            e.message.matches('(').count(),
            e.message.matches(')').count()
        );
        assert!(!e.message.contains(" at line "), "{}", e.message);
    }

    #[test]
    fn alias_bomb_is_refused_by_the_budget() {
        let mut text = String::from("a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n");
        for i in 1..12 {
            let p = i - 1;
            text.push_str(&format!(
                "a{i}: &a{i} [*a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}]\n"
            ));
        }
        // Refused by the replay budget (not by running out of memory or time: how fast
        // is measured in benches, not here).
        let e = parse(&text).unwrap_err();
        assert!(e.message.starts_with("alias bomb"), "{e:?}");
        assert!(e.limit && e.pos.is_some(), "{e:?}");
    }
}
