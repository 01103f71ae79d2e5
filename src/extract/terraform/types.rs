//! Type constraints of Terraform variables (`type = ...`) and the conversion of a value
//! to them, as Terraform does before a module sees `var.x`.
//!
//! Rules followed (Terraform language documentation, "Type Constraints" and "Input
//! Variables"; the conversions are those of `cty`, which Terraform uses):
//! - primitive conversion: a number or bool becomes a string (`3` → `"3"`, `true` →
//!   `"true"`); a string becomes a number when it is one (`"2"` → `2`) and a bool when it
//!   is `"true"`/`"false"` (or `"1"`/`"0"`);
//! - `list(T)`, `set(T)` and `tuple([...])` take lists, tuples and sets; `map(T)` and
//!   `object({...})` take maps and objects; each element is converted to its type; a set
//!   of strings, numbers or bools loses duplicates and is ordered as Terraform orders it;
//! - `object({...})` keeps only its declared attributes (others are discarded); an
//!   `optional(T)` attribute that is absent or null is null, an `optional(T, default)`
//!   one is the default, converted to `T` (so nested defaults apply too, top-down);
//! - `any` keeps the value as it is; `list`, `map` (and `set`) alone mean `list(any)`,
//!   `map(any)`, `set(any)`;
//! - null and unknown are kept as they are, at every depth: null is "not set", unknown is
//!   "decided at apply", and no conversion turns one into the other.
//!
//! A value that does not convert (Terraform would refuse the module) is kept as it is,
//! so nothing breakout can still judge is lost. The pre-0.12 quoted forms (`"string"`,
//! `"list"`, `"map"`) that Terraform now refuses are read as what they meant.

use crate::parse::hcl::value::{format_num, Val, V};
use hcl_edit::expr::{Expression, ObjectKey};
use std::collections::BTreeMap;

/// A type constraint.
#[derive(Clone, Debug, PartialEq)]
pub enum Type {
    /// `any`: the value as it is.
    Any,
    /// `string`.
    String,
    /// `number`.
    Number,
    /// `bool`.
    Bool,
    /// `list(T)`.
    List(Box<Type>),
    /// `set(T)`.
    Set(Box<Type>),
    /// `map(T)`.
    Map(Box<Type>),
    /// `object({ name = T, ... })`.
    Object(BTreeMap<String, Attribute>),
    /// `tuple([T, ...])`.
    Tuple(Vec<Type>),
}

/// One attribute of an object type.
#[derive(Clone, Debug, PartialEq)]
pub struct Attribute {
    /// Its type.
    pub ty: Type,
    /// `optional(...)`: it may be left out (or null).
    pub optional: bool,
    /// `optional(T, default)`: the value it takes when left out or null.
    pub default: Option<V>,
}

impl Type {
    /// Reads a type expression. `default` evaluates the default of an
    /// `optional(T, default)` (a constant expression). `None` for an expression that is
    /// not a type constraint.
    pub fn parse(e: &Expression, default: &dyn Fn(&Expression) -> V) -> Option<Type> {
        Some(match e {
            Expression::Parenthesis(p) => return Type::parse(p.inner(), default),
            Expression::Variable(name) => keyword(name.value().as_str())?,
            // Terraform 0.11's quoted forms.
            Expression::String(s) => match s.value().as_str() {
                "string" => Type::String,
                "list" => Type::List(Box::new(Type::Any)),
                "map" => Type::Map(Box::new(Type::Any)),
                _ => return None,
            },
            Expression::FuncCall(call) => {
                let args: Vec<&Expression> = call.args.iter().collect();
                let name = call.name.name.value().as_str();
                match (name, args.as_slice()) {
                    ("list", [t]) => Type::List(Box::new(Type::parse(t, default)?)),
                    ("set", [t]) => Type::Set(Box::new(Type::parse(t, default)?)),
                    ("map", [t]) => Type::Map(Box::new(Type::parse(t, default)?)),
                    ("tuple", [Expression::Array(items)]) => Type::Tuple(
                        items
                            .iter()
                            .map(|t| Type::parse(t, default))
                            .collect::<Option<_>>()?,
                    ),
                    ("object", [Expression::Object(o)]) => {
                        let mut attrs = BTreeMap::new();
                        for (key, value) in o.iter() {
                            let name = match key {
                                ObjectKey::Ident(id) => id.value().to_string(),
                                ObjectKey::Expression(Expression::String(s)) => {
                                    s.value().to_string()
                                }
                                ObjectKey::Expression(Expression::Variable(v)) => {
                                    v.value().to_string()
                                }
                                _ => return None,
                            };
                            attrs.insert(name, Attribute::parse(value.expr(), default)?);
                        }
                        Type::Object(attrs)
                    }
                    _ => return None,
                }
            }
            _ => return None,
        })
    }

