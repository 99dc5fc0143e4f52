//! `/login`, `/oauth-callback` and `/logout`: thin handlers that read the
//! request, call the protocol, set cookies and redirect.

use rocket::http::CookieJar;
use rocket::request::{FromRequest, Outcome, Request};
use rocket::response::Redirect;
use rocket::{get, routes, Route};

use crate::error::{Error, DENIED_NO_WORDS};
use crate::protocol::{self, WikiError};
use crate::redirect::safe_next;
use crate::response;
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
    // The wiki's dialog in the language of this app's pages.
    let lang = response::user_language(ctx.req);
    let (pending, authorize_url) = ctx.state.protocol.start_login(lang.for_wiki()).await?;
    // The callback's pages in the language asked for here.
    let uselang =
        crate::i18n::explicit_uselang(ctx.req.query_value::<&str>("uselang").and_then(Result::ok));
    session::store_pending(jar, &ctx.state.cookies, pending, &next, uselang);
    Ok(Redirect::to(authorize_url))
}

/// Finishes the handshake: token exchange, identity check, session cookie,
/// flash message, then back to `next`.
#[get("/oauth-callback")]
async fn callback(ctx: Ctx<'_>, jar: &CookieJar<'_>) -> Result<Redirect, Error> {
    let state = ctx.state;
    let callback = match protocol::read_callback(response::callback_query(ctx.req)) {
        Ok(c) => c,
        Err(bad) => {
            // A malformed callback that names a login still uses it up.
            let pending = bad
                .login_key
                .and_then(|key| session::take_pending(ctx.req, &state.cookies, &key));
            if let Some((_, _, uselang)) = &pending {
                response::remember_login_language(ctx.req, uselang.clone());
            }
            return Err(match bad.denied {
                // The wiki's words only for the login this browser started,
                // or the wiki's own texts: anyone can link to the callback
                // with words of their own.
                Some(words) if pending.is_some() || protocol::wiki_denial_text(&words) => {
                    Error::LoginDenied(words)
                }
                Some(_) => Error::LoginDenied(DENIED_NO_WORDS.into()),
                None => Error::BadCallback(bad.message),
            });
        }
    };
    // Taken before anything else: a replayed or failed callback cannot be reused.
    let (pending, next, uselang) =
        session::take_pending(ctx.req, &state.cookies, callback.login_key())
            .ok_or(Error::NoPendingLogin)?;
    response::remember_login_language(ctx.req, uselang);
    if !callback.finishes(&pending) {
        return Err(Error::BadCallback(
            "it is shaped for another protocol than the sign-in in progress".into(),
        ));
    }
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
    state
        .store
        .write(
            jar,
            &state.cookies,
            credentials,
            &verified.user,
            session::Session::New,
        )
        .await
        .map_err(|e| match e {
            session::WriteError::TooLarge(too_large) => {
                Error::Wiki(WikiError::Unexpected(too_large.to_string()))
            }
            // A new session is written whatever was there: never `Gone`.
            session::WriteError::Unavailable | session::WriteError::Gone => Error::StoreUnavailable,
        })?;
    if state.config.flash {
        session::set_flash(
            jar,
            &state.cookies,
            "success",
            &response::user_language(ctx.req)
                .msg("mwoauth-flash-signed-in", &[&verified.user.name]),
        );
    }
    Ok(Redirect::to(next))
}

/// Forgets the user and goes back to `next`. With Redis, the session is
/// deleted there, so every copy of the cookie is signed out; when Redis
/// cannot be reached the answer is 503 and the user is still signed in
/// (a cookie removed only here would leave its copies working).
#[get("/logout?<next>")]
async fn logout(next: Option<&str>, ctx: Ctx<'_>, jar: &CookieJar<'_>) -> Result<Redirect, Error> {
    ctx.state
        .store
        .delete(jar, &ctx.state.cookies)
        .await
        .map_err(|session::Unavailable| Error::StoreUnavailable)?;
    if ctx.state.config.flash {
        let text = response::user_language(ctx.req).msg("mwoauth-flash-signed-out", &[]);
        session::set_flash(jar, &ctx.state.cookies, "success", &text);
    }
    Ok(Redirect::to(safe_next(
        next,
        &ctx.state.config.default_return,
    )))
}
