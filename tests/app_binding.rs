//! F5 (issue 22): sessions and logins in progress are bound to the app that
//! made them. Two apps sharing `secret_key` — staging and production, or two
//! tools of one maintainer — each read the other's cookies as signed out.

mod common;

use std::sync::Arc;

use common::*;

/// The `name=value` of the session cookie a response sets.
fn session_cookie(r: &reqwest::Response) -> String {
    set_cookies(r)
        .into_iter()
        .find(|c| c.starts_with("mwoauth_session="))
        .expect("a session cookie")
        .split(';')
        .next()
        .unwrap()
        .to_string()
}

async fn with_cookie(url: String, cookie: &str) -> (u16, String) {
    let r = reqwest::Client::new()
        .get(url)
        .header("Cookie", cookie)
        .header("Accept", "application/json")
        .send()
        .await
        .unwrap();
    (r.status().as_u16(), r.text().await.unwrap())
}

#[rocket::async_test]
async fn another_oauth2_client_on_the_same_wiki_does_not_act_with_this_apps_grant() {
    let wiki = start_wiki().await;
    let (port_a, port_b) = (free_port(), free_port());
    let a = consumer_with(&wiki, port_a, Proto::OAuth2, "/");
    let b = consumer_with(&wiki, port_b, Proto::OAuth2, "/");
    let app_a = launch(app_rocket(figment_with(&wiki, &a, port_a, Proto::OAuth2))).await;
    let app_b = launch(app_rocket(figment_with(&wiki, &b, port_b, Proto::OAuth2))).await;
    let step = stepping_browser(Arc::new(reqwest::cookie::Jar::default()));
    wiki.set_auto_approve(Some("Alice"));
    let r = step_login(&step, &app_a, "/").await;
    assert_eq!(r.status(), 303);
    let cookie = session_cookie(&r);
    // App A: signed in, acts with the grant Alice gave it.
    assert_eq!(
        with_cookie(app_a.at("/"), &cookie).await,
        (200, "user: Alice".into())
    );
    assert_eq!(with_cookie(app_a.at("/userinfo"), &cookie).await.0, 200);
    // App B, same wiki, same protocol, same secret_key, another client:
    // nobody is signed in, and nothing is sent to the wiki with A's token.
    let api_calls = wiki.api_requests("query");
    assert_eq!(
        with_cookie(app_b.at("/"), &cookie).await,
        (200, "anonymous".into())
    );
    assert_eq!(
        with_cookie(app_b.at("/verified"), &cookie).await,
        (200, "anonymous".into())
    );
    assert_eq!(with_cookie(app_b.at("/userinfo"), &cookie).await.0, 401);
    assert_eq!(with_cookie(app_b.at("/me"), &cookie).await.0, 401);
    assert_eq!(wiki.api_requests("query"), api_calls);
    // A login A started cannot be finished at B (its callback is B's now).
    let jar = Arc::new(reqwest::cookie::Jar::default());
    let step = stepping_browser(jar);
    let r = step.get(app_a.at("/login?next=/")).send().await.unwrap();
    let to_wiki = follow(&step, &r).await;
    let callback = to_wiki.headers()["location"].to_str().unwrap().to_string();
    let at_b = callback.replace(&format!(":{port_a}/"), &format!(":{port_b}/"));
    assert_ne!(at_b, callback);
    let r = step.get(&at_b).send().await.unwrap();
    assert_eq!(r.status(), 400, "{}", r.text().await.unwrap());
    wiki.shutdown().await;
}

#[rocket::async_test]
async fn an_app_for_another_wiki_reads_this_apps_session_as_signed_out() {
    let wiki = start_wiki().await;
    let other_wiki = start_wiki().await;
    let (port_a, port_b) = (free_port(), free_port());
    let a = consumer_with(&wiki, port_a, Proto::OAuth1, "/");
    let b = consumer_with(&other_wiki, port_b, Proto::OAuth1, "/");
    let app_a = launch(app_rocket(figment_with(&wiki, &a, port_a, Proto::OAuth1))).await;
    let app_b = launch(app_rocket(figment_with(
        &other_wiki,
        &b,
        port_b,
        Proto::OAuth1,
    )))
    .await;
    let step = stepping_browser(Arc::new(reqwest::cookie::Jar::default()));
    wiki.set_auto_approve(Some("Alice"));
    let cookie = session_cookie(&step_login(&step, &app_a, "/").await);
    assert_eq!(
        with_cookie(app_a.at("/private"), &cookie).await,
        (200, "private page of Alice".into())
    );
    assert_eq!(
        with_cookie(app_b.at("/"), &cookie).await,
        (200, "anonymous".into())
    );
    assert_eq!(with_cookie(app_b.at("/me"), &cookie).await.0, 401);
    // An instance of the same app (same wiki and consumer) still serves it.
    let twin = twin_instance(&wiki, &a, Proto::OAuth1).await;
    assert_eq!(
        with_cookie(twin.at("/"), &cookie).await,
        (200, "user: Alice".into())
    );
    wiki.shutdown().await;
    other_wiki.shutdown().await;
}
