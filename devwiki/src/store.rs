//! The wiki's state: consumers, users, request tokens, acceptances (access
//! tokens), nonces, pages, and the test switches. Kept behind one mutex that
//! is held only for short, synchronous work.

use std::collections::{HashMap, HashSet};
use std::sync::{Mutex, MutexGuard, OnceLock};

use rand::RngCore;

use crate::config::{Consumer, ConsumerSpec, DevWikiConfig, MediaWikiVersion, ProfileFlavour};
use crate::jwt;
use crate::messages::{self, Msg};
use crate::pages::{self, Wiki};
use crate::switches::Switches;
use crate::users::{self, UserRec};

/// Lifetime of a request token, a stored callback, and a `**USED**` marker.
pub(crate) const REQUEST_TOKEN_TTL: i64 = 600;

/// Random lowercase hex of `n` characters (`MWCryptRand::generateHex`).
pub(crate) fn random_hex(n: usize) -> String {
    let mut bytes = vec![0u8; n.div_ceil(2)];
    rand::thread_rng().fill_bytes(&mut bytes);
    let mut s: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
    s.truncate(n);
    s
}

/// Seconds since the epoch, from the system clock.
pub(crate) fn system_now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0)
}

fn civil(ts: i64) -> (i32, u8, u8, u8, u8, u8) {
    let dt =
        time::OffsetDateTime::from_unix_timestamp(ts).unwrap_or(time::OffsetDateTime::UNIX_EPOCH);
    (
        dt.year(),
        dt.month() as u8,
        dt.day(),
        dt.hour(),
        dt.minute(),
        dt.second(),
    )
}

/// `TS_ISO_8601`: `2026-11-28T01:56:21Z`.
pub(crate) fn iso8601(ts: i64) -> String {
    let (y, mo, d, h, mi, s) = civil(ts);
    format!("{y:04}-{mo:02}-{d:02}T{h:02}:{mi:02}:{s:02}Z")
}

/// An HTTP date (`Wed, 02 Dec 2026 11:43:43 GMT`), as in cookie expiries.
pub(crate) fn http_date(ts: i64) -> String {
    let (y, mo, d, h, mi, s) = civil(ts);
    const DAYS: [&str; 7] = ["Thu", "Fri", "Sat", "Sun", "Mon", "Tue", "Wed"];
    const MONTHS: [&str; 12] = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    let day = DAYS[ts.div_euclid(86_400).rem_euclid(7) as usize];
    let month = MONTHS[(mo as usize).saturating_sub(1) % 12];
    format!("{day}, {d:02} {month} {y:04} {h:02}:{mi:02}:{s:02} GMT")
}

/// `TS_MW`: `20261128015621`.
pub(crate) fn ts_mw(ts: i64) -> String {
    let (y, mo, d, h, mi, s) = civil(ts);
    format!("{y:04}{mo:02}{d:02}{h:02}{mi:02}{s:02}")
}

/// Parses `TS_MW` or `TS_ISO_8601` (with `Z`) into Unix time.
pub(crate) fn parse_timestamp(s: &str) -> Option<i64> {
    let digits: String = s.chars().filter(|c| c.is_ascii_digit()).collect();
    if digits.len() != 14 {
        return None;
    }
    let n = |a: usize, b: usize| digits[a..b].parse::<u32>().ok();
    let month = time::Month::try_from(n(4, 6)? as u8).ok()?;
    let date = time::Date::from_calendar_date(n(0, 4)? as i32, month, n(6, 8)? as u8).ok()?;
    let t = time::Time::from_hms(n(8, 10)? as u8, n(10, 12)? as u8, n(12, 14)? as u8).ok()?;
    Some(
        time::PrimitiveDateTime::new(date, t)
            .assume_utc()
            .unix_timestamp(),
    )
}

/// A registered consumer.
#[derive(Clone, Debug)]
pub(crate) struct ConsumerRec {
    pub key: String,
    pub secret: String,
    pub name: String,
    pub callback: String,
    pub callback_is_prefix: bool,
    pub grants: Vec<String>,
    pub grants_as_object: bool,
    pub owner_only: Option<String>,
    /// Who registered it (shown in errors).
    pub owner: String,
    /// An OAuth 2.0 client.
    pub oauth2: bool,
    /// OAuth 2.0: confidential (its secret is checked).
    pub confidential: bool,
}

