//! Evaluation of Terraform expressions into [`V`] values.
//!
//! Follows Terraform's rules where values are knowable and yields [`Val::Unknown`]
//! everywhere else: an unknown operand makes the result unknown, a conditional on an
//! unknown is unknown, and a function breakout does not implement returns unknown.
//! Errors (a missing attribute, a type mismatch) are what `try` and `can` catch; a
//! reference cycle or an exhausted evaluation budget is fatal and passes through them.

use super::funcs;
use super::value::{format_num, FileId, Val, V};
use crate::parse::{LineIndex, Pos};
use hcl_edit::expr::{
    BinaryOperator, Expression, ForExpr, FuncCall, ObjectKey, TraversalOperator, UnaryOperator,
};
use hcl_edit::template::{Directive, Element, Strip, Template};
use hcl_edit::Span;
use std::cell::Cell;
use std::collections::BTreeMap;

/// Why an expression has no value.
#[derive(Clone, Debug, PartialEq)]
pub struct EvalError {
    /// Where.
    pub pos: Pos,
    /// The file `pos` is in.
    pub file: FileId,
    /// What went wrong.
    pub message: String,
    /// A cycle or an exhausted budget: not caught by `try`/`can`, reported to the user.
    pub fatal: bool,
}

/// The result of evaluating an expression.
pub type R = Result<V, EvalError>;

/// What expressions refer to, supplied by the Terraform layer: `var.x`, `local.x`,
/// resources, data sources, modules, `path.module`, and files for `file()`.
pub trait Scope {
    /// Resolves a reference: `root` followed by the attribute names written after it
    /// (`var` `[region]`, `data` `[aws_iam_policy_document, p, json]`). Returns the value
    /// and how many of `attrs` it used, or `None` when the name is not known at all.
    /// Taking only the names it needs keeps evaluation lazy: `local.a` evaluates `a`
    /// alone, so locals that refer to each other do not form false cycles.
    fn reference(
        &self,
        root: &str,
        attrs: &[&str],
        pos: Pos,
    ) -> Result<Option<(V, usize)>, EvalError>;
    /// Reads a file for `file()`/`templatefile()`, relative to the module folder and
    /// never outside the scanned root: its text and its file id.
    fn read_file(&self, path: &str) -> Result<(std::sync::Arc<str>, FileId), String>;
}

/// Evaluation work allowed per module: a guard against `for` expressions over huge
/// ranges and other crafted input.
pub const DEFAULT_BUDGET: u64 = 2_000_000;

/// Deeper nesting of calls and templates than this is refused.
const MAX_DEPTH: usize = 64;

/// The largest value an expression may build or copy (a string, a list, a decoded
/// file): a crafted module doubles a string in thirty locals and asks for gigabytes.
pub const MAX_VALUE_BYTES: usize = 16 * 1024 * 1024;

/// Every value built or copied (a function's result, a template, a reference) costs
/// one evaluation step per this many bytes, so the step budgets bound memory too.
pub const BYTES_PER_STEP: usize = 16;

/// Evaluates expressions of one file.
pub struct Evaluator<'a> {
    scope: &'a dyn Scope,
    file: FileId,
    lines: &'a LineIndex<'a>,
    /// Iteration variables of enclosing `for` expressions and `dynamic` blocks,
    /// `count`/`each`, innermost last.
    vars: Vec<(String, V)>,
    budget: &'a Cell<u64>,
    depth: usize,
    /// Render unknown interpolations as [`HOLE`] rather than giving up on the text: a
    /// JSON heredoc with `${var.name}` inside still has a known structure.
    holes: bool,
}

/// Stands for an unknown interpolation in rendered text (a private-use character).
const HOLE: char = '\u{F8FF}';

impl<'a> Evaluator<'a> {
    /// An evaluator for the file `file` whose text `lines` indexes.
    pub fn new(
        scope: &'a dyn Scope,
        file: FileId,
        lines: &'a LineIndex<'a>,
        budget: &'a Cell<u64>,
    ) -> Self {
        Evaluator {
            scope,
            file,
            lines,
            vars: Vec::new(),
            budget,
            depth: 0,
            holes: false,
        }
    }

    /// Makes `name` (`each`, `count`, a dynamic block's iterator) refer to `value`.
    pub fn bind(&mut self, name: &str, value: V) {
        self.vars.push((name.to_string(), value));
    }

    /// Removes the innermost binding.
    pub fn unbind(&mut self) {
        self.vars.pop();
    }

    /// The file this evaluator reads.
    pub fn file(&self) -> FileId {
        self.file
    }

    /// The position of a byte span's start, or `fallback`.
    pub fn pos_of(&self, span: Option<std::ops::Range<usize>>, fallback: Pos) -> Pos {
        span.map_or(fallback, |s| self.lines.pos(s.start))
    }

    fn v(&self, pos: Pos, val: Val) -> V {
        V::new(pos, self.file, val)
    }

    fn error(&self, pos: Pos, message: impl Into<String>) -> EvalError {
        EvalError {
            pos,
            file: self.file,
            message: message.into(),
            fatal: false,
        }
    }

    /// Charges the budget for a value built or copied, and refuses one larger than
    /// [`MAX_VALUE_BYTES`].
    fn charge(&self, pos: Pos, v: &V) -> Result<(), EvalError> {
        let size = value_size(v, MAX_VALUE_BYTES + 1);
        if size > MAX_VALUE_BYTES {
            return Err(EvalError {
                fatal: true,
                ..self.error(
                    pos,
                    format!(
                        "a value larger than {} MiB (a string or list doubled again and again?); values here are unknown",
                        MAX_VALUE_BYTES >> 20
                    ),
                )
            });
        }
        let steps = (size / BYTES_PER_STEP) as u64;
        let left = self.budget.get();
        if steps > left {
            self.budget.set(0);
            return self.spend(pos);
        }
        self.budget.set(left - steps);
        Ok(())
    }

