//! A broken or hostile "wiki": answers each Special:OAuth step with whatever
//! a test sets (garbage, HTML, errors, bad JWTs, silence), on loopback.
#![allow(dead_code)]

use std::sync::{Arc, Mutex};
use std::time::Duration;

use rocket::http::{ContentType, Status};
use rocket::request::{FromRequest, Outcome, Request};
use rocket::{get, routes, State};

/// How one step answers: status, content type, body made from the request's
/// `oauth_nonce`, and a delay.
#[derive(Clone)]
pub struct Answer {
    pub status: u16,
    pub content_type: ContentType,
    pub body: Arc<dyn Fn(&str) -> String + Send + Sync>,
    pub delay: Duration,
}

impl Answer {
    pub fn text(body: &str) -> Answer {
        let body = body.to_string();
        Answer {
            status: 200,
            content_type: ContentType::Plain,
            body: Arc::new(move |_| body.clone()),
            delay: Duration::ZERO,
        }
    }
    pub fn with_status(mut self, status: u16) -> Answer {
        self.status = status;
        self
    }
    pub fn html(body: &str) -> Answer {
        Answer {
            content_type: ContentType::HTML,
            ..Answer::text(body)
        }
    }
    pub fn from_nonce(f: impl Fn(&str) -> String + Send + Sync + 'static) -> Answer {
        Answer {
            content_type: ContentType::JSON,
            body: Arc::new(f),
            ..Answer::text("")
        }
    }
    pub fn delayed(mut self, delay: Duration) -> Answer {
        self.delay = delay;
        self
    }
}

#[derive(Clone)]
pub struct Behaviour {
    pub initiate: Answer,
    pub token: Answer,
    pub identify: Answer,
    /// OAuth 2.0 `rest.php/oauth2/access_token`: the body is made from the
    /// request's form body (so that a test can echo it).
    pub oauth2_token: Answer,
    /// OAuth 2.0 `rest.php/oauth2/resource/profile`: the body is made from
    /// the request's `Authorization` header.
    pub profile: Answer,
}

pub type Shared = Arc<Mutex<Behaviour>>;

struct AuthHeader(String);

#[rocket::async_trait]
impl<'r> FromRequest<'r> for AuthHeader {
    type Error = ();
    async fn from_request(req: &'r Request<'_>) -> Outcome<Self, ()> {
        Outcome::Success(AuthHeader(
            req.headers()
                .get_one("Authorization")
                .unwrap_or_default()
                .to_string(),
        ))
    }
}

fn nonce_of(header: &str) -> String {
    header
        .split(',')
        .filter_map(|p| p.trim().trim_start_matches("OAuth ").split_once('='))
        .find(|(k, _)| *k == "oauth_nonce")
        .map(|(_, v)| v.trim_matches('"').to_string())
        .unwrap_or_default()
}

#[get("/w/index.php?<title>")]
async fn index(
    title: &str,
    auth: AuthHeader,
    state: &State<Shared>,
) -> (Status, (ContentType, String)) {
    let answer = {
        let b = state.lock().unwrap();
        match title {
            "Special:OAuth/initiate" => b.initiate.clone(),
            "Special:OAuth/token" => b.token.clone(),
            "Special:OAuth/identify" => b.identify.clone(),
            _ => Answer::html("<html>authorize page</html>"),
        }
    };
    if !answer.delay.is_zero() {
        tokio::time::sleep(answer.delay).await;
    }
    let body = (answer.body)(&nonce_of(&auth.0));
    (Status::new(answer.status), (answer.content_type, body))
}

pub const REQUEST_TOKEN: &str = "0123456789abcdef0123456789abcdef";
pub const CONSUMER_KEY: &str = "bee2067d6273fa479f7c7ec744cc1b49";
pub const CONSUMER_SECRET: &str = "78f334db94e07b61b8d5cd14fb4d0b99f988a1bd";

