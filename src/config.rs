//! The `mwoauth` configuration table: read from Rocket's figment, checked, and
//! turned into the URLs the rest of the crate uses.
//!
//! ```toml
//! # Rocket.toml
//! [default.mwoauth]
//! base_url = "https://meta.wikimedia.org/w"   # index.php and api.php live here
//! consumer_key = "0123456789abcdef0123456789abcdef"
//! consumer_secret = "…"                        # better: ROCKET_MWOAUTH_CONSUMER_SECRET
//! user_agent = "MyTool/1.0 (https://mytool.toolforge.org; me@example.org)"
//! ```
//!
//! Every key can be overridden by an environment variable `ROCKET_MWOAUTH_<KEY>`
//! (for example `ROCKET_MWOAUTH_CONSUMER_SECRET`).

use std::fmt;
use std::time::Duration;

use rocket::figment::providers::Env;
use rocket::figment::Figment;
use serde::Deserialize;

/// The crate's name and version, appended to every User-Agent it sends.
pub const CRATE_AGENT: &str = concat!(env!("CARGO_PKG_NAME"), "/", env!("CARGO_PKG_VERSION"));

/// The `mwoauth` table as written by the user, before it is checked.
#[derive(Deserialize, Default)]
#[serde(default, deny_unknown_fields)]
struct RawConfig {
    base_url: Option<String>,
    consumer_key: Option<String>,
    consumer_secret: Option<String>,
    callback: Option<String>,
    default_return: Option<String>,
    mount: Option<String>,
    user_agent: Option<String>,
    timeout: Option<u64>,
    jwt_leeway: Option<u64>,
    secure_cookies: Option<bool>,
    session_days: Option<u32>,
    error_pages: Option<String>,
    flash: Option<bool>,
    oauth_version: Option<u8>,
    client_id: Option<String>,
    client_secret: Option<String>,
    public_client: Option<bool>,
    owner_consumer_key: Option<String>,
    owner_consumer_secret: Option<String>,
    owner_access_token: Option<String>,
    owner_access_secret: Option<String>,
    owner_client_id: Option<String>,
    owner_client_secret: Option<String>,
}

/// The checked configuration of the fairing: the `mwoauth` table.
///
/// Built by [`Config::from_figment`] at ignite (the usual way), or by hand with
/// [`Config::new`] and [`MwOAuth::with_config`](crate::MwOAuth::with_config).
/// Each field documents its key and default; every key can also be set with
/// an environment variable `ROCKET_MWOAUTH_<KEY>`.
///
/// ```
/// use rocket_mediawiki_oauth::Config;
///
/// let figment = rocket::Config::figment()
///     .merge(("mwoauth.base_url", "https://meta.wikimedia.org/w"))
///     .merge(("mwoauth.consumer_key", "0123456789abcdef0123456789abcdef"))
///     .merge(("mwoauth.consumer_secret", "s3cr3t"));
/// let config = Config::from_figment(&figment).unwrap();
/// assert_eq!(config.api_url(), "https://meta.wikimedia.org/w/api.php");
/// assert_eq!(config.callback, "oob");
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
    pub sign_in: bool,
    /// An owner-only consumer, acting as its owner with no login (bots,
    /// background jobs): OAuth 1.0a `owner_consumer_key`,
    /// `owner_consumer_secret`, `owner_access_token`, `owner_access_secret`;
    /// OAuth 2.0 `owner_access_token` alone (the long-lived Bearer token),
    /// or `owner_client_id` and `owner_client_secret` (tokens from the
    /// `client_credentials` grant, renewed as they expire).
    ///
    /// _Default:_ none.
    pub owner: Option<OwnerOnly>,
    /// `callback`: `oob` (the wiki sends the user to the callback URL
    /// registered with the consumer) or a full URL below the registered one,
    /// for consumers registered with "Allow consumer to specify a callback".
    ///
    /// _Default:_ `"oob"`.
    pub callback: String,
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
    pub user_agent_set: bool,
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
    /// TLS or the `callback` is an `https://` URL.
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
}

/// The protocol of user sign-in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OAuthVersion {
    /// OAuth 1.0a (`Special:OAuth`, signed requests).
    OAuth1,
    /// OAuth 2.0 (`rest.php/oauth2`, authorization code with PKCE, Bearer tokens).
    OAuth2,
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

/// Who renders the crate's error pages.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorPages {
    /// A small built-in page (the default). JSON when the request asks for JSON.
    Builtin,
    /// The app's catcher for the status (e.g. a `#[catch(502)]` rendering a
    /// template); it reads the details with [`error_info`](crate::error_info).
    /// JSON requests still get the crate's JSON.
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
            .finish()
    }
}

/// A bad or missing setting, naming the key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigError {
    /// The key in the `mwoauth` table, e.g. `mwoauth.consumer_key`.
    pub key: String,
    /// What is wrong with it.
    pub message: String,
}

