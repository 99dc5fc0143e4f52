//! The crate's error: a plain value to match on. How it becomes a response
//! (a page or JSON, a sign-out) is decided at the edge, in `response.rs`.

use std::fmt;

use rocket::http::Status;

use crate::api::ApiError;
use crate::protocol::WikiError;

/// What can go wrong in a login, a guard or a handler using the crate.
///
/// Return it from a handler (`Result<T, rocket_mediawiki_oauth::Error>`): it
/// answers with a fitting status ([`Error::status`]: 4xx for the browser's
/// fault, 502/504 for the wiki's) and a page, or JSON when the request
/// accepts JSON. An authorization the wiki no longer accepts also signs the
/// user out. Or match on it and answer yourself:
///
/// ```
/// # use rocket::get;
/// use rocket_mediawiki_oauth::{ApiError, Error, MwApi};
///
/// #[get("/count")]
/// async fn count(api: MwApi) -> Result<String, Error> {
///     match api.request(&[("action", "query"), ("meta", "userinfo"), ("uiprop", "editcount")]).await {
///         Ok(answer) => Ok(answer["query"]["userinfo"]["editcount"].to_string()),
///         Err(ApiError::Maxlag { .. }) => Ok("the wiki is busy, try again in a minute".into()),
///         Err(other) => Err(other.into()),
///     }
/// }
/// ```
#[derive(Debug)]
#[non_exhaustive]
pub enum Error {
    /// The callback from the wiki is malformed (missing, duplicated or
    /// oversized parameters).
    BadCallback(String),
    /// No login is in progress for this callback in this browser: it expired,
    /// was already used, or was started elsewhere.
    NoPendingLogin,
    /// The sign-in was not authorized on the wiki (the user pressed Cancel,
    /// or the wiki refused the application), with the wiki's words.
    LoginDenied(String),
    /// The callback finishes a login the wiki already completed: a replay
    /// (e.g. a saved login-in-progress cookie sent again).
    ReplayedCallback,
    /// Talking to the wiki failed (sign-in, identity check).
    Wiki(WikiError),
    /// An API call failed.
    Api(ApiError),
    /// The page needs a signed-in user.
    NotSignedIn,
    /// The page needs a grant the user did not give this app (see
    /// [`RequireGrant`](crate::guards::RequireGrant) and
    /// [`require_grant`](crate::guards::require_grant)).
    MissingGrant {
        /// The grant, e.g. `editpage`.
        grant: String,
    },
    /// The session store (Redis, with `store = "redis"`) could not be
    /// reached in time: `503 Service Unavailable` with `Retry-After`. Nobody
    /// is signed out by it; the same request works again once the store is
    /// back.
    StoreUnavailable,
}

/// The title of the page of [`Error::StoreUnavailable`].
const STORE_UNAVAILABLE_TITLE: &str = "Please try again in a few seconds";
/// What the page of [`Error::StoreUnavailable`] says.
const STORE_UNAVAILABLE_TEXT: &str =
    "this site cannot reach its session store right now; you are still signed in, and this \
     page will work again in a few seconds";
/// Seconds a browser is asked to wait (`Retry-After`) after
/// [`Error::StoreUnavailable`].
pub(crate) const STORE_RETRY_AFTER: u32 = 5;

/// Extension:OAuth's help on errors, on mediawiki.org (the wiki's own
/// error pages link there too).
const OAUTH_ERRORS_HELP: &str =
    "https://www.mediawiki.org/wiki/Special:MyLanguage/Help:OAuth/Errors";

impl Error {
    /// Whether logging in again can help: not when the wiki refused this
    /// app's settings (a wrong secret or callback), nor for a mistake in the
    /// app's own request.
    pub(crate) fn login_again_helps(&self) -> bool {
        match self {
            Error::Wiki(e) => !e.is_a_setting() && !matches!(e, WikiError::BadRequest(_)),
            Error::Api(
                ApiError::InvalidRequest(_)
                | ApiError::Blocked { .. }
                | ApiError::AppNotApproved { .. }
                | ApiError::NotAttached { .. },
            ) => false,
            Error::StoreUnavailable => false,
            _ => true,
        }
    }

