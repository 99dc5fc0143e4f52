//! `rocket_mwoauth` 0.1.4 serving the bench's pages.
use rocket::{get, routes};
use rocket_mwoauth::{MWOAuth, UserGuard};

#[get("/bare")]
fn bare() -> &'static str {
    "hello"
}

/// Where the callback lands (always `/`).
#[get("/")]
fn index(user: Option<UserGuard>) -> String {
    format!(
        "hello {}",
        user.map_or("anonymous".to_string(), |u| u.profile().username().to_string())
    )
}

#[get("/user")]
fn user(user: UserGuard) -> String {
    format!("hello {}", user.profile().username())
}

fn env(k: &str) -> String {
    std::env::var(k).unwrap_or_else(|_| panic!("{k} is set by the bench"))
}

#[rocket::launch]
fn rocket() -> _ {
    let figment = rocket::Config::figment()
        .merge(("address", "127.0.0.1"))
        .merge(("port", env("PEER_PORT").parse::<u16>().unwrap()))
        .merge(("log_level", "off"))
        .merge(("secret_key", env("PEER_SECRET_KEY")))
        .merge(("mwoauth.client_id", env("PEER_CLIENT_ID")))
        .merge(("mwoauth.client_secret", env("PEER_CLIENT_SECRET")))
        .merge(("mwoauth.wiki_url", env("PEER_API_URL")));
    rocket::custom(figment)
        .attach(MWOAuth::fairing("peer-bench/0 (bench@example.org)".into()))
        .mount("/", routes![bare, index, user])
}
