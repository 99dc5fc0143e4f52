//! Session cookies: tampered, truncated, foreign, or of an older format, they
//! read as "signed out", never as an error; two instances sharing
//! `secret_key` serve the same user.

mod common;

use common::hostile::{self, HostileWiki, CONSUMER_KEY, CONSUMER_SECRET, REQUEST_TOKEN};
use common::*;
use rocket::figment::Figment;
use rocket::http::Cookie;
use rocket::local::asynchronous::Client;
/// The session cookie's name, as the README documents it.
const SESSION_COOKIE: &str = "mwoauth_session";

fn figment(base_url: &str, port: u16, secret_key: &str) -> Figment {
    Figment::from(rocket::Config::debug_default())
        .merge(("address", "127.0.0.1"))
        .merge(("port", port))
        .merge(("log_level", "off"))
        .merge(("secret_key", secret_key))
        .merge(("mwoauth.base_url", base_url))
        .merge(("mwoauth.consumer_key", CONSUMER_KEY))
        .merge(("mwoauth.consumer_secret", CONSUMER_SECRET))
        .merge(("mwoauth.user_agent", "tests/0 (https://example.org/tests)"))
        .merge(("mwoauth.timeout", 2))
}

const RECORD: &str = r#"{"v":2,"app":"APP","cr":{"p":"o1","k":"8efb54617594c7cd3a70703660799948","s":"e1125fdb4e24e12afcfab46333c48c52c13f4f41"},"u":{"n":"Alice","i":7,"e":3,"b":false,"c":true,"r":"20260101000000","g":["*","user"],"gr":["basic"]},"at":AT}"#;

/// The record, confirmed by the wiki `age` seconds ago.
fn record(age: i64) -> String {
    record_at(time::OffsetDateTime::now_utc().unix_timestamp() - age)
}

/// The record, confirmed by the wiki at `at` (Unix seconds).
fn record_at(at: i64) -> String {
    RECORD
        .replace("AT", &at.to_string())
        .replace("APP", &app_binding(BASE_URL, false, CONSUMER_KEY))
}

/// The wiki of the apps made with [`figment`] in the offline tests.
const BASE_URL: &str = "http://127.0.0.1:9/w";

