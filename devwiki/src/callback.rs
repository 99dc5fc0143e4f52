//! `MWOAuthServer::checkCallback`: which `oauth_callback` values a consumer
//! may send to `Special:OAuth/initiate`.

/// Why a callback was refused: the message key of the real error.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum CallbackError {
    /// `mwoauth-callback-not-oob`
    NotOob,
    /// `mwoauth-callback-not-oob-or-prefix`
    NotOobOrPrefix,
}

/// The parts of a URL, like PHP `parse_url` / `wfParseUrl`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct UrlParts {
    pub scheme: String,
    pub user: Option<String>,
    pub pass: Option<String>,
    pub host: Option<String>,
    pub port: Option<u32>,
    pub path: Option<String>,
    pub query: Option<String>,
}

/// Parses an absolute URL (any scheme). `None` where `wfParseUrl` is false.
pub(crate) fn parse_url(url: &str) -> Option<UrlParts> {
    let colon = url.find(':')?;
    let scheme = &url[..colon];
    let mut chars = scheme.chars();
    let first = chars.next()?;
    if !first.is_ascii_alphabetic()
        || !chars.all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.'))
    {
        return None;
    }
    let mut parts = UrlParts {
        scheme: scheme.to_string(),
        ..UrlParts::default()
    };
    let mut rest = &url[colon + 1..];
    if let Some(p) = rest.find('#') {
        rest = &rest[..p];
    }
    if let Some(p) = rest.find('?') {
        parts.query = Some(rest[p + 1..].to_string());
        rest = &rest[..p];
    }
    if let Some(after) = rest.strip_prefix("//") {
        let end = after.find('/').unwrap_or(after.len());
        let authority = &after[..end];
        let path = &after[end..];
        let hostport = match authority.rfind('@') {
            Some(at) => {
                let userinfo = &authority[..at];
                match userinfo.find(':') {
                    Some(c) => {
                        parts.user = Some(userinfo[..c].to_string());
                        parts.pass = Some(userinfo[c + 1..].to_string());
                    }
                    None => parts.user = Some(userinfo.to_string()),
                }
                &authority[at + 1..]
            }
            None => authority,
        };
        let (host, port) = if hostport.starts_with('[') {
            match hostport.find(']') {
                Some(e) => (&hostport[..=e], hostport[e + 1..].strip_prefix(':')),
                None => return None,
            }
        } else {
            match hostport.rfind(':') {
                Some(c) => (&hostport[..c], Some(&hostport[c + 1..])),
                None => (hostport, None),
            }
        };
        if host.is_empty() {
            return None;
        }
        parts.host = Some(host.to_string());
        if let Some(port) = port.filter(|p| !p.is_empty()) {
            if !port.bytes().all(|b| b.is_ascii_digit()) || port.len() > 5 {
                return None;
            }
            let n: u32 = port.parse().ok()?;
            if n > 65535 {
                return None;
            }
            parts.port = Some(n);
        }
        if !path.is_empty() {
            parts.path = Some(path.to_string());
        }
    } else if !rest.is_empty() {
        parts.path = Some(rest.to_string());
    }
    Some(parts)
}

/// Checks `oauth_callback` against a consumer's registration.
pub(crate) fn check_callback(
    registered: &str,
    is_prefix: bool,
    supplied: Option<&str>,
) -> Result<(), CallbackError> {
    if !is_prefix {
        return if supplied == Some("oob") {
            Ok(())
        } else {
            Err(CallbackError::NotOob)
        };
    }
    let supplied = match supplied {
        Some(s) if !s.is_empty() && s != "0" => s,
        _ => return Err(CallbackError::NotOobOrPrefix),
    };
    if supplied == "oob" {
        return Ok(());
    }
    let got = parse_url(supplied).ok_or(CallbackError::NotOobOrPrefix)?;
    if got.user.is_some() || got.pass.is_some() {
        return Err(CallbackError::NotOobOrPrefix);
    }
    let known = parse_url(registered).ok_or(CallbackError::NotOobOrPrefix)?;
    let scheme_ok = if known.scheme == "http" {
        got.scheme == "http" || got.scheme == "https"
    } else {
        known.scheme == got.scheme
    };
    let port_ok = known.port == Some(1) || known.port == got.port;
    let exact_path = known.query.is_some();
    let ok = scheme_ok
        && known.host == got.host
        && port_ok
        && component_matches(known.path.as_deref(), got.path.as_deref(), exact_path)
        && component_matches(known.query.as_deref(), got.query.as_deref(), false);
    if ok {
        Ok(())
    } else {
        Err(CallbackError::NotOobOrPrefix)
    }
}

