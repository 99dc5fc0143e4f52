//! flask-mwoauth under gunicorn, on the same wiki, under the same load.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use devwiki::{ConsumerSpec, DevWiki};

use crate::app::{start_app, Ours};
use crate::common::{cookie_after_login, free_port, tree_kb, wait_ready, Proc};
use crate::drive::{logins, page, rounds_of, wrk, Page, Sample};
use crate::report::{fmt_spread, page_row, page_table, round_ratio, Report};
use crate::settings::Settings;

pub fn flask_venv(root: &Path) -> Option<PathBuf> {
    let venv = root.join("target/bench-venv");
    let gunicorn = venv.join("bin/gunicorn");
    if gunicorn.exists() {
        return Some(gunicorn);
    }
    let ok = Command::new("python3")
        .args(["-m", "venv"])
        .arg(&venv)
        .status()
        .is_ok_and(|s| s.success())
        && Command::new(venv.join("bin/pip"))
            .args([
                "install",
                "--quiet",
                "--disable-pip-version-check",
                "flask-mwoauth==0.4.82",
                "gunicorn",
            ])
            .status()
            .is_ok_and(|s| s.success());
    ok.then_some(gunicorn)
}

/// flask-mwoauth under gunicorn with its own consumer on the same wiki,
/// ready and signed in: the process, its base URL and its session cookie.
pub async fn start_flask(
    wiki: &DevWiki,
    gunicorn: &Path,
    root: &Path,
    workers: u32,
    grants: &[String],
) -> Option<(Proc, String, String)> {
    let port = free_port();
    let consumer = wiki.register_consumer(ConsumerSpec {
        name: format!("Bench (flask, {workers} workers)"),
        callback: format!("http://127.0.0.1:{port}/oauth-callback"),
        grants: grants.to_vec(),
        ..Default::default()
    });
    let process = Proc(
        Command::new(gunicorn)
            .args([
                "-w",
                &workers.to_string(),
                "-b",
                &format!("127.0.0.1:{port}"),
                "--log-level",
                "warning",
            ])
            .arg("--chdir")
            .arg(root.join("benches"))
            .arg("flask_app:app")
            .env("WIKI_BASE", wiki.base_url())
            .env("CONSUMER_KEY", &consumer.key)
            .env("CONSUMER_SECRET", &consumer.secret)
            .env("SECRET", "bench-secret-key")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("gunicorn starts"),
    );
    let base = format!("http://127.0.0.1:{port}");
    if !wait_ready(&format!("{base}/bare"), 300).await {
        println!("(gunicorn with {workers} workers did not start)");
        return None;
    }
    let cookie = cookie_after_login(&format!("{base}/login"), &base).await;
    Some((process, base, cookie))
}

/// flask-mwoauth 0.4.82 under gunicorn against our OAuth 1.0a app: the
/// signed-in page, the API proxy page and complete logins.
pub async fn section(s: &Settings, ours: &Ours, rep: &mut Report) {
    let &Settings {
        secs,
        conns,
        rounds,
        ..
    } = s;
    let root = &s.root;
    let (wiki, grants) = (&ours.wiki, &ours.grants);
    let (spec1, port1, base1, cookie1, pid1) = (
        &ours.spec1,
        ours.port1,
        &ours.base1,
        &ours.cookie1,
        ours.pid1,
    );
    match flask_venv(root) {
        None => rep.push("\n(flask-mwoauth could not be installed: its side is skipped)\n"),
        Some(gunicorn) => {
            let mut best: Option<(u32, f64)> = None;
            for workers in [1u32, 2, 4] {
                let Some((g, fbase, fcookie)) =
                    start_flask(wiki, &gunicorn, root, workers, grants).await
                else {
                    continue;
                };
                let s = wrk(&format!("{fbase}/user"), Some(&fcookie), secs, conns);
                println!(
                    "   (flask-mwoauth, {workers} sync workers: {:.0} req/s on the signed-in page)",
                    s.rps
                );
                if best.as_ref().is_none_or(|(_, b)| s.rps > *b) {
                    best = Some((workers, s.rps));
                }
                drop(g);
            }
            if let Some((workers, _)) = best {
                let (g, fbase, fcookie) = start_flask(wiki, &gunicorn, root, workers, grants)
                    .await
                    .expect("gunicorn starts again");
                let gpid = g.0.id();
                let pages = vec![
                    page(
                        "ours, MwUser page (OAuth 1.0a)",
                        format!("{base1}/user"),
                        Some(cookie1),
                        pid1,
                    ),
                    page(
                        &format!("flask-mwoauth signed-in page ({workers} workers)"),
                        format!("{fbase}/user"),
                        Some(&fcookie),
                        gpid,
                    ),
                    page(
                        "ours, signed API proxy page",
                        format!("{base1}/api"),
                        Some(cookie1),
                        pid1,
                    ),
                    page(
                        "flask-mwoauth API proxy page",
                        format!("{fbase}/api"),
                        Some(&fcookie),
                        gpid,
                    ),
                ];
                // Our app was stopped above: start it again for this table.
                let (app1b, _) = start_app(spec1, port1, &wiki.base_url()).await;
                let pages: Vec<Page> = pages
                    .into_iter()
                    .map(|mut p| {
                        if p.pid == pid1 {
                            p.pid = app1b.0.id();
                        }
                        p
                    })
                    .collect();
                let fm = rounds_of(&pages, rounds.min(3), secs, conns);
                let ours_login =
                    logins(&format!("{base1}/login"), "hello Alice", secs, conns, None).await;
                let flask_login =
                    logins(&format!("{fbase}/login"), "hello", secs, conns, None).await;
                let fpeak = tree_kb(gpid, "VmHWM:");
                drop(g);
                drop(app1b);
                rep.push(&format!("\n## flask-mwoauth 0.4.82 under gunicorn (sync workers: the fastest of 1, 2, 4 = {workers}), median of {} interleaved rounds\n\n", rounds.min(3)));
                let mut t = page_table(&pages, &fm);
                t.push_str(&page_row(
                    "ours, complete logins (OAuth 1.0a)",
                    &[Sample {
                        s: ours_login.clone(),
                        cpu_us: f64::NAN,
                    }],
                ));
                t.push_str(&page_row(
                    "flask-mwoauth, complete logins",
                    &[Sample {
                        s: flask_login.clone(),
                        cpu_us: f64::NAN,
                    }],
                ));
                rep.push(&t);
                rep.push(&format!(
                    "\nflask-mwoauth's peak RSS (all processes): {:.1} MB.\n\n",
                    fpeak as f64 / 1024.0
                ));
                let r = round_ratio(&fm[0], &fm[1], |s| s.s.rps);
                rep.goal(
                    "ours / flask, signed-in page",
                    fmt_spread(r, 1),
                    "≥ 10",
                    Some(r.med >= 10.0),
                );
                let r = round_ratio(&fm[2], &fm[3], |s| s.s.rps);
                rep.goal(
                    "ours / flask, API proxy page",
                    fmt_spread(r, 1),
                    "≥ 5",
                    Some(r.med >= 5.0),
                );
                let r = ours_login.rps / flask_login.rps;
                rep.goal(
                    "ours / flask, logins",
                    format!("{r:.1}"),
                    "≥ 5",
                    Some(r >= 5.0),
                );
            }
        }
    }
}
