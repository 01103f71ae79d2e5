//! YAML → [`Node`] with serde-saphyr, read the way Kubernetes reads manifests:
//! multi-document, YAML 1.1 booleans, legacy octal numbers, merge keys, and
//! budgets that stop alias bombs and runaway nesting before they expand.

use super::{Entry, Node, ParseError, Pos, Value};
use serde::de::{self, Deserialize, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_saphyr::{budget::Budget, Spanned};
use std::fmt;

/// Deepest nesting accepted; real manifests (CRD schemas included) stay far below.
const MAX_DEPTH: usize = 128;

/// Parses every document of a YAML stream. Empty documents become `Null` nodes.
pub fn parse(text: &str) -> Result<Vec<Node>, ParseError> {
    let docs: Vec<YamlNode> =
        serde_saphyr::from_multiple_with_options(text, options()).map_err(|e| {
            let pos = e
                .location()
                .filter(|l| l.line() > 0)
                .map(|l| Pos::new(l.line() as u32, l.column() as u32));
            ParseError {
                pos,
                message: first_line(&e.to_string()),
            }
        })?;
    Ok(docs.into_iter().map(|d| d.0).collect())
}

fn options() -> serde_saphyr::Options {
    let mut budget = Budget::default();
    // Defaults suit config files; a large manifest bundle (10 MB and more) needs room.
    budget.max_events = 50_000_000;
    budget.max_nodes = 20_000_000;
    budget.max_documents = 1_000_000;
    budget.max_depth = MAX_DEPTH;
    budget.max_reader_input_bytes = None;
    let mut opts = serde_saphyr::Options::default();
    opts.budget = Some(budget);
    // Aliases in real manifests copy a few small blocks; a bomb replays millions.
    opts.alias_limits.max_total_replayed_events = 200_000;
    opts.legacy_octal_numbers = true;
    opts.with_snippet = false;
    opts.emit_comments = false;
    opts
}

/// serde-saphyr messages may end with a location, a snippet or advice meant for
/// programmers using the library; keep the first line, in the user's terms.
fn first_line(msg: &str) -> String {
    let mut line = msg.lines().next().unwrap_or(msg).trim();
    if let Some(i) = line.rfind(" at line ") {
        line = &line[..i];
    }
    if let Some(i) = line.find(", set DuplicateKeyPolicy") {
        return format!("{} (Kubernetes rejects duplicate fields)", &line[..i]);
    }
    line.to_string()
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
    fn alias_bomb_is_refused_quickly() {
        let mut text = String::from("a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n");
        for i in 1..12 {
            let p = i - 1;
            text.push_str(&format!(
                "a{i}: &a{i} [*a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}]\n"
            ));
        }
        let start = std::time::Instant::now();
        let e = parse(&text).unwrap_err();
        assert!(start.elapsed().as_secs() < 5, "took {:?}", start.elapsed());
        assert!(e.pos.is_some(), "{e:?}");
    }
}
