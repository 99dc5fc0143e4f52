//! The authorize dialog (`Special:OAuth/authorize` and `/authenticate`):
//! a plain HTML form a person (or a WebDriver test) can use, where the
//! person chooses which seeded user they are.
//!
//! Stable element ids and names: the form `#mw-mwoauth-authorize-form`,
//! `<select name="user" id="user">`, the buttons `#accept` (`name="accept"`)
//! and `#cancel` (`name="cancel"`), hidden `consumerKey` and `requestToken`.

use crate::callback;
use crate::http::{check, error_page, val, Req, Resp, Target};
use crate::messages::{self, escape_html, Msg};
use crate::store::{random_hex, ConsumerRec, Shared, Store, REQUEST_TOKEN_TTL};
use crate::users;
use crate::verify::{self, Params};

/// The cookie that remembers the user chosen last (like a login session).
const USER_COOKIE: &str = "devwiki_user";

fn is_hex32(s: &str) -> bool {
    s.len() == 32
        && s.bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
}

/// Handles GET (show the form) and POST (Allow or Cancel).
pub(crate) fn handle(
    sh: &Shared,
    req: &Req,
    values: &Params,
    authenticate: bool,
    target: &Target,
) -> Resp {
    let request_token = val(values, "requestToken").or_else(|| val(values, "oauth_token"));
    let consumer_key = val(values, "consumerKey").or_else(|| val(values, "oauth_consumer_key"));

    let mut st = sh.lock();
    if req.was_posted() && check(values, "cancel") {
        return cancel_page(&st, consumer_key.as_deref().unwrap_or(""));
    }
    let consumer_key = consumer_key.filter(|k| !k.is_empty()).or_else(|| {
        request_token
            .as_deref()
            .and_then(|t| st.consumer_of_request_token(t))
    });
    let consumer = match consumer_key
        .as_deref()
        .and_then(|k| st.consumers.get(k))
        .filter(|c| !c.oauth2)
    {
        Some(c) => c.clone(),
        None => return error_page(&messages::bad_consumer_key()),
    };
    if consumer.owner_only.is_some() {
        return error_page(&messages::bad_consumer(&consumer.name, &consumer.owner));
    }
    let rt = request_token.clone().unwrap_or_default();

    if let Some(user) = st.switches.auto_approve().map(str::to_string) {
        return match authorize(&mut st, sh, &user, &consumer, &rt) {
            Ok(url) => Resp::redirect(&url),
            Err(msg) => error_page(&msg),
        };
    }

    let remembered = req
        .cookie_value(USER_COOKIE)
        .filter(|u| st.user(u).is_some());

    if authenticate && !req.was_posted() {
        if let Some(user) = &remembered {
            let only_auth = consumer
                .grants
                .iter()
                .all(|g| g == "mwoauth-authonly" || g == "mwoauth-authonlyprivate");
            let existing = st
                .acceptances
                .get(&(user.clone(), consumer.key.clone()))
                .is_some_and(|a| a.grants == consumer.grants);
            if only_auth && existing {
                return match authorize(&mut st, sh, user, &consumer, &rt) {
                    Ok(url) => Resp::redirect(&url),
                    Err(msg) => error_page(&msg),
                };
            }
        }
    }

    if req.was_posted() {
        let ck = val(values, "consumerKey").unwrap_or_default();
        let rtok = val(values, "requestToken").unwrap_or_default();
        let chosen = val(values, "user").unwrap_or_default();
        let error = if !is_hex32(&ck) {
            Some(messages::invalid_field("consumerKey").html())
        } else if !is_hex32(&rtok) {
            Some(messages::invalid_field("requestToken").html())
        } else if st.user(&chosen).is_none() {
            Some("<p>Choose which DevWiki user you are.</p>".to_string())
        } else {
            match authorize(&mut st, sh, &chosen, &consumer, &rtok) {
                Ok(url) => {
                    return Resp::redirect(&url).header(
                        "Set-Cookie",
                        format!(
                            "{USER_COOKIE}={}; Path=/; HttpOnly; SameSite=Lax",
                            verify::rawurlencode(chosen.as_bytes())
                        ),
                    )
                }
                Err(msg) => Some(msg.html()),
            }
        };
        let user = if chosen.is_empty() {
            remembered
        } else {
            Some(chosen)
        };
        return form(
            &st,
            &consumer,
            &ck,
            &rtok,
            user.as_deref(),
            error.as_deref(),
            target,
        );
    }

    let ck = consumer.key.clone();
    form(
        &st,
        &consumer,
        &ck,
        &rt,
        remembered.as_deref(),
        None,
        target,
    )
}

/// `OAuth1Consumer::authorize`: new verifier, acceptance (the same access
/// token again for the same user), request token updated (600 s again),
/// stored callback read and deleted, callback URL built.
pub(crate) fn authorize(
    st: &mut Store,
    sh: &Shared,
    user: &str,
    c: &ConsumerRec,
    rt: &str,
) -> Result<String, Msg> {
    let user = st
        .find_user(user)
        .map(|u| u.name.clone())
        .ok_or_else(|| messages::invalid_field("user"))?;
    let verifier = random_hex(32);
    st.request_token_mut(&c.key, rt)?.verifier = Some(verifier.clone());
    let acc = st.accept(&user, &c.key);
    let now = st.now();
    {
        let t = st.request_token_mut(&c.key, rt)?;
        t.access_key = Some(acc.access_key);
        t.expires = now + REQUEST_TOKEN_TTL;
    }
    let stored = st
        .take_callback(rt)
        .ok_or_else(messages::callback_not_found)?;
    let query = format!(
        "oauth_verifier={verifier}&oauth_token={}",
        verify::rawurlencode(rt.as_bytes())
    );
    let target = if stored == "oob" {
        c.callback.clone()
    } else {
        stored
    };
    if target.is_empty() || target == "oob" {
        return Ok(format!(
            "{}/index.php?title=Special:OAuth/verified&{query}",
            sh.script_url()
        ));
    }
    Ok(callback::append_query(&target, &query))
}

