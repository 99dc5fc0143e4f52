//! The README's "Use it in your app", as a newcomer would paste it: its code
//! block is `examples/readme_app.rs` and its `Rocket.toml` blocks are
//! `examples/readme_app.toml` (OAuth 2.0) and `examples/readme_app_oauth1.toml`
//! (OAuth 1.0a), byte for byte; the local wiki started with the README's
//! flags prints those tables; and the app, given the printed table, signs a
//! user in through the wiki's authorize page (on a port that is not 8000)
//! and shows what the README promises. The offline test of "Testing your
//! app offline" is checked and run for both protocols too.

mod common;
// The README's app, compiled as a module of this test (its `#[launch]` also
// makes a `main`, unused here).
#[allow(dead_code)]
#[path = "../examples/readme_app.rs"]
mod readme_app;
// The README's offline test, run below in a child process for each
// protocol's Rocket.toml (it reads the app's configuration the way Rocket
// does, from ROCKET_CONFIG). It compiles the README's app a second time, as
// its own module `app`: the README shows it so.
#[allow(clippy::duplicate_mod)]
#[path = "readme_offline.rs"]
mod readme_offline;

use common::*;
use devwiki::cli::{
    Command, DEV_CONSUMER_KEY, DEV_CONSUMER_SECRET, DEV_OAUTH2_CLIENT_ID, DEV_OAUTH2_CLIENT_SECRET,
};
use devwiki::{DevWiki, DevWikiConfig};
use rocket::figment::providers::{Format, Toml};
use rocket::figment::Figment;

