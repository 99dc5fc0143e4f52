//! The `mwoauth` configuration table: read from Rocket's figment over its
//! documented defaults, checked, and turned into the URLs the rest of the
//! crate uses.
//!
//! ```toml
//! # Rocket.toml
//! [default.mwoauth]
//! base_url = "https://meta.wikimedia.org/w"   # index.php, api.php and rest.php live here
//! client_id = "0123456789abcdef0123456789abcdef"
//! client_secret = "…"                          # better: ROCKET_MWOAUTH_CLIENT_SECRET
//! callback = "https://mytool.toolforge.org/oauth-callback"
//! user_agent = "MyTool/1.0 (https://mytool.toolforge.org; me@example.org)"
//! ```
//!
//! Every key can be overridden by an environment variable `ROCKET_MWOAUTH_<KEY>`
//! (for example `ROCKET_MWOAUTH_CLIENT_SECRET`).

use std::fmt;
use std::time::Duration;

use rocket::figment::providers::{Env, Serialized};
use rocket::figment::Figment;
use serde::{Deserialize, Serialize};

/// The crate's name and version, appended to every User-Agent it sends.
pub(crate) const CRATE_AGENT: &str =
    concat!(env!("CARGO_PKG_NAME"), "/", env!("CARGO_PKG_VERSION"));

/// A User-Agent that follows Wikimedia's policy, shown when one does not.
pub(crate) const GOOD_USER_AGENT: &str =
    "MyTool/1.0 (https://mytool.toolforge.org; me@example.org)";

/// What is wrong with `agent` (the app's part of the User-Agent, without the
/// crate's) against Wikimedia's User-Agent policy,
/// `<client>/<version> (<contact>)`: a name, a slash, a version, then the
/// contact (a URL, an e-mail address or a `User:` page) in parentheses.
/// Wikimedia blocks library defaults and agents without a contact.
pub(crate) fn user_agent_problem(agent: &str) -> Option<String> {
    let advice = format!(
        "Wikimedia's User-Agent policy wants `<client>/<version> (<contact>)`, e.g. \"{GOOD_USER_AGENT}\" (the crate appends its own name and version)"
    );
    let shaped = (|| {
        let (product, rest) = agent.split_once(' ')?;
        let (name, version) = product.split_once('/')?;
        let ok_token = |s: &str| {
            !s.is_empty()
                && s.bytes()
                    .all(|b| b.is_ascii_graphic() && !b"()/".contains(&b))
        };
        if !ok_token(name) || !ok_token(version) {
            return None;
        }
        let contact = rest.trim().strip_prefix('(')?.split(')').next()?;
        let reachable = contact.contains('@')
            || contact.contains("://")
            || contact.contains("User:")
            || contact.contains("User_talk:");
        reachable.then_some(())
    })();
    if agent.is_empty() {
        return Some(format!("is empty; {advice}"));
    }
    if agent.bytes().any(|b| b.is_ascii_control()) {
        return Some(format!("must be one line of text; {advice}"));
    }
    match shaped {
        Some(()) => None,
        None => Some(format!(
            "{agent:?} does not name a client, its version and a contact; {advice}"
        )),
    }
}

/// The `mwoauth` table as written, read over [`Table::default`] (the
/// documented defaults). An empty string is a key not given.
#[derive(Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
struct Table {
    base_url: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    oauth_version: Option<OAuthVersion>,
    consumer_key: String,
    consumer_secret: String,
    client_id: String,
    client_secret: String,
    public_client: bool,
    owner_consumer_key: String,
    owner_consumer_secret: String,
    owner_access_token: String,
    owner_access_secret: String,
    owner_client_id: String,
    owner_client_secret: String,
    callback: Callback,
    default_return: String,
    mount: String,
    user_agent: String,
    timeout: u64,
    jwt_leeway: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    secure_cookies: Option<bool>,
    session_days: u32,
    error_pages: ErrorPages,
    flash: bool,
    i18n_dir: String,
    store: SessionStore,
    redis_url: String,
    redis_prefix: String,
}

impl Default for Table {
    fn default() -> Self {
        Table {
            base_url: String::new(),
            oauth_version: None,
            consumer_key: String::new(),
            consumer_secret: String::new(),
            client_id: String::new(),
            client_secret: String::new(),
            public_client: false,
            owner_consumer_key: String::new(),
            owner_consumer_secret: String::new(),
            owner_access_token: String::new(),
            owner_access_secret: String::new(),
            owner_client_id: String::new(),
            owner_client_secret: String::new(),
            callback: Callback::Oob,
            default_return: "/".into(),
            mount: "/".into(),
            user_agent: String::new(),
            timeout: 30,
            jwt_leeway: 120,
            secure_cookies: None,
            session_days: 7,
            error_pages: ErrorPages::Builtin,
            flash: true,
            i18n_dir: String::new(),
            store: SessionStore::Cookie,
            redis_url: String::new(),
            redis_prefix: String::new(),
        }
    }
}

/// The keys of the table, for "did you mean".
const KEYS: [&str; 27] = [
    "base_url",
    "oauth_version",
    "consumer_key",
    "consumer_secret",
    "client_id",
    "client_secret",
    "public_client",
    "owner_consumer_key",
    "owner_consumer_secret",
    "owner_access_token",
    "owner_access_secret",
    "owner_client_id",
    "owner_client_secret",
    "callback",
    "default_return",
    "mount",
    "user_agent",
    "timeout",
    "jwt_leeway",
    "secure_cookies",
    "session_days",
    "error_pages",
    "flash",
    "i18n_dir",
    "store",
    "redis_url",
    "redis_prefix",
];

