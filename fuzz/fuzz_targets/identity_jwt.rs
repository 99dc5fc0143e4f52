//! The identity JWT, from arbitrary input: nothing verifies unless it is an
//! HS256 token signed with the consumer secret (checked here independently).
#![no_main]

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use hmac::{Hmac, Mac};
use libfuzzer_sys::fuzz_target;
use rocket_mediawiki_oauth::fuzzing::{verify_identity, Expected};
use sha2::Sha256;

const SECRET: &str = "78f334db94e07b61b8d5cd14fb4d0b99f988a1bd";

fn expected() -> Expected<'static> {
    Expected {
        consumer_key: "bee2067d6273fa479f7c7ec744cc1b49",
        consumer_secret: SECRET,
        issuer_origin: "http://127.0.0.1:8080",
        nonce: "152476737750573028221795830981",
        now: 1795830990,
        leeway: 120,
    }
}

/// Whether `jwt` is three parts whose signature is the HS256 of the first two.
fn signed_with_secret(jwt: &str) -> bool {
    let parts: Vec<&str> = jwt.trim().split('.').collect();
    let [h, c, s] = parts[..] else {
        return false;
    };
    let Ok(signature) = URL_SAFE_NO_PAD.decode(s) else {
        return false;
    };
    let mut mac = Hmac::<Sha256>::new_from_slice(SECRET.as_bytes()).unwrap();
    mac.update(h.as_bytes());
    mac.update(b".");
    mac.update(c.as_bytes());
    mac.verify_slice(&signature).is_ok()
}

fn header_alg(jwt: &str) -> Option<String> {
    let h = jwt.trim().split('.').next()?;
    let v: serde_json::Value = serde_json::from_slice(&URL_SAFE_NO_PAD.decode(h).ok()?).ok()?;
    Some(v.get("alg")?.as_str()?.to_string())
}

fuzz_target!(|data: &[u8]| {
    let Ok(jwt) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(_user) = verify_identity(jwt, &expected()) {
        assert!(
            signed_with_secret(jwt),
            "accepted without a valid signature: {jwt:?}"
        );
        assert_eq!(header_alg(jwt).as_deref(), Some("HS256"), "{jwt:?}");
    }
});