    fn spend(&self, pos: Pos) -> Result<(), EvalError> {
        let left = self.budget.get();
        if left == 0 {
            return Err(EvalError {
                fatal: true,
                ..self.error(
                    pos,
                    "evaluation budget exhausted (a `for` or function over a huge collection?); values here are unknown",
                )
            });
        }
        self.budget.set(left - 1);
        Ok(())
    }

    /// Evaluates an expression.
    pub fn eval(&mut self, e: &Expression) -> R {
        let pos = self.pos_of(e.span(), Pos::default());
        self.spend(pos)?;
        if self.depth > MAX_DEPTH {
            return Err(self.error(pos, "expression nested too deeply"));
        }
        self.depth += 1;
        let result = self.eval_inner(e, pos);
        self.depth -= 1;
        result
    }

    fn eval_inner(&mut self, e: &Expression, pos: Pos) -> R {
        Ok(match e {
            Expression::Null(_) => self.v(pos, Val::Null),
            Expression::Bool(b) => self.v(pos, Val::Bool(*b.value())),
            Expression::Number(n) => self.v(pos, Val::Num(n.value().as_f64().unwrap_or(f64::NAN))),
            Expression::String(s) => self.v(pos, Val::Str(s.value().clone())),
            Expression::Array(items) => {
                let mut out = Vec::with_capacity(items.len());
                for item in items.iter() {
                    out.push(self.eval(item)?);
                }
                self.v(pos, Val::List(out))
            }
            Expression::Object(object) => {
                let mut map = BTreeMap::new();
                for (key, value) in object.iter() {
                    let (name, kpos) = match key {
                        ObjectKey::Ident(id) => {
                            (id.value().as_str().to_string(), self.pos_of(id.span(), pos))
                        }
                        ObjectKey::Expression(k) => {
                            let kv = self.eval(k)?;
                            match self.to_text(&kv)? {
                                Some(t) => (t, kv.pos),
                                None => return Ok(self.v(pos, Val::Unknown)),
                            }
                        }
                    };
                    let v = self.eval(value.expr())?;
                    map.insert(name, (kpos, v));
                }
                self.v(pos, Val::Map(map))
            }
            Expression::StringTemplate(t) => {
                let elements: Vec<&Element> = t.iter().collect();
                // `"${x}"` is x itself, whatever its type.
                if let [Element::Interpolation(i)] = elements.as_slice() {
                    return Ok(self.eval(&i.expr)?.used_at(pos, self.file));
                }
                match self.render(elements.into_iter(), pos)? {
                    Some(s) => {
                        let v = self.v(pos, Val::Str(s));
                        self.charge(pos, &v)?;
                        v
                    }
                    None => self.v(pos, Val::Unknown),
                }
            }
            Expression::HeredocTemplate(h) => {
                let body_pos = self.pos_of(h.template.span(), pos);
                match self.render(h.template.iter(), pos)? {
                    Some(s) => self.heredoc_value(s, pos, body_pos),
                    None => {
                        let with_holes = self.render_with_holes(h.template.iter(), pos)?;
                        self.heredoc_with_holes(with_holes, pos, body_pos)
                    }
                }
            }
            Expression::Parenthesis(p) => self.eval(p.inner())?,
            Expression::Variable(name) => self.variable(name.value().as_str(), &[], pos)?.0,
            Expression::Conditional(c) => {
                let cond = self.eval(&c.cond_expr)?;
                match cond.val {
                    Val::Bool(true) => self.eval(&c.true_expr)?,
                    Val::Bool(false) => self.eval(&c.false_expr)?,
                    Val::Unknown => self.v(pos, Val::Unknown),
                    _ => {
                        return Err(self.error(
                            cond.pos,
                            format!("condition is a {}, not a bool", cond.type_name()),
                        ))
                    }
                }
            }
            Expression::FuncCall(call) => {
                let v = self.call(call, pos)?;
                self.charge(pos, &v)?;
                v
            }
            Expression::Traversal(t) => {
                let ops: Vec<&TraversalOperator> = t.operators.iter().map(|o| o.value()).collect();
                // `root.a.b` resolves lazily: only the referenced local or resource.
                let (base, rest) = match &t.expr {
                    Expression::Variable(root) => {
                        let attrs: Vec<&str> = ops
                            .iter()
                            .map_while(|o| match o {
                                TraversalOperator::GetAttr(a) => Some(a.value().as_str()),
                                _ => None,
                            })
                            .collect();
                        let (v, used) = self.variable(root.value().as_str(), &attrs, pos)?;
                        (v, &ops[used..])
                    }
                    _ => (self.eval(&t.expr)?, &ops[..]),
                };
                let v = self.traverse(base, rest, pos)?;
                // What the traversal reaches may come from another file (`each.value`
                // over a collection defined elsewhere): it is reported here.
                if v.file != self.file {
                    v.used_at(pos, self.file)
                } else {
                    v
                }
            }
            Expression::UnaryOp(op) => {
                let v = self.eval(&op.expr)?;
                match (op.operator.value(), &v.val) {
                    (_, Val::Unknown) => self.v(pos, Val::Unknown),
                    (UnaryOperator::Not, Val::Bool(b)) => self.v(pos, Val::Bool(!b)),
                    (UnaryOperator::Neg, _) => match funcs::to_number(&v) {
                        Some(n) => self.v(pos, Val::Num(-n)),
                        None => return Err(self.error(pos, "cannot negate a non-number")),
                    },
                    _ => return Err(self.error(pos, format!("invalid operand: {}", v.type_name()))),
                }
            }
            Expression::BinaryOp(op) => {
                let lhs = self.eval(&op.lhs_expr)?;
                // `&&` and `||` decide on a known left side.
                match (op.operator.value(), &lhs.val) {
                    (BinaryOperator::And, Val::Bool(false)) => {
                        return Ok(self.v(pos, Val::Bool(false)))
                    }
                    (BinaryOperator::Or, Val::Bool(true)) => {
                        return Ok(self.v(pos, Val::Bool(true)))
                    }
                    _ => {}
                }
                let rhs = self.eval(&op.rhs_expr)?;
                let val = funcs::binary(*op.operator.value(), &lhs, &rhs)
                    .map_err(|m| self.error(pos, m))?;
                self.v(pos, val)
            }
            Expression::ForExpr(f) => self.for_expr(f, pos)?,
        })
    }