#[rocket::async_test]
async fn records_of_other_formats_read_as_signed_out() {
    let rocket = app_rocket(figment(BASE_URL, 0, SECRET_KEY));
    let client = Client::untracked(rocket).await.unwrap();
    let page = |cookie: Cookie<'static>, private: bool| {
        let client = &client;
        async move {
            let req = client.get("/");
            let req = if private {
                req.private_cookie(cookie)
            } else {
                req.cookie(cookie)
            };
            let r = req.dispatch().await;
            (r.status().code, r.into_string().await.unwrap_or_default())
        }
    };
    // Format 2 (JSON in a Rocket private cookie, as 0.1 wrote it) is still
    // read, so an upgrade signs nobody out; it goes through the same checks
    // as format 3 (binding, lifetime, protocol). Properly encrypted: signed
    // in (so the cases below can fail).
    assert_eq!(
        page(Cookie::new(SESSION_COOKIE, record(60)), true).await,
        (200, "user: Alice".into())
    );
    // Six days after the wiki last confirmed it, still good (session_days = 7).
    assert_eq!(
        page(Cookie::new(SESSION_COOKIE, record(6 * 86_400)), true).await,
        (200, "user: Alice".into())
    );
    let older = record(60).replace("\"v\":2", "\"v\":1");
    let future = record(60).replace("\"v\":2", "\"v\":3");
    // Format 1 had no binding: nothing tells this app's from another's.
    let unbound = record(60).replace("\"v\":2", "\"v\":1").replace(
        &format!(
            ",\"app\":\"{}\"",
            app_binding(BASE_URL, false, CONSUMER_KEY)
        ),
        "",
    );
    // Made by an app on another wiki, or with another consumer, sharing the key.
    let other_wiki = record(60).replace(
        &app_binding(BASE_URL, false, CONSUMER_KEY),
        &app_binding("http://127.0.0.1:9/other", false, CONSUMER_KEY),
    );
    let other_consumer = record(60).replace(
        &app_binding(BASE_URL, false, CONSUMER_KEY),
        &app_binding(BASE_URL, false, "another consumer"),
    );
    let other_protocol = record(60).replace("\"p\":\"o1\"", "\"p\":\"o9\"");
    // Past the sign-in lifetime, whatever the browser kept.
    let expired = record(8 * 86_400);
    let flask_like =
        r#"{"mwoauth_access_token":{"key":"a","secret":"b"},"mwoauth_username":"Alice"}"#
            .to_string();
    // Confirmed at the start of time (found by fuzzing: the age overflowed).
    let ancient = record_at(i64::MIN);
    // Dated in the future (F17, issue 22): not fresh for ever.
    let future_dated = record(-30 * 86_400);
    let far_future = record_at(i64::MAX);
    for value in [
        future_dated,
        far_future,
        unbound,
        other_wiki,
        other_consumer,
        ancient,
        expired,
        older,
        future,
        other_protocol,
        flask_like,
        "{".into(),
        String::new(),
        "null".into(),
    ] {
        assert_eq!(
            page(Cookie::new(SESSION_COOKIE, value.clone()), true).await,
            (200, "anonymous".into()),
            "{value}"
        );
    }
    // A login in progress started at the start of time (found by fuzzing).
    let ancient_login = format!(
        r#"{{"v":2,"app":"{}","l":{{"p":"o1","k":"abc","s":"x"}},"n":"/","at":-9223372036854775808}}"#,
        app_binding(BASE_URL, false, CONSUMER_KEY)
    );
    let r = client
        .get("/oauth-callback?oauth_token=abc&oauth_verifier=def")
        .private_cookie(Cookie::new("mwoauth_login_0", ancient_login))
        .dispatch()
        .await;
    assert_eq!(r.status().code, 400);
    // Not encrypted at all.
    assert_eq!(
        page(Cookie::new(SESSION_COOKIE, record(60)), false).await,
        (200, "anonymous".into())
    );
    // Guards that need a user forward with 401, never 500.
    for path in ["/me", "/userinfo", "/private"] {
        let r = client
            .get(path)
            .cookie(Cookie::new(SESSION_COOKIE, "garbage"))
            .dispatch()
            .await;
        assert!(
            matches!(r.status().code, 401 | 303),
            "{path}: {}",
            r.status()
        );
    }
    let r = client
        .get("/verified")
        .cookie(Cookie::new(SESSION_COOKIE, "garbage"))
        .dispatch()
        .await;
    assert_eq!(r.into_string().await.unwrap(), "anonymous");
}

async fn login_cookie(app: &App) -> String {
    let c = stepping_browser(std::sync::Arc::new(reqwest::cookie::Jar::default()));
    c.get(app.at("/login")).send().await.unwrap();
    let r = c
        .get(app.at(&format!(
            "/oauth-callback?oauth_verifier=v&oauth_token={REQUEST_TOKEN}"
        )))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 303);
    let cookie = set_cookies(&r)
        .into_iter()
        .find(|c| c.starts_with(&format!("{SESSION_COOKIE}=")))
        .expect("a session cookie");
    cookie.split(';').next().unwrap().to_string()
}

async fn page_with_cookie(app: &App, cookie: &str) -> (u16, String) {
    let r = reqwest::Client::new()
        .get(app.at("/"))
        .header("Cookie", cookie)
        .send()
        .await
        .unwrap();
    (r.status().as_u16(), r.text().await.unwrap())
}

async fn hostile_app(h: &HostileWiki, secret: &str) -> App {
    launch(app_rocket(figment(
        &format!("{}/w", h.origin),
        free_port(),
        secret,
    )))
    .await
}

