//! `store = "redis"` against a real `redis-server` (started by the test on a
//! free loopback port; the shared sign-in suite runs in Redis mode in
//! `tests/login.rs`): a copied cookie
//! dead after logout on every instance, signing a user out everywhere, one
//! refresh per session across instances at expiry, a crashed lock holder,
//! Redis stopped and restarted mid-run, nothing in clear in Redis, and the
//! settings' errors.

mod common;

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use common::redis::{Redis, PREFIX};
use common::*;
use devwiki::{DevWiki, MediaWikiVersion};
use rocket::fairing::AdHoc;
use rocket_mediawiki_oauth::{Config, MwOAuth, MwOAuthHandle};

/// An app instance in Redis mode on `wiki` (its handle too).
async fn instance(
    wiki: &DevWiki,
    consumer: &devwiki::Consumer,
    port: u16,
    proto: Proto,
    redis: &Redis,
) -> (App, MwOAuthHandle) {
    let handle = Arc::new(Mutex::new(None));
    let slot = handle.clone();
    let rocket = app_rocket(redis.configure(figment_with(wiki, consumer, port, proto))).attach(
        AdHoc::on_liftoff("handle", move |r| {
            let h = MwOAuth::fetch(r).cloned();
            Box::pin(async move {
                *slot.lock().unwrap() = h;
            })
        }),
    );
    let app = launch(rocket).await;
    let h = handle.lock().unwrap().take().expect("the handle");
    (app, h)
}

/// A local wiki and two app instances on it in Redis mode (the first's
/// handle too), sharing one consumer.
async fn two_instances(proto: Proto, redis: &Redis) -> (DevWiki, App, MwOAuthHandle, App) {
    let wiki = start_wiki().await;
    let port = free_port();
    let consumer = consumer_with(&wiki, port, proto, "/");
    let (app, handle) = instance(&wiki, &consumer, port, proto, redis).await;
    let (twin, _) = instance(&wiki, &consumer, free_port(), proto, redis).await;
    (wiki, app, handle, twin)
}

/// The `mwoauth_session` cookie (`name=value`) a response sets.
fn session_cookie(r: &reqwest::Response) -> String {
    set_cookies(r)
        .into_iter()
        .find(|c| c.starts_with("mwoauth_session=") && !c.starts_with("mwoauth_session=;"))
        .expect("a session cookie")
        .split(';')
        .next()
        .unwrap()
        .to_string()
}

async fn get_with(cookie: &str, url: String) -> (u16, String) {
    let r = reqwest::Client::new()
        .get(url)
        .header("Cookie", cookie)
        .header("Accept", "application/json")
        .send()
        .await
        .unwrap();
    (r.status().as_u16(), r.text().await.unwrap())
}

/// Logs in on `app` as `user` step by step; the session cookie.
async fn sign_in(wiki: &DevWiki, app: &App, user: &str) -> String {
    let jar = Arc::new(reqwest::cookie::Jar::default());
    let step = stepping_browser(jar);
    wiki.set_auto_approve(Some(user));
    let r = step_login(&step, app, "/").await;
    assert_eq!(r.status().as_u16(), 303, "the callback redirects");
    session_cookie(&r)
}

/// The digest that names a session in Redis (as the crate's docs say).
fn session_hash(id: &str) -> String {
    use sha2::{Digest, Sha256};
    let mut d = Sha256::new();
    for p in [b"mwoauth session".as_slice(), id.as_bytes()] {
        d.update((p.len() as u64).to_be_bytes());
        d.update(p);
    }
    d.finalize().iter().map(|b| format!("{b:02x}")).collect()
}

#[rocket::async_test]
async fn logout_makes_every_copy_of_the_cookie_useless_on_every_instance() {
    let Some(redis) = Redis::start() else { return };
    let (wiki, app, _, twin) = two_instances(Proto::OAuth1, &redis).await;
    let cookie = sign_in(&wiki, &app, "Alice").await;
    let value = cookie.strip_prefix("mwoauth_session=").unwrap();
    println!("session cookie value: {} bytes", value.len());
    assert_eq!(value.len(), 43, "an opaque id: {cookie}");
    // A copy (taken by a thief) works on both instances, and each caches it.
    assert_eq!(get_with(&cookie, app.at("/me")).await.0, 200);
    assert_eq!(get_with(&cookie, twin.at("/me")).await.0, 200);
    assert_eq!(get_with(&cookie, twin.at("/me")).await.0, 200);
    // The owner logs out on the first instance.
    let r = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
        .get(app.at("/logout"))
        .header("Cookie", &cookie)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 303);
    let logged_out = Instant::now();
    assert_eq!(get_with(&cookie, app.at("/me")).await.0, 401);
    // The twin drops its cached copy when Redis tells it.
    loop {
        let (status, _) = get_with(&cookie, twin.at("/me")).await;
        if status == 401 {
            break;
        }
        assert_eq!(status, 200);
        assert!(
            logged_out.elapsed() < Duration::from_secs(2),
            "the twin still serves the copy"
        );
    }
    println!(
        "a logged-out copy was served by another instance for at most {} ms",
        logged_out.elapsed().as_millis()
    );
    assert_eq!(get_with(&cookie, twin.at("/userinfo")).await.0, 401);
    wiki.shutdown().await;
}

