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
use serde::Deserialize;
use serde_json::Value;
use sha2::Sha256;

use crate::user::{MwUser, VerifiedMwUser};

/// The longest identify JWT accepted: 64 KiB. A plain user's is 1,285 bytes
/// on MediaWiki 1.43 (32 rights); an administrator's (sysop, bureaucrat,
/// interface-admin) adds about a hundred rights of ≈ 20 bytes each, so a
/// few KB: 64 KiB is more than ten times that.
pub(crate) const MAX_JWT_LEN: usize = 64 * 1024;

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
    Expired {
        /// The token's `iat` minus this server's clock, in seconds: how far
        /// the wiki's clock seems to be ahead (negative: behind).
        offset: i64,
        /// The `jwt_leeway` in force, in seconds.
        leeway: i64,
    },
    /// `iat` is in the future (beyond the leeway).
    IssuedInFuture {
        /// The token's `iat` minus this server's clock, in seconds.
        offset: i64,
        /// The `jwt_leeway` in force, in seconds.
        leeway: i64,
    },
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
            IdentityError::Expired { offset, leeway } => write!(
                f,
                "the identity token has expired: the wiki issued it {} s before this server's \
                 clock says it is now, and its lifetime plus the {leeway} s allowed \
                 (mwoauth.jwt_leeway) has passed. {CLOCK_ADVICE}",
                offset.saturating_neg()
            ),
            IdentityError::IssuedInFuture { offset, leeway } => write!(
                f,
                "the identity token was issued {offset} s ahead of this server's clock, beyond the \
                 {leeway} s allowed (mwoauth.jwt_leeway). {CLOCK_ADVICE}"
            ),
            IdentityError::Nonce => {
                f.write_str("the identity token answers another request (nonce mismatch)")
            }
            IdentityError::MissingClaim(c) => write!(f, "the identity token lacks the claim {c:?}"),
        }
    }
}

impl std::error::Error for IdentityError {}

/// What an operator can do about a clock that is off.
pub(crate) const CLOCK_ADVICE: &str = "This server's clock and the wiki's differ: \
    synchronize this server's clock (NTP), or raise mwoauth.jwt_leeway.";

/// What the identity must match.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Expected<'a> {
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

/// Verifies an identify JWT and returns the user it vouches for.
pub(crate) fn verify(jwt: &str, expected: &Expected<'_>) -> Result<VerifiedMwUser, IdentityError> {
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

    let claims: Claims = decode_claims(c64)?;
    let aud_ok = match claims.aud {
        Some(Audience::One(a)) => a == expected.consumer_key,
        Some(Audience::Many(list)) => list.iter().any(|a| a == expected.consumer_key),
        None => return Err(IdentityError::MissingClaim("aud")),
    };
    if !aud_ok {
        return Err(IdentityError::Audience);
    }
    let iss = claims.iss.ok_or(IdentityError::MissingClaim("iss"))?;
    let iss_origin = url::Url::parse(&iss)
        .map(|u| u.origin().ascii_serialization())
        .unwrap_or_default();
    if iss_origin.is_empty() || iss_origin != expected.issuer_origin {
        return Err(IdentityError::Issuer {
            expected: expected.issuer_origin.to_string(),
            got: iss,
        });
    }
    let exp = claims.exp.ok_or(IdentityError::MissingClaim("exp"))?.0;
    let iat = claims.iat.ok_or(IdentityError::MissingClaim("iat"))?.0;
    if exp.saturating_add(expected.leeway) < expected.now {
        return Err(IdentityError::Expired {
            offset: iat.saturating_sub(expected.now),
            leeway: expected.leeway,
        });
    }
    if iat > expected.now.saturating_add(expected.leeway) {
        return Err(IdentityError::IssuedInFuture {
            offset: iat.saturating_sub(expected.now),
            leeway: expected.leeway,
        });
    }
    if claims.nonce.ok_or(IdentityError::MissingClaim("nonce"))? != expected.nonce {
        return Err(IdentityError::Nonce);
    }
    let central_id = match claims.sub.ok_or(IdentityError::MissingClaim("sub"))? {
        Subject::Text(s) => s.parse().map_err(|_| IdentityError::MissingClaim("sub"))?,
        Subject::Number(n) => n,
    };
    let user = MwUser {
        name: claims
            .username
            .ok_or(IdentityError::MissingClaim("username"))?,
        central_id,
        groups: claims.groups.0,
        blocked: claims.blocked.0.unwrap_or(false),
        editcount: claims.editcount.0.unwrap_or(0),
        grants: claims.grants.0,
        confirmed_email: claims.confirmed_email.0.unwrap_or(false),
        registered: claims.registered.0,
    };
    Ok(VerifiedMwUser {
        user,
        rights: claims.rights.0,
        realname: claims.realname.0,
        email: claims.email.0,
    })
}

