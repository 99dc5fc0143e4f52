//! `next=` validation: where a user may be sent after login or logout.
//!
//! Only a path on this site is allowed. Everything else — absolute URLs,
//! scheme-relative `//host`, backslashes (which browsers read as slashes),
//! encoded slashes that decode to `//`, control characters, non-ASCII,
//! overlong values — falls back to the configured default.

/// The longest `next` accepted, in bytes.
pub(crate) const MAX_NEXT_LEN: usize = 2048;

/// Whether `s` is a path on this site that is safe to redirect to.
/// (`/tools/page?x=1#top` is; `//evil.example/`, `https://evil.example/`
/// and `/\\evil.example` are not: see the tests.)
pub(crate) fn is_local_path(s: &str) -> bool {
    if s.is_empty() || s.len() > MAX_NEXT_LEN || !s.starts_with('/') {
        return false;
    }
    // Only printable ASCII: no control characters, spaces, DEL or raw non-ASCII.
    if !s.bytes().all(|b| b.is_ascii_graphic()) || s.contains('\\') {
        return false;
    }
    // Decoded once (as a browser or proxy might), it must still be a plain path.
    let decoded: Vec<u8> = percent_encoding::percent_decode_str(s).collect();
    let second = decoded.get(1).copied();
    if matches!(second, Some(b'/') | Some(b'\\')) {
        return false;
    }
    if decoded.iter().any(|&b| b.is_ascii_control() || b == b'\\') {
        return false;
    }
    // The path (raw, and decoded once) is already normal: no empty segment
    // (`//` anywhere) and no dot segment. `/..//evil.example` would land on
    // `//evil.example` after one normalisation by a browser, proxy or app.
    let path = &s[..s.find(['?', '#']).unwrap_or(s.len())];
    let decoded_path: Vec<u8> = percent_encoding::percent_decode_str(path).collect();
    for p in [path.as_bytes(), decoded_path.as_slice()] {
        let mut segments = p.split(|&b| b == b'/').skip(1).peekable();
        while let Some(segment) = segments.next() {
            let last = segments.peek().is_none();
            if (segment.is_empty() && !last) || segment == b"." || segment == b".." {
                return false;
            }
        }
    }
    rocket::http::uri::Reference::parse(s)
        .is_ok_and(|r| r.scheme().is_none() && r.authority().is_none())
}

/// `next` if it is a safe local path, else `default`.
pub(crate) fn safe_next(next: Option<&str>, default: &str) -> String {
    match next {
        Some(n) if is_local_path(n) => n.to_string(),
        _ => default.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_examples_of_the_docs() {
        assert!(is_local_path("/tools/page?x=1#top"));
        assert!(!is_local_path("//evil.example/"));
        assert!(!is_local_path("https://evil.example/"));
        assert!(!is_local_path("/\\evil.example"));
        assert_eq!(safe_next(Some("/edit?page=Main"), "/"), "/edit?page=Main");
        assert_eq!(safe_next(Some("javascript:alert(1)"), "/"), "/");
        assert_eq!(safe_next(None, "/home"), "/home");
    }

    #[test]
    fn accepts_plain_paths() {
        for ok in [
            "/",
            "/a",
            "/a/b?c=d&e=%2F",
            "/a#frag",
            "/wiki/Zo%C3%AB",
            "/?next=//x",
            "/a/",
            "/a.b/..c/.d?x=/../#/./",
        ] {
            assert!(is_local_path(ok), "{ok}");
        }
    }

    #[test]
    fn rejects_hostile_values() {
        let long = format!("/{}", "a".repeat(MAX_NEXT_LEN));
        for bad in [
            "",
            "a",
            "http://evil.example",
            "https://evil.example/x",
            "//evil.example",
            "///evil.example",
            "/\\evil.example",
            "\\\\evil.example",
            "/%2F/evil.example",
            "/%2fevil.example",
            "/%5Cevil.example",
            "/%5cevil.example",
            "javascript:alert(1)",
            "JaVaScRiPt:alert(1)",
            "data:text/html,x",
            " /x",
            "/x y",
            "/\tevil",
            "/\r\nSet-Cookie:x=1",
            "/%0d%0aSet-Cookie:x=1",
            "/%00",
            "/\u{7f}",
            "/ünïcode",
            "\u{2215}\u{2215}evil.example",
            long.as_str(),
            // Dot segments and empty segments (F14, issue 22).
            "/..//evil.example",
            "/.//evil.example",
            "/a/..//evil.example",
            "/a//evil.example",
            "/%2e%2e//evil.example",
            "/.%2E//evil.example",
            "/..%2F/evil.example",
            "/..",
            "/a/.",
            "/./a",
            "/a/%2e/b",
            "/%2F%2Fevil.example",
        ] {
            assert!(!is_local_path(bad), "{bad:?}");
            assert_eq!(safe_next(Some(bad), "/home"), "/home");
        }
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(20_000))]

        /// Whatever is accepted resolves, as a browser would, to this site.
        #[test]
        fn accepted_values_stay_on_the_site(s in "\\PC{0,40}|[/\\\\%:a-z0-9.@?#]{0,24}") {
            if is_local_path(&s) {
                let base = url::Url::parse("https://tool.example/app/page").unwrap();
                let joined = base.join(&s).unwrap();
                proptest::prop_assert_eq!(joined.host_str(), Some("tool.example"));
                proptest::prop_assert_eq!(joined.scheme(), "https");
            }
        }
    }
}
