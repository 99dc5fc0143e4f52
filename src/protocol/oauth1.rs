//! OAuth 1.0a as MediaWiki speaks it: request signing (HMAC-SHA1 with the
//! `oauth1-request` crate), `Special:OAuth/initiate`, `/token` and `/identify`,
//! and the parsing of their `raw`/JSON answers (errors are HTTP 200 there).

use std::borrow::Cow;
use std::collections::HashMap;
use std::fmt;
use std::sync::Mutex;

use hmac::digest::KeyInit;
use hmac::{Hmac, Mac};
use sha1::Sha1;

use oauth::serializer::{Serializer, SerializerExt};
use oauth1_request as oauth;
use serde::{Deserialize, Serialize};

use super::error::{RequestError, WikiError};
use super::identity;
use super::wiki::Wiki;
use crate::compact::{Reader, Writer};
use crate::user::VerifiedMwUser;
use crate::wire::{self, encode_pairs};

/// The largest `Special:OAuth` answer read: 256 KiB. Real ones are 120–134
/// bytes (tokens, observed-1.43.md captures 1 and 4), error texts under
/// 400 bytes, an identify JWT 1,285 bytes for a plain user on 1.43 (the JWT
/// itself is then held to `identity::MAX_JWT_LEN`).
const MAX_ANSWER: usize = 256 * 1024;

/// A key and its secret (consumer, request token or access token).
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct TokenPair {
    /// The public half.
    #[serde(rename = "k")]
    pub key: String,
    /// The secret half; `Debug` prints `[redacted]`.
    #[serde(rename = "s")]
    pub secret: String,
}

impl TokenPair {
    /// The pair in the session cookie's compact layout (MediaWiki's tokens
    /// are 32 hex characters: 16 bytes each).
    pub(super) fn write_compact(&self, w: &mut Writer) {
        w.text(&self.key);
        w.text(&self.secret);
    }

    pub(super) fn read_compact(r: &mut Reader<'_>) -> Option<TokenPair> {
        Some(TokenPair {
            key: r.text()?,
            secret: r.text()?,
        })
    }
}

impl fmt::Debug for TokenPair {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TokenPair")
            .field("key", &self.key)
            .field("secret", &"[redacted]")
            .finish()
    }
}

/// The non-OAuth parameters of a request, encoded and sorted as RFC 5849
/// §3.4.1.3.2 says (by encoded name, then encoded value), fed to
/// `oauth1-request`'s serializer with the `oauth_*` block in its place.
struct SortedParams<'a>(Vec<(Cow<'a, str>, Cow<'a, str>)>);

impl<'a> SortedParams<'a> {
    fn new(params: impl IntoIterator<Item = (&'a str, &'a str)>) -> Result<Self, RequestError> {
        let mut list = Vec::new();
        for (k, v) in params {
            if k.starts_with("oauth_") {
                return Err(RequestError(format!(
                    "parameter {k:?} is reserved for OAuth and cannot be sent by the application"
                )));
            }
            list.push((wire::encoded(k), wire::encoded(v)));
        }
        list.sort();
        Ok(SortedParams(list))
    }

    /// Where the `oauth_*` block goes among the sorted parameters: no
    /// application parameter starts with `oauth_`, so every name greater
    /// than "oauth_" sorts after the whole block, every other before it.
    fn oauth_position(&self) -> usize {
        self.0.partition_point(|(k, _)| &**k < "oauth_")
    }
}

impl oauth::Request for SortedParams<'_> {
    fn serialize<S: Serializer>(&self, mut serializer: S) -> S::Output {
        let (before, after) = self.0.split_at(self.oauth_position());
        for (k, v) in before {
            serializer.serialize_parameter_encoded(k, v);
        }
        serializer.serialize_oauth_parameters();
        for (k, v) in after {
            serializer.serialize_parameter_encoded(k, v);
        }
        serializer.end()
    }
}

/// A fresh random nonce: 32 hex characters.
fn new_nonce() -> String {
    use rand::Rng;
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let bytes: [u8; 16] = rand::thread_rng().gen();
    let mut out = String::with_capacity(32);
    for b in bytes {
        out.push(HEX[usize::from(b >> 4)] as char);
        out.push(HEX[usize::from(b & 15)] as char);
    }
    out
}

/// What goes into one signature besides the request itself.
#[derive(Clone, Copy)]
struct Signer<'a> {
    /// The consumer (application) credentials.
    pub consumer: &'a TokenPair,
    /// The token credentials (request or access token), if any.
    pub token: Option<&'a TokenPair>,
    /// `oauth_callback` (initiate only).
    pub callback: Option<&'a str>,
    /// `oauth_verifier` (token exchange only).
    pub verifier: Option<&'a str>,
    /// `oauth_nonce`.
    pub nonce: &'a str,
    /// `oauth_timestamp`; `None` for now (tests pin it).
    pub timestamp: Option<u64>,
}

