//! The load benchmark: `cargo bench --bench load`.
//!
//! In one run it starts the local wiki, a Rocket app built with the crate (in
//! a child process, release build) and flask-mwoauth 0.4.82 under gunicorn
//! (in a throwaway venv), drives them over loopback with `wrk` (keep-alive,
//! fixed concurrency) and an in-process login driver, and prints requests/s,
//! p50/p99 latency, peak RSS, and the ratios; the table is also written to
//! `target/bench-results/load.md`.
//!
//! It also measures our app's CPU per API call (signed, Bearer, unsigned),
//! instructions per request under `valgrind --tool=callgrind`, 100,000
//! distinct users, 1 to 512 connections, 1,000 OAuth 2.0 logins and token
//! expiries at once, and two Rust peers (`benches/peers`, built in
//! `target/bench-peers`); it writes `benches/RESULTS.md`.
//!
//! Environment: `LOAD_SECONDS` (per run, default 3), `LOAD_API_SECONDS`
//! (default 4), `LOAD_ROUNDS` (interleaved rounds, default 5),
//! `LOAD_API_RATE`, `LOAD_PAGE_RATE` and `LOAD_LOGIN_RATE` (the open-loop
//! runs' requests or logins per second, defaults 1000, 4000 and 200),
//! `LOAD_CONNECTIONS` (default 16), `LEAK_SECONDS` (default 20),
//! `SCALE_USERS`, `SCALE_SECONDS`, `EXPIRY_USERS`, `TOKEN_LIFETIME`,
//! `CALLGRIND_N1`/`CALLGRIND_N2`; `SKIP_FLASK=1`, `SKIP_PEERS=1`,
//! `SKIP_SCALE=1`, `SKIP_CALLGRIND=1` skip the slow parts.

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
    let mut figment = rocket::Config::figment()
        .merge(("address", "127.0.0.1"))
        .merge(("port", port))
        .merge(("log_level", "off"))
        .merge(("secret_key", SECRET_KEY))
        .merge(("mwoauth.base_url", env("LOAD_WIKI_BASE")))
        .merge(("mwoauth.default_return", "/maybe"))
        .merge((
            "mwoauth.user_agent",
            "rocket_mediawiki_oauth-bench/0 (https://example.org/bench)",
        ));
    figment = if std::env::var("LOAD_OAUTH").as_deref() == Ok("2") {
        figment
            .merge(("mwoauth.oauth_version", 2))
            .merge(("mwoauth.client_id", env("LOAD_CONSUMER_KEY")))
            .merge(("mwoauth.client_secret", env("LOAD_CONSUMER_SECRET")))
            .merge(("mwoauth.callback", env("LOAD_CALLBACK")))
    } else {
        figment
            .merge(("mwoauth.consumer_key", env("LOAD_CONSUMER_KEY")))
            .merge(("mwoauth.consumer_secret", env("LOAD_CONSUMER_SECRET")))
    };
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
    /// Open-loop runs: requests sent more than one period after their time.
    late: u64,
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
        &format!("-t{}", connections.clamp(1, 2)),
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
/// → callback → identify → landing page, by `connections` browsers at once,
/// each starting its next login when the last one landed (`rate` `None`:
/// saturated) or on its own schedule, `rate` logins per second in all (open
/// loop, as [`paced`]).
async fn logins(
    login_url: &str,
    expect: &str,
    seconds: u64,
    connections: u32,
    rate: Option<f64>,
) -> Stats {
    let connections = connections.max(1);
    let start = tokio::time::Instant::now() + Duration::from_millis(50);
    let end = start + Duration::from_secs(seconds);
    let period = rate.map(|r| Duration::from_secs_f64(f64::from(connections) / r));
    let mut tasks = Vec::new();
    for i in 0..connections {
        let url = login_url.to_string();
        let expect = expect.to_string();
        tasks.push(tokio::spawn(async move {
            let client = reqwest::Client::builder()
                .cookie_store(true)
                .build()
                .unwrap();
            let (mut lat, mut errors, mut late) = (Vec::new(), 0u64, 0u64);
            let mut due = start
                + period.map_or(Duration::ZERO, |p| {
                    p.mul_f64(f64::from(i) / f64::from(connections))
                });
            tokio::time::sleep_until(due).await;
            while tokio::time::Instant::now() < end && due < end {
                if let Some(p) = period {
                    tokio::time::sleep_until(due).await;
                    if tokio::time::Instant::now().saturating_duration_since(due) > p {
                        late += 1;
                    }
                    due += p;
                }
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
            (lat, errors, late)
        }));
    }
    let (all, errors, late) = gather(tasks).await;
    let elapsed = (tokio::time::Instant::now() - start)
        .as_secs_f64()
        .max(seconds as f64);
    Stats {
        rps: all.len() as f64 / elapsed,
        p50_ms: percentile(&all, 0.5),
        p99_ms: percentile(&all, 0.99),
        errors,
        requests: all.len() as u64,
        late,
    }
}

/// What the connections of [`logins`] or [`paced`] measured, together: the
/// latencies (sorted, ms), the errors and the requests sent late.
async fn gather(tasks: Vec<tokio::task::JoinHandle<(Vec<f64>, u64, u64)>>) -> (Vec<f64>, u64, u64) {
    let (mut all, mut errors, mut late) = (Vec::new(), 0, 0);
    for t in tasks {
        let (l, e, n) = t.await.unwrap();
        all.extend(l);
        errors += e;
        late += n;
    }
    all.sort_by(|a, b| a.partial_cmp(b).unwrap());
    (all, errors, late)
}

/// Requests at a fixed rate (open loop, as `wrk2` does): `rate` per second
/// over `conns` keep-alive connections for `seconds`, each connection on its
/// own schedule. Every page then gets the same offered load, so the app's
/// CPU per request and its latency compare like for like: what a request
/// costs depends on how busy the app's threads are (parking and waking them
/// costs CPU of its own), and at saturation (wrk) pages of different speeds
/// keep them busy to different degrees.
///
/// Latency is measured from the moment a request is sent. Requests sent
/// more than one period late (the connection fell behind its schedule) are
/// counted: more than 1% of them and the rate was too high for the page (or
/// the client), and the run does not pass for a paced one ([`valid`]).
async fn paced(url: &str, cookie: Option<&str>, rate: f64, seconds: u64, conns: u32) -> Stats {
    let conns = conns.max(1);
    let period = Duration::from_secs_f64(f64::from(conns) / rate);
    let start = tokio::time::Instant::now() + Duration::from_millis(50);
    let end = start + Duration::from_secs(seconds);
    let mut tasks = Vec::new();
    for i in 0..conns {
        let url = url.to_string();
        let cookie = cookie.map(str::to_string);
        tasks.push(tokio::spawn(async move {
            let client = reqwest::Client::builder()
                .pool_max_idle_per_host(1)
                .build()
                .unwrap();
            let (mut lat, mut errors, mut late) = (Vec::new(), 0u64, 0u64);
            let mut due = start + period.mul_f64(f64::from(i) / f64::from(conns));
            while due < end {
                tokio::time::sleep_until(due).await;
                if tokio::time::Instant::now().saturating_duration_since(due) > period {
                    late += 1;
                }
                let mut request = client.get(&url);
                if let Some(c) = &cookie {
                    request = request.header("Cookie", c);
                }
                let t0 = Instant::now();
                let ok = match request.send().await {
                    Ok(r) if r.status().is_success() => r.bytes().await.is_ok(),
                    _ => false,
                };
                if ok {
                    lat.push(t0.elapsed().as_secs_f64() * 1000.0);
                } else {
                    errors += 1;
                }
                due += period;
            }
            (lat, errors, late)
        }));
    }
    let (all, errors, late) = gather(tasks).await;
    let requests = all.len() as u64 + errors;
    Stats {
        rps: all.len() as f64 / seconds as f64,
        p50_ms: percentile(&all, 0.5),
        p99_ms: percentile(&all, 0.99),
        errors,
        requests,
        late,
    }
}

/// Complete logins at each of `urls` (served by `pages[k].pid`), `rounds`
/// rounds, each round rotating which one goes first: `samples[k][round]`.
async fn login_rounds(
    pages: &[Page],
    urls: &[String],
    rounds: usize,
    secs: u64,
    conns: u32,
    rate: Option<f64>,
) -> Vec<Vec<Sample>> {
    let mut samples = vec![Vec::new(); urls.len()];
    for round in 0..rounds {
        for j in 0..urls.len() {
            let k = (round + j) % urls.len();
            let c0 = cpu_seconds(pages[k].pid);
            let s = logins(&urls[k], "hello Alice", secs, conns, rate).await;
            samples[k].push(sample_since(pages[k].pid, c0, s));
        }
    }
    samples
}

/// The goal row of ours against a peer: the saturated req/s ratio, and the
/// p99 at one offered load (and saturated) with `digits` decimals; met when
/// ours is at least as fast and its open-loop p99 lower, every run valid.
fn peer_goal(
    rep: &mut Report,
    what: &str,
    saturated: [&[Sample]; 2],
    paced: [&[Sample]; 2],
    digits: usize,
) {
    let r = round_ratio(saturated[0], saturated[1], |s| s.s.rps);
    let p99 = paced.map(|x| over(x, |s| s.s.p99_ms));
    let p99_sat = saturated.map(|x| over(x, |s| s.s.p99_ms));
    rep.goal(
        what,
        format!(
            "{} (p99 {} vs {}; saturated {} vs {})",
            fmt_spread(r, 2),
            fmt_spread(p99[0], digits),
            fmt_spread(p99[1], digits),
            fmt_spread(p99_sat[0], digits),
            fmt_spread(p99_sat[1], digits)
        ),
        "≥ 1.0, lower p99",
        Some(
            r.med >= 1.0
                && p99[0].med < p99[1].med
                && saturated.iter().chain(&paced).all(|x| valid(x)),
        ),
    );
}

/// Whether the runs of a page had no errors and kept their schedule (at
/// most 1% of requests late; always so for saturated runs).
fn valid(samples: &[Sample]) -> bool {
    samples
        .iter()
        .all(|x| x.s.errors == 0 && x.s.late * 100 <= x.s.requests)
}

/// [`rounds_of`] at a fixed offered load ([`paced`]).
async fn paced_rounds_of(
    pages: &[Page],
    rounds: usize,
    secs: u64,
    rate: f64,
    conns: u32,
) -> Vec<Vec<Sample>> {
    let mut samples = vec![Vec::new(); pages.len()];
    for _ in 0..rounds.max(1) {
        for (i, p) in pages.iter().enumerate() {
            let c0 = cpu_seconds(p.pid);
            let s = paced(&p.url, p.cookie.as_deref(), rate, secs, conns).await;
            samples[i].push(sample_since(p.pid, c0, s));
        }
    }
    samples
}

/// CPU time (user + system) of a process and its children (gunicorn's
/// workers) so far, in seconds.
fn cpu_seconds(pid: u32) -> f64 {
    let children =
        std::fs::read_to_string(format!("/proc/{pid}/task/{pid}/children")).unwrap_or_default();
    own_cpu_seconds(pid)
        + children
            .split_whitespace()
            .filter_map(|c| c.parse().ok())
            .map(own_cpu_seconds)
            .sum::<f64>()
}

/// CPU time (user + system) of one process so far, in seconds.
fn own_cpu_seconds(pid: u32) -> f64 {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    // Fields after the command name (which is in parentheses).
    let rest = stat.rsplit_once(')').map(|(_, r)| r).unwrap_or_default();
    // By position: skipping what does not parse as u64 would also skip a
    // `tpgid` of -1 (no terminal) and shift utime/stime by one.
    let f: Vec<&str> = rest.split_whitespace().collect();
    // utime and stime are fields 14 and 15 of stat: the 12th and 13th after
    // the name (state is the 1st).
    let field = |i: usize| f.get(i).and_then(|x| x.parse::<u64>().ok()).unwrap_or(0);
    let ticks = field(11) + field(12);
    ticks as f64 / 100.0
}

/// One measured run of a page: its stats and the app's CPU µs per request
/// (user + system time of the app process, from `/proc/<pid>/stat`).
#[derive(Debug, Clone, Default)]
struct Sample {
    s: Stats,
    cpu_us: f64,
}

/// A run's sample: its stats and the CPU `pid` used per request since `c0`
/// (a reading of [`cpu_seconds`] taken just before the run).
fn sample_since(pid: u32, c0: f64, s: Stats) -> Sample {
    let cpu_us = (cpu_seconds(pid) - c0) * 1e6 / s.requests.max(1) as f64;
    Sample { s, cpu_us }
}

/// A page to load: where, with which `Cookie` header, served by which process.
#[derive(Debug, Clone)]
struct Page {
    name: String,
    url: String,
    cookie: Option<String>,
    pid: u32,
}

fn page(name: &str, url: String, cookie: Option<&str>, pid: u32) -> Page {
    Page {
        name: name.to_string(),
        url,
        cookie: cookie.map(str::to_string),
        pid,
    }
}

/// Runs every page once per round, `rounds` rounds (interleaved, so that slow
/// drifts of a shared machine hit all pages alike): `samples[page][round]`.
fn rounds_of(pages: &[Page], rounds: usize, secs: u64, conns: u32) -> Vec<Vec<Sample>> {
    let mut samples = vec![Vec::new(); pages.len()];
    for _ in 0..rounds.max(1) {
        for (i, p) in pages.iter().enumerate() {
            let c0 = cpu_seconds(p.pid);
            let s = wrk(&p.url, p.cookie.as_deref(), secs, conns);
            samples[i].push(sample_since(p.pid, c0, s));
        }
    }
    samples
}

fn median(v: &[f64]) -> f64 {
    let mut v: Vec<f64> = v.iter().copied().filter(|x| x.is_finite()).collect();
    if v.is_empty() {
        return f64::NAN;
    }
    v.sort_by(|a, b| a.partial_cmp(b).unwrap());
    let n = v.len();
    if n % 2 == 1 {
        v[n / 2]
    } else {
        (v[n / 2 - 1] + v[n / 2]) / 2.0
    }
}

fn min_max(v: &[f64]) -> (f64, f64) {
    v.iter()
        .filter(|x| x.is_finite())
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), x| {
            (lo.min(*x), hi.max(*x))
        })
}