impl ConfigError {
    fn new(key: &str, message: impl Into<String>) -> Self {
        ConfigError {
            key: format!("mwoauth.{key}"),
            message: message.into(),
        }
    }
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

/// The owner-only consumer of the raw table, if any.
fn read_owner(raw: &RawConfig) -> Result<Option<OwnerOnly>, ConfigError> {
    let given = |v: &Option<String>| v.as_ref().filter(|s| !s.trim().is_empty()).cloned();
    let token = given(&raw.owner_access_token);
    let client_id = given(&raw.owner_client_id);
    let client_secret = given(&raw.owner_client_secret);
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
        &raw.owner_consumer_key,
        &raw.owner_consumer_secret,
        &raw.owner_access_secret,
    ]
    .iter()
    .any(|v| given(v).is_some());
    match (token, oauth1) {
        (None, false) => Ok(None),
        (None, true) => Err(ConfigError::new(
            "owner_access_token",
            "is required with owner_consumer_key, owner_consumer_secret and owner_access_secret              (an OAuth 1.0a owner-only consumer)",
        )),
        (Some(access_token), false) => Ok(Some(OwnerOnly::OAuth2 { access_token })),
        (Some(access_token), true) => {
            let need = |v: &Option<String>, key: &str| {
                given(v).ok_or_else(|| {
                    ConfigError::new(
                        key,
                        "is required for an OAuth 1.0a owner-only consumer (owner_consumer_key,                          owner_consumer_secret, owner_access_token, owner_access_secret)",
                    )
                })
            };
            Ok(Some(OwnerOnly::OAuth1 {
                consumer_key: need(&raw.owner_consumer_key, "owner_consumer_key")?,
                consumer_secret: need(&raw.owner_consumer_secret, "owner_consumer_secret")?,
                access_token,
                access_secret: need(&raw.owner_access_secret, "owner_access_secret")?,
            }))
        }
    }
}

