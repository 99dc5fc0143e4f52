//! End to end in real headless Chromium (Debian's `chromium` and
//! `chromium-driver`, driven over WebDriver): the demo app on 127.0.0.1 and
//! the local wiki on `localhost` — two different sites, as in production.
//!
//! Without chromedriver the test prints a notice and passes, unless
//! `MWOAUTH_REQUIRE_PEERS=1` (as `.ci/run` sets), when it fails.

mod common;
#[allow(dead_code)] // what only the demo binary uses
#[path = "../examples/demo/app.rs"]
mod demo_app;

use common::webdriver::{chromedriver_path, Driver, Session};
use common::*;

/// Where the tour's screenshots go: `target/screenshots/`.
fn screenshots() -> std::path::PathBuf {
    let tmp = std::path::Path::new(env!("CARGO_TARGET_TMPDIR"));
    tmp.parent().unwrap_or(tmp).join("screenshots")
}

async fn shot(s: &Session, name: &str) -> Result<(), String> {
    s.screenshot(&screenshots().join(format!("{name}.png")))
        .await
}

async fn scenario(s: &Session, app: &str, wiki: &devwiki::DevWiki) -> Result<(), String> {
    // 1. An anonymous visitor opens the demo: what it is, and where to log in.
    // (A tall window, so that each screenshot shows the whole page.)
    s.set_window_size(1024, 1300).await?;
    s.goto(app).await;
    expect_contains(s, "h1", "Sign in with a wiki").await?;
    expect_contains(s, "#greeting", "not logged in").await?;
    expect_contains(s, "footer", "Source").await?;
    let links = s
        .script("return [...document.querySelectorAll('footer a')].map(a => a.href).join(' ');")
        .await;
    let links = links.as_str().unwrap_or_default();
    for want in [
        env!("CARGO_PKG_REPOSITORY"),
        "https://docs.rs/rocket_mediawiki_oauth",
    ] {
        if !links.contains(want) {
            return Err(format!("no link to {want} in the footer: {links}"));
        }
    }
    shot(s, "01-home").await?;
    s.click("#login").await?;
    // 2. The wiki's authorize page, on another site.
    s.wait_for("#accept").await?;
    let here = s.current_url().await;
    if !here.starts_with("http://localhost:") {
        return Err(format!("expected the wiki on localhost, at {here}"));
    }
    choose_user(s, "Admin").await?;
    shot(s, "02-authorize").await?;
    s.click("#accept").await?;
    // 3. Back on the demo, signed in, with the flash and the identity table.
    expect_text(s, "#flash", "You were signed in, Admin!").await?;
    expect_text(s, "#username", "Admin").await?;
    expect_text(s, "#id-name", "Admin").await?;
    let tags = s
        .script("return [...document.querySelectorAll('#id-groups .tag')].map(t => t.textContent);")
        .await;
    let tags: Vec<&str> = tags
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|t| t.as_str())
        .collect();
    if !tags.contains(&"sysop")
        || !tags.contains(&"bureaucrat")
        || tags.iter().any(|t| t.contains(','))
    {
        return Err(format!("groups are not shown as tags: {tags:?}"));
    }
    expect_contains(s, "#id-grants", "editpage").await?;
    shot(s, "03-identity").await?;
    // 4. The test query: the request (method, parameters) and the answer.
    s.click("#test-query").await?;
    expect_text(s, "#query-user", "Admin").await?;
    expect_text(s, "#request-method", "GET").await?;
    expect_contains(s, "#request-params", "usercontribs").await?;
    expect_contains(s, "#request-params", "formatversion").await?;
    expect_contains(s, "#answer", "\"usercontribs\": [").await?;
    shot(s, "04-test-query").await?;
    // 5. The sandbox edit, then read back through the API.
    s.click("#sandbox").await?;
    expect_text(s, "#sandbox-title", "Sandbox").await?;
    let text = format!("Tour edit {}", std::process::id());
    let set = format!(
        "var t = document.getElementById('text'); t.value = {}; return t.value;",
        serde_json::to_string(&text).unwrap_or_default()
    );
    s.script(&set).await;
    shot(s, "05-sandbox-form").await?;
    s.click("#save").await?;
    expect_text(s, "#edit-result", "Success").await?;
    expect_text(s, "#request-method", "POST").await?;
    expect_contains(s, "#answer", "\"newrevid\"").await?;
    if !wiki
        .page_text("Sandbox")
        .is_some_and(|t| t.ends_with(&text))
    {
        return Err("the wiki's Sandbox lacks the edit".into());
    }
    shot(s, "06-sandbox-edited").await?;
    s.click("#read-back").await?;
    expect_contains(s, "#content", &text).await?;
    expect_text(s, "#read-author", "Admin").await?;
    shot(s, "07-read-back").await?;
    // 6. Log out.
    s.click("#logout").await?;
    expect_contains(s, "#flash", "You were signed out.").await?;
    expect_contains(s, "#greeting", "not logged in").await?;
    shot(s, "08-logged-out").await?;

    // 7. Cancel: the wiki shows its page and does not call back.
    s.click("#login").await?;
    s.click("#cancel").await?;
    s.wait_for("#mw-mwoauth-cancelled").await?;
    let source = s.source().await;
    if !source.contains("You have chosen not to allow") {
        return Err("the cancel page is not shown".into());
    }
    if !s.current_url().await.starts_with("http://localhost:") {
        return Err("cancel must not call back".into());
    }
    shot(s, "09-cancelled").await?;

    // 8. A login-required page sends the visitor through login and back.
    s.goto(&format!("{app}/contributions")).await;
    choose_user(s, "Zoë Ünicode-Ŝtrange").await?;
    s.click("#accept").await?;
    expect_text(s, "#query-user", "Zoë Ünicode-Ŝtrange").await?;
    if !s.current_url().await.ends_with("/contributions") {
        return Err(format!(
            "not back on /contributions: {}",
            s.current_url().await
        ));
    }
    s.click("#logout").await?;

    // 9. Two tabs log in at the same time; both complete.
    let first = s.current_tab().await;
    s.goto(&format!("{app}/login?next=%2F%3Ftab%3D1")).await;
    s.wait_for("#accept").await?;
    let second = s.new_tab().await;
    s.switch_to(&second).await;
    s.goto(&format!("{app}/login?next=%2Fcontributions")).await;
    choose_user(s, "Alice").await?;
    s.click("#accept").await?;
    expect_text(s, "#query-user", "Alice").await?;
    s.switch_to(&first).await;
    choose_user(s, "Admin").await?;
    s.click("#accept").await?;
    expect_text(s, "#username", "Admin").await?;
    if !s.current_url().await.ends_with("/?tab=1") {
        return Err(format!(
            "first tab not back on its next: {}",
            s.current_url().await
        ));
    }
    Ok(())
}

