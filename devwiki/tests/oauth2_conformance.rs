//! Conformance of DevWiki's OAuth 2.0 side with what a real MediaWiki 1.39 +
//! Extension:OAuth answers (shared/protocol/observed-1.39-oauth2.md and
//! observed-1.39-more.md), over real HTTP on loopback. The requests are made
//! by hand with reqwest, and PKCE is computed here with sha2 + base64: no
//! OAuth 2.0 client code is involved, so the server is checked on its own.

use std::collections::HashMap;

use base64::Engine as _;
use devwiki::{ConsumerSpec, DevWiki, DevWikiConfig, ProfileFlavour};
use serde_json::Value;
use sha2::{Digest, Sha256};

const REDIRECT: &str = "http://127.0.0.1:8000/oauth-callback";

// The exact bodies of the captures.
const OE1_WRONG_SECRET: &str = r#"{"error":"invalid_client","error_description":"Client authentication failed","message":"Client authentication failed"}"#;
const OE2_BOGUS_CODE: &str = r#"{"error":"invalid_request","error_description":"The request is missing a required parameter, includes an invalid parameter value, includes a parameter more than once, or is otherwise malformed.","hint":"Cannot decrypt the authorization code","message":"The request is missing a required parameter, includes an invalid parameter value, includes a parameter more than once, or is otherwise malformed."}"#;
const O3X_CODE_REUSED: &str = r#"{"error":"invalid_request","error_description":"The request is missing a required parameter, includes an invalid parameter value, includes a parameter more than once, or is otherwise malformed.","hint":"Authorization code has been revoked","message":"The request is missing a required parameter, includes an invalid parameter value, includes a parameter more than once, or is otherwise malformed."}"#;
const O6X_REFRESH_REUSED: &str = r#"{"error":"invalid_request","error_description":"The refresh token is invalid.","hint":"Token has been revoked","message":"The refresh token is invalid."}"#;
const OE3_TAMPERED: &str = r#"{"error":"access_denied","error_description":"The resource owner or authorization server denied the request.","hint":"Access token could not be verified","message":"The resource owner or authorization server denied the request."}"#;
const INVALID_ACCESS_TOKEN: &str =
    "The authorization headers in your request are not valid: Invalid access token";
const OE5_TEXT: &str = "Client authentication failed (e.g., unknown client, no client authentication included, or unsupported authentication method)";
const OE6_TEXT: &str =
    "The client is not authorized to request an authorization code using this method.";
const INVALID_REQUEST_TEXT: &str = "The request is missing a required parameter, includes an invalid parameter value, includes a parameter more than once, or is otherwise malformed.";

// ---------------------------------------------------------------- helpers --

fn http() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .timeout(std::time::Duration::from_secs(20))
        .user_agent("devwiki-oauth2-conformance/0.1 (tests)")
        .build()
        .unwrap()
}

async fn start(auto: Option<&str>) -> DevWiki {
    DevWiki::start(DevWikiConfig {
        auto_approve: auto.map(str::to_string),
        ..DevWikiConfig::default()
    })
    .await
    .unwrap()
}

/// A PKCE pair: a verifier and its S256 challenge, computed here.
fn pkce() -> (String, String) {
    use rand::Rng;
    let bytes: [u8; 32] = rand::thread_rng().gen();
    let verifier = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes);
    let challenge = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .encode(Sha256::digest(verifier.as_bytes()));
    (verifier, challenge)
}

