//! Dockerfile parser: text → instructions with their positions.
//!
//! Follows BuildKit's reading of the file: parser directives (`# escape=`, `# syntax=`)
//! only at the very top, line continuations with the escape character, comment and
//! blank lines inside a continuation dropped, JSON (exec) and shell forms, and
//! heredocs (`RUN <<EOF`, `<<-EOF`, quoted delimiters, several per instruction), whose
//! bodies are never read as instructions. Variable substitution is left to the
//! extractor, which knows the stage scopes.

use super::{ParseError, Pos};

/// Instructions Docker knows; anything else fails the build, so it fails the parse.
const INSTRUCTIONS: &[&str] = &[
    "ADD",
    "ARG",
    "CMD",
    "COPY",
    "ENTRYPOINT",
    "ENV",
    "EXPOSE",
    "FROM",
    "HEALTHCHECK",
    "LABEL",
    "MAINTAINER",
    "ONBUILD",
    "RUN",
    "SHELL",
    "STOPSIGNAL",
    "USER",
    "VOLUME",
    "WORKDIR",
];

/// A parsed Dockerfile.
#[derive(Clone, Debug, PartialEq)]
pub struct Dockerfile {
    /// The escape character (`\` unless a `# escape=` directive says otherwise).
    pub escape: char,
    /// The instructions in order.
    pub instructions: Vec<Instruction>,
}

/// One instruction, its continuation lines joined.
#[derive(Clone, Debug, PartialEq)]
pub struct Instruction {
    /// The keyword, upper-cased (`FROM`, `USER`, …).
    pub keyword: String,
    /// Everything after the keyword, continuation lines joined, trimmed.
    pub args: String,
    /// The arguments of the JSON (exec) form, when they are a JSON array of strings.
    pub json: Option<Vec<String>>,
    /// Heredoc bodies, in the order of their `<<` markers.
    pub heredocs: Vec<Heredoc>,
    /// Where the keyword is written.
    pub pos: Pos,
    /// Where the arguments start.
    pub args_pos: Pos,
}

/// The body of a `<<NAME` heredoc.
#[derive(Clone, Debug, PartialEq)]
pub struct Heredoc {
    /// The delimiter word.
    pub name: String,
    /// The lines between the marker and the delimiter (tabs stripped for `<<-`).
    pub body: String,
}

/// Whether text looks like a Dockerfile: its first instruction, after directives and
/// comments, is `FROM` or `ARG`.
pub fn looks_like_dockerfile(text: &str) -> bool {
    text.lines()
        .map(str::trim)
        .find(|l| !l.is_empty() && !l.starts_with('#'))
        .and_then(|l| l.split_whitespace().next())
        .is_some_and(|w| w.eq_ignore_ascii_case("FROM") || w.eq_ignore_ascii_case("ARG"))
}

/// Parses a Dockerfile.
pub fn parse(text: &str) -> Result<Dockerfile, ParseError> {
    let lines: Vec<&str> = text.lines().collect();
    let escape = directives(&lines)?;
    let mut instructions = Vec::new();
    let mut i = 0;
    while i < lines.len() {
        let line = lines[i];
        let trimmed = line.trim_start();
        if trimmed.is_empty() || trimmed.starts_with('#') {
            i += 1;
            continue;
        }
        let start_line = i;
        let indent = line.len() - trimmed.len();
        // Join continuation lines: comment and blank lines inside are dropped.
        let mut logical = String::new();
        let mut current = trimmed;
        loop {
            match continued(current, escape) {
                Some(head) => {
                    logical.push_str(head);
                    i += 1;
                    while i < lines.len() && is_skipped_in_continuation(lines[i]) {
                        i += 1;
                    }
                    if i >= lines.len() {
                        break;
                    }
                    current = lines[i];
                }
                None => {
                    logical.push_str(current);
                    i += 1;
                    break;
                }
            }
        }
        let keyword_len = logical
            .find(|c: char| c.is_whitespace())
            .unwrap_or(logical.len());
        let keyword = logical[..keyword_len].to_ascii_uppercase();
        let pos = Pos::new(start_line as u32 + 1, char_column(line, indent));
        if !INSTRUCTIONS.contains(&keyword.as_str()) {
            return Err(ParseError::at(
                pos,
                format!("unknown instruction `{}`", &logical[..keyword_len]),
            ));
        }
        let rest = &logical[keyword_len..];
        let args = rest.trim().to_string();
        let args_offset = indent + keyword_len + (rest.len() - rest.trim_start().len());
        let args_pos = if args_offset < line.len() {
            Pos::new(pos.line, char_column(line, args_offset))
        } else {
            pos
        };
        let json = exec_form(&args);
        let mut heredocs = Vec::new();
        if json.is_none() && matches!(keyword.as_str(), "RUN" | "COPY" | "ADD") {
            for (name, strip_tabs) in heredoc_markers(&args) {
                let body_start = i;
                let end = (i..lines.len()).find(|&j| {
                    let l = if strip_tabs {
                        lines[j].trim_start_matches('\t')
                    } else {
                        lines[j]
                    };
                    l == name
                });
                let Some(end) = end else {
                    return Err(ParseError::at(
                        pos,
                        format!("heredoc <<{name} is never closed: no line `{name}` follows"),
                    ));
                };
                let body = lines[body_start..end]
                    .iter()
                    .map(|l| {
                        if strip_tabs {
                            l.trim_start_matches('\t')
                        } else {
                            l
                        }
                    })
                    .collect::<Vec<_>>()
                    .join("\n");
                heredocs.push(Heredoc { name, body });
                i = end + 1;
            }
        }
        instructions.push(Instruction {
            keyword,
            args,
            json,
            heredocs,
            pos,
            args_pos,
        });
    }
    Ok(Dockerfile {
        escape,
        instructions,
    })
}

