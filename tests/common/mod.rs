//! Test harness: the local wiki and an app using the crate, both on loopback,
//! and a browser-like client (keeps cookies, follows redirects across sites).
#![allow(dead_code)]

pub mod hostile;
pub mod redis;
pub mod webdriver;

use std::net::TcpListener;

use devwiki::{Consumer, ConsumerSpec, DevWiki, DevWikiConfig, MediaWikiVersion};
use rocket::fairing::AdHoc;
use rocket::figment::Figment;
use rocket::request::FlashMessage;
use rocket::serde::json::Json;
use rocket::{get, post, routes, Build, Rocket};
use rocket_mediawiki_oauth::{Error, LoginRequired, MwApi, MwOAuth, MwUser, VerifiedMwUser};
use serde_json::Value;

/// A fixed key so that two app instances can share sessions.
pub const SECRET_KEY: &str = "hPRYyVRiMyxpw5sBB1XeCMN1kFsDCqKvBi2QJxBVHQk=";

/// A free loopback port (the app's callback URL must be known before launch).
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

pub async fn start_wiki() -> DevWiki {
    start_wiki_on(MediaWikiVersion::default()).await
}

/// The MediaWiki versions the local wiki imitates: the shared sign-in suite
/// runs against each.
pub const VERSIONS: [MediaWikiVersion; 3] = MediaWikiVersion::ALL;

/// The local wiki, imitating `mediawiki`.
pub async fn start_wiki_on(mediawiki: MediaWikiVersion) -> DevWiki {
    DevWiki::start(DevWikiConfig {
        mediawiki,
        ..DevWikiConfig::default()
    })
    .await
    .expect("the local wiki starts")
}

/// Registers an oob OAuth 1.0a consumer whose callback is the app's `/oauth-callback`.
pub async fn consumer_for(wiki: &DevWiki, app_port: u16) -> Consumer {
    consumer_with(wiki, app_port, Proto::OAuth1, "/")
}

#[get("/")]
fn index(user: Option<MwUser>, flash: Option<FlashMessage<'_>>) -> String {
    let who = user.map_or("anonymous".to_string(), |u| format!("user: {}", u.name));
    match flash {
        Some(f) => format!("{who}\nflash: {}", f.message()),
        None => who,
    }
}

#[get("/private")]
fn private(user: LoginRequired) -> String {
    format!("private page of {}", user.name)
}

#[get("/verified")]
fn verified(user: Option<VerifiedMwUser>) -> String {
    user.map_or("anonymous".to_string(), |u| {
        format!("verified: {} with {} rights", u.name, u.rights.len())
    })
}

#[get("/verified-required")]
fn verified_required(user: LoginRequired<VerifiedMwUser>) -> String {
    format!("verified and required: {}", user.name)
}

#[get("/verified-strict")]
fn verified_strict(user: VerifiedMwUser) -> String {
    format!("verified strictly: {}", user.name)
}

/// The user lent for the request (`&MwUser`), before and after a
/// `VerifiedMwUser` of the same request (which signs out a revoked grant).
#[get("/lent")]
fn lent(
    first: Option<&MwUser>,
    verified: Option<VerifiedMwUser>,
    again: Option<&MwUser>,
) -> String {
    let name = |u: Option<&MwUser>| u.map_or("anonymous".to_string(), |u| u.name.clone());
    format!(
        "lent: {}; verified: {}; lent again: {}",
        name(first),
        verified.map_or("anonymous".to_string(), |u| u.name.clone()),
        name(again)
    )
}

#[get("/me")]
fn me(user: MwUser) -> Json<MwUser> {
    Json(user)
}

#[get("/userinfo")]
async fn userinfo(api: MwApi) -> Result<Json<Value>, Error> {
    Ok(Json(
        api.request(&[("action", "query"), ("meta", "userinfo")])
            .await?,
    ))
}

/// `/userinfo` with parameters whose names need percent-encoding (the wiki
/// ignores them, after checking the signature over them).
#[get("/userinfo-odd-names")]
async fn userinfo_odd_names(api: MwApi) -> Result<Json<Value>, Error> {
    Ok(Json(
        api.request(&[
            ("action", "query"),
            ("meta", "userinfo"),
            ("a:b", "c d"),
            ("n\u{e4}me", "\u{fc}"),
            // PHP's $_GET keeps the last of a repeated name and rewrites a
            // `.` or a space in a name: these go as a POST.
            ("x.y", "1"),
            ("dup", "1"),
            ("dup", "2"),
        ])
        .await?,
    ))
}

