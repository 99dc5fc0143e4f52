//! The identity a wiki vouches for: the JWT answered by `Special:OAuth/identify`
//! and its verification (algorithm, signature, audience, issuer, nonce, times).
//!
//! The checks follow the wire protocol of Extension:OAuth: an HS256 JWT keyed
//! with the consumer secret, `aud` = consumer key, `iss` = the wiki's canonical
//! server, `exp` = `iat` + 100 s, `nonce` = the `oauth_nonce` of the identify
//! request, and `grants` that may arrive as a JSON object with numeric keys.

use std::fmt;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use hmac::{Hmac, Mac};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use sha2::Sha256;

/// The longest identify JWT accepted (an admin's rights list fits many times over).
pub const MAX_JWT_LEN: usize = 64 * 1024;

/// Who the wiki says the user is: the verified claims of the identify JWT.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Identity {
    /// The central user id (`sub`); `0` when the account is not attached.
    pub central_id: u64,
    /// The user name.
    pub username: String,
    /// Number of edits.
    pub editcount: u64,
    /// Whether the user confirmed an e-mail address.
    pub confirmed_email: bool,
    /// Whether the user is blocked.
    pub blocked: bool,
    /// Registration time as `YYYYMMDDHHMMSS`, if known.
    pub registered: Option<String>,
    /// Effective groups, e.g. `["*", "user", "autoconfirmed"]`.
    pub groups: Vec<String>,
    /// The user's rights on the wiki (not limited by the grants).
    pub rights: Vec<String>,
    /// The grants the user gave this application.
    pub grants: Vec<String>,
    /// Real name, only with the `mwoauth-authonlyprivate` grant.
    pub realname: Option<String>,
    /// E-mail address, only with the `mwoauth-authonlyprivate` grant.
    pub email: Option<String>,
}

/// Why an identify JWT was refused.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum IdentityError {
    /// Not a compact JWT (three base64url parts), or not JSON inside.
    Malformed(&'static str),
    /// The header names another algorithm than HS256 (e.g. `none`, `RS256`).
    Algorithm(String),
    /// The HMAC does not match the consumer secret.
    Signature,
    /// `aud` is not our consumer key.
    Audience,
    /// `iss` is not the wiki we talk to.
    Issuer {
        /// The wiki's origin, from the configuration.
        expected: String,
        /// What the token said.
        got: String,
    },
    /// `exp` is in the past (beyond the leeway).
    Expired,
    /// `iat` is in the future (beyond the leeway).
    IssuedInFuture,
    /// `nonce` is not the one sent with the identify request.
    Nonce,
    /// A required claim is missing or has the wrong type.
    MissingClaim(&'static str),
}

impl fmt::Display for IdentityError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            IdentityError::Malformed(what) => write!(f, "the identity token is malformed: {what}"),
            IdentityError::Algorithm(alg) => {
                write!(f, "the identity token uses algorithm {alg:?}, not HS256")
            }
            IdentityError::Signature => f.write_str("the identity token's signature is not valid"),
            IdentityError::Audience => f.write_str("the identity token is for another application"),
            IdentityError::Issuer { expected, got } => {
                write!(
                    f,
                    "the identity token was issued by {got:?}, not by {expected:?}"
                )
            }
            IdentityError::Expired => f.write_str("the identity token has expired"),
            IdentityError::IssuedInFuture => {
                f.write_str("the identity token was issued in the future")
            }
            IdentityError::Nonce => {
                f.write_str("the identity token answers another request (nonce mismatch)")
            }
            IdentityError::MissingClaim(c) => write!(f, "the identity token lacks the claim {c:?}"),
        }
    }
}

impl std::error::Error for IdentityError {}

/// What the identity must match.
#[derive(Debug, Clone, Copy)]
pub struct Expected<'a> {
    /// The consumer key (`aud`).
    pub consumer_key: &'a str,
    /// The consumer secret (the HS256 key).
    pub consumer_secret: &'a str,
    /// The wiki's origin, `scheme://host[:port]` (`iss`).
    pub issuer_origin: &'a str,
    /// The `oauth_nonce` of the identify request.
    pub nonce: &'a str,
    /// Now, in Unix seconds.
    pub now: i64,
    /// Allowed clock skew in seconds.
    pub leeway: i64,
}

