//! Dockerfiles → the image fact: which user the built image runs as.
//!
//! Only the final stage (or the chosen build target) becomes the image. Its user is its
//! last `USER`, after `ARG`/`ENV` substitution in the stage's scope; with no `USER`, the
//! base decides: another stage of the same file passes on its own user (and its `ENV`),
//! an outside image runs as its own user, which is root for nearly every base image, so
//! breakout counts it as root, except for the base images known to set a non-root user
//! (`data/nonroot-base-images.json`: the distroless `:nonroot` tags, UID 65532, each
//! entry with its sources). This is where the peers differ: hadolint judges every
//! stage (builders included) and never a missing `USER`, Checkov accepts a `USER` set in
//! a builder stage, and none of them substitutes variables.

use super::container;
use crate::facts::{BuildStage, Facts, Image, Locs, Tri};
use crate::parse::dockerfile::{Dockerfile, Instruction};
use crate::parse::substitute::{self, Lookup, Syntax};
use serde::Deserialize;
use std::collections::BTreeMap;
use std::sync::OnceLock;

/// Base images known to run as a non-root user (an entry of
/// `data/nonroot-base-images.json`).
#[derive(Clone, Debug, Deserialize)]
pub struct NonRootBase {
    /// The repository starts with this (`gcr.io/distroless/`).
    pub repository_prefix: String,
    /// Tags that set the user (`nonroot`, `debug-nonroot`).
    pub tags: Vec<String>,
    /// Architecture suffixes a tag may carry (`nonroot-amd64`).
    #[serde(default)]
    pub architecture_suffixes: Vec<String>,
    /// The user's name.
    pub user: String,
    /// The user's UID.
    pub uid: i64,
    /// Where this is stated.
    pub sources: Vec<String>,
}

#[derive(Deserialize)]
struct NonRootTable {
    images: Vec<NonRootBase>,
}

/// Every base image known to run as a non-root user.
pub fn nonroot_bases() -> &'static [NonRootBase] {
    static TABLE: OnceLock<Vec<NonRootBase>> = OnceLock::new();
    TABLE.get_or_init(|| {
        let t: NonRootTable =
            serde_json::from_str(include_str!("../../data/nonroot-base-images.json"))
                .expect("embedded non-root base image table is valid");
        t.images
    })
}

/// The entry for an image reference (`repo[:tag][@digest]`), when its base image is
/// known to run as a non-root user.
pub fn nonroot_base(reference: &str) -> Option<&'static NonRootBase> {
    let name = reference.split('@').next().unwrap_or(reference);
    // A tag follows the last `:` after the last `/` (a registry port comes before it).
    let slash = name.rfind('/').map_or(0, |i| i + 1);
    let (repository, tag) = match name[slash..].rfind(':') {
        Some(i) => (&name[..slash + i], &name[slash + i + 1..]),
        None => return None,
    };
    nonroot_bases().iter().find(|b| {
        repository.starts_with(&b.repository_prefix)
            && b.tags.iter().any(|t| {
                tag == t
                    || tag
                        .strip_prefix(t.as_str())
                        .and_then(|rest| rest.strip_prefix('-'))
                        .is_some_and(|arch| b.architecture_suffixes.iter().any(|a| a == arch))
            })
    })
}

/// A stage: `FROM` up to the next `FROM`.
struct Stage<'a> {
    /// `AS` name, lower-cased as Docker compares it.
    name: Option<String>,
    /// The base as written after substitution; `None` when it depends on a build argument.
    base: Option<String>,
    /// Index of the stage it is built on, when the base names an earlier stage.
    parent: Option<usize>,
    from: &'a Instruction,
    /// `ENV` values at the end of the stage (inherited by stages built on it).
    env: BTreeMap<String, Lookup>,
    /// The last `USER` of the stage: value after substitution (`None` if unknown), and
    /// the instruction.
    user: Option<(Option<String>, &'a Instruction)>,
}