    /// A name: iteration variables first, then the scope. Returns the value and how
    /// many of the following attribute names it used.
    fn variable(&mut self, root: &str, attrs: &[&str], pos: Pos) -> Result<(V, usize), EvalError> {
        if let Some((_, v)) = self.vars.iter().rev().find(|(n, _)| n == root) {
            let mut v = v.clone();
            self.charge(pos, &v)?;
            // `each.value` from a collection in another file is reported here.
            if v.file != self.file {
                v = v.used_at(pos, self.file);
            }
            return Ok((v, 0));
        }
        match self.scope.reference(root, attrs, pos)? {
            Some((mut v, used)) => {
                self.charge(pos, &v)?;
                // The value is used here: a value from another file is reported here
                // (what it holds keeps its own file, and falls back to this place).
                if v.file != self.file {
                    v = v.used_at(pos, self.file);
                }
                Ok((v, used))
            }
            None => Err(self.error(pos, format!("unknown reference `{root}`"))),
        }
    }

    fn get_attr(&self, v: V, attr: &str, pos: Pos) -> R {
        let open = v.open;
        match v.val {
            Val::Map(mut m) => match m.remove(attr) {
                Some((_, value)) => Ok(value),
                None if open => Ok(self.v(pos, Val::Unknown)),
                None => Err(self.error(pos, format!("no attribute `{attr}`"))),
            },
            Val::Unknown => Ok(self.v(pos, Val::Unknown)),
            Val::Null => Err(self.error(pos, format!("attribute `{attr}` of null"))),
            _ => Err(self.error(
                pos,
                format!("a {} has no attribute `{attr}`", v.type_name()),
            )),
        }
    }

    fn index(&mut self, v: V, key: &V, pos: Pos) -> R {
        match (&v.val, &key.val) {
            (Val::Unknown, _) | (_, Val::Unknown) => Ok(self.v(pos, Val::Unknown)),
            (Val::List(items), _) => {
                let i = funcs::to_number(key)
                    .filter(|n| n.fract() == 0.0 && *n >= 0.0)
                    .ok_or_else(|| self.error(pos, "list index must be a whole number"))?;
                items
                    .get(i as usize)
                    .cloned()
                    .ok_or_else(|| self.error(pos, format!("index {i} out of range")))
            }
            (Val::Map(_), _) => {
                let k = self
                    .to_text(key)?
                    .ok_or_else(|| self.error(pos, "unknown key"))?;
                self.get_attr(v, &k, pos)
            }
            _ => Err(self.error(pos, format!("cannot index a {}", v.type_name()))),
        }
    }

    /// Applies traversal operators (`.attr`, `[i]`, `[*]`, `.*`).
    fn traverse(&mut self, mut v: V, ops: &[&TraversalOperator], pos: Pos) -> R {
        for (i, op) in ops.iter().enumerate() {
            match op {
                TraversalOperator::GetAttr(a) => v = self.get_attr(v, a.value().as_str(), pos)?,
                TraversalOperator::LegacyIndex(n) => {
                    let key = self.v(pos, Val::Num(*n.value() as f64));
                    v = self.index(v, &key, pos)?;
                }
                TraversalOperator::Index(e) => {
                    let key = self.eval(e)?;
                    v = self.index(v, &key, pos)?;
                }
                TraversalOperator::AttrSplat(_) | TraversalOperator::FullSplat(_) => {
                    let full = matches!(op, TraversalOperator::FullSplat(_));
                    // A full splat applies every following operator to each element; an
                    // attribute splat only the attribute accesses that follow it.
                    let take = if full {
                        ops.len() - i - 1
                    } else {
                        ops[i + 1..]
                            .iter()
                            .take_while(|o| matches!(o, TraversalOperator::GetAttr(_)))
                            .count()
                    };
                    let each = &ops[i + 1..i + 1 + take];
                    let items = match v.val {
                        Val::Unknown => return Ok(self.v(pos, Val::Unknown)),
                        Val::Null => Vec::new(),
                        Val::List(items) => items,
                        _ => vec![v],
                    };
                    let mut out = Vec::with_capacity(items.len());
                    for item in items {
                        out.push(self.traverse(item, each, pos)?);
                    }
                    let list = self.v(pos, Val::List(out));
                    return self.traverse(list, &ops[i + 1 + take..], pos);
                }
            }
        }
        Ok(v)
    }

