//! Helpers every section shares: the app's `secret_key`, loopback ports,
//! processes and their CPU and memory, browsers and cookies.

use std::process::Child;
use std::sync::Arc;
use std::time::Duration;

pub const SECRET_KEY: &str = "hPRYyVRiMyxpw5sBB1XeCMN1kFsDCqKvBi2QJxBVHQk=";

pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

pub struct Proc(pub Child);

impl Drop for Proc {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

pub async fn wait_ready(url: &str, tries: u32) -> bool {
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

/// CPU time (user + system) of a process and its children (gunicorn's
/// workers) so far, in seconds.
pub fn cpu_seconds(pid: u32) -> f64 {
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
pub fn own_cpu_seconds(pid: u32) -> f64 {
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

pub fn proc_kb(pid: u32, field: &str) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with(field))
                .and_then(|l| l.split_whitespace().nth(1)?.parse().ok())
        })
        .unwrap_or(0)
}

pub fn tree_kb(pid: u32, field: &str) -> u64 {
    let children =
        std::fs::read_to_string(format!("/proc/{pid}/task/{pid}/children")).unwrap_or_default();
    proc_kb(pid, field)
        + children
            .split_whitespace()
            .filter_map(|c| c.parse().ok())
            .map(|c| proc_kb(c, field))
            .sum::<u64>()
}

pub async fn cookie_after_login(login: &str, base: &str) -> String {
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

/// The `name=value` of one cookie in a `Cookie` header.
pub fn cookie_named<'a>(header: &'a str, name: &str) -> &'a str {
    header
        .split("; ")
        .find(|c| c.starts_with(&format!("{name}=")))
        .unwrap_or("")
}

/// A browser of one user: a client with its own cookie jar (cookies are per
/// host, so two instances on two ports of 127.0.0.1 share them, as two
/// instances behind one name would).
pub fn browser() -> reqwest::Client {
    reqwest::Client::builder()
        .cookie_store(true)
        .timeout(Duration::from_secs(120))
        .build()
        .unwrap()
}

pub async fn body_of(client: &reqwest::Client, url: &str) -> Option<String> {
    let r = client.get(url).send().await.ok()?;
    if !r.status().is_success() {
        return None;
    }
    r.text().await.ok()
}
