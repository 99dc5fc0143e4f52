//! The MediaWiki API client (`ApiClient`) against a local wiki (DevWiki)
//! over real HTTP on loopback: every situation the client must handle, as a
//! user of the client sees it.

use std::sync::{Mutex, OnceLock};
use std::time::{Duration, Instant};

use devwiki::{ConsumerSpec, DevWiki, DevWikiConfig};
use futures_util::TryStreamExt;
use rocket_mediawiki_oauth::{ApiClient, ApiError, ApiOptions, OwnerOnly};
use serde_json::Value;

const UA: &str = "ApiClientTest/1.0 (https://example.org/apitest; test@example.org)";

/// A 4×3 RGBA PNG.
const PNG: &[u8] = &[
    0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0x00, 0x00, 0x00, 0x0d, 0x49, 0x48, 0x44, 0x52,
    0x00, 0x00, 0x00, 0x04, 0x00, 0x00, 0x00, 0x03, 0x08, 0x06, 0x00, 0x00, 0x00, 0xb4, 0xf4, 0xae,
    0xc6, 0x00, 0x00, 0x00, 0x2a, 0x49, 0x44, 0x41, 0x54, 0x78, 0x9c, 0x15, 0xc8, 0x31, 0x01, 0x00,
    0x20, 0x10, 0xc4, 0xb0, 0x0a, 0x43, 0xc4, 0xcb, 0x39, 0x39, 0x88, 0x38, 0x11, 0xb8, 0x82, 0x32,
    0x64, 0x09, 0x70, 0xee, 0x52, 0x54, 0xc1, 0x18, 0x8a, 0x3a, 0x3f, 0xb6, 0xa1, 0xa8, 0x7a, 0xa4,
    0x69, 0x1d, 0x4d, 0x19, 0x31, 0xc2, 0x4a, 0x00, 0x00, 0x00, 0x00, 0x49, 0x45, 0x4e, 0x44, 0xae,
    0x42, 0x60, 0x82,
];

// ---------------------------------------------------------------- helpers --

async fn start() -> DevWiki {
    // Before any Rocket in this process takes the global logger.
    captured();
    DevWiki::start(DevWikiConfig::default())
        .await
        .expect("DevWiki starts")
}

/// An owner-only OAuth 1.0a consumer's four tokens.
fn oauth1(key: &str, secret: &str, token: &str, token_secret: &str) -> OwnerOnly {
    OwnerOnly::OAuth1 {
        consumer_key: key.into(),
        consumer_secret: secret.into(),
        access_token: token.into(),
        access_secret: token_secret.into(),
    }
}

/// Waits of at most 200 ms, whatever `Retry-After` says: keeps the suite fast.
fn fast() -> ApiOptions {
    ApiOptions {
        max_delay: Duration::from_millis(200),
        ..ApiOptions::default()
    }
}

/// Alice's client through the default consumer (`basic`, `editpage`,
/// `highvolume`, `createeditmovepage`).
fn alice(wiki: &DevWiki) -> ApiClient {
    let c = wiki.default_consumer();
    let (at, ats) = wiki.grant("Alice", &c.key).expect("grant");
    ApiClient::owner(&wiki.api_url(), UA, oauth1(&c.key, &c.secret, &at, &ats))
        .expect("client")
        .with_options(fast())
}

/// Alice's client through a consumer that may also upload files (grant
/// `uploadfile`: new files, and overwriting files of her own only where
/// the wiki gives her `reupload-own`, which MediaWiki's default does not).
fn alice_uploader(wiki: &DevWiki) -> ApiClient {
    alice_with_grants(wiki, "Uploader", &["uploadfile"])
}

/// Alice's client through a consumer with the default grants plus `extra`.
fn alice_with_grants(wiki: &DevWiki, name: &str, extra: &[&str]) -> ApiClient {
    let mut grants: Vec<String> = ["basic", "editpage", "createeditmovepage", "highvolume"]
        .map(String::from)
        .to_vec();
    grants.extend(extra.iter().map(|g| g.to_string()));
    let c = wiki.register_consumer(ConsumerSpec {
        name: name.into(),
        grants,
        ..ConsumerSpec::default()
    });
    let (at, ats) = wiki.grant("Alice", &c.key).expect("grant");
    ApiClient::owner(&wiki.api_url(), UA, oauth1(&c.key, &c.secret, &at, &ats))
        .expect("client")
        .with_options(fast())
}

async fn edit(api: &ApiClient, title: &str, text: &str) -> Result<Value, ApiError> {
    api.post_with_token(
        "csrf",
        &[
            ("action", "edit"),
            ("title", title),
            ("text", text),
            ("summary", "api_client test"),
        ],
    )
    .await
}

