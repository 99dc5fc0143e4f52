//! `action=query`: `meta=userinfo|tokens|siteinfo`, `list=usercontribs|allpages`,
//! `prop=revisions|info|imageinfo`, with the page set (`titles`, `pageids`, `revids`)
//! and continuation (`continue`, `batchcomplete`).

use crate::api_base::{ApiError, Ctx, Session};
use crate::pages::{self, parse_title, Title};
use crate::phpjson::J;
use crate::store::{iso8601, parse_timestamp, ts_mw};

const PROPS: &[&str] = &["revisions", "info", "imageinfo"];
const LISTS: &[&str] = &["usercontribs", "allpages"];
const METAS: &[&str] = &["userinfo", "tokens", "siteinfo"];

/// One entry of the page set.
struct PageEntry {
    /// The key in formatversion=1 output (page id or negative fake id).
    key: i64,
    obj: J,
    /// For existing pages: (title, page id); revision ids asked for by `revids`.
    good: Option<(Title, u64, Vec<u64>)>,
}

/// Continuation collected from the modules.
#[derive(Default)]
struct Continuation {
    values: Vec<(String, String)>,
    prop_continues: bool,
}

fn valid_values(
    ctx: &mut Ctx<'_>,
    param: &str,
    values: Vec<String>,
    known: &[&str],
) -> Vec<String> {
    let mut out = Vec::new();
    for v in values {
        if known.contains(&v.as_str()) {
            if !out.contains(&v) {
                out.push(v);
            }
        } else {
            ctx.warn(
                "query",
                &format!("Unrecognized value for parameter \"{param}\": {v}."),
            );
        }
    }
    out
}

/// Runs `action=query`.
pub(crate) fn execute(ctx: &mut Ctx<'_>) -> Result<(), ApiError> {
    let props = ctx.multi("prop");
    let props = valid_values(ctx, "prop", props, PROPS);
    let lists = ctx.multi("list");
    let lists = valid_values(ctx, "list", lists, LISTS);
    let metas = ctx.multi("meta");
    let metas = valid_values(ctx, "meta", metas, METAS);
    for p in [
        "continue",
        "rawcontinue",
        "indexpageids",
        "redirects",
        "converttitles",
        "export",
        "exportnowrap",
        "iwurl",
    ] {
        ctx.mark(p);
    }
    let titles = ctx.multi("titles");
    let pageids = ctx.multi("pageids");
    let revids = ctx.multi("revids");
    let sources = [!titles.is_empty(), !pageids.is_empty(), !revids.is_empty()]
        .iter()
        .filter(|b| **b)
        .count();
    if sources > 1 {
        return Err(ApiError::new(
            "invalidparammix",
            "The parameters \"titles\", \"pageids\" and \"revids\" can not be used together.",
        ));
    }
    let mut query = J::obj();
    let mut cont = Continuation::default();

    if sources == 1 {
        let (normalized, mut entries) = page_set(ctx, &titles, &pageids, &revids);
        if !normalized.is_empty() {
            query.set("normalized", J::Arr(normalized));
        }
        for p in &props {
            match p.as_str() {
                "revisions" => revisions(ctx, &mut entries, &mut cont)?,
                "info" => info(ctx, &mut entries),
                "imageinfo" => {
                    let mut pages: Vec<(Option<Title>, &mut J)> = entries
                        .iter_mut()
                        .map(|e| {
                            let title = match &e.good {
                                Some((t, _, _)) => Some(t.clone()),
                                None => match e.obj.get_mut("title") {
                                    Some(J::Str(s)) => parse_title(s),
                                    _ => None,
                                },
                            };
                            (title, &mut e.obj)
                        })
                        .collect();
                    crate::api_upload::imageinfo_prop(ctx, &mut pages);
                }
                _ => {}
            }
        }
        let pages = if ctx.fv2 {
            J::Arr(entries.into_iter().map(|e| e.obj).collect())
        } else {
            J::Obj(
                entries
                    .into_iter()
                    .map(|e| (e.key.to_string(), e.obj))
                    .collect(),
            )
        };
        query.set("pages", pages);
    } else if !props.is_empty() {
        // Prop modules without pages: their parameters still count as used.
        for p in &props {
            mark_prop_params(ctx, p);
        }
    }
    for l in &lists {
        match l.as_str() {
            "usercontribs" => usercontribs(ctx, &mut query, &mut cont)?,
            "allpages" => allpages(ctx, &mut query, &mut cont)?,
            _ => {}
        }
    }
    for m in &metas {
        match m.as_str() {
            "userinfo" => userinfo(ctx, &mut query),
            "tokens" => tokens(ctx, &mut query),
            "siteinfo" => siteinfo(ctx, &mut query),
            _ => {}
        }
    }
    if let J::Obj(entries) = &query {
        if !entries.is_empty() {
            ctx.result.set("query", query);
        }
    }
    if !cont.values.is_empty() {
        let mut c = J::obj();
        for (k, v) in &cont.values {
            c.set(k, J::s(v.clone()));
        }
        c.set(
            "continue",
            J::s(if cont.prop_continues { "||" } else { "-||" }),
        );
        ctx.result.set_on_top("continue", c);
    }
    if !cont.prop_continues {
        let v = if ctx.fv2 { J::Bool(true) } else { J::s("") };
        ctx.result.set_on_top("batchcomplete", v);
    }
    Ok(())
}

