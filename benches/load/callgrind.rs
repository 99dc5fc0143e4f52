//! Section 2, continued: instructions per request under callgrind.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use devwiki::DevWiki;

use crate::app::{app_command_with, AppSpec, Ours, StoreSpec};
use crate::common::{free_port, wait_ready, Proc};
use crate::drive::sequential;
use crate::report::Report;
use crate::settings::Settings;

/// The `summary:`/`totals:` instruction count of a callgrind dump.
pub fn callgrind_total(path: &Path) -> Option<f64> {
    let text = std::fs::read_to_string(path).ok()?;
    text.lines()
        .find_map(|l| {
            l.strip_prefix("totals:")
                .or_else(|| l.strip_prefix("summary:"))
        })
        .and_then(|v| v.split_whitespace().next()?.parse().ok())
}

/// Instructions per request of each page, from an app run under
/// `valgrind --tool=callgrind`: for each page the counters are zeroed, N1
/// requests are made and dumped, then again with N2; the difference of the
/// two dumps over N2 − N1 requests leaves out whatever does not scale with
/// requests (timers, idle workers).
pub async fn instructions_per_request(
    spec: &AppSpec,
    wiki: &DevWiki,
    dir: &Path,
    pages: &[(&str, &str, Option<&str>)],
    n1: usize,
    n2: usize,
) -> Option<(Vec<f64>, Vec<PathBuf>)> {
    instructions_per_request_with(spec, &StoreSpec::Cookie, wiki, dir, pages, n1, n2).await
}

/// [`instructions_per_request`] of an app with its sessions in `store`.
pub async fn instructions_per_request_with(
    spec: &AppSpec,
    store: &StoreSpec,
    wiki: &DevWiki,
    dir: &Path,
    pages: &[(&str, &str, Option<&str>)],
    n1: usize,
    n2: usize,
) -> Option<(Vec<f64>, Vec<PathBuf>)> {
    let port = free_port();
    let _ = std::fs::create_dir_all(dir);
    let pattern = dir.join("cg.%p.out");
    let wrapper = vec![
        "valgrind".to_string(),
        "--tool=callgrind".to_string(),
        format!("--callgrind-out-file={}", pattern.display()),
    ];
    let app = Proc(
        app_command_with(Some(&wrapper), spec, store, port, &wiki.base_url())
            .spawn()
            .ok()?,
    );
    let pid = app.0.id();
    let base = format!("http://127.0.0.1:{port}");
    if !wait_ready(&format!("{base}/bare"), 1200).await {
        println!("(the app did not start under callgrind)");
        return None;
    }
    let client = reqwest::Client::new();
    let mut dumps = 0;
    // Zeroes the counters (`zero`) or dumps them: the dump's total and file.
    let mut dump = |zero: bool| -> Option<(f64, PathBuf)> {
        let arg = if zero { "-z" } else { "-d" };
        let ok = Command::new("callgrind_control")
            .arg(arg)
            .arg(pid.to_string())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|s| s.success());
        if !ok {
            return None;
        }
        if zero {
            return Some((0.0, PathBuf::new()));
        }
        dumps += 1;
        let file = dir.join(format!("cg.{pid}.out.{dumps}"));
        callgrind_total(&file).map(|t| (t, file))
    };
    let mut out = Vec::new();
    let mut files = Vec::new();
    for (_, path, cookie) in pages {
        let url = format!("{base}{path}");
        sequential(&client, &url, *cookie, 50).await;
        let mut counts = Vec::new();
        let mut last = PathBuf::new();
        for n in [n1, n2] {
            dump(true)?;
            let ok = sequential(&client, &url, *cookie, n).await;
            let (total, file) = dump(false)?;
            last = file;
            if ok != n {
                println!("({path} under callgrind: {ok}/{n} answered)");
            }
            counts.push(total);
        }
        out.push((counts[1] - counts[0]) / (n2 - n1) as f64);
        files.push(last);
    }
    drop(app);
    Some((out, files))
}