impl<'a> Signer<'a> {
    /// A request signed with an access token (identify, api.php).
    fn access(consumer: &'a TokenPair, access: &'a TokenPair, nonce: &'a str) -> Signer<'a> {
        Signer {
            consumer,
            token: Some(access),
            callback: None,
            verifier: None,
            nonce,
            timestamp: None,
        }
    }
}

/// The `Authorization: OAuth …` header value for a request.
///
/// `url` is the request URL without its query; `params` are every query and
/// `application/x-www-form-urlencoded` body parameter, decoded (multipart
/// bodies are not signed: pass only the query then).
fn authorization_header<'a>(
    signer: Signer<'_>,
    method: &str,
    url: &str,
    params: impl IntoIterator<Item = (&'a str, &'a str)>,
) -> Result<String, RequestError> {
    let key = KeyedHmacSha1::new(
        &signer.consumer.secret,
        signer.token.map(|t| t.secret.as_str()),
    );
    authorization_header_with(signer, key, method, url, params)
}

/// [`authorization_header`] with a MAC keyed beforehand (the signer's
/// secrets are in `key`).
fn authorization_header_with<'a>(
    signer: Signer<'_>,
    key: KeyedHmacSha1,
    method: &str,
    url: &str,
    params: impl IntoIterator<Item = (&'a str, &'a str)>,
) -> Result<String, RequestError> {
    let params = SortedParams::new(params)?;
    let client = oauth::Credentials::new(signer.consumer.key.as_str(), "");
    let mut builder = oauth::Builder::<_, _>::new(client, key);
    if let Some(t) = signer.token {
        builder.token(oauth::Credentials::new(t.key.as_str(), ""));
    }
    builder
        .callback(signer.callback)
        .verifier(signer.verifier)
        .nonce(signer.nonce)
        .timestamp(signer.timestamp.and_then(std::num::NonZeroU64::new))
        .version(true);
    Ok(builder.authorize(method, normalize_url(url)?, &params))
}

/// The base string URI of RFC 5849 §3.4.1.2: lower-case scheme and host, no
/// default port, no query or fragment.
pub(super) fn normalize_url(url: &str) -> Result<String, RequestError> {
    if already_normal(url) {
        return Ok(url.to_string());
    }
    let mut u = url::Url::parse(url).map_err(|e| RequestError(format!("bad URL {url:?}: {e}")))?;
    u.set_query(None);
    u.set_fragment(None);
    Ok(u.to_string())
}

/// Whether `url` is its own base string URI already, as the usual API URLs
/// (`https://host/w/api.php`, `http://127.0.0.1:8080/w/api.php`) are: then
/// signing skips the URL parse, which was a sixth of the signing's cost.
/// Only plain characters, a lower-case host, a port (if any) that is not the
/// scheme's default and has no leading zero, a path without dot segments.
fn already_normal(url: &str) -> bool {
    let (rest, default_port) = match url.strip_prefix("https://") {
        Some(rest) => (rest, "443"),
        None => match url.strip_prefix("http://") {
            Some(rest) => (rest, "80"),
            None => return false,
        },
    };
    let Some(path_start) = rest.find('/') else {
        return false;
    };
    let (authority, path) = rest.split_at(path_start);
    let (host, port) = match authority.split_once(':') {
        Some((host, port)) => (host, Some(port)),
        None => (authority, None),
    };
    let plain_host = plain_host(host);
    let plain_port = port.is_none_or(|p| {
        (1..=5).contains(&p.len())
            && p.bytes().all(|b| b.is_ascii_digit())
            && !p.starts_with('0')
            && p.parse::<u16>().is_ok()
            && p != default_port
    });
    plain_host
        && plain_port
        && path
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"/._~-".contains(&b))
        && !path.split('/').any(|seg| seg == "." || seg == "..")
}

/// A host name the URL parser leaves as it is: lower-case letters, digits
/// and hyphens in non-empty labels, no punycode; a host whose last label
/// starts with a digit only as a canonical IPv4 address (the parser reads
/// `127.1` or `0x7f.1` as IPv4 and rewrites it).
fn plain_host(host: &str) -> bool {
    let labels_ok = !host.is_empty()
        && host.split('.').all(|label| {
            !label.is_empty()
                && !label.starts_with("xn--")
                && label
                    .bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        });
    let numeric_end = host
        .rsplit('.')
        .next()
        .is_some_and(|last| last.starts_with(|c: char| c.is_ascii_digit()));
    labels_ok && (!numeric_end || canonical_ipv4(host))
}

