//! JSON → [`Node`]: a direct single-pass parser for valid RFC 8259 JSON (the common
//! case, and the one that must be fast: `terraform show -json` writes plans of tens of
//! megabytes on one line), and jsonc-parser, strict (every lenient option off), for
//! everything the fast parser refuses, so that errors are located and worded by one
//! parser; JSONC only to classify files that strict JSON refuses.

use super::node::LineIndex;
use super::{Entry, Node, ParseError, Pos, Value};
use jsonc_parser::ast;
use jsonc_parser::common::Ranged;

/// Parses one JSON document.
pub fn parse(text: &str) -> Result<Node, ParseError> {
    match Fast::new(text, None).document() {
        Ok(node) => Ok(node),
        Err(()) => parse_strict(text),
    }
}

/// Which values to leave out of the tree: called with the keys of the objects that
/// enclose an entry (array levels not counted), the entry's key and the entries read
/// so far of its object and of the objects around it, for entries at most
/// [`PRUNE_DEPTH`] objects deep. A pruned value is still checked, not built.
pub type Prune<'p> = &'p dyn Fn(&[String], &str, Objects) -> bool;

/// The entries read so far of the objects being read, innermost first.
#[derive(Clone, Copy)]
pub struct Objects<'a> {
    entries: &'a [Entry],
    /// Where each object's entries start in `entries`, outermost first.
    bases: &'a [usize],
}

impl<'a> Objects<'a> {
    /// The entries of the object `up` levels out (0: the entry's own object, 1: the
    /// object that holds it), when there is one.
    pub fn up(&self, up: usize) -> Option<&'a [Entry]> {
        let n = self.bases.len();
        let level = n.checked_sub(up + 1)?;
        let end = self
            .bases
            .get(level + 1)
            .copied()
            .unwrap_or(self.entries.len());
        Some(&self.entries[self.bases[level]..end])
    }

    /// The string value of `key` in the object `up` levels out.
    pub fn str(&self, up: usize, key: &str) -> Option<&'a str> {
        self.up(up)?
            .iter()
            .rev()
            .find(|e| e.key == key)
            .and_then(|e| e.value.as_str())
    }
}

/// Entries deeper than this many objects are never pruned.
pub const PRUNE_DEPTH: usize = 6;

/// Parses one JSON document, leaving out the entries `prune` names (a `terraform show
/// -json` plan repeats every resource's values several times over; the reader needs
/// one copy). The text is checked whole: an error anywhere is an error.
pub fn parse_pruned(text: &str, prune: Prune) -> Result<Node, ParseError> {
    match Fast::new(text, Some(prune)).document() {
        Ok(node) => Ok(node),
        Err(()) => parse_strict(text),
    }
}

/// Parses one JSON document with jsonc-parser alone, every lenient option off: slower,
/// but with its errors' positions and wording. [`parse`] gives the same result for
/// every text (the fuzz target `json_fast` checks it).
pub fn parse_strict(text: &str) -> Result<Node, ParseError> {
    let lines = LineIndex::new(text);
    let opts = STRICT;
    let parsed = jsonc_parser::parse_to_ast(text, &Default::default(), &opts);
    // jsonc-parser takes raw control characters into strings; of the two problems,
    // the one that comes first in the text is reported.
    let first_error = parsed.as_ref().err().map(|e| e.range().start);
    if let Some(raw) =
        raw_control_in_string(text).filter(|raw| first_error.is_none_or(|at| raw.found_at <= at))
    {
        return Err(ParseError::at(lines.pos(raw.report_at), raw.message));
    }
    let parsed = parsed.map_err(|e| error(&e, &lines))?;
    match parsed.value {
        Some(v) => Ok(convert(&v, &lines)),
        None => Err(ParseError::at(lines.pos(0), "empty JSON document")),
    }
}

/// Every lenient option off: RFC 8259 JSON.
const STRICT: jsonc_parser::ParseOptions = jsonc_parser::ParseOptions {
    allow_comments: false,
    allow_loose_object_property_names: false,
    allow_trailing_commas: false,
    allow_missing_commas: false,
    allow_single_quoted_strings: false,
    allow_hexadecimal_numbers: false,
    allow_unary_plus_numbers: false,
    allow_bare_decimal_point_numbers: false,
    allow_non_finite_numbers: false,
    allow_extended_string_escapes: false,
};