/// The checked configuration of the fairing: the `mwoauth` table.
///
/// Built by [`Config::from_figment`] at ignite (the usual way), or by hand with
/// [`Config::new`] and [`MwOAuth::with_config`](crate::MwOAuth::with_config).
/// Each field documents its key and default; every key can also be set with
/// an environment variable `ROCKET_MWOAUTH_<KEY>`.
///
/// ```
/// use rocket_mediawiki_oauth::{Callback, Config};
///
/// let figment = rocket::Config::figment()
///     .merge(("mwoauth.base_url", "https://meta.wikimedia.org/w"))
///     .merge(("mwoauth.consumer_key", "0123456789abcdef0123456789abcdef"))
///     .merge(("mwoauth.consumer_secret", "s3cr3t"));
/// let config = Config::from_figment(&figment).unwrap();
/// assert_eq!(config.base_url, "https://meta.wikimedia.org/w");
/// assert_eq!(config.callback, Callback::Oob);
/// assert_eq!(config.session_days, 7);
/// ```
#[derive(Clone)]
pub struct Config {
    /// `base_url`: where the wiki's `index.php` and `api.php` live, without
    /// a trailing slash, e.g. `https://meta.wikimedia.org/w` (flask-mwoauth's
    /// `base_url`).
    ///
    /// _Default:_ none, required.
    pub base_url: String,
    /// Which protocol signs users in: `oauth_version = 1` or `2`.
    ///
    /// _Default:_ inferred from the keys given: `consumer_key` +
    /// `consumer_secret` is OAuth 1.0a, `client_id` (+ `client_secret`) is
    /// OAuth 2.0; both at once is an error unless `oauth_version` says which.
    pub oauth_version: OAuthVersion,
    /// OAuth 1.0a: `consumer_key`, the consumer token the wiki gave you (32
    /// hex characters on a real wiki). OAuth 2.0: `client_id`, the client
    /// application key.
    ///
    /// _Default:_ none; required for user sign-in.
    pub consumer_key: String,
    /// OAuth 1.0a: `consumer_secret`. OAuth 2.0: `client_secret`, the client
    /// application secret (empty for a public client). Never logged; `Debug`
    /// prints `[redacted]`. Prefer the environment
    /// (`ROCKET_MWOAUTH_CONSUMER_SECRET`, `ROCKET_MWOAUTH_CLIENT_SECRET`) to a file.
    ///
    /// _Default:_ none; required for user sign-in (OAuth 2.0 public clients: none).
    pub consumer_secret: String,
    /// OAuth 2.0: `public_client = true` for a client registered as not
    /// confidential (PKCE proves the login; no secret is needed to sign in).
    /// MediaWiki (1.39 and 1.43) still gives such a client a secret and requires it to
    /// refresh tokens: set `client_secret` too, or users sign in again when
    /// their access token expires. A server-side Rocket app should register
    /// a confidential client and keep this `false`.
    ///
    /// _Default:_ `false`.
    pub public_client: bool,
    /// Whether users sign in (`/login` is mounted): `false` only when the
    /// configuration has no sign-in keys, just an owner-only consumer.
    pub(crate) sign_in: bool,
    /// An owner-only consumer, acting as its owner with no login (bots,
    /// background jobs): OAuth 1.0a `owner_consumer_key`,
    /// `owner_consumer_secret`, `owner_access_token`, `owner_access_secret`;
    /// OAuth 2.0 `owner_access_token` alone (the long-lived Bearer token),
    /// or `owner_client_id` and `owner_client_secret` (tokens from the
    /// `client_credentials` grant, renewed as they expire).
    ///
    /// _Default:_ none.
    pub owner: Option<OwnerOnly>,
    /// `callback`: `"oob"` (the wiki sends the user to the callback URL
    /// registered with the consumer) or a full URL. OAuth 1.0a: a URL below
    /// the registered one, for consumers registered with "Allow consumer to
    /// specify a callback". OAuth 2.0: sent as `redirect_uri`, equal to the
    /// registered one (set it, so that a Cancel comes back to the app).
    ///
    /// _Default:_ [`Callback::Oob`].
    pub callback: Callback,
    /// `default_return`: where users land after login/logout when no (safe)
    /// `next` is given; a path on this site.
    ///
    /// _Default:_ `"/"`.
    pub default_return: String,
    /// `mount`: where `/login`, `/logout` and `/oauth-callback` are mounted
    /// (and the path of the login-in-progress cookies).
    ///
    /// _Default:_ `"/"`.
    pub mount: String,
    /// `user_agent`: the User-Agent sent to the wiki, e.g.
    /// `MyTool/1.0 (https://mytool.toolforge.org; me@example.org)`; the
    /// crate's name and version are appended. Wikimedia wikis require a
    /// descriptive one.
    ///
    /// _Default:_ the crate's name and version alone, with a warning at launch.
    pub user_agent: String,
    /// Whether `user_agent` was set (not a key of its own).
    pub(crate) user_agent_set: bool,
    /// `timeout`: seconds for each HTTP request to the wiki.
    ///
    /// _Default:_ `30`.
    pub timeout: Duration,
    /// `jwt_leeway`: seconds of clock skew allowed when checking the identity
    /// token's `iat` and `exp`.
    ///
    /// _Default:_ `120`.
    pub jwt_leeway: Duration,
    /// `secure_cookies`: `true` forces the `Secure` cookie attribute (behind a
    /// TLS proxy), `false` never sets it; unset, it is set when Rocket serves
    /// TLS or the `callback` is an `https://` URL, and otherwise on each
    /// request a proxy marks `X-Forwarded-Proto: https` (with a warning at
    /// launch).
    ///
    /// _Default:_ unset (automatic).
    pub secure_cookies: Option<bool>,
    /// `session_days`: how long a sign-in lasts, in days, counted from the
    /// last confirmation by the wiki (login or `VerifiedMwUser`); checked on
    /// the server too.
    ///
    /// _Default:_ `7`.
    pub session_days: u32,
    /// `error_pages`: who renders the crate's error pages (HTML): `"builtin"`,
    /// the crate's own page, or `"catchers"`, the app's catchers.
    ///
    /// _Default:_ `"builtin"`.
    pub error_pages: ErrorPages,
    /// `flash`: after login and logout, leave a message ("You were signed
    /// in, Alice!") for Rocket's `FlashMessage` guard on the next page, in a
    /// `_flash` cookie that lives a minute. Set it to `false` when your app
    /// shows no flash messages.
    ///
    /// _Default:_ `true`.
    pub flash: bool,
    /// `i18n_dir`: a folder of your own message files in banana JSON
    /// (`en.json`, `de.json`, …, as on translatewiki.net): they add messages
    /// for your pages ([`UserLanguage::msg`](crate::UserLanguage::msg)) and
    /// override the crate's (keys `mwoauth-*`, see the crate's
    /// `src/i18n/en.json`). Read and checked at ignite; a file that is not
    /// JSON of strings, or not named after a language, stops launch naming it.
    ///
    /// ```toml
    /// [default.mwoauth]
    /// i18n_dir = "i18n"   # ROCKET_MWOAUTH_I18N_DIR=i18n
    /// ```
    ///
    /// _Default:_ none (the crate's messages in English, German and French).
    pub i18n_dir: Option<std::path::PathBuf>,
    /// `store`: where the signed-in record lives. `"cookie"`: in the
    /// encrypted cookie itself (nothing on the server; any instance sharing
    /// `secret_key` serves the user). `"redis"` (cargo feature `redis`): the
    /// cookie holds only a random session id, the record lives in Redis
    /// (encrypted with a key derived from `secret_key`), logout ends every
    /// copy of the cookie, and instances share one refresh per token.
    ///
    /// _Default:_ [`SessionStore::Cookie`].
    pub store: SessionStore,
    /// `redis_url`: the Redis server of `store = "redis"`, e.g.
    /// `redis://tools-redis:6379/0` (a password as `redis://:password@host/`;
    /// `rediss://`, Redis over TLS, is refused at ignite: not supported
    /// yet). `Debug` hides the password.
    ///
    /// _Default:_ `redis://127.0.0.1:6379/0`.
    pub redis_url: String,
    /// `redis_prefix`: the start of every key the crate writes in Redis. On a
    /// Redis shared by other apps (Toolforge's `tools-redis`) it must be
    /// secret and random, at least 20 characters: make one with
    /// `openssl rand -hex 16` and keep it with the app's secrets
    /// (`ROCKET_MWOAUTH_REDIS_PREFIX`). `Debug` prints `[redacted]`.
    ///
    /// _Default:_ none; required with `store = "redis"`.
    pub redis_prefix: String,
}