#[rocket::async_test]
async fn tampered_truncated_and_foreign_cookies_are_signed_out() {
    let h = hostile::start().await;
    let app = hostile_app(&h, SECRET_KEY).await;
    let cookie = login_cookie(&app).await;
    assert_eq!(
        page_with_cookie(&app, &cookie).await,
        (200, "user: Mallory".into())
    );

    let (name, value) = cookie.split_once('=').unwrap();
    let mut cases = Vec::new();
    for i in [0, value.len() / 2, value.len() - 1] {
        let mut bytes = value.as_bytes().to_vec();
        bytes[i] = if bytes[i] == b'A' { b'B' } else { b'A' };
        cases.push(String::from_utf8(bytes).unwrap());
    }
    cases.push(value[..value.len() / 2].to_string());
    cases.push(value[..10].to_string());
    cases.push(format!("{value}{value}"));
    cases.push("%FF%FE".into());
    for bad in cases {
        assert_eq!(
            page_with_cookie(&app, &format!("{name}={bad}")).await,
            (200, "anonymous".into()),
            "{bad}"
        );
    }

    // A cookie from an instance with another secret_key is worthless here...
    let other = hostile_app(&h, "Xv1yZ3mQ9cYtJ0n8wK2rT5uP7sA4dF6gH1jL3kN5bV0=").await;
    let foreign = login_cookie(&other).await;
    assert_eq!(page_with_cookie(&other, &foreign).await.1, "user: Mallory");
    assert_eq!(page_with_cookie(&app, &foreign).await.1, "anonymous");
    // ...while an instance sharing the key serves the same user.
    let twin = hostile_app(&h, SECRET_KEY).await;
    assert_eq!(page_with_cookie(&twin, &cookie).await.1, "user: Mallory");
}

/// Signs `user` in with OAuth 2.0 on `wiki` (a confidential client with
/// `grants`) and returns the `mwoauth_session=` Set-Cookie value's length
/// and the record it holds.
async fn oauth2_session_cookie(
    wiki: &devwiki::DevWiki,
    user: &str,
    grants: &[&str],
) -> (usize, serde_json::Value) {
    let port = free_port();
    let consumer = wiki.register_consumer(devwiki::ConsumerSpec {
        name: format!("Cookie size ({} grants)", grants.len()),
        callback: format!("http://127.0.0.1:{port}/oauth-callback"),
        grants: grants.iter().map(|g| g.to_string()).collect(),
        oauth2: true,
        confidential: true,
        ..Default::default()
    });
    let app = launch(app_rocket(figment_with(
        wiki,
        &consumer,
        port,
        Proto::OAuth2,
    )))
    .await;
    let jar = std::sync::Arc::new(reqwest::cookie::Jar::default());
    let step = stepping_browser(jar.clone());
    wiki.set_auto_approve(Some(user));
    let r = step.get(app.at("/login")).send().await.unwrap();
    let r = follow(&step, &r).await;
    let r = follow(&step, &r).await;
    assert_eq!(r.status(), 303, "signed in");
    let value = set_cookies(&r)
        .into_iter()
        .find_map(|c| {
            c.split(';')
                .next()?
                .strip_prefix(&format!("{SESSION_COOKIE}="))
                .map(str::to_string)
        })
        .expect("a session cookie");
    assert_eq!(text(&step, &app.at("/")).await.0, 200);
    (value.len(), session_record(&jar, &app))
}

#[rocket::async_test]
async fn oauth2_session_cookies_of_a_plain_user_and_an_administrator_fit() {
    // The local wiki's tokens are as long as a real wiki's (devwiki's
    // tests/sizes.rs): the access token a ≈ 750–850-character RS256 JWT, the
    // refresh token ≈ 800–900 hex characters.
    for mw in VERSIONS {
        let wiki = start_wiki_on(mw).await;
        // Issue 25's goal: a plain user's cookie (name and value) within
        // 1,600 bytes, an administrator's within 1,800.
        for (who, grants, limit) in [
            (
                "Alice",
                &["basic", "editpage", "createeditmovepage", "uploadfile"][..],
                1600,
            ),
            ("Admin", &TWELVE_GRANTS[..], 1800),
        ] {
            let (len, record) = oauth2_session_cookie(&wiki, who, grants).await;
            let tokens = &record["cr"];
            let (access, refresh) = (
                tokens["a"].as_str().unwrap_or_default().len(),
                tokens["r"].as_str().unwrap_or_default().len(),
            );
            let json = record.to_string().len();
            println!(
                "MediaWiki {}, {who} ({} grants): session cookie value {len} B; record JSON \
                 {json} B, access token {access}, refresh token {refresh}, user {} B",
                mw.name(),
                grants.len(),
                record["u"].to_string().len()
            );
            assert!(access > 700 && refresh > 700, "real-sized tokens");
            let cookie = "mwoauth_session=".len() + len;
            assert!(
                cookie <= limit,
                "MediaWiki {}, {who}: a {cookie}-byte session cookie",
                mw.name()
            );
        }
        wiki.shutdown().await;
    }
}
