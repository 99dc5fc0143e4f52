//! The crate's error type, and how it becomes an HTTP response at the edge:
//! a status, and a short page (or JSON when the client asks for JSON).

use std::fmt;
use std::io::Cursor;

use rocket::http::{ContentType, Status};
use rocket::request::Request;
use rocket::response::{self, Responder, Response};

use crate::api::ApiError;
use crate::config::ErrorPages;
use crate::fairing::OAuthState;
use crate::protocol::WikiError;
use crate::session;

/// What can go wrong in a login, a guard or a handler using the crate.
///
/// Return it from a handler (`Result<T, rocket_mediawiki_oauth::Error>`): it
/// answers with a fitting status (4xx for the browser's fault, 502/504 for
/// the wiki's) and a page, or JSON when the request accepts JSON. An
/// authorization the wiki no longer accepts also signs the user out.
#[derive(Debug)]
#[non_exhaustive]
pub enum Error {
    /// The callback from the wiki is malformed (missing, duplicated or
    /// oversized parameters).
    BadCallback(String),
    /// No login is in progress for this callback in this browser: it expired,
    /// was already used, or was started elsewhere.
    NoPendingLogin,
    /// Talking to the wiki failed (sign-in, identity check).
    Wiki(WikiError),
    /// An API call failed.
    Api(ApiError),
    /// The page needs a signed-in user.
    NotSignedIn,
}

impl Error {
    /// The HTTP status this error answers with.
    pub fn status(&self) -> Status {
        match self {
            Error::BadCallback(_) | Error::NoPendingLogin => Status::BadRequest,
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
            Error::NotSignedIn => "not-signed-in",
            Error::Wiki(WikiError::Timeout) | Error::Api(ApiError::Timeout) => "wiki-timeout",
            Error::Wiki(e) if e.is_revoked() => "access-revoked",
            Error::Api(e) if e.is_authorization() => "access-revoked",
            Error::Wiki(WikiError::Identity(_)) => "identity-rejected",
            Error::Wiki(WikiError::Refused { .. }) => "wiki-refused",
            Error::Wiki(_) => "wiki-unavailable",
            Error::Api(_) => "api-error",
        }
    }

    /// Whether the user's session must be forgotten.
    fn signs_out(&self) -> bool {
        match self {
            Error::Wiki(e) => e.is_revoked(),
            Error::Api(e) => e.is_authorization(),
            _ => false,
        }
    }

    fn title(&self) -> &'static str {
        match self {
            Error::BadCallback(_) | Error::NoPendingLogin => "Sign-in could not be completed",
            Error::NotSignedIn => "Please sign in",
            Error::Wiki(e) if e.is_revoked() => "Access was revoked",
            Error::Api(e) if e.is_authorization() => "Access was revoked",
            Error::Wiki(_) | Error::Api(_) => "The wiki could not be used",
        }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::BadCallback(m) => write!(f, "the wiki's answer to this site is malformed: {m}"),
            Error::NoPendingLogin => f.write_str(
                "no sign-in is in progress for this link in this browser (it expired, was already used, or was started elsewhere); please log in again",
            ),
            Error::Wiki(e) => e.fmt(f),
            Error::Api(e) => e.fmt(f),
            Error::NotSignedIn => f.write_str("you need to sign in to see this page"),
        }
    }
}

impl std::error::Error for Error {}

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

/// Escapes text for HTML element content and attribute values.
pub fn html_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            _ => out.push(c),
        }
    }
    out
}

/// Whether the request prefers JSON over HTML.
pub(crate) fn wants_json(req: &Request<'_>) -> bool {
    req.accept()
        .is_some_and(|a| a.preferred().media_type().is_json())
        || req.format().is_some_and(|f| f.is_json())
}

/// What went wrong, for an app's own catcher (with `error_pages = "catchers"`).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct ErrorInfo {
    /// The HTTP status code.
    pub status: u16,
    /// The machine-readable name, as in [`Error::code`].
    pub code: &'static str,
    /// A short title, e.g. "Access was revoked".
    pub title: &'static str,
    /// The explanation, plain text (escape it when rendering).
    pub message: String,
    /// Where to log in again.
    pub login_url: String,
}

