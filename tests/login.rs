//! Sign-in end to end over real HTTP: the app and the local wiki on loopback,
//! a cookie-keeping client that follows redirects like a browser. The core
//! of the suite (login, `MwUser`, `VerifiedMwUser`, `MwApi`, revoke, logout,
//! two tabs, `LoginRequired`) runs in both stores: in the cookie on every
//! MediaWiki version, and in a real `redis-server` (started per test on a
//! free loopback port) on the LTS.

mod common;

use common::*;
use devwiki::MediaWikiVersion;
/// The session cookie's name, as the README documents it.
const SESSION_COOKIE: &str = "mwoauth_session";

#[rocket::async_test]
async fn login_user_api_edit_logout() {
    for mw in VERSIONS {
        for proto in PROTOCOLS {
            login_user_api_edit_logout_with(mw, proto, None).await;
        }
    }
    // The same in Redis mode.
    if let Some(redis) = redis::Redis::start() {
        for proto in PROTOCOLS {
            login_user_api_edit_logout_with(REDIS_SUITE_VERSION, proto, Some(&redis)).await;
        }
    }
}

async fn login_user_api_edit_logout_with(
    mw: MediaWikiVersion,
    proto: Proto,
    redis: Option<&redis::Redis>,
) {
    let (wiki, _consumer, app) = wiki_and_app_in(mw, proto, redis).await;
    let client = browser();

    assert_eq!(
        text(&client, &app.at("/")).await,
        (200, "anonymous".to_string())
    );
    // Not signed in: the API guard forwards with 401, and no other route takes it.
    assert_eq!(
        client
            .get(app.at("/userinfo"))
            .send()
            .await
            .unwrap()
            .status(),
        401
    );

    let (status, page) = login_as(&wiki, &client, &app, "Alice", "/").await;
    assert_eq!(status, 200);
    assert_eq!(page, "user: Alice\nflash: You were signed in, Alice!");
    // The flash is shown once.
    assert_eq!(text(&client, &app.at("/")).await.1, "user: Alice");

    let me: serde_json::Value = client
        .get(app.at("/me"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(me["name"], "Alice");
    assert!(me["central_id"].as_u64().unwrap() > 0);
    assert!(me["grants"]
        .as_array()
        .unwrap()
        .iter()
        .any(|g| g == "editpage"));

    let info: serde_json::Value = client
        .get(app.at("/userinfo"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(info["query"]["userinfo"]["name"], "Alice", "{info}");
    // Parameter names that need percent-encoding are signed as the wiki
    // checks them (encoded twice in the base string), and names a GET
    // would lose in PHP (repeated, or with a `.`) go as a POST.
    let (status, body) = text(&client, &app.at("/userinfo-odd-names")).await;
    assert_eq!(status, 200, "{body}");
    let info: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(info["query"]["userinfo"]["name"], "Alice", "{info}");

    let edit: serde_json::Value = client
        .post(app.at("/edit?title=Sandbox&text=Hello%20from%20Rust"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(edit["edit"]["result"], "Success", "{edit}");
    assert_eq!(
        wiki.page_text("Sandbox").as_deref(),
        Some("Hello from Rust")
    );
    assert_eq!(
        text(&client, &app.at("/page?title=Sandbox")).await.1,
        "Hello from Rust by Alice"
    );

    let (status, page) = text(&client, &app.at("/logout")).await;
    assert_eq!(status, 200);
    assert_eq!(page, "anonymous\nflash: You were signed out.");
    assert_eq!(
        client.get(app.at("/me")).send().await.unwrap().status(),
        401
    );
    wiki.shutdown().await;
}

#[rocket::async_test]
async fn next_is_honoured_and_unsafe_next_is_not() {
    for proto in PROTOCOLS {
        next_is_honoured_and_unsafe_next_is_not_with(proto).await;
    }
}

async fn next_is_honoured_and_unsafe_next_is_not_with(proto: Proto) {
    let (wiki, _consumer, app) = wiki_and_app_with(proto).await;
    let client = browser();
    let (_, page) = login_as(&wiki, &client, &app, "Alice", "/private").await;
    assert_eq!(page, "private page of Alice");

    for hostile in [
        "https://evil.example/",
        "//evil.example/x",
        "/\\evil.example",
        "javascript:alert(1)",
    ] {
        let r = client
            .get(app.at(&format!("/logout?next={}", urlencode(hostile))))
            .send()
            .await
            .unwrap();
        assert_eq!(r.url().as_str(), app.at("/"), "{hostile}");
        let (_, page) = login_as(&wiki, &client, &app, "Alice", hostile).await;
        assert!(page.starts_with("user: Alice"), "{hostile}: {page}");
    }
    // Logout honours a safe next too.
    let r = client
        .get(app.at("/logout?next=%2Fverified"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.url().path(), "/verified");
    wiki.shutdown().await;
}

#[rocket::async_test]
async fn login_required_sends_anonymous_visitors_through_login_and_back() {
    for proto in PROTOCOLS {
        login_required_sends_anonymous_visitors_through_login_and_back_with(proto, None).await;
    }
    if let Some(redis) = redis::Redis::start() {
        for proto in PROTOCOLS {
            login_required_sends_anonymous_visitors_through_login_and_back_with(
                proto,
                Some(&redis),
            )
            .await;
        }
    }
}

async fn login_required_sends_anonymous_visitors_through_login_and_back_with(
    proto: Proto,
    redis: Option<&redis::Redis>,
) {
    let (wiki, _consumer, app) = wiki_and_app_in(REDIS_SUITE_VERSION, proto, redis).await;
    let client = browser();
    wiki.set_auto_approve(Some("Zoë Ünicode-Ŝtrange"));
    let r = client.get(app.at("/private?x=1")).send().await.unwrap();
    assert_eq!(r.url().as_str(), app.at("/private?x=1"));
    assert_eq!(
        r.text().await.unwrap(),
        "private page of Zoë Ünicode-Ŝtrange"
    );
    wiki.shutdown().await;
}

#[rocket::async_test]
async fn parallel_logins_in_two_tabs_both_complete() {
    for mw in VERSIONS {
        for proto in PROTOCOLS {
            parallel_logins_in_two_tabs_both_complete_with(mw, proto, None).await;
        }
    }
    // The same in Redis mode.
    if let Some(redis) = redis::Redis::start() {
        for proto in PROTOCOLS {
            parallel_logins_in_two_tabs_both_complete_with(
                REDIS_SUITE_VERSION,
                proto,
                Some(&redis),
            )
            .await;
        }
    }
}

async fn parallel_logins_in_two_tabs_both_complete_with(
    mw: MediaWikiVersion,
    proto: Proto,
    redis: Option<&redis::Redis>,
) {
    let (wiki, _consumer, app) = wiki_and_app_in(mw, proto, redis).await;
    let jar = std::sync::Arc::new(reqwest::cookie::Jar::default());
    let step = stepping_browser(jar.clone());
    wiki.set_auto_approve(Some("Alice"));

    // Both tabs start a login before either comes back.
    let mut authorize = Vec::new();
    for next in ["/private", "/me"] {
        let r = step
            .get(app.at(&format!("/login?next={next}")))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 303);
        authorize.push(r.headers()["location"].to_str().unwrap().to_string());
    }
    assert_ne!(authorize[0], authorize[1]);
    // They come back in the other order.
    let mut landed = Vec::new();
    for url in authorize.iter().rev() {
        let r = step.get(url).send().await.unwrap();
        assert_eq!(r.status(), 302, "the wiki approves and calls back");
        let callback = r.headers()["location"].to_str().unwrap().to_string();
        let r = step.get(&callback).send().await.unwrap();
        assert_eq!(r.status(), 303, "{}", r.text().await.unwrap());
        landed.push(r.headers()["location"].to_str().unwrap().to_string());
        // A replay of the same callback is refused and does not sign anyone in or out.
        let replay = step.get(&callback).send().await.unwrap();
        assert_eq!(replay.status(), 400);
    }
    assert_eq!(landed, ["/me", "/private"]);
    assert_eq!(
        text(&step, &app.at("/private")).await.1,
        "private page of Alice"
    );
    wiki.shutdown().await;
}

#[rocket::async_test]
async fn verified_user_after_a_revoked_grant_is_signed_out() {
    for mw in VERSIONS {
        for proto in PROTOCOLS {
            verified_user_after_a_revoked_grant_is_signed_out_with(mw, proto, None).await;
        }
    }
    // The same in Redis mode.
    if let Some(redis) = redis::Redis::start() {
        for proto in PROTOCOLS {
            verified_user_after_a_revoked_grant_is_signed_out_with(
                REDIS_SUITE_VERSION,
                proto,
                Some(&redis),
            )
            .await;
        }
    }
}

async fn verified_user_after_a_revoked_grant_is_signed_out_with(
    mw: MediaWikiVersion,
    proto: Proto,
    redis: Option<&redis::Redis>,
) {
    let (wiki, consumer, app) = wiki_and_app_in(mw, proto, redis).await;
    let client = browser();
    login_as(&wiki, &client, &app, "Admin", "/").await;
    let (_, page) = text(&client, &app.at("/verified")).await;
    assert!(page.starts_with("verified: Admin with "), "{page}");
    let rights: usize = page.split_whitespace().nth(3).unwrap().parse().unwrap();
    // OAuth 1.0a's identity lists all the user's rights; OAuth 2.0's profile
    // those the grants allow (as a real wiki's does).
    let least = if proto == Proto::OAuth1 { 100 } else { 20 };
    assert!(
        rights > least,
        "the admin's long rights list comes from the wiki: {page}"
    );

    assert!(wiki.revoke("Admin", &consumer.key));
    assert_eq!(text(&client, &app.at("/verified")).await.1, "anonymous");
    // The cookie is gone: the cached user is signed out too.
    assert_eq!(text(&client, &app.at("/")).await.1, "anonymous");
    wiki.shutdown().await;
}

/// `&MwUser` shows the signed-in user, and a guard of the same request that
/// signs the user out (a revoked grant) is seen by the next `&MwUser`.
#[rocket::async_test]
async fn lent_user_follows_a_sign_out_in_the_same_request() {
    for proto in PROTOCOLS {
        let (wiki, consumer, app) = wiki_and_app_on(MediaWikiVersion::default(), proto).await;
        let client = browser();
        assert_eq!(
            text(&client, &app.at("/lent")).await.1,
            "lent: anonymous; verified: anonymous; lent again: anonymous"
        );
        login_as(&wiki, &client, &app, "Alice", "/").await;
        assert_eq!(
            text(&client, &app.at("/lent")).await.1,
            "lent: Alice; verified: Alice; lent again: Alice",
            "{proto:?}"
        );
        assert!(wiki.revoke("Alice", &consumer.key));
        assert_eq!(
            text(&client, &app.at("/lent")).await.1,
            "lent: Alice; verified: anonymous; lent again: anonymous",
            "{proto:?}"
        );
        assert_eq!(
            text(&client, &app.at("/lent")).await.1,
            "lent: anonymous; verified: anonymous; lent again: anonymous",
            "{proto:?}: signed out"
        );
        wiki.shutdown().await;
    }
}

#[rocket::async_test]
async fn api_call_after_a_revoked_grant_signs_out_with_401() {
    for mw in VERSIONS {
        for proto in PROTOCOLS {
            api_call_after_a_revoked_grant_signs_out_with_401_with(mw, proto, None).await;
        }
    }
    // The same in Redis mode.
    if let Some(redis) = redis::Redis::start() {
        for proto in PROTOCOLS {
            api_call_after_a_revoked_grant_signs_out_with_401_with(
                REDIS_SUITE_VERSION,
                proto,
                Some(&redis),
            )
            .await;
        }
    }
}

async fn api_call_after_a_revoked_grant_signs_out_with_401_with(
    mw: MediaWikiVersion,
    proto: Proto,
    redis: Option<&redis::Redis>,
) {
    let (wiki, consumer, app) = wiki_and_app_in(mw, proto, redis).await;
    let client = browser();
    login_as(&wiki, &client, &app, "Alice", "/").await;
    assert!(wiki.revoke("Alice", &consumer.key));
    let r = client
        .get(app.at("/userinfo"))
        .header("Accept", "application/json")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401);
    let body: serde_json::Value = r.json().await.unwrap();
    assert_eq!(body["error"], "access-revoked", "{body}");
    assert_eq!(text(&client, &app.at("/")).await.1, "anonymous");
    wiki.shutdown().await;
}

#[rocket::async_test]
async fn session_cookie_is_private_lax_httponly_and_small() {
    for proto in PROTOCOLS {
        session_cookie_is_private_lax_httponly_and_small_with(proto).await;
    }
}

async fn session_cookie_is_private_lax_httponly_and_small_with(proto: Proto) {
    let (wiki, _consumer, app) = wiki_and_app_with(proto).await;
    let jar = std::sync::Arc::new(reqwest::cookie::Jar::default());
    let step = stepping_browser(jar.clone());
    wiki.set_auto_approve(Some("Admin"));
    let r = step.get(app.at("/login")).send().await.unwrap();
    let pending = set_cookies(&r);
    assert!(
        pending.iter().any(|c| c.starts_with("mwoauth_login_")
            && c.contains("HttpOnly")
            && c.contains("SameSite=Lax")),
        "{pending:?}"
    );
    let r = follow(&step, &r).await;
    let r = follow(&step, &r).await;
    let cookies = set_cookies(&r);
    let session = cookies
        .iter()
        .find(|c| c.starts_with(&format!("{SESSION_COOKIE}=")))
        .expect("session cookie");
    assert!(
        session.contains("HttpOnly") && session.contains("SameSite=Lax"),
        "{session}"
    );
    assert!(!session.contains("Admin"), "encrypted: {session}");
    let value_len = session.split(';').next().unwrap().len();
    // OAuth 2.0 tokens are long; browsers keep cookies up to 4,096 bytes.
    let limit = if proto == Proto::OAuth1 { 2048 } else { 4000 };
    assert!(
        value_len < limit,
        "the admin's session cookie is {value_len} bytes"
    );
    wiki.shutdown().await;
}

#[rocket::async_test]
async fn the_api_guard_queries_a_second_wiki_as_the_same_user() {
    for proto in PROTOCOLS {
        the_api_guard_queries_a_second_wiki_with(proto).await;
    }
}

async fn the_api_guard_queries_a_second_wiki_with(proto: Proto) {
    let (wiki, consumer, app) = wiki_and_app_with(proto).await;
    let jar = std::sync::Arc::new(reqwest::cookie::Jar::default());
    let client = reqwest::Client::builder()
        .cookie_provider(jar.clone())
        .redirect(reqwest::redirect::Policy::limited(10))
        .build()
        .unwrap();
    login_as(&wiki, &client, &app, "Alice", "/").await;

    // A second wiki of the same farm: same consumer, and (central OAuth) the same grant.
    let other = start_wiki().await;
    other.register_consumer(devwiki::ConsumerSpec {
        name: consumer.name.clone(),
        key: Some(consumer.key.clone()),
        secret: Some(consumer.secret.clone()),
        grants: consumer.grants.clone(),
        callback: consumer.callback.clone(),
        oauth2: consumer.oauth2,
        confidential: consumer.confidential,
        ..Default::default()
    });
    let url = app.at(&format!(
        "/userinfo-at?wiki={}",
        urlencode(&other.api_url())
    ));
    // Before the grant exists there, the other wiki refuses the token: a typed error, the user signed out.
    let r = client
        .get(&url)
        .header("Accept", "application/json")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401);
    login_as(&wiki, &client, &app, "Alice", "/").await;
    if proto == Proto::OAuth1 {
        let (key, secret) = wiki.grant("Alice", &consumer.key).unwrap();
        assert!(other.import_grant("Alice", &consumer.key, &key, &secret));
    } else {
        let token = session_record(&jar, &app)["cr"]["a"]
            .as_str()
            .unwrap()
            .to_string();
        assert!(other.import_oauth2_token("Alice", &consumer.key, &token));
    }
    let info: serde_json::Value = client.get(&url).send().await.unwrap().json().await.unwrap();
    assert_eq!(info["query"]["userinfo"]["name"], "Alice", "{info}");
    // The second wiki really answered: its own check passed.
    other.revoke("Alice", &consumer.key);
    assert_eq!(client.get(&url).send().await.unwrap().status(), 401);
    other.shutdown().await;
    wiki.shutdown().await;
}

#[rocket::async_test]
async fn routes_mounted_elsewhere_sign_in_the_whole_site() {
    for proto in PROTOCOLS {
        routes_mounted_elsewhere_with(proto).await;
    }
}

async fn routes_mounted_elsewhere_with(proto: Proto) {
    println!("protocol: {proto:?}");
    let wiki = start_wiki().await;
    let port = free_port();
    let consumer = consumer_with(&wiki, port, proto, "/auth");
    let figment = figment_with(&wiki, &consumer, port, proto).merge(("mwoauth.mount", "/auth"));
    let app = launch(app_rocket(figment)).await;
    let client = browser();
    wiki.set_auto_approve(Some("Alice"));
    // LoginRequired sends the visitor to /auth/login and back.
    let r = client.get(app.at("/private")).send().await.unwrap();
    assert_eq!(r.url().path(), "/private");
    assert_eq!(r.text().await.unwrap(), "private page of Alice");
    assert!(text(&client, &app.at("/"))
        .await
        .1
        .starts_with("user: Alice"));
    assert_eq!(
        client.get(app.at("/login")).send().await.unwrap().status(),
        404
    );
    let (_, page) = text(&client, &app.at("/auth/logout")).await;
    assert_eq!(page, "anonymous\nflash: You were signed out.");
    wiki.shutdown().await;
}

#[rocket::async_test]
async fn a_wiki_clock_a_minute_off_still_works() {
    let (wiki, _consumer, app) = wiki_and_app().await;
    for offset in [60, -60] {
        wiki.set_clock_offset(offset);
        let client = browser();
        let (status, page) = login_as(&wiki, &client, &app, "Alice", "/").await;
        assert_eq!(status, 200, "offset {offset}: {page}");
        assert!(page.starts_with("user: Alice"), "offset {offset}: {page}");
        let info: serde_json::Value = client
            .get(app.at("/userinfo"))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert_eq!(
            info["query"]["userinfo"]["name"], "Alice",
            "offset {offset}"
        );
    }
    wiki.shutdown().await;
}

#[rocket::async_test]
async fn cookie_sizes_for_the_largest_identity() {
    for mw in VERSIONS {
        for proto in PROTOCOLS {
            cookie_sizes_for_the_largest_identity_with(mw, proto).await;
        }
    }
}

async fn cookie_sizes_for_the_largest_identity_with(mw: MediaWikiVersion, proto: Proto) {
    let (wiki, _consumer, app) = wiki_and_app_on(mw, proto).await;
    let jar = std::sync::Arc::new(reqwest::cookie::Jar::default());
    let step = stepping_browser(jar);
    wiki.set_auto_approve(Some("Admin"));
    let r = step
        .get(app.at(&format!(
            "/login?next={}",
            urlencode(&format!("/{}", "x".repeat(1500)))
        )))
        .send()
        .await
        .unwrap();
    let mut sizes = Vec::new();
    let mut collect = |r: &reqwest::Response| {
        for v in r.headers().get_all("set-cookie") {
            let c = v.to_str().unwrap();
            sizes.push((c.split('=').next().unwrap().to_string(), c.len()));
        }
    };
    collect(&r);
    let r = follow(&step, &r).await;
    let r = follow(&step, &r).await;
    collect(&r);
    assert!(
        sizes.iter().any(|(n, _)| n == "mwoauth_session"),
        "{sizes:?}"
    );
    for (name, len) in &sizes {
        println!("cookie {name}: {len} bytes (whole Set-Cookie header)");
        assert!(*len < 3000, "{name} is {len} bytes");
    }
    wiki.shutdown().await;
}

#[rocket::async_test]
async fn a_callback_after_the_request_token_expired_is_a_clear_error() {
    let (wiki, _consumer, app) = wiki_and_app().await;
    let step = stepping_browser(std::sync::Arc::new(reqwest::cookie::Jar::default()));
    wiki.set_auto_approve(Some("Alice"));
    let r = step.get(app.at("/login")).send().await.unwrap();
    let r = follow(&step, &r).await;
    let callback = r.headers()["location"].to_str().unwrap().to_string();
    // Eleven minutes pass on the wiki: its request tokens live 600 s.
    wiki.set_clock_offset(660);
    let r = step.get(&callback).send().await.unwrap();
    assert_eq!(r.status(), 502);
    let page = r.text().await.unwrap();
    assert!(page.contains("OAuth token not found"), "{page}");
    assert_eq!(text(&step, &app.at("/")).await.1, "anonymous");
    // And a fresh login works.
    wiki.set_clock_offset(0);
    let (_, page) = login_as(&wiki, &browser(), &app, "Alice", "/").await;
    assert!(page.starts_with("user: Alice"), "{page}");
    wiki.shutdown().await;
}

/// Rocket drops a request's cookie changes when a catcher answers: the
/// sign-out of a revoked user must survive that.
#[rocket::async_test]
async fn a_revoked_user_is_signed_out_even_when_a_catcher_answers() {
    for proto in PROTOCOLS {
        a_revoked_user_is_signed_out_even_when_a_catcher_answers_with(proto).await;
    }
}

async fn a_revoked_user_is_signed_out_even_when_a_catcher_answers_with(proto: Proto) {
    let (wiki, consumer, app) = wiki_and_app_with(proto).await;
    let jar = std::sync::Arc::new(reqwest::cookie::Jar::default());
    let step = stepping_browser(jar.clone());
    let client = browser();
    for path in ["/verified-required", "/verified-strict"] {
        wiki.set_auto_approve(Some("Alice"));
        let r = step_login(&step, &app, "/").await;
        assert_eq!(r.status(), 303);
        assert_eq!(
            text(&step, &app.at(path)).await.1,
            if path == "/verified-strict" {
                "verified strictly: Alice"
            } else {
                "verified and required: Alice"
            }
        );
        assert!(wiki.revoke("Alice", &consumer.key));
        let r = step.get(app.at(path)).send().await.unwrap();
        let cookies = set_cookies(&r);
        assert!(
            cookies.iter().any(|c| c.starts_with("mwoauth_session=;")
                || c.starts_with("mwoauth_session=\"\";")
                || (c.starts_with("mwoauth_session=") && c.contains("Max-Age=0"))),
            "{path}: {cookies:?}"
        );
        if path == "/verified-required" {
            assert_eq!(r.status(), 303);
            assert_eq!(r.headers()["location"], "/login?next=%2Fverified-required");
        } else {
            assert_eq!(r.status(), 401);
        }
        assert!(
            text(&step, &app.at("/")).await.1.starts_with("anonymous"),
            "{path}"
        );
    }
    drop(client);
    wiki.shutdown().await;
}

/// A wiki that rejects the signature itself (its clock far off) is not a
/// reason to sign the user out: 502, and the session stays.
#[rocket::async_test]
async fn a_rejected_signature_does_not_sign_the_user_out() {
    let (wiki, _consumer, app) = wiki_and_app().await;
    let client = browser();
    login_as(&wiki, &client, &app, "Alice", "/").await;
    wiki.set_clock_offset(900);
    let r = client
        .get(app.at("/userinfo"))
        .header("Accept", "application/json")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 502);
    let body: serde_json::Value = r.json().await.unwrap();
    assert!(
        body["message"]
            .as_str()
            .unwrap()
            .contains("Expired timestamp"),
        "{body}"
    );
    assert!(text(&client, &app.at("/"))
        .await
        .1
        .starts_with("user: Alice"));
    wiki.set_clock_offset(0);
    let info: serde_json::Value = client
        .get(app.at("/userinfo"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(info["query"]["userinfo"]["name"], "Alice");
    wiki.shutdown().await;
}

#[rocket::async_test]
async fn no_flash_cookie_when_the_app_shows_no_flashes() {
    let wiki = start_wiki().await;
    let port = free_port();
    let consumer = consumer_for(&wiki, port).await;
    let figment = app_figment(&wiki, &consumer, port).merge(("mwoauth.flash", false));
    let app = launch(app_rocket(figment)).await;
    let jar = std::sync::Arc::new(reqwest::cookie::Jar::default());
    let step = stepping_browser(jar);
    wiki.set_auto_approve(Some("Alice"));
    let r = step_login(&step, &app, "/").await;
    assert_eq!(r.status(), 303);
    let cookies = set_cookies(&r);
    assert!(
        cookies.iter().any(|c| c.starts_with("mwoauth_session=")),
        "{cookies:?}"
    );
    assert!(
        !cookies.iter().any(|c| c.starts_with("_flash=")),
        "{cookies:?}"
    );
    assert_eq!(text(&step, &app.at("/")).await.1, "user: Alice");
    let r = step.get(app.at("/logout")).send().await.unwrap();
    assert!(!set_cookies(&r).iter().any(|c| c.starts_with("_flash=")));
    wiki.shutdown().await;
}

/// Logs in through each redirect as a browser would; the code (or
/// verifier) the wiki sent back and the final page.
async fn login_stepping(
    wiki: &devwiki::DevWiki,
    app: &App,
    user: &str,
) -> (reqwest::Client, String, (u16, String)) {
    let step = stepping_browser(std::sync::Arc::new(reqwest::cookie::Jar::default()));
    wiki.set_auto_approve(Some(user));
    let r = step.get(app.at("/login?next=%2F")).send().await.unwrap();
    assert_eq!(r.status(), 303);
    let r = follow(&step, &r).await;
    assert_eq!(r.status(), 302, "the wiki sends the browser back");
    let callback = url::Url::parse(r.headers()["location"].to_str().unwrap()).unwrap();
    let code = callback
        .query_pairs()
        .find(|(k, _)| k == "code" || k == "oauth_verifier")
        .map(|(_, v)| v.into_owned())
        .expect("a code or verifier");
    let r = follow(&step, &r).await;
    if r.status() != 303 {
        panic!(
            "the callback answers {}: {}",
            r.status(),
            r.text().await.unwrap()
        );
    }
    assert_eq!(r.headers()["location"], "/");
    let page = text(&step, &app.at("/")).await;
    (step, code, page)
}

#[rocket::async_test]
async fn every_version_signs_in_an_administrator_of_a_twelve_grant_consumer() {
    // OAuth 1.0a (oob), OAuth 2.0 with `callback` set and with `oob`, a
    // public client: against MediaWiki 1.39, 1.43 and 1.47.
    let setups = [
        (Proto::OAuth1, false),
        (Proto::OAuth2, true),
        (Proto::OAuth2, false),
        (Proto::OAuth2Public, true),
    ];
    for mw in VERSIONS {
        for (proto, callback_set) in setups {
            println!(
                "MediaWiki {}, {proto:?}, callback set: {callback_set}",
                mw.name()
            );
            let wiki = start_wiki_on(mw).await;
            let port = free_port();
            let registered = consumer_with(&wiki, port, proto, "/");
            let consumer = wiki.register_consumer(devwiki::ConsumerSpec {
                name: format!("Twelve grants ({proto:?})"),
                callback: registered.callback.clone(),
                grants: TWELVE_GRANTS.iter().map(|g| g.to_string()).collect(),
                oauth2: proto != Proto::OAuth1,
                confidential: proto != Proto::OAuth2Public,
                ..Default::default()
            });
            let mut figment = figment_with(&wiki, &consumer, port, proto);
            if proto != Proto::OAuth1 && !callback_set {
                figment = figment.merge(("mwoauth.callback", "oob"));
            }
            let app = launch(app_rocket(figment)).await;
            let (client, code, page) = login_stepping(&wiki, &app, "Admin").await;
            assert_eq!(page.0, 200, "{page:?}");
            assert!(page.1.starts_with("user: Admin"), "{page:?}");
            if proto != Proto::OAuth1 {
                // As long as a real wiki's: 1,146 characters for twelve
                // grants on 1.39 (observed-1.39-more.md); `redirect_uri`
                // (callback set) adds twice its JSON length.
                assert!(code.starts_with("def50200"), "{code}");
                let least = if callback_set { 1100 } else { 1000 };
                println!("code: {} characters", code.len());
                assert!(code.len() >= least, "a {}-character code", code.len());
            }
            let me: serde_json::Value = client
                .get(app.at("/me"))
                .send()
                .await
                .unwrap()
                .json()
                .await
                .unwrap();
            assert_eq!(me["name"], "Admin");
            let groups: Vec<&str> = me["groups"]
                .as_array()
                .unwrap()
                .iter()
                .filter_map(|g| g.as_str())
                .collect();
            for group in ["sysop", "bureaucrat", "interface-admin"] {
                assert!(groups.contains(&group), "{group} in {groups:?}");
            }
            let grants = me["grants"].as_array().unwrap();
            assert_eq!(grants.len(), 12, "{me}");
            // Asked of the wiki: VerifiedMwUser, MwApi, an edit.
            let (status, verified) = text(&client, &app.at("/verified")).await;
            assert_eq!(status, 200);
            assert!(verified.starts_with("verified: Admin"), "{verified}");
            let info: serde_json::Value = client
                .get(app.at("/userinfo"))
                .send()
                .await
                .unwrap()
                .json()
                .await
                .unwrap();
            assert_eq!(info["query"]["userinfo"]["name"], "Admin", "{info}");
            let edit: serde_json::Value = client
                .post(app.at("/edit?title=Admin%20page&text=twelve"))
                .send()
                .await
                .unwrap()
                .json()
                .await
                .unwrap();
            assert_eq!(edit["edit"]["result"], "Success", "{edit}");
            if proto == Proto::OAuth2 && callback_set {
                // Past the first access token's lifetime: refreshed.
                wiki.set_oauth2_access_token_lifetime(3);
                let (client, _, _) = login_stepping(&wiki, &app, "Admin").await;
                tokio::time::sleep(std::time::Duration::from_secs(4)).await;
                let (status, verified) = text(&client, &app.at("/verified")).await;
                assert_eq!((status, &verified[..15]), (200, "verified: Admin"));
                assert_eq!(wiki.oauth2_token_requests("refresh_token"), 1);
            }
            let (status, page) = text(&client, &app.at("/logout")).await;
            assert_eq!(status, 303, "{page}");
            drop(app);
            wiki.shutdown().await;
        }
    }
}

#[rocket::async_test]
async fn a_four_kib_code_signs_in() {
    // A wiki whose codes carry more than the local wiki's consumers do
    // (longer ids, more scopes, a long redirect_uri): 4 KiB and more.
    for mw in VERSIONS {
        let (wiki, _consumer, app) = wiki_and_app_on(mw, Proto::OAuth2).await;
        wiki.set_oauth2_code_padding(1600);
        let (client, code, page) = login_stepping(&wiki, &app, "Alice").await;
        assert!(code.len() >= 4096, "a {}-character code", code.len());
        assert_eq!(page.0, 200, "{page:?}");
        assert!(page.1.starts_with("user: Alice"), "{page:?}");
        assert_eq!(text(&client, &app.at("/")).await.1, "user: Alice");
        wiki.shutdown().await;
    }
}
