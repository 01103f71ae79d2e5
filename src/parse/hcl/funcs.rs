//! Terraform's built-in functions that policies and task definitions use, and the
//! operators. Every other function returns unknown, never a guess.
//!
//! Each function is a plain `fn(&[V]) -> Result<Val, String>`: an `Err` is a Terraform
//! error (caught by `try`/`can`), unknown arguments give unknown results.

use super::value::{format_num, FileId, Val, V};
use crate::parse::Pos;
use hcl_edit::expr::BinaryOperator;
use std::collections::BTreeMap;

/// Said by every refusal to build a collection or string beyond the limits below; the
/// evaluator reports such an error instead of treating it as a Terraform error.
pub const BEYOND_LIMITS: &str = "more than breakout evaluates";

/// Collections built by functions (`range`, `split`, `concat`, `flatten`, …) longer
/// than this are refused.
const MAX_ITEMS: usize = 100_000;

/// Strings built by functions (`join`, `replace`, `format`) longer than this are
/// refused before they are built; the evaluator bounds every other value
/// ([`super::eval::MAX_VALUE_BYTES`]).
const MAX_STRING_BYTES: usize = super::eval::MAX_VALUE_BYTES;

fn too_large(what: &str, size: usize) -> String {
    format!(
        "{what} would build a string of {size} bytes, more than breakout evaluates ({MAX_STRING_BYTES})"
    )
}

