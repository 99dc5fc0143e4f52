//! `error_pages = "catchers"`: the crate's errors are rendered by the app's
//! own catchers, which read them with `error_info`; JSON requests still get
//! the crate's JSON; cookie changes (sign-out) survive the catchers.

mod common;

use common::*;
use rocket::{catch, catchers, Request};
use rocket_mediawiki_oauth::error_info;
use rocket_mediawiki_oauth::login_redirect;

#[catch(400)]
fn bad_request(req: &Request<'_>) -> String {
    let e = error_info(req).expect("the crate's error");
    format!("app page {}: {}: {}", e.status, e.code, e.message)
}

#[catch(401)]
fn unauthorized(req: &Request<'_>) -> Result<rocket::response::Redirect, String> {
    if let Some(redirect) = login_redirect(req) {
        return Ok(redirect);
    }
    Err(match error_info(req) {
        Some(e) => format!("app page {}: {}", e.status, e.code),
        None => "app page 401: please sign in".into(),
    })
}

#[rocket::async_test]
async fn the_apps_catchers_render_the_crates_errors() {
    let wiki = start_wiki().await;
    let port = free_port();
    let consumer = consumer_for(&wiki, port).await;
    let figment = app_figment(&wiki, &consumer, port).merge(("mwoauth.error_pages", "catchers"));
    let app = launch(app_rocket(figment).register("/", catchers![bad_request, unauthorized])).await;
    let step = stepping_browser(std::sync::Arc::new(reqwest::cookie::Jar::default()));

    // A page that needs a login: the app's 401 catcher sends the visitor to log in.
    let r = step.get(app.at("/private")).send().await.unwrap();
    assert_eq!(r.status(), 303);
    assert_eq!(r.headers()["location"], "/login?next=%2Fprivate");

    // A callback with no login in progress: the app's 400 page, with the details.
    let r = step
        .get(
            app.at(
                "/oauth-callback?oauth_token=0123456789abcdef0123456789abcdef&oauth_verifier=abc",
            ),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
    let page = r.text().await.unwrap();
    assert!(
        page.starts_with("app page 400: no-pending-login: "),
        "{page}"
    );

    // JSON still comes from the crate.
    let r = step
        .get(
            app.at(
                "/oauth-callback?oauth_token=0123456789abcdef0123456789abcdef&oauth_verifier=abc",
            ),
        )
        .header("Accept", "application/json")
        .send()
        .await
        .unwrap();
    assert_eq!(
        r.json::<serde_json::Value>().await.unwrap()["error"],
        "no-pending-login"
    );

    // A revoked grant: the app's 401 page, and the user is signed out.
    wiki.set_auto_approve(Some("Alice"));
    let r = step_login(&step, &app, "/").await;
    assert_eq!(r.status(), 303);
    assert!(text(&step, &app.at("/")).await.1.starts_with("user: Alice"));
    assert!(wiki.revoke("Alice", &consumer.key));
    let r = step.get(app.at("/userinfo")).send().await.unwrap();
    assert_eq!(r.status(), 401);
    let cookies = set_cookies(&r);
    assert!(
        cookies
            .iter()
            .any(|c| c.starts_with("mwoauth_session=") && c.contains("Max-Age=0")),
        "{cookies:?}"
    );
    assert_eq!(r.text().await.unwrap(), "app page 401: access-revoked");
    assert!(text(&step, &app.at("/")).await.1.starts_with("anonymous"));
    wiki.shutdown().await;
}
