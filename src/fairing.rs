//! The fairing: reads and checks the configuration at ignite, builds the
//! state, mounts the routes and registers the catcher; on every response it
//! re-applies what catchers would drop.

use rocket::fairing::{self, Fairing, Info, Kind};
use rocket::{Build, Phase, Rocket};

use crate::config::{Config, ConfigError, ErrorPages};
use crate::i18n::Messages;
use crate::state::{MwOAuthHandle, OAuthState};

/// Sign-in with a MediaWiki wiki: attach [`MwOAuth::fairing()`] to Rocket.
///
/// ```no_run
/// # use rocket::{get, launch, routes};
/// use rocket::response::content::RawHtml;
/// use rocket_mediawiki_oauth::{MwOAuth, MwUser};
///
/// #[get("/")]
/// fn index(user: Option<MwUser>) -> RawHtml<String> {
///     RawHtml(match user {
///         Some(user) => format!("Hello, {}!", rocket::http::RawStr::new(&user.name).html_escape()),
///         None => "Hello! <a href=\"/login\">Log in</a>".into(),
///     })
/// }
///
/// #[launch]
/// fn rocket() -> _ {
///     rocket::build().attach(MwOAuth::fairing()).mount("/", routes![index])
/// }
/// ```
#[derive(Debug, Default)]
pub struct MwOAuth {
    config: Option<Config>,
}

impl MwOAuth {
    /// The fairing, configured from the `mwoauth` table of Rocket's figment
    /// (`Rocket.toml`, `ROCKET_MWOAUTH_*`).
    pub fn fairing() -> MwOAuth {
        MwOAuth { config: None }
    }

    /// The fairing with a configuration built in code (still checked at ignite).
    pub fn with_config(config: Config) -> MwOAuth {
        MwOAuth {
            config: Some(config),
        }
    }

    /// The fairing's handle in a Rocket that has ignited with it (`None` when
    /// the fairing is not attached, or before ignition): for work outside a
    /// request. See [`MwOAuthHandle`].
    pub fn fetch<P: Phase>(rocket: &Rocket<P>) -> Option<&MwOAuthHandle> {
        crate::state::handle_of(rocket)
    }
}

#[rocket::async_trait]
impl Fairing for MwOAuth {
    fn info(&self) -> Info {
        Info {
            name: "MediaWiki OAuth",
            kind: Kind::Ignite | Kind::Request | Kind::Response,
        }
    }

    async fn on_ignite(&self, rocket: Rocket<Build>) -> fairing::Result {
        let config = match &self.config {
            Some(c) => c.validate().map(|()| c.clone()),
            None => Config::from_figment(rocket.figment()),
        };
        let config = match config {
            Ok(c) => c,
            Err(e) => {
                log::error!("MediaWiki OAuth: bad configuration: {e}");
                return Err(rocket);
            }
        };
        if !config.user_agent_set {
            log::warn!(
                "MediaWiki OAuth: mwoauth.user_agent is not set; Wikimedia wikis require a descriptive \
                 User-Agent such as \"MyTool/1.0 (https://mytool.toolforge.org; me@example.org)\""
            );
        }
        if config.sign_in
            && config.oauth_version == crate::config::OAuthVersion::OAuth2
            && config.public_client
            && config.consumer_secret.is_empty()
        {
            log::warn!(
                "MediaWiki OAuth: public_client = true without mwoauth.client_secret \
                 (ROCKET_MWOAUTH_CLIENT_SECRET): users can sign in, but MediaWiki (1.39 and 1.43 \
                 alike) refuses to refresh a public client's tokens without its secret, so every \
                 sign-in ends when its first access token expires. Set client_secret to the \
                 secret MediaWiki showed when the client was registered (it gives one to every \
                 client)."
            );
        }
        let rocket_config = rocket::Config::from(rocket.figment());
        if !rocket_config.secret_key.is_provided() {
            let advice =
                "MediaWiki OAuth: Rocket's secret_key is not set. It encrypts the sign-in \
                cookies: without a fixed one, every restart signs everybody out and instances \
                cannot share sign-ins. Make one with `openssl rand -base64 32` and set it as \
                ROCKET_SECRET_KEY (or secret_key in Rocket.toml, kept out of version control).";
            if rocket_config.profile == rocket::Config::DEBUG_PROFILE {
                log::warn!("{advice} (Ignore Rocket's hint to disable the secrets feature: this crate needs it.)");
            } else {
                log::error!(
                    "{advice} Rocket refuses to start without it outside the debug profile."
                );
            }
        }
        let tls = rocket_config.tls_enabled();
        if config.secure_cookies.is_none()
            && !tls
            && !config.callback.as_str().starts_with("https://")
        {
            log::warn!(
                "MediaWiki OAuth: this app cannot tell whether browsers reach it over HTTPS \
                 (no TLS in Rocket, mwoauth.callback is not https://, secure_cookies is not set). \
                 Its cookies get the Secure attribute only on requests that a proxy marks with \
                 `X-Forwarded-Proto: https`. Behind a TLS proxy (Toolforge, nginx) set \
                 mwoauth.secure_cookies = true (ROCKET_MWOAUTH_SECURE_COOKIES=true); for plain \
                 HTTP in development set it to false to silence this warning."
            );
        }
        let messages = match &config.i18n_dir {
            Some(dir) => match Messages::load(dir) {
                Ok(m) => m,
                Err(e) => {
                    let e = ConfigError::new("i18n_dir", e);
                    log::error!("MediaWiki OAuth: bad configuration: {e}");
                    return Err(rocket);
                }
            },
            None => Messages::default(),
        };
        let mount = config.mount.clone();
        let sign_in = config.sign_in;
        let own_catchers = config.error_pages == ErrorPages::Builtin;
        let store = match crate::session::Store::start(&config, &rocket).await {
            Ok(store) => store,
            Err(e) => {
                log::error!("MediaWiki OAuth: {e}");
                return Err(rocket);
            }
        };
        let state = match OAuthState::new(config, tls, messages, store) {
            Ok(s) => s,
            Err(e) => {
                log::error!("MediaWiki OAuth: {e}");
                return Err(rocket);
            }
        };
        let rocket = rocket.manage(MwOAuthHandle::new(state));
        // Only an owner-only consumer: nobody signs in, no routes.
        let rocket = if sign_in {
            rocket.mount(mount, crate::routes::routes())
        } else {
            rocket
        };
        // With `error_pages = "catchers"` the app's own 401 catcher answers
        // (and calls `login_redirect`).
        Ok(if own_catchers {
            rocket.register("/", crate::response::catchers())
        } else {
            rocket
        })
    }

    async fn on_request(&self, req: &mut rocket::Request<'_>, _: &mut rocket::Data<'_>) {
        crate::response::on_request(req);
    }

    async fn on_response<'r>(&self, req: &'r rocket::Request<'_>, res: &mut rocket::Response<'r>) {
        crate::response::on_response(req, res);
    }
}
