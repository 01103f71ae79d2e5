//! HCL (Terraform) parsing and expression evaluation.
//!
//! Parsing uses `hcl-edit`, which keeps the byte span of every expression, so values
//! keep the line they were written on. Evaluation is our own (`eval`): Terraform's
//! semantics with *unknown* as a first-class value (a variable without value, an
//! attribute known only after apply, a function breakout does not implement), so an
//! unresolvable reference makes a value unknown instead of failing the file.

pub mod eval;
pub mod funcs;
pub mod json_syntax;
pub mod value;

use super::{LineIndex, ParseError};
pub use hcl_edit::structure::Body;

/// Parses a `.tf` file.
pub fn parse(text: &str) -> Result<Body, ParseError> {
    hcl_edit::parser::parse_body(text).map_err(|e| {
        let pos = LineIndex::new(text).pos(e.location().offset());
        let message = e.message().trim().replace('\n', " ");
        ParseError::at(pos, format!("HCL syntax error: {message}"))
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::parse::Pos;

    #[test]
    fn syntax_errors_are_located() {
        let e = parse("resource \"a\" \"b\" {\n  x = \n}\n").unwrap_err();
        assert_eq!(e.pos.map(|p| p.line), Some(2));
        let e = parse("locals {\n  a = [1, 2\n}\n").unwrap_err();
        assert!(e.pos.is_some(), "{e:?}");
        assert!(e.message.starts_with("HCL syntax error"));
        let deep = format!("x = {}1{}", "[".repeat(500), "]".repeat(500));
        let e = parse(&deep).unwrap_err();
        assert_eq!(e.pos.map(|p| p.line), Some(1));
        assert!(parse("a = 1\n").is_ok());
        let _ = Pos::default();
    }
}
