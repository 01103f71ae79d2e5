//! Dockerfile parsing (directives, continuations, heredocs) and the image fact
//! (stage chains, ARG/ENV substitution).
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = breakout::parse::decode_text(data) else {
        return;
    };
    if let Ok(d) = breakout::parse::dockerfile::parse(text) {
        let mut facts = breakout::facts::Facts::default();
        breakout::extract::dockerfile::extract(&d, "Dockerfile", None, &mut facts);
        breakout::extract::dockerfile::extract(&d, "Dockerfile", Some("build"), &mut facts);
    }
});