fn mark_prop_params(ctx: &mut Ctx<'_>, prop: &str) {
    let names: &[&str] = match prop {
        "revisions" => &[
            "rvprop",
            "rvslots",
            "rvlimit",
            "rvdir",
            "rvcontinue",
            "rvstartid",
            "rvendid",
            "rvstart",
            "rvend",
            "rvuser",
            "rvexcludeuser",
            "rvtag",
            "rvsection",
            "rvcontentformat",
            "rvparse",
            "rvdiffto",
        ],
        "info" => &["inprop", "intestactions", "incontinue"],
        "imageinfo" => crate::api_upload::IMAGEINFO_PARAMS,
        _ => &[],
    };
    for n in names {
        ctx.mark(n);
    }
}

fn page_set(
    ctx: &mut Ctx<'_>,
    titles: &[String],
    pageids: &[String],
    revids: &[String],
) -> (Vec<J>, Vec<PageEntry>) {
    let st = ctx.sh.lock();
    let mut normalized = Vec::new();
    let mut missing = Vec::new();
    let mut invalid = Vec::new();
    let mut good: Vec<(Title, u64, Vec<u64>)> = Vec::new();
    let mut fake: i64 = 0;
    for input in titles {
        match parse_title(input) {
            Some(t) => {
                let full = t.full();
                if full != *input {
                    let mut n = J::obj();
                    if ctx.fv2 {
                        n.set("fromencoded", J::Bool(false));
                    }
                    normalized.push(
                        n.with("from", J::s(input.clone()))
                            .with("to", J::s(full.clone())),
                    );
                }
                match st.wiki.page(&t) {
                    Some(p) => {
                        if !good.iter().any(|(_, id, _)| *id == p.id) {
                            good.push((t, p.id, Vec::new()));
                        }
                    }
                    None => {
                        fake -= 1;
                        let mut o = J::obj()
                            .with("ns", J::Int(i64::from(t.ns)))
                            .with("title", J::s(full));
                        if let Some(b) = ctx.bool_value(true) {
                            o.set("missing", b);
                        }
                        missing.push(PageEntry {
                            key: fake,
                            obj: o,
                            good: None,
                        });
                    }
                }
            }
            None => {
                fake -= 1;
                let mut o = J::obj().with("title", J::s(input.clone())).with(
                    "invalidreason",
                    J::s(format!(
                        "The requested page title contains invalid characters: \"{input}\"."
                    )),
                );
                if let Some(b) = ctx.bool_value(true) {
                    o.set("invalid", b);
                }
                invalid.push(PageEntry {
                    key: fake,
                    obj: o,
                    good: None,
                });
            }
        }
    }
    let mut missing_ids = Vec::new();
    for id in pageids {
        match id
            .parse::<u64>()
            .ok()
            .and_then(|n| st.wiki.by_id.get(&n).map(|t| (n, t.clone())))
        {
            Some((n, t)) => {
                if !good.iter().any(|(_, g, _)| *g == n) {
                    good.push((t, n, Vec::new()));
                }
            }
            None => {
                let n: i64 = id.parse().unwrap_or(0);
                let mut o = J::obj().with("pageid", J::Int(n));
                if let Some(b) = ctx.bool_value(true) {
                    o.set("missing", b);
                }
                missing_ids.push(PageEntry {
                    key: n,
                    obj: o,
                    good: None,
                });
            }
        }
    }
    for r in revids {
        if let Some(rev) = r.parse::<u64>().ok().and_then(|n| st.wiki.rev(n).cloned()) {
            if let Some(t) = st.wiki.by_id.get(&rev.pageid).cloned() {
                match good.iter_mut().find(|(_, id, _)| *id == rev.pageid) {
                    Some((_, _, list)) => list.push(rev.revid),
                    None => good.push((t, rev.pageid, vec![rev.revid])),
                }
            }
        }
    }
    drop(st);
    good.sort_by_key(|(_, id, _)| *id);
    let mut entries: Vec<PageEntry> = Vec::new();
    entries.extend(missing);
    entries.extend(invalid);
    entries.extend(missing_ids);
    for (t, id, revs) in good {
        let obj = J::obj()
            .with("pageid", J::Int(id as i64))
            .with("ns", J::Int(i64::from(t.ns)))
            .with("title", J::s(t.full()));
        entries.push(PageEntry {
            key: id as i64,
            obj,
            good: Some((t, id, revs)),
        });
    }
    (normalized, entries)
}