/// Lifetime of an OAuth 2.0 authorization code (hard-coded `PT10M`).
pub(crate) const AUTH_CODE_TTL: i64 = 600;

/// A float of seconds as PHP's `json_encode` writes it (shortest form;
/// a whole number without a fraction, as lcobucci/jwt turns `.000000`
/// into an int).
fn php_float(f: f64) -> String {
    if f.fract() == 0.0 && f.abs() < 1e15 {
        format!("{}", f as i64)
    } else {
        serde_json::Value::from(f).to_string()
    }
}

/// Lifetime of an owner-only OAuth 2.0 access token (`P1000Y`).
pub(crate) const OWNER_ONLY_TOKEN_TTL: i64 = 1000 * 365 * 24 * 3600;

/// An OAuth 2.0 authorization code (kept until it expires; `used` after
/// one exchange: "Authorization code has been revoked").
#[derive(Clone, Debug)]
pub(crate) struct AuthCode {
    pub client: String,
    pub user: String,
    /// The `redirect_uri` sent to `authorize`, if one was.
    pub redirect_uri: Option<String>,
    pub scopes: Vec<String>,
    /// `code_challenge` and its method (`S256` or `plain`).
    pub challenge: Option<(String, String)>,
    pub expires: i64,
    pub used: bool,
}

/// An OAuth 2.0 access token, by `jti`.
#[derive(Clone, Debug)]
pub(crate) struct O2Access {
    pub client: String,
    /// `None`: a `client_credentials` token of a client that is not
    /// owner-only (acceptance id 0, an anonymous session).
    pub user: Option<String>,
    pub scopes: Vec<String>,
    pub expires: i64,
    pub revoked: bool,
}

/// An OAuth 2.0 refresh token.
#[derive(Clone, Debug)]
pub(crate) struct O2Refresh {
    pub client: String,
    pub user: String,
    pub scopes: Vec<String>,
    /// The access token issued with it (revoked when it is used).
    pub access_jti: String,
    pub expires: i64,
    /// When it was used for a refresh (refused afterwards, unless within
    /// the grace period).
    pub used_at: Option<i64>,
    /// Revoked with the user's approval.
    pub revoked: bool,
}

/// A request token in the "cache".
#[derive(Clone, Debug)]
pub(crate) struct RequestToken {
    pub consumer: String,
    pub secret: String,
    pub expires: i64,
    /// `**USED**`: exchanged already (kept until `expires`).
    pub used: bool,
    pub verifier: Option<String>,
    pub access_key: Option<String>,
}

/// An acceptance: a user's authorization of a consumer, with its access token.
#[derive(Clone, Debug)]
pub(crate) struct Acceptance {
    pub user: String,
    pub consumer: String,
    pub access_key: String,
    pub access_secret: String,
    pub grants: Vec<String>,
}

/// What the wiki saw of the last `api.php` request.
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize)]
pub struct RecordedRequest {
    /// `GET` or `POST` (upper case).
    pub method: String,
    /// The parameters, query string and body merged as `api.php` reads them
    /// (a POSTed value wins), text fields only: file parts of a multipart
    /// body are not in here.
    pub params: Vec<(String, String)>,
    /// The `Content-Type` of the body, if any.
    pub content_type: Option<String>,
    /// The `User-Agent` header, if any.
    pub user_agent: Option<String>,
}

impl RecordedRequest {
    /// The value of a parameter.
    pub fn param(&self, name: &str) -> Option<&str> {
        self.params
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }
}

/// A stored file (its latest version).
#[derive(Clone, Debug)]
pub(crate) struct FileRec {
    /// The name, as a database key (`My_chart.png`).
    pub name: String,
    pub bytes: Vec<u8>,
    /// SHA-1, 40 lowercase hex.
    pub sha1: String,
    pub timestamp: i64,
    pub user: String,
    pub userid: u32,
    pub comment: String,
    pub mime: &'static str,
    pub width: u32,
    pub height: u32,
    pub bitdepth: u32,
}

/// An upload kept after a warning, to be finished with `filekey`.
#[derive(Clone, Debug)]
pub(crate) struct Stashed {
    pub user: String,
    pub bytes: Vec<u8>,
    pub created: i64,
}