/// A behaviour where everything works (with a good JWT for `Mallory`).
pub fn good(origin: String) -> Behaviour {
    Behaviour {
        initiate: Answer::text(&format!(
            "oauth_token={REQUEST_TOKEN}&oauth_token_secret=fa75effbbfa1e324e0e70a9edf6d0b1b&oauth_callback_confirmed=true"
        )),
        token: Answer::text(
            "oauth_token=8efb54617594c7cd3a70703660799948&oauth_token_secret=e1125fdb4e24e12afcfab46333c48c52c13f4f41&oauth_callback_confirmed=true",
        ),
        identify: jwt_answer(origin, |_| {}),
        oauth2_token: oauth2_tokens(3600),
        profile: Answer::from_nonce(|_| PROFILE.to_string()),
    }
}

/// The OAuth 2.0 client of apps made with [`figment_oauth2`].
pub const CLIENT_ID: &str = "0c2b5b3a6d9e4f1a8b7c6d5e4f3a2b1c";
pub const CLIENT_SECRET: &str = "5ecret0f7he0auth2c1ient5ecret0f7he0auth2";

/// A profile of `Mallory`, as `rest.php/oauth2/resource/profile` gives it.
pub const PROFILE: &str = r#"{"sub":42,"username":"Mallory","editcount":1,"confirmed_email":false,"blocked":false,"registered":"20260101000000","groups":["*","user"],"rights":["read"],"grants":["basic"]}"#;

/// A token answer with fresh tokens living `expires_in` seconds (each
/// answer's tokens differ).
pub fn oauth2_tokens(expires_in: i64) -> Answer {
    let counter = Arc::new(std::sync::atomic::AtomicU64::new(0));
    Answer::from_nonce(move |_| {
        let n = counter.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        format!(
            r#"{{"token_type":"Bearer","access_token":"access{n}","refresh_token":"refresh{n}","expires_in":{expires_in}}}"#
        )
    })
}

#[rocket::post("/w/rest.php/oauth2/access_token", data = "<form>")]
async fn oauth2_token(form: String, state: &State<Shared>) -> (Status, (ContentType, String)) {
    let answer = state.lock().unwrap().oauth2_token.clone();
    if !answer.delay.is_zero() {
        tokio::time::sleep(answer.delay).await;
    }
    let body = (answer.body)(&form);
    (Status::new(answer.status), (answer.content_type, body))
}

#[get("/w/rest.php/oauth2/resource/profile")]
async fn profile(auth: AuthHeader, state: &State<Shared>) -> (Status, (ContentType, String)) {
    let answer = state.lock().unwrap().profile.clone();
    let body = (answer.body)(&auth.0);
    (Status::new(answer.status), (answer.content_type, body))
}

/// An identify answer: a JWT with the real claims, altered by `edit`.
pub fn jwt_answer(
    origin: String,
    edit: impl Fn(&mut serde_json::Value) + Send + Sync + 'static,
) -> Answer {
    Answer::from_nonce(move |nonce| {
        let now = time::OffsetDateTime::now_utc().unix_timestamp();
        let mut header = serde_json::json!({"typ":"JWT","alg":"HS256"});
        let mut claims = serde_json::json!({
            "iss": origin, "aud": CONSUMER_KEY, "exp": now + 100, "iat": now, "sub": "42",
            "username": "Mallory", "editcount": 1, "confirmed_email": false, "email_verified": false,
            "blocked": false, "registered": "20260101000000", "groups": ["*", "user"],
            "rights": ["read"], "grants": {"0": "basic"}, "nonce": nonce,
        });
        edit(&mut claims);
        let key = claims
            .as_object_mut()
            .unwrap()
            .remove("__key")
            .and_then(|k| k.as_str().map(str::to_string))
            .unwrap_or_else(|| CONSUMER_SECRET.to_string());
        if let Some(alg) = claims.as_object_mut().unwrap().remove("__alg") {
            header["alg"] = alg;
        }
        encode_hs256(&header, &claims, &key)
    })
}

