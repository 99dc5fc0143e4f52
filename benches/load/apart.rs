//! The local wiki and the login driver in processes of their own, so that
//! the app is the bottleneck of the login runs of section 4 (issue 25, item
//! 4): in the bench's own process they share its threads, and an app that
//! answers faster only waits longer for them.
//!
//! This binary re-runs itself: `LOAD_ROLE=wiki` starts the local wiki,
//! registers the consumers it is given, prints one JSON line (its URLs and
//! the consumers' credentials) and serves until its stdin closes;
//! `LOAD_ROLE=driver` runs [`logins`] against one login URL and prints its
//! stats and its own CPU time as one JSON line. Both stop when the bench
//! does: the bench holds their stdin and kills them on drop.

use std::io::{BufRead, BufReader, Read, Write};
use std::process::{ChildStdin, Command, Stdio};
use std::time::Instant;

use devwiki::{ConsumerSpec, DevWiki, DevWikiConfig, ProfileFlavour};
use serde_json::{json, Value};

use crate::common::{cpu_seconds, own_cpu_seconds, Proc};
use crate::drive::{logins, sample_since, Page, Sample, Stats};

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap()
}

fn env(k: &str) -> String {
    std::env::var(k).unwrap_or_else(|_| panic!("{k} is set by the bench"))
}

/// Exits this process when its stdin closes (the bench ended or died).
fn exit_with_stdin() {
    std::thread::spawn(|| {
        let mut sink = Vec::new();
        let _ = std::io::stdin().read_to_end(&mut sink);
        std::process::exit(0);
    });
}

/// `LOAD_ROLE=wiki`: `LOAD_WIKI_CONSUMERS` (a JSON array of
/// [`ConsumerSpec`]) and `LOAD_WIKI_PROFILE` (`mw144`, …; optional).
pub fn run_wiki() {
    exit_with_stdin();
    let specs: Vec<ConsumerSpec> =
        serde_json::from_str(&env("LOAD_WIKI_CONSUMERS")).expect("LOAD_WIKI_CONSUMERS is JSON");
    let profile: Option<ProfileFlavour> = std::env::var("LOAD_WIKI_PROFILE")
        .ok()
        .map(|p| serde_json::from_value(json!(p)).expect("a profile flavour"));
    runtime().block_on(async move {
        let wiki = DevWiki::start(DevWikiConfig {
            auto_approve: Some("Alice".into()),
            ..DevWikiConfig::default()
        })
        .await
        .expect("the local wiki starts");
        if let Some(p) = profile {
            wiki.set_profile_as(p);
        }
        let consumers: Vec<Value> = specs
            .into_iter()
            .map(|s| {
                let c = wiki.register_consumer(s);
                json!({ "key": c.key, "secret": c.secret })
            })
            .collect();
        let line = json!({
            "server": wiki.server(),
            "base_url": wiki.base_url(),
            "api_url": wiki.api_url(),
            "consumers": consumers,
        });
        let mut out = std::io::stdout().lock();
        let _ = writeln!(out, "{line}");
        let _ = out.flush();
        drop(out);
        // Serves until the stdin watch ends the process.
        std::future::pending::<()>().await;
    });
}

/// `LOAD_ROLE=driver`: `LOAD_DRIVER_URL`, `LOAD_DRIVER_EXPECT`,
/// `LOAD_DRIVER_SECONDS`, `LOAD_DRIVER_CONNS`, `LOAD_DRIVER_RATE` (optional:
/// open loop).
pub fn run_driver() {
    exit_with_stdin();
    let url = env("LOAD_DRIVER_URL");
    let expect = env("LOAD_DRIVER_EXPECT");
    let secs: u64 = env("LOAD_DRIVER_SECONDS").parse().unwrap();
    let conns: u32 = env("LOAD_DRIVER_CONNS").parse().unwrap();
    let rate: Option<f64> = std::env::var("LOAD_DRIVER_RATE")
        .ok()
        .and_then(|r| r.parse().ok());
    let s = runtime().block_on(logins(&url, &expect, secs, conns, rate));
    let line = json!({
        "rps": s.rps,
        "p50_ms": s.p50_ms,
        "p99_ms": s.p99_ms,
        "errors": s.errors,
        "requests": s.requests,
        "late": s.late,
        "cpu_s": own_cpu_seconds(std::process::id()),
    });
    println!("{line}");
}

