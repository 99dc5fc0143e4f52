//! OAuth 1.0a request verification, written from RFC 5849 and from what
//! Extension:OAuth does (`MWOAuthRequest::fromRequest`, `OAuthRequest`,
//! `OAuthUtil`, `OAuthServer::check_signature`), independently of the crate's
//! client side.
//!
//! Everything here is a pure function over bytes: parameter collection with
//! PHP's parsing rules and priorities (header > POST > GET), the signature
//! base string, HMAC-SHA1, and the timestamp and nonce checks.

use hmac::{Hmac, Mac};
use sha1::Sha1;

/// The ±window, in seconds, of `OAuthServer::$timestamp_threshold`.
pub(crate) const TIMESTAMP_THRESHOLD: i64 = 300;

/// One parameter value: PHP arrays hold several values for one name.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum PVal {
    One(Vec<u8>),
    Many(Vec<Vec<u8>>),
}

/// A PHP-style ordered map of request parameters (names are unique).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct Params {
    entries: Vec<(Vec<u8>, PVal)>,
}

impl Params {
    /// The entries, in order (for the fuzz targets).
    #[cfg(fuzzing)]
    pub(crate) fn entries(&self) -> &[(Vec<u8>, PVal)] {
        &self.entries
    }

    /// The raw value of `name`.
    pub(crate) fn get(&self, name: &str) -> Option<&PVal> {
        self.entries
            .iter()
            .find(|(k, _)| k.as_slice() == name.as_bytes())
            .map(|(_, v)| v)
    }

    /// The value of `name` as text, if it is a single value. Invalid UTF-8 is
    /// replaced (MediaWiki normalizes its input the same way).
    pub(crate) fn get_str(&self, name: &str) -> Option<String> {
        match self.get(name)? {
            PVal::One(v) => Some(String::from_utf8_lossy(v).into_owned()),
            PVal::Many(_) => None,
        }
    }

    /// Like PHP `!$value`: absent, empty and `"0"` are all "not set".
    pub(crate) fn get_truthy(&self, name: &str) -> Option<String> {
        self.get_str(name).filter(|v| !v.is_empty() && v != "0")
    }

    /// The names, in order.
    pub(crate) fn names(&self) -> impl Iterator<Item = String> + '_ {
        self.entries
            .iter()
            .map(|(k, _)| String::from_utf8_lossy(k).into_owned())
    }

    /// Sets `name` to a single value: replaced in place, or appended.
    pub(crate) fn set(&mut self, name: Vec<u8>, value: PVal) {
        if let Some(slot) = self.entries.iter_mut().find(|(k, _)| *k == name) {
            slot.1 = value;
        } else {
            self.entries.push((name, value));
        }
    }

    fn push_dup(&mut self, name: Vec<u8>, value: Vec<u8>) {
        if let Some(slot) = self.entries.iter_mut().find(|(k, _)| *k == name) {
            let old = std::mem::replace(&mut slot.1, PVal::Many(Vec::new()));
            slot.1 = match old {
                PVal::One(v) => PVal::Many(vec![v, value]),
                PVal::Many(mut vs) => {
                    vs.push(value);
                    PVal::Many(vs)
                }
            };
        } else {
            self.entries.push((name, PVal::One(value)));
        }
    }

    /// PHP `array_merge($self, $other)`: a later string key replaces the
    /// value in place, integer-like keys are renumbered and appended.
    pub(crate) fn merge(self, other: Params) -> Params {
        let mut out = Params::default();
        let mut next_index: u64 = 0;
        for (k, v) in self.entries.into_iter().chain(other.entries) {
            if is_php_int_key(&k) {
                out.entries.push((next_index.to_string().into_bytes(), v));
                next_index += 1;
            } else {
                out.set(k, v);
            }
        }
        out
    }
}