    /// The (key, value) pairs a `for` iterates: list indexes or map keys in order.
    fn pairs(&self, collection: V, pos: Pos) -> Result<Option<Vec<(V, V)>>, EvalError> {
        if collection.partial {
            return Ok(None);
        }
        Ok(Some(match collection.val {
            Val::Unknown => return Ok(None),
            Val::List(items) => items
                .into_iter()
                .enumerate()
                .map(|(i, v)| (self.v(v.pos, Val::Num(i as f64)), v))
                .collect(),
            Val::Map(m) => m
                .into_iter()
                .map(|(k, (kpos, v))| (V::new(kpos, v.file, Val::Str(k)), v))
                .collect(),
            _ => {
                return Err(self.error(
                    pos,
                    format!("cannot iterate over a {}", collection.type_name()),
                ))
            }
        }))
    }

    fn for_expr(&mut self, f: &ForExpr, pos: Pos) -> R {
        let collection = self.eval(&f.intro.collection_expr)?;
        let Some(pairs) = self.pairs(collection, pos)? else {
            return Ok(self.v(pos, Val::Unknown));
        };
        let key_var = f.intro.key_var.as_ref().map(|k| k.value().to_string());
        let value_var = f.intro.value_var.value().to_string();
        let mut list = Vec::new();
        let mut map: BTreeMap<String, (Pos, V)> = BTreeMap::new();
        let mut unknown = false;
        // Keys of a map whose `if` is unknown: present with an unknown value, or absent.
        let mut maybe: Vec<(String, Pos)> = Vec::new();
        for (key, value) in pairs {
            self.spend(pos)?;
            let bound = match &key_var {
                Some(k) => {
                    self.bind(k, key);
                    self.bind(&value_var, value);
                    2
                }
                None => {
                    self.bind(&value_var, value);
                    1
                }
            };
            let result = self.for_item(f, pos, &mut list, &mut map, &mut maybe, &mut unknown);
            for _ in 0..bound {
                self.unbind();
            }
            result?;
        }
        if unknown {
            return Ok(self.v(pos, Val::Unknown));
        }
        Ok(match f.key_expr {
            Some(_) => {
                let partial = !maybe.is_empty();
                for (name, kpos) in maybe {
                    map.entry(name)
                        .or_insert_with(|| (kpos, self.v(kpos, Val::Unknown)));
                }
                let mut v = self.v(pos, Val::Map(map));
                v.partial = partial;
                v
            }
            None => self.v(pos, Val::List(list)),
        })
    }

    fn for_item(
        &mut self,
        f: &ForExpr,
        pos: Pos,
        list: &mut Vec<V>,
        map: &mut BTreeMap<String, (Pos, V)>,
        maybe: &mut Vec<(String, Pos)>,
        unknown: &mut bool,
    ) -> Result<(), EvalError> {
        if let Some(cond) = &f.cond {
            match self.eval(&cond.expr)?.val {
                Val::Bool(true) => {}
                Val::Bool(false) => return Ok(()),
                // Terraform makes the whole result unknown. For a map with a known key
                // (not grouped), only that key is in doubt: it is kept, unknown, and
                // the map's key set is marked unknown (`V::partial`), so the entries
                // whose `if` is known can still be read. A list's indexes would shift:
                // unknown as a whole.
                Val::Unknown => {
                    let key = match (&f.key_expr, f.grouping) {
                        (Some(k), false) => {
                            let key = self.eval(k)?;
                            self.to_text(&key)?.map(|name| (name, key.pos))
                        }
                        _ => None,
                    };
                    match key {
                        Some(k) => maybe.push(k),
                        None => *unknown = true,
                    }
                    return Ok(());
                }
                _ => return Err(self.error(pos, "`if` clause is not a bool")),
            }
        }
        let value = self.eval(&f.value_expr)?;
        match &f.key_expr {
            None => list.push(value),
            Some(k) => {
                let key = self.eval(k)?;
                let Some(name) = self.to_text(&key)? else {
                    *unknown = true;
                    return Ok(());
                };
                if f.grouping {
                    let entry = map.entry(name).or_insert_with(|| {
                        (key.pos, V::new(key.pos, key.file, Val::List(Vec::new())))
                    });
                    if let Val::List(items) = &mut entry.1.val {
                        items.push(value);
                    }
                } else if map.insert(name.clone(), (key.pos, value)).is_some() {
                    return Err(self.error(
                        key.pos,
                        format!("duplicate key `{name}` in a for expression (use `...` to group)"),
                    ));
                }
            }
        }
        Ok(())
    }

    /// The text of a value inside a template or as a key: `None` when unknown.
    pub fn to_text(&self, v: &V) -> Result<Option<String>, EvalError> {
        Ok(match &v.val {
            Val::Str(s) => Some(s.clone()),
            Val::Encoded(text, _) => text.clone(),
            Val::Num(n) => Some(format_num(*n)),
            Val::Bool(b) => Some(b.to_string()),
            Val::Unknown => None,
            Val::Null => return Err(self.error(v.pos, "null value in a string")),
            _ => {
                return Err(self.error(
                    v.pos,
                    format!("a {} cannot be used as a string", v.type_name()),
                ))
            }
        })
    }

