//! `api.php`: OAuth from the `Authorization` header only, `ApiMain`'s order
//! of checks, errors and warnings in the real shapes, `formatversion=1|2`.
//! The modules are in [`crate::api_query`] and [`crate::api_edit`].

use crate::http::{Req, Resp};
use crate::messages::{self, escape_html};
use crate::oauth2;
use crate::phpjson::{self, Flags, J};
use crate::special_oauth;
use crate::store::Shared;
use crate::users;
use crate::verify::{self, Params};

use crate::api_base::{strip_markup, ApiError, Ctx, Session};

fn docref(script: &str) -> String {
    format!(
        "See {script}/api.php for API usage. Subscribe to the mediawiki-api-announce mailing list at &lt;https://lists.wikimedia.org/postorius/lists/mediawiki-api-announce.lists.wikimedia.org/&gt; for notice of API deprecations and breaking changes."
    )
}

fn json_response(status: u16, body: &J, fv2: bool) -> Resp {
    let flags = if fv2 { Flags::API_FV2 } else { Flags::API_FV1 };
    Resp::new(
        status,
        "application/json; charset=utf-8",
        phpjson::encode(body, flags),
    )
    .header("X-Frame-Options", "DENY")
    .header("Content-Disposition", "inline; filename=api-result.json")
    .header("Cache-Control", "private, must-revalidate, max-age=0")
    .header("Vary", "Accept-Encoding, Treat-as-Untrusted, Authorization")
}

fn error_response(err: ApiError, fv2: bool, errorformat: &str, script: &str) -> Resp {
    let body = if errorformat == "bc" {
        let mut e = J::obj()
            .with("code", J::s(err.code.clone()))
            .with("info", J::s(err.info.clone()));
        for (k, v) in &err.data {
            e.set(k, v.clone());
        }
        e.set(if fv2 { "docref" } else { "*" }, J::s(docref(script)));
        J::obj().with("error", e)
    } else {
        let mut e = J::obj().with("code", J::s(err.code.clone()));
        if errorformat != "none" {
            e.set(if fv2 { "text" } else { "*" }, J::s(err.info.clone()));
        }
        for (k, v) in &err.data {
            e.set(k, v.clone());
        }
        J::obj()
            .with("errors", J::Arr(vec![e]))
            .with(if fv2 { "docref" } else { "*" }, J::s(docref(script)))
    };
    let mut resp =
        json_response(err.status, &body, fv2).header("MediaWiki-API-Error", err.code.clone());
    for (k, v) in err.headers {
        resp = resp.header(&k, v);
    }
    resp
}

/// The `mwoauth-invalid-authorization` error of the session provider.
fn invalid_authorization(detail: &str) -> ApiError {
    ApiError::new(
        "mwoauth-invalid-authorization",
        strip_markup(&messages::invalid_authorization(detail).text()),
    )
}

/// The user whose OAuth credentials sign `req` (unverified: for counting
/// requests in flight per user), if any.
pub(crate) fn caller(sh: &Shared, req: &Req) -> Option<String> {
    let auth = req.authorization.as_deref()?;
    let st = sh.lock();
    if let Some(token) = oauth2::bearer_token(auth) {
        return oauth2::verify_bearer(&st, token).ok()?.user;
    }
    if !auth.starts_with("OAuth ") {
        return None;
    }
    let token = req.oauth_params().get_str("oauth_token")?;
    st.access_tokens.get(&token).map(|(user, _)| user.clone())
}

