//! A real Redis for the tests of `store = "redis"`: Debian's `redis-server`
//! on a free loopback port, in a temporary directory, stopped on drop.

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use rocket::figment::Figment;

/// A running `redis-server` of a test.
pub struct Redis {
    pub port: u16,
    child: Option<Child>,
    dir: PathBuf,
}

/// A random-looking prefix, as the README tells users to make one.
pub const PREFIX: &str = "t3st9f0a7c21be84d65e:";

impl Redis {
    /// Starts a server, or `None` (with a NOTICE) when `redis-server` is not
    /// installed; with `MWOAUTH_REQUIRE_PEERS=1` (CI) that panics instead.
    pub fn start() -> Option<Redis> {
        if Command::new("redis-server")
            .arg("--version")
            .stdout(Stdio::null())
            .status()
            .is_err()
        {
            if std::env::var("MWOAUTH_REQUIRE_PEERS").is_ok_and(|v| v == "1") {
                panic!("redis-server is required (MWOAUTH_REQUIRE_PEERS=1): apt-get install redis-server");
            }
            eprintln!(
                "NOTICE: skipping a Redis test: no redis-server (apt-get install redis-server)"
            );
            return None;
        }
        let port = super::free_port();
        let dir = std::env::temp_dir().join(format!("mwoauth-redis-{}-{port}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("a temporary directory");
        let mut redis = Redis {
            port,
            child: None,
            dir,
        };
        redis.restart();
        Some(redis)
    }

    /// (Re)starts the server on the same port (its data is gone: nothing is
    /// saved, as with a Redis that lost its memory).
    pub fn restart(&mut self) {
        let child = Command::new("redis-server")
            .args(["--port", &self.port.to_string(), "--bind", "127.0.0.1"])
            .arg("--dir")
            .arg(&self.dir)
            .args(["--save", "", "--appendonly", "no"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("redis-server starts");
        self.child = Some(child);
        let start = Instant::now();
        while std::net::TcpStream::connect(("127.0.0.1", self.port)).is_err() {
            assert!(
                start.elapsed() < Duration::from_secs(10),
                "redis-server listens"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Stops the server (kills it, as a crash would).
    pub fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    pub fn url(&self) -> String {
        format!("redis://127.0.0.1:{}/0", self.port)
    }

    /// `figment` with the Redis store on this server.
    pub fn configure(&self, figment: Figment) -> Figment {
        figment
            .merge(("mwoauth.store", "redis"))
            .merge(("mwoauth.redis_url", self.url()))
            .merge(("mwoauth.redis_prefix", PREFIX))
    }

    /// A plain connection for looking into the server.
    pub fn client(&self) -> redis::Connection {
        redis::Client::open(self.url())
            .unwrap()
            .get_connection()
            .expect("a connection to the test's Redis")
    }

    /// Every key of the server.
    pub fn keys(&self) -> Vec<String> {
        redis::cmd("KEYS")
            .arg("*")
            .query(&mut self.client())
            .unwrap()
    }
}

impl Drop for Redis {
    fn drop(&mut self) {
        self.stop();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}
