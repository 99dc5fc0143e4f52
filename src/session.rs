//! What lives in cookies, and how.
//!
//! Every record is JSON inside a Rocket **private** (encrypted and
//! authenticated) cookie, so nothing is kept in server memory: any instance
//! sharing `secret_key` can serve any user. A tampered, truncated, foreign
//! (other `secret_key`) or older-format cookie simply reads as "signed out".
//!
//! | cookie | holds | lifetime |
//! |---|---|---|
//! | `mwoauth_session` | the access token and a small cached identity | `session_days` (also checked on the server, from the last confirmation by the wiki) |
//! | `mwoauth_login_<slot>` (slot 0–3) | a login in progress: the protocol's pending state (request token) + `next` | 10 minutes |
//! | `mwoauth_pending` | which slots are in use, since when, and how large (not secret; plain) | 10 minutes |
//! | `_flash` | Rocket's flash message after login/logout (unless `flash = false`) | 1 minute |
//!
//! The session and flash cookies are for the whole site (`/`). A login in
//! progress is sent only where it is needed: its slot only to
//! `/oauth-callback`, the slot index only to `/login` (both below the mount
//! point). Whatever a page on another site makes a browser do (opening
//! `/login?next=<2 KB>` many times), the login-in-progress cookies stay
//! within [`PENDING_BUDGET`] bytes in all and [`PENDING_SLOTS`] logins (the
//! oldest is dropped first), so parallel logins in a few tabs still work,
//! and the browser never carries them to other pages. All cookies are
//! `HttpOnly` and `SameSite=Lax`: the wiki is another site, and the
//! callback is a top-level navigation from it, which `Lax` lets through while
//! `Strict` (Rocket's default for private cookies) would not. `Secure` is set
//! per the configuration.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use rocket::http::{Cookie, CookieJar, SameSite};
use serde::{Deserialize, Serialize};

use crate::config::OAuthVersion;
use crate::protocol::{Credentials, PendingLogin};
use crate::user::MwUser;

/// Name of the signed-in cookie.
pub(crate) const SESSION_COOKIE: &str = "mwoauth_session";
/// Prefix of the login-in-progress cookies (followed by the slot number).
const PENDING_PREFIX: &str = "mwoauth_login_";
/// The index of the slots in use (sent only to `/login`).
const PENDING_INDEX: &str = "mwoauth_pending";
/// Logins that may be in progress in one browser at once.
pub(crate) const PENDING_SLOTS: usize = 4;
/// Bytes (`name=value`, as the browser sends them) that all login-in-progress
/// cookies may take together, far below the 8 KB request-header limits of
/// common proxies.
pub(crate) const PENDING_BUDGET: usize = 3800;
/// Version of the records' format; other versions read as signed out.
const FORMAT: u8 = 1;
/// How long a login may take between `/login` and the callback (the wiki's
/// request tokens live 600 s).
const PENDING_SECONDS: i64 = 600;
/// The signed-in record is kept below this many bytes of JSON (≈ 3.8 KB as
/// a cookie once encrypted and encoded: inside the 4 KB browser limit, with
/// room for OAuth 2.0's long tokens; an OAuth 1.0a record is ≈ 600 bytes).
const MAX_SESSION_JSON: usize = 2800;

/// How cookies are written, from the configuration.
#[derive(Debug, Clone)]
pub(crate) struct CookiePolicy {
    /// Set the `Secure` attribute.
    pub secure: bool,
    /// Path of `/login` (where the slot index is sent).
    pub login_path: String,
    /// Path of `/oauth-callback` (where the logins in progress are sent);
    /// the session and flash cookies are for `/`.
    pub callback_path: String,
    /// Lifetime of a sign-in, in days.
    pub session_days: u32,
    /// The protocol users sign in with: a session of the other one (an app
    /// that moved from OAuth 1.0a to 2.0, or another app on the same host
    /// sharing `secret_key`) reads as signed out.
    pub protocol: OAuthVersion,
}

impl CookiePolicy {
    /// Logins in progress go to the callback, their index to `/login`; the
    /// rest is site-wide.
    fn path_for(&self, name: &str) -> String {
        if name == PENDING_INDEX {
            self.login_path.clone()
        } else if name.starts_with(PENDING_PREFIX) {
            self.callback_path.clone()
        } else {
            "/".to_string()
        }
    }