/// Parses JSON with comments and trailing commas (JSONC, as `tsconfig.json` and VS Code
/// settings are written), only to tell what a file that strict JSON refuses holds.
pub fn parse_lenient(text: &str) -> Result<Node, ParseError> {
    let lines = LineIndex::new(text);
    let opts = jsonc_parser::ParseOptions {
        allow_comments: true,
        allow_trailing_commas: true,
        ..STRICT
    };
    let parsed = jsonc_parser::parse_to_ast(text, &Default::default(), &opts)
        .map_err(|e| error(&e, &lines))?;
    match parsed.value {
        Some(v) => Ok(convert(&v, &lines)),
        None => Err(ParseError::at(lines.pos(0), "empty JSON document")),
    }
}

/// A jsonc-parser error at its position; nesting too deep is a broken limit.
fn error(e: &jsonc_parser::errors::ParseError, lines: &LineIndex) -> ParseError {
    let err = ParseError::at(lines.pos(e.range().start), e.kind().to_string());
    if matches!(
        e.kind(),
        jsonc_parser::errors::ParseErrorKind::NestingDepthExceeded
    ) {
        err.as_limit()
    } else {
        err
    }
}

/// A raw control character (U+0000 to U+001F) inside a string, which RFC 8259
/// forbids, or a string that is never closed.
struct RawControl {
    /// Byte offset of the character (the end of the text for an unclosed string).
    found_at: usize,
    /// Byte offset to report: the character, or the string's opening quote when the
    /// string runs into a line break or the end of the text.
    report_at: usize,
    message: String,
}

/// Finds the first raw control character inside a string. Strings are found the way
/// the strict parser finds them (`"` to `"`, backslash escapes), which is exact up to
/// the first syntax error the parser reports.
fn raw_control_in_string(text: &str) -> Option<RawControl> {
    let mut open: Option<usize> = None;
    let mut escaped = false;
    for (i, b) in text.bytes().enumerate() {
        let Some(quote) = open else {
            if b == b'"' {
                open = Some(i);
            }
            continue;
        };
        match b {
            b'\n' | b'\r' => {
                return Some(RawControl {
                    found_at: i,
                    report_at: quote,
                    message: "unterminated string: a line break inside a string \
                              (close it with `\"` on its line, or write the break as `\\n`)"
                        .to_string(),
                });
            }
            0..=0x1f => {
                let name = match b {
                    b'\t' => "tab, to write as `\\t`".to_string(),
                    0x08 => "backspace, to write as `\\b`".to_string(),
                    0x0c => "form feed, to write as `\\f`".to_string(),
                    _ => format!("to write as `\\u{b:04X}`"),
                };
                return Some(RawControl {
                    found_at: i,
                    report_at: i,
                    message: format!("raw control character U+{b:04X} inside a string ({name})"),
                });
            }
            _ if escaped => escaped = false,
            b'\\' => escaped = true,
            b'"' => open = None,
            _ => {}
        }
    }
    open.map(|quote| RawControl {
        found_at: text.len(),
        report_at: quote,
        message: "unterminated string".to_string(),
    })
}

fn convert(v: &ast::Value, lines: &LineIndex) -> Node {
    let pos = lines.pos(v.range().start);
    let value = match v {
        ast::Value::StringLit(s) => Value::Str(s.value.to_string()),
        ast::Value::NumberLit(n) => number(n.value),
        ast::Value::BooleanLit(b) => Value::Bool(b.value),
        ast::Value::NullKeyword(_) => Value::Null,
        ast::Value::Array(a) => Value::Seq(a.elements.iter().map(|e| convert(e, lines)).collect()),
        ast::Value::Object(o) => Value::Map(
            o.properties
                .iter()
                .map(|p| Entry {
                    key: p.name.as_str().to_string(),
                    key_pos: lines.pos(p.name.range().start),
                    value: convert(&p.value, lines),
                })
                .collect(),
        ),
    };
    Node::new(pos, value)
}

