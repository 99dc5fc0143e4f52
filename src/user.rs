//! The user, as the wiki vouches for them: one type whatever the protocol.
//!
//! [`MwUser`] is what a page needs and what the session cookie keeps;
//! [`VerifiedMwUser`] adds what the wiki only tells when asked now (rights,
//! and with the `mwoauth-authonlyprivate` grant the real name and e-mail).
//! Both are request guards.

use std::ops::Deref;

use serde::Serialize;

/// The signed-in user, as cached in the session cookie (no network).
///
/// Like flask-mwoauth's `get_current_user()`. Take `Option<MwUser>` for pages
/// that anyone may see, [`LoginRequired`](crate::LoginRequired) for pages that
/// need a user, and [`VerifiedMwUser`] to ask the wiki now.
///
/// ```
/// # use rocket::get;
/// use rocket_mediawiki_oauth::MwUser;
///
/// #[get("/whoami")]
/// fn whoami(user: Option<MwUser>) -> String {
///     user.map_or("nobody".into(), |u| format!("{} ({} edits)", u.name, u.editcount))
/// }
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct MwUser {
    /// The user name, e.g. `Alice`.
    pub name: String,
    /// The central (global) user id; `0` when the account is not attached.
    pub central_id: u64,
    /// Groups, e.g. `["*", "user", "autoconfirmed"]`.
    pub groups: Vec<String>,
    /// Whether the user was blocked when last checked.
    pub blocked: bool,
    /// Edit count when last checked.
    pub editcount: u64,
    /// The grants the user gave this application.
    pub grants: Vec<String>,
    /// Whether the user has a confirmed e-mail address.
    pub confirmed_email: bool,
    /// Registration time, `YYYYMMDDHHMMSS`, if known.
    pub registered: Option<String>,
}

impl MwUser {
    /// Whether the user is in `group`.
    pub fn in_group(&self, group: &str) -> bool {
        self.groups.iter().any(|g| g == group)
    }

    /// Whether the user gave the application `grant`.
    pub fn has_grant(&self, grant: &str) -> bool {
        self.grants.iter().any(|g| g == grant)
    }
}

/// The signed-in user as the wiki confirms it **now** (one request to the
/// wiki): like flask-mwoauth's `get_current_user(cached=False)`.
///
/// As a guard, the session cookie is refreshed with what the wiki says. When
/// the wiki no longer accepts the grant (revoked), the user is signed out
/// (cookies cleared) and the guard forwards with 401, as for an anonymous
/// visitor. When the wiki cannot be reached the guard fails with 502/504.
///
/// ```
/// # use rocket::get;
/// use rocket_mediawiki_oauth::VerifiedMwUser;
///
/// #[get("/can-delete")]
/// fn can_delete(user: VerifiedMwUser) -> String {
///     // Derefs to MwUser: `user.name`, `user.groups`, …
///     let yes = user.rights.iter().any(|r| r == "delete");
///     format!("{} may delete pages: {yes}", user.name)
/// }
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct VerifiedMwUser {
    /// The user, freshly confirmed.
    pub user: MwUser,
    /// The user's rights on the wiki (not kept in the cookie): all of them
    /// with OAuth 1.0a, those the grants allow with OAuth 2.0 (as the wiki's
    /// identify and profile answers give them).
    pub rights: Vec<String>,
    /// Real name, only with the `mwoauth-authonlyprivate` grant.
    pub realname: Option<String>,
    /// E-mail address, only with the `mwoauth-authonlyprivate` grant.
    pub email: Option<String>,
}

impl Deref for VerifiedMwUser {
    type Target = MwUser;
    fn deref(&self) -> &MwUser {
        &self.user
    }
}