/// Whether PHP would turn this array key into an integer.
fn is_php_int_key(k: &[u8]) -> bool {
    let digits = match k.first() {
        Some(b'-') => &k[1..],
        Some(_) => k,
        None => return false,
    };
    if digits.is_empty() || !digits.iter().all(u8::is_ascii_digit) {
        return false;
    }
    if digits[0] == b'0' && (digits.len() > 1 || k[0] == b'-') {
        return false;
    }
    std::str::from_utf8(k)
        .ok()
        .and_then(|s| s.parse::<i64>().ok())
        .is_some()
}

/// PHP `rawurlencode` (= `OAuthUtil::urlencode_rfc3986`): everything but
/// `A-Z a-z 0-9 - . _ ~` is percent-encoded, upper-case hex.
pub(crate) fn rawurlencode(input: &[u8]) -> String {
    const HEX: &[u8; 16] = b"0123456789ABCDEF";
    let mut out = String::with_capacity(input.len() * 3);
    for &b in input {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
            out.push(b as char);
        } else {
            out.push('%');
            out.push(HEX[(b >> 4) as usize] as char);
            out.push(HEX[(b & 15) as usize] as char);
        }
    }
    out
}

/// PHP `urldecode`: `+` is a space, `%XX` is decoded, a bad escape stays as is.
pub(crate) fn urldecode(input: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(input.len());
    let mut i = 0;
    while i < input.len() {
        match input[i] {
            b'+' => {
                out.push(b' ');
                i += 1;
            }
            b'%' if i + 2 < input.len() => match (hex_val(input[i + 1]), hex_val(input[i + 2])) {
                (Some(h), Some(l)) => {
                    out.push(h << 4 | l);
                    i += 3;
                }
                _ => {
                    out.push(b'%');
                    i += 1;
                }
            },
            b => {
                out.push(b);
                i += 1;
            }
        }
    }
    out
}

fn hex_val(b: u8) -> Option<u8> {
    match b {
        b'0'..=b'9' => Some(b - b'0'),
        b'a'..=b'f' => Some(b - b'a' + 10),
        b'A'..=b'F' => Some(b - b'A' + 10),
        _ => None,
    }
}

/// `OAuthUtil::parse_parameters`: split on `&`, `urldecode` names and
/// values, repeated names become arrays. Empty or `"0"` input gives nothing.
pub(crate) fn parse_parameters(input: &[u8]) -> Params {
    let mut out = Params::default();
    if input.is_empty() || input == b"0" {
        return out;
    }
    for pair in input.split(|b| *b == b'&') {
        let (name, value) = match pair.iter().position(|b| *b == b'=') {
            Some(p) => (&pair[..p], &pair[p + 1..]),
            None => (pair, &b""[..]),
        };
        out.push_dup(urldecode(name), urldecode(value));
    }
    out
}

/// PHP's own query-string parsing (what ends up in `$_GET` and `$_POST`):
/// the last value of a name wins, spaces and dots in names become `_`,
/// `name[]` / `name[key]` make arrays, empty names are dropped.
pub(crate) fn parse_php_query(input: &[u8]) -> Params {
    let mut out = Params::default();
    for pair in input.split(|b| *b == b'&') {
        if pair.is_empty() {
            continue;
        }
        let (name, value) = match pair.iter().position(|b| *b == b'=') {
            Some(p) => (&pair[..p], &pair[p + 1..]),
            None => (pair, &b""[..]),
        };
        let name = urldecode(name);
        let value = urldecode(value);
        register_php_variable(&mut out, &name, value);
    }
    out
}

fn register_php_variable(out: &mut Params, raw_name: &[u8], value: Vec<u8>) {
    let start = raw_name
        .iter()
        .position(|b| *b != b' ')
        .unwrap_or(raw_name.len());
    let name = &raw_name[start..];
    let mut base = Vec::with_capacity(name.len());
    let mut is_array = false;
    let mut i = 0;
    while i < name.len() {
        let b = name[i];
        if b == b'[' {
            if name[i + 1..].contains(&b']') {
                is_array = true;
            } else {
                // An unmatched '[' becomes '_' and the rest is kept as is.
                base.push(b'_');
                base.extend_from_slice(&name[i + 1..]);
            }
            break;
        }
        base.push(if b == b' ' || b == b'.' { b'_' } else { b });
        i += 1;
    }
    if base.is_empty() {
        return;
    }
    if is_array {
        let existing = out.entries.iter_mut().find(|(k, _)| *k == base);
        match existing {
            Some((_, PVal::Many(vs))) => vs.push(value),
            Some((_, slot)) => *slot = PVal::Many(vec![value]),
            None => out.entries.push((base, PVal::Many(vec![value]))),
        }
    } else {
        out.set(base, PVal::One(value));
    }
}

