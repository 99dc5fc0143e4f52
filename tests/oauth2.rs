//! What only OAuth 2.0 has: expiring access tokens and their refresh, codes
//! and rotated refresh tokens that work once, Cancel without `state`; and
//! owner-only consumers of both protocols. The sign-in behaviour both
//! protocols share is tested once, for each, in `login.rs`.

mod common;

use std::sync::Arc;
use std::time::Duration;

use common::*;
use devwiki::{MediaWikiVersion, ProfileFlavour};
use rocket::fairing::AdHoc;
use rocket::{get, routes};
use rocket_mediawiki_oauth::{Error, MwOAuth, OwnerApi};
use serde_json::Value;

async fn userinfo(client: &reqwest::Client, app: &App) -> (u16, Value) {
    let r = client
        .get(app.at("/userinfo"))
        .header("Accept", "application/json")
        .send()
        .await
        .unwrap();
    let status = r.status().as_u16();
    (status, r.json().await.unwrap_or(Value::Null))
}

#[rocket::async_test]
async fn an_expired_access_token_is_refreshed_and_the_cookie_rewritten() {
    for proto in [Proto::OAuth2, Proto::OAuth2Public] {
        let (wiki, _consumer, app) = wiki_and_app_with(proto).await;
        wiki.set_oauth2_access_token_lifetime(4);
        let jar = Arc::new(reqwest::cookie::Jar::default());
        let step = stepping_browser(jar.clone());
        wiki.set_auto_approve(Some("Alice"));
        assert_eq!(step_login(&step, &app, "/").await.status(), 303);
        assert_eq!(wiki.oauth2_token_requests("refresh_token"), 0);
        // Fresh: no refresh.
        let (status, info) = userinfo(&step, &app).await;
        assert_eq!(
            (status, info["query"]["userinfo"]["name"].as_str()),
            (200, Some("Alice"))
        );
        assert_eq!(wiki.oauth2_token_requests("refresh_token"), 0);

        tokio::time::sleep(Duration::from_secs(5)).await;
        let r = step
            .get(app.at("/userinfo"))
            .header("Accept", "application/json")
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200, "{proto:?}");
        assert!(
            set_cookies(&r)
                .iter()
                .any(|c| c.starts_with("mwoauth_session=") && !c.contains("Max-Age=0")),
            "the refreshed tokens are written to the cookie"
        );
        assert_eq!(wiki.oauth2_token_requests("refresh_token"), 1);
        // The rewritten cookie carries the new tokens: no second refresh.
        let (status, _) = userinfo(&step, &app).await;
        assert_eq!(status, 200);
        assert_eq!(wiki.oauth2_token_requests("refresh_token"), 1);
        // VerifiedMwUser works with the new tokens too.
        assert!(text(&step, &app.at("/verified"))
            .await
            .1
            .starts_with("verified: Alice"));
        wiki.shutdown().await;
    }
}

#[rocket::async_test]
async fn four_requests_at_expiry_all_succeed_with_one_refresh() {
    let (wiki, _consumer, app) = wiki_and_app_with(Proto::OAuth2).await;
    wiki.set_oauth2_access_token_lifetime(2);
    let client = browser();
    login_as(&wiki, &client, &app, "Alice", "/").await;
    tokio::time::sleep(Duration::from_secs(3)).await;
    let mut calls = Vec::new();
    for _ in 0..4 {
        let (client, url) = (client.clone(), app.at("/userinfo"));
        calls.push(tokio::spawn(async move {
            let r = client.get(url).send().await.unwrap();
            (r.status().as_u16(), r.text().await.unwrap())
        }));
    }
    for call in calls {
        let (status, body) = call.await.unwrap();
        assert_eq!(status, 200, "{body}");
        assert!(body.contains("\"Alice\""), "{body}");
    }
    assert_eq!(wiki.oauth2_token_requests("refresh_token"), 1);
    assert!(text(&client, &app.at("/"))
        .await
        .1
        .starts_with("user: Alice"));
    wiki.shutdown().await;
}