/// The signed-in user on another wiki (`?api=<its api.php>`).
#[get("/userinfo-at?<wiki>")]
async fn userinfo_at(api: MwApi, wiki: &str) -> Result<Json<Value>, Error> {
    Ok(Json(
        api.at(wiki)
            .request(&[("action", "query"), ("meta", "userinfo")])
            .await?,
    ))
}

#[post("/edit?<title>&<text>")]
async fn edit(api: MwApi, title: &str, text: &str) -> Result<Json<Value>, Error> {
    let answer = api
        .post_with_token(
            "csrf",
            &[
                ("action", "edit"),
                ("title", title),
                ("text", text),
                ("summary", "test"),
            ],
        )
        .await?;
    Ok(Json(answer))
}

#[get("/page?<title>")]
async fn page(api: MwApi, title: &str) -> Result<String, Error> {
    let answer = api
        .request(&[
            ("action", "query"),
            ("prop", "revisions"),
            ("titles", title),
            ("rvprop", "content|user"),
            ("rvslots", "main"),
        ])
        .await?;
    let rev = &answer["query"]["pages"][0]["revisions"][0];
    Ok(format!(
        "{} by {}",
        rev["slots"]["main"]["content"].as_str().unwrap_or("?"),
        rev["user"].as_str().unwrap_or("?")
    ))
}

/// Twelve grants, as a consumer with many rights asks for: its codes and
/// refresh tokens are the longest (1,146-character codes on a real 1.39),
/// and its record holds the most grants.
pub const TWELVE_GRANTS: [&str; 12] = [
    "basic",
    "highvolume",
    "editpage",
    "editprotected",
    "createeditmovepage",
    "uploadfile",
    "uploadeditmovefile",
    "patrol",
    "rollback",
    "blockusers",
    "delete",
    "protect",
];

/// The protocols every sign-in test runs with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Proto {
    /// OAuth 1.0a.
    OAuth1,
    /// OAuth 2.0, a confidential client (client secret).
    OAuth2,
    /// OAuth 2.0, a public client (PKCE only).
    OAuth2Public,
}

pub const PROTOCOLS: [Proto; 3] = [Proto::OAuth1, Proto::OAuth2, Proto::OAuth2Public];

/// Registers a consumer of `proto` whose callback is the app's
/// `{mount}/oauth-callback`, with the grants the tests use.
pub fn consumer_with(wiki: &DevWiki, app_port: u16, proto: Proto, mount: &str) -> Consumer {
    wiki.register_consumer(ConsumerSpec {
        name: format!("Test App ({proto:?})"),
        callback: format!(
            "http://127.0.0.1:{app_port}{}/oauth-callback",
            mount.trim_end_matches('/')
        ),
        callback_is_prefix: false,
        grants: vec![
            "basic".into(),
            "editpage".into(),
            "createeditmovepage".into(),
            "highvolume".into(),
        ],
        oauth2: proto != Proto::OAuth1,
        confidential: proto != Proto::OAuth2Public,
        ..Default::default()
    })
}

/// The figment of a test app talking to `wiki` as `consumer` with `proto`.
pub fn figment_with(wiki: &DevWiki, consumer: &Consumer, port: u16, proto: Proto) -> Figment {
    let base = Figment::from(rocket::Config::debug_default())
        .merge(("address", "127.0.0.1"))
        .merge(("port", port))
        .merge(("log_level", "off"))
        .merge(("secret_key", SECRET_KEY))
        .merge(("mwoauth.base_url", wiki.base_url()))
        .merge((
            "mwoauth.user_agent",
            "rocket_mediawiki_oauth-tests/0 (https://example.org/tests)",
        ))
        .merge(("mwoauth.timeout", 5));
    match proto {
        Proto::OAuth1 => base
            .merge(("mwoauth.consumer_key", consumer.key.clone()))
            .merge(("mwoauth.consumer_secret", consumer.secret.clone())),
        Proto::OAuth2 => base
            .merge(("mwoauth.client_id", consumer.key.clone()))
            .merge(("mwoauth.client_secret", consumer.secret.clone()))
            .merge(("mwoauth.callback", consumer.callback.clone())),
        // MediaWiki gives public clients a secret too, needed to refresh.
        Proto::OAuth2Public => base
            .merge(("mwoauth.client_id", consumer.key.clone()))
            .merge(("mwoauth.client_secret", consumer.secret.clone()))
            .merge(("mwoauth.public_client", true))
            .merge(("mwoauth.callback", consumer.callback.clone())),
    }
}

