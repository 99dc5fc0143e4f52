//! `action=edit` and `action=purge`.

use crate::api_base::{ApiError, Ctx, Session};
use crate::pages::{self, parse_title, Title};
use crate::phpjson::J;
use crate::store::{iso8601, parse_timestamp};

/// The `blocked` error of a blocked session user, if blocked.
pub(crate) fn block_error(ctx: &Ctx<'_>) -> Option<ApiError> {
    let Session::OAuth { user, .. } = &ctx.session else {
        return None;
    };
    let b = user.block.as_ref()?;
    let info = J::obj()
        .with("blockid", J::Int(i64::from(b.id)))
        .with("blockedby", J::s(b.by.clone()))
        .with("blockedbyid", J::Int(i64::from(b.by_id)))
        .with("blockreason", J::s(b.reason.clone()))
        .with("blockedtimestamp", J::s(b.timestamp.clone()))
        .with("blockexpiry", J::s(b.expiry.clone()))
        .with("blockpartial", J::Bool(false))
        .with("blocknocreate", J::Bool(true))
        .with("blockanononly", J::Bool(false))
        .with("blockemail", J::Bool(false))
        .with("blockowntalk", J::Bool(false));
    Some(ApiError::new("blocked", "You have been blocked from editing.").with("blockinfo", info))
}

const EDIT_PARAMS: &[&str] = &[
    "tags",
    "bot",
    "starttimestamp",
    "recreate",
    "watch",
    "unwatch",
    "watchlist",
    "watchlistexpiry",
    "undoafter",
    "redirect",
    "contentformat",
    "contentmodel",
    "returnto",
    "returntoquery",
    "returntoanchor",
    "captchaword",
    "captchaid",
    "token",
];

