//! Request guards: who is signed in ([`MwUser`], [`VerifiedMwUser`]), pages
//! that need it ([`LoginRequired`]), and API calls as that user ([`MwApi`]).
//!
//! A guard that finds nobody signed in **forwards** with `401 Unauthorized`,
//! so `Option<MwUser>` and ranked routes work as in any Rocket app. Using a
//! guard without the fairing attached aborts launch (a Rocket `Sentinel`).

use std::marker::PhantomData;
use std::ops::Deref;
use std::sync::Arc;

use rocket::http::Status;
use rocket::outcome::Outcome;
use rocket::request::{self, FromRequest, Request};
use rocket::{Ignite, Rocket, Sentinel};

use crate::api::ApiClient;
use crate::error::Error;
use crate::protocol::{Credentials, Renew, WikiError};
use crate::response;
use crate::session::{self, Refresh, Session, SessionRecord, Unavailable, WriteError};
use crate::state::OAuthState;
use crate::user::{MwUser, VerifiedMwUser};
use crate::wire;

fn missing_fairing(rocket: &Rocket<Ignite>, guard: &str) -> bool {
    if crate::state::handle_of(rocket).is_none() {
        log::error!("{guard} is used but the MwOAuth fairing is not attached: add .attach(MwOAuth::fairing())");
        return true;
    }
    false
}

/// The session record, read (decrypted, or fetched from Redis) at most once
/// per request.
struct CachedSession(Result<Option<Arc<SessionRecord>>, Unavailable>);

async fn session_of(req: &Request<'_>) -> Result<Option<Arc<SessionRecord>>, Unavailable> {
    if session::removed(req, session::SESSION_COOKIE) {
        // Signed out by an earlier guard of this request.
        return Ok(None);
    }
    req.local_cache_async(async {
        CachedSession(match OAuthState::of(req) {
            Some(s) => s.store.read(req.cookies(), &s.cookies).await,
            None => Ok(None),
        })
    })
    .await
    .0
    .clone()
}

/// The identity of the session from the identity cache (no decryption, no
/// Redis round trip when seen before). Not kept in the request-local cache:
/// a second lookup in the same request is a hit, and cheaper than the local
/// cache's insertion.
async fn user_of(req: &Request<'_>) -> Result<Option<Arc<MwUser>>, Unavailable> {
    if session::removed(req, session::SESSION_COOKIE) {
        // Signed out by an earlier guard of this request (`VerifiedMwUser`,
        // `MwApi`): a route of lower rank sees nobody signed in.
        return Ok(None);
    }
    stored_user(req).await
}

/// [`user_of`] without asking whether this request signed the user out.
async fn stored_user(req: &Request<'_>) -> Result<Option<Arc<MwUser>>, Unavailable> {
    match OAuthState::of(req) {
        Some(s) => s.store.user(req.cookies(), &s.cookies).await,
        None => Ok(None),
    }
}

/// The error of a session store that cannot be reached: 503 with
/// `Retry-After`, kept for the catcher; the cookie stays.
fn unavailable(req: &Request<'_>) -> (Status, Error) {
    let error = Error::StoreUnavailable;
    response::note_error(req, &error);
    (error.status(), error)
}

/// `MwUser` as a guard: the user of the session cookie, or a forward with 401.
#[rocket::async_trait]
impl<'r> FromRequest<'r> for MwUser {
    type Error = Error;

    async fn from_request(req: &'r Request<'_>) -> request::Outcome<Self, Error> {
        match user_of(req).await {
            Ok(Some(user)) => Outcome::Success(MwUser::clone(&user)),
            Ok(None) => Outcome::Forward(Status::Unauthorized),
            Err(Unavailable) => Outcome::Error(unavailable(req)),
        }
    }
}

impl Sentinel for MwUser {
    fn abort(rocket: &Rocket<Ignite>) -> bool {
        missing_fairing(rocket, "MwUser")
    }
}

