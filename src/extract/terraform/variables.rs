//! Variable inputs: what a module's `var.x` is. A root module's values come from
//! `TF_VAR_` environment variables, `terraform.tfvars`, `*.auto.tfvars`, `--var-file`
//! and `--var`, in Terraform's precedence; a child module's from its call's arguments.
//! A variable without a value uses its `default`.
//!
//! Then, as Terraform does: with `nullable = false`, a null value takes the default; the
//! value is converted to the variable's type constraint ([`Type`]), which fills in the
//! defaults of optional object attributes at every depth. A `--var`/`TF_VAR_` string is
//! read as a literal string for a variable of a primitive type or without a type, and
//! as HCL for every other type (`any`, collections, objects).

use super::instance::{Decl, Instance, Shared};
use super::types::Type;
use super::{file_error, file_id};
use crate::parse::hcl::eval::{EvalError, Evaluator, DEFAULT_BUDGET};
use crate::parse::hcl::value::{Val, V};
use crate::parse::{LineIndex, Pos};
use hcl_edit::expr::Expression;
use hcl_edit::structure::Block;
use hcl_edit::Span;
use std::cell::Cell;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// Variables given on the command line and in var files, for root modules.
#[derive(Clone, Debug, Default)]
pub struct Inputs {
    /// `--var-file` paths, applied after `terraform.tfvars` and `*.auto.tfvars`.
    pub var_files: Vec<PathBuf>,
    /// `--var NAME=VALUE`, applied last.
    pub vars: Vec<(String, String)>,
    /// `TF_VAR_NAME` environment variables (the CLI passes them), applied first, as
    /// Terraform does.
    pub env: Vec<(String, String)>,
}

/// A value given to a variable.
#[derive(Clone, Debug)]
pub(super) enum Given {
    /// An evaluated value: a module argument, a variable file's.
    Value(V),
    /// A `--var` or `TF_VAR_` string, read as the variable's type says.
    CommandLine(String),
}

impl<'m> Instance<'m> {
    /// The value of `var.name` in this instance: given or default, `nullable` applied,
    /// converted to its type. Unknown when it has neither value nor default.
    pub(super) fn variable_value(&self, name: &str, pos: Pos) -> Result<Option<V>, EvalError> {
        let Some(decl) = self.variables.get(name).copied() else {
            // Not declared (Terraform refuses the reference): a value given is used as is.
            return Ok(self.inputs.get(name).map(|g| match g {
                Given::Value(v) => v.clone(),
                Given::CommandLine(raw) => literal(raw),
            }));
        };
        self.memo(&format!("var.{name}"), pos, || {
            self.declared_value(name, decl)
        })
        .map(Some)
    }

    fn declared_value(&self, name: &str, decl: Decl<'m, Block>) -> V {
        let body = &decl.item.body;
        let eval = |e: &Expression| self.eval_in(decl.file, e, &[]);
        let ty = body
            .get_attribute("type")
            .and_then(|a| Type::parse(&a.value, &eval));
        let nullable = !body
            .get_attribute("nullable")
            .is_some_and(|a| eval(&a.value).val == Val::Bool(false));
        let default = body.get_attribute("default").map(|a| eval(&a.value));
        let given = self.inputs.get(name).map(|g| match g {
            Given::Value(v) => v.clone(),
            Given::CommandLine(raw) => match &ty {
                Some(t) if !t.is_primitive() => command_line_value(raw),
                _ => literal(raw),
            },
        });
        let value = match (given, default) {
            // `nullable = false`: a null value takes the default.
            (Some(v), Some(d)) if v.val == Val::Null && !nullable => d,
            (Some(v), _) => v,
            (None, Some(d)) => d,
            (None, None) => V::new(
                self.pos(decl.file, decl.item.span()),
                self.file(decl.file).id,
                Val::Unknown,
            ),
        };
        match ty {
            Some(t) => t.convert(value),
            None => value,
        }
    }
}

