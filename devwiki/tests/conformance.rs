//! Conformance of DevWiki with what a real MediaWiki 1.39 + Extension:OAuth
//! answers (shared/protocol/observed-1.39-oauth1.md), over real HTTP on
//! loopback, with requests signed by a small helper written here (RFC 5849),
//! independent of the crate's own client code.

use std::collections::HashMap;

use base64::Engine as _;
use devwiki::{Consumer, ConsumerSpec, DevWiki, DevWikiConfig};
use hmac::{Hmac, Mac};
use serde_json::Value;

// ---------------------------------------------------------------- signing --

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

fn hmac_sha1_b64(key: &str, data: &str) -> String {
    let mut mac = Hmac::<sha1::Sha1>::new_from_slice(key.as_bytes()).unwrap();
    mac.update(data.as_bytes());
    base64::engine::general_purpose::STANDARD.encode(mac.finalize().into_bytes())
}

#[derive(Clone, Debug)]
struct Creds {
    ck: String,
    cs: String,
    token: Option<(String, String)>,
}

impl Creds {
    fn consumer(c: &Consumer) -> Creds {
        Creds {
            ck: c.key.clone(),
            cs: c.secret.clone(),
            token: None,
        }
    }
    fn with_token(&self, key: &str, secret: &str) -> Creds {
        Creds {
            token: Some((key.into(), secret.into())),
            ..self.clone()
        }
    }
}

#[derive(Default, Clone)]
struct Opt {
    nonce: Option<String>,
    timestamp: Option<i64>,
    sig_method: Option<&'static str>,
    /// Sign with this consumer secret instead of the real one.
    wrong_secret: Option<String>,
    /// Sign for this URL instead of the one requested.
    sign_url: Option<String>,
}

fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64
}

fn fresh_nonce() -> String {
    use rand::Rng;
    format!("{:032x}", rand::thread_rng().gen::<u128>())
}

/// The oauth_* parameters and the signature for a request.
fn oauth_params(
    c: &Creds,
    method: &str,
    url: &str,
    query: &[(&str, &str)],
    form: &[(&str, &str)],
    extra: &[(&str, &str)],
    opt: &Opt,
) -> Vec<(String, String)> {
    let mut oauth: Vec<(String, String)> = vec![
        ("oauth_consumer_key".into(), c.ck.clone()),
        (
            "oauth_nonce".into(),
            opt.nonce.clone().unwrap_or_else(fresh_nonce),
        ),
        (
            "oauth_signature_method".into(),
            opt.sig_method.unwrap_or("HMAC-SHA1").into(),
        ),
        (
            "oauth_timestamp".into(),
            opt.timestamp.unwrap_or_else(now).to_string(),
        ),
        ("oauth_version".into(), "1.0".into()),
    ];
    if let Some((t, _)) = &c.token {
        oauth.push(("oauth_token".into(), t.clone()));
    }
    for (k, v) in extra {
        oauth.push((k.to_string(), v.to_string()));
    }
    let mut all: Vec<(String, String)> = query
        .iter()
        .chain(form.iter())
        .map(|(k, v)| (enc(k), enc(v)))
        .chain(oauth.iter().map(|(k, v)| (enc(k), enc(v))))
        .collect();
    all.sort();
    let joined = all
        .iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect::<Vec<_>>()
        .join("&");
    let sign_url = opt.sign_url.clone().unwrap_or_else(|| url.to_string());
    let base = format!("{}&{}&{}", method, enc(&sign_url), enc(&joined));
    let cs = opt.wrong_secret.clone().unwrap_or_else(|| c.cs.clone());
    let ts = c.token.as_ref().map(|(_, s)| s.clone()).unwrap_or_default();
    let key = format!("{}&{}", enc(&cs), enc(&ts));
    let sig = if opt.sig_method == Some("PLAINTEXT") {
        key
    } else {
        hmac_sha1_b64(&key, &base)
    };
    oauth.push(("oauth_signature".into(), sig));
    oauth
}

fn header_of(oauth: &[(String, String)]) -> String {
    format!(
        "OAuth {}",
        oauth
            .iter()
            .map(|(k, v)| format!("{k}=\"{}\"", enc(v)))
            .collect::<Vec<_>>()
            .join(", ")
    )
}

fn nonce_of(oauth: &[(String, String)]) -> String {
    oauth
        .iter()
        .find(|(k, _)| k == "oauth_nonce")
        .map(|(_, v)| v.clone())
        .unwrap()
}

// ------------------------------------------------------------------- HTTP --

struct R {
    status: u16,
    headers: reqwest::header::HeaderMap,
    body: String,
}

impl R {
    fn h(&self, name: &str) -> String {
        self.headers
            .get(name)
            .map(|v| v.to_str().unwrap_or("").to_string())
            .unwrap_or_default()
    }
    fn json(&self) -> Value {
        serde_json::from_str(&self.body).unwrap_or_else(|e| panic!("not JSON ({e}): {}", self.body))
    }
}

fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
}

fn qs(pairs: &[(&str, &str)]) -> String {
    pairs
        .iter()
        .map(|(k, v)| format!("{}={}", enc(k), enc(v)))
        .collect::<Vec<_>>()
        .join("&")
}

async fn send(
    method: &str,
    url: &str,
    query: &[(&str, &str)],
    form: &[(&str, &str)],
    auth: Option<&str>,
) -> R {
    let full = if query.is_empty() {
        url.to_string()
    } else {
        format!("{url}?{}", qs(query))
    };
    let mut rb = client().request(
        reqwest::Method::from_bytes(method.as_bytes()).unwrap(),
        full,
    );
    if let Some(a) = auth {
        rb = rb.header("Authorization", a);
    }
    if method == "POST" {
        rb = rb
            .header("Content-Type", "application/x-www-form-urlencoded")
            .body(qs(form));
    }
    let resp = rb.send().await.expect("request");
    R {
        status: resp.status().as_u16(),
        headers: resp.headers().clone(),
        body: resp.text().await.unwrap(),
    }
}

/// A signed request (header placement).
#[allow(clippy::too_many_arguments)]
async fn signed(
    c: &Creds,
    method: &str,
    url: &str,
    query: &[(&str, &str)],
    form: &[(&str, &str)],
    extra: &[(&str, &str)],
    opt: &Opt,
) -> (R, String) {
    let oauth = oauth_params(c, method, url, query, form, extra, opt);
    let r = send(method, url, query, form, Some(&header_of(&oauth))).await;
    (r, nonce_of(&oauth))
}

