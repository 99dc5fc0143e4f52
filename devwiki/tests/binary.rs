//! The `devwiki` binary: its `--json` line, its port-in-use message, and
//! its text for people.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};

const BIN: &str = env!("CARGO_BIN_EXE_devwiki");

/// Stops the child on drop, so a failing test leaves nothing running.
struct Running(Child);

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn start(args: &[&str]) -> (Running, String) {
    let mut child = Command::new(BIN)
        .args(args)
        .env_remove("DEVWIKI_PORT")
        .env_remove("DEVWIKI_HOST")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the devwiki binary starts");
    let stdout = child.stdout.take().unwrap();
    let mut first = String::new();
    BufReader::new(stdout)
        .read_line(&mut first)
        .expect("a line on stdout");
    (Running(child), first)
}

#[tokio::test]
async fn json_line_describes_a_working_wiki() {
    let (_wiki, line) = start(&[
        "--port",
        "0",
        "--json",
        "--auto-approve",
        "Alice",
        "--user",
        "Bob",
        "--script-path",
        "/mw",
        "--mediawiki",
        "1.43",
    ]);
    let info: serde_json::Value = serde_json::from_str(&line).expect(&line);
    assert_eq!(info["mediawiki"], "1.43");
    let server = info["server"].as_str().unwrap();
    assert!(server.starts_with("http://127.0.0.1:"), "{server}");
    assert_eq!(info["base_url"], format!("{server}/mw"));
    assert_eq!(info["index_url"], format!("{server}/mw/index.php"));
    assert_eq!(info["api_url"], format!("{server}/mw/api.php"));
    let consumer = &info["default_consumer"];
    assert_eq!(consumer["key"], devwiki::cli::DEV_CONSUMER_KEY);
    assert_eq!(consumer["secret"], devwiki::cli::DEV_CONSUMER_SECRET);
    assert_eq!(consumer["callback"], "http://127.0.0.1:8000/oauth-callback");
    assert_eq!(consumer["callback_is_prefix"], false);
    assert_eq!(info["switches"]["auto_approve"], "Alice");
    let users: Vec<&str> = info["users"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|u| u.as_str())
        .collect();
    assert!(
        users.contains(&"Alice") && users.contains(&"Bob"),
        "{users:?}"
    );
    // The URLs answer.
    let r = reqwest::get(format!(
        "{}?action=query&meta=siteinfo&format=json",
        info["api_url"].as_str().unwrap()
    ))
    .await
    .unwrap();
    assert_eq!(r.status(), 200);
    let body: serde_json::Value = r.json().await.unwrap();
    assert_eq!(body["query"]["general"]["scriptpath"], "/mw");
}

#[test]
fn a_taken_port_is_explained_in_a_sentence() {
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = taken.local_addr().unwrap().port();
    let out = Command::new(BIN)
        .args(["--port", &port.to_string()])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(
        err.trim_end(),
        format!("devwiki: port {port} on 127.0.0.1 is in use; choose another with --port 9090 or DEVWIKI_PORT=9090 (0 picks a free one)")
    );
    assert!(out.stdout.is_empty());
    // The environment variable says the same.
    let out = Command::new(BIN)
        .env("DEVWIKI_PORT", port.to_string())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("is in use; choose another"));
}

#[test]
fn bad_flags_exit_2_with_a_hint() {
    for args in [
        &["--port", "eighty"][..],
        &["--frobnicate"],
        &["--script-path", "w/"],
        &["--mediawiki", "1.40"],
    ] {
        let out = Command::new(BIN).args(args).output().unwrap();
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.starts_with("devwiki: "), "{err}");
        assert!(err.contains("--help"), "{err}");
    }
    let out = Command::new(BIN)
        .env("DEVWIKI_MEDIAWIKI", "latest")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("DEVWIKI_MEDIAWIKI: one of 1.39, 1.43, 1.47"),
        "{err}"
    );
    let out = Command::new(BIN)
        .args(["--auto-approve", "Nobody", "--port", "0"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("no such user"));
}

