//! Calico selector expressions (`app == 'api' && has(tier)`, `all()`), evaluated over
//! a pod's labels or a namespace's, in three-valued logic: a label breakout does not
//! know (a namespace's labels other than its name) makes the answer unknown, not
//! false.

/// A parsed selector.
#[derive(Clone, Debug, PartialEq)]
pub enum Selector {
    /// `all()` (or an empty selector): every endpoint.
    All,
    /// `global()`: only non-namespaced resources (host endpoints, network sets).
    Global,
    /// `has(k)`.
    Has(String),
    /// `k == 'v'`.
    Eq(String, String),
    /// `k != 'v'`.
    Ne(String, String),
    /// `k in {'a', 'b'}`.
    In(String, Vec<String>),
    /// `k not in {…}`.
    NotIn(String, Vec<String>),
    /// `k contains 's'`.
    Contains(String, String),
    /// `k starts with 's'`.
    StartsWith(String, String),
    /// `k ends with 's'`.
    EndsWith(String, String),
    /// `!e`.
    Not(Box<Selector>),
    /// `a && b`.
    And(Box<Selector>, Box<Selector>),
    /// `a || b`.
    Or(Box<Selector>, Box<Selector>),
}

/// Parses a selector; `None` when breakout cannot read it.
pub fn parse(text: &str) -> Option<Selector> {
    let tokens = tokenize(text)?;
    if tokens.is_empty() {
        return Some(Selector::All);
    }
    let mut p = Parser { tokens, at: 0 };
    let s = p.or()?;
    (p.at == p.tokens.len()).then_some(s)
}

/// A label's value: `Ok(Some(v))`, `Ok(None)` (absent), `Err(())` (not known).
pub type Lookup<'a> = &'a dyn Fn(&str) -> Result<Option<String>, ()>;

impl Selector {
    /// Whether the labels satisfy the selector; `None` when a label it needs is
    /// unknown.
    pub fn eval(&self, label: Lookup) -> Option<bool> {
        let get = |k: &str| label(k).ok();
        match self {
            Selector::All => Some(true),
            Selector::Global => Some(false),
            Selector::Has(k) => Some(get(k)?.is_some()),
            Selector::Eq(k, v) => Some(get(k)?.as_deref() == Some(v.as_str())),
            Selector::Ne(k, v) => Some(get(k)?.as_deref() != Some(v.as_str())),
            Selector::In(k, vs) => Some(get(k)?.is_some_and(|x| vs.contains(&x))),
            Selector::NotIn(k, vs) => Some(!get(k)?.is_some_and(|x| vs.contains(&x))),
            Selector::Contains(k, s) => Some(get(k)?.is_some_and(|x| x.contains(s.as_str()))),
            Selector::StartsWith(k, s) => Some(get(k)?.is_some_and(|x| x.starts_with(s.as_str()))),
            Selector::EndsWith(k, s) => Some(get(k)?.is_some_and(|x| x.ends_with(s.as_str()))),
            Selector::Not(e) => e.eval(label).map(|b| !b),
            Selector::And(a, b) => match (a.eval(label), b.eval(label)) {
                (Some(false), _) | (_, Some(false)) => Some(false),
                (Some(true), Some(true)) => Some(true),
                _ => None,
            },
            Selector::Or(a, b) => match (a.eval(label), b.eval(label)) {
                (Some(true), _) | (_, Some(true)) => Some(true),
                (Some(false), Some(false)) => Some(false),
                _ => None,
            },
        }
    }
}

#[derive(Clone, Debug, PartialEq)]
enum Tok {
    Word(String),
    Str(String),
    Op(&'static str),
}

fn tokenize(text: &str) -> Option<Vec<Tok>> {
    let mut out = Vec::new();
    let chars: Vec<char> = text.chars().collect();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        if c.is_whitespace() {
            i += 1;
            continue;
        }
        let two: String = chars[i..chars.len().min(i + 2)].iter().collect();
        if let Some(op) = ["&&", "||", "==", "!="].iter().find(|o| **o == two) {
            out.push(Tok::Op(op));
            i += 2;
            continue;
        }
        if let Some(op) = ["(", ")", "{", "}", ",", "!"]
            .iter()
            .find(|o| o.starts_with(c))
        {
            out.push(Tok::Op(op));
            i += 1;
            continue;
        }
        if c == '\'' || c == '"' {
            let end = chars[i + 1..].iter().position(|&d| d == c)? + i + 1;
            out.push(Tok::Str(chars[i + 1..end].iter().collect()));
            i = end + 1;
            continue;
        }
        let start = i;
        while i < chars.len() && !chars[i].is_whitespace() && !"(){},!=&|'\"".contains(chars[i]) {
            i += 1;
        }
        if start == i {
            return None;
        }
        out.push(Tok::Word(chars[start..i].iter().collect()));
    }
    Some(out)
}

struct Parser {
    tokens: Vec<Tok>,
    at: usize,
}

impl Parser {
    fn peek(&self) -> Option<&Tok> {
        self.tokens.get(self.at)
    }

    fn next(&mut self) -> Option<Tok> {
        let t = self.tokens.get(self.at).cloned();
        self.at += 1;
        t
    }