/// `a.b.c.d`, each 0–255 in decimal without a leading zero.
fn canonical_ipv4(host: &str) -> bool {
    let parts: Vec<&str> = host.split('.').collect();
    parts.len() == 4
        && parts.iter().all(|p| {
            !p.is_empty()
                && p.bytes().all(|b| b.is_ascii_digit())
                && (p.len() == 1 || !p.starts_with('0'))
                && p.parse::<u8>().is_ok()
        })
}

/// Builds and sends a signed request to `Special:OAuth/<sub>` and returns the
/// body of a 200 answer.
async fn special_oauth(p: &Wiki, sub: &str, signer: Signer<'_>) -> Result<String, WikiError> {
    let index = &p.index_url;
    let title = format!("Special:OAuth/{sub}");
    let header = authorization_header(signer, "GET", index, [("title", title.as_str())])
        .map_err(|e| WikiError::BadRequest(e.0))?;
    let url = format!("{index}?{}", encode_pairs([("title", title.as_str())]));
    let response = p
        .http
        .get(url)
        .header(reqwest::header::AUTHORIZATION, header)
        .send()
        .await?;
    let status = response.status();
    if !status.is_success() {
        return Err(WikiError::Status(status.as_u16()));
    }
    Ok(wire::read_limited(response, MAX_ANSWER).await?)
}

/// Parses `oauth_token=…&oauth_token_secret=…` or answers `Error: …`.
fn parse_token_answer(body: &str) -> Result<TokenPair, WikiError> {
    let body = body.trim();
    if let Some(message) = body.strip_prefix("Error:") {
        return Err(WikiError::Refused {
            key: None,
            message: super::error::clean_wiki_message(message),
        });
    }
    let mut key = None;
    let mut secret = None;
    for (k, v) in url::form_urlencoded::parse(body.as_bytes()) {
        match k.as_ref() {
            "oauth_token" if key.is_none() => key = Some(v.into_owned()),
            "oauth_token_secret" if secret.is_none() => secret = Some(v.into_owned()),
            _ => {}
        }
    }
    let problem = match (&key, &secret) {
        (Some(k), Some(s)) if valid_token(k) && valid_token(s) => {
            return Ok(TokenPair {
                key: key.unwrap_or_default(),
                secret: secret.unwrap_or_default(),
            })
        }
        _ if body.starts_with('<') => "an HTML page instead of a token answer",
        (None, _) => "oauth_token is missing",
        (Some(k), _) if !valid_token(k) => "oauth_token is malformed",
        (_, None) => "oauth_token_secret is missing",
        _ => "oauth_token_secret is malformed",
    };
    // Never quote the answer: it may hold a token secret.
    Err(WikiError::Unexpected(format!(
        "the wiki's token answer is not usable: {problem}"
    )))
}

/// Tokens are hex on MediaWiki; accept any short run of safe characters.
pub(super) fn valid_token(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 128
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-._~".contains(&b))
}

/// Step 1: asks the wiki for a request token.
pub(super) async fn initiate(p: &Wiki, consumer: &TokenPair) -> Result<TokenPair, WikiError> {
    let nonce = new_nonce();
    let signer = Signer {
        consumer,
        token: None,
        callback: Some(p.callback.as_str()),
        verifier: None,
        nonce: &nonce,
        timestamp: None,
    };
    parse_token_answer(&special_oauth(p, "initiate", signer).await?)
}

/// The URL of the wiki's authorization dialog for a request token, in
/// `lang` when given (`uselang`, which every MediaWiki page reads).
pub(super) fn authorize_url(
    p: &Wiki,
    consumer: &TokenPair,
    request_token: &TokenPair,
    lang: Option<&str>,
) -> String {
    let mut params = vec![
        ("title", "Special:OAuth/authenticate"),
        ("oauth_token", request_token.key.as_str()),
        ("oauth_consumer_key", consumer.key.as_str()),
    ];
    if let Some(lang) = lang {
        params.push(("uselang", lang));
    }
    format!("{}?{}", p.index_url, encode_pairs(params))
}

/// Step 3: exchanges the authorized request token and verifier for an access token.
pub(super) async fn exchange(
    p: &Wiki,
    consumer: &TokenPair,
    request_token: &TokenPair,
    verifier: &str,
) -> Result<TokenPair, WikiError> {
    let nonce = new_nonce();
    let signer = Signer {
        consumer,
        token: Some(request_token),
        callback: None,
        verifier: Some(verifier),
        nonce: &nonce,
        timestamp: None,
    };
    parse_token_answer(&special_oauth(p, "token", signer).await?)
}