/// Reads the parser directives at the top of the file; returns the escape character.
fn directives(lines: &[&str]) -> Result<char, ParseError> {
    let mut escape = '\\';
    let mut seen = Vec::new();
    for (n, line) in lines.iter().enumerate() {
        let Some(body) = line.trim().strip_prefix('#') else {
            break;
        };
        let Some((name, value)) = body.split_once('=') else {
            break;
        };
        let name = name.trim().to_ascii_lowercase();
        if name.is_empty() || !name.chars().all(|c| c.is_ascii_alphanumeric()) {
            break;
        }
        if seen.contains(&name) {
            // A repeated directive is an ordinary comment, as BuildKit reads it.
            break;
        }
        if name == "escape" {
            escape = match value.trim() {
                "\\" => '\\',
                "`" => '`',
                other => {
                    return Err(ParseError::at(
                        Pos::new(n as u32 + 1, 1),
                        format!("invalid escape directive `{other}`: must be \\ or `"),
                    ))
                }
            };
        }
        seen.push(name);
    }
    Ok(escape)
}

/// The line without its trailing escape character, if it continues on the next line.
fn continued(line: &str, escape: char) -> Option<&str> {
    let trimmed = line.trim_end();
    trimmed.strip_suffix(escape)
}

/// Comment and blank lines between continuation lines are not part of the instruction.
fn is_skipped_in_continuation(line: &str) -> bool {
    let t = line.trim_start();
    t.is_empty() || t.starts_with('#')
}

/// The JSON array form: `["a", "b"]`.
fn exec_form(args: &str) -> Option<Vec<String>> {
    if !args.starts_with('[') {
        return None;
    }
    serde_json::from_str::<Vec<String>>(args).ok()
}

/// `<<EOF`, `<<-EOF`, `<<"EOF"`, `<<'EOF'` markers in order: (delimiter, strip tabs).
fn heredoc_markers(args: &str) -> Vec<(String, bool)> {
    let mut markers = Vec::new();
    let mut rest = args;
    while let Some(at) = rest.find("<<") {
        let mut after = &rest[at + 2..];
        // `<<<` is a here-string, not a heredoc.
        if after.starts_with('<') {
            rest = after.trim_start_matches('<');
            continue;
        }
        let strip_tabs = after.starts_with('-');
        if strip_tabs {
            after = &after[1..];
        }
        let quote = after.chars().next().filter(|c| *c == '"' || *c == '\'');
        if let Some(q) = quote {
            after = &after[1..];
            let Some(end) = after.find(q) else { break };
            let name = &after[..end];
            if !name.is_empty() {
                markers.push((name.to_string(), strip_tabs));
            }
            rest = &after[end + 1..];
        } else {
            let end = after
                .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
                .unwrap_or(after.len());
            if end > 0 && !after.starts_with(|c: char| c.is_ascii_digit()) {
                markers.push((after[..end].to_string(), strip_tabs));
            }
            rest = &after[end..];
        }
    }
    markers
}

/// 1-based character column of byte `offset` in `line`.
fn char_column(line: &str, offset: usize) -> u32 {
    line.get(..offset).map_or(offset, |s| s.chars().count()) as u32 + 1
}

#[cfg(test)]
mod tests {
    use super::*;