fn number(text: &str) -> Value {
    text.parse::<i64>()
        .map(Value::Int)
        .unwrap_or_else(|_| Value::Float(text.parse().unwrap_or(f64::NAN)))
}

/// Nesting deeper than this is left to jsonc-parser, which refuses it past 512.
const FAST_DEPTH: usize = 256;

/// The fast parser: one pass over the bytes, straight into [`Node`]s, positions
/// counted as it goes (a lookup never walks back). It accepts only RFC 8259 JSON and
/// gives up (`Err(())`) on anything else, a lone surrogate escape or nesting deeper than
/// [`FAST_DEPTH`] included, leaving the verdict and the error to jsonc-parser.
struct Fast<'a> {
    text: &'a str,
    bytes: &'a [u8],
    at: usize,
    /// Position bookkeeping: the byte, line and character column (0-based) last
    /// reached by [`Fast::pos`].
    seen: usize,
    line: u32,
    column: u32,
    depth: usize,
    prune: Option<Prune<'a>>,
    /// Keys of the enclosing objects, while pruning applies.
    path: Vec<String>,
    /// Where each enclosing object's entries start in `entries`, while pruning applies.
    bases: Vec<usize>,
    /// The entries and items of the objects and arrays being read.
    entries: Vec<Entry>,
    items: Vec<Node>,
}

type Fails<T> = Result<T, ()>;

impl<'a> Fast<'a> {
    fn new(text: &'a str, prune: Option<Prune<'a>>) -> Self {
        Fast {
            text,
            bytes: text.as_bytes(),
            at: 0,
            seen: 0,
            line: 1,
            column: 0,
            depth: 0,
            prune,
            path: Vec::new(),
            bases: Vec::new(),
            entries: Vec::new(),
            items: Vec::new(),
        }
    }

    fn document(mut self) -> Fails<Node> {
        self.ws();
        let node = self.value()?;
        self.ws();
        if self.at == self.bytes.len() {
            Ok(node)
        } else {
            Err(())
        }
    }

    /// The position of byte `offset`, which is never before the last one asked for.
    fn pos(&mut self, offset: usize) -> Pos {
        for &b in &self.bytes[self.seen..offset] {
            if b == b'\n' {
                self.line += 1;
                self.column = 0;
            } else if b & 0xC0 != 0x80 {
                self.column += 1;
            }
        }
        self.seen = offset;
        Pos::new(self.line, self.column + 1)
    }

    fn ws(&mut self) {
        while let Some(b' ' | b'\t' | b'\n' | b'\r') = self.bytes.get(self.at) {
            self.at += 1;
        }
    }

    fn peek(&self) -> Fails<u8> {
        self.bytes.get(self.at).copied().ok_or(())
    }

    fn expect(&mut self, b: u8) -> Fails<()> {
        if self.peek()? == b {
            self.at += 1;
            Ok(())
        } else {
            Err(())
        }
    }

    fn value(&mut self) -> Fails<Node> {
        let pos = self.pos(self.at);
        let value = match self.peek()? {
            b'{' => self.object()?,
            b'[' => self.array()?,
            b'"' => Value::Str(self.string()?),
            b't' => self.literal(b"true", Value::Bool(true))?,
            b'f' => self.literal(b"false", Value::Bool(false))?,
            b'n' => self.literal(b"null", Value::Null)?,
            _ => {
                let start = self.at;
                self.skip_number()?;
                number(&self.text[start..self.at])
            }
        };
        Ok(Node::new(pos, value))
    }

    fn literal(&mut self, word: &[u8], value: Value) -> Fails<Value> {
        if self.bytes[self.at..].starts_with(word) {
            self.at += word.len();
            Ok(value)
        } else {
            Err(())
        }
    }

    fn enter(&mut self) -> Fails<()> {
        self.depth += 1;
        if self.depth > FAST_DEPTH {
            Err(())
        } else {
            Ok(())
        }
    }