    /// The HTTP status this error answers with.
    pub fn status(&self) -> Status {
        match self {
            Error::BadCallback(_) | Error::NoPendingLogin | Error::ReplayedCallback => {
                Status::BadRequest
            }
            Error::LoginDenied(_) | Error::MissingGrant { .. } => Status::Forbidden,
            Error::Api(
                ApiError::Blocked { .. }
                | ApiError::NotAttached { .. }
                | ApiError::AppNotApproved { .. }
                | ApiError::PermissionDenied { .. },
            ) => Status::Forbidden,
            Error::Api(ApiError::TooManyInFlight { .. }) | Error::StoreUnavailable => {
                Status::ServiceUnavailable
            }
            Error::NotSignedIn => Status::Unauthorized,
            Error::Wiki(WikiError::Timeout) | Error::Api(ApiError::Timeout) => {
                Status::GatewayTimeout
            }
            Error::Wiki(WikiError::BadRequest(_)) | Error::Api(ApiError::InvalidRequest(_)) => {
                Status::InternalServerError
            }
            Error::Wiki(e) if e.is_revoked() => Status::Unauthorized,
            Error::Api(e) if e.is_authorization() => Status::Unauthorized,
            Error::Api(ApiError::Maxlag { .. }) | Error::Api(ApiError::ReadOnly { .. }) => {
                Status::ServiceUnavailable
            }
            Error::Api(ApiError::RateLimited { .. }) => Status::TooManyRequests,
            Error::Wiki(_) | Error::Api(_) => Status::BadGateway,
        }
    }

    /// A short machine-readable name, used as `error` in JSON answers.
    pub fn code(&self) -> &'static str {
        match self {
            Error::BadCallback(_) => "bad-callback",
            Error::NoPendingLogin => "no-pending-login",
            Error::ReplayedCallback => "replayed-callback",
            Error::LoginDenied(_) => "login-denied",
            Error::NotSignedIn => "not-signed-in",
            Error::MissingGrant { .. } => "missing-grant",
            Error::StoreUnavailable => "store-unavailable",
            Error::Api(ApiError::Blocked { .. }) => "blocked",
            Error::Api(ApiError::NotAttached { .. }) => "not-attached",
            Error::Api(ApiError::AppNotApproved { .. }) => "app-not-approved",
            Error::Api(ApiError::PermissionDenied { .. }) => "permission-denied",
            Error::Api(ApiError::TooManyInFlight { .. }) => "busy",
            Error::Wiki(WikiError::Timeout) | Error::Api(ApiError::Timeout) => "wiki-timeout",
            Error::Wiki(e) if e.is_revoked() => "access-revoked",
            Error::Api(e) if e.is_authorization() => "access-revoked",
            Error::Wiki(WikiError::Identity(_)) => "identity-rejected",
            Error::Wiki(WikiError::Refused { .. }) => "wiki-refused",
            Error::Wiki(_) => "wiki-unavailable",
            Error::Api(_) => "api-error",
        }
    }

    /// A page explaining this error further: Extension:OAuth's
    /// `Help:OAuth/Errors`, at the section of the wiki's own error code
    /// where it has one (E005 app not approved, E007 blocked, E008 no
    /// account on that wiki).
    pub fn help_url(&self) -> Option<String> {
        let section = match self {
            Error::Api(ApiError::Blocked { .. }) => "E007",
            Error::Api(ApiError::NotAttached { .. }) => "E008",
            Error::Api(ApiError::AppNotApproved { .. }) => "E005",
            Error::Api(ApiError::PermissionDenied { .. }) | Error::MissingGrant { .. } => "",
            _ => return None,
        };
        Some(if section.is_empty() {
            OAUTH_ERRORS_HELP.to_string()
        } else {
            format!("{OAUTH_ERRORS_HELP}#{section}")
        })
    }

    /// Whether the user's session must be forgotten.
    pub(crate) fn signs_out(&self) -> bool {
        match self {
            Error::Wiki(e) => e.is_revoked(),
            Error::Api(e) => e.is_authorization(),
            _ => false,
        }
    }

    /// A short title for a page, e.g. "Access was revoked".
    pub fn title(&self) -> &'static str {
        match self {
            Error::BadCallback(_) | Error::NoPendingLogin | Error::ReplayedCallback => {
                "Sign-in could not be completed"
            }
            Error::LoginDenied(_) => "Sign-in was cancelled",
            Error::NotSignedIn => "Please sign in",
            Error::MissingGrant { .. } => "This app needs more permission",
            Error::StoreUnavailable => STORE_UNAVAILABLE_TITLE,
            Error::Api(ApiError::Blocked { .. }) => "You are blocked on the wiki",
            Error::Api(ApiError::NotAttached { .. }) => "Your account is not on that wiki yet",
            Error::Api(ApiError::AppNotApproved { .. }) => "This app is not approved on the wiki",
            Error::Api(ApiError::PermissionDenied { .. }) => "The wiki did not allow this",
            Error::Wiki(e) if e.is_revoked() => "Access was revoked",
            Error::Api(e) if e.is_authorization() => "Access was revoked",
            Error::Wiki(_) | Error::Api(_) => "The wiki could not be used",
        }
    }
}