    fn keywords(d: &Dockerfile) -> Vec<(&str, &str, u32)> {
        d.instructions
            .iter()
            .map(|i| (i.keyword.as_str(), i.args.as_str(), i.pos.line))
            .collect()
    }

    #[test]
    fn instructions_comments_and_positions() {
        let d = parse("# build the api\nFROM python:3.12 AS base\n\n  user app\nCMD [\"python\", \"app.py\"]\n").unwrap();
        assert_eq!(
            keywords(&d),
            [
                ("FROM", "python:3.12 AS base", 2),
                ("USER", "app", 4),
                ("CMD", "[\"python\", \"app.py\"]", 5)
            ]
        );
        assert_eq!(d.instructions[1].pos, Pos::new(4, 3));
        assert_eq!(d.instructions[1].args_pos, Pos::new(4, 8));
        assert_eq!(
            d.instructions[2].json.as_deref(),
            Some(&["python".to_string(), "app.py".to_string()][..])
        );
    }

    #[test]
    fn continuations_drop_comments_and_blank_lines() {
        let d =
            parse("FROM alpine\nRUN apk add \\\n# a comment\n\n    curl \\  \n    jq\nUSER 1000\n")
                .unwrap();
        assert_eq!(
            keywords(&d),
            [
                ("FROM", "alpine", 1),
                ("RUN", "apk add     curl     jq", 2),
                ("USER", "1000", 7)
            ]
        );
    }

    #[test]
    fn escape_directive_changes_the_continuation_character() {
        let text = "# escape=`\nFROM mcr.microsoft.com/windows/servercore\nRUN dir `\n    c:\\\nUSER ContainerUser\n";
        let d = parse(text).unwrap();
        assert_eq!(d.escape, '`');
        assert_eq!(
            keywords(&d),
            [
                ("FROM", "mcr.microsoft.com/windows/servercore", 2),
                ("RUN", "dir     c:\\", 3),
                ("USER", "ContainerUser", 5)
            ]
        );
        // After an instruction a directive is just a comment.
        let d = parse("FROM a\n# escape=`\nRUN x \\\n  y\n").unwrap();
        assert_eq!(d.escape, '\\');
        assert_eq!(d.instructions[1].args, "x   y");
        assert!(parse("# escape=x\nFROM a\n").is_err());
    }

    #[test]
    fn heredoc_bodies_are_not_instructions() {
        let text = "FROM debian\nRUN <<EOF\nUSER root\napt-get update\nEOF\nCOPY <<-\"CONF\" <<two /etc/\n\tUSER nobody\n\tCONF\nsecond\ntwo\nUSER app\n";
        let d = parse(text).unwrap();
        assert_eq!(
            keywords(&d),
            [
                ("FROM", "debian", 1),
                ("RUN", "<<EOF", 2),
                ("COPY", "<<-\"CONF\" <<two /etc/", 6),
                ("USER", "app", 11)
            ]
        );
        assert_eq!(
            d.instructions[1].heredocs[0].body,
            "USER root\napt-get update"
        );
        let copy = &d.instructions[2].heredocs;
        assert_eq!(copy[0].name, "CONF");
        assert_eq!(copy[0].body, "USER nobody");
        assert_eq!(copy[1].body, "second");
        // A here-string and a shift are not heredocs.
        let d = parse("FROM a\nRUN cat <<< hi && echo $((1<<2))\nUSER b\n").unwrap();
        assert_eq!(d.instructions.len(), 3);
    }

    #[test]
    fn errors_have_positions() {
        let e = parse("FROM a\nRUN <<EOF\necho hi\n").unwrap_err();
        assert_eq!(e.pos, Some(Pos::new(2, 1)));
        assert!(e.message.contains("never closed"));
        let e = parse("FROM a\n  FORM b\n").unwrap_err();
        assert_eq!(e.pos, Some(Pos::new(2, 3)));
        assert_eq!(e.message, "unknown instruction `FORM`");
    }

    #[test]
    fn crlf_and_trailing_continuation() {
        let d = parse("FROM a\r\nRUN x \\\r\n  y\r\nUSER 1\\").unwrap();
        assert_eq!(
            keywords(&d),
            [("FROM", "a", 1), ("RUN", "x   y", 2), ("USER", "1", 4)]
        );
    }

    #[test]
    fn sniffing() {
        assert!(looks_like_dockerfile(
            "# syntax=docker/dockerfile:1\nARG V=1\nFROM a:$V\n"
        ));
        assert!(looks_like_dockerfile("from scratch"));
        assert!(!looks_like_dockerfile("apiVersion: v1\nkind: Pod\n"));
    }
}