fn http() -> reqwest::Client {
    reqwest::Client::builder()
        .timeout(Duration::from_secs(20))
        .build()
        .expect("reqwest client")
}

fn sha1_hex(bytes: &[u8]) -> String {
    use sha1::Digest;
    sha1::Sha1::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

// ------------------------------------------------ defaults of the client --

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn formatversion_2_by_default_and_opt_out_gives_fv1() {
    let wiki = start().await;
    let api = alice(&wiki);
    let q = [
        ("action", "query"),
        ("prop", "info"),
        ("titles", "Main Page|No such page"),
    ];

    let v2 = api.get(&q).await.expect("fv2 answer");
    assert_eq!(v2["batchcomplete"], Value::Bool(true), "{v2}");
    let pages = v2["query"]["pages"].as_array().expect("fv2 pages: a list");
    let missing = pages
        .iter()
        .find(|p| p["title"] == "No such page")
        .expect("missing page");
    assert_eq!(missing["missing"], Value::Bool(true), "{v2}");
    let seen = wiki.last_api_request().expect("recorded");
    assert_eq!(seen.param("formatversion"), Some("2"));
    assert_eq!(seen.param("format"), Some("json"));

    let fv1 = api.clone().with_options(ApiOptions {
        formatversion2: false,
        ..fast()
    });
    let v1 = fv1.get(&q).await.expect("fv1 answer");
    assert_eq!(v1["batchcomplete"], "", "{v1}");
    let pages = v1["query"]["pages"]
        .as_object()
        .expect("fv1 pages: an object");
    let (key, missing) = pages
        .iter()
        .find(|(_, p)| p["title"] == "No such page")
        .expect("missing page");
    assert!(key.starts_with('-'), "fake negative key: {key}");
    assert_eq!(missing["missing"], "", "{v1}");
    assert!(pages.contains_key("1") || pages.values().any(|p| p["title"] == "Main Page"));
    assert_eq!(
        wiki.last_api_request()
            .expect("recorded")
            .param("formatversion"),
        None
    );
    wiki.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn assert_user_is_sent_and_an_unknown_token_is_an_authorization_error() {
    let wiki = start().await;
    let api = alice(&wiki);
    let me = api
        .get(&[("action", "query"), ("meta", "userinfo")])
        .await
        .expect("userinfo");
    assert_eq!(me["query"]["userinfo"]["name"], "Alice");
    assert_eq!(
        wiki.last_api_request().expect("recorded").param("assert"),
        Some("user")
    );

    // A token the wiki does not know: an error, never an anonymous answer.
    let c = wiki.default_consumer();
    let stranger = ApiClient::owner(
        &wiki.api_url(),
        UA,
        oauth1(
            &c.key,
            &c.secret,
            "0123456789abcdef0123456789abcdef",
            "0123456789abcdef0123456789abcdef01234567",
        ),
    )
    .expect("client");
    let err = stranger
        .get(&[("action", "query"), ("meta", "userinfo")])
        .await
        .expect_err("unknown token");
    assert!(err.is_authorization(), "{err:?}");
    assert!(
        matches!(&err, ApiError::Authorization { code, info }
            if code == "mwoauth-invalid-authorization" && info.contains("No approved grant")),
        "{err:?}"
    );
    wiki.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn get_for_reads_post_for_writes() {
    let wiki = start().await;
    let api = alice(&wiki);

    api.request(&[("action", "query"), ("meta", "siteinfo")])
        .await
        .expect("read");
    let seen = wiki.last_api_request().expect("recorded");
    assert_eq!(seen.method, "GET");
    assert_eq!(seen.param("maxlag"), None, "reads carry no maxlag");

    // action=purge is POST-only on the wiki: success proves the POST.
    let purged = api
        .request(&[("action", "purge"), ("titles", "Main Page")])
        .await
        .expect("purge through request()");
    assert_eq!(purged["purge"][0]["title"], "Main Page", "{purged}");
    assert_eq!(purged["purge"][0]["purged"], Value::Bool(true), "{purged}");
    let seen = wiki.last_api_request().expect("recorded");
    assert_eq!(seen.method, "POST");
    assert_eq!(
        seen.content_type.as_deref(),
        Some("application/x-www-form-urlencoded")
    );
    assert_eq!(seen.param("maxlag"), Some("5"), "writes carry maxlag=5");

    // The wiki refuses a purge by GET: it is the client that chose POST.
    let err = api
        .get(&[("action", "purge"), ("titles", "Main Page")])
        .await
        .expect_err("purge by GET");
    assert_eq!(err.code(), Some("mustbeposted"), "{err:?}");
    wiki.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_very_long_read_goes_as_post_and_works() {
    let wiki = start().await;
    let api = alice(&wiki);
    let titles: Vec<String> = (1..=300)
        .map(|i| {
            if i <= 30 {
                format!("Test page {i}")
            } else {
                format!("A page that does not exist number {i}")
            }
        })
        .collect();
    let joined = titles.join("|");
    assert!(joined.len() > 2000 /* the longest GET URL the client sends */);
    let answer = api
        .get(&[("action", "query"), ("prop", "info"), ("titles", &joined)])
        .await
        .expect("long read");
    let pages = answer["query"]["pages"].as_array().expect("pages");
    assert_eq!(pages.len(), 300);
    assert_eq!(
        pages
            .iter()
            .filter(|p| p["missing"] == Value::Bool(true))
            .count(),
        270
    );
    let seen = wiki.last_api_request().expect("recorded");
    assert_eq!(seen.method, "POST");
    assert_eq!(seen.param("titles"), Some(joined.as_str()));
    wiki.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_configured_user_agent_arrives() {
    let wiki = start().await;
    let api = alice(&wiki);
    api.get(&[("action", "query"), ("meta", "userinfo")])
        .await
        .expect("userinfo");
    let agent = wiki.last_user_agent().expect("a User-Agent");
    assert!(agent.starts_with(UA), "{agent}");
    assert!(
        agent.ends_with(&format!(
            "rocket_mediawiki_oauth/{}",
            env!("CARGO_PKG_VERSION")
        )),
        "{agent}"
    );
    wiki.shutdown().await;
}

// ----------------------------------------------------------------- tokens --

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn csrf_token_is_fetched_once_and_cached() {
    let wiki = start().await;
    let api = alice(&wiki);
    let before = wiki.api_requests("query+tokens");
    let first = edit(&api, "Sandbox", "First edit").await.expect("edit 1");
    assert_eq!(first["edit"]["result"], "Success", "{first}");
    let second = edit(&api, "Sandbox", "Second edit").await.expect("edit 2");
    assert_eq!(second["edit"]["result"], "Success", "{second}");
    assert_eq!(wiki.api_requests("query+tokens") - before, 1);
    assert_eq!(wiki.api_requests("edit"), 2);
    assert_eq!(wiki.page_text("Sandbox").as_deref(), Some("Second edit"));
    wiki.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn badtoken_after_invalidate_tokens_is_retried_with_a_fresh_token() {
    let wiki = start().await;
    let api = alice(&wiki);
    edit(&api, "Sandbox", "Before the reset")
        .await
        .expect("edit 1");
    wiki.invalidate_tokens();
    let tokens = wiki.api_requests("query+tokens");
    let edits = wiki.api_requests("edit");
    let answer = edit(&api, "Sandbox", "After the reset")
        .await
        .expect("edit retried with a fresh token");
    assert_eq!(answer["edit"]["result"], "Success", "{answer}");
    assert_eq!(
        wiki.api_requests("query+tokens") - tokens,
        1,
        "one fresh token"
    );
    assert_eq!(
        wiki.api_requests("edit") - edits,
        2,
        "badtoken, then success"
    );
    assert_eq!(
        wiki.page_text("Sandbox").as_deref(),
        Some("After the reset")
    );
    wiki.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_badtoken_that_persists_is_a_bad_token_error() {
    let wiki = start().await;
    let api = alice(&wiki);
    let before = wiki.page_text("Sandbox");
    // A watch token is not a CSRF token: the edit module never accepts it,
    // however fresh it is.
    let err = api
        .post_with_token(
            "watch",
            &[("action", "edit"), ("title", "Sandbox"), ("text", "never")],
        )
        .await
        .expect_err("badtoken twice");
    assert!(
        matches!(&err, ApiError::BadToken { info } if info == "Invalid CSRF token."),
        "{err:?}"
    );
    assert_eq!(err.code(), Some("badtoken"));
    assert_eq!(wiki.api_requests("edit"), 2, "tried with two tokens");
    assert_eq!(wiki.api_requests("query+tokens"), 2, "the second one fresh");
    assert_eq!(wiki.page_text("Sandbox"), before);
    wiki.shutdown().await;
}

// ----------------------------------------------------------- continuation --

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn continuation_walks_every_contribution_and_max_batches_stops_early() {
    let wiki = start().await;
    let api = alice(&wiki);
    let params = [
        ("action", "query"),
        ("list", "usercontribs"),
        ("ucuser", "Alice"),
        ("uclimit", "500"),
    ];
    let batches: Vec<Value> = api
        .continued(&params, 100)
        .try_collect()
        .await
        .expect("all batches");
    let count: usize = batches
        .iter()
        .map(|b| b["query"]["usercontribs"].as_array().map_or(0, Vec::len))
        .sum();
    let expected = wiki.edit_count("Alice").expect("Alice") as usize;
    assert!(expected > 1000, "{expected}");
    assert_eq!(count, expected);
    assert_eq!(batches.len(), expected.div_ceil(500));
    assert!(batches.last().is_some_and(|b| b.get("continue").is_none()));
    let mut revids: Vec<i64> = batches
        .iter()
        .flat_map(|b| {
            b["query"]["usercontribs"]
                .as_array()
                .cloned()
                .unwrap_or_default()
        })
        .filter_map(|c| c["revid"].as_i64())
        .collect();
    revids.sort_unstable();
    revids.dedup();
    assert_eq!(revids.len(), expected, "no contribution twice");

    let capped: Vec<Value> = api
        .continued(&params, 2)
        .try_collect()
        .await
        .expect("two batches");
    assert_eq!(capped.len(), 2);
    assert!(capped[1].get("continue").is_some(), "more to come");
    wiki.shutdown().await;
}

// ------------------------------------------ maxlag, read-only, 429, nonce --

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn maxlag_that_clears_after_two_retries() {
    let wiki = start().await;
    let api = alice(&wiki);
    api.token("csrf").await.expect("token");
    wiki.set_maxlag(Some(7), Some(2));
    let answer = edit(&api, "Sandbox", "Lag is gone").await.expect("edit");
    assert_eq!(answer["edit"]["result"], "Success", "{answer}");
    assert_eq!(
        wiki.api_requests("edit"),
        3,
        "two maxlag answers, then success"
    );
    assert_eq!(wiki.page_text("Sandbox").as_deref(), Some("Lag is gone"));
    wiki.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn maxlag_that_never_clears_gives_up_with_the_typed_error() {
    let wiki = start().await;
    let api = alice(&wiki);
    api.token("csrf").await.expect("token");
    let before = wiki.page_text("Sandbox");
    wiki.set_maxlag(Some(7), None);
    let started = Instant::now();
    let err = edit(&api, "Sandbox", "never saved")
        .await
        .expect_err("lagged");
    assert!(
        matches!(err, ApiError::Maxlag { lag, retry_after: Some(r) }
            if lag == 7.0 && r == Duration::from_secs(5)),
        "{err:?}"
    );
    assert_eq!(
        wiki.api_requests("edit"),
        u64::from(ApiOptions::default().max_attempts)
    );
    assert!(
        started.elapsed() < Duration::from_secs(4),
        "max_delay honoured"
    );
    assert_eq!(wiki.page_text("Sandbox"), before, "the edit was not made");
    // Reads carry no maxlag, so they still work.
    api.get(&[("action", "query"), ("meta", "userinfo")])
        .await
        .expect("read while lagged");
    wiki.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn read_only_is_retried_then_reported_with_its_reason() {
    let wiki = start().await;
    let api = alice(&wiki);
    api.token("csrf").await.expect("token");

    wiki.set_readonly(Some("Switching data centres"), Some(1));
    let answer = edit(&api, "Sandbox", "After read-only")
        .await
        .expect("retried");
    assert_eq!(answer["edit"]["result"], "Success", "{answer}");
    assert_eq!(wiki.api_requests("edit"), 2);

    wiki.set_readonly(Some("Switching data centres"), None);
    let err = edit(&api, "Sandbox", "never saved")
        .await
        .expect_err("read-only");
    assert!(
        matches!(&err, ApiError::ReadOnly { info } if info == "Switching data centres"),
        "{err:?}"
    );
    assert_eq!(err.code(), Some("readonly"));
    assert_eq!(
        wiki.api_requests("edit"),
        2 + u64::from(ApiOptions::default().max_attempts)
    );
    assert_eq!(
        wiki.page_text("Sandbox").as_deref(),
        Some("After read-only")
    );

    // The raw answer is the real one.
    let raw = http()
        .post(wiki.api_url())
        .form(&[
            ("action", "purge"),
            ("titles", "Main Page"),
            ("format", "json"),
            ("formatversion", "2"),
        ])
        .send()
        .await
        .expect("raw purge");
    assert_eq!(raw.status(), 200);
    assert_eq!(raw.headers()["mediawiki-api-error"], "readonly");
    let body: Value = raw.json().await.expect("json");
    assert_eq!(body["error"]["code"], "readonly");
    assert_eq!(
        body["error"]["info"],
        "The wiki is currently in read-only mode."
    );
    assert_eq!(body["error"]["readonlyreason"], "Switching data centres");
    assert!(body["error"]["docref"].is_string(), "{body}");

    wiki.set_readonly(None, None);
    edit(&api, "Sandbox", "Writable again").await.expect("edit");
    wiki.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn http_429_is_retried_then_reported_as_rate_limited() {
    let wiki = start().await;
    let api = alice(&wiki);
    let q = [("action", "query"), ("meta", "userinfo")];

    // What the edge answers.
    wiki.set_rate_limited(Some(1), 3);
    let raw = http().get(wiki.api_url()).send().await.expect("raw");
    assert_eq!(raw.status(), 429);
    assert_eq!(raw.headers()["retry-after"], "3");
    assert!(raw.headers()["content-type"]
        .to_str()
        .is_ok_and(|t| t.starts_with("text/html")));
    assert!(raw.text().await.expect("body").contains("429"));

    wiki.set_rate_limited(Some(2), 1);
    let all = wiki.api_requests("*");
    let me = api.get(&q).await.expect("retried past two 429s");
    assert_eq!(me["query"]["userinfo"]["name"], "Alice");
    assert_eq!(wiki.api_requests("*") - all, 3);

    wiki.set_rate_limited(None, 1);
    let all = wiki.api_requests("*");
    let err = api.get(&q).await.expect_err("always 429");
    assert!(
        matches!(err, ApiError::RateLimited { retry_after: Some(r) } if r == Duration::from_secs(1)),
        "{err:?}"
    );
    assert_eq!(
        wiki.api_requests("*") - all,
        u64::from(ApiOptions::default().max_attempts)
    );
    wiki.set_rate_limited(Some(0), 0);
    api.get(&q).await.expect("no longer limited");
    wiki.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn nonce_already_used_is_retried_once_with_a_fresh_nonce() {
    let wiki = start().await;
    let api = alice(&wiki);
    let q = [("action", "query"), ("meta", "userinfo")];

    wiki.reject_next_nonce();
    let all = wiki.api_requests("*");
    let me = api.get(&q).await.expect("retried");
    assert_eq!(me["query"]["userinfo"]["name"], "Alice");
    assert_eq!(wiki.api_requests("*") - all, 2);

    // Twice in a row: retried once only, then the error.
    wiki.reject_next_nonce();
    wiki.reject_next_nonce();
    let all = wiki.api_requests("*");
    let err = api.get(&q).await.expect_err("rejected twice");
    assert!(
        matches!(&err, ApiError::Rejected { code, info }
            if code == "mwoauth-invalid-authorization" && info.contains("Nonce already used")),
        "{err:?}"
    );
    assert_eq!(wiki.api_requests("*") - all, 2);
    api.get(&q).await.expect("fine afterwards");
    wiki.shutdown().await;
}

// ----------------------------------------------------------------- upload --

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn upload_then_read_the_bytes_back() {
    let wiki = start().await;
    let api = alice_uploader(&wiki);
    let answer = api
        .upload(
            "Test.png",
            PNG.to_vec(),
            &[
                ("comment", "A test image"),
                ("text", "== Summary ==\nA test image"),
            ],
        )
        .await
        .expect("upload");
    let up = &answer["upload"];
    assert_eq!(up["result"], "Success", "{answer}");
    assert_eq!(up["filename"], "Test.png");
    let info = &up["imageinfo"];
    assert_eq!(info["size"], PNG.len());
    assert_eq!(
        (info["width"].as_i64(), info["height"].as_i64()),
        (Some(4), Some(3))
    );
    assert_eq!(info["sha1"], sha1_hex(PNG));
    assert_eq!(info["user"], "Alice");
    assert_eq!(info["mime"], "image/png");
    assert_eq!(info["comment"], "A test image");
    assert!(info["timestamp"].is_string(), "{answer}");
    assert!(info["descriptionurl"]
        .as_str()
        .is_some_and(|u| u.ends_with("/wiki/File:Test.png")));

    // The multipart request: unsigned body, every field in it.
    let seen = wiki.last_api_request().expect("recorded");
    assert_eq!(seen.method, "POST");
    assert!(seen
        .content_type
        .as_deref()
        .is_some_and(|t| t.starts_with("multipart/form-data")));
    assert_eq!(seen.param("maxlag"), Some("5"));
    assert_eq!(seen.param("assert"), Some("user"));
    assert_eq!(seen.param("formatversion"), Some("2"));

    // Served back at the URL given.
    let url = info["url"].as_str().expect("url");
    assert!(url.starts_with(&wiki.server()), "{url}");
    let got = http().get(url).send().await.expect("GET file");
    assert_eq!(got.status(), 200);
    assert_eq!(got.headers()["content-type"], "image/png");
    assert_eq!(got.bytes().await.expect("bytes").as_ref(), PNG);
    assert_eq!(wiki.file("Test.png").as_deref(), Some(PNG));
    assert_eq!(wiki.file("File:Test.png").as_deref(), Some(PNG));
    assert_eq!(
        wiki.page_text("File:Test.png").as_deref(),
        Some("== Summary ==\nA test image")
    );

    // prop=imageinfo finds it.
    let q = api
        .get(&[
            ("action", "query"),
            ("prop", "imageinfo"),
            ("iiprop", "url|size|sha1"),
            ("titles", "File:Test.png|File:Nope.png"),
        ])
        .await
        .expect("imageinfo");
    let pages = q["query"]["pages"].as_array().expect("pages");
    let page = pages
        .iter()
        .find(|p| p["title"] == "File:Test.png")
        .expect("the file page");
    assert_eq!(page["imagerepository"], "local");
    let ii = &page["imageinfo"][0];
    assert_eq!(ii["url"], url);
    assert_eq!(ii["size"], PNG.len());
    assert_eq!(ii["sha1"], sha1_hex(PNG));
    let nope = pages
        .iter()
        .find(|p| p["title"] == "File:Nope.png")
        .expect("missing page");
    assert_eq!(nope["missing"], Value::Bool(true));
    assert_eq!(nope["imagerepository"], "");

    // Same name again: a warning (not an error), then overwritten on
    // request, with a grant that allows overwriting (`reupload`).
    let api = alice_with_grants(&wiki, "Re-uploader", &["uploadeditmovefile"]);
    let again = api
        .upload("Test.png", PNG.to_vec(), &[("comment", "again")])
        .await
        .expect("warning answer");
    assert_eq!(again["upload"]["result"], "Warning", "{again}");
    assert_eq!(again["upload"]["warnings"]["exists"], "Test.png");
    assert!(again["upload"]["warnings"]["nochange"]["timestamp"].is_string());
    assert!(again["upload"]["filekey"].is_string(), "{again}");
    let mut other = PNG.to_vec();
    other.extend_from_slice(b"trailing bytes");
    let forced = api
        .upload("Test.png", other.clone(), &[("ignorewarnings", "1")])
        .await
        .expect("overwrite");
    assert_eq!(forced["upload"]["result"], "Success", "{forced}");
    assert_eq!(wiki.file("Test.png"), Some(other));
    wiki.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn binary_content_survives_the_multipart_round_trip() {
    let wiki = start().await;
    let api = alice_uploader(&wiki);
    // Bytes that look like multipart syntax, CRLFs, NULs, every byte value.
    let mut noise = PNG.to_vec();
    let mut x: u32 = 0x1234_5678;
    for i in 0..300_000u32 {
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        noise.push((x >> 24) as u8);
        if i % 4096 == 0 {
            noise.extend_from_slice(b"\r\n--\r\n\r\n--boundary--\r\nContent-Disposition: form-data; name=\"file\"\r\n\r\n");
        }
    }
    let answer = api
        .upload("Noise.png", noise.clone(), &[("comment", "noise")])
        .await
        .expect("upload");
    assert_eq!(answer["upload"]["result"], "Success", "{answer}");
    assert_eq!(answer["upload"]["imageinfo"]["sha1"], sha1_hex(&noise));
    assert_eq!(wiki.file("Noise.png"), Some(noise.clone()));
    let url = answer["upload"]["imageinfo"]["url"].as_str().expect("url");
    let got = http().get(url).send().await.expect("GET");
    assert_eq!(got.bytes().await.expect("bytes").as_ref(), noise.as_slice());
    wiki.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn upload_after_invalidate_tokens_succeeds_on_retry() {
    let wiki = start().await;
    let api = alice_uploader(&wiki);
    api.upload("First.png", PNG.to_vec(), &[("comment", "one")])
        .await
        .expect("first upload");
    wiki.invalidate_tokens();
    let tokens = wiki.api_requests("query+tokens");
    let answer = api
        .upload(
            "Second.png",
            PNG.to_vec(),
            &[("comment", "two"), ("ignorewarnings", "1")],
        )
        .await
        .expect("retried with a fresh token");
    assert_eq!(answer["upload"]["result"], "Success", "{answer}");
    assert_eq!(wiki.api_requests("query+tokens") - tokens, 1);
    assert_eq!(wiki.api_requests("upload"), 3, "ok, badtoken, ok");
    assert_eq!(wiki.file("Second.png").as_deref(), Some(PNG));
    wiki.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn upload_is_retried_on_read_only_and_429_too() {
    let wiki = start().await;
    let api = alice_uploader(&wiki);
    api.token("csrf").await.expect("token");
    wiki.set_readonly(Some("Maintenance"), Some(1));
    wiki.set_rate_limited(Some(1), 1);
    let answer = api
        .upload("Patient.png", PNG.to_vec(), &[("comment", "patient")])
        .await
        .expect("upload after waiting");
    assert_eq!(answer["upload"]["result"], "Success", "{answer}");
    assert_eq!(wiki.file("Patient.png").as_deref(), Some(PNG));
    wiki.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn upload_refusals_in_the_real_shapes() {
    let wiki = start().await;
    // Without the uploadfile grant.
    let plain = alice(&wiki);
    let err = plain
        .upload("Denied.png", PNG.to_vec(), &[])
        .await
        .expect_err("no grant");
    assert!(
        matches!(&err, ApiError::PermissionDenied { code, .. } if code == "permissiondenied"),
        "{err:?}"
    );
    assert_eq!(wiki.file("Denied.png"), None);

    let api = alice_uploader(&wiki);
    // Overwriting needs `reupload`, which the uploadfile grant lacks.
    api.upload("Mine.png", PNG.to_vec(), &[])
        .await
        .expect("upload");
    let err = api
        .upload("Mine.png", PNG.to_vec(), &[("ignorewarnings", "1")])
        .await
        .expect_err("overwrite");
    assert_eq!(err.code(), Some("fileexists-forbidden"), "{err:?}");
    // Upload by URL is disabled.
    let err = api
        .post_with_token(
            "csrf",
            &[
                ("action", "upload"),
                ("filename", "Remote.png"),
                ("url", "https://example.org/remote.png"),
            ],
        )
        .await
        .expect_err("by url");
    assert_eq!(err.code(), Some("copyuploaddisabled"), "{err:?}");
    // A file type the wiki does not take.
    let err = api
        .upload("Notes.txt", b"hello".to_vec(), &[])
        .await
        .expect_err("txt");
    assert_eq!(err.code(), Some("filetype-banned"), "{err:?}");
    // An empty file.
    let err = api
        .upload("Empty.png", Vec::new(), &[])
        .await
        .expect_err("empty");
    assert_eq!(err.code(), Some("empty-file"), "{err:?}");
    // No file part at all (a form POST).
    let err = api
        .post_with_token("csrf", &[("action", "upload"), ("filename", "Nothing.png")])
        .await
        .expect_err("no file");
    assert_eq!(err.code(), Some("missingparam"), "{err:?}");
    // A malformed multipart body: an API error, never a crash.
    let raw = http()
        .post(wiki.api_url())
        .header("Content-Type", "multipart/form-data; boundary=\"xyz\"")
        .body("--xyz\r\nContent-Disposition: form-data; name=\"action\"\r\n\r\nupload\r\n--xyz\r\nContent-Disposition: form-dat")
        .send()
        .await
        .expect("raw");
    assert_eq!(raw.status(), 200);
    let body: Value = raw.json().await.expect("json");
    assert!(body["error"]["code"].is_string(), "{body}");
    wiki.shutdown().await;
}

// --------------------------------------------------------- authorization --

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_revoked_grant_is_an_authorization_error() {
    let wiki = start().await;
    let api = alice(&wiki);
    let q = [("action", "query"), ("meta", "userinfo")];
    api.get(&q).await.expect("works before");
    assert!(wiki.revoke("Alice", &wiki.default_consumer().key));
    let err = api.get(&q).await.expect_err("revoked");
    assert!(err.is_authorization(), "{err:?}");
    assert!(
        matches!(&err, ApiError::Authorization { code, .. } if code == "mwoauth-invalid-authorization"),
        "{err:?}"
    );
    let err = edit(&api, "Sandbox", "never").await.expect_err("revoked");
    assert!(err.is_authorization(), "{err:?}");
    wiki.shutdown().await;
}

// --------------------------------------------------------------- warnings --

struct Capture(Mutex<Vec<String>>);

impl log::Log for Capture {
    fn enabled(&self, m: &log::Metadata<'_>) -> bool {
        m.level() <= log::Level::Warn
    }
    fn log(&self, record: &log::Record<'_>) {
        if self.enabled(record.metadata()) {
            if let Ok(mut v) = self.0.lock() {
                v.push(record.args().to_string());
            }
        }
    }
    fn flush(&self) {}
}

fn captured() -> &'static Capture {
    static LOGGER: OnceLock<&'static Capture> = OnceLock::new();
    LOGGER.get_or_init(|| {
        let logger: &'static Capture = Box::leak(Box::new(Capture(Mutex::new(Vec::new()))));
        if log::set_logger(logger).is_ok() {
            log::set_max_level(log::LevelFilter::Warn);
        }
        logger
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn api_warnings_are_logged_not_dropped() {
    let logs = captured();
    let wiki = start().await;
    let api = alice(&wiki);
    let answer = api
        .get(&[
            ("action", "query"),
            ("meta", "userinfo"),
            ("frobnicate_xyzzy", "1"),
        ])
        .await
        .expect("answer with a warning");
    let text = answer["warnings"]["main"]["warnings"]
        .as_str()
        .expect("warning in the answer");
    assert!(text.contains("frobnicate_xyzzy"), "{answer}");
    let lines = logs.0.lock().expect("log lines").clone();
    assert!(
        lines
            .iter()
            .any(|l| l.contains("frobnicate_xyzzy") && l.contains(&wiki.api_url())),
        "{lines:?}"
    );
    wiki.shutdown().await;
}

// ------------------------------------------------- the HTTP test controls --

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_same_controls_over_http() {
    let wiki = start().await;
    let api = alice_uploader(&wiki);
    let c = http();
    let control = |path: &'static str, body: Value| {
        let req = c
            .post(format!("{}/devwiki/{path}", wiki.server()))
            .json(&body);
        async move {
            let r = req.send().await.expect("control");
            assert_eq!(r.status(), 200, "{path}");
            r.json::<Value>().await.expect("json")
        }
    };

    api.token("csrf").await.expect("token");
    assert_eq!(control("invalidate-tokens", Value::Null).await["ok"], true);
    let tokens = wiki.api_requests("query+tokens");
    edit(&api, "Sandbox", "Over HTTP").await.expect("edit");
    assert_eq!(wiki.api_requests("query+tokens") - tokens, 1);

    control(
        "readonly",
        serde_json::json!({"reason": "Over HTTP", "times": null}),
    )
    .await;
    let err = edit(&api, "Sandbox", "never").await.expect_err("readonly");
    assert!(
        matches!(&err, ApiError::ReadOnly { info } if info == "Over HTTP"),
        "{err:?}"
    );
    control("readonly", serde_json::json!({"reason": null})).await;

    control(
        "ratelimit",
        serde_json::json!({"times": 1, "retry_after": 1}),
    )
    .await;
    let all = wiki.api_requests("*");
    api.get(&[("action", "query"), ("meta", "userinfo")])
        .await
        .expect("after one 429");
    assert_eq!(wiki.api_requests("*") - all, 2);

    control("reject-nonce", serde_json::json!({"count": 2})).await;
    let err = api
        .get(&[("action", "query"), ("meta", "userinfo")])
        .await
        .expect_err("two rejected nonces");
    assert!(matches!(err, ApiError::Rejected { .. }), "{err:?}");

    api.upload("Http.png", PNG.to_vec(), &[])
        .await
        .expect("upload");
    let file = c
        .get(format!("{}/devwiki/file?name=File:Http.png", wiki.server()))
        .send()
        .await
        .expect("file");
    assert_eq!(file.status(), 200);
    assert_eq!(file.bytes().await.expect("bytes").as_ref(), PNG);

    let stats: Value = c
        .get(format!("{}/devwiki/stats", wiki.server()))
        .send()
        .await
        .expect("stats")
        .json()
        .await
        .expect("json");
    assert_eq!(stats["api_requests"]["upload"], 1, "{stats}");
    assert_eq!(stats["last_api_request"]["method"], "POST", "{stats}");
    assert!(stats["last_api_request"]["user_agent"]
        .as_str()
        .is_some_and(|u| u.starts_with(UA)));
    wiki.shutdown().await;
}

/// An api.php URL with a query: MediaWiki would check the signature over
/// that query as well, so it is refused with the bare URL shown, by
/// `owner` at once and by `at` at the first request; the bare URL works.
#[rocket::async_test]
async fn an_api_url_with_a_query_is_refused_not_signed_wrongly() {
    let wiki = start().await;
    let c = wiki.default_consumer();
    let (at, ats) = wiki.grant("Alice", &c.key).expect("grant");
    let with_query = format!("{}?uselang=de", wiki.api_url());
    let err = ApiClient::owner(&with_query, UA, oauth1(&c.key, &c.secret, &at, &ats))
        .expect_err("refused");
    assert!(
        matches!(&err, ApiError::InvalidRequest(m) if m.contains(&format!("as {},", wiki.api_url()))),
        "{err}"
    );
    let api = alice(&wiki);
    let err = api
        .at(&with_query)
        .get(&[("action", "query"), ("meta", "userinfo")])
        .await
        .unwrap_err();
    assert!(matches!(err, ApiError::InvalidRequest(_)), "{err}");
    let me = api
        .at(&wiki.api_url())
        .get(&[("action", "query"), ("meta", "userinfo")])
        .await
        .unwrap();
    assert_eq!(me["query"]["userinfo"]["name"], "Alice", "{me}");
    wiki.shutdown().await;
}