/// `SessionProvider::provideSessionInfo`'s checks after the credentials
/// (Extension:OAuth `src/SessionProvider.php`, master): the user must exist
/// here (a global account not attached to this wiki does not), must not be
/// blocked when `$wgBlockDisablesLogin`, and the consumer must still be
/// usable (`isUsableBy`: not disabled after approval).
fn check_standing(
    st: &crate::store::Store,
    user: &users::UserRec,
    consumer_key: &str,
    consumer_name: &str,
) -> Result<(), ApiError> {
    if st.detached.contains(&user.name) {
        return Err(ApiError::new(
            "mwoauth-invalid-authorization-invalid-user",
            "The authorization headers in your request are for a user that does not exist here",
        ));
    }
    if st.switches.block_disables_login() && user.block.is_some() {
        return Err(ApiError::new(
            "mwoauth-invalid-authorization-blocked-user",
            "The authorization headers in your request are for a user who is blocked",
        ));
    }
    if st.disabled_consumers.contains(consumer_key) {
        return Err(ApiError::new(
            "mwoauth-invalid-authorization-not-approved",
            format!(
                "The app that you are trying to connect seems to be set up incorrectly. Contact the author of \"{consumer_name}\" for help."
            ),
        ));
    }
    Ok(())
}

/// `SessionProvider::provideSessionInfo`: OAuth only from the header.
fn authenticate(sh: &Shared, req: &Req) -> Result<Session, ApiError> {
    let auth = match req.authorization.as_deref() {
        Some(a) => a,
        None => return Ok(Session::Anon),
    };
    if let Some(token) = oauth2::bearer_token(auth) {
        let st = sh.lock();
        let b = oauth2::verify_bearer(&st, token)
            .map_err(|_| invalid_authorization("Invalid access token"))?;
        let Some(name) = b.user else {
            // A client_credentials token of a client that is not owner-only.
            return Ok(Session::Anon);
        };
        let user = st.user(&name).cloned().ok_or_else(|| {
            ApiError::new(
                "mwoauth-invalid-authorization-invalid-user",
                "The authorization headers in your request are for a user that does not exist here",
            )
        })?;
        let name = st
            .consumers
            .get(&b.client)
            .map_or_else(|| b.client.clone(), |c| c.name.clone());
        check_standing(&st, &user, &b.client, &name)?;
        let rights = users::session_rights(&user.rights, &b.scopes);
        return Ok(Session::OAuth {
            user: Box::new(user),
            consumer: b.client,
            rights,
        });
    }
    if !auth.starts_with("OAuth ") {
        return Ok(Session::Anon);
    }
    let params = req.oauth_params();
    let url = verify::normalized_url(&sh.server(), &req.raw_path);
    let mut st = sh.lock();
    let (c, acc) = special_oauth::verify_access(&mut st, &params, &req.method, &url)
        .map_err(|f| invalid_authorization(&f.detail()))?;
    let user = st.user(&acc.user).cloned().ok_or_else(|| {
        ApiError::new(
            "mwoauth-invalid-authorization-invalid-user",
            "The authorization headers in your request are for a user that does not exist here",
        )
    })?;
    if let Some(owner) = &c.owner_only {
        if *owner != user.name {
            return Err(ApiError::new(
                "mwoauth-invalid-authorization-not-approved",
                format!(
                    "The app that you are trying to connect seems to be set up incorrectly. Contact the author of \"{}\" for help.",
                    c.name
                ),
            ));
        }
    }
    check_standing(&st, &user, &c.key, &c.name)?;
    let rights = users::session_rights(&user.rights, &acc.grants);
    Ok(Session::OAuth {
        user: Box::new(user),
        consumer: c.key,
        rights,
    })
}

/// Main-module and printer parameters (never "unrecognized").
const MAIN_PARAMS: &[&str] = &[
    "action",
    "format",
    "maxlag",
    "smaxage",
    "maxage",
    "assert",
    "assertuser",
    "requestid",
    "servedby",
    "curtimestamp",
    "responselanginfo",
    "origin",
    "uselang",
    "variant",
    "errorformat",
    "errorlang",
    "errorsuselocal",
    "formatversion",
    "utf8",
    "ascii",
    "callback",
];

