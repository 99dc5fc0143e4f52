//! Section 4: the Rust peers (`benches/peers`), side by side with ours.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use std::time::Duration;

use devwiki::ConsumerSpec;

use crate::apart::{login_rounds_apart, Busy, Creds, WikiProc};
use crate::app::{start_app, AppSpec, Ours};
use crate::common::{
    body_of, browser, cookie_after_login, cookie_named, free_port, wait_ready, Proc, SECRET_KEY,
};
use crate::drive::{paced_rounds_of, page, rounds_of, Page};
use crate::report::{fmt_spread, page_table, peer_goal, round_ratio, Report};
use crate::settings::Settings;

/// Builds the two peer apps (`benches/peers`, copied to `target/bench-peers`
/// and built there, outside this crate's dependencies): their binaries.
pub fn build_peers(root: &Path) -> Result<(PathBuf, PathBuf), String> {
    let src = root.join("benches/peers");
    let dst = root.join("target/bench-peers");
    for rel in [
        "Cargo.toml",
        "src/bin/peer_rocket_mwoauth.rs",
        "src/bin/peer_mwoauth.rs",
    ] {
        let text = std::fs::read_to_string(src.join(rel)).map_err(|e| e.to_string())?;
        let to = dst.join(rel);
        if std::fs::read_to_string(&to).ok().as_deref() != Some(text.as_str()) {
            std::fs::create_dir_all(to.parent().unwrap()).map_err(|e| e.to_string())?;
            std::fs::write(&to, text).map_err(|e| e.to_string())?;
        }
    }
    let target = dst.join("target");
    println!("building the peer apps (rocket_mwoauth 0.1.4, mwoauth 0.1.0-alpha.2) in target/bench-peers…");
    let out = Command::new("cargo")
        .args(["build", "--release", "--quiet"])
        .current_dir(&dst)
        .env("CARGO_TARGET_DIR", &target)
        .env_remove("RUSTFLAGS")
        .env_remove("CARGO_ENCODED_RUSTFLAGS")
        .output()
        .map_err(|e| e.to_string())?;
    if !out.status.success() {
        let err = String::from_utf8_lossy(&out.stderr);
        let tail: Vec<&str> = err.lines().rev().take(8).collect();
        return Err(tail.into_iter().rev().collect::<Vec<_>>().join(" / "));
    }
    let bin = target.join("release");
    Ok((bin.join("peer_rocket_mwoauth"), bin.join("peer_mwoauth")))
}

/// The OAuth 2.0 client of a peer app on `port`.
fn peer_client(name: &str, port: u16, grants: &[String]) -> ConsumerSpec {
    ConsumerSpec {
        name: format!("Bench ({name})"),
        callback: format!("http://127.0.0.1:{port}/oauth/callback"),
        grants: grants.to_vec(),
        oauth2: true,
        ..Default::default()
    }
}

/// Starts a peer app on `port` with its OAuth 2.0 client (registered by
/// [`peer_client`]) on the wiki of `api_url`.
pub async fn start_peer(
    bin: &Path,
    api_url: &str,
    port: u16,
    client: &Creds,
) -> Option<(Proc, String)> {
    let process = Proc(
        Command::new(bin)
            .env("PEER_PORT", port.to_string())
            .env("PEER_SECRET_KEY", SECRET_KEY)
            .env("PEER_CLIENT_ID", &client.key)
            .env("PEER_CLIENT_SECRET", &client.secret)
            .env("PEER_API_URL", api_url)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .ok()?,
    );
    let base = format!("http://127.0.0.1:{port}");
    wait_ready(&format!("{base}/bare"), 300)
        .await
        .then_some((process, base))
}