fn info(ctx: &mut Ctx<'_>, entries: &mut [PageEntry]) {
    mark_prop_params(ctx, "info");
    let st = ctx.sh.lock();
    for e in entries.iter_mut() {
        let Some((t, _, _)) = &e.good else { continue };
        let Some(page) = st.wiki.page(t) else {
            continue;
        };
        let Some(latest) = st.wiki.latest(page) else {
            continue;
        };
        e.obj.set("contentmodel", J::s("wikitext"));
        e.obj.set("pagelanguage", J::s("en"));
        e.obj.set("pagelanguagehtmlcode", J::s("en"));
        e.obj.set("pagelanguagedir", J::s("ltr"));
        e.obj.set("touched", J::s(iso8601(latest.timestamp)));
        e.obj.set("lastrevid", J::Int(latest.revid as i64));
        e.obj.set("length", J::Int(latest.text.len() as i64));
        if page.revs.len() == 1 {
            if let Some(b) = ctx.bool_value(true) {
                e.obj.set("new", b);
            }
        }
    }
}

fn revision_json(ctx: &Ctx<'_>, rev: &pages::Rev, props: &[String], slots: bool) -> J {
    let has = |p: &str| props.iter().any(|x| x == p);
    let mut o = J::obj();
    if has("ids") {
        o.set("revid", J::Int(rev.revid as i64));
        o.set("parentid", J::Int(rev.parentid as i64));
    }
    if has("flags") {
        if let Some(b) = ctx.bool_value(rev.minor) {
            o.set("minor", b);
        }
    }
    if has("user") {
        o.set("user", J::s(rev.user.clone()));
        if rev.userid == 0 {
            if let Some(b) = ctx.bool_value(true) {
                o.set("anon", b);
            }
        }
    }
    if has("userid") {
        o.set("userid", J::Int(i64::from(rev.userid)));
    }
    if has("timestamp") {
        o.set("timestamp", J::s(iso8601(rev.timestamp)));
    }
    if has("size") {
        o.set("size", J::Int(rev.text.len() as i64));
    }
    if has("sha1") {
        use sha1::Digest;
        let digest = sha1::Sha1::digest(rev.text.as_bytes());
        o.set(
            "sha1",
            J::s(
                digest
                    .iter()
                    .map(|b| format!("{b:02x}"))
                    .collect::<String>(),
            ),
        );
    }
    if has("contentmodel") && !slots {
        o.set("contentmodel", J::s("wikitext"));
    }
    if has("comment") {
        o.set("comment", J::s(rev.comment.clone()));
    }
    if has("parsedcomment") {
        o.set(
            "parsedcomment",
            J::s(crate::messages::escape_html(&rev.comment)),
        );
    }
    if has("tags") {
        o.set("tags", J::Arr(vec![]));
    }
    if has("roles") {
        o.set("roles", J::Arr(vec![J::s("main")]));
    }
    if slots {
        let mut main = J::obj();
        if has("size") {
            main.set("size", J::Int(rev.text.len() as i64));
        }
        if has("contentmodel") || has("content") {
            main.set("contentmodel", J::s("wikitext"));
        }
        if has("content") {
            main.set("contentformat", J::s("text/x-wiki"));
            main.set(ctx.content_key(), J::s(rev.text.clone()));
        }
        o.set("slots", J::obj().with("main", main));
    } else if has("content") {
        o.set("contentformat", J::s("text/x-wiki"));
        o.set("contentmodel", J::s("wikitext"));
        o.set(ctx.content_key(), J::s(rev.text.clone()));
    }
    o
}

