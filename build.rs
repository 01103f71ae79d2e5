//! Embeds every `policies/*.yaml` into the binary, so adding a rule is adding a file;
//! and each rule's examples (`tests/fixtures/rules/examples/<ID>/{vulnerable,fixed}/`),
//! so `breakout policies --format markdown` writes the rule reference, examples
//! included, wherever the binary runs. The examples stay fixture files that the test
//! suite scans (`tests/docs.rs`): a rule's documented example cannot stop showing it.

use std::{env, fs, path::Path};

fn main() {
    let root = Path::new(&env::var("CARGO_MANIFEST_DIR").unwrap()).to_path_buf();
    let out_dir = Path::new(&env::var("OUT_DIR").unwrap()).to_path_buf();
    println!("cargo:rerun-if-changed=policies");
    let dir = root.join("policies");
    let mut files: Vec<_> = fs::read_dir(&dir)
        .expect("policies/ folder")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "yaml"))
        .collect();
    files.sort();
    let mut out = String::from(
        "/// Built-in policies: (file name, YAML text).\npub const BUILTIN: &[(&str, &str)] = &[\n",
    );
    for f in &files {
        println!("cargo:rerun-if-changed={}", f.display());
        let name = f.file_name().unwrap().to_string_lossy();
        out.push_str(&format!(
            "    ({name:?}, include_str!({:?})),\n",
            f.display().to_string()
        ));
    }
    out.push_str("];\n");
    fs::write(out_dir.join("policies.rs"), out).unwrap();

    // (rule id, `vulnerable` or `fixed`, file name relative to that folder, text)
    let examples = root.join("tests/fixtures/rules/examples");
    println!("cargo:rerun-if-changed={}", examples.display());
    let mut found: Vec<(String, String, String, std::path::PathBuf)> = Vec::new();
    if let Ok(rules) = fs::read_dir(&examples) {
        for rule in rules.filter_map(Result::ok) {
            let id = rule.file_name().to_string_lossy().into_owned();
            println!("cargo:rerun-if-changed={}", rule.path().display());
            for variant in ["vulnerable", "fixed"] {
                let base = rule.path().join(variant);
                println!("cargo:rerun-if-changed={}", base.display());
                walk(&base, &base, &mut |rel, path| {
                    found.push((id.clone(), variant.to_string(), rel, path));
                });
            }
        }
    }
    found.sort();
    let mut out = String::from(
        "/// Rule examples: (rule id, `vulnerable` or `fixed`, file name, text).\n\
         pub const EXAMPLES: &[(&str, &str, &str, &str)] = &[\n",
    );
    for (id, variant, rel, path) in &found {
        println!("cargo:rerun-if-changed={}", path.display());
        out.push_str(&format!(
            "    ({id:?}, {variant:?}, {rel:?}, include_str!({:?})),\n",
            path.display().to_string()
        ));
    }
    out.push_str("];\n");
    fs::write(out_dir.join("examples.rs"), out).unwrap();
}

/// Every file under `dir`, with its path relative to `base` (`/`-separated).
fn walk(base: &Path, dir: &Path, found: &mut dyn FnMut(String, std::path::PathBuf)) {
    let Ok(entries) = fs::read_dir(dir) else {
        return;
    };
    let mut entries: Vec<_> = entries.filter_map(Result::ok).map(|e| e.path()).collect();
    entries.sort();
    for path in entries {
        if path.is_dir() {
            println!("cargo:rerun-if-changed={}", path.display());
            walk(base, &path, found);
        } else if path.is_file() {
            let rel = path
                .strip_prefix(base)
                .unwrap()
                .components()
                .map(|c| c.as_os_str().to_string_lossy().into_owned())
                .collect::<Vec<_>>()
                .join("/");
            found(rel, path);
        }
    }
}
