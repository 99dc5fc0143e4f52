//! The signed-in record: the user's credentials and a small cached
//! identity, in one sealed cookie (or, as JSON, in Redis).
//!
//! The cookie's value (format 3) is `3.` and, in unpadded base64url, a
//! random 12-byte nonce, the record encrypted with AES-256-GCM, and its
//! 16-byte tag. The record is in [`crate::compact`]'s layout: its values
//! compressed with DEFLATE (raw, length first), then the random bytes of its
//! tokens. The key is derived from `secret_key` with HKDF-SHA256 (salt
//! `rocket_mediawiki_oauth cookie`, info `session record v3`); the
//! associated data is `mwoauth_session v3`. Tokens take their bytes, not
//! their text: an OAuth 2.0 session of a real wiki takes ≈ 1,450 bytes (an
//! administrator's ≈ 1,750) where the JSON in a Rocket private cookie took
//! ≈ 2,800 (3,450). Cookies of format 2 (JSON in a Rocket private cookie, as
//! earlier builds wrote them) are still read, so nobody is signed out by an
//! upgrade; they are written anew in format 3 at the next renewal.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use rocket::http::CookieJar;
use serde::{Deserialize, Serialize};

use super::cookies::{now, CookiePolicy, FORMAT, SESSION_COOKIE};
use super::seal::Sealer;
use crate::compact::{Reader, Writer};
use crate::protocol::Credentials;
use crate::user::MwUser;

/// The session cookie's format ([`record_to_cookie`]).
const COOKIE_FORMAT: u8 = 3;
/// What a format-3 cookie value starts with (neither base64url nor Rocket's
/// private cookies, standard base64, have a dot).
const COOKIE_PREFIX: &str = "3.";
/// The associated data every format-3 record is sealed with.
const COOKIE_AAD: &[u8] = b"mwoauth_session v3";
/// A record inflates to at most this many bytes (it is ≈ 1.5 KB; anything
/// larger was not written by this crate).
const MAX_INFLATED: usize = 16 * 1024;

/// The key of the session cookie's record, from the bytes of `secret_key`.
pub(crate) fn cookie_sealer(secret: &[u8]) -> Sealer {
    Sealer::derive(
        secret,
        b"rocket_mediawiki_oauth cookie",
        b"session record v3",
    )
}

/// The signed-in record is kept below this many bytes of JSON: Redis keeps
/// that, and the cookie's compact layout of the same record takes fewer
/// bytes than its JSON, so the cookie stays below ≈ 3.8 KB once sealed and
/// encoded whatever the wiki sends (inside the 4 KB browser limit; an OAuth
/// 2.0 record of a real wiki is ≈ 1.9 KB of JSON, an OAuth 1.0a one ≈ 600).
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

/// Stores the signed-in record in the session cookie ([`record_to_cookie`]).
pub(crate) fn store_session(
    jar: &CookieJar<'_>,
    policy: &CookiePolicy,
    sealer: &Sealer,
    credentials: Credentials,
    user: &MwUser,
) -> Result<(), TooLarge> {
    let (record, _) = trimmed_record(policy, credentials, user)?;
    let value = record_to_cookie(sealer, &record);
    let max_age = time::Duration::days(policy.session_days.into());
    jar.add(policy.cookie(SESSION_COOKIE.into(), value, max_age));
    Ok(())
}

/// The session cookie's value of `record` (format 3, see the module).
pub(super) fn record_to_cookie(sealer: &Sealer, record: &SessionRecord) -> String {
    let (values, random) = compact(record);
    let mut body = Writer::default();
    body.bytes(&miniz_oxide::deflate::compress_to_vec(&values, 9));
    let (mut body, _) = body.into_parts();
    body.extend_from_slice(&random);
    let sealed = sealer.seal(COOKIE_AAD, &body);
    let mut value = String::with_capacity(COOKIE_PREFIX.len() + sealed.len() * 4 / 3 + 4);
    value.push_str(COOKIE_PREFIX);
    URL_SAFE_NO_PAD.encode_string(&sealed, &mut value);
    value
}

/// The record of a format-3 session cookie's value; `None` for anything
/// this key did not seal.
fn record_of_cookie(sealer: &Sealer, value: &str) -> Option<SessionRecord> {
    let sealed = URL_SAFE_NO_PAD
        .decode(value.strip_prefix(COOKIE_PREFIX)?)
        .ok()?;
    let body = sealer.open(COOKIE_AAD, &sealed)?;
    let mut body = Reader::new(&body, &[]);
    let values = body.bytes()?;
    let values = miniz_oxide::inflate::decompress_to_vec_with_limit(values, MAX_INFLATED).ok()?;
    from_compact(&values, body.rest())
}