/// A parameter of an error page's message: text as it is (the wiki's
/// words, a name), or another message in the page's language.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum PageParam {
    Text(String),
    Message(&'static str),
}

/// The words of a sign-in the wiki did not allow when the callback names no
/// login of this browser ([`Error::LoginDenied`] then holds them): the link
/// could come from anyone, so its own words are not shown.
pub(crate) const DENIED_NO_WORDS: &str = "you came back from the wiki without allowing the app";

impl Error {
    /// The messages of this error's page (`src/i18n/en.json`): the
    /// title's key, the text's key and its parameters. The English texts
    /// say what [`Error::title`] and `Display` say.
    pub(crate) fn page_messages(&self) -> (&'static str, &'static str, Vec<PageParam>) {
        use PageParam::{Message, Text};
        let title = match self {
            Error::BadCallback(_) | Error::NoPendingLogin | Error::ReplayedCallback => {
                "mwoauth-title-sign-in-failed"
            }
            Error::LoginDenied(_) => "mwoauth-title-sign-in-cancelled",
            Error::NotSignedIn => "mwoauth-title-please-sign-in",
            Error::MissingGrant { .. } => "mwoauth-title-missing-grant",
            Error::StoreUnavailable => "mwoauth-title-store-unavailable",
            Error::Api(ApiError::Blocked { .. }) => "mwoauth-title-blocked",
            Error::Api(ApiError::NotAttached { .. }) => "mwoauth-title-not-attached",
            Error::Api(ApiError::AppNotApproved { .. }) => "mwoauth-title-app-not-approved",
            Error::Api(ApiError::PermissionDenied { .. }) => "mwoauth-title-permission-denied",
            Error::Wiki(e) if e.is_revoked() => "mwoauth-title-revoked",
            Error::Api(e) if e.is_authorization() => "mwoauth-title-revoked",
            Error::Wiki(_) | Error::Api(_) => "mwoauth-title-wiki-failed",
        };
        let (text, params) = match self {
            Error::BadCallback(m) => ("mwoauth-error-bad-callback", vec![Text(m.clone())]),
            Error::NoPendingLogin => ("mwoauth-error-no-pending-login", vec![]),
            Error::LoginDenied(words) if words == DENIED_NO_WORDS => (
                "mwoauth-error-login-denied",
                vec![Message("mwoauth-error-login-denied-no-words")],
            ),
            Error::LoginDenied(words) => ("mwoauth-error-login-denied", vec![Text(words.clone())]),
            Error::ReplayedCallback => ("mwoauth-error-replayed-callback", vec![]),
            Error::NotSignedIn => ("mwoauth-error-not-signed-in", vec![]),
            Error::StoreUnavailable => ("mwoauth-error-store-unavailable", vec![]),
            Error::MissingGrant { grant } => {
                ("mwoauth-error-missing-grant", vec![Text(grant.clone())])
            }
            Error::Api(ApiError::Blocked { info, .. }) => {
                ("mwoauth-error-blocked", vec![Text(info.clone())])
            }
            Error::Api(ApiError::NotAttached { info, .. }) => {
                ("mwoauth-error-not-attached", vec![Text(info.clone())])
            }
            Error::Api(ApiError::AppNotApproved { info, .. }) => {
                ("mwoauth-error-app-not-approved", vec![Text(info.clone())])
            }
            Error::Api(ApiError::PermissionDenied { info, .. }) => {
                ("mwoauth-error-permission-denied", vec![Text(info.clone())])
            }
            Error::Api(ApiError::TooManyInFlight { limit, waited }) => (
                "mwoauth-error-busy",
                vec![Text(limit.to_string()), Text(waited.as_secs().to_string())],
            ),
            Error::Wiki(_) | Error::Api(_) => (
                "mwoauth-error-details",
                vec![Text(capitalized(&self.to_string()))],
            ),
        };
        (title, text, params)
    }
}

