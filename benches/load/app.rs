//! The app under load (run by this same binary in a child process, with
//! `LOAD_ROLE=app`) and how to start it.

use std::process::{Command, Stdio};

use devwiki::{ConsumerSpec, DevWiki, DevWikiConfig};
use rocket::{get, routes, State};
use rocket_mediawiki_oauth::{Error, MwApi, MwOAuth, MwUser};

use crate::common::{cookie_after_login, free_port, wait_ready, Proc, SECRET_KEY};

#[get("/bare")]
pub fn bare() -> &'static str {
    "hello"
}

/// The signed-in page: the user lent for the request (`&MwUser`).
#[get("/user")]
pub fn user(user: &MwUser) -> String {
    format!("hello {}", user.name)
}

/// The same page with the user copied out (`MwUser`).
#[get("/user-owned")]
pub fn user_owned(user: MwUser) -> String {
    format!("hello {}", user.name)
}

#[get("/maybe")]
pub fn maybe(user: Option<MwUser>) -> String {
    format!("hello {}", user.map_or("anonymous".to_string(), |u| u.name))
}

#[get("/api")]
pub async fn api(api: MwApi) -> Result<String, Error> {
    let answer = api
        .request(&[("action", "query"), ("meta", "userinfo")])
        .await?;
    Ok(answer["query"]["userinfo"]["name"]
        .as_str()
        .unwrap_or_default()
        .to_string())
}

pub struct Plain {
    pub http: reqwest::Client,
    pub api: String,
}

/// The same call as `/api`, unsigned (the wiki answers as an anonymous user).
#[get("/api-unsigned")]
pub async fn api_unsigned(plain: &State<Plain>) -> Result<String, String> {
    let url = format!(
        "{}?action=query&meta=userinfo&format=json&formatversion=2",
        plain.api
    );
    let answer: serde_json::Value = plain
        .http
        .get(url)
        .send()
        .await
        .map_err(|e| e.to_string())?
        .json()
        .await
        .map_err(|e| e.to_string())?;
    Ok(answer["query"]["userinfo"]["name"]
        .as_str()
        .unwrap_or_default()
        .to_string())
}

pub fn run_app() {
    let env =
        |k: &str| std::env::var(k).unwrap_or_else(|_| panic!("{k} is set by the orchestrator"));
    let port: u16 = env("LOAD_PORT").parse().unwrap();
    let mut figment = rocket::Config::figment()
        .merge(("address", "127.0.0.1"))
        .merge(("port", port))
        .merge(("log_level", "off"))
        .merge(("secret_key", SECRET_KEY))
        .merge(("mwoauth.base_url", env("LOAD_WIKI_BASE")))
        .merge(("mwoauth.default_return", "/maybe"))
        .merge((
            "mwoauth.user_agent",
            "rocket_mediawiki_oauth-bench/0 (https://example.org/bench)",
        ));
    figment = if std::env::var("LOAD_OAUTH").as_deref() == Ok("2") {
        figment
            .merge(("mwoauth.oauth_version", 2))
            .merge(("mwoauth.client_id", env("LOAD_CONSUMER_KEY")))
            .merge(("mwoauth.client_secret", env("LOAD_CONSUMER_SECRET")))
            .merge(("mwoauth.callback", env("LOAD_CALLBACK")))
    } else {
        figment
            .merge(("mwoauth.consumer_key", env("LOAD_CONSUMER_KEY")))
            .merge(("mwoauth.consumer_secret", env("LOAD_CONSUMER_SECRET")))
    };
    if let Ok(url) = std::env::var("LOAD_REDIS_URL") {
        figment = figment
            .merge(("mwoauth.store", "redis"))
            .merge(("mwoauth.redis_url", url))
            .merge(("mwoauth.redis_prefix", env("LOAD_REDIS_PREFIX")));
    }
    let plain = Plain {
        http: reqwest::Client::builder()
            .user_agent("rocket_mediawiki_oauth-bench/0 (https://example.org/bench)")
            .build()
            .unwrap(),
        api: format!("{}/api.php", env("LOAD_WIKI_BASE")),
    };
    let rocket = rocket::custom(figment)
        .attach(MwOAuth::fairing())
        .manage(plain)
        .mount(
            "/",
            routes![bare, user, user_owned, maybe, api, api_unsigned],
        );
    let _ = rocket::execute(rocket.launch());
}

/// How to start one of our apps: its environment.
#[derive(Clone)]
pub struct AppSpec {
    pub oauth: u8,
    pub key: String,
    pub secret: String,
    pub callback: Option<String>,
}

/// Where an app of ours keeps its sessions (`mwoauth.store`).
#[derive(Clone, Debug)]
pub enum StoreSpec {
    /// In the private cookie (the default).
    Cookie,
    /// In the Redis at `url`, every key starting with `prefix`.
    Redis { url: String, prefix: String },
}

