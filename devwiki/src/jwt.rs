//! HS256 JWT encoding as firebase/php-jwt does it (`JWT::encode`), and the
//! RS256 access tokens of Extension:OAuth's OAuth 2.0 (lcobucci/jwt).

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

/// The wiki's OAuth 2.0 signing key (`$wgOAuth2PrivateKey`): a THROWAWAY
/// 2048-bit RSA key generated for devwiki with `openssl genpkey -algorithm
/// RSA -pkeyopt rsa_keygen_bits:2048 -outform DER`, then `openssl pkcs8
/// -topk8 -nocrypt -inform DER -outform DER` (ring reads PKCS#8). It is public
/// in this repository and signs nothing but local development tokens;
/// never use it anywhere else.
const DEV_OAUTH2_KEY_PKCS8: &[u8] = include_bytes!("dev_oauth2_key.der");

fn dev_key() -> Option<&'static ring::signature::RsaKeyPair> {
    static KEY: std::sync::OnceLock<Option<ring::signature::RsaKeyPair>> =
        std::sync::OnceLock::new();
    KEY.get_or_init(|| ring::signature::RsaKeyPair::from_pkcs8(DEV_OAUTH2_KEY_PKCS8).ok())
        .as_ref()
}

/// The public half of the development key (DER `RSAPublicKey`), what a
/// client would configure as `$wgOAuth2PublicKey`.
pub(crate) fn dev_public_key_der() -> Vec<u8> {
    use ring::signature::KeyPair as _;
    dev_key()
        .map(|k| k.public_key().as_ref().to_vec())
        .unwrap_or_default()
}

/// Encodes an OAuth 2.0 access token as lcobucci/jwt does: header
/// `{"typ":"JWT","alg":"RS256"}`, the claims JSON as given (already
/// encoded, in the wiki's order), RSASSA-PKCS1-v1_5 SHA-256 with the
/// development key (a 256-byte signature).
pub(crate) fn encode_rs256(claims_json: &str) -> String {
    let header = b64url(br#"{"typ":"JWT","alg":"RS256"}"#);
    let payload = b64url(claims_json.as_bytes());
    let signing_input = format!("{header}.{payload}");
    let sig = dev_key()
        .and_then(|k| {
            let mut sig = vec![0u8; k.public().modulus_len()];
            k.sign(
                &ring::signature::RSA_PKCS1_SHA256,
                &ring::rand::SystemRandom::new(),
                signing_input.as_bytes(),
                &mut sig,
            )
            .ok()
            .map(|()| sig)
        })
        .unwrap_or_default();
    format!("{signing_input}.{}", b64url(&sig))
}

/// The parts and claims of a compact JWT, or the lcobucci/jwt-style
/// reason it cannot be read.
fn parse(token: &str) -> Result<(Vec<&str>, serde_json::Value, Vec<u8>), String> {
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
    Ok((parts, claims, sig))
}

/// The claims of a JWT, without checking its signature (a token of
/// another wiki of the farm, `DevWiki::import_oauth2_token`).
pub(crate) fn claims_unverified(token: &str) -> Result<serde_json::Value, String> {
    parse(token).map(|(_, claims, _)| claims)
}

/// Checks an RS256 access token made by [`encode_rs256`] with the
/// development key's public half, and returns its claims, or the
/// lcobucci/jwt-style reason it is refused.
pub(crate) fn decode_rs256(token: &str) -> Result<serde_json::Value, String> {
    let (parts, claims, sig) = parse(token)?;
    let public = dev_public_key_der();
    let key = ring::signature::UnparsedPublicKey::new(
        &ring::signature::RSA_PKCS1_2048_8192_SHA256,
        public.as_slice(),
    );
    let input = format!("{}.{}", parts[0], parts[1]);
    key.verify(input.as_bytes(), &sig)
        .map_err(|_| "Access token could not be verified".to_string())?;
    Ok(claims)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rs256_signs_and_verifies_with_the_dev_key() {
        let token = encode_rs256(r#"{"aud":"x","jti":"y"}"#);
        let (head, rest) = token.split_once('.').unwrap();
        assert_eq!(head, "eyJ0eXAiOiJKV1QiLCJhbGciOiJSUzI1NiJ9");
        // A 2048-bit key: 256 signature bytes, 342 base64url characters.
        assert_eq!(rest.rsplit_once('.').unwrap().1.len(), 342);
        assert_eq!(decode_rs256(&token).unwrap()["jti"], "y");
        let mut tampered = token.clone();
        tampered.replace_range(token.len() - 4.., "AAAA");
        assert_eq!(
            decode_rs256(&tampered).unwrap_err(),
            "Access token could not be verified"
        );
        let hs = encode_hs256(&J::obj().with("jti", J::s("y")), "k");
        assert!(decode_rs256(&hs).is_err());
        assert_eq!(
            decode_rs256("a.b").unwrap_err(),
            "The JWT string must have two dots"
        );
    }

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
