//! The sections of the results, one function each, in the order they run
//! (callgrind, scale, the peers and flask have modules of their own).

use crate::app::Ours;
use crate::common::{cookie_named, cpu_seconds, proc_kb};
use crate::drive::{logins, paced_rounds_of, page, rounds_of, sample_since, wrk};
use crate::report::{fmt_spread, page_row, page_table, round_ratio, Report, PAGE_HEADER};
use crate::settings::Settings;

/// The settings line at the top of the results.
pub fn preamble(s: &Settings, ours: &Ours, rep: &mut Report) {
    let &Settings {
        secs,
        api_secs,
        conns,
        rounds,
        ..
    } = s;
    let size1 = cookie_named(&ours.cookie1, "mwoauth_session").len();
    let size2 = cookie_named(&ours.cookie2, "mwoauth_session").len();

    rep.push(&format!(
        "Settings: {conns} keep-alive connections (wrk -t2) unless said; pages {secs} s and API calls {api_secs} s per run, {rounds} interleaved rounds (each round runs every page of its table once); median and min–max over the rounds. Session cookies of the pages below: OAuth 1.0a {size1} bytes, OAuth 2.0 {size2} bytes (`name=value`).\n\n"
    ));
}

/// Section 1, our CPU per API call: signed, Bearer and unsigned, saturated (wrk)
/// and at one offered load (open loop).
pub async fn api_cost(s: &Settings, ours: &Ours, rep: &mut Report) {
    let &Settings {
        api_secs,
        conns,
        rounds,
        api_rate,
        ..
    } = s;
    let (base1, base2) = (&ours.base1, &ours.base2);
    let (cookie1, cookie2) = (&ours.cookie1, &ours.cookie2);
    let (pid1, pid2) = (ours.pid1, ours.pid2);
    rep.push("## 1. Our cost per API call (app process CPU, same local wiki)\n\n");
    let api_pages = vec![
        page(
            "OAuth 1.0a signed userinfo",
            format!("{base1}/api"),
            Some(cookie1),
            pid1,
        ),
        page(
            "unsigned userinfo, same Cookie (OAuth 1.0a app)",
            format!("{base1}/api-unsigned"),
            Some(cookie1),
            pid1,
        ),
        page(
            "OAuth 2.0 Bearer userinfo",
            format!("{base2}/api"),
            Some(cookie2),
            pid2,
        ),
        page(
            "unsigned userinfo, same Cookie (OAuth 2.0 app)",
            format!("{base2}/api-unsigned"),
            Some(cookie2),
            pid2,
        ),
    ];
    let api = rounds_of(&api_pages, rounds, api_secs, conns);
    rep.push(&page_table(&api_pages, &api));
    let rps1 = round_ratio(&api[0], &api[1], |s| s.s.rps);
    let rps2 = round_ratio(&api[2], &api[3], |s| s.s.rps);
    rep.push(&format!(
        "\nThe same calls at one offered load for all, {api_rate} requests/s (open loop, {conns} connections, each on its own schedule; an in-process client), well below the slowest page's capacity above:\n\n"
    ));
    let api_paced = paced_rounds_of(&api_pages, rounds, api_secs, api_rate, conns).await;
    rep.push(&page_table(&api_pages, &api_paced));
    rep.push("\n");
    let cpu1 = round_ratio(&api_paced[0], &api_paced[1], |s| s.cpu_us);
    let cpu2 = round_ratio(&api_paced[2], &api_paced[3], |s| s.cpu_us);
    rep.goal(
        &format!("CPU per call at {api_rate} req/s, signed / unsigned"),
        fmt_spread(cpu1, 2),
        "≤ 1.10",
        Some(cpu1.med <= 1.10),
    );
    rep.goal(
        &format!("CPU per call at {api_rate} req/s, Bearer / unsigned"),
        fmt_spread(cpu2, 2),
        "≤ 1.10",
        Some(cpu2.med <= 1.10),
    );
    let cpu1_sat = round_ratio(&api[0], &api[1], |s| s.cpu_us);
    let cpu2_sat = round_ratio(&api[2], &api[3], |s| s.cpu_us);
    rep.goal(
        "CPU per call at saturation (wrk), signed / unsigned",
        fmt_spread(cpu1_sat, 2),
        "",
        None,
    );
    rep.goal(
        "CPU per call at saturation (wrk), Bearer / unsigned",
        fmt_spread(cpu2_sat, 2),
        "",
        None,
    );
    rep.goal("req/s, signed / unsigned", fmt_spread(rps1, 2), "", None);
    rep.goal("req/s, Bearer / unsigned", fmt_spread(rps2, 2), "", None);
}

