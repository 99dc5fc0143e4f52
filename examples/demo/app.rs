//! The demo app itself, shared by `cargo run --example demo` and the browser test.

use devwiki::{DevWiki, DevWikiConfig};
use rocket::fairing::AdHoc;
use rocket::figment::Figment;
use rocket::form::{Form, FromForm};
use rocket::http::Status;
use rocket::request::FlashMessage;
use rocket::response::Redirect;
use rocket::{catch, catchers, get, post, routes, Build, Either, Request, Rocket, State};
use rocket_dyn_templates::{context, Template};
use rocket_mediawiki_oauth::{
    error_info, login_redirect, Error, LoginRequired, MwApi, MwOAuth, MwUser, OAuthVersion,
    UserLanguage,
};
use serde::Serialize;
use serde_json::Value;

/// What every page shows around its content: where the wiki is, the links.
#[derive(Clone, Serialize)]
pub struct Site {
    /// The wiki's `base_url` (folder of `index.php` and `api.php`).
    pub wiki: String,
    /// The embedded local wiki (`true`) or a real one.
    pub local: bool,
    pub repository: &'static str,
    pub readme: String,
    pub docs: &'static str,
    /// "OAuth 1.0a" or "OAuth 2.0", as configured.
    pub protocol: &'static str,
}

/// The demo's own messages (`examples/demo/i18n/`, given to the crate as
/// `mwoauth.i18n_dir`): their English file lists the keys.
const MESSAGE_KEYS: &str = include_str!("i18n/en.json");

/// The demo's texts in the visitor's language, for the templates:
/// `demo-nav-home` is `t.nav_home`. `user` fills the texts that name them.
fn texts(lang: &UserLanguage, user: Option<&MwUser>) -> std::collections::HashMap<String, String> {
    let keys: serde_json::Map<String, Value> =
        serde_json::from_str(MESSAGE_KEYS).unwrap_or_default();
    let name = user.map_or("", |u| u.name.as_str());
    keys.keys()
        .filter_map(|key| {
            let short = key.strip_prefix("demo-")?.replace('-', "_");
            Some((short, lang.msg(key, &[name])))
        })
        .collect()
}

type Flash = Option<(String, String)>;

fn flash(flash: Option<FlashMessage<'_>>) -> Flash {
    flash.map(|f| (f.kind().to_string(), f.message().to_string()))
}

/// MediaWiki's `20221101000000` as `2022-11-01 00:00:00 UTC`.
fn mw_timestamp(ts: &str) -> String {
    let d = |r: std::ops::Range<usize>| ts.get(r).unwrap_or("");
    if ts.len() == 14 && ts.bytes().all(|b| b.is_ascii_digit()) {
        format!(
            "{}-{}-{} {}:{}:{} UTC",
            d(0..4),
            d(4..6),
            d(6..8),
            d(8..10),
            d(10..12),
            d(12..14)
        )
    } else {
        ts.to_string()
    }
}

#[get("/")]
fn index(
    user: Option<MwUser>,
    site: &State<Site>,
    f: Option<FlashMessage<'_>>,
    lang: UserLanguage,
) -> Template {
    let registered = user
        .as_ref()
        .and_then(|u| u.registered.as_deref())
        .map(mw_timestamp);
    Template::render(
        "index",
        context! {
            t: texts(&lang, user.as_ref()),
            lang: lang.code(),
            user,
            registered,
            site: site.inner(),
            flash: flash(f),
            page: "home",
        },
    )
}

/// One API request as the page shows it: the method, the URL and the
/// parameters (those the demo passed, and those the crate adds).
#[derive(Serialize)]
struct ShownRequest {
    method: &'static str,
    call: &'static str,
    url: String,
    params: Vec<(String, String)>,
    added: Vec<(&'static str, &'static str)>,
    answer: String,
}

impl ShownRequest {
    fn new(method: &'static str, call: &'static str, api: &MwApi, params: &[(&str, &str)]) -> Self {
        let mut added = vec![
            ("format", "json"),
            ("formatversion", "2"),
            ("assert", "user"),
        ];
        if method == "POST" {
            added.push(("maxlag", "5"));
            added.push(("token", "(the user's CSRF token, fetched and cached)"));
        }
        ShownRequest {
            method,
            call,
            url: api.api_url().to_string(),
            params: params
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
            added,
            answer: String::new(),
        }
    }