fn child(role: &str) -> Command {
    let mut cmd = Command::new(std::env::current_exe().unwrap());
    cmd.env("LOAD_ROLE", role)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit());
    cmd
}

/// The first line a child prints, as JSON (`None`: it printed none).
async fn first_line(proc: &mut Proc) -> Option<Value> {
    let stdout = proc.0.stdout.take()?;
    tokio::task::spawn_blocking(move || {
        let mut line = String::new();
        BufReader::new(stdout).read_line(&mut line).ok()?;
        serde_json::from_str(&line).ok()
    })
    .await
    .ok()
    .flatten()
}

/// The credentials of a consumer registered on a [`WikiProc`].
pub struct Creds {
    pub key: String,
    pub secret: String,
}

/// The local wiki in a process of its own (`LOAD_ROLE=wiki`); its test
/// controls are the HTTP ones under `/devwiki`.
pub struct WikiProc {
    // Dropped first: the child sees its stdin close, then is killed.
    _stdin: Option<ChildStdin>,
    proc: Proc,
    pub server: String,
    pub base_url: String,
    pub api_url: String,
    pub consumers: Vec<Creds>,
    http: reqwest::Client,
}

impl WikiProc {
    /// Starts the wiki with `specs` registered (in order) and Alice
    /// approving every authorization at once.
    pub async fn start(specs: &[ConsumerSpec], profile: Option<&str>) -> Option<WikiProc> {
        let mut cmd = child("wiki");
        cmd.env("LOAD_WIKI_CONSUMERS", serde_json::to_string(specs).unwrap());
        if let Some(p) = profile {
            cmd.env("LOAD_WIKI_PROFILE", p);
        }
        let mut proc = Proc(cmd.spawn().ok()?);
        let stdin = proc.0.stdin.take();
        let v = first_line(&mut proc).await?;
        let text = |k: &str| v[k].as_str().map(str::to_string);
        let consumers = v["consumers"]
            .as_array()?
            .iter()
            .map(|c| {
                Some(Creds {
                    key: c["key"].as_str()?.to_string(),
                    secret: c["secret"].as_str()?.to_string(),
                })
            })
            .collect::<Option<Vec<_>>>()?;
        Some(WikiProc {
            _stdin: stdin,
            proc,
            server: text("server")?,
            base_url: text("base_url")?,
            api_url: text("api_url")?,
            consumers,
            http: reqwest::Client::new(),
        })
    }

    pub fn pid(&self) -> u32 {
        self.proc.0.id()
    }

    /// `expires_in` of the OAuth 2.0 access tokens issued from now on.
    pub async fn set_access_token_lifetime(&self, seconds: u64) -> bool {
        self.http
            .post(format!("{}/devwiki/oauth2-lifetime", self.server))
            .json(&json!({ "access_token": seconds }))
            .send()
            .await
            .is_ok_and(|r| r.status().is_success())
    }

    /// How many `refresh_token` requests reached the token endpoint so far.
    pub async fn refresh_requests(&self) -> u64 {
        let stats: Option<Value> = async {
            self.http
                .get(format!("{}/devwiki/stats", self.server))
                .send()
                .await
                .ok()?
                .json()
                .await
                .ok()
        }
        .await;
        stats
            .and_then(|s| s["oauth2_token_requests"]["refresh_token"].as_u64())
            .unwrap_or(0)
    }
}

