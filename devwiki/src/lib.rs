#![doc = include_str!("../README.md")]

mod api;
mod api_base;
mod api_edit;
mod api_query;
mod api_upload;
mod authorize_page;
mod callback;
pub mod cli;
mod config;
mod controls;
#[cfg(fuzzing)]
#[doc(hidden)]
pub mod fuzzing;
mod http;
mod jwt;
mod messages;
mod oauth2;
mod pages;
mod phpjson;
mod special_oauth;
mod store;
mod switches;
mod users;
mod verify;

use std::io::Cursor;
use std::net::Ipv4Addr;
use std::sync::{Arc, Mutex};

use rocket::data::ToByteUnit;
use rocket::fairing::AdHoc;
use rocket::http::Method;
use rocket::http::Status;
use rocket::route::{Handler, Outcome, Route};
use rocket::shield::Shield;
use rocket::{Data, Request, Response};

pub use config::{Consumer, ConsumerSpec, DevWikiConfig, MediaWikiVersion, ProfileFlavour};
pub use store::RecordedRequest;

use http::{Req, Resp};
use messages::escape_html;
use store::Shared;

/// A running local wiki. Stops on [`DevWiki::shutdown`] or when dropped.
pub struct DevWiki {
    shared: Arc<Shared>,
    port: u16,
    shutdown: rocket::Shutdown,
    task: Option<rocket::tokio::task::JoinHandle<Option<std::io::ErrorKind>>>,
}

impl std::fmt::Debug for DevWiki {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DevWiki")
            .field("server", &self.server())
            .finish()
    }
}

/// Graceful shutdown on request only: a library must not install Ctrl-C or
/// SIGTERM handlers in the host process.
fn quiet_shutdown() -> rocket::config::Shutdown {
    #[allow(unused_mut)]
    let mut shutdown = rocket::config::Shutdown {
        ctrlc: false,
        grace: 1,
        mercy: 1,
        ..rocket::config::Shutdown::default()
    };
    #[cfg(unix)]
    shutdown.signals.clear();
    shutdown
}

impl DevWiki {
    /// Starts a wiki on `127.0.0.1` (in a task of the current Tokio runtime)
    /// and returns once it listens.
    ///
    /// Fails with [`std::io::ErrorKind::InvalidInput`] for a configuration
    /// a wiki cannot have (see [`DevWikiConfig::script_path`]), and with
    /// [`std::io::ErrorKind::AddrInUse`] when the port is taken.
    pub async fn start(config: DevWikiConfig) -> std::io::Result<DevWiki> {
        if let Some(problem) = config.problem() {
            return Err(std::io::Error::new(
                std::io::ErrorKind::InvalidInput,
                problem,
            ));
        }
        let shared = Arc::new(Shared::new(&config));
        let rocket_config = rocket::Config {
            address: Ipv4Addr::LOCALHOST.into(),
            port: config.port,
            log_level: if config.verbose {
                rocket::config::LogLevel::Normal
            } else {
                rocket::config::LogLevel::Off
            },
            cli_colors: false,
            ident: rocket::config::Ident::none(),
            shutdown: quiet_shutdown(),
            ..rocket::Config::default()
        };
        let figment = rocket::figment::Figment::from(rocket_config)
            .merge(("secret_key", store::random_hex(64)));

        let (tx, rx) = rocket::tokio::sync::oneshot::channel::<(u16, rocket::Shutdown)>();
        let tx = Arc::new(Mutex::new(Some(tx)));
        let host = config.host.clone();
        let for_liftoff = Arc::clone(&shared);
        let liftoff = AdHoc::on_liftoff("devwiki port", move |rocket| {
            let tx = Arc::clone(&tx);
            let shared = Arc::clone(&for_liftoff);
            let host = host.clone();
            Box::pin(async move {
                let port = rocket.config().port;
                let _ = shared.origin.set(format!("http://{host}:{port}"));
                shared.lock().issuer = shared.server();
                let sender = tx.lock().unwrap_or_else(|e| e.into_inner()).take();
                if let Some(sender) = sender {
                    let _ = sender.send((port, rocket.shutdown()));
                }
            })
        });

        let handler = WikiHandler {
            shared: Arc::clone(&shared),
        };
        let routes: Vec<Route> = [
            Method::Get,
            Method::Post,
            Method::Put,
            Method::Delete,
            Method::Patch,
            Method::Options,
        ]
        .into_iter()
        .map(|m| Route::ranked(1, m, "/<path..>", handler.clone()))
        .collect();
        let rocket = rocket::custom(figment)
            .attach(Shield::new())
            .attach(liftoff)
            .mount("/", routes);

        let task = rocket::tokio::spawn(async move {
            match rocket.launch().await {
                Ok(_) => None,
                // Inspecting the error keeps Rocket from panicking on drop.
                Err(e) => match e.kind() {
                    rocket::error::ErrorKind::Bind(io) => Some(io.kind()),
                    _ => Some(std::io::ErrorKind::Other),
                },
            }
        });
        match rx.await {
            Ok((port, shutdown)) => Ok(DevWiki {
                shared,
                port,
                shutdown,
                task: Some(task),
            }),
            Err(_) => {
                let kind = task.await.ok().flatten();
                let port = config.port;
                Err(match kind {
                    Some(std::io::ErrorKind::AddrInUse) => std::io::Error::new(
                        std::io::ErrorKind::AddrInUse,
                        format!("port {port} on 127.0.0.1 is in use"),
                    ),
                    Some(kind @ std::io::ErrorKind::PermissionDenied) => std::io::Error::new(
                        kind,
                        format!("no permission to listen on port {port} of 127.0.0.1"),
                    ),
                    kind => std::io::Error::new(
                        kind.unwrap_or(std::io::ErrorKind::Other),
                        format!("the wiki could not start on 127.0.0.1:{port}"),
                    ),
                })
            }
        }
    }

