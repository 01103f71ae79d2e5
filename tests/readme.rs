//! The README tells the truth: it opens with the two commands a newcomer runs, and its
//! sample output is what that command prints (at 100 columns). A `…` line in the
//! sample stands for lines left out; every other line must appear, in order, with the
//! lines next to it in the sample next to it in the output too.

mod common;

use common::{command, finish, ROOT};
use std::path::Path;

fn readme() -> String {
    std::fs::read_to_string(Path::new(ROOT).join("README.md")).unwrap()
}

#[test]
fn readme_starts_with_the_two_commands() {
    let text = readme();
    let first_block = text.split("```\n").nth(1).expect("a code block");
    assert_eq!(
        first_block,
        "cargo run --release -- scan samples/     # the main job, on the bundled samples\n\
         cargo test                               # the whole test suite\n"
    );
}

#[test]
fn readme_sample_output_is_what_the_command_prints() {
    sample_output_matches("## What it prints");
}

#[test]
fn readme_plan_review_output_is_what_the_command_prints() {
    sample_output_matches("## Reviewing a Terraform plan");
}

#[test]
fn readme_kustomize_output_is_what_the_command_prints() {
    sample_output_matches("## Kustomize overlays");
}

/// The first `breakout scan …` command of the README's section under `heading`
/// prints, at 100 columns, every chunk of the section's first code block (chunks are
/// separated by `…` lines), in order.
fn sample_output_matches(heading: &str) {
    let text = readme();
    let at = text
        .find(heading)
        .unwrap_or_else(|| panic!("a `{heading}` section"));
    let section = &text[at..];
    // The command is the first `breakout scan …` in backquotes.
    let start = section.find("`breakout scan ").unwrap() + 1;
    let cmd = &section[start..start + section[start..].find('`').unwrap()];
    let args: Vec<&str> = cmd.split_whitespace().skip(1).collect();
    let block_start = section.find("```\n").unwrap() + 4;
    let block = &section[block_start..block_start + section[block_start..].find("```").unwrap()];

    let mut run = command(Path::new(ROOT), &args);
    run.env("COLUMNS", "100");
    let out = finish(&mut run).stdout;
    let lines: Vec<&str> = out.lines().collect();

    let mut from = 0;
    for chunk in block.split("…\n").filter(|c| !c.trim().is_empty()) {
        let want: Vec<&str> = chunk.lines().collect();
        let found = (from..=lines.len().saturating_sub(want.len()))
            .find(|&i| lines[i..i + want.len()] == want[..])
            .unwrap_or_else(|| {
                panic!(
                    "README.md's sample output is out of date: this part is not in the output of \
                     `{cmd}` (COLUMNS=100):\n{chunk}\n--- output:\n{out}"
                )
            });
        from = found + want.len();
    }
}
