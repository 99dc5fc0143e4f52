//! The demo the README points to (`cargo run --example demo`, and
//! `DEMO_OAUTH=2 cargo run --example demo`): its error pages are the demo's
//! own, a long name does not push "Log out" onto two lines, and the groups
//! list says "all users" for MediaWiki's `*`.

mod common;
#[allow(dead_code)]
#[path = "../examples/demo/app.rs"]
mod demo_app;

use common::*;

/// The demo against the local wiki, signing in with OAuth 2.0 or 1.0a.
async fn demo(oauth2: bool) -> (devwiki::DevWiki, App) {
    let port = free_port();
    let figment = rocket::Config::figment()
        .merge(("log_level", "off"))
        .merge(("secret_key", SECRET_KEY));
    let (figment, wiki) = demo_app::with_local_wiki_as(figment, port, oauth2)
        .await
        .expect("the local wiki starts");
    let app = launch(demo_app::rocket(figment)).await;
    (wiki, app)
}

/// The demo's page frame: its header bar and its style sheet.
fn in_demo_style(body: &str) -> bool {
    body.contains("<a class=\"brand\" href=\"/\">rocket_mediawiki_oauth demo</a>")
        && body.contains("--accent: #36c")
}

#[rocket::async_test]
async fn error_pages_are_the_demos_own() {
    for oauth2 in [true, false] {
        let (wiki, app) = demo(oauth2).await;
        let client = browser();
        // Rocket's 404.
        let r = client.get(app.at("/no-such-page")).send().await.unwrap();
        assert_eq!(r.status(), 404);
        let body = r.text().await.unwrap();
        assert!(in_demo_style(&body), "{body}");
        assert!(
            body.contains("<h1 id=\"error-title\">Not Found</h1>"),
            "{body}"
        );
        // A crate error: a callback no login in this browser started.
        let r = client
            .get(app.at("/oauth-callback?code=abc&state=def&oauth_verifier=x&oauth_token=y"))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 400, "oauth2: {oauth2}");
        let body = r.text().await.unwrap();
        assert!(in_demo_style(&body), "{body}");
        assert!(body.contains("id=\"error-code\""), "{body}");
        assert!(
            body.contains("<p class=\"lead\" id=\"mwoauth-error\" data-status=\"400\">"),
            "the built-in page's id, for scripts: {body}"
        );
        assert!(body.contains("id=\"error-login\""), "{body}");
        // LoginRequired still sends an anonymous visitor through login.
        wiki.set_auto_approve(Some("Alice"));
        let r = client.get(app.at("/sandbox")).send().await.unwrap();
        assert_eq!(r.url().as_str(), app.at("/sandbox"));
        assert!(r.text().await.unwrap().contains("id=\"username\">Alice<"));
        drop(app);
        wiki.shutdown().await;
    }
}

#[rocket::async_test]
async fn groups_show_all_users_not_a_bare_star_and_log_out_stays_whole() {
    let long = "Zoë With A Very Long User Name That Goes On And On Ünicode";
    let (wiki, app) = demo(true).await;
    assert!(wiki.add_user(long));
    wiki.set_auto_approve(Some(long));
    let client = browser();
    let body = client
        .get(app.at("/login"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let groups = body
        .split("<td id=\"id-groups\">")
        .nth(1)
        .and_then(|rest| rest.split("</td>").next())
        .expect("the groups row");
    assert!(groups.contains(">all users</span>"), "{groups}");
    assert!(!groups.contains(">*<"), "{groups}");
    assert!(groups.contains(">user</span>"), "{groups}");
    // The header: the name may be cut, the button keeps one line.
    assert!(
        body.contains("header .bar > .button { flex: none; white-space: nowrap; }"),
        "{body}"
    );
    assert!(body.contains("text-overflow: ellipsis"), "{body}");
    assert!(
        body.contains(&format!("title=\"signed in as {long}\"")),
        "{body}"
    );
    drop(app);
    wiki.shutdown().await;
}

/// The body of the page at `url`.
async fn body_of(client: &reqwest::Client, url: String) -> String {
    client.get(url).send().await.unwrap().text().await.unwrap()
}

/// The demo in German and French (its own message files, through
/// `mwoauth.i18n_dir`), the crate's errors in its pages too.
#[rocket::async_test]
async fn the_demo_speaks_the_visitors_language() {
    let (wiki, app) = demo(true).await;
    let mut headers = reqwest::header::HeaderMap::new();
    headers.insert(
        reqwest::header::ACCEPT_LANGUAGE,
        reqwest::header::HeaderValue::from_static("de-DE,de;q=0.9,en;q=0.5"),
    );
    let german = reqwest::Client::builder()
        .default_headers(headers)
        .cookie_store(true)
        .build()
        .unwrap();
    let body = body_of(&german, app.at("/")).await;
    assert!(body.contains("<html lang=\"de\">"), "{body}");
    assert!(body.contains("Mit dem Wiki anmelden"), "{body}");
    assert!(
        body.contains(">Start</a>") && body.contains(">Anmelden</a>"),
        "{body}"
    );
    // A crate error, rendered by the demo's catcher in German.
    let r = german
        .get(app.at("/oauth-callback?code=abc&state=def"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
    let body = r.text().await.unwrap();
    assert!(
        body.contains(
            "<h1 id=\"error-title\">Die Anmeldung konnte nicht abgeschlossen werden</h1>"
        ),
        "{body}"
    );
    assert!(body.contains(">Zurück zur Demo</a>"), "{body}");
    // Signed in: the greeting names the user; the flash is the crate's, in
    // the language /login was asked for (French), while the page it lands
    // on, which asks for none, follows the browser (German).
    wiki.set_auto_approve(Some("Alice"));
    let body = body_of(&german, app.at("/login?uselang=fr")).await;
    assert!(body.contains("Du bist als Alice angemeldet."), "{body}");
    assert!(body.contains("Vous êtes connecté, Alice !"), "{body}");
    let body = body_of(&german, app.at("/?uselang=fr")).await;
    assert!(body.contains("<html lang=\"fr\">"), "{body}");
    assert!(
        body.contains("Vous êtes connecté en tant que Alice."),
        "{body}"
    );
    assert!(body.contains(">Requête de test</a>"), "{body}");
    assert!(body.contains("<th>Modifications</th>"), "{body}");
    // The tour's pages too: the API request view and the sandbox form.
    let body = body_of(&german, app.at("/contributions")).await;
    assert!(body.contains("Testabfrage: Beiträge von <span"), "{body}");
    assert!(body.contains("<h2>Die API-Anfrage</h2>"), "{body}");
    assert!(!body.contains("The wiki’s answer"), "{body}");
    let body = body_of(&german, app.at("/sandbox?uselang=fr")).await;
    assert!(
        body.contains(">Enregistrer la modification</button>"),
        "{body}"
    );
    assert!(body.contains("(sur le wiki local)"), "{body}");
    drop(app);
    wiki.shutdown().await;
}
