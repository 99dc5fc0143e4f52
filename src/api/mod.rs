//! The MediaWiki Action API client behind [`MwApi`](crate::MwApi), also usable
//! on its own (background jobs, owner-only consumers).
//!
//! Every request is signed for the user, carries the configured User-Agent,
//! `format=json`, `formatversion=2` and `assert=user` (so a lost session is an
//! [`ApiError::Authorization`], never a silent anonymous answer); writes carry
//! `maxlag=5` and are retried after `Retry-After` a bounded number of times.
//!
//! Wikimedia's manners (global API rate limits since March 2026): at most
//! [`ApiOptions::max_concurrent_per_user`] requests of one user's credentials
//! are in flight at once, in this app; further ones wait their turn (for at
//! most [`ApiOptions::max_queue_wait`]), and the total time spent waiting on
//! `Retry-After` and maxlag is bounded by [`ApiOptions::max_wait`].

mod endpoint;
mod error;

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use std::time::{Duration, Instant};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

use futures_util::stream::{self, Stream};
use reqwest::header::{HeaderMap, AUTHORIZATION, CONTENT_TYPE, RETRY_AFTER};
use serde::de::DeserializeOwned;
use serde_json::Value;

pub(crate) use self::endpoint::ApiUrl;
pub use self::error::ApiError;
use crate::config::OwnerOnly;
use crate::protocol::{self, Consumer, Credentials, Protocol, Renew};
use crate::wire;

/// Answers larger than this are parsed on a blocking thread, not on the
/// async workers that serve other users' pages.
const PARSE_INLINE: usize = 256 * 1024;

/// Credentials shared by the clients of one grant (the clones of a client,
/// every request of an owner-only consumer): a renewal serves them all.
pub(crate) type SharedCredentials = Arc<Mutex<Arc<Credentials>>>;

/// Modules that change the wiki: always POSTed.
const WRITE_ACTIONS: &[&str] = &[
    "edit",
    "upload",
    "delete",
    "undelete",
    "move",
    "protect",
    "rollback",
    "block",
    "unblock",
    "emailuser",
    "filerevert",
    "import",
    "managetags",
    "mergehistory",
    "options",
    "patrol",
    "purge",
    "revisiondelete",
    "setnotificationtimestamp",
    "tag",
    "userrights",
    "watch",
    "wbeditentity",
    "wbcreateclaim",
    "wbsetclaim",
    "wbremoveclaims",
    "wbsetlabel",
    "wbsetdescription",
    "wbsetaliases",
    "wbsetsitelink",
    "wbsetqualifier",
    "wbsetreference",
    "thank",
    "createaccount",
    "changecontentmodel",
    "linkaccount",
    "logout",
];

/// How the client behaves; the defaults suit Wikimedia wikis.
///
/// ```
/// use std::time::Duration;
/// use rocket_mediawiki_oauth::ApiOptions;
/// // A background job that would rather give up early than wait long:
/// let options = ApiOptions {
///     max_attempts: 2,
///     max_delay: Duration::from_secs(10),
///     ..ApiOptions::default()
/// };
/// assert!(options.formatversion2 && options.assert_user);
/// assert_eq!(options.maxlag, Some(5));
/// ```
#[derive(Debug, Clone)]
pub struct ApiOptions {
    /// Send `formatversion=2` (default `true`).
    pub formatversion2: bool,
    /// Send `assert=user` (default `true`).
    pub assert_user: bool,
    /// `maxlag` sent with writes (default `Some(5)`), `None` to not send it.
    pub maxlag: Option<u32>,
    /// Attempts per request when the wiki says maxlag, read-only or 429 (default 4).
    pub max_attempts: u32,
    /// Total time a request may take with its retries (default 60 s): no
    /// attempt is made that would end after it, counting the wait before it
    /// and as long for the attempt as the last one took.
    pub max_wait: Duration,
    /// Longest single wait, whatever `Retry-After` says (default 30 s).
    pub max_delay: Duration,
    /// Largest answer read, in bytes (default 8 MiB); a larger one is
    /// [`ApiError::TooLarge`], read no further. A wiki's answers are far
    /// smaller unless you ask for many page texts at once.
    pub max_answer_bytes: usize,
    /// Requests of one user's credentials in flight at once, across the
    /// app's clients (default 3, Wikimedia's published limit per user);
    /// further requests wait for one to finish. `0`: no limit. The first
    /// client made for a user sets the limit for that user.
    pub max_concurrent_per_user: usize,
    /// Longest a request waits for its turn under
    /// [`max_concurrent_per_user`](Self::max_concurrent_per_user) before it
    /// gives up with [`ApiError::TooManyInFlight`] (default 60 s).
    pub max_queue_wait: Duration,
}

