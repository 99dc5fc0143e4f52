// tests/login.rs: the local wiki and your app on free loopback ports, and a
// client that keeps cookies and follows redirects, as a browser does.
#[allow(dead_code)] // the `main` that `#[launch]` adds
#[path = "../examples/readme_app.rs"]
mod app;

use devwiki::{DevWiki, DevWikiConfig};
use rocket::fairing::AdHoc;

#[rocket::async_test]
async fn alice_signs_in_and_edits() {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .unwrap()
        .port();
    let callback = format!("http://127.0.0.1:{port}/oauth-callback");
    let wiki = DevWiki::start(DevWikiConfig {
        auto_approve: Some("Alice".into()), // approve logins at once, as Alice
        // Users come back to the app: OAuth 1.0a consumer, OAuth 2.0 client.
        callback: callback.clone(),
        oauth2_redirect_uri: callback.clone(),
        ..DevWikiConfig::default()
    })
    .await
    .unwrap();

    // Your app's own configuration (Rocket.toml, ROCKET_* variables), with
    // only what the local wiki decides replaced: its URL, the credentials it
    // registered for the protocol your app uses, and the callback.
    let config = rocket::Config::figment();
    let oauth2 = config.contains("mwoauth.client_id")
        || config.extract_inner::<u8>("mwoauth.oauth_version").ok() == Some(2);
    let figment = config
        .merge(("port", port))
        .merge(("log_level", "off"))
        .merge(("mwoauth.base_url", wiki.base_url()));
    let figment = if oauth2 {
        let client = wiki.default_oauth2_client();
        figment
            .merge(("mwoauth.client_id", client.key.clone()))
            .merge(("mwoauth.client_secret", client.secret.clone()))
            .merge(("mwoauth.callback", callback))
    } else {
        let consumer = wiki.default_consumer();
        figment
            .merge(("mwoauth.consumer_key", consumer.key.clone()))
            .merge(("mwoauth.consumer_secret", consumer.secret.clone()))
            .merge(("mwoauth.callback", "oob"))
    };

    // Launch the app; go on once it listens.
    let (ready, listening) = rocket::tokio::sync::oneshot::channel();
    let ready = std::sync::Mutex::new(Some(ready));
    let app = app::rocket()
        .configure(figment)
        .attach(AdHoc::on_liftoff("ready", move |rocket| {
            let ready = ready.lock().unwrap().take();
            let shutdown = rocket.shutdown();
            Box::pin(async move {
                if let Some(ready) = ready {
                    let _ = ready.send(shutdown);
                }
            })
        }));
    let launched = rocket::tokio::spawn(app.launch());
    let Ok(shutdown) = listening.await else {
        // The app did not start: show Rocket's reason, not a RecvError.
        panic!("the app did not launch: {:?}", launched.await);
    };

    let browser = reqwest::Client::builder()
        .cookie_store(true)
        .build()
        .unwrap();
    let site = format!("http://127.0.0.1:{port}");
    let home = browser.get(format!("{site}/login")).send().await.unwrap();
    assert!(home.text().await.unwrap().starts_with("Hello, Alice!"));
    let edit = browser.get(format!("{site}/edit")).send().await.unwrap();
    assert_eq!(edit.text().await.unwrap(), "Success");
    assert!(wiki.page_text("Sandbox").unwrap().ends_with("Hi"));

    shutdown.notify();
    wiki.shutdown().await;
}