/// Median and spread (min–max) of `f` over a page's rounds.
#[derive(Debug, Clone, Copy)]
struct Spread {
    med: f64,
    lo: f64,
    hi: f64,
}

fn spread_of(v: &[f64]) -> Spread {
    let (lo, hi) = min_max(v);
    Spread {
        med: median(v),
        lo,
        hi,
    }
}

fn over(samples: &[Sample], f: impl Fn(&Sample) -> f64) -> Spread {
    spread_of(&samples.iter().map(f).collect::<Vec<_>>())
}

/// Per-round ratio `f(a[i]) / f(b[i])` (the rounds are interleaved, so each
/// pair ran side by side): median and spread.
fn round_ratio(a: &[Sample], b: &[Sample], f: impl Fn(&Sample) -> f64) -> Spread {
    spread_of(
        &a.iter()
            .zip(b)
            .map(|(x, y)| f(x) / f(y))
            .collect::<Vec<_>>(),
    )
}

fn fmt_spread(s: Spread, digits: usize) -> String {
    if !s.med.is_finite() {
        return "—".into();
    }
    format!("{:.d$} ({:.d$}–{:.d$})", s.med, s.lo, s.hi, d = digits)
}

const PAGE_HEADER: &str = "| scenario | req/s median (min–max) | p50 ms | p99 ms | app CPU µs/req median (min–max) | errors |\n|---|---|---|---|---|---|\n";