/// The same demo signing in with OAuth 2.0: login, identity, a Bearer API
/// request, Cancel (which comes back to the app without `state`), logout.
async fn oauth2_scenario(s: &Session, app: &str) -> Result<(), String> {
    s.goto(app).await;
    expect_text(s, "#footer-protocol", "OAuth 2.0").await?;
    s.click("#login").await?;
    s.wait_for("#accept").await?;
    if !s.current_url().await.contains("/rest.php/oauth2/authorize") {
        return Err(format!(
            "not the OAuth 2.0 dialog: {}",
            s.current_url().await
        ));
    }
    choose_user(s, "Alice").await?;
    shot(s, "10-oauth2-authorize").await?;
    s.click("#accept").await?;
    expect_text(s, "#flash", "You were signed in, Alice!").await?;
    expect_text(s, "#id-name", "Alice").await?;
    shot(s, "11-oauth2-identity").await?;
    s.click("#test-query").await?;
    expect_text(s, "#query-user", "Alice").await?;
    expect_contains(s, "#request-url", "api.php").await?;
    let source = s.source().await;
    if !source.contains("Bearer") {
        return Err("the request view does not say Bearer".into());
    }
    shot(s, "12-oauth2-test-query").await?;
    s.click("#logout").await?;
    expect_contains(s, "#greeting", "not logged in").await?;
    // Cancel on the OAuth 2.0 dialog comes back to the app: a clear page.
    s.click("#login").await?;
    s.wait_for("#cancel").await?;
    s.click("#cancel").await?;
    expect_text(s, "h1", "Sign-in was cancelled").await?;
    expect_contains(s, "#mwoauth-error", "User has rejected the request").await?;
    shot(s, "13-oauth2-cancelled").await?;
    Ok(())
}

