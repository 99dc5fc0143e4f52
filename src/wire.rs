//! HTTP helpers shared by the protocols and the API client, and their one
//! transport failure ([`Failure`]), which maps without loss into both the
//! handshake's [`WikiError`](crate::WikiError) and the API's
//! [`ApiError`](crate::ApiError).

/// Percent-encodes per RFC 3986 / RFC 5849 §3.6: unreserved characters
/// stay, everything else is percent-encoded (`+` too: MediaWiki
/// `urldecode`s header values, so it must be `%2B`).
pub(crate) fn encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + s.len() / 2);
    encode_into(&mut out, s);
    out
}

/// [`encode`], borrowing `s` when it needs no encoding (most API
/// parameters: `action`, `query`, hex tokens).
pub(crate) fn encoded(s: &str) -> std::borrow::Cow<'_, str> {
    if s.bytes().all(unreserved) {
        std::borrow::Cow::Borrowed(s)
    } else {
        std::borrow::Cow::Owned(encode(s))
    }
}

/// RFC 3986's unreserved characters.
fn unreserved(b: u8) -> bool {
    b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~')
}

/// [`encode`], appended to `out`: runs of unreserved characters copied at
/// once, every other byte as `%XX` (upper-case hex). Every API call encodes
/// each of its parameters (twice with OAuth 1.0a), so this is a loop over
/// bytes rather than `percent_encoding`'s `Display`.
pub(crate) fn encode_into(out: &mut String, s: &str) {
    const HEX: &[u8; 16] = b"0123456789ABCDEF";
    let mut run = 0;
    for (i, &b) in s.as_bytes().iter().enumerate() {
        if unreserved(b) {
            continue;
        }
        // `run..i` holds only ASCII, so both ends are character boundaries.
        if run < i {
            out.push_str(&s[run..i]);
        }
        out.push('%');
        out.push(char::from(HEX[usize::from(b >> 4)]));
        out.push(char::from(HEX[usize::from(b & 15)]));
        run = i + 1;
    }
    if run < s.len() {
        out.push_str(&s[run..]);
    }
}

/// Joins pairs into `k=v&k=v`, RFC 3986-encoded: a query string or a form body
/// that decodes to exactly what was signed.
pub(crate) fn encode_pairs<'a>(pairs: impl IntoIterator<Item = (&'a str, &'a str)>) -> String {
    let mut out = String::new();
    for (k, v) in pairs {
        if !out.is_empty() {
            out.push('&');
        }
        encode_into(&mut out, k);
        out.push('=');
        encode_into(&mut out, v);
    }
    out
}

/// Why an answer could not be had from the wiki, before any protocol reads it.
#[derive(Debug)]
pub(crate) enum Failure {
    /// The wiki did not answer in time.
    Timeout,
    /// The wiki could not be reached, or the answer not read.
    Unreachable(String),
    /// The answer is larger than the limit.
    TooLarge { limit: usize },
    /// The answer is not UTF-8.
    NotUtf8,
}

impl From<reqwest::Error> for Failure {
    fn from(e: reqwest::Error) -> Self {
        if e.is_timeout() {
            Failure::Timeout
        } else {
            // reqwest's Display names the URL: the wiki's address inside the
            // operator's network is for the log (without the query, which
            // may carry a request's parameters), not for the visitor's page.
            let at = e.url().map(|u| {
                let mut u = u.clone();
                u.set_query(None);
                format!(" at {u}")
            });
            let e = e.without_url();
            log::warn!(
                "MediaWiki OAuth: the wiki could not be reached{}: {e}",
                at.unwrap_or_default()
            );
            Failure::Unreachable(e.to_string())
        }
    }
}

/// Reads a response body, refusing more than `limit` bytes.
pub(crate) async fn read_limited(
    mut response: reqwest::Response,
    limit: usize,
) -> Result<String, Failure> {
    let too_large = || Failure::TooLarge { limit };
    let body: Vec<u8> = match response.content_length() {
        // Announced and small enough: one read, no copy.
        Some(n) if n <= limit as u64 => {
            let bytes = response.bytes().await?;
            if bytes.len() > limit {
                return Err(too_large());
            }
            Vec::from(bytes)
        }
        Some(_) => return Err(too_large()),
        None => {
            let mut body = Vec::new();
            while let Some(chunk) = response.chunk().await? {
                if body.len() + chunk.len() > limit {
                    return Err(too_large());
                }
                body.extend_from_slice(&chunk);
            }
            body
        }
    };
    String::from_utf8(body).map_err(|_| Failure::NotUtf8)
}

/// The first characters of a body, for error messages (secrets the wiki
/// or a proxy echoed masked, [`scrub`]).
pub(crate) fn excerpt(body: &str) -> String {
    let mut s: String = body.chars().take(120).collect();
    if s.len() < body.len() {
        s.push('…');
    }
    scrub(&s)
}

/// What stands in for a secret in a text that is shown or logged.
pub(crate) const REDACTED: &str = "[redacted]";

/// Names after which a wiki's or proxy's echo of a request carries a secret
/// (a form field, a JSON key, a header), in lower case.
const SECRET_NAMES: [&str; 12] = [
    "client_secret",
    "code_verifier",
    "refresh_token",
    "access_token",
    "oauth_signature",
    "oauth_verifier",
    "oauth_token_secret",
    "consumer_secret",
    "bearer",
    "code",
    "oauth_token",
    "token",
];