struct CachedErrorInfo(Option<ErrorInfo>);

/// The crate error that made this request fail, if any: call it from your
/// catcher to render the crate's errors in your own page.
///
/// ```
/// use rocket::{catch, Request};
/// use rocket_mediawiki_oauth::error::error_info;
///
/// #[catch(502)]
/// fn wiki_down(req: &Request<'_>) -> String {
///     match error_info(req) {
///         Some(e) => format!("{}: {}", e.title, e.message),
///         None => "Bad gateway".into(),
///     }
/// }
/// ```
pub fn error_info(req: &Request<'_>) -> Option<ErrorInfo> {
    req.local_cache(|| CachedErrorInfo(None)).0.clone()
}

/// Keeps what went wrong for [`error_info`] (the app's catchers).
pub(crate) fn note_error(req: &Request<'_>, error: &Error) {
    let login_url = req
        .rocket()
        .state::<OAuthState>()
        .map_or_else(|| "/login".to_string(), |s| s.config.route_path("login"));
    let info = ErrorInfo {
        status: error.status().code,
        code: error.code(),
        title: error.title(),
        message: error.to_string(),
        login_url,
    };
    req.local_cache(|| CachedErrorInfo(Some(info)));
}

impl<'r> Responder<'r, 'static> for Error {
    fn respond_to(self, req: &'r Request<'_>) -> response::Result<'static> {
        let state = req.rocket().state::<OAuthState>();
        if let Some(state) = state {
            if self.signs_out() {
                session::remove(req, &state.cookies, session::SESSION_COOKIE);
            }
            // A failed callback has used up its login in progress, even if
            // a catcher (which drops the request's cookie changes) answers.
            if req.uri().path() == state.config.route_path("oauth-callback").as_str() {
                let token = req.query_value::<&str>("oauth_token").and_then(Result::ok);
                if let Some(token) = token.filter(|t| crate::protocol::oauth1::valid_token(t)) {
                    session::remove(
                        req,
                        &state.cookies,
                        &format!("{}{token}", session::PENDING_PREFIX),
                    );
                }
            }
        }
        let status = self.status();
        if status.code >= 500 {
            log::error!("{} {}: {self}", req.method(), req.uri().path());
        } else {
            log::info!("{} {}: {self}", req.method(), req.uri().path());
        }
        let login = state.map_or_else(|| "/login".to_string(), |s| s.config.route_path("login"));
        let (content_type, body) = if wants_json(req) {
            let body = serde_json::json!({"error": self.code(), "message": self.to_string()});
            (ContentType::JSON, body.to_string())
        } else if state.is_some_and(|s| s.config.error_pages == ErrorPages::Catchers) {
            note_error(req, &self);
            return Err(status);
        } else {
            (
                ContentType::HTML,
                render_page(status, self.title(), &self.to_string(), &login),
            )
        };
        Response::build()
            .status(status)
            .header(content_type)
            .raw_header("Cache-Control", "no-store")
            .sized_body(body.len(), Cursor::new(body))
            .ok()
    }
}

fn capitalized(s: &str) -> String {
    let mut chars = s.chars();
    chars
        .next()
        .map_or_else(String::new, |c| c.to_uppercase().chain(chars).collect())
}

/// The default error page.
fn render_page(status: Status, title: &str, message: &str, login: &str) -> String {
    format!(
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>{title}</title>\
         <meta name=\"viewport\" content=\"width=device-width\"></head>\n<body>\
         <h1>{title}</h1>\n<p id=\"mwoauth-error\" data-status=\"{code}\">{message}</p>\n\
         <p><a href=\"{login}\">Log in again</a> · <a href=\"/\">Home</a></p></body></html>\n",
        title = html_escape(title),
        code = status.code,
        message = html_escape(&capitalized(message)),
        login = html_escape(login),
    )
}