/// Verifies an identify JWT and returns the identity in it.
pub fn verify(jwt: &str, expected: &Expected<'_>) -> Result<Identity, IdentityError> {
    let jwt = jwt.trim();
    if jwt.len() > MAX_JWT_LEN {
        return Err(IdentityError::Malformed("too long"));
    }
    let mut parts = jwt.split('.');
    let (Some(h64), Some(c64), Some(s64), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(IdentityError::Malformed("not three dot-separated parts"));
    };
    let header: Value = decode_json(h64, "header")?;
    match header.get("alg").and_then(Value::as_str) {
        Some("HS256") => {}
        Some(other) => return Err(IdentityError::Algorithm(other.to_string())),
        None => return Err(IdentityError::Algorithm("(none given)".into())),
    }
    let signature = URL_SAFE_NO_PAD
        .decode(s64)
        .map_err(|_| IdentityError::Malformed("signature is not base64url"))?;
    let mut mac = Hmac::<Sha256>::new_from_slice(expected.consumer_secret.as_bytes())
        .map_err(|_| IdentityError::Signature)?;
    mac.update(h64.as_bytes());
    mac.update(b".");
    mac.update(c64.as_bytes());
    mac.verify_slice(&signature)
        .map_err(|_| IdentityError::Signature)?;

    let claims: Value = decode_json(c64, "claims")?;
    let str_claim = |name: &'static str| {
        claims
            .get(name)
            .and_then(Value::as_str)
            .ok_or(IdentityError::MissingClaim(name))
    };
    let int_claim = |name: &'static str| {
        claims
            .get(name)
            .and_then(|v| v.as_i64().or_else(|| v.as_f64().map(|f| f as i64)))
            .ok_or(IdentityError::MissingClaim(name))
    };

    let aud_ok = match claims.get("aud") {
        Some(Value::String(a)) => a == expected.consumer_key,
        Some(Value::Array(list)) => list
            .iter()
            .any(|a| a.as_str() == Some(expected.consumer_key)),
        _ => return Err(IdentityError::MissingClaim("aud")),
    };
    if !aud_ok {
        return Err(IdentityError::Audience);
    }
    let iss = str_claim("iss")?;
    let iss_origin = url::Url::parse(iss)
        .map(|u| u.origin().ascii_serialization())
        .unwrap_or_default();
    if iss_origin.is_empty() || iss_origin != expected.issuer_origin {
        return Err(IdentityError::Issuer {
            expected: expected.issuer_origin.to_string(),
            got: iss.to_string(),
        });
    }
    let exp = int_claim("exp")?;
    let iat = int_claim("iat")?;
    if exp.saturating_add(expected.leeway) < expected.now {
        return Err(IdentityError::Expired);
    }
    if iat > expected.now.saturating_add(expected.leeway) {
        return Err(IdentityError::IssuedInFuture);
    }
    if str_claim("nonce")? != expected.nonce {
        return Err(IdentityError::Nonce);
    }
    let central_id = match claims.get("sub") {
        Some(Value::String(s)) => s.parse().map_err(|_| IdentityError::MissingClaim("sub"))?,
        Some(Value::Number(n)) => n.as_u64().ok_or(IdentityError::MissingClaim("sub"))?,
        _ => return Err(IdentityError::MissingClaim("sub")),
    };
    Ok(Identity {
        central_id,
        username: str_claim("username")?.to_string(),
        editcount: claims.get("editcount").and_then(Value::as_u64).unwrap_or(0),
        confirmed_email: claims
            .get("confirmed_email")
            .and_then(Value::as_bool)
            .unwrap_or(false),
        blocked: claims
            .get("blocked")
            .and_then(Value::as_bool)
            .unwrap_or(false),
        registered: claims
            .get("registered")
            .and_then(Value::as_str)
            .map(str::to_string),
        groups: string_list(claims.get("groups")),
        rights: string_list(claims.get("rights")),
        grants: string_list(claims.get("grants")),
        realname: claims
            .get("realname")
            .and_then(Value::as_str)
            .map(str::to_string),
        email: claims
            .get("email")
            .and_then(Value::as_str)
            .map(str::to_string),
    })
}