#[rocket::async_test]
async fn a_rotated_refresh_token_is_refused_and_signs_out_elsewhere() {
    let wiki = start_wiki().await;
    let port = free_port();
    let consumer = consumer_with(&wiki, port, Proto::OAuth2, "/");
    let app = launch(app_rocket(figment_with(
        &wiki,
        &consumer,
        port,
        Proto::OAuth2,
    )))
    .await;
    // A second instance sharing secret_key (it serves the same sessions).
    let twin = twin_instance(&wiki, &consumer, Proto::OAuth2).await;
    wiki.set_oauth2_access_token_lifetime(2);
    let jar = Arc::new(reqwest::cookie::Jar::default());
    let step = stepping_browser(jar.clone());
    wiki.set_auto_approve(Some("Alice"));
    let r = step_login(&step, &app, "/").await;
    let old = set_cookies(&r)
        .into_iter()
        .find(|c| c.starts_with("mwoauth_session="))
        .unwrap()
        .split(';')
        .next()
        .unwrap()
        .to_string();
    tokio::time::sleep(Duration::from_secs(3)).await;
    // The first instance refreshes (the wiki rotates the refresh token).
    assert_eq!(userinfo(&step, &app).await.0, 200);
    assert_eq!(wiki.oauth2_token_requests("refresh_token"), 1);
    // The same old cookie on the first instance: its refresh is shared.
    let with_old = |url: String| {
        let old = old.clone();
        async move {
            reqwest::Client::new()
                .get(url)
                .header("Cookie", old)
                .header("Accept", "application/json")
                .send()
                .await
                .unwrap()
                .status()
                .as_u16()
        }
    };
    assert_eq!(with_old(app.at("/userinfo")).await, 200);
    assert_eq!(wiki.oauth2_token_requests("refresh_token"), 1);
    // On the twin, the old refresh token is spent: refused, signed out.
    assert_eq!(with_old(twin.at("/userinfo")).await, 401);
    assert_eq!(wiki.oauth2_token_requests("refresh_token"), 2);
    // F10 (issue 22): once the requests sent in parallel have had their
    // share (10 s), the old cookie — kept or stolen after its rotation — is
    // not upgraded to the new tokens on the first instance either: the
    // wiki's refusal of its spent refresh token signs it out.
    tokio::time::sleep(Duration::from_secs(11)).await;
    assert_eq!(with_old(app.at("/userinfo")).await, 401);
    assert_eq!(wiki.oauth2_token_requests("refresh_token"), 3);
    // The browser's own (rewritten) cookie still works on both.
    assert_eq!(userinfo(&step, &twin).await.0, 200);
    wiki.shutdown().await;
}

#[rocket::async_test]
async fn a_code_used_twice_is_a_replay() {
    let (wiki, _consumer, app) = wiki_and_app_with(Proto::OAuth2).await;
    wiki.set_auto_approve(Some("Alice"));
    let jar = Arc::new(reqwest::cookie::Jar::default());
    let step = stepping_browser(jar);
    let r = step.get(app.at("/login")).send().await.unwrap();
    let saved: String = set_cookies(&r)
        .into_iter()
        .find(|c| c.starts_with("mwoauth_login_"))
        .unwrap()
        .split(';')
        .next()
        .unwrap()
        .to_string();
    let r = follow(&step, &r).await;
    assert_eq!(r.status(), 302);
    let callback = r.headers()["location"].to_str().unwrap().to_string();
    assert!(
        callback.contains("code=") && callback.contains("state="),
        "{callback}"
    );
    assert_eq!(step.get(&callback).send().await.unwrap().status(), 303);
    let r = reqwest::Client::new()
        .get(&callback)
        .header("Cookie", &saved)
        .header("Accept", "application/json")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
    let v: Value = r.json().await.unwrap();
    assert_eq!(v["error"], "replayed-callback", "{v}");
    wiki.shutdown().await;
}