/// Where the signed-in record lives: `store = "cookie"` or `"redis"` (see
/// [`Config::store`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum SessionStore {
    /// In the encrypted cookie (the default; no server-side state).
    Cookie,
    /// In Redis (cargo feature `redis`); the cookie holds a random id.
    Redis,
}

impl<'de> Deserialize<'de> for SessionStore {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        match s.trim().to_ascii_lowercase().as_str() {
            "cookie" | "cookies" => Ok(SessionStore::Cookie),
            "redis" => Ok(SessionStore::Redis),
            _ => Err(serde::de::Error::invalid_value(
                serde::de::Unexpected::Str(&s),
                &"\"cookie\" or \"redis\"",
            )),
        }
    }
}

/// The default `redis_url`.
const DEFAULT_REDIS_URL: &str = "redis://127.0.0.1:6379/0";

/// `url` with its password (if any) replaced by `[redacted]`, for `Debug`
/// and messages.
pub(crate) fn redacted_url(url: &str) -> String {
    match url::Url::parse(url) {
        Ok(mut u) if u.password().is_some() => {
            let _ = u.set_password(Some("[redacted]"));
            u.to_string()
        }
        Ok(u) => u.to_string(),
        Err(_) if url.contains('@') => "[redacted]".into(),
        Err(_) => url.to_string(),
    }
}

/// What is wrong with a `redis_prefix`, if anything: too short, or plainly
/// not random (one character repeated, a run such as `abcdef…`).
fn redis_prefix_problem(prefix: &str) -> Option<String> {
    const HOW: &str = "make a random one with `openssl rand -hex 16` and keep it secret (other \
                       tools on a shared Redis must not guess it)";
    if prefix.is_empty() {
        return Some(format!("is required with store = \"redis\": {HOW}"));
    }
    if prefix.chars().count() < 20 {
        return Some(format!(
            "is {} characters long; it must be at least 20: {HOW}",
            prefix.chars().count()
        ));
    }
    if prefix.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Some(format!(
            "must not contain spaces or control characters: {HOW}"
        ));
    }
    let distinct: std::collections::HashSet<char> = prefix.chars().collect();
    let bytes = prefix.as_bytes();
    let steps: std::collections::HashSet<i16> = bytes
        .windows(2)
        .map(|w| i16::from(w[1]) - i16::from(w[0]))
        .collect();
    if distinct.len() < 8 || steps.len() <= 2 {
        return Some(format!("does not look random: {HOW}"));
    }
    None
}

/// The protocol of user sign-in: `oauth_version = 1` or `2` (also read:
/// `"1.0a"`, `"1.0"`, `"2.0"`, `2.0`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OAuthVersion {
    /// OAuth 1.0a (`Special:OAuth`, signed requests).
    OAuth1,
    /// OAuth 2.0 (`rest.php/oauth2`, authorization code with PKCE, Bearer tokens).
    OAuth2,
}

impl OAuthVersion {
    /// `1` or `2`, as spelled in many ways.
    fn from_spelling(s: &str) -> Option<OAuthVersion> {
        match s.trim().to_ascii_lowercase().as_str() {
            "1" | "1.0" | "1.0a" | "oauth1" | "oauth 1.0a" => Some(OAuthVersion::OAuth1),
            "2" | "2.0" | "oauth2" | "oauth 2.0" => Some(OAuthVersion::OAuth2),
            _ => None,
        }
    }
}

impl Serialize for OAuthVersion {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_u8(match self {
            OAuthVersion::OAuth1 => 1,
            OAuthVersion::OAuth2 => 2,
        })
    }
}

impl<'de> Deserialize<'de> for OAuthVersion {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct Visitor;
        impl serde::de::Visitor<'_> for Visitor {
            type Value = OAuthVersion;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("1 (OAuth 1.0a) or 2 (OAuth 2.0)")
            }
            fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<OAuthVersion, E> {
                OAuthVersion::from_spelling(v)
                    .ok_or_else(|| E::invalid_value(serde::de::Unexpected::Str(v), &self))
            }
            fn visit_u64<E: serde::de::Error>(self, v: u64) -> Result<OAuthVersion, E> {
                self.visit_str(&v.to_string())
            }
            fn visit_i64<E: serde::de::Error>(self, v: i64) -> Result<OAuthVersion, E> {
                self.visit_str(&v.to_string())
            }
            fn visit_f64<E: serde::de::Error>(self, v: f64) -> Result<OAuthVersion, E> {
                self.visit_str(&format!("{v:.1}"))
            }
        }
        d.deserialize_any(Visitor)
    }
}

/// Where the wiki sends the browser after the user's answer: the `callback`
/// key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Callback {
    /// `"oob"`: to the callback URL registered with the consumer (no
    /// callback or `redirect_uri` is sent).
    Oob,
    /// A full URL: sent as the OAuth 1.0a `oauth_callback` (below the
    /// registered one, for consumers that may specify one) or the OAuth 2.0
    /// `redirect_uri` (equal to the registered one).
    Url(String),
}

impl Callback {
    /// `"oob"`, or the URL.
    pub fn as_str(&self) -> &str {
        match self {
            Callback::Oob => "oob",
            Callback::Url(url) => url,
        }
    }
}

impl Serialize for Callback {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for Callback {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        Ok(match s.trim() {
            "" | "oob" => Callback::Oob,
            url => Callback::Url(url.to_string()),
        })
    }
}

/// An owner-only consumer's credentials (secrets: `Debug` redacts them).
#[derive(Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum OwnerOnly {
    /// OAuth 1.0a: the four tokens the registration page shows.
    OAuth1 {
        /// Consumer token.
        consumer_key: String,
        /// Consumer secret.
        consumer_secret: String,
        /// Access token.
        access_token: String,
        /// Access secret.
        access_secret: String,
    },
    /// OAuth 2.0: the long-lived access token the registration page shows.
    OAuth2 {
        /// The Bearer token.
        access_token: String,
    },
    /// OAuth 2.0: the client's key and secret, exchanged for access tokens
    /// with the `client_credentials` grant (renewed when they expire).
    OAuth2ClientCredentials {
        /// The client application key.
        client_id: String,
        /// The client application secret.
        client_secret: String,
    },
}