fn page_row(name: &str, samples: &[Sample]) -> String {
    format!(
        "| {name} | {} | {:.2} | {:.2} | {} | {} |\n",
        fmt_spread(over(samples, |s| s.s.rps), 0),
        over(samples, |s| s.s.p50_ms).med,
        over(samples, |s| s.s.p99_ms).med,
        fmt_spread(over(samples, |s| s.cpu_us), 1),
        errors_cell(samples),
    )
}

/// The errors of a page's runs, and how many requests went out late in its
/// open-loop runs.
fn errors_cell(samples: &[Sample]) -> String {
    let errors = samples.iter().map(|s| s.s.errors).sum::<u64>();
    match samples.iter().map(|s| s.s.late).sum::<u64>() {
        0 => errors.to_string(),
        late => format!("{errors} ({late} sent late)"),
    }
}

/// The results file as it grows: printed as it goes.
#[derive(Default)]
struct Report {
    body: String,
    goals: Vec<(String, String, String, Option<bool>)>,
}

impl Report {
    fn push(&mut self, text: &str) {
        print!("{text}");
        self.body.push_str(text);
    }

    /// A figure against a goal; `met` is `None` for a figure that is only recorded.
    fn goal(&mut self, what: &str, value: String, goal: &str, met: Option<bool>) {
        let mark = match met {
            Some(true) => "met",
            Some(false) => "MISSED",
            None => "",
        };
        println!("  -> {what}: {value} (goal {goal}) {mark}");
        self.goals
            .push((what.to_string(), value, goal.to_string(), met));
    }