/// Everything mutable.
#[derive(Debug)]
pub(crate) struct Store {
    pub consumers: HashMap<String, ConsumerRec>,
    pub consumer_order: Vec<String>,
    pub default_consumer: String,
    pub users: Vec<UserRec>,
    pub request_tokens: HashMap<String, RequestToken>,
    /// Stored callbacks: request token → (callback, expiry).
    pub callbacks: HashMap<String, (String, i64)>,
    /// (user, consumer key) → acceptance.
    pub acceptances: HashMap<(String, String), Acceptance>,
    /// access key → (user, consumer key).
    pub access_tokens: HashMap<String, (String, String)>,
    /// nonce key → expiry.
    nonces: HashMap<String, i64>,
    nonce_sweep: SweepAt,
    /// When `request_tokens` and `callbacks` are next swept.
    request_sweep: SweepAt,
    pub wiki: Wiki,
    pub switches: Switches,
    pub jwt_email_verified: bool,
    /// The MediaWiki release imitated.
    pub mediawiki: MediaWikiVersion,
    /// Per-wiki secret for CSRF tokens.
    pub secret: String,
    /// Uploaded files by name (database key, e.g. `My_chart.png`).
    pub files: HashMap<String, FileRec>,
    /// Uploads stashed after a warning, by file key.
    pub stash: HashMap<String, Stashed>,
    /// api.php requests by module path (`*`, `edit`, `query+tokens`, ...).
    pub api_counts: HashMap<String, u64>,
    /// The last api.php request.
    pub last_api: Option<RecordedRequest>,
    /// Users whose global account has no local account here (not attached):
    /// their OAuth requests get `mwoauth-invalid-authorization-invalid-user`.
    pub detached: HashSet<String>,
    /// Consumers (keys or client ids) disabled after approval: OAuth requests
    /// get `mwoauth-invalid-authorization-not-approved`.
    pub disabled_consumers: HashSet<String>,
    /// api.php requests in flight per user: (now, most at once).
    pub in_flight: HashMap<String, (u32, u32)>,
    /// The default OAuth 2.0 client's `client_id`.
    pub default_oauth2_client: String,
    /// OAuth 2.0 authorization codes.
    pub o2_codes: HashMap<String, AuthCode>,
    /// OAuth 2.0 access tokens by `jti`.
    pub o2_access: HashMap<String, O2Access>,
    /// OAuth 2.0 refresh tokens.
    pub o2_refresh: HashMap<String, O2Refresh>,
    /// When `o2_codes` is next swept.
    pub o2_code_sweep: SweepAt,
    /// When `o2_refresh` (and the access tokens only they keep) is next swept.
    pub o2_refresh_sweep: SweepAt,
    /// The long-lived Bearer token of each owner-only OAuth 2.0 client.
    pub o2_owner_tokens: HashMap<String, String>,
    /// Requests to `rest.php/oauth2/access_token` by `grant_type` (`*`: all).
    pub o2_counts: HashMap<String, u64>,
    /// Access tokens of another wiki of the farm, accepted as they are
    /// (`DevWiki::import_oauth2_token`).
    pub o2_imported: std::collections::HashSet<String>,
    /// The JWT `iss` (`$wgCanonicalServer`), set once the port is bound.
    pub issuer: String,
}

/// The state shared by the handle and the HTTP handler.
#[derive(Debug)]
pub(crate) struct Shared {
    store: Mutex<Store>,
    /// `$wgServer`, known once the port is bound.
    pub origin: OnceLock<String>,
    /// The configured host (for the origin before the port is known).
    pub host: String,
    /// `$wgScriptPath`: `/w`, or empty for a wiki at the root.
    pub script_path: String,
}

impl Shared {
    /// New state for `config`.
    pub(crate) fn new(config: &DevWikiConfig) -> Shared {
        Shared {
            store: Mutex::new(Store::new(config)),
            origin: OnceLock::new(),
            host: config.host.clone(),
            script_path: config.script_path.clone(),
        }
    }

    /// Locks the store (a poisoned lock is used anyway: nothing is left half-done).
    pub(crate) fn lock(&self) -> MutexGuard<'_, Store> {
        self.store.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// `$wgServer` + `$wgScriptPath`, e.g. `http://127.0.0.1:8080/w`.
    pub(crate) fn script_url(&self) -> String {
        format!("{}{}", self.server(), self.script_path)
    }

