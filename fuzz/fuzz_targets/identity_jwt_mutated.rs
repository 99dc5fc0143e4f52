//! The identity JWT, tampered with: a valid HS256 token made from fuzzed
//! claims verifies, and the same token with any one byte changed does not.
#![no_main]

use arbitrary::Arbitrary;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use hmac::{Hmac, Mac};
use libfuzzer_sys::fuzz_target;
use rocket_mediawiki_oauth::fuzzing::{verify_identity, Expected};
use serde_json::{json, Value};
use sha2::Sha256;

const KEY: &str = "bee2067d6273fa479f7c7ec744cc1b49";
const SECRET: &str = "78f334db94e07b61b8d5cd14fb4d0b99f988a1bd";
const ISS: &str = "http://127.0.0.1:8080";
const NONCE: &str = "152476737750573028221795830981";
const NOW: i64 = 1795830990;
const LEEWAY: i64 = 120;

#[derive(Debug, Arbitrary)]
enum Sub {
    Number(u64),
    Text(u64),
}

#[derive(Debug, Arbitrary)]
struct Input {
    username: String,
    sub: Sub,
    /// `iat` relative to now (within the leeway).
    skew: i16,
    editcount: Option<u64>,
    blocked: Option<bool>,
    registered: Option<String>,
    groups: Vec<String>,
    rights: Vec<String>,
    /// As a list, or as PHP's object with numeric keys.
    grants: Vec<String>,
    grants_as_object: bool,
    aud_as_list: bool,
    extra: Vec<(String, String)>,
    /// The byte to change, and its new value.
    position: u16,
    value: u8,
}

fn sign(header: &Value, claims: &Value) -> String {
    let h = URL_SAFE_NO_PAD.encode(header.to_string());
    let c = URL_SAFE_NO_PAD.encode(claims.to_string());
    let mut mac = Hmac::<Sha256>::new_from_slice(SECRET.as_bytes()).unwrap();
    mac.update(h.as_bytes());
    mac.update(b".");
    mac.update(c.as_bytes());
    let s = URL_SAFE_NO_PAD.encode(mac.finalize().into_bytes());
    format!("{h}.{c}.{s}")
}

fuzz_target!(|input: Input| {
    let expected = Expected {
        consumer_key: KEY,
        consumer_secret: SECRET,
        issuer_origin: ISS,
        nonce: NONCE,
        now: NOW,
        leeway: LEEWAY,
    };
    let iat = NOW + i64::from(input.skew) % (LEEWAY + 1);
    let mut claims = serde_json::Map::new();
    for (k, v) in &input.extra {
        claims.insert(k.clone(), json!(v));
    }
    let grants = if input.grants_as_object {
        Value::Object(
            input
                .grants
                .iter()
                .enumerate()
                .map(|(i, g)| ((i * 2).to_string(), json!(g)))
                .collect(),
        )
    } else {
        json!(input.grants)
    };
    let fixed = [
        ("iss", json!(ISS)),
        (
            "aud",
            if input.aud_as_list {
                json!(["other", KEY])
            } else {
                json!(KEY)
            },
        ),
        ("iat", json!(iat)),
        ("exp", json!(iat + 100)),
        ("nonce", json!(NONCE)),
        (
            "sub",
            match input.sub {
                Sub::Number(n) => json!(n),
                Sub::Text(n) => json!(n.to_string()),
            },
        ),
        ("username", json!(input.username)),
        ("editcount", json!(input.editcount)),
        ("blocked", json!(input.blocked)),
        ("registered", json!(input.registered)),
        ("groups", json!(input.groups)),
        ("rights", json!(input.rights)),
        ("grants", grants),
    ];
    for (k, v) in fixed {
        claims.insert(k.into(), v);
    }
    let jwt = sign(
        &json!({"typ": "JWT", "alg": "HS256"}),
        &Value::Object(claims),
    );
    let user = verify_identity(&jwt, &expected).expect("a valid token verifies");
    assert_eq!(user.name, input.username);
    assert_eq!(user.grants, input.grants);

    let mut bytes = jwt.into_bytes();
    let at = usize::from(input.position) % bytes.len();
    let value = input.value & 0x7f; // stays UTF-8
    if bytes[at] == value {
        return;
    }
    bytes[at] = value;
    let tampered = String::from_utf8(bytes).unwrap();
    assert!(
        verify_identity(&tampered, &expected).is_err(),
        "byte {at} changed to {value:#x} and still accepted: {tampered}"
    );
});
