//! The README's "Use it in your app", as a newcomer would paste it: its code
//! block is `examples/readme_app.rs` and its `Rocket.toml` block is
//! `examples/readme_app.toml`, byte for byte; the app logs in against the
//! local wiki (on a port that is not 8000) and shows what the README promises.

mod common;
// The README's app, compiled as a module of this test (its `#[launch]` also
// makes a `main`, unused here).
#[allow(dead_code)]
#[path = "../examples/readme_app.rs"]
mod readme_app;

use common::*;
use devwiki::cli::{DEV_CONSUMER_KEY, DEV_CONSUMER_SECRET};
use devwiki::{DevWiki, DevWikiConfig};
use rocket::figment::providers::{Format, Toml};
use rocket::figment::Figment;

const README: &str = include_str!("../README.md");
const APP: &str = include_str!("../examples/readme_app.rs");
const ROCKET_TOML: &str = include_str!("../examples/readme_app.toml");
const OFFLINE_TEST: &str = include_str!("readme_offline.rs");

/// The fenced code blocks of a Markdown text: (info string, body).
fn fenced_blocks(markdown: &str) -> Vec<(String, String)> {
    let mut blocks = Vec::new();
    let mut open: Option<(String, String)> = None;
    for line in markdown.split_inclusive('\n') {
        match open.take() {
            None => {
                if let Some(info) = line.strip_prefix("```") {
                    open = Some((info.trim().to_string(), String::new()));
                }
            }
            Some((info, mut body)) => {
                if line.trim_end() == "```" {
                    blocks.push((info, body));
                } else {
                    body.push_str(line);
                    open = Some((info, body));
                }
            }
        }
    }
    blocks
}

/// The README's text between `## heading` and the next `## `.
fn section<'a>(markdown: &'a str, heading: &str) -> &'a str {
    let start = markdown
        .find(&format!("\n## {heading}\n"))
        .unwrap_or_else(|| panic!("the README has a section {heading:?}"));
    let rest = &markdown[start + 1..];
    let end = rest[3..].find("\n## ").map_or(rest.len(), |i| i + 4);
    &rest[..end]
}

#[test]
fn the_readme_shows_the_example_app_and_its_rocket_toml_byte_for_byte() {
    let blocks = fenced_blocks(section(README, "Use it in your app"));
    let rust: Vec<_> = blocks
        .iter()
        .filter(|(i, _)| i.starts_with("rust"))
        .collect();
    assert_eq!(rust.len(), 1, "one Rust block in \"Use it in your app\"");
    assert_eq!(rust[0].1, APP, "README block = examples/readme_app.rs");
    assert!(
        rust[0].0.contains("no_run"),
        "the app block is a doctest that compiles but does not launch: {:?}",
        rust[0].0
    );
    let rocket_toml: Vec<_> = blocks
        .iter()
        .filter(|(i, b)| i == "toml" && b.starts_with("# Rocket.toml"))
        .collect();
    assert_eq!(rocket_toml.len(), 1, "one Rocket.toml block");
    assert_eq!(
        rocket_toml[0].1, ROCKET_TOML,
        "README block = examples/readme_app.toml"
    );
}

#[test]
fn the_readme_shows_the_offline_test_byte_for_byte_but_for_its_path() {
    let blocks = fenced_blocks(section(README, "Testing your app offline"));
    let rust: Vec<_> = blocks
        .iter()
        .filter(|(i, _)| i.starts_with("rust"))
        .collect();
    assert_eq!(
        rust.len(),
        1,
        "one Rust block in \"Testing your app offline\""
    );
    let ours = "#[path = \"../examples/readme_app.rs\"]\n";
    assert_eq!(OFFLINE_TEST.matches(ours).count(), 1);
    let shown = OFFLINE_TEST.replace(ours, "#[path = \"../src/main.rs\"]\n");
    assert_eq!(rust[0].1, shown, "README block = tests/readme_offline.rs");
}

