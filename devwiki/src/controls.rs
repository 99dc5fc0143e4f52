//! Test controls over HTTP, under `/devwiki` (JSON in, JSON out), for
//! clients that are not in the same Rust process. They keep working while
//! the wiki is "down".
//!
//! The table of endpoints is in the module documentation of `devwiki`.

use serde_json::{json, Value};

use crate::config::{ConsumerSpec, ProfileFlavour};
use crate::http::{Req, Resp};
use crate::pages::parse_title;
use crate::store::Shared;
use crate::verify;

fn reply(status: u16, v: Value) -> Resp {
    Resp::new(status, "application/json", v.to_string()).header("Cache-Control", "no-store")
}

fn bad(msg: &str) -> Resp {
    reply(400, json!({ "error": msg }))
}

/// Everything the info endpoint shows.
pub(crate) fn info(sh: &Shared) -> Value {
    let server = sh.server();
    let st = sh.lock();
    let default = st.public_consumer(&st.default_consumer);
    let rest = format!("{}/rest.php", sh.script_url());
    let oauth2_client = st.public_consumer(&st.default_oauth2_client).map(|c| {
        json!({
            "client_id": c.key,
            "client_secret": c.secret,
            "redirect_uri": c.callback,
            "confidential": c.confidential,
            "name": c.name,
            "grants": c.grants,
            "endpoints": {
                "authorize": format!("{rest}/oauth2/authorize"),
                "access_token": format!("{rest}/oauth2/access_token"),
                "profile": format!("{rest}/oauth2/resource/profile"),
                "scopes": format!("{rest}/oauth2/resource/scopes"),
            },
        })
    });
    json!({
        "server": server,
        "base_url": sh.script_url(),
        "index_url": format!("{}/index.php", sh.script_url()),
        "api_url": format!("{}/api.php", sh.script_url()),
        "script_path": sh.script_path,
        "mediawiki": st.mediawiki.name(),
        "rest_url": rest,
        "default_consumer": default,
        "oauth2_client": oauth2_client,
        "users": st.users.iter().map(|u| u.name.clone()).collect::<Vec<_>>(),
        "switches": st.switches.to_json(),
        "controls": [
            "GET /devwiki", "GET /devwiki/users", "GET /devwiki/consumers", "POST /devwiki/consumers",
            "POST /devwiki/revoke", "POST /devwiki/grant", "POST /devwiki/maxlag", "POST /devwiki/down",
            "POST /devwiki/clock", "POST /devwiki/auto-approve", "GET /devwiki/page?title=...",
            "POST /devwiki/invalidate-tokens", "POST /devwiki/readonly", "POST /devwiki/ratelimit",
            "POST /devwiki/reject-nonce", "GET /devwiki/stats", "GET /devwiki/file?name=...",
            "POST /devwiki/oauth2-lifetime", "POST /devwiki/oauth2-refresh-grace",
            "POST /devwiki/profile-as", "POST /devwiki/hidden", "POST /devwiki/oauth2-code-padding"
        ],
    })
}

fn body_json(req: &Req) -> Result<Value, Resp> {
    if req.body.is_empty() {
        return Ok(json!({}));
    }
    serde_json::from_slice(&req.body).map_err(|e| bad(&format!("invalid JSON body: {e}")))
}

fn str_field(v: &Value, name: &str) -> Result<String, Resp> {
    v.get(name)
        .and_then(Value::as_str)
        .map(str::to_string)
        .ok_or_else(|| bad(&format!("missing string field \"{name}\"")))
}

/// An optional non-negative integer field, capped to `u32`.
fn u32_field(v: &Value, name: &str) -> Option<u32> {
    v.get(name)
        .and_then(Value::as_u64)
        .map(|n| n.min(u64::from(u32::MAX)) as u32)
}

/// Serves `/devwiki/...`: reads by GET, changes by POST.
pub(crate) fn handle(sh: &Shared, req: &Req) -> Resp {
    let path = req.raw_path.trim_end_matches('/');
    let result = if req.method == "POST" {
        post_registration(sh, req, path)
            .or_else(|| post_failure_switch(sh, req, path))
            .or_else(|| post_oauth2_switch(sh, req, path))
    } else {
        get(sh, req, path)
    };
    result
        .unwrap_or_else(|| {
            Ok(reply(
                404,
                json!({ "error": "unknown control", "controls": info(sh)["controls"] }),
            ))
        })
        .unwrap_or_else(|r| r)
}