/// `OAuthUtil::split_header`: every `oauth_[a-z_-]*=` followed by a quoted
/// (optionally `:`-prefixed) or an unquoted value, `urldecode`d. A quoted
/// `""` or `"0"` reads as empty (PHP `empty()`).
pub(crate) fn split_header(header: &str) -> Params {
    let b = header.as_bytes();
    let mut out = Params::default();
    let mut i = 0;
    while i < b.len() {
        if !b[i..].starts_with(b"oauth_") {
            i += 1;
            continue;
        }
        let mut j = i + 6;
        while j < b.len() && (b[j].is_ascii_lowercase() || b[j] == b'_' || b[j] == b'-') {
            j += 1;
        }
        if j >= b.len() || b[j] != b'=' {
            i += 1;
            continue;
        }
        let name = b[i..j].to_vec();
        let vstart = j + 1;
        let mut k = vstart;
        if k < b.len() && b[k] == b':' {
            k += 1;
        }
        let quoted = if k < b.len() && b[k] == b'"' {
            b[k + 1..]
                .iter()
                .position(|c| *c == b'"')
                .map(|q| (&b[k + 1..k + 1 + q], k + 2 + q))
        } else {
            None
        };
        let (raw, end) = match quoted {
            Some((v, end)) => {
                if v.is_empty() || v == b"0" {
                    (&b""[..], end)
                } else {
                    (v, end)
                }
            }
            None => {
                let mut e = vstart;
                while e < b.len() && b[e] != b',' {
                    e += 1;
                }
                (&b[vstart..e], e)
            }
        };
        out.set(name, PVal::One(urldecode(raw)));
        i = end.max(i + 1);
    }
    out
}

/// What a request looks like to the verifier.
pub(crate) struct RequestParts<'a> {
    /// The raw query string (after `?`), if any.
    pub query: Option<&'a [u8]>,
    /// The raw body, only when the request is a POST whose Content-Type
    /// starts with `application/x-www-form-urlencoded` (case-sensitive).
    pub form_body: Option<&'a [u8]>,
    /// The `Authorization` header, if any.
    pub authorization: Option<&'a str>,
}

/// `MWOAuthRequest::fromRequest` + `OAuthRequest::__construct`: the OAuth
/// parameters of a request. `path_title` is not included: like
/// `getQueryValuesOnly()`, only the real query string counts.
pub(crate) fn collect_params(req: &RequestParts<'_>) -> Params {
    let query = req.query.unwrap_or(b"");
    let mut explicit = parse_php_query(query);
    if let Some(body) = req.form_body {
        explicit = explicit.merge(parse_parameters(body));
    }
    if let Some(auth) = req.authorization {
        if auth.starts_with("OAuth ") {
            explicit = explicit.merge(split_header(auth));
        }
    }
    parse_parameters(query).merge(explicit)
}

/// Whether a request's Content-Type makes its body part of the signature.
pub(crate) fn is_signed_form(method: &str, content_type: Option<&str>) -> bool {
    method.eq_ignore_ascii_case("POST")
        && content_type.is_some_and(|ct| ct.starts_with("application/x-www-form-urlencoded"))
}