    /// `$wgServer`, e.g. `http://127.0.0.1:8080`.
    pub(crate) fn server(&self) -> String {
        self.origin
            .get()
            .cloned()
            .unwrap_or_else(|| format!("http://{}", self.host))
    }
}

impl Store {
    fn new(config: &DevWikiConfig) -> Store {
        let mut users = users::seed_users();
        let names: Vec<(u32, &str)> = users.iter().map(|u| (u.id, u.name.as_str())).collect();
        let wiki = pages::seed(&names);
        for u in &mut users {
            u.editcount = wiki.revisions.iter().filter(|r| r.user == u.name).count() as i64;
        }
        let mut store = Store {
            consumers: HashMap::new(),
            consumer_order: Vec::new(),
            default_consumer: String::new(),
            users,
            request_tokens: HashMap::new(),
            callbacks: HashMap::new(),
            acceptances: HashMap::new(),
            access_tokens: HashMap::new(),
            nonces: HashMap::new(),
            nonce_sweep: SweepAt::new(1024),
            request_sweep: SweepAt::new(4096),
            wiki,
            switches: Switches::new(config.auto_approve.clone()),
            jwt_email_verified: config.jwt_email_verified,
            mediawiki: config.mediawiki,
            secret: random_hex(40),
            files: HashMap::new(),
            stash: HashMap::new(),
            api_counts: HashMap::new(),
            last_api: None,
            detached: HashSet::new(),
            disabled_consumers: HashSet::new(),
            in_flight: HashMap::new(),
            default_oauth2_client: String::new(),
            o2_codes: HashMap::new(),
            o2_access: HashMap::new(),
            o2_refresh: HashMap::new(),
            o2_code_sweep: SweepAt::new(4096),
            o2_refresh_sweep: SweepAt::new(4096),
            o2_owner_tokens: HashMap::new(),
            o2_counts: HashMap::new(),
            o2_imported: std::collections::HashSet::new(),
            issuer: format!("http://{}", config.host),
        };
        store
            .switches
            .set_oauth2_access_token_lifetime(config.oauth2_access_token_lifetime);
        store
            .switches
            .set_oauth2_refresh_token_lifetime(config.oauth2_refresh_token_lifetime);
        // An explicit flavour wins; the default one follows the version.
        store
            .switches
            .set_profile_as(if config.profile_as == ProfileFlavour::Mw139 {
                config.mediawiki.profile_flavour()
            } else {
                config.profile_as
            });
        store
            .switches
            .set_oauth2_refresh_grace(config.mediawiki.refresh_grace());
        let default = store.register(ConsumerSpec {
            name: "DevWiki default app".into(),
            callback: config.callback.clone(),
            callback_is_prefix: config.callback_is_prefix,
            grants: vec![
                "basic".into(),
                "editpage".into(),
                "highvolume".into(),
                "createeditmovepage".into(),
            ],
            grants_as_object: true,
            owner_only: None,
            key: config.default_consumer_key.clone(),
            secret: config.default_consumer_secret.clone(),
            oauth2: false,
            confidential: true,
        });
        store.default_consumer = default.key;
        let default2 = store.register(ConsumerSpec {
            name: "DevWiki default OAuth 2.0 app".into(),
            callback: config.oauth2_redirect_uri.clone(),
            callback_is_prefix: false,
            grants: vec![
                "basic".into(),
                "editpage".into(),
                "highvolume".into(),
                "createeditmovepage".into(),
            ],
            grants_as_object: true,
            owner_only: None,
            key: config.default_oauth2_client_id.clone(),
            secret: config.default_oauth2_client_secret.clone(),
            oauth2: true,
            confidential: !config.oauth2_public,
        });
        store.default_oauth2_client = default2.key;
        store
    }

    /// Rotates the wiki's CSRF secret: every token handed out so far gets
    /// `badtoken` (`DevWiki::invalidate_tokens`, `/devwiki/invalidate-tokens`).
    pub(crate) fn invalidate_tokens(&mut self) {
        self.secret = random_hex(40);
    }

    /// The wiki's clock: the system clock plus the configured offset.
    pub(crate) fn now(&self) -> i64 {
        system_now() + self.switches.clock_offset()
    }

