//! Suppression: the stage after evaluation that marks findings a team has accepted.
//!
//! Four ways to accept a finding, tried in this order for each finding:
//!
//! 1. **Inline comments** `breakout:ignore RULE[,RULE…] [reason]` in YAML, HCL
//!    (`#`, `//`, `/* */`) and Dockerfiles. A comment applies to the line it ends
//!    (trailing comment) or, standing on its own line (or in a block of comment lines),
//!    to the line directly below. When that line is the first line of a resource,
//!    workload or Dockerfile stage, it applies to every finding of that resource.
//! 2. **The Kubernetes annotation** `breakout.dev/ignore: "BRK401,BRK302=reason"` on
//!    an object or its pod template.
//! 3. **Configuration entries** (`ignore:` in `.breakout.yaml`): by rule, path globs,
//!    resource names, with a reason and an optional expiry date.
//! 4. **A baseline**: the JSON report of an earlier scan; findings whose fingerprint it
//!    holds are accepted.
//!
//! A suppressed finding is never dropped: it keeps its place in the report with a
//! [`Suppression`] and does not count for `--fail-on`. Comments, annotations and
//! entries that matched no finding are reported as stale.

use crate::engine::{Finding, Policy, Suppression, SuppressionKind};
use crate::facts::Facts;
use crate::parse::{Node, Pos};
use crate::FileError;
use serde::Serialize;
use std::collections::{BTreeMap, HashMap, HashSet};
use std::path::{Path, PathBuf};

/// The word that starts an ignore comment.
pub const MARKER: &str = "breakout:ignore";

/// The comment syntax of a scanned file. JSON has none: use the configuration file
/// or the annotation.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Syntax {
    /// `#` comments (Kubernetes manifests, compose files).
    Yaml,
    /// `#`, `//` and `/* */` comments (Terraform).
    Hcl,
    /// `#` at the start of a line.
    Dockerfile,
}

impl Syntax {
    /// The comment syntax of a file of `format` named `name` (`None` for JSON).
    pub fn of(format: crate::discover::Format, name: &str) -> Option<Syntax> {
        use crate::discover::Format;
        match format {
            Format::Yaml => Some(Syntax::Yaml),
            Format::Dockerfile => Some(Syntax::Dockerfile),
            Format::Terraform if !name.ends_with(".json") => Some(Syntax::Hcl),
            _ => None,
        }
    }
}

/// One `breakout:ignore` comment.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Directive {
    /// The rules as written (IDs or slugs).
    pub rules: Vec<String>,
    /// The text after the rules, if any.
    pub reason: Option<String>,
    /// Where the comment is.
    pub pos: Pos,
    /// The line it applies to: its own for a trailing comment, else the line below it
    /// (below the block of comment lines it is part of).
    pub target: u32,
}

/// What the suppress stage reads from one scanned file's text.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Notes {
    /// The ignore comments.
    pub directives: Vec<Directive>,
    /// Comments that start with the marker but name no rule, with what is wrong.
    pub malformed: Vec<(Pos, String)>,
    /// Terraform only: the `resource "TYPE" "NAME"` and `data "TYPE" "NAME"` blocks, as
    /// `(TYPE.NAME or data.TYPE.NAME, first line)`.
    pub blocks: Vec<(String, u32)>,
}

impl Notes {
    /// Reads the ignore comments (and, for HCL, the block headers) of `text`.
    pub fn read(text: &str, syntax: Syntax) -> Notes {
        // Most files have no ignore comment: skip the comment scan (a second pass of
        // the YAML scanner) for them.
        if !text.contains(MARKER) {
            return Notes::default();
        }
        let comments = match syntax {
            Syntax::Yaml => yaml_comments(text),
            Syntax::Hcl => hcl_comments(text),
            Syntax::Dockerfile => dockerfile_comments(text),
        };
        let own_line: HashSet<u32> = comments
            .iter()
            .filter(|c| c.own_line)
            .map(|c| c.pos.line)
            .collect();
        let mut notes = Notes::default();
        for c in &comments {
            let body = c.text.trim_start();
            let Some(rest) = body.strip_prefix(MARKER) else {
                continue;
            };
            if rest.starts_with(|ch: char| !ch.is_whitespace()) {
                // `breakout:ignored`, `breakout:ignore=…`: not ours, but say so.
                notes.malformed.push((
                    c.pos,
                    "must be followed by a space and rule IDs".to_string(),
                ));
                continue;
            }
            let target = if c.own_line {
                let mut line = c.pos.line + 1;
                while own_line.contains(&line) {
                    line += 1;
                }
                line
            } else {
                c.pos.line
            };
            match parse_rules_and_reason(rest) {
                Some((rules, reason)) => notes.directives.push(Directive {
                    rules,
                    reason,
                    pos: c.pos,
                    target,
                }),
                None => notes.malformed.push((c.pos, "names no rule".to_string())),
            }
        }
        if syntax == Syntax::Hcl {
            notes.blocks = hcl_blocks(text);
        }
        notes
    }
}