/// Four requests of one user at once, just after its access token expired:
/// how many answered as the user, whether it is still signed in, refreshes.
pub async fn four_at_expiry(
    wiki: &WikiProc,
    browser: &reqwest::Client,
    url: &str,
    expect: &str,
) -> String {
    let r0 = wiki.refresh_requests().await;
    let answers = futures_util::future::join_all((0..4).map(|_| body_of(browser, url))).await;
    let ok = answers
        .iter()
        .filter(|a| a.as_deref() == Some(expect))
        .count();
    let after = body_of(browser, url).await.as_deref() == Some(expect);
    let refreshes = wiki.refresh_requests().await.saturating_sub(r0);
    format!(
        "{ok}/4 answered as the user; {}; {refreshes} refresh request(s)",
        if after {
            "still signed in after"
        } else {
            "signed out after"
        }
    )
}

/// Section 4: the Rust peers side by side with ours, on a fresh local wiki
/// in a process of its own: `built` is what [`build_peers`] gave (`None`:
/// skipped).
pub async fn section(
    s: &Settings,
    ours: &Ours,
    built: Option<Result<(PathBuf, PathBuf), String>>,
    rep: &mut Report,
) {
    let note = match built {
        None => return,
        Some(Err(e)) => format!("The peer apps could not be built: {e}"),
        Some(Ok((bin_rm, bin_mw))) => match side_by_side(s, ours, &bin_rm, &bin_mw, rep).await {
            Ok(()) => return,
            Err(e) => e.to_string(),
        },
    };
    rep.push(&format!("\n## 4. Rust peers\n\n{note}\n"));
}