impl Default for ApiOptions {
    fn default() -> Self {
        ApiOptions {
            formatversion2: true,
            assert_user: true,
            maxlag: Some(5),
            max_attempts: 4,
            max_wait: Duration::from_secs(60),
            max_delay: Duration::from_secs(30),
            max_answer_bytes: 8 * 1024 * 1024,
            max_concurrent_per_user: 3,
            max_queue_wait: Duration::from_secs(60),
        }
    }
}

/// Requests in flight per user credentials (their cache key), shared by the
/// clients of one app (the fairing's state keeps one) and by a client's
/// clones.
#[derive(Debug, Default, Clone)]
pub(crate) struct InFlight(Arc<Mutex<HashMap<String, Arc<Semaphore>>>>);

impl InFlight {
    /// Users tracked before idle entries are dropped.
    const MAX_ENTRIES: usize = 10_000;

    /// Waits (at most `max_wait`) until fewer than `limit` requests of `user`
    /// are in flight; the permit marks this one in flight until dropped.
    async fn enter(
        &self,
        user: String,
        limit: usize,
        max_wait: Duration,
    ) -> Result<Option<OwnedSemaphorePermit>, ApiError> {
        if limit == 0 {
            return Ok(None);
        }
        let semaphore = {
            let mut map = self.0.lock().unwrap_or_else(|e| e.into_inner());
            if map.len() >= Self::MAX_ENTRIES {
                // Forget users with nothing in flight (no one holds their semaphore).
                map.retain(|_, s| Arc::strong_count(s) > 1);
            }
            map.entry(user)
                .or_insert_with(|| Arc::new(Semaphore::new(limit)))
                .clone()
        };
        match tokio::time::timeout(max_wait, semaphore.acquire_owned()).await {
            Ok(Ok(permit)) => Ok(Some(permit)),
            Ok(Err(_)) | Err(_) => Err(ApiError::TooManyInFlight {
                limit,
                waited: max_wait,
            }),
        }
    }
}

/// One request's content, for `ApiClient::send_with_retries`.
enum Payload<'a> {
    /// Parameters as a query string (GET) or a form-urlencoded body (POST).
    Form {
        post: bool,
        params: &'a [(&'a str, &'a str)],
        /// `params`, encoded once for the URL or body.
        encoded: &'a str,
    },
    /// An upload: text fields and one file, `multipart/form-data`.
    Multipart {
        fields: &'a [(String, String)],
        filename: &'a str,
        content: &'a [u8],
    },
}

/// (the grant's public key, api.php URL, token type).
type TokenKey = (String, String, String);

/// Tokens (CSRF and others) by user, wiki and type; a cache, not state:
/// losing it costs one `meta=tokens` request.
#[derive(Debug, Default, Clone)]
pub(crate) struct TokenCache(Arc<Mutex<HashMap<TokenKey, String>>>);

impl TokenCache {
    const MAX_ENTRIES: usize = 10_000;

    fn get(&self, key: &TokenKey) -> Option<String> {
        self.0.lock().ok()?.get(key).cloned()
    }

    fn put(&self, key: TokenKey, token: String) {
        if let Ok(mut map) = self.0.lock() {
            if map.len() >= Self::MAX_ENTRIES {
                map.clear();
            }
            map.insert(key, token);
        }
    }

    fn forget(&self, key: &TokenKey) {
        if let Ok(mut map) = self.0.lock() {
            map.remove(key);
        }
    }
}