/// A comment: its text after the comment sign, where it starts, and whether nothing
/// but whitespace precedes it on its line.
struct Comment {
    text: String,
    pos: Pos,
    own_line: bool,
}

/// YAML comments, found by the YAML scanner itself (quotes, block scalars and flow
/// collections are its business). A file that stops parsing yields the comments
/// before the error.
fn yaml_comments(text: &str) -> Vec<Comment> {
    use serde_saphyr::granit_parser::{Event, Parser};
    let lines: Vec<&str> = text.lines().collect();
    let mut out = Vec::new();
    let mut parser = Parser::new_from_str(text);
    while let Some(Ok((event, span))) = parser.next_event() {
        match event {
            Event::Comment(body, _) => {
                let line = span.start.line() as u32;
                let col = span.start.col() as u32 + 1;
                let before: String = lines
                    .get(line as usize - 1)
                    .map(|l| l.chars().take(col as usize - 1).collect())
                    .unwrap_or_default();
                out.push(Comment {
                    text: body.into_owned(),
                    pos: Pos::new(line, col),
                    own_line: before.trim().is_empty(),
                });
            }
            Event::StreamEnd => break,
            _ => {}
        }
    }
    out
}

/// Dockerfile comments: lines whose first character after indentation is `#`, outside
/// heredocs (`RUN <<EOF`). A `#` later in a line is not a comment in a Dockerfile.
fn dockerfile_comments(text: &str) -> Vec<Comment> {
    let mut out = Vec::new();
    let mut heredoc: Option<String> = None;
    for (i, line) in text.lines().enumerate() {
        let n = i as u32 + 1;
        if let Some(end) = &heredoc {
            if line.trim() == end {
                heredoc = None;
            }
            continue;
        }
        let trimmed = line.trim_start();
        if let Some(body) = trimmed.strip_prefix('#') {
            let col = (line.chars().count() - trimmed.chars().count()) as u32 + 1;
            out.push(Comment {
                text: body.to_string(),
                pos: Pos::new(n, col),
                own_line: true,
            });
        } else if let Some(word) = heredoc_word(line) {
            heredoc = Some(word);
        }
    }
    out
}

/// The terminator of a heredoc opened on this line (`<<EOF`, `<<-EOF`, `<<"EOF"`).
fn heredoc_word(line: &str) -> Option<String> {
    let at = line.find("<<")?;
    let rest = line[at + 2..].trim_start_matches(['-', '~']);
    let rest = rest.trim_start_matches(['"', '\'']);
    let word: String = rest
        .chars()
        .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
        .collect();
    (!word.is_empty()).then_some(word)
}

