//! Strict JSON → [`Node`] with jsonc-parser (every lenient option off).

use super::node::LineIndex;
use super::{Entry, Node, ParseError, Value};
use jsonc_parser::ast;
use jsonc_parser::common::Ranged;

/// Parses one JSON document.
pub fn parse(text: &str) -> Result<Node, ParseError> {
    let lines = LineIndex::new(text);
    let opts = jsonc_parser::ParseOptions {
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
    let parsed = jsonc_parser::parse_to_ast(text, &Default::default(), &opts).map_err(|e| {
        let msg = e.kind().to_string();
        ParseError::at(lines.pos(e.range().start), msg)
    })?;
    match parsed.value {
        Some(v) => Ok(convert(&v, &lines)),
        None => Err(ParseError::at(lines.pos(0), "empty JSON document")),
    }
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
    fn deep_nesting_is_an_error_not_a_crash() {
        let text = "[".repeat(100_000) + &"]".repeat(100_000);
        assert!(parse(&text).is_err());
    }
}