    /// Stops the server and waits for it to finish.
    pub async fn shutdown(mut self) {
        self.shutdown.clone().notify();
        if let Some(task) = self.task.take() {
            let _ = task.await;
        }
    }

    /// The bound port.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// `$wgServer`, e.g. `http://127.0.0.1:8080`: the JWT `iss`, and the
    /// origin used in the OAuth signature base string.
    pub fn server(&self) -> String {
        self.shared.server()
    }

    /// The script path, e.g. `http://127.0.0.1:8080/w` (like
    /// `https://meta.wikimedia.org/w`): `index.php` and `api.php` are in it.
    pub fn base_url(&self) -> String {
        self.shared.script_url()
    }

    /// `…/w/index.php`.
    pub fn index_url(&self) -> String {
        format!("{}/index.php", self.shared.script_url())
    }

    /// `…/w/api.php`.
    pub fn api_url(&self) -> String {
        format!("{}/api.php", self.shared.script_url())
    }

    /// The consumer registered at start: `oob`-style (not a prefix),
    /// grants `basic`, `editpage`, `highvolume`, `createeditmovepage`, its
    /// JWT `grants` claim in the object form seen on real wikis, callback
    /// [`DevWikiConfig::callback`].
    pub fn default_consumer(&self) -> Consumer {
        let st = self.shared.lock();
        st.public_consumer(&st.default_consumer)
            .unwrap_or_else(|| unreachable_consumer(&st.default_consumer))
    }

    /// The OAuth 2.0 client registered at start (confidential unless
    /// [`DevWikiConfig::oauth2_public`]): `client_id` in `key`, client
    /// secret in `secret`, `redirect_uri` in `callback`
    /// ([`DevWikiConfig::oauth2_redirect_uri`]); the same grants as the
    /// default consumer, `scopes` in the object form.
    pub fn default_oauth2_client(&self) -> Consumer {
        let st = self.shared.lock();
        st.public_consumer(&st.default_oauth2_client)
            .unwrap_or_else(|| unreachable_consumer(&st.default_oauth2_client))
    }

    /// `…/w/rest.php`: the OAuth 2.0 endpoints are under
    /// `rest.php/oauth2/` (`authorize`, `access_token`, `resource/profile`,
    /// `resource/scopes`).
    pub fn rest_url(&self) -> String {
        format!("{}/rest.php", self.shared.script_url())
    }

    /// Sets the lifetime (`expires_in`) of OAuth 2.0 access tokens issued
    /// from now on; tokens already issued keep theirs. Default 3600.
    pub fn set_oauth2_access_token_lifetime(&self, seconds: u64) {
        self.shared
            .lock()
            .switches
            .set_oauth2_access_token_lifetime(seconds);
    }

    /// Sets the lifetime of OAuth 2.0 refresh tokens issued from now on.
    pub fn set_oauth2_refresh_token_lifetime(&self, seconds: u64) {
        self.shared
            .lock()
            .switches
            .set_oauth2_refresh_token_lifetime(seconds);
    }

    /// `$wgOAuth2RefreshTokenGracePeriod`: for how many seconds after its
    /// use a refresh token may be used again. Default `0`: single use, as
    /// on MediaWiki ≤ 1.46; 600 when the wiki imitates 1.47
    /// ([`MediaWikiVersion::V1_47`]).
    pub fn set_oauth2_refresh_grace_period(&self, seconds: u64) {
        self.shared
            .lock()
            .switches
            .set_oauth2_refresh_grace(seconds);
    }