/// `OAuthRequest::get_normalized_http_url` for `$wgServer . REQUEST_URI`:
/// lower-case host, default port dropped, query dropped, path kept raw.
pub(crate) fn normalized_url(server: &str, raw_path: &str) -> String {
    let (scheme, rest) = match server.find("://") {
        Some(p) => (server[..p].to_string(), &server[p + 3..]),
        None => ("http".to_string(), server),
    };
    let authority_end = rest.find('/').unwrap_or(rest.len());
    let authority = &rest[..authority_end];
    let server_path = &rest[authority_end..];
    let authority = authority.rsplit('@').next().unwrap_or(authority);
    let (host, port) = split_host_port(authority);
    let port = port.unwrap_or(if scheme == "https" { "443" } else { "80" });
    let mut host = host.to_ascii_lowercase();
    if (scheme == "https" && port != "443") || (scheme == "http" && port != "80") {
        host = format!("{host}:{port}");
    }
    let path = format!("{server_path}{raw_path}");
    let path = path.split(['?', '#']).next().unwrap_or("");
    format!("{scheme}://{host}{path}")
}

fn split_host_port(authority: &str) -> (&str, Option<&str>) {
    if authority.starts_with('[') {
        if let Some(end) = authority.find(']') {
            let host = &authority[..=end];
            let rest = &authority[end + 1..];
            return (host, rest.strip_prefix(':'));
        }
    }
    match authority.rfind(':') {
        Some(p) => (&authority[..p], Some(&authority[p + 1..])),
        None => (authority, None),
    }
}

/// `OAuthUtil::build_http_query` over all parameters but `oauth_signature`:
/// names and values `rawurlencode`d, sorted by encoded name (byte order),
/// repeated values sorted too, joined with `&`.
pub(crate) fn signable_parameters(params: &Params) -> String {
    let mut pairs: Vec<(String, Vec<String>)> = params
        .entries
        .iter()
        .filter(|(k, _)| k.as_slice() != b"oauth_signature")
        .map(|(k, v)| {
            let values = match v {
                PVal::One(v) => vec![rawurlencode(v)],
                PVal::Many(vs) => {
                    let mut enc: Vec<String> = vs.iter().map(|v| rawurlencode(v)).collect();
                    enc.sort();
                    enc
                }
            };
            (rawurlencode(k), values)
        })
        .collect();
    pairs.sort_by(|a, b| a.0.as_bytes().cmp(b.0.as_bytes()));
    let mut out = String::new();
    for (k, values) in &pairs {
        for v in values {
            if !out.is_empty() {
                out.push('&');
            }
            out.push_str(k);
            out.push('=');
            out.push_str(v);
        }
    }
    out
}

/// The signature base string: `METHOD&enc(url)&enc(params)`.
pub(crate) fn base_string(method: &str, normalized_url: &str, params: &Params) -> String {
    format!(
        "{}&{}&{}",
        rawurlencode(method.to_ascii_uppercase().as_bytes()),
        rawurlencode(normalized_url.as_bytes()),
        rawurlencode(signable_parameters(params).as_bytes())
    )
}

/// HMAC-SHA1 signature (base64) with key `enc(consumer)&enc(token)`.
pub(crate) fn hmac_sha1_signature(base: &str, consumer_secret: &str, token_secret: &str) -> String {
    use base64::Engine as _;
    let key = format!(
        "{}&{}",
        rawurlencode(consumer_secret.as_bytes()),
        rawurlencode(token_secret.as_bytes())
    );
    let mut mac = match Hmac::<Sha1>::new_from_slice(key.as_bytes()) {
        Ok(m) => m,
        // HMAC accepts keys of any length; this cannot happen.
        Err(_) => return String::new(),
    };
    mac.update(base.as_bytes());
    base64::engine::general_purpose::STANDARD.encode(mac.finalize().into_bytes())
}

/// Constant-time comparison (PHP `hash_equals`): false for different
/// lengths, otherwise without a data-dependent early exit.
pub(crate) fn hash_equals(a: &[u8], b: &[u8]) -> bool {
    use subtle::ConstantTimeEq as _;
    a.ct_eq(b).into()
}

/// A plain `OAuthException` text (shown as `$1` of `mwoauth-oauth-exception`
/// on Special:OAuth and of `mwoauth-invalid-authorization` on api.php).
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct OAuthException(pub String);