/// `action=edit`.
pub(crate) fn edit(ctx: &mut Ctx<'_>) -> Result<(), ApiError> {
    for p in EDIT_PARAMS {
        ctx.mark(p);
    }
    let title_param = ctx.param("title");
    let pageid = ctx.int_param("pageid")?;
    let section = ctx.param("section");
    let sectiontitle = ctx.param("sectiontitle");
    let text = ctx.param("text");
    let appendtext = ctx.param("appendtext");
    let prependtext = ctx.param("prependtext");
    let undo = ctx.int_param("undo")?;
    let summary = ctx.param("summary");
    let minor = ctx.flag("minor") && !ctx.flag("notminor");
    let createonly = ctx.flag("createonly");
    let nocreate = ctx.flag("nocreate");
    let md5 = ctx.param("md5");
    let basetimestamp = ctx.param("basetimestamp");
    let baserevid = ctx.int_param("baserevid")?;

    let title: Title = match (&title_param, pageid) {
        (None, None) => {
            return Err(ApiError::new(
                "missingparam",
                "One of the parameters \"title\" and \"pageid\" is required.",
            ))
        }
        (Some(_), Some(_)) => {
            return Err(ApiError::new(
                "invalidparammix",
                "The parameters \"title\" and \"pageid\" can not be used together.",
            ))
        }
        (Some(t), None) => match parse_title(t) {
            Some(t) if t.ns >= 0 => t,
            _ => return Err(ApiError::new("invalidtitle", format!("Bad title \"{t}\"."))),
        },
        (None, Some(id)) => {
            let st = ctx.sh.lock();
            match u64::try_from(id)
                .ok()
                .and_then(|n| st.wiki.by_id.get(&n).cloned())
            {
                Some(t) => t,
                None => {
                    return Err(ApiError::new(
                        "nosuchpageid",
                        format!("There is no page with ID {id}."),
                    ))
                }
            }
        }
    };
    if text.is_none() && appendtext.is_none() && prependtext.is_none() && undo.is_none() {
        return Err(ApiError::new(
            "missingparam",
            "At least one of the parameters \"text\", \"appendtext\", \"prependtext\" and \"undo\" is required.",
        ));
    }

    let session = ctx.session.clone();
    let mut st = ctx.sh.lock();
    let now = st.now();
    let existing = st.wiki.page(&title).cloned();
    let latest = existing.as_ref().and_then(|p| st.wiki.latest(p)).cloned();

    // Permissions: rights first, then the block.
    if !session.allowed("edit") {
        return Err(ApiError::new(
            "permissiondenied",
            "You don't have permission to edit this page.",
        ));
    }
    if existing.is_none() {
        let create_right = if title.is_talk() {
            "createtalk"
        } else {
            "createpage"
        };
        if !session.allowed(create_right) {
            return Err(ApiError::new(
                "cantcreate",
                "You do not have permission to create new pages.",
            ));
        }
    }
    if let Some(e) = block_error(ctx) {
        return Err(e);
    }
    if createonly && existing.is_some() {
        return Err(ApiError::new(
            "articleexists",
            "The article you tried to create has been created already.",
        ));
    }
    if nocreate && existing.is_none() {
        return Err(ApiError::new(
            "missingtitle",
            "The page you specified doesn't exist.",
        ));
    }

    let old_text = latest.as_ref().map(|r| r.text.clone()).unwrap_or_default();
    let mut auto_summary = None;
    let new_text = if let Some(u) = undo {
        let rev = u64::try_from(u).ok().and_then(|n| st.wiki.rev(n).cloned());
        match rev {
            Some(r) if Some(r.pageid) == existing.as_ref().map(|p| p.id) => {
                let parent = st
                    .wiki
                    .rev(r.parentid)
                    .map(|p| p.text.clone())
                    .unwrap_or_default();
                if latest.as_ref().map(|l| l.revid) != Some(r.revid) {
                    return Err(ApiError::new(
                        "undofailure",
                        "Undo failed due to conflicting intermediate edits.",
                    ));
                }
                auto_summary = Some(format!(
                    "Undo revision {} by [[Special:Contributions/{}|{}]]",
                    r.revid, r.user, r.user
                ));
                parent
            }
            _ => {
                return Err(ApiError::new(
                    "nosuchrevid",
                    format!("There is no revision with ID {u}."),
                ))
            }
        }
    } else {
        match section.as_deref() {
            Some("new") => {
                let body = text.clone().unwrap_or_default();
                let heading = sectiontitle
                    .clone()
                    .or_else(|| summary.clone())
                    .unwrap_or_default();
                if let Some(h) = sectiontitle.clone().or_else(|| summary.clone()) {
                    auto_summary = Some(format!("/* {h} */ new section"));
                }
                let section_text = if heading.is_empty() {
                    body
                } else {
                    format!("== {heading} ==\n\n{body}")
                };
                if old_text.is_empty() {
                    section_text
                } else {
                    format!("{}\n\n{section_text}", old_text.trim_end())
                }
            }
            Some(n) if !n.is_empty() => {
                let n: usize = n.parse().map_err(|_| {
                    ApiError::new(
                        "invalidsection",
                        "The \"section\" parameter must be a valid section ID or \"new\".",
                    )
                })?;
                let (s, e) = pages::section_range(&old_text, n).ok_or_else(|| {
                    ApiError::new("nosuchsection", format!("There is no section {n}."))
                })?;
                let current = &old_text[s..e];
                let replaced = match &text {
                    Some(t) => t.clone(),
                    None => format!(
                        "{}{}{}",
                        prependtext.clone().unwrap_or_default(),
                        current.trim_end(),
                        appendtext.clone().unwrap_or_default()
                    ),
                };
                let mut joined = old_text[..s].to_string();
                joined.push_str(&replaced);
                if e < old_text.len() {
                    if !joined.ends_with('\n') {
                        joined.push_str("\n\n");
                    }
                    joined.push_str(&old_text[e..]);
                }
                joined
            }
            _ => match &text {
                Some(t) => t.clone(),
                None => format!(
                    "{}{}{}",
                    prependtext.clone().unwrap_or_default(),
                    old_text,
                    appendtext.clone().unwrap_or_default()
                ),
            },
        }
    };
    if let Some(m) = &md5 {
        let given = text.clone().unwrap_or_else(|| {
            format!(
                "{}{}",
                prependtext.clone().unwrap_or_default(),
                appendtext.clone().unwrap_or_default()
            )
        });
        if !m.eq_ignore_ascii_case(&md5_hex(given.as_bytes())) {
            return Err(ApiError::new(
                "badmd5",
                "The supplied MD5 hash was incorrect.",
            ));
        }
    }
    // Pre-save transform: trailing whitespace goes.
    let new_text = new_text.trim_end().to_string();
    if existing.is_none() && new_text.is_empty() {
        return Err(ApiError::new(
            "emptypage",
            "Creating new, empty pages is not allowed.",
        ));
    }
    // Edit conflict: the page changed since the client's base, by someone else.
    let base_ts = basetimestamp.as_deref().and_then(parse_timestamp);
    let conflict = match (&latest, base_ts, baserevid) {
        (Some(l), Some(b), _) => l.timestamp > b && l.user != session.name(),
        (Some(l), None, Some(r)) => l.revid as i64 != r && l.user != session.name(),
        _ => false,
    };
    if conflict
        && section.as_deref() != Some("new")
        && appendtext.is_none()
        && prependtext.is_none()
    {
        return Err(ApiError::new("editconflict", "Edit conflict."));
    }

    let watched = session.is_registered();
    let mut r = J::obj();
    if let Some(l) = &latest {
        if l.text == new_text {
            r.set("result", J::s("Success"));
            r.set("pageid", J::Int(l.pageid as i64));
            r.set("title", J::s(title.full()));
            r.set("contentmodel", J::s("wikitext"));
            if let Some(b) = ctx.bool_value(true) {
                r.set("nochange", b);
            }
            if watched {
                if let Some(b) = ctx.bool_value(true) {
                    r.set("watched", b);
                }
            }
            ctx.result.set("edit", r);
            return Ok(());
        }
    }
    let comment = match (&summary, existing.is_none()) {
        (Some(s), _) if !s.is_empty() && section.as_deref() != Some("new") => s.clone(),
        (_, true) => {
            let preview: String = new_text.chars().take(200).collect();
            auto_summary.unwrap_or_else(|| format!("Created page with \"{preview}\""))
        }
        (Some(s), false) => auto_summary.unwrap_or_else(|| s.clone()),
        (None, false) => auto_summary.unwrap_or_default(),
    };
    let (pageid, oldrevid, newrevid) = st.wiki.save(
        &title,
        (&session.name(), session.user_id()),
        new_text,
        comment,
        minor,
        now,
    );
    if let Session::OAuth { user, .. } = &session {
        if let Some(u) = st.users.iter_mut().find(|u| u.name == user.name) {
            u.editcount += 1;
        }
    }
    drop(st);
    if existing.is_none() {
        if let Some(b) = ctx.bool_value(true) {
            r.set("new", b);
        }
    }
    r.set("result", J::s("Success"));
    r.set("pageid", J::Int(pageid as i64));
    r.set("title", J::s(title.full()));
    r.set("contentmodel", J::s("wikitext"));
    r.set("oldrevid", J::Int(oldrevid as i64));
    r.set("newrevid", J::Int(newrevid as i64));
    r.set("newtimestamp", J::s(iso8601(now)));
    if watched {
        if let Some(b) = ctx.bool_value(true) {
            r.set("watched", b);
        }
    }
    ctx.result.set("edit", r);
    Ok(())
}

