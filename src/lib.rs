//! Sign the users of a [Rocket](https://rocket.rs) 0.5 app in with a
//! MediaWiki wiki — Wikipedia, Wikidata, Commons, any wiki running
//! Extension:OAuth — and act on the wiki on their behalf, with OAuth 2.0
//! (what MediaWiki recommends) or OAuth 1.0a.
//!
//! The crate is a [fairing](MwOAuth::fairing) that reads the `mwoauth` table
//! of `Rocket.toml`, checks it at ignite and mounts `/login`,
//! `/oauth-callback` and `/logout`, and a few request guards:
//!
//! | guard | what a handler gets |
//! |---|---|
//! | [`MwUser`] (or `Option<MwUser>`; `&MwUser` lends it without a copy) | who is signed in, from the session cookie: no request to the wiki |
//! | [`LoginRequired`] | the same, but a visitor is sent to log in and back |
//! | [`VerifiedMwUser`] | who is signed in, asked of the wiki (a revoked grant signs out) |
//! | [`MwApi`] | an [`ApiClient`] acting as the user: signed `api.php` requests, on this wiki or another |
//! | [`OwnerApi`] | an [`ApiClient`] acting as an owner-only consumer (no user) |
//!
//! Tokens live in encrypted cookies (keys from Rocket's `secret_key`), so any
//! number of instances sharing `secret_key` serve the same users. Each guard has a
//! [`Sentinel`](rocket::Sentinel): an app that uses one without the fairing
//! does not launch.
//!
//! # Sign users in
//!
//! Register an OAuth 2.0 client on the wiki (`Special:OAuthConsumerRegistration/propose/oauth2`)
//! with the callback `https://your.tool/oauth-callback`, then:
//!
//! ```toml
//! # Rocket.toml (or ROCKET_MWOAUTH_<KEY> variables)
//! [default.mwoauth]
//! base_url = "https://meta.wikimedia.org/w"
//! client_id = "0123456789abcdef0123456789abcdef"
//! # client_secret: set ROCKET_MWOAUTH_CLIENT_SECRET rather than write it here
//! callback = "https://your.tool/oauth-callback"
//! user_agent = "MyTool/1.0 (https://your.tool; me@example.org)"
//! ```
//!
//! ```no_run
//! use rocket::{get, launch, routes};
//! use rocket_mediawiki_oauth::{LoginRequired, MwOAuth, MwUser};
//!
//! #[get("/")]
//! fn index(user: Option<MwUser>) -> String {
//!     match user {
//!         Some(user) => format!("Hello, {}! <a href=\"/logout\">Log out</a>", user.name),
//!         None => "Hello! <a href=\"/login\">Log in</a>".into(),
//!     }
//! }
//!
//! #[get("/private")]
//! fn private(user: LoginRequired) -> String {
//!     format!("Only for you, {}", user.name)
//! }
//!
//! #[launch]
//! fn rocket() -> _ {
//!     rocket::build()
//!         .attach(MwOAuth::fairing())
//!         .mount("/", routes![index, private])
//! }
//! ```
//!
//! `/login?next=/private` comes back to `/private`; only paths on the site
//! are followed. Every key of the table, its default and its environment
//! variable are on [`Config`]; a bad or missing one stops launch with a
//! [`ConfigError`] that names it.
//!
//! # Call the API as the user
//!
//! ```no_run
//! use rocket::get;
//! use rocket_mediawiki_oauth::{Error, MwApi};
//!
//! #[get("/edit")]
//! async fn edit(api: MwApi) -> Result<String, Error> {
//!     let me = api.get(&[("action", "query"), ("meta", "userinfo")]).await?;
//!     // A CSRF token is fetched (and cached) for writes.
//!     api.post_with_token(
//!         "csrf",
//!         &[("action", "edit"), ("title", "Sandbox"), ("appendtext", "\nHello")],
//!     )
//!     .await?;
//!     // The same user on another wiki of the same farm.
//!     let wikidata = api.at("https://www.wikidata.org/w/api.php");
//!     wikidata.get(&[("action", "wbgetentities"), ("ids", "Q42")]).await?;
//!     Ok(format!("edited as {}", me["query"]["userinfo"]["name"]))
//! }
//! ```
//!
//! OAuth 2.0 access tokens are renewed before they expire, once per token
//! for all the requests that hold it, and the session cookie is rewritten.
//! [`ApiClient`] follows `continue`, uploads files, waits as the wiki asks
//! (maxlag, read-only, `Retry-After`) within [`ApiOptions`], and answers
//! with a typed [`ApiError`]. [`Error`] is the guards' and routes' error; it
//! answers with a page (or JSON), or with your catchers ([`ErrorPages`],
//! [`error_info`]).
//!
//! # Act as the user later, in a background job
//!
//! ```no_run
//! use rocket::fairing::AdHoc;
//! use rocket::{get, launch, routes};
//! use rocket_mediawiki_oauth::{Credentials, MwApi, MwOAuth};
//!
//! #[get("/remember")]
//! fn remember(api: MwApi) -> String {
//!     // A secret: store it encrypted, like a password.
//!     serde_json::to_string(&api.credentials()).unwrap()
//! }
//!
//! #[launch]
//! fn rocket() -> _ {
//!     rocket::build()
//!         .attach(MwOAuth::fairing())
//!         .attach(AdHoc::on_liftoff("nightly job", |rocket| {
//!             Box::pin(async move {
//!                 let handle = MwOAuth::fetch(rocket).expect("attached").clone();
//!                 rocket::tokio::spawn(async move {
//!                     let stored = std::fs::read_to_string("credentials.json").unwrap();
//!                     let credentials: Credentials = serde_json::from_str(&stored).unwrap();
//!                     let api = handle.api(credentials);
//!                     let _ = api.get(&[("action", "query"), ("meta", "userinfo")]).await;
//!                     // Renewed tokens rotate: store them again.
//!                     let again = serde_json::to_string(&api.credentials()).unwrap();
//!                     std::fs::write("credentials.json", again).unwrap();
//!                 });
//!             })
//!         }))
//!         .mount("/", routes![remember])
//! }
//! ```
//!
//! A bot with no user registers an owner-only consumer: `owner_client_id`
//! and `owner_client_secret` in the table give [`OwnerApi`] and
//! [`MwOAuthHandle::owner_api`]; outside Rocket, [`ApiClient::owner`].
//!
//! # Test with the local wiki
//!
//! The repository's `devwiki` crate imitates MediaWiki + Extension:OAuth on
//! loopback (1.39, 1.43 or 1.47), with users who approve at once: a test
//! signs in for real, with no registration and no network.
//!
//! ```
//! # use rocket::{get, routes};
//! # use rocket_mediawiki_oauth::{MwOAuth, MwUser};
//! # #[get("/")]
//! # fn index(user: Option<MwUser>) -> String {
//! #     user.map_or("anonymous".into(), |u| format!("Hello, {}!", u.name))
//! # }
//! use devwiki::{DevWiki, DevWikiConfig, MediaWikiVersion};
//!
//! # rocket::async_test(async {
//! let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
//! let callback = format!("http://127.0.0.1:{port}/oauth-callback");
//! let wiki = DevWiki::start(DevWikiConfig {
//!     mediawiki: MediaWikiVersion::V1_43,
//!     auto_approve: Some("Alice".into()), // Alice presses Allow at once
//!     oauth2_redirect_uri: callback.clone(),
//!     ..DevWikiConfig::default()
//! })
//! .await
//! .unwrap();
//! let client = wiki.default_oauth2_client();
//! let figment = rocket::Config::figment()
//!     .merge(("port", port))
//!     .merge(("log_level", "off"))
//!     .merge(("mwoauth.base_url", wiki.base_url()))
//!     .merge(("mwoauth.client_id", client.key.clone()))
//!     .merge(("mwoauth.client_secret", client.secret.clone()))
//!     .merge(("mwoauth.callback", callback));
//! let app = rocket::custom(figment)
//!     .attach(MwOAuth::fairing())
//!     .mount("/", routes![index])
//!     .ignite()
//!     .await
//!     .unwrap();
//! let shutdown = app.shutdown();
//! rocket::tokio::spawn(app.launch());
//! # rocket::tokio::time::sleep(std::time::Duration::from_millis(300)).await;
//!
//! // A browser: keeps cookies, follows redirects to the wiki and back.
//! let browser = reqwest::Client::builder().cookie_store(true).build().unwrap();
//! let page = browser
//!     .get(format!("http://127.0.0.1:{port}/login"))
//!     .send()
//!     .await
//!     .unwrap()
//!     .text()
//!     .await
//!     .unwrap();
//! assert_eq!(page, "Hello, Alice!");
//! shutdown.notify();
//! wiki.shutdown().await;
//! # });
//! ```
//!
//! The repository's README has the whole tour: the demo app, a Toolforge
//! deployment, OAuth 1.0a, the security model and the local wiki's
//! controls.
#![warn(missing_docs)]
#![cfg_attr(docsrs, feature(doc_cfg))]

mod api;
mod compact;
mod config;
mod error;
mod fairing;
#[cfg(fuzzing)]
#[doc(hidden)]
pub mod fuzzing;
mod guards;
mod i18n;
mod protocol;
mod redirect;
mod response;
mod routes;
mod session;
mod state;
mod user;
mod wire;

pub use api::{ApiClient, ApiError, ApiOptions};
pub use config::{
    Callback, Config, ConfigError, ErrorPages, OAuthVersion, OwnerOnly, SessionStore,
};
pub use error::Error;
pub use fairing::MwOAuth;
pub use guards::{grant, require_grant, Grant, LoginRequired, MwApi, OwnerApi, RequireGrant};
pub use i18n::UserLanguage;
pub use protocol::{Credentials, IdentityError, WikiError};
pub use response::{error_info, login_redirect, ErrorInfo};
pub use state::MwOAuthHandle;
pub use user::{MwUser, VerifiedMwUser};
