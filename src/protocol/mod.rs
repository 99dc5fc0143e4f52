//! The seam between "how we sign in and sign requests" and everything else.
//!
//! Everything a protocol does goes through here, behind protocol-neutral
//! types: [`Protocol::start_login`] (where to send the browser, and a
//! [`PendingLogin`] to remember), [`read_callback`] (the callback's query, as
//! a [`Callback`] naming the pending login it finishes),
//! [`Protocol::finish_login`] (the user's [`Credentials`]),
//! [`Protocol::identify`] (who they are, verified), and [`authorization`]
//! (the `Authorization` header of one API request). Routes, guards, the
//! session and the API client name no detail of a protocol.
//!
//! OAuth 1.0a lives in `oauth1.rs`, OAuth 2.0 in `oauth2.rs`: each is one
//! variant in each of the enums below ([`Consumer`], `Grant`, `Pending`,
//! `CallbackData`) and an arm in each `match` of this file; no other room
//! names either, except the configuration for its keys.

mod oauth1;
mod oauth2;

use std::collections::HashMap;
use std::fmt;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};

use crate::config::{Config, OAuthVersion, OwnerOnly};
use crate::identity::IdentityError;
use crate::user::VerifiedMwUser;
use crate::wire::Failure;

/// A user's grant to the application, as the wiki issued it: what a
/// signed-in session holds, and what an app may store to act as the user
/// later (background jobs).
///
/// It is a **secret**: whoever holds it acts as the user on the wiki within
/// the application's grants. `Debug` prints `[redacted]`. It serializes with
/// serde (e.g. to JSON) for your own storage; keep it encrypted at rest.
/// Turn it back into an API client with
/// [`MwOAuthHandle::api`](crate::MwOAuthHandle::api).
///
/// ```
/// # use rocket::get;
/// use rocket_mediawiki_oauth::{Credentials, MwApi};
///
/// #[get("/remember-me")]
/// fn remember_me(api: MwApi) -> String {
///     let credentials: Credentials = api.credentials();
///     let stored = serde_json::to_string(&credentials).unwrap();
///     // … store `stored` with the job; later:
///     let again: Credentials = serde_json::from_str(&stored).unwrap();
///     assert_eq!(again, credentials);
///     format!("{again:?}") // Credentials(OAuth 1.0a, [redacted])
/// }
/// ```
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Credentials(Grant);

/// One variant per protocol.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "p")]
enum Grant {
    /// An OAuth 1.0a access token.
    #[serde(rename = "o1")]
    OAuth1(oauth1::TokenPair),
    /// OAuth 2.0 tokens.
    #[serde(rename = "o2")]
    OAuth2(oauth2::Tokens),
}

impl fmt::Debug for Credentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.0 {
            Grant::OAuth1(_) => f.write_str("Credentials(OAuth 1.0a, [redacted])"),
            Grant::OAuth2(t) => write!(
                f,
                "Credentials(OAuth 2.0, [redacted], expires_at: {:?})",
                t.expires_at
            ),
        }
    }
}

impl Credentials {
    /// An OAuth 1.0a access token and its secret (e.g. an owner-only consumer's).
    pub(crate) fn oauth1(token: &str, secret: &str) -> Credentials {
        Credentials(Grant::OAuth1(oauth1::TokenPair {
            key: token.into(),
            secret: secret.into(),
        }))
    }

    /// A long-lived OAuth 2.0 Bearer token (an owner-only client's).
    pub(crate) fn bearer(token: &str) -> Credentials {
        Credentials(Grant::OAuth2(oauth2::Tokens {
            access: token.into(),
            refresh: None,
            expires_at: None,
            lifetime: None,
            client_credentials: false,
        }))
    }

    /// Credentials to be had from the `client_credentials` grant (none yet:
    /// the first request asks for a token).
    pub(crate) fn client_credentials() -> Credentials {
        Credentials(Grant::OAuth2(oauth2::Tokens {
            access: String::new(),
            refresh: None,
            expires_at: Some(0),
            lifetime: None,
            client_credentials: true,
        }))
    }