/// Standard base64 with padding, as Terraform's `base64encode`.
pub fn base64_encode(bytes: &[u8]) -> String {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

/// Decodes standard base64 as Terraform's `base64decode` (and EC2 for user data) does,
/// line breaks and other whitespace ignored; `None` when it is not base64.
pub fn base64_decode(text: &str) -> Option<Vec<u8>> {
    use base64::Engine;
    let compact: String = text.chars().filter(|c| !c.is_ascii_whitespace()).collect();
    base64::engine::general_purpose::STANDARD
        .decode(compact)
        .ok()
}

/// The elements of a list with duplicates removed, first occurrence kept, in
/// `O(n log n)`. Elements that hold an unknown value are never equal to another.
fn dedup(items: &[V]) -> Vec<V> {
    let mut seen = std::collections::HashSet::new();
    let mut out = Vec::new();
    let mut key = String::new();
    for i in items {
        key.clear();
        if !canonical(i, &mut key) || seen.insert(key.clone()) {
            out.push(i.clone());
        }
    }
    out
}

/// Writes a key that two fully known values share exactly when [`equal`] says they
/// are equal; returns `false` (and a useless key) when the value holds an unknown.
fn canonical(v: &V, out: &mut String) -> bool {
    use std::fmt::Write;
    match &v.val {
        Val::Unknown | Val::Encoded(None, _) => false,
        Val::Null => {
            out.push('z');
            true
        }
        Val::Bool(b) => {
            out.push(if *b { 't' } else { 'f' });
            true
        }
        // Numbers equal as numbers: 0 and -0 agree; NaN equals nothing, itself included.
        Val::Num(n) if n.is_nan() => false,
        Val::Num(n) => {
            let _ = write!(out, "n{};", if *n == 0.0 { 0.0 } else { *n });
            true
        }
        Val::Str(text) | Val::Encoded(Some(text), _) => {
            let _ = write!(out, "s{}:{text}", text.len());
            true
        }
        Val::List(items) => {
            let _ = write!(out, "[{};", items.len());
            items.iter().all(|i| canonical(i, out))
        }
        Val::Map(_) if v.partial => false,
        Val::Map(m) => {
            let _ = write!(out, "{{{};", m.len());
            m.iter().all(|(k, (_, value))| {
                let _ = write!(out, "{}:{k}", k.len());
                canonical(value, out)
            })
        }
    }
}

/// Calls function `name`.
pub fn call(name: &str, args: &[V], pos: Pos, file: FileId) -> Result<V, String> {
    // Unknown in, unknown out, except where a function looks only at known parts.
    let structural = matches!(
        name,
        "jsonencode"
            | "yamlencode"
            | "merge"
            | "concat"
            | "tolist"
            | "toset"
            | "coalesce"
            | "length"
            | "keys"
            | "lookup"
            | "element"
            | "flatten"
            | "compact"
            | "distinct"
            | "values"
            | "tomap"
    );
    if !structural && args.iter().any(|a| matches!(a.val, Val::Unknown)) {
        return Ok(V::new(pos, file, Val::Unknown));
    }
    // A map whose key set is unknown (`V::partial`): so is what depends on it.
    let partial = args.iter().any(|a| a.partial);
    if partial && matches!(name, "length" | "keys" | "values") {
        return Ok(V::new(pos, file, Val::Unknown));
    }
    if name == "merge" {
        let mut out = V::new(pos, file, merge(args)?);
        out.partial = partial;
        return Ok(out);
    }
    let val = match name {
        "jsonencode" => return Ok(jsonencode(&args_n(args, 1)?[0], pos, file)),
        "yamlencode" => {
            let a = &args_n(args, 1)?[0];
            let text = (!a.has_unknown()).then(|| yaml_text(a));
            Val::Encoded(text, Box::new(a.clone()))
        }
        "jsondecode" => {
            let text = str_arg(args, 0)?;
            let node = crate::parse::json::parse(text).map_err(|e| e.message)?;
            return Ok(relocated(V::from_node(&node, file, 0), pos, file));
        }
        "concat" => {
            let total: usize = args
                .iter()
                .map(|a| match &a.val {
                    Val::List(items) => items.len(),
                    _ => 0,
                })
                .sum();
            if total > MAX_ITEMS {
                return Err(format!(
                    "concat() of {total} elements is more than breakout evaluates ({MAX_ITEMS})"
                ));
            }
            let mut out = Vec::with_capacity(total);
            for a in args {
                match &a.val {
                    Val::List(items) => out.extend(items.iter().cloned()),
                    Val::Unknown => return Ok(V::new(pos, file, Val::Unknown)),
                    _ => return Err(format!("argument is a {}, not a list", a.type_name())),
                }
            }
            Val::List(out)
        }
        "flatten" => {
            let mut out = Vec::new();
            if !flatten_into(&args_n(args, 1)?[0], &mut out, 0)? {
                return Ok(V::new(pos, file, Val::Unknown));
            }
            Val::List(out)
        }
        "distinct" => {
            let items = list_arg(args, 0)?;
            let Some(items) = items else {
                return Ok(V::new(pos, file, Val::Unknown));
            };
            Val::List(dedup(items))
        }
        "compact" => {
            let Some(items) = list_arg(args, 0)? else {
                return Ok(V::new(pos, file, Val::Unknown));
            };
            Val::List(
                items
                    .iter()
                    .filter(|i| !matches!(&i.val, Val::Null) && i.as_str() != Some(""))
                    .cloned()
                    .collect(),
            )
        }
        "lookup" => {
            let (map, key) = (
                args.first().ok_or("needs a map")?,
                args.get(1).ok_or("needs a key")?,
            );
            if matches!(map.val, Val::Unknown) || matches!(key.val, Val::Unknown) {
                return Ok(V::new(pos, file, Val::Unknown));
            }
            match (&map.val, key.as_str()) {
                (Val::Map(m), Some(k)) => match (m.get(k), args.get(2)) {
                    (Some((_, v)), _) => return Ok(v.clone()),
                    (None, Some(default)) => return Ok(default.clone()),
                    (None, None) => return Err(format!("no key `{k}`")),
                },
                _ => return Err("lookup() needs a map and a string key".into()),
            }
        }
        "element" => {
            let Some(items) = list_arg(args, 0)? else {
                return Ok(V::new(pos, file, Val::Unknown));
            };
            let Some(i) = args.get(1).and_then(to_number) else {
                return Ok(V::new(pos, file, Val::Unknown));
            };
            if items.is_empty() {
                return Err("element() of an empty list".into());
            }
            if i < 0.0 {
                return Err("negative index".into());
            }
            return Ok(items[(i as usize) % items.len()].clone());
        }
        "coalesce" => {
            for a in args {
                match &a.val {
                    Val::Unknown => return Ok(V::new(pos, file, Val::Unknown)),
                    Val::Null => {}
                    Val::Str(s) if s.is_empty() => {}
                    _ => return Ok(a.clone()),
                }
            }
            return Err("no non-null, non-empty argument".into());
        }
        "format" => Val::Str(format(str_arg(args, 0)?, &args[1..])?),
        "join" => {
            let sep = str_arg(args, 0)?;
            let mut parts = Vec::new();
            for list in &args[1..] {
                let Val::List(items) = &list.val else {
                    return Err("join() needs lists".into());
                };
                for i in items {
                    match text(i)? {
                        Some(t) => parts.push(t),
                        None => return Ok(V::new(pos, file, Val::Unknown)),
                    }
                }
            }
            let size = parts.iter().map(String::len).sum::<usize>()
                + sep.len() * parts.len().saturating_sub(1);
            if size > MAX_STRING_BYTES {
                return Err(too_large("join()", size));
            }
            Val::Str(parts.join(sep))
        }
        "split" => {
            let (sep, s) = (str_arg(args, 0)?, str_arg(args, 1)?);
            let parts: Vec<&str> = if sep.is_empty() {
                s.split_terminator("").skip(1).collect()
            } else {
                s.split(sep).collect()
            };
            if parts.len() > MAX_ITEMS {
                return Err(format!(
                    "split() into more than {MAX_ITEMS} parts is {BEYOND_LIMITS}"
                ));
            }
            Val::List(
                parts
                    .into_iter()
                    .map(|p| V::new(pos, file, Val::Str(p.into())))
                    .collect(),
            )
        }
        "replace" => {
            let (s, from, to) = (str_arg(args, 0)?, str_arg(args, 1)?, str_arg(args, 2)?);
            if from.len() > 2 && from.starts_with('/') && from.ends_with('/') {
                // Regular-expression replacement needs a regex engine: unknown, not a guess.
                Val::Unknown
            } else {
                // Count before building: `replace(x, "a", x)` squares the length.
                let hits = if from.is_empty() {
                    s.chars().count() + 1
                } else {
                    s.matches(from).count()
                };
                let size = s.len() + hits.saturating_mul(to.len());
                if size > MAX_STRING_BYTES {
                    return Err(too_large("replace()", size));
                }
                Val::Str(s.replace(from, to))
            }
        }
        // User data is passed base64-encoded; breakout reads what it says.
        "base64encode" => Val::Str(base64_encode(str_arg(args, 0)?.as_bytes())),
        "base64decode" => Val::Str(
            String::from_utf8(base64_decode(str_arg(args, 0)?).ok_or("not valid base64")?)
                .map_err(|_| "not UTF-8 text")?,
        ),
        "lower" => Val::Str(str_arg(args, 0)?.to_lowercase()),
        "upper" => Val::Str(str_arg(args, 0)?.to_uppercase()),
        "trimspace" => Val::Str(str_arg(args, 0)?.trim().to_string()),
        "trimprefix" => Val::Str(
            str_arg(args, 0)?
                .strip_prefix(str_arg(args, 1)?)
                .unwrap_or(str_arg(args, 0)?)
                .to_string(),
        ),
        "trimsuffix" => Val::Str(
            str_arg(args, 0)?
                .strip_suffix(str_arg(args, 1)?)
                .unwrap_or(str_arg(args, 0)?)
                .to_string(),
        ),
        "startswith" => Val::Bool(str_arg(args, 0)?.starts_with(str_arg(args, 1)?)),
        "endswith" => Val::Bool(str_arg(args, 0)?.ends_with(str_arg(args, 1)?)),
        // `anytrue`/`alltrue`: a known element can decide; otherwise an unknown one
        // leaves the answer unknown.
        "anytrue" | "alltrue" => {
            let Some(items) = list_arg(args, 0)? else {
                return Ok(V::new(pos, file, Val::Unknown));
            };
            let decisive = name == "anytrue";
            let mut unknown = false;
            for i in items {
                let b = match &i.val {
                    Val::Bool(b) => *b,
                    Val::Str(s) if s == "true" || s == "false" => s == "true",
                    Val::Unknown => {
                        unknown = true;
                        continue;
                    }
                    _ => return Err(format!("a {} is not a bool", i.type_name())),
                };
                if b == decisive {
                    return Ok(V::new(pos, file, Val::Bool(decisive)));
                }
            }
            if unknown {
                Val::Unknown
            } else {
                Val::Bool(!decisive)
            }
        }
        "contains" => {
            let Some(items) = list_arg(args, 0)? else {
                return Ok(V::new(pos, file, Val::Unknown));
            };
            let needle = args.get(1).ok_or("needs a value")?;
            let mut want = String::new();
            if !canonical(needle, &mut want) {
                return Ok(V::new(pos, file, Val::Unknown));
            }
            let mut key = String::new();
            Val::Bool(items.iter().any(|i| {
                key.clear();
                canonical(i, &mut key) && key == want
            }))
        }
        "tolist" | "toset" => match &args_n(args, 1)?[0].val {
            Val::List(items) if name == "toset" => {
                let mut out = dedup(items);
                // Sets of strings iterate in lexical order.
                out.sort_by(|a, b| a.as_str().cmp(&b.as_str()));
                Val::List(out)
            }
            Val::List(_) | Val::Unknown => return Ok(args[0].clone()),
            _ => return Err("needs a list or set".into()),
        },
        "tomap" => match &args_n(args, 1)?[0].val {
            Val::Map(_) | Val::Unknown => return Ok(args[0].clone()),
            _ => return Err("needs a map".into()),
        },
        "tostring" => match &args_n(args, 1)?[0].val {
            Val::Str(_) | Val::Null => return Ok(args[0].clone()),
            Val::Num(n) => Val::Str(format_num(*n)),
            Val::Bool(b) => Val::Str(b.to_string()),
            Val::Encoded(Some(t), _) => Val::Str(t.clone()),
            _ => return Err("cannot convert to a string".into()),
        },
        "tonumber" => match &args_n(args, 1)?[0].val {
            Val::Null => Val::Null,
            _ => Val::Num(to_number(&args[0]).ok_or("not a number")?),
        },
        "tobool" => match &args_n(args, 1)?[0].val {
            Val::Bool(b) => Val::Bool(*b),
            Val::Str(s) if s == "true" || s == "false" => Val::Bool(s == "true"),
            Val::Null => Val::Null,
            _ => return Err("not a bool".into()),
        },
        "length" => match &args_n(args, 1)?[0].val {
            Val::List(items) => Val::Num(items.len() as f64),
            Val::Map(m) => Val::Num(m.len() as f64),
            Val::Str(s) => Val::Num(s.chars().count() as f64),
            Val::Unknown => Val::Unknown,
            _ => return Err("needs a collection or string".into()),
        },
        "keys" => match &args_n(args, 1)?[0].val {
            Val::Map(m) => Val::List(
                m.iter()
                    .map(|(k, (kpos, v))| V::new(*kpos, v.file, Val::Str(k.clone())))
                    .collect(),
            ),
            Val::Unknown => Val::Unknown,
            _ => return Err("needs a map".into()),
        },
        "values" => match &args_n(args, 1)?[0].val {
            Val::Map(m) => Val::List(m.values().map(|(_, v)| v.clone()).collect()),
            Val::Unknown => Val::Unknown,
            _ => return Err("needs a map".into()),
        },
        "zipmap" => {
            let (Some(keys), Some(values)) = (list_arg(args, 0)?, list_arg(args, 1)?) else {
                return Ok(V::new(pos, file, Val::Unknown));
            };
            let mut m = BTreeMap::new();
            for (k, v) in keys.iter().zip(values) {
                let Some(k) = text(k)? else {
                    return Ok(V::new(pos, file, Val::Unknown));
                };
                m.insert(k, (v.pos, v.clone()));
            }
            Val::Map(m)
        }
        "range" => {
            let nums: Vec<f64> = args
                .iter()
                .map(|a| to_number(a).ok_or("range() needs numbers"))
                .collect::<Result<_, _>>()?;
            let (start, end, step) = match nums.as_slice() {
                [e] => (0.0, *e, 1.0),
                [s, e] => (*s, *e, if e >= s { 1.0 } else { -1.0 }),
                [s, e, st] => (*s, *e, *st),
                _ => return Err("range() takes 1 to 3 numbers".into()),
            };
            if step == 0.0 {
                return Err("step of 0".into());
            }
            let count = ((end - start) / step).ceil();
            if !(0.0..=MAX_ITEMS as f64).contains(&count) && count > 0.0 {
                return Err(format!(
                    "range of {count} elements is more than breakout evaluates ({MAX_ITEMS})"
                ));
            }
            let n = count.max(0.0) as usize;
            Val::List(
                (0..n)
                    .map(|i| V::new(pos, file, Val::Num(start + step * i as f64)))
                    .collect(),
            )
        }
        "max" | "min" => {
            let nums: Vec<f64> = args
                .iter()
                .map(|a| to_number(a).ok_or("needs numbers"))
                .collect::<Result<_, _>>()?;
            let pick = if name == "max" { f64::max } else { f64::min };
            Val::Num(
                nums.into_iter()
                    .reduce(pick)
                    .ok_or("needs at least one number")?,
            )
        }
        "abs" => Val::Num(
            to_number(&args_n(args, 1)?[0])
                .ok_or("needs a number")?
                .abs(),
        ),
        "substr" => {
            let s = str_arg(args, 0)?;
            let (Some(offset), Some(length)) = (
                args.get(1).and_then(to_number),
                args.get(2).and_then(to_number),
            ) else {
                return Err("substr() needs an offset and a length".into());
            };
            let chars: Vec<char> = s.chars().collect();
            let start = if offset < 0.0 {
                chars.len().saturating_sub((-offset) as usize)
            } else {
                (offset as usize).min(chars.len())
            };
            // Saturating: `substr(x, 1, 1e30)` must not overflow.
            let end = if length < 0.0 {
                chars.len()
            } else {
                start.saturating_add(length as usize).min(chars.len())
            };
            Val::Str(chars[start..end].iter().collect())
        }
        "reverse" => {
            let Some(items) = list_arg(args, 0)? else {
                return Ok(V::new(pos, file, Val::Unknown));
            };
            Val::List(items.iter().rev().cloned().collect())
        }
        "sort" => {
            let Some(items) = list_arg(args, 0)? else {
                return Ok(V::new(pos, file, Val::Unknown));
            };
            let mut items = items.to_vec();
            items.sort_by(|a, b| a.as_str().cmp(&b.as_str()));
            Val::List(items)
        }
        "one" => {
            let Some(items) = list_arg(args, 0)? else {
                return Ok(V::new(pos, file, Val::Unknown));
            };
            match items {
                [] => Val::Null,
                [one] => return Ok(one.clone()),
                _ => return Err("more than one element".into()),
            }
        }
        // Everything else (hashes, time, regular expressions, network math, …).
        _ => Val::Unknown,
    };
    Ok(V::new(pos, file, val))
}

/// The operators.
pub fn binary(op: BinaryOperator, lhs: &V, rhs: &V) -> Result<Val, String> {
    use BinaryOperator::*;
    if matches!(lhs.val, Val::Unknown) || matches!(rhs.val, Val::Unknown) {
        return Ok(Val::Unknown);
    }
    Ok(match op {
        Eq => equal(lhs, rhs).map_or(Val::Unknown, Val::Bool),
        NotEq => equal(lhs, rhs).map_or(Val::Unknown, |b| Val::Bool(!b)),
        And | Or => match (&lhs.val, &rhs.val) {
            (Val::Bool(a), Val::Bool(b)) => Val::Bool(if op == And { *a && *b } else { *a || *b }),
            _ => return Err("`&&` and `||` need bools".into()),
        },
        _ => {
            let (a, b) = (
                to_number(lhs).ok_or_else(|| format!("a {} is not a number", lhs.type_name()))?,
                to_number(rhs).ok_or_else(|| format!("a {} is not a number", rhs.type_name()))?,
            );
            match op {
                Plus => Val::Num(a + b),
                Minus => Val::Num(a - b),
                Mul => Val::Num(a * b),
                Div if b == 0.0 => return Err("division by zero".into()),
                Div => Val::Num(a / b),
                Mod if b == 0.0 => return Err("modulo by zero".into()),
                Mod => Val::Num(a % b),
                Less => Val::Bool(a < b),
                LessEq => Val::Bool(a <= b),
                Greater => Val::Bool(a > b),
                GreaterEq => Val::Bool(a >= b),
                _ => unreachable!("handled above"),
            }
        }
    })
}

/// Deep equality; `None` when an unknown decides it.
fn equal(a: &V, b: &V) -> Option<bool> {
    match (&a.val, &b.val) {
        (Val::Unknown, _) | (_, Val::Unknown) => None,
        (Val::List(x), Val::List(y)) => {
            if x.len() != y.len() {
                return Some(false);
            }
            let mut all = Some(true);
            for (i, j) in x.iter().zip(y) {
                match equal(i, j) {
                    Some(false) => return Some(false),
                    None => all = None,
                    Some(true) => {}
                }
            }
            all
        }
        (Val::Map(_), Val::Map(_)) if a.partial || b.partial => None,
        (Val::Map(x), Val::Map(y)) => {
            if x.len() != y.len() || x.keys().ne(y.keys()) {
                return Some(false);
            }
            let mut all = Some(true);
            for ((_, i), (_, j)) in x.values().zip(y.values()) {
                match equal(i, j) {
                    Some(false) => return Some(false),
                    None => all = None,
                    Some(true) => {}
                }
            }
            all
        }
        (Val::Num(x), Val::Num(y)) => Some(x == y),
        _ => match (a.as_str(), b.as_str()) {
            (Some(x), Some(y)) => Some(x == y),
            _ => Some(a.val == b.val),
        },
    }
}

/// A number, also from a numeric string (Terraform converts automatically).
pub fn to_number(v: &V) -> Option<f64> {
    match &v.val {
        Val::Num(n) => Some(*n),
        Val::Str(s) => s.trim().parse().ok(),
        _ => None,
    }
}

fn text(v: &V) -> Result<Option<String>, String> {
    Ok(match &v.val {
        Val::Str(s) => Some(s.clone()),
        Val::Encoded(t, _) => t.clone(),
        Val::Num(n) => Some(format_num(*n)),
        Val::Bool(b) => Some(b.to_string()),
        Val::Unknown => None,
        _ => return Err(format!("a {} is not a string", v.type_name())),
    })
}

fn args_n(args: &[V], n: usize) -> Result<&[V], String> {
    if args.len() < n {
        return Err(format!("needs {n} argument(s)"));
    }
    Ok(args)
}

fn str_arg(args: &[V], i: usize) -> Result<&str, String> {
    args.get(i)
        .and_then(V::as_str)
        .ok_or_else(|| format!("argument {} must be a string", i + 1))
}

/// A list argument; `Ok(None)` when unknown.
fn list_arg(args: &[V], i: usize) -> Result<Option<&[V]>, String> {
    match args.get(i).map(|a| &a.val) {
        Some(Val::List(items)) => Ok(Some(items)),
        Some(Val::Unknown) => Ok(None),
        _ => Err(format!("argument {} must be a list", i + 1)),
    }
}

fn relocated(mut v: V, pos: Pos, file: FileId) -> V {
    v.pos = pos;
    v.file = file;
    match &mut v.val {
        Val::List(items) => {
            for i in items.iter_mut() {
                *i = relocated(i.clone(), pos, file);
            }
        }
        Val::Map(m) => {
            for (kpos, val) in m.values_mut() {
                *kpos = pos;
                *val = relocated(val.clone(), pos, file);
            }
        }
        _ => {}
    }
    v
}

fn merge(args: &[V]) -> Result<Val, String> {
    let mut out = BTreeMap::new();
    for a in args {
        match &a.val {
            // Each key keeps the mark of the file its map was written in.
            Val::Map(m) => out.extend(m.iter().map(|(k, (kpos, v))| {
                let kpos = if kpos.origin.is_some() {
                    *kpos
                } else {
                    kpos.in_file(crate::parse::Origin::from_index(a.file))
                };
                (k.clone(), (kpos, v.clone()))
            })),
            Val::Null => {}
            Val::Unknown => return Ok(Val::Unknown),
            _ => return Err(format!("argument is a {}, not a map", a.type_name())),
        }
    }
    Ok(Val::Map(out))
}

/// Returns false when an unknown stops flattening.
fn flatten_into(v: &V, out: &mut Vec<V>, depth: usize) -> Result<bool, String> {
    if depth > 32 {
        return Err("lists nested too deeply".into());
    }
    match &v.val {
        Val::List(items) => {
            for i in items {
                if matches!(i.val, Val::List(_)) {
                    if !flatten_into(i, out, depth + 1)? {
                        return Ok(false);
                    }
                } else if matches!(i.val, Val::Unknown) {
                    return Ok(false);
                } else if out.len() >= MAX_ITEMS {
                    return Err(format!(
                        "flatten() of more than {MAX_ITEMS} elements is more than breakout evaluates"
                    ));
                } else {
                    out.push(i.clone());
                }
            }
            Ok(true)
        }
        Val::Unknown => Ok(false),
        _ => Err("flatten() needs a list".into()),
    }
}

/// `jsonencode`: the text when everything is known, and the document always.
fn jsonencode(v: &V, pos: Pos, file: FileId) -> V {
    let text = (!v.has_unknown()).then(|| json_text(v));
    V::new(pos, file, Val::Encoded(text, Box::new(v.clone())))
}

fn json_text(v: &V) -> String {
    fn to_json(v: &V) -> serde_json::Value {
        match &v.val {
            Val::Null | Val::Unknown => serde_json::Value::Null,
            Val::Bool(b) => serde_json::Value::Bool(*b),
            Val::Num(n) if n.fract() == 0.0 && n.abs() < 9.0e15 => {
                serde_json::Value::from(*n as i64)
            }
            Val::Num(n) => serde_json::Value::from(*n),
            Val::Str(s) => serde_json::Value::String(s.clone()),
            Val::Encoded(t, _) => serde_json::Value::String(t.clone().unwrap_or_default()),
            Val::List(items) => serde_json::Value::Array(items.iter().map(to_json).collect()),
            Val::Map(m) => serde_json::Value::Object(
                m.iter()
                    .map(|(k, (_, v))| (k.clone(), to_json(v)))
                    .collect(),
            ),
        }
    }
    to_json(v).to_string()
}

/// yamlencode's exact layout does not matter to policies; JSON is valid YAML.
fn yaml_text(v: &V) -> String {
    json_text(v)
}

/// `format` with the verbs Terraform documents: %s %d %f %t %v %q %%.
fn format(spec: &str, args: &[V]) -> Result<String, String> {
    let mut out = String::new();
    let mut chars = spec.chars().peekable();
    let mut next = 0;
    while let Some(c) = chars.next() {
        if c != '%' {
            out.push(c);
            continue;
        }
        // Flags and width/precision are accepted and ignored (bounded: no huge padding).
        let mut verb = None;
        for d in chars.by_ref() {
            if d.is_ascii_alphabetic() || d == '%' {
                verb = Some(d);
                break;
            }
        }
        let Some(verb) = verb else {
            return Err("incomplete format verb".into());
        };
        if verb == '%' {
            out.push('%');
            continue;
        }
        if out.len() > MAX_STRING_BYTES {
            return Err(too_large("format()", out.len()));
        }
        let arg = args.get(next).ok_or("not enough arguments")?;
        next += 1;
        let t = text(arg)?.ok_or("unknown argument")?;
        match verb {
            'q' => out.push_str(&serde_json::Value::String(t).to_string()),
            'd' => out.push_str(&format_num(
                to_number(arg).ok_or("%d needs a number")?.trunc(),
            )),
            _ => out.push_str(&t),
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::super::eval::tests::eval_str;
    use super::*;

    fn val(expr: &str) -> Val {
        eval_str(expr)
            .unwrap_or_else(|e| panic!("{expr}: {e:?}"))
            .val
    }

    fn strs(expr: &str) -> Vec<String> {
        match val(expr) {
            Val::List(items) => items
                .iter()
                .map(|i| i.as_str().unwrap_or("?").to_string())
                .collect(),
            other => panic!("{expr}: {other:?}"),
        }
    }

    fn s(text: &str) -> Val {
        Val::Str(text.into())
    }

    #[test]
    fn encoding() {
        let Val::Encoded(Some(text), _) = val("jsonencode({Version = \"2012-10-17\", n = 1})")
        else {
            panic!()
        };
        assert_eq!(text, r#"{"Version":"2012-10-17","n":1}"#);
        // Unknown parts hide the text but keep the document.
        let Val::Encoded(None, doc) =
            val("jsonencode({Action = \"dynamodb:*\", Resource = var.missing})")
        else {
            panic!()
        };
        assert!(matches!(doc.val, Val::Map(_)));
        let Val::Map(m) = val("jsondecode(\"{\\\"a\\\": [1, 2]}\")") else {
            panic!()
        };
        assert!(m.contains_key("a"));
        assert!(matches!(
            val("yamlencode({a = 1})"),
            Val::Encoded(Some(_), _)
        ));
    }

    #[test]
    fn collections() {
        assert_eq!(strs("concat([\"a\"], [\"b\", \"c\"])"), ["a", "b", "c"]);
        assert_eq!(
            strs("flatten([[\"a\", [\"b\"]], [], [\"c\"]])"),
            ["a", "b", "c"]
        );
        assert_eq!(strs("distinct([\"a\", \"b\", \"a\"])"), ["a", "b"]);
        assert_eq!(strs("compact([\"a\", \"\", null, \"b\"])"), ["a", "b"]);
        assert_eq!(strs("toset([\"b\", \"a\", \"b\"])"), ["a", "b"]);
        assert_eq!(strs("tolist([\"b\", \"a\"])"), ["b", "a"]);
        assert_eq!(strs("keys({b = 1, a = 2})"), ["a", "b"]);
        assert_eq!(val("length(values({b = 1, a = 2}))"), Val::Num(2.0));
        assert_eq!(val("lookup({a = \"x\"}, \"a\")"), s("x"));
        assert_eq!(val("lookup({a = \"x\"}, \"b\", \"d\")"), s("d"));
        assert!(eval_str("lookup({a = \"x\"}, \"b\")").is_err());
        assert_eq!(val("element([\"a\", \"b\"], 3)"), s("b"));
        let Val::Map(m) = val("merge({a = 1, b = 1}, {b = 2}, null)") else {
            panic!()
        };
        assert_eq!(m["b"].1.val, Val::Num(2.0));
        assert_eq!(val("merge({a = 1}, var.missing)"), Val::Unknown);
        assert_eq!(val("length(\"héllo\")"), Val::Num(5.0));
        assert_eq!(val("contains([\"a\"], \"a\")"), Val::Bool(true));
        assert_eq!(val("one([])"), Val::Null);
        assert_eq!(val("anytrue([false, true])"), Val::Bool(true));
        assert_eq!(val("anytrue([])"), Val::Bool(false));
        assert_eq!(val("anytrue([false, var.missing])"), Val::Unknown);
        assert_eq!(val("anytrue([var.missing, true])"), Val::Bool(true));
        assert_eq!(val("alltrue([])"), Val::Bool(true));
        assert_eq!(val("alltrue([true, \"true\"])"), Val::Bool(true));
        assert_eq!(val("alltrue([var.missing, false])"), Val::Bool(false));
        assert_eq!(val("alltrue([true, var.missing])"), Val::Unknown);
        let Val::Map(m) = val("zipmap([\"a\", \"b\"], [1, 2])") else {
            panic!()
        };
        assert_eq!(m["b"].1.val, Val::Num(2.0));
    }

    #[test]
    fn strings_and_conversions() {
        assert_eq!(
            val("format(\"arn:aws:dynamodb:%s:%d:table/%s\", \"eu-west-1\", 42, \"*\")"),
            s("arn:aws:dynamodb:eu-west-1:42:table/*")
        );
        assert_eq!(val("format(\"%q %%\", \"x\")"), s("\"x\" %"));
        assert_eq!(val("join(\",\", [\"a\", \"b\"], [\"c\"])"), s("a,b,c"));
        assert_eq!(strs("split(\":\", \"a:b\")"), ["a", "b"]);
        assert_eq!(val("replace(\"a-b-c\", \"-\", \"_\")"), s("a_b_c"));
        assert_eq!(val("replace(\"a1\", \"/[0-9]/\", \"\")"), Val::Unknown);
        assert_eq!(val("lower(\"DynamoDB:*\")"), s("dynamodb:*"));
        assert_eq!(val("upper(\"a\")"), s("A"));
        assert_eq!(val("tostring(3)"), s("3"));
        assert_eq!(val("tonumber(\"42\")"), Val::Num(42.0));
        assert!(eval_str("tonumber(\"x\")").is_err());
        assert_eq!(val("coalesce(null, \"\", \"x\")"), s("x"));
        assert_eq!(val("coalesce(var.missing, \"x\")"), Val::Unknown);
        assert_eq!(val("substr(\"hello\", 1, 3)"), s("ell"));
        assert_eq!(val("\"1\" + 2"), Val::Num(3.0));
        assert_eq!(val("[1, \"a\"] == [1, \"a\"]"), Val::Bool(true));
    }

    #[test]
    fn limits_and_unknowns() {
        assert!(eval_str("range(1000000000)").is_err());
        assert_eq!(strs("[for i in range(2) : tostring(i)]"), ["0", "1"]);
        assert_eq!(val("sha256(\"x\")"), Val::Unknown);
        assert_eq!(val("upper(var.missing)"), Val::Unknown);
        assert_eq!(val("length(var.missing)"), Val::Unknown);
    }

    /// Every function on huge, negative, fractional, infinite and NaN numbers: a
    /// value or a Terraform error, never a panic (`substr("ab", 1, 1e30)` overflowed).
    #[test]
    fn numbers_at_the_edges_never_panic() {
        let numbers = [
            "1e30", "-1e30", "1e300", "-1", "0.5", "-0.5", "0", "(0/0)", "(1/0)", "(-1/0)",
        ];
        for n in numbers {
            for expr in [
                format!("substr(\"abc\", 1, {n})"),
                format!("substr(\"abc\", {n}, 1)"),
                format!("substr(\"abc\", {n}, {n})"),
                format!("element([\"a\", \"b\"], {n})"),
                format!("range({n})"),
                format!("range(0, {n}, {n})"),
                format!("range({n}, 1)"),
                format!("[\"a\", \"b\"][{n}]"),
                format!("abs({n})"),
                format!("max({n}, 1)"),
                format!("format(\"%d\", {n})"),
                format!("tostring({n})"),
            ] {
                let _ = eval_str(&expr);
            }
        }
        assert_eq!(val("substr(\"ab\", 1, 1e30)"), s("b"));
        assert_eq!(val("substr(\"abc\", -1e30, -1)"), s("abc"));
    }

    #[test]
    fn distinct_and_sets_compare_values_not_positions() {
        assert_eq!(strs("distinct([\"b\", \"a\", \"b\"])"), ["b", "a"]);
        assert_eq!(strs("toset([\"b\", \"a\", \"b\"])"), ["a", "b"]);
        assert_eq!(
            val("length(distinct([1, \"1\", 1.0, [1], [1], {a = 1}, {a = 1}]))"),
            Val::Num(4.0)
        );
        assert_eq!(val("contains([[1, 2]], [1, 2])"), Val::Bool(true));
        assert_eq!(val("contains([\"a\"], var.missing)"), Val::Unknown);
        // 0 and -0 are the same number.
        assert_eq!(val("length(distinct([0, -0]))"), Val::Num(1.0));
    }

    /// Functions that could build gigabytes refuse before building, and say so as a
    /// limit (the evaluator reports it instead of treating it as a Terraform error).
    #[test]
    fn functions_refuse_huge_results_before_building_them() {
        let a = V::new(Pos::default(), 0, Val::Str("a".repeat(100_000)));
        let pat = V::new(Pos::default(), 0, Val::Str("a".into()));
        let e = call("replace", &[a.clone(), pat, a.clone()], Pos::default(), 0).unwrap_err();
        assert!(e.contains(BEYOND_LIMITS), "{e}");
        let many = V::new(Pos::default(), 0, Val::List(vec![a.clone(); 1000]));
        let sep = V::new(Pos::default(), 0, Val::Str(",".into()));
        let e = call("join", &[sep, many.clone()], Pos::default(), 0).unwrap_err();
        assert!(e.contains(BEYOND_LIMITS), "{e}");
        let big = V::new(Pos::default(), 0, Val::List(vec![pat_v(); 60_000]));
        let e = call("concat", &[big.clone(), big], Pos::default(), 0).unwrap_err();
        assert!(e.contains(BEYOND_LIMITS), "{e}");
        let e = eval_str("replace(join(\"\", [for i in range(500) : \"aaaaaaaaaaaaaaaaaaaa\"]), \"a\", join(\"\", [for i in range(500) : \"aaaaaaaaaaaaaaaaaaaaaaa\"]))").unwrap_err();
        assert!(e.fatal && e.message.contains(BEYOND_LIMITS), "{e:?}");
        // distinct over many elements is not quadratic: 100,000 here, instantly.
        let items: Vec<V> = (0..100_000)
            .map(|i| V::new(Pos::default(), 0, Val::Str(format!("k{}", i % 1000))))
            .collect();
        let out = call(
            "distinct",
            &[V::new(Pos::default(), 0, Val::List(items))],
            Pos::default(),
            0,
        )
        .unwrap();
        assert!(matches!(out.val, Val::List(ref l) if l.len() == 1000));
    }

    fn pat_v() -> V {
        V::new(Pos::default(), 0, Val::Str("x".into()))
    }
}
