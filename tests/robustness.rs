//! Hostile input never panics or hangs: deterministic token soups in every format
//! (Dockerfile, HCL, compose/Kubernetes YAML, JSON plans and policies) go through the
//! whole scan. A scan may report errors; it must return.

use breakout::{engine, scan, ScanOptions};
use std::path::Path;

/// A small deterministic generator (xorshift), so failures reproduce from the seed.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    fn pick<'a>(&mut self, items: &[&'a str]) -> &'a str {
        items[(self.next() % items.len() as u64) as usize]
    }
}

/// `len` tokens from `tokens`, joined by random separators.
fn soup(rng: &mut Rng, tokens: &[&str], len: usize) -> String {
    let seps = [" ", "\n", "\n  ", "", "\t", "\r\n", " \\\n"];
    (0..len)
        .map(|_| format!("{}{}", rng.pick(tokens), rng.pick(&seps)))
        .collect()
}

const DOCKERFILE: &[&str] = &[
    "FROM",
    "alpine",
    "AS",
    "build",
    "USER",
    "root",
    "0:0",
    "ARG",
    "ENV",
    "X=1",
    "${X}",
    "${X:-0}",
    "${X:+y}",
    "$X",
    "RUN",
    "<<EOF",
    "<<-EOT",
    "EOF",
    "EOT",
    "# escape=`",
    "`",
    "COPY",
    "--from=build",
    "[\"a\",",
    "\"b\"]",
    "#",
    "\\",
    "ONBUILD",
    "\"",
    "'",
];
const HCL: &[&str] = &[
    "resource",
    "data",
    "module",
    "locals",
    "variable",
    "\"aws_iam_policy\"",
    "\"p\"",
    "{",
    "}",
    "[",
    "]",
    "(",
    ")",
    "=",
    ",",
    ":",
    "?",
    "policy",
    "jsonencode(",
    "for",
    "in",
    "if",
    "=>",
    "...",
    "x",
    "local.x",
    "var.y",
    "count.index",
    "each.value",
    "\"${",
    "%{",
    "~}",
    "<<EOT",
    "EOT",
    "1e9",
    "range(",
    "try(",
    "can(",
    "file(\"../x\")",
    "source",
    "\"./\"",
    "count",
    "for_each",
    "dynamic",
    "content",
    "*",
    ".*",
    "[*]",
    "null",
    "true",
    "-",
    "!",
    "&&",
    "==",
    "\"dynamodb:*\"",
];
const YAML: &[&str] = &[
    "services:",
    "apiVersion: v1",
    "kind: Pod",
    "spec:",
    "containers:",
    "- name: a",
    "volumes:",
    "- /var/run/docker.sock:/x",
    "hostPath:",
    "path: /",
    "&a",
    "*a",
    "<<: *a",
    "[",
    "]",
    "{",
    "}",
    "user: ${U}",
    "privileged: true",
    "extends: a",
    "network_mode:",
    "service:a",
    "- ",
    ":",
    "'",
    "\"",
    "|",
    ">",
    "---",
    "securityContext:",
    "runAsUser: 0",
];
const JSON: &[&str] = &[
    "{",
    "}",
    "[",
    "]",
    ",",
    ":",
    "\"format_version\"",
    "\"planned_values\"",
    "\"root_module\"",
    "\"resources\"",
    "\"Statement\"",
    "\"Action\"",
    "\"*\"",
    "\"Effect\"",
    "\"Allow\"",
    "\"containerDefinitions\"",
    "\"after_unknown\"",
    "true",
    "null",
    "1",
    "\"values\"",
    "\"type\"",
    "\"aws_iam_policy\"",
    "\"address\"",
    "\"x\"",
];

fn scan_one(dir: &Path, name: &str, text: &str) {
    let path = dir.join(name);
    std::fs::write(&path, text).unwrap();
    let report = scan(&ScanOptions {
        paths: vec![path.clone()],
        policies: engine::builtin(),
        ..Default::default()
    });
    assert!(report.is_ok(), "{name} scan failed: {report:?}\n{text}");
    std::fs::remove_file(path).unwrap();
}

#[test]
fn token_soups_in_every_format_scan_without_panicking() {
    let dir = tempfile::tempdir().unwrap();
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
    for case in 0..250 {
        let len = 5 + (rng.next() % 60) as usize;
        scan_one(dir.path(), "Dockerfile", &soup(&mut rng, DOCKERFILE, len));
        scan_one(dir.path(), "main.tf", &soup(&mut rng, HCL, len));
        scan_one(dir.path(), "compose.yaml", &soup(&mut rng, YAML, len));
        scan_one(dir.path(), "plan.json", &soup(&mut rng, JSON, len));
        // Valid-looking prefixes that then break.
        let hcl = format!(
            "locals {{\n  a = {}\n}}\nresource \"aws_iam_policy\" \"p{case}\" {{\n  policy = {}\n}}\n",
            soup(&mut rng, HCL, 4),
            soup(&mut rng, HCL, 6)
        );
        scan_one(dir.path(), "main.tf", &hcl);
    }
}