/// HCL comments (`#`, `//`, `/* */`), skipping strings, template interpolations and
/// heredocs.
fn hcl_comments(text: &str) -> Vec<Comment> {
    #[derive(PartialEq)]
    enum Mode {
        Code,
        Str,
        Interp(u32),
    }
    let mut out = Vec::new();
    let mut stack: Vec<Mode> = vec![Mode::Code];
    let mut block: Option<Comment> = None;
    let mut heredoc: Option<String> = None;
    for (i, line) in text.lines().enumerate() {
        let n = i as u32 + 1;
        if let Some(end) = &heredoc {
            if line.trim() == end {
                heredoc = None;
            }
            continue;
        }
        let chars: Vec<char> = line.chars().collect();
        let mut j = 0;
        let mut opened_heredoc = None;
        while j < chars.len() {
            let c = chars[j];
            let next = chars.get(j + 1).copied();
            if let Some(b) = &mut block {
                if c == '*' && next == Some('/') {
                    let mut done = block.take().expect("in a block comment");
                    // Code after the comment on its line: the comment is about that line.
                    if chars[j + 2..].iter().any(|c| !c.is_whitespace()) && done.pos.line == n {
                        done.own_line = false;
                    }
                    out.push(done);
                    j += 2;
                } else {
                    b.text.push(c);
                    j += 1;
                }
                continue;
            }
            match stack.last() {
                Some(Mode::Str) => {
                    match (c, next) {
                        ('\\', _) => j += 1,
                        ('"', _) => {
                            stack.pop();
                        }
                        ('$' | '%', Some('{')) => {
                            stack.push(Mode::Interp(0));
                            j += 1;
                        }
                        _ => {}
                    }
                    j += 1;
                    continue;
                }
                Some(Mode::Interp(depth)) => {
                    let depth = *depth;
                    match c {
                        '"' => stack.push(Mode::Str),
                        '{' => *stack.last_mut().expect("non-empty") = Mode::Interp(depth + 1),
                        '}' if depth == 0 => {
                            stack.pop();
                        }
                        '}' => *stack.last_mut().expect("non-empty") = Mode::Interp(depth - 1),
                        _ => {}
                    }
                    j += 1;
                    continue;
                }
                _ => {}
            }
            let own_line = chars[..j].iter().all(|c| c.is_whitespace());
            let pos = Pos::new(n, j as u32 + 1);
            match (c, next) {
                ('"', _) => stack.push(Mode::Str),
                ('#', _) | ('/', Some('/')) => {
                    let skip = if c == '#' { 1 } else { 2 };
                    out.push(Comment {
                        text: chars[j + skip..].iter().collect(),
                        pos,
                        own_line,
                    });
                    break;
                }
                ('/', Some('*')) => {
                    block = Some(Comment {
                        text: String::new(),
                        pos,
                        own_line,
                    });
                    j += 1;
                }
                ('<', Some('<')) => {
                    let rest: String = chars[j..].iter().collect();
                    opened_heredoc = heredoc_word(&rest);
                    if opened_heredoc.is_some() {
                        break;
                    }
                    j += 1;
                }
                _ => {}
            }
            j += 1;
        }
        if let Some(b) = &mut block {
            b.text.push('\n');
        }
        heredoc = opened_heredoc;
        // Strings do not span lines in HCL; recover from an unbalanced quote.
        if !matches!(stack.last(), Some(Mode::Code)) {
            stack.truncate(1);
        }
    }
    out
}

/// `resource "TYPE" "NAME"` and `data "TYPE" "NAME"` headers: the address each block
/// declares (without module path or index) and its line.
fn hcl_blocks(text: &str) -> Vec<(String, u32)> {
    let mut out = Vec::new();
    for (i, line) in text.lines().enumerate() {
        let mut words = line.split_whitespace();
        let kind = words.next().unwrap_or_default();
        if kind != "resource" && kind != "data" {
            continue;
        }
        let label = |w: Option<&str>| {
            w.and_then(|w| w.strip_prefix('"'))
                .and_then(|w| w.strip_suffix('"'))
                .map(str::to_string)
        };
        if let (Some(t), Some(name)) = (label(words.next()), label(words.next())) {
            let address = if kind == "data" {
                format!("data.{t}.{name}")
            } else {
                format!("{t}.{name}")
            };
            out.push((address, i as u32 + 1));
        }
    }
    out
}

/// A Terraform finding's resource reduced to the block that declares it:
/// `module.app["x"].aws_iam_policy.p[0] (Deployment a/b)` → `aws_iam_policy.p`.
fn block_address(resource: &str) -> String {
    // Split on dots outside brackets and quotes, stopping at a space outside them.
    let mut parts: Vec<String> = vec![String::new()];
    let (mut depth, mut quoted) = (0usize, false);
    for c in resource.chars() {
        match c {
            '"' if depth > 0 => quoted = !quoted,
            '[' if !quoted => depth += 1,
            ']' if !quoted => depth = depth.saturating_sub(1),
            '.' if depth == 0 => {
                parts.push(String::new());
                continue;
            }
            ' ' if depth == 0 => break,
            _ => {}
        }
        parts.last_mut().expect("non-empty").push(c);
    }
    let strip = |p: &str| p.split('[').next().unwrap_or_default().to_string();
    let mut parts: Vec<String> = parts.iter().map(|p| strip(p)).collect();
    while parts.first().is_some_and(|p| p == "module") && parts.len() > 2 {
        parts.drain(..2);
    }
    parts.join(".")
}

/// Splits `BRK201,BRK202 reason` (spaces after commas allowed; a `:` or `-` between
/// the rules and the reason is dropped). `None` when no rule is named.
fn parse_rules_and_reason(rest: &str) -> Option<(Vec<String>, Option<String>)> {
    let rest = rest.trim();
    let rest = rest.strip_suffix("*/").unwrap_or(rest).trim_end();
    let is_rule_char = |c: char| c.is_ascii_alphanumeric() || c == '_' || c == '-';
    let mut rules = Vec::new();
    let mut tail = rest;
    loop {
        let end = tail.find(|c: char| !is_rule_char(c)).unwrap_or(tail.len());
        if end == 0 {
            break;
        }
        rules.push(tail[..end].to_string());
        let after = tail[end..].trim_start();
        match after.strip_prefix(',') {
            Some(more) => tail = more.trim_start(),
            None => {
                tail = &tail[end..];
                break;
            }
        }
    }
    if rules.is_empty() {
        return None;
    }
    let reason = tail
        .trim_start()
        .trim_start_matches([':', '-', '\u{2014}', '\u{2013}'])
        .trim();
    Some((rules, (!reason.is_empty()).then(|| reason.to_string())))
}