async fn choose_user(s: &Session, user: &str) -> Result<(), String> {
    s.wait_for("#user").await?;
    let script = format!(
        "var s = document.getElementById('user'); s.value = {}; return s.value;",
        serde_json::to_string(user).unwrap()
    );
    let v = s.script(&script).await;
    if v.as_str() != Some(user) {
        return Err(format!("cannot choose {user}: {v}"));
    }
    Ok(())
}

/// Waits (up to 10 s) until the element's text satisfies `ok`.
async fn expect(
    s: &Session,
    css: &str,
    what: &str,
    ok: impl Fn(&str) -> bool,
) -> Result<(), String> {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    loop {
        let got = s.text(css).await.unwrap_or_default();
        if ok(&got) {
            return Ok(());
        }
        if std::time::Instant::now() > deadline {
            return Err(format!("{css}: expected {what}, got {got:?}"));
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
}

async fn expect_text(s: &Session, css: &str, want: &str) -> Result<(), String> {
    expect(s, css, &format!("{want:?}"), |got| got == want).await
}

async fn expect_contains(s: &Session, css: &str, want: &str) -> Result<(), String> {
    expect(s, css, &format!("text containing {want:?}"), |got| {
        got.contains(want)
    })
    .await
}

#[rocket::async_test]
async fn a_person_logs_in_with_chromium_across_two_sites() {
    let Some(chromedriver) = chromedriver_path() else {
        if std::env::var("MWOAUTH_REQUIRE_PEERS").is_ok_and(|v| v == "1") {
            panic!("chromedriver is required (MWOAUTH_REQUIRE_PEERS=1): apt-get install chromium chromium-driver");
        }
        eprintln!("NOTICE: skipping the browser test: no chromedriver (apt-get install chromium chromium-driver)");
        return;
    };
    let port = free_port();
    let figment = rocket::Config::figment()
        .merge(("log_level", "off"))
        .merge(("secret_key", SECRET_KEY));
    let (figment, wiki) = demo_app::with_local_wiki(figment, port)
        .await
        .expect("the local wiki starts");
    let app = launch(demo_app::rocket(figment)).await;

    let driver = Driver::start(&chromedriver).await;
    let profile = std::env::temp_dir().join(format!("mwoauth-chromium-{}", std::process::id()));
    let session = driver.session(&profile).await;
    let mut result = scenario(&session, &app.url, &wiki).await;
    // The same tour's sign-in with OAuth 2.0 (`DEMO_OAUTH=2`).
    let port2 = free_port();
    let figment2 = rocket::Config::figment()
        .merge(("log_level", "off"))
        .merge(("secret_key", SECRET_KEY));
    let (figment2, wiki2) = demo_app::with_local_wiki_as(figment2, port2, true)
        .await
        .expect("the second local wiki starts");
    let app2 = launch(demo_app::rocket(figment2)).await;
    if result.is_ok() {
        result = oauth2_scenario(&session, &app2.url).await;
    }
    if let Err(e) = &result {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("test-artifacts");
        session.save_artifacts(&dir, "browser-failure").await;
        eprintln!(
            "browser test failed at {}; screenshot and source in {}",
            session.current_url().await,
            dir.display()
        );
        eprintln!("{e}");
    }
    session.quit().await;
    let _ = std::fs::remove_dir_all(&profile);
    wiki.shutdown().await;
    wiki2.shutdown().await;
    result.unwrap();
}