    fn object(&mut self) -> Fails<Value> {
        self.enter()?;
        self.at += 1;
        self.ws();
        if self.peek()? == b'}' {
            self.at += 1;
            self.depth -= 1;
            return Ok(Value::Map(Vec::new()));
        }
        // Entries are gathered on a stack shared by every object, then moved into a
        // vector of the exact size: one allocation per object, not one per doubling.
        let base = self.entries.len();
        // Pruning looks at entries this many objects deep.
        let pruning = self.prune.is_some() && self.path.len() < PRUNE_DEPTH;
        if pruning {
            self.bases.push(base);
        }
        loop {
            if self.peek()? != b'"' {
                return Err(());
            }
            let key_pos = self.pos(self.at);
            let key = self.string()?;
            self.ws();
            self.expect(b':')?;
            self.ws();
            let pruned = pruning
                && self.prune.is_some_and(|p| {
                    let objects = Objects {
                        entries: &self.entries,
                        bases: &self.bases,
                    };
                    p(&self.path, &key, objects)
                });
            if pruned {
                self.skip_value()?;
            } else if pruning {
                self.path.push(key);
                let value = self.value();
                let key = self.path.pop().expect("pushed");
                self.entries.push(Entry {
                    key,
                    key_pos,
                    value: value?,
                });
            } else {
                let value = self.value()?;
                self.entries.push(Entry {
                    key,
                    key_pos,
                    value,
                });
            }
            self.ws();
            match self.peek()? {
                b',' => {
                    self.at += 1;
                    self.ws();
                }
                b'}' => {
                    self.at += 1;
                    break;
                }
                _ => return Err(()),
            }
        }
        self.depth -= 1;
        if pruning {
            self.bases.pop();
        }
        Ok(Value::Map(self.entries.drain(base..).collect()))
    }

    fn array(&mut self) -> Fails<Value> {
        self.enter()?;
        self.at += 1;
        self.ws();
        if self.peek()? == b']' {
            self.at += 1;
            self.depth -= 1;
            return Ok(Value::Seq(Vec::new()));
        }
        let base = self.items.len();
        loop {
            let item = self.value()?;
            self.items.push(item);
            self.ws();
            match self.peek()? {
                b',' => {
                    self.at += 1;
                    self.ws();
                }
                b']' => {
                    self.at += 1;
                    break;
                }
                _ => return Err(()),
            }
        }
        self.depth -= 1;
        Ok(Value::Seq(self.items.drain(base..).collect()))
    }

    /// A string, decoded; `self.at` is on its opening quote.
    fn string(&mut self) -> Fails<String> {
        self.at += 1;
        let start = self.at;
        // The common case: no escape, copied as it is.
        loop {
            match *self.bytes.get(self.at).ok_or(())? {
                b'"' => {
                    let s = self.text[start..self.at].to_string();
                    self.at += 1;
                    return Ok(s);
                }
                b'\\' => break,
                0..=0x1f => return Err(()),
                _ => self.at += 1,
            }
        }
        let mut out = String::with_capacity(self.at - start + 16);
        out.push_str(&self.text[start..self.at]);
        loop {
            let run = self.at;
            loop {
                match *self.bytes.get(self.at).ok_or(())? {
                    b'"' | b'\\' => break,
                    0..=0x1f => return Err(()),
                    _ => self.at += 1,
                }
            }
            out.push_str(&self.text[run..self.at]);
            if self.bytes[self.at] == b'"' {
                self.at += 1;
                return Ok(out);
            }
            out.push(self.escape()?);
        }
    }

    /// An escape sequence; `self.at` is on its backslash.
    fn escape(&mut self) -> Fails<char> {
        let c = *self.bytes.get(self.at + 1).ok_or(())?;
        self.at += 2;
        Ok(match c {
            b'"' => '"',
            b'\\' => '\\',
            b'/' => '/',
            b'b' => '\u{8}',
            b'f' => '\u{c}',
            b'n' => '\n',
            b'r' => '\r',
            b't' => '\t',
            b'u' => {
                let high = self.hex4()?;
                match high {
                    0xD800..=0xDBFF => {
                        if self.bytes.get(self.at..self.at + 2) != Some(&b"\\u"[..]) {
                            return Err(());
                        }
                        self.at += 2;
                        let low = self.hex4()?;
                        if !(0xDC00..=0xDFFF).contains(&low) {
                            return Err(());
                        }
                        let code = 0x10000 + ((high - 0xD800) << 10) + (low - 0xDC00);
                        char::from_u32(code).ok_or(())?
                    }
                    0xDC00..=0xDFFF => return Err(()),
                    _ => char::from_u32(high).ok_or(())?,
                }
            }
            _ => return Err(()),
        })
    }