/// A text from the wiki (or a proxy in front of it) made safe to show and
/// log: every occurrence of one of `secrets` (the values the request sent:
/// the client secret, the PKCE verifier, the code, tokens) and every value
/// after a secret's name (`client_secret=…`, `"refresh_token": "…"`,
/// `Bearer …`) is replaced by `[redacted]`. Linear in the text's length.
pub(crate) fn redact(text: &str, secrets: &[&str]) -> String {
    let mut out = text.to_string();
    for secret in secrets.iter().filter(|s| s.len() >= 4) {
        if out.contains(secret) {
            out = out.replace(secret, REDACTED);
        }
        // Echoed percent-encoded too (a form body).
        let encoded = encode(secret);
        if encoded != *secret && out.contains(&encoded) {
            out = out.replace(&encoded, REDACTED);
        }
    }
    scrub(&out)
}

/// Masks the value after every secret's name ([`SECRET_NAMES`]) in `text`.
pub(crate) fn scrub(text: &str) -> String {
    let lower = text.to_ascii_lowercase();
    let bytes = text.as_bytes();
    let mut out = String::with_capacity(text.len());
    let mut copied = 0;
    let mut i = 0;
    while i < bytes.len() {
        let name = SECRET_NAMES.iter().find(|n| {
            lower.as_bytes()[i..].starts_with(n.as_bytes())
                // A whole word: `code` but not `encode` or `code_challenge`.
                && (i == 0 || !is_name_byte(bytes[i - 1]))
                && bytes.get(i + n.len()).is_none_or(|b| !is_name_byte(*b))
        });
        let Some(name) = name else {
            i += 1;
            continue;
        };
        let after = i + name.len();
        let mut j = after;
        let skip = |j: &mut usize, set: &[u8]| {
            while *j < bytes.len() && set.contains(&bytes[*j]) && *j - after < 8 {
                *j += 1;
            }
        };
        if *name == "bearer" {
            // `Bearer <token>`: at least one space.
            skip(&mut j, b" \t");
        } else {
            // `name=…`, `name: …`, `"name": "…"`.
            skip(&mut j, b"\"' \t");
            if j < bytes.len() && b"=:".contains(&bytes[j]) {
                j += 1;
                skip(&mut j, b"\"' \t");
            } else {
                j = after;
            }
        }
        let start = j;
        while j < bytes.len() && is_value_byte(bytes[j]) {
            j += 1;
        }
        if start > after && j > start {
            out.push_str(&text[copied..start]);
            out.push_str(REDACTED);
            copied = j;
        }
        i = j.max(i + 1);
    }
    out.push_str(&text[copied..]);
    out
}

fn is_name_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'_'
}

/// Bytes of a token, a secret or their percent-encoding.
fn is_value_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"-._~+/=%".contains(&b)
}

#[cfg(test)]
mod tests {
    proptest::proptest! {
        /// The byte loop encodes as `percent_encoding` with RFC 3986's
        /// unreserved set does.
        #[test]
        fn encodes_as_percent_encoding_does(s in "\\PC{0,40}|[ -~]{0,40}") {
            use percent_encoding::{utf8_percent_encode, AsciiSet, NON_ALPHANUMERIC};
            const RFC3986: &AsciiSet = &NON_ALPHANUMERIC
                .remove(b'-')
                .remove(b'.')
                .remove(b'_')
                .remove(b'~');
            proptest::prop_assert_eq!(encode(&s), utf8_percent_encode(&s, RFC3986).to_string());
        }
    }

    use super::*;

    #[test]
    fn encodes_like_rfc3986() {
        assert_eq!(encode("a b+c~d-e.f_g/h:i%"), "a%20b%2Bc~d-e.f_g%2Fh%3Ai%25");
        assert_eq!(encode("Zoë"), "Zo%C3%AB");
        assert_eq!(encode("+\\"), "%2B%5C");
        assert_eq!(encode_pairs([("a b", "c&d"), ("e", "")]), "a%20b=c%26d&e=");
    }

    #[test]
    fn echoed_secrets_are_masked() {
        let echo = "Bad request: grant_type=refresh_token&refresh_token=r3fr3sh&client_id=app\
                    &client_secret=s%2Bcret&code_verifier=v-e_r.i~f; header Authorization: Bearer \
                    eyJ0.abc; {\"code\": \"c0de\", \"access_token\":\"at\"}";
        let shown = scrub(echo);
        for secret in [
            "r3fr3sh",
            "s%2Bcret",
            "v-e_r.i~f",
            "eyJ0.abc",
            "c0de",
            "\"at\"",
        ] {
            assert!(!shown.contains(secret), "{secret} in {shown}");
        }
        assert!(shown.contains("grant_type=refresh_token"), "{shown}");
        assert!(shown.contains("client_id=app"), "{shown}");
        // Known values go wherever they are, encoded or not.
        let shown = redact(
            "you sent XyZ-secret+1 and XyZ-secret%2B1!",
            &["XyZ-secret+1"],
        );
        assert_eq!(shown, "you sent [redacted] and [redacted]!");
        // Words that merely contain a name stay.
        assert_eq!(
            scrub("encode the code_challenge"),
            "encode the code_challenge"
        );
        assert_eq!(scrub("no token here"), "no token here");
    }
}
