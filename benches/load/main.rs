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
//! `SKIP_SCALE=1`, `SKIP_CALLGRIND=1` skip the slow parts; `LOAD_ONLY=a,b`
//! runs only the sections named (`api`, `ceiling`, `callgrind`, `logins`,
//! `scale`, `peers`, `flask`; `expiry` and `redis` run only those parts of
//! `scale`) and then leaves `benches/RESULTS.md` alone.
//!
//! Its parts: `settings` (the environment, read once), `app` (the app under
//! load and our two instances of it), `drive` (the load), `report` (tables
//! and goals), `common` (ports, processes, cookies), `apart` (the wiki and
//! the login driver in processes of their own), then one function per
//! section of the results, run in order by [`orchestrate`]: `sections`
//! (1, 2 and logins/memory), `callgrind` (the rest of 2), `scale` (3; its Redis part (d) and the
//! bench's `redis-server` in `redis_store`),
//! `peers` (4), `flask`, and `results` (the file).

mod apart;
mod app;
mod callgrind;
mod common;
mod drive;
mod flask;
#[path = "../forge.rs"]
mod forge;
mod peers;
mod redis_store;
mod report;
mod results;
mod scale;
mod sections;
mod settings;

use std::time::Instant;

use app::Ours;
use report::Report;
use settings::Settings;

async fn orchestrate() {
    let s = Settings::from_env();
    drive::ensure_wrk();
    let started = Instant::now();
    let mut rep = Report::default();

    // Peers first: a cold build would disturb the measurements.
    let peers = (!s.skip_peers && s.runs("peers")).then(|| peers::build_peers(&s.root));

    let (ours, apps) = Ours::start().await;
    sections::preamble(&s, &ours, &mut rep);
    if s.runs("api") {
        sections::api_cost(&s, &ours, &mut rep).await;
    }
    if s.runs("ceiling") {
        sections::ceiling(&s, &ours, &mut rep);
    }
    if !s.skip_callgrind && s.runs("callgrind") {
        callgrind::section(&s, &ours, &mut rep).await;
    }
    if s.runs("logins") {
        sections::logins_and_memory(&s, &ours, &mut rep).await;
    }
    if !s.skip_scale && (s.runs("scale") || s.runs("expiry") || s.runs("redis")) {
        scale::section(&s, &ours, &mut rep).await;
    }
    peers::section(&s, &ours, peers, &mut rep).await;
    drop(apps);
    if !s.skip_flask && s.runs("flask") {
        flask::section(&s, &ours, &mut rep).await;
    }
    ours.wiki.shutdown().await;
    results::write(&s, started, &rep);
}

fn main() {
    match std::env::var("LOAD_ROLE").as_deref() {
        Ok("app") => return app::run_app(),
        Ok("wiki") => return apart::run_wiki(),
        Ok("driver") => return apart::run_driver(),
        _ => {}
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