    /// A key of the grant for caches keyed by user. For OAuth 1.0a the
    /// public token key; for OAuth 2.0 a hash of the refresh (or access)
    /// token, which is a secret and is not kept as such.
    pub(crate) fn cache_key(&self) -> String {
        match &self.0 {
            Grant::OAuth1(t) => t.key.clone(),
            Grant::OAuth2(t) => {
                use sha2::Digest;
                let basis = t.refresh.as_deref().unwrap_or(&t.access);
                let digest = sha2::Sha256::digest(basis.as_bytes());
                digest[..16].iter().map(|b| format!("{b:02x}")).collect()
            }
        }
    }

    /// The protocol of these credentials.
    pub(crate) fn version(&self) -> OAuthVersion {
        match &self.0 {
            Grant::OAuth1(_) => OAuthVersion::OAuth1,
            Grant::OAuth2(_) => OAuthVersion::OAuth2,
        }
    }

    /// Whether the access token expires within `margin` seconds and can be
    /// refreshed.
    pub(crate) fn refresh_due(&self, margin: i64) -> bool {
        match &self.0 {
            Grant::OAuth1(_) => false,
            Grant::OAuth2(t) => t.due(now(), margin),
        }
    }
}

fn now() -> i64 {
    time::OffsetDateTime::now_utc().unix_timestamp()
}

/// The application's own credentials on the wiki, from the configuration.
#[derive(Clone)]
pub(crate) enum Consumer {
    /// An OAuth 1.0a consumer key and secret.
    OAuth1(oauth1::TokenPair),
    /// An OAuth 2.0 client.
    OAuth2(oauth2::Client),
    /// No application credentials: Bearer tokens only (an OAuth 2.0
    /// owner-only client's long-lived token).
    Bearer,
}

impl fmt::Debug for Consumer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Consumer::OAuth1(t) => write!(f, "Consumer(OAuth 1.0a, {:?})", t),
            Consumer::OAuth2(c) => write!(f, "Consumer(OAuth 2.0, {:?})", c),
            Consumer::Bearer => f.write_str("Consumer(Bearer only)"),
        }
    }
}

impl Consumer {
    /// An OAuth 1.0a consumer.
    pub(crate) fn oauth1(key: &str, secret: &str) -> Consumer {
        Consumer::OAuth1(oauth1::TokenPair {
            key: key.into(),
            secret: secret.into(),
        })
    }

    /// The consumer of the configuration's user sign-in.
    pub(crate) fn from_config(config: &Config) -> Consumer {
        match config.oauth_version {
            OAuthVersion::OAuth1 => Consumer::oauth1(&config.consumer_key, &config.consumer_secret),
            OAuthVersion::OAuth2 => Consumer::OAuth2(oauth2::Client {
                id: config.consumer_key.clone(),
                // A public client sends its secret too when it has one:
                // MediaWiki 1.39 requires it to refresh.
                secret: (!config.consumer_secret.is_empty())
                    .then(|| config.consumer_secret.clone()),
            }),
        }
    }

    /// The owner-only consumer of the configuration and its credentials.
    pub(crate) fn owner(owner: &OwnerOnly) -> (Consumer, Credentials) {
        match owner {
            OwnerOnly::OAuth1 {
                consumer_key,
                consumer_secret,
                access_token,
                access_secret,
            } => (
                Consumer::oauth1(consumer_key, consumer_secret),
                Credentials::oauth1(access_token, access_secret),
            ),
            OwnerOnly::OAuth2 { access_token } => {
                (Consumer::Bearer, Credentials::bearer(access_token))
            }
            OwnerOnly::OAuth2ClientCredentials {
                client_id,
                client_secret,
            } => (
                Consumer::OAuth2(oauth2::Client {
                    id: client_id.clone(),
                    secret: Some(client_secret.clone()),
                }),
                Credentials::client_credentials(),
            ),
        }
    }
}

/// What a login in progress remembers between `/login` and the callback.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub(crate) struct PendingLogin(Pending);

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "p")]
enum Pending {
    /// An OAuth 1.0a request token.
    #[serde(rename = "o1")]
    OAuth1(oauth1::TokenPair),
    /// An OAuth 2.0 `state` and PKCE verifier.
    #[serde(rename = "o2")]
    OAuth2(oauth2::PendingCode),
}

impl PendingLogin {
    /// The value the wiki echoes back to the callback that names this login
    /// (OAuth 1.0a: the request token; OAuth 2.0: `state`), so parallel
    /// logins stay apart.
    pub(crate) fn key(&self) -> &str {
        match &self.0 {
            Pending::OAuth1(t) => &t.key,
            Pending::OAuth2(c) => &c.state,
        }
    }
}