/// Signs claims as an HS256 JWT, as Extension:OAuth does (written here, not
/// taken from the crate under test).
fn encode_hs256(header: &serde_json::Value, claims: &serde_json::Value, key: &str) -> String {
    use base64::engine::general_purpose::URL_SAFE_NO_PAD;
    use base64::Engine;
    use hmac::{Hmac, Mac};
    let h = URL_SAFE_NO_PAD.encode(header.to_string());
    let c = URL_SAFE_NO_PAD.encode(claims.to_string());
    let mut mac = Hmac::<sha2::Sha256>::new_from_slice(key.as_bytes()).unwrap();
    mac.update(format!("{h}.{c}").as_bytes());
    let s = URL_SAFE_NO_PAD.encode(mac.finalize().into_bytes());
    format!("{h}.{c}.{s}")
}

pub struct HostileWiki {
    pub behaviour: Shared,
    pub origin: String,
    pub app: super::App,
}

/// Starts the hostile wiki (the `App` type is reused for its handle).
pub async fn start() -> HostileWiki {
    let port = super::free_port();
    let origin = format!("http://127.0.0.1:{port}");
    let behaviour: Shared = Arc::new(Mutex::new(good(origin.clone())));
    let figment = rocket::Config::figment()
        .merge(("address", "127.0.0.1"))
        .merge(("port", port))
        .merge(("log_level", "off"));
    let rocket = rocket::custom(figment)
        .manage(behaviour.clone())
        .mount("/", routes![index, oauth2_token, profile]);
    let app = super::launch(rocket).await;
    HostileWiki {
        behaviour,
        origin,
        app,
    }
}

/// The figment of an app talking to the hostile wiki.
pub fn figment_for(h: &HostileWiki, port: u16) -> rocket::figment::Figment {
    rocket::figment::Figment::from(rocket::Config::debug_default())
        .merge(("address", "127.0.0.1"))
        .merge(("port", port))
        .merge(("log_level", "off"))
        .merge(("secret_key", super::SECRET_KEY))
        .merge(("mwoauth.base_url", format!("{}/w", h.origin)))
        .merge(("mwoauth.consumer_key", CONSUMER_KEY))
        .merge(("mwoauth.consumer_secret", CONSUMER_SECRET))
        .merge(("mwoauth.user_agent", "tests/0 (https://example.org/tests)"))
        .merge(("mwoauth.timeout", 1))
}

/// The figment of an app signing in with OAuth 2.0 at the hostile wiki.
pub fn figment_oauth2(h: &HostileWiki, port: u16) -> rocket::figment::Figment {
    rocket::figment::Figment::from(rocket::Config::debug_default())
        .merge(("address", "127.0.0.1"))
        .merge(("port", port))
        .merge(("log_level", "off"))
        .merge(("secret_key", super::SECRET_KEY))
        .merge(("mwoauth.base_url", format!("{}/w", h.origin)))
        .merge(("mwoauth.client_id", CLIENT_ID))
        .merge(("mwoauth.client_secret", CLIENT_SECRET))
        .merge((
            "mwoauth.callback",
            format!("http://127.0.0.1:{port}/oauth-callback"),
        ))
        .merge(("mwoauth.user_agent", "tests/0 (https://example.org/tests)"))
        .merge(("mwoauth.timeout", 1))
}

/// Signs in at `app` (OAuth 2.0 at the hostile wiki) with `browser`: the
/// login, then the callback the wiki would send, with `code`. Returns the
/// callback's answer.
pub async fn oauth2_login(
    browser: &reqwest::Client,
    app: &super::App,
    code: &str,
) -> reqwest::Response {
    let r = browser.get(app.at("/login")).send().await.unwrap();
    let to_wiki = r.headers()["location"].to_str().unwrap().to_string();
    let state = url::Url::parse(&to_wiki)
        .unwrap()
        .query_pairs()
        .find(|(k, _)| k == "state")
        .map(|(_, v)| v.into_owned())
        .expect("a state in the authorize URL");
    browser
        .get(app.at(&format!(
            "/oauth-callback?code={code}&state={}",
            super::urlencode(&state)
        )))
        .send()
        .await
        .unwrap()
}

impl HostileWiki {
    pub fn set(&self, f: impl FnOnce(&mut Behaviour)) {
        f(&mut self.behaviour.lock().unwrap());
    }
}
