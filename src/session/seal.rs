//! Sealing with AES-256-GCM under a key derived from Rocket's `secret_key`
//! (HKDF-SHA256, one key per purpose): the session cookie's record, and
//! Redis's records.

use aes_gcm::aead::{Aead, KeyInit, Payload};
use aes_gcm::{Aes256Gcm, Nonce};
use rand::RngCore;
use sha2::Sha256;

/// Bytes of the random nonce in front of every sealed value.
const NONCE: usize = 12;
/// Bytes of the authentication tag at its end.
pub(super) const TAG: usize = 16;

/// A key for one purpose.
pub(crate) struct Sealer {
    /// The expanded key (≈ 1 KB).
    cipher: Box<Aes256Gcm>,
}

impl std::fmt::Debug for Sealer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Sealer([redacted])")
    }
}

impl Sealer {
    /// The key HKDF-SHA256 derives from `secret` (the bytes of
    /// `secret_key`) with `salt` and `info`.
    pub(super) fn derive(secret: &[u8], salt: &[u8], info: &[u8]) -> Sealer {
        let mut key = [0u8; 32];
        hkdf::Hkdf::<Sha256>::new(Some(salt), secret)
            .expand(info, &mut key)
            .expect("32 bytes is a valid HKDF-SHA256 length");
        Sealer {
            cipher: Box::new(Aes256Gcm::new(&key.into())),
        }
    }

    /// The nonce, then `plain` encrypted and authenticated together with
    /// `aad` (which is not stored: [`Sealer::open`] must be given it).
    pub(super) fn seal(&self, aad: &[u8], plain: &[u8]) -> Vec<u8> {
        let mut nonce = [0u8; NONCE];
        rand::rngs::OsRng.fill_bytes(&mut nonce);
        let sealed = self
            .cipher
            .encrypt(Nonce::from_slice(&nonce), Payload { msg: plain, aad })
            .expect("AES-GCM encrypts anything shorter than 64 GB");
        [nonce.as_slice(), &sealed].concat()
    }

    /// What [`Sealer::seal`] sealed with this key and `aad`; `None` for
    /// anything else (another key, a changed byte, a truncated value).
    pub(super) fn open(&self, aad: &[u8], value: &[u8]) -> Option<Vec<u8>> {
        if value.len() < NONCE + TAG {
            return None;
        }
        let (nonce, sealed) = value.split_at(NONCE);
        self.cipher
            .decrypt(Nonce::from_slice(nonce), Payload { msg: sealed, aad })
            .ok()
    }
}

/// The bytes of Rocket's `secret_key`, decoded as Rocket decodes it
/// (base64 for 44 or 88 characters, hex for 64 or 128, else the text
/// itself; an array of bytes as it is); without one (the debug profile), a
/// random key for this process, as Rocket's own cookies then have.
pub(super) fn secret_key(rocket: &rocket::Rocket<rocket::Build>) -> Vec<u8> {
    use base64::Engine;
    let figment = rocket.figment();
    if let Ok(bytes) = figment.extract_inner::<Vec<u8>>("secret_key") {
        if !bytes.is_empty() {
            return bytes;
        }
    }
    let given = figment
        .extract_inner::<String>("secret_key")
        .ok()
        .filter(|k| !k.is_empty());
    match given {
        Some(k) => {
            let decoded = match k.len() {
                44 | 88 => base64::engine::general_purpose::STANDARD.decode(&k).ok(),
                64 | 128 => (0..k.len())
                    .step_by(2)
                    .map(|i| u8::from_str_radix(k.get(i..i + 2)?, 16).ok())
                    .collect(),
                _ => None,
            };
            decoded.unwrap_or_else(|| k.into_bytes())
        }
        None => {
            let mut key = vec![0u8; 64];
            rand::rngs::OsRng.fill_bytes(&mut key);
            key
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secret_key_reads_as_rocket_reads_it() {
        let key = |value: rocket::figment::value::Value| {
            let figment = rocket::Config::figment().merge(("secret_key", value));
            secret_key(&rocket::custom(figment))
        };
        let bytes: Vec<u8> = (0..64).collect();
        use base64::Engine;
        let b64 = base64::engine::general_purpose::STANDARD.encode(&bytes);
        let hex: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
        assert_eq!(key(b64.into()), bytes);
        assert_eq!(key(hex.into()), bytes);
        assert_eq!(key(bytes.clone().into()), bytes, "an array of bytes");
        assert_eq!(key("not a key".into()), b"not a key");
    }

    #[test]
    fn only_the_same_key_and_aad_open_a_value() {
        let a = Sealer::derive(&[1; 64], b"salt", b"info");
        let sealed = a.seal(b"aad", b"record");
        assert_eq!(a.open(b"aad", &sealed).as_deref(), Some(&b"record"[..]));
        assert_eq!(a.open(b"other", &sealed), None);
        assert_eq!(
            Sealer::derive(&[2; 64], b"salt", b"info").open(b"aad", &sealed),
            None
        );
        assert_eq!(
            Sealer::derive(&[1; 64], b"salt", b"other").open(b"aad", &sealed),
            None
        );
        for i in 0..sealed.len() {
            let mut changed = sealed.clone();
            changed[i] ^= 1;
            assert_eq!(a.open(b"aad", &changed), None, "byte {i} changed");
        }
        assert_eq!(a.open(b"aad", &sealed[..NONCE + TAG - 1]), None);
        assert_ne!(a.seal(b"aad", b"record"), sealed, "a new nonce every time");
    }
}
