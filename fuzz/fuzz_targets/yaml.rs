//! YAML parsing and Kubernetes/compose extraction of arbitrary bytes.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = breakout::parse::decode_text(data) else {
        return;
    };
    if let Ok(docs) = breakout::parse::yaml::parse(text) {
        let mut facts = breakout::facts::Facts::default();
        for doc in &docs {
            breakout::extract::document(doc, "fuzz.yaml", &mut facts);
        }
    }
});