#[rocket::async_test]
async fn cancel_on_the_wiki_is_a_clear_page() {
    for proto in [Proto::OAuth2, Proto::OAuth2Public] {
        let (wiki, _consumer, app) = wiki_and_app_with(proto).await;
        wiki.set_auto_approve(None);
        let step = stepping_browser(Arc::new(reqwest::cookie::Jar::default()));
        let r = step
            .get(app.at("/login?next=/private"))
            .send()
            .await
            .unwrap();
        let authorize = r.headers()["location"].to_str().unwrap().to_string();
        // The dialog's Cancel button (a GET form repeating the query).
        let r = step
            .get(format!("{authorize}&user=Alice&approval_cancel=1"))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 302);
        let back = r.headers()["location"].to_str().unwrap().to_string();
        assert!(
            back.contains("error=unauthorized_client") && !back.contains("state="),
            "{back}"
        );
        let r = step.get(&back).send().await.unwrap();
        assert_eq!(r.status(), 403);
        let page = r.text().await.unwrap();
        assert!(page.contains("Sign-in was cancelled"), "{page}");
        assert!(page.contains("User has rejected the request"), "{page}");
        assert_eq!(text(&step, &app.at("/")).await.1, "anonymous");
        wiki.shutdown().await;
    }
}

#[rocket::async_test]
async fn a_hidden_user_cannot_sign_in() {
    let (wiki, _consumer, app) = wiki_and_app_with(Proto::OAuth2).await;
    assert!(wiki.set_hidden("Alice", true));
    let client = browser();
    let (status, page) = login_as(&wiki, &client, &app, "Alice", "/").await;
    assert_eq!(status, 502, "{page}");
    assert!(page.contains("hides this account"), "{page}");
    assert_eq!(text(&client, &app.at("/")).await.1, "anonymous");
    wiki.shutdown().await;
}

#[rocket::async_test]
async fn the_profile_of_1_39_and_of_newer_mediawiki_both_sign_in() {
    // 1.39 sends no `email_verified` (the Rust peers require it); 1.44+
    // does; `sub` has been seen as a string and reported as a number.
    for flavour in [
        ProfileFlavour::Mw139,
        ProfileFlavour::Mw144,
        ProfileFlavour::SubAsNumber,
    ] {
        let (wiki, _consumer, app) = wiki_and_app_with(Proto::OAuth2).await;
        wiki.set_profile_as(flavour);
        let client = browser();
        let (status, page) = login_as(&wiki, &client, &app, "Alice", "/").await;
        assert_eq!(
            (status, page.lines().next()),
            (200, Some("user: Alice")),
            "{flavour:?}"
        );
        let (status, me) = text(&client, &app.at("/me")).await;
        assert_eq!(status, 200, "{flavour:?}");
        let me: Value = serde_json::from_str(&me).unwrap();
        assert_eq!(me["name"], "Alice", "{flavour:?}");
        assert!(
            me["central_id"].as_u64().is_some_and(|id| id > 0),
            "{flavour:?}: {me}"
        );
        assert_eq!(me["confirmed_email"], true, "{flavour:?}: {me}");
        // The identity asked again (the profile read once more).
        let (status, verified) = text(&client, &app.at("/verified")).await;
        assert_eq!(status, 200, "{flavour:?}");
        assert!(
            verified.starts_with("verified: Alice with "),
            "{flavour:?}: {verified}"
        );
        wiki.shutdown().await;
    }
}

#[get("/bot")]
async fn bot(api: OwnerApi) -> Result<String, Error> {
    let me = api
        .request(&[("action", "query"), ("meta", "userinfo")])
        .await?;
    Ok(format!(
        "bot: {}",
        me["query"]["userinfo"]["name"].as_str().unwrap_or("?")
    ))
}

