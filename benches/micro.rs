//! Micro-benchmarks of the guards, in process (Rocket's local client, no
//! network): `cargo bench --bench micro`.
//!
//! - a bare route, for reference;
//! - `Option<MwUser>` with no cookie (an anonymous visitor);
//! - `MwUser` with a session cookie seen before (the identity cache);
//! - `MwUser` with a session cookie never seen (opening it: AES-GCM,
//!   inflating and reading the record, filling the cache).
//!
//! Signing and JWT verification are measured where users pay for them, in
//! the load benchmark (`cargo bench --bench load`: CPU per API call and
//! logins per second).

#[path = "forge.rs"]
mod forge;

use cookie::Cookie;
use criterion::{criterion_group, criterion_main, Criterion};
use rocket::local::asynchronous::Client;
use rocket::{get, routes};
use rocket_mediawiki_oauth::{MwOAuth, MwUser};

/// The session cookie's name.
const SESSION_COOKIE: &str = "mwoauth_session";
const SECRET_KEY: [u8; 32] = [7u8; 32];

#[get("/bare")]
fn bare() -> &'static str {
    "hello"
}

#[get("/user")]
fn user(user: MwUser) -> String {
    user.name
}

#[get("/maybe")]
fn maybe(user: Option<MwUser>) -> &'static str {
    if user.is_some() {
        "someone"
    } else {
        "anonymous"
    }
}

/// A session cookie value, as a browser would send it back: an
/// administrator (many groups, three grants) of this app, confirmed by the
/// wiki up to 1,000 s ago.
fn encrypted_session(n: u64) -> String {
    let now = time::OffsetDateTime::now_utc().unix_timestamp();
    let user = forge::User {
        name: "Admin",
        central_id: 12345,
        editcount: 123456,
        registered: "20100101000000",
        groups: &[
            "*",
            "user",
            "autoconfirmed",
            "sysop",
            "bureaucrat",
            "interface-admin",
        ],
        grants: &["basic", "editpage", "highvolume"],
        token: "8efb54617594c7cd3a70703660799948",
        secret: "e1125fdb4e24e12afcfab46333c48c52c13f4f41",
    };
    let app = forge::app_binding("https://meta.wikimedia.org/w/api.php", false, CONSUMER_KEY);
    forge::session_cookie(
        &forge::cookie_key(&SECRET_KEY),
        &user,
        now - (n % 1000) as i64,
        &app,
    )
}

const CONSUMER_KEY: &str = "bee2067d6273fa479f7c7ec744cc1b49";

fn guards(c: &mut Criterion) {
    let rt = rocket::tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let figment = rocket::Config::figment()
        .merge(("secret_key", SECRET_KEY.to_vec()))
        .merge(("log_level", "off"))
        .merge(("mwoauth.base_url", "https://meta.wikimedia.org/w"))
        .merge(("mwoauth.consumer_key", CONSUMER_KEY))
        .merge((
            "mwoauth.consumer_secret",
            "78f334db94e07b61b8d5cd14fb4d0b99f988a1bd",
        ))
        .merge((
            "mwoauth.user_agent",
            "micro-bench/0 (https://example.org/bench)",
        ));
    let rocket = rocket::custom(figment)
        .attach(MwOAuth::fairing())
        .mount("/", routes![bare, user, maybe]);
    let client = rt.block_on(Client::untracked(rocket)).unwrap();
    let seen = encrypted_session(0);
    // Sanity: the cookie signs in.
    let body = rt.block_on(async {
        client
            .get("/user")
            .cookie(Cookie::new(SESSION_COOKIE, seen.clone()))
            .dispatch()
            .await
            .into_string()
            .await
    });
    assert_eq!(body.as_deref(), Some("Admin"));

    c.bench_function("bare route", |b| {
        b.iter(|| rt.block_on(async { client.get("/bare").dispatch().await.status() }))
    });
    c.bench_function("Option<MwUser>, anonymous", |b| {
        b.iter(|| rt.block_on(async { client.get("/maybe").dispatch().await.status() }))
    });
    c.bench_function("MwUser, cookie seen before", |b| {
        b.iter(|| {
            rt.block_on(async {
                client
                    .get("/user")
                    .cookie(Cookie::new(SESSION_COOKIE, seen.clone()))
                    .dispatch()
                    .await
                    .status()
            })
        })
    });
    let fresh: Vec<String> = (1..=2000).map(encrypted_session).collect();
    let mut i = 0;
    c.bench_function("MwUser, cookie never seen (decrypt + parse)", |b| {
        b.iter(|| {
            i = (i + 1) % fresh.len();
            rt.block_on(async {
                client
                    .get("/user")
                    .cookie(Cookie::new(SESSION_COOKIE, fresh[i].clone()))
                    .dispatch()
                    .await
                    .status()
            })
        })
    });
}

criterion_group!(benches, guards);
criterion_main!(benches);