fn revisions(
    ctx: &mut Ctx<'_>,
    entries: &mut [PageEntry],
    cont: &mut Continuation,
) -> Result<(), ApiError> {
    mark_prop_params(ctx, "revisions");
    let mut props = ctx.multi("rvprop");
    if ctx.values.get("rvprop").is_none() {
        props = ["ids", "timestamp", "flags", "comment", "user"]
            .iter()
            .map(|s| s.to_string())
            .collect();
    }
    let slots = ctx.values.get("rvslots").is_some();
    let content = props.iter().any(|p| p == "content");
    if content && !slots {
        ctx.warn(
            "revisions",
            "Because \"rvslots\" was not specified, a legacy format has been used for the output. This format is deprecated, and in the future the new format will always be used.",
        );
    }
    let single_mode = [
        "rvlimit",
        "rvdir",
        "rvcontinue",
        "rvstart",
        "rvend",
        "rvstartid",
        "rvendid",
        "rvuser",
        "rvexcludeuser",
    ]
    .iter()
    .any(|p| ctx.values.get(p).is_some());
    let good: Vec<usize> = entries
        .iter()
        .enumerate()
        .filter(|(_, e)| e.good.is_some())
        .map(|(i, _)| i)
        .collect();
    if single_mode && good.len() > 1 {
        return Err(ApiError::new(
            "invalidparammix",
            "titles, pageids or a generator was used to supply multiple pages, but the rvlimit, rvstartid, rvendid, rvdir=newer, rvuser, rvexcludeuser, rvstart, and rvend parameters may only be used on a single page.",
        ));
    }
    let limit = if single_mode {
        let (m1, m2) = if content { (50, 500) } else { (500, 5000) };
        Some(ctx.limit_param("revisions", "rvlimit", 1, m1, m2)?)
    } else {
        None
    };
    let newer = ctx.param("rvdir").as_deref() == Some("newer");
    let rvcontinue = ctx.param("rvcontinue");
    let rvuser = ctx
        .param("rvuser")
        .and_then(|u| pages::normalize_user_name(&u));
    let st = ctx.sh.lock();
    for i in good {
        let Some((t, _, asked)) = &entries[i].good else {
            continue;
        };
        let Some(page) = st.wiki.page(t) else {
            continue;
        };
        let list: Vec<&pages::Rev> = if !asked.is_empty() {
            asked.iter().filter_map(|r| st.wiki.rev(*r)).collect()
        } else if let Some(limit) = limit {
            let mut all: Vec<&pages::Rev> = page
                .revs
                .iter()
                .filter_map(|r| st.wiki.rev(*r))
                .filter(|r| rvuser.as_deref().is_none_or(|u| r.user == u))
                .collect();
            if !newer {
                all.reverse();
            }
            if let Some(c) = &rvcontinue {
                let from: u64 = c
                    .rsplit('|')
                    .next()
                    .and_then(|s| s.parse().ok())
                    .unwrap_or(0);
                all.retain(|r| {
                    if newer {
                        r.revid >= from
                    } else {
                        r.revid <= from
                    }
                });
            }
            let limit = usize::try_from(limit).unwrap_or(1);
            if all.len() > limit {
                let next = all[limit];
                cont.values.push((
                    "rvcontinue".into(),
                    format!("{}|{}", ts_mw(next.timestamp), next.revid),
                ));
                cont.prop_continues = true;
                all.truncate(limit);
            }
            all
        } else {
            st.wiki.latest(page).into_iter().collect()
        };
        let revs: Vec<J> = list
            .iter()
            .map(|r| revision_json(ctx, r, &props, slots))
            .collect();
        entries[i].obj.set("revisions", J::Arr(revs));
    }
    Ok(())
}

