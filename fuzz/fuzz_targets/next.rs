//! `next=` validation: whatever is accepted stays on this site, and is a
//! normal path (no dot or empty segments).
#![no_main]

use libfuzzer_sys::fuzz_target;
use rocket_mediawiki_oauth::fuzzing::{is_local_path, safe_next, MAX_NEXT_LEN};

const DEFAULT: &str = "/default/after-login";

fuzz_target!(|data: &[u8]| {
    let Ok(next) = std::str::from_utf8(data) else {
        return;
    };
    let accepted = is_local_path(next);
    let chosen = safe_next(Some(next), DEFAULT);
    if accepted {
        assert_eq!(chosen, next);
        assert!(
            next.starts_with('/') && next.len() <= MAX_NEXT_LEN,
            "{next:?}"
        );
        // As a browser resolves a Location header against the page.
        let base = url::Url::parse("https://tool.example/app/page").unwrap();
        let joined = base.join(next).expect("an accepted next resolves");
        assert_eq!(joined.scheme(), "https", "{next:?} -> {joined}");
        assert_eq!(
            joined.host_str(),
            Some("tool.example"),
            "{next:?} -> {joined}"
        );
        assert_eq!(joined.port(), None, "{next:?} -> {joined}");
        assert!(
            joined.username().is_empty() && joined.password().is_none(),
            "{next:?} -> {joined}"
        );
        // Already normal: resolving removes no dot segment and the path
        // never starts with `//` (one normalisation from another host).
        let path = &next[..next.find(['?', '#']).unwrap_or(next.len())];
        assert!(!joined.path().starts_with("//"), "{next:?} -> {joined}");
        assert_eq!(
            joined.path().split('/').count(),
            path.split('/').count(),
            "{next:?} -> {joined}"
        );
    } else {
        assert_eq!(chosen, DEFAULT, "{next:?}");
    }
    assert_eq!(safe_next(None, DEFAULT), DEFAULT);
});