#[rocket::async_test]
async fn sign_out_everywhere_ends_all_of_a_users_sessions_and_only_those() {
    let Some(redis) = Redis::start() else { return };
    let (wiki, app, handle, twin) = two_instances(Proto::OAuth2, &redis).await;
    wiki.add_user("Bob");
    let laptop = sign_in(&wiki, &app, "Alice").await;
    let phone = sign_in(&wiki, &twin, "Alice").await;
    let bob = sign_in(&wiki, &app, "Bob").await;
    let (status, me) = get_with(&laptop, twin.at("/me")).await;
    assert_eq!(status, 200);
    let me: serde_json::Value = serde_json::from_str(&me).unwrap();
    let central_id = me["central_id"].as_u64().expect("a central id");
    assert_eq!(get_with(&phone, app.at("/me")).await.0, 200);
    assert_eq!(handle.sign_out_everywhere(central_id).await.unwrap(), 2);
    tokio::time::sleep(Duration::from_millis(200)).await;
    for (cookie, app) in [
        (&laptop, &app),
        (&laptop, &twin),
        (&phone, &app),
        (&phone, &twin),
    ] {
        assert_eq!(get_with(cookie, app.at("/me")).await.0, 401);
    }
    assert_eq!(get_with(&bob, twin.at("/me")).await.0, 200);
    assert_eq!(handle.sign_out_everywhere(central_id).await.unwrap(), 0);
    wiki.shutdown().await;
}

/// A request that was waiting on the wiki when the session ended (here:
/// `VerifiedMwUser` confirming the user, while the owner signs out
/// everywhere) must not write the record back: the copy stays dead.
#[rocket::async_test]
async fn a_request_in_flight_does_not_bring_back_a_session_that_ended() {
    let Some(redis) = Redis::start() else { return };
    let (wiki, app, handle, twin) = two_instances(Proto::OAuth2, &redis).await;
    let cookie = sign_in(&wiki, &app, "Alice").await;
    let (status, me) = get_with(&cookie, app.at("/me")).await;
    assert_eq!(status, 200);
    let me: serde_json::Value = serde_json::from_str(&me).unwrap();
    let central_id = me["central_id"].as_u64().expect("a central id");
    // A thief's copy confirms the user on the twin; the wiki takes its time.
    wiki.set_profile_delay(Duration::from_millis(1500));
    let in_flight = tokio::spawn({
        let (cookie, url) = (cookie.clone(), twin.at("/verified-strict"));
        async move { get_with(&cookie, url).await }
    });
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(handle.sign_out_everywhere(central_id).await.unwrap(), 1);
    let (status, body) = in_flight.await.unwrap();
    wiki.set_profile_delay(Duration::ZERO);
    assert_eq!(status, 401, "the request in flight is signed out: {body}");
    let key = format!(
        "{PREFIX}s:{}",
        session_hash(cookie.strip_prefix("mwoauth_session=").unwrap())
    );
    assert!(!redis.keys().contains(&key), "the record came back");
    for app in [&app, &twin] {
        assert_eq!(get_with(&cookie, app.at("/me")).await.0, 401);
    }
    wiki.shutdown().await;
}

