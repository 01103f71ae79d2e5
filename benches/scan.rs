//! Scan benchmark: generates a corpus of realistic Kubernetes manifests (or, with
//! `BENCH_KIND=terraform`, Terraform modules; with `BENCH_KIND=plan`, one `terraform
//! show -json` plan on one line, next to the configuration it was made from), scans it
//! with all built-in policies, and prints throughput and peak memory.
//!
//! `cargo bench --bench scan` (defaults: 2000 files of ~8 workloads) or
//! `cargo bench --bench scan -- FILES ITEMS_PER_FILE [RUNS]`; for Terraform, FILES are
//! `.tf` files (10 per module folder) and ITEMS the resources in each; for a plan, FILES
//! is ignored and ITEMS is the number of module instances (9 resources each; the
//! default, 1650, makes a plan of about 50 MB).

#[path = "scan/plan.rs"]
mod plan;

mod common;

use breakout::{engine, scan, ScanOptions};
use common::{manifest, peak_rss_mib};
use std::fmt::Write as _;
use std::time::Instant;

/// User and system CPU time of the process so far: on a machine shared with other
/// work, a steadier figure than the wall clock.
fn cpu_seconds() -> f64 {
    #[cfg(unix)]
    {
        // SAFETY: getrusage fills the struct it is given.
        let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
        if unsafe { libc::getrusage(libc::RUSAGE_SELF, &mut usage) } == 0 {
            let t = |tv: libc::timeval| tv.tv_sec as f64 + tv.tv_usec as f64 / 1e6;
            return t(usage.ru_utime) + t(usage.ru_stime);
        }
    }
    f64::NAN
}

/// One `.tf` file of a module: IAM policies built with `jsonencode` and
/// `for_each`, policy documents, launch templates and ECS task definitions, with
/// variables and locals to evaluate.
fn terraform_file(seed: usize, resources: usize) -> String {
    let mut out = format!(
        "locals {{\n  tables_{seed} = [\"orders\", \"users\", \"carts\"]\n  prefix_{seed} = \"${{var.env}}-{seed}\"\n}}\n\n"
    );
    for i in 0..resources {
        let n = seed * 1000 + i;
        let _ = match n % 4 {
            0 => write!(
                out,
                "resource \"aws_iam_policy\" \"p{n}\" {{\n  for_each = toset(local.tables_{seed})\n  name     = \"${{local.prefix_{seed}}}-${{each.key}}\"\n  policy = jsonencode({{\n    Version = \"2012-10-17\"\n    Statement = [{{\n      Effect   = \"Allow\"\n      Action   = {}\n      Resource = \"arn:aws:dynamodb:*:*:table/${{each.key}}\"\n    }}]\n  }})\n}}\n\n",
                if n.is_multiple_of(3) { "[\"dynamodb:*\"]" } else { "[\"dynamodb:GetItem\", \"dynamodb:Query\"]" }
            ),
            1 => write!(
                out,
                "data \"aws_iam_policy_document\" \"d{n}\" {{\n  statement {{\n    actions   = [\"dynamodb:PutItem\", \"dynamodb:DeleteItem\"]\n    resources = [{}]\n  }}\n}}\n\n",
                if n.is_multiple_of(5) { "\"*\"" } else { "\"arn:aws:dynamodb:eu-west-1:111122223333:table/orders\"" }
            ),
            2 => write!(
                out,
                "resource \"aws_launch_template\" \"lt{n}\" {{\n  name = \"nodes-{n}\"\n  metadata_options {{\n    http_tokens                 = {}\n    http_put_response_hop_limit = {}\n  }}\n}}\n\n",
                if n.is_multiple_of(2) { "\"required\"" } else { "\"optional\"" },
                1 + n % 2
            ),
            _ => write!(
                out,
                "resource \"aws_ecs_task_definition\" \"t{n}\" {{\n  family       = \"app-{n}\"\n  network_mode = \"awsvpc\"\n  container_definitions = jsonencode([{{\n    name                   = \"app\"\n    image                  = \"example/app:{n}\"\n    user                   = \"{}\"\n    readonlyRootFilesystem = {}\n    privileged             = {}\n  }}])\n}}\n\n",
                if n.is_multiple_of(3) { "0" } else { "10001" },
                n.is_multiple_of(2),
                n.is_multiple_of(7)
            ),
        };
    }
    out
}

