//! The YAML readers against each other on any text:
//! - the block source (the hand-written scanner the event reader tries first) either
//!   declines or gives exactly granit's events, values and positions;
//! - the event reader (block source, then granit's events) gives exactly the
//!   reference's result when it reads a text;
//! - `parse_lenient` (the event reader, declining to the reference) gives exactly the
//!   reference's result — the same documents, positions, duplicate-key errors and
//!   errors.
//!
//! Seed it with the repository's YAML files: `fuzz/seed-yaml.sh`.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = breakout::parse::decode_text(data) else {
        return;
    };
    // Panics on any divergence.
    let _ = breakout::parse::yaml::check::block_source(text);
});