    fn answered(mut self, answer: &Value) -> Self {
        self.answer = serde_json::to_string_pretty(answer).unwrap_or_default();
        self
    }
}

#[derive(Serialize)]
struct Contribution {
    title: String,
    timestamp: String,
    comment: String,
}

/// The "test query": the signed-in user's latest contributions, through the API as them.
#[get("/contributions")]
async fn contributions(
    api: LoginRequired<MwApi>,
    site: &State<Site>,
    f: Option<FlashMessage<'_>>,
    lang: UserLanguage,
) -> Result<Template, Error> {
    let name = api.user().name.clone();
    let params = [
        ("action", "query"),
        ("list", "usercontribs"),
        ("ucuser", name.as_str()),
        ("uclimit", "10"),
        ("ucprop", "title|timestamp|comment"),
    ];
    let shown = ShownRequest::new("GET", "api.get(&params)", &api, &params);
    let answer = api.get(&params).await?;
    let contributions: Vec<Contribution> = answer["query"]["usercontribs"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|c| Contribution {
            title: c["title"].as_str().unwrap_or_default().to_string(),
            timestamp: c["timestamp"].as_str().unwrap_or_default().to_string(),
            comment: c["comment"].as_str().unwrap_or_default().to_string(),
        })
        .collect();
    Ok(Template::render(
        "contributions",
        context! {
            t: texts(&lang, Some(api.user())),
            lang: lang.code(),
            user: api.user(),
            site: site.inner(),
            request: shown.answered(&answer),
            contributions,
            flash: flash(f),
            page: "query",
        },
    ))
}

/// The page the demo edits: `Sandbox` on the local wiki, the user's own
/// sandbox on a real one.
fn sandbox_title(site: &Site, user: &MwUser) -> String {
    if site.local {
        "Sandbox".into()
    } else {
        format!("User:{}/sandbox", user.name)
    }
}

#[get("/sandbox")]
fn sandbox(
    user: LoginRequired,
    site: &State<Site>,
    f: Option<FlashMessage<'_>>,
    lang: UserLanguage,
) -> Template {
    let title = sandbox_title(site, &user);
    Template::render(
        "sandbox",
        context! {
            t: texts(&lang, Some(&user)),
            lang: lang.code(),
            user: &*user,
            site: site.inner(),
            title,
            text: format!("Hello from the rocket_mediawiki_oauth demo, as {}.", user.name),
            flash: flash(f),
            page: "sandbox",
        },
    )
}

#[derive(FromForm)]
struct EditForm {
    text: String,
    summary: String,
}

/// The edit: a signed POST with the user's CSRF token.
#[post("/sandbox", data = "<form>")]
async fn sandbox_edit(
    api: LoginRequired<MwApi>,
    form: Form<EditForm>,
    site: &State<Site>,
    lang: UserLanguage,
) -> Result<Template, Error> {
    let title = sandbox_title(site, api.user());
    let text = format!("\n\n{}", form.text.trim());
    let params = [
        ("action", "edit"),
        ("title", title.as_str()),
        ("appendtext", text.as_str()),
        ("summary", form.summary.trim()),
    ];
    let shown = ShownRequest::new(
        "POST",
        "api.post_with_token(\"csrf\", &params)",
        &api,
        &params,
    );
    let answer = api.post_with_token("csrf", &params).await?;
    Ok(Template::render(
        "sandbox",
        context! {
            t: texts(&lang, Some(api.user())),
            lang: lang.code(),
            user: api.user(),
            site: site.inner(),
            title,
            result: answer["edit"]["result"].as_str().unwrap_or("?"),
            newrevid: answer["edit"]["newrevid"].as_u64(),
            request: shown.answered(&answer),
            page: "sandbox",
        },
    ))
}

