//! The demo configured only with `ROCKET_MWOAUTH_*` variables (as on a
//! server: no `Rocket.toml` table) says which wiki and protocol it really
//! uses. Its own binary: it sets the process's environment.

mod common;
#[allow(dead_code)]
#[path = "../examples/demo/app.rs"]
mod demo_app;

use common::*;

fn footer(page: &str) -> &str {
    let start = page.find("<footer>").expect("a footer");
    let end = page[start..].find("</footer>").expect("its end") + start;
    &page[start..end]
}

#[rocket::async_test]
async fn the_demo_configured_by_environment_shows_its_wiki_and_protocol() {
    for oauth2 in [true, false] {
        let wiki = start_wiki().await;
        let port = free_port();
        let proto = if oauth2 { Proto::OAuth2 } else { Proto::OAuth1 };
        let consumer = consumer_with(&wiki, port, proto, "/");
        let vars: Vec<(&str, String)> = if oauth2 {
            vec![
                ("ROCKET_MWOAUTH_OAUTH_VERSION", "2".into()),
                ("ROCKET_MWOAUTH_CLIENT_ID", consumer.key.clone()),
                ("ROCKET_MWOAUTH_CLIENT_SECRET", consumer.secret.clone()),
                ("ROCKET_MWOAUTH_CALLBACK", consumer.callback.clone()),
            ]
        } else {
            vec![
                ("ROCKET_MWOAUTH_CONSUMER_KEY", consumer.key.clone()),
                ("ROCKET_MWOAUTH_CONSUMER_SECRET", consumer.secret.clone()),
            ]
        };
        for key in [
            "ROCKET_MWOAUTH_OAUTH_VERSION",
            "ROCKET_MWOAUTH_CLIENT_ID",
            "ROCKET_MWOAUTH_CLIENT_SECRET",
            "ROCKET_MWOAUTH_CALLBACK",
            "ROCKET_MWOAUTH_CONSUMER_KEY",
            "ROCKET_MWOAUTH_CONSUMER_SECRET",
        ] {
            std::env::remove_var(key);
        }
        std::env::set_var("ROCKET_MWOAUTH_BASE_URL", wiki.base_url());
        std::env::set_var(
            "ROCKET_MWOAUTH_USER_AGENT",
            "demo-test/0 (https://example.org/demo-test)",
        );
        for (k, v) in &vars {
            std::env::set_var(k, v);
        }
        let figment = rocket::Config::figment()
            .merge(("address", "127.0.0.1"))
            .merge(("port", port))
            .merge(("log_level", "off"))
            .merge(("secret_key", SECRET_KEY));
        let app = launch(demo_app::rocket(figment)).await;
        let client = browser();
        let (status, page) = text(&client, &app.at("/")).await;
        assert_eq!(status, 200, "{page}");
        let footer = footer(&page);
        assert!(
            footer.contains(&format!(
                "Wiki: <code>{}</code>",
                wiki.base_url().replace('/', "&#x2F;")
            )),
            "{footer}"
        );
        assert!(!footer.contains("the local wiki started by the demo"));
        let protocol = if oauth2 { "OAuth 2.0" } else { "OAuth 1.0a" };
        assert!(
            footer.contains(&format!("<span id=\"footer-protocol\">{protocol}</span>")),
            "{footer}"
        );
        // And it signs in with that protocol.
        wiki.set_auto_approve(Some("Alice"));
        let (status, page) = text(&client, &app.at("/login")).await;
        assert_eq!(status, 200, "{page}");
        assert!(page.contains("Alice"), "{page}");
        let used = if oauth2 {
            wiki.oauth2_token_requests("authorization_code")
        } else {
            0
        };
        assert_eq!(used, u64::from(oauth2), "the sign-in used {protocol}");
        drop(app);
        wiki.shutdown().await;
    }
}