/// Asks the wiki who owns an access token and verifies its JWT answer.
pub(super) async fn identify(
    p: &Wiki,
    consumer: &TokenPair,
    access: &TokenPair,
) -> Result<VerifiedMwUser, WikiError> {
    let nonce = new_nonce();
    let signer = Signer::access(consumer, access, &nonce);
    let body = special_oauth(p, "identify", signer).await?;
    let body = body.trim();
    if body.starts_with('{') {
        // Errors come as {"error": key, "message": text} with HTTP 200.
        let v: serde_json::Value = serde_json::from_str(body).map_err(|_| {
            WikiError::Unexpected("the identify answer is neither a token nor valid JSON".into())
        })?;
        return Err(WikiError::Refused {
            key: v.get("error").and_then(|e| e.as_str()).map(str::to_string),
            message: v
                .get("message")
                .and_then(|e| e.as_str())
                .map(super::error::clean_wiki_message)
                .unwrap_or_else(|| "identify failed".into()),
        });
    }
    let expected = identity::Expected {
        consumer_key: &consumer.key,
        consumer_secret: &consumer.secret,
        issuer_origin: &p.issuer_origin,
        nonce: &nonce,
        now: time::OffsetDateTime::now_utc().unix_timestamp(),
        leeway: p.leeway,
    };
    identity::verify(body, &expected).map_err(WikiError::Identity)
}

/// The `Authorization` header of an API request signed with an access
/// token; `key` is the HMAC-SHA1 state keyed with the consumer's and the
/// token's secrets ([`SigningKeys::key`]), `url` the base string URI
/// ([`normalize_url`]'s, worked out beforehand).
pub(super) fn sign_request<'a>(
    consumer: &TokenPair,
    access: &TokenPair,
    key: KeyedHmacSha1,
    method: &str,
    url: &str,
    params: impl IntoIterator<Item = (&'a str, &'a str)>,
) -> Result<String, RequestError> {
    let timestamp = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    access_header(
        consumer,
        access,
        key,
        method,
        url,
        params,
        &new_nonce(),
        timestamp,
    )
}

/// [`sign_request`] at `timestamp` with `nonce` (`url` normalized): the header
/// [`authorization_header_with`] writes through `oauth1-request` for an
/// access token, written here in one pass (every API call of an OAuth 1.0a
/// user is signed, and `oauth1-request` writes the base string a character
/// at a time through `Display`). A test holds the two to the same output.
#[allow(clippy::too_many_arguments)]
fn access_header<'a>(
    consumer: &TokenPair,
    access: &TokenPair,
    key: KeyedHmacSha1,
    method: &str,
    url: &str,
    params: impl IntoIterator<Item = (&'a str, &'a str)>,
    nonce: &str,
    timestamp: u64,
) -> Result<String, RequestError> {
    use base64::Engine;
    let params = SortedParams::new(params)?;
    let consumer_key = wire::encoded(&consumer.key);
    let token = wire::encoded(&access.key);
    let nonce = wire::encoded(nonce);
    let timestamp = timestamp.to_string();
    let oauth = [
        ("oauth_consumer_key", &*consumer_key),
        ("oauth_nonce", &nonce),
        ("oauth_signature_method", "HMAC-SHA1"),
        ("oauth_timestamp", &timestamp),
        ("oauth_token", &token),
        ("oauth_version", "1.0"),
    ];
    // RFC 5849 §3.4.1: METHOD & enc(URI) & enc(the sorted, encoded
    // parameters), the `oauth_*` block sorted in among the others.
    let mut base = String::with_capacity(512);
    base.push_str(method);
    base.push('&');
    wire::encode_into(&mut base, url);
    base.push('&');
    let (before, after) = params.0.split_at(params.oauth_position());
    let pairs = before
        .iter()
        .map(|(k, v)| (&**k, &**v))
        .chain(oauth)
        .chain(after.iter().map(|(k, v)| (&**k, &**v)));
    for (i, (k, v)) in pairs.enumerate() {
        if i > 0 {
            base.push_str("%26");
        }
        encode_again(&mut base, k);
        base.push_str("%3D");
        encode_again(&mut base, v);
    }
    let mut mac = key.0;
    mac.update(base.as_bytes());
    let signature = wire::encode(
        &base64::engine::general_purpose::STANDARD.encode(mac.finalize().into_bytes()),
    );
    let mut header = String::with_capacity(300);
    header.push_str("OAuth ");
    for (i, (k, v)) in oauth
        .into_iter()
        .chain([("oauth_signature", signature.as_str())])
        .enumerate()
    {
        if i > 0 {
            header.push(',');
        }
        header.push_str(k);
        header.push_str("=\"");
        header.push_str(v);
        header.push('"');
    }
    Ok(header)
}

