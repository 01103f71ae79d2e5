//! Shell-style variable substitution as Dockerfiles (`ARG`/`ENV`) and compose files
//! (`${VAR:-default}`) do it.
//!
//! A variable is either known, declared without a value (supplied at build or run time,
//! so unknown to breakout), or undeclared. A result that depends on an unknown value is
//! `None`, never a guess (DESIGN.md decision 4); a written default is the value when
//! nothing is supplied, like a Terraform variable's default.

/// What a variable holds, as far as the file tells.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Lookup {
    /// Set to this value.
    Known(String),
    /// Declared without a value: supplied from outside (`--build-arg`, the shell).
    Unknown,
    /// Not declared: Docker expands it to the empty string.
    Undeclared,
}

/// The syntax of the file being substituted.
#[derive(Clone, Copy, Debug)]
pub struct Syntax {
    /// The character that makes the next `$` literal (`\` or the Dockerfile's `# escape=`);
    /// `None` when the file has no escape (compose uses `$$`).
    pub escape: Option<char>,
    /// `$$` is a literal `$` (compose).
    pub dollar_dollar: bool,
}

/// Substitutes `$NAME`, `${NAME}`, `${NAME:-word}`, `${NAME-word}`, `${NAME:+word}`,
/// `${NAME+word}`, `${NAME:?message}` and `${NAME?message}` (words may nest). Returns
/// `None` when the result depends on a value breakout cannot know.
pub fn substitute(text: &str, syntax: Syntax, lookup: &dyn Fn(&str) -> Lookup) -> Option<String> {
    let chars: Vec<char> = text.chars().collect();
    expand(&chars, syntax, lookup, 0)
}

/// Nesting deeper than this is refused as unknown (a guard against crafted input).
const MAX_DEPTH: usize = 16;

/// The longest value a substitution may produce. Real `ARG`/`ENV` values and compose
/// settings are a few hundred bytes; a chain of `ARG A1=${A0}${A0}` doubles at every
/// line and would reach gigabytes. A longer result is unknown, like a value supplied
/// from outside.
pub const MAX_VALUE_BYTES: usize = 64 * 1024;

fn expand(
    chars: &[char],
    syntax: Syntax,
    lookup: &dyn Fn(&str) -> Lookup,
    depth: usize,
) -> Option<String> {
    if depth > MAX_DEPTH {
        return None;
    }
    let mut out = String::with_capacity(chars.len().min(MAX_VALUE_BYTES));
    let mut i = 0;
    while i < chars.len() {
        if out.len() > MAX_VALUE_BYTES {
            return None;
        }
        let c = chars[i];
        if Some(c) == syntax.escape && chars.get(i + 1) == Some(&'$') {
            out.push('$');
            i += 2;
            continue;
        }
        if c != '$' {
            out.push(c);
            i += 1;
            continue;
        }
        match chars.get(i + 1) {
            Some('$') if syntax.dollar_dollar => {
                out.push('$');
                i += 2;
            }
            Some('{') => {
                let close = matching_brace(chars, i + 2)?;
                let value = braced(&chars[i + 2..close], syntax, lookup, depth)?;
                if out.len() + value.len() > MAX_VALUE_BYTES {
                    return None;
                }
                out.push_str(&value);
                i = close + 1;
            }
            Some(&n) if is_name_start(n) => {
                let end = (i + 1..chars.len())
                    .find(|&j| !is_name_char(chars[j]))
                    .unwrap_or(chars.len());
                let name: String = chars[i + 1..end].iter().collect();
                match lookup(&name) {
                    Lookup::Known(v) if out.len() + v.len() > MAX_VALUE_BYTES => return None,
                    Lookup::Known(v) => out.push_str(&v),
                    Lookup::Unknown => return None,
                    Lookup::Undeclared => {}
                }
                i = end;
            }
            _ => {
                out.push('$');
                i += 1;
            }
        }
    }
    (out.len() <= MAX_VALUE_BYTES).then_some(out)
}

/// `NAME`, `NAME:-word`, … inside `${…}`.
fn braced(
    inner: &[char],
    syntax: Syntax,
    lookup: &dyn Fn(&str) -> Lookup,
    depth: usize,
) -> Option<String> {
    let name_end = inner
        .iter()
        .position(|&c| !is_name_char(c))
        .unwrap_or(inner.len());
    if name_end == 0 {
        return None;
    }
    let name: String = inner[..name_end].iter().collect();
    let value = lookup(&name);
    let rest = &inner[name_end..];
    if rest.is_empty() {
        return match value {
            Lookup::Known(v) => Some(v),
            Lookup::Unknown => None,
            Lookup::Undeclared => Some(String::new()),
        };
    }
    let (colon, op, word) = match rest {
        [':', op, word @ ..] => (true, *op, word),
        [op, word @ ..] => (false, *op, word),
        [] => unreachable!(),
    };
    // With a colon, an empty value counts as unset.
    let set = match &value {
        Lookup::Known(v) => !(colon && v.is_empty()),
        Lookup::Unknown | Lookup::Undeclared => false,
    };
    match op {
        '-' => match value {
            _ if set => known(value),
            _ => expand(word, syntax, lookup, depth + 1),
        },
        '+' => match value {
            Lookup::Unknown => None,
            _ if set => expand(word, syntax, lookup, depth + 1),
            _ => Some(String::new()),
        },
        // `?`: the build or run fails when unset; the value is whatever is supplied.
        '?' if set => known(value),
        _ => None,
    }
}

