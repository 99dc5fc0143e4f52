//! The callback's query: an accepted callback (and a refused one that names
//! its login) carries a login key that is safe in a cookie name, and it is
//! the one `oauth_token` of the query (OAuth 1.0a) or its one `state`
//! (OAuth 2.0: a query with `code`, `state` or `error`).
#![no_main]

use libfuzzer_sys::fuzz_target;
use rocket_mediawiki_oauth::fuzzing::read_callback;

fn safe_key(key: &str) -> bool {
    !key.is_empty()
        && key.len() <= 128
        && key
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-._~".contains(&b))
}

/// The values of `name` in the query, decoded.
fn values(query: &str, name: &str) -> Vec<String> {
    url::form_urlencoded::parse(query.as_bytes())
        .filter(|(k, _)| k == name)
        .map(|(_, v)| v.into_owned())
        .collect()
}

fuzz_target!(|data: &[u8]| {
    let Ok(query) = std::str::from_utf8(data) else {
        return;
    };
    let oauth2 = url::form_urlencoded::parse(query.as_bytes())
        .any(|(k, _)| matches!(k.as_ref(), "code" | "state" | "error"));
    let (tokens, verifiers) = if oauth2 {
        (values(query, "state"), values(query, "code"))
    } else {
        (values(query, "oauth_token"), values(query, "oauth_verifier"))
    };
    match read_callback(Some(query)) {
        Ok(key) => {
            assert!(safe_key(&key), "{key:?}");
            assert_eq!(tokens, [key.clone()], "{query:?}");
            assert_eq!(verifiers.len(), 1, "{query:?}");
            if oauth2 {
                // A code: printable ASCII, not empty.
                assert!(
                    !verifiers[0].is_empty() && verifiers[0].bytes().all(|b| b.is_ascii_graphic()),
                    "{query:?}"
                );
                assert!(values(query, "error").is_empty(), "{query:?}");
            } else {
                assert!(safe_key(&verifiers[0]), "{query:?}");
            }
        }
        Err(Some(key)) => {
            assert!(safe_key(&key), "{key:?}");
            assert_eq!(tokens, [key.clone()], "{query:?}");
        }
        Err(None) => {}
    }
    assert!(read_callback(None).is_err());
});
