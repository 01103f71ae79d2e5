//! Terraform's JSON syntax (`.tf.json`) → native syntax, line for line.
//!
//! In `.tf.json` every string is a template (`"${var.x}"`) and every object may be a
//! block or a map. The evaluator reads both the same way (nested blocks become lists of
//! objects, as in plan JSON), so a `.tf.json` file is rewritten as native syntax with
//! every key on the line it had in the JSON: findings keep their lines.

use crate::parse::{Node, Value};

/// Top-level keys whose objects are labelled blocks, with their number of labels.
const BLOCKS: &[(&str, usize)] = &[
    ("resource", 2),
    ("data", 2),
    ("variable", 1),
    ("module", 1),
    ("output", 1),
    ("locals", 0),
];

/// Rewrites a parsed `.tf.json` document as native HCL text.
pub fn to_hcl(doc: &Node) -> String {
    let mut w = Writer::default();
    for e in doc.entries() {
        let Some(&(_, labels)) = BLOCKS.iter().find(|(k, _)| *k == e.key) else {
            continue; // provider, terraform, moved, import, …: nothing to evaluate
        };
        w.block_level(&e.key, &[], &e.value, labels);
    }
    w.out
}

#[derive(Default)]
struct Writer {
    out: String,
    line: u32,
}

impl Writer {
    /// Moves to `line` (1-based) with newlines, never backwards.
    fn at(&mut self, line: u32) {
        let line = line.max(1);
        if self.line == 0 {
            self.line = 1;
        }
        while self.line < line {
            self.out.push('\n');
            self.line += 1;
        }
    }

    fn push(&mut self, s: &str) {
        self.line += s.matches('\n').count() as u32;
        self.out.push_str(s);
    }

    /// `{ "type": { "name": {body} } }` down to the body, collecting labels; a list of
    /// bodies repeats the block.
    fn block_level(&mut self, kind: &str, labels: &[String], node: &Node, remaining: usize) {
        if remaining == 0 {
            for body in bodies(node) {
                self.at(body.pos.line);
                self.push(kind);
                for l in labels {
                    self.push(&format!(" {}", quote(l)));
                }
                self.push(" {");
                self.body(body);
                self.push("\n}\n");
            }
            return;
        }
        for e in node.entries() {
            let mut next = labels.to_vec();
            next.push(e.key.clone());
            self.block_level(kind, &next, &e.value, remaining - 1);
        }
    }

    fn body(&mut self, body: &Node) {
        for e in body.entries() {
            if e.key == "//" {
                continue; // a comment
            }
            self.push("\n");
            self.at(e.key_pos.line);
            if is_identifier(&e.key) {
                self.push(&e.key);
            } else {
                continue;
            }
            self.push(" = ");
            self.value(&e.value);
        }
    }

    fn value(&mut self, v: &Node) {
        match &v.value {
            Value::Null => self.push("null"),
            Value::Bool(b) => self.push(&b.to_string()),
            Value::Int(i) => self.push(&i.to_string()),
            Value::Float(f) => self.push(&f.to_string()),
            Value::Str(s) => self.push(&template(s)),
            Value::Unknown => self.push("null"),
            Value::Seq(items) => {
                self.push("[");
                for (i, item) in items.iter().enumerate() {
                    if i > 0 {
                        self.push(",");
                    }
                    self.at(item.pos.line);
                    self.value(item);
                }
                self.push("]");
            }
            Value::Map(entries) => {
                self.push("{");
                for (i, e) in entries.iter().enumerate() {
                    if i > 0 {
                        self.push(",");
                    }
                    self.at(e.key_pos.line);
                    self.push(&quote(&e.key));
                    self.push(" = ");
                    self.value(&e.value);
                }
                self.push("}");
            }
        }
    }
}

/// A block body, or each body of a list of bodies.
fn bodies(node: &Node) -> Vec<&Node> {
    match &node.value {
        Value::Seq(items) => items.iter().filter(|i| i.is_map()).collect(),
        Value::Map(_) => vec![node],
        _ => Vec::new(),
    }
}

fn is_identifier(s: &str) -> bool {
    let mut chars = s.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
}

/// A literal string as a quoted HCL string (no interpolation).
fn quote(s: &str) -> String {
    let mut out = String::from("\"");
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '$' => out.push_str("$$"),
            '%' => out.push_str("%%"),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// A JSON-syntax string as a quoted HCL template: `${…}` and `%{…}` sequences stay
/// templates (their insides unescaped, as HCL reads them), the rest is escaped.
fn template(s: &str) -> String {
    let mut out = String::from("\"");
    let chars: Vec<char> = s.chars().collect();
    let mut i = 0;
    let mut depth = 0usize;
    while i < chars.len() {
        let c = chars[i];
        if depth == 0 {
            if (c == '$' || c == '%') && chars.get(i + 1) == Some(&'{') {
                // `$${` is a literal `${` in both syntaxes.
                if i > 0 && chars[i - 1] == c && out.ends_with(c) {
                    out.push(c);
                    out.push('{');
                    i += 2;
                    continue;
                }
                depth = 1;
                out.push(c);
                out.push('{');
                i += 2;
                continue;
            }
            match c {
                '"' => out.push_str("\\\""),
                '\\' => out.push_str("\\\\"),
                '\n' => out.push_str("\\n"),
                '\r' => out.push_str("\\r"),
                '\t' => out.push_str("\\t"),
                c => out.push(c),
            }
        } else {
            match c {
                '{' => depth += 1,
                '}' => depth -= 1,
                _ => {}
            }
            out.push(c);
        }
        i += 1;
    }
    out.push('"');
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::parse::json;

    #[test]
    fn blocks_keep_their_lines() {
        let text = r#"{
  "variable": {"env": {"default": "prod"}},
  "resource": {
    "aws_iam_policy": {
      "app": {
        "name": "app-${var.env}",
        "policy": "${jsonencode({Statement = [{Effect = \"Allow\", Action = \"dynamodb:*\", Resource = \"*\"}]})}"
      }
    }
  }
}"#;
        let hcl = to_hcl(&json::parse(text).unwrap());
        let body = crate::parse::hcl::parse(&hcl).unwrap_or_else(|e| panic!("{e:?}\n{hcl}"));
        let lines: Vec<&str> = hcl.lines().collect();
        assert!(lines[5].contains("name = \"app-${var.env}\""), "{hcl}");
        assert!(lines[6].trim_start().starts_with("policy = "), "{hcl}");
        assert_eq!(body.blocks().count(), 2);
    }

    #[test]
    fn strings_are_escaped_outside_templates() {
        assert_eq!(template(r#"a "b" ${x["k"]}"#), r#""a \"b\" ${x["k"]}""#);
        assert_eq!(template("$${literal}"), "\"$${literal}\"");
        assert_eq!(quote("50% ${x}"), "\"50%% $${x}\"");
    }
}