/// Reads the sandbox back through the API: its latest revision.
#[get("/sandbox/read")]
async fn sandbox_read(
    api: LoginRequired<MwApi>,
    site: &State<Site>,
    lang: UserLanguage,
) -> Result<Template, Error> {
    let title = sandbox_title(site, api.user());
    let params = [
        ("action", "query"),
        ("prop", "revisions"),
        ("titles", title.as_str()),
        ("rvprop", "content|user|timestamp|comment"),
        ("rvslots", "main"),
    ];
    let shown = ShownRequest::new("GET", "api.get(&params)", &api, &params);
    let answer = api.get(&params).await?;
    let revision = &answer["query"]["pages"][0]["revisions"][0];
    Ok(Template::render(
        "read",
        context! {
            t: texts(&lang, Some(api.user())),
            lang: lang.code(),
            user: api.user(),
            site: site.inner(),
            title,
            content: revision["slots"]["main"]["content"].as_str(),
            author: revision["user"].as_str(),
            request: shown.answered(&answer),
            page: "sandbox",
        },
    ))
}

/// What an error page shows.
#[derive(Serialize)]
struct ErrorPage {
    status: u16,
    title: String,
    message: String,
    /// The crate's error code (`bad_callback`, …), for the crate's errors.
    code: Option<&'static str>,
    login_url: Option<String>,
}

/// Every error page of the demo, in the demo's style: the crate's errors
/// (with `error_pages = "catchers"`, `error_info` says what went wrong) and
/// Rocket's own (404, …). A 401 first sends `LoginRequired` pages through
/// login, as the crate's own catcher would.
#[catch(default)]
async fn error_page(status: Status, req: &Request<'_>) -> Either<Redirect, (Status, Template)> {
    if let Some(redirect) = login_redirect(req) {
        return Either::Left(redirect);
    }
    let lang = UserLanguage::of(req);
    let page = match error_info(req) {
        Some(e) => ErrorPage {
            status: e.status,
            title: e.page_title,
            message: e.page_message,
            code: Some(e.code),
            login_url: Some(e.login_url),
        },
        None => ErrorPage {
            status: status.code,
            title: status.reason().unwrap_or("Error").to_string(),
            message: lang.msg(
                match status.code {
                    404 => "demo-error-404",
                    401 => "demo-error-401",
                    _ => "demo-error-other",
                },
                &[],
            ),
            code: None,
            login_url: (status.code == 401).then(|| "/login".to_string()),
        },
    };
    let user = req.guard::<Option<MwUser>>().await.succeeded().flatten();
    let site = req.rocket().state::<Site>();
    let status = Status::from_code(page.status).unwrap_or(status);
    Either::Right((
        status,
        Template::render(
            "error",
            context! {
                t: texts(&lang, user.as_ref()),
                lang: lang.code(),
                error: page,
                user,
                site,
                flash: None::<(String, String)>,
                page: "error",
            },
        ),
    ))
}

/// What the pages say about the wiki and the protocol: read from the
/// crate's checked configuration, however it was given (`Rocket.toml`,
/// `ROCKET_MWOAUTH_*` variables, the local wiki).
fn site(config: &rocket_mediawiki_oauth::Config, local: bool) -> Site {
    let oauth2 = config.oauth_version == OAuthVersion::OAuth2;
    Site {
        wiki: config.base_url.clone(),
        local,
        repository: env!("CARGO_PKG_REPOSITORY"),
        readme: format!("{}#readme", env!("CARGO_PKG_REPOSITORY")),
        docs: concat!("https://docs.rs/", env!("CARGO_PKG_NAME")),
        protocol: if oauth2 { "OAuth 2.0" } else { "OAuth 1.0a" },
    }
}

/// The demo's Rocket: templates, the OAuth fairing, the tour's pages.
pub fn rocket(figment: Figment) -> Rocket<Build> {
    let local = figment
        .extract_inner::<bool>("demo_local_wiki")
        .unwrap_or(false);
    let figment = figment
        .merge((
            "template_dir",
            concat!(env!("CARGO_MANIFEST_DIR"), "/examples/demo/templates"),
        ))
        // The demo renders the crate's error pages itself (`error_page`).
        .merge(("mwoauth.error_pages", "catchers"))
        // Its texts in English, German and French, unless told otherwise.
        .join((
            "mwoauth.i18n_dir",
            concat!(env!("CARGO_MANIFEST_DIR"), "/examples/demo/i18n"),
        ));
    rocket::custom(figment)
        .attach(Template::fairing())
        .attach(MwOAuth::fairing())
        // After the OAuth fairing: its configuration is checked by then.
        .attach(AdHoc::try_on_ignite(
            "demo site",
            move |rocket| async move {
                let site = match MwOAuth::fetch(&rocket) {
                    Some(handle) => site(handle.config(), local),
                    None => return Err(rocket),
                };
                Ok(rocket.manage(site))
            },
        ))
        .mount(
            "/",
            routes![index, contributions, sandbox, sandbox_edit, sandbox_read],
        )
        .register("/", catchers![error_page])
}