fn enc(s: &str) -> String {
    let mut out = String::new();
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

fn qs(pairs: &[(&str, &str)]) -> String {
    pairs
        .iter()
        .map(|(k, v)| format!("{}={}", enc(k), enc(v)))
        .collect::<Vec<_>>()
        .join("&")
}

/// Decodes `application/x-www-form-urlencoded` text.
fn form_decode(s: &str) -> HashMap<String, String> {
    let dec = |v: &str| {
        let v = v.replace('+', " ");
        let bytes = v.as_bytes();
        let mut out = Vec::new();
        let mut i = 0;
        while i < bytes.len() {
            if bytes[i] == b'%' && i + 2 < bytes.len() {
                let h = std::str::from_utf8(&bytes[i + 1..i + 3]).unwrap();
                out.push(u8::from_str_radix(h, 16).unwrap());
                i += 3;
            } else {
                out.push(bytes[i]);
                i += 1;
            }
        }
        String::from_utf8(out).unwrap()
    };
    s.split('&')
        .filter(|p| !p.is_empty())
        .map(|p| {
            let (k, v) = p.split_once('=').unwrap_or((p, ""));
            (dec(k), dec(v))
        })
        .collect()
}

struct Got {
    status: u16,
    headers: reqwest::header::HeaderMap,
    body: String,
}

impl Got {
    fn json(&self) -> Value {
        serde_json::from_str(&self.body).unwrap_or_else(|e| panic!("{e}: {}", self.body))
    }
    fn header(&self, name: &str) -> Option<String> {
        self.headers
            .get(name)
            .map(|v| v.to_str().unwrap().to_string())
    }
    fn location(&self) -> String {
        self.header("location")
            .unwrap_or_else(|| panic!("no Location ({}): {}", self.status, self.body))
    }
}

async fn got(r: reqwest::Response) -> Got {
    Got {
        status: r.status().as_u16(),
        headers: r.headers().clone(),
        body: r.text().await.unwrap(),
    }
}

async fn authorize(wiki: &DevWiki, params: &[(&str, &str)]) -> Got {
    let url = format!(
        "{}/rest.php/oauth2/authorize?{}",
        wiki.base_url(),
        qs(params)
    );
    got(http().get(url).send().await.unwrap()).await
}

async fn token(wiki: &DevWiki, form: &[(&str, &str)]) -> Got {
    got(http()
        .post(format!("{}/rest.php/oauth2/access_token", wiki.base_url()))
        .header("Content-Type", "application/x-www-form-urlencoded")
        .body(qs(form))
        .send()
        .await
        .unwrap())
    .await
}

async fn resource(wiki: &DevWiki, kind: &str, bearer: Option<&str>) -> Got {
    let mut r = http().get(format!(
        "{}/rest.php/oauth2/resource/{kind}",
        wiki.base_url()
    ));
    if let Some(b) = bearer {
        r = r.header("Authorization", format!("Bearer {b}"));
    }
    got(r.send().await.unwrap()).await
}

async fn api(wiki: &DevWiki, bearer: &str, query: &[(&str, &str)]) -> Got {
    got(http()
        .get(format!("{}?{}", wiki.api_url(), qs(query)))
        .header("Authorization", format!("Bearer {bearer}"))
        .send()
        .await
        .unwrap())
    .await
}

async fn userinfo(wiki: &DevWiki, bearer: &str) -> Got {
    api(
        wiki,
        bearer,
        &[
            ("action", "query"),
            ("meta", "userinfo"),
            ("uiprop", "groups|rights"),
            ("format", "json"),
        ],
    )
    .await
}

/// The code (and state) of a redirect to `redirect`.
fn code_of(location: &str, redirect: &str) -> (String, Option<String>) {
    let query = location
        .strip_prefix(&format!("{redirect}?"))
        .unwrap_or_else(|| panic!("{location} is not a redirect to {redirect}"));
    let q = form_decode(query);
    (q["code"].clone(), q.get("state").cloned())
}

fn jwt_claims(jwt: &str) -> (Value, Value) {
    let parts: Vec<&str> = jwt.split('.').collect();
    assert_eq!(parts.len(), 3, "{jwt}");
    let dec = |s: &str| {
        let raw = base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(s)
            .unwrap();
        serde_json::from_slice::<Value>(&raw).unwrap()
    };
    (dec(parts[0]), dec(parts[1]))
}

/// The keys of a JSON object text, in their order.
fn keys_in_order(body: &str) -> Vec<String> {
    let v: serde_json::Map<String, Value> = serde_json::from_str(body).unwrap();
    let mut found: Vec<(usize, String)> = v
        .keys()
        .map(|k| (body.find(&format!("\"{k}\":")).unwrap(), k.clone()))
        .collect();
    found.sort();
    found.into_iter().map(|(_, k)| k).collect()
}

/// A confidential login with the default client: (access, refresh).
async fn login(wiki: &DevWiki) -> (String, String) {
    let c = wiki.default_oauth2_client();
    let r = authorize(
        wiki,
        &[
            ("response_type", "code"),
            ("client_id", &c.key),
            ("redirect_uri", &c.callback),
            ("state", "s1"),
        ],
    )
    .await;
    assert_eq!(r.status, 302, "{}", r.body);
    let (code, _) = code_of(&r.location(), &c.callback);
    let t = token(
        wiki,
        &[
            ("grant_type", "authorization_code"),
            ("code", &code),
            ("redirect_uri", &c.callback),
            ("client_id", &c.key),
            ("client_secret", &c.secret),
        ],
    )
    .await;
    assert_eq!(t.status, 200, "{}", t.body);
    let v = t.json();
    (
        v["access_token"].as_str().unwrap().to_string(),
        v["refresh_token"].as_str().unwrap().to_string(),
    )
}

async fn refresh(wiki: &DevWiki, rt: &str) -> Got {
    let c = wiki.default_oauth2_client();
    token(
        wiki,
        &[
            ("grant_type", "refresh_token"),
            ("refresh_token", rt),
            ("client_id", &c.key),
            ("client_secret", &c.secret),
        ],
    )
    .await
}

fn assert_invalid_bearer_on_api(g: &Got) {
    assert_eq!(g.status, 200, "{}", g.body);
    assert_eq!(
        g.header("mediawiki-api-error").as_deref(),
        Some("mwoauth-invalid-authorization")
    );
    let v = g.json();
    assert_eq!(v["error"]["code"], "mwoauth-invalid-authorization");
    assert_eq!(v["error"]["info"], INVALID_ACCESS_TOKEN);
    assert!(v["error"]["*"].as_str().unwrap().starts_with("See "));
}

fn assert_app_error_page(g: &Got, text: &str) {
    assert_eq!(g.status, 200, "{}", g.body);
    assert!(g.header("content-type").unwrap().starts_with("text/html"));
    assert!(
        g.body
            .contains("<title>Application Connection Error - DevWiki</title>"),
        "{}",
        g.body
    );
    assert!(g.body.contains(text), "{}", g.body);
    assert!(g.body.contains("Return to <a"), "{}", g.body);
}

// ------------------------------------------------------------------ tests --

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn confidential_flow_tokens_profile_scopes_and_api() {
    let wiki = start(Some("Alice")).await;
    let c = wiki.default_oauth2_client();
    assert!(c.oauth2 && c.confidential);
    assert_eq!(c.key.len(), 32);
    assert_eq!(c.secret.len(), 40);
    assert_eq!(c.callback, REDIRECT);
    assert_eq!(c.client_id(), c.key);

    // O2: 302 to redirect_uri?code=…&state=…
    let r = authorize(
        &wiki,
        &[
            ("response_type", "code"),
            ("client_id", &c.key),
            ("redirect_uri", REDIRECT),
            ("state", "10d4a23f9ac4c95b"),
        ],
    )
    .await;
    assert_eq!(r.status, 302, "{}", r.body);
    let (code, state) = code_of(&r.location(), REDIRECT);
    assert_eq!(state.as_deref(), Some("10d4a23f9ac4c95b"));
    assert!(code.starts_with("def50200") && code.len() > 100, "{code}");

    // O3: the token answer, headers and key order as captured.
    let t = token(
        &wiki,
        &[
            ("grant_type", "authorization_code"),
            ("code", &code),
            ("redirect_uri", REDIRECT),
            ("client_id", &c.key),
            ("client_secret", &c.secret),
        ],
    )
    .await;
    assert_eq!(t.status, 200, "{}", t.body);
    assert_eq!(t.header("pragma").as_deref(), Some("no-cache"));
    assert_eq!(t.header("cache-control").as_deref(), Some("no-store"));
    assert_eq!(
        t.header("content-type").as_deref(),
        Some("application/json; charset=UTF-8")
    );
    assert_eq!(
        keys_in_order(&t.body),
        ["token_type", "expires_in", "access_token", "refresh_token"]
    );
    let v = t.json();
    assert_eq!(v["token_type"], "Bearer");
    assert_eq!(v["expires_in"], 3600);
    let access = v["access_token"].as_str().unwrap().to_string();
    let (header, claims) = jwt_claims(&access);
    assert_eq!(header["typ"], "JWT");
    let claim_keys: Vec<&str> = claims
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    for k in ["aud", "jti", "iat", "nbf", "exp", "sub", "iss", "scopes"] {
        assert!(claim_keys.contains(&k), "{claims}");
    }
    assert_eq!(claims["aud"], c.key.as_str());
    assert_eq!(claims["sub"], "2");
    assert_eq!(claims["iss"], wiki.server().as_str());
    assert_eq!(claims["jti"].as_str().unwrap().len(), 80);
    let (iat, exp) = (
        claims["iat"].as_f64().unwrap(),
        claims["exp"].as_f64().unwrap(),
    );
    assert!((exp - iat - 3600.0).abs() < 1.0, "{claims}");
    assert_eq!(
        claims["scopes"],
        serde_json::json!(["basic", "editpage", "highvolume", "createeditmovepage"])
    );

    // O4: the profile, served as text/html, in the captured key order.
    let p = resource(&wiki, "profile", Some(&access)).await;
    assert_eq!(p.status, 200, "{}", p.body);
    assert_eq!(
        p.header("content-type").as_deref(),
        Some("text/html; charset=UTF-8")
    );
    assert_eq!(
        keys_in_order(&p.body),
        [
            "sub",
            "username",
            "editcount",
            "confirmed_email",
            "blocked",
            "registered",
            "groups",
            "rights",
            "grants"
        ]
    );
    let profile = p.json();
    assert_eq!(profile["sub"], "2");
    assert_eq!(profile["username"], "Alice");
    assert_eq!(profile["confirmed_email"], true);
    assert_eq!(profile["blocked"], false);
    assert_eq!(
        profile["groups"],
        serde_json::json!(["*", "user", "autoconfirmed"])
    );
    assert_eq!(profile["grants"], claims["scopes"]);
    assert_eq!(
        Some(profile["editcount"].as_i64().unwrap()),
        wiki.edit_count("Alice")
    );

    // O5: api.php authenticates as the token's user with the token's grants.
    let u = userinfo(&wiki, &access).await;
    assert_eq!(u.status, 200);
    assert!(u.header("mediawiki-api-error").is_none(), "{}", u.body);
    let info = u.json()["query"]["userinfo"].clone();
    assert_eq!(info["name"], "Alice");
    assert_eq!(info["id"], 2);
    assert_eq!(info["rights"], profile["rights"]);
    assert!(info["rights"]
        .as_array()
        .unwrap()
        .contains(&Value::from("edit")));

    // An edit with the Bearer token.
    let tok = api(
        &wiki,
        &access,
        &[("action", "query"), ("meta", "tokens"), ("format", "json")],
    )
    .await
    .json()["query"]["tokens"]["csrftoken"]
        .as_str()
        .unwrap()
        .to_string();
    let e = got(http()
        .post(wiki.api_url())
        .header("Authorization", format!("Bearer {access}"))
        .form(&[
            ("action", "edit"),
            ("title", "Sandbox"),
            ("text", "Edited over OAuth 2.0"),
            ("token", &tok),
            ("format", "json"),
        ])
        .send()
        .await
        .unwrap())
    .await;
    assert_eq!(e.json()["edit"]["result"], "Success", "{}", e.body);
    assert_eq!(
        wiki.page_text("Sandbox").as_deref(),
        Some("Edited over OAuth 2.0")
    );

    // O5b: the client's grants, an object where array_unique left a gap.
    let s = resource(&wiki, "scopes", Some(&access)).await;
    assert_eq!(s.status, 200);
    assert_eq!(
        s.header("content-type").as_deref(),
        Some("text/html; charset=UTF-8")
    );
    assert_eq!(
        s.body,
        r#"{"scopes":{"0":"basic","2":"editpage","3":"highvolume","4":"createeditmovepage"}}"#
    );

    // No state sent: none comes back. Client auth with HTTP Basic.
    let r = authorize(&wiki, &[("response_type", "code"), ("client_id", &c.key)]).await;
    let (code, state) = code_of(&r.location(), REDIRECT);
    assert_eq!(state, None);
    let basic = base64::engine::general_purpose::STANDARD.encode(format!("{}:{}", c.key, c.secret));
    let t = got(http()
        .post(format!("{}/oauth2/access_token", wiki.rest_url()))
        .header("Authorization", format!("Basic {basic}"))
        .form(&[("grant_type", "authorization_code"), ("code", &code)])
        .send()
        .await
        .unwrap())
    .await;
    assert_eq!(t.status, 200, "{}", t.body);
    assert_eq!(wiki.oauth2_token_requests("authorization_code"), 2);
    assert_eq!(wiki.oauth2_token_requests("refresh_token"), 0);
    wiki.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn public_client_with_pkce_and_its_refresh() {
    let wiki = start(Some("Alice")).await;
    let c = wiki.register_consumer(ConsumerSpec {
        oauth2: true,
        confidential: false,
        callback: "http://127.0.0.1:9999/oauth2cb".into(),
        grants: vec!["basic".into(), "editpage".into()],
        ..ConsumerSpec::default()
    });
    assert!(c.oauth2 && !c.confidential);
    let (verifier, challenge) = pkce();
    let r = authorize(
        &wiki,
        &[
            ("response_type", "code"),
            ("client_id", &c.key),
            ("state", "pk1"),
            ("code_challenge", &challenge),
            ("code_challenge_method", "S256"),
        ],
    )
    .await;
    let (code, state) = code_of(&r.location(), "http://127.0.0.1:9999/oauth2cb");
    assert_eq!(state.as_deref(), Some("pk1"));
    // O7: no client_secret for a public client's code.
    let t = token(
        &wiki,
        &[
            ("grant_type", "authorization_code"),
            ("code", &code),
            ("client_id", &c.key),
            ("code_verifier", &verifier),
        ],
    )
    .await;
    assert_eq!(t.status, 200, "{}", t.body);
    let v = t.json();
    let rt = v["refresh_token"].as_str().unwrap();
    assert_eq!(
        userinfo(&wiki, v["access_token"].as_str().unwrap())
            .await
            .json()["query"]["userinfo"]["name"],
        "Alice"
    );
    // observed-1.39-more: the refresh of a public client needs the secret.
    let no_secret = token(
        &wiki,
        &[
            ("grant_type", "refresh_token"),
            ("refresh_token", rt),
            ("client_id", &c.key),
        ],
    )
    .await;
    assert_eq!(no_secret.status, 401);
    assert_eq!(no_secret.body, OE1_WRONG_SECRET);
    let with_secret = token(
        &wiki,
        &[
            ("grant_type", "refresh_token"),
            ("refresh_token", rt),
            ("client_id", &c.key),
            ("client_secret", &c.secret),
        ],
    )
    .await;
    assert_eq!(with_secret.status, 200, "{}", with_secret.body);

    // plain PKCE works too.
    let plain = "a".repeat(43);
    let r = authorize(
        &wiki,
        &[
            ("response_type", "code"),
            ("client_id", &c.key),
            ("code_challenge", &plain),
        ],
    )
    .await;
    let (code, _) = code_of(&r.location(), "http://127.0.0.1:9999/oauth2cb");
    let t = token(
        &wiki,
        &[
            ("grant_type", "authorization_code"),
            ("code", &code),
            ("client_id", &c.key),
            ("code_verifier", &plain),
        ],
    )
    .await;
    assert_eq!(t.status, 200, "{}", t.body);
    // client_credentials is for confidential clients only.
    let cc = token(
        &wiki,
        &[
            ("grant_type", "client_credentials"),
            ("client_id", &c.key),
            ("client_secret", &c.secret),
        ],
    )
    .await;
    assert_eq!(cc.status, 401);
    assert_eq!(cc.body, OE1_WRONG_SECRET);
    wiki.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn public_client_without_challenge_is_refused() {
    let wiki = start(Some("Alice")).await;
    let c = wiki.register_consumer(ConsumerSpec {
        oauth2: true,
        confidential: false,
        ..ConsumerSpec::default()
    });
    let r = authorize(
        &wiki,
        &[
            ("response_type", "code"),
            ("client_id", &c.key),
            ("state", "pk2"),
        ],
    )
    .await;
    // O7x: the "Application Connection Error" page with invalid_request.
    assert_app_error_page(&r, INVALID_REQUEST_TEXT);
    assert!(r
        .body
        .contains("Code challenge must be provided for public clients"));
    assert!(r.body.contains("data-error=\"invalid_request\""));
    // A malformed challenge or method.
    let r = authorize(
        &wiki,
        &[
            ("response_type", "code"),
            ("client_id", &c.key),
            ("code_challenge", "too-short"),
            ("code_challenge_method", "S256"),
        ],
    )
    .await;
    assert_app_error_page(&r, INVALID_REQUEST_TEXT);
    let (_, challenge) = pkce();
    let r = authorize(
        &wiki,
        &[
            ("response_type", "code"),
            ("client_id", &c.key),
            ("code_challenge", &challenge),
            ("code_challenge_method", "S512"),
        ],
    )
    .await;
    assert_app_error_page(&r, INVALID_REQUEST_TEXT);
    wiki.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wrong_or_missing_verifier() {
    let wiki = start(Some("Alice")).await;
    let c = wiki.default_oauth2_client();
    let (verifier, challenge) = pkce();
    let r = authorize(
        &wiki,
        &[
            ("response_type", "code"),
            ("client_id", &c.key),
            ("code_challenge", &challenge),
            ("code_challenge_method", "S256"),
        ],
    )
    .await;
    let (code, _) = code_of(&r.location(), REDIRECT);
    let base = [
        ("grant_type", "authorization_code"),
        ("code", code.as_str()),
        ("client_id", c.key.as_str()),
        ("client_secret", c.secret.as_str()),
    ];
    let (other, _) = pkce();
    let mut wrong = base.to_vec();
    wrong.push(("code_verifier", &other));
    let t = token(&wiki, &wrong).await;
    assert_eq!(t.status, 400);
    assert_eq!(t.json()["error"], "invalid_grant");
    assert_eq!(t.json()["hint"], "Failed to verify `code_verifier`.");
    assert_eq!(
        t.header("content-type").as_deref(),
        Some("application/json")
    );

    let t = token(&wiki, &base).await;
    assert_eq!(t.status, 400);
    assert_eq!(t.json()["error"], "invalid_request");
    assert_eq!(t.json()["hint"], "Check the `code_verifier` parameter");

    let mut bad_shape = base.to_vec();
    bad_shape.push(("code_verifier", "short"));
    let t = token(&wiki, &bad_shape).await;
    assert_eq!(
        t.json()["hint"],
        "Code Verifier must follow the specifications of RFC-7636."
    );

    // A refused verifier does not use the code up.
    let mut right = base.to_vec();
    right.push(("code_verifier", &verifier));
    let t = token(&wiki, &right).await;
    assert_eq!(t.status, 200, "{}", t.body);

    // A verifier for a code issued without a challenge.
    let r = authorize(&wiki, &[("response_type", "code"), ("client_id", &c.key)]).await;
    let (code, _) = code_of(&r.location(), REDIRECT);
    let t = token(
        &wiki,
        &[
            ("grant_type", "authorization_code"),
            ("code", &code),
            ("client_id", &c.key),
            ("client_secret", &c.secret),
            ("code_verifier", &verifier),
        ],
    )
    .await;
    assert_eq!(t.status, 400);
    assert_eq!(t.json()["error"], "invalid_request");
    wiki.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn redirect_uri_is_matched_exactly_except_loopback_ports() {
    let wiki = start(Some("Alice")).await;
    let c = wiki.default_oauth2_client();
    // OE7: another redirect_uri.
    for bad in [
        "http://evil.example/cb",
        "http://127.0.0.1:8000/oauth-callback/",
        "http://127.0.0.1:8000/other",
        "http://localhost:8000/oauth-callback",
    ] {
        let r = authorize(
            &wiki,
            &[
                ("response_type", "code"),
                ("client_id", &c.key),
                ("state", "x"),
                ("redirect_uri", bad),
            ],
        )
        .await;
        assert_app_error_page(&r, OE5_TEXT);
    }
    // OE5: an unknown client.
    let r = authorize(
        &wiki,
        &[
            ("response_type", "code"),
            ("client_id", "00000000000000000000000000000000"),
            ("state", "x"),
        ],
    )
    .await;
    assert_app_error_page(&r, OE5_TEXT);
    // The port of a loopback URI is ignored (league RedirectUriValidator).
    let elsewhere = "http://127.0.0.1:41234/oauth-callback";
    let r = authorize(
        &wiki,
        &[
            ("response_type", "code"),
            ("client_id", &c.key),
            ("redirect_uri", elsewhere),
        ],
    )
    .await;
    let (code, _) = code_of(&r.location(), elsewhere);
    // The token request must repeat the redirect_uri, exactly.
    let mut form = vec![
        ("grant_type", "authorization_code"),
        ("code", code.as_str()),
        ("client_id", c.key.as_str()),
        ("client_secret", c.secret.as_str()),
    ];
    let t = token(&wiki, &form).await;
    assert_eq!(t.status, 400);
    assert_eq!(t.json()["hint"], "Check the `redirect_uri` parameter");
    form.push(("redirect_uri", REDIRECT));
    let t = token(&wiki, &form).await;
    assert_eq!(t.status, 400);
    assert_eq!(t.json()["hint"], "Invalid redirect URI");
    form.pop();
    form.push(("redirect_uri", elsewhere));
    let t = token(&wiki, &form).await;
    assert_eq!(t.status, 200, "{}", t.body);
    wiki.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn code_reuse_bogus_code_and_client_errors() {
    let wiki = start(Some("Alice")).await;
    let c = wiki.default_oauth2_client();
    let r = authorize(&wiki, &[("response_type", "code"), ("client_id", &c.key)]).await;
    let (code, _) = code_of(&r.location(), REDIRECT);
    let form = [
        ("grant_type", "authorization_code"),
        ("code", code.as_str()),
        ("client_id", c.key.as_str()),
        ("client_secret", c.secret.as_str()),
    ];
    assert_eq!(token(&wiki, &form).await.status, 200);
    // O3x.
    let again = token(&wiki, &form).await;
    assert_eq!(again.status, 400);
    assert_eq!(
        again.header("content-type").as_deref(),
        Some("application/json")
    );
    assert_eq!(again.body, O3X_CODE_REUSED);
    // OE2.
    let bogus = token(
        &wiki,
        &[
            ("grant_type", "authorization_code"),
            ("code", "bogus"),
            ("client_id", &c.key),
            ("client_secret", &c.secret),
        ],
    )
    .await;
    assert_eq!(bogus.status, 400);
    assert_eq!(bogus.body, OE2_BOGUS_CODE);
    // OE1.
    let wrong = token(
        &wiki,
        &[
            ("grant_type", "authorization_code"),
            ("code", "bogus"),
            ("client_id", &c.key),
            ("client_secret", "wrong"),
        ],
    )
    .await;
    assert_eq!(wrong.status, 401);
    assert_eq!(wrong.body, OE1_WRONG_SECRET);
    assert!(wrong.header("www-authenticate").is_none());
    // With HTTP Basic, invalid_client adds WWW-Authenticate.
    let basic = base64::engine::general_purpose::STANDARD.encode(format!("{}:nope", c.key));
    let b = got(http()
        .post(format!("{}/oauth2/access_token", wiki.rest_url()))
        .header("Authorization", format!("Basic {basic}"))
        .form(&[("grant_type", "authorization_code"), ("code", "bogus")])
        .send()
        .await
        .unwrap())
    .await;
    assert_eq!(b.status, 401);
    assert_eq!(
        b.header("www-authenticate").as_deref(),
        Some("Basic realm=\"OAuth\"")
    );
    // Unknown client, missing grant_type, wrong content type.
    let u = token(
        &wiki,
        &[
            ("grant_type", "authorization_code"),
            ("code", "x"),
            ("client_id", "00000000000000000000000000000000"),
        ],
    )
    .await;
    assert_eq!(
        (u.status, u.json()["error"].clone()),
        (401, "invalid_client".into())
    );
    let m = token(&wiki, &[("client_id", &c.key)]).await;
    assert_eq!(m.status, 400);
    assert_eq!(m.json()["error"], "invalid_request");
    assert_eq!(m.json()["hint"], "Check the `grant_type` parameter");
    let j = got(http()
        .post(format!("{}/oauth2/access_token", wiki.rest_url()))
        .json(&serde_json::json!({"grant_type": "client_credentials"}))
        .send()
        .await
        .unwrap())
    .await;
    assert_eq!(j.status, 415, "{}", j.body);
    // A code of one client redeemed by another.
    let other = wiki.register_consumer(ConsumerSpec {
        oauth2: true,
        ..ConsumerSpec::default()
    });
    let r = authorize(&wiki, &[("response_type", "code"), ("client_id", &c.key)]).await;
    let (code, _) = code_of(&r.location(), REDIRECT);
    let x = token(
        &wiki,
        &[
            ("grant_type", "authorization_code"),
            ("code", &code),
            ("client_id", &other.key),
            ("client_secret", &other.secret),
        ],
    )
    .await;
    assert_eq!(
        x.json()["hint"],
        "Authorization code was not issued to this client"
    );
    wiki.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn refresh_rotates_and_revokes_the_old_tokens() {
    let wiki = start(Some("Alice")).await;
    let (access1, refresh1) = login(&wiki).await;
    // O6.
    let r = refresh(&wiki, &refresh1).await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.header("cache-control").as_deref(), Some("no-store"));
    assert_eq!(
        keys_in_order(&r.body),
        ["token_type", "expires_in", "access_token", "refresh_token"]
    );
    let v = r.json();
    let (access2, refresh2) = (
        v["access_token"].as_str().unwrap().to_string(),
        v["refresh_token"].as_str().unwrap().to_string(),
    );
    assert_ne!(access1, access2);
    assert_ne!(refresh1, refresh2);
    // O6x: the old refresh token is refused at once.
    let again = refresh(&wiki, &refresh1).await;
    assert_eq!(again.status, 401);
    assert_eq!(again.body, O6X_REFRESH_REUSED);
    // The old access token is revoked; the new one works.
    assert_invalid_bearer_on_api(&userinfo(&wiki, &access1).await);
    let p = resource(&wiki, "profile", Some(&access1)).await;
    assert_eq!(p.status, 401);
    assert_eq!(p.json()["hint"], "Access token has been revoked");
    assert_eq!(
        userinfo(&wiki, &access2).await.json()["query"]["userinfo"]["name"],
        "Alice"
    );
    assert_eq!(wiki.oauth2_token_requests("refresh_token"), 2);

    // The grace period of newer releases, as a switch.
    wiki.set_oauth2_refresh_grace_period(600);
    let r3 = refresh(&wiki, &refresh2).await;
    assert_eq!(r3.status, 200);
    let r3b = refresh(&wiki, &refresh2).await;
    assert_eq!(r3b.status, 200, "within the grace period: {}", r3b.body);
    wiki.set_oauth2_refresh_grace_period(0);
    assert_eq!(refresh(&wiki, &refresh2).await.body, O6X_REFRESH_REUSED);

    // Garbage and another client's refresh token.
    let g = refresh(&wiki, "garbage").await;
    assert_eq!(g.status, 401);
    assert_eq!(g.json()["hint"], "Cannot decrypt the refresh token");
    let other = wiki.register_consumer(ConsumerSpec {
        oauth2: true,
        ..ConsumerSpec::default()
    });
    let fresh = r3b.json()["refresh_token"].as_str().unwrap().to_string();
    let x = token(
        &wiki,
        &[
            ("grant_type", "refresh_token"),
            ("refresh_token", &fresh),
            ("client_id", &other.key),
            ("client_secret", &other.secret),
        ],
    )
    .await;
    assert_eq!(x.json()["hint"], "Token is not linked to client");
    // A narrower scope is allowed, a wider one is not.
    let narrow = token(
        &wiki,
        &[
            ("grant_type", "refresh_token"),
            ("refresh_token", &fresh),
            ("scope", "editmywatchlist"),
            ("client_id", &wiki.default_oauth2_client().key),
            ("client_secret", &wiki.default_oauth2_client().secret),
        ],
    )
    .await;
    assert_eq!(narrow.status, 400);
    assert_eq!(narrow.json()["error"], "invalid_scope");
    wiki.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn expiry_through_the_lifetime_switch() {
    let wiki = start(Some("Alice")).await;
    let (long_lived, _) = login(&wiki).await;
    wiki.set_oauth2_access_token_lifetime(1);
    let (short, refresh_token) = login(&wiki).await;
    let (_, claims) = jwt_claims(&short);
    assert!(claims["exp"].as_f64().unwrap() - claims["iat"].as_f64().unwrap() < 2.0);
    tokio::time::sleep(std::time::Duration::from_millis(2100)).await;
    assert_invalid_bearer_on_api(&userinfo(&wiki, &short).await);
    let p = resource(&wiki, "profile", Some(&short)).await;
    assert_eq!(p.status, 401);
    assert_eq!(p.body, OE3_TAMPERED);
    // Tokens issued before the switch keep their hour.
    assert_eq!(
        userinfo(&wiki, &long_lived).await.json()["query"]["userinfo"]["name"],
        "Alice"
    );
    // The refresh token still works, and gives a token of the new lifetime.
    wiki.set_oauth2_access_token_lifetime(3600);
    let r = refresh(&wiki, &refresh_token).await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.json()["expires_in"], 3600);
    // An expired refresh token.
    wiki.set_oauth2_refresh_token_lifetime(0);
    let (_, dead) = login(&wiki).await;
    let r = refresh(&wiki, &dead).await;
    assert_eq!(r.status, 401);
    assert_eq!(r.json()["hint"], "Token has expired");
    wiki.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn revoke_kills_access_and_refresh_tokens() {
    let wiki = start(Some("Alice")).await;
    let c = wiki.default_oauth2_client();
    let (access, refresh_token) = login(&wiki).await;
    assert!(wiki.revoke("Alice", &c.key));
    assert_invalid_bearer_on_api(&userinfo(&wiki, &access).await);
    let p = resource(&wiki, "profile", Some(&access)).await;
    assert_eq!(p.status, 401);
    assert_eq!(p.json()["hint"], "Access token has been revoked");
    let r = refresh(&wiki, &refresh_token).await;
    assert_eq!(r.status, 401);
    assert_eq!(r.body, O6X_REFRESH_REUSED);
    // A new login works again, with new tokens.
    let (access2, _) = login(&wiki).await;
    assert_ne!(access, access2);
    assert_eq!(
        userinfo(&wiki, &access2).await.json()["query"]["userinfo"]["name"],
        "Alice"
    );
    // Garbage Bearer tokens (OE4) and a tampered signature (OE3).
    assert_invalid_bearer_on_api(&userinfo(&wiki, "garbage").await);
    let tampered = format!("{}AAAA", &access2[..access2.len() - 4]);
    assert_eq!(
        resource(&wiki, "profile", Some(&tampered)).await.body,
        OE3_TAMPERED
    );
    assert_invalid_bearer_on_api(&userinfo(&wiki, &tampered).await);
    wiki.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cancel_with_and_without_redirect_uri() {
    let wiki = start(None).await;
    let c = wiki.default_oauth2_client();
    // With redirect_uri: 302 with unauthorized_client and no state.
    let r = authorize(
        &wiki,
        &[
            ("response_type", "code"),
            ("client_id", &c.key),
            ("redirect_uri", REDIRECT),
            ("state", "deny1"),
            ("approval_cancel", "1"),
        ],
    )
    .await;
    assert_eq!(r.status, 302);
    assert_eq!(
        r.location(),
        format!("{REDIRECT}?error=unauthorized_client&error_description=User+has+rejected+the+request+from+client+application&message=User+has+rejected+the+request+from+client+application")
    );
    // OE6: without redirect_uri, a page.
    let r = authorize(
        &wiki,
        &[
            ("response_type", "code"),
            ("client_id", &c.key),
            ("state", "deny1"),
            ("approval_cancel", "1"),
        ],
    )
    .await;
    assert_app_error_page(&r, OE6_TEXT);
    wiki.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_dialog_allow_and_cancel_buttons() {
    let wiki = start(None).await;
    let c = wiki.default_oauth2_client();
    let (verifier, challenge) = pkce();
    let params = [
        ("response_type", "code"),
        ("client_id", c.key.as_str()),
        ("redirect_uri", REDIRECT),
        ("state", "st&x"),
        ("code_challenge", challenge.as_str()),
        ("code_challenge_method", "S256"),
    ];
    let page = authorize(&wiki, &params).await;
    assert_eq!(page.status, 200);
    for needle in [
        "id=\"mw-mwoauth-authorize-form\"",
        "method=\"get\"",
        "<select name=\"user\" id=\"user\">",
        "id=\"accept\"",
        "id=\"cancel\"",
        "name=\"approval_pass\"",
        "name=\"approval_cancel\"",
        "DevWiki default OAuth 2.0 app",
        "value=\"st&amp;x\"",
        "action=\"/w/rest.php/oauth2/authorize\"",
    ] {
        assert!(page.body.contains(needle), "{needle}: {}", page.body);
    }
    // Pressing Allow as Zoë submits the form's fields with approval_pass=1.
    let mut allow = params.to_vec();
    allow.push(("user", "Zoë Ünicode-Ŝtrange"));
    allow.push(("approval_pass", "1"));
    let r = authorize(&wiki, &allow).await;
    assert_eq!(r.status, 302, "{}", r.body);
    let (code, state) = code_of(&r.location(), REDIRECT);
    assert_eq!(state.as_deref(), Some("st&x"));
    let c2 = wiki.default_oauth2_client();
    let t = token(
        &wiki,
        &[
            ("grant_type", "authorization_code"),
            ("code", &code),
            ("redirect_uri", REDIRECT),
            ("client_id", &c2.key),
            ("client_secret", &c2.secret),
            ("code_verifier", &verifier),
        ],
    )
    .await;
    let access = t.json()["access_token"].as_str().unwrap().to_string();
    let p = resource(&wiki, "profile", Some(&access)).await;
    // FormatJson escapes non-ASCII.
    assert!(
        p.body
            .contains("\"username\":\"Zo\\u00eb \\u00dcnicode-\\u015ctrange\""),
        "{}",
        p.body
    );
    assert_eq!(p.json()["username"], "Zoë Ünicode-Ŝtrange");
    // No user chosen: the form again, with a note.
    let mut none = params.to_vec();
    none.push(("approval_pass", "1"));
    let r = authorize(&wiki, &none).await;
    assert_eq!(r.status, 200);
    assert!(r.body.contains("Choose which DevWiki user you are."));
    // An unknown scope: invalid_scope back to the registered redirect URI.
    let r = authorize(
        &wiki,
        &[
            ("response_type", "code"),
            ("client_id", &c.key),
            ("scope", "basic nosuchgrant"),
        ],
    )
    .await;
    assert_eq!(r.status, 302);
    let loc = r.location();
    assert!(
        loc.starts_with(&format!("{REDIRECT}?error=invalid_scope&")),
        "{loc}"
    );
    assert!(
        loc.contains("hint=Check+the+%60nosuchgrant%60+scope"),
        "{loc}"
    );
    wiki.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn scopes_asked_for_are_cut_to_the_clients_grants() {
    let wiki = start(Some("Alice")).await;
    let c = wiki.register_consumer(ConsumerSpec {
        oauth2: true,
        grants: vec![
            "basic".into(),
            "basic".into(),
            "editpage".into(),
            "mwoauth-authonlyprivate".into(),
        ],
        ..ConsumerSpec::default()
    });
    let r = authorize(
        &wiki,
        &[
            ("response_type", "code"),
            ("client_id", &c.key),
            ("scope", "basic mwoauth-authonlyprivate uploadfile"),
        ],
    )
    .await;
    let (code, _) = code_of(&r.location(), &c.callback);
    let t = token(
        &wiki,
        &[
            ("grant_type", "authorization_code"),
            ("code", &code),
            ("client_id", &c.key),
            ("client_secret", &c.secret),
        ],
    )
    .await;
    let access = t.json()["access_token"].as_str().unwrap().to_string();
    let p = resource(&wiki, "profile", Some(&access)).await.json();
    assert_eq!(
        p["grants"],
        serde_json::json!(["basic", "mwoauth-authonlyprivate"])
    );
    assert_eq!(p["realname"], "Alice Example");
    assert!(p["email"].as_str().unwrap().contains('@'));
    // The scopes resource: the client's grants, array_unique with a gap.
    let s = resource(&wiki, "scopes", Some(&access)).await;
    assert_eq!(
        s.body,
        r#"{"scopes":{"0":"basic","2":"editpage","3":"mwoauth-authonlyprivate"}}"#
    );
    // Without an Authorization header: HTTP 500 (the upstream bug).
    assert_eq!(resource(&wiki, "profile", None).await.status, 500);
    wiki.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn client_credentials_is_anonymous_for_ordinary_clients() {
    let wiki = start(None).await;
    let c = wiki.default_oauth2_client();
    let t = token(
        &wiki,
        &[
            ("grant_type", "client_credentials"),
            ("client_id", &c.key),
            ("client_secret", &c.secret),
        ],
    )
    .await;
    assert_eq!(t.status, 200, "{}", t.body);
    assert_eq!(
        keys_in_order(&t.body),
        ["token_type", "expires_in", "access_token"]
    );
    let access = t.json()["access_token"].as_str().unwrap().to_string();
    let (_, claims) = jwt_claims(&access);
    assert_eq!(claims["sub"], "1", "the owner's id (T417278)");
    let u = userinfo(&wiki, &access).await;
    assert!(u.header("mediawiki-api-error").is_none(), "{}", u.body);
    let info = u.json()["query"]["userinfo"].clone();
    assert_eq!(info["id"], 0);
    assert!(info.get("anon").is_some(), "{info}");
    assert_eq!(wiki.oauth2_token_requests("client_credentials"), 1);
    wiki.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn owner_only_client_bearer_token_and_client_credentials() {
    let wiki = start(None).await;
    let c = wiki.register_consumer(ConsumerSpec {
        name: "Alice's bot".into(),
        oauth2: true,
        owner_only: Some("Alice".into()),
        callback: String::new(),
        grants: vec!["basic".into(), "editpage".into()],
        ..ConsumerSpec::default()
    });
    assert!(c.access_token.is_none());
    let bearer = c.oauth2_access_token.clone().expect("a long-lived token");
    assert!(!format!("{c:?}").contains(&bearer));
    let (_, claims) = jwt_claims(&bearer);
    let years = (claims["exp"].as_f64().unwrap() - claims["iat"].as_f64().unwrap())
        / (365.0 * 24.0 * 3600.0);
    assert!(years > 999.0, "{claims}");
    assert_eq!(claims["sub"], "2");
    let u = userinfo(&wiki, &bearer).await;
    assert_eq!(u.json()["query"]["userinfo"]["name"], "Alice", "{}", u.body);
    // O8 / O8b: client_credentials tied to the owner.
    let t = token(
        &wiki,
        &[
            ("grant_type", "client_credentials"),
            ("client_id", &c.key),
            ("client_secret", &c.secret),
        ],
    )
    .await;
    assert_eq!(t.status, 200, "{}", t.body);
    assert!(t.json().get("refresh_token").is_none());
    let access = t.json()["access_token"].as_str().unwrap().to_string();
    let p = resource(&wiki, "profile", Some(&access)).await.json();
    assert_eq!(p["username"], "Alice");
    assert_eq!(p["grants"], serde_json::json!(["basic", "editpage"]));
    // No authorization-code flow for it.
    let r = authorize(&wiki, &[("response_type", "code"), ("client_id", &c.key)]).await;
    assert_app_error_page(&r, OE5_TEXT);
    // Revoking the owner's approval kills both tokens.
    assert!(wiki.revoke("Alice", &c.key));
    assert_invalid_bearer_on_api(&userinfo(&wiki, &bearer).await);
    assert_invalid_bearer_on_api(&userinfo(&wiki, &access).await);
    assert!(wiki.consumer(&c.key).unwrap().oauth2_access_token.is_none());
    wiki.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn profile_as_a_newer_mediawiki_and_hidden_users() {
    let wiki = DevWiki::start(DevWikiConfig {
        auto_approve: Some("Alice".into()),
        profile_as: ProfileFlavour::Mw144,
        ..DevWikiConfig::default()
    })
    .await
    .unwrap();
    let (access, _) = login(&wiki).await;
    let p = resource(&wiki, "profile", Some(&access)).await;
    assert_eq!(
        keys_in_order(&p.body)[..6],
        [
            "sub",
            "username",
            "editcount",
            "confirmed_email",
            "email_verified",
            "blocked"
        ]
    );
    assert_eq!(p.json()["sub"], "2");
    assert_eq!(p.json()["email_verified"], true);
    wiki.set_profile_as(ProfileFlavour::SubAsNumber);
    assert_eq!(
        resource(&wiki, "profile", Some(&access)).await.json()["sub"],
        2
    );
    wiki.set_profile_as(ProfileFlavour::Mw139);
    let p = resource(&wiki, "profile", Some(&access)).await.json();
    assert_eq!(p["sub"], "2");
    assert!(p.get("email_verified").is_none());
    // A hidden user: only sub and blocked.
    assert!(wiki.set_hidden("Alice", true));
    assert_eq!(
        resource(&wiki, "profile", Some(&access)).await.body,
        r#"{"sub":"2","blocked":true}"#
    );
    assert!(wiki.set_hidden("Alice", false));
    assert!(!wiki.set_hidden("Nobody", true));
    wiki.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn http_controls_for_oauth2() {
    let wiki = start(Some("Alice")).await;
    let info: Value = http()
        .get(format!("{}/devwiki", wiki.server()))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let c = wiki.default_oauth2_client();
    assert_eq!(info["oauth2_client"]["client_id"], c.key.as_str());
    assert_eq!(info["oauth2_client"]["client_secret"], c.secret.as_str());
    assert_eq!(info["oauth2_client"]["redirect_uri"], REDIRECT);
    assert_eq!(
        info["oauth2_client"]["endpoints"]["access_token"],
        format!("{}/oauth2/access_token", wiki.rest_url()).as_str()
    );
    assert_eq!(info["rest_url"], wiki.rest_url().as_str());
    let post = |path: &str, body: Value| {
        let url = format!("{}/devwiki/{path}", wiki.server());
        async move {
            let r = http().post(url).json(&body).send().await.unwrap();
            assert_eq!(r.status(), 200, "{}", r.text().await.unwrap());
        }
    };
    post("oauth2-lifetime", serde_json::json!({"access_token": 60})).await;
    let (_, rt) = login(&wiki).await;
    post("oauth2-refresh-grace", serde_json::json!({"seconds": 600})).await;
    assert_eq!(refresh(&wiki, &rt).await.json()["expires_in"], 60);
    assert_eq!(refresh(&wiki, &rt).await.status, 200);
    post("profile-as", serde_json::json!({"flavour": "mw144"})).await;
    post(
        "hidden",
        serde_json::json!({"user": "Blocked", "hidden": true}),
    )
    .await;
    let stats: Value = http()
        .get(format!("{}/devwiki/stats", wiki.server()))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(stats["oauth2_token_requests"]["refresh_token"], 2);
    assert_eq!(stats["oauth2_token_requests"]["*"], 3);
    let info: Value = http()
        .get(format!("{}/devwiki", wiki.server()))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(info["switches"]["profile_as"], "mw144");
    assert_eq!(info["switches"]["oauth2_access_token_lifetime"], 60);
    // A 2.0 client over HTTP, and revoke by client_id.
    let created: Value = http()
        .post(format!("{}/devwiki/consumers", wiki.server()))
        .json(&serde_json::json!({"oauth2": true, "confidential": false}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(created["oauth2"], true);
    assert_eq!(created["confidential"], false);
    let r: Value = http()
        .post(format!("{}/devwiki/revoke", wiki.server()))
        .json(&serde_json::json!({"user": "Alice", "client_id": c.key}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(r["revoked"], true);
    wiki.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_refreshes_at_once_one_wins_and_direct_grants() {
    let wiki = start(None).await;
    let c = wiki.default_oauth2_client();
    let (access, rt) = wiki.oauth2_grant("Alice", &c.key).expect("tokens");
    assert_eq!(
        userinfo(&wiki, &access).await.json()["query"]["userinfo"]["name"],
        "Alice"
    );
    assert!(wiki.oauth2_grant("Nobody", &c.key).is_none());
    assert!(wiki
        .oauth2_grant("Alice", &wiki.default_consumer().key)
        .is_none());
    // Two clients refreshing the same token at the same moment: on
    // MediaWiki <= 1.46 one gets new tokens, the other is refused.
    let (a, b) = tokio::join!(refresh(&wiki, &rt), refresh(&wiki, &rt));
    let mut statuses = [a.status, b.status];
    statuses.sort();
    assert_eq!(statuses, [200, 401], "{} / {}", a.body, b.body);
    assert_eq!(wiki.oauth2_token_requests("refresh_token"), 2);
    assert_eq!(wiki.oauth2_token_requests("*"), 2);
    wiki.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_second_wiki_accepts_imported_bearer_tokens() {
    let central = start(None).await;
    let c = central.default_oauth2_client();
    let (access, _) = central.oauth2_grant("Alice", &c.key).unwrap();
    let other = start(None).await;
    // Not known there until imported.
    assert_invalid_bearer_on_api(&userinfo(&other, &access).await);
    other.register_consumer(ConsumerSpec {
        oauth2: true,
        key: Some(c.key.clone()),
        secret: Some(c.secret.clone()),
        ..ConsumerSpec::default()
    });
    assert!(other.import_oauth2_token("Alice", &c.key, &access));
    assert!(!other.import_oauth2_token("Alice", &c.key, "garbage"));
    assert_eq!(
        userinfo(&other, &access).await.json()["query"]["userinfo"]["name"],
        "Alice"
    );
    // A tampered copy is still refused.
    let tampered = format!("{}AAAA", &access[..access.len() - 4]);
    assert_invalid_bearer_on_api(&userinfo(&other, &tampered).await);
    assert!(other.revoke("Alice", &c.key));
    assert_invalid_bearer_on_api(&userinfo(&other, &access).await);
    // The 1.0a grant helper does not hand out 2.0 tokens.
    assert!(central.grant("Alice", &c.key).is_none());
    // Over HTTP.
    let g: Value = http()
        .post(format!("{}/devwiki/grant", central.server()))
        .json(&serde_json::json!({"user": "Alice", "consumer_key": c.key}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let a = g["access_token"].as_str().unwrap();
    assert!(g["refresh_token"].as_str().unwrap().starts_with("def50200"));
    assert_eq!(
        userinfo(&central, a).await.json()["query"]["userinfo"]["name"],
        "Alice"
    );
    central.shutdown().await;
    other.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn codes_expire_after_ten_minutes() {
    let wiki = start(Some("Alice")).await;
    let c = wiki.default_oauth2_client();
    let r = authorize(&wiki, &[("response_type", "code"), ("client_id", &c.key)]).await;
    let (code, _) = code_of(&r.location(), REDIRECT);
    wiki.set_clock_offset(601);
    let t = token(
        &wiki,
        &[
            ("grant_type", "authorization_code"),
            ("code", &code),
            ("client_id", &c.key),
            ("client_secret", &c.secret),
        ],
    )
    .await;
    assert_eq!(t.status, 400);
    assert_eq!(t.json()["error"], "invalid_request");
    assert_eq!(t.json()["hint"], "Authorization code has expired");
    wiki.shutdown().await;
}
