//! The Redis side of the store (`store = "redis"`, cargo feature `redis`).
//!
//! | key | holds | lifetime |
//! |---|---|---|
//! | `<prefix>s:<sha256(id)>` | the record, AES-256-GCM encrypted (random nonce, the session id as associated data) | `session_days`, renewed by every write |
//! | `<prefix>u:<sha256(central id)>` | a set: the user's sessions (the `s:` hashes), for [`RedisStore::sign_out_everywhere`] | `session_days`, renewed by every write |
//! | `<prefix>l:<sha256(id)>` | the refresh lock: a random token, `SET NX PX` | the wiki's `timeout` twice, and 5 s |
//! | channel `<prefix>inv` | the `s:` hash of a session whose record changed or ended | — |
//!
//! Key names are digests, so whoever lists the keys of a shared Redis learns
//! no session id (which is the cookie) and no user; the values are encrypted
//! with a key derived (HKDF-SHA256) from Rocket's `secret_key`.
//!
//! Every call is bounded by [`REDIS_TIMEOUT`]; a call that fails or takes
//! longer is [`Unavailable`] (a 503 page, nobody signed out). The
//! connection is a `redis` `ConnectionManager` (one multiplexed connection
//! that reconnects by itself: no pool to size), made lazily, so an app
//! starts while Redis is down and serves once it is back.
//!
//! Records read are kept in a bounded in-process cache ([`RecordCache`]), so
//! a signed-in page does not cost a Redis round trip. A logout, a sign-out
//! everywhere and a refresh publish the session's hash on `<prefix>inv`;
//! every instance subscribes and drops the entry (milliseconds). While the
//! subscription is down (and for a fresh one, whose cache is cleared first),
//! an entry is trusted for at most [`UNSUBSCRIBED_TRUST`]; with it up, for at
//! most [`SUBSCRIBED_TRUST`] (a message lost on a broken connection).

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, Weak};
use std::time::{Duration, Instant};

use base64::Engine;
use futures_util::StreamExt;
use rand::RngCore;
use redis::aio::{ConnectionManager, ConnectionManagerConfig};
use redis::AsyncCommands;
use sha2::{Digest, Sha256};

use super::cookies::CookiePolicy;
use super::record::Unavailable;
use super::record::{decode_record, encode_record, SessionRecord, TooLarge};
use super::seal::Sealer;
use crate::user::MwUser;

/// What [`RedisStore::confirm`] did.
pub(crate) enum Confirmed {
    /// The record holds the confirmed user (or others wrote it meanwhile:
    /// the session lives on).
    Kept,
    /// The session ended meanwhile: nothing written.
    Gone,
    /// The record with the confirmed user is too large for a cookie.
    TooLarge(TooLarge),
}

/// What [`RedisStore::begin_refresh`] found.
pub(crate) enum Found {
    /// The lock is this request's; the record as Redis has it now.
    Locked(Lock, Arc<SessionRecord>),
    /// Another request renewed the tokens meanwhile.
    Renewed(Arc<SessionRecord>),
    /// The session ended meanwhile.
    Gone,
}

/// The longest a Redis call may take before the page answers 503.
pub(crate) const REDIS_TIMEOUT: Duration = Duration::from_secs(2);
/// How long a cached record is trusted while this instance is not
/// subscribed to invalidations (Redis down, or reconnecting).
pub(crate) const UNSUBSCRIBED_TRUST: Duration = Duration::from_secs(5);
/// How long a cached record is trusted with the subscription up.
pub(crate) const SUBSCRIBED_TRUST: Duration = Duration::from_secs(60);
/// How often a request waiting for another's refresh looks again.
const POLL: Duration = Duration::from_millis(50);
/// Bytes of a session id (before base64url: 43 characters in the cookie).
const ID_BYTES: usize = 32;