    /// A user by exact name.
    pub(crate) fn user(&self, name: &str) -> Option<&UserRec> {
        self.users.iter().find(|u| u.name == name)
    }

    /// A user by name, normalized like MediaWiki does (`alice` → `Alice`).
    pub(crate) fn find_user(&self, name: &str) -> Option<&UserRec> {
        self.user(name)
            .or_else(|| pages::normalize_user_name(name).and_then(|n| self.user(&n)))
    }

    /// Registers a consumer.
    pub(crate) fn register(&mut self, spec: ConsumerSpec) -> Consumer {
        let key = spec.key.clone().unwrap_or_else(|| random_hex(32));
        let secret = spec.secret.clone().unwrap_or_else(|| random_hex(40));
        if let Some(owner) = &spec.owner_only {
            if self.user(owner).is_none() {
                let id = self.users.iter().map(|u| u.id).max().unwrap_or(0) + 1;
                self.users.push(users::ordinary_user(id, owner));
            }
        }
        let rec = ConsumerRec {
            key: key.clone(),
            secret,
            name: spec.name.clone(),
            callback: spec.callback.clone(),
            // "Only allowed for OAuth 1.0 clients".
            callback_is_prefix: spec.callback_is_prefix && !spec.oauth2,
            grants: spec.grants.clone(),
            grants_as_object: spec.grants_as_object,
            owner_only: spec.owner_only.clone(),
            owner: spec.owner_only.clone().unwrap_or_else(|| "Admin".into()),
            oauth2: spec.oauth2,
            // Owner-only clients are confidential (client_credentials).
            confidential: !spec.oauth2 || spec.confidential || spec.owner_only.is_some(),
        };
        if !self.consumers.contains_key(&key) {
            self.consumer_order.push(key.clone());
        }
        // Re-registering a key replaces the consumer and drops its grants.
        let stale: Vec<(String, String)> = self
            .acceptances
            .keys()
            .filter(|(_, c)| *c == key)
            .cloned()
            .collect();
        for k in stale {
            if let Some(a) = self.acceptances.remove(&k) {
                self.access_tokens.remove(&a.access_key);
            }
        }
        self.o2_access.retain(|_, t| t.client != key);
        self.o2_refresh.retain(|_, t| t.client != key);
        self.o2_codes.retain(|_, c| c.client != key);
        self.o2_owner_tokens.remove(&key);
        self.consumers.insert(key.clone(), rec);
        if let Some(owner) = spec.owner_only {
            self.accept(&owner, &key);
            if spec.oauth2 {
                let grants = dedup(&spec.grants);
                let (token, _) = self.mint_access_token(
                    &key,
                    Some(&owner),
                    &grants,
                    OWNER_ONLY_TOKEN_TTL,
                    "client_credentials",
                );
                self.o2_owner_tokens.insert(key.clone(), token);
            }
        }
        self.public_consumer(&key).unwrap_or_else(|| Consumer {
            key,
            secret: String::new(),
            name: spec.name,
            callback: spec.callback,
            callback_is_prefix: spec.callback_is_prefix,
            grants: spec.grants,
            owner_only: None,
            access_token: None,
            oauth2: spec.oauth2,
            confidential: spec.confidential,
            oauth2_access_token: None,
        })
    }

    /// The public view of a consumer.
    pub(crate) fn public_consumer(&self, key: &str) -> Option<Consumer> {
        let c = self.consumers.get(key)?;
        let accepted = c
            .owner_only
            .as_ref()
            .and_then(|owner| self.acceptances.get(&(owner.clone(), key.to_string())));
        let access_token = accepted
            .filter(|_| !c.oauth2)
            .map(|a| (a.access_key.clone(), a.access_secret.clone()));
        let oauth2_access_token = accepted
            .filter(|_| c.oauth2)
            .and_then(|_| self.o2_owner_tokens.get(key).cloned());
        Some(Consumer {
            key: c.key.clone(),
            secret: c.secret.clone(),
            name: c.name.clone(),
            callback: c.callback.clone(),
            callback_is_prefix: c.callback_is_prefix,
            grants: c.grants.clone(),
            owner_only: c.owner_only.clone(),
            access_token,
            oauth2: c.oauth2,
            confidential: c.confidential,
            oauth2_access_token,
        })
    }