type Answer = Option<Result<Resp, Resp>>;

/// The answer of a switch that was set.
fn ok() -> Result<Resp, Resp> {
    Ok(reply(200, json!({ "ok": true })))
}

/// The GET controls: what the wiki holds.
fn get(sh: &Shared, req: &Req, path: &str) -> Answer {
    let query = || verify::parse_php_query(req.query.as_deref().unwrap_or("").as_bytes());
    Some(match path {
        "/devwiki" => Ok(reply(200, info(sh))),
        "/devwiki/users" => Ok(reply(200, users(sh))),
        "/devwiki/consumers" => {
            let st = sh.lock();
            let list: Vec<Value> = st
                .consumer_order
                .iter()
                .filter_map(|k| st.public_consumer(k))
                .map(|c| json!(c))
                .collect();
            Ok(reply(200, json!(list)))
        }
        "/devwiki/page" => page(sh, &query()),
        "/devwiki/stats" => Ok(reply(200, stats(sh))),
        "/devwiki/file" => file(sh, &query()),
        _ => return None,
    })
}

fn users(sh: &Shared) -> Value {
    let st = sh.lock();
    let users: Vec<Value> = st
        .users
        .iter()
        .map(|u| {
            json!({
                "id": u.id, "name": u.name, "groups": u.groups(), "editcount": u.editcount,
                "blocked": u.block.is_some(), "registered": u.registered, "rights": u.rights.len(),
            })
        })
        .collect();
    json!(users)
}

fn page(sh: &Shared, q: &verify::Params) -> Result<Resp, Resp> {
    let title = q.get_str("title").ok_or_else(|| bad("missing title"))?;
    let t = parse_title(&title).ok_or_else(|| bad("bad title"))?;
    Ok(match sh.lock().wiki.text_of(&t) {
        Some(text) => reply(200, json!({ "title": t.full(), "text": text })),
        None => reply(404, json!({ "title": t.full(), "error": "missing" })),
    })
}

fn stats(sh: &Shared) -> Value {
    let st = sh.lock();
    let sorted = |m: &std::collections::HashMap<String, u64>| {
        let mut counts: Vec<(&String, &u64)> = m.iter().collect();
        counts.sort();
        counts
            .into_iter()
            .map(|(k, v)| (k.clone(), json!(v)))
            .collect::<serde_json::Map<String, Value>>()
    };
    json!({
        "api_requests": sorted(&st.api_counts),
        "oauth2_token_requests": sorted(&st.o2_counts),
        "last_api_request": st.last_api,
        "max_concurrent_api_requests": st
            .in_flight
            .iter()
            .map(|(user, (_, most))| (user.clone(), json!(most)))
            .collect::<serde_json::Map<String, Value>>(),
    })
}

fn file(sh: &Shared, q: &verify::Params) -> Result<Resp, Resp> {
    let name = q.get_str("name").ok_or_else(|| bad("missing name"))?;
    let t = crate::api_upload::file_title(&name).ok_or_else(|| bad("bad name"))?;
    Ok(match sh.lock().files.get(&t.dbkey()) {
        Some(f) => Resp::new(200, "application/octet-stream", f.bytes.clone())
            .header("Cache-Control", "no-store"),
        None => reply(404, json!({ "name": t.dbkey(), "error": "missing" })),
    })
}

/// The POST controls over consumers and grants: register, revoke, grant.
fn post_registration(sh: &Shared, req: &Req, path: &str) -> Answer {
    Some(match path {
        "/devwiki/consumers" => serde_json::from_slice::<ConsumerSpec>(if req.body.is_empty() {
            b"{}"
        } else {
            &req.body
        })
        .map_err(|e| bad(&format!("invalid consumer spec: {e}")))
        .map(|spec| reply(200, json!(sh.lock().register(spec)))),
        "/devwiki/revoke" => body_json(req).and_then(|v| {
            let user = str_field(&v, "user")?;
            let key = str_field(&v, "consumer_key").or_else(|_| str_field(&v, "client_id"))?;
            let revoked = sh.lock().revoke(&user, &key);
            Ok(reply(200, json!({ "revoked": revoked })))
        }),
        "/devwiki/grant" => body_json(req).and_then(|v| grant(sh, &v)),
        _ => return None,
    })
}