#[rocket::async_test]
async fn three_instances_at_expiry_refresh_each_session_once_and_sign_nobody_out() {
    let Some(redis) = Redis::start() else { return };
    for mw in [MediaWikiVersion::V1_39, MediaWikiVersion::V1_43] {
        let wiki = start_wiki_on(mw).await;
        let port = free_port();
        let consumer = consumer_with(&wiki, port, Proto::OAuth2, "/");
        let mut apps = vec![
            instance(&wiki, &consumer, port, Proto::OAuth2, &redis)
                .await
                .0,
        ];
        for _ in 0..2 {
            apps.push(
                instance(&wiki, &consumer, free_port(), Proto::OAuth2, &redis)
                    .await
                    .0,
            );
        }
        wiki.set_oauth2_access_token_lifetime(2);
        let users = ["Alice", "Bob", "Carol", "Dave", "Erin", "Frank"];
        let mut cookies = Vec::new();
        for user in users {
            wiki.add_user(user);
            cookies.push(sign_in(&wiki, &apps[0], user).await);
        }
        tokio::time::sleep(Duration::from_secs(3)).await;
        let before = wiki.oauth2_token_requests("refresh_token");
        // Every user on every instance at once, twice.
        let mut tasks = Vec::new();
        for cookie in &cookies {
            for app in &apps {
                for _ in 0..2 {
                    let (cookie, url) = (cookie.clone(), app.at("/userinfo"));
                    tasks.push(tokio::spawn(async move { get_with(&cookie, url).await }));
                }
            }
        }
        for t in tasks {
            let (status, body) = t.await.unwrap();
            assert_eq!(status, 200, "MediaWiki {}: {body}", mw.name());
        }
        assert_eq!(
            wiki.oauth2_token_requests("refresh_token") - before,
            users.len() as u64,
            "one refresh per session"
        );
        for cookie in &cookies {
            for app in &apps {
                assert_eq!(get_with(cookie, app.at("/me")).await.0, 200);
            }
        }
        wiki.shutdown().await;
    }
}

#[rocket::async_test]
async fn a_crashed_lock_holder_delays_the_refresh_until_its_lock_expires() {
    let Some(redis) = Redis::start() else { return };
    let wiki = start_wiki_on(MediaWikiVersion::V1_43).await;
    let port = free_port();
    let consumer = consumer_with(&wiki, port, Proto::OAuth2, "/");
    let (app, _) = instance(&wiki, &consumer, port, Proto::OAuth2, &redis).await;
    wiki.set_oauth2_access_token_lifetime(2);
    let cookie = sign_in(&wiki, &app, "Alice").await;
    let id = cookie.strip_prefix("mwoauth_session=").unwrap();
    tokio::time::sleep(Duration::from_secs(3)).await;
    // An instance took the lock and died.
    let lock = format!("{PREFIX}l:{}", session_hash(id));
    let _: () = ::redis::cmd("SET")
        .arg(&lock)
        .arg("crashed")
        .arg("PX")
        .arg(2500)
        .query(&mut redis.client())
        .unwrap();
    let start = Instant::now();
    let (status, body) = get_with(&cookie, app.at("/userinfo")).await;
    assert_eq!(status, 200, "{body}");
    assert!(
        start.elapsed() >= Duration::from_secs(2),
        "{:?}",
        start.elapsed()
    );
    assert_eq!(wiki.oauth2_token_requests("refresh_token"), 1);
    wiki.shutdown().await;
}

#[rocket::async_test]
async fn redis_down_is_a_503_that_signs_nobody_out_and_recovers_by_itself() {
    let Some(mut redis) = Redis::start() else {
        return;
    };
    let wiki = start_wiki().await;
    let port = free_port();
    let consumer = consumer_with(&wiki, port, Proto::OAuth1, "/");
    let (app, _) = instance(&wiki, &consumer, port, Proto::OAuth1, &redis).await;
    let cookie = sign_in(&wiki, &app, "Alice").await;
    assert_eq!(get_with(&cookie, app.at("/me")).await.0, 200);
    // Stopped, its data saved (as a Redis restarted for maintenance).
    let _: () = ::redis::cmd("SHUTDOWN")
        .arg("SAVE")
        .query(&mut redis.client())
        .unwrap_or(());
    redis.stop();
    // A copy another instance has not seen: Redis must be asked.
    let (twin, _) = instance(&wiki, &consumer, free_port(), Proto::OAuth1, &redis).await;
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    for path in ["/me", "/private", "/userinfo", "/logout"] {
        let started = Instant::now();
        let r = client
            .get(twin.at(path))
            .header("Cookie", &cookie)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status().as_u16(), 503, "{path}");
        assert!(
            started.elapsed() < Duration::from_secs(4),
            "{path}: {:?}",
            started.elapsed()
        );
        assert_eq!(r.headers()["retry-after"], "5", "{path}");
        assert!(
            !set_cookies(&r)
                .iter()
                .any(|c| c.starts_with("mwoauth_session=")),
            "{path}: the cookie is kept"
        );
        let body = r.text().await.unwrap();
        assert!(body.contains("session store"), "{path}: {body}");
    }
    // Back: the same cookie is served again, on both instances.
    redis.restart();
    let back = Instant::now();
    loop {
        if get_with(&cookie, twin.at("/me")).await.0 == 200 {
            break;
        }
        assert!(back.elapsed() < Duration::from_secs(15), "recovered");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    assert_eq!(get_with(&cookie, app.at("/me")).await.0, 200);
    assert_eq!(get_with(&cookie, app.at("/userinfo")).await.0, 200);
    wiki.shutdown().await;
}

