//! `Special:OAuth/initiate|authorize|authenticate|token|identify|verified`
//! (`SpecialMWOAuth::execute`).

use crate::authorize_page;
use crate::callback::{self, CallbackError};
use crate::http::{error_page, val, Req, Resp, Target};
use crate::jwt;
use crate::messages::{self, escape_html, Msg};
use crate::phpjson::{self, Flags, J};
use crate::store::{ConsumerRec, Shared, Store, REQUEST_TOKEN_TTL};
use crate::verify::{self, OAuthException, Params};

fn ex(e: OAuthException) -> Msg {
    messages::oauth_exception(&e.0)
}

/// `SpecialMWOAuth::showResponse` for raw and json.
fn show_response(data: String, format: &str) -> Resp {
    let ct = if format == "json" {
        "application/json"
    } else {
        "text/plain;charset=UTF-8"
    };
    Resp::new(200, ct, data)
        .header("Expires", "Thu, 01 Jan 1970 00:00:00 GMT")
        .header(
            "Cache-Control",
            "no-cache, no-store, max-age=0, must-revalidate",
        )
        .header("Pragma", "no-cache")
}

/// `SpecialMWOAuth::showError`.
pub(crate) fn show_error(msg: &Msg, format: &str) -> Resp {
    match format {
        "raw" => show_response(format!("Error: {}", msg.escaped()), "raw"),
        "json" => {
            let body = J::obj()
                .with("error", J::s(msg.key))
                .with("message", J::s(msg.text()));
            show_response(phpjson::encode(&body, Flags::FORMATJSON_DEFAULT), "json")
        }
        "html" => error_page(msg),
        _ => Resp::page(200, "OAuth", ""),
    }
}

/// PHP `intval` of a request value.
fn php_intval(s: &str) -> i64 {
    let t = s.trim_start();
    let (neg, rest) = match t.as_bytes().first() {
        Some(b'-') => (true, &t[1..]),
        Some(b'+') => (false, &t[1..]),
        _ => (false, t),
    };
    let digits: String = rest
        .chars()
        .take_while(char::is_ascii_digit)
        .take(18)
        .collect();
    let v: i64 = digits.parse().unwrap_or(0);
    if neg {
        -v
    } else {
        v
    }
}

/// Entry point for `Special:OAuth[/<subpage>]`.
pub(crate) fn execute(sh: &Shared, req: &Req, subpage: Option<&str>, target: &Target) -> Resp {
    let values = req.values();
    let mut format = val(&values, "format").unwrap_or_else(|| "raw".into());
    let version = val(&values, "oauth_version")
        .map(|v| php_intval(&v))
        .unwrap_or(1);
    let sub = subpage.unwrap_or("");
    let needs_v1 = matches!(
        sub,
        "initiate" | "authorize" | "authenticate" | "token" | "verified" | "grants" | "identify"
    );
    if matches!(sub, "authorize" | "authenticate" | "verified") {
        format = "html".into();
    } else if sub == "identify" {
        format = "json".into();
    }
    if needs_v1 && version != 1 {
        return show_error(
            &messages::unsupported_version(&version.to_string()),
            &format,
        );
    }
    match sub {
        "initiate" => initiate(sh, req, &format),
        "token" => token(sh, req, &format),
        "identify" => identify(sh, req),
        "authorize" | "authenticate" => {
            authorize_page::handle(sh, req, &values, sub == "authenticate", target)
        }
        "verified" => {
            let verifier = val(&values, "oauth_verifier").filter(|v| !v.is_empty());
            let token = val(&values, "oauth_token").filter(|v| !v.is_empty());
            match (verifier, token) {
                (Some(v), Some(_)) => Resp::page(200, "OAuth", &messages::verified(&v).html()),
                _ => error_page(&messages::bad_request_missing_params()),
            }
        }
        "grants" => Resp::redirect(&format!("{}/wiki/Special:ListGrants", sh.server())),
        "" => explanation_page(sh),
        _ => {
            let format = val(&values, "format").unwrap_or_else(|| "html".into());
            show_error(&messages::bad_request_invalid_action(), &format)
        }
    }
}

