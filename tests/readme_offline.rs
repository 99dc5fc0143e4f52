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
    let wiki = DevWiki::start(DevWikiConfig {
        auto_approve: Some("Alice".into()), // approve logins at once, as Alice
        callback: format!("http://127.0.0.1:{port}/oauth-callback"),
        ..DevWikiConfig::default()
    })
    .await
    .unwrap();
    let consumer = wiki.default_consumer();
    let figment = rocket::Config::figment()
        .merge(("port", port))
        .merge(("log_level", "off"))
        .merge(("mwoauth.base_url", wiki.base_url()))
        .merge(("mwoauth.consumer_key", consumer.key.clone()))
        .merge(("mwoauth.consumer_secret", consumer.secret.clone()));

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
    rocket::tokio::spawn(app.launch());
    let shutdown = listening.await.unwrap();

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
