//! Hostile input, round two: what a broken or hostile wiki, or a page on
//! another site, can make the app do — bounded, and without leaks.

mod common;

use std::sync::Arc;
use std::time::{Duration, Instant};

use common::hostile::{self, Answer};
use common::*;
use reqwest::cookie::CookieStore;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// A "wiki" whose api.php answers every request with a JSON array of
/// `size` bytes, chunked or with a Content-Length, as fast as loopback goes.
async fn huge_api(size: usize, chunked: bool) -> String {
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
                let head = if chunked {
                    "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n".to_string()
                } else {
                    format!("HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {size}\r\n\r\n")
                };
                if conn.write_all(head.as_bytes()).await.is_err() {
                    return;
                }
                let piece = "0,".repeat(32 * 1024);
                let mut sent = 1;
                let mut out = String::from("[");
                while sent < size - 1 {
                    let n = piece.len().min(size - 1 - sent);
                    out.push_str(&piece[..n]);
                    sent += n;
                    if sent >= size - 1 {
                        out.pop();
                        out.push_str("0]");
                    }
                    let data = if chunked {
                        format!("{:x}\r\n{out}\r\n", out.len())
                    } else {
                        std::mem::take(&mut out)
                    };
                    out.clear();
                    if conn.write_all(data.as_bytes()).await.is_err() {
                        return; // the client gave up: good
                    }
                }
                if chunked {
                    let _ = conn.write_all(b"0\r\n\r\n").await;
                }
            });
        }
    });
    format!("http://127.0.0.1:{port}/w/api.php")
}

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

async fn page_latencies(client: &reqwest::Client, url: &str, n: usize) -> Vec<Duration> {
    let mut out = Vec::new();
    for _ in 0..n {
        let t = Instant::now();
        let r = client.get(url).send().await.unwrap();
        assert_eq!(r.status(), 200);
        let _ = r.bytes().await.unwrap();
        out.push(t.elapsed());
    }
    out
}

#[rocket::async_test]
async fn a_huge_api_answer_is_refused_and_other_users_keep_being_served() {
    let (wiki, _consumer, app) = wiki_and_app().await;
    let alice = browser();
    let (status, _) = login_as(&wiki, &alice, &app, "Alice", "/").await;
    assert_eq!(status, 200);
    let admin = browser();
    let (status, _) = login_as(&wiki, &admin, &app, "Admin", "/").await;
    assert_eq!(status, 200);
    let me = app.at("/me");
    let _ = page_latencies(&admin, &me, 5).await; // warm up
    let normal = median(page_latencies(&admin, &me, 20).await);

    for chunked in [true, false] {
        let huge = huge_api(50 * 1024 * 1024, chunked).await;
        let url = app.at(&format!("/userinfo-at?wiki={}", urlencode(&huge)));
        let mut calls = Vec::new();
        for _ in 0..8 {
            let (alice, url) = (alice.clone(), url.clone());
            calls.push(tokio::spawn(async move {
                let r = alice
                    .get(url)
                    .header("Accept", "application/json")
                    .send()
                    .await
                    .unwrap();
                (r.status().as_u16(), r.text().await.unwrap())
            }));
        }
        let during = page_latencies(&admin, &me, 20).await;
        for call in calls {
            let (status, body) = call.await.unwrap();
            assert_eq!(status, 502, "chunked {chunked}: {body}");
            let v: serde_json::Value = serde_json::from_str(&body).unwrap();
            assert_eq!(v["error"], "api-error");
            assert!(
                v["message"]
                    .as_str()
                    .unwrap()
                    .contains("larger than 8388608 bytes"),
                "{body}"
            );
        }
        let busy = median(during.clone());
        let worst = *during.iter().max().unwrap();
        println!("chunked {chunked}: /me median {normal:?} alone, {busy:?} (worst {worst:?}) beside 8 huge answers");
        assert!(
            busy <= normal * 20 + Duration::from_millis(100),
            "other users' pages stalled: {busy:?} against {normal:?}"
        );
        assert!(worst < Duration::from_secs(2), "a page took {worst:?}");
    }
    // Alice is still signed in and served.
    assert_eq!(text(&alice, &app.at("/")).await.1, "user: Alice");
    wiki.shutdown().await;
}

#[rocket::async_test]
async fn login_state_a_foreign_page_can_plant_stays_small_and_off_other_pages() {
    let (wiki, _consumer, app) = wiki_and_app().await;
    let jar = Arc::new(reqwest::cookie::Jar::default());
    let step = stepping_browser(jar.clone());
    // A page on another site opens /login with a 2,047-byte next, ten times.
    let next = format!("/{}", "a".repeat(2046));
    let mut authorize = Vec::new();
    for _ in 0..10 {
        let r = step
            .get(app.at(&format!("/login?next={}", urlencode(&next))))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 303);
        authorize.push(r.headers()["location"].to_str().unwrap().to_string());
    }
    let header = |path: &str| {
        jar.cookies(&app.at(path).parse().unwrap())
            .map(|h| h.to_str().unwrap().to_string())
            .unwrap_or_default()
    };
    for page in ["/", "/me", "/private", "/logout"] {
        let sent = header(page);
        assert!(!sent.contains("mwoauth_"), "{page} gets {sent}");
    }
    let at_callback = header("/oauth-callback");
    let at_login = header("/login");
    println!(
        "Cookie header: {} bytes at the callback, {} at /login",
        at_callback.len(),
        at_login.len()
    );
    assert!(at_callback.len() <= 4096, "{} bytes", at_callback.len());
    assert!(at_login.len() <= 200, "{at_login}");
    // The newest login still completes, and lands on its long next.
    wiki.set_auto_approve(Some("Alice"));
    let r = step.get(authorize.last().unwrap()).send().await.unwrap();
    assert_eq!(r.status(), 302);
    let r = follow(&step, &r).await;
    assert_eq!(r.status(), 303, "{}", r.text().await.unwrap());
    assert_eq!(r.headers()["location"].to_str().unwrap(), next);
    assert!(text(&step, &app.at("/")).await.1.starts_with("user: Alice"));
    wiki.shutdown().await;
}

