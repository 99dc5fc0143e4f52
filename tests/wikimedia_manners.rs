//! Ready for Wikimedia as it runs today (issue 23): at most 3 requests of a
//! user in flight, typed answers and pages for what real users hit (blocked,
//! no account on that wiki, an app not approved, a missing right or grant),
//! and routes that require a grant. All against the local wiki on loopback.

mod common;

use std::time::{Duration, Instant};

use common::*;
use devwiki::{ConsumerSpec, DevWiki};
use rocket::get;
use rocket::http::Status;
use rocket_mediawiki_oauth::grant::EditPage;
use rocket_mediawiki_oauth::{ApiClient, ApiError, ApiOptions, Error, OwnerOnly, RequireGrant};

const UA: &str = "MannersTest/1.0 (https://example.org/manners; test@example.org)";

/// `user`'s client through `consumer` (an OAuth 1.0a grant made on the wiki).
fn client_of(wiki: &DevWiki, user: &str, consumer: &devwiki::Consumer) -> ApiClient {
    let (token, secret) = wiki.grant(user, &consumer.key).expect("grant");
    ApiClient::owner(
        &wiki.api_url(),
        UA,
        OwnerOnly::OAuth1 {
            consumer_key: consumer.key.clone(),
            consumer_secret: consumer.secret.clone(),
            access_token: token,
            access_secret: secret,
        },
    )
    .expect("client")
}