/// Signed api.php requests as one user (or owner-only consumer) on one wiki.
///
/// In a handler, the [`MwApi`](crate::guards::MwApi) guard is one, for the
/// signed-in user; outside a request, [`MwOAuthHandle::api`](crate::state::MwOAuthHandle::api)
/// makes one from stored [`Credentials`] and [`ApiClient::owner`] one for an
/// owner-only consumer.
///
/// ```no_run
/// # async fn demo(api: rocket_mediawiki_oauth::ApiClient) -> Result<(), rocket_mediawiki_oauth::ApiError> {
/// let me = api.get(&[("action", "query"), ("meta", "userinfo")]).await?;
/// println!("{}", me["query"]["userinfo"]["name"]);
/// let edit = api
///     .post_with_token("csrf", &[("action", "edit"), ("title", "Sandbox"), ("appendtext", "\nHello")])
///     .await?;
/// # Ok(()) }
/// ```
#[derive(Clone)]
pub struct ApiClient {
    http: reqwest::Client,
    protocol: Arc<Protocol>,
    /// Shared by the clones (`at()`): a refresh serves them all.
    credentials: SharedCredentials,
    /// Parsed once (by the fairing for its clients, by [`ApiClient::at`]).
    api_url: Arc<ApiUrl>,
    options: ApiOptions,
    tokens: TokenCache,
    in_flight: InFlight,
}

impl std::fmt::Debug for ApiClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ApiClient")
            .field("api_url", &self.api_url.as_str())
            .field("credentials", &self.credentials())
            .field("options", &self.options)
            .finish()
    }
}

impl ApiClient {
    /// Longest GET URL sent; longer requests go as a signed form POST
    /// (MediaWiki and proxies refuse very long URLs).
    const MAX_GET_URL: usize = 2000;

    /// A client from its parts. `http` carries the User-Agent and timeouts.
    pub(crate) fn new(
        http: reqwest::Client,
        api_url: Arc<ApiUrl>,
        protocol: Arc<Protocol>,
        credentials: Credentials,
    ) -> ApiClient {
        ApiClient::sharing(
            http,
            api_url,
            protocol,
            Arc::new(Mutex::new(Arc::new(credentials))),
        )
    }

    /// A client whose credentials are shared with others (an owner-only
    /// client's tokens, renewed once for every request).
    pub(crate) fn sharing(
        http: reqwest::Client,
        api_url: Arc<ApiUrl>,
        protocol: Arc<Protocol>,
        credentials: SharedCredentials,
    ) -> ApiClient {
        ApiClient {
            http,
            protocol,
            credentials,
            api_url,
            options: ApiOptions::default(),
            tokens: TokenCache::default(),
            in_flight: InFlight::default(),
        }
    }

    /// A client for an owner-only consumer outside the fairing (a bot, a
    /// job): it acts as the consumer's owner, with no login. `user_agent` is
    /// e.g. `MyBot/1.0 (https://mybot.toolforge.org; me@example.org)`; the
    /// crate's name and version are appended.
    ///
    /// ```no_run
    /// # async fn demo() -> Result<(), rocket_mediawiki_oauth::ApiError> {
    /// use rocket_mediawiki_oauth::{ApiClient, OwnerOnly};
    ///
    /// // OAuth 2.0: the client's key and secret (tokens from the
    /// // client_credentials grant, renewed before they expire) …
    /// let api = ApiClient::owner(
    ///     "https://meta.wikimedia.org/w/api.php",
    ///     "MyBot/1.0 (https://mybot.toolforge.org; me@example.org)",
    ///     OwnerOnly::OAuth2ClientCredentials {
    ///         client_id: "client key".into(),
    ///         client_secret: std::env::var("BOT_CLIENT_SECRET").unwrap_or_default(),
    ///     },
    /// )?;
    /// let me = api.get(&[("action", "query"), ("meta", "userinfo")]).await?;
    /// println!("{}", me["query"]["userinfo"]["name"]);
    ///
    /// // … or OAuth 1.0a: the four tokens the registration page shows.
    /// let api = ApiClient::owner(
    ///     "https://meta.wikimedia.org/w/api.php",
    ///     "MyBot/1.0 (https://mybot.toolforge.org; me@example.org)",
    ///     OwnerOnly::OAuth1 {
    ///         consumer_key: "consumer token".into(),
    ///         consumer_secret: "consumer secret".into(),
    ///         access_token: "access token".into(),
    ///         access_secret: "access secret".into(),
    ///     },
    /// )?;
    /// # Ok(()) }
    /// ```
    ///
    /// A `user_agent` without Wikimedia's `<client>/<version> (<contact>)`
    /// shape is refused ([`ApiError::InvalidRequest`], with a good one shown).
    pub fn owner(api_url: &str, user_agent: &str, owner: OwnerOnly) -> Result<ApiClient, ApiError> {
        if let Some(problem) = crate::config::user_agent_problem(user_agent.trim()) {
            return Err(ApiError::InvalidRequest(format!("user_agent: {problem}")));
        }
        let api_url = ApiUrl::new(api_url);
        if let Some(problem) = api_url.problem() {
            return Err(ApiError::InvalidRequest(problem.to_string()));
        }
        let http = standalone_http(user_agent)?;
        let (consumer, credentials) = Consumer::owner(&owner);
        let protocol = Protocol::for_api(http.clone(), consumer);
        Ok(ApiClient::new(
            http,
            Arc::new(api_url),
            Arc::new(protocol),
            credentials,
        ))
    }