#[rocket::async_test]
async fn junk_login_cookies_cost_bounded_work() {
    let (wiki, _consumer, app) = wiki_and_app().await;
    let junk: String = (0..10_000)
        .map(|i| format!("mwoauth_login_{i}=x{i}"))
        .collect::<Vec<_>>()
        .join("; ");
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    for path in [
        "/login",
        "/oauth-callback?oauth_token=abc&oauth_verifier=def",
    ] {
        let t = Instant::now();
        let r = client
            .get(app.at(path))
            .header("Cookie", &junk)
            .send()
            .await
            .unwrap();
        let elapsed = t.elapsed();
        let set = set_cookies(&r);
        println!("{path}: {} Set-Cookie headers in {elapsed:?}", set.len());
        assert!(set.len() <= 6, "{path}: {} Set-Cookie headers", set.len());
        assert!(matches!(r.status().as_u16(), 303 | 400), "{path}");
    }
    wiki.shutdown().await;
}

#[rocket::async_test]
async fn a_token_answer_is_never_quoted() {
    let h = hostile::start().await;
    let app = launch(app_rocket(hostile::figment_for(&h, free_port()))).await;
    let c = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    for (answer, field) in [
        (
            "oauth_token=bad%0Akey&oauth_token_secret=LEAKEDSECRET0123",
            "oauth_token is malformed",
        ),
        (
            "oauth_token=goodkey&oauth_token_secret=LEAKED%0ASECRET0123",
            "oauth_token_secret is malformed",
        ),
        (
            "oauth_token_secret=LEAKEDSECRET0123",
            "oauth_token is missing",
        ),
    ] {
        h.set(|b| b.initiate = Answer::text(answer));
        for accept in ["text/html", "application/json"] {
            let r = c
                .get(app.at("/login"))
                .header("Accept", accept)
                .send()
                .await
                .unwrap();
            assert_eq!(r.status(), 502);
            let body = r.text().await.unwrap();
            assert!(!body.contains("LEAKED"), "{body}");
            assert!(!body.contains("SECRET"), "{body}");
            assert!(body.contains(field), "{accept}: {body}");
        }
    }
}

#[rocket::async_test]
async fn a_replayed_callback_with_a_saved_login_cookie_is_the_clients_fault() {
    let (wiki, _consumer, app) = wiki_and_app().await;
    wiki.set_auto_approve(Some("Alice"));
    let jar = Arc::new(reqwest::cookie::Jar::default());
    let step = stepping_browser(jar.clone());
    let r = step.get(app.at("/login")).send().await.unwrap();
    let saved: Vec<String> = set_cookies(&r)
        .into_iter()
        .filter(|c| c.starts_with("mwoauth_login_"))
        .map(|c| c.split(';').next().unwrap().to_string())
        .collect();
    assert_eq!(saved.len(), 1, "{saved:?}");
    let r = follow(&step, &r).await;
    let callback = r.headers()["location"].to_str().unwrap().to_string();
    let r = step.get(&callback).send().await.unwrap();
    assert_eq!(r.status(), 303);
    // The same callback again, with the saved login-in-progress cookie.
    let r = reqwest::Client::new()
        .get(&callback)
        .header("Cookie", &saved[0])
        .header("Accept", "application/json")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
    let v: serde_json::Value = r.json().await.unwrap();
    assert_eq!(v["error"], "replayed-callback", "{v}");
    wiki.shutdown().await;
}

#[rocket::async_test]
async fn a_wiki_clock_off_is_explained_with_the_offset() {
    let (wiki, _consumer, app) = wiki_and_app().await;
    let client = browser();
    // 200 s ahead: the wiki still accepts our timestamps (±300 s), but its
    // identity token is issued beyond the 120 s leeway.
    wiki.set_clock_offset(200);
    let (status, page) = login_as(&wiki, &client, &app, "Alice", "/").await;
    assert_eq!(status, 502, "{page}");
    assert!(
        ["199 s", "200 s", "201 s"].iter().any(|s| page.contains(s)),
        "{page}"
    );
    assert!(
        page.contains("mwoauth.jwt_leeway") && page.contains("NTP"),
        "{page}"
    );
    assert!(page.contains("120 s allowed"), "{page}");
    // 400 s ahead: the wiki refuses our timestamps themselves.
    wiki.set_clock_offset(400);
    let (status, page) = login_as(&wiki, &client, &app, "Alice", "/").await;
    assert_eq!(status, 502, "{page}");
    assert!(
        ["399 s", "400 s", "401 s"]
            .iter()
            .any(|s| page.contains(&format!("{s} behind the wiki"))),
        "{page}"
    );
    assert!(page.contains("NTP"), "{page}");
    wiki.shutdown().await;
}