/// Parses an annotation value: `BRK401,BRK302=reason`. A comma inside a reason stays
/// in it unless the text after it looks like another rule entry.
pub fn parse_annotation(value: &str) -> Vec<(String, Option<String>)> {
    let mut entries: Vec<(String, Option<String>)> = Vec::new();
    for segment in value.split(',') {
        let trimmed = segment.trim();
        let (name, reason) = match trimmed.split_once('=') {
            Some((n, r)) => (n.trim(), Some(r.trim())),
            None => (trimmed, None),
        };
        // IDs have digits (`BRK401`), slugs hyphens (`runs-as-root`): a plain word
        // after a comma continues the reason before it.
        let looks_like_rule = !name.is_empty()
            && name
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
            && name.contains(|c: char| c.is_ascii_digit() || c == '-');
        match entries.last_mut() {
            Some((_, Some(r))) if !looks_like_rule => {
                r.push(',');
                r.push_str(segment);
            }
            _ if trimmed.is_empty() => {}
            _ => entries.push((
                name.to_string(),
                reason.filter(|r| !r.is_empty()).map(str::to_string),
            )),
        }
    }
    for (_, r) in &mut entries {
        if let Some(text) = r {
            *text = text.trim().to_string();
        }
    }
    entries
}

/// An `ignore:` entry of the configuration file.
#[derive(Clone, Debug)]
pub struct IgnoreEntry {
    /// The rule, as written (ID or slug).
    pub rule: String,
    /// Path globs, relative to `base`; empty: every file.
    pub paths: Vec<String>,
    /// The compiled `paths`.
    pub path_set: Option<globset::GlobSet>,
    /// Resource names (exact, or globs with `*` and `?`); empty: every resource.
    pub resources: Vec<String>,
    /// Why the finding is accepted.
    pub reason: Option<String>,
    /// The last day the entry applies (inclusive), as `YYYY-MM-DD`.
    pub expires: Option<chrono::NaiveDate>,
    /// The configuration file, as the user named it or as it was found.
    pub file: String,
    /// Where the entry starts in it.
    pub pos: Pos,
    /// The folder `paths` are relative to (the configuration file's), absolute.
    pub base: PathBuf,
}

/// The fingerprints of an earlier scan's findings.
#[derive(Clone, Debug, Default)]
pub struct Baseline {
    /// The report file, as named on the command line.
    pub file: String,
    /// Fingerprint → line of the finding in the report.
    pub fingerprints: HashMap<String, u32>,
}

impl Baseline {
    /// Reads a JSON report written by `breakout scan --format json`.
    pub fn load(path: &Path) -> Result<Baseline, FileError> {
        let file = path.display().to_string();
        let err = |pos: Option<Pos>, message: String| FileError {
            file: file.clone(),
            line: pos.map(|p| p.line),
            column: pos.map(|p| p.column),
            message,
        };
        let text = std::fs::read_to_string(path)
            .map_err(|e| err(None, format!("cannot read baseline: {e}")))?;
        let doc = crate::parse::json::parse(&text).map_err(|e| err(e.pos, e.message))?;
        let not_a_report = |pos| {
            err(
                Some(pos),
                "not a breakout JSON report (`breakout scan --format json`): no `schema_version` and `findings`".into(),
            )
        };
        if doc.get("schema_version").and_then(Node::as_i64).is_none() {
            return Err(not_a_report(doc.pos));
        }
        let findings = doc.get("findings").ok_or_else(|| not_a_report(doc.pos))?;
        let mut fingerprints = HashMap::new();
        for f in findings.items() {
            let fp = f
                .get("fingerprint")
                .and_then(Node::as_str)
                .ok_or_else(|| err(Some(f.pos), "finding without a `fingerprint`".into()))?;
            fingerprints.entry(fp.to_string()).or_insert(f.pos.line);
        }
        Ok(Baseline { file, fingerprints })
    }
}

