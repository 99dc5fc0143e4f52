//! Section 3: scale.

use std::sync::Arc;
use std::time::{Duration, Instant};

use devwiki::DevWiki;

use crate::app::{start_app, start_app_with, AppSpec, Ours, StoreSpec};
use crate::common::{body_of, browser, free_port, proc_kb, SECRET_KEY};
use crate::drive::wrk;
use crate::redis_store::RedisServer;
use crate::report::Report;
use crate::settings::Settings;

/// A session cookie (`name=value`) for a user who never signed in through
/// this app: forged user `n` ("Scale user {n}", the user of
/// [`forged_record`]) in the crate's cookie format, sealed with the key
/// derived from the app's `secret_key` ([`crate::forge`]).
pub fn forged_session(key: &aes_gcm::Aes256Gcm, n: usize, now: i64, app: &str) -> String {
    let name = format!("Scale user {n}");
    let token = format!("{n:032x}");
    let user = crate::forge::User {
        name: &name,
        central_id: n as u64,
        editcount: (n % 5000) as u64,
        registered: "20100101000000",
        groups: &["*", "user", "autoconfirmed"],
        grants: &["basic", "editpage", "highvolume"],
        token: &token,
        secret: "e1125fdb4e24e12afcfab46333c48c52c13f4f41",
    };
    format!(
        "mwoauth_session={}",
        crate::forge::session_cookie(key, &user, now, app)
    )
}

/// The signed-in record (JSON) of forged user `n`, confirmed at `now`: an
/// OAuth 1.0a session of the app bound as `app` ([`app_binding`]), as the
/// crate writes it in a cookie or in Redis (format 2).
pub fn forged_record(n: usize, now: i64, app: &str) -> String {
    format!(
        r#"{{"v":2,"app":"{app}","cr":{{"p":"o1","k":"{n:032x}","s":"e1125fdb4e24e12afcfab46333c48c52c13f4f41"}},"u":{{"n":"Scale user {n}","i":{n},"e":{e},"b":false,"c":true,"r":"20100101000000","g":["*","user","autoconfirmed"],"gr":["basic","editpage","highvolume"]}},"at":{now}}}"#,
        e = n % 5000
    )
}

/// What binds a record of the app `spec` on `wiki` to it ([`crate::forge::app_binding`]).
pub fn app_binding(wiki: &DevWiki, spec: &AppSpec) -> String {
    crate::forge::app_binding(
        &format!("{}/api.php", wiki.base_url()),
        spec.oauth == 2,
        &spec.key,
    )
}

pub struct ScaleRun {
    pub users: usize,
    pub requests: u64,
    pub errors: u64,
    pub rps: f64,
    /// (requests done, RSS kB) samples.
    pub rss: Vec<(u64, u64)>,
    pub peak_kb: u64,
}

impl ScaleRun {
    /// RSS (MB) at the first sample after `n` requests.
    pub fn rss_at(&self, n: u64) -> f64 {
        self.rss
            .iter()
            .find(|(d, _)| *d >= n)
            .map_or(f64::NAN, |(_, kb)| *kb as f64 / 1024.0)
    }

    /// RSS (MB) at the last sample.
    pub fn rss_end(&self) -> f64 {
        self.rss
            .last()
            .map_or(f64::NAN, |(_, kb)| *kb as f64 / 1024.0)
    }

    /// The highest RSS (MB) sampled after `n` requests.
    pub fn rss_max_after(&self, n: u64) -> f64 {
        self.rss
            .iter()
            .filter(|(d, _)| *d >= n)
            .map(|(_, kb)| *kb as f64 / 1024.0)
            .fold(f64::NAN, f64::max)
    }
}

