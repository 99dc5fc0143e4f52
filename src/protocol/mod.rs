//! The seam between "how we sign in and sign requests" and everything else.
//!
//! Routes, guards and the API client only see [`Credentials`] (what a signed-in
//! session holds), [`PendingLogin`] (what a login in progress holds) and the
//! four operations below: start a login, finish it, ask who the user is, and
//! authorize a request. OAuth 1.0a lives in [`oauth1`]; OAuth 2.0 will be a
//! sibling module and new enum variants, with no change to handlers or guards.

pub mod oauth1;

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::config::Config;
use crate::identity::{Identity, IdentityError};

/// A key and its secret (consumer, request token or access token).
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TokenPair {
    /// The public half.
    #[serde(rename = "k")]
    pub key: String,
    /// The secret half; `Debug` prints `[redacted]`.
    #[serde(rename = "s")]
    pub secret: String,
}

impl fmt::Debug for TokenPair {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TokenPair")
            .field("key", &self.key)
            .field("secret", &"[redacted]")
            .finish()
    }
}

/// What a signed-in session holds: one variant per protocol.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "p")]
#[non_exhaustive]
pub enum Credentials {
    /// An OAuth 1.0a access token.
    #[serde(rename = "o1")]
    OAuth1(TokenPair),
}

/// What a login in progress holds between `/login` and `/oauth-callback`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "p")]
#[non_exhaustive]
pub enum PendingLogin {
    /// An OAuth 1.0a request token.
    #[serde(rename = "o1")]
    OAuth1(TokenPair),
}

impl PendingLogin {
    /// The value the wiki echoes back to the callback that names this login
    /// (OAuth 1.0a: the request token), so parallel logins stay apart.
    pub fn key(&self) -> &str {
        match self {
            PendingLogin::OAuth1(t) => &t.key,
        }
    }
}

/// The query of a callback from the wiki, as parsed by the route.
#[derive(Debug, Default, Clone)]
pub struct CallbackParams {
    /// OAuth 1.0a `oauth_token` (the request token).
    pub oauth_token: Option<String>,
    /// OAuth 1.0a `oauth_verifier`.
    pub oauth_verifier: Option<String>,
}

impl CallbackParams {
    /// The key of the pending login this callback finishes, if well-formed.
    pub fn login_key(&self) -> Option<&str> {
        self.oauth_token
            .as_deref()
            .filter(|t| oauth1::valid_token(t))
    }
}

/// A failure talking to the wiki (or a refusal by it).
#[derive(Debug)]
#[non_exhaustive]
pub enum WikiError {
    /// The wiki did not answer in time.
    Timeout,
    /// The wiki could not be reached (connection refused, DNS, TLS, …).
    Unreachable(String),
    /// The wiki answered with an HTTP error status.
    Status(u16),
    /// The wiki refused, with its message (`Error: …` or `{"error","message"}`).
    Refused {
        /// The message key, when the wiki gave one (JSON answers).
        key: Option<String>,
        /// The wiki's message, as plain text.
        message: String,
    },
    /// The wiki answered something that is not the protocol (HTML, garbage).
    Unexpected(String),
    /// The identity JWT did not verify.
    Identity(IdentityError),
    /// The request could not be built (a caller's mistake, e.g. a reserved parameter).
    BadRequest(String),
}

impl WikiError {
    pub(crate) fn from_reqwest(e: reqwest::Error) -> WikiError {
        if e.is_timeout() {
            WikiError::Timeout
        } else {
            // reqwest's Display names the URL; our URLs carry no secrets.
            WikiError::Unreachable(e.to_string())
        }
    }

    /// Whether the wiki says the access token is no longer valid (revoked or unknown).
    pub fn is_revoked(&self) -> bool {
        matches!(self, WikiError::Refused { key: Some(k), .. }
            if k == "mwoauthdatastore-access-token-not-found"
                || k == "mwoauth-access-token-not-found"
                || k.starts_with("mwoauth-invalid-authorization"))
    }
}

impl fmt::Display for WikiError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            WikiError::Timeout => f.write_str("the wiki did not answer in time"),
            WikiError::Unreachable(e) => write!(f, "the wiki could not be reached: {e}"),
            WikiError::Status(s) => write!(f, "the wiki answered with HTTP status {s}"),
            WikiError::Refused { message, .. } => write!(f, "the wiki refused: {message}"),
            WikiError::Unexpected(e) => write!(f, "the wiki gave an unexpected answer: {e}"),
            WikiError::Identity(e) => write!(f, "the wiki's identity answer was rejected: {e}"),
            WikiError::BadRequest(e) => write!(f, "{e}"),
        }
    }
}