    fn hex4(&mut self) -> Fails<u32> {
        let digits = self.bytes.get(self.at..self.at + 4).ok_or(())?;
        let mut v = 0;
        for &d in digits {
            v = v * 16 + (d as char).to_digit(16).ok_or(())?;
        }
        self.at += 4;
        Ok(v)
    }

    /// `-? (0 | [1-9][0-9]*) (. [0-9]+)? ([eE] [+-]? [0-9]+)?`
    fn skip_number(&mut self) -> Fails<()> {
        let digits = |p: &mut Self| {
            let start = p.at;
            while p.bytes.get(p.at).is_some_and(u8::is_ascii_digit) {
                p.at += 1;
            }
            if p.at > start {
                Ok(())
            } else {
                Err(())
            }
        };
        if self.bytes.get(self.at) == Some(&b'-') {
            self.at += 1;
        }
        if self.bytes.get(self.at) == Some(&b'0') {
            self.at += 1;
        } else {
            digits(self)?;
        }
        if self.bytes.get(self.at) == Some(&b'.') {
            self.at += 1;
            digits(self)?;
        }
        if let Some(b'e' | b'E') = self.bytes.get(self.at) {
            self.at += 1;
            if let Some(b'+' | b'-') = self.bytes.get(self.at) {
                self.at += 1;
            }
            digits(self)?;
        }
        Ok(())
    }

    /// Checks a value without building it.
    fn skip_value(&mut self) -> Fails<()> {
        match self.peek()? {
            b'{' | b'[' => {
                self.enter()?;
                let close = if self.bytes[self.at] == b'{' {
                    b'}'
                } else {
                    b']'
                };
                let object = close == b'}';
                self.at += 1;
                self.ws();
                if self.peek()? == close {
                    self.at += 1;
                    self.depth -= 1;
                    return Ok(());
                }
                loop {
                    if object {
                        if self.peek()? != b'"' {
                            return Err(());
                        }
                        self.skip_string()?;
                        self.ws();
                        self.expect(b':')?;
                        self.ws();
                    }
                    self.skip_value()?;
                    self.ws();
                    match self.peek()? {
                        b',' => {
                            self.at += 1;
                            self.ws();
                        }
                        b if b == close => {
                            self.at += 1;
                            break;
                        }
                        _ => return Err(()),
                    }
                }
                self.depth -= 1;
                Ok(())
            }
            b'"' => self.skip_string(),
            b't' => self.literal(b"true", Value::Null).map(drop),
            b'f' => self.literal(b"false", Value::Null).map(drop),
            b'n' => self.literal(b"null", Value::Null).map(drop),
            _ => self.skip_number(),
        }
    }