/// Appends percent-encoded `encoded` percent-encoded again: it holds only
/// unreserved characters and `%XX`, so only `%` changes.
fn encode_again(out: &mut String, encoded: &str) {
    let mut rest = encoded;
    while let Some(i) = rest.find('%') {
        out.push_str(&rest[..i]);
        out.push_str("%25");
        rest = &rest[i + 1..];
    }
    out.push_str(rest);
}

/// HMAC-SHA1 (RFC 5849 §3.4.2) with its key already applied: keying costs
/// two SHA-1 blocks, four when the key (`consumer secret & token secret`,
/// 81 bytes with MediaWiki's 40-character secrets) is longer than a block
/// and is hashed first; a signature of an API request is six to eight
/// blocks in all. The key is the same for every request of one access
/// token, so [`SigningKeys`] keeps the keyed state and each signature
/// starts from a copy of it.
#[derive(Clone)]
pub(super) struct KeyedHmacSha1(Hmac<Sha1>);

impl KeyedHmacSha1 {
    /// Keyed with `consumer_secret&token_secret`, each percent-encoded.
    fn new(consumer_secret: &str, token_secret: Option<&str>) -> KeyedHmacSha1 {
        let key = format!(
            "{}&{}",
            wire::encode(consumer_secret),
            token_secret.map(wire::encode).unwrap_or_default()
        );
        // HMAC takes keys of any length (a long one is hashed first).
        let mac = <Hmac<Sha1> as KeyInit>::new_from_slice(key.as_bytes())
            .unwrap_or_else(|_| unreachable!("HMAC takes keys of any length"));
        KeyedHmacSha1(mac)
    }
}

impl oauth::signature_method::SignatureMethod for KeyedHmacSha1 {
    type Sign = KeyedSign;

    /// The secrets are in the key already.
    fn sign_with(self, _client_secret: &str, _token_secret: Option<&str>) -> KeyedSign {
        KeyedSign(self.0)
    }
}

/// One signature in the making: the base string is fed to the keyed MAC
/// as `oauth1-request` serializes it.
pub(super) struct KeyedSign(Hmac<Sha1>);

/// Feeds what is written to the MAC.
struct MacWriter<'a>(&'a mut Hmac<Sha1>);

impl fmt::Write for MacWriter<'_> {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        self.0.update(s.as_bytes());
        Ok(())
    }
}

impl oauth::signature_method::Sign for KeyedSign {
    type Signature = String;

    fn get_signature_method_name(&self) -> &'static str {
        "HMAC-SHA1"
    }

    fn request_method(&mut self, method: &str) {
        self.0.update(method.as_bytes());
        self.0.update(b"&");
    }

    fn uri<T: fmt::Display>(&mut self, uri: T) {
        use fmt::Write;
        let _ = write!(MacWriter(&mut self.0), "{uri}&");
    }

    fn parameter<V: fmt::Display>(&mut self, key: &str, value: V) {
        use fmt::Write;
        self.0.update(key.as_bytes());
        self.0.update(b"%3D"); // '='
        let _ = write!(MacWriter(&mut self.0), "{value}");
    }

    fn delimiter(&mut self) {
        self.0.update(b"%26"); // '&'
    }

    /// Base64, percent-encoded for the header (`+`, `/`, `=`).
    fn end(self) -> String {
        use base64::Engine;
        let digest = self.0.finalize().into_bytes();
        wire::encode(&base64::engine::general_purpose::STANDARD.encode(digest))
    }
}

/// The keyed HMAC-SHA1 states of recently used access tokens (of one
/// consumer: one per [`Protocol`](super::Protocol)), so that a user's
/// requests do not key the MAC again each time. Bounded: it starts over
/// when full. Entries are found by a keyed hash of the token and its secret,
/// so a token whose secret changed is keyed anew. The states are as secret
/// as the token secrets they were made from: `Debug` shows only a count.
#[derive(Default)]
pub(super) struct SigningKeys {
    map: Mutex<HashMap<u64, KeyedHmacSha1>>,
    ids: std::hash::RandomState,
}

impl fmt::Debug for SigningKeys {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let n = self.map.lock().map_or(0, |m| m.len());
        write!(f, "SigningKeys({n} keyed, [redacted])")
    }
}

impl SigningKeys {
    /// Entries kept at most (≈ 200 bytes each).
    const MAX_ENTRIES: usize = 4096;

