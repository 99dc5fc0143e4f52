//! End to end in real headless Chromium (Debian's `chromium` and
//! `chromium-driver`, driven over WebDriver): the demo app on 127.0.0.1 and
//! the local wiki on `localhost` — two different sites, as in production.
//!
//! Without chromedriver the test prints a notice and passes, unless
//! `MWOAUTH_REQUIRE_PEERS=1` (as `.ci/run` sets), when it fails.

mod common;
#[path = "../examples/demo/app.rs"]
mod demo_app;

use common::webdriver::{chromedriver_path, Driver, Session};
use common::*;

async fn scenario(s: &Session, app: &str) -> Result<(), String> {
    // 1. An anonymous visitor opens the demo and logs in.
    s.goto(app).await;
    let greeting = s.text("#greeting").await?;
    if !greeting.contains("not logged in") {
        return Err(format!("expected an anonymous greeting, got {greeting:?}"));
    }
    s.click("#login").await?;
    // 2. The wiki's authorize page, on another site.
    s.wait_for("#accept").await?;
    let here = s.current_url().await;
    if !here.starts_with("http://localhost:") {
        return Err(format!("expected the wiki on localhost, at {here}"));
    }
    choose_user(s, "Alice").await?;
    s.click("#accept").await?;
    // 3. Back on the demo, signed in, with the flash message.
    expect_text(s, "#flash", "You were signed in, Alice!").await?;
    expect_text(s, "#username", "Alice").await?;
    // 4. The test query: the user's contributions through the API.
    s.click("#test-query").await?;
    expect_text(s, "h1 #username", "Alice").await?;
    let list = s.text("#contributions").await?;
    if list.is_empty() {
        return Err("no contributions shown".into());
    }
    // 5. Log out.
    s.click("#logout").await?;
    expect_contains(s, "#flash", "You were signed out.").await?;
    expect_contains(s, "#greeting", "not logged in").await?;

    // 6. Cancel: the wiki shows its page and does not call back.
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

    // 7. A login-required page sends the visitor through login and back.
    s.goto(&format!("{app}/contributions")).await;
    choose_user(s, "Zoë Ünicode-Ŝtrange").await?;
    s.click("#accept").await?;
    expect_text(s, "h1 #username", "Zoë Ünicode-Ŝtrange").await?;
    if !s.current_url().await.ends_with("/contributions") {
        return Err(format!(
            "not back on /contributions: {}",
            s.current_url().await
        ));
    }
    s.click("#logout").await?;

    // 8. Two tabs log in at the same time; both complete.
    let first = s.current_tab().await;
    s.goto(&format!("{app}/login?next=%2F%3Ftab%3D1")).await;
    s.wait_for("#accept").await?;
    let second = s.new_tab().await;
    s.switch_to(&second).await;
    s.goto(&format!("{app}/login?next=%2Fcontributions")).await;
    choose_user(s, "Alice").await?;
    s.click("#accept").await?;
    expect_text(s, "h1 #username", "Alice").await?;
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
    let (figment, wiki) = demo_app::with_local_wiki(figment, port).await;
    let app = launch(demo_app::rocket(figment)).await;

    let driver = Driver::start(&chromedriver).await;
    let profile = std::env::temp_dir().join(format!("mwoauth-chromium-{}", std::process::id()));
    let session = driver.session(&profile).await;
    let result = scenario(&session, &app.url).await;
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
    result.unwrap();
}