    /// The MediaWiki release this wiki imitates
    /// ([`DevWikiConfig::mediawiki`]).
    pub fn mediawiki(&self) -> MediaWikiVersion {
        self.shared.lock().mediawiki
    }

    /// Makes the OAuth 2.0 authorization codes issued from now on longer,
    /// as if their encrypted payload carried `extra_payload_bytes` more
    /// bytes (a wiki whose codes carry more: Wikimedia's longer ids and
    /// scopes). Each byte adds two hex characters to the code. `0` (the
    /// default) gives the length a stock wiki gives.
    pub fn set_oauth2_code_padding(&self, extra_payload_bytes: usize) {
        self.shared
            .lock()
            .switches
            .set_oauth2_code_padding(extra_payload_bytes);
    }

    /// Which MediaWiki's `rest.php/oauth2/resource/profile` to answer as.
    pub fn set_profile_as(&self, flavour: ProfileFlavour) {
        self.shared.lock().switches.set_profile_as(flavour);
    }

    /// Holds every `api.php` request for `delay` before answering it (zero:
    /// off), so that a test can have several in flight at once.
    pub fn set_api_delay(&self, delay: std::time::Duration) {
        let ms = u64::try_from(delay.as_millis()).unwrap_or(u64::MAX);
        self.shared.lock().switches.set_api_delay_ms(ms);
    }

    /// Holds every OAuth 2.0 `rest.php/oauth2/resource/profile` request for
    /// `delay` before answering it (zero: off), so that a test can act
    /// while an app is confirming a user with the wiki.
    pub fn set_profile_delay(&self, delay: std::time::Duration) {
        let ms = u64::try_from(delay.as_millis()).unwrap_or(u64::MAX);
        self.shared.lock().switches.set_profile_delay_ms(ms);
    }

    /// The most `api.php` requests signed for `user` that were in flight at
    /// once so far (Wikimedia's manners: at most 3).
    pub fn max_concurrent_api_requests(&self, user: &str) -> u32 {
        self.shared
            .lock()
            .in_flight
            .get(user)
            .map_or(0, |(_, most)| *most)
    }

    /// `$wgBlockDisablesLogin`: a blocked user's OAuth requests get
    /// `mwoauth-invalid-authorization-blocked-user` (off by default: then
    /// only the blocked actions answer `blocked`).
    pub fn set_block_disables_login(&self, on: bool) {
        self.shared.lock().switches.set_block_disables_login(on);
    }

    /// Detaches `user`'s global account from this wiki (or attaches it
    /// again): their OAuth requests get
    /// `mwoauth-invalid-authorization-invalid-user`, as on a wiki of a farm
    /// where they have no local account. `false` for an unknown user.
    pub fn set_detached(&self, user: &str, detached: bool) -> bool {
        let mut st = self.shared.lock();
        let Some(name) = st.find_user(user).map(|u| u.name.clone()) else {
            return false;
        };
        if detached {
            st.detached.insert(name);
        } else {
            st.detached.remove(&name);
        }
        true
    }

    /// Disables a consumer after approval (or enables it again), by its key
    /// or OAuth 2.0 `client_id`: OAuth requests for it get
    /// `mwoauth-invalid-authorization-not-approved`. `false` for an unknown
    /// consumer.
    pub fn set_consumer_disabled(&self, key: &str, disabled: bool) -> bool {
        let mut st = self.shared.lock();
        if !st.consumers.contains_key(key) {
            return false;
        }
        if disabled {
            st.disabled_consumers.insert(key.to_string());
        } else {
            st.disabled_consumers.remove(key);
        }
        true
    }

    /// Hides (suppresses) a user, or shows them again: their OAuth 2.0
    /// profile is then only `sub` and `blocked: true`. `false` for an
    /// unknown user.
    pub fn set_hidden(&self, user: &str, hidden: bool) -> bool {
        let mut st = self.shared.lock();
        let Some(name) = st.find_user(user).map(|u| u.name.clone()) else {
            return false;
        };
        for u in st.users.iter_mut().filter(|u| u.name == name) {
            u.hidden = hidden;
        }
        true
    }

    /// How many requests reached `rest.php/oauth2/access_token` with this
    /// `grant_type` (`"authorization_code"`, `"refresh_token"`,
    /// `"client_credentials"`), refused ones included; `"*"` counts all.
    pub fn oauth2_token_requests(&self, grant_type: &str) -> u64 {
        self.shared
            .lock()
            .o2_counts
            .get(grant_type)
            .copied()
            .unwrap_or(0)
    }

    /// Registers a consumer (approved at once). An owner-only consumer comes
    /// with its access token; its owner is created as an ordinary user if
    /// it is not one of the seeded users.
    pub fn register_consumer(&self, spec: ConsumerSpec) -> Consumer {
        self.shared.lock().register(spec)
    }