    /// Renders template elements with unknown interpolations as [`HOLE`]; `None` when
    /// what is unknown is the text's shape (an `%{if}` or `%{for}` on an unknown).
    fn render_with_holes<'t>(
        &mut self,
        elements: impl Iterator<Item = &'t Element>,
        pos: Pos,
    ) -> Result<Option<String>, EvalError> {
        let before = self.holes;
        self.holes = true;
        let r = self.render(elements, pos);
        self.holes = before;
        r
    }

    /// The value of JSON text rendered with holes: its document, in which every string
    /// that holds a hole is unknown, so what the text fixes (`"readonlyRootFilesystem":
    /// false`) is still read; the text itself is unknown. Unknown when the text is not
    /// JSON.
    fn heredoc_with_holes(&self, text: Option<String>, pos: Pos, body_pos: Pos) -> V {
        let Some(text) = text else {
            return self.v(pos, Val::Unknown);
        };
        let trimmed = text.trim_start();
        if !(trimmed.starts_with('{') || trimmed.starts_with('[')) {
            return self.v(pos, Val::Unknown);
        }
        // A hole outside a JSON string (`"cpu": ${var.cpu}`) becomes a string of its own.
        let mut quoted = String::with_capacity(text.len());
        let (mut in_string, mut escaped) = (false, false);
        for c in text.chars() {
            match c {
                HOLE if !in_string => {
                    quoted.push('"');
                    quoted.push(HOLE);
                    quoted.push('"');
                    continue;
                }
                '\\' if in_string && !escaped => escaped = true,
                '"' if !escaped => in_string = !in_string,
                _ => escaped = false,
            }
            if c != '\\' {
                escaped = false;
            }
            quoted.push(c);
        }
        match crate::parse::json::parse(&quoted) {
            Ok(doc) => {
                let doc = V::from_node(&doc, self.file, body_pos.line.saturating_sub(1));
                self.v(pos, Val::Encoded(None, Box::new(without_holes(doc))))
            }
            Err(_) => self.v(pos, Val::Unknown),
        }
    }

    /// Renders template elements; `None` when an interpolation is unknown.
    fn render<'t>(
        &mut self,
        elements: impl Iterator<Item = &'t Element>,
        pos: Pos,
    ) -> Result<Option<String>, EvalError> {
        let mut out = String::new();
        let mut strip_next = false;
        let mut unknown = false;
        for element in elements {
            match element {
                Element::Literal(s) => {
                    let text = s.value().as_str();
                    out.push_str(if strip_next { text.trim_start() } else { text });
                    strip_next = false;
                }
                Element::Interpolation(i) => {
                    strip_before(&mut out, i.strip);
                    let v = self.eval(&i.expr)?;
                    match self.to_text(&v)? {
                        Some(t) => out.push_str(&t),
                        None if self.holes => out.push(HOLE),
                        None => unknown = true,
                    }
                    strip_next = matches!(i.strip, Strip::End | Strip::Both);
                }
                Element::Directive(d) => match d.as_ref() {
                    Directive::If(d) => {
                        strip_before(&mut out, d.if_expr.strip);
                        let cond = self.eval(&d.if_expr.cond_expr)?;
                        let branch = match cond.val {
                            Val::Bool(true) => Some(&d.if_expr.template),
                            Val::Bool(false) => d.else_expr.as_ref().map(|e| &e.template),
                            Val::Unknown => {
                                unknown = true;
                                None
                            }
                            _ => {
                                return Err(self.error(cond.pos, "`%{if}` condition is not a bool"))
                            }
                        };
                        if let Some(t) = branch {
                            match self.render_nested(t, pos)? {
                                Some(s) => out.push_str(&s),
                                None => unknown = true,
                            }
                        }
                        strip_next = matches!(d.endif_expr.strip, Strip::End | Strip::Both);
                    }
                    Directive::For(d) => {
                        let f = &d.for_expr;
                        strip_before(&mut out, f.strip);
                        let collection = self.eval(&f.collection_expr)?;
                        let key_var = f.key_var.as_ref().map(|k| k.value().to_string());
                        match self.pairs(collection, pos)? {
                            None => unknown = true,
                            Some(pairs) => {
                                for (k, v) in pairs {
                                    self.spend(pos)?;
                                    if let Some(kv) = &key_var {
                                        self.bind(kv, k);
                                    }
                                    self.bind(f.value_var.value().as_str(), v);
                                    let r = self.render_nested(&f.template, pos);
                                    self.unbind();
                                    if key_var.is_some() {
                                        self.unbind();
                                    }
                                    match r? {
                                        Some(s) => out.push_str(&s),
                                        None => unknown = true,
                                    }
                                }
                            }
                        }
                        strip_next = matches!(d.endfor_expr.strip, Strip::End | Strip::Both);
                    }
                },
            }
        }
        Ok((!unknown).then_some(out))
    }

    fn render_nested(&mut self, t: &Template, pos: Pos) -> Result<Option<String>, EvalError> {
        if self.depth > MAX_DEPTH {
            return Err(self.error(pos, "template nested too deeply"));
        }
        self.depth += 1;
        let r = self.render(t.iter(), pos);
        self.depth -= 1;
        r
    }

    /// A heredoc's value: JSON text keeps its structure and the lines inside the heredoc.
    fn heredoc_value(&self, text: String, pos: Pos, body_pos: Pos) -> V {
        let trimmed = text.trim_start();
        if trimmed.starts_with('{') || trimmed.starts_with('[') {
            if let Ok(doc) = crate::parse::json::parse(&text) {
                let doc = V::from_node(&doc, self.file, body_pos.line.saturating_sub(1));
                return self.v(pos, Val::Encoded(Some(text), Box::new(doc)));
            }
        }
        self.v(pos, Val::Str(text))
    }

    fn call(&mut self, call: &FuncCall, pos: Pos) -> R {
        let name = call.name.name.value().as_str();
        if call.name.is_namespaced() {
            // Provider-defined functions (`provider::aws::arn_parse`) need the provider.
            return Ok(self.v(pos, Val::Unknown));
        }
        let arg_exprs: Vec<&Expression> = call.args.iter().collect();
        match name {
            // `try` and `can` see errors, so they evaluate their arguments themselves.
            "try" => {
                for (i, a) in arg_exprs.iter().enumerate() {
                    match self.eval(a) {
                        Ok(v) => return Ok(v),
                        Err(e) if e.fatal || i + 1 == arg_exprs.len() => return Err(e),
                        Err(_) => {}
                    }
                }
                Err(self.error(pos, "try() needs at least one argument"))
            }
            "can" => match arg_exprs.first().map(|a| self.eval(a)) {
                Some(Ok(v)) if matches!(v.val, Val::Unknown) => Ok(self.v(pos, Val::Unknown)),
                Some(Ok(_)) => Ok(self.v(pos, Val::Bool(true))),
                Some(Err(e)) if e.fatal => Err(e),
                Some(Err(_)) => Ok(self.v(pos, Val::Bool(false))),
                None => Err(self.error(pos, "can() needs one argument")),
            },
            _ => {
                let mut args = Vec::with_capacity(arg_exprs.len());
                for a in &arg_exprs {
                    args.push(self.eval(a)?);
                }
                // `f(list...)` expands the final argument.
                if call.args.expand_final() {
                    if let Some(last) = args.pop() {
                        match last.val {
                            Val::List(items) => args.extend(items),
                            Val::Unknown => return Ok(self.v(pos, Val::Unknown)),
                            _ => return Err(self.error(pos, "`...` needs a list")),
                        }
                    }
                }
                match name {
                    "file" => self.file_fn(&args, pos),
                    "templatefile" => self.templatefile(&args, pos),
                    _ => funcs::call(name, &args, pos, self.file).map_err(|m| EvalError {
                        // A refusal to build something huge is a budget overrun:
                        // reported, and not caught by `try`/`can`.
                        fatal: m.contains(funcs::BEYOND_LIMITS),
                        ..self.error(pos, format!("{name}(): {m}"))
                    }),
                }
            }
        }
    }

    fn file_fn(&mut self, args: &[V], pos: Pos) -> R {
        let Some(path) = args.first() else {
            return Err(self.error(pos, "file() needs a path"));
        };
        let Some(path) = self.to_text(path)? else {
            return Ok(self.v(pos, Val::Unknown));
        };
        let (text, file) = self
            .scope
            .read_file(&path)
            .map_err(|m| self.error(pos, format!("file(\"{path}\"): {m}")))?;
        // A JSON file keeps its structure (and positions, in its own file).
        let trimmed = text.trim_start();
        if trimmed.starts_with('{') || trimmed.starts_with('[') {
            if let Ok(doc) = crate::parse::json::parse(&text) {
                let doc = V::from_node(&doc, file, 0);
                return Ok(self.v(pos, Val::Encoded(Some(text.to_string()), Box::new(doc))));
            }
        }
        Ok(self.v(pos, Val::Str(text.to_string())))
    }

    fn templatefile(&mut self, args: &[V], pos: Pos) -> R {
        let (Some(path), Some(vars)) = (args.first(), args.get(1)) else {
            return Err(self.error(pos, "templatefile() needs a path and a map of variables"));
        };
        let Some(path) = self.to_text(path)? else {
            return Ok(self.v(pos, Val::Unknown));
        };
        let vars = match &vars.val {
            Val::Map(m) => m.clone(),
            Val::Unknown => return Ok(self.v(pos, Val::Unknown)),
            _ => return Err(self.error(pos, "templatefile(): variables must be a map")),
        };
        let (text, file) = self
            .scope
            .read_file(&path)
            .map_err(|m| self.error(pos, format!("templatefile(\"{path}\"): {m}")))?;
        let template = hcl_edit::parser::parse_template(&text).map_err(|e| {
            self.error(
                pos,
                format!("templatefile(\"{path}\"): {}", e.message().trim()),
            )
        })?;
        let lines = LineIndex::new(&text);
        // The template sees only its variables, as in Terraform.
        let empty = NoScope;
        let mut inner = Evaluator::new(&empty, file, &lines, self.budget);
        inner.depth = self.depth + 1;
        for (k, (_, v)) in vars {
            inner.bind(&k, v);
        }
        let rendered = inner.render(template.iter(), Pos::new(1, 1))?;
        Ok(match rendered {
            Some(s) => inner
                .heredoc_value(s, Pos::new(1, 1), Pos::new(1, 1))
                .used_at(pos, self.file),
            None => {
                let with_holes = inner.render_with_holes(template.iter(), Pos::new(1, 1))?;
                let v = inner.heredoc_with_holes(with_holes, Pos::new(1, 1), Pos::new(1, 1));
                if matches!(v.val, Val::Unknown) {
                    self.v(pos, Val::Unknown)
                } else {
                    v.used_at(pos, self.file)
                }
            }
        })
    }
}

