//! How the crate's cookies are written: their names, paths and attributes,
//! removals that survive a catcher, and the flash message.

use std::sync::Mutex;

use rocket::http::{Cookie, CookieJar, SameSite};

use crate::config::OAuthVersion;

/// Name of the signed-in cookie.
pub(crate) const SESSION_COOKIE: &str = "mwoauth_session";
/// Version of the records' format; other versions read as signed out.
pub(super) const FORMAT: u8 = 1;
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

/// Prefix of the login-in-progress cookies (followed by the slot number).
pub(super) const PENDING_PREFIX: &str = "mwoauth_login_";
/// The index of the slots in use (sent only to `/login`).
pub(super) const PENDING_INDEX: &str = "mwoauth_pending";
