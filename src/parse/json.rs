//! JSON → [`Node`] with jsonc-parser: strict (every lenient option off) for our inputs, JSONC only to classify files that strict JSON refuses.

use super::node::LineIndex;
use super::{Entry, Node, ParseError, Value};
use jsonc_parser::ast;
use jsonc_parser::common::Ranged;

/// Parses one JSON document.
pub fn parse(text: &str) -> Result<Node, ParseError> {
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

    #[test]
    fn deep_nesting_is_an_error_not_a_crash() {
        let text = "[".repeat(100_000) + &"]".repeat(100_000);
        assert!(parse(&text).is_err());
    }
}