/// A document parsed from text with holes: strings that hold one are unknown (keys
/// keep their text, with the hole written as `${…}`).
fn without_holes(v: V) -> V {
    let val = match v.val {
        Val::Str(s) if s.contains(HOLE) => Val::Unknown,
        Val::List(items) => Val::List(items.into_iter().map(without_holes).collect()),
        Val::Map(m) => Val::Map(
            m.into_iter()
                .map(|(k, (p, x))| (k.replace(HOLE, "${…}"), (p, without_holes(x))))
                .collect(),
        ),
        other => other,
    };
    V { val, ..v }
}

/// Strips whitespace before a `~` marker.
fn strip_before(out: &mut String, strip: Strip) {
    if matches!(strip, Strip::Start | Strip::Both) {
        let keep = out.trim_end().len();
        out.truncate(keep);
    }
}

/// A scope with nothing in it: for template files (which see only their variables)
/// and variable files (literals).
pub struct NoScope;

impl Scope for NoScope {
    fn reference(&self, _: &str, _: &[&str], _: Pos) -> Result<Option<(V, usize)>, EvalError> {
        Ok(None)
    }
    fn read_file(&self, _: &str) -> Result<(std::sync::Arc<str>, FileId), String> {
        Err("templates cannot read files".into())
    }
}