/// The longest callback query accepted: 16 KiB.
///
/// An OAuth 2.0 `code` is an encrypted league/oauth2-server payload, hex
/// encoded, so it grows by two characters for every byte of the consumer's
/// scopes, ids and `redirect_uri`. Real ones: 736–1,146 characters on
/// MediaWiki 1.39 (12 grants: 1,146), 890–964 on 1.43; a consumer with every
/// grant and a long callback URL stays under 4 KiB. 16 KiB is four times that
/// and more than ten times the largest code seen (a callback query of 1,190
/// bytes); beyond it a front proxy would refuse the request line anyway
/// (nginx's default `large_client_header_buffers` is 8 KiB).
pub(crate) const MAX_CALLBACK_QUERY: usize = 16 * 1024;

/// A well-formed callback from the wiki.
#[derive(Debug)]
pub(crate) struct Callback {
    key: String,
    data: CallbackData,
}

#[derive(Debug)]
enum CallbackData {
    OAuth1 { verifier: String },
    OAuth2 { code: String },
}

impl Callback {
    /// The key of the pending login this callback finishes ([`PendingLogin::key`]).
    pub(crate) fn login_key(&self) -> &str {
        &self.key
    }
}

/// A callback that finishes no login: malformed, or the user (or the wiki)
/// said no. It names the pending login when that part was well-formed (it is
/// used up all the same).
#[derive(Debug)]
pub(crate) struct BadCallback {
    pub message: String,
    pub login_key: Option<String>,
    /// The wiki's words when the authorization was denied (e.g. Cancel).
    pub denied: Option<String>,
}

/// The decoded values of `names` in a query, each given at most once
/// ("… is given twice" otherwise); other parameters are ignored.
fn query_values<const N: usize>(
    query: &str,
    names: [&str; N],
) -> Result<[Option<String>; N], String> {
    let mut values: [Option<String>; N] = std::array::from_fn(|_| None);
    for (k, v) in url::form_urlencoded::parse(query.as_bytes()) {
        let Some(i) = names.iter().position(|n| *n == k) else {
            continue;
        };
        if values[i].is_some() {
            return Err(format!("{k} is given twice"));
        }
        values[i] = Some(v.into_owned());
    }
    Ok(values)
}

/// Reads the callback's query strictly: no duplicates of the protocol's
/// parameters, nothing oversized or malformed. OAuth 1.0a answers with
/// `oauth_token` + `oauth_verifier`, OAuth 2.0 with `code` + `state` or
/// `error` (a Cancel on MediaWiki 1.39 comes without `state`).
pub(crate) fn read_callback(query: Option<&str>) -> Result<Callback, BadCallback> {
    let bad = |message: String, login_key: Option<String>| BadCallback {
        message,
        login_key,
        denied: None,
    };
    let query = query.unwrap_or_default();
    if query.len() > MAX_CALLBACK_QUERY {
        return Err(bad("the query is too long".into(), None));
    }
    let is_oauth2 = url::form_urlencoded::parse(query.as_bytes())
        .any(|(k, _)| matches!(k.as_ref(), "code" | "state" | "error"));
    if is_oauth2 {
        let params = oauth2::read_callback(query).map_err(|m| bad(m, None))?;
        let key = params.state.filter(|s| oauth1::valid_token(s));
        if let Some(error) = params.error {
            let words = params
                .error_description
                .map(|d| clean_wiki_message(&d))
                .unwrap_or_else(|| clean_wiki_message(&error));
            return Err(BadCallback {
                message: format!("the wiki did not authorize the sign-in: {words}"),
                login_key: key,
                denied: Some(words),
            });
        }
        let key = key.ok_or_else(|| bad("state is missing or malformed".into(), None))?;
        return match params.code.filter(|c| oauth2::valid_code(c)) {
            Some(code) => Ok(Callback {
                key,
                data: CallbackData::OAuth2 { code },
            }),
            None => Err(bad("code is missing or malformed".into(), Some(key))),
        };
    }
    let params = oauth1::read_callback(query).map_err(|m| bad(m, None))?;
    let key = params
        .token
        .filter(|t| oauth1::valid_token(t))
        .ok_or_else(|| bad("oauth_token is missing or malformed".into(), None))?;
    match params.verifier.filter(|v| oauth1::valid_token(v)) {
        Some(verifier) => Ok(Callback {
            key,
            data: CallbackData::OAuth1 { verifier },
        }),
        None => Err(bad(
            "oauth_verifier is missing or malformed".into(),
            Some(key),
        )),
    }
}

