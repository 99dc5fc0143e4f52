//! How the crate's cookies are written: their names, paths and attributes,
//! removals that survive a catcher, and the flash message.

use rocket::http::{Cookie, CookieJar, SameSite};

use crate::config::OAuthVersion;

/// Name of the signed-in cookie.
pub(crate) const SESSION_COOKIE: &str = "mwoauth_session";
/// Version of the records' format; other versions read as signed out.
///
/// Version 2 binds every record to the app that made it ([`CookiePolicy::app`]);
/// version-1 records carry no binding, so nothing tells one app's from
/// another's, and they read as signed out (users sign in once more).
pub(super) const FORMAT: u8 = 2;
/// How cookies are written, from the configuration.
#[derive(Debug, Clone)]
pub(crate) struct CookiePolicy {
    /// Set the `Secure` attribute.
    pub secure: bool,
    /// Set it too on requests a proxy marks `X-Forwarded-Proto: https`
    /// (`secure_cookies` unset).
    pub secure_behind_proxy: bool,
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
    /// The app the records are bound to ([`app_binding`]): a record made by
    /// another app (another wiki or consumer) sharing `secret_key` reads as
    /// signed out.
    pub app: String,
}

/// What binds a record to the app that made it: a digest of the wiki's API
/// URL, the protocol and the consumer (OAuth 1.0a consumer key, OAuth 2.0
/// client id). It is kept inside the encrypted, authenticated record, so
/// nobody without `secret_key` can change it, and an app sharing that key
/// with another reads only its own records ([`CookiePolicy::owns`]).
pub(crate) fn app_binding(api_url: &str, protocol: OAuthVersion, consumer: &str) -> String {
    use sha2::{Digest, Sha256};
    let mut digest = Sha256::new();
    for part in [
        "rocket_mediawiki_oauth record binding",
        api_url,
        match protocol {
            OAuthVersion::OAuth1 => "oauth 1.0a",
            OAuthVersion::OAuth2 => "oauth 2.0",
        },
        consumer,
    ] {
        digest.update((part.len() as u64).to_be_bytes());
        digest.update(part.as_bytes());
    }
    digest.finalize()[..12]
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

impl CookiePolicy {
    /// Whether a record bound to `app` was made by this app; a record of
    /// another app sharing `secret_key` is refused with a warning.
    pub(super) fn owns(&self, what: &str, app: &str) -> bool {
        if app == self.app {
            return true;
        }
        log::warn!(
            "MediaWiki OAuth: ignored a {what} made by another app that shares this app's \
             secret_key (another wiki or consumer); the visitor reads as signed out. Give each \
             app its own secret_key"
        );
        false
    }
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

    pub(super) fn cookie(
        &self,
        name: String,
        value: String,
        max_age: time::Duration,
    ) -> Cookie<'static> {
        let path = self.path_for(&name);
        Cookie::build((name, value))
            .path(path)
            .http_only(true)
            .same_site(SameSite::Lax)
            .secure(self.secure)
            .max_age(max_age)
            .build()
    }

    pub(super) fn removal(&self, name: String) -> Cookie<'static> {
        let path = self.path_for(&name);
        Cookie::build(name).path(path).build()
    }
}

pub(super) fn now() -> i64 {
    time::OffsetDateTime::now_utc().unix_timestamp()
}

/// Adds `Secure` to every cookie of the crate that `response` sets (a
/// request that reached the app over HTTPS through a proxy).
pub(crate) fn make_secure(response: &mut rocket::Response<'_>) {
    let ours = |h: &str| {
        h.starts_with(SESSION_COOKIE)
            || h.starts_with(PENDING_PREFIX)
            || h.starts_with(PENDING_INDEX)
            || h.starts_with("_flash=")
    };
    let headers: Vec<String> = response
        .headers()
        .get("Set-Cookie")
        .map(str::to_string)
        .collect();
    if !headers.iter().any(|h| ours(h)) {
        return;
    }
    response.remove_header("Set-Cookie");
    for h in headers {
        let secure = ours(&h)
            && !h
                .split(';')
                .any(|a| a.trim().eq_ignore_ascii_case("secure"));
        let h = if secure { format!("{h}; Secure") } else { h };
        response.adjoin_raw_header("Set-Cookie", h);
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

/// Prefix of the login-in-progress cookies (followed by the slot number).
pub(super) const PENDING_PREFIX: &str = "mwoauth_login_";
/// The index of the slots in use (sent only to `/login`).
pub(super) const PENDING_INDEX: &str = "mwoauth_pending";
