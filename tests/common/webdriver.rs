//! A small W3C WebDriver client (enough to drive headless Chromium through
//! chromedriver): sessions, navigation, elements, windows, screenshots.
#![allow(dead_code)]

use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::{json, Value};

const ELEMENT_KEY: &str = "element-6066-11e4-a52e-4f735466cecf";

/// Where chromedriver is, if installed.
pub fn chromedriver_path() -> Option<String> {
    [
        "/usr/bin/chromedriver",
        "/usr/lib/chromium/chromedriver",
        "/usr/local/bin/chromedriver",
    ]
    .iter()
    .find(|p| std::path::Path::new(p).exists())
    .map(|p| p.to_string())
}

/// A chromedriver process on a loopback port, killed on drop.
pub struct Driver {
    child: Child,
    pub url: String,
}

impl Drop for Driver {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Driver {
    pub async fn start(path: &str) -> Driver {
        let port = super::free_port();
        let child = Command::new(path)
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("chromedriver starts");
        let url = format!("http://127.0.0.1:{port}");
        let http = reqwest::Client::new();
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            if let Ok(r) = http.get(format!("{url}/status")).send().await {
                if let Ok(v) = r.json::<Value>().await {
                    if v["value"]["ready"] == true {
                        break;
                    }
                }
            }
            assert!(
                Instant::now() < deadline,
                "chromedriver did not become ready"
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        Driver { child, url }
    }

    /// A new headless Chromium session with a fresh profile.
    pub async fn session(&self, profile: &std::path::Path) -> Session {
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(60))
            .build()
            .unwrap();
        let args = vec![
            "--headless=new".to_string(),
            "--no-sandbox".into(),
            "--disable-gpu".into(),
            "--disable-dev-shm-usage".into(),
            "--disable-quic".into(),
            "--no-first-run".into(),
            "--disable-background-networking".into(),
            "--disable-component-update".into(),
            "--disable-sync".into(),
            "--window-size=1024,768".into(),
            format!("--user-data-dir={}", profile.display()),
        ];
        let mut caps = json!({"browserName": "chrome", "goog:chromeOptions": {"args": args}});
        if let Some(bin) = ["/usr/bin/chromium", "/usr/bin/chromium-browser"]
            .iter()
            .find(|p| std::path::Path::new(p).exists())
        {
            caps["goog:chromeOptions"]["binary"] = json!(bin);
        }
        let r: Value = http
            .post(format!("{}/session", self.url))
            .json(&json!({"capabilities": {"alwaysMatch": caps}}))
            .send()
            .await
            .expect("new session")
            .json()
            .await
            .unwrap();
        let id = r["value"]["sessionId"]
            .as_str()
            .unwrap_or_else(|| panic!("no session: {r}"))
            .to_string();
        Session {
            http,
            base: format!("{}/session/{id}", self.url),
        }
    }
}

/// One browser session.
pub struct Session {
    http: reqwest::Client,
    base: String,
}

impl Session {
    async fn call(&self, method: reqwest::Method, path: &str, body: Option<Value>) -> Value {
        let mut req = self.http.request(method, format!("{}{path}", self.base));
        if let Some(b) = body {
            req = req.json(&b);
        }
        let v: Value = req
            .send()
            .await
            .expect("webdriver call")
            .json()
            .await
            .unwrap_or(Value::Null);
        v["value"].clone()
    }

    fn check(v: &Value, what: &str) -> Result<(), String> {
        if let Some(e) = v.get("error") {
            return Err(format!("{what}: {e} {}", v["message"]));
        }
        Ok(())
    }

    pub async fn goto(&self, url: &str) {
        let v = self
            .call(reqwest::Method::POST, "/url", Some(json!({"url": url})))
            .await;
        Self::check(&v, url).unwrap();
    }

    pub async fn current_url(&self) -> String {
        self.call(reqwest::Method::GET, "/url", None)
            .await
            .as_str()
            .unwrap_or_default()
            .to_string()
    }

    pub async fn source(&self) -> String {
        self.call(reqwest::Method::GET, "/source", None)
            .await
            .as_str()
            .unwrap_or_default()
            .to_string()
    }