/// Extracts the image fact of a parsed Dockerfile. `target` picks a build stage by name
/// (`docker build --target`); without it, or when the file has no such stage, the last
/// stage is the image.
pub fn extract(d: &Dockerfile, file: &str, target: Option<&str>, facts: &mut Facts) -> bool {
    let syntax = Syntax {
        escape: Some(d.escape),
        dollar_dollar: false,
    };
    let stages = stages(d, syntax);
    let Some(last) = stages.len().checked_sub(1) else {
        return false;
    };
    let target = target.map(str::to_ascii_lowercase);
    let chosen = target
        .as_ref()
        .and_then(|t| stages.iter().position(|s| s.name.as_ref() == Some(t)))
        .unwrap_or(last);
    let origins = user_origins(&stages);
    facts.images.push(image(&stages, &origins, chosen, file));
    facts
        .build_stages
        .extend((0..stages.len()).map(|i| BuildStage {
            name: stages[i].name.clone(),
            last: i == last,
            image: image(&stages, &origins, i, file),
        }));
    true
}

/// Splits the instructions into stages, substituting variables in each stage's scope.
fn stages(d: &Dockerfile, syntax: Syntax) -> Vec<Stage<'_>> {
    // `ARG`s before the first `FROM` are usable in `FROM` lines and re-declarable in stages.
    let mut global: BTreeMap<String, Lookup> = BTreeMap::new();
    let mut stages: Vec<Stage> = Vec::new();
    let mut by_name: std::collections::HashMap<String, usize> = std::collections::HashMap::new();
    let mut args: BTreeMap<String, Lookup> = BTreeMap::new();
    for ins in &d.instructions {
        let current = stages.last_mut();
        match (ins.keyword.as_str(), current) {
            ("ARG", None) => {
                for (name, value) in assignments(&ins.args) {
                    let value = value.map_or(Lookup::Unknown, |v| {
                        resolve(&v, syntax, &|n: &str| lookup(&global, &BTreeMap::new(), n))
                    });
                    global.insert(name, value);
                }
            }
            ("FROM", _) => {
                let (base, name) = from_parts(&ins.args);
                let base = base.and_then(|b| {
                    substitute::substitute(&b, syntax, &|n: &str| {
                        lookup(&global, &BTreeMap::new(), n)
                    })
                });
                // The latest earlier stage of that name (by index: linear in stages).
                let parent = base
                    .as_ref()
                    .and_then(|b| by_name.get(&b.to_ascii_lowercase()).copied());
                let env = parent.map(|p| stages[p].env.clone()).unwrap_or_default();
                args = BTreeMap::new();
                if let Some(n) = &name {
                    by_name.insert(n.clone(), stages.len());
                }
                stages.push(Stage {
                    name,
                    base,
                    parent,
                    from: ins,
                    env,
                    user: None,
                });
            }
            ("ARG", Some(stage)) => {
                for (name, value) in assignments(&ins.args) {
                    let value = match value {
                        Some(v) => resolve(&v, syntax, &|n: &str| lookup(&args, &stage.env, n)),
                        // `ARG NAME` in a stage brings in the global default, if any.
                        None => global.get(&name).cloned().unwrap_or(Lookup::Unknown),
                    };
                    args.insert(name, value);
                }
            }
            ("ENV", Some(stage)) => {
                for (name, value) in env_assignments(&ins.args) {
                    let value = resolve(&value, syntax, &|n: &str| lookup(&args, &stage.env, n));
                    stage.env.insert(name, value);
                }
            }
            ("USER", Some(stage)) => {
                let value = substitute::substitute(&ins.args, syntax, &|n: &str| {
                    lookup(&args, &stage.env, n)
                })
                .map(|u| u.trim().to_string());
                stage.user = Some((value, ins));
            }
            _ => {}
        }
    }
    stages
}

/// A variable in a stage: `ENV` wins over `ARG`.
fn lookup(args: &BTreeMap<String, Lookup>, env: &BTreeMap<String, Lookup>, name: &str) -> Lookup {
    env.get(name)
        .or_else(|| args.get(name))
        .cloned()
        .unwrap_or(Lookup::Undeclared)
}