    /// A registered consumer by key.
    pub fn consumer(&self, key: &str) -> Option<Consumer> {
        self.shared.lock().public_consumer(key)
    }

    /// Approves every authorization as `user` (no page), or stops doing so.
    pub fn set_auto_approve(&self, user: Option<&str>) {
        self.shared
            .lock()
            .switches
            .set_auto_approve(user.map(str::to_string));
    }

    /// Authorizes `consumer_key` for `user` directly (as if they had pressed
    /// "Allow") and returns the access token and secret; the same ones come
    /// back until revoked. `None` for an unknown user or consumer, and for
    /// an OAuth 2.0 client (see [`DevWiki::oauth2_grant`]).
    pub fn grant(&self, user: &str, consumer_key: &str) -> Option<(String, String)> {
        let mut st = self.shared.lock();
        let name = st.find_user(user)?.name.clone();
        if st.consumers.get(consumer_key).is_none_or(|c| c.oauth2) {
            return None;
        }
        let a = st.accept(&name, consumer_key);
        Some((a.access_key, a.access_secret))
    }

    /// OAuth 2.0: authorizes `client_id` for `user` directly (as if they had
    /// pressed "Allow" and the app had redeemed the code) and returns a new
    /// access token and refresh token, with all the client's grants.
    /// `None` for an unknown user, a client that is not OAuth 2.0, or an
    /// owner-only one.
    pub fn oauth2_grant(&self, user: &str, client_id: &str) -> Option<(String, String)> {
        oauth2::grant_tokens(&mut self.shared.lock(), user, client_id)
    }

    /// OAuth 2.0 counterpart of [`DevWiki::import_grant`], for a wiki farm
    /// whose central OAuth makes one Bearer token work on every wiki: this
    /// wiki accepts `access_token` (issued by another `DevWiki`) for `user`
    /// and `client_id` until its `exp`, as it is (no signature check).
    /// Register the client here first. Refreshes and revocations on the
    /// other wiki do not reach this one: revoke here too. `false` for an
    /// unknown user, a client that is not OAuth 2.0, or a token that is not
    /// a JWT with `jti` and `exp`.
    pub fn import_oauth2_token(&self, user: &str, client_id: &str, access_token: &str) -> bool {
        oauth2::import_token(&mut self.shared.lock(), user, client_id, access_token)
    }

    /// Installs an authorization with a given access token, as a wiki farm
    /// with central OAuth does: the token a user got on one wiki works on
    /// every wiki of the farm. Use it to make a second `DevWiki` accept the
    /// tokens of the first (register the same consumer key and secret there
    /// first, with [`ConsumerSpec::key`] and [`ConsumerSpec::secret`]).
    /// `false` for an unknown user or consumer.
    pub fn import_grant(
        &self,
        user: &str,
        consumer_key: &str,
        access_key: &str,
        access_secret: &str,
    ) -> bool {
        let mut st = self.shared.lock();
        let Some(name) = st.find_user(user).map(|u| u.name.clone()) else {
            return false;
        };
        if !st.consumers.contains_key(consumer_key) {
            return false;
        }
        st.revoke(&name, consumer_key);
        st.import_acceptance(&name, consumer_key, access_key, access_secret);
        true
    }

    /// Adds an ordinary autoconfirmed user (e.g. for load tests that need
    /// many distinct users). `false` if the name is taken.
    pub fn add_user(&self, name: &str) -> bool {
        let mut st = self.shared.lock();
        if st.find_user(name).is_some() {
            return false;
        }
        let id = st.users.iter().map(|u| u.id).max().unwrap_or(0) + 1;
        st.users.push(users::ordinary_user(id, name));
        true
    }

    /// Revokes `user`'s authorization of a consumer (its access token stops
    /// working; the next handshake yields a new one). For an OAuth 2.0
    /// client (`consumer_key` = `client_id`), its access and refresh tokens
    /// for the user die. True if there was one.
    pub fn revoke(&self, user: &str, consumer_key: &str) -> bool {
        let mut st = self.shared.lock();
        let name = st
            .find_user(user)
            .map(|u| u.name.clone())
            .unwrap_or_else(|| user.to_string());
        st.revoke(&name, consumer_key)
    }

    /// Simulates replication lag: api.php requests that carry `maxlag` with
    /// a value below `lag_seconds` fail with the `maxlag` error (and the
    /// `Retry-After` / `X-Database-Lag` headers). `times`: only for the next
    /// N requests that carry `maxlag`; `None` = until switched off.
    /// `lag_seconds = None` switches it off.
    pub fn set_maxlag(&self, lag_seconds: Option<u32>, times: Option<u32>) {
        self.shared.lock().switches.set_maxlag(lag_seconds, times);
    }

