//! Pages in the user's language: the crate's flash messages and error
//! pages follow `?uselang=`, then `Accept-Language`, then English; the
//! wiki's consent screen is asked for in the same language; an app's own
//! message files override and add messages. All over loopback.

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use common::*;
use devwiki::MediaWikiVersion;
use reqwest::header::{HeaderMap, HeaderValue, ACCEPT_LANGUAGE};
use rocket::get;
use rocket_mediawiki_oauth::grant::EditPage;
use rocket_mediawiki_oauth::{RequireGrant, UserLanguage};
use serde_json::Value;

const GERMAN: &str = "de-DE,de;q=0.9,en;q=0.5";

/// A browser whose every request says `Accept-Language: <accept>`;
/// following redirects or not.
fn browser_in(accept: &str, follow: bool) -> reqwest::Client {
    let mut headers = HeaderMap::new();
    headers.insert(ACCEPT_LANGUAGE, HeaderValue::from_str(accept).unwrap());
    reqwest::Client::builder()
        .default_headers(headers)
        .cookie_provider(Arc::new(reqwest::cookie::Jar::default()))
        .redirect(if follow {
            reqwest::redirect::Policy::limited(10)
        } else {
            reqwest::redirect::Policy::none()
        })
        .timeout(std::time::Duration::from_secs(30))
        .build()
        .unwrap()
}

fn location(r: &reqwest::Response) -> String {
    r.headers()["location"].to_str().unwrap().to_string()
}

#[get("/needs-edit")]
fn needs_edit(user: RequireGrant<EditPage>) -> String {
    format!("{} may edit", user.name)
}

/// The app's own page, in the chosen language.
#[get("/greet?<name>")]
fn greet(name: &str, lang: UserLanguage) -> String {
    format!("{}: {}", lang.code(), lang.msg("testapp-greeting", &[name]))
}

#[rocket::async_test]
async fn a_german_browser_gets_german_pages_and_consent_screen() {
    for proto in [Proto::OAuth2, Proto::OAuth1] {
        let (wiki, _consumer, app) = wiki_and_app_on(MediaWikiVersion::V1_47, proto).await;
        let step = browser_in(GERMAN, false);

        // The authorize URL asks for German.
        wiki.set_auto_approve(None);
        let r = step.get(app.at("/login?next=/")).send().await.unwrap();
        let authorize = location(&r);
        let asked = match proto {
            Proto::OAuth1 => "uselang=de",
            _ => "ui_locales=de",
        };
        assert!(authorize.contains(asked), "{proto:?}: {authorize}");
        // Spanish asked for: the app has no Spanish pages, the wiki has.
        let r = step
            .get(app.at("/login?next=/&uselang=es"))
            .send()
            .await
            .unwrap();
        let spanish = location(&r);
        let asked_es = asked.replace("=de", "=es");
        assert!(spanish.contains(&asked_es), "{proto:?}: {spanish}");
        if proto == Proto::OAuth2 {
            // MediaWiki 1.47 shows its consent screen in that language.
            let dialog = step.get(&authorize).send().await.unwrap();
            let dialog = dialog.text().await.unwrap();
            assert!(dialog.contains("lang=\"de\""), "{dialog}");
            // Cancel: the crate's page in German.
            let r = step
                .get(format!("{authorize}&user=Alice&approval_cancel=1"))
                .send()
                .await
                .unwrap();
            let r = step.get(location(&r)).send().await.unwrap();
            assert_eq!(r.status(), 403);
            let page = r.text().await.unwrap();
            assert!(page.contains("<html lang=\"de\">"), "{page}");
            assert!(
                page.contains("<title>Die Anmeldung wurde abgebrochen</title>"),
                "{page}"
            );
            assert!(
                page.contains("Die Anmeldung wurde im Wiki nicht erlaubt ("),
                "{page}"
            );
            assert!(page.contains(">Erneut anmelden</a>"), "{page}");
            assert!(page.contains(">Startseite</a>"), "{page}");
        }

        // A callback this browser did not start: German.
        let (status, page) = text(&step, &app.at("/oauth-callback")).await;
        assert_eq!(status, 403, "{page}");
        assert!(page.contains("Die Anmeldung wurde abgebrochen"), "{page}");
        assert!(
            page.contains("du bist aus dem Wiki zurückgekommen, ohne die Anwendung zu erlauben"),
            "{page}"
        );
        let (status, page) = text(&step, &app.at("/oauth-callback?code=x&state=y")).await;
        assert_eq!(status, 400, "{page}");
        assert!(
            page.contains("<title>Die Anmeldung konnte nicht abgeschlossen werden</title>"),
            "{page}"
        );

        // Sign in and out: German flash messages.
        let browser = browser_in(GERMAN, true);
        let (status, page) = login_as(&wiki, &browser, &app, "Alice", "/").await;
        assert_eq!(status, 200);
        assert_eq!(page, "user: Alice\nflash: Du bist angemeldet, Alice!");
        let (_, page) = text(&browser, &app.at("/logout")).await;
        assert_eq!(page, "anonymous\nflash: Du bist abgemeldet.");
        // French asked for at /login: the callback's flash is French too,
        // though the callback's own request carries no uselang.
        wiki.set_auto_approve(Some("Alice"));
        let (status, page) = text(&browser, &app.at("/login?next=/&uselang=fr")).await;
        assert_eq!(status, 200);
        assert_eq!(page, "user: Alice\nflash: Vous êtes connecté, Alice !");
        let _ = text(&browser, &app.at("/logout")).await;

        // A page that needs a user (401 without a login redirect): German.
        let (status, page) = text(&browser, &app.at("/me")).await;
        assert_eq!(status, 401, "{page}");
        assert!(page.contains("Bitte melde dich an"), "{page}");
        wiki.shutdown().await;
    }
}

