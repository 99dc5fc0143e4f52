//! Hostile input, round three (issue 22): what a broken or hostile wiki, a
//! proxy that echoes requests, or a link on another site can make the app
//! do, over loopback. Each test names its finding.

mod common;

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

use common::hostile::{self, Answer, HostileWiki};
use common::*;
use rocket::{get, routes};
use rocket_mediawiki_oauth::{ApiClient, ApiError, ApiOptions, MwUser, OwnerOnly, VerifiedMwUser};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// Every log line of this test binary that Rocket's `normal` level shows
/// (Rocket's, the crate's, the local wiki's), and the crate's at any level.
fn logs() -> &'static Mutex<Vec<String>> {
    static LOGS: OnceLock<Mutex<Vec<String>>> = OnceLock::new();
    LOGS.get_or_init(|| Mutex::new(Vec::new()))
}

struct Capture;

impl log::Log for Capture {
    fn enabled(&self, _: &log::Metadata<'_>) -> bool {
        true
    }
    fn log(&self, record: &log::Record<'_>) {
        // What Rocket's `normal` level shows, and everything of the crate.
        if record.level() > log::Level::Info
            && !record.target().starts_with("rocket_mediawiki_oauth")
        {
            return;
        }
        logs().lock().unwrap().push(format!(
            "{} {}: {}",
            record.level(),
            record.target(),
            record.args()
        ));
    }
    fn flush(&self) {}
}

/// Captures every log line from now on (before any Rocket sets its logger).
fn capture_logs() {
    static ONCE: OnceLock<()> = OnceLock::new();
    ONCE.get_or_init(|| {
        let _ = log::set_boxed_logger(Box::new(Capture));
        log::set_max_level(log::LevelFilter::Trace);
    });
}

fn logged_anywhere(needle: &str) -> Option<String> {
    logs()
        .lock()
        .unwrap()
        .iter()
        .find(|l| l.contains(needle))
        .cloned()
}

async fn oauth2_app(h: &HostileWiki) -> App {
    capture_logs();
    let port = free_port();
    launch(app_rocket(hostile::figment_oauth2(h, port))).await
}

fn jar_browser() -> reqwest::Client {
    stepping_browser(Arc::new(reqwest::cookie::Jar::default()))
}

/// The form bodies the token endpoint saw, and an answer echoing each into
/// an OAuth 2.0 error (as a debugging proxy or a careless wiki does).
fn echoing_token_endpoint(seen: Arc<Mutex<Vec<String>>>) -> Answer {
    Answer {
        status: 400,
        ..Answer::from_nonce(move |form| {
            seen.lock().unwrap().push(form.to_string());
            serde_json::json!({
                "error": "invalid_request",
                "error_description": format!("Bad request body: {form}"),
                "hint": format!("you sent {form}"),
            })
            .to_string()
        })
    }
}

fn form_value(form: &str, name: &str) -> String {
    url::form_urlencoded::parse(form.as_bytes())
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.into_owned())
        .unwrap_or_else(|| panic!("{name} in {form}"))
}