    /// Creates (or returns the existing) acceptance of `consumer` by `user`:
    /// the same access token comes back until it is revoked.
    pub(crate) fn accept(&mut self, user: &str, consumer: &str) -> Acceptance {
        let k = (user.to_string(), consumer.to_string());
        if let Some(a) = self.acceptances.get(&k) {
            return a.clone();
        }
        let grants = self
            .consumers
            .get(consumer)
            .map(|c| c.grants.clone())
            .unwrap_or_default();
        let a = Acceptance {
            user: user.to_string(),
            consumer: consumer.to_string(),
            access_key: random_hex(32),
            access_secret: random_hex(40),
            grants,
        };
        self.access_tokens.insert(
            a.access_key.clone(),
            (user.to_string(), consumer.to_string()),
        );
        self.acceptances.insert(k, a.clone());
        a
    }

    /// Stores an acceptance with a given access token (see `DevWiki::import_grant`).
    pub(crate) fn import_acceptance(
        &mut self,
        user: &str,
        consumer: &str,
        key: &str,
        secret: &str,
    ) {
        let grants = self
            .consumers
            .get(consumer)
            .map(|c| c.grants.clone())
            .unwrap_or_default();
        let a = Acceptance {
            user: user.to_string(),
            consumer: consumer.to_string(),
            access_key: key.to_string(),
            access_secret: secret.to_string(),
            grants,
        };
        self.access_tokens.insert(
            a.access_key.clone(),
            (user.to_string(), consumer.to_string()),
        );
        self.acceptances
            .insert((user.to_string(), consumer.to_string()), a);
    }

    /// Deletes an acceptance (and, for OAuth 2.0, revokes the access and
    /// refresh tokens issued under it); true if there was one.
    pub(crate) fn revoke(&mut self, user: &str, consumer: &str) -> bool {
        for t in self.o2_access.values_mut() {
            if t.client == consumer && t.user.as_deref() == Some(user) {
                t.revoked = true;
            }
        }
        for t in self.o2_refresh.values_mut() {
            if t.client == consumer && t.user == user {
                t.revoked = true;
            }
        }
        self.o2_codes
            .retain(|_, c| !(c.client == consumer && c.user == user));
        match self
            .acceptances
            .remove(&(user.to_string(), consumer.to_string()))
        {
            Some(a) => {
                self.access_tokens.remove(&a.access_key);
                true
            }
            None => false,
        }
    }