    fn eat(&mut self, op: &'static str) -> bool {
        if self.peek() == Some(&Tok::Op(op)) {
            self.at += 1;
            true
        } else {
            false
        }
    }

    fn word(&mut self, w: &str) -> bool {
        if matches!(self.peek(), Some(Tok::Word(x)) if x == w) {
            self.at += 1;
            true
        } else {
            false
        }
    }

    fn or(&mut self) -> Option<Selector> {
        let mut left = self.and()?;
        while self.eat("||") {
            left = Selector::Or(Box::new(left), Box::new(self.and()?));
        }
        Some(left)
    }

    fn and(&mut self) -> Option<Selector> {
        let mut left = self.not()?;
        while self.eat("&&") {
            left = Selector::And(Box::new(left), Box::new(self.not()?));
        }
        Some(left)
    }

    fn not(&mut self) -> Option<Selector> {
        if self.eat("!") {
            return Some(Selector::Not(Box::new(self.not()?)));
        }
        self.atom()
    }

    fn string(&mut self) -> Option<String> {
        match self.next()? {
            Tok::Str(s) => Some(s),
            _ => None,
        }
    }

    fn atom(&mut self) -> Option<Selector> {
        if self.eat("(") {
            let e = self.or()?;
            return self.eat(")").then_some(e);
        }
        let Tok::Word(w) = self.next()? else {
            return None;
        };
        match w.as_str() {
            "all" | "global" if self.eat("(") => {
                if !self.eat(")") {
                    return None;
                }
                return Some(if w == "all" {
                    Selector::All
                } else {
                    Selector::Global
                });
            }
            "has" if self.eat("(") => {
                let Tok::Word(k) = self.next()? else {
                    return None;
                };
                return self.eat(")").then_some(Selector::Has(k));
            }
            _ => {}
        }
        let key = w;
        if self.eat("==") {
            return Some(Selector::Eq(key, self.string()?));
        }
        if self.eat("!=") {
            return Some(Selector::Ne(key, self.string()?));
        }
        if self.word("in") {
            return Some(Selector::In(key, self.set()?));
        }
        if self.word("not") {
            return self
                .word("in")
                .then(|| self.set())
                .flatten()
                .map(|s| Selector::NotIn(key, s));
        }
        if self.word("contains") {
            return Some(Selector::Contains(key, self.string()?));
        }
        if self.word("starts") {
            return self
                .word("with")
                .then(|| self.string())
                .flatten()
                .map(|s| Selector::StartsWith(key, s));
        }
        if self.word("ends") {
            return self
                .word("with")
                .then(|| self.string())
                .flatten()
                .map(|s| Selector::EndsWith(key, s));
        }
        None
    }

    fn set(&mut self) -> Option<Vec<String>> {
        if !self.eat("{") {
            return None;
        }
        let mut out = Vec::new();
        if self.eat("}") {
            return Some(out);
        }
        loop {
            out.push(self.string()?);
            if self.eat("}") {
                return Some(out);
            }
            if !self.eat(",") {
                return None;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;

    fn eval(sel: &str, labels: &[(&str, &str)]) -> Option<bool> {
        let map: BTreeMap<String, String> = labels
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        let lookup = |k: &str| Ok(map.get(k).cloned());
        parse(sel).unwrap().eval(&lookup)
    }

    #[test]
    fn selectors_parse_and_match() {
        assert_eq!(eval("all()", &[]), Some(true));
        assert_eq!(eval("", &[]), Some(true));
        assert_eq!(eval("app == 'api'", &[("app", "api")]), Some(true));
        assert_eq!(eval("app == \"api\"", &[("app", "web")]), Some(false));
        assert_eq!(eval("app != 'api'", &[]), Some(true));
        assert_eq!(
            eval(
                "has(tier) && app in {'a', 'b'}",
                &[("tier", "x"), ("app", "b")]
            ),
            Some(true)
        );
        assert_eq!(eval("app not in {'a'}", &[("app", "a")]), Some(false));
        assert_eq!(eval("!has(app) || app == 'x'", &[("app", "x")]), Some(true));
        assert_eq!(eval("(app == 'x')", &[("app", "x")]), Some(true));
        assert_eq!(
            eval(
                "role starts with 'ci' && role ends with 'er'",
                &[("role", "ci-runner")]
            ),
            Some(true)
        );
        assert_eq!(eval("global()", &[]), Some(false));
        assert!(parse("app ==").is_none());
        assert!(parse("app = 'x'").is_none());
    }

    #[test]
    fn unknown_labels_make_unknown_answers() {
        let lookup = |k: &str| {
            if k == "projectcalico.org/name" {
                Ok(Some("shop".to_string()))
            } else {
                Err(())
            }
        };
        let e = |s: &str| parse(s).unwrap().eval(&lookup);
        assert_eq!(e("projectcalico.org/name == 'shop'"), Some(true));
        assert_eq!(e("team == 'x'"), None);
        assert_eq!(
            e("team == 'x' && projectcalico.org/name == 'other'"),
            Some(false)
        );
        assert_eq!(
            e("team == 'x' || projectcalico.org/name == 'shop'"),
            Some(true)
        );
    }
}