/// Writes the corpus and returns its size in bytes.
fn write_corpus(dir: &std::path::Path, terraform: bool, files: usize, per_file: usize) -> usize {
    let mut bytes = 0;
    for f in 0..files {
        let (sub, name, text) = if terraform {
            let sub = dir.join(format!("module-{}", f / 10));
            let text = terraform_file(f, per_file);
            (sub, format!("part-{f}.tf"), text)
        } else {
            let sub = dir.join(format!("team-{}", f % 20));
            (sub, format!("app-{f}.yaml"), manifest(f, per_file))
        };
        std::fs::create_dir_all(&sub).unwrap();
        if terraform && f.is_multiple_of(10) {
            std::fs::write(
                sub.join("variables.tf"),
                "variable \"env\" {\n  default = \"prod\"\n}\n",
            )
            .unwrap();
        }
        bytes += text.len();
        std::fs::write(sub.join(name), text).unwrap();
    }
    bytes
}

fn main() {
    // `cargo bench` passes `--bench`; keep only our numeric arguments.
    let args: Vec<usize> = std::env::args()
        .skip(1)
        .filter_map(|a| a.parse().ok())
        .collect();
    let files = args.first().copied().unwrap_or(2000);
    let per_file = args.get(1).copied().unwrap_or(8);
    let runs = args.get(2).copied().unwrap_or(3);

    let kind = std::env::var("BENCH_KIND").unwrap_or_default();
    let terraform = kind == "terraform";
    // BENCH_DIR=PATH writes the corpus there and keeps it (to profile the CLI on it).
    let temp = tempfile::tempdir().expect("temp dir");
    let dir = match std::env::var_os("BENCH_DIR") {
        Some(d) => {
            std::fs::create_dir_all(&d).expect("BENCH_DIR");
            std::path::PathBuf::from(d)
        }
        None => temp.path().to_path_buf(),
    };
    let dir = &*dir;
    let (files, per_file, bytes, paths) = if kind == "plan" {
        // One plan, next to its configuration; ITEMS are module instances.
        let services = args.get(1).copied().unwrap_or(1650);
        for (name, text) in plan::configuration() {
            let path = dir.join(name);
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(path, text).unwrap();
        }
        let text = plan::plan(services);
        let path = dir.join("plan.json");
        std::fs::write(&path, &text).unwrap();
        let bytes = text.len();
        assert!(!text.contains('\n'), "one line");
        drop(text);
        (1, services * 9, bytes, vec![path])
    } else {
        let bytes = write_corpus(dir, terraform, files, per_file);
        (files, per_file, bytes, vec![dir.to_path_buf()])
    };
    // BENCH_NO_POLICIES=1 measures discovery, parsing and extraction alone.
    let policies = if std::env::var_os("BENCH_NO_POLICIES").is_some() {
        Vec::new()
    } else {
        engine::builtin()
    };
    let opts = ScanOptions {
        paths,
        policies,
        ..Default::default()
    };
    println!(
        "corpus: {files} {} files, {} {}, {:.1} MiB; {} threads",
        match kind.as_str() {
            "terraform" => "Terraform",
            "plan" => "plan (one line)",
            _ => "Kubernetes",
        },
        files * per_file,
        if kind == "terraform" || kind == "plan" {
            "resources"
        } else {
            "workloads"
        },
        bytes as f64 / 1048576.0,
        rayon::current_num_threads()
    );
    // The peak memory reported is the scan's, not the corpus generator's: what it freed
    // goes back to the system, and the high-water mark starts again.
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: malloc_trim only releases free memory of the allocator.
    unsafe {
        libc::malloc_trim(0);
    }
    let _ = std::fs::write("/proc/self/clear_refs", "5");
    let mut best = f64::MAX;
    for run in 1..=runs {
        let start = Instant::now();
        let cpu_start = cpu_seconds();
        let report = scan(&opts).expect("scan");
        let secs = start.elapsed().as_secs_f64();
        let cpu = cpu_seconds() - cpu_start;
        best = best.min(secs);
        assert!(report.errors.is_empty(), "{:?}", report.errors.first());
        println!(
            "run {run}: {secs:.3} s ({cpu:.3} s CPU), {} findings, {} containers, {} policy statements, {} instances",
            report.findings.len(),
            report.stats.containers,
            report.stats.policy_statements,
            report.stats.instances
        );
    }
    println!(
        "best: {best:.3} s = {:.0} files/s, {:.1} MiB/s; peak RSS {:.0} MiB",
        files as f64 / best,
        bytes as f64 / 1048576.0 / best,
        peak_rss_mib().unwrap_or(f64::NAN)
    );
}
