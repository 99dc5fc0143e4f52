//! Launch is refused, with the bad key named, when the configuration is bad
//! or missing, and when a guard is used without the fairing.

use rocket::error::ErrorKind;
use rocket::figment::Figment;
use rocket::{get, routes};
use rocket_mediawiki_oauth::{MwApi, MwOAuth, MwUser};

fn base() -> Figment {
    Figment::from(rocket::Config::debug_default()).merge(("log_level", "off"))
}

fn good() -> Figment {
    base()
        .merge(("mwoauth.base_url", "https://meta.wikimedia.org/w"))
        .merge(("mwoauth.consumer_key", "0123456789abcdef0123456789abcdef"))
        .merge((
            "mwoauth.consumer_secret",
            "fedcba9876543210fedcba9876543210fedcba98",
        ))
}

#[get("/")]
fn page(user: Option<MwUser>) -> String {
    user.map(|u| u.name).unwrap_or_default()
}

#[get("/api")]
fn api(_api: MwApi) -> &'static str {
    "ok"
}

/// `Err` with the names of the failed fairings.
async fn ignites(figment: Figment) -> Result<(), Vec<String>> {
    let rocket = rocket::custom(figment)
        .attach(MwOAuth::fairing())
        .mount("/", routes![page, api]);
    match rocket.ignite().await {
        Ok(_) => Ok(()),
        Err(e) => match e.kind() {
            ErrorKind::FailedFairings(f) => Err(f.iter().map(|i| i.name.to_string()).collect()),
            other => panic!("unexpected launch error {other:?}"),
        },
    }
}

#[rocket::async_test]
async fn good_config_ignites() {
    assert!(ignites(good()).await.is_ok());
}

#[rocket::async_test]
async fn bad_or_missing_config_is_refused() {
    let cases = [
        base(),
        good().merge(("mwoauth.base_url", "not a url")),
        good().merge(("mwoauth.base_url", "https://meta.wikimedia.org/w/api.php")),
        good().merge(("mwoauth.consumer_key", "")),
        good().merge(("mwoauth.consumer_secret", "with space")),
        good().merge(("mwoauth.callback", "sometimes")),
        good().merge(("mwoauth.default_return", "https://evil.example/")),
        good().merge(("mwoauth.mount", "no-slash")),
        good().merge(("mwoauth.mount", "/auth?x=1")),
        good().merge(("mwoauth.mount", "/a<b>")),
        good().merge(("mwoauth.timeout", 0)),
        good().merge(("mwoauth.timeout", "soon")),
        good().merge(("mwoauth.unknown_key", 1)),
    ];
    for (i, figment) in cases.into_iter().enumerate() {
        match ignites(figment).await {
            Err(names) => assert_eq!(names, ["MediaWiki OAuth"], "case {i}"),
            Ok(()) => panic!("case {i}: launch must be refused"),
        }
    }
}

#[rocket::async_test]
async fn a_guard_without_the_fairing_aborts_launch() {
    let rocket = rocket::custom(good()).mount("/", routes![page, api]);
    match rocket.ignite().await {
        Err(e) => assert!(
            matches!(e.kind(), ErrorKind::SentinelAborts(_)),
            "{:?}",
            e.kind()
        ),
        Ok(_) => panic!("launch must be refused"),
    }
}
