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
        &["--oauth", "3"],
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

/// The text the binary prints for people, up to "Press Ctrl-C".
fn text_for_people(args: &[&str]) -> String {
    let mut child = Command::new(BIN)
        .args(["--port", "0"])
        .args(args)
        .env_remove("DEVWIKI_OAUTH")
        .env_remove("DEVWIKI_CALLBACK")
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
    text
}

/// The one `[default.mwoauth]` table of the text, up to its blank line.
fn the_one_block(text: &str) -> String {
    assert_eq!(
        text.matches("[default.mwoauth]").count(),
        1,
        "one block to paste: {text}"
    );
    let at = text.find("[default.mwoauth]\n").unwrap();
    let block = &text[at..];
    block[..block.find("\n\n").unwrap() + 1].to_string()
}

fn server_of(text: &str) -> String {
    text.lines()
        .find_map(|l| l.strip_prefix("  server ($wgServer, JWT iss): "))
        .unwrap()
        .to_string()
}

#[test]
fn text_for_people_has_one_rocket_toml_block_for_oauth2_by_default() {
    let app = "http://127.0.0.1:8001/oauth-callback";
    let text = text_for_people(&["--callback", app]);
    let server = server_of(&text);
    assert_eq!(
        the_one_block(&text),
        format!(
            "[default.mwoauth]\nbase_url = \"{server}/w\"\nclient_id = \"{}\"\nclient_secret = \"{}\"  # a development value of this local wiki\ncallback = \"{app}\"\nuser_agent = \"MyTool/0.1 (https://example.org/mytool; me@example.org)\"\n",
            devwiki::cli::DEV_OAUTH2_CLIENT_ID,
            devwiki::cli::DEV_OAUTH2_CLIENT_SECRET
        )
    );
    assert!(text.contains("--oauth 1 for OAuth 1.0a"), "{text}");
    assert!(text.contains(&format!("  redirect_uri:  {app} ")), "{text}");
    assert!(
        text.contains(&format!("  callback:        {app} ")),
        "{text}"
    );
    // The same from the environment.
    let mut child = Command::new(BIN)
        .args(["--port", "0", "--json"])
        .env("DEVWIKI_CALLBACK", app)
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    drop(Running(child));
    let info: serde_json::Value = serde_json::from_str(&line).expect(&line);
    assert_eq!(info["default_consumer"]["callback"], app);
    assert_eq!(info["oauth2_client"]["redirect_uri"], app);
}

#[test]
fn text_for_people_has_the_oauth1_block_when_asked() {
    let text = text_for_people(&["--oauth", "1"]);
    let server = server_of(&text);
    assert_eq!(
        the_one_block(&text),
        format!(
            "[default.mwoauth]\nbase_url = \"{server}/w\"\nconsumer_key = \"{}\"\nconsumer_secret = \"{}\"  # a development value of this local wiki\nuser_agent = \"MyTool/0.1 (https://example.org/mytool; me@example.org)\"\n",
            devwiki::cli::DEV_CONSUMER_KEY,
            devwiki::cli::DEV_CONSUMER_SECRET
        )
    );
    assert!(text.contains("--callback"), "{text}");
    assert!(text.contains("--oauth 2 for OAuth 2.0"), "{text}");
    // A prefix consumer: the app sends its callback, the block says which.
    let text = text_for_people(&[
        "--oauth",
        "1",
        "--callback-is-prefix",
        "--callback",
        "http://127.0.0.1:1/",
    ]);
    assert!(
        the_one_block(&text).contains(
            "\ncallback = \"http://127.0.0.1:8000/oauth-callback\"  # your app's own callback URL\n"
        ),
        "{text}"
    );
    // A public OAuth 2.0 client says so, and keeps its secret.
    let text = text_for_people(&["--oauth2-public"]);
    let block = the_one_block(&text);
    assert!(block.contains("\npublic_client = true\n"), "{block}");
    assert!(block.contains("\nclient_secret = \""), "{block}");
}

#[test]
fn help_says_what_oauth_and_callback_do() {
    let out = Command::new(BIN).arg("--help").output().unwrap();
    assert!(out.status.success());
    let help = String::from_utf8(out.stdout).unwrap();
    assert!(help.contains("--oauth 1|2"), "{help}");
    assert!(
        help.contains("OAuth 2.0 client (DEVWIKI_CALLBACK;"),
        "{help}"
    );
    assert!(
        help.contains("users) on stdout once the port is bound, and nothing else"),
        "{help}"
    );
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