    /// Uses a shared token cache (the fairing shares one between requests).
    pub(crate) fn with_token_cache(mut self, tokens: TokenCache) -> ApiClient {
        self.tokens = tokens;
        self
    }

    /// Counts requests in flight with others (the fairing's clients share one
    /// count per user).
    pub(crate) fn with_in_flight(mut self, in_flight: InFlight) -> ApiClient {
        self.in_flight = in_flight;
        self
    }

    /// Changes the options.
    pub fn with_options(mut self, options: ApiOptions) -> ApiClient {
        self.options = options;
        self
    }

    /// The same user on another wiki's `api.php` (e.g. Wikidata after signing
    /// in on Meta), like flask-mwoauth's `request(query, url=…)`. Give the
    /// bare URL: one with a query or a fragment is refused at the first
    /// request ([`ApiError::InvalidRequest`]), since the wiki would check the
    /// signature over that query too.
    pub fn at(&self, api_url: &str) -> ApiClient {
        ApiClient {
            api_url: Arc::new(ApiUrl::new(api_url)),
            ..self.clone()
        }
    }

    /// The `api.php` URL this client talks to.
    pub fn api_url(&self) -> &str {
        self.api_url.as_str()
    }

    /// The credentials this client signs with, as they are now (an OAuth
    /// 2.0 client refreshes them when its access token expires): store them
    /// to act as the user later ([`MwOAuthHandle::api`](crate::MwOAuthHandle::api)),
    /// and store them again after a job, since a refresh rotates them. They
    /// are a secret.
    pub fn credentials(&self) -> Credentials {
        Credentials::clone(&self.current())
    }

    /// The credentials as they are now, without copying them (an OAuth 2.0
    /// grant is ≈ 2 KB of tokens, and a request looks at them several times).
    fn current(&self) -> Arc<Credentials> {
        self.credentials
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    /// This client's credentials, renewed first when
    /// [`Credentials::must_renew`] says so; the renewed ones replace them
    /// (for the clones too).
    async fn fresh_credentials(&self, when: Renew) -> Result<Arc<Credentials>, ApiError> {
        let current = self.current();
        match self.protocol.fresh(&current, when).await? {
            Some(fresh) => {
                let fresh = Arc::new(fresh);
                *self.credentials.lock().unwrap_or_else(|e| e.into_inner()) = fresh.clone();
                Ok(fresh)
            }
            None => Ok(current),
        }
    }

    async fn authorization<'a>(
        &self,
        method: &str,
        params: impl IntoIterator<Item = (&'a str, &'a str)>,
    ) -> Result<String, ApiError> {
        let credentials = self.fresh_credentials(Renew::IfDue).await?;
        Ok(self
            .protocol
            .authorize(&credentials, method, self.api_url.base_uri(), params)?)
    }

    /// GET for reads, a signed form POST for writes (a `token`, a write
    /// module) and for requests too long for a URL.
    pub async fn request(&self, params: &[(&str, &str)]) -> Result<Value, ApiError> {
        let write = params
            .iter()
            .any(|(k, v)| *k == "token" || (*k == "action" && WRITE_ACTIONS.contains(v)));
        if write {
            self.post(params).await
        } else {
            self.get(params).await
        }
    }

    /// Like [`request`](Self::request), deserialized into your type.
    pub async fn request_as<T: DeserializeOwned>(
        &self,
        params: &[(&str, &str)],
    ) -> Result<T, ApiError> {
        let value = self.request(params).await?;
        serde_json::from_value(value).map_err(|e| ApiError::InvalidJson {
            message: e.to_string(),
        })
    }

