//! What one request did with its session, in one request-local value: the
//! cookies it removed (a guard that signed the user out means it for every
//! later guard, and for the response, even one a catcher makes) and the user
//! lent to `&MwUser` guards. One lookup of Rocket's request-local cache
//! serves both.

use std::future::Future;
use std::sync::{Arc, Mutex};

use tokio::sync::OnceCell;

use super::cookies::CookiePolicy;
use super::record::Unavailable;
use crate::user::MwUser;

/// The session as this request left it.
#[derive(Default)]
struct RequestSession {
    /// Cookies this request removed, by name.
    removed: Mutex<Vec<String>>,
    /// The user lent to `&MwUser` guards, read once.
    lent: OnceCell<Result<Option<Arc<MwUser>>, Unavailable>>,
}

fn of<'r>(req: &'r rocket::Request<'_>) -> &'r RequestSession {
    req.local_cache(RequestSession::default)
}

/// Removes a cookie in a way that survives a catcher: when a catcher answers
/// a request, Rocket drops the cookie changes the request made, so the
/// fairing re-applies the removals noted here ([`reapply_removals`]).
pub(crate) fn remove(req: &rocket::Request<'_>, policy: &CookiePolicy, name: &str) {
    req.cookies().remove_private(policy.removal(name.into()));
    if let Ok(mut names) = of(req).removed.lock() {
        names.push(name.to_string());
    }
}

/// Whether this request removed the cookie `name` ([`remove`]): a guard
/// that signed the user out means it for every later guard of the request.
pub(crate) fn removed(req: &rocket::Request<'_>, name: &str) -> bool {
    of(req)
        .removed
        .lock()
        .is_ok_and(|names| names.iter().any(|n| n == name))
}

/// The user lent for the rest of the request, read by `read` the first time
/// (later `&MwUser` guards of the request share it), and whether this
/// request has signed the session out (`name`, its cookie) since.
pub(crate) async fn lent_user<'r, F>(
    req: &'r rocket::Request<'_>,
    name: &str,
    read: impl FnOnce() -> F,
) -> (&'r Result<Option<Arc<MwUser>>, Unavailable>, bool)
where
    F: Future<Output = Result<Option<Arc<MwUser>>, Unavailable>>,
{
    let session = of(req);
    let lent = session.lent.get_or_init(read).await;
    let removed = session
        .removed
        .lock()
        .is_ok_and(|names| names.iter().any(|n| n == name));
    (lent, removed)
}

/// Adds to `response` the removal of every cookie [`remove`]d during the
/// request that the response does not already set.
pub(crate) fn reapply_removals(
    req: &rocket::Request<'_>,
    policy: &CookiePolicy,
    response: &mut rocket::Response<'_>,
) {
    let names = match of(req).removed.lock() {
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
