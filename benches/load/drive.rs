//! The load: `wrk` (saturated, closed loop), paced requests (open loop),
//! complete logins, and the rounds that interleave the pages of a table.

use std::process::Command;
use std::time::{Duration, Instant};

use crate::common::cpu_seconds;

#[derive(Debug, Clone, Default)]
pub struct Stats {
    pub rps: f64,
    pub p50_ms: f64,
    pub p99_ms: f64,
    pub errors: u64,
    pub requests: u64,
    /// Open-loop runs: requests sent more than one period after their time.
    pub late: u64,
}

pub fn parse_duration_ms(s: &str) -> Option<f64> {
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

pub fn ensure_wrk() {
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

pub fn wrk(url: &str, cookie: Option<&str>, seconds: u64, connections: u32) -> Stats {
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

pub fn percentile(sorted: &[f64], p: f64) -> f64 {
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
pub async fn logins(
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
pub async fn gather(
    tasks: Vec<tokio::task::JoinHandle<(Vec<f64>, u64, u64)>>,
) -> (Vec<f64>, u64, u64) {
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
pub async fn paced(url: &str, cookie: Option<&str>, rate: f64, seconds: u64, conns: u32) -> Stats {
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

/// `n` requests one after the other on one keep-alive connection; how many
/// answered 2xx.
pub async fn sequential(
    client: &reqwest::Client,
    url: &str,
    cookie: Option<&str>,
    n: usize,
) -> usize {
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

/// One measured run of a page: its stats and the app's CPU µs per request
/// (user + system time of the app process, from `/proc/<pid>/stat`).
#[derive(Debug, Clone, Default)]
pub struct Sample {
    pub s: Stats,
    pub cpu_us: f64,
}

/// A run's sample: its stats and the CPU `pid` used per request since `c0`
/// (a reading of [`cpu_seconds`] taken just before the run).
pub fn sample_since(pid: u32, c0: f64, s: Stats) -> Sample {
    let cpu_us = (cpu_seconds(pid) - c0) * 1e6 / s.requests.max(1) as f64;
    Sample { s, cpu_us }
}

/// A page to load: where, with which `Cookie` header, served by which process.
#[derive(Debug, Clone)]
pub struct Page {
    pub name: String,
    pub url: String,
    pub cookie: Option<String>,
    pub pid: u32,
}

pub fn page(name: &str, url: String, cookie: Option<&str>, pid: u32) -> Page {
    Page {
        name: name.to_string(),
        url,
        cookie: cookie.map(str::to_string),
        pid,
    }
}

/// Runs every page once per round, `rounds` rounds (interleaved, so that slow
/// drifts of a shared machine hit all pages alike): `samples[page][round]`.
pub fn rounds_of(pages: &[Page], rounds: usize, secs: u64, conns: u32) -> Vec<Vec<Sample>> {
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

/// [`rounds_of`] at a fixed offered load ([`paced`]).
pub async fn paced_rounds_of(
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