/// Grants `consumer_key` to `user` without the authorize dialog.
fn grant(sh: &Shared, v: &Value) -> Result<Resp, Resp> {
    let (user, key) = (str_field(v, "user")?, str_field(v, "consumer_key")?);
    let mut st = sh.lock();
    if st.user(&user).is_none() || !st.consumers.contains_key(&key) {
        return Err(reply(404, json!({ "error": "unknown user or consumer" })));
    }
    if st.consumers.get(&key).is_some_and(|c| c.oauth2) {
        return match crate::oauth2::grant_tokens(&mut st, &user, &key) {
            Some((access, refresh)) => Ok(reply(
                200,
                json!({ "access_token": access, "refresh_token": refresh }),
            )),
            None => Err(reply(
                400,
                json!({ "error": "an owner-only OAuth 2.0 client has its own token" }),
            )),
        };
    }
    let a = st.accept(&user, &key);
    Ok(reply(
        200,
        json!({ "access_token": a.access_key, "access_secret": a.access_secret }),
    ))
}

/// The POST controls that make the wiki misbehave as a real one can
/// (lag, read-only, down, clock, limits, nonces, tokens) or change who
/// approves and who is seen.
fn post_failure_switch(sh: &Shared, req: &Req, path: &str) -> Answer {
    if path == "/devwiki/invalidate-tokens" {
        // Takes no body (and reads none).
        sh.lock().invalidate_tokens();
        return Some(ok());
    }
    let v = match body_json(req) {
        Ok(v) => v,
        Err(r) => return is_failure_switch(path).then_some(Err(r)),
    };
    Some(match path {
        "/devwiki/maxlag" => {
            let (lag, times) = (u32_field(&v, "lag"), u32_field(&v, "times"));
            sh.lock().switches.set_maxlag(lag, times);
            ok()
        }
        "/devwiki/down" => {
            let down = v.get("down").and_then(Value::as_bool).unwrap_or(true);
            sh.lock().switches.set_down(down);
            ok()
        }
        "/devwiki/clock" => match v.get("offset").and_then(Value::as_i64) {
            Some(offset) => {
                sh.lock().switches.set_clock_offset(offset);
                ok()
            }
            None => Err(bad("missing integer field \"offset\"")),
        },
        "/devwiki/auto-approve" => auto_approve(sh, &v),
        "/devwiki/readonly" => {
            let reason = v.get("reason").and_then(Value::as_str).map(str::to_string);
            sh.lock()
                .switches
                .set_readonly(reason, u32_field(&v, "times"));
            ok()
        }
        "/devwiki/ratelimit" => {
            let retry_after = u32_field(&v, "retry_after").unwrap_or(5);
            sh.lock()
                .switches
                .set_rate_limited(u32_field(&v, "times"), retry_after);
            ok()
        }
        "/devwiki/reject-nonce" => {
            let count = u32_field(&v, "count").unwrap_or(1);
            sh.lock().switches.reject_next_nonces(count);
            ok()
        }
        "/devwiki/hidden" => hidden(sh, &v),
        "/devwiki/api-delay" => {
            let ms = v.get("ms").and_then(Value::as_u64).unwrap_or(0);
            sh.lock().switches.set_api_delay_ms(ms);
            ok()
        }
        "/devwiki/block-disables-login" => {
            let on = v.get("on").and_then(Value::as_bool).unwrap_or(true);
            sh.lock().switches.set_block_disables_login(on);
            ok()
        }
        "/devwiki/detached" => detached(sh, &v),
        "/devwiki/consumer-disabled" => consumer_disabled(sh, &v),
        _ => return None,
    })
}

fn is_failure_switch(path: &str) -> bool {
    matches!(
        path,
        "/devwiki/maxlag"
            | "/devwiki/down"
            | "/devwiki/clock"
            | "/devwiki/auto-approve"
            | "/devwiki/readonly"
            | "/devwiki/ratelimit"
            | "/devwiki/reject-nonce"
            | "/devwiki/hidden"
    )
}