/// A failure talking to the wiki during sign-in or an identity check (or a
/// refusal by it).
#[derive(Debug, Clone)]
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
    /// The wiki no longer accepts the user's grant: revoked, or (OAuth 2.0)
    /// a refresh the wiki refused.
    Revoked {
        /// The wiki's message.
        message: String,
    },
    /// The wiki's answer is larger than the crate reads.
    TooLarge {
        /// The limit, in bytes.
        limit: usize,
    },
    /// The wiki answered something that is not the protocol (HTML, garbage).
    Unexpected(String),
    /// The identity token did not verify.
    Identity(IdentityError),
    /// The request could not be built (a caller's mistake, e.g. a reserved parameter).
    BadRequest(String),
}

impl WikiError {
    /// Whether the wiki says the login was already completed (a replayed
    /// callback: its request token was used before, E009).
    pub(crate) fn is_used_up_login(&self) -> bool {
        matches!(self, WikiError::Refused { message, .. }
            if message.contains("E009") || message.contains("Authorization code has been revoked"))
    }

    /// Whether the wiki says the access token is no longer valid (revoked or unknown).
    pub fn is_revoked(&self) -> bool {
        matches!(self, WikiError::Revoked { .. })
            || matches!(self, WikiError::Refused { key: Some(k), .. }
            if k == "mwoauthdatastore-access-token-not-found"
                || k == "mwoauth-access-token-not-found"
                || k.starts_with("mwoauth-invalid-authorization"))
    }
}

impl From<Failure> for WikiError {
    fn from(f: Failure) -> Self {
        match f {
            Failure::Timeout => WikiError::Timeout,
            Failure::Unreachable(m) => WikiError::Unreachable(m),
            Failure::TooLarge { limit } => WikiError::TooLarge { limit },
            Failure::NotUtf8 => WikiError::Unexpected("the answer is not UTF-8".into()),
        }
    }
}

impl From<reqwest::Error> for WikiError {
    fn from(e: reqwest::Error) -> Self {
        Failure::from(e).into()
    }
}

impl fmt::Display for WikiError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            WikiError::Timeout => f.write_str("the wiki did not answer in time"),
            WikiError::Unreachable(e) => write!(f, "the wiki could not be reached: {e}"),
            WikiError::Status(s) => write!(f, "the wiki answered with HTTP status {s}"),
            WikiError::Refused { message, .. } => {
                write!(f, "the wiki refused: {message}")?;
                match clock_offset(message) {
                    Some(offset) => write!(f, " ({})", clock_advice(offset)),
                    None => Ok(()),
                }
            }
            WikiError::Revoked { message } => {
                write!(f, "the wiki no longer accepts this sign-in: {message}")
            }
            WikiError::TooLarge { limit } => {
                write!(f, "the wiki's answer is larger than {limit} bytes")
            }
            WikiError::Unexpected(e) => write!(f, "the wiki gave an unexpected answer: {e}"),
            WikiError::Identity(e) => write!(f, "the wiki's identity answer was rejected: {e}"),
            WikiError::BadRequest(e) => write!(f, "{e}"),
        }
    }
}

impl std::error::Error for WikiError {}

/// A request that cannot be authorized as given (a caller's mistake).
#[derive(Debug)]
pub(crate) struct RequestError(pub String);

/// Why an API request could not be authorized.
#[derive(Debug)]
pub(crate) enum AuthorizeError {
    /// The request cannot be made as given.
    Request(RequestError),
    /// The access token was due and its refresh failed.
    Refresh(WikiError),
}

/// Refreshes in flight or just done, by refresh token: one refresh per token
/// and instance, whose result every request holding the old token shares.
#[derive(Default)]
struct Flights(Mutex<HashMap<String, Flight>>);

type Flight = (
    Instant,
    Arc<tokio::sync::OnceCell<Result<oauth2::Tokens, WikiError>>>,
);

impl Flights {
    /// Results are shared this long: long enough for the requests that
    /// still carry the old cookie.
    const KEEP: Duration = Duration::from_secs(600);
    const MAX: usize = 10_000;

