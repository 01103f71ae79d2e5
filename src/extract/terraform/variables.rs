//! Variable inputs: what a module's `var.x` is. A root module's values come from
//! `TF_VAR_` environment variables, `terraform.tfvars`, `*.auto.tfvars`, `--var-file`
//! and `--var`, in Terraform's precedence; a child module's from its call's arguments.
//! A variable without a value uses its `default`.

use super::instance::{Instance, Shared};
use super::{file_error, file_id};
use crate::parse::hcl::eval::{Evaluator, DEFAULT_BUDGET};
use crate::parse::hcl::value::{Val, V};
use crate::parse::{LineIndex, Pos};
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

impl Instance<'_> {
    pub(super) fn variable_value(&self, name: &str, pos: Pos) -> Option<V> {
        if let Some(v) = self.inputs.get(name) {
            return Some(v.clone());
        }
        let decl = self.variables.get(name)?;
        Some(match decl.item.body.get_attribute("default") {
            Some(a) => self.eval_in(decl.file, &a.value, &[]),
            None => V::new(pos, 0, Val::Unknown),
        })
    }
}

/// The root module's variable values: `terraform.tfvars`, `*.auto.tfvars` (sorted),
/// `--var-file`s, then `--var`s; later ones win.
pub(super) fn root_variables(shared: &Shared, dir: &Path, inputs: &Inputs) -> BTreeMap<String, V> {
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
    files.extend(inputs.var_files.iter().cloned());
    // Environment variables come first; every file and `--var` overrides them.
    let mut values: BTreeMap<String, V> = inputs
        .env
        .iter()
        .map(|(name, raw)| (name.clone(), command_line_value(raw)))
        .collect();
    for f in files {
        let display = f.display().to_string();
        let text = match crate::parse::read_text(&f) {
            Ok(t) => t,
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
                        values.insert(e.key.clone(), V::from_node(&e.value, file_id(&display), 0));
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
                            values.insert(a.key.value().to_string(), v);
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
        values.insert(name.clone(), command_line_value(raw));
    }
    values
}

/// A `--var` or `TF_VAR_` value: HCL syntax if it parses (lists, maps, numbers), else
/// a string, as Terraform reads them.
pub(super) fn command_line_value(raw: &str) -> V {
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
        .unwrap_or_else(|| V::new(Pos::new(1, 1), 1, Val::Str(raw.to_string())))
}