/// Approximate bytes a value holds: its strings, plus a little per element. Counting
/// stops past `limit`, so measuring a huge value costs no more than the limit.
pub fn value_size(v: &V, limit: usize) -> usize {
    fn walk(v: &V, total: &mut usize, limit: usize) {
        if *total > limit {
            return;
        }
        *total += 16;
        match &v.val {
            Val::Str(s) => *total += s.len(),
            Val::Encoded(text, doc) => {
                *total += text.as_ref().map_or(0, String::len);
                walk(doc, total, limit);
            }
            Val::List(items) => {
                for i in items {
                    walk(i, total, limit);
                }
            }
            Val::Map(m) => {
                for (k, (_, value)) in m {
                    *total += k.len();
                    walk(value, total, limit);
                }
            }
            _ => {}
        }
    }
    let mut total = 0;
    walk(v, &mut total, limit);
    total
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use std::sync::Arc;

    /// A scope with `var.*` and `local.*` from fixed values and files from a map.
    pub struct TestScope {
        pub vars: BTreeMap<String, Val>,
        pub files: BTreeMap<String, String>,
    }

    impl Scope for TestScope {
        fn reference(
            &self,
            root: &str,
            attrs: &[&str],
            pos: Pos,
        ) -> Result<Option<(V, usize)>, EvalError> {
            let v = |val| Ok(Some((V::new(pos, 0, val), 1)));
            match (root, attrs.first()) {
                ("var", Some(a)) | ("local", Some(a)) => {
                    v(self.vars.get(*a).cloned().unwrap_or(Val::Unknown))
                }
                ("aws_iam_role", Some(_)) => {
                    let mut role = V::new(pos, 0, Val::Map(BTreeMap::new()));
                    role.open = true;
                    Ok(Some((role, 1)))
                }
                ("path", Some(&"module")) => v(Val::Str(".".into())),
                _ => Ok(None),
            }
        }
        fn read_file(&self, path: &str) -> Result<(Arc<str>, FileId), String> {
            self.files
                .get(path.trim_start_matches("./"))
                .map(|t| (Arc::from(t.as_str()), 7))
                .ok_or_else(|| "no such file".to_string())
        }
    }

    pub fn scope() -> TestScope {
        TestScope {
            vars: BTreeMap::from([
                ("env".into(), Val::Str("prod".into())),
                ("n".into(), Val::Num(3.0)),
                ("on".into(), Val::Bool(true)),
                (
                    "tables".into(),
                    Val::List(vec![
                        V::new(Pos::default(), 0, Val::Str("orders".into())),
                        V::new(Pos::default(), 0, Val::Str("users".into())),
                    ]),
                ),
            ]),
            files: BTreeMap::from([
                (
                    "policy.json".into(),
                    "{\n  \"Version\": \"2012-10-17\"\n}\n".into(),
                ),
                (
                    "task.tpl".into(),
                    "[{\"name\": \"${name}\", \"user\": \"%{ if root }0%{ else }1000%{ endif }\"}]"
                        .into(),
                ),
            ]),
        }
    }

    /// Evaluates `x = <expr>` and returns the value of x.
    pub fn eval_str(expr: &str) -> R {
        let text = format!("x = {expr}\n");
        let body = crate::parse::hcl::parse(&text).unwrap();
        let attr = body.get_attribute("x").unwrap();
        let lines = LineIndex::new(&text);
        let budget = Cell::new(10_000);
        let s = scope();
        let mut e = Evaluator::new(&s, 0, &lines, &budget);
        e.eval(&attr.value)
    }

    fn val(expr: &str) -> Val {
        eval_str(expr)
            .unwrap_or_else(|e| panic!("{expr}: {e:?}"))
            .val
    }

    fn s(text: &str) -> Val {
        Val::Str(text.into())
    }

    #[test]
    fn literals_operators_and_conditionals() {
        assert_eq!(val("1 + 2 * 3"), Val::Num(7.0));
        assert_eq!(val("\"a\" == \"a\" && !false"), Val::Bool(true));
        assert_eq!(val("var.n > 2 ? \"big\" : \"small\""), s("big"));
        assert_eq!(val("var.missing ? 1 : 2"), Val::Unknown);
        assert_eq!(val("var.missing + 1"), Val::Unknown);
        assert_eq!(val("false && var.missing"), Val::Bool(false));
        assert_eq!(val("-var.n"), Val::Num(-3.0));
        assert_eq!(val("7 % 4"), Val::Num(3.0));
    }

    #[test]
    fn templates_and_heredocs() {
        assert_eq!(val("\"${var.env}-orders\""), s("prod-orders"));
        assert_eq!(val("\"${var.missing}-orders\""), Val::Unknown);
        assert_eq!(val("\"%{if var.on}yes%{else}no%{endif}\""), s("yes"));
        assert_eq!(
            val("\"%{for t in var.tables}${t},%{endfor}\""),
            s("orders,users,")
        );
        assert_eq!(val("\"a ${~ \"b\" ~} c\""), s("abc"));
        assert_eq!(val("<<EOT\nhello ${var.env}\nEOT"), s("hello prod\n"));
        assert_eq!(
            val("<<-EOT\n    indented\n      more\n    EOT"),
            s("indented\n  more\n")
        );
        // A lone interpolation keeps its type.
        assert!(matches!(val("\"${var.tables}\""), Val::List(_)));
    }

    #[test]
    fn json_heredocs_keep_their_lines() {
        let v = eval_str("<<POLICY\n{\n  \"Statement\": [{\"Action\": \"dynamodb:*\"}]\n}\nPOLICY")
            .unwrap();
        let Val::Encoded(_, doc) = &v.val else {
            panic!("{v:?}")
        };
        assert_eq!(doc.pos.line, 2);
        let node = v.to_node(0, Pos::default());
        assert_eq!(node.entry("Statement").unwrap().key_pos, Pos::new(3, 3));
    }

    #[test]
    fn for_expressions_and_splats() {
        let Val::List(l) = val("[for t in var.tables : upper(t) if t != \"users\"]") else {
            panic!()
        };
        assert_eq!(l.len(), 1);
        assert_eq!(l[0].val, s("ORDERS"));
        let Val::Map(m) = val("{for i, t in var.tables : t => i}") else {
            panic!()
        };
        assert_eq!(m["users"].1.val, Val::Num(1.0));
        let Val::Map(m) = val("{for t in [\"a\", \"b\", \"a\"] : t => t...}") else {
            panic!()
        };
        assert!(matches!(&m["a"].1.val, Val::List(l) if l.len() == 2));
        assert!(eval_str("{for t in [\"a\", \"a\"] : t => t}").is_err());
        let Val::List(l) = val("[{n = 1}, {n = 2}][*].n") else {
            panic!()
        };
        assert_eq!(l.len(), 2);
        let Val::List(l) = val("[{n = {m = 1}}].*.n.m") else {
            panic!()
        };
        assert_eq!(l[0].val, Val::Num(1.0));
        assert_eq!(val("var.missing[*].id"), Val::Unknown);
        assert_eq!(val("[for x in var.missing : x]"), Val::Unknown);
    }

    #[test]
    fn a_map_for_with_an_unknown_if_keeps_what_is_known() {
        // `k => v if v != null` with one unknown value: that key is in doubt (absent or
        // unknown), the others are known, and the map's key set is unknown.
        let v = eval_str("{for k, v in {a = var.missing, b = 1, c = null} : k => v if v != null}")
            .unwrap();
        assert!(v.partial);
        let Val::Map(m) = &v.val else { panic!("{v:?}") };
        assert_eq!(m["a"].1.val, Val::Unknown);
        assert_eq!(m["b"].1.val, Val::Num(1.0));
        assert!(!m.contains_key("c"));
        let partial = "{for k, v in {a = var.missing, b = 1} : k => v if v != null}";
        assert_eq!(val(&format!("length({partial})")), Val::Unknown);
        assert_eq!(val(&format!("keys({partial})")), Val::Unknown);
        assert_eq!(val(&format!("[for k, v in {partial} : k]")), Val::Unknown);
        assert_eq!(val(&format!("{partial} == {{b = 1}}")), Val::Unknown);
        assert_eq!(val(&format!("{partial}.b")), Val::Num(1.0));
        assert!(
            eval_str(&format!("merge({partial}, {{d = 2}})"))
                .unwrap()
                .partial
        );
        // A list, an unknown key, a grouping: unknown as a whole, as in Terraform.
        assert_eq!(
            val("[for v in [var.missing, 1] : v if v != null]"),
            Val::Unknown
        );
        assert_eq!(
            val("{for v in [var.missing] : v => v if v != null}"),
            Val::Unknown
        );
        assert_eq!(
            val("{for k, v in {a = var.missing} : k => v... if v != null}"),
            Val::Unknown
        );
    }

    #[test]
    fn try_and_can_catch_errors() {
        assert_eq!(val("try({a = 1}.b, \"fallback\")"), s("fallback"));
        assert_eq!(val("can({a = 1}.b)"), Val::Bool(false));
        assert_eq!(val("can(var.missing.b)"), Val::Unknown);
        assert_eq!(val("try(var.env, 1)"), s("prod"));
    }

    #[test]
    fn unknown_things_stay_unknown() {
        assert_eq!(val("aws_iam_role.app.arn"), Val::Unknown);
        assert_eq!(val("provider::aws::arn_parse(\"x\")"), Val::Unknown);
        assert_eq!(val("timestamp()"), Val::Unknown);
        assert!(eval_str("nosuchthing.x").is_err());
    }

    #[test]
    fn files_and_templates() {
        let v = eval_str("file(\"${path.module}/policy.json\")").unwrap();
        assert!(matches!(v.val, Val::Encoded(Some(_), _)));
        let v = eval_str("templatefile(\"task.tpl\", {name = \"app\", root = true})").unwrap();
        let node = v.to_node(0, Pos::new(1, 1));
        assert_eq!(node.items()[0].get("user").unwrap().as_str(), Some("0"));
        assert!(eval_str("file(\"../../etc/passwd\")").is_err());
    }

    #[test]
    fn huge_loops_exhaust_the_budget() {
        let e = eval_str("[for i in range(5000) : [for j in range(5000) : i * j]]").unwrap_err();
        assert!(e.fatal && e.message.contains("budget"), "{e:?}");
    }
}