/// The runs of section 4 once the peers are built; `Err`: what did not start.
async fn side_by_side(
    s: &Settings,
    ours: &Ours,
    bin_rm: &Path,
    bin_mw: &Path,
    rep: &mut Report,
) -> Result<(), &'static str> {
    let &Settings {
        secs,
        conns,
        rounds,
        page_rate,
        login_rate,
        lifetime,
        ..
    } = s;
    let grants = &ours.grants;
    let (rm_port, mw_port) = (free_port(), free_port());
    let wiki = WikiProc::start(
        &[
            ConsumerSpec {
                name: "Bench (Rust, OAuth 2.0, peers)".into(),
                callback: "http://127.0.0.1:1/oauth-callback".into(),
                grants: grants.clone(),
                oauth2: true,
                ..Default::default()
            },
            peer_client("rocket_mwoauth", rm_port, grants),
            peer_client("mwoauth", mw_port, grants),
        ],
        Some("mw144"),
    )
    .await
    .ok_or("The local wiki did not start in a process of its own.")?;
    let pspec = AppSpec {
        oauth: 2,
        key: wiki.consumers[0].key.clone(),
        secret: wiki.consumers[0].secret.clone(),
        callback: None,
    };
    let (papp, base2) = start_app(&pspec, free_port(), &wiki.base_url).await;
    let pid2 = papp.0.id();
    let rm = start_peer(bin_rm, &wiki.api_url, rm_port, &wiki.consumers[1]).await;
    let mw = start_peer(bin_mw, &wiki.api_url, mw_port, &wiki.consumers[2]).await;
    let (Some((rm, rm_base)), Some((mw, mw_base))) = (rm, mw) else {
        return Err("A peer app was built but did not start against the local wiki.");
    };
    rep.push("\n## 4. Rust peers, side by side (OAuth 2.0, the wiki answering the profile as MediaWiki 1.44)\n\nA fresh local wiki for this section, in a process of its own (the three crates' logins meet the same token tables), with an OAuth 2.0 app of ours of its own; the login rounds rotate which crate goes first.\n\n");
    let rm_cookie = cookie_after_login(&format!("{rm_base}/oauth/login"), &rm_base).await;
    let mw_cookie = cookie_after_login(&format!("{mw_base}/oauth/login"), &mw_base).await;
    let ours_cookie = cookie_after_login(&format!("{base2}/login"), &base2).await;
    let pages = vec![
        page(
            "ours (rocket_mediawiki_oauth, MwUser)",
            format!("{base2}/user"),
            Some(&ours_cookie),
            pid2,
        ),
        page(
            "rocket_mwoauth 0.1.4 (UserGuard)",
            format!("{rm_base}/user"),
            Some(&rm_cookie),
            rm.0.id(),
        ),
        page(
            "mwoauth 0.1.0-alpha.2 (UserGuard)",
            format!("{mw_base}/user"),
            Some(&mw_cookie),
            mw.0.id(),
        ),
    ];
    let res = rounds_of(&pages, rounds, secs, conns);
    let mut t = String::from("Signed-in page:\n\n");
    t.push_str(&page_table(&pages, &res));
    rep.push(&t);
    let res_paced = paced_rounds_of(&pages, rounds, secs, page_rate, conns).await;
    let mut t = format!("\nThe same page at one offered load for all, {page_rate} requests/s (open loop, {conns} connections; an in-process client): latency without the queueing of a saturated run, where a p99 of about 1–2 ms is the scheduling of four busy threads on two cores whichever crate answers:\n\n");
    t.push_str(&page_table(&pages, &res_paced));
    rep.push(&t);
    let login_urls = [
        format!("{base2}/login"),
        format!("{rm_base}/oauth/login"),
        format!("{mw_base}/oauth/login"),
    ];
    let (lg, lg_busy) =
        login_rounds_apart(&pages, &login_urls, wiki.pid(), rounds, secs, conns, None).await;
    let mut t = format!("\nComplete logins (authorize auto-approved → callback → profile → landing page showing the user), per second, by {conns} browsers each starting its next login when the last one landed; the login driver runs in a process of its own (one per run), as does the wiki, so the app is not slowed by sharing their threads. The app CPU column is the app process's CPU time per complete login:\n\n");
    t.push_str(&page_table(&pages, &lg));
    rep.push(&t);
    let (lg_paced, lg_paced_busy) = login_rounds_apart(
        &pages,
        &login_urls,
        wiki.pid(),
        rounds,
        secs,
        conns,
        Some(login_rate),
    )
    .await;
    let mut t = format!("\nThe same logins at one offered load for all, {login_rate} logins/s (open loop, {conns} browsers, each on its own schedule; the driver and the wiki apart as above):\n\n");
    t.push_str(&page_table(&pages, &lg_paced));
    rep.push(&t);
    rep.push(&busy_table(
        &pages,
        &[("saturated", &lg_busy), ("open loop", &lg_paced_busy)],
    ));
    rep.push("\n");
    for (k, peer) in [(1usize, "rocket_mwoauth"), (2, "mwoauth")] {
        peer_goal(
            rep,
            &format!("ours / {peer}, signed-in page req/s (p99 ms, ours vs theirs: at {page_rate} req/s; saturated)"),
            [&res[0], &res[k]],
            [&res_paced[0], &res_paced[k]],
            2,
            1.0,
        );
        peer_goal(
            rep,
            &format!("ours / {peer}, logins/s, wiki and driver in processes of their own (p99 ms, ours vs theirs: at {login_rate} logins/s; saturated)"),
            [&lg[0], &lg[k]],
            [&lg_paced[0], &lg_paced[k]],
            1,
            1.2,
        );
        let r = round_ratio(&lg[k], &lg[0], |s| s.cpu_us);
        rep.goal(
            &format!("{peer} / ours, app CPU per saturated login (the logins/s ratio of apps given the same CPU)"),
            fmt_spread(r, 2),
            "",
            None,
        );
    }
    // Cookie sizes and four requests at expiry.
    wiki.set_access_token_lifetime(lifetime).await;
    let mut fresh = Vec::new();
    for login in &login_urls {
        let c = browser();
        let landed = body_of(&c, login).await;
        fresh.push((c, landed.as_deref() == Some("hello Alice")));
    }
    tokio::time::sleep(Duration::from_secs(lifetime + 1)).await;
    let mut at_expiry = Vec::new();
    for (k, url) in [
        (format!("{base2}/api"), "Alice"),
        (format!("{rm_base}/user"), "hello Alice"),
        (format!("{mw_base}/user"), "hello Alice"),
    ]
    .iter()
    .enumerate()
    {
        at_expiry.push(if fresh[k].1 {
            four_at_expiry(&wiki, &fresh[k].0, &url.0, url.1).await
        } else {
            "(the login failed)".to_string()
        });
    }
    wiki.set_access_token_lifetime(3600).await;
    let sizes = [
        cookie_named(&ours_cookie, "mwoauth_session").len(),
        cookie_named(&rm_cookie, "mwoauth_auth").len(),
        cookie_named(&mw_cookie, "mwoauth_auth").len(),
    ];
    let mut t = format!("\nSession cookie of the same user (Alice), `name=value` bytes, and four parallel requests of one user just after its access token expired ({lifetime} s lifetime; ours: the `MwApi` page, which needs the token; the peers: their `UserGuard` page, which refreshes):\n\n| crate | session cookie bytes | four requests at expiry |\n|---|---|---|\n");
    for (k, p) in pages.iter().enumerate() {
        t.push_str(&format!(
            "| {} | {} | {} |\n",
            p.name, sizes[k], at_expiry[k]
        ));
    }
    rep.push(&t);
    drop((rm, mw, papp, wiki));
    Ok(())
}

