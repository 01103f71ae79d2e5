//! Terraform plan JSON: the bytes are spliced into a plan's `planned_values`, so the
//! fuzzer spends its time in the plan extractor rather than in JSON syntax.
#![no_main]
use libfuzzer_sys::fuzz_target;

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
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let plan = format!(
        "{{\"format_version\":\"1.2\",\"terraform_version\":\"1.9.0\",\"planned_values\":{{\"root_module\":{text}}}}}"
    );
    let opts = options();
    let _ = breakout::scan_contents("plan.json", plan.as_bytes(), opts);
});
