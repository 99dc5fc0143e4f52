//! What the fairing manages: the checked configuration, the one shared HTTP
//! client, the protocol, the cookie policy and the caches; and the public
//! [`MwOAuthHandle`] through which an app reaches them outside a request.

use std::sync::Arc;

use rocket::{Phase, Request, Rocket};

use crate::api::ApiError;
use crate::api::{ApiClient, ApiUrl, InFlight, SharedCredentials, TokenCache};
use crate::config::Config;
use crate::error::Error;
use crate::i18n::Messages;
use crate::protocol::{Consumer, Credentials, Protocol};
use crate::session::{CookiePolicy, Store};

/// The state behind the handle; guards and routes read it.
pub(crate) struct OAuthState {
    pub config: Config,
    /// `config.api_url()`, computed and parsed once.
    pub api_url: Arc<ApiUrl>,
    pub http: reqwest::Client,
    /// User sign-in (and the API as the user).
    pub protocol: Arc<Protocol>,
    /// The owner-only consumer, when configured (its credentials shared by
    /// every request, so that a renewed token serves them all).
    pub owner: Option<(Arc<Protocol>, SharedCredentials)>,
    pub cookies: CookiePolicy,
    pub tokens: TokenCache,
    /// Requests in flight per user, for every client of this app.
    pub in_flight: InFlight,
    /// The crate's messages and the app's (`i18n_dir`).
    pub messages: Arc<Messages>,
    /// Where the signed-in records live.
    pub store: Store,
}

impl OAuthState {
    /// Builds the state from a checked configuration; `tls` says whether
    /// Rocket itself serves TLS (for the `Secure` cookie attribute).
    pub(crate) fn new(
        config: Config,
        tls: bool,
        messages: Messages,
        store: Store,
    ) -> Result<OAuthState, String> {
        let http = reqwest::Client::builder()
            .user_agent(config.user_agent.clone())
            .timeout(config.timeout)
            .connect_timeout(config.timeout.min(std::time::Duration::from_secs(10)))
            .redirect(reqwest::redirect::Policy::none())
            .pool_idle_timeout(std::time::Duration::from_secs(60))
            .build()
            .map_err(|e| format!("cannot build the HTTP client: {e}"))?;
        let secure = config
            .secure_cookies
            .unwrap_or_else(|| tls || config.callback.as_str().starts_with("https://"));
        let cookies = CookiePolicy {
            secure,
            secure_behind_proxy: config.secure_cookies.is_none(),
            login_path: config.route_path("login"),
            callback_path: config.route_path("oauth-callback"),
            session_days: config.session_days,
            protocol: config.oauth_version,
            app: crate::session::app_binding(
                &config.api_url(),
                config.oauth_version,
                &config.consumer_key,
            ),
        };
        let owner = config.owner.as_ref().map(|owner| {
            let (consumer, credentials) = Consumer::owner(owner);
            let protocol = Protocol::with_consumer(&config, http.clone(), consumer);
            (
                Arc::new(protocol),
                Arc::new(std::sync::Mutex::new(Arc::new(credentials))),
            )
        });
        Ok(OAuthState {
            protocol: Arc::new(Protocol::new(&config, http.clone())),
            owner,
            api_url: Arc::new(ApiUrl::new(&config.api_url())),
            config,
            http,
            cookies,
            tokens: TokenCache::default(),
            in_flight: InFlight::default(),
            messages: Arc::new(messages),
            store,
        })
    }

    /// The state of the app serving `req`, if the fairing is attached.
    pub(crate) fn of<'r>(req: &'r Request<'_>) -> Option<&'r OAuthState> {
        req.rocket().state::<MwOAuthHandle>().map(|h| &*h.0)
    }

    /// An API client on this wiki for `credentials`.
    pub(crate) fn api_client(&self, credentials: Credentials) -> ApiClient {
        ApiClient::new(
            self.http.clone(),
            self.api_url.clone(),
            self.protocol.clone(),
            credentials,
        )
        .with_token_cache(self.tokens.clone())
        .with_in_flight(self.in_flight.clone())
    }

    /// The owner-only consumer's API client on this wiki, if configured.
    pub(crate) fn owner_client(&self) -> Option<ApiClient> {
        self.owner.as_ref().map(|(protocol, credentials)| {
            ApiClient::sharing(
                self.http.clone(),
                self.api_url.clone(),
                protocol.clone(),
                credentials.clone(),
            )
            .with_token_cache(self.tokens.clone())
            .with_in_flight(self.in_flight.clone())
        })
    }
}