impl std::error::Error for WikiError {}

/// The consumer credentials from the configuration.
pub fn consumer(config: &Config) -> TokenPair {
    TokenPair {
        key: config.consumer_key.clone(),
        secret: config.consumer_secret.clone(),
    }
}

/// Starts a login: returns what to remember and where to send the browser.
pub async fn start_login(
    http: &reqwest::Client,
    config: &Config,
) -> Result<(PendingLogin, String), WikiError> {
    let request_token = oauth1::initiate(http, config, &consumer(config)).await?;
    let url = oauth1::authorize_url(config, &request_token);
    Ok((PendingLogin::OAuth1(request_token), url))
}

/// Finishes a login from the wiki's callback: returns the session credentials.
pub async fn finish_login(
    http: &reqwest::Client,
    config: &Config,
    pending: &PendingLogin,
    params: &CallbackParams,
) -> Result<Credentials, WikiError> {
    match pending {
        PendingLogin::OAuth1(request_token) => {
            let verifier = params.oauth_verifier.as_deref().unwrap_or_default();
            let access =
                oauth1::exchange(http, config, &consumer(config), request_token, verifier).await?;
            Ok(Credentials::OAuth1(access))
        }
    }
}

/// Asks the wiki who the credentials belong to (verified).
pub async fn identify(
    http: &reqwest::Client,
    config: &Config,
    credentials: &Credentials,
) -> Result<Identity, WikiError> {
    match credentials {
        Credentials::OAuth1(access) => {
            oauth1::identify(http, config, &consumer(config), access).await
        }
    }
}

/// The `Authorization` header value for a request made with `credentials`.
///
/// `params` are the query and form-body parameters (decoded) that the
/// protocol signs; `url` is the request URL without query.
pub fn authorize_request<'a>(
    consumer: &TokenPair,
    credentials: &Credentials,
    method: &str,
    url: &str,
    params: impl IntoIterator<Item = (&'a str, &'a str)>,
) -> Result<String, WikiError> {
    match credentials {
        Credentials::OAuth1(access) => {
            let nonce = oauth1::new_nonce();
            let signer = oauth1::Signer {
                consumer,
                token: Some(access),
                callback: None,
                verifier: None,
                nonce: &nonce,
                timestamp: None,
            };
            oauth1::authorization_header(signer, method, url, params)
        }
    }
}

/// Reads a response body, refusing more than `limit` bytes.
pub(crate) async fn read_limited(
    mut response: reqwest::Response,
    limit: usize,
) -> Result<String, WikiError> {
    let too_large = || WikiError::Unexpected(format!("answer larger than {limit} bytes"));
    let body: Vec<u8> = match response.content_length() {
        // Announced and small enough: one read, no copy.
        Some(n) if n <= limit as u64 => {
            let bytes = response.bytes().await.map_err(WikiError::from_reqwest)?;
            if bytes.len() > limit {
                return Err(too_large());
            }
            Vec::from(bytes)
        }
        Some(_) => return Err(too_large()),
        None => {
            let mut body = Vec::new();
            while let Some(chunk) = response.chunk().await.map_err(WikiError::from_reqwest)? {
                if body.len() + chunk.len() > limit {
                    return Err(too_large());
                }
                body.extend_from_slice(&chunk);
            }
            body
        }
    };
    String::from_utf8(body).map_err(|_| WikiError::Unexpected("answer is not UTF-8".into()))
}

/// The first characters of a body, for error messages.
pub(crate) fn excerpt(body: &str) -> String {
    let mut s: String = body.chars().take(120).collect();
    if s.len() < body.len() {
        s.push('…');
    }
    s
}

/// Turns a wiki message (HTML-escaped text with bits of markup) into plain text.
pub(crate) fn clean_wiki_message(message: &str) -> String {
    fn strip_tags(s: &str) -> String {
        let mut out = String::with_capacity(s.len());
        let mut in_tag = false;
        for c in s.chars() {
            match c {
                '<' => in_tag = true,
                '>' if in_tag => in_tag = false,
                _ if !in_tag => out.push(c),
                _ => {}
            }
        }
        out
    }
    let unescaped = strip_tags(message)
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&#039;", "'")
        .replace("&amp;", "&");
    let text = strip_tags(&unescaped);
    let text = text.split_whitespace().collect::<Vec<_>>().join(" ");
    let mut text: String = text.chars().take(500).collect();
    if text.is_empty() {
        text = "no message".into();
    }
    text
}
