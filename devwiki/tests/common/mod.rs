//! Small HTTP helpers shared by `sizes.rs` and `versions.rs`: requests
//! made by hand with reqwest (and OAuth 1.0a signed here with hmac + sha1),
//! so the wiki is checked on its own, without any client code.

#![allow(dead_code)]

use base64::Engine as _;
use devwiki::{ConsumerSpec, DevWiki, DevWikiConfig, MediaWikiVersion};
use hmac::Mac as _;
use serde_json::Value;
use sha2::Digest as _;

pub fn http() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .timeout(std::time::Duration::from_secs(20))
        .user_agent("devwiki-version-tests/0.1 (tests)")
        .build()
        .unwrap()
}

/// A wiki imitating `version`, approving every authorization as Alice
/// (central id 2: one digit, like the captures' user 3).
pub async fn start(version: MediaWikiVersion) -> DevWiki {
    DevWiki::start(DevWikiConfig {
        auto_approve: Some("Alice".into()),
        mediawiki: version,
        ..DevWikiConfig::default()
    })
    .await
    .unwrap()
}

/// Registers a confidential OAuth 2.0 client with these grants and
/// redirect URI (its `client_id` is 32 hex, as on a real wiki).
pub fn client(wiki: &DevWiki, grants: &[&str], redirect: &str) -> devwiki::Consumer {
    wiki.register_consumer(ConsumerSpec {
        name: "Sizes".into(),
        callback: redirect.into(),
        grants: grants.iter().map(|g| g.to_string()).collect(),
        oauth2: true,
        ..ConsumerSpec::default()
    })
}

pub fn enc(s: &str) -> String {
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

pub fn qs(pairs: &[(&str, &str)]) -> String {
    pairs
        .iter()
        .map(|(k, v)| format!("{}={}", enc(k), enc(v)))
        .collect::<Vec<_>>()
        .join("&")
}

pub struct Got {
    pub status: u16,
    pub headers: reqwest::header::HeaderMap,
    pub body: String,
}

impl Got {
    pub fn json(&self) -> Value {
        serde_json::from_str(&self.body).unwrap_or_else(|e| panic!("{e}: {}", self.body))
    }
    pub fn header(&self, name: &str) -> Option<String> {
        self.headers
            .get(name)
            .map(|v| v.to_str().unwrap().to_string())
    }
    pub fn all(&self, name: &str) -> Vec<String> {
        self.headers
            .get_all(name)
            .iter()
            .map(|v| v.to_str().unwrap().to_string())
            .collect()
    }
    pub fn location(&self) -> String {
        self.header("location")
            .unwrap_or_else(|| panic!("no Location ({}): {}", self.status, self.body))
    }
}

pub async fn got(r: reqwest::Response) -> Got {
    Got {
        status: r.status().as_u16(),
        headers: r.headers().clone(),
        body: r.text().await.unwrap(),
    }
}

pub async fn authorize(wiki: &DevWiki, params: &[(&str, &str)]) -> Got {
    let url = format!(
        "{}/rest.php/oauth2/authorize?{}",
        wiki.base_url(),
        qs(params)
    );
    got(http().get(url).send().await.unwrap()).await
}

pub async fn token(wiki: &DevWiki, form: &[(&str, &str)]) -> Got {
    got(http()
        .post(format!("{}/rest.php/oauth2/access_token", wiki.base_url()))
        .header("Content-Type", "application/x-www-form-urlencoded")
        .body(qs(form))
        .send()
        .await
        .unwrap())
    .await
}

pub async fn resource(wiki: &DevWiki, kind: &str, bearer: Option<&str>) -> Got {
    let mut r = http().get(format!(
        "{}/rest.php/oauth2/resource/{kind}",
        wiki.base_url()
    ));
    if let Some(b) = bearer {
        r = r.header("Authorization", format!("Bearer {b}"));
    }
    got(r.send().await.unwrap()).await
}

/// A PKCE pair (verifier, S256 challenge of 43 characters).
pub fn pkce() -> (String, String) {
    use rand::Rng;
    let bytes: [u8; 32] = rand::thread_rng().gen();
    let verifier = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes);
    let challenge = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .encode(sha2::Sha256::digest(verifier.as_bytes()));
    (verifier, challenge)
}

/// The value of a query parameter of a URL.
pub fn query_param(url: &str, name: &str) -> Option<String> {
    let q = url.split_once('?')?.1;
    q.split('&').find_map(|p| {
        let (k, v) = p.split_once('=')?;
        (k == name).then(|| v.to_string())
    })
}