fn auto_approve(sh: &Shared, v: &Value) -> Result<Resp, Resp> {
    let user = v.get("user").and_then(Value::as_str).map(str::to_string);
    let mut st = sh.lock();
    if let Some(u) = &user {
        if st.find_user(u).is_none() {
            return Err(reply(404, json!({ "error": "unknown user" })));
        }
    }
    st.switches.set_auto_approve(user);
    ok()
}

fn detached(sh: &Shared, v: &Value) -> Result<Resp, Resp> {
    let user = str_field(v, "user")?;
    let detached = v.get("detached").and_then(Value::as_bool).unwrap_or(true);
    let mut st = sh.lock();
    let Some(name) = st.find_user(&user).map(|u| u.name.clone()) else {
        return Err(reply(404, json!({ "error": "unknown user" })));
    };
    if detached {
        st.detached.insert(name);
    } else {
        st.detached.remove(&name);
    }
    ok()
}

fn consumer_disabled(sh: &Shared, v: &Value) -> Result<Resp, Resp> {
    let key = str_field(v, "consumer_key").or_else(|_| str_field(v, "client_id"))?;
    let disabled = v.get("disabled").and_then(Value::as_bool).unwrap_or(true);
    let mut st = sh.lock();
    if !st.consumers.contains_key(&key) {
        return Err(reply(404, json!({ "error": "unknown consumer" })));
    }
    if disabled {
        st.disabled_consumers.insert(key);
    } else {
        st.disabled_consumers.remove(&key);
    }
    ok()
}

fn hidden(sh: &Shared, v: &Value) -> Result<Resp, Resp> {
    let user = str_field(v, "user")?;
    let hidden = v.get("hidden").and_then(Value::as_bool).unwrap_or(true);
    let mut st = sh.lock();
    let Some(name) = st.find_user(&user).map(|u| u.name.clone()) else {
        return Err(reply(404, json!({ "error": "unknown user" })));
    };
    for u in st.users.iter_mut().filter(|u| u.name == name) {
        u.hidden = hidden;
    }
    ok()
}

/// The POST controls of the OAuth 2.0 server: lifetimes, grace period,
/// code padding, profile shape.
fn post_oauth2_switch(sh: &Shared, req: &Req, path: &str) -> Answer {
    if !matches!(
        path,
        "/devwiki/oauth2-lifetime"
            | "/devwiki/oauth2-refresh-grace"
            | "/devwiki/oauth2-code-padding"
            | "/devwiki/profile-as"
    ) {
        return None;
    }
    let v = match body_json(req) {
        Ok(v) => v,
        Err(r) => return Some(Err(r)),
    };
    let mut st = sh.lock();
    let switches = &mut st.switches;
    Some(match path {
        "/devwiki/oauth2-lifetime" => {
            let access = v.get("access_token").and_then(Value::as_u64);
            let refresh = v.get("refresh_token").and_then(Value::as_u64);
            if access.is_none() && refresh.is_none() {
                return Some(Err(bad(
                    "give \"access_token\" and/or \"refresh_token\" lifetimes in seconds",
                )));
            }
            if let Some(a) = access {
                switches.set_oauth2_access_token_lifetime(a);
            }
            if let Some(r) = refresh {
                switches.set_oauth2_refresh_token_lifetime(r);
            }
            ok()
        }
        "/devwiki/oauth2-refresh-grace" => match v.get("seconds").and_then(Value::as_u64) {
            Some(seconds) => {
                switches.set_oauth2_refresh_grace(seconds);
                ok()
            }
            None => Err(bad("missing integer field \"seconds\" (0: off)")),
        },
        "/devwiki/oauth2-code-padding" => match v.get("bytes").and_then(Value::as_u64) {
            Some(bytes) => {
                let bytes = usize::try_from(bytes.min(1 << 20)).unwrap_or(1 << 20);
                switches.set_oauth2_code_padding(bytes);
                ok()
            }
            None => Err(bad("missing integer field \"bytes\" (0: off)")),
        },
        _ => {
            let name = match str_field(&v, "flavour") {
                Ok(name) => name,
                Err(r) => return Some(Err(r)),
            };
            match ProfileFlavour::from_name(&name) {
                Some(flavour) => {
                    switches.set_profile_as(flavour);
                    ok()
                }
                None => Err(bad(
                    "flavour: one of \"mw139\", \"mw144\", \"sub-as-number\"",
                )),
            }
        }
    })
}