#[rocket::async_test]
async fn f8_secrets_echoed_by_the_wiki_reach_neither_the_page_nor_the_log() {
    capture_logs();
    let h = hostile::start().await;
    let app = oauth2_app(&h).await;
    let seen = Arc::new(Mutex::new(Vec::new()));
    h.set(|b| b.oauth2_token = echoing_token_endpoint(seen.clone()));
    // The code exchange: client secret, code and PKCE verifier echoed back.
    let browser = jar_browser();
    let code = "c0de4f8c0de4f8c0de4f8";
    let r = hostile::oauth2_login(&browser, &app, code).await;
    assert_eq!(r.status(), 502);
    let page = r.text().await.unwrap();
    let form = seen.lock().unwrap()[0].clone();
    let verifier = form_value(&form, "code_verifier");
    assert!(
        page.contains("Bad request body"),
        "the wiki's words are kept: {page}"
    );
    for secret in [hostile::CLIENT_SECRET, verifier.as_str(), code] {
        assert!(!page.contains(secret), "{secret} on the page: {page}");
        assert!(
            logged_anywhere(secret).is_none(),
            "{secret} logged: {:?}",
            logged_anywhere(secret)
        );
    }
    // The same as JSON.
    let browser = jar_browser();
    let r = browser.get(app.at("/login")).send().await.unwrap();
    let to_wiki = r.headers()["location"].to_str().unwrap().to_string();
    let state = url::Url::parse(&to_wiki)
        .unwrap()
        .query_pairs()
        .find(|(k, _)| k == "state")
        .unwrap()
        .1
        .into_owned();
    let r = browser
        .get(app.at(&format!("/oauth-callback?code={code}&state={state}")))
        .header("Accept", "application/json")
        .send()
        .await
        .unwrap();
    let json = r.text().await.unwrap();
    let form = seen.lock().unwrap().last().unwrap().clone();
    let verifier = form_value(&form, "code_verifier");
    for secret in [hostile::CLIENT_SECRET, verifier.as_str(), code] {
        assert!(!json.contains(secret), "{secret} in {json}");
    }

    // A refresh: the refresh token echoed back, then logged on sign-out.
    h.set(|b| b.oauth2_token = hostile::oauth2_tokens(1));
    let browser = jar_browser();
    let r = hostile::oauth2_login(&browser, &app, "anothercode").await;
    assert_eq!(r.status(), 303);
    h.set(|b| b.oauth2_token = echoing_token_endpoint(seen.clone()));
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let (status, body) = text(&browser, &app.at("/verified")).await;
    assert_eq!((status, body.as_str()), (200, "anonymous"));
    let form = seen.lock().unwrap().last().unwrap().clone();
    let refresh = form_value(&form, "refresh_token");
    assert!(refresh.starts_with("refresh"), "{form}");
    assert!(
        logged_anywhere(&refresh).is_none(),
        "{:?}",
        logged_anywhere(&refresh)
    );
    assert!(logged_anywhere(hostile::CLIENT_SECRET).is_none());

    // The Bearer token echoed by the profile endpoint.
    h.set(|b| {
        b.oauth2_token = hostile::oauth2_tokens(3600);
        b.profile = Answer {
            status: 401,
            ..Answer::from_nonce(|auth| {
                serde_json::json!({"error": "invalid_token", "error_description": format!("Refused header Authorization: {auth}")}).to_string()
            })
        };
    });
    let browser = jar_browser();
    let r = hostile::oauth2_login(&browser, &app, "thirdcode").await;
    let page = r.text().await.unwrap();
    // The wiki numbers its tokens: this login's is the only `accessN` it gave out last.
    assert!(!page.contains("Bearer access"), "{page}");
    assert!(
        logged_anywhere("Bearer access").is_none(),
        "{:?}",
        logged_anywhere("Bearer access")
    );
}