#[test]
fn the_readme_rocket_toml_holds_what_the_local_wiki_prints() {
    assert!(ROCKET_TOML.contains("[default.mwoauth]"));
    assert!(ROCKET_TOML.contains(&format!("consumer_key = \"{DEV_CONSUMER_KEY}\"")));
    assert!(ROCKET_TOML.contains(&format!("consumer_secret = \"{DEV_CONSUMER_SECRET}\"")));
    assert!(ROCKET_TOML.contains("base_url = \"http://127.0.0.1:8080/w\""));
    assert!(ROCKET_TOML.contains("port = 8001"));
    // The wiki must call back to that port: the README says how.
    let section = section(README, "Use it in your app");
    assert!(section.contains("--callback http://127.0.0.1:8001/oauth-callback"));
    assert!(section.contains("openssl rand -base64 32"));
    // The user path comes before the notes on tests, CI and benchmarks.
    let use_it = README.find("\n## Use it in your app\n").unwrap();
    for later in [
        "cargo bench",
        "MWOAUTH_REQUIRE_PEERS",
        "\n## Configuration\n",
    ] {
        let at = README
            .find(later)
            .unwrap_or_else(|| panic!("{later:?} in README"));
        assert!(use_it < at, "\"Use it in your app\" comes before {later:?}");
    }
}

#[rocket::async_test]
async fn the_readme_app_signs_a_user_in_and_edits_as_them() {
    let app_port = free_port();
    let wiki = DevWiki::start(DevWikiConfig {
        // What `--callback http://127.0.0.1:8001/oauth-callback` does, on a free port.
        callback: format!("http://127.0.0.1:{app_port}/oauth-callback"),
        default_consumer_key: Some(DEV_CONSUMER_KEY.into()),
        default_consumer_secret: Some(DEV_CONSUMER_SECRET.into()),
        auto_approve: Some("Tom & Jerry".into()),
        ..DevWikiConfig::default()
    })
    .await
    .expect("the local wiki starts");
    assert!(wiki.add_user("Tom & Jerry"));

    // The README's Rocket.toml, with free ports instead of 8080 and 8001.
    let toml = ROCKET_TOML
        .replace("127.0.0.1:8080", &format!("127.0.0.1:{}", wiki.port()))
        .replace("port = 8001", &format!("port = {app_port}"));
    let figment = Figment::from(rocket::Config::debug_default())
        .merge(Toml::string(&toml).nested())
        .merge(("log_level", "off"));
    let app = launch(readme_app::rocket().configure(figment)).await;
    assert_eq!(app.port, app_port);

    let client = browser();
    let home = client.get(app.at("/")).send().await.unwrap();
    assert_eq!(content_type(&home), "text/html; charset=utf-8");
    let body = home.text().await.unwrap();
    assert!(body.starts_with("Hello, stranger!"), "{body}");
    assert!(body.contains("<a href=\"/login\">log in</a>"), "{body}");

    // Log in (the wiki approves at once, as the configured user) and land on /.
    let page = client.get(app.at("/login")).send().await.unwrap();
    assert_eq!(page.url().as_str(), app.at("/"));
    assert_eq!(content_type(&page), "text/html; charset=utf-8");
    let body = page.text().await.unwrap();
    assert!(body.starts_with("Hello, Tom &amp; Jerry! "), "{body}");
    assert!(body.contains("<a href=\"/logout\">log out</a>"), "{body}");

    let private = client.get(app.at("/private")).send().await.unwrap();
    assert_eq!(private.url().as_str(), app.at("/private"));
    assert_eq!(content_type(&private), "text/html; charset=utf-8");
    assert_eq!(
        private.text().await.unwrap(),
        "Only Tom &amp; Jerry sees this"
    );

    let before = wiki.page_text("Sandbox").unwrap_or_default();
    let edit = client.get(app.at("/edit")).send().await.unwrap();
    assert_eq!(edit.status(), 200);
    assert_eq!(edit.text().await.unwrap(), "Success");
    assert!(
        wiki.page_text("Sandbox")
            .is_some_and(|t| t.len() > before.len() && t.ends_with("Hi")),
        "the wiki's Sandbox has the text"
    );

    // Logged out, /private sends the visitor through login again.
    let out = client.get(app.at("/logout")).send().await.unwrap();
    assert!(out.text().await.unwrap().starts_with("Hello, stranger!"));
    wiki.set_auto_approve(None);
    let private = client.get(app.at("/private")).send().await.unwrap();
    assert!(
        private.url().as_str().starts_with(&wiki.server()),
        "anonymous /private leads to the wiki: {}",
        private.url()
    );
    drop(app);
    wiki.shutdown().await;
}

fn content_type(response: &reqwest::Response) -> String {
    response
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_string()
}