    /// Whether Terraform reads a `-var`/`TF_VAR_` value for this type as a literal
    /// string (primitive types) rather than as HCL (everything else, `any` included).
    pub fn is_primitive(&self) -> bool {
        matches!(self, Type::String | Type::Number | Type::Bool)
    }

    /// Converts `v` to this type, applying optional attributes' defaults at every depth.
    pub fn convert(&self, v: V) -> V {
        let V {
            pos,
            file,
            val,
            open,
            partial,
        } = v;
        let keep = |val| V {
            pos,
            file,
            val,
            open,
            partial,
        };
        let made = |val| V::new(pos, file, val);
        match (self, val) {
            (_, val @ (Val::Null | Val::Unknown)) | (Type::Any, val) => keep(val),
            (Type::String, Val::Num(n)) => made(Val::Str(format_num(n))),
            (Type::String, Val::Bool(b)) => made(Val::Str(b.to_string())),
            (Type::Number, Val::Str(s)) => match s.trim().parse::<f64>() {
                Ok(n) if s.trim() == s && !s.is_empty() && n.is_finite() => made(Val::Num(n)),
                _ => keep(Val::Str(s)),
            },
            (Type::Bool, Val::Str(s)) => match s.as_str() {
                "true" | "1" => made(Val::Bool(true)),
                "false" | "0" => made(Val::Bool(false)),
                _ => keep(Val::Str(s)),
            },
            (Type::List(t), Val::List(items)) => {
                keep(Val::List(items.into_iter().map(|i| t.convert(i)).collect()))
            }
            (Type::Set(t), Val::List(items)) => keep(Val::List(set_order(
                items.into_iter().map(|i| t.convert(i)),
            ))),
            (Type::Tuple(ts), Val::List(items)) if ts.len() == items.len() => keep(Val::List(
                ts.iter().zip(items).map(|(t, i)| t.convert(i)).collect(),
            )),
            (Type::Map(t), Val::Map(m)) => keep(Val::Map(
                m.into_iter()
                    .map(|(k, (kp, i))| (k, (kp, t.convert(i))))
                    .collect(),
            )),
            (Type::Object(attrs), Val::Map(mut m)) => {
                let mut out = BTreeMap::new();
                for (name, attr) in attrs {
                    let given = m.remove(name);
                    let (kpos, value) = match (given, &attr.default) {
                        // Left out or null: the default, converted (nested defaults too).
                        (None, Some(d)) => (d.pos, attr.ty.convert(d.clone())),
                        (Some((kp, g)), Some(d)) if g.val == Val::Null => {
                            (kp, attr.ty.convert(d.clone()))
                        }
                        (Some((kp, g)), _) => (kp, attr.ty.convert(g)),
                        (None, None) if attr.optional => (pos, V::new(pos, file, Val::Null)),
                        // A required attribute left out: Terraform refuses the value;
                        // reading the attribute stays an error.
                        (None, None) => continue,
                    };
                    out.insert(name.clone(), (kpos, value));
                }
                keep(Val::Map(out))
            }
            (_, val) => keep(val),
        }
    }
}