/// Authorizes `c` (as Alice, auto-approved) and returns the code: with
/// the registered `redirect_uri` when `with_redirect`, and PKCE S256 when
/// `challenge` is given.
pub async fn code(
    wiki: &DevWiki,
    c: &devwiki::Consumer,
    with_redirect: bool,
    challenge: Option<&str>,
) -> String {
    let mut p = vec![
        ("response_type", "code"),
        ("client_id", c.key.as_str()),
        ("state", "st"),
    ];
    if with_redirect {
        p.push(("redirect_uri", c.callback.as_str()));
    }
    if let Some(ch) = challenge {
        p.push(("code_challenge", ch));
        p.push(("code_challenge_method", "S256"));
    }
    let r = authorize(wiki, &p).await;
    assert_eq!(r.status, 302, "{}", r.body);
    query_param(&r.location(), "code").expect("a code")
}

/// Redeems a code: the token answer.
pub async fn redeem(
    wiki: &DevWiki,
    c: &devwiki::Consumer,
    code: &str,
    with_redirect: bool,
    verifier: Option<&str>,
) -> Got {
    let mut f = vec![
        ("grant_type", "authorization_code"),
        ("code", code),
        ("client_id", c.key.as_str()),
        ("client_secret", c.secret.as_str()),
    ];
    if with_redirect {
        f.push(("redirect_uri", c.callback.as_str()));
    }
    if let Some(v) = verifier {
        f.push(("code_verifier", v));
    }
    token(wiki, &f).await
}

/// Access and refresh token of a full sign-in (redirect_uri, no PKCE).
pub async fn sign_in(wiki: &DevWiki, c: &devwiki::Consumer) -> (String, String) {
    let code = code(wiki, c, true, None).await;
    let t = redeem(wiki, c, &code, true, None).await;
    assert_eq!(t.status, 200, "{}", t.body);
    let j = t.json();
    (
        j["access_token"].as_str().unwrap().to_string(),
        j["refresh_token"].as_str().unwrap().to_string(),
    )
}

pub fn b64d(s: &str) -> Vec<u8> {
    base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(s)
        .unwrap()
}

/// The header and payload of a JWT as raw JSON text.
pub fn jwt_texts(jwt: &str) -> (String, String, String) {
    let mut parts = jwt.split('.');
    let h = String::from_utf8(b64d(parts.next().unwrap())).unwrap();
    let p = String::from_utf8(b64d(parts.next().unwrap())).unwrap();
    (h, p, parts.next().unwrap().to_string())
}

/// The top-level keys of a JSON object, in their order in the text.
pub fn keys_in_order(json_text: &str) -> Vec<String> {
    let v: serde_json::Map<String, Value> = serde_json::from_str(json_text).unwrap();
    let mut keys: Vec<(usize, String)> = v
        .keys()
        .map(|k| {
            let at = json_text
                .find(&format!("\"{k}\":"))
                .unwrap_or_else(|| panic!("{k} in {json_text}"));
            (at, k.clone())
        })
        .collect();
    keys.sort();
    keys.into_iter().map(|(_, k)| k).collect()
}

/// `Special:OAuth/identify` signed (HMAC-SHA1) with an access token of
/// `consumer` for `user` (granted directly): the JWT text.
pub async fn identify(wiki: &DevWiki, consumer: &devwiki::Consumer, user: &str) -> Got {
    let (tk, ts) = wiki.grant(user, &consumer.key).unwrap();
    let url = format!("{}/wiki/Special:OAuth/identify", wiki.server());
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs()
        .to_string();
    let nonce = format!("{:032x}", rand::random::<u128>());
    let mut params: Vec<(String, String)> = vec![
        ("oauth_consumer_key".into(), consumer.key.clone()),
        ("oauth_nonce".into(), nonce),
        ("oauth_signature_method".into(), "HMAC-SHA1".into()),
        ("oauth_timestamp".into(), now),
        ("oauth_token".into(), tk),
        ("oauth_version".into(), "1.0".into()),
    ];
    params.sort();
    let normalized = params
        .iter()
        .map(|(k, v)| format!("{}={}", enc(k), enc(v)))
        .collect::<Vec<_>>()
        .join("&");
    let base = format!("GET&{}&{}", enc(&url), enc(&normalized));
    let key = format!("{}&{}", enc(&consumer.secret), enc(&ts));
    let mut mac = hmac::Hmac::<sha1::Sha1>::new_from_slice(key.as_bytes()).unwrap();
    mac.update(base.as_bytes());
    let sig = base64::engine::general_purpose::STANDARD.encode(mac.finalize().into_bytes());
    params.push(("oauth_signature".into(), sig));
    let header = format!(
        "OAuth {}",
        params
            .iter()
            .map(|(k, v)| format!("{}=\"{}\"", enc(k), enc(v)))
            .collect::<Vec<_>>()
            .join(", ")
    );
    got(http()
        .get(&url)
        .header("Authorization", header)
        .send()
        .await
        .unwrap())
    .await
}

/// Registers an OAuth 1.0a consumer with these grants.
pub fn oauth1_consumer(wiki: &DevWiki, grants: &[&str]) -> devwiki::Consumer {
    wiki.register_consumer(ConsumerSpec {
        name: "Identify".into(),
        grants: grants.iter().map(|g| g.to_string()).collect(),
        ..ConsumerSpec::default()
    })
}