fn explanation_page(sh: &Shared) -> Resp {
    let script = escape_html(&sh.script_url());
    let body = format!(
        "<p>This special page handles OAuth requests. This is <b>DevWiki</b>, a local imitation of MediaWiki with Extension:OAuth (OAuth 1.0a) for development and tests.</p>\n<ul>\n<li><code>{script}/index.php?title=Special:OAuth/initiate</code></li>\n<li><code>{script}/index.php?title=Special:OAuth/authorize</code></li>\n<li><code>{script}/index.php?title=Special:OAuth/token</code></li>\n<li><code>{script}/index.php?title=Special:OAuth/identify</code></li>\n<li><code>{script}/api.php</code></li>\n</ul>\n<p>Test controls: <a href=\"/devwiki\">/devwiki</a>.</p>"
    );
    Resp::page(200, "OAuth", &body)
}

/// `check_signature`: timestamp, nonce (recorded first), method, signature.
pub(crate) fn check_signature(
    st: &mut Store,
    params: &Params,
    method: &str,
    url: &str,
    consumer: &ConsumerRec,
    token: Option<(&str, &str)>,
) -> Result<(), OAuthException> {
    let now = st.now();
    let ts = verify::check_timestamp(params, now)?;
    let token_key = token.map(|(k, _)| k).unwrap_or("");
    verify::check_nonce(params, ts, |nonce, expires| {
        if st.switches.take_rejected_nonce() {
            // DevWiki::reject_next_nonce: as if this nonce had been seen.
            return false;
        }
        st.record_nonce(&consumer.key, token_key, nonce, expires)
    })?;
    verify::check_hmac_signature(
        params,
        method,
        url,
        &consumer.secret,
        token.map(|(_, s)| s).unwrap_or(""),
    )
}

/// `OAuthServer::get_version` + `get_consumer`.
pub(crate) fn get_consumer(st: &Store, params: &Params) -> Result<ConsumerRec, OAuthException> {
    verify::check_version(params)?;
    let key = params
        .get_truthy("oauth_consumer_key")
        .ok_or_else(|| OAuthException("Invalid consumer key".into()))?;
    // OAuth 2.0 clients are not OAuth 1.0a consumers.
    st.consumers
        .get(&key)
        .filter(|c| !c.oauth2)
        .cloned()
        .ok_or_else(|| OAuthException("Invalid consumer".into()))
}

fn owner_only_error(c: &ConsumerRec) -> Msg {
    messages::consumer_owner_only(&c.name, &c.key)
}

/// The consumer of an initiate or token request: known, and not owner-only
/// (E010), as `fetch_request_token`/`fetch_access_token` check first.
fn handshake_consumer(st: &Store, params: &Params) -> Result<ConsumerRec, Msg> {
    let c = get_consumer(st, params).map_err(ex)?;
    if c.owner_only.is_some() {
        return Err(owner_only_error(&c));
    }
    Ok(c)
}

fn initiate(sh: &Shared, req: &Req, format: &str) -> Resp {
    let params = req.oauth_params();
    let url = verify::normalized_url(&sh.server(), &req.raw_path);
    let result = {
        let mut st = sh.lock();
        (|| -> Result<(String, String), Msg> {
            let c = handshake_consumer(&st, &params)?;
            check_signature(&mut st, &params, &req.method, &url, &c, None).map_err(ex)?;
            let cb = params.get_str("oauth_callback");
            callback::check_callback(&c.callback, c.callback_is_prefix, cb.as_deref()).map_err(
                |e| match e {
                    CallbackError::NotOob => messages::callback_not_oob(),
                    CallbackError::NotOobOrPrefix => messages::callback_not_oob_or_prefix(),
                },
            )?;
            Ok(st.new_request_token(&c.key, cb.as_deref().unwrap_or("")))
        })()
    };
    match result {
        Ok((key, secret)) => return_token(&key, &secret, true, format),
        Err(msg) => show_error(&msg, format),
    }
}

/// `SpecialMWOAuth::returnToken`.
fn return_token(key: &str, secret: &str, request_token: bool, format: &str) -> Resp {
    match format {
        "raw" => show_response(
            format!(
                "oauth_token={}&oauth_token_secret={}&oauth_callback_confirmed=true",
                verify::rawurlencode(key.as_bytes()),
                verify::rawurlencode(secret.as_bytes())
            ),
            "raw",
        ),
        "json" => {
            let mut body = J::obj().with("key", J::s(key)).with("secret", J::s(secret));
            if request_token {
                body.set("oauth_callback_confirmed", J::s("true"));
            }
            show_response(phpjson::encode(&body, Flags::FORMATJSON_DEFAULT), "json")
        }
        "html" => Resp::page(
            200,
            "OAuth",
            &format!(
                "<ul><li>oauth_token = {}</li><li>oauth_token_secret = {}</li><li>oauth_callback_confirmed = true</li></ul>",
                escape_html(&verify::rawurlencode(key.as_bytes())),
                escape_html(&verify::rawurlencode(secret.as_bytes()))
            ),
        ),
        _ => Resp::page(200, "OAuth", ""),
    }
}