impl fmt::Debug for OwnerOnly {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            OwnerOnly::OAuth1 { consumer_key, .. } => f
                .debug_struct("OwnerOnly::OAuth1")
                .field("consumer_key", consumer_key)
                .field("secrets", &"[redacted]")
                .finish(),
            OwnerOnly::OAuth2 { .. } => f
                .debug_struct("OwnerOnly::OAuth2")
                .field("access_token", &"[redacted]")
                .finish(),
            OwnerOnly::OAuth2ClientCredentials { client_id, .. } => f
                .debug_struct("OwnerOnly::OAuth2ClientCredentials")
                .field("client_id", client_id)
                .field("client_secret", &"[redacted]")
                .finish(),
        }
    }
}

/// Who renders the crate's error pages: `error_pages = "builtin"` or
/// `"catchers"`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ErrorPages {
    /// A small built-in page (the default). JSON when the request asks for JSON.
    Builtin,
    /// The app's catcher for the status (e.g. a `#[catch(502)]` rendering a
    /// template); it reads the details with
    /// [`error_info`](crate::response::error_info). JSON requests still get
    /// the crate's JSON.
    Catchers,
}

impl fmt::Debug for Config {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Config")
            .field("base_url", &self.base_url)
            .field("oauth_version", &self.oauth_version)
            .field("consumer_key", &self.consumer_key)
            .field("consumer_secret", &"[redacted]")
            .field("public_client", &self.public_client)
            .field("sign_in", &self.sign_in)
            .field("owner", &self.owner)
            .field("callback", &self.callback)
            .field("default_return", &self.default_return)
            .field("mount", &self.mount)
            .field("user_agent", &self.user_agent)
            .field("timeout", &self.timeout)
            .field("jwt_leeway", &self.jwt_leeway)
            .field("secure_cookies", &self.secure_cookies)
            .field("session_days", &self.session_days)
            .field("error_pages", &self.error_pages)
            .field("flash", &self.flash)
            .field("i18n_dir", &self.i18n_dir)
            .field("store", &self.store)
            .field("redis_url", &redacted_url(&self.redis_url))
            .field("redis_prefix", &"[redacted]")
            .finish()
    }
}

/// A bad or missing setting, naming the key (and so its environment variable).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigError {
    /// The key in the `mwoauth` table, e.g. `mwoauth.consumer_key`.
    pub key: String,
    /// What is wrong with it.
    pub message: String,
}

impl ConfigError {
    pub(crate) fn new(key: &str, message: impl Into<String>) -> Self {
        ConfigError {
            key: format!("mwoauth.{key}"),
            message: message.into(),
        }
    }

    /// A figment error: the key it names, its message in words, and for an
    /// unknown key the known one it is closest to.
    fn from_figment(e: rocket::figment::Error) -> Self {
        use rocket::figment::error::Kind;
        let key = e
            .path
            .iter()
            .find(|p| p.as_str() != "mwoauth")
            .cloned()
            .unwrap_or_default();
        match &e.kind {
            Kind::UnknownField(field, _) => {
                let hint = did_you_mean(field)
                    .map(|k| format!(": did you mean {k}?"))
                    .unwrap_or_else(|| format!(" (the keys are {})", KEYS.join(", ")));
                ConfigError::new(
                    field,
                    format!("{field} is not a setting of this crate{hint}"),
                )
            }
            kind => ConfigError::new(&key, kind.to_string()),
        }
    }
}

/// The known key within two edits of `field` (a typo), if any.
fn did_you_mean(field: &str) -> Option<&'static str> {
    fn distance(a: &str, b: &str) -> usize {
        let b: Vec<char> = b.chars().collect();
        let mut row: Vec<usize> = (0..=b.len()).collect();
        for (i, ca) in a.chars().enumerate() {
            let mut prev = row[0];
            row[0] = i + 1;
            for (j, cb) in b.iter().enumerate() {
                let next = (row[j + 1] + 1)
                    .min(row[j] + 1)
                    .min(prev + usize::from(ca != *cb));
                prev = row[j + 1];
                row[j + 1] = next;
            }
        }
        row[b.len()]
    }
    let field = field.to_ascii_lowercase();
    KEYS.iter()
        .map(|k| (distance(&field, k), *k))
        .filter(|(d, _)| *d <= 2)
        .min()
        .map(|(_, k)| k)
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} (set it in Rocket.toml or ROCKET_{}): {}",
            self.key,
            self.key.to_uppercase().replace('.', "_"),
            self.message
        )
    }
}

impl std::error::Error for ConfigError {}

/// A key given (not empty).
fn given(v: &str) -> Option<String> {
    (!v.trim().is_empty()).then(|| v.to_string())
}

/// The owner-only consumer of the table, if any.
fn read_owner(t: &Table) -> Result<Option<OwnerOnly>, ConfigError> {
    let token = given(&t.owner_access_token);
    let client_id = given(&t.owner_client_id);
    let client_secret = given(&t.owner_client_secret);
    if client_id.is_some() || client_secret.is_some() {
        if token.is_some() {
            return Err(ConfigError::new(
                "owner_client_id",
                "give either owner_access_token (a long-lived token) or owner_client_id and \
                 owner_client_secret (client_credentials), not both",
            ));
        }
        return match (client_id, client_secret) {
            (Some(client_id), Some(client_secret)) => {
                Ok(Some(OwnerOnly::OAuth2ClientCredentials {
                    client_id,
                    client_secret,
                }))
            }
            (None, _) => Err(ConfigError::new(
                "owner_client_id",
                "is required with owner_client_secret (an OAuth 2.0 owner-only client)",
            )),
            (_, None) => Err(ConfigError::new(
                "owner_client_secret",
                "is required with owner_client_id (an OAuth 2.0 owner-only client)",
            )),
        };
    }
    let oauth1 = [
        &t.owner_consumer_key,
        &t.owner_consumer_secret,
        &t.owner_access_secret,
    ]
    .iter()
    .any(|v| given(v).is_some());
    match (token, oauth1) {
        (None, false) => Ok(None),
        (None, true) => Err(ConfigError::new(
            "owner_access_token",
            "is required with owner_consumer_key, owner_consumer_secret and \
             owner_access_secret (an OAuth 1.0a owner-only consumer)",
        )),
        (Some(access_token), false) => Ok(Some(OwnerOnly::OAuth2 { access_token })),
        (Some(access_token), true) => {
            let need = |v: &str, key: &str| {
                given(v).ok_or_else(|| {
                    ConfigError::new(
                        key,
                        "is required for an OAuth 1.0a owner-only consumer (owner_consumer_key, \
                         owner_consumer_secret, owner_access_token, owner_access_secret)",
                    )
                })
            };
            Ok(Some(OwnerOnly::OAuth1 {
                consumer_key: need(&t.owner_consumer_key, "owner_consumer_key")?,
                consumer_secret: need(&t.owner_consumer_secret, "owner_consumer_secret")?,
                access_token,
                access_secret: need(&t.owner_access_secret, "owner_access_secret")?,
            }))
        }
    }
}