    /// Rotates the wiki's CSRF secret: every token handed out so far now
    /// gets `badtoken` (`Invalid CSRF token.`), as after a session reset on
    /// a real wiki; a token fetched afterwards works.
    pub fn invalidate_tokens(&self) {
        self.shared.lock().invalidate_tokens();
    }

    /// Puts the wiki in read-only mode: write requests (`edit`, `upload`,
    /// `purge`) fail with the real `readonly` error (`The wiki is currently
    /// in read-only mode.`, plus `readonlyreason: reason`). `times`: only
    /// the next N write requests; `None` = until switched off.
    /// `reason = None` (or `times = Some(0)`) switches it off.
    pub fn set_readonly(&self, reason: Option<&str>, times: Option<u32>) {
        self.shared
            .lock()
            .switches
            .set_readonly(reason.map(str::to_string), times);
    }

    /// Makes `api.php` answer like a CDN edge rate limiter: HTTP 429 with
    /// `Retry-After: retry_after` and a short HTML body, before MediaWiki
    /// sees the request. `times`: only for the next N api.php requests;
    /// `None` = until switched off with `set_rate_limited(Some(0), _)`.
    pub fn set_rate_limited(&self, times: Option<u32>, retry_after: u32) {
        self.shared
            .lock()
            .switches
            .set_rate_limited(times, retry_after);
    }

    /// Treats the nonce of the next signed request (`api.php`, identify or
    /// the handshake) as already used: it fails with `Nonce already used`,
    /// as when a nonce collides or a request is replayed. Calls add up.
    pub fn reject_next_nonce(&self) {
        self.shared.lock().switches.reject_next_nonces(1);
    }

    /// The bytes of an uploaded file (`"Chart.png"` or `"File:Chart.png"`,
    /// normalized like the wiki does), `None` if there is no such file.
    pub fn file(&self, name: &str) -> Option<Vec<u8>> {
        let t = api_upload::file_title(name)?;
        self.shared
            .lock()
            .files
            .get(&t.dbkey())
            .map(|f| f.bytes.clone())
    }

    /// How many `api.php` requests reached the wiki for a module, by its
    /// module path: `"edit"`, `"upload"`, `"query"`, `"query+tokens"`,
    /// `"query+usercontribs"`, ... (`action`, and `prop`/`list`/`meta`
    /// submodules of `action=query`). `"*"` counts every request to
    /// `api.php`, including those turned away with HTTP 429.
    pub fn api_requests(&self, module: &str) -> u64 {
        self.shared
            .lock()
            .api_counts
            .get(module)
            .copied()
            .unwrap_or(0)
    }

    /// What the wiki saw of the last `api.php` request that got past the
    /// rate limiter (method, parameters, User-Agent).
    pub fn last_api_request(&self) -> Option<RecordedRequest> {
        self.shared.lock().last_api.clone()
    }

    /// The `User-Agent` of the last `api.php` request (see
    /// [`DevWiki::last_api_request`]).
    pub fn last_user_agent(&self) -> Option<String> {
        self.last_api_request().and_then(|r| r.user_agent)
    }

    /// Makes every wiki request answer HTTP 503 with an HTML error page, like
    /// a wiki that is down (the `/devwiki` controls keep working).
    pub fn set_down(&self, down: bool) {
        self.shared.lock().switches.set_down(down);
    }

    /// Runs the wiki's clock `seconds` ahead (or behind, negative) of the
    /// system clock: this moves its timestamp check, token expiry, JWT
    /// `iat`/`exp`, and edit timestamps.
    pub fn set_clock_offset(&self, seconds: i64) {
        self.shared.lock().switches.set_clock_offset(seconds);
    }

    /// The current text of a page.
    pub fn page_text(&self, title: &str) -> Option<String> {
        let t = pages::parse_title(title)?;
        self.shared.lock().wiki.text_of(&t)
    }

    /// The user names, seeded first.
    pub fn users(&self) -> Vec<String> {
        self.shared
            .lock()
            .users
            .iter()
            .map(|u| u.name.clone())
            .collect()
    }

    /// A user's edit count.
    pub fn edit_count(&self, user: &str) -> Option<i64> {
        self.shared.lock().find_user(user).map(|u| u.editcount)
    }
}

fn unreachable_consumer(key: &str) -> Consumer {
    Consumer {
        key: key.to_string(),
        secret: String::new(),
        name: String::new(),
        callback: String::new(),
        callback_is_prefix: false,
        grants: Vec::new(),
        owner_only: None,
        access_token: None,
        oauth2: false,
        confidential: true,
        oauth2_access_token: None,
    }
}

