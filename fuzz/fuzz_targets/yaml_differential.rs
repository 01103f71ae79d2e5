//! The event YAML reader against the serde-saphyr reader it stands in for: on any text,
//! `parse_lenient` (the event reader, declining to the reference) gives exactly the
//! reference's result — the same documents, positions, duplicate-key errors and
//! errors.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = breakout::parse::decode_text(data) else {
        return;
    };
    let ours = breakout::parse::yaml::parse_lenient(text);
    let reference = breakout::parse::yaml::reference::parse_lenient(text);
    assert_eq!(ours, reference, "the readers differ on:\n{text:?}");
});