/// Which protocol signs users in, from `oauth_version` and the keys given
/// (`None`: no sign-in, an owner-only consumer alone).
fn read_version(t: &Table, owner: bool) -> Result<Option<OAuthVersion>, ConfigError> {
    let oauth1_keys = given(&t.consumer_key).is_some() || given(&t.consumer_secret).is_some();
    let oauth2_keys =
        given(&t.client_id).is_some() || given(&t.client_secret).is_some() || t.public_client;
    Ok(match (t.oauth_version, oauth1_keys, oauth2_keys) {
        (Some(OAuthVersion::OAuth1), _, true) => {
            return Err(ConfigError::new(
                "client_id",
                "client_id, client_secret and public_client are OAuth 2.0 keys, but \
                 oauth_version = 1: use consumer_key and consumer_secret",
            ))
        }
        (Some(OAuthVersion::OAuth2), true, _) => {
            return Err(ConfigError::new(
                "consumer_key",
                "consumer_key and consumer_secret are OAuth 1.0a keys, but oauth_version = 2: \
                 use client_id and client_secret",
            ))
        }
        (Some(v), ..) => Some(v),
        (None, true, true) => {
            return Err(ConfigError::new(
                "oauth_version",
                "both consumer_key/consumer_secret (OAuth 1.0a) and client_id/client_secret \
                 (OAuth 2.0) are set: keep one pair, or say which with oauth_version = 1 or 2",
            ))
        }
        (None, true, false) => Some(OAuthVersion::OAuth1),
        (None, false, true) => Some(OAuthVersion::OAuth2),
        (None, false, false) if owner => None,
        (None, false, false) => {
            return Err(ConfigError::new(
                "client_id",
                "is required: set client_id and client_secret (an OAuth 2.0 client) or \
                 consumer_key and consumer_secret (an OAuth 1.0a consumer)",
            ))
        }
    })
}

impl Config {
    /// An OAuth 1.0a configuration with the defaults for everything but the
    /// wiki and the consumer. Check it with [`Config::validate`] (the fairing does).
    pub fn new(base_url: &str, consumer_key: &str, consumer_secret: &str) -> Config {
        let d = Table::default();
        Config {
            base_url: base_url.trim_end_matches('/').to_string(),
            oauth_version: OAuthVersion::OAuth1,
            consumer_key: consumer_key.to_string(),
            consumer_secret: consumer_secret.to_string(),
            public_client: d.public_client,
            sign_in: true,
            owner: None,
            callback: d.callback,
            default_return: d.default_return,
            mount: d.mount,
            user_agent: CRATE_AGENT.into(),
            user_agent_set: false,
            timeout: Duration::from_secs(d.timeout),
            jwt_leeway: Duration::from_secs(d.jwt_leeway),
            secure_cookies: d.secure_cookies,
            session_days: d.session_days,
            error_pages: d.error_pages,
            flash: d.flash,
            i18n_dir: None,
            store: d.store,
            redis_url: DEFAULT_REDIS_URL.into(),
            redis_prefix: d.redis_prefix,
        }
    }

    /// An OAuth 2.0 configuration: a confidential client (`Some(secret)`) or a
    /// public one (`None`), with the defaults for everything else.
    pub fn oauth2(base_url: &str, client_id: &str, client_secret: Option<&str>) -> Config {
        let mut config = Config::new(base_url, client_id, client_secret.unwrap_or_default());
        config.oauth_version = OAuthVersion::OAuth2;
        config.public_client = client_secret.is_none();
        config
    }

    /// Adds an owner-only consumer.
    pub fn with_owner(mut self, owner: OwnerOnly) -> Config {
        self.owner = Some(owner);
        self
    }

    /// Keeps sessions in Redis at `url` under the secret `prefix` (cargo
    /// feature `redis`; see [`Config::store`]).
    ///
    /// ```
    /// use rocket_mediawiki_oauth::{Config, SessionStore};
    ///
    /// let config = Config::oauth2("https://meta.wikimedia.org/w", "0123abcd", Some("s3cr3t"))
    ///     .with_redis("redis://tools-redis:6379/0", "7f3c9a1e5b2d4f608a1c3e5f7b9d0e2a");
    /// assert_eq!(config.store, SessionStore::Redis);
    /// ```
    pub fn with_redis(mut self, url: &str, prefix: &str) -> Config {
        self.store = SessionStore::Redis;
        self.redis_url = url.to_string();
        self.redis_prefix = prefix.to_string();
        self
    }

    /// Sets a descriptive User-Agent (`Tool/1.0 (contact)`); the crate's own
    /// name and version are appended.
    pub fn with_user_agent(mut self, agent: &str) -> Config {
        self.user_agent = format!("{} {CRATE_AGENT}", agent.trim());
        self.user_agent_set = true;
        self
    }

    /// Reads the `mwoauth` table from Rocket's figment over the documented
    /// defaults, with `ROCKET_MWOAUTH_<KEY>` environment variables on top,
    /// and checks it.
    pub fn from_figment(figment: &Figment) -> Result<Config, ConfigError> {
        let env = Env::prefixed("ROCKET_MWOAUTH_").global();
        if !figment.contains("mwoauth") && env.iter().next().is_none() {
            let top_level = figment.profiles().any(|p| p.as_str() == "mwoauth");
            let hint = if top_level {
                "Rocket.toml has a top-level [mwoauth] table, which Rocket reads as a profile \
                 named \"mwoauth\": rename it [default.mwoauth]"
            } else {
                "add a [default.mwoauth] table to Rocket.toml with base_url, client_id and \
                 client_secret (`cargo run -p devwiki` prints one for the local wiki), or set \
                 ROCKET_MWOAUTH_BASE_URL, ROCKET_MWOAUTH_CLIENT_ID and ROCKET_MWOAUTH_CLIENT_SECRET"
            };
            return Err(ConfigError::new(
                "base_url",
                format!("the mwoauth settings are missing: {hint}"),
            ));
        }
        let table: Table = Figment::from(Serialized::defaults(Table::default()))
            .merge(figment.focus("mwoauth"))
            .merge(env)
            .extract()
            .map_err(ConfigError::from_figment)?;
        let base_url =
            given(&table.base_url).ok_or_else(|| ConfigError::new("base_url", "is required"))?;
        let owner = read_owner(&table)?;
        let required = |v: &str, key: &str, why: &str| {
            given(v).ok_or_else(|| ConfigError::new(key, format!("is required{why}")))
        };
        let mut config = match read_version(&table, owner.is_some())? {
            Some(OAuthVersion::OAuth1) => Config::new(
                &base_url,
                &required(
                    &table.consumer_key,
                    "consumer_key",
                    " with consumer_secret (OAuth 1.0a)",
                )?,
                &required(
                    &table.consumer_secret,
                    "consumer_secret",
                    " with consumer_key (OAuth 1.0a)",
                )?,
            ),
            Some(OAuthVersion::OAuth2) => {
                let id = required(&table.client_id, "client_id", " (OAuth 2.0)")?;
                let secret = given(&table.client_secret);
                if secret.is_none() && !table.public_client {
                    return Err(ConfigError::new(
                        "client_secret",
                        "is required for a confidential OAuth 2.0 client (set public_client = \
                         true for a client registered as public)",
                    ));
                }
                let mut c = Config::oauth2(&base_url, &id, secret.as_deref());
                c.public_client = table.public_client;
                c
            }
            None => {
                let mut c = Config::new(&base_url, "", "");
                c.sign_in = false;
                c
            }
        };
        if let Some(agent) = given(&table.user_agent) {
            config = config.with_user_agent(&agent);
        }
        let config = Config {
            owner,
            callback: table.callback,
            default_return: table.default_return,
            mount: table.mount,
            timeout: Duration::from_secs(table.timeout),
            jwt_leeway: Duration::from_secs(table.jwt_leeway),
            secure_cookies: table.secure_cookies,
            session_days: table.session_days,
            error_pages: table.error_pages,
            flash: table.flash,
            i18n_dir: given(&table.i18n_dir).map(std::path::PathBuf::from),
            store: table.store,
            redis_url: given(&table.redis_url).unwrap_or_else(|| DEFAULT_REDIS_URL.into()),
            redis_prefix: table.redis_prefix,
            ..config
        };
        config.validate()?;
        Ok(config)
    }