#[test]
fn text_for_people_has_a_rocket_toml_block() {
    let mut child = Command::new(BIN)
        .args(["--port", "0"])
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let guard = Running(child);
    let mut text = String::new();
    for line in BufReader::new(stdout).lines() {
        let line = line.unwrap();
        let done = line.starts_with("Press Ctrl-C");
        text.push_str(&line);
        text.push('\n');
        if done {
            break;
        }
    }
    drop(guard);
    let block = text
        .split("[default.mwoauth]\n")
        .nth(1)
        .expect("a Rocket.toml block");
    let server = text
        .lines()
        .find_map(|l| l.strip_prefix("  server ($wgServer, JWT iss): "))
        .unwrap();
    assert!(block.starts_with(&format!(
        "base_url = \"{server}/w\"\nconsumer_key = \"{}\"\nconsumer_secret = \"{}\"",
        devwiki::cli::DEV_CONSUMER_KEY,
        devwiki::cli::DEV_CONSUMER_SECRET
    )));
    assert!(block.contains("\nuser_agent = \""), "{block}");
    assert!(text.contains("--callback"), "{text}");
    // The OAuth 2.0 block.
    let block2 = text
        .split("[default.mwoauth]\n")
        .nth(2)
        .expect("a Rocket.toml block for OAuth 2.0");
    assert!(
        block2.starts_with(&format!(
            "oauth_version = 2\nbase_url = \"{server}/w\"\nclient_id = \"{}\"\nclient_secret = \"{}\"",
            devwiki::cli::DEV_OAUTH2_CLIENT_ID,
            devwiki::cli::DEV_OAUTH2_CLIENT_SECRET
        )),
        "{block2}"
    );
    assert!(block2.contains("\nuser_agent = \""), "{block2}");
}

#[tokio::test]
async fn json_line_has_the_oauth2_client_and_its_flags_work() {
    let id = "0123456789abcdef0123456789abcdef";
    let secret = "0123456789abcdef0123456789abcdef01234567";
    let (_wiki, line) = start(&[
        "--port",
        "0",
        "--json",
        "--auto-approve",
        "Alice",
        "--oauth2-client-id",
        id,
        "--oauth2-client-secret",
        secret,
        "--oauth2-public",
        "--oauth2-token-lifetime",
        "120",
    ]);
    let info: serde_json::Value = serde_json::from_str(&line).expect(&line);
    let server = info["server"].as_str().unwrap();
    let c = &info["oauth2_client"];
    assert_eq!(c["client_id"], id);
    assert_eq!(c["client_secret"], secret);
    assert_eq!(c["redirect_uri"], "http://127.0.0.1:8000/oauth-callback");
    assert_eq!(c["confidential"], false);
    let rest = format!("{server}/w/rest.php/oauth2");
    assert_eq!(c["endpoints"]["authorize"], format!("{rest}/authorize"));
    assert_eq!(
        c["endpoints"]["access_token"],
        format!("{rest}/access_token")
    );
    assert_eq!(
        c["endpoints"]["profile"],
        format!("{rest}/resource/profile")
    );
    assert_eq!(c["endpoints"]["scopes"], format!("{rest}/resource/scopes"));
    // A public client: client_credentials is refused; the lifetime applies.
    let http = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let r = http
        .post(format!("{rest}/access_token"))
        .form(&[
            ("grant_type", "client_credentials"),
            ("client_id", id),
            ("client_secret", secret),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401);
    assert_eq!(info["switches"]["oauth2_access_token_lifetime"], 120);
    // Without the flags: the fixed development credentials, confidential.
    let (_wiki2, line) = start(&["--port", "0", "--json"]);
    let info: serde_json::Value = serde_json::from_str(&line).expect(&line);
    assert_eq!(
        info["oauth2_client"]["client_id"],
        devwiki::cli::DEV_OAUTH2_CLIENT_ID
    );
    assert_eq!(info["oauth2_client"]["confidential"], true);
    for bad in [
        &["--oauth2-client-id", "XYZ"][..],
        &["--oauth2-client-secret", "short"],
        &["--oauth2-token-lifetime", "soon"],
        &["--profile-as", "mw1"],
    ] {
        let out = Command::new(BIN).args(bad).output().unwrap();
        assert_eq!(out.status.code(), Some(2), "{bad:?}");
    }
}