/// The sign-in machinery of a running app, outside any request: for
/// background jobs that act as a user whose [`Credentials`] the app stored.
///
/// Get it with [`MwOAuth::fetch`](crate::MwOAuth::fetch) from a
/// `Rocket<Orbit>` (e.g. in an `AdHoc::on_liftoff` fairing), or as
/// `&State<MwOAuthHandle>` in a handler. It is cheap to clone: the clones
/// share the HTTP client and the caches.
///
/// ```no_run
/// use rocket::fairing::AdHoc;
/// use rocket_mediawiki_oauth::{Credentials, MwOAuth};
///
/// # fn load_stored_credentials() -> Credentials { unimplemented!() }
/// #[rocket::launch]
/// fn rocket() -> _ {
///     rocket::build()
///         .attach(MwOAuth::fairing())
///         .attach(AdHoc::on_liftoff("nightly job", |rocket| {
///             Box::pin(async move {
///                 let handle = MwOAuth::fetch(rocket).expect("the fairing is attached").clone();
///                 rocket::tokio::spawn(async move {
///                     let api = handle.api(load_stored_credentials());
///                     let answer = api
///                         .post_with_token("csrf", &[("action", "edit"), ("title", "Sandbox"), ("appendtext", "\nNightly")])
///                         .await;
///                     println!("{answer:?}");
///                 });
///             })
///         }))
/// }
/// ```
#[derive(Clone)]
pub struct MwOAuthHandle(Arc<OAuthState>);

impl MwOAuthHandle {
    pub(crate) fn new(state: OAuthState) -> MwOAuthHandle {
        MwOAuthHandle(Arc::new(state))
    }

    /// The checked configuration.
    pub fn config(&self) -> &Config {
        &self.0.config
    }

    /// An API client for this wiki that acts as the user of `credentials`
    /// (from [`ApiClient::credentials`], stored by the app). It shares the
    /// app's HTTP client and CSRF-token cache; use [`ApiClient::at`] for
    /// another wiki.
    pub fn api(&self, credentials: Credentials) -> ApiClient {
        self.0.api_client(credentials)
    }

    /// Signs the user with `central_id` ([`MwUser::central_id`](crate::MwUser))
    /// out of every browser at once, with `store = "redis"`: an admin
    /// action, or after a user reports a stolen device. Their sessions are
    /// deleted from Redis and every instance drops them from its cache
    /// (within milliseconds); the next page in any of those browsers reads
    /// as signed out. Returns how many sessions were ended.
    ///
    /// The user is named by the central id, not the name: it stays the same
    /// when the user is renamed, and is what every session records.
    ///
    /// Fails with [`Error::StoreUnavailable`] when Redis cannot be reached,
    /// and with an [`ApiError::InvalidRequest`] with the cookie store, where
    /// the sessions live only in the browsers and cannot be ended here.
    ///
    /// ```no_run
    /// # async fn f(handle: rocket_mediawiki_oauth::MwOAuthHandle) -> Result<(), rocket_mediawiki_oauth::Error> {
    /// let ended = handle.sign_out_everywhere(4242).await?;
    /// println!("ended {ended} sessions");
    /// # Ok(()) }
    /// ```
    pub async fn sign_out_everywhere(&self, central_id: u64) -> Result<usize, Error> {
        match self.0.store.sign_out_everywhere(central_id).await {
            Some(Ok(n)) => Ok(n),
            Some(Err(_)) => Err(Error::StoreUnavailable),
            None => Err(Error::Api(ApiError::InvalidRequest(
                "sign_out_everywhere needs store = \"redis\": with the cookie store the \
                 sessions live only in the browsers"
                    .into(),
            ))),
        }
    }

    /// The owner-only consumer's API client (`owner_*` keys of the
    /// configuration): it acts as the consumer's owner, with no login.
    pub fn owner_api(&self) -> Result<ApiClient, ApiError> {
        self.0.owner_client().ok_or_else(|| {
            ApiError::InvalidRequest(
                "no owner-only consumer is configured (mwoauth.owner_access_token …)".into(),
            )
        })
    }
}

impl std::fmt::Debug for MwOAuthHandle {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MwOAuthHandle")
            .field("config", &self.0.config)
            .finish_non_exhaustive()
    }
}

/// `Rocket::state` for the handle, for any phase.
pub(crate) fn handle_of<P: Phase>(rocket: &Rocket<P>) -> Option<&MwOAuthHandle> {
    rocket.state::<MwOAuthHandle>()
}