    /// A signed GET (turned into a POST when the URL would be too long).
    pub async fn get(&self, params: &[(&str, &str)]) -> Result<Value, ApiError> {
        self.send(false, params).await
    }

    /// A signed `application/x-www-form-urlencoded` POST.
    pub async fn post(&self, params: &[(&str, &str)]) -> Result<Value, ApiError> {
        self.send(true, params).await
    }

    /// A token of `token_type` (`csrf`, `watch`, `rollback`, …), cached per
    /// user and wiki.
    pub async fn token(&self, token_type: &str) -> Result<String, ApiError> {
        let key = self.token_key(token_type);
        if let Some(t) = self.tokens.get(&key) {
            return Ok(t);
        }
        let answer = self
            .get(&[
                ("action", "query"),
                ("meta", "tokens"),
                ("type", token_type),
            ])
            .await?;
        let name = format!("{token_type}token");
        let token = answer["query"]["tokens"][name.as_str()]
            .as_str()
            .ok_or_else(|| ApiError::InvalidJson {
                message: format!("no {name} in the meta=tokens answer"),
            })?
            .to_string();
        self.tokens.put(key, token.clone());
        Ok(token)
    }

    fn token_key(&self, token_type: &str) -> TokenKey {
        (
            self.current().cache_key(),
            self.api_url.as_str().to_string(),
            token_type.to_string(),
        )
    }

    /// POSTs a write with a token of `token_type` added as `token`; a
    /// `badtoken` answer fetches a fresh token and retries once.
    ///
    /// ```no_run
    /// # async fn demo(api: rocket_mediawiki_oauth::ApiClient) -> Result<(), rocket_mediawiki_oauth::ApiError> {
    /// let result = api
    ///     .post_with_token("csrf", &[("action", "edit"), ("title", "Sandbox"), ("appendtext", "\nHello")])
    ///     .await?;
    /// assert_eq!(result["edit"]["result"], "Success");
    /// # Ok(()) }
    /// ```
    pub async fn post_with_token(
        &self,
        token_type: &str,
        params: &[(&str, &str)],
    ) -> Result<Value, ApiError> {
        self.with_fresh_token(token_type, |token| async move {
            let mut all: Vec<(&str, &str)> = params
                .iter()
                .filter(|(k, _)| *k != "token")
                .copied()
                .collect();
            all.push(("token", &token));
            self.post(&all).await
        })
        .await
    }

    /// Runs `write` with a token of `token_type`; a `badtoken` answer forgets
    /// the cached token and runs it once more with a fresh one.
    async fn with_fresh_token<F, Fut>(
        &self,
        token_type: &str,
        mut write: F,
    ) -> Result<Value, ApiError>
    where
        F: FnMut(String) -> Fut,
        Fut: std::future::Future<Output = Result<Value, ApiError>>,
    {
        let mut last = None;
        for _ in 0..2 {
            match write(self.token(token_type).await?).await {
                Err(ApiError::BadToken { info }) => {
                    self.tokens.forget(&self.token_key(token_type));
                    last = Some(ApiError::BadToken { info });
                }
                other => return other,
            }
        }
        Err(last.unwrap_or(ApiError::BadToken {
            info: String::new(),
        }))
    }