/// What to tell the person who ran `cargo run --example demo` when the
/// app could not start (a taken port names `ROCKET_PORT`).
pub fn launch_failure(e: &rocket::Error, port: u16) -> String {
    match e.kind() {
        rocket::error::ErrorKind::Bind(io) if io.kind() == std::io::ErrorKind::AddrInUse => {
            format!(
                "\n  Port {port} is taken (another demo or app?). Choose another:\n\n    \
                 ROCKET_PORT={} cargo run --example demo\n",
                port.checked_add(1).unwrap_or(8001)
            )
        }
        rocket::error::ErrorKind::Bind(io) => {
            format!("\n  The demo cannot listen on port {port}: {io}\n")
        }
        _ => format!("\n  The demo could not start: {e}\n"),
    }
}

/// The local wiki the demo starts: on `localhost` (another *site* than the
/// app on 127.0.0.1, as in production), calling back to the app's port.
pub fn local_wiki_config(app_port: u16) -> DevWikiConfig {
    DevWikiConfig {
        host: "localhost".into(),
        port: 0,
        callback: format!("http://127.0.0.1:{app_port}/oauth-callback"),
        oauth2_redirect_uri: format!("http://127.0.0.1:{app_port}/oauth-callback"),
        verbose: std::env::var("DEVWIKI_VERBOSE").is_ok_and(|v| v == "1"),
        ..DevWikiConfig::default()
    }
}

/// Whether the demo signs in with OAuth 2.0 (`DEMO_OAUTH=2`) rather than
/// OAuth 1.0a against the local wiki.
pub fn oauth2_requested() -> bool {
    std::env::var("DEMO_OAUTH").is_ok_and(|v| v.trim() == "2")
}

/// Points the app's figment at a running local wiki, with its default
/// OAuth 2.0 client or its default OAuth 1.0a consumer.
pub fn use_local_wiki_as(figment: Figment, wiki: &DevWiki, app_port: u16, oauth2: bool) -> Figment {
    let figment = figment
        .merge(("address", "127.0.0.1"))
        .merge(("port", app_port))
        .merge(("demo_local_wiki", true))
        .merge(("mwoauth.base_url", wiki.base_url()))
        .merge((
            "mwoauth.user_agent",
            "rocket_mediawiki_oauth-demo/0.1 (https://example.org/demo; local wiki)",
        ));
    if oauth2 {
        let client = wiki.default_oauth2_client();
        figment
            .merge(("mwoauth.client_id", client.key.clone()))
            .merge(("mwoauth.client_secret", client.secret.clone()))
            .merge(("mwoauth.callback", client.callback.clone()))
    } else {
        let consumer = wiki.default_consumer();
        figment
            .merge(("mwoauth.consumer_key", consumer.key.clone()))
            .merge(("mwoauth.consumer_secret", consumer.secret.clone()))
    }
}

/// Starts the local wiki and points the figment at it.
pub async fn with_local_wiki(
    figment: Figment,
    app_port: u16,
) -> std::io::Result<(Figment, DevWiki)> {
    with_local_wiki_as(figment, app_port, oauth2_requested()).await
}

/// Starts the local wiki and points the figment at it, with OAuth 2.0 or 1.0a.
pub async fn with_local_wiki_as(
    figment: Figment,
    app_port: u16,
    oauth2: bool,
) -> std::io::Result<(Figment, DevWiki)> {
    let wiki = DevWiki::start(local_wiki_config(app_port)).await?;
    Ok((use_local_wiki_as(figment, &wiki, app_port, oauth2), wiki))
}
