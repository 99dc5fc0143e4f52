//! The identities of recently seen session cookies, so that `MwUser` need
//! not decrypt and parse the same cookie on every page.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use rocket::http::CookieJar;

use super::cookies::{CookiePolicy, SESSION_COOKIE};
use super::record::{fresh, read_session};
use crate::user::MwUser;

/// The identities of recently seen session cookies, by their encrypted value,
/// so that `MwUser` need not decrypt and parse the same cookie on every page.
///
/// It holds only the [`MwUser`] (no token or secret), is bounded,
/// and is derived data: an instance without it (or another instance) reads
/// the cookie itself and finds the same user. A cookie value is only ever
/// added after it decrypted with the key, so the cache vouches for nothing
/// the cookie would not.
///
/// Entries are found by a keyed hash of the value's last bytes (the end of
/// the AES-GCM tag, which nobody without the key can choose for a value that
/// decrypts) and then compared in full, so a lookup neither hashes nor copies
/// the whole cookie (≈ 2 KB with OAuth 2.0 tokens).
#[derive(Debug, Default)]
pub(crate) struct UserCache {
    map: Mutex<HashMap<u64, CachedUser>>,
    keys: std::hash::RandomState,
}

#[derive(Debug)]
struct CachedUser {
    value: Box<str>,
    user: Arc<MwUser>,
    verified_at: i64,
}

impl UserCache {
    /// Entries kept at most; the cache starts over when full.
    const MAX_ENTRIES: usize = 4096;
    /// Bytes at the end of a cookie value that pick its entry.
    const KEY_BYTES: usize = 24;

    fn key(&self, value: &str) -> u64 {
        use std::hash::BuildHasher;
        let bytes = value.as_bytes();
        self.keys
            .hash_one(&bytes[bytes.len().saturating_sub(Self::KEY_BYTES)..])
    }

    /// The signed-in user of this request's session cookie, if any.
    pub(crate) fn user(&self, jar: &CookieJar<'_>, policy: &CookiePolicy) -> Option<Arc<MwUser>> {
        let cookie = jar.get(SESSION_COOKIE)?;
        let raw = cookie.value();
        let key = self.key(raw);
        if let Some(hit) = self.map.lock().ok()?.get(&key) {
            if *hit.value == *raw {
                return fresh(hit.verified_at, policy).then(|| hit.user.clone());
            }
        }
        let record = read_session(jar, policy)?;
        let user = Arc::new(record.user);
        if let Ok(mut map) = self.map.lock() {
            if map.len() >= Self::MAX_ENTRIES {
                map.clear();
            }
            map.insert(
                key,
                CachedUser {
                    value: raw.into(),
                    user: user.clone(),
                    verified_at: record.verified_at,
                },
            );
        }
        Some(user)
    }
}