/// `record` in [`crate::compact`]'s layout (its values, and its tokens'
/// random bytes): the format, the app binding, when the wiki last confirmed
/// it, the user, the credentials.
pub(crate) fn compact(record: &SessionRecord) -> (Vec<u8>, Vec<u8>) {
    let mut w = Writer::default();
    w.byte(COOKIE_FORMAT);
    w.text(&record.app);
    w.int(record.verified_at);
    let u = &record.user;
    w.str(&u.name);
    w.uint(u.central_id);
    w.uint(u.editcount);
    w.byte(
        u8::from(u.blocked)
            | u8::from(u.confirmed_email) << 1
            | u8::from(u.registered.is_some()) << 2,
    );
    if let Some(registered) = &u.registered {
        w.str(registered);
    }
    w.strs(&u.groups);
    w.strs(&u.grants);
    record.credentials.write_compact(&mut w);
    w.into_parts()
}

/// A record written by [`compact`]; `None` for anything else.
pub(crate) fn from_compact(values: &[u8], random: &[u8]) -> Option<SessionRecord> {
    let mut r = Reader::new(values, random);
    if r.byte()? != COOKIE_FORMAT {
        return None;
    }
    let app = r.text()?;
    let verified_at = r.int()?;
    let name = r.str()?;
    let central_id = r.uint()?;
    let editcount = r.uint()?;
    let flags = r.byte()?;
    if flags > 7 {
        return None;
    }
    let registered = if flags & 4 != 0 { Some(r.str()?) } else { None };
    let user = MwUser {
        name,
        central_id,
        editcount,
        blocked: flags & 1 != 0,
        confirmed_email: flags & 2 != 0,
        registered,
        groups: r.strs()?,
        grants: r.strs()?,
    };
    let credentials = Credentials::read_compact(&mut r)?;
    r.is_empty().then_some(SessionRecord {
        v: FORMAT,
        app,
        credentials,
        user,
        verified_at,
    })
}

/// The signed-in record's JSON, for Redis.
#[cfg_attr(not(feature = "redis"), allow(dead_code))]
pub(super) fn encode_record(
    policy: &CookiePolicy,
    credentials: Credentials,
    user: &MwUser,
) -> Result<String, TooLarge> {
    trimmed_record(policy, credentials, user).map(|(_, json)| json)
}

/// The signed-in record and its JSON, for either store (the cookie, or Redis).
/// Group and grant lists are trimmed to fit (in time linear in their
/// length, whatever the wiki sends); a record that still does not fit in a
/// cookie a browser keeps (the wiki's tokens alone are too long) is not
/// stored: the error says so, and nobody is told they are signed in when the
/// browser would drop the cookie. Redis keeps the same limit, so that a
/// record moves between the stores unchanged.
fn trimmed_record(
    policy: &CookiePolicy,
    credentials: Credentials,
    user: &MwUser,
) -> Result<(SessionRecord, String), TooLarge> {
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
    Ok((record, value))
}

/// The largest record stored: [`MAX_SESSION_JSON`]. Its compact layout is
/// no longer than its JSON, so a format-3 cookie holding it (compressed,
/// sealed, base64url) takes at most ≈ 3,810 bytes with its name, inside the
/// 4,096 every browser keeps.
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
pub(crate) fn read_session(
    jar: &CookieJar<'_>,
    policy: &CookiePolicy,
    sealer: &Sealer,
) -> Option<SessionRecord> {
    let value = jar.get(SESSION_COOKIE)?.value();
    if value.starts_with(COOKIE_PREFIX) {
        record_of_cookie(sealer, value).filter(|r| usable(r, policy))
    } else {
        // Format 2: JSON in a Rocket private cookie.
        decode_record(jar.get_private(SESSION_COOKIE)?.value(), policy)
    }
}

/// A decrypted record's JSON as this app may use it: `None` for another
/// format, another app's record, one past the sign-in lifetime or of the
/// other protocol. For either store.
pub(super) fn decode_record(value: &str, policy: &CookiePolicy) -> Option<SessionRecord> {
    decode_session(value).filter(|r| usable(r, policy))
}

/// Whether this app may use `record`: its own, within the sign-in
/// lifetime, of its protocol.
fn usable(record: &SessionRecord, policy: &CookiePolicy) -> bool {
    policy.owns("session record", &record.app)
        && fresh(record.verified_at, policy)
        && record.credentials.version() == policy.protocol
}