fn usercontribs(ctx: &mut Ctx<'_>, query: &mut J, cont: &mut Continuation) -> Result<(), ApiError> {
    for p in [
        "ucuserids",
        "ucuserprefix",
        "uciprange",
        "ucshow",
        "uctag",
        "uctoponly",
    ] {
        ctx.mark(p);
    }
    let users = ctx.multi("ucuser");
    if users.is_empty() {
        return Err(ApiError::new(
            "missingparam",
            "One of the parameters \"ucuser\", \"ucuserids\", \"ucuserprefix\" and \"uciprange\" is required.",
        ));
    }
    let mut names = Vec::new();
    for u in &users {
        match pages::normalize_user_name(u) {
            Some(n) => names.push(n),
            None => {
                return Err(ApiError::new(
                    "baduser_ucuser",
                    format!("Invalid value \"{u}\" for user parameter \"ucuser\"."),
                ))
            }
        }
    }
    let limit = ctx.limit_param("usercontribs", "uclimit", 10, 500, 5000)?;
    let newer = ctx.param("ucdir").as_deref() == Some("newer");
    let namespaces: Vec<i32> = ctx
        .multi("ucnamespace")
        .iter()
        .filter_map(|n| n.parse().ok())
        .collect();
    let start = ctx.param("ucstart").and_then(|s| parse_timestamp(&s));
    let end = ctx.param("ucend").and_then(|s| parse_timestamp(&s));
    let continue_from = ctx.param("uccontinue");
    let mut props = ctx.multi("ucprop");
    if ctx.values.get("ucprop").is_none() {
        props = ["ids", "title", "timestamp", "comment", "size", "flags"]
            .iter()
            .map(|s| s.to_string())
            .collect();
    }
    let has = |p: &str| props.iter().any(|x| x == p);
    let continue_key = match &continue_from {
        Some(c) => {
            let parts: Vec<&str> = c.split('|').collect();
            let parsed = match parts.as_slice() {
                [ts, id] => parse_timestamp(ts).zip(id.parse::<u64>().ok()),
                [_, ts, id] => parse_timestamp(ts).zip(id.parse::<u64>().ok()),
                _ => None,
            };
            match parsed {
                Some(k) => Some(k),
                None => {
                    return Err(ApiError::new(
                        "badcontinue",
                        "Invalid continue param. You should pass the original value returned by the previous query.",
                    ))
                }
            }
        }
        None => None,
    };
    let st = ctx.sh.lock();
    let mut revs: Vec<&pages::Rev> = st
        .wiki
        .revisions
        .iter()
        .filter(|r| names.contains(&r.user))
        .filter(|r| {
            namespaces.is_empty()
                || st
                    .wiki
                    .by_id
                    .get(&r.pageid)
                    .is_some_and(|t| namespaces.contains(&t.ns))
        })
        .collect();
    revs.sort_by_key(|r| (r.timestamp, r.revid));
    if !newer {
        revs.reverse();
    }
    revs.retain(|r| {
        let k = (r.timestamp, r.revid);
        let after_continue = match continue_key {
            Some(c) if newer => k >= c,
            Some(c) => k <= c,
            None => true,
        };
        let in_range = if newer {
            start.is_none_or(|s| r.timestamp >= s) && end.is_none_or(|e| r.timestamp <= e)
        } else {
            start.is_none_or(|s| r.timestamp <= s) && end.is_none_or(|e| r.timestamp >= e)
        };
        after_continue && in_range
    });
    let limit = usize::try_from(limit).unwrap_or(10);
    if revs.len() > limit {
        let next = revs[limit];
        cont.values.push((
            "uccontinue".into(),
            format!("{}|{}", ts_mw(next.timestamp), next.revid),
        ));
        revs.truncate(limit);
    }
    let mut items = Vec::with_capacity(revs.len());
    for r in revs {
        let title = st.wiki.by_id.get(&r.pageid).cloned();
        let page = title.as_ref().and_then(|t| st.wiki.page(t));
        let mut o = J::obj()
            .with("userid", J::Int(i64::from(r.userid)))
            .with("user", J::s(r.user.clone()));
        if has("ids") {
            o.set("pageid", J::Int(r.pageid as i64));
            o.set("revid", J::Int(r.revid as i64));
            o.set("parentid", J::Int(r.parentid as i64));
        }
        if has("title") {
            if let Some(t) = &title {
                o.set("ns", J::Int(i64::from(t.ns)));
                o.set("title", J::s(t.full()));
            }
        }
        if has("timestamp") {
            o.set("timestamp", J::s(iso8601(r.timestamp)));
        }
        if has("flags") {
            let top = page
                .and_then(|p| p.revs.last())
                .is_some_and(|l| *l == r.revid);
            for (k, v) in [("new", r.parentid == 0), ("minor", r.minor), ("top", top)] {
                if let Some(b) = ctx.bool_value(v) {
                    o.set(k, b);
                }
            }
        }
        if has("comment") {
            o.set("comment", J::s(r.comment.clone()));
        }
        if has("parsedcomment") {
            o.set(
                "parsedcomment",
                J::s(crate::messages::escape_html(&r.comment)),
            );
        }
        if has("size") {
            o.set("size", J::Int(r.text.len() as i64));
        }
        if has("sizediff") {
            let parent = st
                .wiki
                .rev(r.parentid)
                .map(|p| p.text.len() as i64)
                .unwrap_or(0);
            o.set("sizediff", J::Int(r.text.len() as i64 - parent));
        }
        if has("tags") {
            o.set("tags", J::Arr(vec![]));
        }
        items.push(o);
    }
    query.set("usercontribs", J::Arr(items));
    Ok(())
}

