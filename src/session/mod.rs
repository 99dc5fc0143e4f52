//! What lives in cookies, and how.
//!
//! Every record is encrypted and authenticated with a key from
//! `secret_key`: the session's in its own compact format (`record`: tokens
//! as their bytes, the rest compressed, sealed with AES-256-GCM), a login in
//! progress as JSON in a Rocket **private** cookie. So any instance sharing
//! `secret_key` can serve any
//! user; an instance keeps only a bounded cache of the records it opened
//! lately ([`UserCache`]: derived, nothing the cookie does not hold). A tampered, truncated, foreign
//! (other `secret_key`) or older-format cookie simply reads as "signed out".
//! Every record is bound to the app that made it (the wiki, the protocol and
//! the consumer, [`app_binding`]): another app sharing `secret_key` reads it
//! as "signed out" too, with a warning in the log.
//!
//! | cookie | holds | lifetime |
//! |---|---|---|
//! | `mwoauth_session` | the access token and a small cached identity | `session_days` (also checked on the server, from the last confirmation by the wiki) |
//! | `mwoauth_login_<slot>` (slot 0–3) | a login in progress: the protocol's pending state (request token) + `next` | 10 minutes |
//! | `mwoauth_pending` | which slots are in use, since when, and how large (not secret; plain) | 10 minutes |
//! | `_flash` | Rocket's flash message after login/logout (unless `flash = false`) | 1 minute |
//!
//! The session and flash cookies are for the whole site (`/`). A login in
//! progress is sent only where it is needed: its slot only to
//! `/oauth-callback`, the slot index only to `/login` (both below the mount
//! point). Whatever a page on another site makes a browser do (opening
//! `/login?next=<2 KB>` many times), the login-in-progress cookies stay
//! within [`PENDING_BUDGET`] bytes in all and [`PENDING_SLOTS`] logins (the
//! oldest is dropped first), so parallel logins in a few tabs still work,
//! and the browser never carries them to other pages. All cookies are
//! `HttpOnly` and `SameSite=Lax`: the wiki is another site, and the
//! callback is a top-level navigation from it, which `Lax` lets through while
//! `Strict` (Rocket's default for private cookies) would not. `Secure` is set
//! per the configuration.

mod cache;
mod cookies;
mod pending;
mod record;
#[cfg(feature = "redis")]
mod redis;
mod request;
mod seal;
mod store;

pub(crate) use cookies::{app_binding, make_secure, set_flash, CookiePolicy, SESSION_COOKIE};
pub(crate) use pending::{store_pending, take_pending};
#[cfg(fuzzing)]
pub(crate) use pending::{PENDING_BUDGET, PENDING_SLOTS};
pub(crate) use record::SessionRecord;
#[cfg(fuzzing)]
pub(crate) use record::{compact, cookie_sealer, from_compact, read_session};
pub(crate) use request::{lent_user, reapply_removals, remove, removed};
pub(crate) use store::{Refresh, Session, Store, Unavailable, WriteError};