/// Serves `api.php`.
pub(crate) fn handle(sh: &Shared, req: &Req) -> Resp {
    let values = req.values();
    let fv2 = matches!(
        values.get_str("formatversion").as_deref(),
        Some("2") | Some("latest")
    );
    let errorformat = match values.get_str("errorformat").as_deref() {
        Some(f @ ("plaintext" | "wikitext" | "html" | "raw" | "none")) => f.to_string(),
        _ => "bc".to_string(),
    };
    let script = sh.script_url();
    if let Some(resp) = edge(sh, req, &values) {
        return resp;
    }
    if req.body_too_large {
        let mut e = ApiError::new(
            "http-contenttoolarge",
            format!(
                "The data provided exceeds the maximum size of {} MB allowed for POST requests.",
                req.body_limit() / (1024 * 1024)
            ),
        );
        e.status = 413;
        return error_response(e, fv2, &errorformat, &script);
    }
    let session = match authenticate(sh, req) {
        Ok(s) => s,
        Err(e) => return error_response(e, fv2, &errorformat, &script),
    };
    let mut ctx = Ctx {
        sh,
        req,
        fv2,
        values,
        used: MAIN_PARAMS.iter().map(|s| s.to_string()).collect(),
        result: J::obj(),
        session,
    };
    match execute(&mut ctx) {
        Ok(Some(resp)) => resp,
        Ok(None) => {
            report_unused(&mut ctx);
            json_response(200, &ctx.result, fv2)
        }
        Err(e) => error_response(e, fv2, &errorformat, &script),
    }
}

/// What happens before MediaWiki sees the request: the request is counted
/// and recorded, and the rate limiter of the CDN edge may turn it away with
/// HTTP 429 (as Wikimedia's does).
fn edge(sh: &Shared, req: &Req, values: &Params) -> Option<Resp> {
    let mut st = sh.lock();
    *st.api_counts.entry("*".into()).or_insert(0) += 1;
    if let Some(retry_after) = st.switches.take_rate_limit() {
        return Some(too_many_requests(retry_after));
    }
    let action = values.get_str("action").unwrap_or_else(|| "help".into());
    let mut modules = vec![action.clone()];
    if action == "query" {
        for kind in ["prop", "list", "meta"] {
            if let Some(v) = values.get_str(kind) {
                let names: Vec<&str> = match v.strip_prefix('\u{1f}') {
                    Some(rest) => rest.split('\u{1f}').collect(),
                    None => v.split('|').collect(),
                };
                modules.extend(
                    names
                        .into_iter()
                        .filter(|m| !m.is_empty())
                        .map(|m| format!("query+{m}")),
                );
            }
        }
    }
    for m in modules {
        // Module names come from the client: bound the map.
        if st.api_counts.len() < 10_000 || st.api_counts.contains_key(&m) {
            *st.api_counts.entry(m).or_insert(0) += 1;
        }
    }
    let params = values
        .names()
        .filter_map(|n| values.get_str(&n).map(|v| (n, v)))
        .collect();
    st.last_api = Some(crate::store::RecordedRequest {
        method: req.method.clone(),
        params,
        content_type: req.content_type.clone(),
        user_agent: req.user_agent.clone(),
    });
    None
}

/// The CDN's answer to a client over its rate limit.
fn too_many_requests(retry_after: u32) -> Resp {
    let body = "<!DOCTYPE html>\n<html lang=\"en\">\n<meta charset=\"utf-8\">\n<title>Wikimedia Error</title>\n<style>body{font-family:sans-serif;margin:2em}</style>\n<div class=\"content\" role=\"main\">\n<h1>Error</h1>\n<p>Too many requests. Please slow down and try again later; see https://meta.wikimedia.org/wiki/User-Agent_policy and https://www.mediawiki.org/wiki/API:Etiquette.</p>\n</div>\n<div class=\"footer\"><p class=\"text-muted\"><code>Request served via devwiki, Error: 429, Too Many Requests</code></p></div>\n</html>\n";
    Resp::new(429, "text/html; charset=utf-8", body)
        .header("Retry-After", retry_after.to_string())
        .header(
            "Cache-Control",
            "private, s-maxage=0, max-age=0, must-revalidate",
        )
}