/// The local wiki, a consumer of `proto` for the app and the app, ready.
pub async fn wiki_and_app_with(proto: Proto) -> (DevWiki, Consumer, App) {
    wiki_and_app_on(MediaWikiVersion::default(), proto).await
}

/// The same, with the local wiki imitating `mediawiki`.
pub async fn wiki_and_app_on(
    mediawiki: MediaWikiVersion,
    proto: Proto,
) -> (DevWiki, Consumer, App) {
    wiki_and_app_in(mediawiki, proto, None).await
}

/// The same, with the sessions in `redis` (`store = "redis"`) when given,
/// else in the cookie (the default store).
pub async fn wiki_and_app_in(
    mediawiki: MediaWikiVersion,
    proto: Proto,
    redis: Option<&redis::Redis>,
) -> (DevWiki, Consumer, App) {
    let store = if redis.is_some() { "redis" } else { "cookie" };
    println!(
        "MediaWiki {}, protocol: {proto:?}, store: {store}",
        mediawiki.name()
    );
    let wiki = start_wiki_on(mediawiki).await;
    let port = free_port();
    let consumer = consumer_with(&wiki, port, proto, "/");
    let mut figment = figment_with(&wiki, &consumer, port, proto);
    if let Some(redis) = redis {
        figment = redis.configure(figment);
    }
    let app = launch(app_rocket(figment)).await;
    (wiki, consumer, app)
}

/// The MediaWiki the shared suite runs on in Redis mode (the version
/// dimension is covered in cookie mode): the LTS, whose refresh tokens are
/// single-use.
pub const REDIS_SUITE_VERSION: MediaWikiVersion = MediaWikiVersion::V1_43;

/// Another instance of the app of `consumer` (same `secret_key`, its own
/// port): it serves the same sessions.
pub async fn twin_instance(wiki: &DevWiki, consumer: &Consumer, proto: Proto) -> App {
    let port = free_port();
    launch(app_rocket(figment_with(wiki, consumer, port, proto))).await
}

/// The figment of a test app talking to `wiki` as `consumer`.
pub fn app_figment(wiki: &DevWiki, consumer: &Consumer, port: u16) -> Figment {
    Figment::from(rocket::Config::debug_default())
        .merge(("address", "127.0.0.1"))
        .merge(("port", port))
        .merge(("log_level", "off"))
        .merge(("secret_key", SECRET_KEY))
        .merge(("mwoauth.base_url", wiki.base_url()))
        .merge(("mwoauth.consumer_key", consumer.key.clone()))
        .merge(("mwoauth.consumer_secret", consumer.secret.clone()))
        .merge((
            "mwoauth.user_agent",
            "rocket_mediawiki_oauth-tests/0 (https://example.org/tests)",
        ))
        .merge(("mwoauth.timeout", 5))
}

pub fn app_rocket(figment: Figment) -> Rocket<Build> {
    rocket::custom(figment).attach(MwOAuth::fairing()).mount(
        "/",
        routes![
            userinfo_odd_names,
            index,
            private,
            verified,
            verified_required,
            verified_strict,
            lent,
            me,
            userinfo,
            userinfo_at,
            edit,
            page
        ],
    )
}

/// A running app.
pub struct App {
    pub url: String,
    pub port: u16,
    shutdown: rocket::Shutdown,
}

impl App {
    pub fn at(&self, path: &str) -> String {
        format!("{}{}", self.url, path)
    }
}

impl Drop for App {
    fn drop(&mut self) {
        self.shutdown.clone().notify();
    }
}

/// Launches `rocket` and waits until it listens.
pub async fn launch(rocket: Rocket<Build>) -> App {
    let (tx, rx) = tokio::sync::oneshot::channel();
    let tx = std::sync::Mutex::new(Some(tx));
    let rocket = rocket.attach(AdHoc::on_liftoff("port", move |r| {
        let port = r.config().port;
        Box::pin(async move {
            if let Some(tx) = tx.lock().unwrap().take() {
                let _ = tx.send(port);
            }
        })
    }));
    let rocket = rocket.ignite().await.expect("the app ignites");
    let shutdown = rocket.shutdown();
    tokio::spawn(async move {
        let _ = rocket.launch().await;
    });
    let port = tokio::time::timeout(std::time::Duration::from_secs(20), rx)
        .await
        .expect("the app starts in time")
        .expect("liftoff");
    App {
        url: format!("http://127.0.0.1:{port}"),
        port,
        shutdown,
    }
}