/// Section 2, near the ceiling: the `MwUser` page against the bare route.
pub fn ceiling(s: &Settings, ours: &Ours, rep: &mut Report) {
    let &Settings {
        secs,
        conns,
        rounds,
        ..
    } = s;
    let (base1, base2) = (&ours.base1, &ours.base2);
    let (cookie1, cookie2) = (&ours.cookie1, &ours.cookie2);
    let (pid1, pid2) = (ours.pid1, ours.pid2);
    rep.push("\n## 2. Near the ceiling: the `MwUser` page against the bare route\n\n");
    let ceiling_pages = vec![
        page(
            "bare route, no Cookie (1.0a app)",
            format!("{base1}/bare"),
            None,
            pid1,
        ),
        page(
            "bare route, 1.0a session Cookie",
            format!("{base1}/bare"),
            Some(cookie1),
            pid1,
        ),
        page(
            "MwUser page, OAuth 1.0a",
            format!("{base1}/user"),
            Some(cookie1),
            pid1,
        ),
        page(
            "bare route, no Cookie (2.0 app)",
            format!("{base2}/bare"),
            None,
            pid2,
        ),
        page(
            "bare route, 2.0 session Cookie",
            format!("{base2}/bare"),
            Some(cookie2),
            pid2,
        ),
        page(
            "MwUser page, OAuth 2.0",
            format!("{base2}/user"),
            Some(cookie2),
            pid2,
        ),
        page(
            "Option<MwUser>, anonymous",
            format!("{base1}/maybe"),
            None,
            pid1,
        ),
    ];
    let ceil = rounds_of(&ceiling_pages, rounds, secs, conns);
    rep.push(&page_table(&ceiling_pages, &ceil));
    rep.push("\n");
    for (label, user, with, without) in [("OAuth 1.0a", 2, 1, 0), ("OAuth 2.0", 5, 4, 3)] {
        let r = round_ratio(&ceil[user], &ceil[with], |s| s.s.rps);
        rep.goal(
            &format!("{label}: MwUser / bare with the same Cookie (req/s)"),
            fmt_spread(r, 3),
            "≥ 0.95",
            Some(r.med >= 0.95),
        );
        let r = round_ratio(&ceil[user], &ceil[without], |s| s.s.rps);
        rep.goal(
            &format!("{label}: MwUser / bare without Cookie (req/s)"),
            fmt_spread(r, 3),
            "",
            None,
        );
    }
    let r = round_ratio(&ceil[6], &ceil[0], |s| s.s.rps);
    rep.goal(
        "Option<MwUser> anonymous / bare (req/s)",
        fmt_spread(r, 3),
        "",
        None,
    );
}

/// Complete logins, memory, no leak (the figures of the first benchmark).
pub async fn logins_and_memory(s: &Settings, ours: &Ours, rep: &mut Report) {
    let &Settings {
        secs,
        conns,
        leak_secs,
        ..
    } = s;
    let (base1, base2) = (&ours.base1, &ours.base2);
    let cookie1 = &ours.cookie1;
    let (pid1, pid2) = (ours.pid1, ours.pid2);
    rep.push("\n## Logins and memory\n\n");
    let mut t = PAGE_HEADER.to_string();
    for (name, url, pid) in [
        (
            "complete logins, OAuth 1.0a",
            format!("{base1}/login"),
            pid1,
        ),
        ("complete logins, OAuth 2.0", format!("{base2}/login"), pid2),
    ] {
        let c0 = cpu_seconds(pid);
        let s = logins(&url, "hello Alice", secs, conns, None).await;
        t.push_str(&page_row(name, &[sample_since(pid, c0, s)]));
    }
    rep.push(&t);
    let peak_kb = proc_kb(pid1, "VmHWM:");
    let rss_before = proc_kb(pid1, "VmRSS:");
    let half = (leak_secs / 2).max(1);
    let _ = wrk(&format!("{base1}/api"), Some(cookie1), half, conns);
    let rss_mid = proc_kb(pid1, "VmRSS:");
    let _ = wrk(
        &format!("{base1}/user"),
        Some(cookie1),
        leak_secs - half,
        conns,
    );
    let rss_after = proc_kb(pid1, "VmRSS:");
    rep.push(&format!(
        "\nOAuth 1.0a app: peak RSS (VmHWM) after the scenarios above {:.1} MB. No-leak run ({leak_secs} s of signed API calls then signed pages): RSS {:.1} MB before, {:.1} MB midway, {:.1} MB after; peak {:.1} MB.\n",
        peak_kb as f64 / 1024.0,
        rss_before as f64 / 1024.0,
        rss_mid as f64 / 1024.0,
        rss_after as f64 / 1024.0,
        proc_kb(pid1, "VmHWM:") as f64 / 1024.0,
    ));
}
