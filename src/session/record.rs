//! The signed-in record: the user's credentials and a small cached
//! identity, in one private cookie.

use rocket::http::CookieJar;
use serde::{Deserialize, Serialize};

use super::cookies::{now, CookiePolicy, FORMAT, SESSION_COOKIE};
use crate::protocol::Credentials;
use crate::user::MwUser;

/// The signed-in record is kept below this many bytes of JSON (≈ 3.8 KB as
/// a cookie once encrypted and encoded: inside the 4 KB browser limit, with
/// room for OAuth 2.0's long tokens; an OAuth 1.0a record is ≈ 600 bytes).
const MAX_SESSION_JSON: usize = 2800;

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

/// The session store could not be reached in time (Redis down or slow).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Unavailable;

/// The signed-in record.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct SessionRecord {
    v: u8,
    /// The app that made it ([`CookiePolicy::app`]); absent before format 2.
    #[serde(default)]
    app: String,
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

/// Stores the signed-in record in the session cookie ([`encode_record`]).
pub(crate) fn store_session(
    jar: &CookieJar<'_>,
    policy: &CookiePolicy,
    credentials: Credentials,
    user: &MwUser,
) -> Result<(), TooLarge> {
    let value = encode_record(policy, credentials, user)?;
    let max_age = time::Duration::days(policy.session_days.into());
    jar.add_private(policy.cookie(SESSION_COOKIE.into(), value, max_age));
    Ok(())
}

/// The signed-in record's JSON, for either store (the cookie, or Redis).
/// Group and grant lists are trimmed to fit (in time linear in their
/// length, whatever the wiki sends); a record that still does not fit in a
/// cookie a browser keeps (the wiki's tokens alone are too long) is not
/// stored: the error says so, and nobody is told they are signed in when the
/// browser would drop the cookie. Redis keeps the same limit, so that a
/// record moves between the stores unchanged.
pub(super) fn encode_record(
    policy: &CookiePolicy,
    credentials: Credentials,
    user: &MwUser,
) -> Result<String, TooLarge> {
    let mut record = SessionRecord {
        v: FORMAT,
        app: policy.app.clone(),
        credentials,
        user: user.clone(),
        verified_at: now(),
    };
    let mut value = serde_json::to_string(&record).expect("records serialize");
    if value.len() > MAX_SESSION_JSON {
        // Keep far inside browser limits whatever the wiki sends: trim the
        // lists, counting what each item takes instead of serializing again.
        let cost = |s: &String| serde_json::to_string(s).map_or(0, |j| j.len()) + 1;
        let mut len = value.len();
        let user = &mut record.user;
        while len > MAX_SESSION_JSON && (!user.groups.is_empty() || !user.grants.is_empty()) {
            let list = if user.grants.len() >= user.groups.len() {
                &mut user.grants
            } else {
                &mut user.groups
            };
            if let Some(item) = list.pop() {
                len = len.saturating_sub(cost(&item));
            }
        }
        value = serde_json::to_string(&record).expect("records serialize");
        // The count may be a comma short: finish one item at a time.
        while value.len() > MAX_SESSION_JSON
            && (!record.user.groups.is_empty() || !record.user.grants.is_empty())
        {
            if record.user.grants.pop().is_none() {
                record.user.groups.pop();
            }
            value = serde_json::to_string(&record).expect("records serialize");
        }
    }
    if value.len() > MAX_SESSION_JSON {
        // Only a wiki sending absurd values gets here (names are ≤ 255 bytes).
        truncate_chars(&mut record.user.name, 64);
        if let Some(r) = record.user.registered.as_mut() {
            truncate_chars(r, 14);
        }
        value = serde_json::to_string(&record).expect("records serialize");
    }
    if value.len() > MAX_STORED_JSON {
        return Err(TooLarge { bytes: value.len() });
    }
    Ok(value)
}

/// The largest record stored: [`MAX_SESSION_JSON`], ≈ 4,000 bytes as an
/// encrypted, base64- and then percent-encoded cookie with its name, the
/// most every browser keeps (4,096).
const MAX_STORED_JSON: usize = MAX_SESSION_JSON;

/// A signed-in record too large for a cookie (the wiki's tokens are).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct TooLarge {
    /// Bytes of the record's JSON.
    pub bytes: usize,
}

impl std::fmt::Display for TooLarge {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "the wiki's tokens are too long to keep in a browser cookie (a {}-byte sign-in \
             record; at most {MAX_STORED_JSON} fit in the 4,096 bytes browsers keep)",
            self.bytes
        )
    }
}

fn truncate_chars(s: &mut String, max_chars: usize) {
    if let Some((i, _)) = s.char_indices().nth(max_chars) {
        s.truncate(i);
    }
}

/// Whether a record confirmed by the wiki at `verified_at` is still within
/// the sign-in lifetime: the browser's `Max-Age` is not trusted alone.
pub(super) fn fresh(verified_at: i64, policy: &CookiePolicy) -> bool {
    let age = now().saturating_sub(verified_at);
    // A record dated in the future (beyond clock steps between instances)
    // was not made by this app's clock: it is not fresh for ever.
    (-FUTURE_LEEWAY..=i64::from(policy.session_days) * 86_400).contains(&age)
}

/// Seconds a record may be dated ahead of this clock (instances whose
/// clocks differ a little).
const FUTURE_LEEWAY: i64 = 300;

/// Reads the signed-in record; anything unreadable, or older than the
/// sign-in lifetime (counted from the last confirmation by the wiki), is
/// "signed out".
pub(crate) fn read_session(jar: &CookieJar<'_>, policy: &CookiePolicy) -> Option<SessionRecord> {
    decode_record(jar.get_private(SESSION_COOKIE)?.value(), policy)
}

/// A decrypted record's JSON as this app may use it: `None` for another
/// format, another app's record, one past the sign-in lifetime or of the
/// other protocol. For either store.
pub(super) fn decode_record(value: &str, policy: &CookiePolicy) -> Option<SessionRecord> {
    decode_session(value).filter(|r| {
        policy.owns("session record", &r.app)
            && fresh(r.verified_at, policy)
            && r.credentials.version() == policy.protocol
    })
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
