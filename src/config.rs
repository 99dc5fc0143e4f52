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
    /// `consumer_key`: the consumer (application) token the wiki gave you,
    /// 32 hex characters on a real wiki.
    ///
    /// _Default:_ none, required.
    pub consumer_key: String,
    /// `consumer_secret`: the consumer's secret token. Never logged; `Debug`
    /// prints `[redacted]`. Prefer the environment
    /// (`ROCKET_MWOAUTH_CONSUMER_SECRET`) to a file.
    ///
    /// _Default:_ none, required.
    pub consumer_secret: String,
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
            .field("consumer_key", &self.consumer_key)
            .field("consumer_secret", &"[redacted]")
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

impl Config {
    /// A configuration with the defaults for everything but the wiki and the
    /// consumer. Check it with [`Config::validate`] (the fairing does).
    pub fn new(base_url: &str, consumer_key: &str, consumer_secret: &str) -> Config {
        Config {
            base_url: base_url.trim_end_matches('/').to_string(),
            consumer_key: consumer_key.to_string(),
            consumer_secret: consumer_secret.to_string(),
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
        let required = |v: Option<String>, key: &str| {
            v.filter(|s| !s.trim().is_empty())
                .ok_or_else(|| ConfigError::new(key, "is required"))
        };
        let mut config = Config::new(
            &required(raw.base_url, "base_url")?,
            &required(raw.consumer_key, "consumer_key")?,
            &required(raw.consumer_secret, "consumer_secret")?,
        );
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
        if !token_ok(&self.consumer_key) {
            return Err(ConfigError::new(
                "consumer_key",
                "must be the consumer token shown by the wiki (printable ASCII)",
            ));
        }
        if !token_ok(&self.consumer_secret) {
            return Err(ConfigError::new(
                "consumer_secret",
                "must be the secret token shown by the wiki (printable ASCII)",
            ));
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
