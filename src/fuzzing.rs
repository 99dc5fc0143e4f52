//! Entry points for the fuzz targets in `fuzz/`, compiled only with
//! `--cfg fuzzing` (as cargo-fuzz builds). Each one calls the crate's own
//! parser unchanged and hands back plain values, so that no internal has to
//! be public. Not part of the API.

use std::cell::RefCell;
use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use rocket::http::Cookie;
use rocket::local::blocking::{Client, LocalRequest};
use serde_json::Value;

use crate::protocol::{PendingLogin, Protocol};
use crate::session::{self, CookiePolicy, SessionRecord};
use crate::{ApiError, Config, IdentityError, OAuthVersion, VerifiedMwUser, WikiError};

/// `protocol::read_callback`: the accepted callback's login key, or the
/// login key a `BadCallback` carries.
pub fn read_callback(query: Option<&str>) -> Result<String, Option<String>> {
    match crate::protocol::read_callback(query) {
        Ok(callback) => Ok(callback.login_key().to_string()),
        Err(bad) => Err(bad.login_key),
    }
}

/// `redirect::is_local_path`.
pub fn is_local_path(s: &str) -> bool {
    crate::redirect::is_local_path(s)
}

/// `redirect::safe_next`.
pub fn safe_next(next: Option<&str>, default: &str) -> String {
    crate::redirect::safe_next(next, default)
}

/// `redirect::MAX_NEXT_LEN`.
pub const MAX_NEXT_LEN: usize = crate::redirect::MAX_NEXT_LEN;

/// `wire::redact`: `text` with every occurrence of `secrets` and every
/// value after a secret's name masked.
pub fn redact(text: &str, secrets: &[&str]) -> String {
    crate::wire::redact(text, secrets)
}

/// `wire::REDACTED`, what stands in for a secret.
pub const REDACTED: &str = crate::wire::REDACTED;

/// `api::parse_answer`.
pub fn parse_answer(body: &str) -> Result<Value, ApiError> {
    crate::api::parse_answer(body)
}

/// `api::classify_answer`.
pub fn classify_answer(value: Value, retry_after: Option<Duration>) -> Result<Value, ApiError> {
    crate::api::classify_answer(value, retry_after)
}

/// What an identity token must match (`identity::Expected`).
#[derive(Debug, Clone, Copy)]
pub struct Expected<'a> {
    /// `aud`.
    pub consumer_key: &'a str,
    /// The HS256 key.
    pub consumer_secret: &'a str,
    /// `iss`, as an origin.
    pub issuer_origin: &'a str,
    /// `nonce`.
    pub nonce: &'a str,
    /// Now, in Unix seconds.
    pub now: i64,
    /// Allowed clock skew, in seconds.
    pub leeway: i64,
}

/// `identity::verify`.
pub fn verify_identity(jwt: &str, e: &Expected<'_>) -> Result<VerifiedMwUser, IdentityError> {
    crate::protocol::identity::verify(
        jwt,
        &crate::protocol::identity::Expected {
            consumer_key: e.consumer_key,
            consumer_secret: e.consumer_secret,
            issuer_origin: e.issuer_origin,
            nonce: e.nonce,
            now: e.now,
            leeway: e.leeway,
        },
    )
}

/// A decoded session record (`session::SessionRecord`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Session(SessionRecord);

impl Session {
    /// The record as the crate writes it into the cookie (serde_json).
    pub fn to_json(&self) -> String {
        serde_json::to_string(&self.0).expect("records serialize")
    }

    /// The record in the session cookie's compact layout (format 3, before
    /// it is compressed and sealed): its values and its random bytes.
    pub fn to_compact(&self) -> (Vec<u8>, Vec<u8>) {
        session::compact(&self.0)
    }
}

thread_local! {
    /// A Rocket instance to make requests (and so cookie jars) with.
    static ROCKET: Client = Client::untracked(rocket::custom(rocket::Config {
        secret_key: rocket::config::SecretKey::from(&[7u8; 64]),
        log_level: rocket::config::LogLevel::Off,
        ..rocket::Config::debug_default()
    }))
    .expect("a Rocket client");
}

/// Cookies written as the default configuration does, but sessions that
/// stay fresh for as long as `session_days` allows.
fn policy() -> CookiePolicy {
    CookiePolicy {
        secure: false,
        secure_behind_proxy: false,
        login_path: "/login".into(),
        callback_path: "/oauth-callback".into(),
        session_days: u32::MAX,
        protocol: OAuthVersion::OAuth1,
        app: String::new(),
    }
}