#[rocket::async_test]
async fn owner_only_consumers_act_as_their_owner_from_a_guard_and_a_task() {
    // OAuth 1.0a tokens; an OAuth 2.0 long-lived token; OAuth 2.0 client credentials.
    for kind in ["oauth1", "oauth2-token", "oauth2-client-credentials"] {
        println!("owner-only: {kind}");
        let oauth2 = kind != "oauth1";
        let wiki = start_wiki().await;
        let owner = wiki.register_consumer(devwiki::ConsumerSpec {
            name: "Owner bot".into(),
            grants: vec![
                "basic".into(),
                "editpage".into(),
                "createeditmovepage".into(),
            ],
            owner_only: Some("Admin".into()),
            oauth2,
            ..Default::default()
        });
        let mut figment = rocket::Config::figment()
            .merge(("address", "127.0.0.1"))
            .merge(("port", free_port()))
            .merge(("log_level", "off"))
            .merge(("secret_key", SECRET_KEY))
            .merge(("mwoauth.base_url", wiki.base_url()))
            .merge(("mwoauth.user_agent", "tests/0 (https://example.org/tests)"));
        if kind == "oauth2-token" {
            figment = figment.merge((
                "mwoauth.owner_access_token",
                owner.oauth2_access_token.clone().expect("a Bearer token"),
            ));
        } else if kind == "oauth2-client-credentials" {
            figment = figment
                .merge(("mwoauth.owner_client_id", owner.key.clone()))
                .merge(("mwoauth.owner_client_secret", owner.secret.clone()));
        } else {
            let (token, secret) = owner.access_token.clone().expect("owner tokens");
            figment = figment
                .merge(("mwoauth.owner_consumer_key", owner.key.clone()))
                .merge(("mwoauth.owner_consumer_secret", owner.secret.clone()))
                .merge(("mwoauth.owner_access_token", token))
                .merge(("mwoauth.owner_access_secret", secret));
        }
        let (tx, rx) = tokio::sync::oneshot::channel::<Value>();
        let tx = std::sync::Mutex::new(Some(tx));
        let job = AdHoc::on_liftoff("job", move |rocket| {
            let handle = MwOAuth::fetch(rocket).unwrap().clone();
            let tx = tx.lock().unwrap().take().unwrap();
            Box::pin(async move {
                tokio::spawn(async move {
                    let api = handle.owner_api().unwrap();
                    let edit = api
                        .post_with_token(
                            "csrf",
                            &[
                                ("action", "edit"),
                                ("title", "Bot page"),
                                ("text", "by the bot"),
                            ],
                        )
                        .await
                        .unwrap();
                    let _ = tx.send(edit);
                });
            })
        });
        let rocket = rocket::custom(figment)
            .attach(MwOAuth::fairing())
            .attach(job)
            .mount("/", routes![bot]);
        let app = launch(rocket).await;
        assert_eq!(
            text(&browser(), &app.at("/bot")).await,
            (200, "bot: Admin".into())
        );
        // Only an owner-only consumer: nobody signs in here.
        assert_eq!(reqwest::get(app.at("/login")).await.unwrap().status(), 404);
        let edit = tokio::time::timeout(Duration::from_secs(20), rx)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(edit["edit"]["result"], "Success", "{edit}");
        assert_eq!(wiki.page_text("Bot page").as_deref(), Some("by the bot"));
        // Client credentials: one token, asked for once, serves every request.
        if kind == "oauth2-client-credentials" {
            assert_eq!(text(&browser(), &app.at("/bot")).await.1, "bot: Admin");
            assert_eq!(wiki.oauth2_token_requests("client_credentials"), 1);
        }
        wiki.shutdown().await;
    }
}