impl Config {
    /// An OAuth 1.0a configuration with the defaults for everything but the
    /// wiki and the consumer. Check it with [`Config::validate`] (the fairing does).
    pub fn new(base_url: &str, consumer_key: &str, consumer_secret: &str) -> Config {
        Config {
            base_url: base_url.trim_end_matches('/').to_string(),
            oauth_version: OAuthVersion::OAuth1,
            consumer_key: consumer_key.to_string(),
            consumer_secret: consumer_secret.to_string(),
            public_client: false,
            sign_in: true,
            owner: None,
            callback: "oob".into(),
            default_return: "/".into(),
            mount: "/".into(),
            user_agent: CRATE_AGENT.into(),
            user_agent_set: false,
            timeout: Duration::from_secs(30),
            jwt_leeway: Duration::from_secs(120),
            secure_cookies: None,
            session_days: 7,
            error_pages: ErrorPages::Builtin,
            flash: true,
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

    /// Sets a descriptive User-Agent (`Tool/1.0 (contact)`); the crate's own
    /// name and version are appended.
    pub fn with_user_agent(mut self, agent: &str) -> Config {
        self.user_agent = format!("{} {CRATE_AGENT}", agent.trim());
        self.user_agent_set = true;
        self
    }

    /// Reads the `mwoauth` table from Rocket's figment, with
    /// `ROCKET_MWOAUTH_<KEY>` environment variables on top, and checks it.
    pub fn from_figment(figment: &Figment) -> Result<Config, ConfigError> {
        let figment = figment.clone().merge(
            Env::prefixed("ROCKET_MWOAUTH_").map(|key| format!("mwoauth.{}", key.as_str()).into()),
        );
        let raw: RawConfig = if figment.contains("mwoauth") {
            figment.extract_inner("mwoauth").map_err(|e| {
                let key = e
                    .path
                    .iter()
                    .find(|p| p.as_str() != "mwoauth")
                    .cloned()
                    .unwrap_or_default();
                ConfigError::new(&key, e.kind.to_string())
            })?
        } else {
            let top_level = figment.profiles().any(|p| p.as_str() == "mwoauth");
            let hint = if top_level {
                "Rocket.toml has a top-level [mwoauth] table, which Rocket reads as a profile \
                 named \"mwoauth\": rename it [default.mwoauth]"
            } else {
                "add a [default.mwoauth] table to Rocket.toml with base_url, consumer_key and \
                 consumer_secret (`cargo run -p devwiki` prints one for the local wiki), or set \
                 ROCKET_MWOAUTH_BASE_URL, ROCKET_MWOAUTH_CONSUMER_KEY and ROCKET_MWOAUTH_CONSUMER_SECRET"
            };
            return Err(ConfigError::new(
                "base_url",
                format!("the mwoauth settings are missing: {hint}"),
            ));
        };
        let given = |v: &Option<String>| v.as_ref().filter(|s| !s.trim().is_empty()).cloned();
        let required = |v: &Option<String>, key: &str, why: &str| {
            given(v).ok_or_else(|| ConfigError::new(key, format!("is required{why}")))
        };
        let base_url = required(&raw.base_url, "base_url", "")?;
        let owner = read_owner(&raw)?;
        let oauth1_keys =
            given(&raw.consumer_key).is_some() || given(&raw.consumer_secret).is_some();
        let oauth2_keys = given(&raw.client_id).is_some()
            || given(&raw.client_secret).is_some()
            || raw.public_client.is_some();
        let version = match (raw.oauth_version, oauth1_keys, oauth2_keys) {
            (Some(1), _, true) => {
                return Err(ConfigError::new(
                    "client_id",
                    "client_id, client_secret and public_client are OAuth 2.0 keys, but                      oauth_version = 1: use consumer_key and consumer_secret",
                ))
            }
            (Some(2), true, _) => {
                return Err(ConfigError::new(
                    "consumer_key",
                    "consumer_key and consumer_secret are OAuth 1.0a keys, but oauth_version = 2:                      use client_id and client_secret",
                ))
            }
            (Some(1), ..) => Some(OAuthVersion::OAuth1),
            (Some(2), ..) => Some(OAuthVersion::OAuth2),
            (Some(other), ..) => {
                return Err(ConfigError::new(
                    "oauth_version",
                    format!("must be 1 (OAuth 1.0a) or 2 (OAuth 2.0), not {other}"),
                ))
            }
            (None, true, true) => {
                return Err(ConfigError::new(
                    "oauth_version",
                    "both consumer_key/consumer_secret (OAuth 1.0a) and client_id/client_secret                      (OAuth 2.0) are set: keep one pair, or say which with oauth_version = 1 or 2",
                ))
            }
            (None, true, false) => Some(OAuthVersion::OAuth1),
            (None, false, true) => Some(OAuthVersion::OAuth2),
            (None, false, false) if owner.is_some() => None,
            (None, false, false) => {
                return Err(ConfigError::new(
                    "consumer_key",
                    "is required: set consumer_key and consumer_secret (an OAuth 1.0a consumer)                      or client_id and client_secret (an OAuth 2.0 client)",
                ))
            }
        };
        let mut config = match version {
            Some(OAuthVersion::OAuth1) => Config::new(
                &base_url,
                &required(
                    &raw.consumer_key,
                    "consumer_key",
                    " with consumer_secret (OAuth 1.0a)",
                )?,
                &required(
                    &raw.consumer_secret,
                    "consumer_secret",
                    " with consumer_key (OAuth 1.0a)",
                )?,
            ),
            Some(OAuthVersion::OAuth2) => {
                let id = required(&raw.client_id, "client_id", " (OAuth 2.0)")?;
                let public = raw.public_client.unwrap_or(false);
                let secret = given(&raw.client_secret);
                if secret.is_none() && !public {
                    return Err(ConfigError::new(
                        "client_secret",
                        "is required for a confidential OAuth 2.0 client (set public_client = true                          for a client registered as public)",
                    ));
                }
                Config::oauth2(&base_url, &id, secret.as_deref())
            }
            None => {
                let mut c = Config::new(&base_url, "", "");
                c.sign_in = false;
                c
            }
        };
        config.owner = owner;
        if let Some(v) = raw.callback {
            config.callback = v;
        }
        if let Some(v) = raw.default_return {
            config.default_return = v;
        }
        if let Some(v) = raw.mount {
            config.mount = v;
        }
        if let Some(v) = raw.user_agent.filter(|s| !s.trim().is_empty()) {
            config = config.with_user_agent(&v);
        }
        if let Some(v) = raw.timeout {
            config.timeout = Duration::from_secs(v);
        }
        if let Some(v) = raw.jwt_leeway {
            config.jwt_leeway = Duration::from_secs(v);
        }
        config.secure_cookies = raw.secure_cookies;
        if let Some(v) = raw.session_days {
            config.session_days = v;
        }
        if let Some(v) = raw.flash {
            config.flash = v;
        }
        match raw.error_pages.as_deref() {
            None | Some("builtin") => {}
            Some("catchers") => config.error_pages = ErrorPages::Catchers,
            Some(other) => {
                return Err(ConfigError::new(
                    "error_pages",
                    format!("must be \"builtin\" or \"catchers\", not {other:?}"),
                ))
            }
        }
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
        if self.callback != "oob" {
            let cb = url::Url::parse(&self.callback).map_err(|e| {
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
        Ok(())
    }

    /// `…/index.php` of the wiki.
    pub fn index_url(&self) -> String {
        format!("{}/index.php", self.base_url)
    }

    /// `…/api.php` of the wiki.
    pub fn api_url(&self) -> String {
        format!("{}/api.php", self.base_url)
    }

    /// `…/rest.php` of the wiki (OAuth 2.0 lives below it).
    pub fn rest_url(&self) -> String {
        format!("{}/rest.php", self.base_url)
    }

    /// `scheme://host[:port]` of the wiki: what its identity JWT's `iss` must be.
    pub fn wiki_origin(&self) -> String {
        url::Url::parse(&self.base_url)
            .map(|u| u.origin().ascii_serialization())
            .unwrap_or_default()
    }

    /// The path of a route below the mount point, e.g. `/auth/oauth-callback`.
    pub fn route_path(&self, name: &str) -> String {
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
        assert_eq!(c.callback, "oob");
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
        let e = read("").unwrap_err();
        assert_eq!(e.key, "mwoauth.consumer_key");
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