/// Parses a decrypted session cookie value; `None` for anything but the
/// current format.
fn decode_session(value: &str) -> Option<SessionRecord> {
    let record: SessionRecord = serde_json::from_str(value).ok()?;
    (record.v == FORMAT).then_some(record)
}

/// Forgets the signed-in user.
pub(crate) fn clear_session(jar: &CookieJar<'_>, policy: &CookiePolicy) {
    jar.remove(policy.removal(SESSION_COOKIE.into()));
}

#[cfg(test)]
mod tests {
    use super::*;
    use base64::engine::general_purpose::URL_SAFE_NO_PAD;
    use proptest::prelude::*;

    fn hex(bytes: &[u8]) -> String {
        bytes.iter().map(|b| format!("{b:02x}")).collect()
    }

    /// An OAuth 2.0 record shaped like a real wiki's: an RS256 JWT with
    /// MediaWiki's claims, a `def50200` refresh token.
    fn oauth2_record(
        jti: &[u8],
        grants: &[String],
        signature: &[u8],
        refresh: &[u8],
        user: MwUser,
    ) -> SessionRecord {
        let header = format!(r#"{{"typ":"JWT","alg":"RS256","jti":"{}"}}"#, hex(jti));
        let payload = serde_json::json!({
            "aud": "0123456789abcdef0123456789abcdef",
            "jti": hex(jti),
            "iat": 1_764_000_000.123_f64,
            "nbf": 1_764_000_000.123_f64,
            "exp": 1_764_014_400.0_f64,
            "sub": user.central_id.to_string(),
            "iss": "https://meta.wikimedia.org",
            "ratelimit": {"requests_per_unit": 5000, "unit": "HOUR"},
            "scopes": grants,
        });
        let access = format!(
            "{}.{}.{}",
            URL_SAFE_NO_PAD.encode(header),
            URL_SAFE_NO_PAD.encode(payload.to_string()),
            URL_SAFE_NO_PAD.encode(signature)
        );
        let credentials: Credentials = serde_json::from_value(serde_json::json!({
            "p": "o2",
            "a": access,
            "r": format!("def50200{}", hex(refresh)),
            "e": 1_764_014_400,
            "l": 14_400,
        }))
        .unwrap();
        SessionRecord {
            v: FORMAT,
            app: hex(&jti[..12]),
            credentials,
            user,
            verified_at: 1_764_000_000,
        }
    }

    fn user_strategy() -> impl Strategy<Value = MwUser> {
        (
            "\\PC{1,40}",
            any::<u64>(),
            any::<u64>(),
            any::<(bool, bool)>(),
            proptest::option::of("[0-9]{14}"),
            proptest::collection::vec("[a-z*-]{1,20}", 0..8),
            proptest::collection::vec("[a-z]{3,20}", 0..12),
        )
            .prop_map(
                |(
                    name,
                    central_id,
                    editcount,
                    (blocked, confirmed_email),
                    registered,
                    groups,
                    grants,
                )| MwUser {
                    name,
                    central_id,
                    editcount,
                    blocked,
                    confirmed_email,
                    registered,
                    groups,
                    grants,
                },
            )
    }

    fn sealer() -> Sealer {
        cookie_sealer(&[42; 64])
    }

    proptest! {
        #[test]
        fn a_real_shaped_oauth2_session_comes_back_whole_from_its_cookie(
            jti in proptest::collection::vec(any::<u8>(), 40..=40),
            signature in proptest::collection::vec(any::<u8>(), 256..=256),
            refresh in proptest::collection::vec(any::<u8>(), 390..=470),
            user in user_strategy(),
        ) {
            let grants = user.grants.clone();
            let record = oauth2_record(&jti, &grants, &signature, &refresh, user);
            let value = record_to_cookie(&sealer(), &record);
            prop_assert!(value.starts_with(COOKIE_PREFIX));
            prop_assert!(value[2..].bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_'));
            prop_assert_eq!(record_of_cookie(&sealer(), &value), Some(record.clone()));
            // The tokens alone: ≈ 790 + 880 characters of text.
            let json = serde_json::to_string(&record).unwrap();
            prop_assert!(value.len() * 10 < json.len() * 9, "{} B for {} B of JSON", value.len(), json.len());
        }

        #[test]
        fn an_oauth1_session_and_any_token_text_come_back_whole(
            key in "[0-9a-f]{32}|\\PC{0,40}",
            secret in "[0-9a-f]{32}|\\PC{0,40}",
            user in user_strategy(),
            verified_at in any::<i64>(),
        ) {
            let record = SessionRecord {
                v: FORMAT,
                app: "binding".into(),
                credentials: Credentials::oauth1(&key, &secret),
                user,
                verified_at,
            };
            let value = record_to_cookie(&sealer(), &record);
            prop_assert_eq!(record_of_cookie(&sealer(), &value), Some(record));
        }

        #[test]
        fn any_bytes_read_as_a_record_or_nothing(
            values in proptest::collection::vec(any::<u8>(), 0..300),
            random in proptest::collection::vec(any::<u8>(), 0..40),
        ) {
            if let Some(record) = from_compact(&values, &random) {
                let (values, random) = compact(&record);
                prop_assert_eq!(from_compact(&values, &random), Some(record));
            }
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(32))]
        #[test]
        fn the_largest_record_stored_fits_a_browser_cookie(
            seed in proptest::collection::vec(any::<u8>(), 2000..=2000),
            groups in 0usize..40,
        ) {
            // Tokens no packing helps (text, random, neither hex nor a
            // JWT), as long as the JSON limit lets them be.
            let text: String = seed.iter().map(|b| char::from(b'!' + b % 90)).filter(|c| *c != '"' && *c != '\\').collect();
            let (access, refresh) = text.split_at(text.len() / 2);
            let credentials: Credentials = serde_json::from_value(serde_json::json!({
                "p": "o2", "a": access, "r": &refresh[..refresh.len().min(700)], "e": i64::MAX, "l": i64::MIN,
            })).unwrap();
            let user = MwUser {
                name: "Ü".repeat(255),
                central_id: u64::MAX,
                editcount: u64::MAX,
                blocked: true,
                confirmed_email: true,
                registered: Some("20260101000000".into()),
                groups: (0..groups).map(|i| format!("group-{i}-{}", "x".repeat(i))).collect(),
                grants: (0..groups).map(|i| format!("grant{i}")).collect(),
            };
            let policy = CookiePolicy {
                secure: false,
                secure_behind_proxy: false,
                login_path: "/login".into(),
                callback_path: "/oauth-callback".into(),
                session_days: 7,
                protocol: crate::config::OAuthVersion::OAuth2,
                app: "0123456789abcdef01234567".into(),
            };
            // Lists trimmed, the name cut: it fits the JSON limit (2,400 to
            // 2,800 bytes here).
            let (record, json) = trimmed_record(&policy, credentials, &user).expect("fits");
            let value = record_to_cookie(&sealer(), &record);
            let cookie = SESSION_COOKIE.len() + 1 + value.len();
            prop_assert!(cookie <= 3_850, "{cookie} B for {} B of JSON", json.len());
            prop_assert_eq!(record_of_cookie(&sealer(), &value), Some(record));
        }
    }

    #[test]
    fn a_changed_truncated_or_foreign_cookie_reads_as_nothing() {
        let user = MwUser {
            name: "Alice".into(),
            central_id: 7,
            editcount: 3,
            blocked: false,
            confirmed_email: true,
            registered: Some("20200101000000".into()),
            groups: vec!["*".into(), "user".into()],
            grants: vec!["basic".into()],
        };
        let record = oauth2_record(&[1; 40], &user.grants.clone(), &[2; 256], &[3; 430], user);
        let value = record_to_cookie(&sealer(), &record);
        assert!(record_of_cookie(&sealer(), &value).is_some());
        assert_eq!(
            record_of_cookie(&cookie_sealer(&[43; 64]), &value),
            None,
            "another secret_key"
        );
        for i in 2..value.len() {
            let mut changed = value.clone().into_bytes();
            changed[i] = if changed[i] == b'A' { b'B' } else { b'A' };
            let changed = String::from_utf8(changed).unwrap();
            assert_eq!(
                record_of_cookie(&sealer(), &changed),
                None,
                "character {i} changed"
            );
        }
        for cut in [0, 2, 10, value.len() / 2, value.len() - 1] {
            assert_eq!(
                record_of_cookie(&sealer(), &value[..cut]),
                None,
                "cut at {cut}"
            );
        }
        assert_eq!(
            record_of_cookie(&sealer(), &value[2..]),
            None,
            "without the format"
        );
        let (values, random) = compact(&record);
        assert_eq!(from_compact(&values, &random), Some(record));
        for cut in 0..values.len() {
            assert_eq!(
                from_compact(&values[..cut], &random),
                None,
                "values cut at {cut}"
            );
        }
        for cut in 0..random.len() {
            assert_eq!(
                from_compact(&values, &random[..cut]),
                None,
                "random bytes cut at {cut}"
            );
        }
        let longer = [random.as_slice(), &[0]].concat();
        assert_eq!(from_compact(&values, &longer), None, "a byte more");
    }
}
