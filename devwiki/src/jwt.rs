//! HS256 JWT encoding as firebase/php-jwt does it (`JWT::encode`).

use base64::Engine as _;
use hmac::{Hmac, Mac};
use sha2::Sha256;

use crate::phpjson::{self, Flags, J};

fn b64url(data: &[u8]) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(data)
}

/// Encodes `claims` as a compact JWT: header `{"typ":"JWT","alg":"HS256"}`,
/// payload JSON as PHP's `json_encode($v, JSON_UNESCAPED_SLASHES)`, signed
/// with HMAC-SHA256 keyed by `key`.
pub(crate) fn encode_hs256(claims: &J, key: &str) -> String {
    let header = b64url(br#"{"typ":"JWT","alg":"HS256"}"#);
    let payload = b64url(phpjson::encode(claims, Flags::PHP_JWT).as_bytes());
    let signing_input = format!("{header}.{payload}");
    let sig = match Hmac::<Sha256>::new_from_slice(key.as_bytes()) {
        Ok(mut mac) => {
            mac.update(signing_input.as_bytes());
            mac.finalize().into_bytes().to_vec()
        }
        Err(_) => Vec::new(),
    };
    format!("{signing_input}.{}", b64url(&sig))
}

/// Encodes a `serde_json` value as a compact HS256 JWT (for claims with
/// fractional times, like the OAuth 2.0 access tokens of lcobucci/jwt).
pub(crate) fn encode_hs256_value(claims: &serde_json::Value, key: &str) -> String {
    let header = b64url(br#"{"typ":"JWT","alg":"HS256"}"#);
    let payload = b64url(claims.to_string().as_bytes());
    let signing_input = format!("{header}.{payload}");
    format!("{signing_input}.{}", b64url(&hs256(&signing_input, key)))
}

fn hs256(input: &str, key: &str) -> Vec<u8> {
    match Hmac::<Sha256>::new_from_slice(key.as_bytes()) {
        Ok(mut mac) => {
            mac.update(input.as_bytes());
            mac.finalize().into_bytes().to_vec()
        }
        Err(_) => Vec::new(),
    }
}

/// Checks an HS256 JWT made by [`encode_hs256_value`] and returns its
/// claims, or the lcobucci/jwt-style reason it is refused. An empty `key`
/// skips the signature check.
pub(crate) fn decode_hs256_value(token: &str, key: &str) -> Result<serde_json::Value, String> {
    let parts: Vec<&str> = token.split('.').collect();
    if parts.len() != 3 {
        return Err("The JWT string must have two dots".into());
    }
    let dec =
        |s: &str| base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(s.trim_end_matches('='));
    let (Ok(_), Ok(payload), Ok(sig)) = (dec(parts[0]), dec(parts[1]), dec(parts[2])) else {
        return Err(
            "Error while decoding from Base64Url, invalid base64 characters detected".into(),
        );
    };
    let claims: serde_json::Value = serde_json::from_slice(&payload)
        .map_err(|_| "Error while decoding from JSON".to_string())?;
    if key.is_empty() {
        // A token accepted as it is (imported from another wiki).
        return Ok(claims);
    }
    let expected = hs256(&format!("{}.{}", parts[0], parts[1]), key);
    use subtle::ConstantTimeEq as _;
    if expected.ct_eq(&sig).unwrap_u8() != 1 {
        return Err("Access token could not be verified".into());
    }
    Ok(claims)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The JWT captured from MediaWiki 1.39 (observed-1.39-oauth1.md §5):
    /// re-encoding its claims must give the same header and payload.
    #[test]
    fn captured_header_and_payload() {
        let captured = "eyJ0eXAiOiJKV1QiLCJhbGciOiJIUzI1NiJ9.eyJpc3MiOiJodHRwOi8vMTI3LjAuMC4xOjgwODAiLCJhdWQiOiJiZWUyMDY3ZDYyNzNmYTQ3OWY3YzdlYzc0NGNjMWI0OSIsImV4cCI6MTc5NTgzMTA4MSwiaWF0IjoxNzk1ODMwOTgxLCJzdWIiOiIzIiwidXNlcm5hbWUiOiJPQXV0aFVzZXIiLCJlZGl0Y291bnQiOjMsImNvbmZpcm1lZF9lbWFpbCI6dHJ1ZSwiYmxvY2tlZCI6ZmFsc2UsInJlZ2lzdGVyZWQiOiIyMDI2MTEyODAxNDkxOCIsImdyb3VwcyI6WyIqIiwidXNlciIsImF1dG9jb25maXJtZWQiXSwicmlnaHRzIjpbImNyZWF0ZWFjY291bnQiLCJyZWFkIiwiZWRpdCIsImNyZWF0ZXBhZ2UiLCJjcmVhdGV0YWxrIiwid3JpdGVhcGkiLCJ2aWV3bXl3YXRjaGxpc3QiLCJlZGl0bXl3YXRjaGxpc3QiLCJ2aWV3bXlwcml2YXRlaW5mbyIsImVkaXRteXByaXZhdGVpbmZvIiwiZWRpdG15b3B0aW9ucyIsIm1vdmUiLCJtb3ZlLXN1YnBhZ2VzIiwibW92ZS1yb290dXNlcnBhZ2VzIiwibW92ZS1jYXRlZ29yeXBhZ2VzIiwibW92ZWZpbGUiLCJ1cGxvYWQiLCJyZXVwbG9hZCIsInJldXBsb2FkLXNoYXJlZCIsIm1pbm9yZWRpdCIsImVkaXRteXVzZXJjc3MiLCJlZGl0bXl1c2VyanNvbiIsImVkaXRteXVzZXJqcyIsImVkaXRteXVzZXJqc3JlZGlyZWN0IiwicHVyZ2UiLCJzZW5kZW1haWwiLCJhcHBseWNoYW5nZXRhZ3MiLCJjaGFuZ2V0YWdzIiwiZWRpdGNvbnRlbnRtb2RlbCIsIm13b2F1dGhtYW5hZ2VteWdyYW50cyIsImF1dG9jb25maXJtZWQiLCJlZGl0c2VtaXByb3RlY3RlZCJdLCJncmFudHMiOnsiMCI6ImJhc2ljIiwiMiI6ImVkaXRwYWdlIiwiMyI6ImhpZ2h2b2x1bWUifSwibm9uY2UiOiIxNTI0NzY3Mzc3NTA1NzMwMjgyMjE3OTU4MzA5ODEifQ.ArxD7Vt7MHkAVpLkPNCcEou9aiyeg9M9oB2DtcGgwxQ";
        let users = crate::users::seed_users();
        let rights: Vec<J> = users[1].rights.iter().map(|r| J::s(r.clone())).collect();
        let claims = J::obj()
            .with("iss", J::s("http://127.0.0.1:8080"))
            .with("aud", J::s("bee2067d6273fa479f7c7ec744cc1b49"))
            .with("exp", J::Int(1795831081))
            .with("iat", J::Int(1795830981))
            .with("sub", J::s("3"))
            .with("username", J::s("OAuthUser"))
            .with("editcount", J::Int(3))
            .with("confirmed_email", J::Bool(true))
            .with("blocked", J::Bool(false))
            .with("registered", J::s("20261128014918"))
            .with(
                "groups",
                J::Arr(vec![J::s("*"), J::s("user"), J::s("autoconfirmed")]),
            )
            .with("rights", J::Arr(rights))
            .with(
                "grants",
                J::obj()
                    .with("0", J::s("basic"))
                    .with("2", J::s("editpage"))
                    .with("3", J::s("highvolume")),
            )
            .with("nonce", J::s("152476737750573028221795830981"));
        let ours = encode_hs256(&claims, "not-the-real-secret");
        let cut = |s: &str| {
            s.rsplit_once('.')
                .map(|(a, _)| a.to_string())
                .unwrap_or_default()
        };
        assert_eq!(cut(&ours), cut(captured));
    }
}