fn allpages(ctx: &mut Ctx<'_>, query: &mut J, cont: &mut Continuation) -> Result<(), ApiError> {
    for p in [
        "apfilterredir",
        "apminsize",
        "apmaxsize",
        "apprtype",
        "apprlevel",
        "apprfiltercascade",
        "apfilterlanglinks",
        "apprexpiry",
    ] {
        ctx.mark(p);
    }
    let limit = ctx.limit_param("allpages", "aplimit", 10, 500, 5000)?;
    let ns: i32 = match ctx.param("apnamespace") {
        None => 0,
        Some(v) => match v.parse::<i32>() {
            Ok(n) if pages::namespace_exists(n) && n >= 0 => n,
            _ => {
                return Err(ApiError::new(
                    "badvalue",
                    format!("Unrecognized value for parameter \"apnamespace\": {v}."),
                ))
            }
        },
    };
    let descending = ctx.param("apdir").as_deref() == Some("descending");
    let key = |s: String| s.replace(' ', "_");
    let from = ctx
        .param("apcontinue")
        .or_else(|| ctx.param("apfrom"))
        .map(key);
    ctx.mark("apfrom");
    let to = ctx.param("apto").map(key);
    let prefix = ctx.param("apprefix").map(key);
    let st = ctx.sh.lock();
    let mut list: Vec<(String, u64, Title)> = st
        .wiki
        .pages
        .values()
        .filter(|p| p.title.ns == ns)
        .map(|p| (p.title.dbkey(), p.id, p.title.clone()))
        .collect();
    list.sort_by(|a, b| a.0.as_bytes().cmp(b.0.as_bytes()));
    if descending {
        list.reverse();
    }
    list.retain(|(k, _, _)| {
        let kb = k.as_bytes();
        let ok_from = from.as_ref().is_none_or(|f| {
            if descending {
                kb <= f.as_bytes()
            } else {
                kb >= f.as_bytes()
            }
        });
        let ok_to = to.as_ref().is_none_or(|t| {
            if descending {
                kb >= t.as_bytes()
            } else {
                kb <= t.as_bytes()
            }
        });
        let ok_prefix = prefix.as_ref().is_none_or(|p| kb.starts_with(p.as_bytes()));
        ok_from && ok_to && ok_prefix
    });
    let limit = usize::try_from(limit).unwrap_or(10);
    if list.len() > limit {
        cont.values
            .push(("apcontinue".into(), list[limit].0.clone()));
        list.truncate(limit);
    }
    let items: Vec<J> = list
        .into_iter()
        .map(|(_, id, t)| {
            J::obj()
                .with("pageid", J::Int(id as i64))
                .with("ns", J::Int(i64::from(t.ns)))
                .with("title", J::s(t.full()))
        })
        .collect();
    query.set("allpages", J::Arr(items));
    Ok(())
}

