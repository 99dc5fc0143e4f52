//! The consumer secret and the users' token secrets never appear in logs,
//! error pages, `Debug` output or URLs.

mod common;

use std::sync::{Arc, Mutex};

use common::hostile::{self, Answer, CONSUMER_SECRET, REQUEST_TOKEN};
use common::*;
use rocket_mediawiki_oauth::{ApiClient, Config, Credentials, OwnerOnly};

/// Captures every log record of the process (installed before Rocket's logger).
struct Capture(Arc<Mutex<Vec<String>>>);

impl log::Log for Capture {
    fn enabled(&self, _: &log::Metadata<'_>) -> bool {
        true
    }
    fn log(&self, record: &log::Record<'_>) {
        self.0
            .lock()
            .unwrap()
            .push(format!("{} {}", record.target(), record.args()));
    }
    fn flush(&self) {}
}

const ACCESS_SECRET: &str = "e1125fdb4e24e12afcfab46333c48c52c13f4f41";
const REQUEST_SECRET: &str = "fa75effbbfa1e324e0e70a9edf6d0b1b";
const LEAKED_SECRET: &str = "5ec2e7ab5ec2e7ab5ec2e7ab5ec2e7ab";

#[rocket::async_test]
async fn secrets_stay_secret() {
    let lines = Arc::new(Mutex::new(Vec::new()));
    log::set_boxed_logger(Box::new(Capture(lines.clone()))).unwrap();
    log::set_max_level(log::LevelFilter::Trace);

    // Debug output.
    let config = Config::new("https://meta.wikimedia.org/w", "key", CONSUMER_SECRET);
    let client = ApiClient::owner(
        "https://x.org/w/api.php",
        "tests/0 (https://example.org/tests)",
        OwnerOnly::OAuth1 {
            consumer_key: "key".into(),
            consumer_secret: CONSUMER_SECRET.into(),
            access_token: "k".into(),
            access_secret: ACCESS_SECRET.into(),
        },
    )
    .unwrap();
    let creds: Credentials = client.credentials().clone();
    for debug in [
        format!("{config:?}"),
        format!("{creds:?}"),
        format!("{client:?}"),
    ] {
        assert!(
            !debug.contains(CONSUMER_SECRET) && !debug.contains(ACCESS_SECRET),
            "{debug}"
        );
        assert!(debug.contains("[redacted]"), "{debug}");
    }

    // A whole login, and failures of every step, with logs at trace level.
    let h = hostile::start().await;
    let figment = rocket::Config::figment()
        .merge(("address", "127.0.0.1"))
        .merge(("port", free_port()))
        .merge(("log_level", "debug"))
        .merge(("secret_key", SECRET_KEY))
        .merge(("mwoauth.base_url", format!("{}/w", h.origin)))
        .merge(("mwoauth.consumer_key", hostile::CONSUMER_KEY))
        .merge(("mwoauth.consumer_secret", CONSUMER_SECRET))
        .merge(("mwoauth.user_agent", "tests/0 (https://example.org/tests)"))
        .merge(("mwoauth.timeout", 1));
    let app = launch(app_rocket(figment)).await;
    let jar = Arc::new(reqwest::cookie::Jar::default());
    let c = stepping_browser(jar);
    let mut seen = Vec::new();
    let callback = app.at(&format!(
        "/oauth-callback?oauth_verifier=v&oauth_token={REQUEST_TOKEN}"
    ));
    for breakage in 0..6 {
        h.set(|b| {
            *b = hostile::good(h.origin.clone());
            match breakage {
                1 => b.token = Answer::text("Error: nope"),
                2 => {
                    b.identify =
                        hostile::jwt_answer(h.origin.clone(), |c| c["__key"] = "wrong".into())
                }
                3 => b.identify = Answer::text(
                    "{\"error\":\"mwoauthdatastore-access-token-not-found\",\"message\":\"gone\"}",
                ),
                // Token answers the crate cannot use must not be quoted.
                4 => {
                    b.initiate = Answer::text(&format!(
                        "oauth_token=bad%0Akey&oauth_token_secret={LEAKED_SECRET}"
                    ))
                }
                5 => {
                    b.token = Answer::text(&format!(
                        "oauth_token=ok&oauth_token_secret={LEAKED_SECRET}%0A"
                    ))
                }
                _ => {}
            }
        });
        let r = c.get(app.at("/login")).send().await.unwrap();
        seen.push(
            r.headers()
                .get("location")
                .map(|l| l.to_str().unwrap().to_string())
                .unwrap_or_default(),
        );
        let r = c.get(&callback).send().await.unwrap();
        seen.push(format!("{:?}", r.headers()));
        seen.push(r.text().await.unwrap());
        for path in ["/", "/me", "/userinfo", "/verified"] {
            let r = c.get(app.at(path)).send().await.unwrap();
            seen.push(format!("{:?}", r.headers()));
            seen.push(r.text().await.unwrap());
        }
    }
    // An OAuth 2.0 sign-in, a refresh and API calls, against the local wiki.
    let (wiki, client, app2) = {
        let wiki = start_wiki().await;
        let port = free_port();
        let client = consumer_with(&wiki, port, Proto::OAuth2, "/");
        let figment =
            figment_with(&wiki, &client, port, Proto::OAuth2).merge(("log_level", "debug"));
        let app2 = launch(app_rocket(figment)).await;
        (wiki, client, app2)
    };
    wiki.set_oauth2_access_token_lifetime(2);
    let jar2 = Arc::new(reqwest::cookie::Jar::default());
    let c2 = reqwest::Client::builder()
        .cookie_provider(jar2.clone())
        .redirect(reqwest::redirect::Policy::limited(10))
        .build()
        .unwrap();
    let (status, _) = login_as(&wiki, &c2, &app2, "Alice", "/").await;
    assert_eq!(status, 200);
    let first = session_record(&jar2, &app2);
    tokio::time::sleep(std::time::Duration::from_secs(3)).await;
    for path in ["/userinfo", "/verified", "/me", "/nope"] {
        let r = c2.get(app2.at(path)).send().await.unwrap();
        seen.push(format!("{:?}", r.headers()));
        seen.push(r.text().await.unwrap());
    }
    let second = session_record(&jar2, &app2);
    assert_eq!(wiki.oauth2_token_requests("refresh_token"), 1);
    let mut oauth2_secrets = vec![client.secret.clone()];
    for record in [&first, &second] {
        for k in ["a", "r"] {
            oauth2_secrets.push(record["cr"][k].as_str().unwrap().to_string());
        }
    }
    assert_ne!(
        first["cr"]["a"], second["cr"]["a"],
        "the token was refreshed"
    );
    wiki.shutdown().await;

    seen.extend(lines.lock().unwrap().iter().cloned());
    assert!(
        lines.lock().unwrap().len() > 10,
        "the logger captured Rocket's logs"
    );
    for text in &seen {
        for secret in [
            CONSUMER_SECRET,
            ACCESS_SECRET,
            REQUEST_SECRET,
            LEAKED_SECRET,
        ] {
            assert!(!text.contains(secret), "secret found in: {text}");
        }
    }
}
