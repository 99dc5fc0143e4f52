//! The load benchmark: `cargo bench --bench load`.
//!
//! In one run it starts the local wiki, a Rocket app built with the crate (in
//! a child process, release build) and flask-mwoauth 0.4.82 under gunicorn
//! (in a throwaway venv), drives them over loopback with `wrk` (keep-alive,
//! fixed concurrency) and an in-process login driver, and prints requests/s,
//! p50/p99 latency, peak RSS, and the ratios; the table is also written to
//! `target/bench-results/load.md`.
//!
//! Environment: `LOAD_SECONDS` (per run, default 10), `LOAD_ROUNDS` (runs of
//! each page, interleaved; the median is kept; default 3), `LOAD_CONNECTIONS`
//! (default 16), `LEAK_SECONDS` (the no-leak run, default 60),
//! `SKIP_FLASK=1` to skip the Python side, `LOAD_ONLY=/api` to load one page
//! only (to attach a profiler to the app, whose pid is printed).

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use devwiki::{ConsumerSpec, DevWiki, DevWikiConfig};
use rocket::{get, routes, State};
use rocket_mediawiki_oauth::{Error, MwApi, MwOAuth, MwUser};

const SECRET_KEY: &str = "hPRYyVRiMyxpw5sBB1XeCMN1kFsDCqKvBi2QJxBVHQk=";

// ---------------------------------------------------------------- the app

#[get("/bare")]
fn bare() -> &'static str {
    "hello"
}

#[get("/user")]
fn user(user: MwUser) -> String {
    format!("hello {}", user.name)
}

#[get("/maybe")]
fn maybe(user: Option<MwUser>) -> String {
    format!("hello {}", user.map_or("anonymous".to_string(), |u| u.name))
}

#[get("/api")]
async fn api(api: MwApi) -> Result<String, Error> {
    let answer = api
        .request(&[("action", "query"), ("meta", "userinfo")])
        .await?;
    Ok(answer["query"]["userinfo"]["name"]
        .as_str()
        .unwrap_or_default()
        .to_string())
}

struct Plain {
    http: reqwest::Client,
    api: String,
}

/// The same call as `/api`, unsigned (the wiki answers as an anonymous user).
#[get("/api-unsigned")]
async fn api_unsigned(plain: &State<Plain>) -> Result<String, String> {
    let url = format!(
        "{}?action=query&meta=userinfo&format=json&formatversion=2",
        plain.api
    );
    let answer: serde_json::Value = plain
        .http
        .get(url)
        .send()
        .await
        .map_err(|e| e.to_string())?
        .json()
        .await
        .map_err(|e| e.to_string())?;
    Ok(answer["query"]["userinfo"]["name"]
        .as_str()
        .unwrap_or_default()
        .to_string())
}

fn run_app() {
    let env =
        |k: &str| std::env::var(k).unwrap_or_else(|_| panic!("{k} is set by the orchestrator"));
    let port: u16 = env("LOAD_PORT").parse().unwrap();
    let figment = rocket::Config::figment()
        .merge(("address", "127.0.0.1"))
        .merge(("port", port))
        .merge(("log_level", "off"))
        .merge(("secret_key", SECRET_KEY))
        .merge(("mwoauth.base_url", env("LOAD_WIKI_BASE")))
        .merge(("mwoauth.consumer_key", env("LOAD_CONSUMER_KEY")))
        .merge(("mwoauth.consumer_secret", env("LOAD_CONSUMER_SECRET")))
        .merge(("mwoauth.default_return", "/bare"))
        .merge(("mwoauth.user_agent", "rocket_mediawiki_oauth-bench/0"));
    let plain = Plain {
        http: reqwest::Client::builder()
            .user_agent("rocket_mediawiki_oauth-bench/0")
            .build()
            .unwrap(),
        api: format!("{}/api.php", env("LOAD_WIKI_BASE")),
    };
    let rocket = rocket::custom(figment)
        .attach(MwOAuth::fairing())
        .manage(plain)
        .mount("/", routes![bare, user, maybe, api, api_unsigned]);
    let _ = rocket::execute(rocket.launch());
}

