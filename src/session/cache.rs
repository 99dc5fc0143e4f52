//! The opened records of recently seen session cookies, so that neither
//! `MwUser` nor `MwApi` decrypts and parses the same cookie on every
//! request.

use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};
use std::sync::{Arc, Mutex};

use rocket::http::CookieJar;

use super::cookies::{CookiePolicy, SESSION_COOKIE};
use super::record::{fresh, read_session, SessionRecord};
use super::seal::Sealer;
use crate::user::MwUser;

/// The opened records of recently seen session cookies, by their encrypted
/// value (cookie store), so that `MwUser` and `MwApi` need not decrypt and
/// parse the same cookie on every request.
///
/// It holds the record the cookie holds (the tokens too) and nothing the
/// cookie does not; it is bounded ([`Self::MAX_ENTRIES`], then it starts
/// over: at most ≈ 4096 × 5.5 KB ≈ 22 MB with OAuth 2.0's long tokens, the
/// cookie value, the record and its user each kept once), and is derived
/// data: an instance without it (or another instance) reads the cookie
/// itself and finds the same record. A cookie value is only ever added after
/// it decrypted with the key and was found to be this app's
/// ([`read_session`]), so the cache vouches for nothing the cookie would
/// not. Whether the record is still within the sign-in lifetime is decided
/// on every hit, by the same function as for a cookie opened anew
/// ([`fresh`]).
///
/// Entries are found by the value's last 8 characters (the end of the
/// AES-GCM tag in base64: 48 random bits that nobody without the key can
/// choose for a value that decrypts, and only values that decrypted are
/// added) and then compared in full, so a lookup neither hashes nor copies
/// the whole cookie (≈ 1.5 KB with OAuth 2.0 tokens).
#[derive(Default)]
pub(crate) struct UserCache {
    map: Mutex<HashMap<u64, CachedRecord, BuildHasherDefault<Keyed>>>,
}

/// The number of entries only: each holds a session cookie's value.
impl std::fmt::Debug for UserCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let entries = self.map.lock().map_or(0, |m| m.len());
        f.debug_struct("UserCache")
            .field("entries", &entries)
            .finish_non_exhaustive()
    }
}

/// The map's keys are random already ([`UserCache::key`]): mixed, not
/// hashed again.
#[derive(Debug, Default)]
struct Keyed(u64);

impl Hasher for Keyed {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        // Only `u64` keys are hashed; anything else still spreads.
        for &b in bytes {
            self.0 = self.0.rotate_left(8) ^ u64::from(b);
        }
    }

    fn write_u64(&mut self, n: u64) {
        // Spread the characters' bits over the whole word (the table uses
        // both ends of it).
        let x = n.wrapping_mul(0x9E37_79B9_7F4A_7C15);
        self.0 = x ^ (x >> 29);
    }
}

struct CachedRecord {
    value: Box<str>,
    record: Arc<SessionRecord>,
    /// The record's user, shared with the pages that borrow it (`&MwUser`).
    user: Arc<MwUser>,
}

impl UserCache {
    /// Entries kept at most; the cache starts over when full.
    const MAX_ENTRIES: usize = 4096;

    fn key(&self, value: &str) -> u64 {
        let bytes = value.as_bytes();
        let mut last = [0u8; 8];
        let tail = &bytes[bytes.len().saturating_sub(8)..];
        last[..tail.len()].copy_from_slice(tail);
        u64::from_le_bytes(last)
    }

    /// The opened record of this request's session cookie and its user, if
    /// any: from the cache when this value was opened before.
    fn entry(
        &self,
        jar: &CookieJar<'_>,
        policy: &CookiePolicy,
        sealer: &Sealer,
    ) -> Option<(Arc<SessionRecord>, Arc<MwUser>)> {
        let cookie = jar.get(SESSION_COOKIE)?;
        let raw = cookie.value();
        let key = self.key(raw);
        if let Some(hit) = self.map.lock().ok()?.get(&key) {
            if *hit.value == *raw {
                return fresh(hit.record.verified_at, policy)
                    .then(|| (hit.record.clone(), hit.user.clone()));
            }
        }
        let record = Arc::new(read_session(jar, policy, sealer)?);
        let user = Arc::new(record.user.clone());
        if let Ok(mut map) = self.map.lock() {
            if map.len() >= Self::MAX_ENTRIES {
                map.clear();
            }
            map.insert(
                key,
                CachedRecord {
                    value: raw.into(),
                    record: record.clone(),
                    user: user.clone(),
                },
            );
        }
        Some((record, user))
    }

    /// The signed-in user of this request's session cookie, if any.
    pub(crate) fn user(
        &self,
        jar: &CookieJar<'_>,
        policy: &CookiePolicy,
        sealer: &Sealer,
    ) -> Option<Arc<MwUser>> {
        self.entry(jar, policy, sealer).map(|(_, user)| user)
    }

    /// The signed-in record of this request's session cookie, if any.
    pub(crate) fn record(
        &self,
        jar: &CookieJar<'_>,
        policy: &CookiePolicy,
        sealer: &Sealer,
    ) -> Option<Arc<SessionRecord>> {
        self.entry(jar, policy, sealer).map(|(record, _)| record)
    }
}