    /// The MAC keyed for `consumer` and `access`: a copy of the kept state.
    pub(super) fn key(&self, consumer: &TokenPair, access: &TokenPair) -> KeyedHmacSha1 {
        use std::hash::BuildHasher;
        let id = self
            .ids
            .hash_one((&consumer.secret, &access.key, &access.secret));
        if let Some(hit) = self.map.lock().ok().and_then(|m| m.get(&id).cloned()) {
            return hit;
        }
        let keyed = KeyedHmacSha1::new(&consumer.secret, Some(&access.secret));
        if let Ok(mut map) = self.map.lock() {
            if map.len() >= Self::MAX_ENTRIES {
                map.clear();
            }
            map.insert(id, keyed.clone());
        }
        keyed
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normalizes_base_string_urls() {
        for (given, want) in [
            (
                "https://meta.wikimedia.org/w/api.php",
                "https://meta.wikimedia.org/w/api.php",
            ),
            (
                "http://127.0.0.1:8080/w/index.php",
                "http://127.0.0.1:8080/w/index.php",
            ),
            (
                "HTTPS://Meta.Wikimedia.ORG/w/api.php",
                "https://meta.wikimedia.org/w/api.php",
            ),
            (
                "https://meta.wikimedia.org:443/w/api.php",
                "https://meta.wikimedia.org/w/api.php",
            ),
            ("http://example.org:80/x?y=1#z", "http://example.org/x"),
            ("http://example.org", "http://example.org/"),
            ("http://ex%41mple.org/a", "http://example.org/a"),
            ("https://x.org/w/./api.php", "https://x.org/w/api.php"),
            ("https://x.org/a/../w/api.php", "https://x.org/w/api.php"),
            ("https://x.org/w/a\"b", "https://x.org/w/a%22b"),
        ] {
            assert_eq!(normalize_url(given).unwrap(), want, "{given}");
        }
        assert_eq!(new_nonce().len(), 32);
        assert_ne!(new_nonce(), new_nonce());
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(20_000))]