// ---------------------------------------------------------------- measuring

#[derive(Debug, Clone, Default)]
struct Stats {
    rps: f64,
    p50_ms: f64,
    p99_ms: f64,
    errors: u64,
    requests: u64,
}

fn parse_duration_ms(s: &str) -> Option<f64> {
    let s = s.trim();
    let (num, factor) = if let Some(n) = s.strip_suffix("us") {
        (n, 0.001)
    } else if let Some(n) = s.strip_suffix("ms") {
        (n, 1.0)
    } else if let Some(n) = s.strip_suffix('s') {
        (n, 1000.0)
    } else {
        return None;
    };
    num.parse::<f64>().ok().map(|v| v * factor)
}

fn wrk(url: &str, cookie: Option<&str>, seconds: u64, connections: u32) -> Stats {
    let mut cmd = Command::new("wrk");
    cmd.args([
        "-t2",
        &format!("-c{connections}"),
        &format!("-d{seconds}s"),
        "--latency",
        "--timeout",
        "10s",
    ]);
    if let Some(c) = cookie {
        cmd.args(["-H", &format!("Cookie: {c}")]);
    }
    let out = cmd.arg(url).output().expect("wrk runs");
    let text = String::from_utf8_lossy(&out.stdout).to_string();
    let mut stats = Stats::default();
    for line in text.lines() {
        let t = line.trim();
        if let Some(v) = t.strip_prefix("Requests/sec:") {
            stats.rps = v.trim().parse().unwrap_or(0.0);
        } else if let Some(v) = t.strip_prefix("50%") {
            stats.p50_ms = parse_duration_ms(v).unwrap_or(f64::NAN);
        } else if let Some(v) = t.strip_prefix("99%") {
            stats.p99_ms = parse_duration_ms(v).unwrap_or(f64::NAN);
        } else if let Some(v) = t.strip_prefix("Non-2xx or 3xx responses:") {
            stats.errors += v.trim().parse::<u64>().unwrap_or(0);
        } else if t.contains("requests in") {
            stats.requests = t
                .split_whitespace()
                .next()
                .and_then(|n| n.parse().ok())
                .unwrap_or(0);
        } else if let Some(v) = t.strip_prefix("Socket errors:") {
            stats.errors += v
                .split(',')
                .filter_map(|p| p.split_whitespace().last()?.parse::<u64>().ok())
                .sum::<u64>();
        }
    }
    stats
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    sorted[((sorted.len() as f64 - 1.0) * p).round() as usize]
}

/// Complete logins per second: `/login` → wiki authorize (approved at once)
/// → callback → identify → landing page, by `connections` browsers at once.
async fn logins(login_url: &str, expect: &str, seconds: u64, connections: u32) -> Stats {
    let deadline = Instant::now() + Duration::from_secs(seconds);
    let mut tasks = Vec::new();
    for _ in 0..connections {
        let url = login_url.to_string();
        let expect = expect.to_string();
        tasks.push(tokio::spawn(async move {
            let client = reqwest::Client::builder()
                .cookie_store(true)
                .build()
                .unwrap();
            let (mut lat, mut errors) = (Vec::new(), 0u64);
            while Instant::now() < deadline {
                let t0 = Instant::now();
                let ok = match client.get(&url).send().await {
                    Ok(r) if r.status().is_success() => {
                        r.text().await.is_ok_and(|b| b.contains(&expect))
                    }
                    _ => false,
                };
                if ok {
                    lat.push(t0.elapsed().as_secs_f64() * 1000.0);
                } else {
                    errors += 1;
                }
            }
            (lat, errors)
        }));
    }
    let started = Instant::now();
    let (mut all, mut errors) = (Vec::new(), 0);
    for t in tasks {
        let (l, e) = t.await.unwrap();
        all.extend(l);
        errors += e;
    }
    let elapsed = started.elapsed().as_secs_f64().max(seconds as f64);
    all.sort_by(|a, b| a.partial_cmp(b).unwrap());
    Stats {
        rps: all.len() as f64 / elapsed,
        p50_ms: percentile(&all, 0.5),
        p99_ms: percentile(&all, 0.99),
        errors,
        requests: all.len() as u64,
    }
}