/// A new random session id: 32 bytes from the OS's generator, base64url
/// (43 characters; the whole cookie value).
pub(crate) fn new_session_id() -> String {
    let mut bytes = [0u8; ID_BYTES];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

/// Whether `value` has the shape of a session id (anything else is
/// "signed out" without asking Redis).
pub(crate) fn valid_session_id(value: &str) -> bool {
    value.len() == 43
        && base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(value)
            .is_ok_and(|b| b.len() == ID_BYTES)
}

fn digest_hex(parts: &[&[u8]]) -> String {
    let mut d = Sha256::new();
    for p in parts {
        d.update((p.len() as u64).to_be_bytes());
        d.update(p);
    }
    d.finalize().iter().map(|b| format!("{b:02x}")).collect()
}

/// The hash that names a session in Redis (never the id itself).
fn session_hash(id: &str) -> String {
    digest_hex(&[b"mwoauth session", id.as_bytes()])
}

/// The refresh lock's token.
pub(crate) struct Lock {
    key: String,
    token: String,
}

/// The records read lately, by session id (the cookie's value: a hit costs
/// no digest), each with its user (shared by every page that reads it),
/// and when it was read; invalidations name the session hash, which `ids`
/// maps to the id.
#[derive(Default)]
struct RecordCache(Mutex<CachedRecords>);

#[derive(Default)]
struct CachedRecords {
    by_id: HashMap<Box<str>, CachedRecord>,
    /// Session hash → id, for invalidations (they name the hash).
    ids: HashMap<String, Box<str>>,
    /// Counts removals and clears: a record read from Redis is kept only
    /// if none happened while it was being read (else an invalidation that
    /// arrived meanwhile would be undone, for up to [`SUBSCRIBED_TRUST`]).
    generation: u64,
}

struct CachedRecord {
    record: Arc<SessionRecord>,
    user: Arc<MwUser>,
    at: Instant,
}

impl RecordCache {
    const MAX_ENTRIES: usize = 4096;

    fn lock(&self) -> std::sync::MutexGuard<'_, CachedRecords> {
        self.0.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The record of session `id` and its user, if read within `trust`.
    fn get(&self, id: &str, trust: Duration) -> Option<(Arc<SessionRecord>, Arc<MwUser>)> {
        self.lock()
            .by_id
            .get(id)
            .filter(|e| e.at.elapsed() < trust)
            .map(|e| (e.record.clone(), e.user.clone()))
    }

    /// The generation to give [`RecordCache::put`] for a read starting now.
    fn generation(&self) -> u64 {
        self.lock().generation
    }

    /// Keeps `record` (read from Redis since `generation`) unless an entry
    /// was removed meanwhile; its user, shared, either way.
    fn put(
        &self,
        id: &str,
        hash: &str,
        record: Arc<SessionRecord>,
        generation: u64,
    ) -> Arc<MwUser> {
        let user = Arc::new(record.user.clone());
        let mut cache = self.lock();
        if cache.generation != generation {
            return user;
        }
        if cache.by_id.len() >= Self::MAX_ENTRIES {
            cache.by_id.clear();
            cache.ids.clear();
        }
        cache.ids.insert(hash.to_string(), id.into());
        cache.by_id.insert(
            id.into(),
            CachedRecord {
                record,
                user: user.clone(),
                at: Instant::now(),
            },
        );
        user
    }

    /// Forgets the session named `hash` (an invalidation, a logout).
    fn remove(&self, hash: &str) {
        let mut cache = self.lock();
        cache.generation = cache.generation.wrapping_add(1);
        if let Some(id) = cache.ids.remove(hash) {
            cache.by_id.remove(&id);
        }
    }

    fn clear(&self) {
        let mut cache = self.lock();
        cache.generation = cache.generation.wrapping_add(1);
        cache.by_id.clear();
        cache.ids.clear();
    }
}

/// Sessions in Redis.
pub(crate) struct RedisStore {
    client: redis::Client,
    conn: ConnectionManager,
    prefix: String,
    sealer: Sealer,
    cache: RecordCache,
    subscribed: AtomicBool,
    lock_ttl: Duration,
    days: u32,
}

impl RedisStore {
    /// Connects lazily to `url` (nothing is sent before the first request,
    /// so the app starts while Redis is down) and starts the subscription
    /// to invalidations. `secret` is Rocket's `secret_key` (its bytes);
    /// `lock_ttl` bounds a refresh (the wiki's timeout, twice, and a margin).
    pub(crate) fn start(
        url: &str,
        prefix: &str,
        secret: &[u8],
        lock_ttl: Duration,
        session_days: u32,
    ) -> Result<Arc<RedisStore>, String> {
        let client = redis::Client::open(url).map_err(|e| {
            format!(
                "mwoauth.redis_url {}: {e}",
                crate::config::redacted_url(url)
            )
        })?;
        let config = ConnectionManagerConfig::new()
            .set_connection_timeout(Some(REDIS_TIMEOUT))
            .set_response_timeout(Some(REDIS_TIMEOUT))
            .set_number_of_retries(1)
            .set_max_delay(Duration::from_millis(500));
        let conn = ConnectionManager::new_lazy_with_config(client.clone(), config)
            .map_err(|e| format!("cannot set up the Redis connection: {e}"))?;
        let store = Arc::new(RedisStore {
            client,
            conn,
            prefix: prefix.to_string(),
            sealer: Sealer::derive(
                secret,
                b"rocket_mediawiki_oauth redis",
                b"session records v1",
            ),
            cache: RecordCache::default(),
            subscribed: AtomicBool::new(false),
            lock_ttl,
            days: session_days,
        });
        tokio::spawn(subscribe(Arc::downgrade(&store)));
        Ok(store)
    }

    /// Sends PING (at launch, to warn early).
    pub(crate) async fn ping(&self) -> Result<(), String> {
        let mut conn = self.conn.clone();
        match tokio::time::timeout(
            REDIS_TIMEOUT,
            redis::cmd("PING").query_async::<String>(&mut conn),
        )
        .await
        {
            Ok(Ok(_)) => Ok(()),
            Ok(Err(e)) => Err(e.to_string()),
            Err(_) => Err(format!("no answer within {REDIS_TIMEOUT:?}")),
        }
    }

    fn key(&self, kind: &str, hash: &str) -> String {
        format!("{}{kind}:{hash}", self.prefix)
    }

    fn channel(&self) -> String {
        format!("{}inv", self.prefix)
    }

    fn ttl_seconds(&self) -> u64 {
        u64::from(self.days) * 86_400
    }

    /// Runs one Redis call within [`REDIS_TIMEOUT`].
    async fn call<T, F>(
        &self,
        what: &str,
        f: impl FnOnce(ConnectionManager) -> F,
    ) -> Result<T, Unavailable>
    where
        F: std::future::Future<Output = redis::RedisResult<T>>,
    {
        match tokio::time::timeout(REDIS_TIMEOUT, f(self.conn.clone())).await {
            Ok(Ok(v)) => Ok(v),
            Ok(Err(e)) => {
                log::warn!("MediaWiki OAuth: Redis {what} failed: {e}");
                Err(Unavailable)
            }
            Err(_) => {
                log::warn!("MediaWiki OAuth: Redis {what} took more than {REDIS_TIMEOUT:?}");
                Err(Unavailable)
            }
        }
    }

    fn seal(&self, id: &str, json: &str) -> Vec<u8> {
        self.sealer.seal(&record_aad(id), json.as_bytes())
    }

    fn open(&self, id: &str, value: &[u8]) -> Option<String> {
        String::from_utf8(self.sealer.open(&record_aad(id), value)?).ok()
    }

    /// The trust bound of a cached record now.
    fn trust(&self) -> Duration {
        if self.subscribed.load(Ordering::Acquire) {
            SUBSCRIBED_TRUST
        } else {
            UNSUBSCRIBED_TRUST
        }
    }

    /// The record of session `id` and its user, from the cache when it can
    /// be trusted.
    pub(crate) async fn read(
        &self,
        id: &str,
        policy: &CookiePolicy,
    ) -> Result<Option<(Arc<SessionRecord>, Arc<MwUser>)>, Unavailable> {
        if let Some((record, user)) = self.cache.get(id, self.trust()) {
            if super::record::fresh(record.verified_at, policy) {
                return Ok(Some((record, user)));
            }
        }
        let hash = session_hash(id);
        let generation = self.cache.generation();
        let record = self.read_from_redis(id, &hash, policy).await?;
        Ok(record.map(|r| {
            let user = self.cache.put(id, &hash, r.clone(), generation);
            (r, user)
        }))
    }

    /// The record of session `id` as Redis has it now (not cached: the
    /// caller caches what it keeps).
    async fn read_from_redis(
        &self,
        id: &str,
        hash: &str,
        policy: &CookiePolicy,
    ) -> Result<Option<Arc<SessionRecord>>, Unavailable> {
        let key = self.key("s", hash);
        let value: Option<Vec<u8>> = self
            .call("GET", |mut c| async move { c.get(key).await })
            .await?;
        let record = value
            .and_then(|v| self.open(id, &v))
            .and_then(|json| decode_record(&json, policy))
            .map(Arc::new);
        if record.is_none() {
            self.cache.remove(hash);
        }
        Ok(record)
    }

    /// Writes the record of session `id` as `when` allows (one script: the
    /// old record is replaced at once, or not at all), indexes it under the
    /// user and tells every instance. `false`: not written, because the
    /// session ended meanwhile (logout, signed out everywhere) or, for
    /// [`Write::IfUnchanged`], was written by another request.
    async fn write_when(
        &self,
        id: &str,
        json: &str,
        central_id: u64,
        when: Write<'_>,
    ) -> Result<bool, Unavailable> {
        let hash = session_hash(id);
        let value = self.seal(id, json);
        let ttl = self.ttl_seconds();
        let key = self.key("s", &hash);
        let user = self.key(
            "u",
            &digest_hex(&[b"mwoauth user", &central_id.to_be_bytes()]),
        );
        let (mode, expected): (&str, &[u8]) = match when {
            Write::New => ("new", b""),
            Write::IfExists => ("exists", b""),
            Write::IfUnchanged(old) => ("unchanged", old),
        };
        let script = redis::Script::new(WRITE_SCRIPT);
        let (channel, prefix, member) = (self.channel(), self.prefix.clone(), hash.clone());
        let written: i64 = self
            .call("SET", |mut c| async move {
                script
                    .key(&key)
                    .key(&user)
                    .arg(value)
                    .arg(ttl)
                    .arg(&member)
                    .arg(&channel)
                    .arg(mode)
                    .arg(expected)
                    .arg(&prefix)
                    .invoke_async(&mut c)
                    .await
            })
            .await?;
        // This instance's next read fetches it again (decoded by the policy).
        self.cache.remove(&hash);
        Ok(written == 1)
    }

    /// Writes the record of a new session `id` (a sign-in).
    pub(crate) async fn write_new(
        &self,
        id: &str,
        json: &str,
        central_id: u64,
    ) -> Result<(), Unavailable> {
        self.write_when(id, json, central_id, Write::New)
            .await
            .map(|_| ())
    }

    /// Replaces the record of session `id` (renewed tokens, under the
    /// refresh lock) if the session still exists; `false` if it ended
    /// meanwhile: a logout is never undone by a request that was in flight.
    pub(crate) async fn replace(
        &self,
        id: &str,
        json: &str,
        central_id: u64,
    ) -> Result<bool, Unavailable> {
        self.write_when(id, json, central_id, Write::IfExists).await
    }

    /// Keeps `user` (the wiki just confirmed it) in the record of session
    /// `id` with the tokens Redis holds now, which another request may have
    /// renewed since this one read them (writing the older ones back would
    /// put spent tokens in the session). `false` if the session ended.
    pub(crate) async fn confirm(
        &self,
        id: &str,
        user: &MwUser,
        policy: &CookiePolicy,
    ) -> Result<Confirmed, Unavailable> {
        let hash = session_hash(id);
        let key = self.key("s", &hash);
        for _ in 0..3 {
            let key = key.clone();
            let raw: Option<Vec<u8>> = self
                .call("GET", |mut c| async move { c.get(key).await })
                .await?;
            let Some(now) = raw
                .as_deref()
                .and_then(|v| self.open(id, v))
                .and_then(|json| decode_record(&json, policy))
            else {
                self.cache.remove(&hash);
                return Ok(Confirmed::Gone);
            };
            let json = match encode_record(policy, now.credentials, user) {
                Ok(json) => json,
                Err(too_large) => return Ok(Confirmed::TooLarge(too_large)),
            };
            let old = raw.unwrap_or_default();
            let written = self
                .write_when(id, &json, user.central_id, Write::IfUnchanged(&old))
                .await?;
            if written {
                return Ok(Confirmed::Kept);
            }
        }
        // Written by others three times meanwhile: the session lives on; its
        // identity is confirmed again next time.
        Ok(Confirmed::Kept)
    }

    /// Deletes the record of session `id` and tells every instance.
    pub(crate) async fn delete(&self, id: &str) -> Result<(), Unavailable> {
        let hash = session_hash(id);
        self.cache.remove(&hash);
        let key = self.key("s", &hash);
        let lock = self.key("l", &hash);
        let channel = self.channel();
        self.call("DEL", |mut c| async move {
            redis::pipe()
                .del(&key)
                .ignore()
                .del(&lock)
                .ignore()
                .publish(&channel, &hash)
                .ignore()
                .query_async::<()>(&mut c)
                .await
        })
        .await
    }

    /// Deletes every session of the user with `central_id`; how many there were.
    pub(crate) async fn sign_out_everywhere(&self, central_id: u64) -> Result<usize, Unavailable> {
        let user = self.key(
            "u",
            &digest_hex(&[b"mwoauth user", &central_id.to_be_bytes()]),
        );
        let members: Vec<String> = {
            let user = user.clone();
            self.call("SMEMBERS", |mut c| async move { c.smembers(user).await })
                .await?
        };
        if members.is_empty() {
            return Ok(0);
        }
        let mut pipe = redis::pipe();
        for hash in &members {
            if hash.len() != 64 || !hash.bytes().all(|b| b.is_ascii_hexdigit()) {
                continue;
            }
            self.cache.remove(hash);
            pipe.del(self.key("s", hash))
                .del(self.key("l", hash))
                .ignore()
                .publish(self.channel(), hash)
                .ignore();
        }
        // Only the members read: a session added meanwhile stays indexed.
        pipe.srem(&user, &members).ignore();
        let deleted: Vec<i64> = self
            .call("DEL", |mut c| async move { pipe.query_async(&mut c).await })
            .await?;
        Ok(deleted.iter().filter(|n| **n > 0).count())
    }

    /// Takes the refresh lock of session `id`, or waits for its holder's
    /// result (the store's `begin_refresh`).
    pub(crate) async fn begin_refresh(
        &self,
        id: &str,
        policy: &CookiePolicy,
        record: &Arc<SessionRecord>,
    ) -> Result<Found, Unavailable> {
        let hash = session_hash(id);
        let key = self.key("l", &hash);
        let mut token = [0u8; 16];
        rand::rngs::OsRng.fill_bytes(&mut token);
        let token: String = token.iter().map(|b| format!("{b:02x}")).collect();
        let ttl_ms = self.lock_ttl.as_millis() as u64;
        // A crashed holder's lock expires after lock_ttl: wait that long at
        // most, plus a margin to take it over.
        let deadline = Instant::now() + self.lock_ttl + Duration::from_secs(2);
        loop {
            let taken: Option<String> = {
                let (key, token) = (key.clone(), token.clone());
                self.call("SET NX", |mut c| async move {
                    redis::cmd("SET")
                        .arg(&key)
                        .arg(&token)
                        .arg("NX")
                        .arg("PX")
                        .arg(ttl_ms)
                        .query_async(&mut c)
                        .await
                })
                .await?
            };
            if taken.is_some() {
                // Someone may have just renewed: the record as Redis has it.
                let lock = Lock { key, token };
                return match self.read_from_redis(id, &hash, policy).await {
                    Ok(Some(now)) => Ok(Found::Locked(lock, now)),
                    Ok(None) => {
                        self.release(lock).await;
                        Ok(Found::Gone)
                    }
                    Err(e) => {
                        self.release(lock).await;
                        Err(e)
                    }
                };
            }
            // Another request holds it: wait for its new record.
            tokio::time::sleep(POLL).await;
            match self.read_from_redis(id, &hash, policy).await? {
                None => return Ok(Found::Gone),
                Some(now) if now.credentials != record.credentials => {
                    return Ok(Found::Renewed(now))
                }
                Some(_) => {}
            }
            if Instant::now() > deadline {
                log::warn!("MediaWiki OAuth: a session's refresh lock was held too long");
                return Err(Unavailable);
            }
        }
    }

    /// Releases a refresh lock if it is still ours (compare and delete).
    pub(crate) async fn release(&self, lock: Lock) {
        let script = redis::Script::new(
            "if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) \
             else return 0 end",
        );
        let _ = self
            .call("release", |mut c| async move {
                script
                    .key(&lock.key)
                    .arg(&lock.token)
                    .invoke_async::<i64>(&mut c)
                    .await
            })
            .await;
    }
}

/// Keeps a subscription to `<prefix>inv` while the store lives, dropping
/// each announced session from the cache; reconnects after a failure.
async fn subscribe(store: Weak<RedisStore>) {
    loop {
        let (client, channel) = match store.upgrade() {
            Some(s) => (s.client.clone(), s.channel()),
            None => return,
        };
        let pubsub = tokio::time::timeout(REDIS_TIMEOUT, async {
            let mut p = client.get_async_pubsub().await?;
            p.subscribe(&channel).await?;
            Ok::<_, redis::RedisError>(p)
        })
        .await;
        if let Ok(Ok(pubsub)) = pubsub {
            if let Some(s) = store.upgrade() {
                // Messages may have been missed while unsubscribed.
                s.cache.clear();
                s.subscribed.store(true, Ordering::Release);
            }
            let mut messages = pubsub.into_on_message();
            while let Some(msg) = messages.next().await {
                let Some(s) = store.upgrade() else { return };
                if let Ok(hash) = std::str::from_utf8(msg.get_payload_bytes()) {
                    s.cache.remove(hash);
                }
            }
            match store.upgrade() {
                Some(s) => s.subscribed.store(false, Ordering::Release),
                None => return,
            }
            log::warn!("MediaWiki OAuth: the Redis subscription to logouts ended; reconnecting");
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
}

/// When [`RedisStore::write_when`] writes.
enum Write<'a> {
    /// Always (a new session).
    New,
    /// If the session still exists.
    IfExists,
    /// If the record is still these sealed bytes.
    IfUnchanged(&'a [u8]),
}

/// The record write: `KEYS` the record and the user's set of sessions;
/// `ARGV` the sealed record, its TTL in seconds, the session's hash, the
/// invalidation channel, the mode (`new`, `exists`, `unchanged`), the sealed
/// bytes expected for `unchanged`, and the prefix. A new session also drops
/// the user's sessions that ended (logout, expiry) from the set, so it does
/// not grow with every sign-in. 1 if written, 0 if not.
const WRITE_SCRIPT: &str = r"
local mode = ARGV[5]
if mode == 'exists' then
  if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
elseif mode == 'unchanged' then
  if redis.call('GET', KEYS[1]) ~= ARGV[6] then return 0 end
else
  for _, m in ipairs(redis.call('SMEMBERS', KEYS[2])) do
    if redis.call('EXISTS', ARGV[7] .. 's:' .. m) == 0 then
      redis.call('SREM', KEYS[2], m)
    end
  end
end
redis.call('SET', KEYS[1], ARGV[1], 'EX', ARGV[2])
redis.call('SADD', KEYS[2], ARGV[3])
redis.call('EXPIRE', KEYS[2], ARGV[2])
redis.call('PUBLISH', ARGV[4], ARGV[3])
return 1
";

/// What a record in Redis is sealed together with: its session id.
fn record_aad(id: &str) -> Vec<u8> {
    [b"mwoauth session\0".as_slice(), id.as_bytes()].concat()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn session_ids_are_random_43_characters() {
        let a = new_session_id();
        let b = new_session_id();
        assert_ne!(a, b);
        assert_eq!(a.len(), 43);
        assert!(valid_session_id(&a));
        assert!(!valid_session_id(&a[1..]));
        assert!(!valid_session_id(&format!("{}=", &a[1..])));
        assert!(!valid_session_id(""));
        assert!(!valid_session_id(&"é".repeat(22)));
    }

    #[test]
    fn the_hash_names_no_id() {
        let id = new_session_id();
        let h = session_hash(&id);
        assert_eq!(h.len(), 64);
        assert!(!h.contains(&id));
    }
}
