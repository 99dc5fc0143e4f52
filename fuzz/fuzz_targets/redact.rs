//! `wire::redact`, which masks secrets in what the wiki (or a proxy) sent
//! before it is shown or logged: the secret never survives, in clear or
//! percent-encoded, and text without secrets or their names is unchanged.
//! The input is `secret\ntext`.
#![no_main]

use libfuzzer_sys::fuzz_target;
use rocket_mediawiki_oauth::fuzzing::{redact, REDACTED};

fuzz_target!(|data: &[u8]| {
    let Ok(input) = std::str::from_utf8(data) else {
        return;
    };
    let Some((secret, text)) = input.split_once('\n') else {
        return;
    };
    let shown = redact(text, &[secret]);
    // A secret as the wiki issues one: a run of token characters, at least
    // four (shorter ones are not masked), that no mask could spell.
    let token_like = secret.len() >= 4
        && secret
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-._~+/=".contains(&b))
        && !REDACTED.contains(secret);
    if token_like {
        assert!(!shown.contains(secret), "{secret:?} in {shown:?} from {text:?}");
    }
    // Masking only ever shortens a value into the mask: bounded output.
    assert!(
        shown.len() <= text.len() * (REDACTED.len() + 1) + REDACTED.len(),
        "{} from {}",
        shown.len(),
        text.len()
    );
    // Nothing to mask: unchanged.
    let lower = text.to_ascii_lowercase();
    let names = ["secret", "verifier", "token", "code", "bearer", "signature"];
    if !text.contains(secret) && !names.iter().any(|n| lower.contains(n)) {
        let encoded: String =
            url::form_urlencoded::byte_serialize(secret.as_bytes()).collect();
        if !text.contains(&encoded) && !text.contains('%') {
            assert_eq!(shown, text);
        }
    }
});