/// CPU time (user + system) of a process so far, in seconds.
fn cpu_seconds(pid: u32) -> f64 {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    // Fields after the command name (which is in parentheses).
    let rest = stat.rsplit_once(')').map(|(_, r)| r).unwrap_or_default();
    let f: Vec<u64> = rest
        .split_whitespace()
        .filter_map(|x| x.parse().ok())
        .collect();
    // utime and stime are fields 14 and 15 of stat: 12th and 13th after the name and state.
    let ticks = f.get(10).copied().unwrap_or(0) + f.get(11).copied().unwrap_or(0);
    ticks as f64 / 100.0
}

/// Runs `f` and returns its stats with the CPU microseconds per request
/// spent by the app and by the wiki (this process).
fn with_cpu(app_pid: u32, f: impl FnOnce() -> Stats) -> (Stats, f64, f64) {
    let me = std::process::id();
    let (a0, w0) = (cpu_seconds(app_pid), cpu_seconds(me));
    let s = f();
    let (a1, w1) = (cpu_seconds(app_pid), cpu_seconds(me));
    let n = s.requests.max(1) as f64;
    (s, (a1 - a0) * 1e6 / n, (w1 - w0) * 1e6 / n)
}

/// Runs every page `rounds` times, interleaved (each round runs every page
/// once), and keeps each page's median round, so that slow drifts of a shared
/// machine hit all pages alike. Returns stats and CPU µs per request of
/// `pid` and of this process.
fn measure_pages(
    pages: &[(&str, String, Option<&str>)],
    rounds: usize,
    secs: u64,
    conns: u32,
    pid: u32,
) -> Vec<(Stats, f64, f64)> {
    let mut samples: Vec<Vec<(Stats, f64, f64)>> = vec![Vec::new(); pages.len()];
    for _ in 0..rounds.max(1) {
        for (i, (_, url, cookie)) in pages.iter().enumerate() {
            samples[i].push(with_cpu(pid, || wrk(url, *cookie, secs, conns)));
        }
    }
    samples
        .into_iter()
        .map(|mut v| {
            v.sort_by(|a, b| a.0.rps.partial_cmp(&b.0.rps).unwrap());
            v[v.len() / 2].clone()
        })
        .collect()
}

fn proc_kb(pid: u32, field: &str) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with(field))
                .and_then(|l| l.split_whitespace().nth(1)?.parse().ok())
        })
        .unwrap_or(0)
}

fn tree_kb(pid: u32, field: &str) -> u64 {
    let children =
        std::fs::read_to_string(format!("/proc/{pid}/task/{pid}/children")).unwrap_or_default();
    proc_kb(pid, field)
        + children
            .split_whitespace()
            .filter_map(|c| c.parse().ok())
            .map(|c| proc_kb(c, field))
            .sum::<u64>()
}

struct Proc(Child);