const USERINFO: &[(&str, &str)] = &[("action", "query"), ("meta", "userinfo")];

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn the_fourth_concurrent_request_of_one_user_waits() {
    let wiki = start_wiki().await;
    let delay = Duration::from_millis(400);
    wiki.set_api_delay(delay);
    let alice = client_of(&wiki, "Alice", &wiki.default_consumer());
    assert_eq!(ApiOptions::default().max_concurrent_per_user, 3);
    let started = Instant::now();
    let requests: Vec<_> = (0..4)
        .map(|_| {
            let api = alice.clone();
            tokio::spawn(async move { api.get(USERINFO).await })
        })
        .collect();
    for r in requests {
        let answer = r.await.expect("task").expect("every request is answered");
        assert_eq!(answer["query"]["userinfo"]["name"], "Alice", "{answer}");
    }
    let elapsed = started.elapsed();
    assert_eq!(
        wiki.max_concurrent_api_requests("Alice"),
        3,
        "the wiki saw at most 3 of Alice's requests at once"
    );
    assert!(
        elapsed >= delay * 2,
        "the fourth request waited for one of the first three: {elapsed:?}"
    );
    // Another user's requests do not wait for Alice's.
    let admin = client_of(&wiki, "Admin", &wiki.default_consumer());
    let both = tokio::join!(
        alice.get(USERINFO),
        alice.get(USERINFO),
        alice.get(USERINFO),
        admin.get(USERINFO),
    );
    assert!(both.0.is_ok() && both.1.is_ok() && both.2.is_ok() && both.3.is_ok());
    assert_eq!(wiki.max_concurrent_api_requests("Admin"), 1);
    wiki.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn the_wait_for_a_turn_is_bounded() {
    let wiki = start_wiki().await;
    wiki.set_api_delay(Duration::from_millis(800));
    let alice = client_of(&wiki, "Alice", &wiki.default_consumer()).with_options(ApiOptions {
        max_concurrent_per_user: 1,
        max_queue_wait: Duration::from_millis(100),
        ..ApiOptions::default()
    });
    let (first, second) = tokio::join!(alice.get(USERINFO), async {
        tokio::time::sleep(Duration::from_millis(50)).await;
        alice.get(USERINFO).await
    });
    first.expect("the first request is answered");
    let err = second.expect_err("the second gave up waiting");
    assert!(
        matches!(err, ApiError::TooManyInFlight { limit: 1, .. }),
        "{err:?}"
    );
    assert_eq!(Error::from(err).status(), Status::ServiceUnavailable);
    assert_eq!(wiki.max_concurrent_api_requests("Alice"), 1);
    wiki.shutdown().await;
}

#[test]
fn a_user_agent_without_a_contact_is_refused_with_a_good_one_shown() {
    let err = ApiClient::owner(
        "https://meta.wikimedia.org/w/api.php",
        "python-requests/2.31",
        OwnerOnly::OAuth2 {
            access_token: "t".into(),
        },
    )
    .expect_err("a library default");
    assert!(
        err.to_string()
            .contains("MyTool/1.0 (https://mytool.toolforge.org; me@example.org)"),
        "{err}"
    );
}

/// The page an error gets from a handler, through the crate's responder.
async fn page_of(error: Error) -> (Status, String) {
    #[get("/")]
    fn fail(e: &rocket::State<std::sync::Mutex<Option<Error>>>) -> Error {
        e.lock().unwrap().take().expect("one error")
    }
    let rocket = rocket::custom(rocket::Config::debug_default())
        .manage(std::sync::Mutex::new(Some(error)))
        .mount("/", rocket::routes![fail]);
    let client = rocket::local::asynchronous::Client::untracked(rocket)
        .await
        .expect("client");
    let r = client.get("/").dispatch().await;
    (r.status(), r.into_string().await.unwrap_or_default())
}

/// What a page for `err` must say: the status, the title, the wiki's words
/// and the help section.
async fn assert_page(err: ApiError, code: &str, title: &str, help: &str) {
    let error = Error::from(err);
    assert_eq!(error.code(), code);
    assert_eq!(error.title(), title);
    assert_eq!(error.status(), Status::Forbidden);
    let help_url = error.help_url().expect("a help link");
    assert!(help_url.contains("Help:OAuth/Errors"), "{help_url}");
    assert!(help_url.ends_with(help), "{help_url}");
    let message = error.to_string();
    let (status, page) = page_of(error).await;
    assert_eq!(status, Status::Forbidden);
    assert!(page.contains(title), "{page}");
    // Escaped as the page escapes attribute values.
    assert!(page.contains(&help_url.replace('/', "&#x2F;")), "{page}");
    assert!(page.contains("What this means"), "{page}");
    let first_words: String = message.chars().skip(1).take(30).collect();
    assert!(page.contains(&first_words), "{page}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_real_world_refusal_gets_its_type_and_page() {
    let wiki = start_wiki().await;
    let consumer = wiki.default_consumer();

    // A blocked user editing: `blocked`, with the wiki's blockinfo.
    let blocked = client_of(&wiki, "Blocked", &consumer);
    let err = blocked
        .post_with_token(
            "csrf",
            &[
                ("action", "edit"),
                ("title", "Sandbox"),
                ("appendtext", "x"),
            ],
        )
        .await
        .expect_err("blocked");
    assert!(
        matches!(&err, ApiError::Blocked { code, raw, .. } if code == "blocked" && raw["blockinfo"]["blockedby"].is_string()),
        "{err:?}"
    );
    assert!(!err.is_authorization(), "a block is no reason to sign out");
    assert_page(err, "blocked", "You are blocked on the wiki", "#E007").await;

    // With $wgBlockDisablesLogin: every request of the blocked user.
    wiki.set_block_disables_login(true);
    let err = blocked.get(USERINFO).await.expect_err("blocked user");
    assert!(
        matches!(&err, ApiError::Blocked { code, .. } if code == "mwoauth-invalid-authorization-blocked-user"),
        "{err:?}"
    );
    wiki.set_block_disables_login(false);

    // No local account on this wiki (the global account not attached).
    let alice = client_of(&wiki, "Alice", &consumer);
    assert!(wiki.set_detached("Alice", true));
    let err = alice.get(USERINFO).await.expect_err("not attached");
    assert!(
        matches!(&err, ApiError::NotAttached { code, .. } if code == "mwoauth-invalid-authorization-invalid-user"),
        "{err:?}"
    );
    assert!(!err.is_authorization());
    assert_page(
        err,
        "not-attached",
        "Your account is not on that wiki yet",
        "#E008",
    )
    .await;
    assert!(wiki.set_detached("Alice", false));
    alice.get(USERINFO).await.expect("attached again");

    // The app's consumer disabled after approval.
    assert!(wiki.set_consumer_disabled(&consumer.key, true));
    let err = alice.get(USERINFO).await.expect_err("disabled consumer");
    assert!(
        matches!(&err, ApiError::AppNotApproved { code, info } if code == "mwoauth-invalid-authorization-not-approved" && info.contains(&consumer.name)),
        "{err:?}"
    );
    assert_page(
        err,
        "app-not-approved",
        "This app is not approved on the wiki",
        "#E005",
    )
    .await;
    assert!(wiki.set_consumer_disabled(&consumer.key, false));

    // A missing grant: an app with `basic` only cannot edit.
    let reader = wiki.register_consumer(ConsumerSpec {
        name: "Reader".into(),
        grants: vec!["basic".into()],
        ..ConsumerSpec::default()
    });
    let err = client_of(&wiki, "Alice", &reader)
        .post_with_token(
            "csrf",
            &[
                ("action", "edit"),
                ("title", "Sandbox"),
                ("appendtext", "x"),
            ],
        )
        .await
        .expect_err("no editpage grant");
    assert!(
        matches!(&err, ApiError::PermissionDenied { code, .. } if code == "permissiondenied"),
        "{err:?}"
    );
    assert_page(
        err,
        "permission-denied",
        "The wiki did not allow this",
        "Help:OAuth/Errors",
    )
    .await;
    wiki.shutdown().await;
}

#[get("/needs-edit")]
fn needs_edit(user: RequireGrant<EditPage>) -> String {
    format!("{} may edit", user.name)
}

#[get("/checks-edit")]
fn checks_edit(user: rocket_mediawiki_oauth::MwUser) -> Result<String, Error> {
    rocket_mediawiki_oauth::require_grant(&user, "editpage")?;
    Ok(format!("{} may edit", user.name))
}

/// An app whose consumer has `grants`, with the two routes above.
async fn app_with_grants(wiki: &DevWiki, grants: &[&str]) -> App {
    let port = free_port();
    let consumer = wiki.register_consumer(ConsumerSpec {
        name: format!("Grants {grants:?}"),
        callback: format!("http://127.0.0.1:{port}/oauth-callback"),
        grants: grants.iter().map(|g| g.to_string()).collect(),
        ..ConsumerSpec::default()
    });
    let rocket = app_rocket(figment_with(wiki, &consumer, port, Proto::OAuth1))
        .mount("/", rocket::routes![needs_edit, checks_edit]);
    launch(rocket).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_route_requiring_editpage_refuses_a_user_without_it() {
    let wiki = start_wiki().await;

    // Anonymous: sent to log in, as with LoginRequired.
    let reader = app_with_grants(&wiki, &["basic"]).await;
    let r = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
        .get(reader.at("/needs-edit"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 303);
    assert!(r.headers()["location"]
        .to_str()
        .unwrap()
        .starts_with("/login?next="));

    // Signed in through an app Alice gave only `basic`: a 403 page naming the grant.
    let browser = browser();
    let (status, _) = login_as(&wiki, &browser, &reader, "Alice", "/").await;
    assert_eq!(status, 200);
    for path in ["/needs-edit", "/checks-edit"] {
        let (status, page) = text(&browser, &reader.at(path)).await;
        assert_eq!(status, 403, "{path}: {page}");
        assert!(page.contains("This app needs more permission"), "{page}");
        assert!(page.contains("&quot;editpage&quot; grant"), "{page}");
        assert!(page.contains("Log in again"), "{page}");
        assert!(page.contains("Special:OAuthManageMyGrants"), "{page}");
        assert!(page.contains("data-status=\"403\""), "{page}");
    }
    let r = browser
        .get(reader.at("/needs-edit"))
        .header("Accept", "application/json")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 403);

    // Through an app Alice gave `editpage`: the page.
    let editor = app_with_grants(&wiki, &["basic", "editpage"]).await;
    let browser = common::browser();
    login_as(&wiki, &browser, &editor, "Alice", "/").await;
    for path in ["/needs-edit", "/checks-edit"] {
        let (status, page) = text(&browser, &editor.at(path)).await;
        assert_eq!((status, page.as_str()), (200, "Alice may edit"), "{path}");
    }
    wiki.shutdown().await;
}
