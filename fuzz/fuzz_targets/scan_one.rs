//! The whole pipeline on one file: the first byte picks the file name (and so the
//! format), the rest is the contents; every built-in policy runs.
#![no_main]
use libfuzzer_sys::fuzz_target;

const NAMES: &[&str] = &[
    "pod.yaml",
    "policy.json",
    "Dockerfile",
    "main.tf",
    "docker-compose.yml",
    "plan.json",
    "main.tf.json",
    "notes.txt",
];

fuzz_target!(|data: &[u8]| {
    let Some((&pick, contents)) = data.split_first() else {
        return;
    };
    let opts = breakout::ScanOptions {
        policies: breakout::engine::builtin(),
        ..Default::default()
    };
    let name = NAMES[pick as usize % NAMES.len()];
    let _ = breakout::scan_contents(name, contents, &opts);
});
