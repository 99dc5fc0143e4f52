//! OAuth 1.0a token answers (`Special:OAuth/initiate` and `/token`), as a
//! wiki sends them: an accepted answer yields a token of safe characters, and
//! a refused one never quotes the `oauth_token_secret` the answer carried.
#![no_main]

use libfuzzer_sys::fuzz_target;
use rocket_mediawiki_oauth::fuzzing::initiate_answer;

fn safe_token(t: &str) -> bool {
    !t.is_empty()
        && t.len() <= 128
        && t.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-._~".contains(&b))
}

/// What the crate says about a token answer it cannot use, word for word.
/// A message that is exactly one of these quotes nothing from the answer,
/// whatever the "secret" was: `ble: oauth_toke` is in the joined text
/// "…not usable: oauth_token_secret…" without being a quote of anything.
const PROBLEMS: [&str; 5] = [
    "an HTML page instead of a token answer",
    "oauth_token is missing",
    "oauth_token is malformed",
    "oauth_token_secret is missing",
    "oauth_token_secret is malformed",
];
const PREFIX: &str = "the wiki gave an unexpected answer: ";

/// Words of any other message the crate may write: a "secret" that is part
/// of them (say `a`, or `token`) is not a quote of the answer.
const VOCABULARY: &str = "the wiki gave an unexpected answer: the wiki's token answer is not \
    usable: an HTML page instead of a token answer oauth_token is missing oauth_token is \
    malformed oauth_token_secret is missing oauth_token_secret is malformed the answer is not UTF-8";

fn quotes_nothing(message: &str) -> bool {
    message == format!("{PREFIX}the answer is not UTF-8")
        || PROBLEMS
            .iter()
            .any(|p| message == format!("{PREFIX}the wiki's token answer is not usable: {p}"))
}

fuzz_target!(|data: &[u8]| {
    let result = initiate_answer(data);
    let Ok(body) = std::str::from_utf8(data) else {
        assert!(result.is_err());
        return;
    };
    let trimmed = body.trim();
    let pairs: Vec<(String, String)> = url::form_urlencoded::parse(trimmed.as_bytes())
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect();
    let first = |name: &str| {
        pairs
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    };
    match result {
        Ok(key) => {
            assert!(safe_token(&key), "{key:?}");
            assert_eq!(Some(key.as_str()), first("oauth_token"));
            assert!(first("oauth_token_secret").is_some_and(safe_token));
        }
        // `Error: …` is the wiki's own message, quoted on purpose (it names
        // e.g. E009); anything else is a token answer and is never quoted.
        Err(_) if trimmed.starts_with("Error:") => {}
        Err(message) if quotes_nothing(&message) => {}
        Err(message) => {
            for (k, secret) in &pairs {
                if k == "oauth_token_secret"
                    && !secret.is_empty()
                    && !VOCABULARY.contains(secret.as_str())
                {
                    assert!(
                        !message.contains(secret.as_str()),
                        "the error quotes the secret {secret:?}: {message}"
                    );
                }
            }
        }
    }
});
