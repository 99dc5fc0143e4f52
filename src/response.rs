//! The edge: how the crate answers. An [`Error`] becomes a status and a short
//! page (or JSON when the client asks for JSON, or the app's catcher with
//! `error_pages = "catchers"`); an error that means the grant is gone signs
//! the user out; the 401 catcher sends visitors of `LoginRequired` pages to
//! log in; and cookie removals are re-applied to responses that catchers
//! made (Rocket drops a request's cookie changes when a catcher answers).

use std::io::Cursor;

use rocket::http::{ContentType, RawStr, Status};
use rocket::request::Request;
use rocket::response::{self, Redirect, Responder, Response};
use rocket::{catch, catchers, Catcher};
use serde::Serialize;

use crate::config::ErrorPages;
use crate::error::{capitalized, Error, PageParam, STORE_RETRY_AFTER};
use crate::i18n::UserLanguage;
use crate::session;
use crate::state::OAuthState;

/// What went wrong, for an app's own catcher (with `error_pages = "catchers"`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
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
    /// A page that explains the error further, as [`Error::help_url`].
    pub help_url: Option<String>,
    /// The title in the request's language ([`UserLanguage`]), as the
    /// crate's own page shows it.
    pub page_title: String,
    /// The explanation in the request's language, as the crate's own page
    /// shows it (plain text: escape it when rendering).
    pub page_message: String,
}

struct CachedErrorInfo(Option<ErrorInfo>);

/// The crate error that made this request fail, if any: call it from your
/// catcher to render the crate's errors in your own page.
///
/// ```
/// use rocket::{catch, Request};
/// use rocket_mediawiki_oauth::error_info;
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

fn login_url(req: &Request<'_>) -> String {
    OAuthState::of(req).map_or_else(|| "/login".to_string(), |s| s.config.route_path("login"))
}

/// Keeps what went wrong for [`error_info`] (the app's catchers).
pub(crate) fn note_error(req: &Request<'_>, error: &Error) {
    let (_, page_title, page_message) = page_texts(req, error);
    let info = ErrorInfo {
        status: error.status().code,
        code: error.code(),
        title: error.title(),
        message: error.to_string(),
        login_url: login_url(req),
        help_url: error.help_url(),
        page_title,
        page_message: capitalized(&page_message),
    };
    req.local_cache(|| CachedErrorInfo(Some(info)));
}

/// An error's page title and text in the request's language.
fn page_texts(req: &Request<'_>, error: &Error) -> (UserLanguage, String, String) {
    let lang = user_language(req);
    let (title, text, params) = error.page_messages();
    let params: Vec<String> = params
        .into_iter()
        .map(|p| match p {
            PageParam::Text(t) => t,
            PageParam::Message(key) => lang.msg(key, &[]),
        })
        .collect();
    let params: Vec<&str> = params.iter().map(String::as_str).collect();
    let title = lang.msg(title, &[]);
    let text = lang.msg(text, &params);
    (lang, title, text)
}

/// Whether the request prefers JSON over HTML.
fn wants_json(req: &Request<'_>) -> bool {
    req.accept()
        .is_some_and(|a| a.preferred().media_type().is_json())
        || req.format().is_some_and(|f| f.is_json())
}

