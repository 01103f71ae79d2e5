//! Terraform: HCL parsing and evaluation of a one-file module (functions, for
//! expressions, references) with the budgets that bound it.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = breakout::parse::decode_text(data) else {
        return;
    };
    let opts = breakout::ScanOptions::default();
    let _ = breakout::scan_contents("fuzz.tf", text.as_bytes(), &opts);
});