fn report_unused(ctx: &mut Ctx<'_>) {
    let unused: Vec<String> = ctx
        .values
        .names()
        .filter(|n| !ctx.used.contains(n))
        .collect();
    if !unused.is_empty() {
        let noun = if unused.len() == 1 {
            "parameter"
        } else {
            "parameters"
        };
        let text = format!("Unrecognized {noun}: {}.", unused.join(", "));
        ctx.warn("main", &text);
    }
}

/// What a module needs from `ApiMain`.
struct ModuleInfo {
    must_be_posted: bool,
    needs_token: bool,
    write: bool,
}

fn execute(ctx: &mut Ctx<'_>) -> Result<Option<Resp>, ApiError> {
    let action = ctx.param("action").unwrap_or_else(|| "help".into());
    // checkAsserts
    if let Some(assert) = ctx.param("assert") {
        match assert.as_str() {
            "user" if !ctx.session.is_registered() => {
                return Err(ApiError::new(
                    "assertuserfailed",
                    "You are no longer logged in, so the action could not be completed.",
                ))
            }
            "anon" if ctx.session.is_registered() => {
                return Err(ApiError::new(
                    "assertanonfailed",
                    "You are no longer logged out, so the action could not be completed.",
                ))
            }
            "bot" if !ctx.session.allowed("bot") => {
                return Err(ApiError::new(
                    "assertbotfailed",
                    "You do not have the \"bot\" right, so the action could not be completed.",
                ))
            }
            "user" | "anon" | "bot" => {}
            other => {
                return Err(ApiError::new(
                    "badvalue",
                    format!("Unrecognized value for parameter \"assert\": {other}."),
                ))
            }
        }
    }
    if let Some(wanted) = ctx.param("assertuser") {
        if crate::pages::normalize_user_name(&wanted).as_deref()
            != Some(ctx.session.name().as_str())
        {
            return Err(ApiError::new(
                "assertnameduserfailed",
                format!("You are no longer logged in as \"{wanted}\", so the action could not be completed."),
            ));
        }
    }
    // setupModule
    let info = match action.as_str() {
        "query" => ModuleInfo {
            must_be_posted: false,
            needs_token: false,
            write: false,
        },
        "edit" => ModuleInfo {
            must_be_posted: true,
            needs_token: true,
            write: true,
        },
        "purge" => ModuleInfo {
            must_be_posted: true,
            needs_token: false,
            write: true,
        },
        "upload" => ModuleInfo {
            must_be_posted: true,
            needs_token: true,
            write: true,
        },
        "checktoken" => ModuleInfo {
            must_be_posted: false,
            needs_token: false,
            write: false,
        },
        "help" => {
            return Ok(Some(help_page(ctx)));
        }
        other => {
            return Err(ApiError::new(
                "badvalue",
                format!("Unrecognized value for parameter \"action\": {other}."),
            ))
        }
    };
    if info.needs_token {
        let token = ctx.param("token");
        let token = match token {
            Some(t) => t,
            None => {
                return Err(ApiError::new(
                    "missingparam",
                    "The \"token\" parameter must be set.",
                ))
            }
        };
        if ctx.req.get_params().get("token").is_some() {
            return Err(ApiError::new(
                "mustpostparams",
                "The following parameter was found in the query string, but must be in the POST body: token.",
            ));
        }
        let expected = {
            let st = ctx.sh.lock();
            ctx.session.token(&st, "csrf")
        };
        if !verify::hash_equals(token.as_bytes(), expected.as_bytes()) {
            return Err(ApiError::new("badtoken", "Invalid CSRF token."));
        }
    }
    // checkExecutePermissions
    if info.write && !ctx.session.allowed("writeapi") {
        return Err(ApiError::new(
            "writeapidenied",
            "You're not allowed to edit this wiki through the API.",
        ));
    }
    // checkReadOnly
    if info.write {
        let reason = ctx.sh.lock().switches.take_readonly();
        if let Some(reason) = reason {
            return Err(
                ApiError::new("readonly", "The wiki is currently in read-only mode.")
                    .with("readonlyreason", J::s(reason)),
            );
        }
    }
    // checkMaxLag
    if let Some(maxlag) = ctx.int_param("maxlag")? {
        let lag = ctx.sh.lock().switches.take_maxlag();
        if let Some(lag) = lag {
            if i64::from(lag) > maxlag {
                let unit = if lag == 1 { "second" } else { "seconds" };
                let mut e = ApiError::new(
                    "maxlag",
                    format!("Waiting for a database server: {lag} {unit} lagged."),
                )
                .with("host", J::s("127.0.0.1"))
                .with("lag", J::Int(i64::from(lag)))
                .with("type", J::s("db"));
                e.headers
                    .push(("Retry-After".into(), maxlag.max(5).to_string()));
                e.headers.push(("X-Database-Lag".into(), lag.to_string()));
                return Err(e);
            }
        }
    }
    // setupExternalResponse
    if !matches!(ctx.req.method.as_str(), "GET" | "HEAD" | "POST" | "OPTIONS") {
        let mut e = ApiError::new(
            "invalidmethod",
            "Invalid HTTP method. Consider using GET or POST.",
        );
        e.status = 405;
        return Err(e);
    }
    if info.must_be_posted && !ctx.req.was_posted() {
        return Err(ApiError::new(
            "mustbeposted",
            format!("The \"{action}\" module requires a POST request."),
        ));
    }
    match action.as_str() {
        "query" => crate::api_query::execute(ctx)?,
        "edit" => crate::api_edit::edit(ctx)?,
        "purge" => crate::api_edit::purge(ctx)?,
        "upload" => crate::api_upload::upload(ctx)?,
        "checktoken" => checktoken(ctx)?,
        _ => {}
    }
    Ok(None)
}