fn userinfo(ctx: &mut Ctx<'_>, query: &mut J) {
    let props = ctx.multi("uiprop");
    ctx.mark("uiattachedwiki");
    let all = props.iter().any(|p| p == "*");
    let has = |p: &str| all || props.iter().any(|x| x == p);
    let session = ctx.session.clone();
    let st = ctx.sh.lock();
    let mut o = J::obj()
        .with("id", J::Int(i64::from(session.user_id())))
        .with("name", J::s(session.name()));
    let user = match &session {
        Session::Anon => {
            if let Some(b) = ctx.bool_value(true) {
                o.set("anon", b);
            }
            None
        }
        Session::OAuth { user, .. } => st.user(&user.name).cloned(),
    };
    if has("blockinfo") {
        if let Some(b) = user.as_ref().and_then(|u| u.block.clone()) {
            o.set("blockid", J::Int(i64::from(b.id)));
            o.set("blockedby", J::s(b.by));
            o.set("blockedbyid", J::Int(i64::from(b.by_id)));
            o.set("blockreason", J::s(b.reason));
            o.set("blockedtimestamp", J::s(b.timestamp));
            o.set("blockexpiry", J::s(b.expiry));
            o.set("blockpartial", J::Bool(false));
            o.set("blocknocreate", J::Bool(true));
            o.set("blockanononly", J::Bool(false));
            o.set("blockemail", J::Bool(false));
            o.set("blockowntalk", J::Bool(false));
        }
    }
    if has("hasmsg") {
        if let Some(b) = ctx.bool_value(false) {
            o.set("messages", b);
        }
    }
    let groups: Vec<String> = match &user {
        Some(u) => u.groups(),
        None => vec!["*".into()],
    };
    if has("groups") {
        o.set(
            "groups",
            J::Arr(groups.iter().cloned().map(J::Str).collect()),
        );
    }
    if has("groupmemberships") {
        let list = user
            .as_ref()
            .map(|u| {
                u.explicit_groups
                    .iter()
                    .map(|g| {
                        J::obj()
                            .with("group", J::s(g.clone()))
                            .with("expiry", J::s("infinity"))
                    })
                    .collect()
            })
            .unwrap_or_default();
        o.set("groupmemberships", J::Arr(list));
    }
    if has("implicitgroups") {
        let list = user
            .as_ref()
            .map(|u| u.implicit_groups.clone())
            .unwrap_or_else(|| vec!["*".into()]);
        o.set(
            "implicitgroups",
            J::Arr(list.into_iter().map(J::Str).collect()),
        );
    }
    if has("rights") {
        o.set(
            "rights",
            J::Arr(
                crate::users::listed_rights(session.rights(), st.mediawiki.at_least_1_43())
                    .into_iter()
                    .map(J::Str)
                    .collect(),
            ),
        );
    }
    if has("changeablegroups") {
        o.set(
            "changeablegroups",
            J::obj()
                .with("add", J::Arr(vec![]))
                .with("remove", J::Arr(vec![]))
                .with("add-self", J::Arr(vec![]))
                .with("remove-self", J::Arr(vec![])),
        );
    }
    if has("options") {
        o.set(
            "options",
            J::obj()
                .with("language", J::s("en"))
                .with("watchdefault", J::Int(1)),
        );
    }
    if has("editcount") {
        o.set(
            "editcount",
            J::Int(user.as_ref().map(|u| u.editcount).unwrap_or(0)),
        );
    }
    if has("ratelimits") {
        o.set("ratelimits", J::obj());
    }
    let private = session.allowed("viewmyprivateinfo");
    if has("realname") && private {
        o.set(
            "realname",
            J::s(
                user.as_ref()
                    .map(|u| u.realname.clone())
                    .unwrap_or_default(),
            ),
        );
    }
    if has("email") && private {
        o.set(
            "email",
            J::s(user.as_ref().map(|u| u.email.clone()).unwrap_or_default()),
        );
        if let Some(at) = user.as_ref().and_then(|u| u.email_authenticated.clone()) {
            if let Some(ts) = parse_timestamp(&at) {
                o.set("emailauthenticated", J::s(iso8601(ts)));
            }
        }
    }
    if has("registrationdate") {
        let reg = user
            .as_ref()
            .and_then(|u| parse_timestamp(&u.registered))
            .map(|t| J::s(iso8601(t)))
            .unwrap_or(J::Null);
        o.set("registrationdate", reg);
    }
    if has("unreadcount") {
        o.set("unreadcount", J::Int(0));
    }
    if has("centralids") {
        let id = i64::from(session.user_id());
        o.set(
            "centralids",
            J::obj()
                .with("CentralAuth", J::Int(id))
                .with("local", J::Int(id)),
        );
    }
    if has("latestcontrib") {
        let name = session.name();
        if let Some(ts) = st
            .wiki
            .revisions
            .iter()
            .filter(|r| r.user == name)
            .map(|r| r.timestamp)
            .max()
        {
            o.set("latestcontrib", J::s(iso8601(ts)));
        }
    }
    if has("cancreateaccount") {
        o.set(
            "cancreateaccount",
            J::Bool(session.allowed("createaccount")),
        );
    }
    query.set("userinfo", o);
}

