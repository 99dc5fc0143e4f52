//! A hostile browser and a broken or hostile wiki: every failure of the
//! handshake gets a clear answer with a fitting status, no panic, no
//! half-signed-in state, and the app keeps serving.

mod common;

use std::time::Duration;

use common::hostile::{self, figment_for, Answer, HostileWiki, CONSUMER_SECRET, REQUEST_TOKEN};
use common::*;

async fn setup() -> (HostileWiki, App) {
    let h = hostile::start().await;
    let port = free_port();
    let app = launch(app_rocket(figment_for(&h, port))).await;
    (h, app)
}

fn client() -> reqwest::Client {
    stepping_browser(std::sync::Arc::new(reqwest::cookie::Jar::default()))
}

/// Starts a login (the hostile wiki's initiate must work) and comes back to
/// the callback with `query`; returns the callback's status and body.
async fn callback_with(c: &reqwest::Client, app: &App, query: &str) -> (u16, String, Vec<String>) {
    let r = c.get(app.at("/login?next=/private")).send().await.unwrap();
    assert_eq!(r.status(), 303, "login starts");
    let r = c
        .get(app.at(&format!("/oauth-callback?{query}")))
        .send()
        .await
        .unwrap();
    let cookies = set_cookies(&r);
    (r.status().as_u16(), r.text().await.unwrap(), cookies)
}

async fn assert_signed_out(c: &reqwest::Client, app: &App) {
    assert_eq!(text(c, &app.at("/")).await.1, "anonymous");
}

fn good_query() -> String {
    format!("oauth_verifier=38b05ae7831cba1532cfa181522f7556&oauth_token={REQUEST_TOKEN}")
}

#[rocket::async_test]
async fn the_hostile_wiki_can_also_be_good() {
    let (_h, app) = setup().await;
    let c = client();
    let (status, _, cookies) = callback_with(&c, &app, &good_query()).await;
    assert_eq!(status, 303);
    assert!(cookies.iter().any(|c| c.starts_with("mwoauth_session=")));
    assert!(text(&c, &app.at("/")).await.1.starts_with("user: Mallory"));
}

#[rocket::async_test]
async fn callbacks_the_browser_got_wrong_are_400() {
    let (_h, app) = setup().await;
    let c = client();
    // No login in progress at all.
    let r = c
        .get(app.at(&format!("/oauth-callback?{}", good_query())))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
    assert!(r
        .text()
        .await
        .unwrap()
        .contains("No sign-in is in progress"));
    // JSON when asked for.
    let r = c
        .get(app.at(&format!("/oauth-callback?{}", good_query())))
        .header("Accept", "application/json")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
    let v: serde_json::Value = r.json().await.unwrap();
    assert_eq!(v["error"], "no-pending-login");

    let long = "a".repeat(2000);
    for query in [
        "oauth_verifier=x&oauth_token=ffffffffffffffffffffffffffffffff".to_string(),
        format!("oauth_token={REQUEST_TOKEN}"),
        "oauth_verifier=x".to_string(),
        format!("oauth_verifier=x&oauth_token={REQUEST_TOKEN}&oauth_token={REQUEST_TOKEN}"),
        format!("oauth_verifier=x&oauth_verifier=y&oauth_token={REQUEST_TOKEN}"),
        format!("oauth_verifier={long}&oauth_token={REQUEST_TOKEN}"),
        format!("oauth_verifier=%FF%FE&oauth_token={REQUEST_TOKEN}"),
        format!("oauth_verifier=a%0Ab&oauth_token={REQUEST_TOKEN}"),
        "oauth_verifier=x&oauth_token=..%2F..%2Fetc".to_string(),
        "oauth_verifier=x&oauth_token=%3Bmwoauth_session%3D1".to_string(),
    ] {
        let (status, body, cookies) = callback_with(&c, &app, &query).await;
        assert_eq!(status, 400, "{query}: {body}");
        assert!(
            !cookies
                .iter()
                .any(|c| c.starts_with("mwoauth_session=") && !c.contains("Max-Age=0")),
            "{query}"
        );
        assert_signed_out(&c, &app).await;
    }
}

#[rocket::async_test]
async fn coming_back_from_the_wikis_cancel_page_reads_as_cancelled() {
    // MediaWiki's OAuth 1.0a Cancel page links back to the registered
    // callback, bare ("You can go back to …").
    let (_h, app) = setup().await;
    let c = client();
    let (status, body, _) = callback_with(&c, &app, "").await;
    assert_eq!(status, 403, "{body}");
    assert!(
        body.contains("<title>Sign-in was cancelled</title>"),
        "{body}"
    );
    assert!(body.contains("without allowing the app"), "{body}");
    assert!(body.contains(">Log in again</a>"), "{body}");
    assert_signed_out(&c, &app).await;
}