impl Attribute {
    fn parse(e: &Expression, default: &dyn Fn(&Expression) -> V) -> Option<Attribute> {
        if let Expression::FuncCall(call) = e {
            if call.name.name.value().as_str() == "optional" {
                let args: Vec<&Expression> = call.args.iter().collect();
                let (ty, value) = match args.as_slice() {
                    [t] => (Type::parse(t, default)?, None),
                    [t, d] => (Type::parse(t, default)?, Some(default(d))),
                    _ => return None,
                };
                return Some(Attribute {
                    ty,
                    optional: true,
                    default: value.filter(|v| !matches!(v.val, Val::Null)),
                });
            }
        }
        Some(Attribute {
            ty: Type::parse(e, default)?,
            optional: false,
            default: None,
        })
    }
}

/// A type keyword written alone.
fn keyword(name: &str) -> Option<Type> {
    Some(match name {
        "any" => Type::Any,
        "string" => Type::String,
        "number" => Type::Number,
        "bool" => Type::Bool,
        "list" => Type::List(Box::new(Type::Any)),
        "map" => Type::Map(Box::new(Type::Any)),
        "set" => Type::Set(Box::new(Type::Any)),
        _ => return None,
    })
}

/// A set's elements: without duplicates, and for primitives in Terraform's order
/// (strings lexically, numbers by value, `false` before `true`). Other elements keep
/// their order.
fn set_order(items: impl Iterator<Item = V>) -> Vec<V> {
    let mut out: Vec<V> = Vec::new();
    for i in items {
        if !out.iter().any(|o| same(o, &i)) {
            out.push(i);
        }
    }
    let rank = |v: &V| match &v.val {
        Val::Str(_) | Val::Num(_) | Val::Bool(_) => Some(()),
        _ => None,
    };
    if out.iter().all(|v| rank(v).is_some()) {
        out.sort_by(|a, b| match (&a.val, &b.val) {
            (Val::Num(x), Val::Num(y)) => x.total_cmp(y),
            (Val::Bool(x), Val::Bool(y)) => x.cmp(y),
            (Val::Str(x), Val::Str(y)) => x.cmp(y),
            _ => std::cmp::Ordering::Equal,
        });
    }
    out
}

