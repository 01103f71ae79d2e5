//! The fast JSON parser against jsonc-parser: for every text, `parse` (fast, falling
//! back to jsonc-parser) gives exactly what `parse_strict` (jsonc-parser alone) gives,
//! positions and errors included, and a plan's pruned parse succeeds exactly when the
//! whole parse does.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let fast = breakout::parse::json::parse(text);
    assert_eq!(fast, breakout::parse::json::parse_strict(text), "{text:?}");
    let pruned = breakout::parse::json::parse_pruned(text, &breakout::extract::tfplan::prune);
    assert_eq!(fast.is_ok(), pruned.is_ok(), "{text:?}");
});