/// The root module's variable values: `terraform.tfvars`, `*.auto.tfvars` (sorted),
/// `--var-file`s, then `--var`s; later ones win.
pub(super) fn root_variables(
    shared: &Shared,
    dir: &Path,
    inputs: &Inputs,
) -> BTreeMap<String, Given> {
    let mut files: Vec<PathBuf> = Vec::new();
    for name in ["terraform.tfvars", "terraform.tfvars.json"] {
        let tfvars = dir.join(name);
        if tfvars.is_file() {
            files.push(tfvars);
        }
    }
    let mut auto: Vec<PathBuf> = std::fs::read_dir(dir)
        .into_iter()
        .flatten()
        .flatten()
        .map(|e| e.path())
        .filter(|p| {
            let name = p.to_string_lossy();
            name.ends_with(".auto.tfvars") || name.ends_with(".auto.tfvars.json")
        })
        .collect();
    auto.sort();
    files.extend(auto);
    // Files found here must not lead out of the scanned folder; `--var-file` is the
    // user's own choice.
    let found = files.len();
    files.extend(inputs.var_files.iter().cloned());
    // Environment variables come first; every file and `--var` overrides them.
    let mut values: BTreeMap<String, Given> = inputs
        .env
        .iter()
        .map(|(name, raw)| (name.clone(), Given::CommandLine(raw.clone())))
        .collect();
    for (i, f) in files.into_iter().enumerate() {
        let display = f.display().to_string();
        let read = if i < found {
            crate::parse::read_text_within(&f, &shared.root)
        } else {
            crate::parse::read_text(&f)
        };
        let text = match read {
            Ok(t) => t,
            // The folder walk lists it as passed over, with the reason.
            Err((_, m)) if m == crate::parse::OUTSIDE_ROOT => continue,
            Err((pos, m)) => {
                shared
                    .errors
                    .borrow_mut()
                    .push(file_error(&display, pos, m));
                continue;
            }
        };
        if display.ends_with(".json") {
            match crate::parse::json::parse(&text) {
                Ok(doc) => {
                    for e in doc.entries() {
                        values.insert(
                            e.key.clone(),
                            Given::Value(V::from_node(&e.value, file_id(&display), 0)),
                        );
                    }
                }
                Err(e) => shared
                    .errors
                    .borrow_mut()
                    .push(file_error(&display, e.pos, e.message)),
            }
            continue;
        }
        match crate::parse::hcl::parse(&text) {
            Ok(body) => {
                let lines = LineIndex::new(&text);
                let scope = crate::parse::hcl::eval::NoScope;
                let budget = Cell::new(DEFAULT_BUDGET);
                let mut ev = Evaluator::new(&scope, file_id(&display), &lines, &budget);
                for a in body.attributes() {
                    match ev.eval(&a.value) {
                        Ok(v) => {
                            values.insert(a.key.value().to_string(), Given::Value(v));
                        }
                        Err(e) => shared.report(&display, e.pos, e.message),
                    }
                }
            }
            Err(e) => shared
                .errors
                .borrow_mut()
                .push(file_error(&display, e.pos, e.message)),
        }
    }
    for (name, raw) in &inputs.vars {
        values.insert(name.clone(), Given::CommandLine(raw.clone()));
    }
    values
}

/// A `--var` or `TF_VAR_` value for a variable Terraform reads as HCL (a collection,
/// an object, `any`); a value that does not parse is kept as the string (Terraform
/// would refuse it).
fn command_line_value(raw: &str) -> V {
    let text = format!("v = {raw}\n");
    let lines = LineIndex::new(&text);
    let scope = crate::parse::hcl::eval::NoScope;
    let budget = Cell::new(DEFAULT_BUDGET);
    let parsed = crate::parse::hcl::parse(&text).ok();
    parsed
        .as_ref()
        .and_then(|b| b.get_attribute("v"))
        .and_then(|a| {
            Evaluator::new(&scope, 1, &lines, &budget)
                .eval(&a.value)
                .ok()
        })
        .unwrap_or_else(|| literal(raw))
}

/// A `--var` or `TF_VAR_` value taken literally, as Terraform takes it for a variable
/// of a primitive type or without a type.
fn literal(raw: &str) -> V {
    V::new(Pos::new(1, 1), 1, Val::Str(raw.to_string()))
}