/// `s` with its first letter in upper case.
pub(crate) fn capitalized(s: &str) -> String {
    let mut chars = s.chars();
    chars
        .next()
        .map_or_else(String::new, |c| c.to_uppercase().chain(chars).collect())
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::BadCallback(m) => write!(f, "the wiki's answer to this site is malformed: {m}"),
            Error::NoPendingLogin => f.write_str(
                "no sign-in is in progress for this link in this browser (it expired, was already used, or was started elsewhere); please log in again",
            ),
            Error::LoginDenied(words) => write!(
                f,
                "the sign-in was not authorized on the wiki ({words}); you can log in again at any time"
            ),
            Error::ReplayedCallback => f.write_str(
                "this sign-in link was already used (the wiki says the login is complete); please log in again",
            ),
            Error::Wiki(e) => e.fmt(f),
            Error::Api(e) => e.fmt(f),
            Error::NotSignedIn => f.write_str("you need to sign in to see this page"),
            Error::MissingGrant { grant } => write!(
                f,
                "this page needs the \"{grant}\" grant, which you did not give this app; log in \
                 again and allow it on the wiki (or check the app's grants in \
                 Special:OAuthManageMyGrants on the wiki)"
            ),
            Error::StoreUnavailable => f.write_str(STORE_UNAVAILABLE_TEXT),
        }
    }
}

impl std::error::Error for Error {
    /// The wiki's or the API's error this one wraps.
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Error::Wiki(e) => Some(e),
            Error::Api(e) => Some(e),
            _ => None,
        }
    }
}

impl From<WikiError> for Error {
    fn from(e: WikiError) -> Self {
        Error::Wiki(e)
    }
}

impl From<ApiError> for Error {
    fn from(e: ApiError) -> Self {
        Error::Api(e)
    }
}

#[cfg(test)]
mod tests {
    use std::error::Error as _;

    use super::*;
    use crate::protocol::IdentityError;

    #[test]
    fn the_chain_of_sources_reaches_the_first_cause() {
        let e = Error::Wiki(WikiError::Identity(IdentityError::Malformed("too long")));
        let wiki = e.source().expect("the wiki's error");
        assert!(
            wiki.to_string().contains("identity answer was rejected"),
            "{wiki}"
        );
        let identity = wiki.source().expect("the identity error");
        assert_eq!(
            identity.to_string(),
            IdentityError::Malformed("too long").to_string()
        );
        assert!(identity.source().is_none());
        assert!(Error::Api(ApiError::Timeout).source().is_some());
        assert!(Error::NoPendingLogin.source().is_none());
    }
}
