//! Interop of DevWiki with the real Python clients: `mwoauth` (handshake and
//! identify) and `requests_oauthlib` / `oauthlib` (signed api.php calls).
//!
//! Needs a Python with `mwoauth requests requests_oauthlib` installed, named
//! by the environment variable `MWOAUTH_PYTHON`, e.g.
//!
//! ```text
//! python3 -m venv /tmp/mwvenv && /tmp/mwvenv/bin/pip install mwoauth requests requests_oauthlib
//! MWOAUTH_PYTHON=.venv/bin/python cargo test -p devwiki --test interop_python
//! ```
//!
//! Without it the test prints a notice and passes (CI always sets it).

use std::path::PathBuf;
use std::process::Command;

use devwiki::{DevWiki, DevWikiConfig};
use serde_json::Value;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mwoauth_and_requests_oauthlib_against_devwiki() {
    let python = match std::env::var("MWOAUTH_PYTHON") {
        Ok(p) if !p.is_empty() => p,
        _ => {
            assert!(
                std::env::var("MWOAUTH_REQUIRE_PEERS").as_deref() != Ok("1"),
                "MWOAUTH_PYTHON must name a Python with mwoauth installed (MWOAUTH_REQUIRE_PEERS=1)"
            );
            eprintln!(
                "skipping: set MWOAUTH_PYTHON to a Python with `mwoauth requests requests_oauthlib` \
                 installed (e.g. python3 -m venv /tmp/mwvenv && /tmp/mwvenv/bin/pip install mwoauth \
                 requests requests_oauthlib; MWOAUTH_PYTHON=/tmp/mwvenv/bin/python)"
            );
            return;
        }
    };
    let wiki = DevWiki::start(DevWikiConfig {
        auto_approve: Some("Alice".into()),
        ..DevWikiConfig::default()
    })
    .await
    .expect("devwiki starts");
    let consumer = wiki.default_consumer();
    let script: PathBuf = [
        env!("CARGO_MANIFEST_DIR"),
        "tests",
        "interop",
        "mwoauth_client.py",
    ]
    .iter()
    .collect();
    let args = vec![
        script.display().to_string(),
        wiki.index_url(),
        wiki.api_url(),
        wiki.server(),
        consumer.key.clone(),
        consumer.secret.clone(),
    ];
    // The server runs on this runtime: wait for Python off the async threads.
    let output = tokio::task::spawn_blocking(move || Command::new(&python).args(&args).output())
        .await
        .expect("join")
        .expect("run the Python interpreter named by MWOAUTH_PYTHON");
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        output.status.success(),
        "python failed:\n{stderr}\n{stdout}"
    );
    let out: Value = serde_json::from_str(stdout.trim())
        .unwrap_or_else(|e| panic!("bad JSON ({e}): {stdout}\n{stderr}"));

    // Handshake and identify through mwoauth.
    assert!(out["authorize_url"]
        .as_str()
        .unwrap()
        .contains("title=Special%3AOAuth%2Fauthenticate"));
    assert_eq!(out["authorize_status"], 302);
    assert!(out["callback_location"]
        .as_str()
        .unwrap()
        .starts_with(&format!("{}?oauth_verifier=", consumer.callback)));
    assert_eq!(out["access_token_len"], 32);
    assert_eq!(out["access_secret_len"], 40);
    let id = &out["identity"];
    assert_eq!(id["iss"], wiki.server());
    assert_eq!(id["aud"], consumer.key);
    assert_eq!(id["sub"], "2");
    assert_eq!(id["username"], "Alice");
    assert_eq!(id["blocked"], false);
    assert_eq!(
        id["grants"],
        serde_json::json!({"0": "basic", "2": "editpage", "3": "highvolume", "4": "createeditmovepage"})
    );
    assert_eq!(out["identity_exp_minus_iat"], 100);

    // api.php through requests_oauthlib.
    assert_eq!(out["userinfo"]["name"], "Alice");
    assert_eq!(out["userinfo"]["id"], 2);
    assert_eq!(out["userinfo"]["editcount"].as_i64(), Some(1236));
    assert_eq!(out["csrf_suffix"], "+\\");
    assert_eq!(out["edit"]["result"], "Success", "{}", out["edit"]);
    assert_eq!(out["edit"]["new"], "");
    assert_eq!(out["read_back"]["user"], "Alice");
    assert_eq!(out["read_back"]["content"], out["edit_text"]);
    assert_eq!(
        wiki.page_text("Python interop").as_deref(),
        out["edit_text"].as_str()
    );

    // Errors in the real shape.
    let prefix = "The authorization headers in your request are not valid: ";
    for case in [
        "bad_signature",
        "replayed_nonce",
        "stale_timestamp",
        "unknown_token",
        "unknown_consumer",
        "revoked_token",
    ] {
        let e = &out[case];
        assert_eq!(e["status"], 200, "{case}: {e}");
        assert_eq!(e["header"], "mwoauth-invalid-authorization", "{case}: {e}");
        assert_eq!(e["code"], "mwoauth-invalid-authorization", "{case}: {e}");
        assert_eq!(e["has_docref"], true, "{case}: {e}");
        assert!(
            e["info"].as_str().unwrap().starts_with(prefix),
            "{case}: {e}"
        );
    }
    let info = |case: &str| out[case]["info"].as_str().unwrap()[prefix.len()..].to_string();
    assert_eq!(info("bad_signature"), "Invalid signature");
    assert_eq!(out["replay_first_name"], "Alice");
    assert_eq!(
        info("replayed_nonce"),
        format!(
            "Nonce already used: {}",
            out["replayed_nonce_value"].as_str().unwrap()
        )
    );
    assert!(info("stale_timestamp").starts_with(&format!(
        "Expired timestamp, yours {}, ours ",
        out["stale_timestamp_value"]
    )));
    assert_eq!(
        info("unknown_token"),
        "No approved grant was found for that authorization token."
    );
    assert_eq!(info("unknown_consumer"), "Invalid consumer");
    assert_eq!(
        out["initiate_bad_secret"],
        "An error occurred in the OAuth protocol: Invalid signature"
    );
    assert_eq!(out["revoke_control"]["revoked"], true);
    assert_eq!(
        info("revoked_token"),
        "No approved grant was found for that authorization token."
    );
    assert_eq!(
        out["identify_revoked"],
        "A MediaWiki API error occurred: No approved grant was found for that authorization token."
    );
    assert_eq!(out["renewed_differs"], true);
    wiki.shutdown().await;
}