/// `users` distinct signed-in users, `cycles` times each in turn, by `conns`
/// connections at once (bounded by `secs`).
pub async fn many_users(
    base: &str,
    pid: u32,
    app: &str,
    users: usize,
    cycles: usize,
    secs: u64,
    conns: usize,
) -> ScaleRun {
    use base64::Engine;
    let master = base64::engine::general_purpose::STANDARD
        .decode(SECRET_KEY)
        .unwrap();
    let key = crate::forge::cookie_key(&master);
    let now = time::OffsetDateTime::now_utc().unix_timestamp();
    let cookies = (0..users)
        .map(|n| forged_session(&key, n, now, app))
        .collect();
    many_users_with(base, pid, cookies, cycles, secs, conns).await
}

/// [`many_users`] with the `Cookie` headers of the users given (user `n`
/// is "Scale user {n}").
pub async fn many_users_with(
    base: &str,
    pid: u32,
    cookies: Vec<String>,
    cycles: usize,
    secs: u64,
    conns: usize,
) -> ScaleRun {
    let users = cookies.len();
    let cookies = Arc::new(cookies);
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

/// `n` OAuth 2.0 logins at once, half starting on each instance (both send
/// the callback of `b`), then checked on both: the signed-in browsers, and the time taken.
pub async fn logins_at_once(a: &str, b: &str, n: usize) -> (Vec<reqwest::Client>, usize, f64) {
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
pub struct Burst {
    pub users: usize,
    pub all_ok: usize,
    pub some_failed: usize,
    pub signed_out_after: usize,
    pub refreshes: u64,
}

/// Every browser sends `targets.len()` API requests at once (one to each
/// target, in parallel), then one more to the first target: who got all
/// answers, who is signed out afterwards, and how many refreshes the wiki saw.
pub async fn burst(wiki: &DevWiki, browsers: &[reqwest::Client], targets: &[String]) -> Burst {
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

/// Section 3, scale: (a) many distinct users, (b) many connections, (c) many
/// logins at once and their tokens expiring at once.
/// With `LOAD_ONLY`, `scale` runs it all, `expiry` (c) alone, `redis` (d) alone.
pub async fn section(s: &Settings, ours: &Ours, rep: &mut Report) {
    rep.push("\n## 3. Scale\n\n");
    let all = s.runs("scale");
    if all {
        many_distinct_users(s, ours, rep).await;
        connections(s, ours, rep);
    }
    let server = RedisServer::start();
    if server.is_none() {
        rep.push("(no redis-server: the Redis figures are skipped)\n\n");
    }
    if all || s.runs("expiry") {
        expiry(s, ours, rep).await;
        expiry_more(s, ours, server.as_ref(), rep).await;
    }
    if all || s.runs("redis") {
        crate::redis_store::section(s, ours, server.as_ref(), rep).await;
    }
}

/// Section 3 (a): many distinct users through one fresh instance.
async fn many_distinct_users(s: &Settings, ours: &Ours, rep: &mut Report) {
    let &Settings {
        scale_users,
        scale_secs,
        ..
    } = s;
    let (spec1, wiki) = (&ours.spec1, &ours.wiki);
    let (app, base) = start_app(spec1, free_port(), &wiki.base_url()).await;
    let pid = app.0.id();
    let rss0 = proc_kb(pid, "VmRSS:");
    let run = many_users(
        &base,
        pid,
        &app_binding(wiki, spec1),
        scale_users,
        2,
        scale_secs,
        16,
    )
    .await;
    drop(app);
    let at = |n: u64| run.rss_at(n);
    let full = 10_000u64.min(run.requests);
    let end_mb = run.rss_end();
    let max_after_full = run.rss_max_after(full);
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
}

/// Section 3 (b): the `MwUser` page by 1 to 512 connections.
fn connections(s: &Settings, ours: &Ours, rep: &mut Report) {
    let secs = s.secs;
    let (base1, base2) = (&ours.base1, &ours.base2);
    let (cookie1, cookie2) = (&ours.cookie1, &ours.cookie2);
    rep.push(&format!("\n(b) The `MwUser` page by 1, 16, 128 and 512 connections ({secs} s each, one run, the two protocols interleaved):\n\n| connections | 1.0a req/s | 1.0a p99 ms | 2.0 req/s | 2.0 p99 ms | errors |\n|---|---|---|---|---|---|\n"));
    let mut t = String::new();
    for c in [1u32, 16, 128, 512] {
        let a = wrk(&format!("{base1}/user"), Some(cookie1), secs, c);
        let b = wrk(&format!("{base2}/user"), Some(cookie2), secs, c);
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
}

/// Section 3 (c): OAuth 2.0 logins at once across two instances, then every access
/// token expiring at once.
async fn expiry(s: &Settings, ours: &Ours, rep: &mut Report) {
    let &Settings {
        expiry_users,
        lifetime,
        ..
    } = s;
    let (spec2, wiki) = (&ours.spec2, &ours.wiki);
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
        &wiki.base_url(),
    )
    .await;
    let (app_b, b) = start_app(
        &AppSpec {
            callback: to(pb),
            ..spec2.clone()
        },
        pb,
        &wiki.base_url(),
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
    let one = burst(wiki, &browsers, &vec![format!("{a}/api"); 4]).await;
    tokio::time::sleep(Duration::from_secs(lifetime + 1)).await;
    let two = burst(
        wiki,
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
            one.signed_out_after == 0 && one.some_failed == 0 && one.refreshes == one.users as u64,
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

/// What [`expiry_case`] measured: the logins, then one burst per pattern.
struct ExpiryCase {
    signed_in: usize,
    failed: usize,
    took: f64,
    bursts: Vec<Burst>,
}

/// `instances` apps of `spec` keeping sessions in `store` (all calling back
/// to the second), `users` OAuth 2.0 logins at once across the first two;
/// then for each pattern (indices of instances, four per user): every
/// access token expires and each user sends its four API requests at once.
async fn expiry_case(
    wiki: &DevWiki,
    spec: &AppSpec,
    store: &StoreSpec,
    instances: usize,
    users: usize,
    lifetime: u64,
    patterns: &[[usize; 4]],
) -> ExpiryCase {
    let ports: Vec<u16> = (0..instances).map(|_| free_port()).collect();
    let spec = AppSpec {
        callback: Some(format!("http://127.0.0.1:{}/oauth-callback", ports[1])),
        ..spec.clone()
    };
    let mut apps = Vec::new();
    let mut bases = Vec::new();
    for p in &ports {
        let (app, base) = start_app_with(&spec, store, *p, &wiki.base_url()).await;
        apps.push(app);
        bases.push(base);
    }
    wiki.set_oauth2_access_token_lifetime(lifetime);
    let (browsers, failed, took) = logins_at_once(&bases[0], &bases[1], users).await;
    let mut bursts = Vec::new();
    for pattern in patterns {
        tokio::time::sleep(Duration::from_secs(lifetime + 1)).await;
        let targets: Vec<String> = pattern
            .iter()
            .map(|i| format!("{}/api", bases[*i]))
            .collect();
        bursts.push(burst(wiki, &browsers, &targets).await);
    }
    wiki.set_oauth2_access_token_lifetime(3600);
    drop(apps);
    ExpiryCase {
        signed_in: browsers.len(),
        failed,
        took,
        bursts,
    }
}

/// Section 3 (c), continued: the same expiry with the sessions in Redis (2
/// and 3 instances, MediaWiki 1.39), and in cookies against MediaWiki 1.47
/// (its refresh-token grace period).
async fn expiry_more(s: &Settings, ours: &Ours, server: Option<&RedisServer>, rep: &mut Report) {
    let &Settings {
        expiry_users,
        lifetime,
        ..
    } = s;
    let mut rows = String::new();
    let row = |where_: &str, c: &ExpiryCase, b: &Burst| {
        format!(
            "| {where_} | {}/{} signed in ({} failed, {:.1} s) | {} | {} | {} | {} |\n",
            c.signed_in,
            expiry_users,
            c.failed,
            c.took,
            b.all_ok,
            b.some_failed,
            b.signed_out_after,
            b.refreshes
        )
    };
    let goal = |rep: &mut Report, what: &str, c: &ExpiryCase, b: &Burst, exact: bool| {
        rep.goal(
            what,
            format!(
                "{} signed out, {} with a failed request, {} refreshes / {} users ({} logins failed)",
                b.signed_out_after, b.some_failed, b.refreshes, b.users, c.failed
            ),
            if exact {
                "0 signed out, 0 failed, refreshes = users"
            } else {
                "0 signed out, 0 failed"
            },
            Some(
                b.signed_out_after == 0
                    && b.some_failed == 0
                    && c.failed == 0
                    && b.users == expiry_users
                    && (!exact || b.refreshes == b.users as u64),
            ),
        );
    };
    match server {
        Some(server) => {
            let c = expiry_case(
                &ours.wiki,
                &ours.spec2,
                &server.store(),
                3,
                expiry_users,
                lifetime,
                &[[0, 1, 0, 1], [0, 1, 2, 0]],
            )
            .await;
            rows.push_str(&row(
                "Redis store, two instances (2 + 2), MediaWiki 1.39",
                &c,
                &c.bursts[0],
            ));
            rows.push_str(&row(
                "Redis store, three instances (2 + 1 + 1), MediaWiki 1.39",
                &c,
                &c.bursts[1],
            ));
            goal(
                rep,
                "(c) Redis store, two instances at expiry (MediaWiki 1.39)",
                &c,
                &c.bursts[0],
                true,
            );
            goal(
                rep,
                "(c) Redis store, three instances at expiry (MediaWiki 1.39)",
                &c,
                &c.bursts[1],
                true,
            );
        }
        None => rows.push_str("| Redis store | skipped (no redis-server) | | | | |\n"),
    }
    let wiki47 = DevWiki::start(devwiki::DevWikiConfig {
        auto_approve: Some("Alice".into()),
        mediawiki: devwiki::MediaWikiVersion::V1_47,
        ..devwiki::DevWikiConfig::default()
    })
    .await
    .expect("the MediaWiki 1.47 wiki starts");
    let consumer = wiki47.register_consumer(devwiki::ConsumerSpec {
        name: "Bench (Rust, OAuth 2.0, MediaWiki 1.47)".into(),
        callback: "http://127.0.0.1:1/oauth-callback".into(),
        grants: ours.grants.clone(),
        oauth2: true,
        ..Default::default()
    });
    let spec47 = AppSpec {
        oauth: 2,
        key: consumer.key.clone(),
        secret: consumer.secret.clone(),
        callback: None,
    };
    let c = expiry_case(
        &wiki47,
        &spec47,
        &StoreSpec::Cookie,
        2,
        expiry_users,
        lifetime,
        &[[0, 1, 0, 1]],
    )
    .await;
    wiki47.shutdown().await;
    rows.push_str(&row(
        "cookie store, two instances (2 + 2), MediaWiki 1.47 (refresh-token grace period)",
        &c,
        &c.bursts[0],
    ));
    goal(
        rep,
        "(c) cookie store, two instances at expiry, MediaWiki 1.47 (refreshes may exceed users)",
        &c,
        &c.bursts[0],
        false,
    );
    rep.push(&format!(
        "The same expiry ({expiry_users} new logins each, across A and B; tokens of {lifetime} s), in the Redis store (one refresh per session across instances: a lock in Redis) and, for comparison, in the cookie store against a MediaWiki 1.47 wiki, which accepts a refresh token again within its grace period:\n\n| where | logins | all four answered | some failed | signed out after | refreshes at the wiki |\n|---|---|---|---|---|---|\n{rows}\n"
    ));
}
