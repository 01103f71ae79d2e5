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

/// The built-in policies, parsed once: parsing them for every input would be most of
/// the work.
fn options() -> &'static breakout::ScanOptions {
    static OPTIONS: std::sync::OnceLock<breakout::ScanOptions> = std::sync::OnceLock::new();
    OPTIONS.get_or_init(|| breakout::ScanOptions {
        policies: breakout::engine::builtin(),
        ..Default::default()
    })
}

fuzz_target!(|data: &[u8]| {
    let Some((&pick, contents)) = data.split_first() else {
        return;
    };
    let opts = options();
    let name = NAMES[pick as usize % NAMES.len()];
    let _ = breakout::scan_contents(name, contents, opts);
});