impl Drop for Proc {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

async fn wait_ready(url: &str) -> bool {
    let client = reqwest::Client::new();
    for _ in 0..300 {
        if client
            .get(url)
            .send()
            .await
            .is_ok_and(|r| r.status().is_success())
        {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    false
}

async fn cookie_after_login(login: &str, base: &str) -> String {
    let jar = Arc::new(reqwest::cookie::Jar::default());
    let client = reqwest::Client::builder()
        .cookie_provider(jar.clone())
        .build()
        .unwrap();
    let r = client.get(login).send().await.expect("login");
    assert!(r.status().is_success(), "login works: {}", r.status());
    use reqwest::cookie::CookieStore;
    let cookies = jar
        .cookies(&base.parse().unwrap())
        .expect("cookies after login");
    cookies
        .to_str()
        .unwrap()
        .split("; ")
        .filter(|c| !c.starts_with("_flash"))
        .collect::<Vec<_>>()
        .join("; ")
}

fn ensure_wrk() {
    if Command::new("wrk").arg("--version").output().is_ok() {
        return;
    }
    eprintln!("wrk is missing: installing Debian's package (needs root)…");
    let ok = Command::new("sh")
        .args([
            "-c",
            "apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk",
        ])
        .status()
        .is_ok_and(|s| s.success());
    assert!(
        ok,
        "install wrk (apt-get install wrk) to run this benchmark"
    );
}

fn flask_venv(root: &Path) -> Option<PathBuf> {
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
async fn start_flask(
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
    if !wait_ready(&format!("{base}/bare")).await {
        println!("(gunicorn with {workers} workers did not start)");
        return None;
    }
    let cookie = cookie_after_login(&format!("{base}/login"), &base).await;
    Some((process, base, cookie))
}

fn row(name: &str, s: &Stats) -> String {
    format!(
        "| {name} | {:.0} | {:.2} | {:.2} | {} |",
        s.rps, s.p50_ms, s.p99_ms, s.errors
    )
}

async fn orchestrate() {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let secs: u64 = std::env::var("LOAD_SECONDS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(10);
    let conns: u32 = std::env::var("LOAD_CONNECTIONS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(16);
    let rounds: usize = std::env::var("LOAD_ROUNDS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(3);
    let leak_secs: u64 = std::env::var("LEAK_SECONDS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(60);
    ensure_wrk();

    let wiki = DevWiki::start(DevWikiConfig {
        auto_approve: Some("Alice".into()),
        ..DevWikiConfig::default()
    })
    .await
    .expect("the local wiki starts");
    let grants = vec![
        "basic".to_string(),
        "editpage".to_string(),
        "highvolume".to_string(),
    ];
    let app_port = free_port();
    let ours = wiki.register_consumer(ConsumerSpec {
        name: "Bench (Rust)".into(),
        callback: format!("http://127.0.0.1:{app_port}/oauth-callback"),
        grants: grants.clone(),
        ..Default::default()
    });

    // Our app, in its own process like gunicorn's workers.
    let exe = std::env::current_exe().unwrap();
    let app = Proc(
        Command::new(exe)
            .env("LOAD_ROLE", "app")
            .env("LOAD_PORT", app_port.to_string())
            .env("LOAD_WIKI_BASE", wiki.base_url())
            .env("LOAD_CONSUMER_KEY", &ours.key)
            .env("LOAD_CONSUMER_SECRET", &ours.secret)
            .stdout(Stdio::null())
            .spawn()
            .expect("the app starts"),
    );
    let app_pid = app.0.id();
    let base = format!("http://127.0.0.1:{app_port}");
    assert!(
        wait_ready(&format!("{base}/bare")).await,
        "the app is ready"
    );
    let cookie = cookie_after_login(&format!("{base}/login"), &base).await;
    let check = reqwest::Client::new()
        .get(format!("{base}/api"))
        .header("Cookie", &cookie)
        .send()
        .await
        .unwrap();
    assert_eq!(
        check.text().await.unwrap(),
        "Alice",
        "the signed API call works before measuring"
    );

    println!("\nrocket_mediawiki_oauth load benchmark: {secs} s per scenario, {conns} connections, loopback, release build\n");
    let mut results: Vec<(String, Stats)> = Vec::new();
    let mut run = |name: &str, s: Stats| {
        println!("{}", row(name, &s));
        results.push((name.to_string(), s.clone()));
        s
    };
    let rss_start = proc_kb(app_pid, "VmRSS:");
    let pages: Vec<(&str, String, Option<&str>)> = vec![
        ("1. bare route", format!("{base}/bare"), None),
        (
            "2. MwUser (signed in)",
            format!("{base}/user"),
            Some(cookie.as_str()),
        ),
        (
            "3. Option<MwUser> (anonymous)",
            format!("{base}/maybe"),
            None,
        ),
        (
            "4. MwApi userinfo (signed)",
            format!("{base}/api"),
            Some(cookie.as_str()),
        ),
        (
            "4. same call unsigned (plain reqwest)",
            format!("{base}/api-unsigned"),
            None,
        ),
    ];
    if let Ok(only) = std::env::var("LOAD_ONLY") {
        // Profiling aid: load one page only (e.g. LOAD_ONLY=/api) and stop;
        // attach a profiler to the app process meanwhile.
        println!("app pid {app_pid}: loading {only} only");
        for (name, url, cookie) in pages.iter().filter(|p| p.1.ends_with(&only)) {
            println!("{}", row(name, &wrk(url, *cookie, secs, conns)));
        }
        return;
    }
    let medians = measure_pages(&pages, rounds, secs, conns, app_pid);
    let r1 = run(pages[0].0, medians[0].0.clone());
    let r2 = run(pages[1].0, medians[1].0.clone());
    let r3 = run(pages[2].0, medians[2].0.clone());
    let (r4s, app_cpu_s, wiki_cpu_s) = medians[3].clone();
    let r4s = run(pages[3].0, r4s);
    let (r4u, app_cpu_u, wiki_cpu_u) = medians[4].clone();
    let r4u = run(pages[4].0, r4u);
    let r5 = run(
        "5. complete logins",
        logins(&format!("{base}/login"), "hello", secs, conns).await,
    );
    let peak_kb = proc_kb(app_pid, "VmHWM:");

    // No leak: RSS after a long run of signed pages and API calls.
    let rss_before = proc_kb(app_pid, "VmRSS:");
    let half = (leak_secs / 2).max(1);
    let _ = wrk(&format!("{base}/api"), Some(&cookie), half, conns);
    let rss_mid = proc_kb(app_pid, "VmRSS:");
    let _ = wrk(
        &format!("{base}/user"),
        Some(&cookie),
        leak_secs - half,
        conns,
    );
    let rss_after = proc_kb(app_pid, "VmRSS:");
    let peak_after_kb = proc_kb(app_pid, "VmHWM:");
    drop(app);

    // flask-mwoauth under gunicorn, same wiki, same load.
    let mut flask: Option<(u32, Stats, Stats, Stats, Stats, u64)> = None;
    if std::env::var("SKIP_FLASK").is_err() {
        match flask_venv(&root) {
            None => println!("(flask-mwoauth could not be installed: its side is skipped)"),
            Some(gunicorn) => {
                let mut best: Option<(u32, Stats)> = None;
                for workers in [1u32, 2, 4] {
                    let Some((g, fbase, fcookie)) =
                        start_flask(&wiki, &gunicorn, &root, workers, &grants).await
                    else {
                        continue;
                    };
                    let s = wrk(
                        &format!("{fbase}/user"),
                        Some(&fcookie),
                        (secs / 2).max(2),
                        conns,
                    );
                    println!("   (flask-mwoauth, {workers} sync workers: {:.0} req/s on the signed-in page)", s.rps);
                    if best.as_ref().is_none_or(|(_, b)| s.rps > b.rps) {
                        best = Some((workers, s));
                    }
                    drop(g);
                }
                if let Some((workers, _)) = best {
                    let (g, fbase, fcookie) =
                        start_flask(&wiki, &gunicorn, &root, workers, &grants)
                            .await
                            .expect("gunicorn starts again");
                    let fpages: Vec<(&str, String, Option<&str>)> = vec![
                        ("6. flask bare route", format!("{fbase}/bare"), None),
                        (
                            "6. flask signed-in page",
                            format!("{fbase}/user"),
                            Some(fcookie.as_str()),
                        ),
                        (
                            "6. flask API proxy page",
                            format!("{fbase}/api"),
                            Some(fcookie.as_str()),
                        ),
                    ];
                    let fm = measure_pages(&fpages, rounds, secs, conns, g.0.id());
                    let f1 = run(
                        &format!("{} ({workers} workers)", fpages[0].0),
                        fm[0].0.clone(),
                    );
                    let f2 = run(fpages[1].0, fm[1].0.clone());
                    let f4 = run(fpages[2].0, fm[2].0.clone());
                    let f5 = run(
                        "6. flask complete logins",
                        logins(&format!("{fbase}/login"), "hello", secs, conns).await,
                    );
                    let fpeak = tree_kb(g.0.id(), "VmHWM:");
                    flask = Some((workers, f1, f2, f4, f5, fpeak));
                    drop(g);
                }
            }
        }
    }
    wiki.shutdown().await;

    let mut out = String::new();
    out.push_str(&format!(
        "# Load benchmark\n\n{conns} keep-alive connections (wrk -t2), loopback, 2-core machine, release build; pages: median of {rounds} interleaved runs of {secs} s each; logins: one run of {secs} s.\n\n"
    ));
    out.push_str("| scenario | req/s | p50 ms | p99 ms | errors |\n|---|---|---|---|---|\n");
    for (name, s) in &results {
        out.push_str(&row(name, s));
        out.push('\n');
    }
    let ratio = |a: f64, b: f64| if b > 0.0 { a / b } else { f64::NAN };
    out.push_str("\n| ratio | value | goal |\n|---|---|---|\n");
    out.push_str(&format!(
        "| 2/1 MwUser page / bare route | {:.2} | ≥ 0.90 |\n",
        ratio(r2.rps, r1.rps)
    ));
    out.push_str(&format!(
        "| 3/1 Option<MwUser> anonymous / bare | {:.2} | |\n",
        ratio(r3.rps, r1.rps)
    ));
    out.push_str(&format!(
        "| 4 signed / unsigned API call | {:.2} | ≥ 0.90 |\n",
        ratio(r4s.rps, r4u.rps)
    ));
    out.push_str(&format!(
        "| 4 CPU per call, app: signed / unsigned (µs) | {app_cpu_s:.0} / {app_cpu_u:.0} | |\n\
         | 4 CPU per call, local wiki: signed / unsigned (µs) | {wiki_cpu_s:.0} / {wiki_cpu_u:.0} | |\n"
    ));
    if let Some((workers, _f1, f2, f4, f5, fpeak)) = &flask {
        out.push_str(&format!(
            "| ours/flask, signed-in page (2) | {:.1} | ≥ 10 |\n",
            ratio(r2.rps, f2.rps)
        ));
        out.push_str(&format!(
            "| ours/flask, API proxy page (4) | {:.1} | ≥ 5 |\n",
            ratio(r4s.rps, f4.rps)
        ));
        out.push_str(&format!(
            "| ours/flask, logins (5) | {:.1} | ≥ 5 |\n",
            ratio(r5.rps, f5.rps)
        ));
        out.push_str(&format!(
            "| our p99 < flask p50: page / API / login | {} / {} / {} | yes |\n",
            r2.p99_ms < f2.p50_ms,
            r4s.p99_ms < f4.p50_ms,
            r5.p99_ms < f5.p50_ms
        ));
        out.push_str(&format!("\nflask-mwoauth 0.4.82 ran on gunicorn with {workers} sync workers (the fastest of 1, 2, 4); its peak RSS (all processes): {:.1} MB.\n", *fpeak as f64 / 1024.0));
    }
    out.push_str(&format!(
        "\nOur app's peak RSS (VmHWM) after the scenarios: {:.1} MB (goal < 50 MB); at start {:.1} MB.\n\
         No-leak run ({leak_secs} s of signed API calls then signed pages): RSS {:.1} MB before, {:.1} MB midway, {:.1} MB after; peak {:.1} MB.\n",
        peak_kb as f64 / 1024.0,
        rss_start as f64 / 1024.0,
        rss_before as f64 / 1024.0,
        rss_mid as f64 / 1024.0,
        rss_after as f64 / 1024.0,
        peak_after_kb as f64 / 1024.0,
    ));
    println!("\n{out}");
    let dir = root.join("target/bench-results");
    let _ = std::fs::create_dir_all(&dir);
    let _ = std::fs::write(dir.join("load.md"), &out);
    println!("(written to {})", dir.join("load.md").display());
}

fn main() {
    if std::env::var("LOAD_ROLE").as_deref() == Ok("app") {
        return run_app();
    }
    if std::env::args().any(|a| a == "--list") {
        // `cargo test --benches` asks harness-less benches to list themselves.
        return;
    }
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(orchestrate());
}
