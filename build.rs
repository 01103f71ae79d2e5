//! Embeds every `policies/*.yaml` into the binary, so adding a rule is adding a file.

use std::{env, fs, path::Path};

fn main() {
    println!("cargo:rerun-if-changed=policies");
    let dir = Path::new(&env::var("CARGO_MANIFEST_DIR").unwrap()).join("policies");
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
    fs::write(
        Path::new(&env::var("OUT_DIR").unwrap()).join("policies.rs"),
        out,
    )
    .unwrap();
}
