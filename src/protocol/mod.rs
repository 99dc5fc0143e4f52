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

mod callback;
mod error;
mod flights;
pub(crate) mod identity;
mod oauth1;
mod oauth2;
mod wiki;

use std::fmt;

use serde::{Deserialize, Serialize};

pub(crate) use callback::{read_callback, wiki_denial_text, Callback};
pub use error::WikiError;
pub(crate) use error::{clock_advice, clock_offset, RequestError};
pub use identity::IdentityError;

use crate::compact::{Reader, Writer};
use crate::config::{self, Config, OAuthVersion, OwnerOnly};
use crate::user::VerifiedMwUser;
use callback::CallbackData;
use flights::Flights;
use wiki::Wiki;

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
    /// Appends the credentials in the session cookie's compact layout
    /// ([`crate::compact`]): the protocol, then its tokens.
    pub(crate) fn write_compact(&self, w: &mut Writer) {
        match &self.0 {
            Grant::OAuth1(pair) => {
                w.byte(1);
                pair.write_compact(w);
            }
            Grant::OAuth2(tokens) => {
                w.byte(2);
                tokens.write_compact(w);
            }
        }
    }

    /// Credentials written by [`Credentials::write_compact`].
    pub(crate) fn read_compact(r: &mut Reader<'_>) -> Option<Credentials> {
        Some(Credentials(match r.byte()? {
            1 => Grant::OAuth1(oauth1::TokenPair::read_compact(r)?),
            2 => Grant::OAuth2(oauth2::Tokens::read_compact(r)?),
            _ => return None,
        }))
    }

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

    /// The secrets these credentials send or sign with, to mask in what the
    /// wiki answers ([`WikiError::redacted`]).
    pub(crate) fn secrets(&self) -> Vec<&str> {
        match &self.0 {
            Grant::OAuth1(t) => vec![t.secret.as_str()],
            Grant::OAuth2(t) => [Some(t.access.as_str()), t.refresh.as_deref()]
                .into_iter()
                .flatten()
                .collect(),
        }
    }

    /// A key of the grant for this process's caches keyed by user (requests
    /// in flight, CSRF tokens). For OAuth 1.0a the public token key; for
    /// OAuth 2.0 a hash of the refresh (or access) token, which is a secret
    /// and is not kept as such: 128 bits of SipHash under keys drawn at
    /// random once per process (not SHA-256, which cost ≈ 58,000
    /// instructions per API call on a 1 KB refresh token; the key never
    /// leaves the process, so it need not be the same in another).
    pub(crate) fn cache_key(&self) -> String {
        match &self.0 {
            Grant::OAuth1(t) => t.key.clone(),
            Grant::OAuth2(t) => {
                use std::hash::BuildHasher;
                static KEYS: std::sync::OnceLock<[std::hash::RandomState; 2]> =
                    std::sync::OnceLock::new();
                let keys = KEYS.get_or_init(Default::default);
                let basis = t.refresh.as_deref().unwrap_or(&t.access);
                let mut out = String::with_capacity(32);
                for k in keys {
                    let h = k.hash_one(basis.as_bytes());
                    for shift in (0..16).rev() {
                        let digit = (h >> (shift * 4)) & 15;
                        out.push(char::from(b"0123456789abcdef"[digit as usize]));
                    }
                }
                out
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

    /// Whether these credentials must be renewed before they are used: the
    /// one decision for every path (the guards, each API request, its retry
    /// after a refusal, owner-only tokens). Renewable credentials are OAuth
    /// 2.0 tokens with a refresh token or from the `client_credentials`
    /// grant; they are renewed within [`RENEW_MARGIN`] of their expiry (at
    /// most a quarter of their lifetime), or at once after the wiki refused
    /// them. `now` is in Unix seconds.
    pub(crate) fn must_renew(&self, now: i64, when: Renew) -> bool {
        match &self.0 {
            Grant::OAuth1(_) => false,
            Grant::OAuth2(t) => match when {
                Renew::IfDue => t.due(now, RENEW_MARGIN),
                Renew::AfterRefusal => t.renewable(),
            },
        }
    }
}

/// When credentials are renewed ([`Credentials::must_renew`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Renew {
    /// When the access token is near its expiry.
    IfDue,
    /// Now: the wiki refused the access token (it expired early, or was
    /// refreshed elsewhere), if it can be renewed at all.
    AfterRefusal,
}

/// Renew an OAuth 2.0 access token when it has less than this left.
pub(crate) const RENEW_MARGIN: i64 = 300;

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
    /// The application's secret, to mask in what the wiki answers.
    fn secrets(&self) -> Vec<&str> {
        match self {
            Consumer::OAuth1(t) => vec![t.secret.as_str()],
            Consumer::OAuth2(c) => c.secret.as_deref().into_iter().collect(),
            Consumer::Bearer => Vec::new(),
        }
    }

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
    /// Whether this is an OAuth 2.0 login ([`Callback::finishes`]).
    fn is_oauth2(&self) -> bool {
        matches!(self.0, Pending::OAuth2(_))
    }

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

/// The protocol configured for this app: the HTTP client, the consumer and
/// the wiki's endpoints; signs users in, identifies them, authorizes API
/// requests and refreshes tokens.
pub(crate) struct Protocol {
    wiki: Wiki,
    consumer: Consumer,
    flights: Flights,
    /// OAuth 1.0a: the HMAC-SHA1 key state of each recent access token.
    signing_keys: oauth1::SigningKeys,
}

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
            wiki: Wiki {
                http,
                index_url: config.index_url(),
                rest_url: config.rest_url(),
                callback: config.callback.clone(),
                issuer_origin: config.wiki_origin(),
                leeway: config.jwt_leeway.as_secs().try_into().unwrap_or(i64::MAX),
            },
            consumer,
            flights: Flights::default(),
            signing_keys: oauth1::SigningKeys::default(),
        }
    }

    /// A protocol that only authorizes API requests (no sign-in endpoints).
    pub(crate) fn for_api(http: reqwest::Client, consumer: Consumer) -> Protocol {
        Protocol {
            wiki: Wiki {
                http,
                index_url: String::new(),
                rest_url: String::new(),
                callback: config::Callback::Oob,
                issuer_origin: String::new(),
                leeway: 0,
            },
            consumer,
            flights: Flights::default(),
            signing_keys: oauth1::SigningKeys::default(),
        }
    }

    /// Starts a login: what to remember, and where to send the browser.
    pub(crate) async fn start_login(
        &self,
        lang: Option<&str>,
    ) -> Result<(PendingLogin, String), WikiError> {
        self.start_login_unredacted(lang)
            .await
            .map_err(|e| e.redacted(&self.consumer.secrets()))
    }

    async fn start_login_unredacted(
        &self,
        lang: Option<&str>,
    ) -> Result<(PendingLogin, String), WikiError> {
        match &self.consumer {
            Consumer::OAuth1(consumer) => {
                let request_token = oauth1::initiate(&self.wiki, consumer).await?;
                let url = oauth1::authorize_url(&self.wiki, consumer, &request_token, lang);
                Ok((PendingLogin(Pending::OAuth1(request_token)), url))
            }
            Consumer::OAuth2(client) => {
                let (pending, url) = oauth2::start_login(&self.wiki, client, lang);
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
        let mut secrets = self.consumer.secrets();
        match &pending.0 {
            Pending::OAuth1(t) => secrets.push(&t.secret),
            Pending::OAuth2(c) => secrets.push(&c.verifier),
        }
        match &callback.data {
            CallbackData::OAuth1 { verifier } => secrets.push(verifier),
            CallbackData::OAuth2 { code } => secrets.push(code),
        }
        self.finish_login_unredacted(pending, callback)
            .await
            .map_err(|e| e.redacted(&secrets))
    }

    async fn finish_login_unredacted(
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
                let access =
                    oauth1::exchange(&self.wiki, consumer, request_token, verifier).await?;
                Ok(Credentials(Grant::OAuth1(access)))
            }
            (Consumer::OAuth2(client), Pending::OAuth2(pending), CallbackData::OAuth2 { code }) => {
                let tokens = oauth2::exchange(&self.wiki, client, pending, code).await?;
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
        let mut secrets = self.consumer.secrets();
        secrets.extend(credentials.secrets());
        self.identify_unredacted(credentials)
            .await
            .map_err(|e| e.redacted(&secrets))
    }

    async fn identify_unredacted(
        &self,
        credentials: &Credentials,
    ) -> Result<VerifiedMwUser, WikiError> {
        match (&self.consumer, &credentials.0) {
            (Consumer::OAuth1(consumer), Grant::OAuth1(access)) => {
                oauth1::identify(&self.wiki, consumer, access).await
            }
            (Consumer::OAuth2(_) | Consumer::Bearer, Grant::OAuth2(tokens)) => {
                oauth2::profile(&self.wiki, &tokens.access).await
            }
            _ => Err(mismatch()),
        }
    }

    /// The credentials to use now: renewed first when
    /// [`Credentials::must_renew`] says so, with one renewal per token in this
    /// instance, shared by every request that holds it. `None` when they are
    /// fresh enough. The caller keeps the new credentials (the session cookie,
    /// the API client).
    pub(crate) async fn fresh(
        &self,
        credentials: &Credentials,
        when: Renew,
    ) -> Result<Option<Credentials>, WikiError> {
        if !credentials.must_renew(now(), when) {
            return Ok(None);
        }
        self.renew(credentials).await.map(Some)
    }

    /// The secrets a request with `credentials` sends or signs with (the
    /// application's and the user's), to mask in what the wiki answers.
    pub(crate) fn secrets<'a>(&'a self, credentials: &'a Credentials) -> Vec<&'a str> {
        let mut secrets = self.consumer.secrets();
        secrets.extend(credentials.secrets());
        secrets
    }

    /// Renews OAuth 2.0 credentials now (single flight per token).
    async fn renew(&self, credentials: &Credentials) -> Result<Credentials, WikiError> {
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
                let mut secrets = self.consumer.secrets();
                secrets.extend(credentials.secrets());
                match tokens.refresh.as_deref() {
                    Some(refresh) => oauth2::refresh(&self.wiki, client, refresh).await,
                    None => oauth2::client_credentials(&self.wiki, client).await,
                }
                .map_err(|e| e.redacted(&secrets))
            })
            .await
            .clone();
        if result.is_err() {
            // A failure is shared only by the requests that waited for it:
            // the next request asks again (a wiki that answered HTML or too
            // much may have recovered; a refused grant is refused again).
            self.flights.forget(&key, &flight);
        }
        result.map(|t| Credentials(Grant::OAuth2(t)))
    }

    /// The `Authorization` header value for one API request made with
    /// `credentials` (renewed beforehand by [`Protocol::fresh`] when due).
    ///
    /// `params` are the query and form-body parameters (decoded) that OAuth
    /// 1.0a signs; `url` is the request URL without query, as signed.
    pub(crate) fn authorize<'a>(
        &self,
        credentials: &Credentials,
        method: &str,
        url: &BaseUri,
        params: impl IntoIterator<Item = (&'a str, &'a str)>,
    ) -> Result<String, RequestError> {
        match (&self.consumer, &credentials.0) {
            (Consumer::OAuth1(consumer), Grant::OAuth1(access)) => {
                let url = url.0.as_deref().map_err(|e| RequestError(e.clone()))?;
                let key = self.signing_keys.key(consumer, access);
                oauth1::sign_request(consumer, access, key, method, url, params)
            }
            (Consumer::OAuth2(_) | Consumer::Bearer, Grant::OAuth2(tokens)) => {
                Ok(format!("Bearer {}", tokens.access))
            }
            _ => Err(RequestError(mismatch().to_string())),
        }
    }
}

/// A request URL (without query) as OAuth 1.0a signs over it: the base
/// string URI of RFC 5849 §3.4.1.2 (lower-case scheme and host, no default
/// port), worked out once per API URL rather than per request; or why the
/// URL cannot be signed.
#[derive(Debug)]
pub(crate) struct BaseUri(Result<String, String>);

impl BaseUri {
    pub(crate) fn new(url: &str) -> BaseUri {
        BaseUri(oauth1::normalize_url(url).map_err(|e| e.0))
    }
}

fn mismatch() -> WikiError {
    WikiError::BadRequest(
        "these credentials are of another protocol than the one this app is configured for".into(),
    )
}

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

/// Whether an api.php refusal (`mwoauth-invalid-authorization`'s info) says
/// the OAuth 2.0 access token is no longer taken, so that a refresh may help.
pub(crate) fn refusal_of_a_stale_token(info: &str) -> bool {
    info.contains("Invalid access token")
}

#[cfg(test)]
mod tests {
    use super::*;

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