/// The local wiki, a consumer for the app and the app, ready.
pub async fn wiki_and_app() -> (DevWiki, Consumer, App) {
    let wiki = start_wiki().await;
    let port = free_port();
    let consumer = consumer_for(&wiki, port).await;
    let app = launch(app_rocket(app_figment(&wiki, &consumer, port))).await;
    (wiki, consumer, app)
}

/// A browser-like client: keeps cookies, follows redirects across sites.
pub fn browser() -> reqwest::Client {
    reqwest::Client::builder()
        .cookie_store(true)
        .redirect(reqwest::redirect::Policy::limited(10))
        .timeout(std::time::Duration::from_secs(30))
        .build()
        .unwrap()
}

/// A client that keeps cookies but does not follow redirects.
pub fn stepping_browser(jar: std::sync::Arc<reqwest::cookie::Jar>) -> reqwest::Client {
    reqwest::Client::builder()
        .cookie_provider(jar)
        .redirect(reqwest::redirect::Policy::none())
        .timeout(std::time::Duration::from_secs(30))
        .build()
        .unwrap()
}

/// The `Set-Cookie` headers of a response.
pub fn set_cookies(r: &reqwest::Response) -> Vec<String> {
    r.headers()
        .get_all("set-cookie")
        .iter()
        .map(|v| v.to_str().unwrap_or_default().to_string())
        .collect()
}

/// Follows one redirect by hand (with a client that does not follow them).
pub async fn follow(client: &reqwest::Client, r: &reqwest::Response) -> reqwest::Response {
    let location = r.headers()["location"].to_str().expect("a Location header");
    client
        .get(location)
        .send()
        .await
        .expect("the redirect target answers")
}

/// A whole login step by step (the wiki approves at once): `/login?next=`,
/// the wiki, the callback; returns the callback's answer.
pub async fn step_login(client: &reqwest::Client, app: &App, next: &str) -> reqwest::Response {
    let r = client
        .get(app.at(&format!("/login?next={}", urlencode(next))))
        .send()
        .await
        .expect("login answers");
    let r = follow(client, &r).await;
    follow(client, &r).await
}

pub async fn text(client: &reqwest::Client, url: &str) -> (u16, String) {
    let r = client.get(url).send().await.expect("request");
    (r.status().as_u16(), r.text().await.unwrap_or_default())
}

/// Logs in as `user` (the wiki approves automatically) and returns the final page.
pub async fn login_as(
    wiki: &DevWiki,
    client: &reqwest::Client,
    app: &App,
    user: &str,
    next: &str,
) -> (u16, String) {
    wiki.set_auto_approve(Some(user));
    text(client, &app.at(&format!("/login?next={}", urlencode(next)))).await
}

pub fn urlencode(s: &str) -> String {
    url::form_urlencoded::byte_serialize(s.as_bytes()).collect()
}

/// The signed-in record in the browser's `mwoauth_session` cookie, opened
/// as the crate's documentation describes format 3 (src/session/record.rs,
/// src/compact.rs), independently of the crate's code: `3.`, base64url of
/// nonce ‖ AES-256-GCM(length ‖ DEFLATE(values) ‖ random bytes) ‖ tag, the
/// key HKDF-SHA256(secret_key, salt "rocket_mediawiki_oauth cookie", info
/// "session record v3"), the associated data "mwoauth_session v3". Returned
/// as the JSON the record would be (`app`, `at`, `u`, `cr` with `p`, `a`,
/// `r`, `e`, `l`).
pub fn session_record(jar: &reqwest::cookie::Jar, app: &App) -> Value {
    use aes_gcm::aead::{Aead, KeyInit, Payload};
    use base64::Engine;
    use reqwest::cookie::CookieStore;
    let header = jar.cookies(&app.at("/").parse().unwrap()).unwrap();
    let value = header
        .to_str()
        .unwrap()
        .split("; ")
        .find_map(|c| c.strip_prefix("mwoauth_session="))
        .unwrap()
        .to_string();
    let sealed = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(value.strip_prefix("3.").expect("a format-3 session cookie"))
        .unwrap();
    let secret = base64::engine::general_purpose::STANDARD
        .decode(SECRET_KEY)
        .unwrap();
    let mut key = [0u8; 32];
    hkdf::Hkdf::<sha2::Sha256>::new(Some(b"rocket_mediawiki_oauth cookie"), &secret)
        .expand(b"session record v3", &mut key)
        .unwrap();
    let (nonce, ciphertext) = sealed.split_at(12);
    let body = aes_gcm::Aes256Gcm::new(&key.into())
        .decrypt(
            nonce.into(),
            Payload {
                msg: ciphertext,
                aad: b"mwoauth_session v3",
            },
        )
        .expect("sealed with the app's secret_key");
    let mut framing = CompactRecord(&body, &[]);
    let deflated = framing.raw();
    let values = miniz_oxide::inflate::decompress_to_vec(&deflated).unwrap();
    CompactRecord(&values, framing.0).record()
}