#[rocket::async_test]
async fn client_credentials_tokens_come_before_the_first_request_and_are_renewed_before_expiry() {
    // 60-second tokens (`$wgOAuth2GrantExpirationInterval = 'PT60S'`, as on
    // observed-1.43.md's :8091): bursts of four parallel owner requests every
    // 5 s for 130 s cross two expiries.
    let wiki = start_wiki().await;
    wiki.set_oauth2_access_token_lifetime(60);
    let owner = wiki.register_consumer(devwiki::ConsumerSpec {
        name: "Owner bot".into(),
        grants: vec!["basic".into(), "editpage".into()],
        owner_only: Some("Admin".into()),
        oauth2: true,
        ..Default::default()
    });
    let figment = rocket::Config::figment()
        .merge(("address", "127.0.0.1"))
        .merge(("port", free_port()))
        .merge(("log_level", "off"))
        .merge(("secret_key", SECRET_KEY))
        .merge(("mwoauth.base_url", wiki.base_url()))
        .merge(("mwoauth.user_agent", "tests/0 (https://example.org/tests)"))
        .merge(("mwoauth.owner_client_id", owner.key.clone()))
        .merge(("mwoauth.owner_client_secret", owner.secret.clone()));
    let app = launch(
        rocket::custom(figment)
            .attach(MwOAuth::fairing())
            .mount("/", routes![bot]),
    )
    .await;
    let client = browser();
    let started = std::time::Instant::now();
    let mut sent = 0;
    while started.elapsed() < Duration::from_secs(130) {
        let burst: Vec<_> = (0..4)
            .map(|_| {
                let (client, url) = (client.clone(), app.at("/bot"));
                tokio::spawn(async move { text(&client, &url).await })
            })
            .collect();
        for call in burst {
            let answer = call.await.unwrap();
            assert_eq!(
                answer,
                (200, "bot: Admin".into()),
                "at {:?}",
                started.elapsed()
            );
        }
        sent += 4;
        tokio::time::sleep(Duration::from_secs(5)).await;
    }
    // Each request reached api.php once, with a valid token: none went out
    // without one (or with an expired one) to be refused and retried.
    assert_eq!(wiki.api_requests("*"), sent);
    // One token before the first request, then one renewal per token, a
    // quarter of its lifetime before it expires (at 45 s and 90 s), each
    // shared by the burst that found it due.
    assert_eq!(wiki.oauth2_token_requests("client_credentials"), 3);
    wiki.shutdown().await;
}

#[rocket::async_test]
async fn owner_api_without_an_owner_consumer_aborts_launch() {
    let figment = rocket::Config::figment()
        .merge(("log_level", "off"))
        .merge(("mwoauth.base_url", "https://meta.wikimedia.org/w"))
        .merge(("mwoauth.client_id", "a"))
        .merge(("mwoauth.client_secret", "b"));
    let result = rocket::custom(figment)
        .attach(MwOAuth::fairing())
        .mount("/", routes![bot])
        .ignite()
        .await;
    let error = result.expect_err("the OwnerApi sentinel aborts");
    assert!(format!("{error:?}").contains("OwnerApi"), "{error:?}");
}

#[rocket::async_test]
async fn a_session_of_the_other_protocol_reads_as_signed_out() {
    // Two apps on one host sharing secret_key, or an app moved from OAuth
    // 1.0a to 2.0: the other protocol's session is not this app's.
    let (wiki, consumer1, app1) = wiki_and_app_with(Proto::OAuth1).await;
    let port = free_port();
    let consumer2 = consumer_with(&wiki, port, Proto::OAuth2, "/");
    let app2 = launch(app_rocket(figment_with(
        &wiki,
        &consumer2,
        port,
        Proto::OAuth2,
    )))
    .await;
    let _ = consumer1;
    let jar = Arc::new(reqwest::cookie::Jar::default());
    let step = stepping_browser(jar);
    wiki.set_auto_approve(Some("Alice"));
    let r = step_login(&step, &app1, "/").await;
    let cookie = set_cookies(&r)
        .into_iter()
        .find(|c| c.starts_with("mwoauth_session="))
        .unwrap()
        .split(';')
        .next()
        .unwrap()
        .to_string();
    let with_cookie = |url: String| {
        let cookie = cookie.clone();
        async move {
            let r = reqwest::Client::new()
                .get(url)
                .header("Cookie", cookie)
                .send()
                .await
                .unwrap();
            (r.status().as_u16(), r.text().await.unwrap())
        }
    };
    assert_eq!(with_cookie(app1.at("/")).await.1, "user: Alice");
    assert_eq!(with_cookie(app2.at("/")).await, (200, "anonymous".into()));
    assert_eq!(with_cookie(app2.at("/userinfo")).await.0, 401);
    wiki.shutdown().await;
}