fn resolve(value: &str, syntax: Syntax, vars: &dyn Fn(&str) -> Lookup) -> Lookup {
    substitute::substitute(value, syntax, vars).map_or(Lookup::Unknown, Lookup::Known)
}

/// The image fact for stage `chosen`.
/// For each stage, the stage that decides its user: itself when it sets `USER`, else
/// the one its parent stage's user comes from, else itself (its outside base decides).
/// Parents are always earlier stages, so one pass in order does it, for any chain.
fn user_origins(stages: &[Stage]) -> Vec<usize> {
    let mut origins: Vec<usize> = Vec::with_capacity(stages.len());
    for (i, s) in stages.iter().enumerate() {
        let origin = match (&s.user, s.parent) {
            (None, Some(p)) if p < i => origins[p],
            _ => i,
        };
        origins.push(origin);
    }
    origins
}

fn image(stages: &[Stage], origins: &[usize], chosen: usize, file: &str) -> Image {
    let stage = &stages[chosen];
    let base = stage.base.clone().unwrap_or_else(|| "(unknown)".into());
    let resource = match (&stage.name, stages.len()) {
        (Some(n), _) => format!("Dockerfile stage {n}"),
        (None, 1) => format!("Dockerfile image FROM {base}"),
        (None, _) => format!("Dockerfile stage {} (FROM {base})", chosen + 1),
    };
    // Walk down the chain of stages to the last USER, or to an outside base image.
    let at = origins[chosen];
    let (user, user_ins) = match &stages[at].user {
        Some((value, ins)) => (Some(value.clone()), Some(*ins)),
        None => (None, None),
    };
    let inherited_from = (at != chosen).then(|| stage_label(&stages[at], at));
    let origin = stages[at]
        .base
        .clone()
        .unwrap_or_else(|| "(unknown)".into());
    let (runs_as_root, uid, reason) = match &user {
        Some(Some(u)) => {
            let (tri, uid) = user_is_root(u);
            let via = inherited_from
                .as_ref()
                .map(|s| format!(", set in {s}"))
                .unwrap_or_default();
            // Show the instruction as written when substitution changed it.
            let written = user_ins
                .map(|i| i.args.trim())
                .filter(|a| a != u)
                .map(|a| format!(" (`USER {a}`)"))
                .unwrap_or_default();
            let reason = match tri {
                Tri::Yes => format!("the image's last USER is {u}{written}{via}"),
                _ => format!("the image runs as {u}{written}{via}"),
            };
            (tri, uid, reason)
        }
        Some(None) => (
            Tri::Unknown,
            None,
            format!(
                "USER {} depends on a build argument with no default",
                user_ins.map_or("", |i| i.args.as_str())
            ),
        ),
        None if stages[at].base.is_none() => (
            Tri::Unknown,
            None,
            "no USER, and the base image depends on a build argument".to_string(),
        ),
        // A base image known to set a non-root user (the table's sources say which).
        None if nonroot_base(&origin).is_some() => {
            let b = nonroot_base(&origin).expect("matched");
            let via = inherited_from
                .as_ref()
                .map(|s| format!(" in this stage or in {s}"))
                .unwrap_or_default();
            let reason = format!(
                "no USER{via}, so the image runs as {origin}'s user, {} (UID {}), not root",
                b.user, b.uid
            );
            (Tri::No, Some(b.uid), reason)
        }
        None => {
            let reason = match &inherited_from {
                Some(s) => format!(
                    "no USER in this stage or in {s}, so the image runs as {origin}'s user: root unless that image sets another"
                ),
                None if origin == "scratch" => {
                    "no USER, and an image built FROM scratch runs as root".to_string()
                }
                None => format!(
                    "no USER in the {} stage, so the image runs as {origin}'s user: root unless that image sets another",
                    if chosen + 1 == stages.len() { "final" } else { "built" }
                ),
            };
            // Root is assumed, not written: no UID to report.
            (Tri::Yes, None, reason)
        }
    };
    let mut locs = Locs::new();
    if let Some(ins) = user_ins {
        locs.insert("user", ins.pos);
    }
    Image {
        resource,
        platform: "docker",
        stage: stage_label(stage, chosen),
        base_image: base,
        stages: stages.len(),
        user: user.flatten(),
        user_stage: inherited_from,
        run_as_user: uid,
        runs_as_root,
        root_reason: reason,
        file: file.to_string(),
        loc: stage.from.pos,
        locs,
    }
}