        /// A URL the fast path takes as it is is what the URL parser makes of
        /// it: the shortcut never changes a signature.
        #[test]
        fn the_fast_path_agrees_with_the_parser(
            url in "(https?|HTTP)://[a-zA-Z0-9.:-]{0,12}(:[0-9]{0,6})?(/[a-z.~_%-]{0,6}){0,4}"
        ) {
            if already_normal(&url) {
                let mut parsed = url::Url::parse(&url).unwrap();
                parsed.set_query(None);
                parsed.set_fragment(None);
                proptest::prop_assert_eq!(parsed.as_str(), url.as_str());
            }
        }
    }

    #[test]
    fn the_fast_path_takes_the_usual_api_urls() {
        for url in [
            "https://meta.wikimedia.org/w/api.php",
            "http://127.0.0.1:8080/w/api.php",
            "https://tools.wmflabs.org:8443/api.php",
        ] {
            assert!(already_normal(url), "{url}");
        }
        for url in [
            "http://127.0.0.1:80/w/api.php",
            "https://x.org:443/w/api.php",
            "http://x.org:080/w/api.php",
            "http://x.org:99999/w/api.php",
            "http://x.org:/w/api.php",
            "http://X.org/w/api.php",
            "http://x.org",
            "http://127.1/w/api.php",
            "http://127.0.0.01/w/api.php",
            "http://0x7f.0.0.1/w/api.php",
            "http://x.org./w/api.php",
            "http://xn--nxasmq6b.org/w/api.php",
        ] {
            assert!(!already_normal(url), "{url}");
        }
    }

    /// The request of RFC 5849 §3.4.1 and its published signature
    /// (`tR3+Ty81lMeYAr/Fid0kMTYa/WM=` is the photos example of the OAuth
    /// 1.0 spec; PROTOCOL.md §2.2 lists it among MediaWiki's own vectors).
    #[test]
    fn photos_example_signature() {
        let consumer = TokenPair {
            key: "dpf43f3p2l4k3l03".into(),
            secret: "kd94hf93k423kf44".into(),
        };
        let token = TokenPair {
            key: "nnch734d00sl2jdk".into(),
            secret: "pfkkdhi9sl3r4s00".into(),
        };
        let signer = Signer {
            consumer: &consumer,
            token: Some(&token),
            callback: None,
            verifier: None,
            nonce: "kllo9940pd9333jh",
            timestamp: Some(1191242096),
        };
        let header = authorization_header(
            signer,
            "GET",
            "http://photos.example.net/photos",
            [("size", "original"), ("file", "vacation.jpg")],
        )
        .unwrap();
        assert!(
            header.contains("oauth_signature=\"tR3%2BTy81lMeYAr%2FFid0kMTYa%2FWM%3D\""),
            "{header}"
        );
        assert!(
            header.contains("oauth_token=\"nnch734d00sl2jdk\""),
            "{header}"
        );
    }

    /// The MAC keyed beforehand signs as `oauth1-request`'s own HMAC-SHA1
    /// does, for MediaWiki's 40-character secrets (a key longer than a SHA-1
    /// block, hashed first), secrets that need percent-encoding, and no
    /// token; a kept key is the one a fresh keying gives, and another secret
    /// of the same token is keyed anew.
    #[test]
    fn keyed_mac_signs_as_oauth1_request_does() {
        let pairs = [
            (
                "a7d1ba8c4e2f4b7e9d0c1f2a3b4c5d6e",
                "0f1e2d3c4b5a69788796a5b4c3d2e1f001234567",
            ),
            ("consumer", "se cret&+/=é"),
        ];
        let tokens = [
            (
                "b30d6da97fd8f74e632ac5b7ae978b2c",
                "fa75effbbfa1e324e0e70a9edf6d0b1b0a1b2c3d",
            ),
            ("tok", "t%k~en secret"),
        ];
        for (ck, cs) in pairs {
            for token in tokens.iter().map(Some).chain([None]) {
                let consumer = TokenPair {
                    key: ck.into(),
                    secret: cs.into(),
                };
                let token = token.map(|(k, s)| TokenPair {
                    key: (*k).into(),
                    secret: (*s).into(),
                });
                let signer = Signer {
                    consumer: &consumer,
                    token: token.as_ref(),
                    callback: None,
                    verifier: None,
                    nonce: "0123456789abcdef0123456789abcdef",
                    timestamp: Some(1_700_000_000),
                };
                let url = "https://meta.wikimedia.org/w/api.php";
                let params = [
                    ("action", "query"),
                    ("meta", "userinfo"),
                    ("titles", "A B|Ç"),
                ];
                let ours = authorization_header(signer, "GET", url, params).unwrap();
                let mut theirs = oauth::Builder::<_, _>::new(
                    oauth::Credentials::new(ck, cs),
                    oauth::HmacSha1::new(),
                );
                if let Some(t) = &token {
                    theirs.token(oauth::Credentials::new(t.key.as_str(), t.secret.as_str()));
                }
                theirs
                    .nonce(signer.nonce)
                    .timestamp(std::num::NonZeroU64::new(1_700_000_000))
                    .version(true);
                let theirs = theirs.authorize("GET", url, &SortedParams::new(params).unwrap());
                assert_eq!(ours, theirs);
                if let Some(t) = &token {
                    let keys = SigningKeys::default();
                    let kept = || {
                        authorization_header_with(
                            signer,
                            keys.key(&consumer, t),
                            "GET",
                            url,
                            params,
                        )
                        .unwrap()
                    };
                    assert_eq!(kept(), theirs);
                    assert_eq!(kept(), theirs, "from the kept state");
                    let other = TokenPair {
                        key: t.key.clone(),
                        secret: "another".into(),
                    };
                    assert_ne!(
                        authorization_header_with(
                            signer,
                            keys.key(&consumer, &other),
                            "GET",
                            url,
                            params
                        )
                        .unwrap(),
                        theirs
                    );
                    assert!(!format!("{keys:?}").contains(&t.secret));
                }
            }
        }
    }

    proptest::proptest! {
        /// The one-pass signer of API calls writes what `oauth1-request`
        /// writes (header and signature) for any values, methods, tokens
        /// and secrets.
        #[test]
        fn the_api_call_signer_writes_what_oauth1_request_writes(
            // Names that need no encoding: `oauth1-request` puts an encoded
            // name into the base string without encoding it again (see
            // `names_are_encoded_twice_in_the_base_string`).
            params in proptest::collection::vec(("[a-z0-9_~.-]{0,8}", "\\PC{0,12}"), 0..8),
            post in proptest::bool::ANY,
            secrets in ("[0-9a-f]{40}|\\PC{0,10}", "[0-9a-f]{40}|\\PC{0,10}"),
            keys in ("[0-9a-f]{32}|\\PC{0,10}", "[0-9a-f]{32}|\\PC{0,10}"),
            url in proptest::sample::select(vec![
                "https://meta.wikimedia.org/w/api.php",
                "http://127.0.0.1:8080/w/api.php",
                "HTTPS://X.org:443/w/a%22b",
                "https://x.org/w/a\"b c",
            ]),
            nonce in "[0-9a-f]{32}",
            timestamp in 1u64..u64::MAX,
        ) {
            let params: Vec<(&str, &str)> = params
                .iter()
                .filter(|(k, _)| !k.starts_with("oauth_"))
                .map(|(k, v)| (k.as_str(), v.as_str()))
                .collect();
            let method = if post { "POST" } else { "GET" };
            let consumer = TokenPair { key: keys.0.clone(), secret: secrets.0.clone() };
            let access = TokenPair { key: keys.1.clone(), secret: secrets.1.clone() };
            let key = KeyedHmacSha1::new(&consumer.secret, Some(&access.secret));
            let signer = Signer {
                timestamp: Some(timestamp),
                ..Signer::access(&consumer, &access, &nonce)
            };
            let theirs = authorization_header_with(signer, key.clone(), method, url, params.iter().copied()).unwrap();
            let ours = access_header(&consumer, &access, key, method, &normalize_url(url).unwrap(), params.iter().copied(), &nonce, timestamp).unwrap();
            proptest::prop_assert_eq!(ours, theirs);
        }
    }

    /// A parameter name is encoded twice in the base string, like a value
    /// (RFC 5849 §3.4.1.3.2, then §3.4.1.1; MediaWiki's `OAuthUtil` and the
    /// local wiki do so): `a b` is `a%2520b` there. `oauth1-request` writes
    /// `a%20b`, which the wiki refuses; the API call signer does not.
    #[test]
    fn names_are_encoded_twice_in_the_base_string() {
        use base64::Engine;
        let consumer = TokenPair {
            key: "ck".into(),
            secret: "cs".into(),
        };
        let access = TokenPair {
            key: "tk".into(),
            secret: "t s".into(),
        };
        // `%C3%BC` (ü) sorts before `a%20b`: by encoded form.
        let base = "GET&https%3A%2F%2Fx.org%2Fw%2Fapi.php&%25C3%25BC%3D1%26a%2520b%3Dc%2520d%26\
                    oauth_consumer_key%3Dck%26oauth_nonce%3Dn%26oauth_signature_method%3DHMAC-SHA1%26\
                    oauth_timestamp%3D7%26oauth_token%3Dtk%26oauth_version%3D1.0";
        let mut mac = <Hmac<Sha1> as KeyInit>::new_from_slice(b"cs&t%20s").unwrap();
        mac.update(base.as_bytes());
        let want = wire::encode(
            &base64::engine::general_purpose::STANDARD.encode(mac.finalize().into_bytes()),
        );
        let header = access_header(
            &consumer,
            &access,
            KeyedHmacSha1::new("cs", Some("t s")),
            "GET",
            "https://x.org/w/api.php",
            [("\u{fc}", "1"), ("a b", "c d")],
            "n",
            7,
        )
        .unwrap();
        assert!(
            header.ends_with(&format!("oauth_signature=\"{want}\"")),
            "{header}"
        );
    }

    /// Sorting is by *encoded* name and value (RFC 5849 §3.4.1.3.2), which
    /// differs from raw order for characters such as ':' vs digits.
    #[test]
    fn sorts_by_encoded_form() {
        let p = SortedParams::new([
            ("a", "x:"),
            ("a", "x0"),
            ("c", "hi there"),
            ("a", "x!y"),
            ("a", "x y"),
        ])
        .unwrap();
        let joined: Vec<String> = p.0.iter().map(|(k, v)| format!("{k}={v}")).collect();
        assert_eq!(
            joined,
            ["a=x%20y", "a=x%21y", "a=x%3A", "a=x0", "c=hi%20there"]
        );
        assert!(SortedParams::new([("oauth_token", "x")]).is_err());
    }

    #[test]
    fn parses_token_answers() {
        let ok = parse_token_answer(
            "oauth_token=b30d6da97fd8f74e632ac5b7ae978b2c&oauth_token_secret=fa75effbbfa1e324e0e70a9edf6d0b1b&oauth_callback_confirmed=true",
        )
        .unwrap();
        assert_eq!(ok.key, "b30d6da97fd8f74e632ac5b7ae978b2c");
        let err = parse_token_answer("Error: This request has already been completed and cannot be resubmitted.\nGo back.\n\n&lt;span class=&quot;plainlinks mw-mwoautherror-details&quot;&gt;OAuth token already used, <a class=\"external\" href=\"https://www.mediawiki.org/wiki/Help:OAuth/Errors#E009\">E009</a>&lt;/span&gt;").unwrap_err();
        match err {
            WikiError::Refused { message, .. } => {
                assert!(message.contains("already been completed"), "{message}");
                assert!(
                    message.contains("E009") && !message.contains('<'),
                    "{message}"
                );
            }
            other => panic!("{other:?}"),
        }
        assert!(matches!(
            parse_token_answer("<html>down</html>"),
            Err(WikiError::Unexpected(_))
        ));
        assert!(matches!(
            parse_token_answer("oauth_token=a%0A&oauth_token_secret=b"),
            Err(WikiError::Unexpected(_))
        ));
        let e = parse_token_answer("oauth_token=bad%0Akey&oauth_token_secret=LEAKEDSECRET")
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("oauth_token is malformed") && !e.contains("LEAKED"),
            "{e}"
        );
        let e = parse_token_answer("oauth_token=goodkey&oauth_token_secret=LEAKED%0ASECRET")
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("oauth_token_secret is malformed") && !e.contains("LEAKED"),
            "{e}"
        );
    }
}