/// `OAuthServer::get_version`: absent/empty/"0" means 1.0, else it must be `1.0`.
pub(crate) fn check_version(params: &Params) -> Result<(), OAuthException> {
    match params.get_truthy("oauth_version") {
        None => Ok(()),
        Some(v) if v == "1.0" => Ok(()),
        Some(v) => Err(OAuthException(format!("OAuth version '{v}' not supported"))),
    }
}

/// `OAuthServer::check_timestamp`: required, within ±300 s of `now`.
/// Returns the timestamp as a number (PHP's numeric-prefix reading).
pub(crate) fn check_timestamp(params: &Params, now: i64) -> Result<i64, OAuthException> {
    let raw = match params.get_truthy("oauth_timestamp") {
        Some(v) => v,
        None => {
            return Err(OAuthException(
                "Missing timestamp parameter. The parameter is required".into(),
            ))
        }
    };
    let ts = php_leading_int(&raw);
    match ts {
        Some(ts) if (now - ts).abs() <= TIMESTAMP_THRESHOLD => Ok(ts),
        _ => Err(OAuthException(format!(
            "Expired timestamp, yours {raw}, ours {now}"
        ))),
    }
}

/// The integer PHP reads from a numeric(-prefixed) string, if any.
fn php_leading_int(s: &str) -> Option<i64> {
    let t = s.trim_start_matches([' ', '\t', '\n', '\r', '\u{b}', '\u{c}']);
    let (neg, digits) = match t.as_bytes().first() {
        Some(b'-') => (true, &t[1..]),
        Some(b'+') => (false, &t[1..]),
        _ => (false, t),
    };
    let end = digits
        .as_bytes()
        .iter()
        .position(|b| !b.is_ascii_digit())
        .unwrap_or(digits.len());
    if end == 0 {
        return None;
    }
    let mut v: i64 = 0;
    for b in digits[..end].bytes() {
        v = v.saturating_mul(10).saturating_add(i64::from(b - b'0'));
    }
    Some(if neg { -v } else { v })
}

/// `OAuthServer::check_nonce` with the nonce store given as a closure:
/// `record(nonce, expiry)` stores the nonce and returns false if it was
/// already present (then: "Nonce already used").
pub(crate) fn check_nonce(
    params: &Params,
    timestamp: i64,
    record: impl FnOnce(&str, i64) -> bool,
) -> Result<(), OAuthException> {
    let nonce = match params.get_truthy("oauth_nonce") {
        Some(n) => n,
        None => {
            return Err(OAuthException(
                "Missing nonce parameter. The parameter is required".into(),
            ))
        }
    };
    if record(&nonce, timestamp + TIMESTAMP_THRESHOLD) {
        Ok(())
    } else {
        Err(OAuthException(format!("Nonce already used: {nonce}")))
    }
}