    /// Checks every setting; the error names the first bad key.
    pub fn validate(&self) -> Result<(), ConfigError> {
        let base = url::Url::parse(&self.base_url).map_err(|e| {
            ConfigError::new("base_url", format!("not a URL ({e}): {:?}", self.base_url))
        })?;
        if !matches!(base.scheme(), "http" | "https") || base.host_str().is_none() {
            return Err(ConfigError::new(
                "base_url",
                "must be an http(s) URL such as https://meta.wikimedia.org/w",
            ));
        }
        if base.query().is_some() || base.fragment().is_some() {
            return Err(ConfigError::new(
                "base_url",
                "must not have a query or fragment: give the folder of index.php and api.php",
            ));
        }
        if self.base_url.ends_with(".php") {
            return Err(ConfigError::new(
                "base_url",
                "give the folder of index.php and api.php (e.g. https://meta.wikimedia.org/w), not a script",
            ));
        }
        let token_ok =
            |s: &str| !s.is_empty() && s.len() <= 128 && s.bytes().all(|b| b.is_ascii_graphic());
        let (key_name, secret_name) = match self.oauth_version {
            OAuthVersion::OAuth1 => ("consumer_key", "consumer_secret"),
            OAuthVersion::OAuth2 => ("client_id", "client_secret"),
        };
        if self.sign_in && !token_ok(&self.consumer_key) {
            return Err(ConfigError::new(
                key_name,
                "must be the key shown by the wiki (printable ASCII)",
            ));
        }
        let secret_needed = self.oauth_version == OAuthVersion::OAuth1 || !self.public_client;
        if self.sign_in && secret_needed && !token_ok(&self.consumer_secret) {
            return Err(ConfigError::new(
                secret_name,
                "must be the secret shown by the wiki (printable ASCII)",
            ));
        }
        match &self.owner {
            Some(OwnerOnly::OAuth1 {
                consumer_key,
                consumer_secret,
                access_token,
                access_secret,
            }) => {
                for (v, key) in [
                    (consumer_key, "owner_consumer_key"),
                    (consumer_secret, "owner_consumer_secret"),
                    (access_token, "owner_access_token"),
                    (access_secret, "owner_access_secret"),
                ] {
                    if !token_ok(v) {
                        return Err(ConfigError::new(
                            key,
                            "must be printable ASCII, as the wiki shows it",
                        ));
                    }
                }
            }
            Some(OwnerOnly::OAuth2 { access_token })
                if access_token.is_empty()
                    || !access_token.bytes().all(|b| b.is_ascii_graphic()) =>
            {
                return Err(ConfigError::new(
                    "owner_access_token",
                    "must be the access token shown by the wiki (printable ASCII)",
                ));
            }
            Some(OwnerOnly::OAuth2 { .. }) => {}
            Some(OwnerOnly::OAuth2ClientCredentials {
                client_id,
                client_secret,
            }) => {
                for (v, key) in [
                    (client_id, "owner_client_id"),
                    (client_secret, "owner_client_secret"),
                ] {
                    if !token_ok(v) {
                        return Err(ConfigError::new(
                            key,
                            "must be printable ASCII, as the wiki shows it",
                        ));
                    }
                }
            }
            None => {}
        }
        if let Callback::Url(url) = &self.callback {
            let cb = url::Url::parse(url).map_err(|e| {
                ConfigError::new("callback", format!("must be \"oob\" or a full URL ({e})"))
            })?;
            if !matches!(cb.scheme(), "http" | "https") {
                return Err(ConfigError::new(
                    "callback",
                    "must be \"oob\" or an http(s) URL",
                ));
            }
        }
        if !crate::redirect::is_local_path(&self.default_return) {
            return Err(ConfigError::new(
                "default_return",
                "must be a path on this site starting with a single '/'",
            ));
        }
        let mount_ok = self.mount.starts_with('/')
            && self
                .mount
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"/-._~".contains(&b))
            && rocket::http::uri::Origin::parse(&self.mount).is_ok();
        if !mount_ok {
            return Err(ConfigError::new(
                "mount",
                "must be a path such as \"/\" or \"/auth\"",
            ));
        }
        if self.timeout.is_zero() {
            return Err(ConfigError::new("timeout", "must be at least 1 second"));
        }
        if self.session_days == 0 {
            return Err(ConfigError::new("session_days", "must be at least 1"));
        }
        if self.store == SessionStore::Redis {
            if !cfg!(feature = "redis") {
                return Err(ConfigError::new(
                    "store",
                    "is \"redis\" but this build has no Redis support: enable the cargo \
                     feature `redis` of rocket_mediawiki_oauth (features = [\"redis\"])",
                ));
            }
            match url::Url::parse(&self.redis_url) {
                Ok(u) if u.scheme() == "redis" && u.host().is_some() => {}
                Ok(u) if u.scheme() == "rediss" => {
                    return Err(ConfigError::new(
                        "redis_url",
                        "is a rediss:// (TLS) URL, which this crate does not support yet: use \
                         redis:// (Toolforge's tools-redis is plain redis://) or a TLS \
                         tunnel on the same machine",
                    ))
                }
                _ => {
                    return Err(ConfigError::new(
                        "redis_url",
                        format!(
                            "must be a redis:// URL such as {DEFAULT_REDIS_URL}, not {:?}",
                            redacted_url(&self.redis_url)
                        ),
                    ))
                }
            }
            if let Some(problem) = redis_prefix_problem(&self.redis_prefix) {
                return Err(ConfigError::new("redis_prefix", problem));
            }
        }
        if self.user_agent_set {
            let given = self
                .user_agent
                .strip_suffix(CRATE_AGENT)
                .unwrap_or(&self.user_agent)
                .trim();
            if let Some(problem) = user_agent_problem(given) {
                return Err(ConfigError::new("user_agent", problem));
            }
        }
        Ok(())
    }

    /// `…/index.php` of the wiki.
    pub(crate) fn index_url(&self) -> String {
        format!("{}/index.php", self.base_url)
    }

    /// `…/api.php` of the wiki.
    pub(crate) fn api_url(&self) -> String {
        format!("{}/api.php", self.base_url)
    }

    /// `…/rest.php` of the wiki (OAuth 2.0 lives below it).
    pub(crate) fn rest_url(&self) -> String {
        format!("{}/rest.php", self.base_url)
    }

    /// `scheme://host[:port]` of the wiki: what its identity JWT's `iss` must be.
    pub(crate) fn wiki_origin(&self) -> String {
        url::Url::parse(&self.base_url)
            .map(|u| u.origin().ascii_serialization())
            .unwrap_or_default()
    }

    /// The path of a route below the mount point, e.g. `/auth/oauth-callback`.
    pub(crate) fn route_path(&self, name: &str) -> String {
        format!("{}/{}", self.mount.trim_end_matches('/'), name)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn figment(toml: &str) -> Figment {
        use rocket::figment::providers::Format;
        Figment::from(rocket::figment::providers::Toml::string(toml))
    }

    #[test]
    fn reads_and_defaults() {
        let c = Config::from_figment(&figment(
            "[mwoauth]\nbase_url='https://meta.wikimedia.org/w/'\nconsumer_key='abc'\nconsumer_secret='s3cr3t-value'\n",
        ))
        .unwrap();
        assert_eq!(c.api_url(), "https://meta.wikimedia.org/w/api.php");
        assert_eq!(c.wiki_origin(), "https://meta.wikimedia.org");
        assert_eq!(c.callback, Callback::Oob);
        assert!(!c.user_agent_set);
        assert!(format!("{c:?}").contains("[redacted]"));
        assert!(!format!("{c:?}").contains("s3cr3t-value"));
    }

    #[test]
    fn a_missing_table_says_where_it_goes() {
        use rocket::figment::providers::Format;
        // A top-level [mwoauth] in Rocket.toml is a profile, not the table.
        let toml = rocket::figment::providers::Toml::string(
            "[mwoauth]\nbase_url='https://x.org/w'\nconsumer_key='a'\nconsumer_secret='b'\n",
        )
        .nested();
        let e = Config::from_figment(&Figment::from(toml)).unwrap_err();
        assert!(e.message.contains("rename it [default.mwoauth]"), "{e}");
        let e = Config::from_figment(&figment("[other]\nx=1\n")).unwrap_err();
        assert!(e.message.contains("add a [default.mwoauth] table"), "{e}");
        assert!(e.to_string().contains("ROCKET_MWOAUTH_BASE_URL"), "{e}");
        let c = Config::from_figment(&figment(
            "[mwoauth]\nbase_url='https://x.org/w'\nconsumer_key='a'\nconsumer_secret='b'\nflash=false\n",
        ))
        .unwrap();
        assert!(!c.flash);
    }

    #[test]
    fn the_protocol_comes_from_the_keys() {
        let base = "[mwoauth]\nbase_url='https://x.org/w'\n";
        let read = |extra: &str| Config::from_figment(&figment(&format!("{base}{extra}")));
        let c = read("consumer_key='a'\nconsumer_secret='b'\n").unwrap();
        assert_eq!((c.oauth_version, c.sign_in), (OAuthVersion::OAuth1, true));
        let c = read("client_id='a'\nclient_secret='b'\n").unwrap();
        assert_eq!(
            (c.oauth_version, c.public_client),
            (OAuthVersion::OAuth2, false)
        );
        assert_eq!(
            (c.consumer_key.as_str(), c.consumer_secret.as_str()),
            ("a", "b")
        );
        let c = read("client_id='a'\npublic_client=true\n").unwrap();
        assert!(c.public_client && c.consumer_secret.is_empty());
        let e = read("client_id='a'\n").unwrap_err();
        assert_eq!(e.key, "mwoauth.client_secret");
        assert!(e.message.contains("public_client = true"), "{e}");
        let e = read("consumer_key='a'\nconsumer_secret='b'\nclient_id='c'\nclient_secret='d'\n")
            .unwrap_err();
        assert_eq!(e.key, "mwoauth.oauth_version");
        assert!(e.message.contains("keep one pair"), "{e}");
        let e = read("oauth_version=2\nconsumer_key='a'\nconsumer_secret='b'\n").unwrap_err();
        assert_eq!(e.key, "mwoauth.consumer_key");
        assert!(e.message.contains("client_id and client_secret"), "{e}");
        let e = read("oauth_version=3\nconsumer_key='a'\nconsumer_secret='b'\n").unwrap_err();
        assert_eq!(e.key, "mwoauth.oauth_version");
        let e = read("consumer_key='a'\n").unwrap_err();
        assert_eq!(e.key, "mwoauth.consumer_secret");
        // Owner-only consumers.
        let c = read("owner_access_token='bearer-token'\n").unwrap();
        assert!(!c.sign_in);
        assert!(matches!(c.owner, Some(OwnerOnly::OAuth2 { .. })));
        assert!(!format!("{c:?}").contains("bearer-token"));
        let c = read("client_id='a'\nclient_secret='b'\nowner_consumer_key='k'\nowner_consumer_secret='s'\nowner_access_token='t'\nowner_access_secret='u'\n").unwrap();
        assert!(c.sign_in && matches!(c.owner, Some(OwnerOnly::OAuth1 { .. })));
        let e = read("owner_consumer_key='k'\nowner_access_token='t'\n").unwrap_err();
        assert_eq!(e.key, "mwoauth.owner_consumer_secret");
        let e = read("owner_consumer_key='k'\n").unwrap_err();
        assert_eq!(e.key, "mwoauth.owner_access_token");
        let c = read("owner_client_id='i'\nowner_client_secret='s3cr3t'\n").unwrap();
        assert!(matches!(
            c.owner,
            Some(OwnerOnly::OAuth2ClientCredentials { .. })
        ));
        assert!(!format!("{c:?}").contains("s3cr3t"));
        let e = read("owner_client_id='i'\n").unwrap_err();
        assert_eq!(e.key, "mwoauth.owner_client_secret");
        let e = read("owner_client_id='i'\nowner_client_secret='s'\nowner_access_token='t'\n")
            .unwrap_err();
        assert_eq!(e.key, "mwoauth.owner_client_id");
        // Nothing given: OAuth 2.0 is named first (what MediaWiki recommends).
        let e = read("").unwrap_err();
        assert_eq!(e.key, "mwoauth.client_id");
        assert!(
            e.message.contains("consumer_key and consumer_secret"),
            "{e}"
        );
    }

    #[test]
    fn oauth_version_in_every_spelling() {
        let base = "[mwoauth]\nbase_url='https://x.org/w'\nclient_id='a'\nclient_secret='b'\n";
        for spelling in ["2", "'2'", "'2.0'", "2.0", "'OAuth2'"] {
            let c = Config::from_figment(&figment(&format!("{base}oauth_version={spelling}\n")))
                .unwrap_or_else(|e| panic!("{spelling}: {e}"));
            assert_eq!(c.oauth_version, OAuthVersion::OAuth2, "{spelling}");
        }
        let e = Config::from_figment(&figment(&format!("{base}oauth_version='3'\n"))).unwrap_err();
        assert_eq!(e.key, "mwoauth.oauth_version");
        assert!(e.message.contains("1 (OAuth 1.0a) or 2 (OAuth 2.0)"), "{e}");
    }

    #[test]
    fn a_misspelled_key_gets_a_suggestion() {
        let base = "[mwoauth]\nbase_url='https://x.org/w'\nclient_id='a'\nclient_secret='b'\n";
        let e = Config::from_figment(&figment(&format!("{base}cliend_secret='b'\n"))).unwrap_err();
        assert_eq!(e.key, "mwoauth.cliend_secret");
        assert!(e.message.ends_with("did you mean client_secret?"), "{e}");
        let e = Config::from_figment(&figment(&format!("{base}frobnicate=1\n"))).unwrap_err();
        assert!(
            e.message.contains("the keys are base_url, oauth_version"),
            "{e}"
        );
    }

    #[test]
    fn no_message_has_a_run_of_spaces() {
        let base = "[mwoauth]\nbase_url='https://x.org/w'\n";
        let cases = [
            "",
            "client_id='a'\n",
            "consumer_key='a'\n",
            "oauth_version=1\nclient_id='a'\nclient_secret='b'\n",
            "oauth_version=2\nconsumer_key='a'\nconsumer_secret='b'\n",
            "consumer_key='a'\nconsumer_secret='b'\nclient_id='c'\nclient_secret='d'\n",
            "owner_consumer_key='k'\n",
            "owner_consumer_key='k'\nowner_access_token='t'\n",
            "owner_client_id='i'\n",
            "owner_client_id='i'\nowner_client_secret='s'\nowner_access_token='t'\n",
            "client_id='a'\nclient_secret='b'\ncallback='sometimes'\n",
            "client_id='a'\nclient_secret='b'\nmount='no'\n",
            "client_id='a'\nclient_secret='b'\ntimeout=0\n",
            "client_id='a'\nclient_secret='b'\nerror_pages='mine'\n",
            "client_id='a'\nclient_secret='b'\nconsumer_kye='x'\n",
        ];
        let mut seen = 0;
        for case in cases {
            let e = Config::from_figment(&figment(&format!("{base}{case}"))).unwrap_err();
            let text = e.to_string();
            assert!(!text.contains("  "), "{case:?}: {text}");
            assert!(text.contains(&e.key), "{text}");
            assert!(
                text.contains(&format!(
                    "ROCKET_{}",
                    e.key.to_uppercase().replace('.', "_")
                )),
                "{text}"
            );
            seen += 1;
        }
        let text = Config::from_figment(&figment("[other]\nx=1\n"))
            .unwrap_err()
            .to_string();
        assert!(!text.contains("  "), "{text}");
        seen += 1;
        assert_eq!(seen, cases.len() + 1);
    }

    #[test]
    fn names_the_bad_key() {
        let e = Config::from_figment(&figment(
            "[mwoauth]\nbase_url='https://x.org/w'\nconsumer_key='abc'\n",
        ))
        .unwrap_err();
        assert_eq!(e.key, "mwoauth.consumer_secret");
        let e = Config::from_figment(&figment(
            "[mwoauth]\nbase_url='ftp://x'\nconsumer_key='a'\nconsumer_secret='b'\n",
        ))
        .unwrap_err();
        assert_eq!(e.key, "mwoauth.base_url");
        let e = Config::from_figment(&figment(
            "[mwoauth]\nbase_url='https://x.org/w'\nconsumer_key='a'\nconsumer_secret='b'\ntimeout='soon'\n",
        ))
        .unwrap_err();
        assert_eq!(e.key, "mwoauth.timeout");
        let e = Config::from_figment(&figment(
            "[mwoauth]\nbase_url='https://x.org/w'\nconsumer_key='a'\nconsumer_secret='b'\ndefault_return='//evil.example'\n",
        ))
        .unwrap_err();
        assert_eq!(e.key, "mwoauth.default_return");
        let e = Config::from_figment(&figment(
            "[mwoauth]\nbase_url='https://x.org/w'\nconsumer_key='a'\nconsumer_secret='b'\nconsumer_sekret='b'\n",
        ))
        .unwrap_err();
        assert!(e.message.contains("consumer_sekret"), "{e}");
        assert!(Config::from_figment(&figment("[other]\nx=1\n")).is_err());
    }
}

#[cfg(test)]
mod user_agent_tests {
    use super::*;

    #[test]
    fn the_user_agent_must_have_the_policys_shape() {
        for good in [
            GOOD_USER_AGENT,
            "MyTool/0.1 (https://example.org/mytool; me@example.org)",
            "CoolBot/0.0 (User:Me)",
            "x/1 (me@example.org) extra/2",
        ] {
            assert_eq!(user_agent_problem(good), None, "{good}");
        }
        for bad in [
            "",
            "MyTool",
            "MyTool/1.0",
            "MyTool/1.0 (no contact)",
            "python-requests/2.31",
            "reqwest/0.12",
            "MyTool/ (me@example.org)",
            "My Tool/1.0 (me@example.org)",
        ] {
            let problem = user_agent_problem(bad).expect(bad);
            assert!(problem.contains(GOOD_USER_AGENT), "{problem}");
        }
        let e = Config::new("https://meta.wikimedia.org/w", "key", "secret")
            .with_user_agent("my-bot")
            .validate()
            .unwrap_err();
        assert_eq!(e.key, "mwoauth.user_agent");
        assert!(e.message.contains(GOOD_USER_AGENT), "{}", e.message);
    }
}
