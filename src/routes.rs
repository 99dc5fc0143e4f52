//! `/login`, `/oauth-callback` and `/logout`: thin handlers that read the
//! request, call the protocol, set cookies and redirect.

use rocket::http::uri::Origin;
use rocket::http::CookieJar;
use rocket::request::{FromRequest, Outcome, Request};
use rocket::response::Redirect;
use rocket::{get, routes, Route};

use crate::error::Error;
use crate::protocol;
use crate::redirect::safe_next;
use crate::session;
use crate::state::OAuthState;

pub(crate) fn routes() -> Vec<Route> {
    routes![login, callback, logout]
}

/// The request itself and the crate's state, for handlers whose cookie
/// removals must survive a catcher.
struct Ctx<'r> {
    req: &'r Request<'r>,
    state: &'r OAuthState,
}

#[rocket::async_trait]
impl<'r> FromRequest<'r> for Ctx<'r> {
    type Error = ();

    async fn from_request(req: &'r Request<'_>) -> Outcome<Self, ()> {
        // Routes are only mounted by the fairing, which manages the state.
        match OAuthState::of(req) {
            Some(state) => Outcome::Success(Ctx { req, state }),
            None => Outcome::Forward(rocket::http::Status::InternalServerError),
        }
    }
}

/// Starts the handshake and sends the browser to the wiki's authorize page.
#[get("/login?<next>")]
async fn login(next: Option<&str>, ctx: Ctx<'_>, jar: &CookieJar<'_>) -> Result<Redirect, Error> {
    let next = safe_next(next, &ctx.state.config.default_return);
    let (pending, authorize_url) = ctx.state.protocol.start_login().await?;
    session::store_pending(jar, &ctx.state.cookies, pending, &next);
    Ok(Redirect::to(authorize_url))
}

/// Finishes the handshake: token exchange, identity check, session cookie,
/// flash message, then back to `next`.
#[get("/oauth-callback")]
async fn callback(uri: &Origin<'_>, ctx: Ctx<'_>, jar: &CookieJar<'_>) -> Result<Redirect, Error> {
    let state = ctx.state;
    let callback = match protocol::read_callback(uri.query().map(|q| q.as_str())) {
        Ok(c) => c,
        Err(bad) => {
            // A malformed callback that names a login still uses it up.
            if let Some(key) = bad.login_key {
                session::take_pending(ctx.req, &state.cookies, &key);
            }
            return Err(match bad.denied {
                Some(words) => Error::LoginDenied(words),
                None => Error::BadCallback(bad.message),
            });
        }
    };
    // Taken before anything else: a replayed or failed callback cannot be reused.
    let (pending, next) = session::take_pending(ctx.req, &state.cookies, callback.login_key())
        .ok_or(Error::NoPendingLogin)?;
    let credentials = state
        .protocol
        .finish_login(&pending, &callback)
        .await
        .map_err(|e| {
            if e.is_used_up_login() {
                Error::ReplayedCallback
            } else {
                Error::Wiki(e)
            }
        })?;
    let verified = state.protocol.identify(&credentials).await?;
    session::store_session(jar, &state.cookies, credentials, &verified.user);
    if state.config.flash {
        session::set_flash(
            jar,
            &state.cookies,
            "success",
            &format!("You were signed in, {}!", verified.user.name),
        );
    }
    Ok(Redirect::to(next))
}

/// Forgets the user and goes back to `next`.
#[get("/logout?<next>")]
fn logout(next: Option<&str>, ctx: Ctx<'_>, jar: &CookieJar<'_>) -> Redirect {
    session::clear_session(jar, &ctx.state.cookies);
    if ctx.state.config.flash {
        session::set_flash(jar, &ctx.state.cookies, "success", "You were signed out.");
    }
    Redirect::to(safe_next(next, &ctx.state.config.default_return))
}
