//! A background job acts as a user with no request: the app stores the
//! user's credentials at sign-in, restarts, and a task makes a signed edit
//! with the handle from `MwOAuth::fetch`.

mod common;

use std::path::PathBuf;

use common::*;
use rocket::fairing::AdHoc;
use rocket::{get, routes, State};
use rocket_mediawiki_oauth::{Credentials, MwApi, MwOAuth};
use serde_json::Value;

/// Where the app keeps the credentials of the user who asked for the job.
struct Store(PathBuf);

#[get("/schedule")]
fn schedule(api: MwApi, store: &State<Store>) -> String {
    let json = serde_json::to_string(&api.credentials()).unwrap();
    std::fs::write(&store.0, json).unwrap();
    format!("scheduled for {}", api.user().name)
}

#[rocket::async_test]
async fn a_task_edits_as_the_user_after_a_restart() {
    let (wiki, consumer, app) = wiki_and_app().await;
    let dir = std::env::temp_dir().join(format!("mwoauth-job-{}", free_port()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("credentials.json");

    // First run of the app: Alice signs in and schedules the job.
    let port = app.port;
    drop(app);
    let first = app_rocket(app_figment(&wiki, &consumer, port))
        .manage(Store(file.clone()))
        .mount("/", routes![schedule]);
    let first = launch(first).await;
    let browser = browser();
    let (status, page) = login_as(&wiki, &browser, &first, "Alice", "/schedule").await;
    assert_eq!((status, page.as_str()), (200, "scheduled for Alice"));
    let stored = std::fs::read_to_string(&file).unwrap();
    assert!(!stored.is_empty());
    drop(first);

    // The app restarts (another port, no browser, no request): a task reads
    // the stored credentials and edits as Alice.
    let (tx, rx) = rocket::tokio::sync::oneshot::channel::<(Value, Value)>();
    let tx = std::sync::Mutex::new(Some(tx));
    let job = AdHoc::on_liftoff("job", move |rocket| {
        let handle = MwOAuth::fetch(rocket)
            .expect("the fairing is attached")
            .clone();
        let credentials: Credentials =
            serde_json::from_str(&std::fs::read_to_string(&file).unwrap()).unwrap();
        let tx = tx.lock().unwrap().take().unwrap();
        Box::pin(async move {
            rocket::tokio::spawn(async move {
                let api = handle.api(credentials);
                let edit = api
                    .post_with_token(
                        "csrf",
                        &[
                            ("action", "edit"),
                            ("title", "Background job"),
                            ("text", "Written by a task"),
                            ("summary", "job"),
                        ],
                    )
                    .await
                    .unwrap();
                let read = api
                    .request(&[
                        ("action", "query"),
                        ("prop", "revisions"),
                        ("titles", "Background job"),
                        ("rvprop", "content|user"),
                        ("rvslots", "main"),
                    ])
                    .await
                    .unwrap();
                let _ = tx.send((edit, read));
            });
        })
    });
    let second = launch(app_rocket(app_figment(&wiki, &consumer, free_port())).attach(job)).await;
    let (edit, read) = rocket::tokio::time::timeout(std::time::Duration::from_secs(20), rx)
        .await
        .expect("the job finishes in time")
        .expect("the job reports");
    assert_eq!(edit["edit"]["result"], "Success", "{edit}");
    let rev = &read["query"]["pages"][0]["revisions"][0];
    assert_eq!(rev["user"], "Alice", "{read}");
    assert_eq!(rev["slots"]["main"]["content"], "Written by a task");
    assert_eq!(
        wiki.page_text("Background job").as_deref(),
        Some("Written by a task")
    );
    drop(second);
    let _ = std::fs::remove_dir_all(&dir);
}

#[rocket::async_test]
async fn fetch_needs_the_fairing() {
    let without = rocket::build().ignite().await.unwrap();
    assert!(MwOAuth::fetch(&without).is_none());
    let figment = rocket::Config::figment()
        .merge(("mwoauth.base_url", "https://meta.wikimedia.org/w"))
        .merge(("mwoauth.consumer_key", "k"))
        .merge(("mwoauth.consumer_secret", "s"));
    let with = rocket::custom(figment)
        .attach(MwOAuth::fairing())
        .ignite()
        .await
        .unwrap();
    let handle = MwOAuth::fetch(&with).expect("the handle");
    assert_eq!(handle.config().base_url, "https://meta.wikimedia.org/w");
    assert!(!format!("{handle:?}").contains("\"s\""));
}
