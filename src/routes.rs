//! `/login`, `/oauth-callback` and `/logout`: thin handlers that parse, call
//! the protocol, set cookies and redirect.

use rocket::http::uri::Origin;
use rocket::http::CookieJar;
use rocket::response::Redirect;
use rocket::{get, routes, Route, State};

use crate::error::Error;
use crate::fairing::OAuthState;
use crate::protocol::{self, CallbackParams};
use crate::redirect::safe_next;
use crate::session;

/// The longest callback query accepted.
const MAX_CALLBACK_QUERY: usize = 1024;

pub(crate) fn routes() -> Vec<Route> {
    routes![login, callback, logout]
}

/// Starts the handshake and sends the browser to the wiki's authorize page.
#[get("/login?<next>")]
async fn login(
    next: Option<&str>,
    state: &State<OAuthState>,
    jar: &CookieJar<'_>,
) -> Result<Redirect, Error> {
    let next = safe_next(next, &state.config.default_return);
    let (pending, authorize_url) = protocol::start_login(&state.http, &state.config).await?;
    session::store_pending(jar, &state.cookies, pending, &next);
    Ok(Redirect::to(authorize_url))
}

/// Parses the callback's query strictly: no duplicates of the protocol's
/// parameters, nothing oversized.
fn parse_callback(query: Option<&str>) -> Result<CallbackParams, Error> {
    let query = query.unwrap_or_default();
    if query.len() > MAX_CALLBACK_QUERY {
        return Err(Error::BadCallback("the query is too long".into()));
    }
    let mut params = CallbackParams::default();
    for (k, v) in url::form_urlencoded::parse(query.as_bytes()) {
        let slot = match k.as_ref() {
            "oauth_token" => &mut params.oauth_token,
            "oauth_verifier" => &mut params.oauth_verifier,
            _ => continue,
        };
        if slot.is_some() {
            return Err(Error::BadCallback(format!("{k} is given twice")));
        }
        *slot = Some(v.into_owned());
    }
    Ok(params)
}

/// Finishes the handshake: token exchange, identity check, session cookie,
/// flash message, then back to `next`.
#[get("/oauth-callback")]
async fn callback(
    uri: &Origin<'_>,
    state: &State<OAuthState>,
    jar: &CookieJar<'_>,
) -> Result<Redirect, Error> {
    let params = parse_callback(uri.query().map(|q| q.as_str()))?;
    let key = params
        .login_key()
        .ok_or_else(|| Error::BadCallback("oauth_token is missing or malformed".into()))?;
    if !params
        .oauth_verifier
        .as_deref()
        .is_some_and(protocol::oauth1::valid_token)
    {
        return Err(Error::BadCallback(
            "oauth_verifier is missing or malformed".into(),
        ));
    }
    // Taken before anything else: a replayed or failed callback cannot be reused.
    let (pending, next) =
        session::take_pending(jar, &state.cookies, key).ok_or(Error::NoPendingLogin)?;
    let credentials = protocol::finish_login(&state.http, &state.config, &pending, &params).await?;
    let identity = protocol::identify(&state.http, &state.config, &credentials).await?;
    session::store_session(jar, &state.cookies, credentials, &identity);
    session::set_flash(
        jar,
        &state.cookies,
        "success",
        &format!("You were signed in, {}!", identity.username),
    );
    Ok(Redirect::to(next))
}

/// Forgets the user and goes back to `next`.
#[get("/logout?<next>")]
fn logout(next: Option<&str>, state: &State<OAuthState>, jar: &CookieJar<'_>) -> Redirect {
    session::clear_session(jar, &state.cookies);
    session::set_flash(jar, &state.cookies, "success", "You were signed out.");
    Redirect::to(safe_next(next, &state.config.default_return))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn callback_query_is_strict() {
        let p = parse_callback(Some("oauth_verifier=abc&oauth_token=def&x=1")).unwrap();
        assert_eq!(p.oauth_token.as_deref(), Some("def"));
        assert_eq!(p.login_key(), Some("def"));
        assert!(parse_callback(Some("oauth_token=a&oauth_token=b")).is_err());
        assert!(parse_callback(Some(&"x".repeat(MAX_CALLBACK_QUERY + 1))).is_err());
        let p = parse_callback(Some("oauth_token=a%0Ab")).unwrap();
        assert_eq!(p.login_key(), None);
        let p = parse_callback(None).unwrap();
        assert!(p.oauth_token.is_none());
    }
}