    fn flight(
        &self,
        refresh: &str,
    ) -> Arc<tokio::sync::OnceCell<Result<oauth2::Tokens, WikiError>>> {
        let mut map = self.0.lock().unwrap_or_else(|e| e.into_inner());
        if map.len() >= Self::MAX {
            map.retain(|_, (at, _)| at.elapsed() < Self::KEEP);
            if map.len() >= Self::MAX {
                map.clear();
            }
        }
        match map.get(refresh) {
            Some((at, cell)) if at.elapsed() < Self::KEEP => cell.clone(),
            _ => {
                let cell = Arc::new(tokio::sync::OnceCell::new());
                map.insert(refresh.to_string(), (Instant::now(), cell.clone()));
                cell
            }
        }
    }

    /// Forgets a failed flight that may succeed when tried again.
    fn forget(&self, refresh: &str) {
        self.0
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .remove(refresh);
    }
}

/// The protocol configured for this app: the HTTP client, the consumer and
/// the wiki's endpoints; signs users in, identifies them, authorizes API
/// requests and refreshes tokens.
pub(crate) struct Protocol {
    http: reqwest::Client,
    consumer: Consumer,
    index_url: String,
    rest_url: String,
    callback: String,
    issuer_origin: String,
    leeway: i64,
    flights: Flights,
}

/// Refresh an OAuth 2.0 access token when it has less than this left.
pub(crate) const REFRESH_MARGIN: i64 = 300;

impl Protocol {
    /// The protocol of the configuration's user sign-in.
    pub(crate) fn new(config: &Config, http: reqwest::Client) -> Protocol {
        Protocol::with_consumer(config, http, Consumer::from_config(config))
    }

    /// The protocol for `consumer` on the configuration's wiki.
    pub(crate) fn with_consumer(
        config: &Config,
        http: reqwest::Client,
        consumer: Consumer,
    ) -> Protocol {
        Protocol {
            http,
            consumer,
            index_url: config.index_url(),
            rest_url: config.rest_url(),
            callback: config.callback.clone(),
            issuer_origin: config.wiki_origin(),
            leeway: config.jwt_leeway.as_secs().try_into().unwrap_or(i64::MAX),
            flights: Flights::default(),
        }
    }

    /// A protocol that only authorizes API requests (no sign-in endpoints).
    pub(crate) fn for_api(http: reqwest::Client, consumer: Consumer) -> Protocol {
        Protocol {
            http,
            consumer,
            index_url: String::new(),
            rest_url: String::new(),
            callback: "oob".into(),
            issuer_origin: String::new(),
            leeway: 0,
            flights: Flights::default(),
        }
    }

    /// Starts a login: what to remember, and where to send the browser.
    pub(crate) async fn start_login(&self) -> Result<(PendingLogin, String), WikiError> {
        match &self.consumer {
            Consumer::OAuth1(consumer) => {
                let request_token = oauth1::initiate(self, consumer).await?;
                let url = oauth1::authorize_url(self, consumer, &request_token);
                Ok((PendingLogin(Pending::OAuth1(request_token)), url))
            }
            Consumer::OAuth2(client) => {
                let (pending, url) = oauth2::start_login(self, client);
                Ok((PendingLogin(Pending::OAuth2(pending)), url))
            }
            Consumer::Bearer => Err(WikiError::BadRequest(
                "user sign-in is not configured (only an owner-only consumer is)".into(),
            )),
        }
    }

    /// Finishes a login from the wiki's callback: the user's credentials.
    pub(crate) async fn finish_login(
        &self,
        pending: &PendingLogin,
        callback: &Callback,
    ) -> Result<Credentials, WikiError> {
        match (&self.consumer, &pending.0, &callback.data) {
            (
                Consumer::OAuth1(consumer),
                Pending::OAuth1(request_token),
                CallbackData::OAuth1 { verifier },
            ) => {
                let access = oauth1::exchange(self, consumer, request_token, verifier).await?;
                Ok(Credentials(Grant::OAuth1(access)))
            }
            (Consumer::OAuth2(client), Pending::OAuth2(pending), CallbackData::OAuth2 { code }) => {
                let tokens = oauth2::exchange(self, client, pending, code).await?;
                Ok(Credentials(Grant::OAuth2(tokens)))
            }
            _ => Err(WikiError::Unexpected(
                "the callback is of another protocol than the login in progress".into(),
            )),
        }
    }