/// The heaviest functions (inclusive instructions per request) of a
/// callgrind dump of `n` requests whose names contain one of `names`.
pub fn top_functions(path: &Path, n: usize, names: &[&str], max: usize) -> Vec<(String, f64)> {
    let Ok(out) = Command::new("callgrind_annotate")
        .args(["--inclusive=yes", "--threshold=100"])
        .arg(path)
        .output()
    else {
        return Vec::new();
    };
    let text = String::from_utf8_lossy(&out.stdout);
    let mut found = Vec::new();
    for line in text.lines() {
        let Some((count, rest)) = line.trim().split_once(' ') else {
            continue;
        };
        let Ok(count) = count.replace(',', "").parse::<f64>() else {
            continue;
        };
        // `(12.3%)  ???:name [binary]`
        let name = rest
            .split_once("???:")
            .or_else(|| rest.split_once(':'))
            .map_or(rest, |(_, n)| n);
        let name = name.rsplit_once(" [").map_or(name, |(n, _)| n).trim();
        if names.iter().any(|w| name.contains(w)) && found.len() < max {
            found.push((name.replace('|', "\\|"), count / n as f64));
        }
    }
    found
}

/// Section 2, continued: instructions per request of each page in both
/// apps, and where the instructions of the API calls go.
pub async fn section(s: &Settings, ours: &Ours, rep: &mut Report) {
    let (n1, n2) = s.callgrind_n;
    let root = &s.root;
    let (spec1, spec2, wiki) = (&ours.spec1, &ours.spec2, &ours.wiki);
    let (cookie1, cookie2) = (&ours.cookie1, &ours.cookie2);
    rep.push(&format!(
        "\nInstructions per request in the app process (`valgrind --tool=callgrind`, one connection, sequential requests; (dump after {n2} − dump after {n1}) / {}):\n\n| page | OAuth 1.0a app | OAuth 2.0 app |\n|---|---|---|\n",
        n2 - n1
    ));
    let dir = root.join("target/bench-results/callgrind");
    let _ = std::fs::remove_dir_all(&dir);
    let p1 = [
        ("bare, no Cookie", "/bare", None),
        ("bare, session Cookie", "/bare", Some(cookie1.as_str())),
        ("MwUser page (`&MwUser`)", "/user", Some(cookie1.as_str())),
        ("API call, signed / Bearer", "/api", Some(cookie1.as_str())),
        (
            "API call, unsigned, same Cookie",
            "/api-unsigned",
            Some(cookie1.as_str()),
        ),
        (
            "MwUser page (owned `MwUser`)",
            "/user-owned",
            Some(cookie1.as_str()),
        ),
    ];
    let p2 = [
        ("bare, no Cookie", "/bare", None),
        ("bare, session Cookie", "/bare", Some(cookie2.as_str())),
        ("MwUser page (`&MwUser`)", "/user", Some(cookie2.as_str())),
        ("API call, signed / Bearer", "/api", Some(cookie2.as_str())),
        (
            "API call, unsigned, same Cookie",
            "/api-unsigned",
            Some(cookie2.as_str()),
        ),
        (
            "MwUser page (owned `MwUser`)",
            "/user-owned",
            Some(cookie2.as_str()),
        ),
    ];
    let i1 = instructions_per_request(spec1, wiki, &dir, &p1, n1, n2).await;
    let i2 = instructions_per_request(spec2, wiki, &dir, &p2, n1, n2).await;
    match (i1, i2) {
        (Some((i1, f1)), Some((i2, f2))) => {
            let mut t = String::new();
            for (k, (name, _, _)) in p1.iter().enumerate() {
                t.push_str(&format!("| {name} | {:.0} | {:.0} |\n", i1[k], i2[k]));
            }
            rep.push(&t);
            rep.push("\n");
            let names = [
                "rocket_mediawiki_oauth::",
                "sha1::compress",
                "url::ParseOptions::parse",
                "__rust_alloc",
                "serde_json::de",
            ];
            for (label, f, page) in [
                ("OAuth 1.0a signed API call", &f1[3], "/api"),
                ("OAuth 2.0 Bearer API call", &f2[3], "/api"),
                ("unsigned API call", &f1[4], "/api-unsigned"),
                ("OAuth 2.0 MwUser page", &f2[2], "/user"),
            ] {
                let mut t = format!("\nWhere the instructions of one {label} (`{page}`) go, inclusive, per request (callgrind_annotate):\n\n| function | instructions |\n|---|---|\n");
                for (name, per) in top_functions(f, n2, &names, 12) {
                    t.push_str(&format!("| `{name}` | {per:.0} |\n"));
                }
                rep.push(&t);
            }
            let list = |f: &PathBuf| top_functions(f, n2, &names, 400);
            let pick = |l: &[(String, f64)], w: &str| {
                l.iter().find(|(n, _)| n.contains(w)).map_or(0.0, |x| x.1)
            };
            let (l1, l2, lu) = (list(&f1[3]), list(&f2[3]), list(&f2[2]));
            let (extra1, extra2) = (i1[3] - i1[4], i2[3] - i2[4]);
            let (g1, s1, h1) = (
                pick(&l1, "guards::MwApi as"),
                pick(&l1, "oauth1::sign_request"),
                pick(&l1, "sha1::compress::compress"),
            );
            let (g2, r2) = (pick(&l2, "guards::MwApi as"), pick(&l2, "UserCache::entry"));
            let (gu, cu, du) = (
                pick(&lu, "FromRequest for &rocket_mediawiki_oauth::user::MwUser>::from_request::{{closure}}"),
                pick(&lu, "UserCache::entry"),
                pick(&lu, "drop_in_place<rocket_mediawiki_oauth::user::MwUser>"),
            );
            rep.push(&format!(
                "\nFrom these profiles: a signed OAuth 1.0a call adds {extra1:.0} instructions to the unsigned call's {:.0}: the `MwApi` guard (the session record from the record cache; the cookie is opened only when first seen) {g1:.0}, signing {s1:.0} (SHA-1 {h1:.0} of it), and {:.0} in the request and the answer beyond what the unsigned route does (the parameters encoded for the query, the bounded read, the answer's error check). SHA-1 is counted as its software version: valgrind does not run the SHA extensions, which the processor has and the crate uses outside valgrind. A Bearer call adds {extra2:.0}: the guard {g2:.0} (of it the record cache's lookup {r2:.0}) and {:.0} in the request and answer. The OAuth 2.0 `&MwUser` guard costs {gu:.0} per request: the record cache's lookup {cu:.0}; the rest is Rocket's request-local cache (the lent user, and what the request removed) and the guard's future (an owned `MwUser` is a copy, dropped by the route: {du:.0} here, none with `&MwUser`). The `&MwUser` page's route also formats its answer (`hello {{name}}`), which the bare route (a static `hello`) does not.\n\n",
                i1[4],
                extra1 - g1 - s1,
                extra2 - g2,
            ));
            for (label, i) in [("OAuth 1.0a", &i1), ("OAuth 2.0", &i2)] {
                rep.goal(
                    &format!("{label}: instructions per API call, signed or Bearer / unsigned"),
                    format!("{:.2}", i[3] / i[4]),
                    if label == "OAuth 1.0a" {
                        "≤ 1.25"
                    } else {
                        "≤ 1.20"
                    },
                    Some(i[3] / i[4] <= if label == "OAuth 1.0a" { 1.25 } else { 1.20 }),
                );
                rep.goal(
                    &format!("{label}: instructions, bare with Cookie / `&MwUser` page (MwUser speed against bare)"),
                    format!("{:.3}", i[1] / i[2]),
                    "≥ 0.97",
                    Some(i[1] / i[2] >= 0.97),
                );
                rep.goal(
                    &format!("{label}: instructions, bare with Cookie / owned `MwUser` page"),
                    format!("{:.3}", i[1] / i[5]),
                    "",
                    None,
                );
                rep.goal(
                    &format!("{label}: instructions, bare without Cookie / MwUser page"),
                    format!("{:.3}", i[0] / i[2]),
                    "",
                    None,
                );
            }
        }
        _ => rep.push("\n(callgrind could not be run: instruction counts left out)\n"),
    }
}
