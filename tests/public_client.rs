//! A public OAuth 2.0 client (`public_client = true`): MediaWiki gives it a
//! secret all the same and refuses to refresh its tokens without it (401
//! `invalid_client` on 1.39 and 1.43, `observed-1.43.md` O7b/O7c). Launch
//! warns, naming the key, when the secret is missing; with it, sign-ins
//! outlive their first access token.

mod common;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use common::*;

/// Captures every log record of this test binary.
struct Capture(Arc<Mutex<Vec<String>>>);

impl log::Log for Capture {
    fn enabled(&self, _: &log::Metadata<'_>) -> bool {
        true
    }
    fn log(&self, record: &log::Record<'_>) {
        self.0
            .lock()
            .unwrap()
            .push(format!("{} {}", record.level(), record.args()));
    }
    fn flush(&self) {}
}

const WARNING: &str = "public_client = true without mwoauth.client_secret";

async fn userinfo_status(client: &reqwest::Client, app: &App) -> u16 {
    client
        .get(app.at("/userinfo"))
        .header("Accept", "application/json")
        .send()
        .await
        .unwrap()
        .status()
        .as_u16()
}

#[rocket::async_test]
async fn a_public_client_needs_its_secret_to_outlive_the_first_token() {
    let lines = Arc::new(Mutex::new(Vec::new()));
    log::set_boxed_logger(Box::new(Capture(lines.clone()))).unwrap();
    log::set_max_level(log::LevelFilter::Warn);
    let warned = |lines: &Arc<Mutex<Vec<String>>>| {
        let lines = lines.lock().unwrap();
        lines.iter().find(|l| l.contains(WARNING)).cloned()
    };

    for with_secret in [false, true] {
        println!("public client, with its secret: {with_secret}");
        lines.lock().unwrap().clear();
        let wiki = start_wiki().await;
        let port = free_port();
        let consumer = consumer_with(&wiki, port, Proto::OAuth2Public, "/");
        let mut figment = figment_with(&wiki, &consumer, port, Proto::OAuth2Public);
        if !with_secret {
            // As the README once said: a public client, no secret.
            figment = figment.merge(("mwoauth.client_secret", ""));
        }
        let app = launch(app_rocket(figment)).await;
        let warning = warned(&lines);
        if with_secret {
            assert_eq!(warning, None, "no warning when the secret is set");
        } else {
            let warning = warning.expect("launch warns about the missing secret");
            assert!(warning.starts_with("WARN"), "{warning}");
            assert!(
                warning.contains("ROCKET_MWOAUTH_CLIENT_SECRET"),
                "names the environment variable: {warning}"
            );
        }

        wiki.set_oauth2_access_token_lifetime(4);
        // PKCE alone signs a public client in.
        let client = browser();
        let (status, page) = login_as(&wiki, &client, &app, "Alice", "/").await;
        assert_eq!(status, 200);
        assert!(page.starts_with("user: Alice\n"), "{page}");
        assert_eq!(userinfo_status(&client, &app).await, 200);
        tokio::time::sleep(Duration::from_secs(5)).await;
        let status = userinfo_status(&client, &app).await;
        if with_secret {
            assert_eq!(status, 200, "the refresh with the secret worked");
            assert_eq!(wiki.oauth2_token_requests("refresh_token"), 1);
            assert_eq!(
                text(&client, &app.at("/")).await,
                (200, "user: Alice".into())
            );
        } else {
            // What the warning says: the wiki refused the refresh and the
            // user is signed out at the first expiry.
            assert_eq!(status, 401);
            assert_eq!(wiki.oauth2_token_requests("refresh_token"), 1);
            assert_eq!(text(&client, &app.at("/")).await, (200, "anonymous".into()));
        }
        wiki.shutdown().await;
    }
}