fn checktoken(ctx: &mut Ctx<'_>) -> Result<(), ApiError> {
    let kind = ctx.param("type").unwrap_or_default();
    let token = match ctx.param("token") {
        Some(t) => t,
        None => {
            return Err(ApiError::new(
                "missingparam",
                "The \"token\" parameter must be set.",
            ))
        }
    };
    ctx.mark("maxtokenage");
    if !matches!(
        kind.as_str(),
        "csrf" | "watch" | "patrol" | "rollback" | "userrights" | "login" | "createaccount"
    ) {
        return Err(ApiError::new(
            "missingparam",
            "The \"type\" parameter must be set.",
        ));
    }
    let expected = {
        let st = ctx.sh.lock();
        ctx.session.token(&st, &kind)
    };
    let result = if verify::hash_equals(token.as_bytes(), expected.as_bytes()) {
        "valid"
    } else {
        "invalid"
    };
    ctx.result
        .set("checktoken", J::obj().with("result", J::s(result)));
    Ok(())
}

fn help_page(ctx: &Ctx<'_>) -> Resp {
    let script = escape_html(&ctx.sh.script_url());
    let body = format!(
        "<p>DevWiki's <code>api.php</code> implements: <code>action=query</code> with <code>meta=userinfo|tokens|siteinfo</code>, <code>list=usercontribs|allpages</code>, <code>prop=revisions|info|imageinfo</code>; <code>action=edit</code>; <code>action=purge</code>; <code>action=upload</code>; <code>action=checktoken</code>. Use <code>format=json</code> and optionally <code>formatversion=2</code>.</p>\n<p>Example: <a href=\"{script}/api.php?action=query&amp;meta=userinfo&amp;format=json\">{script}/api.php?action=query&amp;meta=userinfo&amp;format=json</a></p>"
    );
    Resp::page(200, "MediaWiki API help", &body)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strip() {
        assert_eq!(
            strip_markup("The <var>token</var> parameter must be set."),
            "The \"token\" parameter must be set."
        );
        assert_eq!(
            strip_markup("a &lt;b&gt; <span class=\"x\">c</span>"),
            "a <b> c"
        );
    }
}