/// What the suppress stage is given besides the findings.
#[derive(Clone, Debug, Default)]
pub struct Settings {
    /// `ignore:` entries of the configuration file.
    pub ignore: Vec<IgnoreEntry>,
    /// `--baseline`.
    pub baseline: Option<Baseline>,
    /// `--require-reason`: a suppression without a reason is an error and does not apply.
    pub require_reason: bool,
    /// Every rule that can be named (ID, slug), including those `--only`/`--skip` did
    /// not run; empty: the rules that ran.
    pub known_rules: Vec<(String, String)>,
    /// The day expiry dates are compared with; `None`: today (UTC).
    pub today: Option<chrono::NaiveDate>,
}

/// A suppression that did not apply: it matched no finding, names an unknown rule, is
/// malformed, or has expired.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct StaleSuppression {
    /// Comment, annotation or configuration entry.
    pub kind: SuppressionKind,
    /// The file it is written in.
    pub file: String,
    /// 1-based line.
    pub line: u32,
    /// 1-based column.
    pub column: u32,
    /// The rule as written (empty when none is named).
    pub rule: String,
    /// What is wrong with it.
    pub problem: String,
}

impl StaleSuppression {
    /// What is wrong, without the location: `breakout:ignore BRK601: matched no finding`.
    pub fn describe(&self) -> String {
        let what = match self.kind {
            SuppressionKind::Inline => MARKER,
            SuppressionKind::Annotation => crate::extract::k8s::IGNORE_ANNOTATION,
            SuppressionKind::Config => "ignore entry",
            SuppressionKind::Baseline => "baseline",
        };
        if self.rule.is_empty() {
            format!("{what}: {}", self.problem)
        } else {
            format!("{what} {}: {}", self.rule, self.problem)
        }
    }
}

impl std::fmt::Display for StaleSuppression {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{}:{}:{}: {}",
            self.file,
            self.line,
            self.column,
            self.describe()
        )
    }
}

/// What the stage found besides the suppressions it set.
#[derive(Debug, Default)]
pub struct Outcome {
    /// Suppressions that did not apply, sorted by file, line, column, rule.
    pub stale: Vec<StaleSuppression>,
    /// Suppressions without a reason under `--require-reason`.
    pub errors: Vec<FileError>,
}

/// One suppression, from wherever it is written, for one rule.
struct Candidate {
    kind: SuppressionKind,
    rule: String,
    /// The rule's ID when it names a known rule.
    id: Option<String>,
    reason: Option<String>,
    file: String,
    pos: Pos,
    scope: Scope,
    used: bool,
}

enum Scope {
    /// A comment: findings in `file` on `target`, or of a resource that starts there.
    Line { target: u32 },
    /// An annotation: findings of `resource` in the annotation's file.
    Resource { resource: String },
    /// A configuration entry (index into `Settings::ignore`).
    Entry(usize),
}