/// `&MwUser` as a guard: the same user as [`MwUser`], lent for the request
/// instead of copied (no allocation: the cheapest way for a page to know who
/// is signed in), or a forward with 401.
///
/// ```
/// # use rocket::get;
/// use rocket_mediawiki_oauth::MwUser;
///
/// #[get("/hello")]
/// fn hello(user: &MwUser) -> String {
///     format!("hello {}", user.name)
/// }
///
/// #[get("/maybe")]
/// fn maybe(user: Option<&MwUser>) -> String {
///     format!("hello {}", user.map_or("anonymous", |u| u.name.as_str()))
/// }
/// ```
#[rocket::async_trait]
impl<'r> FromRequest<'r> for &'r MwUser {
    type Error = Error;

    async fn from_request(req: &'r Request<'_>) -> request::Outcome<Self, Error> {
        let (lent, signed_out) =
            session::lent_user(req, session::SESSION_COOKIE, || stored_user(req)).await;
        // Signed out by another guard of this request, before or since a
        // user was lent.
        if signed_out {
            return Outcome::Forward(Status::Unauthorized);
        }
        match lent {
            Ok(Some(user)) => Outcome::Success(user),
            Ok(None) => Outcome::Forward(Status::Unauthorized),
            Err(Unavailable) => Outcome::Error(unavailable(req)),
        }
    }
}

impl Sentinel for &MwUser {
    fn abort(rocket: &Rocket<Ignite>) -> bool {
        missing_fairing(rocket, "&MwUser")
    }
}

/// How a guard that needs the user's credentials ends when they cannot be had.
enum NoCredentials {
    /// Nobody is signed in, or the wiki refused to refresh the grant (the
    /// user is then signed out).
    SignedOut,
    /// The wiki (or the session store) could not be asked.
    Failed(Error),
}

impl From<Unavailable> for NoCredentials {
    fn from(_: Unavailable) -> Self {
        NoCredentials::Failed(Error::StoreUnavailable)
    }
}

/// The session's credentials after [`fresh_credentials`]: the user as the
/// session has them, and, when a renewal asked the wiki, as the wiki said.
struct Fresh {
    credentials: Credentials,
    user: MwUser,
    /// The wiki's answer when the tokens were just renewed (`None`: not
    /// renewed, or the wiki could not be asked then).
    verified: Option<VerifiedMwUser>,
}

/// Writes the signed-in record of the same session (`session`: renewed
/// tokens, or a confirmed user); a record too large for a browser cookie
/// signs out instead (its tokens cannot be kept), with the error to answer;
/// a session that ended meanwhile (a logout elsewhere, with Redis) stays
/// ended and this request is signed out; a store that cannot be reached is
/// a 503 (nobody signed out).
async fn keep_session(
    req: &Request<'_>,
    state: &OAuthState,
    credentials: Credentials,
    user: &MwUser,
    session: Session,
) -> Result<(), NoCredentials> {
    let written = state
        .store
        .write(req.cookies(), &state.cookies, credentials, user, session)
        .await;
    match written {
        Ok(()) => Ok(()),
        Err(WriteError::TooLarge(too_large)) => {
            session::remove(req, &state.cookies, session::SESSION_COOKIE);
            let error = Error::Wiki(WikiError::Unexpected(too_large.to_string()));
            response::note_error(req, &error);
            Err(NoCredentials::Failed(error))
        }
        Err(WriteError::Gone) => {
            session::remove(req, &state.cookies, session::SESSION_COOKIE);
            Err(NoCredentials::SignedOut)
        }
        Err(WriteError::Unavailable) => Err(NoCredentials::Failed(unavailable(req).1)),
    }
}

/// The session's credentials and user, refreshed first when an OAuth 2.0
/// access token is due: one refresh per token in this instance, and with
/// Redis across the deployment (a lock; the others wait and use its
/// result). The new tokens, and the user as the wiki reports them after the
/// refresh (its grants may have changed: a refresh drops the scopes the user
/// revoked), are written to the session. A refresh the wiki refuses signs
/// out.
async fn fresh_credentials(req: &Request<'_>) -> Result<Fresh, NoCredentials> {
    let Some(state) = OAuthState::of(req) else {
        return Err(NoCredentials::SignedOut);
    };
    let Some(record) = session_of(req).await? else {
        return Err(NoCredentials::SignedOut);
    };
    let unchanged = |record: &SessionRecord| Fresh {
        credentials: record.credentials.clone(),
        user: record.user.clone(),
        verified: None,
    };
    if !record.credentials.must_renew(now(), Renew::IfDue) {
        return Ok(unchanged(&record));
    }
    let (lock, record) = match state
        .store
        .begin_refresh(req.cookies(), &state.cookies, &record)
        .await?
    {
        Refresh::Go(lock, record) => (lock, record),
        Refresh::Done(record) => return Ok(unchanged(&record)),
        Refresh::Gone => {
            session::remove(req, &state.cookies, session::SESSION_COOKIE);
            return Err(NoCredentials::SignedOut);
        }
    };
    let result = renew(req, state, &record).await;
    lock.release().await;
    result
}