    fn goals_table(&self) -> String {
        let mut t = String::from("| figure | value | goal | |\n|---|---|---|---|\n");
        for (what, value, goal, met) in &self.goals {
            let mark = match met {
                Some(true) => "met",
                Some(false) => "**missed**",
                None => "(recorded)",
            };
            t.push_str(&format!("| {what} | {value} | {goal} | {mark} |\n"));
        }
        t
    }
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

async fn wait_ready(url: &str, tries: u32) -> bool {
    let client = reqwest::Client::new();
    for _ in 0..tries {
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
    if !wait_ready(&format!("{base}/bare"), 300).await {
        println!("(gunicorn with {workers} workers did not start)");
        return None;
    }
    let cookie = cookie_after_login(&format!("{base}/login"), &base).await;
    Some((process, base, cookie))
}

// ---------------------------------------------------------------- processes

/// How to start one of our apps: its environment.
#[derive(Clone)]
struct AppSpec {
    oauth: u8,
    key: String,
    secret: String,
    callback: Option<String>,
}

fn app_command(wrapper: Option<&[String]>, spec: &AppSpec, port: u16, wiki: &DevWiki) -> Command {
    let exe = std::env::current_exe().unwrap();
    let mut cmd = match wrapper {
        Some(w) => {
            let mut c = Command::new(&w[0]);
            c.args(&w[1..]).arg(exe);
            c
        }
        None => Command::new(exe),
    };
    cmd.env("LOAD_ROLE", "app")
        .env("LOAD_OAUTH", spec.oauth.to_string())
        .env("LOAD_PORT", port.to_string())
        .env("LOAD_WIKI_BASE", wiki.base_url())
        .env("LOAD_CONSUMER_KEY", &spec.key)
        .env("LOAD_CONSUMER_SECRET", &spec.secret)
        .env(
            "LOAD_CALLBACK",
            spec.callback
                .clone()
                .unwrap_or_else(|| format!("http://127.0.0.1:{port}/oauth-callback")),
        )
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    cmd
}

/// Starts one of our apps (release build, own process) on `port`: the
/// process and its base URL, once it answers.
async fn start_app(spec: &AppSpec, port: u16, wiki: &DevWiki) -> (Proc, String) {
    let app = Proc(
        app_command(None, spec, port, wiki)
            .spawn()
            .expect("the app starts"),
    );
    let base = format!("http://127.0.0.1:{port}");
    assert!(
        wait_ready(&format!("{base}/bare"), 300).await,
        "the app is ready"
    );
    (app, base)
}

fn env_or<T: std::str::FromStr>(k: &str, default: T) -> T {
    std::env::var(k)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn skip(k: &str) -> bool {
    std::env::var(k).is_ok_and(|v| !v.is_empty() && v != "0")
}

/// `n` requests one after the other on one keep-alive connection; how many
/// answered 2xx.
async fn sequential(client: &reqwest::Client, url: &str, cookie: Option<&str>, n: usize) -> usize {
    let mut ok = 0;
    for _ in 0..n {
        let mut r = client.get(url);
        if let Some(c) = cookie {
            r = r.header("Cookie", c);
        }
        if let Ok(resp) = r.send().await {
            if resp.status().is_success() && resp.bytes().await.is_ok() {
                ok += 1;
            }
        }
    }
    ok
}

// ---------------------------------------------------------------- callgrind

/// The `summary:`/`totals:` instruction count of a callgrind dump.
fn callgrind_total(path: &Path) -> Option<f64> {
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
async fn instructions_per_request(
    spec: &AppSpec,
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
    let app = Proc(app_command(Some(&wrapper), spec, port, wiki).spawn().ok()?);
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
fn top_functions(path: &Path, n: usize, names: &[&str], max: usize) -> Vec<(String, f64)> {
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

// ---------------------------------------------------------------- scale

/// A session cookie (`name=value`) for a user who never signed in through
/// this app: the record the crate writes (see `benches/micro.rs`),
/// encrypted with the app's `secret_key` like Rocket's private cookies.
fn forged_session(key: &cookie::Key, n: usize, now: i64) -> String {
    let record = format!(
        r#"{{"v":1,"cr":{{"p":"o1","k":"{n:032x}","s":"e1125fdb4e24e12afcfab46333c48c52c13f4f41"}},"u":{{"n":"Scale user {n}","i":{n},"e":{e},"b":false,"c":true,"r":"20100101000000","g":["*","user","autoconfirmed"],"gr":["basic","editpage","highvolume"]}},"at":{now}}}"#,
        e = n % 5000
    );
    let mut jar = cookie::CookieJar::new();
    jar.private_mut(key)
        .add(cookie::Cookie::new("mwoauth_session", record));
    format!(
        "mwoauth_session={}",
        jar.get("mwoauth_session").unwrap().value()
    )
}

struct ScaleRun {
    users: usize,
    requests: u64,
    errors: u64,
    rps: f64,
    /// (requests done, RSS kB) samples.
    rss: Vec<(u64, u64)>,
    peak_kb: u64,
}

/// `users` distinct signed-in users, `cycles` times each in turn, by `conns`
/// connections at once (bounded by `secs`).
async fn many_users(
    base: &str,
    pid: u32,
    users: usize,
    cycles: usize,
    secs: u64,
    conns: usize,
) -> ScaleRun {
    use base64::Engine;
    let master = base64::engine::general_purpose::STANDARD
        .decode(SECRET_KEY)
        .unwrap();
    let key = cookie::Key::derive_from(&master);
    let now = time::OffsetDateTime::now_utc().unix_timestamp();
    let cookies: Arc<Vec<String>> =
        Arc::new((0..users).map(|n| forged_session(&key, n, now)).collect());
    let total = (users * cycles) as u64;
    let next = Arc::new(std::sync::atomic::AtomicU64::new(0));
    let errors = Arc::new(std::sync::atomic::AtomicU64::new(0));
    let done = Arc::new(std::sync::atomic::AtomicU64::new(0));
    let deadline = Instant::now() + Duration::from_secs(secs);
    let started = Instant::now();
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(conns)
        .build()
        .unwrap();
    let url = format!("{base}/user");
    let mut tasks = Vec::new();
    for _ in 0..conns {
        let (cookies, next, errors, done, client, url) = (
            cookies.clone(),
            next.clone(),
            errors.clone(),
            done.clone(),
            client.clone(),
            url.clone(),
        );
        tasks.push(tokio::spawn(async move {
            use std::sync::atomic::Ordering::Relaxed;
            loop {
                let i = next.fetch_add(1, Relaxed);
                if i >= total || Instant::now() > deadline {
                    break;
                }
                let n = (i as usize) % cookies.len();
                let ok = match client.get(&url).header("Cookie", &cookies[n]).send().await {
                    Ok(r) if r.status().is_success() => r
                        .text()
                        .await
                        .is_ok_and(|b| b == format!("hello Scale user {n}")),
                    _ => false,
                };
                if !ok {
                    errors.fetch_add(1, Relaxed);
                }
                done.fetch_add(1, Relaxed);
            }
        }));
    }
    let sampler = {
        let done = done.clone();
        tokio::spawn(async move {
            let mut rss = Vec::new();
            let limit = Instant::now() + Duration::from_secs(secs + 5);
            while Instant::now() < limit {
                let d = done.load(std::sync::atomic::Ordering::Relaxed);
                rss.push((d, proc_kb(pid, "VmRSS:")));
                if d >= total {
                    break;
                }
                tokio::time::sleep(Duration::from_millis(200)).await;
            }
            rss
        })
    };
    for t in tasks {
        let _ = t.await;
    }
    let elapsed = started.elapsed().as_secs_f64();
    let mut rss = sampler.await.unwrap_or_default();
    let d = done.load(std::sync::atomic::Ordering::Relaxed);
    rss.push((d, proc_kb(pid, "VmRSS:")));
    ScaleRun {
        users,
        requests: d,
        errors: errors.load(std::sync::atomic::Ordering::Relaxed),
        rps: d as f64 / elapsed,
        rss,
        peak_kb: proc_kb(pid, "VmHWM:"),
    }
}

/// A browser of one user: a client with its own cookie jar (cookies are per
/// host, so two instances on two ports of 127.0.0.1 share them, as two
/// instances behind one name would).
fn browser() -> reqwest::Client {
    reqwest::Client::builder()
        .cookie_store(true)
        .timeout(Duration::from_secs(120))
        .build()
        .unwrap()
}

async fn body_of(client: &reqwest::Client, url: &str) -> Option<String> {
    let r = client.get(url).send().await.ok()?;
    if !r.status().is_success() {
        return None;
    }
    r.text().await.ok()
}

/// `n` OAuth 2.0 logins at once, half starting on each instance (both send
/// the callback of `b`), then checked on both: the signed-in browsers, and the time taken.
async fn logins_at_once(a: &str, b: &str, n: usize) -> (Vec<reqwest::Client>, usize, f64) {
    let started = Instant::now();
    let mut tasks = Vec::new();
    for i in 0..n {
        let (first, second) = if i % 2 == 0 { (a, b) } else { (b, a) };
        let (first, second) = (first.to_string(), second.to_string());
        tasks.push(tokio::spawn(async move {
            let c = browser();
            let landed = body_of(&c, &format!("{first}/login")).await;
            let ok = landed.as_deref() == Some("hello Alice")
                && body_of(&c, &format!("{first}/user")).await.as_deref() == Some("hello Alice")
                && body_of(&c, &format!("{second}/user")).await.as_deref() == Some("hello Alice");
            (c, ok)
        }));
    }
    let mut browsers = Vec::new();
    let mut failed = 0;
    for t in tasks {
        match t.await {
            Ok((c, true)) => browsers.push(c),
            _ => failed += 1,
        }
    }
    (browsers, failed, started.elapsed().as_secs_f64())
}

#[derive(Debug, Default)]
struct Burst {
    users: usize,
    all_ok: usize,
    some_failed: usize,
    signed_out_after: usize,
    refreshes: u64,
}

/// Every browser sends `targets.len()` API requests at once (one to each
/// target, in parallel), then one more to the first target: who got all
/// answers, who is signed out afterwards, and how many refreshes the wiki saw.
async fn burst(wiki: &DevWiki, browsers: &[reqwest::Client], targets: &[String]) -> Burst {
    let r0 = wiki.oauth2_token_requests("refresh_token");
    let mut tasks = Vec::new();
    for c in browsers {
        let c = c.clone();
        let targets = targets.to_vec();
        tasks.push(tokio::spawn(async move {
            let answers = futures_util::future::join_all(
                targets.iter().map(|t| body_of(&c, t)).collect::<Vec<_>>(),
            )
            .await;
            let ok = answers.iter().all(|a| a.as_deref() == Some("Alice"));
            let after = body_of(&c, &targets[0]).await.as_deref() == Some("Alice");
            (ok, after)
        }));
    }
    let mut b = Burst {
        users: browsers.len(),
        ..Burst::default()
    };
    for t in tasks {
        let (ok, after) = t.await.unwrap_or((false, false));
        if ok {
            b.all_ok += 1;
        } else {
            b.some_failed += 1;
        }
        if !after {
            b.signed_out_after += 1;
        }
    }
    b.refreshes = wiki.oauth2_token_requests("refresh_token") - r0;
    b
}

// ---------------------------------------------------------------- peers

/// Builds the two peer apps (`benches/peers`, copied to `target/bench-peers`
/// and built there, outside this crate's dependencies): their binaries.
fn build_peers(root: &Path) -> Result<(PathBuf, PathBuf), String> {
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

/// Starts a peer app with an OAuth 2.0 client of its own on the wiki.
async fn start_peer(bin: &Path, wiki: &DevWiki, name: &str) -> Option<(Proc, String)> {
    let port = free_port();
    let client = wiki.register_consumer(ConsumerSpec {
        name: format!("Bench ({name})"),
        callback: format!("http://127.0.0.1:{port}/oauth/callback"),
        grants: vec!["basic".into(), "editpage".into(), "highvolume".into()],
        oauth2: true,
        ..Default::default()
    });
    let process = Proc(
        Command::new(bin)
            .env("PEER_PORT", port.to_string())
            .env("PEER_SECRET_KEY", SECRET_KEY)
            .env("PEER_CLIENT_ID", &client.key)
            .env("PEER_CLIENT_SECRET", &client.secret)
            .env("PEER_API_URL", wiki.api_url())
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

/// The `name=value` of one cookie in a `Cookie` header.
fn cookie_named<'a>(header: &'a str, name: &str) -> &'a str {
    header
        .split("; ")
        .find(|c| c.starts_with(&format!("{name}=")))
        .unwrap_or("")
}

/// Four requests of one user at once, just after its access token expired:
/// how many answered as the user, whether it is still signed in, refreshes.
async fn four_at_expiry(
    wiki: &DevWiki,
    browser: &reqwest::Client,
    url: &str,
    expect: &str,
) -> String {
    let r0 = wiki.oauth2_token_requests("refresh_token");
    let answers = futures_util::future::join_all((0..4).map(|_| body_of(browser, url))).await;
    let ok = answers
        .iter()
        .filter(|a| a.as_deref() == Some(expect))
        .count();
    let after = body_of(browser, url).await.as_deref() == Some(expect);
    let refreshes = wiki.oauth2_token_requests("refresh_token") - r0;
    format!(
        "{ok}/4 answered as the user; {}; {refreshes} refresh request(s)",
        if after {
            "still signed in after"
        } else {
            "signed out after"
        }
    )
}

async fn orchestrate() {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let secs: u64 = env_or("LOAD_SECONDS", 3);
    let api_secs: u64 = env_or("LOAD_API_SECONDS", secs + 1);
    let conns: u32 = env_or("LOAD_CONNECTIONS", 16);
    let rounds: usize = env_or("LOAD_ROUNDS", 5);
    let api_rate: f64 = env_or("LOAD_API_RATE", 1000.0);
    let page_rate: f64 = env_or("LOAD_PAGE_RATE", 4000.0);
    let login_rate: f64 = env_or("LOAD_LOGIN_RATE", 200.0);
    let leak_secs: u64 = env_or("LEAK_SECONDS", 20);
    let scale_users: usize = env_or("SCALE_USERS", 100_000);
    let scale_secs: u64 = env_or("SCALE_SECONDS", 40);
    let expiry_users: usize = env_or("EXPIRY_USERS", 1000);
    let lifetime: u64 = env_or("TOKEN_LIFETIME", 20);
    ensure_wrk();
    let started = Instant::now();
    let mut rep = Report::default();

    // Peers first: a cold build would disturb the measurements.
    let peers = if skip("SKIP_PEERS") {
        None
    } else {
        Some(build_peers(&root))
    };

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
    let port1 = free_port();
    let ours1 = wiki.register_consumer(ConsumerSpec {
        name: "Bench (Rust, OAuth 1.0a)".into(),
        callback: format!("http://127.0.0.1:{port1}/oauth-callback"),
        grants: grants.clone(),
        ..Default::default()
    });
    let ours2 = wiki.register_consumer(ConsumerSpec {
        name: "Bench (Rust, OAuth 2.0)".into(),
        // Any port of 127.0.0.1 is accepted; the app sends its own.
        callback: "http://127.0.0.1:1/oauth-callback".into(),
        grants: grants.clone(),
        oauth2: true,
        ..Default::default()
    });
    let spec1 = AppSpec {
        oauth: 1,
        key: ours1.key.clone(),
        secret: ours1.secret.clone(),
        callback: None,
    };
    let spec2 = AppSpec {
        oauth: 2,
        key: ours2.key.clone(),
        secret: ours2.secret.clone(),
        callback: None,
    };
    let (app1, base1) = start_app(&spec1, port1, &wiki).await;
    let (app2, base2) = start_app(&spec2, free_port(), &wiki).await;
    let (pid1, pid2) = (app1.0.id(), app2.0.id());
    let cookie1 = cookie_after_login(&format!("{base1}/login"), &base1).await;
    let cookie2 = cookie_after_login(&format!("{base2}/login"), &base2).await;
    for (base, cookie) in [(&base1, &cookie1), (&base2, &cookie2)] {
        let check = reqwest::Client::new()
            .get(format!("{base}/api"))
            .header("Cookie", cookie)
            .send()
            .await
            .unwrap();
        assert_eq!(
            check.text().await.unwrap(),
            "Alice",
            "the API call works before measuring ({base})"
        );
    }
    let size1 = cookie_named(&cookie1, "mwoauth_session").len();
    let size2 = cookie_named(&cookie2, "mwoauth_session").len();

    rep.push(&format!(
        "Settings: {conns} keep-alive connections (wrk -t2) unless said; pages {secs} s and API calls {api_secs} s per run, {rounds} interleaved rounds (each round runs every page of its table once); median and min–max over the rounds. Session cookies of the pages below: OAuth 1.0a {size1} bytes, OAuth 2.0 {size2} bytes (`name=value`).\n\n"
    ));

    // 1. Our CPU per API call.
    rep.push("## 1. Our cost per API call (app process CPU, same local wiki)\n\n");
    let api_pages = vec![
        page(
            "OAuth 1.0a signed userinfo",
            format!("{base1}/api"),
            Some(&cookie1),
            pid1,
        ),
        page(
            "unsigned userinfo, same Cookie (OAuth 1.0a app)",
            format!("{base1}/api-unsigned"),
            Some(&cookie1),
            pid1,
        ),
        page(
            "OAuth 2.0 Bearer userinfo",
            format!("{base2}/api"),
            Some(&cookie2),
            pid2,
        ),
        page(
            "unsigned userinfo, same Cookie (OAuth 2.0 app)",
            format!("{base2}/api-unsigned"),
            Some(&cookie2),
            pid2,
        ),
    ];
    let api = rounds_of(&api_pages, rounds, api_secs, conns);
    let mut t = PAGE_HEADER.to_string();
    for (p, s) in api_pages.iter().zip(&api) {
        t.push_str(&page_row(&p.name, s));
    }
    rep.push(&t);
    let rps1 = round_ratio(&api[0], &api[1], |s| s.s.rps);
    let rps2 = round_ratio(&api[2], &api[3], |s| s.s.rps);
    rep.push(&format!(
        "\nThe same calls at one offered load for all, {api_rate} requests/s (open loop, {conns} connections, each on its own schedule; an in-process client), well below the slowest page's capacity above:\n\n"
    ));
    let api_paced = paced_rounds_of(&api_pages, rounds, api_secs, api_rate, conns).await;
    let mut t = PAGE_HEADER.to_string();
    for (p, s) in api_pages.iter().zip(&api_paced) {
        t.push_str(&page_row(&p.name, s));
    }
    rep.push(&t);
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

    // 2. Near the ceiling.
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
            Some(&cookie1),
            pid1,
        ),
        page(
            "MwUser page, OAuth 1.0a",
            format!("{base1}/user"),
            Some(&cookie1),
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
            Some(&cookie2),
            pid2,
        ),
        page(
            "MwUser page, OAuth 2.0",
            format!("{base2}/user"),
            Some(&cookie2),
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
    let mut t = PAGE_HEADER.to_string();
    for (p, s) in ceiling_pages.iter().zip(&ceil) {
        t.push_str(&page_row(&p.name, s));
    }
    rep.push(&t);
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

    if !skip("SKIP_CALLGRIND") {
        let (n1, n2) = (
            env_or("CALLGRIND_N1", 100usize),
            env_or("CALLGRIND_N2", 500usize),
        );
        rep.push(&format!(
            "\nInstructions per request in the app process (`valgrind --tool=callgrind`, one connection, sequential requests; (dump after {n2} − dump after {n1}) / {}):\n\n| page | OAuth 1.0a app | OAuth 2.0 app |\n|---|---|---|\n",
            n2 - n1
        ));
        let dir = root.join("target/bench-results/callgrind");
        let _ = std::fs::remove_dir_all(&dir);
        let p1 = [
            ("bare, no Cookie", "/bare", None),
            ("bare, session Cookie", "/bare", Some(cookie1.as_str())),
            ("MwUser page", "/user", Some(cookie1.as_str())),
            ("API call, signed / Bearer", "/api", Some(cookie1.as_str())),
            (
                "API call, unsigned, same Cookie",
                "/api-unsigned",
                Some(cookie1.as_str()),
            ),
        ];
        let p2 = [
            ("bare, no Cookie", "/bare", None),
            ("bare, session Cookie", "/bare", Some(cookie2.as_str())),
            ("MwUser page", "/user", Some(cookie2.as_str())),
            ("API call, signed / Bearer", "/api", Some(cookie2.as_str())),
            (
                "API call, unsigned, same Cookie",
                "/api-unsigned",
                Some(cookie2.as_str()),
            ),
        ];
        let i1 = instructions_per_request(&spec1, &wiki, &dir, &p1, n1, n2).await;
        let i2 = instructions_per_request(&spec2, &wiki, &dir, &p2, n1, n2).await;
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
                let (g2, r2) = (
                    pick(&l2, "guards::MwApi as"),
                    pick(&l2, "session::read_session"),
                );
                let (gu, cu, du) = (
                    pick(&lu, "FromRequest for rocket_mediawiki_oauth::user::MwUser>::from_request::{{closure}}"),
                    pick(&lu, "session::UserCache::user"),
                    pick(&lu, "drop_in_place<rocket_mediawiki_oauth::user::MwUser>"),
                );
                rep.push(&format!(
                    "\nFrom these profiles: a signed OAuth 1.0a call adds {extra1:.0} instructions to the unsigned call's {:.0}: the `MwApi` guard (opening the session cookie: AES-GCM and JSON) {g1:.0}, signing {s1:.0} (SHA-1 {h1:.0} of it), and {:.0} in the request and the answer beyond what the unsigned route does (the parameters encoded and signed over, the bounded read, the answer's error check). SHA-1 is counted as its software version: valgrind does not run the SHA extensions, which the processor has and the crate uses outside valgrind. A Bearer call adds {extra2:.0}: the guard {g2:.0} (reading the ≈ 2 KB session record {r2:.0}) and {:.0} in the request and answer. The identity cache holds no tokens (by design), so every API call opens the cookie. The OAuth 2.0 `MwUser` guard costs {gu:.0} per request: the cache lookup {cu:.0}, the rest is cloning the cached user into the owned `MwUser` the route takes (and dropping it, {du:.0} in the route).\n\n",
                    i1[4],
                    extra1 - g1 - s1,
                    extra2 - g2,
                ));
                for (label, i) in [("OAuth 1.0a", &i1), ("OAuth 2.0", &i2)] {
                    rep.goal(
                        &format!("{label}: instructions per API call, signed or Bearer / unsigned"),
                        format!("{:.2}", i[3] / i[4]),
                        "(CPU goal ≤ 1.10)",
                        None,
                    );
                    rep.goal(
                        &format!("{label}: instructions, bare with Cookie / MwUser page (MwUser speed against bare)"),
                        format!("{:.3}", i[1] / i[2]),
                        "≥ 0.95",
                        Some(i[1] / i[2] >= 0.95),
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

    // The former figures: complete logins, memory, no leak.
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
    let _ = wrk(&format!("{base1}/api"), Some(&cookie1), half, conns);
    let rss_mid = proc_kb(pid1, "VmRSS:");
    let _ = wrk(
        &format!("{base1}/user"),
        Some(&cookie1),
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

    // 3. Scale.
    if !skip("SKIP_SCALE") {
        rep.push("\n## 3. Scale\n\n");
        // (a) many distinct users through one fresh instance.
        let (app, base) = start_app(&spec1, free_port(), &wiki).await;
        let pid = app.0.id();
        let rss0 = proc_kb(pid, "VmRSS:");
        let run = many_users(&base, pid, scale_users, 2, scale_secs, 16).await;
        drop(app);
        let at = |n: u64| {
            run.rss
                .iter()
                .find(|(d, _)| *d >= n)
                .map_or(f64::NAN, |(_, kb)| *kb as f64 / 1024.0)
        };
        let full = 10_000u64.min(run.requests);
        let end_mb = run
            .rss
            .last()
            .map_or(f64::NAN, |(_, kb)| *kb as f64 / 1024.0);
        let max_after_full = run
            .rss
            .iter()
            .filter(|(d, _)| *d >= full)
            .map(|(_, kb)| *kb as f64 / 1024.0)
            .fold(f64::NAN, f64::max);
        rep.push(&format!(
            "(a) {} distinct signed-in users (session cookies made in the bench with the app's `secret_key`), each in turn, twice, by 16 connections (an in-process client): {} requests in {:.1} s, **{:.0} req/s**, {} errors. RSS: {:.1} MB at start, {:.1} MB after 4,096 users (the identity cache is full), {:.1} MB after 10,000, {:.1} MB after {}, {:.1} MB at the end; highest sample after 10,000 users {:.1} MB; peak (VmHWM) {:.1} MB.\n\n",
            run.users,
            run.requests,
            run.requests as f64 / run.rps.max(1e-9),
            run.rps,
            run.errors,
            rss0 as f64 / 1024.0,
            at(4096),
            at(10_000),
            at(run.users as u64),
            run.users,
            end_mb,
            max_after_full,
            run.peak_kb as f64 / 1024.0,
        ));
        let peak_mb = run.peak_kb as f64 / 1024.0;
        rep.goal(
            "(a) peak RSS, 100,000 users",
            format!("{peak_mb:.1} MB"),
            "< 100 MB",
            Some(peak_mb < 100.0 && run.errors == 0),
        );
        let growth = max_after_full - at(full);
        rep.goal(
            "(a) RSS growth after the cache is full (highest − at 10,000 users)",
            format!("{growth:.1} MB"),
            "≈ 0 (≤ 2 MB)",
            Some(growth <= 2.0),
        );

        // (b) connections.
        rep.push(&format!("\n(b) The `MwUser` page by 1, 16, 128 and 512 connections ({secs} s each, one run, the two protocols interleaved):\n\n| connections | 1.0a req/s | 1.0a p99 ms | 2.0 req/s | 2.0 p99 ms | errors |\n|---|---|---|---|---|---|\n"));
        let mut t = String::new();
        for c in [1u32, 16, 128, 512] {
            let a = wrk(&format!("{base1}/user"), Some(&cookie1), secs, c);
            let b = wrk(&format!("{base2}/user"), Some(&cookie2), secs, c);
            t.push_str(&format!(
                "| {c} | {:.0} | {:.2} | {:.0} | {:.2} | {} |\n",
                a.rps,
                a.p99_ms,
                b.rps,
                b.p99_ms,
                a.errors + b.errors
            ));
        }
        rep.push(&t);

        // (c) logins at once, and tokens expiring at once.
        let (pa, pb) = (free_port(), free_port());
        let to = |p: u16| Some(format!("http://127.0.0.1:{p}/oauth-callback"));
        // One registered callback URL for both (the token request must send
        // the redirect_uri of the authorize request): B's.
        let (app_a, a) = start_app(
            &AppSpec {
                callback: to(pb),
                ..spec2.clone()
            },
            pa,
            &wiki,
        )
        .await;
        let (app_b, b) = start_app(
            &AppSpec {
                callback: to(pb),
                ..spec2.clone()
            },
            pb,
            &wiki,
        )
        .await;
        wiki.set_oauth2_access_token_lifetime(lifetime);
        let (browsers, failed, took) = logins_at_once(&a, &b, expiry_users).await;
        rep.push(&format!(
            "\n(c) {expiry_users} OAuth 2.0 logins at once across two instances sharing `secret_key` (half start on A, half on B; the wiki calls back to B, the one callback URL of both; each user then checked on both): {} signed in, {failed} failed, in {took:.1} s.\n\n",
            browsers.len()
        ));
        rep.goal(
            "(c) concurrent OAuth 2.0 logins across two instances, all succeed",
            format!("{}/{expiry_users}", browsers.len()),
            "all",
            Some(failed == 0),
        );
        tokio::time::sleep(Duration::from_secs(lifetime + 1)).await;
        let one = burst(&wiki, &browsers, &vec![format!("{a}/api"); 4]).await;
        tokio::time::sleep(Duration::from_secs(lifetime + 1)).await;
        let two = burst(
            &wiki,
            &browsers,
            &[
                format!("{a}/api"),
                format!("{b}/api"),
                format!("{a}/api"),
                format!("{b}/api"),
            ],
        )
        .await;
        wiki.set_oauth2_access_token_lifetime(3600);
        drop((app_a, app_b));
        rep.push(&format!(
            "Then every access token expired ({lifetime} s lifetime) and each user sent four API requests at once:\n\n| where | users | all four answered | some failed | signed out after | refreshes at the wiki |\n|---|---|---|---|---|---|\n| one instance | {} | {} | {} | {} | {} |\n| two instances (2 + 2) | {} | {} | {} | {} | {} |\n\n",
            one.users, one.all_ok, one.some_failed, one.signed_out_after, one.refreshes,
            two.users, two.all_ok, two.some_failed, two.signed_out_after, two.refreshes,
        ));
        rep.goal(
            "(c) one instance at expiry: nobody signed out, one refresh per user",
            format!(
                "{} signed out, {} failed, {} refreshes / {} users",
                one.signed_out_after, one.some_failed, one.refreshes, one.users
            ),
            "0 signed out, refreshes = users",
            Some(
                one.signed_out_after == 0
                    && one.some_failed == 0
                    && one.refreshes == one.users as u64,
            ),
        );
        rep.goal(
            "(c) two instances at expiry (MediaWiki ≤ 1.46 revokes a reused refresh token)",
            format!(
                "{} signed out, {} with a failed request, {} refreshes / {} users",
                two.signed_out_after, two.some_failed, two.refreshes, two.users
            ),
            "measured",
            None,
        );
    }

    // 4. Rust peers.
    let mut peer_note = String::new();
    match peers {
        None => {}
        Some(Err(e)) => {
            peer_note = format!("\n## 4. Rust peers\n\nThe peer apps could not be built: {e}\n");
        }
        Some(Ok((bin_rm, bin_mw))) => {
            rep.push("\n## 4. Rust peers, side by side (OAuth 2.0, the wiki answering the profile as MediaWiki 1.44)\n\nA fresh local wiki for this section (the three crates' logins meet the same token tables), with an OAuth 2.0 app of ours of its own; the login rounds rotate which crate goes first.\n\n");
            let pwiki = DevWiki::start(DevWikiConfig {
                auto_approve: Some("Alice".into()),
                ..DevWikiConfig::default()
            })
            .await
            .expect("a fresh local wiki starts");
            pwiki.set_profile_as(devwiki::ProfileFlavour::Mw144);
            let pc = pwiki.register_consumer(ConsumerSpec {
                name: "Bench (Rust, OAuth 2.0, peers)".into(),
                callback: "http://127.0.0.1:1/oauth-callback".into(),
                grants: grants.clone(),
                oauth2: true,
                ..Default::default()
            });
            let pspec = AppSpec {
                oauth: 2,
                key: pc.key.clone(),
                secret: pc.secret.clone(),
                callback: None,
            };
            let (papp, base2) = start_app(&pspec, free_port(), &pwiki).await;
            let pid2 = papp.0.id();
            let wiki = &pwiki;
            let rm = start_peer(&bin_rm, wiki, "rocket_mwoauth").await;
            let mw = start_peer(&bin_mw, wiki, "mwoauth").await;
            match (rm, mw) {
                (Some((rm, rm_base)), Some((mw, mw_base))) => {
                    let rm_cookie =
                        cookie_after_login(&format!("{rm_base}/oauth/login"), &rm_base).await;
                    let mw_cookie =
                        cookie_after_login(&format!("{mw_base}/oauth/login"), &mw_base).await;
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
                    t.push_str(PAGE_HEADER);
                    for (p, s) in pages.iter().zip(&res) {
                        t.push_str(&page_row(&p.name, s));
                    }
                    rep.push(&t);
                    let res_paced = paced_rounds_of(&pages, rounds, secs, page_rate, conns).await;
                    let mut t = format!("\nThe same page at one offered load for all, {page_rate} requests/s (open loop, {conns} connections; an in-process client): latency without the queueing of a saturated run, where a p99 of about 1–2 ms is the scheduling of four busy threads on two cores whichever crate answers:\n\n");
                    t.push_str(PAGE_HEADER);
                    for (p, s) in pages.iter().zip(&res_paced) {
                        t.push_str(&page_row(&p.name, s));
                    }
                    rep.push(&t);
                    let login_urls = [
                        format!("{base2}/login"),
                        format!("{rm_base}/oauth/login"),
                        format!("{mw_base}/oauth/login"),
                    ];
                    let lg = login_rounds(&pages, &login_urls, rounds, secs, conns, None).await;
                    let mut t = String::from("\nComplete logins (authorize auto-approved → callback → profile → landing page showing the user), per second; the app CPU column is the app process's CPU time per complete login:\n\n");
                    t.push_str(PAGE_HEADER);
                    for (p, s) in pages.iter().zip(&lg) {
                        t.push_str(&page_row(&p.name, s));
                    }
                    rep.push(&t);
                    let lg_paced =
                        login_rounds(&pages, &login_urls, rounds, secs, conns, Some(login_rate))
                            .await;
                    let mut t = format!("\nThe same logins at one offered load for all, {login_rate} logins/s (open loop, {conns} browsers, each on its own schedule):\n\n");
                    t.push_str(PAGE_HEADER);
                    for (p, s) in pages.iter().zip(&lg_paced) {
                        t.push_str(&page_row(&p.name, s));
                    }
                    rep.push(&t);
                    rep.push("\n");
                    for (k, peer) in [(1usize, "rocket_mwoauth"), (2, "mwoauth")] {
                        peer_goal(
                            &mut rep,
                            &format!("ours / {peer}, signed-in page req/s (p99 ms, ours vs theirs: at {page_rate} req/s; saturated)"),
                            [&res[0], &res[k]],
                            [&res_paced[0], &res_paced[k]],
                            2,
                        );
                        peer_goal(
                            &mut rep,
                            &format!("ours / {peer}, logins/s (p99 ms, ours vs theirs: at {login_rate} logins/s; saturated)"),
                            [&lg[0], &lg[k]],
                            [&lg_paced[0], &lg_paced[k]],
                            1,
                        );
                    }
                    // Cookie sizes and four requests at expiry.
                    wiki.set_oauth2_access_token_lifetime(lifetime);
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
                            four_at_expiry(wiki, &fresh[k].0, &url.0, url.1).await
                        } else {
                            "(the login failed)".to_string()
                        });
                    }
                    wiki.set_oauth2_access_token_lifetime(3600);
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
                    drop((rm, mw));
                }
                _ => {
                    peer_note = "\n## 4. Rust peers\n\nA peer app was built but did not start against the local wiki.\n".into();
                }
            }
            drop(papp);
        }
    }
    rep.push(&peer_note);
    drop((app1, app2));

    // flask-mwoauth under gunicorn, same wiki, same load.
    if !skip("SKIP_FLASK") {
        match flask_venv(&root) {
            None => rep.push("\n(flask-mwoauth could not be installed: its side is skipped)\n"),
            Some(gunicorn) => {
                let mut best: Option<(u32, f64)> = None;
                for workers in [1u32, 2, 4] {
                    let Some((g, fbase, fcookie)) =
                        start_flask(&wiki, &gunicorn, &root, workers, &grants).await
                    else {
                        continue;
                    };
                    let s = wrk(&format!("{fbase}/user"), Some(&fcookie), secs, conns);
                    println!("   (flask-mwoauth, {workers} sync workers: {:.0} req/s on the signed-in page)", s.rps);
                    if best.as_ref().is_none_or(|(_, b)| s.rps > *b) {
                        best = Some((workers, s.rps));
                    }
                    drop(g);
                }
                if let Some((workers, _)) = best {
                    let (g, fbase, fcookie) =
                        start_flask(&wiki, &gunicorn, &root, workers, &grants)
                            .await
                            .expect("gunicorn starts again");
                    let gpid = g.0.id();
                    let pages = vec![
                        page(
                            "ours, MwUser page (OAuth 1.0a)",
                            format!("{base1}/user"),
                            Some(&cookie1),
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
                            Some(&cookie1),
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
                    let (app1b, _) = start_app(&spec1, port1, &wiki).await;
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
                    let mut t = PAGE_HEADER.to_string();
                    for (p, s) in pages.iter().zip(&fm) {
                        t.push_str(&page_row(&p.name, s));
                    }
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
    wiki.shutdown().await;

    // The results file.
    let cpu = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("model name"))
                .and_then(|l| l.split_once(':'))
                .map(|(_, v)| v.trim().to_string())
        })
        .unwrap_or_else(|| "unknown".into());
    let cores = std::thread::available_parallelism().map_or(0, |n| n.get());
    let rustc = Command::new("rustc")
        .arg("--version")
        .output()
        .ok()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
        .unwrap_or_default();
    let date = time::OffsetDateTime::now_utc();
    let settings: Vec<String> = std::env::vars()
        .filter(|(k, _)| {
            [
                "LOAD_",
                "SKIP_",
                "SCALE_",
                "EXPIRY_",
                "TOKEN_",
                "LEAK_",
                "CALLGRIND_",
            ]
            .iter()
            .any(|p| k.starts_with(p))
                && k != "LOAD_ROLE"
        })
        .map(|(k, v)| format!("{k}={v}"))
        .collect();
    let command = if settings.is_empty() {
        "cargo bench --bench load".to_string()
    } else {
        format!("{} cargo bench --bench load", settings.join(" "))
    };
    let out = format!(
        "# Load benchmark results\n\nWritten by `cargo bench --bench load` (benches/load.rs); this file is the output of one run.\n\n- date: {:04}-{:02}-{:02} {:02}:{:02} UTC\n- machine: {cores} cores, {cpu}; shared with other work, so every figure is a ratio of runs made side by side\n- rustc: {rustc}\n- command: `{command}`\n- the run took {:.1} minutes\n\n## Goals\n\n{}\n{}",
        date.year(),
        u8::from(date.month()),
        date.day(),
        date.hour(),
        date.minute(),
        started.elapsed().as_secs_f64() / 60.0,
        rep.goals_table(),
        rep.body,
    );
    println!("\n{}", rep.goals_table());
    let dir = root.join("target/bench-results");
    let _ = std::fs::create_dir_all(&dir);
    let _ = std::fs::write(dir.join("load.md"), &out);
    let results = root.join("benches/RESULTS.md");
    let _ = std::fs::write(&results, &out);
    println!(
        "(written to {} and {})",
        results.display(),
        dir.join("load.md").display()
    );
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
