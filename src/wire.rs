//! HTTP helpers shared by the protocols and the API client, and their one
//! transport failure ([`Failure`]), which maps without loss into both the
//! handshake's [`WikiError`](crate::WikiError) and the API's
//! [`ApiError`](crate::ApiError).

use percent_encoding::{utf8_percent_encode, AsciiSet, NON_ALPHANUMERIC};

/// RFC 3986 unreserved characters stay; everything else is percent-encoded
/// (`+` too: MediaWiki `urldecode`s header values, so it must be `%2B`).
const RFC3986: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~');

/// Percent-encodes per RFC 3986 / RFC 5849 §3.6.
pub(crate) fn encode(s: &str) -> String {
    utf8_percent_encode(s, RFC3986).to_string()
}

/// Joins pairs into `k=v&k=v`, RFC 3986-encoded: a query string or a form body
/// that decodes to exactly what was signed.
pub(crate) fn encode_pairs<'a>(pairs: impl IntoIterator<Item = (&'a str, &'a str)>) -> String {
    let mut out = String::new();
    for (k, v) in pairs {
        if !out.is_empty() {
            out.push('&');
        }
        out.push_str(&encode(k));
        out.push('=');
        out.push_str(&encode(v));
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
            // reqwest's Display names the URL; our URLs carry no secrets.
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

/// The first characters of a body, for error messages.
pub(crate) fn excerpt(body: &str) -> String {
    let mut s: String = body.chars().take(120).collect();
    if s.len() < body.len() {
        s.push('…');
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encodes_like_rfc3986() {
        assert_eq!(encode("a b+c~d-e.f_g/h:i%"), "a%20b%2Bc~d-e.f_g%2Fh%3Ai%25");
        assert_eq!(encode("Zoë"), "Zo%C3%AB");
        assert_eq!(encode("+\\"), "%2B%5C");
        assert_eq!(encode_pairs([("a b", "c&d"), ("e", "")]), "a%20b=c%26d&e=");
    }
}
