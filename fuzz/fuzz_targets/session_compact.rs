//! The session cookie's record in its compact layout (format 3, as it reads
//! once opened and inflated): any values and random bytes decode or read as
//! signed out, without a panic, and a decoded record laid out again by the
//! crate decodes to the same record. The first two bytes of the input (a
//! little-endian u16) say how many bytes of values follow; the random bytes
//! are the rest.
#![no_main]

use libfuzzer_sys::fuzz_target;
use rocket_mediawiki_oauth::fuzzing::decode_compact_session;

fuzz_target!(|data: &[u8]| {
    let Some((split, rest)) = data.split_first_chunk::<2>() else {
        return;
    };
    let (values, random) = rest.split_at(usize::from(u16::from_le_bytes(*split)).min(rest.len()));
    if let Some(record) = decode_compact_session(values, random) {
        let (values, random) = record.to_compact();
        assert_eq!(
            decode_compact_session(&values, &random).as_ref(),
            Some(&record)
        );
    }
});