fn token(sh: &Shared, req: &Req, format: &str) -> Resp {
    let params = req.oauth_params();
    let url = verify::normalized_url(&sh.server(), &req.raw_path);
    let result = {
        let mut st = sh.lock();
        (|| -> Result<(String, String), Msg> {
            let c = handshake_consumer(&st, &params)?;
            let rt_key = params.get_str("oauth_token").unwrap_or_default();
            let rt = st.request_token_mut(&c.key, &rt_key)?.clone();
            if rt.secret.is_empty() {
                return Err(messages::bad_token());
            }
            check_signature(
                &mut st,
                &params,
                &req.method,
                &url,
                &c,
                Some((&rt_key, &rt.secret)),
            )
            .map_err(ex)?;
            let verifier = params.get_str("oauth_verifier");
            let access_key = match (&rt.access_key, &rt.verifier) {
                (Some(a), Some(_)) => a.clone(),
                _ => return Err(messages::bad_token()),
            };
            if rt.verifier != verifier {
                return Err(messages::bad_verifier());
            }
            let acc = st.access_token(&c.key, &access_key)?;
            let now = st.now();
            if let Ok(t) = st.request_token_mut(&c.key, &rt_key) {
                t.used = true;
                t.expires = now + REQUEST_TOKEN_TTL;
            }
            Ok((acc.access_key, acc.access_secret))
        })()
    };
    match result {
        Ok((key, secret)) => return_token(&key, &secret, false, format),
        Err(msg) => show_error(&msg, format),
    }
}

/// Why `verify_request` failed: a plain `OAuthException` or a localized
/// `MWOAuthException` (api.php shows the text of either as `$1`).
pub(crate) enum Fail {
    Ex(OAuthException),
    Msg(Msg),
}

impl Fail {
    /// The message for Special:OAuth (`mwoauth-oauth-exception` for plain ones).
    pub(crate) fn msg(self) -> Msg {
        match self {
            Fail::Ex(e) => ex(e),
            Fail::Msg(m) => m,
        }
    }

    /// The exception text (`$ex->getMessage()`).
    pub(crate) fn detail(&self) -> String {
        match self {
            Fail::Ex(e) => e.0.clone(),
            Fail::Msg(m) => m.text(),
        }
    }
}

/// `verify_request` for identify and api.php: version, consumer, access
/// token, timestamp, nonce, signature. Returns the consumer and acceptance.
pub(crate) fn verify_access(
    st: &mut Store,
    params: &Params,
    method: &str,
    url: &str,
) -> Result<(ConsumerRec, crate::store::Acceptance), Fail> {
    let c = get_consumer(st, params).map_err(Fail::Ex)?;
    let token = params.get_str("oauth_token").unwrap_or_default();
    let acc = st.access_token(&c.key, &token).map_err(Fail::Msg)?;
    check_signature(
        st,
        params,
        method,
        url,
        &c,
        Some((&acc.access_key, &acc.access_secret)),
    )
    .map_err(Fail::Ex)?;
    Ok((c, acc))
}

/// The JWT `grants` claim: `array_unique` of the acceptance's grants, which
/// becomes a JSON object when keys have gaps.
pub(crate) fn grants_claim(grants: &[String], as_object: bool) -> J {
    let mut raw: Vec<String> = grants.to_vec();
    let has_dup = raw.iter().enumerate().any(|(i, g)| raw[..i].contains(g));
    if as_object && !has_dup && raw.len() >= 2 {
        raw.insert(1, raw[0].clone());
    }
    let mut kept: Vec<(usize, String)> = Vec::new();
    for (i, g) in raw.into_iter().enumerate() {
        if !kept.iter().any(|(_, x)| *x == g) {
            kept.push((i, g));
        }
    }
    let sequential = kept.iter().enumerate().all(|(n, (i, _))| n == *i);
    if sequential {
        J::Arr(kept.into_iter().map(|(_, g)| J::Str(g)).collect())
    } else {
        J::Obj(
            kept.into_iter()
                .map(|(i, g)| (i.to_string(), J::Str(g)))
                .collect(),
        )
    }
}