const README: &str = include_str!("../README.md");
const APP: &str = include_str!("../examples/readme_app.rs");
const ROCKET_TOML: &str = include_str!("../examples/readme_app.toml");
const ROCKET_TOML_OAUTH1: &str = include_str!("../examples/readme_app_oauth1.toml");
const OFFLINE_TEST: &str = include_str!("readme_offline.rs");
const TOOLFORGE_PROCFILE: &str = include_str!("../examples/toolforge/Procfile");
const TOOLFORGE_ROCKET_TOML: &str = include_str!("../examples/toolforge/Rocket.toml");

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
    assert_eq!(
        rocket_toml.len(),
        2,
        "two Rocket.toml blocks: OAuth 2.0, then OAuth 1.0a"
    );
    assert_eq!(
        rocket_toml[0].1, ROCKET_TOML,
        "README block = examples/readme_app.toml"
    );
    assert_eq!(
        rocket_toml[1].1, ROCKET_TOML_OAUTH1,
        "README block = examples/readme_app_oauth1.toml"
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

/// The README's commands that start the local wiki in "Use it in your
/// app": OAuth 2.0 first, then OAuth 1.0a.
fn readme_wiki_commands() -> Vec<Vec<String>> {
    fenced_blocks(section(README, "Use it in your app"))
        .into_iter()
        .filter(|(info, _)| info == "sh")
        .flat_map(|(_, body)| {
            body.lines()
                .filter_map(|l| l.strip_prefix("cargo run -p devwiki -- "))
                .map(|args| args.split_whitespace().map(str::to_string).collect())
                .collect::<Vec<_>>()
        })
        .collect()
}

/// Starts the local wiki as the binary does with `args` (the library the
/// binary runs: the same parsing, the same printed text), on a free port.
async fn start_wiki_as_readme_says(args: &[String]) -> (DevWiki, String) {
    let no_env = |_: &str| None;
    let args = args
        .iter()
        .map(String::as_str)
        .chain(["--port", "0"])
        .map(std::ffi::OsString::from);
    let Ok(Command::Run(options)) = devwiki::cli::parse(args, &no_env) else {
        panic!("the README's flags parse");
    };
    devwiki::cli::start(&options)
        .await
        .expect("the wiki starts")
}

/// The one `[default.mwoauth]` table the wiki printed, up to its blank line.
fn printed_block(text: &str) -> &str {
    assert_eq!(text.matches("[default.mwoauth]").count(), 1, "{text}");
    let block = &text[text.find("[default.mwoauth]\n").unwrap()..];
    &block[..block.find("\n\n").unwrap() + 1]
}

/// The `[default.mwoauth]` table of a Rocket.toml.
fn mwoauth_table(rocket_toml: &str) -> &str {
    &rocket_toml[rocket_toml.find("[default.mwoauth]\n").unwrap()..]
}

#[test]
fn the_readme_starts_the_local_wiki_for_its_app() {
    let commands = readme_wiki_commands();
    let with_port = "--callback http://127.0.0.1:8001/oauth-callback";
    assert_eq!(
        commands.iter().map(|c| c.join(" ")).collect::<Vec<_>>(),
        [
            format!("{with_port} --oauth 2"),
            format!("{with_port} --oauth 1")
        ]
    );
    for (rocket_toml, key, secret) in [
        (ROCKET_TOML, DEV_OAUTH2_CLIENT_ID, DEV_OAUTH2_CLIENT_SECRET),
        (ROCKET_TOML_OAUTH1, DEV_CONSUMER_KEY, DEV_CONSUMER_SECRET),
    ] {
        assert!(rocket_toml.contains(&format!("\"{key}\"")));
        assert!(rocket_toml.contains(&format!("\"{secret}\"")));
        assert!(rocket_toml.contains("base_url = \"http://127.0.0.1:8080/w\""));
        assert!(rocket_toml.contains("port = 8001"));
        assert_eq!(rocket_toml.matches("[default.mwoauth]").count(), 1);
    }
    assert!(ROCKET_TOML.contains("\ncallback = \"http://127.0.0.1:8001/oauth-callback\"\n"));
    let section = section(README, "Use it in your app");
    assert!(section.contains("openssl rand -base64 32"));
    assert!(section.contains("DEMO_OAUTH=2 cargo run --example demo"));
    assert!(section.contains("`public_client = true`) still needs `client_secret`"));
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
async fn the_readme_rocket_toml_tables_are_what_the_local_wiki_prints() {
    let commands = readme_wiki_commands();
    for (args, rocket_toml) in commands.iter().zip([ROCKET_TOML, ROCKET_TOML_OAUTH1]) {
        let (wiki, text) = start_wiki_as_readme_says(args).await;
        // Pasted as is: the same table, but for the port the wiki got.
        let printed =
            printed_block(&text).replace(&format!("127.0.0.1:{}/", wiki.port()), "127.0.0.1:8080/");
        assert_eq!(printed, mwoauth_table(rocket_toml), "{args:?}");
        wiki.shutdown().await;
    }
}

/// Submits the form of an HTML page as a browser does when the user picks
/// `user` in `<select name="user">` and presses the button `#accept`.
async fn press_allow(
    client: &reqwest::Client,
    page: reqwest::Response,
    user: &str,
) -> reqwest::Response {
    let url = page.url().clone();
    let html = page.text().await.unwrap();
    let unescape = |s: &str| {
        s.replace("&quot;", "\"")
            .replace("&#039;", "'")
            .replace("&#39;", "'")
            .replace("&lt;", "<")
            .replace("&gt;", ">")
            .replace("&amp;", "&")
    };
    let attr = |tag: &str, name: &str| -> Option<String> {
        let at = tag.find(&format!(" {name}=\""))? + name.len() + 3;
        Some(unescape(&tag[at..at + tag[at..].find('"')?]))
    };
    let form_at = html.find("<form ").expect("a form on the authorize page");
    let form = &html[form_at..form_at + html[form_at..].find("</form>").unwrap()];
    let open = &form[..form.find('>').unwrap()];
    let action = url.join(&attr(open, "action").unwrap()).unwrap();
    let mut fields: Vec<(String, String)> = form
        .split('<')
        .filter(|tag| tag.starts_with("input ") && attr(tag, "type").as_deref() == Some("hidden"))
        .map(|tag| {
            (
                attr(tag, "name").unwrap(),
                attr(tag, "value").unwrap_or_default(),
            )
        })
        .collect();
    assert!(
        form.contains(&format!(">{user}</option>")),
        "{user} is offered: {form}"
    );
    fields.push(("user".into(), user.into()));
    let button = form
        .split('<')
        .find(|tag| tag.starts_with("button ") && attr(tag, "id").as_deref() == Some("accept"))
        .expect("an Allow button");
    assert!(button.ends_with(">Allow"), "{button}");
    fields.push((
        attr(button, "name").unwrap(),
        attr(button, "value").unwrap(),
    ));
    let request = if attr(open, "method").as_deref() == Some("post") {
        client.post(action).form(&fields)
    } else {
        let mut action = action;
        action.set_query(None);
        action.query_pairs_mut().extend_pairs(&fields);
        client.get(action)
    };
    request.send().await.unwrap()
}

/// What "Done" means for issue 24: the README's path, end to end, for each
/// protocol: the wiki started with the README's flags (its app port moved
/// from 8001 to a free one), the block it prints pasted as the app's
/// `[default.mwoauth]`, a browser that clicks "log in", picks Alice and
/// presses Allow, and lands on the greeting; then `/edit` edits as Alice.
#[rocket::async_test]
async fn the_readme_path_signs_alice_in_through_the_authorize_page() {
    let commands = readme_wiki_commands();
    for (args, rocket_toml) in commands.iter().zip([ROCKET_TOML, ROCKET_TOML_OAUTH1]) {
        let app_port = free_port();
        assert_ne!(app_port, 8000);
        let args: Vec<String> = args
            .iter()
            .map(|a| a.replace("127.0.0.1:8001", &format!("127.0.0.1:{app_port}")))
            .collect();
        let (wiki, text) = start_wiki_as_readme_says(&args).await;
        // The README's Rocket.toml: its [default] part, and the printed table.
        let toml = format!(
            "{}{}",
            rocket_toml[..rocket_toml.find("[default.mwoauth]\n").unwrap()]
                .replace("port = 8001", &format!("port = {app_port}")),
            printed_block(&text)
        );
        let figment = Figment::from(rocket::Config::debug_default())
            .merge(Toml::string(&toml).nested())
            .merge(("log_level", "off"));
        let app = launch(readme_app::rocket().configure(figment)).await;
        assert_eq!(app.port, app_port);

        let client = browser();
        let home = client.get(app.at("/")).send().await.unwrap();
        let body = home.text().await.unwrap();
        assert!(body.contains("<a href=\"/login\">log in</a>"), "{body}");
        // "log in" leads to the wiki's authorize page.
        let authorize = client.get(app.at("/login")).send().await.unwrap();
        assert!(
            authorize.url().as_str().starts_with(&wiki.server()),
            "{args:?}: /login leads to the wiki: {}",
            authorize.url()
        );
        assert_eq!(authorize.status(), 200);
        // Allow, as Alice: back on the app, signed in.
        let page = press_allow(&client, authorize, "Alice").await;
        assert_eq!(page.status(), 200, "{args:?}: {}", page.url());
        assert_eq!(page.url().as_str(), app.at("/"), "{args:?}");
        let body = page.text().await.unwrap();
        assert!(body.starts_with("Hello, Alice! "), "{args:?}: {body}");
        assert!(body.contains("<a href=\"/logout\">log out</a>"), "{body}");
        let edit = client.get(app.at("/edit")).send().await.unwrap();
        assert_eq!(edit.text().await.unwrap(), "Success");
        assert!(wiki.page_text("Sandbox").is_some_and(|t| t.ends_with("Hi")));
        drop(app);
        wiki.shutdown().await;
    }
}

/// The README's offline test, as a user runs it: with their Rocket.toml
/// (here each of the README's two) found through ROCKET_CONFIG.
#[test]
fn the_readme_offline_test_passes_for_an_oauth2_and_an_oauth1_app() {
    for rocket_toml in ["readme_app.toml", "readme_app_oauth1.toml"] {
        let path = format!("{}/examples/{rocket_toml}", env!("CARGO_MANIFEST_DIR"));
        let out = std::process::Command::new(std::env::current_exe().unwrap())
            .args(["readme_offline::alice_signs_in_and_edits", "--exact"])
            .env("ROCKET_CONFIG", &path)
            .output()
            .unwrap();
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert!(
            out.status.success() && stdout.contains("1 passed"),
            "the README's offline test with {rocket_toml}:\n{stdout}\n{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
}

#[rocket::async_test]
async fn the_readme_app_signs_a_user_in_and_edits_as_them() {
    for rocket_toml in [ROCKET_TOML, ROCKET_TOML_OAUTH1] {
        signs_a_user_in_and_edits_as_them(rocket_toml).await;
    }
}

async fn signs_a_user_in_and_edits_as_them(rocket_toml: &str) {
    let app_port = free_port();
    let callback = format!("http://127.0.0.1:{app_port}/oauth-callback");
    let wiki = DevWiki::start(DevWikiConfig {
        // What `--callback http://127.0.0.1:8001/oauth-callback` does, on a free port.
        callback: callback.clone(),
        oauth2_redirect_uri: callback,
        default_consumer_key: Some(DEV_CONSUMER_KEY.into()),
        default_consumer_secret: Some(DEV_CONSUMER_SECRET.into()),
        default_oauth2_client_id: Some(DEV_OAUTH2_CLIENT_ID.into()),
        default_oauth2_client_secret: Some(DEV_OAUTH2_CLIENT_SECRET.into()),
        auto_approve: Some("Tom & Jerry".into()),
        ..DevWikiConfig::default()
    })
    .await
    .expect("the local wiki starts");
    assert!(wiki.add_user("Tom & Jerry"));

    // The README's Rocket.toml, with free ports instead of 8080 and 8001.
    let toml = rocket_toml
        .replace("127.0.0.1:8080", &format!("127.0.0.1:{}", wiki.port()))
        .replace("127.0.0.1:8001", &format!("127.0.0.1:{app_port}"))
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

#[test]
fn the_readme_shows_the_toolforge_example_byte_for_byte_and_it_is_sound() {
    let blocks = fenced_blocks(section(README, "Deploying on Toolforge"));
    let procfile: Vec<_> = blocks.iter().filter(|(i, _)| i == "text").collect();
    assert_eq!(procfile.len(), 1, "one Procfile block");
    assert_eq!(
        procfile[0].1, TOOLFORGE_PROCFILE,
        "README block = examples/toolforge/Procfile"
    );
    let toml: Vec<_> = blocks.iter().filter(|(i, _)| i == "toml").collect();
    assert_eq!(toml.len(), 1, "one Rocket.toml block");
    assert_eq!(
        toml[0].1, TOOLFORGE_ROCKET_TOML,
        "README block = examples/toolforge/Rocket.toml"
    );
    let sh = blocks
        .iter()
        .find(|(i, _)| i == "sh")
        .expect("the toolforge commands");
    for envvar in ["ROCKET_SECRET_KEY", "ROCKET_MWOAUTH_CLIENT_SECRET"] {
        assert!(
            sh.1.contains(&format!("toolforge envvars create {envvar}")),
            "{}",
            sh.1
        );
    }

    // The Build Service starts the web: line on $PORT, on every interface.
    let web = TOOLFORGE_PROCFILE
        .lines()
        .find_map(|l| l.strip_prefix("web: "))
        .expect("a web: line");
    assert!(
        web.starts_with("ROCKET_ADDRESS=0.0.0.0 ROCKET_PORT=$PORT "),
        "{web}"
    );

    // No secrets in the file; with the envvars it is a valid release config:
    // https callback, Secure cookies, a policy-shaped User-Agent.
    let lower = TOOLFORGE_ROCKET_TOML.to_lowercase();
    for key in ["secret_key", "client_secret", "consumer_secret"] {
        assert!(
            !lower.lines().any(|l| l.trim_start().starts_with(key)),
            "{key} in the file"
        );
    }
    use rocket::figment::providers::{Format, Toml};
    let figment = rocket::figment::Figment::from(rocket::Config::release_default())
        .merge(Toml::string(TOOLFORGE_ROCKET_TOML).nested())
        .merge(("mwoauth.client_secret", "a-secret-from-toolforge-envvars"))
        .select("release");
    let config = rocket_mediawiki_oauth::Config::from_figment(&figment).expect("a valid config");
    assert_eq!(config.secure_cookies, Some(true));
    assert!(
        config.callback.as_str().starts_with("https://"),
        "{:?}",
        config.callback
    );
    assert!(config
        .user_agent
        .starts_with("MyTool/1.0 (https://my-tool.toolforge.org; User:Me)"));
}