#[rocket::async_test]
async fn the_api_error_and_missing_grant_pages_are_translated() {
    let wiki = start_wiki().await;
    let port = free_port();
    let consumer = wiki.register_consumer(devwiki::ConsumerSpec {
        name: "Reader".into(),
        callback: format!("http://127.0.0.1:{port}/oauth-callback"),
        grants: vec!["basic".into()],
        ..Default::default()
    });
    let app = launch(
        app_rocket(figment_with(&wiki, &consumer, port, Proto::OAuth1))
            .mount("/", rocket::routes![needs_edit]),
    )
    .await;
    let browser = browser_in(GERMAN, true);
    login_as(&wiki, &browser, &app, "Alice", "/").await;

    // RequireGrant's 403.
    let (status, page) = text(&browser, &app.at("/needs-edit")).await;
    assert_eq!(status, 403, "{page}");
    assert!(page.contains("<html lang=\"de\">"), "{page}");
    assert!(
        page.contains("Diese Anwendung braucht mehr Berechtigungen"),
        "{page}"
    );
    assert!(page.contains("die Berechtigung „editpage“"), "{page}");
    assert!(page.contains(">Was das bedeutet</a>"), "{page}");
    // ?uselang= wins over the header.
    let (_, page) = text(&browser, &app.at("/needs-edit?uselang=fr")).await;
    assert!(page.contains("<html lang=\"fr\">"), "{page}");
    assert!(
        page.contains("Cette application a besoin de plus de droits"),
        "{page}"
    );
    assert!(page.contains("du droit « editpage »"), "{page}");
    // qqx shows the keys.
    let (_, page) = text(&browser, &app.at("/needs-edit?uselang=qqx")).await;
    assert!(
        page.contains("<title>(mwoauth-title-missing-grant)</title>"),
        "{page}"
    );
    assert!(
        page.contains("(mwoauth-error-missing-grant: editpage)"),
        "{page}"
    );
    assert!(page.contains(">(mwoauth-page-home)</a>"), "{page}");

    // An API refusal: the app's consumer was disabled on the wiki.
    assert!(wiki.set_consumer_disabled(&consumer.key, true));
    let (status, page) = text(&browser, &app.at("/userinfo")).await;
    assert_eq!(status, 403, "{page}");
    assert!(
        page.contains("<title>Diese Anwendung ist im Wiki nicht zugelassen</title>"),
        "{page}"
    );
    assert!(
        page.contains("Das Wiki erlaubt die Verwendung dieser Anwendung nicht ("),
        "{page}"
    );
    assert!(page.contains("Help:OAuth&#x2F;Errors#E005"), "{page}");
    // English without a header, as before.
    let english = browser_in("en", true);
    login_as(&wiki, &english, &app, "Alice", "/").await;
    let (_, page) = text(&english, &app.at("/userinfo")).await;
    assert!(
        page.contains("<title>This app is not approved on the wiki</title>"),
        "{page}"
    );
    assert!(page.contains("<html lang=\"en\">"), "{page}");
    wiki.shutdown().await;
}