fn tokens(ctx: &mut Ctx<'_>, query: &mut J) {
    let mut kinds = ctx.multi("type");
    if ctx.values.get("type").is_none() {
        kinds = vec!["csrf".into()];
    }
    let known = [
        "createaccount",
        "csrf",
        "login",
        "patrol",
        "rollback",
        "userrights",
        "watch",
    ];
    let st = ctx.sh.lock();
    let mut o = J::obj();
    let mut unknown = Vec::new();
    for k in kinds {
        if known.contains(&k.as_str()) {
            let token = if matches!(k.as_str(), "login" | "createaccount") {
                match &ctx.session {
                    Session::Anon => st.session_token("127.0.0.1", "", &k),
                    s => s.token(&st, &k),
                }
            } else {
                ctx.session.token(&st, &k)
            };
            o.set(&format!("{k}token"), J::s(token));
        } else {
            unknown.push(k);
        }
    }
    drop(st);
    for k in unknown {
        ctx.warn(
            "tokens",
            &format!("Unrecognized value for parameter \"type\": {k}."),
        );
    }
    query.set("tokens", o);
}

fn siteinfo(ctx: &mut Ctx<'_>, query: &mut J) {
    let mut props = ctx.multi("siprop");
    if ctx.values.get("siprop").is_none() {
        props = vec!["general".into()];
    }
    let server = ctx.sh.server();
    let now = ctx.sh.lock().now();
    for p in props {
        match p.as_str() {
            "general" => {
                let mut g = J::obj()
                    .with("mainpage", J::s("Main Page"))
                    .with("base", J::s(format!("{server}/wiki/Main_Page")))
                    .with("sitename", J::s("DevWiki"))
                    .with("generator", J::s("MediaWiki 1.39.17 (DevWiki imitation)"))
                    .with("case", J::s("first-letter"))
                    .with("lang", J::s("en"));
                if let Some(b) = ctx.bool_value(true) {
                    g.set("writeapi", b);
                }
                g = g
                    .with("timezone", J::s("UTC"))
                    .with("timeoffset", J::Int(0))
                    .with("articlepath", J::s("/wiki/$1"))
                    .with("scriptpath", J::s(ctx.sh.script_path.clone()))
                    .with("script", J::s(format!("{}/index.php", ctx.sh.script_path)))
                    .with("server", J::s(server.clone()))
                    .with(
                        "servername",
                        J::s(
                            server
                                .split("://")
                                .nth(1)
                                .unwrap_or("")
                                .split(':')
                                .next()
                                .unwrap_or("")
                                .to_string(),
                        ),
                    )
                    .with("wikiid", J::s("devwiki"))
                    .with("time", J::s(iso8601(now)));
                query.set("general", g);
            }
            "namespaces" => {
                let mut n = J::obj();
                for id in [-1, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15] {
                    let name = pages::namespace_name(id);
                    let mut e = J::obj()
                        .with("id", J::Int(i64::from(id)))
                        .with("case", J::s("first-letter"));
                    if ctx.fv2 {
                        e.set("name", J::s(name));
                    } else {
                        e.set("*", J::s(name));
                    }
                    n.set(&id.to_string(), e);
                }
                query.set("namespaces", n);
            }
            other => ctx.warn(
                "siteinfo",
                &format!("Unrecognized value for parameter \"siprop\": {other}."),
            ),
        }
    }
}
