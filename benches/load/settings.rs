//! The bench's settings, read once from the environment.

use std::path::PathBuf;

/// Every setting of a run (see the crate documentation for the variables).
#[derive(Debug, Clone)]
pub struct Settings {
    /// The repository (the parent of this package's directory).
    pub root: PathBuf,
    /// Seconds per run of a page (`LOAD_SECONDS`).
    pub secs: u64,
    /// Seconds per run of an API call (`LOAD_API_SECONDS`).
    pub api_secs: u64,
    /// Keep-alive connections (`LOAD_CONNECTIONS`).
    pub conns: u32,
    /// Interleaved rounds (`LOAD_ROUNDS`).
    pub rounds: usize,
    /// Open-loop API calls per second (`LOAD_API_RATE`).
    pub api_rate: f64,
    /// Open-loop page requests per second (`LOAD_PAGE_RATE`).
    pub page_rate: f64,
    /// Open-loop logins per second (`LOAD_LOGIN_RATE`).
    pub login_rate: f64,
    /// Seconds of the no-leak run (`LEAK_SECONDS`).
    pub leak_secs: u64,
    /// Distinct users of section 3 (a) (`SCALE_USERS`).
    pub scale_users: usize,
    /// Time bound of section 3 (a) (`SCALE_SECONDS`).
    pub scale_secs: u64,
    /// Concurrent logins of section 3 (c) (`EXPIRY_USERS`).
    pub expiry_users: usize,
    /// Access-token lifetime where tokens expire on purpose (`TOKEN_LIFETIME`).
    pub lifetime: u64,
    /// Requests before the first and the second callgrind dump
    /// (`CALLGRIND_N1`, `CALLGRIND_N2`).
    pub callgrind_n: (usize, usize),
    /// `SKIP_PEERS`, `SKIP_SCALE`, `SKIP_CALLGRIND`, `SKIP_FLASK`.
    pub skip_peers: bool,
    pub skip_scale: bool,
    pub skip_callgrind: bool,
    pub skip_flask: bool,
    /// `LOAD_ONLY`: a comma-separated list of the sections to run (`api`,
    /// `ceiling`, `callgrind`, `logins`, `scale`, `peers`, `flask`); empty:
    /// all. A partial run writes only `target/bench-results/load.md`.
    pub only: Vec<String>,
}

impl Settings {
    pub fn from_env() -> Settings {
        let secs = env_or("LOAD_SECONDS", 3);
        Settings {
            root: PathBuf::from(env!("CARGO_MANIFEST_DIR"))
                .parent()
                .expect("benches/ is inside the repository")
                .to_path_buf(),
            secs,
            api_secs: env_or("LOAD_API_SECONDS", secs + 1),
            conns: env_or("LOAD_CONNECTIONS", 16),
            rounds: env_or("LOAD_ROUNDS", 5),
            api_rate: env_or("LOAD_API_RATE", 1000.0),
            page_rate: env_or("LOAD_PAGE_RATE", 4000.0),
            login_rate: env_or("LOAD_LOGIN_RATE", 200.0),
            leak_secs: env_or("LEAK_SECONDS", 20),
            scale_users: env_or("SCALE_USERS", 100_000),
            scale_secs: env_or("SCALE_SECONDS", 40),
            expiry_users: env_or("EXPIRY_USERS", 1000),
            lifetime: env_or("TOKEN_LIFETIME", 20),
            callgrind_n: (env_or("CALLGRIND_N1", 100), env_or("CALLGRIND_N2", 500)),
            skip_peers: skip("SKIP_PEERS"),
            skip_scale: skip("SKIP_SCALE"),
            skip_callgrind: skip("SKIP_CALLGRIND"),
            skip_flask: skip("SKIP_FLASK"),
            only: std::env::var("LOAD_ONLY")
                .unwrap_or_default()
                .split(',')
                .map(|s| s.trim().to_string())
                .filter(|s| !s.is_empty())
                .collect(),
        }
    }
}

impl Settings {
    /// Whether `section` runs (`LOAD_ONLY`).
    pub fn runs(&self, section: &str) -> bool {
        self.only.is_empty() || self.only.iter().any(|s| s == section)
    }
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