/// The claims of an identify JWT, as Extension:OAuth writes them. Required
/// claims are `Option`s so that a missing one is named in the error; the
/// descriptive ones are read leniently ([`Lenient`], [`StringList`]): a value
/// of another type than expected counts as absent, as it did for PHP clients.
#[derive(Deserialize)]
struct Claims {
    iss: Option<String>,
    aud: Option<Audience>,
    exp: Option<NumericDate>,
    iat: Option<NumericDate>,
    nonce: Option<String>,
    sub: Option<Subject>,
    username: Option<String>,
    #[serde(default)]
    editcount: Lenient<u64>,
    #[serde(default)]
    confirmed_email: Lenient<bool>,
    #[serde(default)]
    blocked: Lenient<bool>,
    #[serde(default)]
    registered: Lenient<String>,
    #[serde(default)]
    groups: StringList,
    #[serde(default)]
    rights: StringList,
    #[serde(default)]
    grants: StringList,
    #[serde(default)]
    realname: Lenient<String>,
    #[serde(default)]
    email: Lenient<String>,
}

/// `aud`: one string or a list (RFC 7519 §4.1.3).
#[derive(Deserialize)]
#[serde(untagged)]
enum Audience {
    One(String),
    Many(Vec<String>),
}

/// `sub`: the central user id, a number (MediaWiki ≤ 1.43) or a string.
#[derive(Deserialize)]
#[serde(untagged)]
enum Subject {
    Number(u64),
    Text(String),
}

/// Seconds since the epoch, as an integer or a float.
struct NumericDate(i64);

impl<'de> Deserialize<'de> for NumericDate {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        match Value::deserialize(d)? {
            Value::Number(n) => n
                .as_i64()
                .or_else(|| n.as_f64().map(|f| f as i64))
                .map(NumericDate)
                .ok_or_else(|| serde::de::Error::custom("not a time")),
            _ => Err(serde::de::Error::custom("not a time")),
        }
    }
}

/// A value that counts as absent when it has another type.
struct Lenient<T>(Option<T>);

impl<T> Default for Lenient<T> {
    fn default() -> Self {
        Lenient(None)
    }
}

impl<'de, T: serde::de::DeserializeOwned> Deserialize<'de> for Lenient<T> {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        Ok(Lenient(serde_json::from_value(Value::deserialize(d)?).ok()))
    }
}

/// A list of strings that PHP may have turned into an object with numeric
/// keys (`array_unique` leaves gaps): `{"0":"basic","2":"editpage"}`.
#[derive(Default)]
struct StringList(Vec<String>);

impl<'de> Deserialize<'de> for StringList {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        Ok(StringList(string_list(&Value::deserialize(d)?)))
    }
}

fn decode_claims(part: &str) -> Result<Claims, IdentityError> {
    let bytes = URL_SAFE_NO_PAD
        .decode(part)
        .map_err(|_| IdentityError::Malformed("claims"))?;
    serde_json::from_slice(&bytes).map_err(|_| IdentityError::Malformed("claims"))
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

/// The strings of a list or of a PHP array turned object, in key order.
pub(crate) fn string_list(value: &Value) -> Vec<String> {
    match value {
        Value::Array(items) => items
            .iter()
            .filter_map(Value::as_str)
            .map(str::to_string)
            .collect(),
        Value::Object(map) => {
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

/// Signs claims as an HS256 JWT (for the tests).
#[cfg(test)]
fn encode_hs256(header: &Value, claims: &Value, key: &str) -> String {
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
        assert_eq!(id.name, "OAuthUser");
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
            Err(IdentityError::Expired {
                offset: 1795830981 - (1795831081 + 121),
                leeway: 120
            })
        );
        assert!(verify(&sign(header(), claims()), &expected(1795831081 + 119)).is_ok());
        assert_eq!(
            verify(&sign(header(), claims()), &expected(1795830981 - 121)),
            Err(IdentityError::IssuedInFuture {
                offset: 121,
                leeway: 120
            })
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
        assert_eq!(string_list(&json!(["a", "b"])), ["a", "b"]);
        assert_eq!(
            string_list(&json!({"10":"c","2":"b","0":"a"})),
            ["a", "b", "c"]
        );
        assert!(string_list(&json!(3)).is_empty());
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