/// Marks the findings that a suppression covers and reports the suppressions that
/// covered nothing. `ran` are the rules that were evaluated: a suppression of a rule
/// that did not run is neither used nor stale.
pub fn apply(
    findings: &mut [Finding],
    facts: &[Facts],
    notes: &BTreeMap<String, Notes>,
    ran: &[Policy],
    settings: &Settings,
) -> Outcome {
    let mut out = Outcome::default();
    let known: Vec<(String, String)> = if settings.known_rules.is_empty() {
        ran.iter()
            .map(|p| (p.id.clone(), p.slug.to_string()))
            .collect()
    } else {
        settings.known_rules.clone()
    };
    let resolve = |name: &str| {
        known
            .iter()
            .find(|(id, slug)| id.eq_ignore_ascii_case(name) || slug.eq_ignore_ascii_case(name))
            .map(|(id, _)| id.clone())
    };
    let today = settings
        .today
        .unwrap_or_else(|| chrono::Utc::now().date_naive());

    let mut candidates: Vec<Candidate> = Vec::new();
    for (file, n) in notes {
        for (pos, problem) in &n.malformed {
            out.stale.push(StaleSuppression {
                kind: SuppressionKind::Inline,
                file: file.clone(),
                line: pos.line,
                column: pos.column,
                rule: String::new(),
                problem: problem.clone(),
            });
        }
        for d in &n.directives {
            for rule in &d.rules {
                candidates.push(Candidate {
                    kind: SuppressionKind::Inline,
                    rule: rule.clone(),
                    id: resolve(rule),
                    reason: d.reason.clone(),
                    file: file.clone(),
                    pos: d.pos,
                    scope: Scope::Line { target: d.target },
                    used: false,
                });
            }
        }
    }
    for a in facts.iter().flat_map(|f| &f.ignore_annotations) {
        let entries = parse_annotation(&a.value);
        if entries.is_empty() {
            out.stale.push(StaleSuppression {
                kind: SuppressionKind::Annotation,
                file: a.file.clone(),
                line: a.loc.line,
                column: a.loc.column,
                rule: String::new(),
                problem: "names no rule".into(),
            });
        }
        for (rule, reason) in entries {
            candidates.push(Candidate {
                kind: SuppressionKind::Annotation,
                id: resolve(&rule),
                rule,
                reason,
                file: a.file.clone(),
                pos: a.loc,
                scope: Scope::Resource {
                    resource: a.resource.clone(),
                },
                used: false,
            });
        }
    }
    for (i, e) in settings.ignore.iter().enumerate() {
        if e.expires.is_some_and(|d| d < today) {
            out.stale.push(StaleSuppression {
                kind: SuppressionKind::Config,
                file: e.file.clone(),
                line: e.pos.line,
                column: e.pos.column,
                rule: e.rule.clone(),
                problem: format!(
                    "expired on {}; it no longer applies",
                    e.expires.expect("checked")
                ),
            });
            continue;
        }
        candidates.push(Candidate {
            kind: SuppressionKind::Config,
            rule: e.rule.clone(),
            id: resolve(&e.rule),
            reason: e.reason.clone(),
            file: e.file.clone(),
            pos: e.pos,
            scope: Scope::Entry(i),
            used: false,
        });
    }

    // Unknown rules and missing reasons are reported once and never apply.
    candidates.retain(|c| {
        if c.id.is_none() {
            out.stale.push(StaleSuppression {
                kind: c.kind,
                file: c.file.clone(),
                line: c.pos.line,
                column: c.pos.column,
                rule: c.rule.clone(),
                problem: "names no known rule (see `breakout policies`)".into(),
            });
            return false;
        }
        if settings.require_reason && c.reason.is_none() {
            out.errors.push(FileError {
                file: c.file.clone(),
                line: Some(c.pos.line),
                column: Some(c.pos.column),
                message: format!(
                    "suppression of {} gives no reason (--require-reason)",
                    c.rule
                ),
            });
            return false;
        }
        true
    });

    let anchors = Anchors::new(facts, notes);
    let mut paths = RelativePaths::default();
    for f in findings.iter_mut() {
        let mut first: Option<Suppression> = None;
        for c in candidates.iter_mut() {
            if c.id.as_deref() != Some(f.rule_id.as_str()) {
                continue;
            }
            let hit = match &c.scope {
                Scope::Line { target } => {
                    c.file == f.location.file
                        && (*target == f.location.line
                            || anchors.starts(&f.location.file, &f.resource, *target))
                }
                Scope::Resource { resource } => {
                    c.file == f.location.file && *resource == f.resource
                }
                Scope::Entry(i) => {
                    let e = &settings.ignore[*i];
                    entry_matches(e, f, &mut paths)
                }
            };
            if hit {
                c.used = true;
                if first.is_none() {
                    first = Some(Suppression {
                        kind: c.kind,
                        reason: c.reason.clone(),
                        file: c.file.clone(),
                        line: Some(c.pos.line),
                    });
                }
            }
        }
        if first.is_none() {
            if let Some(b) = &settings.baseline {
                if let Some(line) = b.fingerprints.get(&f.fingerprint) {
                    first = Some(Suppression {
                        kind: SuppressionKind::Baseline,
                        reason: None,
                        file: b.file.clone(),
                        line: Some(*line),
                    });
                }
            }
        }
        f.suppression = first;
    }

    for c in candidates {
        let ran_rule = ran.iter().any(|p| Some(&p.id) == c.id.as_ref());
        if !c.used && ran_rule {
            out.stale.push(StaleSuppression {
                kind: c.kind,
                file: c.file,
                line: c.pos.line,
                column: c.pos.column,
                rule: c.rule,
                problem: "matched no finding".into(),
            });
        }
    }
    out.stale.sort_by(|a, b| {
        (&a.file, a.line, a.column, &a.rule).cmp(&(&b.file, b.line, b.column, &b.rule))
    });
    out.stale.dedup();
    out.errors
        .sort_by(|a, b| (&a.file, a.line, a.column).cmp(&(&b.file, b.line, b.column)));
    out.errors.dedup();
    out
}

/// The first lines of resources, workloads and Dockerfile stages, by file and
/// resource: a comment there covers the whole resource.
struct Anchors<'a> {
    facts: HashMap<(&'a str, &'a str), Vec<u32>>,
    notes: &'a BTreeMap<String, Notes>,
}

