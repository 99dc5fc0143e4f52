//! Session cookies as the crate writes them (format 3, documented in
//! src/session/record.rs and src/compact.rs), written here independently of
//! the crate, for users who never signed in: the load benchmark's 100,000
//! users and the micro benchmark's cookie never seen.

use aes_gcm::aead::{Aead, Payload};
use aes_gcm::{Aes256Gcm, KeyInit};
use base64::Engine;
use rand::RngCore;

/// An OAuth 1.0a user (hex token and secret), confirmed, registered.
pub struct User<'a> {
    pub name: &'a str,
    pub central_id: u64,
    pub editcount: u64,
    pub registered: &'a str,
    pub groups: &'a [&'a str],
    pub grants: &'a [&'a str],
    pub token: &'a str,
    pub secret: &'a str,
}

/// The key of format-3 session cookies: HKDF-SHA256 of `secret_key`'s
/// bytes, salt "rocket_mediawiki_oauth cookie", info "session record v3".
pub fn cookie_key(master: &[u8]) -> Aes256Gcm {
    let mut key = [0u8; 32];
    hkdf::Hkdf::<sha2::Sha256>::new(Some(b"rocket_mediawiki_oauth cookie"), master)
        .expand(b"session record v3", &mut key)
        .unwrap();
    Aes256Gcm::new(&key.into())
}

/// The session cookie's value (`3.…`) of `user`, confirmed by the wiki at
/// `now`, for the app bound as `app` ([`app_binding`], hex).
pub fn session_cookie(key: &Aes256Gcm, user: &User<'_>, now: i64, app: &str) -> String {
    let (values, random) = compact(user, now, app);
    let deflated = miniz_oxide::deflate::compress_to_vec(&values, 9);
    let mut body = leb128(deflated.len() as u64);
    body.extend_from_slice(&deflated);
    body.extend_from_slice(&random);
    let mut nonce = [0u8; 12];
    rand::rngs::OsRng.fill_bytes(&mut nonce);
    let sealed = key
        .encrypt(
            aes_gcm::Nonce::from_slice(&nonce),
            Payload {
                msg: &body,
                aad: b"mwoauth_session v3",
            },
        )
        .unwrap();
    format!(
        "3.{}",
        base64::engine::general_purpose::URL_SAFE_NO_PAD
            .encode([nonce.as_slice(), &sealed].concat())
    )
}

/// What binds a record to the app that made it: the first 12 bytes, in
/// hex, of SHA-256 over the length-prefixed parts "rocket_mediawiki_oauth
/// record binding", the wiki's `api.php` URL, the protocol ("oauth 1.0a" or
/// "oauth 2.0") and the consumer key (client id).
pub fn app_binding(api_url: &str, oauth2: bool, consumer: &str) -> String {
    use sha2::{Digest, Sha256};
    let protocol = if oauth2 { "oauth 2.0" } else { "oauth 1.0a" };
    let mut digest = Sha256::new();
    for part in [
        "rocket_mediawiki_oauth record binding",
        api_url,
        protocol,
        consumer,
    ] {
        digest.update((part.len() as u64).to_be_bytes());
        digest.update(part.as_bytes());
    }
    digest.finalize()[..12]
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

fn leb128(mut n: u64) -> Vec<u8> {
    let mut out = Vec::new();
    while n >= 0x80 {
        out.push((n as u8) | 0x80);
        n >>= 7;
    }
    out.push(n as u8);
    out
}

/// The record in format 3's layout: its values, and the random bytes of its
/// hex tokens (their lengths among the values).
fn compact(user: &User<'_>, now: i64, app: &str) -> (Vec<u8>, Vec<u8>) {
    let (mut values, mut random) = (vec![3u8], Vec::new());
    let mut hex = |values: &mut Vec<u8>, text: &str| {
        let bytes: Vec<u8> = (0..text.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(&text[i..i + 2], 16).unwrap())
            .collect();
        values.push(1);
        values.extend(leb128(bytes.len() as u64));
        random.extend(bytes);
    };
    let str = |values: &mut Vec<u8>, text: &str| {
        values.extend(leb128(text.len() as u64));
        values.extend_from_slice(text.as_bytes());
    };
    hex(&mut values, app);
    values.extend(leb128(((now << 1) ^ (now >> 63)) as u64));
    str(&mut values, user.name);
    values.extend(leb128(user.central_id));
    values.extend(leb128(user.editcount));
    values.push(0b110); // confirmed, registered
    str(&mut values, user.registered);
    for list in [user.groups, user.grants] {
        values.extend(leb128(list.len() as u64));
        for item in list {
            str(&mut values, item);
        }
    }
    values.push(1); // OAuth 1.0a
    hex(&mut values, user.token);
    hex(&mut values, user.secret);
    (values, random)
}