fn identify(sh: &Shared, req: &Req) -> Resp {
    let params = req.oauth_params();
    let server = sh.server();
    let url = verify::normalized_url(&server, &req.raw_path);
    let result = {
        let mut st = sh.lock();
        (|| -> Result<String, Msg> {
            let (c, acc) = verify_access(&mut st, &params, &req.method, &url).map_err(Fail::msg)?;
            let user = st.user(&acc.user).cloned().ok_or_else(|| {
                messages::invalid_authorization("The authorization headers in your request are for a user that does not exist here")
            })?;
            if let Some(owner) = &c.owner_only {
                if *owner != user.name {
                    return Err(messages::bad_consumer(&c.name, &c.owner));
                }
            }
            let now = st.now();
            let private = acc
                .grants
                .iter()
                .any(|g| g == "mwoauth-authonlyprivate" || g == "privateinfo");
            let confirmed = user.email_authenticated.is_some();
            let newer = st.mediawiki.at_least_1_43();
            let mut claims = J::obj()
                .with("iss", J::s(server.clone()))
                .with("aud", J::s(c.key.clone()))
                .with("exp", J::Int(now + 100))
                .with("iat", J::Int(now))
                .with("sub", J::s(user.id.to_string()))
                .with("username", J::s(user.name.clone()))
                .with("editcount", J::Int(user.editcount));
            // `$profile['confirmed_email'] = $profile['email_verified'] = …`
            // inserts email_verified first (observed-1.43.md capture 5).
            if newer && st.jwt_email_verified {
                claims.set("email_verified", J::Bool(confirmed));
            }
            claims.set("confirmed_email", J::Bool(confirmed));
            if !newer && st.jwt_email_verified {
                claims.set("email_verified", J::Bool(confirmed));
            }
            claims.set("blocked", J::Bool(user.block.is_some()));
            claims.set("registered", J::s(user.registered.clone()));
            claims.set(
                "groups",
                J::Arr(user.groups().into_iter().map(J::Str).collect()),
            );
            claims.set(
                "rights",
                J::Arr(
                    crate::users::listed_rights(user.rights.clone(), newer)
                        .into_iter()
                        .map(J::Str)
                        .collect(),
                ),
            );
            claims.set("grants", grants_claim(&acc.grants, c.grants_as_object));
            if private {
                claims.set("realname", J::s(user.realname.clone()));
                claims.set(
                    "email",
                    J::s(if confirmed {
                        user.email.clone()
                    } else {
                        String::new()
                    }),
                );
            }
            claims.set(
                "nonce",
                J::s(params.get_str("oauth_nonce").unwrap_or_default()),
            );
            Ok(jwt::encode_hs256(&claims, &c.secret))
        })()
    };
    match result {
        Ok(jwt) => show_response(jwt, "json"),
        Err(msg) => show_error(&msg, "json"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn g(v: &[&str]) -> Vec<String> {
        v.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn grants_claim_shapes() {
        let enc = |j: &J| phpjson::encode(j, Flags::PHP_JWT);
        assert_eq!(
            enc(&grants_claim(&g(&["basic", "editpage"]), false)),
            r#"["basic","editpage"]"#
        );
        assert_eq!(
            enc(&grants_claim(
                &g(&["basic", "editpage", "highvolume"]),
                true
            )),
            r#"{"0":"basic","2":"editpage","3":"highvolume"}"#
        );
        assert_eq!(
            enc(&grants_claim(
                &g(&["basic", "basic", "editpage", "highvolume"]),
                false
            )),
            r#"{"0":"basic","2":"editpage","3":"highvolume"}"#
        );
        assert_eq!(
            enc(&grants_claim(&g(&["mwoauth-authonly"]), true)),
            r#"["mwoauth-authonly"]"#
        );
    }

    #[test]
    fn intval() {
        assert_eq!(php_intval("1.0"), 1);
        assert_eq!(php_intval("2"), 2);
        assert_eq!(php_intval("abc"), 0);
    }
}