    fn cookie(&self, name: String, value: String, max_age: time::Duration) -> Cookie<'static> {
        let path = self.path_for(&name);
        Cookie::build((name, value))
            .path(path)
            .http_only(true)
            .same_site(SameSite::Lax)
            .secure(self.secure)
            .max_age(max_age)
            .build()
    }

    fn removal(&self, name: String) -> Cookie<'static> {
        let path = self.path_for(&name);
        Cookie::build(name).path(path).build()
    }
}

/// The user as the session cookie keeps it: short names, enough for pages,
/// small enough for any user (the rights list is not kept; ask the wiki).
/// This is the cookie's format, not a type of its own: it reads into and
/// writes from [`MwUser`].
mod stored_user {
    use serde::{Deserialize, Deserializer, Serialize, Serializer};

    use crate::user::MwUser;

    #[derive(Serialize, Deserialize)]
    struct Stored<N, L> {
        #[serde(rename = "n")]
        name: N,
        #[serde(rename = "i")]
        central_id: u64,
        #[serde(rename = "e")]
        editcount: u64,
        #[serde(rename = "b")]
        blocked: bool,
        #[serde(rename = "c")]
        confirmed_email: bool,
        #[serde(rename = "r", default)]
        registered: Option<N>,
        #[serde(rename = "g")]
        groups: L,
        #[serde(rename = "gr")]
        grants: L,
    }

    pub fn serialize<S: Serializer>(u: &MwUser, s: S) -> Result<S::Ok, S::Error> {
        Stored {
            name: &u.name,
            central_id: u.central_id,
            editcount: u.editcount,
            blocked: u.blocked,
            confirmed_email: u.confirmed_email,
            registered: u.registered.as_ref(),
            groups: &u.groups,
            grants: &u.grants,
        }
        .serialize(s)
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<MwUser, D::Error> {
        let u = Stored::<String, Vec<String>>::deserialize(d)?;
        Ok(MwUser {
            name: u.name,
            central_id: u.central_id,
            groups: u.groups,
            blocked: u.blocked,
            editcount: u.editcount,
            grants: u.grants,
            confirmed_email: u.confirmed_email,
            registered: u.registered,
        })
    }
}

/// The signed-in record.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct SessionRecord {
    v: u8,
    /// The protocol credentials.
    #[serde(rename = "cr")]
    pub credentials: Credentials,
    /// The cached identity.
    #[serde(rename = "u", with = "stored_user")]
    pub user: MwUser,
    /// When the identity was last confirmed by the wiki (Unix seconds).
    #[serde(rename = "at")]
    pub verified_at: i64,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
struct PendingRecord {
    v: u8,
    #[serde(rename = "l")]
    login: PendingLogin,
    #[serde(rename = "n")]
    next: String,
    #[serde(rename = "at")]
    created: i64,
}

fn now() -> i64 {
    time::OffsetDateTime::now_utc().unix_timestamp()
}

/// One slot in use, as the index records it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Slot {
    slot: usize,
    created: i64,
    /// `name=value` bytes of its cookie.
    size: usize,
}

fn slot_name(slot: usize) -> String {
    format!("{PENDING_PREFIX}{slot}")
}

/// Reads the slot index `slot-created-size_…`: live, distinct, in-range
/// entries only, however the value was made.
fn read_index(value: &str, now: i64) -> Vec<Slot> {
    let mut slots: Vec<Slot> = Vec::new();
    for entry in value.split('_').take(PENDING_SLOTS * 2) {
        let mut parts = entry.splitn(3, '-').map(str::parse::<i64>);
        let (Some(Ok(slot)), Some(Ok(created)), Some(Ok(size))) =
            (parts.next(), parts.next(), parts.next())
        else {
            continue;
        };
        let (Ok(slot), Ok(size)) = (usize::try_from(slot), usize::try_from(size)) else {
            continue;
        };
        let live = created <= now && now - created <= PENDING_SECONDS;
        if slot < PENDING_SLOTS
            && live
            && size <= PENDING_BUDGET
            && !slots.iter().any(|s| s.slot == slot)
        {
            slots.push(Slot {
                slot,
                created,
                size,
            });
        }
    }
    slots
}

