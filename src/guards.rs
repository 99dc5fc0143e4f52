//! Request guards: who is signed in ([`MwUser`], [`VerifiedMwUser`]), pages
//! that need it ([`LoginRequired`]), and API calls as that user ([`MwApi`]).
//!
//! A guard that finds nobody signed in **forwards** with `401 Unauthorized`,
//! so `Option<MwUser>` and ranked routes work as in any Rocket app. Using a
//! guard without the fairing attached aborts launch (a Rocket `Sentinel`).

use std::ops::Deref;

use rocket::http::Status;
use rocket::outcome::Outcome;
use rocket::request::{self, FromRequest, Request};
use rocket::response::Redirect;
use rocket::{catch, catchers, Catcher, Ignite, Rocket, Sentinel};
use serde::Serialize;

use crate::api::ApiClient;
use crate::error::Error;
use crate::fairing::OAuthState;
use crate::protocol;
use crate::session::{self, CachedUser, SessionRecord};

fn missing_fairing(rocket: &Rocket<Ignite>, guard: &str) -> bool {
    if rocket.state::<OAuthState>().is_none() {
        log::error!("{guard} is used but the MwOAuth fairing is not attached: add .attach(MwOAuth::fairing())");
        return true;
    }
    false
}

/// The session record, read (decrypted) at most once per request.
struct CachedSession(Option<SessionRecord>);

fn session_of<'r>(req: &'r Request<'_>) -> Option<&'r SessionRecord> {
    req.local_cache(|| {
        CachedSession(state_of(req).and_then(|s| session::read_session(req.cookies(), &s.cookies)))
    })
    .0
    .as_ref()
}

/// The cached identity of the session (no decryption when seen before).
struct CachedUserOf(Option<std::sync::Arc<CachedUser>>);

fn user_of<'r>(req: &'r Request<'_>) -> Option<&'r CachedUser> {
    req.local_cache(|| {
        CachedUserOf(state_of(req).and_then(|s| s.users.user(req.cookies(), &s.cookies)))
    })
    .0
    .as_deref()
}

fn state_of<'r>(req: &'r Request<'_>) -> Option<&'r OAuthState> {
    req.rocket().state::<OAuthState>()
}

/// The signed-in user, as cached in the session cookie (no network).
///
/// Like flask-mwoauth's `get_current_user()`. Take `Option<MwUser>` for pages
/// that anyone may see, [`LoginRequired`] for pages that need a user, and
/// [`VerifiedMwUser`] to ask the wiki now.
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
    /// The central (global) user id.
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
    /// Registration time, `YYYYMMDDHHMMSS`.
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

impl From<&CachedUser> for MwUser {
    fn from(u: &CachedUser) -> Self {
        MwUser {
            name: u.name.clone(),
            central_id: u.central_id,
            groups: u.groups.clone(),
            blocked: u.blocked,
            editcount: u.editcount,
            grants: u.grants.clone(),
            confirmed_email: u.confirmed_email,
            registered: u.registered.clone(),
        }
    }
}

#[rocket::async_trait]
impl<'r> FromRequest<'r> for MwUser {
    type Error = Error;

    async fn from_request(req: &'r Request<'_>) -> request::Outcome<Self, Error> {
        match user_of(req) {
            Some(user) => Outcome::Success(MwUser::from(user)),
            None => Outcome::Forward(Status::Unauthorized),
        }
    }
}

impl Sentinel for MwUser {
    fn abort(rocket: &Rocket<Ignite>) -> bool {
        missing_fairing(rocket, "MwUser")
    }
}

/// The signed-in user as the wiki confirms it **now** (one identify request):
/// like flask-mwoauth's `get_current_user(cached=False)`.
///
/// The session cookie is refreshed with what the wiki says. When the wiki no
/// longer accepts the grant (revoked), the user is signed out (cookies
/// cleared) and the guard forwards with 401, as for an anonymous visitor. When
/// the wiki cannot be reached the guard fails with 502/504.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct VerifiedMwUser {
    /// The user, freshly confirmed.
    pub user: MwUser,
    /// The user's rights on the wiki (not kept in the cookie).
    pub rights: Vec<String>,
}

impl Deref for VerifiedMwUser {
    type Target = MwUser;
    fn deref(&self) -> &MwUser {
        &self.user
    }
}

#[rocket::async_trait]
impl<'r> FromRequest<'r> for VerifiedMwUser {
    type Error = Error;

    async fn from_request(req: &'r Request<'_>) -> request::Outcome<Self, Error> {
        let (Some(state), Some(record)) = (state_of(req), session_of(req)) else {
            return Outcome::Forward(Status::Unauthorized);
        };
        match protocol::identify(&state.http, &state.config, &record.credentials).await {
            Ok(identity) => {
                session::store_session(
                    req.cookies(),
                    &state.cookies,
                    record.credentials.clone(),
                    &identity,
                );
                let user = MwUser::from(&CachedUser::from(&identity));
                Outcome::Success(VerifiedMwUser {
                    user,
                    rights: identity.rights,
                })
            }
            Err(e) if e.is_revoked() => {
                session::remove(req, &state.cookies, session::SESSION_COOKIE);
                Outcome::Forward(Status::Unauthorized)
            }
            Err(e) => {
                let error = Error::Wiki(e);
                crate::error::note_error(req, &error);
                Outcome::Error((error.status(), error))
            }
        }
    }
}