/// MD5 (RFC 1321) as lowercase hex, for the `md5` parameter of
/// `action=edit` and image paths.
pub(crate) fn md5_hex(data: &[u8]) -> String {
    use md5::Digest as _;
    md5::Md5::digest(data)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// `action=purge` (POST only, no token).
pub(crate) fn purge(ctx: &mut Ctx<'_>) -> Result<(), ApiError> {
    ctx.mark("forcelinkupdate");
    ctx.mark("forcerecursivelinkupdate");
    let titles = ctx.multi("titles");
    let st = ctx.sh.lock();
    let mut out = Vec::new();
    for t in titles {
        match parse_title(&t) {
            Some(title) => {
                let mut o = J::obj()
                    .with("ns", J::Int(i64::from(title.ns)))
                    .with("title", J::s(title.full()));
                let key = if st.wiki.page(&title).is_some() {
                    "purged"
                } else {
                    "missing"
                };
                if let Some(b) = ctx.bool_value(true) {
                    o.set(key, b);
                }
                out.push(o);
            }
            None => {
                let mut o = J::obj().with("title", J::s(t.clone()));
                if let Some(b) = ctx.bool_value(true) {
                    o.set("invalid", b);
                }
                out.push(o);
            }
        }
    }
    drop(st);
    let v = if ctx.fv2 { J::Bool(true) } else { J::s("") };
    ctx.result.set("batchcomplete", v);
    ctx.result.set("purge", J::Arr(out));
    Ok(())
}

#[cfg(test)]
mod tests {
    #[test]
    fn md5() {
        assert_eq!(super::md5_hex(b""), "d41d8cd98f00b204e9800998ecf8427e");
        assert_eq!(
            super::md5_hex(b"The quick brown fox jumps over the lazy dog"),
            "9e107d9d372bb6826bd81d3542a419d6"
        );
    }
}