fn write_index(slots: &[Slot]) -> String {
    slots
        .iter()
        .map(|s| format!("{}-{}-{}", s.slot, s.created, s.size))
        .collect::<Vec<_>>()
        .join("_")
}

/// The length of a private cookie's value for a plain value of `len` bytes:
/// base64 of the 12-byte nonce, the ciphertext and the 16-byte tag.
fn encrypted_len(len: usize) -> usize {
    (len + 28).div_ceil(3) * 4
}

/// Remembers a login in progress in a free slot, dropping the oldest logins
/// while there are [`PENDING_SLOTS`] or the cookies would take more than
/// [`PENDING_BUDGET`] bytes. Bounded work whatever cookies the request carries.
pub(crate) fn store_pending(
    jar: &CookieJar<'_>,
    policy: &CookiePolicy,
    login: PendingLogin,
    next: &str,
) {
    let now = now();
    let index = jar.get(PENDING_INDEX).map(|c| c.value().to_string());
    let mut slots = index
        .as_deref()
        .map_or_else(Vec::new, |v| read_index(v, now));
    let record = PendingRecord {
        v: FORMAT,
        login,
        next: next.to_string(),
        created: now,
    };
    let value = serde_json::to_string(&record).expect("records serialize");
    // Every slot name has the same length.
    let size = slot_name(0).len() + 1 + encrypted_len(value.len());
    slots.sort_by_key(|s| s.created);
    while !slots.is_empty()
        && (slots.len() >= PENDING_SLOTS
            || slots.iter().map(|s| s.size).sum::<usize>() + size > PENDING_BUDGET)
    {
        let dropped = slots.remove(0);
        jar.remove_private(policy.removal(slot_name(dropped.slot)));
    }
    let slot = (0..PENDING_SLOTS)
        .find(|i| !slots.iter().any(|s| s.slot == *i))
        .unwrap_or(0);
    if index.is_none() {
        // No index (first login, or it was lost): forget whatever slots the
        // browser may still hold, so the budget holds.
        for other in (0..PENDING_SLOTS).filter(|i| *i != slot) {
            jar.remove_private(policy.removal(slot_name(other)));
        }
    }
    let max_age = time::Duration::seconds(PENDING_SECONDS);
    jar.add_private(policy.cookie(slot_name(slot), value, max_age));
    slots.push(Slot {
        slot,
        created: now,
        size,
    });
    jar.add(policy.cookie(PENDING_INDEX.into(), write_index(&slots), max_age));
}

/// Takes (reads and removes) the login in progress named by `key`, if it is
/// there and not expired. Returns the pending state and the `next` path. The
/// removal survives a catcher: a failed callback has used up its login.
pub(crate) fn take_pending(
    req: &rocket::Request<'_>,
    policy: &CookiePolicy,
    key: &str,
) -> Option<(PendingLogin, String)> {
    let jar = req.cookies();
    for slot in 0..PENDING_SLOTS {
        let name = slot_name(slot);
        let Some(record) = jar
            .get_private(&name)
            .and_then(|c| serde_json::from_str::<PendingRecord>(c.value()).ok())
        else {
            continue;
        };
        if record.login.key() != key {
            continue;
        }
        remove(req, policy, &name);
        let fresh = now().saturating_sub(record.created) <= PENDING_SECONDS;
        return (record.v == FORMAT && fresh).then_some((record.login, record.next));
    }
    None
}