    /// Asks the wiki who the credentials belong to (verified).
    pub(crate) async fn identify(
        &self,
        credentials: &Credentials,
    ) -> Result<VerifiedMwUser, WikiError> {
        match (&self.consumer, &credentials.0) {
            (Consumer::OAuth1(consumer), Grant::OAuth1(access)) => {
                oauth1::identify(self, consumer, access).await
            }
            (Consumer::OAuth2(_) | Consumer::Bearer, Grant::OAuth2(tokens)) => {
                oauth2::profile(self, &tokens.access).await
            }
            _ => Err(mismatch()),
        }
    }

    /// The credentials with a fresh access token, if theirs is due within
    /// `margin` seconds (OAuth 2.0; one refresh per token in this instance,
    /// shared by every request that holds it). `None` when nothing was due.
    pub(crate) async fn refresh_if_due(
        &self,
        credentials: &Credentials,
        margin: i64,
    ) -> Result<Option<Credentials>, WikiError> {
        if !credentials.refresh_due(margin) {
            return Ok(None);
        }
        self.refresh(credentials).await.map(Some)
    }

    /// Refreshes OAuth 2.0 credentials now (single flight per refresh token).
    pub(crate) async fn refresh(
        &self,
        credentials: &Credentials,
    ) -> Result<Credentials, WikiError> {
        let (Consumer::OAuth2(client), Grant::OAuth2(tokens)) = (&self.consumer, &credentials.0)
        else {
            return Err(WikiError::Revoked {
                message: "these credentials cannot be refreshed".into(),
            });
        };
        let key = match tokens.refresh.as_deref() {
            Some(refresh) => refresh.to_string(),
            // Keyed by the token it replaces, as a refresh is: the requests
            // holding that token share one renewal.
            None if tokens.client_credentials => {
                format!("client_credentials {} {}", client.id, tokens.access)
            }
            None => {
                return Err(WikiError::Revoked {
                    message: "the access token expired and came without a refresh token".into(),
                })
            }
        };
        let flight = self.flights.flight(&key);
        let result = flight
            .get_or_init(|| async {
                match tokens.refresh.as_deref() {
                    Some(refresh) => oauth2::refresh(self, client, refresh).await,
                    None => oauth2::client_credentials(self, client).await,
                }
            })
            .await
            .clone();
        if matches!(
            result,
            Err(WikiError::Timeout | WikiError::Unreachable(_) | WikiError::Status(_))
        ) {
            // Transient failures are tried again.
            self.flights.forget(&key);
        }
        result.map(|t| Credentials(Grant::OAuth2(t)))
    }

    /// The `Authorization` header value for one API request made with the
    /// credentials in `credentials`, refreshing them first when due.
    ///
    /// `params` are the query and form-body parameters (decoded) that OAuth
    /// 1.0a signs; `url` is the request URL without query.
    pub(crate) async fn authorize<'a>(
        &self,
        credentials: &Mutex<Credentials>,
        method: &str,
        url: &str,
        params: impl IntoIterator<Item = (&'a str, &'a str)>,
    ) -> Result<String, AuthorizeError> {
        let current = credentials
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone();
        let current = match self
            .refresh_if_due(&current, REFRESH_MARGIN)
            .await
            .map_err(AuthorizeError::Refresh)?
        {
            Some(fresh) => {
                *credentials.lock().unwrap_or_else(|e| e.into_inner()) = fresh.clone();
                fresh
            }
            None => current,
        };
        match (&self.consumer, &current.0) {
            (Consumer::OAuth1(consumer), Grant::OAuth1(access)) => {
                oauth1::sign_request(consumer, access, method, url, params)
                    .map_err(AuthorizeError::Request)
            }
            (Consumer::OAuth2(_) | Consumer::Bearer, Grant::OAuth2(tokens)) => {
                Ok(format!("Bearer {}", tokens.access))
            }
            _ => Err(AuthorizeError::Request(RequestError(
                mismatch().to_string(),
            ))),
        }
    }

    /// Whether `credentials` can be refreshed (OAuth 2.0 with a refresh token).
    pub(crate) fn can_refresh(&self, credentials: &Credentials) -> bool {
        matches!((&self.consumer, &credentials.0), (Consumer::OAuth2(_), Grant::OAuth2(t)) if t.refresh.is_some() || t.client_credentials)
    }
}

