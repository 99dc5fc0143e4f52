//! A wrong setting (secret, callback) makes the wiki refuse every sign-in:
//! the page and the log say which setting to check, and offer no "Log in
//! again" (it cannot help).

mod common;

use common::*;

/// The page the browser ends on, following redirects (the wiki approves at once).
async fn sign_in_page(wiki: &devwiki::DevWiki, app: &App) -> (u16, String) {
    login_as(wiki, &browser(), app, "Alice", "/").await
}

#[rocket::async_test]
async fn a_wrong_secret_names_the_setting_to_check() {
    for proto in [Proto::OAuth1, Proto::OAuth2] {
        let wiki = start_wiki().await;
        let port = free_port();
        let consumer = consumer_with(&wiki, port, proto, "/");
        let (key, var) = match proto {
            Proto::OAuth1 => ("mwoauth.consumer_secret", "ROCKET_MWOAUTH_CONSUMER_SECRET"),
            _ => ("mwoauth.client_secret", "ROCKET_MWOAUTH_CLIENT_SECRET"),
        };
        let figment = figment_with(&wiki, &consumer, port, proto)
            .merge((key, "0000000000000000000000000000000000000000"));
        let app = launch(app_rocket(figment)).await;
        let (status, page) = sign_in_page(&wiki, &app).await;
        assert_eq!(status, 502, "{proto:?}: {page}");
        assert!(
            page.contains(&format!("check {}", key.replace("secret", "key"))) || page.contains(key),
            "{proto:?}: {page}"
        );
        assert!(page.contains(var), "{proto:?}: {page}");
        assert!(!page.contains("Log in again"), "{proto:?}: {page}");
        assert!(page.contains(">Home</a>"), "{page}");
        wiki.shutdown().await;
    }
}

#[rocket::async_test]
async fn a_callback_the_consumer_does_not_allow_names_the_setting() {
    // An OAuth 1.0a consumer registered without "callback is prefix": only
    // `oob` is accepted at initiate.
    let wiki = start_wiki().await;
    let port = free_port();
    let consumer = consumer_with(&wiki, port, Proto::OAuth1, "/");
    let figment = figment_with(&wiki, &consumer, port, Proto::OAuth1).merge((
        "mwoauth.callback",
        format!("http://127.0.0.1:{port}/oauth-callback"),
    ));
    let app = launch(app_rocket(figment)).await;
    let (status, page) = sign_in_page(&wiki, &app).await;
    assert_eq!(status, 502, "{page}");
    assert!(page.contains("check mwoauth.callback"), "{page}");
    assert!(page.contains("callback must be &quot;oob&quot;"), "{page}");
    assert!(!page.contains("Log in again"), "{page}");
    wiki.shutdown().await;
}