impl<'r> Responder<'r, 'static> for Error {
    fn respond_to(self, req: &'r Request<'_>) -> response::Result<'static> {
        let state = OAuthState::of(req);
        if let Some(state) = state {
            if self.signs_out() {
                session::remove(req, &state.cookies, session::SESSION_COOKIE);
            }
        }
        let status = self.status();
        if status.code >= 500 {
            log::error!("{} {}: {self}", req.method(), req.uri().path());
        } else if matches!(self, Error::ReplayedCallback) {
            log::warn!("{} {}: {self}", req.method(), req.uri().path());
        } else {
            log::info!("{} {}: {self}", req.method(), req.uri().path());
        }
        let (content_type, body) = if wants_json(req) {
            let body = serde_json::json!({"error": self.code(), "message": self.to_string()});
            (ContentType::JSON, body.to_string())
        } else if state.is_some_and(|s| s.config.error_pages == ErrorPages::Catchers) {
            note_error(req, &self);
            return Err(status);
        } else {
            let (lang, title, text) = page_texts(req, &self);
            (
                ContentType::HTML,
                render_page(
                    &lang,
                    status,
                    &title,
                    &text,
                    self.login_again_helps().then(|| login_url(req)).as_deref(),
                    self.help_url().as_deref(),
                ),
            )
        };
        let mut response = Response::build()
            .status(status)
            .header(content_type)
            .raw_header("Cache-Control", "no-store")
            .sized_body(body.len(), Cursor::new(body))
            .finalize();
        if matches!(self, Error::StoreUnavailable) {
            response.set_raw_header("Retry-After", STORE_RETRY_AFTER.to_string());
        }
        Ok(response)
    }
}

fn escape(s: &str) -> std::borrow::Cow<'_, str> {
    RawStr::new(s).html_escape()
}

/// The language a sign-in asked for at `/login` (`?uselang=`), which the
/// callback's request does not carry.
struct LoginLanguage(Option<String>);

/// The callback's pages (its flash message, its errors) in `uselang`, the
/// language its `/login` asked for; before anything of the request chose
/// its language.
pub(crate) fn remember_login_language(req: &Request<'_>, uselang: Option<String>) {
    req.local_cache(|| LoginLanguage(uselang));
}

/// The language of this request's pages (chosen once per request): see
/// [`UserLanguage`].
pub(crate) fn user_language(req: &Request<'_>) -> UserLanguage {
    struct Cached(UserLanguage);
    req.local_cache(|| {
        let messages = OAuthState::of(req)
            .map(|s| s.messages.clone())
            .unwrap_or_default();
        let uselang = req
            .query_value::<&str>("uselang")
            .and_then(Result::ok)
            .or_else(|| req.local_cache(|| LoginLanguage(None)).0.as_deref());
        let accept = req.headers().get_one("Accept-Language");
        Cached(UserLanguage::new(
            messages.choose(uselang, accept),
            crate::i18n::wiki_language(uselang, accept),
            messages,
        ))
    })
    .0
    .clone()
}

impl UserLanguage {
    /// The language of `req`'s pages, where a guard cannot be used (in a
    /// catcher): the same as the request guard.
    ///
    /// ```
    /// use rocket::{catch, Request};
    /// use rocket_mediawiki_oauth::UserLanguage;
    ///
    /// #[catch(404)]
    /// fn not_found(req: &Request<'_>) -> String {
    ///     UserLanguage::of(req).msg("myapp-not-found", &[])
    /// }
    /// ```
    pub fn of(req: &Request<'_>) -> UserLanguage {
        user_language(req)
    }
}

/// The default error page in `lang` (`title` and `message` are its texts);
/// a "Log in again" link when `login` is given, a "What this means" link
/// when `help` is.
fn render_page(
    lang: &UserLanguage,
    status: Status,
    title: &str,
    message: &str,
    login: Option<&str>,
    help: Option<&str>,
) -> String {
    let mut again = login
        .map(|l| {
            format!(
                "<a href=\"{}\">{}</a> · ",
                escape(l),
                escape(&lang.msg("mwoauth-page-login-again", &[]))
            )
        })
        .unwrap_or_default();
    if let Some(help) = help {
        again.push_str(&format!(
            "<a href=\"{}\" rel=\"help\">{}</a> · ",
            escape(help),
            escape(&lang.msg("mwoauth-page-help", &[]))
        ));
    }
    format!(
        "<!DOCTYPE html>\n<html lang=\"{code}\"><head><meta charset=\"utf-8\"><title>{title}</title>\
         <meta name=\"viewport\" content=\"width=device-width\"><style>body{{font-family:system-ui,\
         sans-serif;max-width:40em;margin:3em auto;padding:0 1em;line-height:1.5;color:#202122}}\
         h1{{font-size:1.5em}}a{{color:#36c}}</style></head>\n<body>\
         <h1>{title}</h1>\n<p id=\"mwoauth-error\" data-status=\"{status}\">{message}</p>\n\
         <p>{again}<a href=\"/\">{home}</a></p></body></html>\n",
        code = escape(lang.code()),
        title = escape(title),
        status = status.code,
        home = escape(&lang.msg("mwoauth-page-home", &[])),
        message = escape(&capitalized(message)),
    )
}

