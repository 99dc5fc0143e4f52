//! `mwoauth` 0.1.0-alpha.2 (its Rocket adapter) serving the bench's pages.
use mwoauth::rocket::RocketOAuth;
use mwoauth::{MwOAuthClient, MwOAuthConfig, OptionalUserGuard, UserGuard};
use rocket::{get, routes};

#[get("/bare")]
fn bare() -> &'static str {
    "hello"
}

/// Where the callback lands (always `/`).
#[get("/")]
fn index(user: OptionalUserGuard) -> String {
    format!(
        "hello {}",
        user.as_ref()
            .map_or("anonymous".to_string(), |u| u.profile().username().to_string())
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
    let port: u16 = env("PEER_PORT").parse().unwrap();
    let config = MwOAuthConfig::confidential(
        env("PEER_API_URL").parse().unwrap(),
        env("PEER_CLIENT_ID"),
        env("PEER_CLIENT_SECRET"),
        format!("http://127.0.0.1:{port}/oauth/callback").parse().unwrap(),
        "peer-bench/0 (bench@example.org)",
    )
    .unwrap();
    let client = MwOAuthClient::new(config).unwrap();
    let figment = rocket::Config::figment()
        .merge(("address", "127.0.0.1"))
        .merge(("port", port))
        .merge(("log_level", "off"))
        .merge(("secret_key", env("PEER_SECRET_KEY")));
    rocket::custom(figment)
        .attach(RocketOAuth::new(client))
        .mount("/", routes![bare, index, user])
}
