//! The signed-in record as JSON (Redis, and format-2 cookies): anything
//! decodes or reads as signed out, and a decoded record written back by the
//! crate decodes to the same record.
#![no_main]

use libfuzzer_sys::fuzz_target;
use rocket_mediawiki_oauth::fuzzing::decode_session;

fuzz_target!(|data: &[u8]| {
    let Ok(value) = std::str::from_utf8(data) else {
        return;
    };
    if let Some(record) = decode_session(value) {
        let written = record.to_json();
        assert_eq!(
            decode_session(&written).as_ref(),
            Some(&record),
            "{written}"
        );
    }
});