/// Stores the signed-in record.
pub(crate) fn store_session(
    jar: &CookieJar<'_>,
    policy: &CookiePolicy,
    credentials: Credentials,
    user: &MwUser,
) {
    let mut record = SessionRecord {
        v: FORMAT,
        credentials,
        user: user.clone(),
        verified_at: now(),
    };
    let mut value = serde_json::to_string(&record).expect("records serialize");
    // Keep far inside browser limits whatever the wiki sends: trim the lists.
    while value.len() > MAX_SESSION_JSON
        && (!record.user.groups.is_empty() || !record.user.grants.is_empty())
    {
        if record.user.grants.len() >= record.user.groups.len() {
            record.user.grants.pop();
        } else {
            record.user.groups.pop();
        }
        value = serde_json::to_string(&record).expect("records serialize");
    }
    if value.len() > MAX_SESSION_JSON {
        // Only a wiki sending absurd values gets here (names are ≤ 255 bytes).
        truncate_chars(&mut record.user.name, 64);
        if let Some(r) = record.user.registered.as_mut() {
            truncate_chars(r, 14);
        }
        value = serde_json::to_string(&record).expect("records serialize");
    }
    let max_age = time::Duration::days(policy.session_days.into());
    jar.add_private(policy.cookie(SESSION_COOKIE.into(), value, max_age));
}

fn truncate_chars(s: &mut String, max_chars: usize) {
    if let Some((i, _)) = s.char_indices().nth(max_chars) {
        s.truncate(i);
    }
}

/// Whether a record confirmed by the wiki at `verified_at` is still within
/// the sign-in lifetime: the browser's `Max-Age` is not trusted alone.
fn fresh(verified_at: i64, policy: &CookiePolicy) -> bool {
    now().saturating_sub(verified_at) <= i64::from(policy.session_days) * 86_400
}

/// Reads the signed-in record; anything unreadable, or older than the
/// sign-in lifetime (counted from the last confirmation by the wiki), is
/// "signed out".
pub(crate) fn read_session(jar: &CookieJar<'_>, policy: &CookiePolicy) -> Option<SessionRecord> {
    decode_session(jar.get_private(SESSION_COOKIE)?.value())
        .filter(|r| fresh(r.verified_at, policy) && r.credentials.version() == policy.protocol)
}

/// Parses a decrypted session cookie value; `None` for anything but the
/// current format.
fn decode_session(value: &str) -> Option<SessionRecord> {
    let record: SessionRecord = serde_json::from_str(value).ok()?;
    (record.v == FORMAT).then_some(record)
}

/// Forgets the signed-in user.
pub(crate) fn clear_session(jar: &CookieJar<'_>, policy: &CookiePolicy) {
    jar.remove_private(policy.removal(SESSION_COOKIE.into()));
}

/// Cookies this request removed, by name.
#[derive(Default)]
struct Removed(Mutex<Vec<String>>);

/// Removes a cookie in a way that survives a catcher: when a catcher answers
/// a request, Rocket drops the cookie changes the request made, so the
/// fairing re-applies the removals noted here ([`reapply_removals`]).
pub(crate) fn remove(req: &rocket::Request<'_>, policy: &CookiePolicy, name: &str) {
    req.cookies().remove_private(policy.removal(name.into()));
    if let Ok(mut names) = req.local_cache(Removed::default).0.lock() {
        names.push(name.to_string());
    }
}

/// Adds to `response` the removal of every cookie [`remove`]d during the
/// request that the response does not already set.
pub(crate) fn reapply_removals(
    req: &rocket::Request<'_>,
    policy: &CookiePolicy,
    response: &mut rocket::Response<'_>,
) {
    let names = match req.local_cache(Removed::default).0.lock() {
        Ok(names) if !names.is_empty() => names.clone(),
        _ => return,
    };
    for name in names {
        let prefix = format!("{name}=");
        if response
            .headers()
            .get("Set-Cookie")
            .any(|h| h.starts_with(&prefix))
        {
            continue;
        }
        let mut cookie = policy.removal(name);
        cookie.make_removal();
        response.adjoin_header(cookie);
    }
}

/// Sets a message for Rocket's [`FlashMessage`](rocket::request::FlashMessage)
/// guard on the next page. Rocket's own `Flash` cookie is `SameSite=Strict`,
/// which a browser drops on the redirect chain that started on the wiki; this
/// one is `Lax`, in the same format.
pub(crate) fn set_flash(jar: &CookieJar<'_>, policy: &CookiePolicy, kind: &str, message: &str) {
    let value = format!("{}:{kind}{message}", kind.len());
    jar.add(policy.cookie("_flash".into(), value, time::Duration::minutes(1)));
}

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