/// The signature-method and signature part of `check_signature`.
/// Only HMAC-SHA1 is implemented; RSA-SHA1 is accepted as a name (as the
/// real server lists it) but such consumers cannot be registered here, so
/// it always fails with "Invalid signature".
pub(crate) fn check_hmac_signature(
    params: &Params,
    method: &str,
    normalized_url: &str,
    consumer_secret: &str,
    token_secret: &str,
) -> Result<(), OAuthException> {
    let sig_method = match params.get_truthy("oauth_signature_method") {
        Some(m) => m,
        None => {
            return Err(OAuthException(
                "No signature method parameter. This parameter is required".into(),
            ))
        }
    };
    if sig_method != "HMAC-SHA1" && sig_method != "RSA-SHA1" {
        return Err(OAuthException(format!(
            "Signature method '{sig_method}' not supported try one of the following: HMAC-SHA1, RSA-SHA1"
        )));
    }
    let given = params.get_str("oauth_signature").unwrap_or_default();
    if sig_method == "HMAC-SHA1" {
        let base = base_string(method, normalized_url, params);
        let expected = hmac_sha1_signature(&base, consumer_secret, token_secret);
        if hash_equals(expected.as_bytes(), given.as_bytes()) {
            return Ok(());
        }
    }
    Err(OAuthException("Invalid signature".into()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(pairs: &[(&str, &str)]) -> Params {
        let mut out = Params::default();
        for (k, v) in pairs {
            out.push_dup(k.as_bytes().to_vec(), v.as_bytes().to_vec());
        }
        out
    }

    #[test]
    fn hmac_vectors_from_extension_tests() {
        assert_eq!(
            hmac_sha1_signature("bs", "cs", ""),
            "egQqG5AJep5sJ7anhXju1unge2I="
        );
        assert_eq!(
            hmac_sha1_signature("bs", "cs", "ts"),
            "VZVjXceV7JgPq/dOTnNmEfO0Fv8="
        );
    }

    #[test]
    fn photos_example_signature() {
        let base = "GET&http%3A%2F%2Fphotos.example.net%2Fphotos&file%3Dvacation.jpg%26oauth_consumer_key%3Ddpf43f3p2l4k3l03%26oauth_nonce%3Dkllo9940pd9333jh%26oauth_signature_method%3DHMAC-SHA1%26oauth_timestamp%3D1191242096%26oauth_token%3Dnnch734d00sl2jdk%26oauth_version%3D1.0%26size%3Doriginal";
        assert_eq!(
            hmac_sha1_signature(base, "kd94hf93k423kf44", "pfkkdhi9sl3r4s00"),
            "tR3+Ty81lMeYAr/Fid0kMTYa/WM="
        );
        // The same base string, built from the request.
        let req = RequestParts {
                query: Some(b"file=vacation.jpg&size=original"),
            form_body: None,
            authorization: Some(
                "OAuth realm=\"Photos\", oauth_consumer_key=\"dpf43f3p2l4k3l03\", oauth_token=\"nnch734d00sl2jdk\", oauth_nonce=\"kllo9940pd9333jh\", oauth_timestamp=\"1191242096\", oauth_signature_method=\"HMAC-SHA1\", oauth_version=\"1.0\", oauth_signature=\"tR3%2BTy81lMeYAr%2FFid0kMTYa%2FWM%3D\"",
            ),
        };
        let params = collect_params(&req);
        let url = normalized_url("http://photos.example.net", "/photos");
        assert_eq!(base_string("GET", &url, &params), base);
        assert_eq!(
            check_hmac_signature(&params, "GET", &url, "kd94hf93k423kf44", "pfkkdhi9sl3r4s00"),
            Ok(())
        );
        assert_eq!(
            check_hmac_signature(&params, "GET", &url, "kd94hf93k423kf44", "wrong"),
            Err(OAuthException("Invalid signature".into()))
        );
    }

    #[test]
    fn rfc5849_section_3_4_1_example() {
        // RFC 5849 §3.4.1.1: POST with query, form body and header parameters.
        let req = RequestParts {
            query: Some(b"b5=%3D%253D&a3=a&c%40=&a2=r%20b"),
            form_body: Some(b"c2&a3=2+q"),
            authorization: Some(
                "OAuth realm=\"Example\", oauth_consumer_key=\"9djdj82h48djs9d2\", oauth_token=\"kkk9d7dh3k39sjv7\", oauth_signature_method=\"HMAC-SHA1\", oauth_timestamp=\"137131201\", oauth_nonce=\"7d8f3e4a\", oauth_signature=\"bYT5CMsGcbgUdFHObYMEfcx6bsw%3D\"",
            ),
        };
        let params = collect_params(&req);
        let url = normalized_url("http://example.com", "/request");
        // The RFC keeps both a3 values; MediaWiki keeps only the POST one
        // (`array_merge`), which is what a faithful imitation must do.
        assert_eq!(
            base_string("POST", &url, &params),
            "POST&http%3A%2F%2Fexample.com%2Frequest&a2%3Dr%2520b%26a3%3D2%2520q%26b5%3D%253D%25253D%26c%2540%3D%26c2%3D%26oauth_consumer_key%3D9djdj82h48djs9d2%26oauth_nonce%3D7d8f3e4a%26oauth_signature_method%3DHMAC-SHA1%26oauth_timestamp%3D137131201%26oauth_token%3Dkkk9d7dh3k39sjv7"
        );
    }

    #[test]
    fn rfc5849_duplicate_params_normalization() {
        // RFC 5849 §3.4.1.3.2 example parameters, duplicates sorted by value.
        let params = p(&[
            ("b5", "=%3D"),
            ("a3", "a"),
            ("c@", ""),
            ("a2", "r b"),
            ("oauth_consumer_key", "9djdj82h48djs9d2"),
            ("oauth_token", "kkk9d7dh3k39sjv7"),
            ("oauth_signature_method", "HMAC-SHA1"),
            ("oauth_timestamp", "137131201"),
            ("oauth_nonce", "7d8f3e4a"),
            ("c2", ""),
            ("a3", "2 q"),
        ]);
        assert_eq!(
            signable_parameters(&params),
            "a2=r%20b&a3=2%20q&a3=a&b5=%3D%253D&c%40=&c2=&oauth_consumer_key=9djdj82h48djs9d2&oauth_nonce=7d8f3e4a&oauth_signature_method=HMAC-SHA1&oauth_timestamp=137131201&oauth_token=kkk9d7dh3k39sjv7"
        );
        // RFC 5849 §3.4.1.1, the base string verbatim.
        assert_eq!(
            base_string("POST", "http://example.com/request", &params),
            "POST&http%3A%2F%2Fexample.com%2Frequest&a2%3Dr%2520b%26a3%3D2%2520q%26a3%3Da%26b5%3D%253D%25253D%26c%2540%3D%26c2%3D%26oauth_consumer_key%3D9djdj82h48djs9d2%26oauth_nonce%3D7d8f3e4a%26oauth_signature_method%3DHMAC-SHA1%26oauth_timestamp%3D137131201%26oauth_token%3Dkkk9d7dh3k39sjv7"
        );
    }

    #[test]
    fn normalize_parameters_vectors() {
        assert_eq!(
            signable_parameters(&parse_parameters(b"a=x%21y&a=x+y")),
            "a=x%20y&a=x%21y"
        );
        assert_eq!(
            signable_parameters(&parse_parameters(b"a=1&c=hi there&f=25&f=50&f=a&z=p&z=t")),
            "a=1&c=hi%20there&f=25&f=50&f=a&z=p&z=t"
        );
        // The signature itself is never signed.
        assert_eq!(
            signable_parameters(&parse_parameters(b"x=1&oauth_signature=abc")),
            "x=1"
        );
    }

    #[test]
    fn normalized_urls() {
        assert_eq!(
            normalized_url("http://Example.COM", ""),
            "http://example.com"
        );
        assert_eq!(
            normalized_url("https://example.com:80", ""),
            "https://example.com:80"
        );
        assert_eq!(
            normalized_url("http://example.com:80", "/w/api.php"),
            "http://example.com/w/api.php"
        );
        assert_eq!(
            normalized_url("http://127.0.0.1:8080", "/w/index.php"),
            "http://127.0.0.1:8080/w/index.php"
        );
        assert_eq!(
            normalized_url("https://Meta.Wikimedia.org", "/wiki/Special:OAuth/initiate"),
            "https://meta.wikimedia.org/wiki/Special:OAuth/initiate"
        );
    }

    #[test]
    fn priority_header_over_post_over_get() {
        let req = RequestParts {
            query: Some(b"x=get&y=get&oauth_nonce=q"),
            form_body: Some(b"x=post&oauth_nonce=b"),
            authorization: Some("OAuth oauth_nonce=\"h\""),
        };
        let params = collect_params(&req);
        assert_eq!(params.get_str("x").as_deref(), Some("post"));
        assert_eq!(params.get_str("y").as_deref(), Some("get"));
        assert_eq!(params.get_str("oauth_nonce").as_deref(), Some("h"));
        assert_eq!(signable_parameters(&params), "oauth_nonce=h&x=post&y=get");
    }

    #[test]
    fn header_parsing_quirks() {
        let h = split_header(
            "OAuth realm=\"x\", oauth_a=\"1%2B2+3\", oauth_b=plain, oauth_c=:\"colon\", oauth_d=\"0\", Foo=\"oauth_e=\"",
        );
        assert_eq!(h.get_str("oauth_a").as_deref(), Some("1+2 3"));
        assert_eq!(h.get_str("oauth_b").as_deref(), Some("plain"));
        assert_eq!(h.get_str("oauth_c").as_deref(), Some("colon"));
        assert_eq!(h.get_str("oauth_d").as_deref(), Some(""));
        assert!(h.get("realm").is_none());
        // Garbage does not panic.
        let _ = split_header("OAuth oauth_=\"");
        let _ = split_header("OAuth oauth_x=\"unterminated, oauth_y=1");
    }

    #[test]
    fn php_get_parsing() {
        let q = parse_php_query(b"a.b=1&a=1&a=2&c[]=3&c[]=4& d=5&=6&e");
        assert_eq!(q.get_str("a_b").as_deref(), Some("1"));
        assert_eq!(q.get_str("a").as_deref(), Some("2"));
        assert_eq!(
            q.get("c"),
            Some(&PVal::Many(vec![b"3".to_vec(), b"4".to_vec()]))
        );
        assert_eq!(q.get_str("d").as_deref(), Some("5"));
        assert_eq!(q.get_str("e").as_deref(), Some(""));
        assert_eq!(urldecode(b"%zz%4"), b"%zz%4".to_vec());
        assert_eq!(urldecode(b"%41%e2%82%ac"), "A€".as_bytes().to_vec());
    }

    #[test]
    fn timestamp_and_nonce_checks() {
        let params = p(&[("oauth_timestamp", "1000"), ("oauth_nonce", "n1")]);
        assert_eq!(check_timestamp(&params, 1300), Ok(1000));
        assert_eq!(check_timestamp(&params, 700), Ok(1000));
        assert_eq!(
            check_timestamp(&params, 1301),
            Err(OAuthException(
                "Expired timestamp, yours 1000, ours 1301".into()
            ))
        );
        assert_eq!(
            check_timestamp(&p(&[]), 1),
            Err(OAuthException(
                "Missing timestamp parameter. The parameter is required".into()
            ))
        );
        let mut seen = std::collections::HashSet::new();
        assert_eq!(
            check_nonce(&params, 1000, |n, exp| {
                assert_eq!(exp, 1300);
                seen.insert(n.to_string())
            }),
            Ok(())
        );
        assert_eq!(
            check_nonce(&params, 1000, |n, _| seen.insert(n.to_string())),
            Err(OAuthException("Nonce already used: n1".into()))
        );
        assert_eq!(check_version(&p(&[("oauth_version", "1.0")])), Ok(()));
        assert_eq!(
            check_version(&p(&[("oauth_version", "2.0")])),
            Err(OAuthException("OAuth version '2.0' not supported".into()))
        );
    }

    #[test]
    fn plaintext_is_rejected() {
        let params = p(&[
            ("oauth_signature_method", "PLAINTEXT"),
            ("oauth_signature", "a&"),
        ]);
        assert_eq!(
            check_hmac_signature(&params, "GET", "http://x", "a", ""),
            Err(OAuthException(
                "Signature method 'PLAINTEXT' not supported try one of the following: HMAC-SHA1, RSA-SHA1".into()
            ))
        );
    }

    #[test]
    fn php_int_keys_are_renumbered() {
        let a = parse_parameters(b"5=x&k=1");
        let b = parse_parameters(b"5=x&k=2");
        let merged = a.merge(b);
        assert_eq!(signable_parameters(&merged), "0=x&1=x&k=2");
        assert!(is_php_int_key(b"0"));
        assert!(is_php_int_key(b"-3"));
        assert!(!is_php_int_key(b"03"));
        assert!(!is_php_int_key(b"-0"));
        assert!(!is_php_int_key(b"99999999999999999999"));
    }
}