#[rocket::async_test]
async fn f9_a_refresh_that_failed_with_html_is_tried_again_when_the_wiki_recovers() {
    capture_logs();
    let h = hostile::start().await;
    let app = oauth2_app(&h).await;
    h.set(|b| b.oauth2_token = hostile::oauth2_tokens(1));
    let browser = jar_browser();
    assert_eq!(
        hostile::oauth2_login(&browser, &app, "code9")
            .await
            .status(),
        303
    );
    h.set(|b| b.oauth2_token = Answer::html("<html><body>Down for maintenance</body></html>"));
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let r = browser
        .get(app.at("/verified-strict"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 502);
    // The wiki is back: the next page refreshes and works.
    h.set(|b| b.oauth2_token = hostile::oauth2_tokens(3600));
    let (status, body) = text(&browser, &app.at("/verified-strict")).await;
    assert_eq!((status, body.as_str()), (200, "verified strictly: Mallory"));
}

#[rocket::async_test]
async fn f16_tokens_too_long_for_a_cookie_are_an_error_not_a_welcome() {
    capture_logs();
    let h = hostile::start().await;
    let app = oauth2_app(&h).await;
    let long = "t".repeat(4096);
    h.set(|b| {
        b.oauth2_token = Answer::from_nonce(move |_| {
            format!(r#"{{"token_type":"Bearer","access_token":"{long}","refresh_token":"{long}","expires_in":3600}}"#)
        })
    });
    let browser = jar_browser();
    let r = hostile::oauth2_login(&browser, &app, "code16").await;
    let status = r.status().as_u16();
    let cookies = set_cookies(&r);
    let page = r.text().await.unwrap();
    assert_eq!(status, 502, "{page}");
    assert!(
        page.contains("too long to keep in a browser cookie"),
        "{page}"
    );
    for c in &cookies {
        assert!(c.len() < 4096, "a {}-byte Set-Cookie", c.len());
        assert!(!c.starts_with("_flash="), "{c}");
    }
    assert_eq!(text(&browser, &app.at("/")).await.1, "anonymous");
}

#[rocket::async_test]
async fn f6_a_denial_shows_the_wikis_words_only_for_a_login_this_browser_started() {
    capture_logs();
    let h = hostile::start().await;
    let app = oauth2_app(&h).await;
    let words = "Your account is suspended, call 555-0100 to pay";
    let url = app.at(&format!(
        "/oauth-callback?error=access_denied&error_description={}",
        urlencode(words)
    ));
    let (status, page) = text(&reqwest::Client::new(), &url).await;
    assert_eq!(status, 403);
    assert!(!page.contains("555-0100"), "{page}");
    // With a state naming no login of this browser: the same.
    let (status, page) = text(&reqwest::Client::new(), &format!("{url}&state=abcdef")).await;
    assert_eq!(status, 403);
    assert!(!page.contains("555-0100"), "{page}");
    // The login this browser started: the wiki's words are shown.
    let browser = jar_browser();
    let r = browser.get(app.at("/login")).send().await.unwrap();
    let to_wiki = r.headers()["location"].to_str().unwrap().to_string();
    let state = url::Url::parse(&to_wiki)
        .unwrap()
        .query_pairs()
        .find(|(k, _)| k == "state")
        .unwrap()
        .1
        .into_owned();
    let (status, page) = text(&browser, &format!("{url}&state={state}")).await;
    assert_eq!(status, 403);
    assert!(page.contains("555-0100"), "{page}");
}

#[get("/ranked", rank = 1)]
fn ranked_verified(user: VerifiedMwUser) -> String {
    format!("verified {}", user.name)
}

#[get("/ranked", rank = 2)]
fn ranked_user(user: MwUser) -> String {
    format!("still signed in as {}", user.name)
}

#[get("/ranked", rank = 3)]
fn ranked_anonymous() -> &'static str {
    "signed out"
}

#[rocket::async_test]
async fn f15_a_user_signed_out_by_a_guard_is_signed_out_for_every_route_of_the_request() {
    capture_logs();
    let h = hostile::start().await;
    let port = free_port();
    let app = launch(
        app_rocket(hostile::figment_oauth2(&h, port))
            .mount("/", routes![ranked_verified, ranked_user, ranked_anonymous]),
    )
    .await;
    let browser = jar_browser();
    assert_eq!(
        hostile::oauth2_login(&browser, &app, "code15")
            .await
            .status(),
        303
    );
    assert_eq!(
        text(&browser, &app.at("/ranked")).await.1,
        "verified Mallory"
    );
    // The grant is revoked on the wiki.
    h.set(|b| {
        b.profile = Answer {
            status: 401,
            ..Answer::text(r#"{"error":"invalid_token","error_description":"revoked"}"#)
        }
    });
    assert_eq!(text(&browser, &app.at("/ranked")).await.1, "signed out");
    assert!(text(&browser, &app.at("/"))
        .await
        .1
        .starts_with("anonymous"));
}

#[rocket::async_test]
async fn f17_a_callback_shaped_for_the_other_protocol_is_400() {
    capture_logs();
    let h = hostile::start().await;
    let app = oauth2_app(&h).await;
    let browser = jar_browser();
    let r = browser.get(app.at("/login")).send().await.unwrap();
    let to_wiki = r.headers()["location"].to_str().unwrap().to_string();
    let state = url::Url::parse(&to_wiki)
        .unwrap()
        .query_pairs()
        .find(|(k, _)| k == "state")
        .unwrap()
        .1
        .into_owned();
    let (status, page) = text(
        &browser,
        &app.at(&format!(
            "/oauth-callback?oauth_token={state}&oauth_verifier=abcdef"
        )),
    )
    .await;
    assert_eq!(status, 400, "{page}");
}

#[rocket::async_test]
async fn f17_a_lifetime_of_zero_does_not_make_every_request_refresh() {
    capture_logs();
    let h = hostile::start().await;
    let app = oauth2_app(&h).await;
    let asked = Arc::new(AtomicU64::new(0));
    let counter = asked.clone();
    h.set(|b| {
        b.oauth2_token = Answer::from_nonce(move |_| {
            let n = counter.fetch_add(1, Ordering::Relaxed);
            format!(r#"{{"token_type":"Bearer","access_token":"a{n}","refresh_token":"r{n}","expires_in":0}}"#)
        })
    });
    let browser = jar_browser();
    assert_eq!(
        hostile::oauth2_login(&browser, &app, "code17")
            .await
            .status(),
        303
    );
    for _ in 0..3 {
        assert_eq!(
            text(&browser, &app.at("/verified-strict")).await.1,
            "verified strictly: Mallory"
        );
    }
    assert_eq!(
        asked.load(Ordering::Relaxed),
        1,
        "only the code was exchanged"
    );
}

#[rocket::async_test]
async fn f17_error_pages_do_not_show_the_wikis_internal_address() {
    capture_logs();
    let port = free_port();
    let closed = free_port();
    let figment = rocket::figment::Figment::from(rocket::Config::debug_default())
        .merge(("address", "127.0.0.1"))
        .merge(("port", port))
        .merge(("log_level", "off"))
        .merge(("secret_key", SECRET_KEY))
        .merge((
            "mwoauth.base_url",
            format!("http://127.0.0.1:{closed}/internal-wiki/w"),
        ))
        .merge(("mwoauth.consumer_key", hostile::CONSUMER_KEY))
        .merge(("mwoauth.consumer_secret", hostile::CONSUMER_SECRET))
        .merge(("mwoauth.user_agent", "tests/0 (https://example.org/tests)"))
        .merge(("mwoauth.timeout", 2));
    let app = launch(app_rocket(figment)).await;
    let (status, page) = text(&reqwest::Client::new(), &app.at("/login")).await;
    assert_eq!(status, 502, "{page}");
    assert!(page.contains("could not be reached"), "{page}");
    assert!(!page.contains("internal-wiki"), "{page}");
    assert!(!page.contains(&closed.to_string()), "{page}");
}

/// A "wiki" whose api.php answers every request with `status`, `headers`
/// and `body` after `delay`; returns its api.php URL.
async fn raw_api(
    status: &'static str,
    headers: &'static str,
    body: &'static str,
    delay: Duration,
) -> String {
    capture_logs();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    tokio::spawn(async move {
        while let Ok((mut conn, _)) = listener.accept().await {
            tokio::spawn(async move {
                let mut request = Vec::new();
                let mut buf = [0u8; 4096];
                while !request.windows(4).any(|w| w == b"\r\n\r\n") {
                    match conn.read(&mut buf).await {
                        Ok(0) | Err(_) => return,
                        Ok(n) => request.extend_from_slice(&buf[..n]),
                    }
                }
                tokio::time::sleep(delay).await;
                let answer = format!(
                    "HTTP/1.1 {status}\r\nContent-Type: application/json\r\n{headers}Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
                    body.len()
                );
                let _ = conn.write_all(answer.as_bytes()).await;
            });
        }
    });
    format!("http://127.0.0.1:{port}/w/api.php")
}

fn owner_client(api_url: &str) -> ApiClient {
    ApiClient::owner(
        api_url,
        "tests/0 (https://example.org/tests)",
        OwnerOnly::OAuth2 {
            access_token: "owner-token".into(),
        },
    )
    .unwrap()
}

#[rocket::async_test]
async fn f17_an_api_answer_that_is_json_but_not_an_object_is_not_a_success() {
    capture_logs();
    for body in ["[]", "null", "42", "\"ok\""] {
        let api = owner_client(&raw_api("200 OK", "", body, Duration::ZERO).await);
        let result = api
            .request(&[("action", "query"), ("meta", "userinfo")])
            .await;
        assert!(
            matches!(result, Err(ApiError::InvalidJson { .. })),
            "{body}: {result:?}"
        );
    }
}

#[rocket::async_test]
async fn f17_a_wiki_answering_429_slowly_holds_a_call_no_longer_than_max_wait() {
    capture_logs();
    let url = raw_api(
        "429 Too Many Requests",
        "Retry-After: 1\r\n",
        "{}",
        Duration::from_millis(800),
    )
    .await;
    let api = owner_client(&url).with_options(ApiOptions {
        max_attempts: 10,
        max_wait: Duration::from_secs(2),
        ..ApiOptions::default()
    });
    let started = Instant::now();
    let result = api
        .request(&[("action", "query"), ("meta", "userinfo")])
        .await;
    let took = started.elapsed();
    assert!(
        matches!(result, Err(ApiError::RateLimited { .. })),
        "{result:?}"
    );
    assert!(took <= Duration::from_millis(2100), "held {took:?}");
}

#[rocket::async_test]
async fn f14_next_with_dot_or_empty_segments_falls_back_to_the_default() {
    capture_logs();
    let h = hostile::start().await;
    let app = oauth2_app(&h).await;
    let client = jar_browser();
    for next in [
        "/..//evil.example",
        "/.//evil.example",
        "/a/..//evil.example",
        "/%2e%2e//evil.example",
        "/a//evil.example",
    ] {
        let r = client
            .get(app.at(&format!("/logout?next={}", urlencode(next))))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 303);
        assert_eq!(r.headers()["location"], "/", "{next}");
    }
}

#[rocket::async_test]
async fn f7_twenty_thousand_groups_cost_milliseconds_not_minutes() {
    capture_logs();
    let h = hostile::start().await;
    let app = oauth2_app(&h).await;
    let groups: Vec<String> = (0..20_000).map(|i| format!("g{i:05}")).collect();
    let profile = serde_json::json!({
        "sub": 42, "username": "Mallory", "editcount": 1, "confirmed_email": false,
        "blocked": false, "registered": "20260101000000", "groups": groups,
        "rights": ["read"], "grants": ["basic"],
    })
    .to_string();
    h.set(|b| b.profile = Answer::from_nonce(move |_| profile.clone()));
    let browser = jar_browser();
    let started = Instant::now();
    let r = hostile::oauth2_login(&browser, &app, "code7").await;
    assert_eq!(r.status(), 303);
    let started_verified = Instant::now();
    assert_eq!(
        text(&browser, &app.at("/verified-strict")).await.1,
        "verified strictly: Mallory"
    );
    assert!(
        started_verified.elapsed() < Duration::from_secs(2),
        "VerifiedMwUser took {:?}",
        started_verified.elapsed()
    );
    assert!(
        started.elapsed() < Duration::from_secs(4),
        "{:?}",
        started.elapsed()
    );
}

#[rocket::async_test]
async fn f12_cookies_are_secure_when_a_proxy_says_https() {
    capture_logs();
    let h = hostile::start().await;
    let app = oauth2_app(&h).await;
    let client = jar_browser();
    let r = client
        .get(app.at("/login"))
        .header("X-Forwarded-Proto", "https")
        .send()
        .await
        .unwrap();
    let cookies = set_cookies(&r);
    assert!(cookies.len() >= 2, "{cookies:?}");
    for c in &cookies {
        assert!(c.contains("; Secure"), "{c}");
    }
    // Plain HTTP (no proxy says otherwise): as configured.
    let r = client.get(app.at("/login")).send().await.unwrap();
    for c in set_cookies(&r) {
        assert!(!c.contains("Secure"), "{c}");
    }
    // `secure_cookies = false` is the operator's choice: never `Secure`.
    let port = free_port();
    let plain = launch(app_rocket(
        hostile::figment_oauth2(&h, port).merge(("mwoauth.secure_cookies", false)),
    ))
    .await;
    let r = client
        .get(plain.at("/login"))
        .header("X-Forwarded-Proto", "https")
        .send()
        .await
        .unwrap();
    for c in set_cookies(&r) {
        assert!(!c.contains("Secure"), "{c}");
    }
    // A client saying `http` gains nothing either way.
    let r = client
        .get(app.at("/login"))
        .header("X-Forwarded-Proto", "http")
        .send()
        .await
        .unwrap();
    for c in set_cookies(&r) {
        assert!(!c.contains("Secure"), "{c}");
    }
}

#[rocket::async_test]
async fn f13_the_code_stays_out_of_the_log_and_the_referer_and_alone_it_signs_nobody_in() {
    capture_logs();
    let wiki = start_wiki().await;
    let port = free_port();
    let consumer = consumer_with(&wiki, port, Proto::OAuth2, "/");
    let mut figment = figment_with(&wiki, &consumer, port, Proto::OAuth2);
    // Rocket's `normal` level: the request line of every request is logged.
    figment = figment.merge(("log_level", "normal"));
    let app = launch(app_rocket(figment)).await;
    wiki.set_auto_approve(Some("Alice"));
    let victim = jar_browser();
    let r = victim.get(app.at("/login?next=/")).send().await.unwrap();
    let at_wiki = follow(&victim, &r).await;
    let callback = at_wiki.headers()["location"].to_str().unwrap().to_string();
    let code = url::Url::parse(&callback)
        .unwrap()
        .query_pairs()
        .find(|(k, _)| k == "code")
        .unwrap()
        .1
        .into_owned();

    // Someone who read the code (in a log, a Referer) but holds no login
    // cookie of the victim's browser: the app refuses it...
    let r = jar_browser().get(&callback).send().await.unwrap();
    assert_eq!(r.status(), 400);
    assert_eq!(r.headers()["referrer-policy"], "no-referrer");
    // ...and so does the wiki, even with the client secret, without the
    // PKCE verifier that only the victim's encrypted login cookie holds.
    let form = [
        ("grant_type", "authorization_code"),
        ("code", code.as_str()),
        ("client_id", consumer.key.as_str()),
        ("client_secret", consumer.secret.as_str()),
        ("redirect_uri", consumer.callback.as_str()),
    ];
    let r = reqwest::Client::new()
        .post(format!("{}/oauth2/access_token", wiki.rest_url()))
        .form(&form)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400, "{}", r.text().await.unwrap());

    // The victim's own callback signs them in; its answer sends no Referer on.
    let r = victim.get(&callback).send().await.unwrap();
    assert_eq!(r.status(), 303);
    assert_eq!(r.headers()["referrer-policy"], "no-referrer");
    assert_eq!(r.headers()["location"], "/");
    assert_eq!(
        text(&victim, &app.at("/")).await.1,
        "user: Alice\nflash: You were signed in, Alice!"
    );

    // Rocket logged the callback requests, without their query.
    assert!(
        logged_anywhere("/oauth-callback").is_some(),
        "the log is captured"
    );
    assert!(
        logged_anywhere(&code).is_none(),
        "{:?}",
        logged_anywhere(&code)
    );
    wiki.shutdown().await;
}

#[rocket::async_test]
async fn f13_an_oauth1_verifier_stays_out_of_the_log_and_alone_it_signs_nobody_in() {
    capture_logs();
    let wiki = start_wiki().await;
    let port = free_port();
    let consumer = consumer_with(&wiki, port, Proto::OAuth1, "/");
    let figment =
        figment_with(&wiki, &consumer, port, Proto::OAuth1).merge(("log_level", "normal"));
    let app = launch(app_rocket(figment)).await;
    wiki.set_auto_approve(Some("Alice"));
    let victim = jar_browser();
    let r = victim.get(app.at("/login?next=/")).send().await.unwrap();
    let at_wiki = follow(&victim, &r).await;
    let callback = at_wiki.headers()["location"].to_str().unwrap().to_string();
    let verifier = url::Url::parse(&callback)
        .unwrap()
        .query_pairs()
        .find(|(k, _)| k == "oauth_verifier")
        .unwrap()
        .1
        .into_owned();
    // Without the victim's login cookie (which holds the request token
    // secret the wiki's token step must be signed with): refused.
    let r = jar_browser().get(&callback).send().await.unwrap();
    assert_eq!(r.status(), 400);
    assert_eq!(r.headers()["referrer-policy"], "no-referrer");
    let r = victim.get(&callback).send().await.unwrap();
    assert_eq!(r.status(), 303);
    assert!(text(&victim, &app.at("/"))
        .await
        .1
        .starts_with("user: Alice"));
    assert!(logged_anywhere("/oauth-callback").is_some());
    assert!(
        logged_anywhere(&verifier).is_none(),
        "{:?}",
        logged_anywhere(&verifier)
    );
    wiki.shutdown().await;
}

#[rocket::async_test]
async fn f5_another_apps_session_is_signed_out_with_a_warning_in_the_log() {
    capture_logs();
    let h = hostile::start().await;
    let app_a = oauth2_app(&h).await;
    let port_b = free_port();
    let app_b = launch(app_rocket(
        hostile::figment_oauth2(&h, port_b).merge(("mwoauth.client_id", "another-client-of-b")),
    ))
    .await;
    let browser = jar_browser();
    assert_eq!(
        hostile::oauth2_login(&browser, &app_a, "code5")
            .await
            .status(),
        303
    );
    assert!(text(&browser, &app_a.at("/"))
        .await
        .1
        .starts_with("user: Mallory"));
    // The browser sends the cookie to B too (cookies ignore the port).
    assert!(text(&browser, &app_b.at("/"))
        .await
        .1
        .starts_with("anonymous"));
    assert!(
        logged_anywhere("made by another app that shares this app's secret_key").is_some(),
        "a warning names the cause"
    );
}

#[rocket::async_test]
async fn f7_four_thousand_groups_in_the_identity_cost_milliseconds() {
    capture_logs();
    let h = hostile::start().await;
    let port = free_port();
    let app = launch(app_rocket(hostile::figment_for(&h, port))).await;
    let origin = h.origin.clone();
    h.set(|b| {
        b.identify = hostile::jwt_answer(origin, |claims| {
            let groups: Vec<String> = (0..4_000).map(|i| format!("g{i:04}")).collect();
            claims["groups"] = serde_json::json!(groups);
        })
    });
    let client = jar_browser();
    client.get(app.at("/login")).send().await.unwrap();
    let started = Instant::now();
    let r = client
        .get(app.at(&format!(
            "/oauth-callback?oauth_verifier=v&oauth_token={}",
            hostile::REQUEST_TOKEN
        )))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 303);
    assert!(
        started.elapsed() < Duration::from_secs(2),
        "the callback took {:?}",
        started.elapsed()
    );
    assert!(text(&client, &app.at("/"))
        .await
        .1
        .starts_with("user: Mallory"));
}

#[rocket::async_test]
async fn f8_an_api_answer_echoing_the_bearer_token_is_masked() {
    capture_logs();
    let token = "owner-secret-token-5ab1e";
    let body = r#"{"warnings":{"main":{"*":"Authorization: Bearer owner-secret-token-5ab1e"}},"error":{"code":"badthing","info":"we saw owner-secret-token-5ab1e in your request"}}"#;
    let url = raw_api("200 OK", "", body, Duration::ZERO).await;
    let api = ApiClient::owner(
        &url,
        "tests/0 (https://example.org/tests)",
        OwnerOnly::OAuth2 {
            access_token: token.into(),
        },
    )
    .unwrap();
    let error = api
        .request(&[("action", "query"), ("meta", "userinfo")])
        .await
        .unwrap_err();
    let shown = format!("{error} {error:?}");
    assert!(shown.contains("we saw"), "{shown}");
    assert!(!shown.contains(token), "{shown}");
    assert!(logged_anywhere("API warnings").is_some());
    assert!(
        logged_anywhere(token).is_none(),
        "{:?}",
        logged_anywhere(token)
    );
}