#[rocket::async_test]
async fn callbacks_the_browser_got_wrong_are_400() {
    for proto in [Proto::OAuth2, Proto::OAuth2Public] {
        let (wiki, _consumer, app) = wiki_and_app_with(proto).await;
        wiki.set_auto_approve(Some("Alice"));
        let jar = Arc::new(reqwest::cookie::Jar::default());
        let step = stepping_browser(jar);
        let r = step.get(app.at("/login")).send().await.unwrap();
        let authorize = r.headers()["location"].to_str().unwrap().to_string();
        let state = url::Url::parse(&authorize)
            .unwrap()
            .query_pairs()
            .find(|(k, _)| k == "state")
            .unwrap()
            .1
            .into_owned();
        // Beyond the 16 KiB a callback query may take (real codes: ≈ 1 KB).
        let long = "a".repeat(17 * 1024);
        for query in [
            format!("code=abc&state={state}&state={state}"),
            format!("code=abc&code=def&state={state}"),
            format!("state={state}"),
            "code=abc".to_string(),
            format!("code=%0A&state={state}"),
            format!("code={long}&state={state}"),
            "code=abc&state=..%2F..%2Fetc".to_string(),
            "code=abc&state=%3Bmwoauth_session%3D1".to_string(),
            "state=ffffffffffffffffffffffffffffffff&code=abc".to_string(),
        ] {
            let r = step
                .get(app.at(&format!("/oauth-callback?{query}")))
                .send()
                .await
                .unwrap();
            let cookies = set_cookies(&r);
            assert_eq!(r.status(), 400, "{proto:?} {query}");
            assert!(
                !cookies
                    .iter()
                    .any(|c| c.starts_with("mwoauth_session=") && !c.contains("Max-Age=0")),
                "{query}"
            );
        }
        assert_eq!(text(&step, &app.at("/")).await.1, "anonymous");
        wiki.shutdown().await;
    }
}

/// Issue 21, item 4: with the cookie store, on a wiki that accepts a
/// refresh token again within a grace period (MediaWiki 1.47), two
/// instances that refresh the same session at once both succeed: nobody is
/// signed out.
#[rocket::async_test]
async fn two_instances_at_expiry_on_1_47_sign_nobody_out_with_the_cookie_store() {
    let wiki = start_wiki_on(MediaWikiVersion::V1_47).await;
    wiki.set_oauth2_refresh_grace_period(30);
    let port = free_port();
    let consumer = consumer_with(&wiki, port, Proto::OAuth2, "/");
    let app = launch(app_rocket(figment_with(
        &wiki,
        &consumer,
        port,
        Proto::OAuth2,
    )))
    .await;
    let twin = twin_instance(&wiki, &consumer, Proto::OAuth2).await;
    wiki.set_oauth2_access_token_lifetime(2);
    let users = ["Alice", "Bob", "Carol", "Dave"];
    let mut cookies = Vec::new();
    for user in users {
        wiki.add_user(user);
        let step = stepping_browser(Arc::new(reqwest::cookie::Jar::default()));
        wiki.set_auto_approve(Some(user));
        let r = step_login(&step, &app, "/").await;
        cookies.push(
            set_cookies(&r)
                .into_iter()
                .find(|c| c.starts_with("mwoauth_session="))
                .unwrap()
                .split(';')
                .next()
                .unwrap()
                .to_string(),
        );
    }
    tokio::time::sleep(Duration::from_secs(3)).await;
    let mut calls = Vec::new();
    for cookie in &cookies {
        for url in [app.at("/userinfo"), twin.at("/userinfo")] {
            let cookie = cookie.clone();
            calls.push(tokio::spawn(async move {
                let r = reqwest::Client::new()
                    .get(url)
                    .header("Cookie", cookie)
                    .header("Accept", "application/json")
                    .send()
                    .await
                    .unwrap();
                let signed_out = set_cookies(&r)
                    .iter()
                    .any(|c| c.starts_with("mwoauth_session=;") || c.contains("Max-Age=0"));
                (r.status().as_u16(), signed_out, r.text().await.unwrap())
            }));
        }
    }
    for call in calls {
        let (status, signed_out, body) = call.await.unwrap();
        assert_eq!(status, 200, "{body}");
        assert!(!signed_out, "nobody is signed out");
    }
    // Each instance refreshed each session once (the wiki's grace period
    // accepted the second use).
    assert!(wiki.oauth2_token_requests("refresh_token") <= 2 * users.len() as u64);
    wiki.shutdown().await;
}