fn stage_label(stage: &Stage, index: usize) -> String {
    match &stage.name {
        Some(n) => format!("stage {n}"),
        None => format!("stage {}", index + 1),
    }
}

/// Root as Docker reads a USER: UID 0 or the name root; on Windows images,
/// ContainerAdministrator.
fn user_is_root(user: &str) -> (Tri, Option<i64>) {
    let name = user.split(':').next().unwrap_or("").trim();
    if name.eq_ignore_ascii_case("ContainerAdministrator") {
        return (Tri::Yes, None);
    }
    container::parse_user(user)
}

/// `FROM [--platform=…] image [AS name]` → (image, lower-cased name).
fn from_parts(args: &str) -> (Option<String>, Option<String>) {
    let words: Vec<&str> = args
        .split_whitespace()
        .filter(|w| !w.starts_with("--"))
        .collect();
    let name = match words.as_slice() {
        [_, as_kw, name, ..] if as_kw.eq_ignore_ascii_case("AS") => Some(name.to_ascii_lowercase()),
        _ => None,
    };
    (words.first().map(|w| w.to_string()), name)
}

/// `ARG A B=2 C="x y"` → names with optional values.
fn assignments(args: &str) -> Vec<(String, Option<String>)> {
    words(args)
        .into_iter()
        .map(|w| match w.split_once('=') {
            Some((n, v)) => (n.to_string(), Some(v.to_string())),
            None => (w, None),
        })
        .collect()
}

/// `ENV A=1 B="two words"`, or the legacy `ENV NAME value with spaces`.
fn env_assignments(args: &str) -> Vec<(String, String)> {
    let first = args.split_whitespace().next().unwrap_or("");
    if !first.contains('=') {
        let (name, value) = args.split_once(char::is_whitespace).unwrap_or((args, ""));
        return vec![(name.to_string(), value.trim().to_string())];
    }
    words(args)
        .into_iter()
        .filter_map(|w| {
            let (n, v) = w.split_once('=')?;
            Some((n.to_string(), v.to_string()))
        })
        .collect()
}

/// Splits on unquoted whitespace and removes the quotes, keeping `$` references as
/// written (substitution comes later).
fn words(args: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut word = String::new();
    let mut in_word = false;
    let mut quote: Option<char> = None;
    let mut chars = args.chars();
    while let Some(c) = chars.next() {
        match (quote, c) {
            (None, c) if c.is_whitespace() => {
                if in_word {
                    out.push(std::mem::take(&mut word));
                    in_word = false;
                }
            }
            (None, '"' | '\'') => {
                quote = Some(c);
                in_word = true;
            }
            (Some(q), c) if c == q => quote = None,
            (Some('\''), c) => word.push(c),
            (_, '\\') => {
                in_word = true;
                match chars.next() {
                    // Keep `\$` so substitution still sees an escaped dollar.
                    Some('$') => word.push_str("\\$"),
                    Some(n) => word.push(n),
                    None => {}
                }
            }
            (_, c) => {
                in_word = true;
                word.push(c);
            }
        }
    }
    if in_word {
        out.push(word);
    }
    out
}