/// Renews `record`'s tokens if still due (another request may have just
/// done it) and keeps them.
async fn renew(
    req: &Request<'_>,
    state: &OAuthState,
    record: &SessionRecord,
) -> Result<Fresh, NoCredentials> {
    match state
        .protocol
        .fresh(&record.credentials, Renew::IfDue)
        .await
    {
        Ok(None) => Ok(Fresh {
            credentials: record.credentials.clone(),
            user: record.user.clone(),
            verified: None,
        }),
        Ok(Some(fresh)) => {
            // Read the grants back: the wiki may have dropped some.
            let verified = match state.protocol.identify(&fresh).await {
                Ok(verified) => Some(verified),
                Err(e) => {
                    log::info!("MediaWiki OAuth: the user could not be read after a refresh: {e}");
                    None
                }
            };
            let user = verified
                .as_ref()
                .map_or_else(|| record.user.clone(), |v| v.user.clone());
            // The renewed tokens cannot be kept (and the old ones are spent).
            keep_session(req, state, fresh.clone(), &user, Session::Renewed).await?;
            Ok(Fresh {
                credentials: fresh,
                user,
                verified,
            })
        }
        Err(e) if e.is_revoked() => {
            log::info!("MediaWiki OAuth: signed out: {e}");
            session::remove(req, &state.cookies, session::SESSION_COOKIE);
            Err(NoCredentials::SignedOut)
        }
        Err(e) => {
            let error = Error::Wiki(e);
            response::note_error(req, &error);
            Err(NoCredentials::Failed(error))
        }
    }
}

fn now() -> i64 {
    time::OffsetDateTime::now_utc().unix_timestamp()
}

/// `VerifiedMwUser` as a guard: asks the wiki (once, also when the tokens
/// were just renewed), refreshes the cookie; a revoked grant signs out and
/// forwards with 401; a wiki that cannot be reached fails with 502/504.
#[rocket::async_trait]
impl<'r> FromRequest<'r> for VerifiedMwUser {
    type Error = Error;

    async fn from_request(req: &'r Request<'_>) -> request::Outcome<Self, Error> {
        let Some(state) = OAuthState::of(req) else {
            return Outcome::Forward(Status::Unauthorized);
        };
        let fresh = match fresh_credentials(req).await {
            Ok(fresh) => fresh,
            Err(NoCredentials::SignedOut) => return Outcome::Forward(Status::Unauthorized),
            Err(NoCredentials::Failed(e)) => {
                response::note_error(req, &e);
                return Outcome::Error((e.status(), e));
            }
        };
        // A renewal just asked the wiki and kept its answer in the cookie.
        if let Some(verified) = fresh.verified {
            return Outcome::Success(verified);
        }
        match state.protocol.identify(&fresh.credentials).await {
            Ok(verified) => {
                match keep_session(
                    req,
                    state,
                    fresh.credentials,
                    &verified.user,
                    Session::Confirmed,
                )
                .await
                {
                    Ok(()) => Outcome::Success(verified),
                    Err(NoCredentials::SignedOut) => Outcome::Forward(Status::Unauthorized),
                    Err(NoCredentials::Failed(error)) => Outcome::Error((error.status(), error)),
                }
            }
            Err(e) if e.is_revoked() => {
                session::remove(req, &state.cookies, session::SESSION_COOKIE);
                Outcome::Forward(Status::Unauthorized)
            }
            Err(e) => {
                let error = Error::Wiki(e);
                response::note_error(req, &error);
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
/// your app has its own 401 catcher, call [`login_redirect`](crate::login_redirect) first in it.
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
                if let Some(s) = OAuthState::of(req) {
                    let here = req.uri().to_string();
                    let next = crate::redirect::safe_next(Some(&here), &s.config.default_return);
                    let login = format!(
                        "{}?next={}",
                        s.config.route_path("login"),
                        wire::encode(&next)
                    );
                    response::remember_login_redirect(req, login);
                }
                // A forward, not an error: nothing went wrong, and Rocket's
                // 401 catcher (the crate's, or the app's) sends the visitor
                // to log in.
                Outcome::Forward(Status::Unauthorized)
            }
        }
    }
}

