//! The demo app itself, shared by `cargo run --example demo` and the browser test.

use devwiki::{DevWiki, DevWikiConfig};
use rocket::figment::Figment;
use rocket::request::FlashMessage;
use rocket::{get, routes, Build, Rocket};
use rocket_dyn_templates::{context, Template};
use rocket_mediawiki_oauth::{Error, LoginRequired, MwApi, MwOAuth, MwUser};
use serde::Serialize;

#[get("/")]
fn index(user: Option<MwUser>, flash: Option<FlashMessage<'_>>) -> Template {
    Template::render(
        "index",
        context! {
            user,
            flash: flash.map(|f| (f.kind().to_string(), f.message().to_string())),
        },
    )
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
    flash: Option<FlashMessage<'_>>,
) -> Result<Template, Error> {
    let name = api.user().name.clone();
    let answer = api
        .request(&[
            ("action", "query"),
            ("list", "usercontribs"),
            ("ucuser", &name),
            ("uclimit", "20"),
        ])
        .await?;
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
            user: api.user(),
            contributions,
            flash: flash.map(|f| (f.kind().to_string(), f.message().to_string())),
        },
    ))
}

/// The demo's Rocket: templates, the OAuth fairing, two pages.
pub fn rocket(figment: Figment) -> Rocket<Build> {
    let figment = figment.merge((
        "template_dir",
        concat!(env!("CARGO_MANIFEST_DIR"), "/examples/demo/templates"),
    ));
    rocket::custom(figment)
        .attach(Template::fairing())
        .attach(MwOAuth::fairing())
        .mount("/", routes![index, contributions])
}

/// Starts the local wiki on `localhost` (another *site* than the app on
/// 127.0.0.1, as in production) and points the figment at it.
pub async fn with_local_wiki(figment: Figment, app_port: u16) -> (Figment, DevWiki) {
    let wiki = DevWiki::start(DevWikiConfig {
        host: "localhost".into(),
        port: 0,
        callback: format!("http://127.0.0.1:{app_port}/oauth-callback"),
        ..DevWikiConfig::default()
    })
    .await
    .expect("the local wiki starts");
    let consumer = wiki.default_consumer();
    let figment = figment
        .merge(("address", "127.0.0.1"))
        .merge(("port", app_port))
        .merge(("mwoauth.base_url", wiki.base_url()))
        .merge(("mwoauth.consumer_key", consumer.key.clone()))
        .merge(("mwoauth.consumer_secret", consumer.secret.clone()))
        .merge((
            "mwoauth.user_agent",
            "rocket_mediawiki_oauth-demo/0.1 (local wiki)",
        ));
    (figment, wiki)
}