/// Which processes kept the cores busy during the login runs (CPU seconds
/// over wall seconds, median over the rounds), and which of them was the
/// bottleneck of the saturated runs: the app only when it used more CPU
/// than the wiki and the driver.
fn busy_table(pages: &[Page], runs: &[(&str, &[Vec<Busy>])]) -> String {
    let cores = std::thread::available_parallelism().map_or(0, |n| n.get());
    let mut t = format!("\nCores kept busy during the login runs (CPU seconds of each process over the run's wall seconds, from `/proc/<pid>/stat` utime + stime; median over the rounds; the machine has {cores}, and its last column counts the other work on it too):\n\n| crate | run | app | local wiki | login driver | all three | whole machine |\n|---|---|---|---|---|---|---|\n");
    let mut notes = Vec::new();
    for (kind, busy) in runs {
        for (p, b) in pages.iter().zip(busy.iter()) {
            let app = over_busy(b, |x| x.app);
            let wiki = over_busy(b, |x| x.wiki);
            let driver = over_busy(b, |x| x.driver);
            let machine = over_busy(b, |x| x.machine);
            t.push_str(&format!(
                "| {} | {kind} | {app:.2} | {wiki:.2} | {driver:.2} | {:.2} | {machine:.2} |\n",
                p.name,
                app + wiki + driver
            ));
            if *kind == "saturated" && machine < 0.9 * cores as f64 {
                notes.push(format!(
                    "{}: the machine was not saturated either ({machine:.2} of {cores} cores busy), so the logins waited on their round trips more than on any CPU",
                    p.name
                ));
            }
            if *kind == "saturated" && (wiki > app || driver > app) {
                let (other, used) = if wiki >= driver {
                    ("the local wiki", wiki)
                } else {
                    ("the login driver", driver)
                };
                notes.push(format!(
                    "{}: {other} used more CPU than the app ({used:.2} against {app:.2} cores)",
                    p.name
                ));
            }
        }
    }
    if notes.is_empty() {
        t.push_str("\nIn every saturated login run the app used more CPU than the wiki and the driver: the app is the bottleneck.\n");
    } else {
        t.push_str(&format!(
            "\nThe app is not the bottleneck of every saturated login run: {}.\n",
            notes.join("; ")
        ));
    }
    t
}

fn over_busy(b: &[Busy], f: impl Fn(&Busy) -> f64) -> f64 {
    crate::report::median(&b.iter().map(f).collect::<Vec<_>>())
}