    /// Follows `continue` until the wiki says it is done or `max_batches`
    /// answers were read: a stream of whole answers, one per batch.
    ///
    /// ```no_run
    /// # async fn demo(api: rocket_mediawiki_oauth::ApiClient) -> Result<(), rocket_mediawiki_oauth::ApiError> {
    /// use futures_util::TryStreamExt;
    /// let batches: Vec<_> = api
    ///     .continued(&[("action", "query"), ("list", "allpages"), ("aplimit", "max")], 10)
    ///     .try_collect()
    ///     .await?;
    /// # Ok(()) }
    /// ```
    pub fn continued<'a>(
        &'a self,
        params: &'a [(&'a str, &'a str)],
        max_batches: usize,
    ) -> impl Stream<Item = Result<Value, ApiError>> + 'a {
        let start: Option<Vec<(String, String)>> = Some(Vec::new());
        stream::unfold((start, 0usize), move |(cont, done)| async move {
            let cont = cont?;
            if done >= max_batches {
                return None;
            }
            let mut all: Vec<(&str, &str)> = params
                .iter()
                .filter(|(k, _)| !cont.iter().any(|(c, _)| c == k))
                .copied()
                .collect();
            all.extend(cont.iter().map(|(k, v)| (k.as_str(), v.as_str())));
            match self.request(&all).await {
                Ok(answer) => {
                    let next = answer.get("continue").and_then(Value::as_object).map(|c| {
                        c.iter()
                            .map(|(k, v)| {
                                let v = match v {
                                    Value::String(s) => s.clone(),
                                    other => other.to_string(),
                                };
                                (k.clone(), v)
                            })
                            .collect::<Vec<_>>()
                    });
                    Some((Ok(answer), (next, done + 1)))
                }
                Err(e) => Some((Err(e), (None, done + 1))),
            }
        })
    }

    /// Uploads a file (`action=upload`, multipart) with a CSRF token; a
    /// `badtoken` answer fetches a fresh token and retries once. Like other
    /// writes it carries `maxlag` and is retried after maxlag, read-only and
    /// HTTP 429 answers, within the bounds of [`ApiOptions`].
    ///
    /// With MediaWiki's default `ignorewarnings` absent, a name that is
    /// taken (or a duplicate file) answers `{"upload":{"result":"Warning",
    /// "warnings":{…},"filekey":…}}`, which is not an error: check `result`,
    /// or pass `("ignorewarnings", "1")` to overwrite.
    ///
    /// MediaWiki signs only the query and OAuth parameters of a multipart
    /// request, so every field goes in the body and the signature covers the
    /// bare `api.php` URL.
    ///
    /// ```no_run
    /// # async fn demo(api: rocket_mediawiki_oauth::ApiClient) -> Result<(), rocket_mediawiki_oauth::ApiError> {
    /// let png = std::fs::read("chart.png").unwrap();
    /// let answer = api
    ///     .upload("Chart.png", png, &[("comment", "New chart"), ("text", "== Summary ==\nA chart")])
    ///     .await?;
    /// assert_eq!(answer["upload"]["result"], "Success");
    /// # Ok(()) }
    /// ```
    pub async fn upload(
        &self,
        filename: &str,
        content: Vec<u8>,
        params: &[(&str, &str)],
    ) -> Result<Value, ApiError> {
        let content = &content;
        self.with_fresh_token("csrf", |token| async move {
            let mut fields: Vec<(String, String)> = vec![
                ("action".into(), "upload".into()),
                ("filename".into(), filename.into()),
                ("format".into(), "json".into()),
            ];
            if self.options.formatversion2 {
                fields.push(("formatversion".into(), "2".into()));
            }
            if self.options.assert_user {
                fields.push(("assert".into(), "user".into()));
            }
            if let Some(m) = self.options.maxlag {
                if !params.iter().any(|(k, _)| *k == "maxlag") {
                    fields.push(("maxlag".into(), m.to_string()));
                }
            }
            fields.extend(
                params
                    .iter()
                    .filter(|(k, _)| !["action", "filename", "token", "file"].contains(k))
                    .map(|(k, v)| (k.to_string(), v.to_string())),
            );
            fields.push(("token".into(), token));
            let payload = Payload::Multipart {
                fields: &fields,
                filename,
                content,
            };
            self.send_with_retries(&payload).await
        })
        .await
    }

    async fn send(&self, post: bool, params: &[(&str, &str)]) -> Result<Value, ApiError> {
        let mut all: Vec<(&str, &str)> = params.to_vec();
        let has = |all: &[(&str, &str)], k: &str| all.iter().any(|(key, _)| *key == k);
        if !has(&all, "format") {
            all.push(("format", "json"));
        }
        if self.options.formatversion2 && !has(&all, "formatversion") {
            all.push(("formatversion", "2"));
        }
        if self.options.assert_user && !has(&all, "assert") {
            all.push(("assert", "user"));
        }
        let maxlag = self.options.maxlag.map(|m| m.to_string());
        if let Some(m) = &maxlag {
            if post && !has(&all, "maxlag") {
                all.push(("maxlag", m));
            }
        }
        let encoded = wire::encode_pairs(all.iter().copied());
        let post = post
            || self.api_url.as_str().len() + encoded.len() + 1 > Self::MAX_GET_URL
            || !php_query_keeps(&all);
        self.send_with_retries(&Payload::Form {
            post,
            params: &all,
            encoded: &encoded,
        })
        .await
    }

    /// Sends a request, again after the wait the wiki asks for when it
    /// answers maxlag, read-only or 429 (within [`ApiOptions`]' bounds), and
    /// once more at once with a fresh nonce after "Nonce already used".
    async fn send_with_retries(&self, payload: &Payload<'_>) -> Result<Value, ApiError> {
        if let Some(problem) = self.api_url.problem() {
            return Err(ApiError::InvalidRequest(problem.to_string()));
        }
        let before = self.current();
        self.send_with_retries_unredacted(payload)
            .await
            .map_err(|e| {
                let after = self.current();
                let mut secrets = self.protocol.secrets(&before);
                secrets.extend(after.secrets());
                e.redacted(&secrets)
            })
    }

    async fn send_with_retries_unredacted(&self, payload: &Payload<'_>) -> Result<Value, ApiError> {
        let started = Instant::now();
        let mut attempt = 0;
        let mut nonce_retried = false;
        let mut refreshed = false;
        loop {
            attempt += 1;
            // The next attempt is expected to take as long as this one (its
            // sending, not its wait for a turn): a wiki that answers 429
            // slowly cannot stretch the budget.
            let (result, attempt_took) = {
                // In flight only while sent: not while waiting to retry.
                let _turn = self
                    .in_flight
                    .enter(
                        self.current().cache_key(),
                        self.options.max_concurrent_per_user,
                        self.options.max_queue_wait,
                    )
                    .await?;
                let this_attempt = Instant::now();
                let result = self.send_once(payload).await;
                (result, this_attempt.elapsed())
            };
            let wait = match &result {
                // An OAuth 2.0 access token the wiki no longer takes (expired
                // early, or refreshed elsewhere): refresh once and retry.
                Err(ApiError::Authorization { info, .. })
                    if !refreshed && protocol::refusal_of_a_stale_token(info) =>
                {
                    refreshed = true;
                    let before = self.current();
                    if self.fresh_credentials(Renew::AfterRefusal).await? == before {
                        // Nothing to renew them with (OAuth 1.0a, a long-lived token).
                        None
                    } else {
                        attempt -= 1;
                        Some(Duration::ZERO)
                    }
                }
                Err(ApiError::Maxlag { retry_after, .. })
                | Err(ApiError::RateLimited { retry_after }) => {
                    Some(retry_after.unwrap_or(Duration::from_secs(5)))
                }
                Err(ApiError::ReadOnly { .. }) => Some(Duration::from_secs(5)),
                Err(ApiError::Rejected { info, .. })
                    if !nonce_retried && info.contains("Nonce already used") =>
                {
                    // A nonce collision is not the user's fault: once more, fresh nonce.
                    nonce_retried = true;
                    attempt -= 1;
                    Some(Duration::ZERO)
                }
                _ => None,
            };
            match wait {
                Some(wait) if attempt < self.options.max_attempts => {
                    let wait = wait.min(self.options.max_delay);
                    if started.elapsed() + wait + attempt_took > self.options.max_wait {
                        return result;
                    }
                    tokio::time::sleep(wait).await;
                }
                _ => return result,
            }
        }
    }

    async fn send_once(&self, payload: &Payload<'_>) -> Result<Value, ApiError> {
        let (post, params, encoded) = match payload {
            Payload::Form {
                post,
                params,
                encoded,
            } => (*post, *params, *encoded),
            Payload::Multipart {
                fields,
                filename,
                content,
            } => return self.send_multipart(fields, filename, content).await,
        };
        let method = if post { "POST" } else { "GET" };
        let header = self.authorization(method, params.iter().copied()).await?;
        let request = if post {
            self.api_url
                .post(&self.http)
                .header(CONTENT_TYPE, "application/x-www-form-urlencoded")
                .body(encoded.to_string())
        } else {
            self.api_url.get(&self.http, encoded)
        };
        let response = request.header(AUTHORIZATION, header).send().await?;
        self.read_answer(response).await
    }

    /// One `multipart/form-data` POST: MediaWiki signs only the query and
    /// OAuth parameters of such a request, so the signature covers the bare
    /// `api.php` URL and every field goes in the body.
    async fn send_multipart(
        &self,
        fields: &[(String, String)],
        filename: &str,
        content: &[u8],
    ) -> Result<Value, ApiError> {
        let mut form = reqwest::multipart::Form::new();
        for (k, v) in fields {
            form = form.text(k.clone(), v.clone());
        }
        let part = reqwest::multipart::Part::bytes(content.to_vec())
            .file_name(filename.to_string())
            .mime_str("application/octet-stream")
            .map_err(|e| ApiError::InvalidRequest(e.to_string()))?;
        form = form.part("file", part);
        let header = self.authorization("POST", []).await?;
        let response = self
            .api_url
            .post(&self.http)
            .header(AUTHORIZATION, header)
            .multipart(form)
            .send()
            .await?;
        self.read_answer(response).await
    }

    async fn read_answer(&self, response: reqwest::Response) -> Result<Value, ApiError> {
        let status = response.status();
        let retry_after = retry_after(response.headers());
        if status.as_u16() == 429 {
            return Err(ApiError::RateLimited { retry_after });
        }
        if !status.is_success() {
            return Err(ApiError::Http {
                status: status.as_u16(),
            });
        }
        let body = wire::read_limited(response, self.options.max_answer_bytes).await?;
        let value = if body.len() <= PARSE_INLINE {
            parse_answer(&body)?
        } else {
            tokio::task::spawn_blocking(move || parse_answer(&body))
                .await
                .map_err(|e| {
                    ApiError::Transport(format!("the answer could not be parsed: {e}"))
                })??
        };
        if let Some(warnings) = value.get("warnings") {
            // The wiki's words, with whatever secret it echoed masked.
            let credentials = self.current();
            let warnings =
                crate::wire::redact(&warnings.to_string(), &self.protocol.secrets(&credentials));
            log::warn!(
                "MediaWiki API warnings from {}: {warnings}",
                self.api_url.as_str()
            );
        }
        classify_answer(value, retry_after)
    }
}