fn decode_json(part: &str, what: &'static str) -> Result<Value, IdentityError> {
    let bytes = URL_SAFE_NO_PAD
        .decode(part)
        .map_err(|_| IdentityError::Malformed(what))?;
    let value: Value =
        serde_json::from_slice(&bytes).map_err(|_| IdentityError::Malformed(what))?;
    if value.is_object() {
        Ok(value)
    } else {
        Err(IdentityError::Malformed(what))
    }
}

/// A list of strings that PHP may have turned into an object with numeric
/// keys (`array_unique` leaves gaps): `{"0":"basic","2":"editpage"}`.
fn string_list(value: Option<&Value>) -> Vec<String> {
    match value {
        Some(Value::Array(items)) => items
            .iter()
            .filter_map(Value::as_str)
            .map(str::to_string)
            .collect(),
        Some(Value::Object(map)) => {
            let mut items: Vec<(u64, &str)> = map
                .iter()
                .filter_map(|(k, v)| Some((k.parse().unwrap_or(u64::MAX), v.as_str()?)))
                .collect();
            items.sort_by_key(|(k, _)| *k);
            items.into_iter().map(|(_, v)| v.to_string()).collect()
        }
        _ => Vec::new(),
    }
}

/// Signs claims as an HS256 JWT. Used by tests (and handy for yours).
pub fn encode_hs256(header: &Value, claims: &Value, key: &str) -> String {
    let h = URL_SAFE_NO_PAD.encode(header.to_string());
    let c = URL_SAFE_NO_PAD.encode(claims.to_string());
    let mut mac =
        Hmac::<Sha256>::new_from_slice(key.as_bytes()).expect("HMAC takes any key length");
    mac.update(h.as_bytes());
    mac.update(b".");
    mac.update(c.as_bytes());
    let s = URL_SAFE_NO_PAD.encode(mac.finalize().into_bytes());
    format!("{h}.{c}.{s}")
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const KEY: &str = "bee2067d6273fa479f7c7ec744cc1b49";
    const SECRET: &str = "78f334db94e07b61b8d5cd14fb4d0b99f988a1bd";

    fn expected(now: i64) -> Expected<'static> {
        Expected {
            consumer_key: KEY,
            consumer_secret: SECRET,
            issuer_origin: "http://127.0.0.1:8080",
            nonce: "152476737750573028221795830981",
            now,
            leeway: 120,
        }
    }

    fn claims() -> Value {
        json!({"iss":"http://127.0.0.1:8080","aud":KEY,"exp":1795831081,"iat":1795830981,"sub":"3",
            "username":"OAuthUser","editcount":3,"confirmed_email":true,"blocked":false,
            "registered":"20261128014918","groups":["*","user","autoconfirmed"],"rights":["read","edit"],
            "grants":{"0":"basic","2":"editpage","3":"highvolume"},"nonce":"152476737750573028221795830981"})
    }

    fn header() -> Value {
        json!({"typ":"JWT","alg":"HS256"})
    }

    #[test]
    fn the_captured_token_verifies() {
        // Signed by a real MediaWiki 1.39 (observed-1.39-oauth1.md, capture 5), but
        // with our own secret: we re-sign the captured claims.
        let jwt = encode_hs256(&header(), &claims(), SECRET);
        let id = verify(&jwt, &expected(1795830990)).unwrap();
        assert_eq!(id.username, "OAuthUser");
        assert_eq!(id.central_id, 3);
        assert_eq!(id.grants, ["basic", "editpage", "highvolume"]);
        assert_eq!(id.registered.as_deref(), Some("20261128014918"));
    }

    #[test]
    fn rejects_what_it_must() {
        let now = 1795830990;
        let sign = |h: Value, c: Value| encode_hs256(&h, &c, SECRET);
        let with = |k: &str, v: Value| {
            let mut c = claims();
            c[k] = v;
            c
        };
        let without = |k: &str| {
            let mut c = claims();
            c.as_object_mut().unwrap().remove(k);
            c
        };
        let e = expected(now);
        assert_eq!(
            verify(&encode_hs256(&header(), &claims(), "other"), &e),
            Err(IdentityError::Signature)
        );
        for alg in ["none", "HS512", "RS256"] {
            let jwt = sign(json!({"typ":"JWT","alg":alg}), claims());
            assert_eq!(verify(&jwt, &e), Err(IdentityError::Algorithm(alg.into())));
        }
        // alg none with an empty signature
        let unsigned = format!(
            "{}.{}.",
            URL_SAFE_NO_PAD.encode(json!({"alg":"none"}).to_string()),
            URL_SAFE_NO_PAD.encode(claims().to_string())
        );
        assert!(matches!(
            verify(&unsigned, &e),
            Err(IdentityError::Algorithm(_))
        ));
        assert_eq!(
            verify(&sign(header(), with("aud", json!("x"))), &e),
            Err(IdentityError::Audience)
        );
        assert!(matches!(
            verify(
                &sign(header(), with("iss", json!("http://evil.example"))),
                &e
            ),
            Err(IdentityError::Issuer { .. })
        ));
        assert!(matches!(
            verify(
                &sign(
                    header(),
                    with("iss", json!("http://127.0.0.1:8080.evil.example"))
                ),
                &e
            ),
            Err(IdentityError::Issuer { .. })
        ));
        assert_eq!(
            verify(&sign(header(), claims()), &expected(1795831081 + 121)),
            Err(IdentityError::Expired)
        );
        assert!(verify(&sign(header(), claims()), &expected(1795831081 + 119)).is_ok());
        assert_eq!(
            verify(&sign(header(), claims()), &expected(1795830981 - 121)),
            Err(IdentityError::IssuedInFuture)
        );
        assert!(verify(&sign(header(), claims()), &expected(1795830981 - 60)).is_ok());
        assert_eq!(
            verify(&sign(header(), with("nonce", json!("other"))), &e),
            Err(IdentityError::Nonce)
        );
        for claim in ["nonce", "exp", "iat", "sub", "username", "iss", "aud"] {
            assert!(
                matches!(
                    verify(&sign(header(), without(claim)), &e),
                    Err(IdentityError::MissingClaim(_))
                ),
                "{claim}"
            );
        }
        for garbage in [
            "",
            "a.b",
            "a.b.c.d",
            "{\"error\":\"x\"}",
            "!!.!!.!!",
            &"x".repeat(MAX_JWT_LEN + 1),
        ] {
            assert!(
                matches!(verify(garbage, &e), Err(IdentityError::Malformed(_))),
                "{garbage}"
            );
        }
    }

    #[test]
    fn grants_as_list_or_object() {
        assert_eq!(string_list(Some(&json!(["a", "b"]))), ["a", "b"]);
        assert_eq!(
            string_list(Some(&json!({"10":"c","2":"b","0":"a"}))),
            ["a", "b", "c"]
        );
        assert!(string_list(Some(&json!(3))).is_empty());
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(5_000))]

        /// Nothing a wiki sends makes verification panic.
        #[test]
        fn never_panics(s in "\\PC{0,200}|[A-Za-z0-9_.-]{0,200}") {
            let _ = verify(&s, &expected(0));
        }

        /// A valid token with any single byte changed is rejected.
        #[test]
        fn tampering_is_detected(pos in 0usize..400, byte in 0u8..128) {
            let jwt = encode_hs256(&header(), &claims(), SECRET);
            let mut bytes = jwt.into_bytes();
            let pos = pos % bytes.len();
            proptest::prop_assume!(bytes[pos] != byte);
            bytes[pos] = byte;
            if let Ok(t) = String::from_utf8(bytes) {
                proptest::prop_assert!(verify(&t, &expected(1795830990)).is_err());
            }
        }
    }
}