/// Reads format 3's layout: LEB128 integers (zigzag where signed), strings
/// length first, tokens packed by shape (0 as is; 1 lowercase hex as its
/// bytes; 2 a JWT as its parts' bytes), where the bytes of a hex token and
/// of a JWT's signature are not among the values but, in order, in the
/// second part (their lengths are among the values).
struct CompactRecord<'a>(&'a [u8], &'a [u8]);

impl CompactRecord<'_> {
    fn byte(&mut self) -> u8 {
        let b = self.0[0];
        self.0 = &self.0[1..];
        b
    }
    fn random(&mut self) -> Vec<u8> {
        let n = self.uint() as usize;
        let b = self.1[..n].to_vec();
        self.1 = &self.1[n..];
        b
    }
    fn uint(&mut self) -> u64 {
        let (mut n, mut shift) = (0u64, 0);
        loop {
            let b = self.byte();
            n |= u64::from(b & 0x7f) << shift;
            if b < 0x80 {
                return n;
            }
            shift += 7;
        }
    }
    fn int(&mut self) -> i64 {
        let z = self.uint();
        (z >> 1) as i64 ^ -((z & 1) as i64)
    }
    fn raw(&mut self) -> Vec<u8> {
        let n = self.uint() as usize;
        let b = self.0[..n].to_vec();
        self.0 = &self.0[n..];
        b
    }
    fn str(&mut self) -> String {
        String::from_utf8(self.raw()).unwrap()
    }
    fn strs(&mut self) -> Vec<String> {
        (0..self.uint()).map(|_| self.str()).collect()
    }
    fn text(&mut self) -> String {
        use base64::Engine;
        match self.byte() {
            0 => self.str(),
            1 => self.random().iter().map(|b| format!("{b:02x}")).collect(),
            2 => [self.raw(), self.raw(), self.random()]
                .map(|part| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(part))
                .join("."),
            other => panic!("packing {other}"),
        }
    }
    fn record(mut self) -> Value {
        assert_eq!(self.byte(), 3, "format 3");
        let app = self.text();
        let at = self.int();
        let name = self.str();
        let (central_id, editcount, flags) = (self.uint(), self.uint(), self.byte());
        let registered = (flags & 4 != 0).then(|| self.str());
        let (groups, grants) = (self.strs(), self.strs());
        let credentials = match self.byte() {
            1 => serde_json::json!({"p": "o1", "k": self.text(), "s": self.text()}),
            2 => {
                let flags = self.byte();
                let access = self.text();
                let refresh = (flags & 1 != 0).then(|| self.text());
                let expires = (flags & 2 != 0).then(|| self.int());
                let lifetime = (flags & 4 != 0).then(|| self.int());
                serde_json::json!({"p": "o2", "a": access, "r": refresh, "e": expires,
                    "l": lifetime, "cc": flags & 8 != 0})
            }
            other => panic!("protocol {other}"),
        };
        assert!(
            self.0.is_empty() && self.1.is_empty(),
            "nothing after the credentials"
        );
        serde_json::json!({
            "app": app,
            "at": at,
            "u": {"n": name, "i": central_id, "e": editcount, "b": flags & 1 != 0,
                "c": flags & 2 != 0, "r": registered, "g": groups, "gr": grants},
            "cr": credentials,
        })
    }
}

/// The binding a record of the app on `base_url` signing in as `consumer`
/// carries (`"app"`), as the README's security model describes it: the
/// first 12 bytes of SHA-256 over length-prefixed parts, in hex.
pub fn app_binding(base_url: &str, oauth2: bool, consumer: &str) -> String {
    use sha2::{Digest, Sha256};
    let api_url = format!("{base_url}/api.php");
    let protocol = if oauth2 { "oauth 2.0" } else { "oauth 1.0a" };
    let mut digest = Sha256::new();
    for part in [
        "rocket_mediawiki_oauth record binding",
        api_url.as_str(),
        protocol,
        consumer,
    ] {
        digest.update((part.len() as u64).to_be_bytes());
        digest.update(part.as_bytes());
    }
    digest.finalize()[..12]
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}