/// The position of a stage's `FROM`, for tests.
#[cfg(test)]
fn from_line(f: &Facts) -> crate::parse::Pos {
    f.images[0].loc
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::parse::dockerfile;

    fn image_of(text: &str, target: Option<&str>) -> Image {
        let mut facts = Facts::default();
        let d = dockerfile::parse(text).unwrap();
        assert!(extract(&d, "Dockerfile", target, &mut facts));
        facts.images.remove(0)
    }

    #[test]
    fn last_user_of_the_final_stage_decides() {
        let i = image_of("FROM alpine\nUSER root\nRUN apk add curl\nUSER app\n", None);
        assert_eq!(i.runs_as_root, Tri::No);
        assert_eq!(i.user.as_deref(), Some("app"));
        assert_eq!(i.locs["user"].line, 4);
        let i = image_of("FROM alpine\nUSER app\nUSER 0:0\n", None);
        assert_eq!(i.runs_as_root, Tri::Yes);
        assert_eq!(i.locs["user"].line, 3);
        assert_eq!(i.root_reason, "the image's last USER is 0:0");
    }

    #[test]
    fn missing_user_means_the_base_images_user() {
        let mut facts = Facts::default();
        let d = dockerfile::parse("FROM python:3.12-slim\nRUN pip install x\n").unwrap();
        extract(&d, "Dockerfile", None, &mut facts);
        let i = &facts.images[0];
        assert_eq!(i.runs_as_root, Tri::Yes);
        assert!(i.root_reason.contains("python:3.12-slim's user"));
        assert!(!i.locs.contains_key("user"));
        assert_eq!(from_line(&facts), crate::parse::Pos::new(1, 1));
        assert_eq!(i.resource, "Dockerfile image FROM python:3.12-slim");
    }

    #[test]
    fn builder_stages_do_not_count() {
        // A USER in a builder stage does not reach a final stage built FROM another image.
        let text = "FROM golang:1.22 AS build\nUSER builder\nRUN go build\nFROM alpine:3.20\nCOPY --from=build /app /app\n";
        let i = image_of(text, None);
        assert_eq!(i.runs_as_root, Tri::Yes);
        assert_eq!(i.stage, "stage 2");
        assert_eq!(i.loc.line, 4, "points at the final FROM");
        // A root builder does not make a non-root final stage root.
        let i = image_of("FROM a AS b\nUSER root\nFROM c\nUSER app\n", None);
        assert_eq!(i.runs_as_root, Tri::No);
    }

    #[test]
    fn a_stage_built_on_another_inherits_its_user_and_env() {
        let text = "FROM node:20 AS base\nENV APP_USER=node\nUSER ${APP_USER}\nFROM base AS runtime\nCMD [\"node\"]\n";
        let i = image_of(text, None);
        assert_eq!(i.runs_as_root, Tri::No);
        assert_eq!(i.user_stage.as_deref(), Some("stage base"));
        let text = "FROM node:20 AS Base\nUSER root\nFROM base\n";
        let i = image_of(text, None);
        assert_eq!(i.runs_as_root, Tri::Yes);
        assert_eq!(i.locs["user"].line, 2, "points at the inherited USER");
        assert!(i.root_reason.contains("set in stage base"));
        let text = "FROM debian AS base\nENV X=1\nFROM base\nENV Y=$X\nUSER ${Y}000\n";
        assert_eq!(image_of(text, None).user.as_deref(), Some("1000"));
    }

    #[test]
    fn build_target_picks_the_stage() {
        let text = "FROM alpine AS debug\nFROM alpine AS prod\nUSER 10001\n";
        assert_eq!(image_of(text, None).runs_as_root, Tri::No);
        let i = image_of(text, Some("DEBUG"));
        assert_eq!(
            (i.runs_as_root, i.stage.as_str()),
            (Tri::Yes, "stage debug")
        );
        assert_eq!(image_of(text, Some("nope")).stage, "stage prod");
    }

    #[test]
    fn args_and_env_are_substituted_in_scope() {
        // A global ARG is visible in FROM; in a stage only after `ARG NAME`.
        let text = "ARG BASE=alpine:3.20\nARG UID=0\nFROM ${BASE}\nARG UID\nUSER $UID\n";
        let i = image_of(text, None);
        assert_eq!(i.base_image, "alpine:3.20");
        assert_eq!((i.user.as_deref(), i.runs_as_root), (Some("0"), Tri::Yes));
        // Without `ARG UID` in the stage, $UID is empty.
        let i = image_of("ARG UID=1000\nFROM a\nUSER ${UID:-0}\n", None);
        assert_eq!(i.runs_as_root, Tri::Yes);
        let i = image_of(
            "FROM a\nARG UID=1000\nENV UID=2000\nUSER $UID:${GID:+x}\n",
            None,
        );
        assert_eq!(i.user.as_deref(), Some("2000:"));
        let i = image_of("FROM a\nARG APP_USER\nUSER ${APP_USER:-nobody}\n", None);
        assert_eq!(i.runs_as_root, Tri::No);
    }

    #[test]
    fn users_that_depend_on_build_arguments_are_unknown() {
        let i = image_of("FROM a\nARG UID\nUSER $UID\n", None);
        assert_eq!(i.runs_as_root, Tri::Unknown);
        assert!(i.root_reason.contains("build argument"));
        let i = image_of("ARG IMAGE\nFROM $IMAGE\n", None);
        assert_eq!(i.runs_as_root, Tri::Unknown);
    }

    #[test]
    fn distroless_nonroot_bases_run_as_65532() {
        for base in [
            "gcr.io/distroless/static-debian12:nonroot",
            "gcr.io/distroless/base-debian13:debug-nonroot",
            "gcr.io/distroless/java21-debian13:nonroot-arm64",
            "gcr.io/distroless/static:nonroot@sha256:0123abcd",
        ] {
            let i = image_of(
                &format!("FROM golang AS build\nRUN make\nFROM {base}\nCOPY --from=build /app /\n"),
                None,
            );
            assert_eq!(i.runs_as_root, Tri::No, "{base}");
            assert_eq!(i.run_as_user, Some(65532), "{base}");
            assert!(i.root_reason.contains("65532"), "{}", i.root_reason);
        }
        // Inherited through a stage built on it.
        let i = image_of(
            "FROM gcr.io/distroless/cc-debian12:nonroot AS base\nFROM base\nCOPY app /\n",
            None,
        );
        assert_eq!(i.runs_as_root, Tri::No);
        assert!(i.root_reason.contains("stage base"), "{}", i.root_reason);
        // The root tags, other repositories, digests alone: root as before.
        for base in [
            "gcr.io/distroless/static-debian12:latest",
            "gcr.io/distroless/static-debian12:debug",
            "gcr.io/distroless/static-debian12",
            "gcr.io/distroless/static-debian12@sha256:0123abcd",
            "gcr.io/distroless/static-debian12:nonroot-sparc",
            "example.com/distroless/static:nonroot",
            "localhost:5000/gcr.io/distroless/static:nonroot",
        ] {
            let i = image_of(&format!("FROM {base}\nCOPY app /\n"), None);
            assert_eq!(i.runs_as_root, Tri::Yes, "{base}");
        }
        // A USER written in the Dockerfile still decides.
        let i = image_of("FROM gcr.io/distroless/static:nonroot\nUSER 0\n", None);
        assert_eq!(i.runs_as_root, Tri::Yes);
        for b in nonroot_bases() {
            assert!(b.sources.iter().all(|s| s.starts_with("https://")), "{b:?}");
        }
    }

    #[test]
    fn quoting_scratch_and_windows() {
        assert_eq!(
            env_assignments("A=\"two words\" B='$x' C=\\$y"),
            [
                ("A".to_string(), "two words".to_string()),
                ("B".to_string(), "$x".to_string()),
                ("C".to_string(), "\\$y".to_string())
            ]
        );
        assert_eq!(
            env_assignments("LEGACY value with spaces"),
            [("LEGACY".to_string(), "value with spaces".to_string())]
        );
        let i = image_of("FROM scratch\nCOPY app /\n", None);
        assert!(i.root_reason.contains("scratch"));
        let i = image_of(
            "FROM mcr.microsoft.com/windows/nanoserver\nUSER ContainerAdministrator\n",
            None,
        );
        assert_eq!(i.runs_as_root, Tri::Yes);
        let i = image_of(
            "FROM --platform=$BUILDPLATFORM golang AS build\nUSER 1\n",
            None,
        );
        assert_eq!(
            (i.base_image.as_str(), i.stage.as_str()),
            ("golang", "stage build")
        );
    }
}
