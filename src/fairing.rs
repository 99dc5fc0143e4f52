//! The fairing: reads and checks the configuration at ignite, builds the one
//! shared HTTP client, manages the state and mounts the routes and catcher.

use rocket::fairing::{self, Fairing, Info, Kind};
use rocket::{Build, Rocket};

use crate::api::TokenCache;
use crate::config::{Config, ErrorPages};
use crate::protocol::{self, TokenPair};
use crate::session::{CookiePolicy, UserCache};

/// The state the fairing manages; guards and routes read it.
pub(crate) struct OAuthState {
    pub config: Config,
    /// `config.api_url()`, computed once.
    pub api_url: String,
    pub http: reqwest::Client,
    pub consumer: TokenPair,
    pub cookies: CookiePolicy,
    pub tokens: TokenCache,
    pub users: UserCache,
}

/// Sign-in with a MediaWiki wiki: attach [`MwOAuth::fairing()`] to Rocket.
///
/// ```no_run
/// # use rocket::{get, launch, routes};
/// use rocket_mediawiki_oauth::{MwOAuth, MwUser};
///
/// #[get("/")]
/// fn index(user: Option<MwUser>) -> String {
///     match user {
///         Some(user) => format!("Hello, {}!", user.name),
///         None => "Hello! <a href=\"/login\">Log in</a>".into(),
///     }
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
}

#[rocket::async_trait]
impl Fairing for MwOAuth {
    fn info(&self) -> Info {
        Info {
            name: "MediaWiki OAuth",
            kind: Kind::Ignite | Kind::Response,
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
        let http = match reqwest::Client::builder()
            .user_agent(config.user_agent.clone())
            .timeout(config.timeout)
            .connect_timeout(config.timeout.min(std::time::Duration::from_secs(10)))
            .redirect(reqwest::redirect::Policy::none())
            .pool_idle_timeout(std::time::Duration::from_secs(60))
            .build()
        {
            Ok(h) => h,
            Err(e) => {
                log::error!("MediaWiki OAuth: cannot build the HTTP client: {e}");
                return Err(rocket);
            }
        };
        let secure = config.secure_cookies.unwrap_or_else(|| {
            rocket::Config::from(rocket.figment()).tls_enabled()
                || config.callback.starts_with("https://")
        });
        let cookies = CookiePolicy {
            secure,
            login_path: config.mount.clone(),
            session_days: config.session_days,
        };
        let mount = config.mount.clone();
        let state = OAuthState {
            consumer: protocol::consumer(&config),
            api_url: config.api_url(),
            config,
            http,
            cookies,
            tokens: TokenCache::default(),
            users: UserCache::default(),
        };
        let own_catchers = state.config.error_pages == ErrorPages::Builtin;
        let rocket = rocket.manage(state).mount(mount, crate::routes::routes());
        // With `error_pages = "catchers"` the app's own 401 catcher answers
        // (and calls `login_redirect`).
        Ok(if own_catchers {
            rocket.register("/", crate::guards::catchers())
        } else {
            rocket
        })
    }

    async fn on_response<'r>(&self, req: &'r rocket::Request<'_>, res: &mut rocket::Response<'r>) {
        if let Some(state) = req.rocket().state::<OAuthState>() {
            crate::session::reapply_removals(req, &state.cookies, res);
        }
    }
}