impl<T> Sentinel for LoginRequired<T> {
    fn abort(rocket: &Rocket<Ignite>) -> bool {
        missing_fairing(rocket, "LoginRequired")
    }
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
        let Some(state) = OAuthState::of(req) else {
            return Outcome::Forward(Status::Unauthorized);
        };
        match fresh_credentials(req).await {
            Ok(fresh) => Outcome::Success(MwApi {
                client: state.api_client(fresh.credentials),
                user: fresh.user,
            }),
            Err(NoCredentials::SignedOut) => Outcome::Forward(Status::Unauthorized),
            Err(NoCredentials::Failed(e)) => {
                response::note_error(req, &e);
                Outcome::Error((e.status(), e))
            }
        }
    }
}

impl Sentinel for MwApi {
    fn abort(rocket: &Rocket<Ignite>) -> bool {
        missing_fairing(rocket, "MwApi")
    }
}

/// API requests as the owner of the configured owner-only consumer (the
/// `owner_*` keys), with no login: for bots and single-user tools. Derefs to
/// [`ApiClient`].
///
/// ```
/// # use rocket::get;
/// use rocket_mediawiki_oauth::{Error, OwnerApi};
///
/// #[get("/bot/status")]
/// async fn status(api: OwnerApi) -> Result<String, Error> {
///     let me = api.request(&[("action", "query"), ("meta", "userinfo")]).await?;
///     Ok(format!("editing as {}", me["query"]["userinfo"]["name"]))
/// }
/// ```
///
/// Using it without an owner-only consumer in the configuration aborts launch.
#[derive(Debug, Clone)]
pub struct OwnerApi(ApiClient);

impl Deref for OwnerApi {
    type Target = ApiClient;
    fn deref(&self) -> &ApiClient {
        &self.0
    }
}

#[rocket::async_trait]
impl<'r> FromRequest<'r> for OwnerApi {
    type Error = Error;

    async fn from_request(req: &'r Request<'_>) -> request::Outcome<Self, Error> {
        match OAuthState::of(req).and_then(OAuthState::owner_client) {
            Some(client) => Outcome::Success(OwnerApi(client)),
            None => Outcome::Forward(Status::InternalServerError),
        }
    }
}

impl Sentinel for OwnerApi {
    fn abort(rocket: &Rocket<Ignite>) -> bool {
        if missing_fairing(rocket, "OwnerApi") {
            return true;
        }
        let configured =
            crate::state::handle_of(rocket).is_some_and(|h| h.config().owner.is_some());
        if !configured {
            log::error!(
                "OwnerApi is used but no owner-only consumer is configured: set mwoauth.owner_access_token \
                 (OAuth 2.0), or owner_consumer_key, owner_consumer_secret, owner_access_token and \
                 owner_access_secret (OAuth 1.0a)"
            );
        }
        !configured
    }
}

/// A grant a route can require with [`RequireGrant`]: a marker type naming
/// the grant as the wiki does (`Special:ListGrants`). [`grant`] has the
/// common ones; for another, implement it:
///
/// ```
/// use rocket_mediawiki_oauth::Grant;
///
/// struct Delete;
/// impl Grant for Delete {
///     const NAME: &'static str = "delete";
/// }
/// ```
pub trait Grant: Send + Sync + 'static {
    /// The grant's name, e.g. `editpage`.
    const NAME: &'static str;
}