fn with_request<T>(
    build: impl FnOnce(LocalRequest<'_>) -> LocalRequest<'_>,
    f: impl FnOnce(&rocket::Request<'_>) -> T,
) -> T {
    ROCKET.with(|client| {
        let request = build(client.get("/"));
        f(request.inner())
    })
}

/// `session::from_compact`: the record of a format-3 session cookie, as
/// it reads once opened and inflated.
pub fn decode_compact_session(values: &[u8], random: &[u8]) -> Option<Session> {
    session::from_compact(values, random).map(Session)
}

/// `session::decode_session`, reached as the crate reaches it: `value` is the
/// decrypted `mwoauth_session` cookie of a request (format 2, JSON in a
/// Rocket private cookie, as Redis keeps it too), read by
/// `session::read_session` (which also drops records older than the sign-in
/// lifetime; here that is `u32::MAX` days), as a site signing in with
/// OAuth 1.0a reads it or else as one signing in with OAuth 2.0.
pub fn decode_session(value: &str) -> Option<Session> {
    let cookie = Cookie::new(session::SESSION_COOKIE, value.to_string());
    with_request(
        |r| r.private_cookie(cookie),
        |req| {
            // A site of either protocol: each reads its own sessions.
            [OAuthVersion::OAuth1, OAuthVersion::OAuth2]
                .into_iter()
                .find_map(|protocol| {
                    let policy = CookiePolicy {
                        protocol,
                        ..policy()
                    };
                    session::read_session(
                        req.cookies(),
                        &policy,
                        &session::cookie_sealer(&[7u8; 64]),
                    )
                })
                .map(Session)
        },
    )
}

/// `session::read_index`, reached through `session::store_pending`: `index`
/// is the browser's `mwoauth_pending` cookie (every `@` in it replaced by
/// the current Unix time, so that entries can be live), one login is
/// stored, and the index cookie the crate writes back is returned with the
/// Unix time before and after (the crate reads the clock in between).
pub fn store_login(index: &str) -> (String, i64, i64) {
    let now = time::OffsetDateTime::now_utc().unix_timestamp();
    let value = index.replace('@', &now.to_string());
    let login: PendingLogin =
        serde_json::from_value(serde_json::json!({"p": "o1", "k": "requestkey", "s": "secret"}))
            .expect("a pending login");
    let written = with_request(
        |r| r.cookie(Cookie::new("mwoauth_pending", value)),
        |req| {
            session::store_pending(req.cookies(), &policy(), login, "/", None);
            req.cookies()
                .get_pending("mwoauth_pending")
                .map(|c| c.value().to_string())
        },
    );
    let after = time::OffsetDateTime::now_utc().unix_timestamp();
    (written.expect("store_pending writes the index"), now, after)
}

/// A loopback "wiki" answering every request with HTTP 200 and the current
/// body, and the sign-in side of the protocol pointed at it.
struct Wiki {
    runtime: tokio::runtime::Runtime,
    protocol: Protocol,
    body: Arc<Mutex<Vec<u8>>>,
}

impl Wiki {
    fn start() -> Wiki {
        let listener = TcpListener::bind("127.0.0.1:0").expect("a loopback port");
        let port = listener.local_addr().expect("an address").port();
        let body = Arc::new(Mutex::new(Vec::new()));
        let shared = body.clone();
        std::thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                let body = shared.clone();
                std::thread::spawn(move || serve(stream, &body));
            }
        });
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("a runtime");
        let config = Config::new(
            &format!("http://127.0.0.1:{port}"),
            "consumerkey",
            "consumersecret",
        );
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(10))
            .build()
            .expect("an HTTP client");
        Wiki {
            runtime,
            protocol: Protocol::new(&config, http),
            body,
        }
    }
}

/// Answers the requests of one keep-alive connection (GET, no body).
fn serve(mut stream: TcpStream, body: &Mutex<Vec<u8>>) {
    let _ = stream.set_nodelay(true);
    let mut pending = Vec::new();
    let mut buf = [0u8; 4096];
    loop {
        while let Some(end) = pending.windows(4).position(|w| w == b"\r\n\r\n") {
            pending.drain(..end + 4);
            let body = body.lock().expect("the body").clone();
            let mut answer = format!(
                "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: {}\r\n\r\n",
                body.len()
            )
            .into_bytes();
            answer.extend_from_slice(&body);
            if stream.write_all(&answer).is_err() {
                return;
            }
        }
        match stream.read(&mut buf) {
            Ok(0) | Err(_) => return,
            Ok(n) => pending.extend_from_slice(&buf[..n]),
        }
    }
}

thread_local! {
    static WIKI: RefCell<Option<Wiki>> = const { RefCell::new(None) };
}

/// `oauth1::parse_token_answer`, reached as the crate reaches it:
/// `Protocol::start_login` against a wiki whose `Special:OAuth/initiate`
/// answers `body` (HTTP 200). The request token's key, or the error as the
/// crate would show it (`Display`).
pub fn initiate_answer(body: &[u8]) -> Result<String, String> {
    WIKI.with(|cell| {
        let mut cell = cell.borrow_mut();
        let wiki = cell.get_or_insert_with(Wiki::start);
        *wiki.body.lock().expect("the body") = body.to_vec();
        wiki.runtime
            .block_on(wiki.protocol.start_login(None))
            .map(|(pending, _url)| pending.key().to_string())
            .map_err(|e| e.to_string())
    })
}

/// `session::take_pending`, reached as the callback reaches it: `value` is
/// the decrypted `mwoauth_login_0` cookie (every `@` in it replaced by the
/// current Unix time) and `key` the callback's login key. The key and `next`
/// of the login it finishes, and the Unix time before and after.
pub fn take_login(value: &str, key: &str) -> (Option<(String, String)>, i64, i64) {
    let before = time::OffsetDateTime::now_utc().unix_timestamp();
    let cookie = Cookie::new("mwoauth_login_0", value.replace('@', &before.to_string()));
    let taken = with_request(
        |r| r.private_cookie(cookie),
        |req| {
            session::take_pending(req, &policy(), key)
                .map(|(login, next, _)| (login.key().to_string(), next))
        },
    );
    let after = time::OffsetDateTime::now_utc().unix_timestamp();
    (taken, before, after)
}

/// OAuth 2.0 `oauth2::parse_token_answer`: the answer of
/// `rest.php/oauth2/access_token` with HTTP `status`. The access token, the
/// refresh token and the lifetime (`expires_in`).
pub fn oauth2_token_answer(
    status: u16,
    body: &str,
) -> Result<(String, Option<String>, Option<i64>), WikiError> {
    crate::protocol::oauth2_token_answer(status, body)
}

/// OAuth 2.0 `oauth2::read_profile`: the answer of
/// `rest.php/oauth2/resource/profile`.
pub fn oauth2_profile(body: &str) -> Result<VerifiedMwUser, WikiError> {
    crate::protocol::oauth2_profile(body)
}
