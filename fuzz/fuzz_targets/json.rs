//! Strict and lenient JSON parsing and extraction (IAM, ECS, Kubernetes) of arbitrary bytes.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = breakout::parse::decode_text(data) else {
        return;
    };
    let mut facts = breakout::facts::Facts::default();
    if let Ok(doc) = breakout::parse::json::parse(text) {
        breakout::extract::document(&doc, "fuzz.json", &mut facts);
    }
    if let Ok(doc) = breakout::parse::json::parse_lenient(text) {
        breakout::extract::document(&doc, "fuzz.json", &mut facts);
    }
    let _ = breakout::extract::looks_like_ours(text);
});