impl<'a> Anchors<'a> {
    fn new(facts: &'a [Facts], notes: &'a BTreeMap<String, Notes>) -> Self {
        let mut map: HashMap<(&str, &str), Vec<u32>> = HashMap::new();
        let records = facts.iter().flat_map(|facts| {
            facts
                .workloads
                .iter()
                .map(|w| (&w.file, &w.resource, w.loc))
                .chain(facts.images.iter().map(|i| (&i.file, &i.resource, i.loc)))
                .chain(
                    facts
                        .instances
                        .iter()
                        .map(|i| (&i.file, &i.resource, i.loc)),
                )
        });
        for (file, resource, loc) in records {
            map.entry((file.as_str(), resource.as_str()))
                .or_default()
                .push(loc.line);
        }
        Anchors { facts: map, notes }
    }

    /// Whether `line` of `file` is the first line of `resource`.
    fn starts(&self, file: &str, resource: &str, line: u32) -> bool {
        if self
            .facts
            .get(&(file, resource))
            .is_some_and(|lines| lines.contains(&line))
        {
            return true;
        }
        let Some(n) = self.notes.get(file) else {
            return false;
        };
        if n.blocks.is_empty() {
            return false;
        }
        let address = block_address(resource);
        n.blocks.iter().any(|(a, l)| *l == line && *a == address)
    }
}

/// Finding files relative to configuration folders, computed once per pair.
#[derive(Default)]
struct RelativePaths {
    cache: HashMap<(String, PathBuf), Option<String>>,
}

impl RelativePaths {
    fn get(&mut self, file: &str, base: &Path) -> Option<String> {
        self.cache
            .entry((file.to_string(), base.to_path_buf()))
            .or_insert_with(|| relative_to(file, base))
            .clone()
    }
}

/// `file` relative to `base` (both resolved through symbolic links), with `/`
/// separators; `None` when it is not under `base` or does not exist.
pub fn relative_to(file: &str, base: &Path) -> Option<String> {
    let path = Path::new(file).canonicalize().ok()?;
    let base = base.canonicalize().unwrap_or_else(|_| base.to_path_buf());
    let rel = path.strip_prefix(&base).ok()?;
    Some(
        rel.components()
            .map(|c| c.as_os_str().to_string_lossy())
            .collect::<Vec<_>>()
            .join("/"),
    )
}

fn entry_matches(e: &IgnoreEntry, f: &Finding, paths: &mut RelativePaths) -> bool {
    if let Some(set) = &e.path_set {
        match paths.get(&f.location.file, &e.base) {
            Some(rel) if set.is_match(&rel) => {}
            _ => return false,
        }
    }
    e.resources.is_empty() || e.resources.iter().any(|r| resource_matches(r, &f.resource))
}