impl Drop for DevWiki {
    fn drop(&mut self) {
        self.shutdown.clone().notify();
    }
}

/// The Rocket handler: reads the request with its exact bytes and hands it
/// to [`dispatch`] (synchronously: the state lock is never held across an
/// `.await`).
#[derive(Clone)]
struct WikiHandler {
    shared: Arc<Shared>,
}

impl WikiHandler {
    /// Answers `req`; an api.php request with credentials is counted in
    /// flight for its user while it is served (and held for the api delay
    /// switch first), for `max_concurrent_api_requests`.
    async fn api_in_flight(&self, req: &Req) -> Resp {
        let sh = &self.shared;
        let api = req.raw_path == format!("{}/api.php", sh.script_path);
        let user = if api { api::caller(sh, req) } else { None };
        let (delay, profile_delay) = {
            let st = sh.lock();
            (st.switches.api_delay_ms(), st.switches.profile_delay_ms())
        };
        if profile_delay > 0 && req.raw_path.ends_with("/oauth2/resource/profile") {
            rocket::tokio::time::sleep(std::time::Duration::from_millis(profile_delay)).await;
        }
        if let Some(user) = &user {
            let mut st = sh.lock();
            let entry = st.in_flight.entry(user.clone()).or_insert((0, 0));
            entry.0 += 1;
            entry.1 = entry.1.max(entry.0);
        }
        if api && delay > 0 {
            rocket::tokio::time::sleep(std::time::Duration::from_millis(delay)).await;
        }
        let resp = dispatch(sh, req);
        if let Some(user) = &user {
            if let Some(entry) = sh.lock().in_flight.get_mut(user) {
                entry.0 = entry.0.saturating_sub(1);
            }
        }
        resp
    }
}

#[rocket::async_trait]
impl Handler for WikiHandler {
    async fn handle<'r>(&self, request: &'r Request<'_>, data: Data<'r>) -> Outcome<'r> {
        let mut req = Req::new(request.method().as_str(), "/");
        req.raw_path = request.uri().path().raw().as_str().to_string();
        req.query = request.uri().query().map(|q| q.raw().as_str().to_string());
        let headers = request.headers();
        req.authorization = headers.get_one("Authorization").map(str::to_string);
        req.content_type = headers.get_one("Content-Type").map(str::to_string);
        req.user_agent = headers.get_one("User-Agent").map(str::to_string);
        req.cookie = {
            let all: Vec<&str> = headers.get("Cookie").collect();
            (!all.is_empty()).then(|| all.join("; "))
        };
        if matches!(req.method.as_str(), "POST" | "PUT" | "PATCH" | "DELETE") {
            let limit = req.body_limit() as u64;
            match data.open(limit.bytes()).into_bytes().await {
                Ok(capped) => {
                    req.body_too_large = !capped.is_complete();
                    req.body = capped.into_inner();
                }
                Err(_) => req.body_too_large = true,
            }
        }
        let resp = self.api_in_flight(&req).await;
        let mut builder = Response::build();
        builder.status(Status::new(resp.status));
        for (name, value) in resp.headers {
            builder.raw_header_adjoin(name, value);
        }
        let len = resp.body.len();
        builder.sized_body(len, Cursor::new(resp.body));
        Outcome::Success(builder.finalize())
    }
}

/// Routes one request.
fn dispatch(sh: &Shared, req: &Req) -> Resp {
    let path = req.raw_path.as_str();
    if path == "/devwiki" || path.starts_with("/devwiki/") {
        return controls::handle(sh, req);
    }
    if sh.lock().switches.down() {
        return down_page();
    }
    if path == "/" || path.is_empty() {
        return home_page(sh);
    }
    // Like a wiki with `$wgScriptPath = "/w"`: index.php, api.php and the
    // uploads are only under the script path.
    if let Some(rest) = path.strip_prefix(sh.script_path.as_str()) {
        if rest == "/api.php" {
            return api::handle(sh, req);
        }
        if let Some(rest_path) = rest.strip_prefix("/rest.php") {
            if rest_path.is_empty() || rest_path.starts_with('/') {
                return oauth2::handle(sh, req, rest_path);
            }
        }
        if let Some(rest) = rest.strip_prefix("/images/") {
            return api_upload::serve(sh, rest);
        }
        if rest == "/index.php" || rest == "/" || rest.is_empty() {
            return index(sh, req, None, format!("{}/index.php", sh.script_path));
        }
        if let Some(rest) = rest.strip_prefix("/index.php/") {
            return index(sh, req, Some(path_title(rest)), path.to_string());
        }
    }
    if let Some(rest) = path.strip_prefix("/wiki/") {
        return index(sh, req, Some(path_title(rest)), path.to_string());
    }
    not_found()
}