    /// Issues an OAuth 2.0 access token: an HS256 JWT with the claims of
    /// `AccessTokenEntity::convertToJWT` (`aud`, `jti`, `iat`, `nbf`,
    /// `exp`, `sub`, `iss`, `scopes`), remembered by `jti`. `sub` is the
    /// user's id; for an anonymous `client_credentials` token, the owner's.
    pub(crate) fn mint_access_token(
        &mut self,
        client: &str,
        user: Option<&str>,
        scopes: &[String],
        lifetime: i64,
        grant_type: &str,
    ) -> (String, String) {
        let now_f = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_secs_f64())
            .unwrap_or(0.0)
            + self.switches.clock_offset() as f64;
        let now = self.now();
        let jti = random_hex(80);
        let sub_user = user
            .map(str::to_string)
            .or_else(|| self.consumers.get(client).map(|c| c.owner.clone()))
            .unwrap_or_default();
        let central_id = self.user(&sub_user).map(|u| u.id).unwrap_or(0);
        let owner_only = self
            .consumers
            .get(client)
            .is_some_and(|c| c.owner_only.is_some());
        let newest = self.mediawiki == MediaWikiVersion::V1_47;
        // Extension:OAuth REL1_46+ `getUserIdentifierForJwt()`: short-lived
        // tokens of a user say `mw:<lookup scope>:<id>`; Wikimedia's
        // CentralAuth scope is `CentralAuth:`. Owner-only tokens and id 0
        // keep the plain id.
        let sub = if newest && !owner_only && central_id != 0 {
            format!("mw:CentralAuth::{central_id}")
        } else {
            central_id.to_string()
        };
        let round = |f: f64| (f * 1e6).round() / 1e6;
        let exp = now_f + lifetime as f64;
        let js = |v: &str| serde_json::Value::from(v).to_string();
        // lcobucci/jwt's order (aud, jti, iat, nbf, exp, sub, iss, custom
        // claims, scopes) and its float seconds with microseconds.
        let mut claims = format!(
            "{{\"aud\":{},\"jti\":{},\"iat\":{},\"nbf\":{},\"exp\":{},\"sub\":{},\"iss\":{}",
            js(client),
            js(&jti),
            php_float(round(now_f)),
            php_float(round(now_f)),
            php_float(round(exp)),
            js(&sub),
            js(&self.issuer),
        );
        if newest && !owner_only {
            // Extension:OAuth master `ClaimStore::getClaims()` (1.47).
            claims.push_str(&format!(",\"grant_type\":{}", js(grant_type)));
        }
        claims.push_str(&format!(
            ",\"scopes\":{}}}",
            serde_json::Value::from(scopes.to_vec())
        ));
        let token = jwt::encode_rs256(&claims);
        self.o2_access.insert(
            jti.clone(),
            O2Access {
                client: client.to_string(),
                user: user.map(str::to_string),
                scopes: scopes.to_vec(),
                expires: now.saturating_add(lifetime),
                revoked: false,
            },
        );
        (token, jti)
    }

    /// `lookup_token(..., 'access', ...)`: the acceptance of an access token
    /// that belongs to `consumer`.
    pub(crate) fn access_token(&self, consumer: &str, key: &str) -> Result<Acceptance, Msg> {
        let (user, c) = self
            .access_tokens
            .get(key)
            .ok_or_else(messages::access_token_not_found)?;
        if c != consumer {
            return Err(messages::access_token_not_found());
        }
        self.acceptances
            .get(&(user.clone(), c.clone()))
            .cloned()
            .ok_or_else(messages::access_token_not_found)
    }

    /// Issues a request token with its callback (both kept 600 s).
    pub(crate) fn new_request_token(&mut self, consumer: &str, callback: &str) -> (String, String) {
        let now = self.now();
        self.sweep_tokens(now);
        let key = random_hex(32);
        let secret = random_hex(32);
        self.request_tokens.insert(
            key.clone(),
            RequestToken {
                consumer: consumer.to_string(),
                secret: secret.clone(),
                expires: now + REQUEST_TOKEN_TTL,
                used: false,
                verifier: None,
                access_key: None,
            },
        );
        self.callbacks
            .insert(key.clone(), (callback.to_string(), now + REQUEST_TOKEN_TTL));
        (key, secret)
    }

    fn sweep_tokens(&mut self, now: i64) {
        if self.request_sweep.due(self.request_tokens.len()) {
            self.request_tokens.retain(|_, t| t.expires > now);
            self.callbacks.retain(|_, (_, e)| *e > now);
            self.request_sweep.swept(self.request_tokens.len());
        }
    }

    /// `lookup_token(..., 'request', ...)`: E009 when used, E004 when unknown,
    /// expired, or of another consumer.
    pub(crate) fn request_token_mut(
        &mut self,
        consumer: &str,
        key: &str,
    ) -> Result<&mut RequestToken, Msg> {
        let now = self.now();
        match self.request_tokens.get_mut(key) {
            Some(t) if t.consumer == consumer && t.expires > now => {
                if t.used {
                    Err(messages::request_token_already_used())
                } else {
                    Ok(t)
                }
            }
            _ => Err(messages::request_token_not_found()),
        }
    }

    /// The consumer a request token was issued to (cache `consumer:request:`).
    pub(crate) fn consumer_of_request_token(&self, key: &str) -> Option<String> {
        let now = self.now();
        self.request_tokens
            .get(key)
            .filter(|t| t.expires > now)
            .map(|t| t.consumer.clone())
    }

    /// Reads and deletes the stored callback of a request token.
    pub(crate) fn take_callback(&mut self, key: &str) -> Option<String> {
        let now = self.now();
        match self.callbacks.remove(key) {
            Some((cb, expires)) if expires > now => Some(cb),
            _ => None,
        }
    }

    /// Records a nonce (per consumer + token) until `expires`; false if it
    /// is already recorded and not expired.
    pub(crate) fn record_nonce(
        &mut self,
        consumer: &str,
        token: &str,
        nonce: &str,
        expires: i64,
    ) -> bool {
        let now = self.now();
        if self.nonce_sweep.due(self.nonces.len()) {
            self.nonces.retain(|_, e| *e > now);
            self.nonce_sweep.swept(self.nonces.len());
        }
        let key = format!("{consumer}\u{0}{token}\u{0}{nonce}");
        match self.nonces.get(&key) {
            Some(e) if *e > now => false,
            _ => {
                self.nonces.insert(key, expires);
                true
            }
        }
    }

    /// A stable CSRF-style token for a session and a token type, ending in `+\`.
    pub(crate) fn session_token(&self, user: &str, consumer: &str, kind: &str) -> String {
        use hmac::{Hmac, Mac};
        let mut mac = match Hmac::<sha1::Sha1>::new_from_slice(self.secret.as_bytes()) {
            Ok(m) => m,
            Err(_) => return "+\\".into(),
        };
        mac.update(format!("{user}\u{0}{consumer}\u{0}{kind}").as_bytes());
        let hex: String = mac
            .finalize()
            .into_bytes()
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        format!("{hex}+\\")
    }
}