/// [`logins`] run by a driver process of its own (`LOAD_ROLE=driver`): its
/// stats and the CPU seconds the driver used (`None`: it printed nothing).
pub async fn logins_apart(
    url: &str,
    expect: &str,
    secs: u64,
    conns: u32,
    rate: Option<f64>,
) -> Option<(Stats, f64)> {
    let mut cmd = child("driver");
    cmd.env("LOAD_DRIVER_URL", url)
        .env("LOAD_DRIVER_EXPECT", expect)
        .env("LOAD_DRIVER_SECONDS", secs.to_string())
        .env("LOAD_DRIVER_CONNS", conns.to_string());
    if let Some(r) = rate {
        cmd.env("LOAD_DRIVER_RATE", r.to_string());
    }
    let mut proc = Proc(cmd.spawn().ok()?);
    let _stdin = proc.0.stdin.take();
    let v = first_line(&mut proc).await?;
    let u = |k: &str| v[k].as_u64().unwrap_or(0);
    let f = |k: &str| v[k].as_f64().unwrap_or(f64::NAN);
    let stats = Stats {
        rps: f("rps"),
        p50_ms: f("p50_ms"),
        p99_ms: f("p99_ms"),
        errors: u("errors"),
        requests: u("requests"),
        late: u("late"),
    };
    Some((stats, f("cpu_s")))
}

/// Cores busy during one login run (CPU seconds over wall seconds): the
/// app, the wiki, the driver, and the whole machine (other work included).
#[derive(Debug, Clone, Copy, Default)]
pub struct Busy {
    pub app: f64,
    pub wiki: f64,
    pub driver: f64,
    pub machine: f64,
}

/// CPU seconds the whole machine spent busy so far (`/proc/stat`: every
/// field of the `cpu` line but idle and iowait), at 100 ticks a second.
pub fn machine_busy_seconds() -> f64 {
    let stat = std::fs::read_to_string("/proc/stat").unwrap_or_default();
    let ticks: Vec<u64> = stat
        .lines()
        .next()
        .unwrap_or_default()
        .split_whitespace()
        .skip(1)
        .map(|x| x.parse().unwrap_or(0))
        .collect();
    // user nice system idle iowait irq softirq steal (guest is in user).
    let busy: u64 = ticks
        .iter()
        .take(8)
        .enumerate()
        .filter(|&(i, _)| i != 3 && i != 4)
        .map(|(_, t)| t)
        .sum();
    busy as f64 / 100.0
}

/// Complete logins at each of `urls` (served by `pages[k].pid`), `rounds`
/// rounds, each round rotating which one goes first, with the driver in a
/// process of its own for each run and the wiki in `wiki_pid`: the samples and the cores each
/// process kept busy, `[k][round]`. A run whose driver printed nothing
/// counts as one with every login failed.
pub async fn login_rounds_apart(
    pages: &[Page],
    urls: &[String],
    wiki_pid: u32,
    rounds: usize,
    secs: u64,
    conns: u32,
    rate: Option<f64>,
) -> (Vec<Vec<Sample>>, Vec<Vec<Busy>>) {
    let mut samples = vec![Vec::new(); urls.len()];
    let mut busy = vec![Vec::new(); urls.len()];
    for round in 0..rounds.max(1) {
        for j in 0..urls.len() {
            let k = (round + j) % urls.len();
            let pid = pages[k].pid;
            let (a0, w0, m0) = (
                cpu_seconds(pid),
                cpu_seconds(wiki_pid),
                machine_busy_seconds(),
            );
            let t0 = Instant::now();
            let run = logins_apart(&urls[k], "hello Alice", secs, conns, rate).await;
            let wall = t0.elapsed().as_secs_f64();
            let (a1, w1, m1) = (
                cpu_seconds(pid),
                cpu_seconds(wiki_pid),
                machine_busy_seconds(),
            );
            let (s, driver_cpu) = run.unwrap_or_else(|| {
                (
                    Stats {
                        errors: 1,
                        p50_ms: f64::NAN,
                        p99_ms: f64::NAN,
                        ..Stats::default()
                    },
                    f64::NAN,
                )
            });
            busy[k].push(Busy {
                app: (a1 - a0) / wall,
                wiki: (w1 - w0) / wall,
                driver: driver_cpu / wall,
                machine: (m1 - m0) / wall,
            });
            samples[k].push(sample_since(pid, a0, s));
        }
    }
    (samples, busy)
}