/// A folder with the given message files, removed on drop.
struct TempDir(PathBuf);

impl TempDir {
    fn with(files: &[(&str, &str)]) -> TempDir {
        let dir = std::env::temp_dir().join(format!(
            "mwoauth-i18n-{}-{}",
            std::process::id(),
            free_port()
        ));
        std::fs::create_dir_all(&dir).unwrap();
        for (name, text) in files {
            std::fs::write(dir.join(name), text).unwrap();
        }
        TempDir(dir)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

#[rocket::async_test]
async fn an_apps_messages_override_and_add_and_its_pages_ask_the_language() {
    let dir = TempDir::with(&[
        (
            "en.json",
            r#"{"@metadata": {"authors": ["Test"]}, "testapp-greeting": "Hello, $1!"}"#,
        ),
        (
            "de.json",
            r#"{"@metadata": {"authors": ["Test"]},
                "testapp-greeting": "Hallo, $1!",
                "mwoauth-flash-signed-out": "Tschüss!"}"#,
        ),
        (
            "qqq.json",
            r#"{"testapp-greeting": "Greeting. $1 - a name"}"#,
        ),
        ("README.txt", "not a message file"),
    ]);
    let wiki = start_wiki().await;
    let port = free_port();
    let consumer = consumer_for(&wiki, port).await;
    let figment = app_figment(&wiki, &consumer, port).merge(("mwoauth.i18n_dir", &dir.0));
    let app = launch(app_rocket(figment).mount("/", rocket::routes![greet])).await;

    let german = browser_in(GERMAN, true);
    let (_, page) = text(&german, &app.at("/greet?name=Bob")).await;
    assert_eq!(page, "de: Hallo, Bob!");
    let (_, page) = text(&german, &app.at("/greet?name=Bob&uselang=fr")).await;
    assert_eq!(page, "fr: Hello, Bob!", "French falls back to English");
    let (_, page) = text(&german, &app.at("/greet?name=Bob&uselang=qqx")).await;
    assert_eq!(page, "qqx: (testapp-greeting: Bob)");
    let (_, page) = text(&browser(), &app.at("/greet?name=%3Cb%3E")).await;
    assert_eq!(page, "en: Hello, <b>!");
    // The app's German overrides the crate's; the crate's other messages stay.
    login_as(&wiki, &german, &app, "Alice", "/").await;
    let (_, page) = text(&german, &app.at("/")).await;
    assert_eq!(page, "user: Alice");
    let (_, page) = text(&german, &app.at("/logout")).await;
    assert_eq!(page, "anonymous\nflash: Tschüss!");
    let (_, page) = text(&german, &app.at("/logout?uselang=fr")).await;
    assert_eq!(page, "anonymous\nflash: Vous êtes déconnecté.");

    // A broken file stops launch (the log names mwoauth.i18n_dir and the file).
    async fn fails(figment: rocket::figment::Figment) -> bool {
        match app_rocket(figment).ignite().await {
            Ok(_) => false,
            Err(e) => matches!(e.kind(), rocket::error::ErrorKind::FailedFairings(_)),
        }
    }
    let broken = TempDir::with(&[("de.json", r#"{"testapp-greeting": ["not", "a string"]}"#)]);
    let figment = app_figment(&wiki, &consumer, free_port()).merge(("mwoauth.i18n_dir", &broken.0));
    assert!(fails(figment).await);
    let badly_named = TempDir::with(&[("German.json", "{}")]);
    let figment =
        app_figment(&wiki, &consumer, free_port()).merge(("mwoauth.i18n_dir", &badly_named.0));
    assert!(fails(figment).await);
    let figment = app_figment(&wiki, &consumer, free_port())
        .merge(("mwoauth.i18n_dir", "/nonexistent/mwoauth-i18n"));
    assert!(fails(figment).await);
    wiki.shutdown().await;
}

/// The keys and `$n` parameters of a banana file; `@metadata` must be there.
fn read_messages(path: &Path) -> BTreeMap<String, String> {
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{path:?}: {e}"));
    let value: Value = serde_json::from_str(&text).unwrap_or_else(|e| panic!("{path:?}: {e}"));
    let object = value.as_object().expect("an object");
    assert!(
        object.get("@metadata").is_some_and(Value::is_object),
        "{path:?} has @metadata"
    );
    object
        .iter()
        .filter(|(k, _)| !k.starts_with('@'))
        .map(|(k, v)| {
            let v = v
                .as_str()
                .unwrap_or_else(|| panic!("{path:?}: {k} is a string"));
            (k.clone(), v.to_string())
        })
        .collect()
}

fn params(text: &str) -> BTreeSet<String> {
    let mut found = BTreeSet::new();
    let mut rest = text;
    while let Some(i) = rest.find('$') {
        rest = &rest[i + 1..];
        let digits: String = rest.chars().take_while(char::is_ascii_digit).collect();
        if !digits.is_empty() {
            found.insert(digits);
        }
    }
    found
}

/// The message files of `dir` are consistent: every language has only
/// English keys, every English key is documented in qqq.json, parameters
/// of translations exist in English, keys are kebab-case.
fn check_message_files(dir: &Path, prefix: &str, languages: &[&str]) {
    let en = read_messages(&dir.join("en.json"));
    let qqq = read_messages(&dir.join("qqq.json"));
    assert_eq!(
        en.keys().collect::<Vec<_>>(),
        qqq.keys().collect::<Vec<_>>(),
        "{dir:?}: qqq.json documents every key of en.json"
    );
    for key in en.keys() {
        assert!(
            key.starts_with(prefix)
                && key
                    .bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-'),
            "{key} is kebab-case with {prefix}"
        );
    }
    let mut seen = vec!["en.json".to_string(), "qqq.json".to_string()];
    for lang in languages {
        let file = format!("{lang}.json");
        let messages = read_messages(&dir.join(&file));
        for (key, text) in &messages {
            let english = en
                .get(key)
                .unwrap_or_else(|| panic!("{dir:?}/{file}: {key} is not in en.json"));
            assert!(
                params(text).is_subset(&params(english)),
                "{dir:?}/{file}: {key} uses parameters English does not have"
            );
            assert_eq!(
                text.matches("{{PLURAL:").count(),
                text.matches("}}").count(),
                "{file}: {key}"
            );
        }
        assert_eq!(
            messages.len(),
            en.len(),
            "{dir:?}/{file} translates every message"
        );
        seen.push(file);
    }
    // No language file left out of the check.
    for entry in std::fs::read_dir(dir).unwrap() {
        let name = entry.unwrap().file_name().into_string().unwrap();
        if name.ends_with(".json") {
            assert!(seen.contains(&name), "{dir:?}/{name} is checked");
        }
    }
}

#[test]
fn the_message_files_are_consistent() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    check_message_files(&root.join("src/i18n"), "mwoauth-", &["de", "fr"]);
    check_message_files(&root.join("examples/demo/i18n"), "demo-", &["de", "fr"]);
}
