//! Section 3 (d): sessions in Redis (`mwoauth.store = "redis"`) against the
//! cookie store: the signed-in page and an API call (req/s and instructions
//! per request), how long a logged-out copy of a cookie is still served by
//! another instance, and RSS over 100,000 users. Also the bench's own
//! `redis-server` (used by section 3 (c) too).
//!
//! The 100,000 sessions are forged here from the documented format (README
//! "Where sessions live", `src/session/redis.rs`'s module docs): the record
//! JSON, AES-256-GCM with a key derived by HKDF-SHA256 from `secret_key`, a
//! random 12-byte nonce in front, the session id as associated data, under
//! `<prefix>s:<sha256 of the id>`. Nothing of the crate is used for it.

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use aes_gcm::aead::{Aead, KeyInit, Payload};
use aes_gcm::{Aes256Gcm, Nonce};
use base64::Engine;
use rand::RngCore;
use sha2::{Digest, Sha256};

use crate::app::{start_app_with, Ours, StoreSpec};
use crate::callgrind::instructions_per_request_with;
use crate::common::{cookie_after_login, free_port, proc_kb, SECRET_KEY};
use crate::drive::{page, rounds_of};
use crate::report::{fmt_spread, page_table, round_ratio, Report};
use crate::scale::{forged_record, many_users_with};
use crate::settings::Settings;

/// The bench's key prefix (random-looking, as the README asks).
pub const PREFIX: &str = "b3nch7e1c9a04fd2b86k:";

/// A `redis-server` of the bench on a free loopback port, in a temporary
/// directory, nothing saved; killed on drop.
pub struct RedisServer {
    pub port: u16,
    child: Child,
    dir: PathBuf,
}