/// A resource pattern: the exact name, or a glob where `*` and `?` are wildcards
/// (brackets in Terraform addresses stay literal).
pub fn resource_matches(pattern: &str, resource: &str) -> bool {
    if pattern == resource {
        return true;
    }
    if !pattern.contains(['*', '?']) {
        return false;
    }
    let escaped = globset::escape(pattern)
        .replace("[*]", "*")
        .replace("[?]", "?");
    globset::GlobBuilder::new(&escaped)
        .literal_separator(false)
        .build()
        .is_ok_and(|g| g.compile_matcher().is_match(resource))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn targets(text: &str, syntax: Syntax) -> Vec<(u32, u32, Vec<String>, Option<String>)> {
        Notes::read(text, syntax)
            .directives
            .into_iter()
            .map(|d| (d.pos.line, d.target, d.rules, d.reason))
            .collect()
    }

    #[test]
    fn rules_and_reasons_are_split() {
        assert_eq!(
            parse_rules_and_reason(" BRK201,BRK202 the log agent reads node logs"),
            Some((
                vec!["BRK201".into(), "BRK202".into()],
                Some("the log agent reads node logs".into())
            ))
        );
        assert_eq!(
            parse_rules_and_reason(" runtime-socket-mount, BRK601: builds images"),
            Some((
                vec!["runtime-socket-mount".into(), "BRK601".into()],
                Some("builds images".into())
            ))
        );
        assert_eq!(
            parse_rules_and_reason(" BRK401 */"),
            Some((vec!["BRK401".into()], None))
        );
        assert_eq!(parse_rules_and_reason("   "), None);
    }

    #[test]
    fn yaml_comments_trailing_above_and_in_blocks() {
        let text = "\
apiVersion: v1 # breakout:ignore BRK302 whole pod
kind: Pod
spec:
  # breakout:ignore BRK601 debugging pod
  # (ends on 2027-01-01)
  containers:
    - name: x
      command: |
        # breakout:ignore BRK999 inside a block scalar: text, not a comment
      args: ['# breakout:ignore BRK1 quoted']
      securityContext: {privileged: true} # breakout:ignore privileged-container
";
        assert_eq!(
            targets(text, Syntax::Yaml),
            vec![
                (1, 1, vec!["BRK302".into()], Some("whole pod".into())),
                (4, 6, vec!["BRK601".into()], Some("debugging pod".into())),
                (11, 11, vec!["privileged-container".into()], None),
            ]
        );
    }

    #[test]
    fn hcl_comments_skip_strings_and_heredocs() {
        let text = r##"
# breakout:ignore BRK501 bastion is replaced in Q3
resource "aws_instance" "bastion" {
  user_data = <<-EOT
    # breakout:ignore BRK1 shell comment in a heredoc
  EOT
  tags = { Name = "a # breakout:ignore BRK2 in a string ${"x"}" }
  metadata_options {
    http_tokens = "optional" // breakout:ignore BRK501
    /* breakout:ignore imds-hop-limit legacy */ http_put_response_hop_limit = 2
  }
}
data "aws_iam_policy_document" "p" {}
"##;
        assert_eq!(
            targets(text, Syntax::Hcl),
            vec![
                (
                    2,
                    3,
                    vec!["BRK501".into()],
                    Some("bastion is replaced in Q3".into())
                ),
                (9, 9, vec!["BRK501".into()], None),
                (10, 10, vec!["imds-hop-limit".into()], Some("legacy".into())),
            ]
        );
        assert_eq!(
            Notes::read(text, Syntax::Hcl).blocks,
            vec![
                ("aws_instance.bastion".to_string(), 3),
                ("data.aws_iam_policy_document.p".to_string(), 13)
            ]
        );
    }

    #[test]
    fn dockerfile_comments_are_whole_lines_outside_heredocs() {
        let text = "\
FROM alpine AS build
RUN <<EOF
# breakout:ignore BRK1 script comment
EOF
# breakout:ignore BRK303 the runtime image drops privileges in its entrypoint
FROM alpine AS runtime
RUN echo hi # breakout:ignore BRK2 not a comment in a Dockerfile
";
        assert_eq!(
            targets(text, Syntax::Dockerfile),
            vec![(
                5,
                6,
                vec!["BRK303".into()],
                Some("the runtime image drops privileges in its entrypoint".into())
            )]
        );
    }

    #[test]
    fn malformed_markers_are_reported() {
        let n = Notes::read(
            "# breakout:ignore\n# breakout:ignore=BRK1\nk: v\n",
            Syntax::Yaml,
        );
        assert!(n.directives.is_empty());
        assert_eq!(n.malformed.len(), 2);
    }

    #[test]
    fn annotations_split_entries_and_keep_commas_in_reasons() {
        assert_eq!(
            parse_annotation("BRK401,BRK302=runs as root, sadly, until v2 , BRK604"),
            vec![
                ("BRK401".to_string(), None),
                (
                    "BRK302".to_string(),
                    Some("runs as root, sadly, until v2".to_string())
                ),
                ("BRK604".to_string(), None),
            ]
        );
        assert!(parse_annotation(" ").is_empty());
    }

    #[test]
    fn terraform_addresses_reduce_to_their_block() {
        assert_eq!(
            block_address(r#"module.worker["a.b"].aws_iam_role_policy.tables"#),
            "aws_iam_role_policy.tables"
        );
        assert_eq!(
            block_address(
                r#"aws_iam_role_policy_attachment.nodes["arn:aws:iam::aws:policy/X"] (orders (prod))"#
            ),
            "aws_iam_role_policy_attachment.nodes"
        );
        assert_eq!(
            block_address("module.m.data.aws_iam_policy_document.p"),
            "data.aws_iam_policy_document.p"
        );
        assert_eq!(
            block_address(
                "kubernetes_deployment_v1.image_builder (Deployment builds/image-builder)"
            ),
            "kubernetes_deployment_v1.image_builder"
        );
    }

    #[test]
    fn resource_patterns_are_exact_or_globs() {
        assert!(resource_matches(
            "Deployment legacy/old-app",
            "Deployment legacy/old-app"
        ));
        assert!(resource_matches(
            "Deployment legacy/*",
            "Deployment legacy/old-app"
        ));
        assert!(!resource_matches(
            "Deployment legacy/*",
            "Deployment shop/api"
        ));
        let tf = r#"module.worker["invoices"].aws_ecs_task_definition.this"#;
        assert!(resource_matches(tf, tf));
        assert!(resource_matches(
            r#"module.worker[*].aws_ecs_task_definition.this"#,
            tf
        ));
    }
}