    fn skip_string(&mut self) -> Fails<()> {
        self.at += 1;
        loop {
            match *self.bytes.get(self.at).ok_or(())? {
                b'"' => {
                    self.at += 1;
                    return Ok(());
                }
                b'\\' => {
                    self.escape()?;
                }
                0..=0x1f => return Err(()),
                _ => self.at += 1,
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::parse::Pos;

    #[test]
    fn positions_of_keys_and_values() {
        let n =
            parse("{\n  \"Statement\": [\n    {\"Action\": \"*\", \"n\": 1.5}\n  ]\n}").unwrap();
        let st = &n.get("Statement").unwrap().items()[0];
        assert_eq!(st.pos, Pos::new(3, 5));
        assert_eq!(st.entry("Action").unwrap().key_pos, Pos::new(3, 6));
        assert_eq!(st.get("n").unwrap().value, Value::Float(1.5));
    }

    #[test]
    fn lenient_syntax_is_rejected_with_position() {
        let e = parse("{\n  \"a\": 1,\n}").unwrap_err();
        assert!(matches!(e.pos, Some(Pos { line: 2 | 3, .. })), "{e:?}");
        assert!(parse("{'a': 1}").is_err());
        assert!(parse("// c\n{}").is_err());
    }

    #[test]
    fn raw_line_break_in_a_string_is_an_error_at_its_quote() {
        let e = parse("{\n  \"Sid\": \"Read\nOrders\",\n  \"n\": 1\n}").unwrap_err();
        assert_eq!(e.pos, Some(Pos::new(2, 10)), "{e:?}");
        assert!(
            e.message.starts_with("unterminated string"),
            "{}",
            e.message
        );
        // A forgotten closing quote: not the next line's token.
        let text = "{\n  \"Action\": \"dynamodb:*,\n  \"Resource\": \"*\"\n}\n";
        assert_eq!(parse(text).unwrap_err().pos, Some(Pos::new(2, 13)));
        let e = parse("[\"a\r\nb\"]").unwrap_err();
        assert_eq!(e.pos, Some(Pos::new(1, 2)), "{e:?}");
    }

    #[test]
    fn raw_control_characters_in_strings_are_errors_at_the_character() {
        let e = parse("{\"a\": \"x\ty\"}").unwrap_err();
        assert_eq!(e.pos, Some(Pos::new(1, 9)), "{e:?}");
        assert!(
            e.message.contains("U+0009") && e.message.contains("tab"),
            "{e:?}"
        );
        let e = parse("[\"é\u{1}\"]").unwrap_err();
        assert_eq!(e.pos, Some(Pos::new(1, 4)), "{e:?}");
        assert!(e.message.contains("\\u0001"), "{}", e.message);
        // Escaped, they are fine; so are tabs and line breaks between tokens.
        let n = parse("{\t\"a\\\"\": \"x\\ty\\n\",\r\n\"b\": \"\\\\\"}").unwrap();
        assert_eq!(n.get("a\"").unwrap().as_str(), Some("x\ty\n"));
        assert_eq!(n.get("b").unwrap().as_str(), Some("\\"));
    }

    #[test]
    fn the_first_problem_in_the_text_is_reported() {
        // A syntax error before the raw control character.
        let e = parse("{\"a\": 1,,\n \"b\": \"x\ty\"}").unwrap_err();
        assert_eq!(e.pos, Some(Pos::new(1, 9)), "{e:?}");
        // A raw control character before a syntax error.
        let e = parse("{\"a\": \"x\ty\",,}").unwrap_err();
        assert_eq!(e.pos, Some(Pos::new(1, 9)), "{e:?}");
        assert!(e.message.contains("U+0009"), "{e:?}");
        // A string cut off at the end of the text: at its quote.
        let e = parse("{\"a\": \"dynamo").unwrap_err();
        assert_eq!(e.pos, Some(Pos::new(1, 7)), "{e:?}");
        assert!(e.message.to_lowercase().contains("unterminated"), "{e:?}");
    }

    /// The fast parser gives what jsonc-parser gives, positions included, or leaves
    /// the document to it.
    #[test]
    fn the_fast_parser_agrees_with_the_strict_one() {
        for text in [
            "{}",
            "[]",
            " \r\n\t[1, -0, 0.5, -1.5e3, 1E+2, 12345678901234567890, 1e400, true, false, null]",
            "{\"a\": {\"b\": [\"x\", {\"c\": \"\\u00e9\\ud83d\\ude00\\n\\\"\\/\\\\\"}]}, \"a\": 2}",
            "{\"é\": \"𝄞 €\",\n  \"k\": [\n    \"ü\", 1\n  ]}",
            "\"\\u0000\\b\\f\\t\"",
            "[[[[[]]]]]",
        ] {
            let fast = Fast::new(text, None).document().expect(text);
            assert_eq!(Ok(fast), parse_strict(text), "{text}");
        }
        // Not RFC 8259, or left to jsonc-parser: the fast parser gives up.
        for text in [
            "",
            " ",
            "{",
            "[1,]",
            "{\"a\":1,}",
            "01",
            "1.",
            ".5",
            "+1",
            "-",
            "1e",
            "0x10",
            "'a'",
            "{a: 1}",
            "\"\t\"",
            "\"\\x\"",
            "\"\\ud800\"",
            "\"\\udc00x\"",
            "[1] 2",
            "tru",
            "nul",
            "// c\n{}",
            "\"abc",
        ] {
            assert!(Fast::new(text, None).document().is_err(), "{text:?}");
        }
        let deep = "[".repeat(300) + &"]".repeat(300);
        assert!(Fast::new(&deep, None).document().is_err());
        assert_eq!(parse(&deep), parse_strict(&deep));
    }

    #[test]
    fn pruned_entries_are_checked_but_left_out() {
        let text =
            "{\"k\": \"v\", \"keep\": {\"drop\": [1, {\"x\": 2}], \"b\": 3}, \"drop\": \"top\"}";
        let prune = |path: &[String], key: &str, o: Objects| {
            key == "drop" && path.len() == 1 && o.str(1, "k") == Some("v") && o.up(2).is_none()
        };
        let n = parse_pruned(text, &prune).unwrap();
        assert_eq!(n.path(&["keep", "b"]).unwrap().pos, Pos::new(1, 49));
        assert!(n.path(&["keep", "drop"]).is_none());
        assert_eq!(n.get("drop").and_then(Node::as_str), Some("top"));
        // An error inside a pruned value is still an error, worded by jsonc-parser.
        let e = parse_pruned("{\"k\": \"v\", \"keep\": {\"drop\": [1,]}}", &prune).unwrap_err();
        assert_eq!(e.pos, Some(Pos::new(1, 31)), "{e:?}");
        assert_eq!(e.message, "Trailing commas are not allowed");
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(300))]
        /// Any JSON value, written compactly or pretty, parses the same both ways.
        #[test]
        fn any_json_parses_the_same_both_ways(v in json_value(), pretty: bool) {
            let text = if pretty {
                serde_json::to_string_pretty(&v).unwrap()
            } else {
                serde_json::to_string(&v).unwrap()
            };
            let fast = Fast::new(&text, None).document();
            proptest::prop_assert!(fast.is_ok(), "{}", text);
            proptest::prop_assert_eq!(Ok(fast.unwrap()), parse_strict(&text));
        }
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(2000))]
        /// Any text at all, JSON or nearly: `parse` gives what jsonc-parser alone gives,
        /// errors included.
        #[test]
        fn any_text_parses_as_jsonc_parser_says(text in "[ \t\r\n{}\\[\\]:,\"\\\\/a-z0-9.eE+\\-éu]{0,40}") {
            proptest::prop_assert_eq!(parse(&text), parse_strict(&text), "{:?}", text);
        }
    }

    fn json_value() -> impl proptest::strategy::Strategy<Value = serde_json::Value> {
        use proptest::prelude::*;
        let leaf = prop_oneof![
            Just(serde_json::Value::Null),
            any::<bool>().prop_map(serde_json::Value::from),
            any::<i64>().prop_map(serde_json::Value::from),
            any::<f64>()
                .prop_filter("finite", |f| f.is_finite())
                .prop_map(serde_json::Value::from),
            "\\PC{0,12}".prop_map(serde_json::Value::from),
            "[a-z\"\\\\/\u{0}-\u{1f}é€𝄞]{0,8}".prop_map(serde_json::Value::from),
        ];
        leaf.prop_recursive(4, 48, 6, |inner| {
            prop_oneof![
                proptest::collection::vec(inner.clone(), 0..6).prop_map(serde_json::Value::from),
                proptest::collection::vec(("\\PC{0,6}", inner), 0..6)
                    .prop_map(|kv| { serde_json::Value::Object(kv.into_iter().collect()) }),
            ]
        })
    }

    #[test]
    fn deep_nesting_is_an_error_not_a_crash() {
        let text = "[".repeat(100_000) + &"]".repeat(100_000);
        assert!(parse(&text).is_err());
    }
}