fn path_title(raw: &str) -> String {
    // PATH_INFO is percent-decoded by the web server ('+' stays '+').
    let bytes = raw.replace('+', "%2B");
    String::from_utf8_lossy(&verify::urldecode(bytes.as_bytes())).into_owned()
}

fn not_found() -> Resp {
    Resp::page(
        404,
        "Not Found",
        "<p>The requested URL was not found on this server.</p>",
    )
}

fn down_page() -> Resp {
    let body = "<!DOCTYPE html>\n<html lang=\"en\">\n<meta charset=\"utf-8\">\n<title>Wikimedia Error</title>\n<style>body{font-family:sans-serif;margin:2em}</style>\n<div class=\"content\" role=\"main\">\n<h1>Error</h1>\n<p>Our servers are currently under maintenance or experiencing a technical problem. Please <a href=\"\" title=\"Reload this page\">try again</a> in a few&nbsp;minutes.</p>\n<p>See the error message at the bottom of this page for more&nbsp;information.</p>\n</div>\n<div class=\"footer\"><p>If you report this error to the Wikimedia System Administrators, please include the details below.</p><p class=\"text-muted\"><code>Request served via devwiki, Error: 503, Service Unavailable</code></p></div>\n</html>\n";
    Resp::new(503, "text/html; charset=utf-8", body).header(
        "Cache-Control",
        "private, s-maxage=0, max-age=0, must-revalidate",
    )
}

/// What a title names among the special pages handled here.
enum Special {
    OAuth(Option<String>),
    ManageMyGrants,
    Other(String),
}

fn special(title: &str) -> Option<Special> {
    let t = title.replace('_', " ");
    let (ns, rest) = t.split_once(':')?;
    if !ns.trim().eq_ignore_ascii_case("special") {
        return None;
    }
    let rest = rest.trim();
    let (name, sub) = match rest.split_once('/') {
        Some((n, s)) => (n.trim(), Some(s.to_string())),
        None => (rest, None),
    };
    Some(match name.to_ascii_lowercase().as_str() {
        "oauth" => Special::OAuth(sub),
        "oauthmanagemygrants" => Special::ManageMyGrants,
        _ => Special::Other(name.to_string()),
    })
}

fn index(sh: &Shared, req: &Req, path_title: Option<String>, action_path: String) -> Resp {
    let values = req.values();
    let title = path_title
        .or_else(|| http::val(&values, "title"))
        .filter(|t| !t.is_empty())
        .unwrap_or_else(|| "Main Page".into());
    match special(&title) {
        Some(Special::OAuth(sub)) => {
            let target = http::Target {
                action: action_path,
            };
            return special_oauth::execute(sh, req, sub.as_deref(), &target);
        }
        Some(Special::ManageMyGrants) => return manage_grants(sh, req, &values),
        None if is_privacy_policy(&title) => return privacy_policy(),
        Some(Special::Other(name)) => {
            return Resp::page(
                404,
                "No such special page",
                &format!(
                    "<p>You have requested an invalid special page: {}.</p>",
                    escape_html(&name)
                ),
            )
        }
        None => {}
    }
    if req
        .authorization
        .as_deref()
        .is_some_and(|a| a.starts_with("OAuth "))
    {
        return Resp::page(
            400,
            "OAuth authorization error",
            &messages::not_api().html(),
        );
    }
    let t = match pages::parse_title(&title) {
        Some(t) => t,
        None => {
            return Resp::page(
                400,
                "Bad title",
                "<p>The requested page title was invalid.</p>",
            )
        }
    };
    let text = sh.lock().wiki.text_of(&t);
    if http::val(&values, "action").as_deref() == Some("raw") {
        return match text {
            Some(text) => Resp::new(200, "text/x-wiki; charset=UTF-8", text),
            None => Resp::new(404, "text/x-wiki; charset=UTF-8", ""),
        };
    }
    match text {
        Some(text) => Resp::page(
            200,
            &t.full(),
            &format!("<pre id=\"wpTextbox1\">{}</pre>", escape_html(&text)),
        ),
        None => Resp::page(
            404,
            &t.full(),
            "<p>There is currently no text in this page.</p>",
        ),
    }
}

/// The page the authorize dialog's "Privacy policy" link opens
/// (`$wgSitename:Privacy policy`).
fn is_privacy_policy(title: &str) -> bool {
    let t = title.replace('_', " ");
    t.trim().eq_ignore_ascii_case("DevWiki:Privacy policy")
}

fn privacy_policy() -> Resp {
    Resp::page(
        200,
        "DevWiki:Privacy policy",
        "<p>DevWiki is a local imitation of a wiki for development and tests. It runs on your machine only and keeps everything in memory: users, pages, uploads and OAuth grants are gone when it stops. It sends nothing anywhere.</p>\n<p>Its consumer keys and secrets are development values and may be printed or shown freely; never use them on a real wiki.</p>",
    )
}

