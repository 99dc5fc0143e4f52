//! Logins in progress: one private cookie per login (a slot), sent only to
//! the callback, and a plain index of the slots in use, sent only to
//! `/login`; bounded in number and in bytes whatever the browser sends.

use rocket::http::CookieJar;
use serde::{Deserialize, Serialize};

use super::cookies::{now, CookiePolicy, FORMAT, PENDING_INDEX, PENDING_PREFIX};
use super::request::remove;
use crate::protocol::PendingLogin;

/// Logins that may be in progress in one browser at once.
pub(crate) const PENDING_SLOTS: usize = 4;
/// Bytes (`name=value`, as the browser sends them) that all login-in-progress
/// cookies may take together, far below the 8 KB request-header limits of
/// common proxies.
pub(crate) const PENDING_BUDGET: usize = 3800;
/// How long a login may take between `/login` and the callback (the wiki's
/// request tokens live 600 s).
const PENDING_SECONDS: i64 = 600;

#[derive(Debug, Clone, Serialize, Deserialize)]
struct PendingRecord {
    v: u8,
    /// The app that made it ([`CookiePolicy::app`]); absent before format 2.
    #[serde(default)]
    app: String,
    #[serde(rename = "l")]
    login: PendingLogin,
    #[serde(rename = "n")]
    next: String,
    #[serde(rename = "at")]
    created: i64,
    /// The language `/login` was asked for (`?uselang=`), for the
    /// callback's pages; absent when the browser's own was used.
    #[serde(rename = "ul", default, skip_serializing_if = "Option::is_none")]
    uselang: Option<String>,
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
    uselang: Option<String>,
) {
    let now = now();
    let index = jar.get(PENDING_INDEX).map(|c| c.value().to_string());
    let mut slots = index
        .as_deref()
        .map_or_else(Vec::new, |v| read_index(v, now));
    let record = PendingRecord {
        v: FORMAT,
        app: policy.app.clone(),
        login,
        next: next.to_string(),
        created: now,
        uselang,
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
/// there and not expired. Returns the pending state, the `next` path and
/// the language `/login` was asked for. The removal survives a catcher: a
/// failed callback has used up its login.
pub(crate) fn take_pending(
    req: &rocket::Request<'_>,
    policy: &CookiePolicy,
    key: &str,
) -> Option<(PendingLogin, String, Option<String>)> {
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
        let age = now().saturating_sub(record.created);
        let fresh = (0..=PENDING_SECONDS).contains(&age);
        let ours = record.v == FORMAT && policy.owns("login in progress", &record.app);
        let uselang = record.uselang.filter(|u| crate::i18n::valid_uselang(u));
        return (ours && fresh).then_some((record.login, record.next, uselang));
    }
    None
}