/// Marks a request whose page needs a signed-in user: the 401 catcher sends
/// the visitor to `/login?next=<this page>`.
struct LoginRedirect(Option<String>);

/// Remembers where the 401 catcher sends this request's visitor to log in.
pub(crate) fn remember_login_redirect(req: &Request<'_>, url: String) {
    req.local_cache(|| LoginRedirect(Some(url)));
}

/// Where to send a visitor whose page needed a login, if that is why the
/// request failed with 401. Call it from your own 401 catcher.
///
/// ```
/// use rocket::response::Redirect;
/// use rocket::{catch, Request};
/// use rocket_mediawiki_oauth::login_redirect;
///
/// #[catch(401)]
/// fn unauthorized(req: &Request<'_>) -> Result<Redirect, &'static str> {
///     login_redirect(req).ok_or("You may not see this page.")
/// }
/// ```
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

/// A guard's refusal that a page must explain (the grant a user did not
/// give), kept for the 403 catcher: Rocket hands a catcher the status, not
/// the error.
struct MissingGrant(Option<String>);

/// Keeps what a guard refused for the 403 catcher (and [`error_info`]);
/// the guard then fails with the error's status.
pub(crate) fn refuse_in_guard(req: &Request<'_>, error: &Error) -> Status {
    note_error(req, error);
    if let Error::MissingGrant { grant } = error {
        req.local_cache(|| MissingGrant(Some(grant.clone())));
    }
    error.status()
}

struct Forbidden;

impl<'r> Responder<'r, 'static> for Forbidden {
    fn respond_to(self, req: &'r Request<'_>) -> response::Result<'static> {
        let lang = user_language(req);
        let body = render_page(
            &lang,
            Status::Forbidden,
            &lang.msg("mwoauth-title-forbidden", &[]),
            &lang.msg("mwoauth-error-forbidden", &[]),
            None,
            None,
        );
        Response::build()
            .status(Status::Forbidden)
            .header(ContentType::HTML)
            .sized_body(body.len(), Cursor::new(body))
            .ok()
    }
}

/// A 503 page: the session store's when a guard could not reach it,
/// otherwise a plain one.
#[catch(503)]
fn unavailable(req: &Request<'_>) -> Result<Error, Plain> {
    if store_unavailable(req) {
        Ok(Error::StoreUnavailable)
    } else {
        Err(Plain(
            Status::ServiceUnavailable,
            "mwoauth-title-unavailable",
            "mwoauth-error-unavailable",
        ))
    }
}

/// Whether a guard of this request could not reach the session store.
fn store_unavailable(req: &Request<'_>) -> bool {
    error_info(req).is_some_and(|e| e.code == Error::StoreUnavailable.code())
}

/// A page of the crate's look for a status no crate error explains: its
/// status and the keys of its title and text.
struct Plain(Status, &'static str, &'static str);

impl<'r> Responder<'r, 'static> for Plain {
    fn respond_to(self, req: &'r Request<'_>) -> response::Result<'static> {
        let lang = user_language(req);
        let body = render_page(
            &lang,
            self.0,
            &lang.msg(self.1, &[]),
            &lang.msg(self.2, &[]),
            None,
            None,
        );
        Response::build()
            .status(self.0)
            .header(ContentType::HTML)
            .sized_body(body.len(), Cursor::new(body))
            .ok()
    }
}

#[catch(403)]
fn forbidden(req: &Request<'_>) -> Result<Error, Forbidden> {
    match &req.local_cache(|| MissingGrant(None)).0 {
        Some(grant) => Ok(Error::MissingGrant {
            grant: grant.clone(),
        }),
        None => Err(Forbidden),
    }
}