fn known(value: Lookup) -> Option<String> {
    match value {
        Lookup::Known(v) => Some(v),
        _ => None,
    }
}

/// The index of the `}` that closes a `${` whose contents start at `from`.
fn matching_brace(chars: &[char], from: usize) -> Option<usize> {
    let mut depth = 0usize;
    let mut i = from;
    while i < chars.len() {
        match chars[i] {
            '$' if chars.get(i + 1) == Some(&'{') => {
                depth += 1;
                i += 1;
            }
            '}' if depth == 0 => return Some(i),
            '}' => depth -= 1,
            _ => {}
        }
        i += 1;
    }
    None
}

fn is_name_start(c: char) -> bool {
    c.is_ascii_alphabetic() || c == '_'
}

fn is_name_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '_'
}

#[cfg(test)]
mod tests {
    use super::*;

    const DOCKER: Syntax = Syntax {
        escape: Some('\\'),
        dollar_dollar: false,
    };
    const COMPOSE: Syntax = Syntax {
        escape: None,
        dollar_dollar: true,
    };

    fn vars(name: &str) -> Lookup {
        match name {
            "APP_UID" => Lookup::Known("10001".into()),
            "EMPTY" => Lookup::Known(String::new()),
            "SUPPLIED" => Lookup::Unknown,
            _ => Lookup::Undeclared,
        }
    }

    fn sub(text: &str) -> Option<String> {
        substitute(text, DOCKER, &vars)
    }

    #[test]
    fn plain_and_braced_references() {
        assert_eq!(sub("$APP_UID:${APP_UID}").as_deref(), Some("10001:10001"));
        assert_eq!(sub("a${NOPE}b$NOPE").as_deref(), Some("ab"));
        assert_eq!(sub("$SUPPLIED"), None);
        assert_eq!(sub("cost $5 and $").as_deref(), Some("cost $5 and $"));
    }

    #[test]
    fn defaults_and_alternatives() {
        assert_eq!(sub("${NOPE:-1000}").as_deref(), Some("1000"));
        assert_eq!(sub("${SUPPLIED:-1000}").as_deref(), Some("1000"));
        assert_eq!(sub("${EMPTY:-1000}").as_deref(), Some("1000"));
        assert_eq!(sub("${EMPTY-1000}").as_deref(), Some(""));
        assert_eq!(sub("${APP_UID:-0}").as_deref(), Some("10001"));
        assert_eq!(sub("${APP_UID:+app}").as_deref(), Some("app"));
        assert_eq!(sub("${NOPE:+app}").as_deref(), Some(""));
        assert_eq!(sub("${SUPPLIED:+app}"), None);
        assert_eq!(sub("${NOPE:-${APP_UID:-1}}").as_deref(), Some("10001"));
        assert_eq!(sub("${NOPE:?must be set}"), None);
        assert_eq!(sub("${APP_UID:?must be set}").as_deref(), Some("10001"));
    }

    #[test]
    fn escapes() {
        assert_eq!(sub("\\$APP_UID").as_deref(), Some("$APP_UID"));
        let backtick = Syntax {
            escape: Some('`'),
            ..DOCKER
        };
        assert_eq!(
            substitute("`$APP_UID", backtick, &vars).as_deref(),
            Some("$APP_UID")
        );
        assert_eq!(
            substitute("$$APP_UID ${NOPE:-x}", COMPOSE, &vars).as_deref(),
            Some("$APP_UID x")
        );
    }

    #[test]
    fn malformed_references_are_unknown_not_errors() {
        assert_eq!(sub("${APP_UID"), None);
        assert_eq!(sub("${}"), None);
        assert_eq!(sub("${APP_UID%%x}"), None);
        let deep = format!("{}x{}", "${A:-".repeat(40), "}".repeat(40));
        assert_eq!(sub(&deep), None);
    }

    #[test]
    fn a_doubling_chain_becomes_unknown_not_gigabytes() {
        // A1=${A0}${A0}, A2=${A1}${A1}, …: 2^40 characters at the end, if allowed.
        let mut values: Vec<Option<String>> = vec![Some("x".repeat(64))];
        for _ in 1..40 {
            let prev = values.last().unwrap().clone();
            let lookup = |_: &str| match &prev {
                Some(v) => Lookup::Known(v.clone()),
                None => Lookup::Unknown,
            };
            values.push(substitute("${A}${A}", DOCKER, &lookup));
        }
        assert!(values[9].as_ref().is_some_and(|v| v.len() == 64 * 512));
        assert!(values[11].is_none() && values[39].is_none());
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(256))]

        /// Whatever the text and the values, a substitution stays within the budget.
        #[test]
        fn substitutions_never_grow_beyond_the_budget(
            text in "[a-z$\\{}:+?\\-]{0,64}",
            repeat in 0usize..20,
            size in 0usize..40_000,
        ) {
            let text = text.repeat(repeat);
            let value = "v".repeat(size);
            let lookup = |name: &str| match name.len() % 3 {
                0 => Lookup::Known(value.clone()),
                1 => Lookup::Undeclared,
                _ => Lookup::Unknown,
            };
            for syntax in [DOCKER, COMPOSE] {
                if let Some(out) = substitute(&text, syntax, &lookup) {
                    proptest::prop_assert!(out.len() <= MAX_VALUE_BYTES);
                }
            }
        }
    }
}