fn parse_form(s: &str) -> HashMap<String, String> {
    s.split('&')
        .filter_map(|p| p.split_once('='))
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

fn is_hex(s: &str, n: usize) -> bool {
    s.len() == n
        && s.bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
}

const E009: &str = "Error: This request has already been completed and cannot be resubmitted.\nGo back to the application and try to connect your account again, or contact the application author.\n\n&lt;span class=&quot;plainlinks mw-mwoautherror-details&quot;&gt;OAuth token already used, <a class=\"external\" href=\"https://www.mediawiki.org/wiki/Help:OAuth/Errors#E009\">E009</a>&lt;/span&gt;";
const E004: &str = "Error: Sorry, something went wrong connecting this application.\nGo back and try to connect your account again, or contact the application author.\n\n&lt;span class=&quot;plainlinks mw-mwoautherror-details&quot;&gt;OAuth token not found, <a class=\"external\" href=\"https://www.mediawiki.org/wiki/Help:OAuth/Errors#E004\">E004</a>&lt;/span&gt;";
const NOT_OOB_OR_PREFIX: &str = "Error: oauth_callback must be set, and must be set to &quot;oob&quot; (case-sensitive), or the configured callback must be a prefix of the supplied callback.";
const NOT_OOB: &str =
    "Error: oauth_callback must be set, and must be set to &quot;oob&quot; (case-sensitive)";

fn api_error_body(wiki: &DevWiki, code: &str, info: &str) -> String {
    format!(
        "{{\"error\":{{\"code\":\"{code}\",\"info\":\"{info}\",\"*\":\"See {}/w/api.php for API usage. Subscribe to the mediawiki-api-announce mailing list at &lt;https://lists.wikimedia.org/postorius/lists/mediawiki-api-announce.lists.wikimedia.org/&gt; for notice of API deprecations and breaking changes.\"}}}}",
        wiki.server()
    )
}

// ------------------------------------------------------------------ flows --

async fn start(auto: Option<&str>) -> DevWiki {
    DevWiki::start(DevWikiConfig {
        auto_approve: auto.map(str::to_string),
        ..DevWikiConfig::default()
    })
    .await
    .expect("devwiki starts")
}

fn special(wiki: &DevWiki, sub: &str) -> (String, Vec<(&'static str, String)>) {
    (
        wiki.index_url(),
        vec![("title", format!("Special:OAuth/{sub}"))],
    )
}

async fn initiate(wiki: &DevWiki, c: &Creds, callback: &str) -> (String, String) {
    let (url, _) = special(wiki, "initiate");
    let (r, _) = signed(
        c,
        "GET",
        &url,
        &[("title", "Special:OAuth/initiate")],
        &[],
        &[("oauth_callback", callback)],
        &Opt::default(),
    )
    .await;
    assert_eq!(r.status, 200);
    assert!(r.body.starts_with("oauth_token="), "{}", r.body);
    let f = parse_form(&r.body);
    (f["oauth_token"].clone(), f["oauth_token_secret"].clone())
}

/// GET the authorize URL (auto-approve on) and return the callback Location.
async fn authorize_location(wiki: &DevWiki, ck: &str, rt: &str) -> String {
    let r = send(
        "GET",
        &wiki.index_url(),
        &[
            ("title", "Special:OAuth/authorize"),
            ("oauth_token", rt),
            ("oauth_consumer_key", ck),
        ],
        &[],
        None,
    )
    .await;
    assert_eq!(r.status, 302, "{}", r.body);
    r.h("location")
}

fn verifier_of(location: &str) -> String {
    let q = location.split_once('?').unwrap().1;
    parse_form(q)["oauth_verifier"].clone()
}

async fn exchange(wiki: &DevWiki, c: &Creds, rt: &str, rts: &str, verifier: &str) -> R {
    let (url, _) = special(wiki, "token");
    signed(
        &c.with_token(rt, rts),
        "GET",
        &url,
        &[("title", "Special:OAuth/token")],
        &[],
        &[("oauth_verifier", verifier)],
        &Opt::default(),
    )
    .await
    .0
}

async fn login(wiki: &DevWiki, c: &Creds) -> Creds {
    let (rt, rts) = initiate(wiki, c, "oob").await;
    let loc = authorize_location(wiki, &c.ck, &rt).await;
    let r = exchange(wiki, c, &rt, &rts, &verifier_of(&loc)).await;
    let f = parse_form(&r.body);
    c.with_token(&f["oauth_token"], &f["oauth_token_secret"])
}

async fn api_get(wiki: &DevWiki, c: &Creds, query: &[(&str, &str)]) -> R {
    signed(c, "GET", &wiki.api_url(), query, &[], &[], &Opt::default())
        .await
        .0
}

fn as_ref(v: &[(String, String)]) -> Vec<(&str, &str)> {
    v.iter().map(|(a, b)| (a.as_str(), b.as_str())).collect()
}

fn jwt_parts(jwt: &str) -> (String, String, String) {
    let mut it = jwt.split('.');
    let d = |s: &str| {
        String::from_utf8(
            base64::engine::general_purpose::URL_SAFE_NO_PAD
                .decode(s)
                .unwrap(),
        )
        .unwrap()
    };
    let h = it.next().unwrap();
    let p = it.next().unwrap();
    let s = it.next().unwrap().to_string();
    (d(h), d(p), s)
}

// ------------------------------------------------------------------ tests --

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn happy_path_initiate_authorize_token_identify_api_edit() {
    let wiki = start(Some("Alice")).await;
    let consumer = wiki.default_consumer();
    let c = Creds::consumer(&consumer);

    // initiate (raw)
    let (url, _) = special(&wiki, "initiate");
    let (r, _) = signed(
        &c,
        "GET",
        &url,
        &[("title", "Special:OAuth/initiate")],
        &[],
        &[("oauth_callback", "oob")],
        &Opt::default(),
    )
    .await;
    assert_eq!(r.status, 200);
    assert_eq!(r.h("content-type"), "text/plain;charset=UTF-8");
    assert_eq!(
        r.h("cache-control"),
        "no-cache, no-store, max-age=0, must-revalidate"
    );
    assert_eq!(r.h("pragma"), "no-cache");
    assert_eq!(r.h("expires"), "Thu, 01 Jan 1970 00:00:00 GMT");
    let f = parse_form(&r.body);
    assert_eq!(r.body.len(), 126);
    assert!(is_hex(&f["oauth_token"], 32) && is_hex(&f["oauth_token_secret"], 32));
    assert_eq!(f["oauth_callback_confirmed"], "true");
    let (rt, rts) = (f["oauth_token"].clone(), f["oauth_token_secret"].clone());

    // authorize (auto-approve) → 302 to the registered callback
    let loc = authorize_location(&wiki, &c.ck, &rt).await;
    let prefix = format!("{}?oauth_verifier=", consumer.callback);
    assert!(loc.starts_with(&prefix), "{loc}");
    let verifier = verifier_of(&loc);
    assert!(is_hex(&verifier, 32));
    assert!(loc.ends_with(&format!("&oauth_token={rt}")));

    // token
    let r = exchange(&wiki, &c, &rt, &rts, &verifier).await;
    assert_eq!(r.status, 200);
    assert_eq!(r.body.len(), 134, "{}", r.body);
    let f = parse_form(&r.body);
    assert!(is_hex(&f["oauth_token"], 32) && is_hex(&f["oauth_token_secret"], 40));
    assert_eq!(f["oauth_callback_confirmed"], "true");
    let user = c.with_token(&f["oauth_token"], &f["oauth_token_secret"]);

    // identify
    let (url, _) = special(&wiki, "identify");
    let (r, nonce) = signed(
        &user,
        "GET",
        &url,
        &[("title", "Special:OAuth/identify")],
        &[],
        &[],
        &Opt::default(),
    )
    .await;
    assert_eq!(r.h("content-type"), "application/json");
    let (h, p, s) = jwt_parts(&r.body);
    assert_eq!(h, r#"{"typ":"JWT","alg":"HS256"}"#);
    let signing_input = r.body.rsplit_once('.').unwrap().0;
    let mut mac = Hmac::<sha2::Sha256>::new_from_slice(consumer.secret.as_bytes()).unwrap();
    mac.update(signing_input.as_bytes());
    assert_eq!(
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(mac.finalize().into_bytes()),
        s
    );
    let order = [
        "\"iss\"",
        "\"aud\"",
        "\"exp\"",
        "\"iat\"",
        "\"sub\"",
        "\"username\"",
        "\"editcount\"",
        "\"confirmed_email\"",
        "\"email_verified\"",
        "\"blocked\"",
        "\"registered\"",
        "\"groups\"",
        "\"rights\"",
        "\"grants\"",
        "\"nonce\"",
    ];
    let positions: Vec<usize> = order
        .iter()
        .map(|k| p.find(k).unwrap_or_else(|| panic!("{k} missing in {p}")))
        .collect();
    assert!(
        positions.windows(2).all(|w| w[0] < w[1]),
        "claim order: {p}"
    );
    let claims: Value = serde_json::from_str(&p).unwrap();
    assert_eq!(claims["iss"], wiki.server());
    assert_eq!(claims["aud"], consumer.key);
    assert_eq!(
        claims["exp"].as_i64().unwrap(),
        claims["iat"].as_i64().unwrap() + 100
    );
    assert!((claims["iat"].as_i64().unwrap() - now()).abs() < 5);
    assert_eq!(claims["sub"], "2");
    assert_eq!(claims["username"], "Alice");
    assert_eq!(claims["blocked"], false);
    assert!(claims["registered"].as_str().unwrap().len() == 14);
    assert_eq!(
        claims["groups"],
        serde_json::json!(["*", "user", "autoconfirmed"])
    );
    assert!(
        p.contains(
            r#""grants":{"0":"basic","2":"editpage","3":"highvolume","4":"createeditmovepage"}"#
        ),
        "{p}"
    );
    assert_eq!(claims["nonce"], nonce);
    assert!(claims.get("email").is_none());

    // api.php userinfo (formatversion=1, exact shape as capture 6)
    let r = api_get(
        &wiki,
        &user,
        &[
            ("action", "query"),
            ("meta", "userinfo"),
            ("uiprop", "groups|rights"),
            ("format", "json"),
        ],
    )
    .await;
    assert_eq!(r.h("content-type"), "application/json; charset=utf-8");
    assert_eq!(
        r.body,
        format!(
            r#"{{"batchcomplete":"","query":{{"userinfo":{{"id":2,"name":"Alice","groups":["*","user","autoconfirmed"],"rights":[{}]}}}}}}"#,
            expected_rights()
        )
    );

    // csrf token
    let r = api_get(
        &wiki,
        &user,
        &[
            ("action", "query"),
            ("meta", "tokens"),
            ("type", "csrf"),
            ("format", "json"),
        ],
    )
    .await;
    let token = r.json()["query"]["tokens"]["csrftoken"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(token.ends_with("+\\") && token.len() == 42, "{token}");
    let r2 = api_get(
        &wiki,
        &user,
        &[("action", "query"), ("meta", "tokens"), ("format", "json")],
    )
    .await;
    assert_eq!(
        r2.json()["query"]["tokens"]["csrftoken"],
        token.as_str(),
        "stable per user+consumer"
    );

    // edit (POST, form body signed), capture 6d shape
    let form = [
        ("action", "edit"),
        ("title", "Main Page"),
        ("appendtext", "\n\nedited via OAuth 1.0a"),
        ("summary", "oauth test"),
        ("token", token.as_str()),
        ("format", "json"),
    ];
    let (r, _) = signed(
        &user,
        "POST",
        &wiki.api_url(),
        &[],
        &form,
        &[],
        &Opt::default(),
    )
    .await;
    let v = r.json();
    assert_eq!(v["edit"]["result"], "Success", "{}", r.body);
    assert!(r.body.starts_with(r#"{"edit":{"result":"Success","pageid":1,"title":"Main Page","contentmodel":"wikitext","oldrevid":3,"newrevid":"#), "{}", r.body);
    assert!(r.body.ends_with(r#"Z","watched":""}}"#), "{}", r.body);
    let newrevid = v["edit"]["newrevid"].as_i64().unwrap();

    // read back
    let r = api_get(
        &wiki,
        &user,
        &[
            ("action", "query"),
            ("prop", "revisions"),
            ("titles", "Main Page"),
            ("rvprop", "content|user|comment|ids"),
            ("rvslots", "main"),
            ("formatversion", "2"),
            ("format", "json"),
        ],
    )
    .await;
    let v = r.json();
    assert_eq!(v["batchcomplete"], true);
    let rev = &v["query"]["pages"][0]["revisions"][0];
    assert_eq!(rev["user"], "Alice");
    assert_eq!(rev["comment"], "oauth test");
    assert_eq!(rev["revid"].as_i64().unwrap(), newrevid);
    let content = rev["slots"]["main"]["content"].as_str().unwrap();
    assert!(content.ends_with("edited via OAuth 1.0a"));
    assert_eq!(wiki.page_text("Main Page").as_deref(), Some(content));
    wiki.shutdown().await;
}

/// Alice's rights ∩ (basic, editpage, highvolume, createeditmovepage), in her order.
fn expected_rights() -> String {
    let alice = [
        "createaccount",
        "read",
        "edit",
        "createpage",
        "createtalk",
        "writeapi",
        "viewmywatchlist",
        "editmywatchlist",
        "viewmyprivateinfo",
        "editmyprivateinfo",
        "editmyoptions",
        "move",
        "move-subpages",
        "move-rootuserpages",
        "move-categorypages",
        "movefile",
        "upload",
        "reupload",
        "reupload-shared",
        "minoredit",
        "editmyusercss",
        "editmyuserjson",
        "editmyuserjs",
        "editmyuserjsredirect",
        "purge",
        "sendemail",
        "applychangetags",
        "changetags",
        "editcontentmodel",
        "mwoauthmanagemygrants",
        "autoconfirmed",
        "editsemiprotected",
    ];
    let granted = [
        "autocreateaccount",
        "autoconfirmed",
        "autopatrol",
        "editsemiprotected",
        "ipblock-exempt",
        "nominornewtalk",
        "patrolmarks",
        "purge",
        "read",
        "unwatchedpages",
        "writeapi",
        "skipcaptcha",
        "abusefilter-view",
        "abusefilter-log",
        "bot",
        "apihighlimits",
        "noratelimit",
        "markbotedits",
        "edit",
        "minoredit",
        "applychangetags",
        "changetags",
        "editcontentmodel",
        "createpage",
        "createtalk",
        "delete-redirect",
        "move",
        "move-rootuserpages",
        "move-subpages",
        "move-categorypages",
        "suppressredirect",
    ];
    alice
        .iter()
        .filter(|r| granted.contains(r))
        .map(|r| format!("\"{r}\""))
        .collect::<Vec<_>>()
        .join(",")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn json_formats_of_initiate_and_token() {
    let wiki = start(Some("Alice")).await;
    let c = Creds::consumer(&wiki.default_consumer());
    let url = wiki.index_url();
    let (r, _) = signed(
        &c,
        "GET",
        &url,
        &[("title", "Special:OAuth/initiate"), ("format", "json")],
        &[],
        &[("oauth_callback", "oob")],
        &Opt::default(),
    )
    .await;
    assert_eq!(r.h("content-type"), "application/json");
    assert_eq!(r.body.len(), 120);
    assert!(
        r.body.starts_with(r#"{"key":""#)
            && r.body.ends_with(r#"","oauth_callback_confirmed":"true"}"#),
        "{}",
        r.body
    );
    let v = r.json();
    let (rt, rts) = (
        v["key"].as_str().unwrap().to_string(),
        v["secret"].as_str().unwrap().to_string(),
    );
    let loc = authorize_location(&wiki, &c.ck, &rt).await;
    let (r, _) = signed(
        &c.with_token(&rt, &rts),
        "GET",
        &url,
        &[("title", "Special:OAuth/token"), ("format", "json")],
        &[],
        &[("oauth_verifier", &verifier_of(&loc))],
        &Opt::default(),
    )
    .await;
    assert_eq!(r.body.len(), 94, "{}", r.body);
    let v = r.json();
    assert!(is_hex(v["key"].as_str().unwrap(), 32) && is_hex(v["secret"].as_str().unwrap(), 40));
    assert!(r.body.starts_with(r#"{"key":""#) && !r.body.contains("oauth_callback_confirmed"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_signature_raw_json_and_api() {
    let wiki = start(Some("Alice")).await;
    let c = Creds::consumer(&wiki.default_consumer());
    let bad = Opt {
        wrong_secret: Some("0".repeat(40)),
        ..Opt::default()
    };
    let url = wiki.index_url();
    let (r, _) = signed(
        &c,
        "GET",
        &url,
        &[("title", "Special:OAuth/initiate")],
        &[],
        &[("oauth_callback", "oob")],
        &bad,
    )
    .await;
    assert_eq!(
        (r.status, r.body.as_str()),
        (
            200,
            "Error: An error occurred in the OAuth protocol: Invalid signature"
        )
    );
    assert_eq!(r.h("content-type"), "text/plain;charset=UTF-8");
    let (r, _) = signed(
        &c,
        "GET",
        &url,
        &[("title", "Special:OAuth/initiate"), ("format", "json")],
        &[],
        &[("oauth_callback", "oob")],
        &bad,
    )
    .await;
    assert_eq!(
        r.body,
        r#"{"error":"mwoauth-oauth-exception","message":"An error occurred in the OAuth protocol: Invalid signature"}"#
    );
    assert_eq!(r.h("content-type"), "application/json");

    let user = login(&wiki, &c).await;
    let wrong = user.with_token(&user.token.as_ref().unwrap().0, &"f".repeat(40));
    let r = api_get(
        &wiki,
        &wrong,
        &[
            ("action", "query"),
            ("meta", "userinfo"),
            ("format", "json"),
        ],
    )
    .await;
    assert_eq!(r.status, 200);
    assert_eq!(r.h("mediawiki-api-error"), "mwoauth-invalid-authorization");
    assert_eq!(
        r.body,
        api_error_body(
            &wiki,
            "mwoauth-invalid-authorization",
            "The authorization headers in your request are not valid: Invalid signature"
        )
    );

    // Signed for another origin (Host header is not used): invalid (capture E14).
    let other = Opt {
        sign_url: Some(wiki.api_url().replace("127.0.0.1", "localhost")),
        ..Opt::default()
    };
    let (r, _) = signed(
        &user,
        "GET",
        &wiki.api_url(),
        &[
            ("action", "query"),
            ("meta", "userinfo"),
            ("format", "json"),
        ],
        &[],
        &[],
        &other,
    )
    .await;
    assert!(r.body.contains("Invalid signature"), "{}", r.body);
    // formatversion=2 error shape
    let (r, _) = signed(
        &wrong,
        "GET",
        &wiki.api_url(),
        &[
            ("action", "query"),
            ("format", "json"),
            ("formatversion", "2"),
        ],
        &[],
        &[],
        &Opt::default(),
    )
    .await;
    let v = r.json();
    assert_eq!(v["error"]["code"], "mwoauth-invalid-authorization");
    assert!(v["error"]["docref"].as_str().unwrap().starts_with("See "));
    assert!(v["error"].get("*").is_none());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn replayed_nonce_initiate_and_api() {
    let wiki = start(Some("Alice")).await;
    let c = Creds::consumer(&wiki.default_consumer());
    let url = wiki.index_url();
    let opt = Opt {
        nonce: Some("34f16e1fb71a40d7915837aba042c7ef".into()),
        timestamp: Some(now()),
        ..Opt::default()
    };
    let (r, _) = signed(
        &c,
        "GET",
        &url,
        &[("title", "Special:OAuth/initiate")],
        &[],
        &[("oauth_callback", "oob")],
        &opt,
    )
    .await;
    assert!(r.body.starts_with("oauth_token="));
    let (r, _) = signed(
        &c,
        "GET",
        &url,
        &[("title", "Special:OAuth/initiate")],
        &[],
        &[("oauth_callback", "oob")],
        &opt,
    )
    .await;
    assert_eq!(r.body, "Error: An error occurred in the OAuth protocol: Nonce already used: 34f16e1fb71a40d7915837aba042c7ef");
    assert_eq!(r.body.len(), 100);

    let user = login(&wiki, &c).await;
    let opt = Opt {
        nonce: Some("7aa1a0c2de08442aa554a634184ae661".into()),
        timestamp: Some(now()),
        ..Opt::default()
    };
    let q = [
        ("action", "query"),
        ("meta", "userinfo"),
        ("uiprop", "groups|rights"),
        ("format", "json"),
    ];
    let (r, _) = signed(&user, "GET", &wiki.api_url(), &q, &[], &[], &opt).await;
    assert!(
        r.body
            .starts_with(r#"{"batchcomplete":"","query":{"userinfo":{"id":2,"name":"Alice""#),
        "{}",
        r.body
    );
    let (r, _) = signed(&user, "GET", &wiki.api_url(), &q, &[], &[], &opt).await;
    assert_eq!(r.body, api_error_body(&wiki, "mwoauth-invalid-authorization", "The authorization headers in your request are not valid: Nonce already used: 7aa1a0c2de08442aa554a634184ae661"));
    // A badly signed request still uses up its nonce.
    let opt2 = Opt {
        nonce: Some("n-bad-sig".into()),
        wrong_secret: Some("x".into()),
        ..Opt::default()
    };
    let (r, _) = signed(&user, "GET", &wiki.api_url(), &q, &[], &[], &opt2).await;
    assert!(r.body.contains("Invalid signature"));
    let opt3 = Opt {
        nonce: Some("n-bad-sig".into()),
        ..Opt::default()
    };
    let (r, _) = signed(&user, "GET", &wiki.api_url(), &q, &[], &[], &opt3).await;
    assert!(
        r.body.contains("Nonce already used: n-bad-sig"),
        "{}",
        r.body
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stale_and_future_timestamps() {
    let wiki = start(Some("Alice")).await;
    let c = Creds::consumer(&wiki.default_consumer());
    let user = login(&wiki, &c).await;
    let q = [
        ("action", "query"),
        ("meta", "userinfo"),
        ("format", "json"),
    ];
    for delta in [-3600i64, 3600] {
        let ts = now() + delta;
        let (r, _) = signed(
            &user,
            "GET",
            &wiki.api_url(),
            &q,
            &[],
            &[],
            &Opt {
                timestamp: Some(ts),
                ..Opt::default()
            },
        )
        .await;
        let info = r.json()["error"]["info"].as_str().unwrap().to_string();
        let prefix = format!("The authorization headers in your request are not valid: Expired timestamp, yours {ts}, ours ");
        assert!(info.starts_with(&prefix), "{info}");
        let ours: i64 = info[prefix.len()..].parse().unwrap();
        assert!((ours - now()).abs() < 5);
    }
    // Within the window is fine.
    let (r, _) = signed(
        &user,
        "GET",
        &wiki.api_url(),
        &q,
        &[],
        &[],
        &Opt {
            timestamp: Some(now() - 250),
            ..Opt::default()
        },
    )
    .await;
    assert!(r.body.contains(r#""name":"Alice""#), "{}", r.body);
    // A wiki whose clock is off by 10 minutes refuses a correct client clock.
    wiki.set_clock_offset(600);
    let (r, _) = signed(&user, "GET", &wiki.api_url(), &q, &[], &[], &Opt::default()).await;
    assert!(r.body.contains("Expired timestamp"), "{}", r.body);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unknown_consumer() {
    let wiki = start(Some("Alice")).await;
    let c = Creds {
        ck: "0123456789abcdef0123456789abcdef".into(),
        cs: "x".into(),
        token: None,
    };
    let (r, _) = signed(
        &c,
        "GET",
        &wiki.index_url(),
        &[("title", "Special:OAuth/initiate")],
        &[],
        &[("oauth_callback", "oob")],
        &Opt::default(),
    )
    .await;
    assert_eq!(
        r.body,
        "Error: An error occurred in the OAuth protocol: Invalid consumer"
    );
    assert_eq!(r.body.len(), 64);
    let user = c.with_token("8efb54617594c7cd3a70703660799948", "y");
    let r = api_get(
        &wiki,
        &user,
        &[
            ("action", "query"),
            ("meta", "userinfo"),
            ("uiprop", "groups|rights"),
            ("format", "json"),
        ],
    )
    .await;
    assert_eq!(
        r.body,
        api_error_body(
            &wiki,
            "mwoauth-invalid-authorization",
            "The authorization headers in your request are not valid: Invalid consumer"
        )
    );
    // A consumer of another DevWiki is unknown here (instances are independent).
    let other = start(None).await;
    let foreign = Creds::consumer(&other.default_consumer());
    let (r, _) = signed(
        &foreign,
        "GET",
        &wiki.index_url(),
        &[("title", "Special:OAuth/initiate")],
        &[],
        &[("oauth_callback", "oob")],
        &Opt::default(),
    )
    .await;
    assert!(r.body.ends_with("Invalid consumer"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unknown_and_revoked_tokens_then_new_token() {
    let wiki = start(Some("Alice")).await;
    let consumer = wiki.default_consumer();
    let c = Creds::consumer(&consumer);
    let unknown = c.with_token("356b8ba4d8dc4b97bfb7cb9571b685c5", "s");
    let q = [
        ("action", "query"),
        ("meta", "userinfo"),
        ("format", "json"),
    ];
    let no_grant = "The authorization headers in your request are not valid: No approved grant was found for that authorization token.";
    let r = api_get(&wiki, &unknown, &q).await;
    assert_eq!(
        r.body,
        api_error_body(&wiki, "mwoauth-invalid-authorization", no_grant)
    );
    let ident = [("title", "Special:OAuth/identify")];
    let (r, _) = signed(
        &unknown,
        "GET",
        &wiki.index_url(),
        &ident,
        &[],
        &[],
        &Opt::default(),
    )
    .await;
    let expected_identify = r#"{"error":"mwoauthdatastore-access-token-not-found","message":"No approved grant was found for that authorization token."}"#;
    assert_eq!(r.body, expected_identify);
    assert_eq!(r.h("content-type"), "application/json");

    let first = login(&wiki, &c).await;
    let again = login(&wiki, &c).await;
    assert_eq!(
        first.token, again.token,
        "re-authorization gives the same access token"
    );
    assert!(wiki.revoke("Alice", &consumer.key));
    let r = api_get(&wiki, &first, &q).await;
    assert_eq!(
        r.body,
        api_error_body(&wiki, "mwoauth-invalid-authorization", no_grant)
    );
    let (r, _) = signed(
        &first,
        "GET",
        &wiki.index_url(),
        &ident,
        &[],
        &[],
        &Opt::default(),
    )
    .await;
    assert_eq!(r.body, expected_identify);
    let renewed = login(&wiki, &c).await;
    assert_ne!(renewed.token, first.token, "a new token after revocation");
    let r = api_get(&wiki, &renewed, &q).await;
    assert!(r.body.contains(r#""name":"Alice""#));
    // Incomplete header (capture E12).
    let r = send(
        "GET",
        &wiki.api_url(),
        &q,
        &[],
        Some(&format!("OAuth oauth_consumer_key=\"{}\"", consumer.key)),
    )
    .await;
    assert_eq!(
        r.body,
        api_error_body(&wiki, "mwoauth-invalid-authorization", no_grant)
    );
    // An access token of another consumer is not accepted.
    let other = Creds::consumer(&wiki.register_consumer(ConsumerSpec {
        grants: vec!["basic".into()],
        ..ConsumerSpec::default()
    }));
    let crossed = other.with_token(
        &renewed.token.as_ref().unwrap().0,
        &renewed.token.as_ref().unwrap().1,
    );
    let r = api_get(&wiki, &crossed, &q).await;
    assert_eq!(
        r.body,
        api_error_body(&wiki, "mwoauth-invalid-authorization", no_grant)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn token_step_errors() {
    let wiki = start(Some("Alice")).await;
    let c = Creds::consumer(&wiki.default_consumer());
    // Unknown request token (E7b)
    let r = exchange(
        &wiki,
        &c,
        "e99ecca30f49444b9fff04abbefcc5c9",
        "x",
        &"0".repeat(32),
    )
    .await;
    assert_eq!(r.body, E004);
    assert_eq!(r.body.len(), 337);
    // Never authorized (E7c)
    let (rt, rts) = initiate(&wiki, &c, "oob").await;
    let r = exchange(&wiki, &c, &rt, &rts, &"0".repeat(32)).await;
    assert_eq!(r.body, "Error: No token was found matching your request.");
    // Wrong verifier (E7) does not consume the token…
    let loc = authorize_location(&wiki, &c.ck, &rt).await;
    let r = exchange(&wiki, &c, &rt, &rts, &"0".repeat(32)).await;
    assert_eq!(
        r.body,
        "Error: The verification code provided was not valid."
    );
    // …so the right one still works…
    let r = exchange(&wiki, &c, &rt, &rts, &verifier_of(&loc)).await;
    assert!(r.body.starts_with("oauth_token="), "{}", r.body);
    // …once (E009).
    let r = exchange(&wiki, &c, &rt, &rts, &verifier_of(&loc)).await;
    assert_eq!(r.body, E009);
    assert_eq!(r.body.len(), 369);
    // json format of E009 carries the message key and plain text
    let (r, _) = signed(
        &c.with_token(&rt, &rts),
        "GET",
        &wiki.index_url(),
        &[("title", "Special:OAuth/token"), ("format", "json")],
        &[],
        &[("oauth_verifier", &verifier_of(&loc))],
        &Opt::default(),
    )
    .await;
    let v = r.json();
    assert_eq!(v["error"], "mwoauthdatastore-request-token-already-used");
    assert!(v["message"]
        .as_str()
        .unwrap()
        .contains("OAuth token already used, <a class=\"external\""));
    assert!(
        r.body.contains("\\u003Cspan"),
        "FormatJson escapes < > &: {}",
        r.body
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn expired_request_token_after_601_seconds() {
    let wiki = start(Some("Alice")).await;
    let c = Creds::consumer(&wiki.default_consumer());
    let (rt, rts) = initiate(&wiki, &c, "oob").await;
    let loc = authorize_location(&wiki, &c.ck, &rt).await;
    wiki.set_clock_offset(601);
    // Sign with the wiki's clock so that only the token has expired.
    let (r, _) = signed(
        &c.with_token(&rt, &rts),
        "GET",
        &wiki.index_url(),
        &[("title", "Special:OAuth/token")],
        &[],
        &[("oauth_verifier", &verifier_of(&loc))],
        &Opt {
            timestamp: Some(now() + 601),
            ..Opt::default()
        },
    )
    .await;
    assert_eq!(r.body, E004);
    // And an unauthorized one cannot be authorized any more.
    wiki.set_clock_offset(0);
    let (rt2, _) = initiate(&wiki, &c, "oob").await;
    wiki.set_clock_offset(601);
    let r = send(
        "GET",
        &wiki.index_url(),
        &[
            ("title", "Special:OAuth/authorize"),
            ("oauth_token", &rt2),
            ("oauth_consumer_key", &c.ck),
        ],
        &[],
        None,
    )
    .await;
    assert_eq!(r.status, 200);
    assert!(r.body.contains("OAuth token not found"), "{}", r.body);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn callback_rules() {
    let wiki = start(Some("Alice")).await;
    let prefix = wiki.register_consumer(ConsumerSpec {
        name: "Prefix app".into(),
        callback: "http://127.0.0.1:9999/callback".into(),
        callback_is_prefix: true,
        grants: vec!["basic".into()],
        ..ConsumerSpec::default()
    });
    let p = Creds::consumer(&prefix);
    let url = wiki.index_url();
    let init = |cb: Option<&'static str>| {
        let extra: Vec<(&str, &str)> = cb.map(|v| vec![("oauth_callback", v)]).unwrap_or_default();
        extra
    };
    // E8: not matching the prefix
    let (r, _) = signed(
        &p,
        "GET",
        &url,
        &[("title", "Special:OAuth/initiate")],
        &[],
        &init(Some("http://evil.example/cb")),
        &Opt::default(),
    )
    .await;
    assert_eq!(r.body, NOT_OOB_OR_PREFIX);
    assert_eq!(r.body.len(), 157);
    // E8c: absent
    let (r, _) = signed(
        &p,
        "GET",
        &url,
        &[("title", "Special:OAuth/initiate")],
        &[],
        &init(None),
        &Opt::default(),
    )
    .await;
    assert_eq!(r.body, NOT_OOB_OR_PREFIX);
    // E8b: a URL for a non-prefix consumer
    let c = Creds::consumer(&wiki.default_consumer());
    let (r, _) = signed(
        &c,
        "GET",
        &url,
        &[("title", "Special:OAuth/initiate")],
        &[],
        &init(Some("http://127.0.0.1:9999/exact")),
        &Opt::default(),
    )
    .await;
    assert_eq!(r.body, NOT_OOB);
    assert_eq!(r.body.len(), 86);
    let (r, _) = signed(
        &c,
        "GET",
        &url,
        &[("title", "Special:OAuth/initiate")],
        &[],
        &init(None),
        &Opt::default(),
    )
    .await;
    assert_eq!(r.body, NOT_OOB);
    // Capture 1c: a matching callback is used, with '&' since it has a query.
    let (rt, _) = initiate(&wiki, &p, "http://127.0.0.1:9999/callback/sub?x=1").await;
    let loc = authorize_location(&wiki, &p.ck, &rt).await;
    assert!(
        loc.starts_with("http://127.0.0.1:9999/callback/sub?x=1&oauth_verifier="),
        "{loc}"
    );
    // oob on a prefix consumer: the registered URL.
    let (rt, _) = initiate(&wiki, &p, "oob").await;
    let loc = authorize_location(&wiki, &p.ck, &rt).await;
    assert!(
        loc.starts_with("http://127.0.0.1:9999/callback?oauth_verifier="),
        "{loc}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn plaintext_is_refused() {
    let wiki = start(None).await;
    let c = Creds::consumer(&wiki.default_consumer());
    let (r, _) = signed(
        &c,
        "GET",
        &wiki.index_url(),
        &[("title", "Special:OAuth/initiate")],
        &[],
        &[("oauth_callback", "oob")],
        &Opt {
            sig_method: Some("PLAINTEXT"),
            ..Opt::default()
        },
    )
    .await;
    assert_eq!(r.body, "Error: An error occurred in the OAuth protocol: Signature method &#039;PLAINTEXT&#039; not supported try one of the following: HMAC-SHA1, RSA-SHA1");
    assert_eq!(r.body.len(), 146);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn oauth_params_in_query_string_are_ignored_by_api() {
    let wiki = start(Some("Alice")).await;
    let c = Creds::consumer(&wiki.default_consumer());
    let user = login(&wiki, &c).await;
    let q = [
        ("action", "query"),
        ("meta", "userinfo"),
        ("uiprop", "groups|rights"),
        ("format", "json"),
    ];
    let oauth = oauth_params(&user, "GET", &wiki.api_url(), &q, &[], &[], &Opt::default());
    let mut all: Vec<(&str, &str)> = q.to_vec();
    for (k, v) in &oauth {
        all.push((k.as_str(), v.as_str()));
    }
    let r = send("GET", &wiki.api_url(), &all, &[], None).await;
    assert_eq!(
        r.body,
        r#"{"warnings":{"main":{"*":"Unrecognized parameters: oauth_consumer_key, oauth_nonce, oauth_signature_method, oauth_timestamp, oauth_version, oauth_token, oauth_signature."}},"batchcomplete":"","query":{"userinfo":{"id":0,"name":"127.0.0.1","anon":"","groups":["*"],"rights":["createaccount","read","edit","createpage","createtalk","writeapi","viewmywatchlist","editmywatchlist","viewmyprivateinfo","editmyprivateinfo","editmyoptions"]}}}"#
    );
    // Anonymous without uiprop (capture 6c), and assert=user.
    let r = send(
        "GET",
        &wiki.api_url(),
        &[
            ("action", "query"),
            ("meta", "userinfo"),
            ("format", "json"),
        ],
        &[],
        None,
    )
    .await;
    assert_eq!(
        r.body,
        r#"{"batchcomplete":"","query":{"userinfo":{"id":0,"name":"127.0.0.1","anon":""}}}"#
    );
    let r = send(
        "GET",
        &wiki.api_url(),
        &[("action", "query"), ("meta", "tokens"), ("format", "json")],
        &[],
        None,
    )
    .await;
    assert_eq!(
        r.body,
        r#"{"batchcomplete":"","query":{"tokens":{"csrftoken":"+\\"}}}"#
    );
    let r = send(
        "GET",
        &wiki.api_url(),
        &[
            ("action", "query"),
            ("meta", "userinfo"),
            ("assert", "user"),
            ("format", "json"),
        ],
        &[],
        None,
    )
    .await;
    assert_eq!(r.h("mediawiki-api-error"), "assertuserfailed");
    assert_eq!(
        r.json()["error"]["info"],
        "You are no longer logged in, so the action could not be completed."
    );
    let r = api_get(
        &wiki,
        &user,
        &[
            ("action", "query"),
            ("meta", "userinfo"),
            ("assert", "user"),
            ("format", "json"),
        ],
    )
    .await;
    assert!(r.body.contains(r#""name":"Alice""#));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn maxlag_headers_and_switch() {
    let wiki = start(Some("Alice")).await;
    let c = Creds::consumer(&wiki.default_consumer());
    let user = login(&wiki, &c).await;
    wiki.set_maxlag(Some(7), Some(1));
    let q = [
        ("action", "query"),
        ("meta", "userinfo"),
        ("maxlag", "5"),
        ("format", "json"),
    ];
    let r = api_get(&wiki, &user, &q).await;
    assert_eq!(r.status, 200);
    assert_eq!(r.h("retry-after"), "5");
    assert_eq!(r.h("x-database-lag"), "7");
    assert_eq!(r.h("mediawiki-api-error"), "maxlag");
    let v = r.json();
    assert_eq!(v["error"]["code"], "maxlag");
    assert_eq!(
        v["error"]["info"],
        "Waiting for a database server: 7 seconds lagged."
    );
    assert_eq!(v["error"]["lag"], 7);
    assert_eq!(v["error"]["type"], "db");
    // Only for one request.
    let r = api_get(&wiki, &user, &q).await;
    assert!(r.body.contains(r#""name":"Alice""#), "{}", r.body);
    // Always, with Retry-After = max(maxlag, 5).
    wiki.set_maxlag(Some(30), None);
    for _ in 0..2 {
        let r = api_get(
            &wiki,
            &user,
            &[
                ("action", "query"),
                ("meta", "userinfo"),
                ("maxlag", "10"),
                ("format", "json"),
            ],
        )
        .await;
        assert_eq!(r.h("retry-after"), "10");
    }
    // Requests without maxlag are not affected.
    let r = api_get(
        &wiki,
        &user,
        &[
            ("action", "query"),
            ("meta", "userinfo"),
            ("format", "json"),
        ],
    )
    .await;
    assert!(r.body.contains(r#""name":"Alice""#));
    wiki.set_maxlag(None, None);
    let r = api_get(
        &wiki,
        &user,
        &[
            ("action", "query"),
            ("meta", "userinfo"),
            ("maxlag", "10"),
            ("format", "json"),
        ],
    )
    .await;
    assert!(r.body.contains(r#""name":"Alice""#));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn write_errors_mustbeposted_badtoken_and_grants() {
    let wiki = start(Some("Alice")).await;
    let c = Creds::consumer(&wiki.default_consumer());
    let user = login(&wiki, &c).await;
    // POST-only module without token
    let r = api_get(
        &wiki,
        &user,
        &[
            ("action", "purge"),
            ("titles", "Main Page"),
            ("format", "json"),
        ],
    )
    .await;
    assert_eq!(
        r.body,
        api_error_body(
            &wiki,
            "mustbeposted",
            "The \\\"purge\\\" module requires a POST request."
        )
    );
    // edit via GET: the token check comes first, as in ApiMain
    let r = api_get(
        &wiki,
        &user,
        &[
            ("action", "edit"),
            ("title", "X"),
            ("text", "y"),
            ("format", "json"),
        ],
    )
    .await;
    assert_eq!(r.json()["error"]["code"], "missingparam");
    assert_eq!(
        r.json()["error"]["info"],
        "The \"token\" parameter must be set."
    );
    let r = api_get(
        &wiki,
        &user,
        &[
            ("action", "edit"),
            ("title", "X"),
            ("text", "y"),
            ("token", "+\\"),
            ("format", "json"),
        ],
    )
    .await;
    assert_eq!(r.json()["error"]["code"], "mustpostparams");
    // bad token
    let form = [
        ("action", "edit"),
        ("title", "Main Page"),
        ("text", "x"),
        ("token", "bad+\\"),
        ("format", "json"),
    ];
    let (r, _) = signed(
        &user,
        "POST",
        &wiki.api_url(),
        &[],
        &form,
        &[],
        &Opt::default(),
    )
    .await;
    assert_eq!(
        r.body,
        api_error_body(&wiki, "badtoken", "Invalid CSRF token.")
    );
    assert_eq!(r.h("mediawiki-api-error"), "badtoken");

    // editpage without createeditmovepage: existing page ok, new page cantcreate
    let limited = wiki.register_consumer(ConsumerSpec {
        grants: vec!["basic".into(), "editpage".into()],
        ..ConsumerSpec::default()
    });
    let lc = Creds::consumer(&limited);
    let lu = login(&wiki, &lc).await;
    let token = api_get(
        &wiki,
        &lu,
        &[("action", "query"), ("meta", "tokens"), ("format", "json")],
    )
    .await
    .json()["query"]["tokens"]["csrftoken"]
        .as_str()
        .unwrap()
        .to_string();
    let (r, _) = signed(
        &lu,
        "POST",
        &wiki.api_url(),
        &[],
        &[
            ("action", "edit"),
            ("title", "Brand new page"),
            ("text", "hi"),
            ("token", &token),
            ("format", "json"),
        ],
        &[],
        &Opt::default(),
    )
    .await;
    assert_eq!(r.json()["error"]["code"], "cantcreate", "{}", r.body);
    let (r, _) = signed(
        &lu,
        "POST",
        &wiki.api_url(),
        &[],
        &[
            ("action", "edit"),
            ("title", "Sandbox"),
            ("appendtext", " more"),
            ("token", &token),
            ("format", "json"),
        ],
        &[],
        &Opt::default(),
    )
    .await;
    assert_eq!(r.json()["edit"]["result"], "Success", "{}", r.body);
    // basic only: no edit right at all
    let basic = Creds::consumer(&wiki.register_consumer(ConsumerSpec::default()));
    let bu = login(&wiki, &basic).await;
    let token = api_get(
        &wiki,
        &bu,
        &[("action", "query"), ("meta", "tokens"), ("format", "json")],
    )
    .await
    .json()["query"]["tokens"]["csrftoken"]
        .as_str()
        .unwrap()
        .to_string();
    let (r, _) = signed(
        &bu,
        "POST",
        &wiki.api_url(),
        &[],
        &[
            ("action", "edit"),
            ("title", "Sandbox"),
            ("text", "x"),
            ("token", &token),
            ("format", "json"),
        ],
        &[],
        &Opt::default(),
    )
    .await;
    assert_eq!(r.json()["error"]["code"], "permissiondenied", "{}", r.body);
    // createonly / nocreate
    let token = api_get(
        &wiki,
        &user,
        &[("action", "query"), ("meta", "tokens"), ("format", "json")],
    )
    .await
    .json()["query"]["tokens"]["csrftoken"]
        .as_str()
        .unwrap()
        .to_string();
    let (r, _) = signed(
        &user,
        "POST",
        &wiki.api_url(),
        &[],
        &[
            ("action", "edit"),
            ("title", "Sandbox"),
            ("text", "x"),
            ("createonly", "1"),
            ("token", &token),
            ("format", "json"),
        ],
        &[],
        &Opt::default(),
    )
    .await;
    assert_eq!(r.json()["error"]["code"], "articleexists");
    let (r, _) = signed(
        &user,
        "POST",
        &wiki.api_url(),
        &[],
        &[
            ("action", "edit"),
            ("title", "Nope nope"),
            ("text", "x"),
            ("nocreate", "1"),
            ("token", &token),
            ("format", "json"),
        ],
        &[],
        &Opt::default(),
    )
    .await;
    assert_eq!(r.json()["error"]["code"], "missingtitle");
    // new page, formatversion=2
    let (r, _) = signed(
        &user,
        "POST",
        &wiki.api_url(),
        &[],
        &[
            ("action", "edit"),
            ("title", "Zoë's page"),
            ("text", "née"),
            ("token", &token),
            ("format", "json"),
            ("formatversion", "2"),
        ],
        &[],
        &Opt::default(),
    )
    .await;
    assert!(
        r.body
            .starts_with(r#"{"edit":{"new":true,"result":"Success","#),
        "{}",
        r.body
    );
    assert!(
        r.body.contains("\"title\":\"Zoë's page\""),
        "fv2 is UTF-8: {}",
        r.body
    );
    assert_eq!(wiki.page_text("Zoë's page").as_deref(), Some("née"));

    // The blocked user can log in but not edit.
    wiki.set_auto_approve(Some("Blocked"));
    let blocked = Creds::consumer(&wiki.register_consumer(ConsumerSpec {
        grants: vec!["basic".into(), "editpage".into()],
        ..ConsumerSpec::default()
    }));
    let bl = login(&wiki, &blocked).await;
    let token = api_get(
        &wiki,
        &bl,
        &[("action", "query"), ("meta", "tokens"), ("format", "json")],
    )
    .await
    .json()["query"]["tokens"]["csrftoken"]
        .as_str()
        .unwrap()
        .to_string();
    let (r, _) = signed(
        &bl,
        "POST",
        &wiki.api_url(),
        &[],
        &[
            ("action", "edit"),
            ("title", "Sandbox"),
            ("text", "x"),
            ("token", &token),
            ("format", "json"),
        ],
        &[],
        &Opt::default(),
    )
    .await;
    assert_eq!(r.json()["error"]["code"], "blocked");
    assert_eq!(r.json()["error"]["blockinfo"]["blockedby"], "Admin");
    let (r, _) = signed(
        &bl,
        "GET",
        &wiki.index_url(),
        &[("title", "Special:OAuth/identify")],
        &[],
        &[],
        &Opt::default(),
    )
    .await;
    assert_eq!(
        serde_json::from_str::<Value>(&jwt_parts(&r.body).1).unwrap()["blocked"],
        true
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn continuation_over_a_thousand_contributions() {
    let wiki = start(Some("Alice")).await;
    let c = Creds::consumer(&wiki.default_consumer());
    let user = login(&wiki, &c).await;
    let mut cont: Vec<(String, String)> = vec![];
    let mut seen = std::collections::HashSet::new();
    let mut batches = 0;
    loop {
        let mut q: Vec<(&str, &str)> = vec![
            ("action", "query"),
            ("list", "usercontribs"),
            ("ucuser", "Alice"),
            ("uclimit", "max"),
            ("format", "json"),
        ];
        for (k, v) in &cont {
            q.push((k.as_str(), v.as_str()));
        }
        let r = api_get(&wiki, &user, &q).await;
        let v = r.json();
        batches += 1;
        assert_eq!(
            v["batchcomplete"],
            "",
            "{}",
            &r.body[..200.min(r.body.len())]
        );
        assert_eq!(v["limits"]["usercontribs"], 500);
        for item in v["query"]["usercontribs"].as_array().unwrap() {
            assert_eq!(item["user"], "Alice");
            assert!(seen.insert(item["revid"].as_i64().unwrap()), "duplicate");
        }
        match v.get("continue") {
            Some(cv) => {
                assert!(
                    r.body
                        .starts_with(r#"{"batchcomplete":"","continue":{"uccontinue":""#),
                    "{}",
                    &r.body[..120]
                );
                assert_eq!(cv["continue"], "-||");
                cont = cv
                    .as_object()
                    .unwrap()
                    .iter()
                    .map(|(k, v)| (k.clone(), v.as_str().unwrap().to_string()))
                    .collect();
            }
            None => break,
        }
        assert!(batches < 10);
    }
    assert_eq!(batches, 3);
    assert_eq!(seen.len() as i64, wiki.edit_count("Alice").unwrap());
    assert!(seen.len() > 1000);
    // uclimit over the maximum: a warning and 500
    let r = api_get(
        &wiki,
        &user,
        &[
            ("action", "query"),
            ("list", "usercontribs"),
            ("ucuser", "Alice"),
            ("uclimit", "1000"),
            ("format", "json"),
        ],
    )
    .await;
    let v = r.json();
    assert_eq!(
        v["warnings"]["usercontribs"]["*"],
        "\"uclimit\" may not be over 500 (set to 1000) for users."
    );
    assert_eq!(v["query"]["usercontribs"].as_array().unwrap().len(), 500);
    // allpages with continuation, formatversion=2
    let mut from = String::new();
    let mut titles = vec![];
    loop {
        let mut q = vec![
            ("action", "query"),
            ("list", "allpages"),
            ("aplimit", "7"),
            ("format", "json"),
            ("formatversion", "2"),
        ];
        if !from.is_empty() {
            q.push(("apcontinue", from.as_str()));
        }
        let v = api_get(&wiki, &user, &q).await.json();
        assert_eq!(v["batchcomplete"], true);
        for p in v["query"]["allpages"].as_array().unwrap() {
            titles.push(p["title"].as_str().unwrap().to_string());
        }
        match v["continue"]["apcontinue"].as_str() {
            Some(next) => from = next.to_string(),
            None => break,
        }
    }
    assert!(
        titles.contains(&"Main Page".to_string()) && titles.contains(&"Test page 30".to_string())
    );
    let mut sorted = titles.clone();
    sorted.sort_by_key(|a| a.replace(' ', "_"));
    assert_eq!(titles, sorted);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn owner_only_consumer() {
    let wiki = start(Some("Alice")).await;
    let oo = wiki.register_consumer(ConsumerSpec {
        name: "My bot".into(),
        grants: vec!["basic".into(), "editpage".into()],
        owner_only: Some("Admin".into()),
        ..ConsumerSpec::default()
    });
    let (at, ats) = oo
        .access_token
        .clone()
        .expect("owner-only consumers have an access token");
    assert!(is_hex(&at, 32) && is_hex(&ats, 40));
    let c = Creds::consumer(&oo);
    let (r, _) = signed(
        &c,
        "GET",
        &wiki.index_url(),
        &[("title", "Special:OAuth/initiate")],
        &[],
        &[("oauth_callback", "oob")],
        &Opt::default(),
    )
    .await;
    assert!(
        r.body
            .starts_with("Error: &quot;My bot&quot; is an owner-only Connected App."),
        "{}",
        r.body
    );
    assert!(r.body.ends_with("Consumer is owner-only, <a class=\"external\" href=\"https://www.mediawiki.org/wiki/Help:OAuth/Errors#E010\">E010</a>&lt;/span&gt;"), "{}", r.body);
    let r = exchange(&wiki, &c, "e99ecca30f49444b9fff04abbefcc5c9", "x", "v").await;
    assert!(r.body.contains("E010"));
    let user = c.with_token(&at, &ats);
    let r = api_get(
        &wiki,
        &user,
        &[
            ("action", "query"),
            ("meta", "userinfo"),
            ("format", "json"),
        ],
    )
    .await;
    assert!(r.body.contains(r#""name":"Admin""#), "{}", r.body);
    let (r, _) = signed(
        &user,
        "GET",
        &wiki.index_url(),
        &[("title", "Special:OAuth/identify")],
        &[],
        &[],
        &Opt::default(),
    )
    .await;
    let claims: Value = serde_json::from_str(&jwt_parts(&r.body).1).unwrap();
    assert_eq!(claims["username"], "Admin");
    assert!(claims["rights"].as_array().unwrap().len() >= 150);
    assert_eq!(
        claims["groups"],
        serde_json::json!([
            "bureaucrat",
            "interface-admin",
            "sysop",
            "*",
            "user",
            "autoconfirmed"
        ])
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn authorize_page_cancel_allow_and_errors() {
    let wiki = start(None).await;
    let consumer = wiki.default_consumer();
    let c = Creds::consumer(&consumer);
    let (rt, rts) = initiate(&wiki, &c, "oob").await;
    let page = send(
        "GET",
        &wiki.index_url(),
        &[
            ("title", "Special:OAuth/authorize"),
            ("oauth_token", &rt),
            ("oauth_consumer_key", &c.ck),
        ],
        &[],
        None,
    )
    .await;
    assert_eq!(page.status, 200);
    assert_eq!(page.h("content-type"), "text/html; charset=UTF-8");
    for needle in [
        "<select name=\"user\" id=\"user\">",
        "<button type=\"submit\" name=\"accept\" id=\"accept\" value=\"Allow\"",
        "<button type=\"submit\" name=\"cancel\" id=\"cancel\" value=\"Cancel\"",
        "name=\"consumerKey\"",
        "name=\"requestToken\"",
        "DevWiki default app",
        "Perform high volume activity",
        "Edit existing pages",
        "Zoë Ünicode-Ŝtrange",
    ] {
        assert!(page.body.contains(needle), "missing {needle}");
    }
    let hidden = |name: &str, value: &str| (name.to_string(), value.to_string());
    let base = vec![
        hidden("title", "Special:OAuth/authorize"),
        hidden("wpaction", "accept"),
        hidden("oauth_version", "1"),
        hidden("consumerKey", &c.ck),
        hidden("requestToken", &rt),
    ];
    let post = |extra: Vec<(String, String)>| {
        let mut f = base.clone();
        f.extend(extra);
        f
    };
    // Cancel: a page, no redirect.
    let f = post(vec![hidden("user", "Alice"), hidden("cancel", "Cancel")]);
    let r = send("POST", &wiki.index_url(), &[], &as_ref(&f), None).await;
    assert_eq!(r.status, 200);
    assert!(r.h("location").is_empty());
    assert!(r.body.contains("You have chosen not to allow \"DevWiki default app\" to access your account. \"DevWiki default app\" will not work unless you allow it access. You can go back to "), "{}", r.body);
    // "go back to" links to the consumer's registered callback.
    let back = format!(
        "You can go back to <a rel=\"nofollow\" class=\"external text\" href=\"{}\">\"DevWiki default app\"</a> or",
        consumer.callback
    );
    assert!(r.body.contains(&back), "{}", r.body);
    assert!(r.body.contains("Return to <a href=\"/wiki/Main_Page\""));
    // Allow as Zoë.
    let f = post(vec![
        hidden("user", "Zoë Ünicode-Ŝtrange"),
        hidden("accept", "Allow"),
    ]);
    let r = send("POST", &wiki.index_url(), &[], &as_ref(&f), None).await;
    assert_eq!(r.status, 302, "{}", r.body);
    let loc = r.h("location");
    assert!(loc.starts_with(&format!("{}?oauth_verifier=", consumer.callback)));
    // A second Allow for the same request token fails.
    let r = send("POST", &wiki.index_url(), &[], &as_ref(&f), None).await;
    assert_eq!(r.status, 200);
    assert!(
        r.body.contains("OAuth callback URL not found in cache."),
        "{}",
        r.body
    );
    // …and, as on the real wiki, it replaced the verifier: the first one is now wrong.
    let r = exchange(&wiki, &c, &rt, &rts, &verifier_of(&loc)).await;
    assert_eq!(
        r.body,
        "Error: The verification code provided was not valid."
    );
    // Zoë via a fresh handshake: the JWT has her name, escaped like PHP.
    let (rt, rts) = initiate(&wiki, &c, "oob").await;
    let mut f = base.clone();
    f[4] = hidden("requestToken", &rt);
    f.push(hidden("user", "Zoë Ünicode-Ŝtrange"));
    f.push(hidden("accept", "Allow"));
    let r = send("POST", &wiki.index_url(), &[], &as_ref(&f), None).await;
    let loc = r.h("location");
    let r = exchange(&wiki, &c, &rt, &rts, &verifier_of(&loc)).await;
    let tok = parse_form(&r.body);
    let zoe = c.with_token(&tok["oauth_token"], &tok["oauth_token_secret"]);
    let (r, _) = signed(
        &zoe,
        "GET",
        &wiki.index_url(),
        &[("title", "Special:OAuth/identify")],
        &[],
        &[],
        &Opt::default(),
    )
    .await;
    let (_, payload, _) = jwt_parts(&r.body);
    assert!(
        payload.contains(r#""username":"Zo\u00eb \u00dcnicode-\u015ctrange""#),
        "{payload}"
    );
    assert!(payload.contains(r#""sub":"4""#));

    // Unknown oauth_token: the form still shows; Allow gives E004 in the page.
    let unknown = "0123456789abcdef0123456789abcdef";
    let page = send(
        "GET",
        &wiki.index_url(),
        &[
            ("title", "Special:OAuth/authorize"),
            ("oauth_token", unknown),
            ("oauth_consumer_key", &c.ck),
        ],
        &[],
        None,
    )
    .await;
    assert!(page.body.contains("id=\"accept\""));
    let mut f = base.clone();
    f[4] = hidden("requestToken", unknown);
    f.push(hidden("user", "Alice"));
    f.push(hidden("accept", "Allow"));
    let r = send("POST", &wiki.index_url(), &[], &as_ref(&f), None).await;
    assert_eq!(r.status, 200);
    assert!(r.body.contains("OAuth token not found, <a class=\"external\" href=\"https://www.mediawiki.org/wiki/Help:OAuth/Errors#E004\">E004</a>"), "{}", r.body);
    assert!(r.body.contains("id=\"accept\""), "the form is shown again");
    // Unknown consumer: E006 error page.
    let r = send(
        "GET",
        &wiki.index_url(),
        &[
            ("title", "Special:OAuth/authorize"),
            ("oauth_token", unknown),
            ("oauth_consumer_key", unknown),
        ],
        &[],
        None,
    )
    .await;
    assert!(r.body.contains("Unknown OAuth key"));
    // User-controlled text is escaped.
    let evil = wiki.register_consumer(ConsumerSpec {
        name: "<script>alert(1)</script>".into(),
        ..ConsumerSpec::default()
    });
    let (ert, _) = initiate(&wiki, &Creds::consumer(&evil), "oob").await;
    let r = send(
        "GET",
        &wiki.index_url(),
        &[
            ("title", "Special:OAuth/authorize"),
            ("oauth_token", &ert),
            ("oauth_consumer_key", &evil.key),
        ],
        &[],
        None,
    )
    .await;
    assert!(!r.body.contains("<script>") && r.body.contains("&lt;script&gt;"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn path_form_and_signed_post_bodies() {
    let wiki = start(Some("Alice")).await;
    let c = Creds::consumer(&wiki.default_consumer());
    // /wiki/Special:OAuth/initiate: the path is the base URL, no title parameter.
    let url = format!("{}/wiki/Special:OAuth/initiate", wiki.server());
    let (r, _) = signed(
        &c,
        "GET",
        &url,
        &[],
        &[],
        &[("oauth_callback", "oob")],
        &Opt::default(),
    )
    .await;
    assert!(r.body.starts_with("oauth_token="), "{}", r.body);
    let rt = parse_form(&r.body)["oauth_token"].clone();
    let rts = parse_form(&r.body)["oauth_token_secret"].clone();
    let r = send(
        "GET",
        &format!("{}/wiki/Special:OAuth/authorize", wiki.server()),
        &[("oauth_token", &rt), ("oauth_consumer_key", &c.ck)],
        &[],
        None,
    )
    .await;
    assert_eq!(r.status, 302);
    let verifier = verifier_of(&r.h("location"));
    let url = format!("{}/wiki/Special:OAuth/token", wiki.server());
    let (r, _) = signed(
        &c.with_token(&rt, &rts),
        "POST",
        &url,
        &[],
        &[("format", "json")],
        &[("oauth_verifier", &verifier)],
        &Opt::default(),
    )
    .await;
    assert!(r.json()["key"].is_string(), "{}", r.body);
    // POST with a form body: the body is part of the signature…
    let (r, _) = signed(
        &c,
        "POST",
        &wiki.index_url(),
        &[],
        &[("title", "Special:OAuth/initiate"), ("format", "json")],
        &[("oauth_callback", "oob")],
        &Opt::default(),
    )
    .await;
    assert!(r.json()["key"].is_string(), "{}", r.body);
    // …so signing without it fails.
    let oauth = oauth_params(
        &c,
        "POST",
        &wiki.index_url(),
        &[("title", "Special:OAuth/initiate")],
        &[],
        &[("oauth_callback", "oob")],
        &Opt::default(),
    );
    let r = send(
        "POST",
        &wiki.index_url(),
        &[("title", "Special:OAuth/initiate")],
        &[("format", "json")],
        Some(&header_of(&oauth)),
    )
    .await;
    assert_eq!(
        r.body,
        r#"{"error":"mwoauth-oauth-exception","message":"An error occurred in the OAuth protocol: Invalid signature"}"#
    );
    // Same-named key in query and body: the body wins, only it is signed.
    let (r, _) = signed(
        &c,
        "POST",
        &wiki.index_url(),
        &[("title", "Special:OAuth/initiate")],
        &[("title", "Special:OAuth/initiate"), ("format", "json")],
        &[("oauth_callback", "oob")],
        &Opt::default(),
    )
    .await;
    assert!(
        r.body.contains("Invalid signature"),
        "a client that signs both copies is refused: {}",
        r.body
    );
    // OAuth header on a non-API page.
    let r = send(
        "GET",
        &format!("{}/wiki/Main_Page", wiki.server()),
        &[],
        &[],
        Some("OAuth oauth_consumer_key=\"x\""),
    )
    .await;
    assert_eq!(r.status, 400);
    assert!(r.body.contains("OAuth can only be used with the API"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn down_controls_and_robustness() {
    let wiki = start(None).await;
    let http = client();
    // JSON controls
    let v: Value = http
        .get(format!("{}/devwiki", wiki.server()))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(v["api_url"], wiki.api_url());
    assert_eq!(v["default_consumer"]["key"], wiki.default_consumer().key);
    let c: Value = http
        .post(format!("{}/devwiki/consumers", wiki.server()))
        .body(r#"{"name":"HTTP app","callback":"http://127.0.0.1:5000/cb","callback_is_prefix":true,"grants":["basic","editpage"]}"#)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let key = c["key"].as_str().unwrap().to_string();
    assert!(wiki.consumer(&key).unwrap().callback_is_prefix);
    let r = http
        .post(format!("{}/devwiki/auto-approve", wiki.server()))
        .body(r#"{"user":"Alice"}"#)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let creds = Creds {
        ck: key.clone(),
        cs: c["secret"].as_str().unwrap().into(),
        token: None,
    };
    let user = login(&wiki, &creds).await;
    let v: Value = http
        .post(format!("{}/devwiki/revoke", wiki.server()))
        .body(format!(r#"{{"user":"Alice","consumer_key":"{key}"}}"#))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(v["revoked"], true);
    let r = api_get(
        &wiki,
        &user,
        &[
            ("action", "query"),
            ("meta", "userinfo"),
            ("format", "json"),
        ],
    )
    .await;
    assert!(r.body.contains("No approved grant"));
    let v: Value = http
        .get(format!("{}/devwiki/page?title=Main%20Page", wiki.server()))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(v["text"].as_str(), wiki.page_text("Main Page").as_deref());
    http.post(format!("{}/devwiki/maxlag", wiki.server()))
        .body(r#"{"lag":9}"#)
        .send()
        .await
        .unwrap();
    let r = send(
        "GET",
        &wiki.api_url(),
        &[
            ("action", "query"),
            ("meta", "userinfo"),
            ("maxlag", "1"),
            ("format", "json"),
        ],
        &[],
        None,
    )
    .await;
    assert_eq!(r.h("x-database-lag"), "9");
    http.post(format!("{}/devwiki/maxlag", wiki.server()))
        .body(r#"{"lag":null}"#)
        .send()
        .await
        .unwrap();
    // Down: 503 HTML everywhere but the controls.
    http.post(format!("{}/devwiki/down", wiki.server()))
        .body(r#"{"down":true}"#)
        .send()
        .await
        .unwrap();
    let r = send(
        "GET",
        &wiki.api_url(),
        &[("action", "query"), ("format", "json")],
        &[],
        None,
    )
    .await;
    assert_eq!(r.status, 503);
    assert!(r.h("content-type").starts_with("text/html"));
    assert!(r
        .body
        .contains("Our servers are currently under maintenance"));
    wiki.set_down(false);
    let r = send(
        "GET",
        &wiki.api_url(),
        &[("action", "query"), ("format", "json")],
        &[],
        None,
    )
    .await;
    assert_eq!(r.body, r#"{"batchcomplete":""}"#);

    // Garbage never panics the server.
    let raw_urls = [
        format!(
            "{}/w/api.php?action=query&meta=userinfo&format=json&%ff%fe=%80",
            wiki.server()
        ),
        format!(
            "{}/w/index.php?title=Special:OAuth/initiate&oauth_timestamp=abc",
            wiki.server()
        ),
        format!(
            "{}/w/index.php?title=Special:OAuth/nope&format=json",
            wiki.server()
        ),
        format!("{}/wiki/Special:OAuth", wiki.server()),
        format!(
            "{}/w/api.php?action=query&list=usercontribs&ucuser=Alice&uclimit=abc&format=json",
            wiki.server()
        ),
        format!(
            "{}/w/api.php?action=query&list=usercontribs&ucuser=Alice&uccontinue=zzz&format=json",
            wiki.server()
        ),
        format!("{}/w/api.php?action=nope&format=json", wiki.server()),
        format!("{}/", wiki.server()),
    ];
    for u in raw_urls {
        let r = http
            .get(&u)
            .header(
                "Authorization",
                "OAuth oauth_consumer_key=\"\\, oauth_nonce=,=\",oauth_=:\"",
            )
            .send()
            .await
            .unwrap();
        assert!(r.status().as_u16() < 500, "{u}: {}", r.status());
    }
    let r = http
        .post(wiki.api_url())
        .header("Content-Type", "application/x-www-form-urlencoded")
        .body(vec![b'a'; 9 * 1024 * 1024])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 413);
    assert_eq!(r.headers()["mediawiki-api-error"], "http-contenttoolarge");
    let r = http
        .post(format!(
            "{}/w/index.php?title=Special:OAuth/initiate",
            wiki.server()
        ))
        .header("Content-Type", "multipart/form-data; boundary=x")
        .header(
            "Authorization",
            "OAuth oauth_signature=\"%zz\", oauth_consumer_key=\"%E2%28%A1\"",
        )
        .body(
            b"--x\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\n\xff\xfe\r\n--x--".to_vec(),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(
        r.text().await.unwrap(),
        "Error: An error occurred in the OAuth protocol: Invalid consumer"
    );
    // Still alive.
    let r = send(
        "GET",
        &wiki.api_url(),
        &[
            ("action", "query"),
            ("meta", "siteinfo"),
            ("format", "json"),
        ],
        &[],
        None,
    )
    .await;
    assert_eq!(r.json()["query"]["general"]["server"], wiki.server());
    wiki.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn many_concurrent_logins() {
    let wiki = std::sync::Arc::new(start(Some("Alice")).await);
    let c = Creds::consumer(&wiki.default_consumer());
    let mut tasks = Vec::new();
    for _ in 0..500 {
        let (wiki, c) = (wiki.clone(), c.clone());
        tasks.push(tokio::spawn(async move { login(&wiki, &c).await.token }));
    }
    let mut tokens = std::collections::HashSet::new();
    for t in tasks {
        tokens.insert(t.await.unwrap());
    }
    assert_eq!(tokens.len(), 1, "one user + consumer: one access token");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn private_info_authenticate_and_blockinfo() {
    let wiki = start(None).await;
    // mwoauth-authonlyprivate: realname and email, before the nonce.
    let private = wiki.register_consumer(ConsumerSpec {
        name: "Who are you".into(),
        grants: vec!["mwoauth-authonlyprivate".into()],
        ..ConsumerSpec::default()
    });
    let c = Creds::consumer(&private);
    let (rt, rts) = initiate(&wiki, &c, "oob").await;
    let page = send(
        "GET",
        &wiki.index_url(),
        &[
            ("title", "Special:OAuth/authenticate"),
            ("oauth_token", &rt),
            ("oauth_consumer_key", &c.ck),
        ],
        &[],
        None,
    )
    .await;
    assert!(
        page.body
            .contains("including your real name and email address"),
        "{}",
        page.body
    );
    let form = [
        ("title", "Special:OAuth/authorize"),
        ("consumerKey", c.ck.as_str()),
        ("requestToken", rt.as_str()),
        ("user", "Alice"),
        ("accept", "Allow"),
    ];
    let r = send("POST", &wiki.index_url(), &[], &form, None).await;
    assert_eq!(r.status, 302, "{}", r.body);
    let cookie = r.h("set-cookie");
    assert!(cookie.starts_with("devwiki_user=Alice;"), "{cookie}");
    let tok = parse_form(
        &exchange(&wiki, &c, &rt, &rts, &verifier_of(&r.h("location")))
            .await
            .body,
    );
    let user = c.with_token(&tok["oauth_token"], &tok["oauth_token_secret"]);
    let (r, _) = signed(
        &user,
        "GET",
        &wiki.index_url(),
        &[("title", "Special:OAuth/identify")],
        &[],
        &[],
        &Opt::default(),
    )
    .await;
    let (_, payload, _) = jwt_parts(&r.body);
    assert!(
        payload.contains(r#""grants":["mwoauth-authonlyprivate"],"realname":"Alice Example","email":"alice@example.org","nonce":"#),
        "{payload}"
    );
    // authenticate skips the dialog for an identical auth-only approval of the
    // remembered user (the cookie stands in for the login session).
    let (rt2, _) = initiate(&wiki, &c, "oob").await;
    let r = client()
        .get(format!(
            "{}?title=Special:OAuth/authenticate&oauth_token={rt2}&oauth_consumer_key={}",
            wiki.index_url(),
            c.ck
        ))
        .header("Cookie", "devwiki_user=Alice")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 302);

    // blockinfo of the blocked user
    let (at, ats) = wiki.grant("Blocked", &wiki.default_consumer().key).unwrap();
    let blocked = Creds::consumer(&wiki.default_consumer()).with_token(&at, &ats);
    let r = api_get(
        &wiki,
        &blocked,
        &[
            ("action", "query"),
            ("meta", "userinfo"),
            ("uiprop", "blockinfo|editcount"),
            ("format", "json"),
        ],
    )
    .await;
    assert!(
        r.body.starts_with(r#"{"batchcomplete":"","query":{"userinfo":{"id":3,"name":"Blocked","blockid":1,"blockedby":"Admin","blockedbyid":1,"blockreason":"Vandalism","#),
        "{}",
        r.body
    );
    // Explanation pages.
    let r = send(
        "GET",
        &wiki.index_url(),
        &[("title", "Special:OAuth")],
        &[],
        None,
    )
    .await;
    assert!(r.body.contains("This special page handles OAuth requests."));
    let r = send("GET", &format!("{}/", wiki.server()), &[], &[], None).await;
    assert!(r.body.contains(&wiki.default_consumer().key));
}

#[tokio::test]
async fn index_php_and_api_php_only_under_the_script_path() {
    // $wgScriptPath = "/w" (the default): nothing answers at the root.
    let wiki = start(None).await;
    let server = wiki.server();
    assert_eq!(wiki.base_url(), format!("{server}/w"));
    for path in [
        "/index.php?title=Special:OAuth/initiate",
        "/index.php?title=Main_Page",
        "/index.php/Special:OAuth/initiate",
        "/api.php?action=query&meta=siteinfo&format=json",
        "/images/a/ab/X.png",
    ] {
        let r = send("GET", &format!("{server}{path}"), &[], &[], None).await;
        assert_eq!(r.status, 404, "{path}: {}", r.body);
        assert!(!r.body.contains("oauth_token"), "{path}");
    }
    let r = send(
        "GET",
        &wiki.index_url(),
        &[("title", "Main Page"), ("action", "raw")],
        &[],
        None,
    )
    .await;
    assert_eq!(r.status, 200);
    let r = send(
        "GET",
        &wiki.api_url(),
        &[
            ("action", "query"),
            ("meta", "siteinfo"),
            ("format", "json"),
        ],
        &[],
        None,
    )
    .await;
    assert_eq!(r.json()["query"]["general"]["scriptpath"], "/w");
    assert_eq!(r.json()["query"]["general"]["script"], "/w/index.php");
    wiki.shutdown().await;

    // Another script path, and a wiki at the root.
    for script_path in ["/mediawiki/w", ""] {
        let wiki = DevWiki::start(DevWikiConfig {
            script_path: script_path.into(),
            ..DevWikiConfig::default()
        })
        .await
        .expect("devwiki starts");
        let server = wiki.server();
        assert_eq!(wiki.base_url(), format!("{server}{script_path}"));
        assert_eq!(wiki.api_url(), format!("{server}{script_path}/api.php"));
        let r = send(
            "GET",
            &wiki.api_url(),
            &[
                ("action", "query"),
                ("meta", "siteinfo"),
                ("format", "json"),
            ],
            &[],
            None,
        )
        .await;
        assert_eq!(r.status, 200, "{script_path}");
        assert_eq!(r.json()["query"]["general"]["scriptpath"], script_path);
        // The whole handshake works there (the base string uses the URL as sent).
        let c = Creds::consumer(&wiki.default_consumer());
        wiki.set_auto_approve(Some("Alice"));
        let user = login(&wiki, &c).await;
        let r = api_get(&wiki, &user, &[("action", "query"), ("meta", "userinfo")]).await;
        assert!(r.body.contains("\"name\":\"Alice\""), "{}", r.body);
        if !script_path.is_empty() {
            let r = send("GET", &format!("{server}/w/api.php"), &[], &[], None).await;
            assert_eq!(r.status, 404, "{script_path}");
        }
        wiki.shutdown().await;
    }

    // A script path MediaWiki would not have is refused at start.
    for bad in ["w", "/w/", "/w?x", "/a b"] {
        let err = DevWiki::start(DevWikiConfig {
            script_path: bad.into(),
            ..DevWikiConfig::default()
        })
        .await
        .expect_err(bad);
        assert_eq!(err.kind(), std::io::ErrorKind::InvalidInput, "{bad}");
        assert!(err.to_string().contains("script path"), "{err}");
    }
}

#[tokio::test]
async fn privacy_policy_link_of_the_authorize_page_exists() {
    let wiki = start(None).await;
    let c = Creds::consumer(&wiki.default_consumer());
    let (rt, _) = initiate(&wiki, &c, "oob").await;
    let page = send(
        "GET",
        &wiki.index_url(),
        &[
            ("title", "Special:OAuth/authorize"),
            ("oauth_token", &rt),
            ("oauth_consumer_key", &c.ck),
        ],
        &[],
        None,
    )
    .await;
    let href = page
        .body
        .split("<p id=\"footer-places-privacy\"><a href=\"")
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .expect("a privacy policy link")
        .to_string();
    let r = send("GET", &format!("{}{href}", wiki.server()), &[], &[], None).await;
    assert_eq!(r.status, 200, "{href}: {}", r.body);
    assert!(r.body.contains("runs on your machine only"), "{}", r.body);
    wiki.shutdown().await;
}

#[tokio::test]
async fn default_consumer_as_a_prefix_for_any_loopback_port() {
    // Registered port 1 means any port (MWOAuthServer::checkCallback).
    let wiki = DevWiki::start(DevWikiConfig {
        auto_approve: Some("Alice".into()),
        callback: "http://127.0.0.1:1/".into(),
        callback_is_prefix: true,
        ..DevWikiConfig::default()
    })
    .await
    .expect("devwiki starts");
    let consumer = wiki.default_consumer();
    assert!(consumer.callback_is_prefix);
    let c = Creds::consumer(&consumer);
    for port in [8000, 5000, 43210] {
        let cb = format!("http://127.0.0.1:{port}/oauth-callback");
        let (rt, _) = initiate(&wiki, &c, &cb).await;
        let loc = authorize_location(&wiki, &c.ck, &rt).await;
        assert!(loc.starts_with(&format!("{cb}?oauth_verifier=")), "{loc}");
    }
    for bad in [
        "http://localhost:8000/oauth-callback",
        "https://127.0.0.2:8000/oauth-callback",
        "http://127.0.0.1:8000@evil.example/oauth-callback",
    ] {
        let (r, _) = signed(
            &c,
            "GET",
            &wiki.index_url(),
            &[("title", "Special:OAuth/initiate")],
            &[],
            &[("oauth_callback", bad)],
            &Opt::default(),
        )
        .await;
        assert_eq!(r.body, NOT_OOB_OR_PREFIX, "{bad}");
    }
    wiki.shutdown().await;
}