/// Marker types for common grants, for [`RequireGrant`].
pub mod grant {
    macro_rules! grants {
        ($($(#[$doc:meta])* $ty:ident = $name:literal;)*) => {$(
            $(#[$doc])*
            #[derive(Debug, Clone, Copy)]
            pub struct $ty;
            impl super::Grant for $ty {
                const NAME: &'static str = $name;
            }
        )*};
    }
    grants! {
        /// `basic`: basic rights (reading, and what every session has).
        Basic = "basic";
        /// `editpage`: edit existing pages.
        EditPage = "editpage";
        /// `createeditmovepage`: create, edit and move pages.
        CreateEditMovePage = "createeditmovepage";
        /// `highvolume`: high-volume (bot) access.
        HighVolume = "highvolume";
        /// `uploadfile`: upload new files.
        UploadFile = "uploadfile";
        /// `uploadeditmovefile`: upload, replace and move files.
        UploadEditMoveFile = "uploadeditmovefile";
        /// `editprotected`: edit protected pages.
        EditProtected = "editprotected";
        /// `patrol`: patrol changes to pages.
        Patrol = "patrol";
        /// `rollback`: roll back changes to pages.
        Rollback = "rollback";
        /// `delete`: delete pages, revisions and log entries.
        Delete = "delete";
        /// `blockusers`: block and unblock users.
        BlockUsers = "blockusers";
        /// `sendemail`: send e-mail to other users.
        SendEmail = "sendemail";
    }
}

/// Checks that `user` gave this app `grant`: `Err(Error::MissingGrant)`,
/// whose page (403) names the grant and says how to give it, otherwise.
/// The check [`RequireGrant`] makes, for a handler that decides itself.
///
/// ```
/// # use rocket::get;
/// use rocket_mediawiki_oauth::{require_grant, Error, MwUser};
///
/// #[get("/fix/<title>")]
/// fn fix(user: MwUser, title: &str) -> Result<String, Error> {
///     require_grant(&user, "editpage")?;
///     Ok(format!("{} may fix {title}", user.name))
/// }
/// ```
pub fn require_grant(user: &MwUser, grant: &str) -> Result<(), Error> {
    if user.has_grant(grant) {
        Ok(())
    } else {
        Err(Error::MissingGrant {
            grant: grant.to_string(),
        })
    }
}

/// A page that needs the signed-in user to have given this app the grant
/// `G`: an anonymous visitor is sent to log in (as with [`LoginRequired`]),
/// a user without the grant gets a 403 page that names it and how to give
/// it (log in again and allow it). Derefs to [`MwUser`].
///
/// The grants are those the wiki reported at sign-in, and again at each
/// refresh of an OAuth 2.0 token and each [`VerifiedMwUser`].
///
/// ```
/// # use rocket::get;
/// use rocket_mediawiki_oauth::{grant::EditPage, RequireGrant};
///
/// #[get("/edit")]
/// fn edit(user: RequireGrant<EditPage>) -> String {
///     format!("{} may edit", user.name)
/// }
/// ```
pub struct RequireGrant<G: Grant> {
    user: MwUser,
    grant: PhantomData<fn() -> G>,
}

impl<G: Grant> RequireGrant<G> {
    /// The user.
    pub fn user(&self) -> &MwUser {
        &self.user
    }
}

impl<G: Grant> std::fmt::Debug for RequireGrant<G> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RequireGrant")
            .field("grant", &G::NAME)
            .field("user", &self.user)
            .finish()
    }
}

impl<G: Grant> Deref for RequireGrant<G> {
    type Target = MwUser;
    fn deref(&self) -> &MwUser {
        &self.user
    }
}

#[rocket::async_trait]
impl<'r, G: Grant> FromRequest<'r> for RequireGrant<G> {
    type Error = Error;

    async fn from_request(req: &'r Request<'_>) -> request::Outcome<Self, Error> {
        match LoginRequired::<MwUser>::from_request(req).await {
            Outcome::Success(LoginRequired(user)) => match require_grant(&user, G::NAME) {
                Ok(()) => Outcome::Success(RequireGrant {
                    user,
                    grant: PhantomData,
                }),
                Err(e) => Outcome::Error((response::refuse_in_guard(req, &e), e)),
            },
            Outcome::Error(e) => Outcome::Error(e),
            Outcome::Forward(status) => Outcome::Forward(status),
        }
    }
}

impl<G: Grant> Sentinel for RequireGrant<G> {
    fn abort(rocket: &Rocket<Ignite>) -> bool {
        missing_fairing(rocket, "RequireGrant")
    }
}

/// `UserLanguage` as a guard: never fails (English when the request names
/// no language the app has messages for).
#[rocket::async_trait]
impl<'r> FromRequest<'r> for crate::i18n::UserLanguage {
    type Error = std::convert::Infallible;

    async fn from_request(
        req: &'r Request<'_>,
    ) -> request::Outcome<Self, std::convert::Infallible> {
        Outcome::Success(response::user_language(req))
    }
}