impl RedisServer {
    /// Starts one, or `None` when `redis-server` is not installed.
    pub fn start() -> Option<RedisServer> {
        let port = free_port();
        let dir = std::env::temp_dir().join(format!("mwoauth-bench-redis-{port}"));
        std::fs::create_dir_all(&dir).ok()?;
        let child = Command::new("redis-server")
            .args(["--port", &port.to_string(), "--bind", "127.0.0.1"])
            .arg("--dir")
            .arg(&dir)
            .args(["--save", "", "--appendonly", "no"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .ok()?;
        let server = RedisServer { port, child, dir };
        let start = Instant::now();
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            if start.elapsed() > Duration::from_secs(10) {
                return None;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        Some(server)
    }

    pub fn url(&self) -> String {
        format!("redis://127.0.0.1:{}/0", self.port)
    }

    /// The store of an app on this server.
    pub fn store(&self) -> StoreSpec {
        StoreSpec::Redis {
            url: self.url(),
            prefix: PREFIX.to_string(),
        }
    }

    /// A plain (blocking) connection.
    pub fn conn(&self) -> redis::RedisResult<redis::Connection> {
        redis::Client::open(self.url())?.get_connection()
    }

    /// Runs one command (blocking), e.g. `["ACL", "SETUSER", …]`.
    pub fn command(&self, args: &[&str]) -> redis::RedisResult<redis::Value> {
        let mut c = redis::cmd(args[0]);
        for a in &args[1..] {
            c.arg(*a);
        }
        tokio::task::block_in_place(|| c.query(&mut self.conn()?))
    }
}

impl Drop for RedisServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// The record key of the documented format: HKDF-SHA256 of `secret_key`
/// (salt "rocket_mediawiki_oauth redis", info "session records v1").
fn record_key(secret: &[u8]) -> Aes256Gcm {
    let hk = hkdf::Hkdf::<Sha256>::new(Some(b"rocket_mediawiki_oauth redis"), secret);
    let mut key = [0u8; 32];
    hk.expand(b"session records v1", &mut key).unwrap();
    Aes256Gcm::new(&key.into())
}

/// `<prefix>s:<hex SHA-256 over length-prefixed "mwoauth session" and id>`.
fn record_name(id: &str) -> String {
    let mut d = Sha256::new();
    for p in [b"mwoauth session".as_slice(), id.as_bytes()] {
        d.update((p.len() as u64).to_be_bytes());
        d.update(p);
    }
    let hex: String = d.finalize().iter().map(|b| format!("{b:02x}")).collect();
    format!("{PREFIX}s:{hex}")
}

/// Nonce ‖ AES-256-GCM(record, associated data "mwoauth session\0" ‖ id).
fn seal(cipher: &Aes256Gcm, id: &str, json: &str) -> Vec<u8> {
    let mut nonce = [0u8; 12];
    rand::rngs::OsRng.fill_bytes(&mut nonce);
    let aad = [b"mwoauth session\0".as_slice(), id.as_bytes()].concat();
    let sealed = cipher
        .encrypt(
            Nonce::from_slice(&nonce),
            Payload {
                msg: json.as_bytes(),
                aad: &aad,
            },
        )
        .unwrap();
    [nonce.as_slice(), &sealed].concat()
}

/// Writes `n` sessions of forged users ("Scale user {k}") into Redis,
/// pipelined, 1,000 per round trip: their `Cookie` headers, and the seconds taken.
pub fn forge_sessions(
    server: &RedisServer,
    n: usize,
    app: &str,
) -> redis::RedisResult<(Vec<String>, f64)> {
    let started = Instant::now();
    let secret = base64::engine::general_purpose::STANDARD
        .decode(SECRET_KEY)
        .unwrap();
    let cipher = record_key(&secret);
    let now = time::OffsetDateTime::now_utc().unix_timestamp();
    let mut conn = server.conn()?;
    let mut cookies = Vec::with_capacity(n);
    let mut pipe = redis::pipe();
    for k in 0..n {
        let mut bytes = [0u8; 32];
        rand::rngs::OsRng.fill_bytes(&mut bytes);
        let id = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes);
        let value = seal(&cipher, &id, &forged_record(k, now, app));
        pipe.set_ex(record_name(&id), value, 3600).ignore();
        cookies.push(format!("mwoauth_session={id}"));
        if (k + 1) % 1000 == 0 || k + 1 == n {
            tokio::task::block_in_place(|| pipe.query::<()>(&mut conn))?;
            pipe = redis::pipe();
        }
    }
    Ok((cookies, started.elapsed().as_secs_f64()))
}

/// Section 3 (d).
pub async fn section(s: &Settings, ours: &Ours, server: Option<&RedisServer>, rep: &mut Report) {
    rep.push("\n(d) Sessions in Redis (`store = \"redis\"`, a local `redis-server` on loopback) against the cookie store.\n\n");
    let Some(server) = server else {
        rep.push("Skipped (no redis-server).\n\n");
        rep.goal(
            "(d) Redis store figures",
            "skipped (no redis-server)".into(),
            "measured",
            None,
        );
        return;
    };
    pages(s, ours, server, rep).await;
    logged_out_copies(ours, server, rep).await;
    many_users_in_redis(s, ours, server, rep).await;
}

/// The signed-in page, the bare route and an API call in both stores
/// (OAuth 2.0 apps): req/s side by side, and instructions per request.
async fn pages(s: &Settings, ours: &Ours, server: &RedisServer, rep: &mut Report) {
    let (spec2, wiki) = (&ours.spec2, &ours.wiki);
    let store = server.store();
    let (app, r) = start_app_with(spec2, &store, free_port(), &wiki.base_url()).await;
    let rcookie = cookie_after_login(&format!("{r}/login"), &r).await;
    let (c, ccookie) = (&ours.base2, &ours.cookie2);
    let (cpid, rpid) = (ours.pid2, app.0.id());
    let rounds = s.rounds.min(3);
    let list = [
        page(
            "`&MwUser` page, cookie store",
            format!("{c}/user"),
            Some(ccookie),
            cpid,
        ),
        page(
            "`&MwUser` page, Redis store",
            format!("{r}/user"),
            Some(&rcookie),
            rpid,
        ),
        page(
            "bare, cookie store's Cookie",
            format!("{c}/bare"),
            Some(ccookie),
            cpid,
        ),
        page(
            "bare, Redis store's Cookie",
            format!("{r}/bare"),
            Some(&rcookie),
            rpid,
        ),
        page("bare, no Cookie", format!("{r}/bare"), None, rpid),
    ];
    let api = [
        page(
            "API call (Bearer), cookie store",
            format!("{c}/api"),
            Some(ccookie),
            cpid,
        ),
        page(
            "API call (Bearer), Redis store",
            format!("{r}/api"),
            Some(&rcookie),
            rpid,
        ),
    ];
    let samples = rounds_of(&list, rounds, s.secs, s.conns);
    let api_samples = rounds_of(&api, rounds, s.api_secs, s.conns);
    rep.push(&format!(
        "OAuth 2.0 apps, wrk with {} connections, {rounds} interleaved rounds of {} s (API calls {} s); the Redis app's cookie is its 43-byte session id, the cookie store's the whole encrypted record ({} bytes):\n\n",
        s.conns,
        s.secs,
        s.api_secs,
        ccookie.len()
    ));
    rep.push(&page_table(&list, &samples));
    rep.push(&page_table(&api, &api_samples)[crate::report::PAGE_HEADER.len()..]);
    let rps = |a: usize, b: usize| round_ratio(&samples[a], &samples[b], |x| x.s.rps);
    let errors: u64 = samples
        .iter()
        .chain(&api_samples)
        .flatten()
        .map(|x| x.s.errors)
        .sum();
    let page_vs_cookie = rps(1, 0);
    rep.goal(
        "(d) req/s, `&MwUser` page, Redis / cookie store",
        fmt_spread(page_vs_cookie, 2),
        "≥ 0.90",
        Some(page_vs_cookie.med >= 0.90 && errors == 0),
    );
    let page_vs_bare = rps(1, 4);
    rep.goal(
        "(d) req/s, `&MwUser` page (Redis) / bare without Cookie",
        fmt_spread(page_vs_bare, 2),
        "≥ 0.90",
        Some(page_vs_bare.med >= 0.90 && errors == 0),
    );
    let api_ratio = round_ratio(&api_samples[1], &api_samples[0], |x| x.s.rps);
    rep.goal(
        "(d) req/s, API call, Redis / cookie store",
        fmt_spread(api_ratio, 2),
        "measured",
        None,
    );

    if s.skip_callgrind {
        drop(app);
        return;
    }
    let (n1, n2) = s.callgrind_n;
    let dir = s.root.join("target/bench-results/callgrind-redis");
    let _ = std::fs::remove_dir_all(&dir);
    let cookie_pages = [
        ("bare, no Cookie", "/bare", None),
        ("bare, session Cookie", "/bare", Some(ccookie.as_str())),
        ("`&MwUser` page", "/user", Some(ccookie.as_str())),
        ("API call (Bearer)", "/api", Some(ccookie.as_str())),
    ];
    let redis_pages = [
        ("bare, no Cookie", "/bare", None),
        ("bare, session Cookie", "/bare", Some(rcookie.as_str())),
        ("`&MwUser` page", "/user", Some(rcookie.as_str())),
        ("API call (Bearer)", "/api", Some(rcookie.as_str())),
    ];
    let ic =
        instructions_per_request_with(spec2, &StoreSpec::Cookie, wiki, &dir, &cookie_pages, n1, n2)
            .await;
    let ir = instructions_per_request_with(spec2, &store, wiki, &dir, &redis_pages, n1, n2).await;
    drop(app);
    let (Some((ic, _)), Some((ir, _))) = (ic, ir) else {
        rep.push("\n(callgrind could not be run: instruction counts left out)\n\n");
        return;
    };
    let mut t = format!(
        "\nInstructions per request (callgrind, as above: (dump after {n2} − dump after {n1}) / {}), OAuth 2.0 apps:\n\n| request | cookie store | Redis store | Redis / cookie |\n|---|---|---|---|\n",
        n2 - n1
    );
    for (k, (name, _, _)) in cookie_pages.iter().enumerate() {
        t.push_str(&format!(
            "| {name} | {:.0} | {:.0} | {:.3} |\n",
            ic[k],
            ir[k],
            ir[k] / ic[k]
        ));
    }
    rep.push(&t);
    rep.push("\n");
    // Speed is the inverse of instructions per request.
    let vs_cookie = ic[2] / ir[2];
    rep.goal(
        "(d) instructions, `&MwUser` page: cookie store / Redis store (Redis page speed against cookie)",
        format!("{vs_cookie:.3}"),
        "≥ 0.90",
        Some(vs_cookie >= 0.90),
    );
    let vs_bare = ir[0] / ir[2];
    rep.goal(
        "(d) instructions, bare without Cookie / `&MwUser` page in Redis mode",
        format!("{vs_bare:.3}"),
        "≥ 0.90",
        Some(vs_bare >= 0.90),
    );
    rep.goal(
        "(d) instructions, API call: cookie store / Redis store",
        format!("{:.3}", ic[3] / ir[3]),
        "measured",
        None,
    );
}

/// One try: sign in on A, read the page once on B (B caches the record), log
/// out on A, then ask B with the old cookie as fast as possible until it
/// says no: how long (ms, after the logout's answer) and how many answers B
/// still served as signed in. `None` when the try could not be set up.
async fn stale_window(a: &str, b: &str) -> Option<(f64, u32)> {
    let cookie = cookie_after_login(&format!("{a}/login"), a).await;
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let page = |c: &reqwest::Client, url: String| {
        let req = c.get(url).header("Cookie", &cookie);
        async move {
            match req.send().await {
                Ok(r) if r.status().is_success() => {
                    r.text().await.is_ok_and(|t| t == "hello Alice")
                }
                _ => false,
            }
        }
    };
    if !page(&client, format!("{b}/user")).await {
        return None;
    }
    let out = client
        .get(format!("{a}/logout"))
        .header("Cookie", &cookie)
        .send()
        .await
        .ok()?;
    if !out.status().is_redirection() {
        return None;
    }
    let t0 = Instant::now();
    let mut stale = 0;
    while page(&client, format!("{b}/user")).await {
        stale += 1;
        if t0.elapsed() > Duration::from_secs(70) {
            break;
        }
    }
    Some((t0.elapsed().as_secs_f64() * 1000.0, stale))
}

/// How long a logged-out copy of the cookie is still served by another
/// instance: with the pub/sub link up, and with it down.
async fn logged_out_copies(ours: &Ours, server: &RedisServer, rep: &mut Report) {
    let (spec2, wiki) = (&ours.spec2, &ours.wiki);
    let store = server.store();
    let (pa, pb) = (free_port(), free_port());
    let to = |p: u16| Some(format!("http://127.0.0.1:{p}/oauth-callback"));
    let spec = crate::app::AppSpec {
        callback: to(pa),
        ..spec2.clone()
    };
    let (app_a, a) = start_app_with(&spec, &store, pa, &wiki.base_url()).await;
    let (app_b, b) = start_app_with(&spec, &store, pb, &wiki.base_url()).await;
    let tries = 50;
    let mut up = Vec::new();
    for _ in 0..tries {
        if let Some(w) = stale_window(&a, &b).await {
            up.push(w);
        }
    }
    let max_ms = up.iter().map(|w| w.0).fold(0.0, f64::max);
    let max_stale = up.iter().map(|w| w.1).max().unwrap_or(0);
    let total_stale: u32 = up.iter().map(|w| w.1).sum();
    rep.push(&format!(
        "A copy of the cookie taken before a logout on instance A, asked on instance B (which had the record cached) one request after the other from the moment A answered the logout, {tries} tries ({} set up): B stopped serving it after at most **{max_ms:.1} ms**; at most {max_stale} answer(s) of B still signed in, {total_stale} over all tries.\n\n",
        up.len()
    ));
    rep.goal(
        "(d) logged-out copy still served by another instance (pub/sub up), max over tries",
        format!(
            "{max_ms:.1} ms, {max_stale} stale answers at most ({}/{tries} tries)",
            up.len()
        ),
        "measured (milliseconds)",
        None,
    );
    // The subscription down: SUBSCRIBE refused (ACL) and the subscribers'
    // connections closed; GET, SET and PUBLISH still work.
    let down = server
        .command(&["ACL", "SETUSER", "default", "-subscribe"])
        .and_then(|_| server.command(&["CLIENT", "KILL", "TYPE", "pubsub"]));
    if down.is_ok() {
        tokio::time::sleep(Duration::from_secs(1)).await;
        let mut windows = Vec::new();
        for _ in 0..3 {
            if let Some(w) = stale_window(&a, &b).await {
                windows.push(w);
            }
        }
        let _ = server.command(&["ACL", "SETUSER", "default", "+subscribe"]);
        let max_down = windows.iter().map(|w| w.0).fold(0.0, f64::max);
        rep.push(&format!(
            "With B's subscription down (SUBSCRIBE refused by an ACL, its connection closed; Redis otherwise up), 3 tries ({} set up): B served the logged-out copy for up to **{:.0} ms** ({} answers at most), within the documented 5 s bound for a cached record while unsubscribed.\n\n",
            windows.len(),
            max_down,
            windows.iter().map(|w| w.1).max().unwrap_or(0),
        ));
        rep.goal(
            "(d) logged-out copy still served with the pub/sub link down, max",
            format!("{:.0} ms", max_down),
            "≤ 5,000 ms",
            Some(!windows.is_empty() && max_down <= 5_000.0 + 100.0),
        );
    } else {
        rep.push("(The pub/sub link could not be taken down: ACL refused.)\n\n");
    }
    drop((app_a, app_b));
}

/// Section 3 (a) in Redis mode: 100,000 forged sessions through one fresh
/// instance, RSS sampled.
async fn many_users_in_redis(s: &Settings, ours: &Ours, server: &RedisServer, rep: &mut Report) {
    let users = s.scale_users;
    let app_id = crate::scale::app_binding(&ours.wiki, &ours.spec1);
    let (cookies, forged_in) = match forge_sessions(server, users, &app_id) {
        Ok(x) => x,
        Err(e) => {
            rep.push(&format!(
                "(could not write the sessions into Redis: {e})\n\n"
            ));
            return;
        }
    };
    let (app, base) = start_app_with(
        &ours.spec1,
        &server.store(),
        free_port(),
        &ours.wiki.base_url(),
    )
    .await;
    let pid = app.0.id();
    let rss0 = proc_kb(pid, "VmRSS:");
    let run = many_users_with(&base, pid, cookies, 1, s.scale_secs, 16).await;
    drop(app);
    let at = |n: u64| run.rss_at(n);
    let full = 10_000u64.min(run.requests);
    let end_mb = run.rss_end();
    let max_after_full = run.rss_max_after(full);
    rep.push(&format!(
        "{users} distinct users in Redis mode (OAuth 1.0a app; their sessions written into Redis by the bench from the documented format, pipelined, in {forged_in:.1} s), each once, by 16 connections: {} requests in {:.1} s, **{:.0} req/s**, {} errors (every request a miss of the 4,096-entry record cache: a Redis GET). RSS: {:.1} MB at start, {:.1} MB after 4,096 users (the record cache is full), {:.1} MB after 10,000, {:.1} MB at the end; highest sample after 10,000 users {:.1} MB; peak (VmHWM) {:.1} MB.\n\n",
        run.requests,
        run.requests as f64 / run.rps.max(1e-9),
        run.rps,
        run.errors,
        rss0 as f64 / 1024.0,
        at(4096),
        at(10_000),
        end_mb,
        max_after_full,
        run.peak_kb as f64 / 1024.0,
    ));
    let growth = max_after_full - at(full);
    rep.goal(
        "(d) Redis mode: RSS growth after the cache is full (highest − at 10,000 users), 0 errors",
        format!(
            "{growth:.1} MB, {} errors, {}/{users} users",
            run.errors, run.requests
        ),
        "≤ 2 MB, 0 errors",
        Some(growth <= 2.0 && run.errors == 0 && run.requests as usize == users),
    );
}