fn component_matches(expect: Option<&str>, got: Option<&str>, exact: bool) -> bool {
    match (expect, got) {
        (None, _) => true,
        (Some(_), None) => false,
        (Some(e), Some(g)) if exact => e == g,
        (Some(e), Some(g)) => g.as_bytes().starts_with(e.as_bytes()),
    }
}

/// `wfAppendQuery`: appends `query` with `?`, or `&` when there is one.
pub(crate) fn append_query(url: &str, query: &str) -> String {
    let (base, fragment) = match url.find('#') {
        Some(p) => (&url[..p], &url[p..]),
        None => (url, ""),
    };
    let sep = if base.contains('?') { '&' } else { '?' };
    format!("{base}{sep}{query}{fragment}")
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `MWOAuthServerTest::provideCheckCallback`.
    #[test]
    fn extension_test_vectors() {
        let cases: &[(bool, &str, &str, bool)] = &[
            (true, "", "oob", false),
            (false, "https://host", "https://host", false),
            (true, "https://host", "oob", true),
            (true, "http://host", "https://host/path?query", true),
            (true, "https://host:1", "https://host:1234", true),
            (true, "https://host/path", "https://host/path/dir2", true),
            (
                true,
                "https://host/path?query",
                "https://host/path?query&more",
                true,
            ),
            (false, "https://host/", "https://host", true),
            (false, "https://host", "https://host:1234", true),
            (false, "https://host/path?query", "https://host/path", true),
            (
                false,
                "https://host:8000",
                "https://host:8000@evil.com",
                true,
            ),
            (false, "https://host", "https://hosting", true),
        ];
        for (expect, registered, got, is_prefix) in cases {
            let result = check_callback(registered, *is_prefix, Some(got));
            assert_eq!(
                result.is_ok(),
                *expect,
                "{registered} / {got} / prefix={is_prefix}"
            );
        }
    }

    #[test]
    fn error_kinds() {
        assert_eq!(
            check_callback("http://a/cb", false, None),
            Err(CallbackError::NotOob)
        );
        assert_eq!(
            check_callback("http://a/cb", false, Some("OOB")),
            Err(CallbackError::NotOob)
        );
        assert_eq!(
            check_callback("http://a/cb", true, None),
            Err(CallbackError::NotOobOrPrefix)
        );
        assert_eq!(
            check_callback("http://a/cb", true, Some("")),
            Err(CallbackError::NotOobOrPrefix)
        );
        assert_eq!(
            check_callback(
                "http://127.0.0.1:9999/callback",
                true,
                Some("http://evil.example/cb")
            ),
            Err(CallbackError::NotOobOrPrefix)
        );
        assert_eq!(
            check_callback(
                "http://127.0.0.1:9999/callback",
                true,
                Some("http://127.0.0.1:9999/callback/sub?x=1")
            ),
            Ok(())
        );
        assert_eq!(
            check_callback("http://h/cb", true, Some("http://u:p@h/cb")),
            Err(CallbackError::NotOobOrPrefix)
        );
        assert_eq!(
            check_callback("http://h/cb", true, Some("not a url")),
            Err(CallbackError::NotOobOrPrefix)
        );
    }

    #[test]
    fn appending() {
        assert_eq!(append_query("http://a/cb", "x=1"), "http://a/cb?x=1");
        assert_eq!(
            append_query("http://a/cb?y=2", "x=1"),
            "http://a/cb?y=2&x=1"
        );
        assert_eq!(append_query("http://a/cb#f", "x=1"), "http://a/cb?x=1#f");
    }
}