fn cancel_page(st: &Store, consumer_key: &str) -> Resp {
    match st.consumers.get(consumer_key) {
        Some(c) => Resp::page(
            200,
            "OAuth",
            &format!(
                "<div id=\"mw-mwoauth-cancelled\">{}</div>\n<p id=\"mw-returnto\">Return to <a href=\"/wiki/Main_Page\" title=\"Main Page\">Main Page</a>.</p>",
                messages::acceptance_cancelled(&c.name, &c.callback).html()
            ),
        ),
        None => error_page(&messages::invalid_consumer_key()),
    }
}

/// The `<option>`s of the user picker, `selected` (or Alice) chosen.
pub(crate) fn user_options(st: &Store, selected: Option<&str>) -> String {
    let mut options = String::new();
    let selected = selected.or(Some("Alice"));
    for u in &st.users {
        let sel = if Some(u.name.as_str()) == selected {
            " selected"
        } else {
            ""
        };
        let mut notes = u.explicit_groups.join(", ");
        if u.block.is_some() {
            notes = "blocked".into();
        }
        let label = if notes.is_empty() {
            escape_html(&u.name)
        } else {
            format!("{} ({})", escape_html(&u.name), escape_html(&notes))
        };
        options.push_str(&format!(
            "<option value=\"{}\"{sel}>{label}</option>",
            escape_html(&u.name)
        ));
    }
    options
}

/// What the dialog says the application asks for (its grants).
pub(crate) fn description_html(c: &ConsumerRec, grants: &[String]) -> String {
    let name = escape_html(&c.name);
    let groups = users::grant_groups_for_display(grants);
    if groups.is_empty() {
        if grants.iter().any(|g| g == "mwoauth-authonlyprivate") {
            format!("<p>In order to complete your request, <b id=\"mw-mwoauth-consumer-name\">{name}</b> needs permission to access information about you, including your real name and email address, on all projects of this site. No changes will be made with your account.</p>")
        } else {
            format!("<p>In order to complete your request, <b id=\"mw-mwoauth-consumer-name\">{name}</b> needs permission to access information on all projects of this site on your behalf. No changes will be made with your account.</p>")
        }
    } else {
        let mut list = String::from("<ul id=\"mw-mwoauth-grants\">");
        for (group, grants) in groups {
            list.push_str(&format!(
                "<li><span class=\"mw-grantgroup\">{}</span><ul>",
                escape_html(&group)
            ));
            for g in grants {
                list.push_str(&format!("<li>{}</li>", escape_html(&g)));
            }
            list.push_str("</ul></li>");
        }
        list.push_str("</ul>");
        format!("<p>In order to complete your request, <b id=\"mw-mwoauth-consumer-name\">{name}</b> needs permission to perform the following actions on your behalf on all projects of this site:</p>\n{list}")
    }
}

fn form(
    st: &Store,
    c: &ConsumerRec,
    consumer_key: &str,
    request_token: &str,
    selected: Option<&str>,
    error_html: Option<&str>,
    target: &Target,
) -> Resp {
    let options = user_options(st, selected);
    let description = description_html(c, &c.grants);
    let error = error_html
        .map(|e| format!("<div class=\"errorbox\" id=\"mw-mwoauth-error\">{e}</div>\n"))
        .unwrap_or_default();
    let body = format!(
        "<div id=\"mw-mwoauth-authorize-dialog\" class=\"mw-ui-container\">\n<form id=\"mw-mwoauth-authorize-form\" class=\"mw-htmlform\" action=\"{action}\" method=\"post\" enctype=\"application/x-www-form-urlencoded\">\n{error}<p><label for=\"user\">You are (DevWiki has no passwords: pick a seeded user):</label>\n<select name=\"user\" id=\"user\">{options}</select></p>\n<p>Hi,</p>\n{description}\n<input type=\"hidden\" name=\"title\" value=\"Special:OAuth/authorize\">\n<input type=\"hidden\" name=\"wpaction\" value=\"accept\">\n<input type=\"hidden\" name=\"wpconfirmUpdate\" value=\"0\">\n<input type=\"hidden\" name=\"oauth_version\" value=\"1\">\n<input type=\"hidden\" name=\"consumerKey\" value=\"{ck}\">\n<input type=\"hidden\" name=\"requestToken\" value=\"{rt}\">\n<p><button type=\"submit\" name=\"accept\" id=\"accept\" value=\"Allow\" class=\"mw-mwoauth-authorize-button\">Allow</button>\n<button type=\"submit\" name=\"cancel\" id=\"cancel\" value=\"Cancel\" class=\"mw-mwoauth-authorize-button\">Cancel</button></p>\n</form>\n</div>\n<p id=\"footer-places-privacy\"><a href=\"/wiki/DevWiki:Privacy_policy\">Privacy policy</a></p>",
        action = escape_html(&target.action),
        ck = escape_html(consumer_key),
        rt = escape_html(request_token),
    );
    Resp::page(200, "OAuth", &body)
}