impl Sentinel for VerifiedMwUser {
    fn abort(rocket: &Rocket<Ignite>) -> bool {
        missing_fairing(rocket, "VerifiedMwUser")
    }
}

/// Marks a request whose page needs a signed-in user: the 401 catcher sends
/// the visitor to `/login?next=<this page>`.
struct LoginRedirect(Option<String>);

/// A page that needs a signed-in user: an anonymous visitor is sent to
/// `/login?next=<this page>` and comes back after signing in.
///
/// `LoginRequired` (= `LoginRequired<MwUser>`) or `LoginRequired<VerifiedMwUser>`.
///
/// ```
/// # use rocket::get;
/// use rocket_mediawiki_oauth::LoginRequired;
///
/// #[get("/private")]
/// fn private(user: LoginRequired) -> String {
///     format!("Only for you, {}", user.name)
/// }
/// ```
///
/// The redirect is made by a `401` catcher the fairing registers at `/`. If
/// your app has its own 401 catcher, call [`login_redirect`] first in it.
#[derive(Debug, Clone)]
pub struct LoginRequired<T = MwUser>(pub T);

impl<T> Deref for LoginRequired<T> {
    type Target = T;
    fn deref(&self) -> &T {
        &self.0
    }
}

#[rocket::async_trait]
impl<'r, T> FromRequest<'r> for LoginRequired<T>
where
    T: FromRequest<'r, Error = Error>,
{
    type Error = Error;

    async fn from_request(req: &'r Request<'_>) -> request::Outcome<Self, Error> {
        match T::from_request(req).await {
            Outcome::Success(user) => Outcome::Success(LoginRequired(user)),
            Outcome::Error(e) => Outcome::Error(e),
            Outcome::Forward(_) => {
                let login = state_of(req).map(|s| {
                    let here = req.uri().to_string();
                    let next = crate::redirect::safe_next(Some(&here), &s.config.default_return);
                    format!(
                        "{}?next={}",
                        s.config.route_path("login"),
                        protocol::oauth1::encode(&next)
                    )
                });
                req.local_cache(|| LoginRedirect(login));
                Outcome::Error((Status::Unauthorized, Error::NotSignedIn))
            }
        }
    }
}

impl<T> Sentinel for LoginRequired<T> {
    fn abort(rocket: &Rocket<Ignite>) -> bool {
        missing_fairing(rocket, "LoginRequired")
    }
}

/// Where to send a visitor whose page needed a login, if that is why the
/// request failed with 401. Call it from your own 401 catcher.
pub fn login_redirect(req: &Request<'_>) -> Option<Redirect> {
    req.local_cache(|| LoginRedirect(None))
        .0
        .clone()
        .map(Redirect::to)
}

#[catch(401)]
fn unauthorized(req: &Request<'_>) -> Result<Redirect, Error> {
    login_redirect(req).ok_or(Error::NotSignedIn)
}

pub(crate) fn catchers() -> Vec<Catcher> {
    catchers![unauthorized]
}

/// Signed api.php requests as the signed-in user: like flask-mwoauth's
/// `request(api_query, url=None)`. Derefs to [`ApiClient`].
///
/// ```
/// # use rocket::get;
/// use rocket_mediawiki_oauth::{Error, MwApi};
///
/// #[get("/edits")]
/// async fn edits(api: MwApi) -> Result<String, Error> {
///     let answer = api
///         .request(&[("action", "query"), ("list", "usercontribs"), ("ucuser", &api.user().name)])
///         .await?;
///     Ok(answer["query"]["usercontribs"].to_string())
/// }
/// ```
///
/// Forwards with 401 when nobody is signed in (use `LoginRequired<MwApi>` to
/// send the visitor to log in). An [`ApiError::Authorization`](crate::ApiError)
/// returned through [`Error`] signs the user out.
#[derive(Debug, Clone)]
pub struct MwApi {
    client: ApiClient,
    user: MwUser,
}

impl MwApi {
    /// The signed-in user whose credentials sign the requests.
    pub fn user(&self) -> &MwUser {
        &self.user
    }

    /// The underlying client (clone it to use after the request, e.g. in a task).
    pub fn client(&self) -> &ApiClient {
        &self.client
    }
}

impl Deref for MwApi {
    type Target = ApiClient;
    fn deref(&self) -> &ApiClient {
        &self.client
    }
}

#[rocket::async_trait]
impl<'r> FromRequest<'r> for MwApi {
    type Error = Error;

    async fn from_request(req: &'r Request<'_>) -> request::Outcome<Self, Error> {
        let (Some(state), Some(record)) = (state_of(req), session_of(req)) else {
            return Outcome::Forward(Status::Unauthorized);
        };
        let client = ApiClient::new(
            state.http.clone(),
            &state.api_url,
            state.consumer.clone(),
            record.credentials.clone(),
        )
        .with_token_cache(state.tokens.clone());
        Outcome::Success(MwApi {
            client,
            user: MwUser::from(&record.user),
        })
    }
}

impl Sentinel for MwApi {
    fn abort(rocket: &Rocket<Ignite>) -> bool {
        missing_fairing(rocket, "MwApi")
    }
}