#[rocket::async_test]
async fn a_broken_wiki_at_initiate_is_502_or_504() {
    let (h, app) = setup().await;
    let c = client();
    let cases: Vec<(Answer, u16)> = vec![
        (
            Answer::text("Error: An error occurred in the OAuth protocol: Invalid consumer"),
            502,
        ),
        (
            Answer::html("<html><body>Wikimedia Error</body></html>"),
            502,
        ),
        (Answer::text("\u{0}\u{1}garbage"), 502),
        (Answer::text("oauth_token=&oauth_token_secret="), 502),
        (Answer::text("Internal error").with_status(500), 502),
        (Answer::text("Moved").with_status(302), 502),
        (Answer::text("slow").delayed(Duration::from_secs(3)), 504),
    ];
    for (answer, expected) in cases {
        h.set(|b| b.initiate = answer);
        let r = c.get(app.at("/login")).send().await.unwrap();
        assert_eq!(r.status().as_u16(), expected);
        let body = r.text().await.unwrap();
        assert!(body.contains("The wiki could not be used"), "{body}");
        assert!(!body.contains(CONSUMER_SECRET));
    }
    // The wiki's own message reaches the user, as plain text.
    h.set(|b| {
        b.initiate =
            Answer::text("Error: An error occurred in the OAuth protocol: Invalid consumer")
    });
    let body = c
        .get(app.at("/login"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(body.contains("Invalid consumer"), "{body}");
    // And the app keeps serving.
    assert_signed_out(&c, &app).await;
}

#[rocket::async_test]
async fn a_broken_wiki_at_token_or_identify_leaves_nobody_half_signed_in() {
    let (h, app) = setup().await;
    let c = client();
    let e009 = "Error: This request has already been completed and cannot be resubmitted.\n\n&lt;span class=&quot;plainlinks&quot;&gt;OAuth token already used, <a href=\"x\">E009</a>&lt;/span&gt;";
    let token_cases: Vec<(Answer, u16)> = vec![
        // The wiki says the login was already completed: a replay, the
        // client's fault (400), not the wiki's.
        (Answer::text(e009), 400),
        (
            Answer::text("Error: The verification code provided was not valid."),
            502,
        ),
        (Answer::html("<!DOCTYPE html><title>Login</title>"), 502),
        (Answer::text("").with_status(503), 502),
        (Answer::text("x").delayed(Duration::from_secs(3)), 504),
    ];
    for (answer, expected) in token_cases {
        h.set(|b| b.token = answer);
        let (status, body, _) = callback_with(&c, &app, &good_query()).await;
        assert_eq!(status, expected, "{body}");
        assert_signed_out(&c, &app).await;
    }
    h.set(|b| *b = hostile::good(h.origin.clone()));
    let identify_cases: Vec<(Answer, u16)> = vec![
        (
            Answer::text("{\"error\":\"mwoauthdatastore-access-token-not-found\",\"message\":\"No approved grant was found for that authorization token.\"}"),
            401,
        ),
        (Answer::text("{\"error\":\"mwoauth-invalid-authorization-blocked-user\",\"message\":\"blocked\"}"), 401),
        (Answer::text("{not json"), 502),
        (Answer::html("<html>oops</html>"), 502),
        (Answer::text("").with_status(500), 502),
    ];
    for (answer, expected) in identify_cases {
        h.set(|b| b.identify = answer);
        let (status, body, _) = callback_with(&c, &app, &good_query()).await;
        assert_eq!(status, expected, "{body}");
        assert_signed_out(&c, &app).await;
    }
}

#[rocket::async_test]
async fn every_bad_identity_jwt_is_rejected() {
    let (h, app) = setup().await;
    let c = client();
    let o = h.origin.clone();
    type Edit = Box<dyn Fn(&mut serde_json::Value) + Send + Sync>;
    let now = time::OffsetDateTime::now_utc().unix_timestamp();
    let cases: Vec<(&str, Edit)> = vec![
        (
            "wrong key",
            Box::new(|c| c["__key"] = "another secret".into()),
        ),
        ("alg none", Box::new(|c| c["__alg"] = "none".into())),
        ("alg HS512", Box::new(|c| c["__alg"] = "HS512".into())),
        ("alg RS256", Box::new(|c| c["__alg"] = "RS256".into())),
        ("wrong aud", Box::new(|c| c["aud"] = "someone else".into())),
        (
            "wrong iss",
            Box::new(|c| c["iss"] = "https://evil.example".into()),
        ),
        (
            "iss on another port",
            Box::new(|c| c["iss"] = "http://127.0.0.1:1".into()),
        ),
        (
            "expired",
            Box::new(move |c| {
                c["exp"] = (now - 1000).into();
                c["iat"] = (now - 1100).into();
            }),
        ),
        (
            "from the future",
            Box::new(move |c| {
                c["iat"] = (now + 1000).into();
                c["exp"] = (now + 1100).into();
            }),
        ),
        ("nonce mismatch", Box::new(|c| c["nonce"] = "0000".into())),
        (
            "no nonce",
            Box::new(|c| {
                c.as_object_mut().unwrap().remove("nonce");
            }),
        ),
        (
            "no username",
            Box::new(|c| {
                c.as_object_mut().unwrap().remove("username");
            }),
        ),
        (
            "no sub",
            Box::new(|c| {
                c.as_object_mut().unwrap().remove("sub");
            }),
        ),
    ];
    for (name, edit) in cases {
        h.set(|b| b.identify = hostile::jwt_answer(o.clone(), edit));
        let (status, body, _) = callback_with(&c, &app, &good_query()).await;
        assert_eq!(status, 502, "{name}: {body}");
        assert!(body.contains("identity"), "{name}: {body}");
        assert_signed_out(&c, &app).await;
    }
    // A wiki clock 60 s off still works.
    for skew in [-60i64, 60] {
        h.set(|b| {
            b.identify = hostile::jwt_answer(o.clone(), move |c| {
                c["iat"] = (now + skew).into();
                c["exp"] = (now + skew + 100).into();
            })
        });
        let (status, body, _) = callback_with(&c, &app, &good_query()).await;
        assert_eq!(status, 303, "skew {skew}: {body}");
        assert!(text(&c, &app.at("/")).await.1.starts_with("user: Mallory"));
        c.get(app.at("/logout")).send().await.unwrap();
    }
    // grants as an object with gaps is read as a list.
    h.set(|b| {
        b.identify = hostile::jwt_answer(o.clone(), |c| {
            c["grants"] = serde_json::json!({"0":"basic","3":"editpage"})
        })
    });
    callback_with(&c, &app, &good_query()).await;
    let me: serde_json::Value = c
        .get(app.at("/me"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(me["grants"], serde_json::json!(["basic", "editpage"]));
}

#[rocket::async_test]
async fn a_next_smuggled_through_the_callback_is_ignored() {
    let (_h, app) = setup().await;
    let c = client();
    let r = c.get(app.at("/login?next=%2Fme")).send().await.unwrap();
    assert_eq!(r.status(), 303);
    let r = c
        .get(app.at(&format!(
            "/oauth-callback?{}&next=https%3A%2F%2Fevil.example%2F&next=%2F%2Fevil.example",
            good_query()
        )))
        .send()
        .await
        .unwrap();
    assert_eq!(r.headers()["location"], "/me");
}

#[rocket::async_test]
async fn secure_cookies_when_configured_or_https() {
    let h = hostile::start().await;
    for (extra, secure) in [
        (None, false),
        (Some(("mwoauth.secure_cookies", "true")), true),
    ] {
        let mut figment = figment_for(&h, free_port());
        if let Some(kv) = extra {
            figment = figment.merge((kv.0, kv.1 == "true"));
        }
        let app = launch(app_rocket(figment)).await;
        let c = client();
        let (_, _, cookies) = callback_with(&c, &app, &good_query()).await;
        let session = cookies
            .iter()
            .find(|c| c.starts_with("mwoauth_session="))
            .unwrap();
        assert_eq!(session.contains("; Secure"), secure, "{session}");
        assert!(
            session.contains("HttpOnly")
                && session.contains("SameSite=Lax")
                && session.contains("Path=/"),
            "{session}"
        );
    }
    // An https callback (a deployment behind TLS) implies Secure.
    let figment = figment_for(&h, free_port())
        .merge(("mwoauth.callback", "https://tool.example/oauth-callback"));
    let app = launch(app_rocket(figment)).await;
    let r = client().get(app.at("/login")).send().await.unwrap();
    let pending = set_cookies(&r);
    assert!(
        pending
            .iter()
            .any(|c| c.starts_with("mwoauth_login_") && c.contains("; Secure")),
        "{pending:?}"
    );
}