/// The grants without repeats, in their order (`array_unique`).
pub(crate) fn dedup(grants: &[String]) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for g in grants {
        if !out.contains(g) {
            out.push(g.clone());
        }
    }
    out
}

/// When to sweep the expired entries out of a table next: once it has grown
/// to twice what the last sweep left (and at least a minimum). Sweeping at a
/// fixed size instead would rescan the whole table on every insert once that
/// many entries are live (refresh tokens live 30 days), which made every
/// login slower than the last in a long benchmark.
#[derive(Debug)]
pub(crate) struct SweepAt {
    at: usize,
    min: usize,
}

impl SweepAt {
    pub(crate) fn new(min: usize) -> SweepAt {
        SweepAt { at: min, min }
    }

    /// Whether a table of `len` entries is due.
    pub(crate) fn due(&self, len: usize) -> bool {
        len >= self.at
    }

    /// Notes a sweep that left `len` entries.
    pub(crate) fn swept(&mut self, len: usize) {
        self.at = len.saturating_mul(2).max(self.min);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn time_formats() {
        assert_eq!(iso8601(1_795_830_981), "2026-11-28T01:56:21Z");
        assert_eq!(ts_mw(1_795_830_981), "20261128015621");
        assert_eq!(parse_timestamp("20261128015621"), Some(1_795_830_981));
        assert_eq!(parse_timestamp("2026-11-28T01:56:21Z"), Some(1_795_830_981));
        assert_eq!(parse_timestamp("nope"), None);
    }

    #[test]
    fn acceptance_is_reused_until_revoked() {
        let shared = Shared::new(&DevWikiConfig::default());
        let mut s = shared.lock();
        let key = s.default_consumer.clone();
        let a = s.accept("Alice", &key);
        assert_eq!(a.access_key.len(), 32);
        assert_eq!(a.access_secret.len(), 40);
        assert_eq!(s.accept("Alice", &key).access_key, a.access_key);
        assert!(s.revoke("Alice", &key));
        assert!(!s.revoke("Alice", &key));
        assert_ne!(s.accept("Alice", &key).access_key, a.access_key);
    }

    #[test]
    fn nonces() {
        let shared = Shared::new(&DevWikiConfig::default());
        let mut s = shared.lock();
        let now = s.now();
        assert!(s.record_nonce("c", "", "n", now + 300));
        assert!(!s.record_nonce("c", "", "n", now + 300));
        assert!(s.record_nonce("c", "t", "n", now + 300));
        assert!(s.record_nonce("d", "", "n", now + 300));
    }

    #[test]
    fn a_table_of_live_entries_is_swept_at_doubling_sizes() {
        let mut sweep = SweepAt::new(4);
        let mut sweeps = Vec::new();
        // Every entry stays live: each sweep keeps all of them.
        for len in 1..=100 {
            if sweep.due(len) {
                sweeps.push(len);
                sweep.swept(len);
            }
        }
        assert_eq!(sweeps, [4, 8, 16, 32, 64]);
    }

    #[test]
    fn after_a_sweep_that_empties_the_table_the_minimum_holds() {
        let mut sweep = SweepAt::new(4);
        assert!(sweep.due(4));
        sweep.swept(0);
        assert!(!sweep.due(3));
        assert!(sweep.due(4));
    }
}