/// Parses an api.php answer body.
pub(crate) fn parse_answer(body: &str) -> Result<Value, ApiError> {
    serde_json::from_str::<Value>(body).map_err(|e| ApiError::InvalidJson {
        message: format!("{e}: {:?}", wire::excerpt(body)),
    })
}

/// An api.php answer as the result of the request: its `error` (or first of
/// `errors`, with `errorformat`) classified, else the answer itself.
pub(crate) fn classify_answer(
    value: Value,
    retry_after: Option<Duration>,
) -> Result<Value, ApiError> {
    if let Some(error) = value.get("error") {
        return Err(ApiError::from_error_object(error, retry_after));
    }
    if let Some(errors) = value
        .get("errors")
        .and_then(Value::as_array)
        .and_then(|e| e.first())
    {
        return Err(ApiError::from_error_object(errors, retry_after));
    }
    if !value.is_object() {
        // Every api.php answer is an object; anything else (a proxy's `[]`,
        // `null`, a number) is not a success.
        return Err(ApiError::InvalidJson {
            message: "the answer is JSON but not an object".into(),
        });
    }
    Ok(value)
}

/// The HTTP client of an `ApiClient` made outside the fairing: the given
/// User-Agent with the crate's, a 30 s timeout, no redirects.
fn standalone_http(user_agent: &str) -> Result<reqwest::Client, ApiError> {
    Ok(reqwest::Client::builder()
        .user_agent(format!("{user_agent} {}", crate::config::CRATE_AGENT))
        .timeout(Duration::from_secs(30))
        .redirect(reqwest::redirect::Policy::none())
        .build()?)
}

fn retry_after(headers: &HeaderMap) -> Option<Duration> {
    headers
        .get(RETRY_AFTER)?
        .to_str()
        .ok()?
        .trim()
        .parse::<u64>()
        .ok()
        .map(Duration::from_secs)
}

/// Whether PHP reads these parameters from a query string as they are:
/// MediaWiki checks an OAuth 1.0a signature over a GET's parameters as PHP
/// parsed them (`$_GET`: of a repeated name only the last value; a space,
/// `.` or `[` in a name rewritten), so a request with such names is sent as
/// a POST, whose body MediaWiki signs over as sent.
fn php_query_keeps(params: &[(&str, &str)]) -> bool {
    params.iter().enumerate().all(|(i, (name, _))| {
        !name.contains([' ', '.', '[']) && !params[..i].iter().any(|(earlier, _)| earlier == name)
    })
}