    pub async fn find(&self, css: &str) -> Result<String, String> {
        let v = self
            .call(
                reqwest::Method::POST,
                "/element",
                Some(json!({"using": "css selector", "value": css})),
            )
            .await;
        Self::check(&v, css)?;
        v[ELEMENT_KEY]
            .as_str()
            .map(str::to_string)
            .ok_or_else(|| format!("no element {css}"))
    }

    /// Waits up to 10 s for an element.
    pub async fn wait_for(&self, css: &str) -> Result<String, String> {
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            match self.find(css).await {
                Ok(e) => return Ok(e),
                Err(e) if Instant::now() > deadline => return Err(e),
                Err(_) => tokio::time::sleep(Duration::from_millis(100)).await,
            }
        }
    }

    pub async fn click(&self, css: &str) -> Result<(), String> {
        let el = self.wait_for(css).await?;
        let v = self
            .call(
                reqwest::Method::POST,
                &format!("/element/{el}/click"),
                Some(json!({})),
            )
            .await;
        Self::check(&v, css)
    }

    pub async fn text(&self, css: &str) -> Result<String, String> {
        let el = self.wait_for(css).await?;
        let v = self
            .call(reqwest::Method::GET, &format!("/element/{el}/text"), None)
            .await;
        Self::check(&v, css)?;
        Ok(v.as_str().unwrap_or_default().to_string())
    }

    /// Runs a script in the page and returns its value.
    pub async fn script(&self, script: &str) -> Value {
        self.call(
            reqwest::Method::POST,
            "/execute/sync",
            Some(json!({"script": script, "args": []})),
        )
        .await
    }

    pub async fn new_tab(&self) -> String {
        let v = self
            .call(
                reqwest::Method::POST,
                "/window/new",
                Some(json!({"type": "tab"})),
            )
            .await;
        v["handle"].as_str().unwrap().to_string()
    }

    pub async fn current_tab(&self) -> String {
        self.call(reqwest::Method::GET, "/window", None)
            .await
            .as_str()
            .unwrap()
            .to_string()
    }

    pub async fn switch_to(&self, handle: &str) {
        let v = self
            .call(
                reqwest::Method::POST,
                "/window",
                Some(json!({"handle": handle})),
            )
            .await;
        Self::check(&v, "switch").unwrap();
    }

    pub async fn cookies(&self) -> Value {
        self.call(reqwest::Method::GET, "/cookie", None).await
    }

    /// Resizes the window (screenshots show the viewport only).
    pub async fn set_window_size(&self, width: u32, height: u32) -> Result<(), String> {
        let v = self
            .call(
                reqwest::Method::POST,
                "/window/rect",
                Some(json!({"width": width, "height": height})),
            )
            .await;
        Self::check(&v, "window size")
    }

    /// Saves a PNG screenshot of the window at `path`.
    pub async fn screenshot(&self, path: &std::path::Path) -> Result<(), String> {
        use base64::Engine;
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
        }
        let shot = self.call(reqwest::Method::GET, "/screenshot", None).await;
        Self::check(&shot, "screenshot")?;
        let png = shot
            .as_str()
            .and_then(|b| base64::engine::general_purpose::STANDARD.decode(b).ok())
            .ok_or_else(|| format!("screenshot: not base64: {shot}"))?;
        if !png.starts_with(b"\x89PNG\r\n\x1a\n") {
            return Err("screenshot: not a PNG".into());
        }
        std::fs::write(path, png).map_err(|e| format!("{}: {e}", path.display()))
    }

    /// Saves a screenshot and the page source under `dir` (for failures).
    pub async fn save_artifacts(&self, dir: &std::path::Path, name: &str) {
        use base64::Engine;
        let _ = std::fs::create_dir_all(dir);
        let shot = self.call(reqwest::Method::GET, "/screenshot", None).await;
        if let Some(png) = shot.as_str() {
            if let Ok(bytes) = base64::engine::general_purpose::STANDARD.decode(png) {
                let _ = std::fs::write(dir.join(format!("{name}.png")), bytes);
            }
        }
        let _ = std::fs::write(dir.join(format!("{name}.html")), self.source().await);
    }

    pub async fn quit(self) {
        let _ = self.http.delete(&self.base).send().await;
    }
}
