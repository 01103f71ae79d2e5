//! Parser benchmark: reading text into `Node` trees and nothing else (no discovery, no
//! extraction, no policies), so that YAML readers can be compared on the same bytes.
//!
//! `cargo bench --bench parse -- [PATH ...]` reads every `.yaml`/`.yml` file (with
//! `PARSER=json`, every `.json` file) under the paths into memory, then parses them all
//! `RUNS` times (default 3) and prints the best time. Without paths it parses the
//! Kubernetes corpus of `benches/scan.rs` (`FILES` files of `ITEMS` workloads, default
//! 2000 × 8), generated in memory.
//!
//! `PARSER` picks the reader:
//! - `yaml` (default): [`breakout::parse::yaml::parse_lenient`], what a scan uses;
//! - `yaml-serde`: [`breakout::parse::yaml::reference::parse_lenient`], the serde-saphyr
//!   reader it replaced (still used for the files the event reader declines);
//! - `yaml-granit`: the event reader on granit's events alone (then the reference), as
//!   `yaml` was before the block source;
//! - `yaml-events`: the granit parser's events alone, counted and dropped: the floor any
//!   reader built on that parser pays;
//! - `yaml-block`: the block source's events alone (the hand-written scanner the event
//!   reader tries first), counted and dropped; files it declines count as not parsed,
//!   and the reasons are printed;
//! - `json`: [`breakout::parse::json::parse_lenient`].
//!
//! For instruction counts, which unlike times do not depend on what else the machine is
//! doing: `RUNS=1 valgrind --tool=callgrind target/release/deps/parse-HASH PATH`.

mod common;

use serde_saphyr::granit_parser::{Event, Parser};
use std::path::{Path, PathBuf};
use std::time::Instant;

fn collect(path: &Path, json: bool, out: &mut Vec<PathBuf>) {
    if path.is_dir() {
        let mut entries: Vec<_> = std::fs::read_dir(path)
            .expect("read dir")
            .filter_map(|e| e.ok().map(|e| e.path()))
            .collect();
        entries.sort();
        for p in entries {
            collect(&p, json, out);
        }
        return;
    }
    let ext = path.extension().and_then(|e| e.to_str()).unwrap_or("");
    let wanted = if json {
        ext == "json"
    } else {
        matches!(ext, "yaml" | "yml")
    };
    if wanted {
        out.push(path.to_path_buf());
    }
}

fn env_usize(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// Parses every text once; returns the number of documents and of files that failed.
fn parse_all(parser: &str, texts: &[String]) -> (usize, usize) {
    let mut docs = 0;
    let mut failed = 0;
    for text in texts {
        let n = match parser {
            "yaml" => breakout::parse::yaml::parse_lenient(text)
                .map(|(d, _)| d.len())
                .map_err(drop),
            "yaml-serde" => breakout::parse::yaml::reference::parse_lenient(text)
                .map(|(d, _)| d.len())
                .map_err(drop),
            "yaml-granit" => breakout::parse::yaml::check::granit_parse_lenient(text)
                .map(|(d, _)| d.len())
                .map_err(drop),
            "yaml-events" => Ok(count_events(text)),
            "yaml-block" => breakout::parse::yaml::check::block_events(text).map_err(|_| ()),
            "json" => breakout::parse::json::parse_lenient(text)
                .map(|_| 1)
                .map_err(drop),
            other => panic!("unknown PARSER {other}"),
        };
        match n {
            Ok(n) => docs += n,
            Err(()) => failed += 1,
        }
    }
    (docs, failed)
}

/// The parser alone: every event pulled and dropped.
fn count_events(text: &str) -> usize {
    let mut parser = Parser::new_from_str(text);
    let mut docs = 0;
    while let Some(Ok((event, _span))) = parser.next_event() {
        if matches!(event, Event::DocumentStart(..)) {
            docs += 1;
        }
    }
    docs
}

fn main() {
    let parser = std::env::var("PARSER").unwrap_or_else(|_| "yaml".into());
    let runs = env_usize("RUNS", 3);
    // `cargo bench` passes `--bench`; keep only paths.
    let paths: Vec<PathBuf> = std::env::args()
        .skip(1)
        .filter(|a| !a.starts_with("--"))
        .map(PathBuf::from)
        .collect();
    let texts: Vec<String> = if paths.is_empty() {
        let files = env_usize("FILES", 2000);
        let items = env_usize("ITEMS", 8);
        (0..files).map(|f| common::manifest(f, items)).collect()
    } else {
        let mut files = Vec::new();
        for p in &paths {
            collect(p, parser == "json", &mut files);
        }
        files
            .iter()
            .filter_map(|f| String::from_utf8(std::fs::read(f).ok()?).ok())
            .collect()
    };
    let bytes: usize = texts.iter().map(String::len).sum();
    println!(
        "{parser}: {} files, {:.1} MiB",
        texts.len(),
        bytes as f64 / 1048576.0
    );
    if parser == "yaml-block" {
        // Why the block source declines, most common first.
        let mut why = std::collections::BTreeMap::<&str, usize>::new();
        for text in &texts {
            if let Err(reason) = breakout::parse::yaml::check::block_events(text) {
                *why.entry(reason).or_default() += 1;
            }
        }
        let mut why: Vec<_> = why.into_iter().collect();
        why.sort_by_key(|w| std::cmp::Reverse(w.1));
        for (reason, n) in why {
            println!("declined: {n} files: {reason}");
        }
    }
    let mut best = f64::MAX;
    for run in 1..=runs {
        let start = Instant::now();
        let (docs, failed) = parse_all(&parser, &texts);
        let secs = start.elapsed().as_secs_f64();
        best = best.min(secs);
        println!("run {run}: {secs:.3} s, {docs} documents, {failed} files not parsed");
    }
    println!(
        "best: {best:.3} s = {:.1} MiB/s; peak RSS {:.0} MiB",
        bytes as f64 / 1048576.0 / best,
        common::peak_rss_mib().unwrap_or(f64::NAN)
    );
}