/// The command of one of our apps (`wrapper`: e.g. valgrind's), with its
/// sessions in `store`.
pub fn app_command_with(
    wrapper: Option<&[String]>,
    spec: &AppSpec,
    store: &StoreSpec,
    port: u16,
    wiki_base: &str,
) -> Command {
    let exe = std::env::current_exe().unwrap();
    let mut cmd = match wrapper {
        Some(w) => {
            let mut c = Command::new(&w[0]);
            c.args(&w[1..]).arg(exe);
            c
        }
        None => Command::new(exe),
    };
    cmd.env("LOAD_ROLE", "app")
        .env("LOAD_OAUTH", spec.oauth.to_string())
        .env("LOAD_PORT", port.to_string())
        .env("LOAD_WIKI_BASE", wiki_base)
        .env("LOAD_CONSUMER_KEY", &spec.key)
        .env("LOAD_CONSUMER_SECRET", &spec.secret)
        .env(
            "LOAD_CALLBACK",
            spec.callback
                .clone()
                .unwrap_or_else(|| format!("http://127.0.0.1:{port}/oauth-callback")),
        )
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    if let StoreSpec::Redis { url, prefix } = store {
        cmd.env("LOAD_REDIS_URL", url)
            .env("LOAD_REDIS_PREFIX", prefix);
    }
    cmd
}

/// Starts one of our apps (release build, own process) on `port`: the
/// process and its base URL, once it answers. `wiki_base` is the wiki's
/// `base_url` (the script path's URL).
pub async fn start_app(spec: &AppSpec, port: u16, wiki_base: &str) -> (Proc, String) {
    start_app_with(spec, &StoreSpec::Cookie, port, wiki_base).await
}

/// [`start_app`] with the sessions in `store`.
pub async fn start_app_with(
    spec: &AppSpec,
    store: &StoreSpec,
    port: u16,
    wiki_base: &str,
) -> (Proc, String) {
    let app = Proc(
        app_command_with(None, spec, store, port, wiki_base)
            .spawn()
            .expect("the app starts"),
    );
    let base = format!("http://127.0.0.1:{port}");
    assert!(
        wait_ready(&format!("{base}/bare"), 300).await,
        "the app is ready"
    );
    (app, base)
}

/// What most sections measure: the local wiki and two apps of ours on it,
/// OAuth 1.0a (`…1`) and OAuth 2.0 (`…2`), each with Alice signed in.
pub struct Ours {
    pub wiki: DevWiki,
    /// The grants of every consumer of the bench.
    pub grants: Vec<String>,
    /// The OAuth 1.0a app's port (its consumer's callback names it).
    pub port1: u16,
    pub spec1: AppSpec,
    pub spec2: AppSpec,
    pub base1: String,
    pub base2: String,
    pub pid1: u32,
    pub pid2: u32,
    /// Alice's session cookies (`Cookie` header values).
    pub cookie1: String,
    pub cookie2: String,
}

impl Ours {
    /// Starts the local wiki and the two apps, signs Alice in to each and
    /// checks the API call works: the apps' processes are returned beside.
    pub async fn start() -> (Ours, (Proc, Proc)) {
        let wiki = DevWiki::start(DevWikiConfig {
            auto_approve: Some("Alice".into()),
            ..DevWikiConfig::default()
        })
        .await
        .expect("the local wiki starts");
        let grants = vec![
            "basic".to_string(),
            "editpage".to_string(),
            "highvolume".to_string(),
        ];
        let port1 = free_port();
        let ours1 = wiki.register_consumer(ConsumerSpec {
            name: "Bench (Rust, OAuth 1.0a)".into(),
            callback: format!("http://127.0.0.1:{port1}/oauth-callback"),
            grants: grants.clone(),
            ..Default::default()
        });
        let ours2 = wiki.register_consumer(ConsumerSpec {
            name: "Bench (Rust, OAuth 2.0)".into(),
            // Any port of 127.0.0.1 is accepted; the app sends its own.
            callback: "http://127.0.0.1:1/oauth-callback".into(),
            grants: grants.clone(),
            oauth2: true,
            ..Default::default()
        });
        let spec1 = AppSpec {
            oauth: 1,
            key: ours1.key.clone(),
            secret: ours1.secret.clone(),
            callback: None,
        };
        let spec2 = AppSpec {
            oauth: 2,
            key: ours2.key.clone(),
            secret: ours2.secret.clone(),
            callback: None,
        };
        let (app1, base1) = start_app(&spec1, port1, &wiki.base_url()).await;
        let (app2, base2) = start_app(&spec2, free_port(), &wiki.base_url()).await;
        let (pid1, pid2) = (app1.0.id(), app2.0.id());
        let cookie1 = cookie_after_login(&format!("{base1}/login"), &base1).await;
        let cookie2 = cookie_after_login(&format!("{base2}/login"), &base2).await;
        for (base, cookie) in [(&base1, &cookie1), (&base2, &cookie2)] {
            let check = reqwest::Client::new()
                .get(format!("{base}/api"))
                .header("Cookie", cookie)
                .send()
                .await
                .unwrap();
            assert_eq!(
                check.text().await.unwrap(),
                "Alice",
                "the API call works before measuring ({base})"
            );
        }
        let ours = Ours {
            wiki,
            grants,
            port1,
            spec1,
            spec2,
            base1,
            base2,
            pid1,
            pid2,
            cookie1,
            cookie2,
        };
        (ours, (app1, app2))
    }
}