/// Equal values, wherever they were written; unknown is never equal to anything.
fn same(a: &V, b: &V) -> bool {
    match (&a.val, &b.val) {
        (Val::Unknown, _) | (_, Val::Unknown) => false,
        (Val::List(x), Val::List(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(i, j)| same(i, j))
        }
        (Val::Map(x), Val::Map(y)) => {
            x.len() == y.len()
                && x.iter()
                    .zip(y)
                    .all(|((k, (_, i)), (l, (_, j)))| k == l && same(i, j))
        }
        (Val::Encoded(t, _), Val::Encoded(u, _)) => t.is_some() && t == u,
        (x, y) => x == y,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::parse::hcl::eval::tests::eval_str;
    use crate::parse::hcl::eval::{Evaluator, NoScope};
    use crate::parse::{LineIndex, Pos};
    use std::cell::Cell;

    /// Parses `type = <text>`; optional defaults are evaluated as constants.
    fn ty(text: &str) -> Type {
        let src = format!("t = {text}\n");
        let body = crate::parse::hcl::parse(&src).unwrap();
        let e = &body.get_attribute("t").unwrap().value;
        let lines = LineIndex::new(&src);
        let budget = Cell::new(10_000);
        let eval = |d: &Expression| {
            Evaluator::new(&NoScope, 0, &lines, &budget)
                .eval(d)
                .unwrap()
        };
        Type::parse(e, &eval).unwrap_or_else(|| panic!("not a type: {text}"))
    }

    /// Converts the value of the expression `value` to the type `t`.
    fn conv(t: &str, value: &str) -> Val {
        ty(t).convert(eval_str(value).unwrap()).val
    }

    fn s(x: &str) -> Val {
        Val::Str(x.into())
    }

    fn list(v: Val) -> Vec<Val> {
        match v {
            Val::List(items) => items.into_iter().map(|i| i.val).collect(),
            other => panic!("not a list: {other:?}"),
        }
    }

    fn attr(v: &Val, name: &str) -> Val {
        match v {
            Val::Map(m) => m
                .get(name)
                .unwrap_or_else(|| panic!("no {name} in {v:?}"))
                .1
                .val
                .clone(),
            other => panic!("not an object: {other:?}"),
        }
    }

    #[test]
    fn string_takes_numbers_and_bools() {
        assert_eq!(conv("string", "3"), s("3"));
        assert_eq!(conv("string", "1.5"), s("1.5"));
        assert_eq!(conv("string", "true"), s("true"));
        assert_eq!(conv("string", "\"x\""), s("x"));
        assert_eq!(conv("string", "null"), Val::Null);
        assert_eq!(conv("string", "var.missing"), Val::Unknown);
    }

    #[test]
    fn number_takes_numeric_strings_only() {
        assert_eq!(conv("number", "\"2\""), Val::Num(2.0));
        assert_eq!(conv("number", "\"0.5\""), Val::Num(0.5));
        assert_eq!(conv("number", "7"), Val::Num(7.0));
        // Not a number: Terraform refuses it; the value is kept.
        assert_eq!(conv("number", "\"two\""), s("two"));
        assert_eq!(conv("number", "null"), Val::Null);
    }

    #[test]
    fn bool_takes_true_and_false_strings() {
        assert_eq!(conv("bool", "\"true\""), Val::Bool(true));
        assert_eq!(conv("bool", "\"false\""), Val::Bool(false));
        assert_eq!(conv("bool", "\"1\""), Val::Bool(true));
        assert_eq!(conv("bool", "\"0\""), Val::Bool(false));
        assert_eq!(conv("bool", "\"yes\""), s("yes"));
        assert_eq!(conv("bool", "false"), Val::Bool(false));
    }

    #[test]
    fn list_converts_each_element() {
        assert_eq!(
            list(conv("list(string)", "[1, true, \"a\"]")),
            [s("1"), s("true"), s("a")]
        );
        assert_eq!(
            list(conv("list(number)", "[\"1\", 2]")),
            [Val::Num(1.0), Val::Num(2.0)]
        );
        // `list` alone is `list(any)`.
        assert_eq!(list(conv("list", "[1, \"a\"]")), [Val::Num(1.0), s("a")]);
        // Unknown and null elements stay what they are.
        assert_eq!(
            list(conv("list(string)", "[var.missing, null]")),
            [Val::Unknown, Val::Null]
        );
    }

    #[test]
    fn set_loses_duplicates_and_is_ordered() {
        assert_eq!(
            list(conv("set(string)", "[\"b\", \"a\", \"b\"]")),
            [s("a"), s("b")]
        );
        assert_eq!(
            list(conv("set(number)", "[3, \"1\", 3]")),
            [Val::Num(1.0), Val::Num(3.0)]
        );
    }

    #[test]
    fn map_converts_each_value() {
        let v = conv("map(string)", "{a = 1, b = false}");
        assert_eq!(attr(&v, "a"), s("1"));
        assert_eq!(attr(&v, "b"), s("false"));
        let v = conv("map", "{a = 1}");
        assert_eq!(attr(&v, "a"), Val::Num(1.0));
    }

    #[test]
    fn tuple_converts_by_position() {
        assert_eq!(
            list(conv(
                "tuple([string, number, bool])",
                "[1, \"2\", \"true\"]"
            )),
            [s("1"), Val::Num(2.0), Val::Bool(true)]
        );
    }

    #[test]
    fn object_keeps_declared_attributes_and_fills_optional_ones() {
        let t = "object({ a = string, b = optional(number), c = optional(string, \"dflt\") })";
        let v = conv(t, "{ a = 1, extra = true }");
        assert_eq!(attr(&v, "a"), s("1"));
        assert_eq!(
            attr(&v, "b"),
            Val::Null,
            "absent optional: null, not unknown"
        );
        assert_eq!(attr(&v, "c"), s("dflt"));
        let Val::Map(m) = &v else { panic!() };
        assert!(
            !m.contains_key("extra"),
            "undeclared attributes are discarded"
        );
        // Null given: the default applies too.
        assert_eq!(attr(&conv(t, "{ a = \"x\", c = null }"), "c"), s("dflt"));
        // Unknown given: stays unknown (decided at apply).
        assert_eq!(
            attr(&conv(t, "{ a = \"x\", c = var.missing }"), "c"),
            Val::Unknown
        );
        // A required attribute left out stays out: reading it is an error.
        let Val::Map(m) = conv(t, "{}") else { panic!() };
        assert!(!m.contains_key("a"));
    }

    #[test]
    fn optional_defaults_apply_at_any_depth() {
        let t = r#"map(object({
            create = optional(bool, true)
            meta   = optional(object({
              tokens = optional(string, "required")
              hop    = optional(number, 1)
            }), {})
            list   = optional(list(object({ x = optional(string, "y") })), [{}])
        }))"#;
        let v = conv(
            t,
            "{ a = {}, b = { create = false, meta = { hop = \"2\" } } }",
        );
        let a = attr(&v, "a");
        assert_eq!(attr(&a, "create"), Val::Bool(true));
        // The default `{}` gets the nested defaults, top-down.
        let meta = attr(&a, "meta");
        assert_eq!(attr(&meta, "tokens"), s("required"));
        assert_eq!(attr(&meta, "hop"), Val::Num(1.0));
        assert_eq!(attr(&list(attr(&a, "list"))[0], "x"), s("y"));
        let b = attr(&v, "b");
        assert_eq!(attr(&b, "create"), Val::Bool(false));
        let meta = attr(&b, "meta");
        assert_eq!(attr(&meta, "tokens"), s("required"));
        assert_eq!(attr(&meta, "hop"), Val::Num(2.0));
    }

    #[test]
    fn optional_without_default_keeps_a_null_object_null() {
        let t = "object({ meta = optional(object({ tokens = optional(string, \"required\") })) })";
        assert_eq!(attr(&conv(t, "{}"), "meta"), Val::Null);
    }

    #[test]
    fn any_keeps_the_value() {
        let v = conv("any", "{ a = [1, \"b\"] }");
        assert_eq!(list(attr(&v, "a")), [Val::Num(1.0), s("b")]);
        let v = conv("object({ x = any })", "{ x = 3 }");
        assert_eq!(attr(&v, "x"), Val::Num(3.0));
    }

    #[test]
    fn quoted_legacy_types_and_non_types() {
        assert_eq!(ty("\"string\""), Type::String);
        assert_eq!(ty("\"list\""), Type::List(Box::new(Type::Any)));
        assert_eq!(ty("\"map\""), Type::Map(Box::new(Type::Any)));
        assert!(ty("set(string)") == Type::Set(Box::new(Type::String)));
        let src = "t = foo(string)\n";
        let body = crate::parse::hcl::parse(src).unwrap();
        let e = &body.get_attribute("t").unwrap().value;
        let none = |_: &Expression| V::new(Pos::default(), 0, Val::Null);
        assert_eq!(Type::parse(e, &none), None);
    }

    #[test]
    fn mismatches_are_kept() {
        // A map given to a list, a list to an object: Terraform refuses; kept as is.
        assert!(matches!(conv("list(string)", "{a = 1}"), Val::Map(_)));
        assert!(matches!(conv("object({a = string})", "[1]"), Val::List(_)));
        assert!(matches!(conv("tuple([string])", "[1, 2]"), Val::List(l) if l.len() == 2));
    }

    #[test]
    fn primitive_types_are_read_literally_from_the_command_line() {
        assert!(ty("string").is_primitive() && ty("number").is_primitive());
        assert!(!ty("any").is_primitive() && !ty("list(string)").is_primitive());
    }
}