fn manage_grants(sh: &Shared, req: &Req, values: &verify::Params) -> Resp {
    let mut st = sh.lock();
    let mut notice = String::new();
    if req.was_posted() {
        if let (Some(user), Some(key)) =
            (http::val(values, "user"), http::val(values, "consumerKey"))
        {
            if st.revoke(&user, &key) {
                notice = "<p class=\"successbox\">The application's access to your account has been revoked.</p>".into();
            }
        }
    }
    let mut rows = String::new();
    let mut list: Vec<_> = st.acceptances.values().cloned().collect();
    list.sort_by(|a, b| (&a.user, &a.consumer).cmp(&(&b.user, &b.consumer)));
    for a in list {
        let name = st
            .consumers
            .get(&a.consumer)
            .map(|c| c.name.clone())
            .unwrap_or_default();
        rows.push_str(&format!(
            "<tr><td>{}</td><td>{}</td><td><form method=\"post\" action=\"/wiki/Special:OAuthManageMyGrants\"><input type=\"hidden\" name=\"user\" value=\"{}\"><input type=\"hidden\" name=\"consumerKey\" value=\"{}\"><button type=\"submit\">revoke access</button></form></td></tr>",
            escape_html(&a.user),
            escape_html(&name),
            escape_html(&a.user),
            escape_html(&a.consumer)
        ));
    }
    drop(st);
    let body = if rows.is_empty() {
        format!("{notice}<p>There are no applications connected to any account.</p>")
    } else {
        format!("{notice}<table id=\"mw-mwoauth-grants\"><tr><th>User</th><th>Application</th><th></th></tr>{rows}</table>")
    };
    Resp::page(200, "Manage connected applications", &body)
}

fn home_page(sh: &Shared) -> Resp {
    let server = sh.server();
    let info = controls::info(sh);
    let (key, secret, client_id, client_secret) = {
        let st = sh.lock();
        let (k, s) = st
            .public_consumer(&st.default_consumer)
            .map(|c| (c.key, c.secret))
            .unwrap_or_default();
        let (i, cs) = st
            .public_consumer(&st.default_oauth2_client)
            .map(|c| (c.key, c.secret))
            .unwrap_or_default();
        (k, s, i, cs)
    };
    let users = sh
        .lock()
        .users
        .iter()
        .map(|u| format!("<li>{}</li>", escape_html(&u.name)))
        .collect::<String>();
    let controls = info["controls"]
        .as_array()
        .map(|a| {
            a.iter()
                .filter_map(|v| v.as_str())
                .map(|c| format!("<li><code>{}</code></li>", escape_html(c)))
                .collect::<String>()
        })
        .unwrap_or_default();
    let s = escape_html(&server);
    let w = escape_html(&sh.script_url());
    let body = format!(
        "<p>This is <b>DevWiki</b>, a local imitation of MediaWiki with Extension:OAuth (OAuth 1.0a and 2.0) and <code>api.php</code>, for developing and testing apps offline.</p>\n<ul>\n<li>Server (<code>$wgServer</code>): <code>{s}</code></li>\n<li>Script path: <code>{w}</code></li>\n<li><a href=\"{w}/index.php?title=Special:OAuth\">Special:OAuth</a>: <code>{w}/index.php?title=Special:OAuth/initiate</code>, <code>…/authorize</code>, <code>…/token</code>, <code>…/identify</code></li>\n<li>API: <a href=\"{w}/api.php\">{w}/api.php</a></li>\n<li>OAuth 2.0: <code>{w}/rest.php/oauth2/authorize</code>, <code>…/access_token</code>, <code>…/resource/profile</code>, <code>…/resource/scopes</code></li>\n<li><a href=\"/wiki/Main_Page\">Main Page</a> · <a href=\"/wiki/Special:OAuthManageMyGrants\">Connected applications</a></li>\n</ul>\n<h2>Default consumer</h2>\n<p>Key <code id=\"consumer-key\">{}</code>, secret <code id=\"consumer-secret\">{}</code></p>\n<h2>Default OAuth 2.0 client</h2>\n<p>client_id <code id=\"oauth2-client-id\">{}</code>, client secret <code id=\"oauth2-client-secret\">{}</code></p>\n<h2>Users</h2>\n<ul>{users}</ul>\n<h2>Test controls</h2>\n<ul>{controls}</ul>",
        escape_html(&key),
        escape_html(&secret),
        escape_html(&client_id),
        escape_html(&client_secret)
    );
    Resp::page(200, "DevWiki", &body)
}