/// The crate's catchers (with `error_pages = "builtin"`).
pub(crate) fn catchers() -> Vec<Catcher> {
    catchers![unauthorized, forbidden, unavailable]
}

/// The callback's query, kept out of the request's URI ([`on_request`]).
struct CallbackQuery(Option<String>);

/// What the fairing does to every request: the callback's query (the OAuth
/// 2.0 `code`, the OAuth 1.0a verifier) is taken out of the URI before
/// Rocket logs the request line, and kept for the callback route
/// ([`callback_query`]). Rocket logs `GET /oauth-callback`, never the code.
pub(crate) fn on_request(req: &mut Request<'_>) {
    let Some(state) = OAuthState::of(req) else {
        return;
    };
    if req.uri().path() != state.cookies.callback_path.as_str() || req.uri().query().is_none() {
        return;
    }
    let query = req.uri().query().map(|q| q.as_str().to_string());
    let path = req.uri().path().as_str().to_string();
    if let Ok(bare) = rocket::http::uri::Origin::parse_owned(path) {
        req.local_cache(|| CallbackQuery(query));
        req.set_uri(bare);
    }
}

/// The callback's query as the browser sent it (see [`on_request`]).
pub(crate) fn callback_query<'r>(req: &'r Request<'_>) -> Option<&'r str> {
    req.local_cache(|| CallbackQuery(None))
        .0
        .as_deref()
        .or_else(|| req.uri().query().map(|q| q.as_str()))
}

/// What the fairing does to every response.
pub(crate) fn on_response(req: &Request<'_>, res: &mut Response<'_>) {
    let Some(state) = OAuthState::of(req) else {
        return;
    };
    session::reapply_removals(req, &state.cookies, res);
    if res.status() == Status::ServiceUnavailable && store_unavailable(req) {
        // Also when the app's own catcher answered.
        res.set_raw_header("Retry-After", STORE_RETRY_AFTER.to_string());
    }
    if req.uri().path() == state.cookies.callback_path.as_str() {
        // The callback's URL carried the code: no page it leads to learns it.
        res.set_raw_header("Referrer-Policy", "no-referrer");
    }
    if !state.cookies.secure && state.cookies.secure_behind_proxy && forwarded_https(req) {
        session::make_secure(res);
    }
}

/// Whether a proxy says the browser reached it over HTTPS
/// (`X-Forwarded-Proto: https`). Only ever used to add `Secure`: a client
/// that sends it itself gains nothing.
fn forwarded_https(req: &Request<'_>) -> bool {
    req.headers()
        .get_one("X-Forwarded-Proto")
        .and_then(|v| v.split(',').next())
        .is_some_and(|v| v.trim().eq_ignore_ascii_case("https"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_page_escapes_what_it_shows() {
        let en = UserLanguage::new(None, None, Default::default());
        let page = render_page(
            &en,
            Status::BadGateway,
            "The wiki could not be used",
            "the wiki refused: <script>alert(\"x\")</script> & more",
            Some("/auth/login?next=\"x"),
            None,
        );
        assert!(page.contains("The wiki refused: &lt;script&gt;"), "{page}");
        assert!(!page.contains("<script>"), "{page}");
        assert!(page.contains("data-status=\"502\""), "{page}");
        assert!(
            page.contains("href=\"&#x2F;auth&#x2F;login?next=&quot;x\">Log in again"),
            "{page}"
        );
        let page = render_page(&en, Status::BadGateway, "x", "y", None, None);
        assert!(!page.contains("Log in again"), "{page}");
        assert!(!page.contains("What this means"), "{page}");
        let page = render_page(
            &en,
            Status::Forbidden,
            "x",
            "y",
            None,
            Some("https://www.mediawiki.org/wiki/Help:OAuth/Errors#E007"),
        );
        assert!(
            page.contains("Help:OAuth&#x2F;Errors#E007\" rel=\"help\">What this means"),
            "{page}"
        );
    }
}
