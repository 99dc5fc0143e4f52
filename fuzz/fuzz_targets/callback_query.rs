//! The callback's query: an accepted callback (and a refused one that names
//! its login) carries a login key that is safe in a cookie name, and it is
//! the one `oauth_token` (OAuth 1.0a) or `state` (OAuth 2.0) of the query.
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
    // An OAuth 2.0 callback (any `code`, `state` or `error`) names its login
    // by `state` and carries a `code`; an OAuth 1.0a one by `oauth_token`,
    // with an `oauth_verifier`.
    let oauth2 = ["code", "state", "error"]
        .iter()
        .any(|name| !values(query, name).is_empty());
    let (key_name, proof_name) = if oauth2 {
        ("state", "code")
    } else {
        ("oauth_token", "oauth_verifier")
    };
    let tokens = values(query, key_name);
    let proofs = values(query, proof_name);
    match read_callback(Some(query)) {
        Ok(key) => {
            assert!(safe_key(&key), "{key:?}");
            assert_eq!(tokens, [key.clone()], "{query:?}");
            assert_eq!(proofs.len(), 1, "{query:?}");
            if !oauth2 {
                assert!(safe_key(&proofs[0]), "{query:?}");
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