#[rocket::async_test]
async fn redis_holds_no_token_id_or_user_name_in_clear() {
    let Some(redis) = Redis::start() else { return };
    let wiki = start_wiki().await;
    let port = free_port();
    let consumer = consumer_with(&wiki, port, Proto::OAuth2, "/");
    let (app, _) = instance(&wiki, &consumer, port, Proto::OAuth2, &redis).await;
    let cookie = sign_in(&wiki, &app, "Alice").await;
    let id = cookie.strip_prefix("mwoauth_session=").unwrap().to_string();
    let (access, refresh) = wiki.oauth2_grant("Alice", &consumer.key).unwrap();
    let keys = redis.keys();
    assert_eq!(keys.len(), 2, "{keys:?}");
    let mut conn = redis.client();
    let mut seen = Vec::new();
    for key in &keys {
        assert!(key.starts_with(PREFIX), "{key}");
        seen.push(key.as_bytes().to_vec());
        let kind: String = ::redis::cmd("TYPE").arg(key).query(&mut conn).unwrap();
        match kind.as_str() {
            "string" => seen.push(::redis::cmd("GET").arg(key).query(&mut conn).unwrap()),
            "set" => {
                let members: Vec<Vec<u8>> =
                    ::redis::cmd("SMEMBERS").arg(key).query(&mut conn).unwrap();
                seen.extend(members);
            }
            other => panic!("{key} is a {other}"),
        }
    }
    // The tokens the wiki issued at sign-in (the grant just made is another,
    // so take the record's own through the API as well).
    let (_, info) = get_with(&cookie, app.at("/userinfo")).await;
    assert!(info.contains("Alice"));
    for bytes in &seen {
        let text = String::from_utf8_lossy(bytes);
        for secret in [
            id.as_str(),
            "Alice",
            access.as_str(),
            refresh.as_str(),
            consumer.secret.as_str(),
        ] {
            assert!(!text.contains(secret), "{secret} in clear in Redis");
        }
        // Nothing of the JSON record either.
        assert!(!text.contains("\"cr\""), "a record in clear");
    }
    wiki.shutdown().await;
}

#[test]
fn the_settings_name_their_keys() {
    let base = || {
        rocket::Config::figment()
            .merge(("mwoauth.base_url", "https://meta.wikimedia.org/w"))
            .merge(("mwoauth.client_id", "0123abcd"))
            .merge(("mwoauth.client_secret", "s3cr3t"))
    };
    let err = |f: rocket::figment::Figment| Config::from_figment(&f).unwrap_err().to_string();
    let e = err(base().merge(("mwoauth.store", "memcached")));
    assert!(
        e.contains("mwoauth.store") && e.contains("ROCKET_MWOAUTH_STORE"),
        "{e}"
    );
    let redis = || base().merge(("mwoauth.store", "Redis"));
    let e = err(redis());
    assert!(
        e.contains("ROCKET_MWOAUTH_REDIS_PREFIX") && e.contains("openssl rand -hex 16"),
        "{e}"
    );
    let e = err(redis().merge(("mwoauth.redis_prefix", "short")));
    assert!(
        e.contains("mwoauth.redis_prefix") && e.contains("at least 20"),
        "{e}"
    );
    let e = err(redis().merge(("mwoauth.redis_prefix", "aaaaaaaaaaaaaaaaaaaaaaaa")));
    assert!(e.contains("does not look random"), "{e}");
    let e = err(redis().merge(("mwoauth.redis_prefix", "abcdefghijklmnopqrstuvwxyz")));
    assert!(e.contains("does not look random"), "{e}");
    let e = err(redis()
        .merge(("mwoauth.redis_prefix", PREFIX))
        .merge(("mwoauth.redis_url", "http://:hunter2@127.0.0.1:6379")));
    assert!(
        e.contains("ROCKET_MWOAUTH_REDIS_URL") && !e.contains("hunter2"),
        "{e}"
    );
    // Redis over TLS: refused plainly, not a failure at the first request.
    let e = err(redis().merge(("mwoauth.redis_prefix", PREFIX)).merge((
        "mwoauth.redis_url",
        "rediss://:hunter2@redis.example:6380/0",
    )));
    assert!(
        e.contains("ROCKET_MWOAUTH_REDIS_URL") && e.contains("TLS") && !e.contains("hunter2"),
        "{e}"
    );
    let ok = Config::from_figment(
        &redis()
            .merge(("mwoauth.redis_prefix", PREFIX))
            .merge(("mwoauth.redis_url", "redis://:hunter2@127.0.0.1:6379/0")),
    )
    .unwrap();
    let debug = format!("{ok:?}");
    assert!(
        !debug.contains("hunter2") && !debug.contains(PREFIX),
        "{debug}"
    );
}