/// Whether an api.php refusal (`mwoauth-invalid-authorization`'s info) says
/// the OAuth 2.0 access token is no longer taken, so that a refresh may help.
pub(crate) fn refusal_of_a_stale_token(info: &str) -> bool {
    info.contains("Invalid access token")
}

fn mismatch() -> WikiError {
    WikiError::BadRequest(
        "these credentials are of another protocol than the one this app is configured for".into(),
    )
}

/// This server's clock minus the wiki's, from a refusal's
/// "Expired timestamp, yours X, ours Y".
pub(crate) fn clock_offset(message: &str) -> Option<i64> {
    let rest = &message[message.find("Expired timestamp, yours ")? + 25..];
    let (yours, rest) = rest.split_once(", ours ")?;
    let ours: String = rest.chars().take_while(char::is_ascii_digit).collect();
    Some(
        yours
            .trim()
            .parse::<i64>()
            .ok()?
            .saturating_sub(ours.parse().ok()?),
    )
}

/// What an operator reads about a clock that is `offset` seconds off.
pub(crate) fn clock_advice(offset: i64) -> String {
    let (by, way) = if offset >= 0 {
        (offset, "ahead of")
    } else {
        (offset.saturating_neg(), "behind")
    };
    format!(
        "this server's clock is {by} s {way} the wiki's, which accepts 300 s: synchronize \
         this server's clock (NTP)"
    )
}

/// Turns a wiki message (HTML-escaped text with bits of markup) into plain text.
/// `oauth2::parse_token_answer`, for the fuzz targets: the access token,
/// the refresh token and the lifetime.
#[cfg(fuzzing)]
pub(crate) fn oauth2_token_answer(
    status: u16,
    body: &str,
) -> Result<(String, Option<String>, Option<i64>), WikiError> {
    oauth2::parse_token_answer(status, body).map(|t| (t.access, t.refresh, t.lifetime))
}

/// `oauth2::read_profile`, for the fuzz targets.
#[cfg(fuzzing)]
pub(crate) fn oauth2_profile(body: &str) -> Result<VerifiedMwUser, WikiError> {
    oauth2::read_profile(body)
}

fn clean_wiki_message(message: &str) -> String {
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn callback_query_is_strict() {
        let c = read_callback(Some("oauth_verifier=abc&oauth_token=def&x=1")).unwrap();
        assert_eq!(c.login_key(), "def");
        let e = read_callback(Some("oauth_token=a&oauth_token=b")).unwrap_err();
        assert!(e.message.contains("twice"), "{}", e.message);
        assert!(read_callback(Some(&"x".repeat(MAX_CALLBACK_QUERY + 1))).is_err());
        let e = read_callback(Some("oauth_token=a%0Ab&oauth_verifier=v")).unwrap_err();
        assert_eq!(e.login_key, None);
        let e = read_callback(Some("oauth_token=abc&oauth_verifier=a%0Ab")).unwrap_err();
        assert_eq!(e.login_key.as_deref(), Some("abc"));
        assert!(read_callback(None).is_err());
    }

    #[test]
    fn clock_offsets_from_refusals() {
        let m = "The authorization headers in your request are not valid: Expired timestamp, yours 1795827381, ours 1795830981";
        assert_eq!(clock_offset(m), Some(-3600));
        assert!(clock_advice(-3600).contains("3600 s behind"));
        assert_eq!(clock_offset("Expired timestamp, yours 9, ours 2."), Some(7));
        assert_eq!(clock_offset("Expired timestamp, yours x, ours 2"), None);
        assert_eq!(clock_offset("Invalid signature"), None);
    }

    #[test]
    fn credentials_are_redacted_and_round_trip() {
        let c = Credentials::oauth1("key", "very-secret");
        let debug = format!("{c:?}");
        assert!(debug.contains("[redacted]") && !debug.contains("very-secret"));
        let json = serde_json::to_string(&c).unwrap();
        assert_eq!(json, r#"{"p":"o1","k":"key","s":"very-secret"}"#);
        assert_eq!(serde_json::from_str::<Credentials>(&json).unwrap(), c);
        assert!(serde_json::from_str::<Credentials>(r#"{"p":"zz","k":"a"}"#).is_err());
    }
}
