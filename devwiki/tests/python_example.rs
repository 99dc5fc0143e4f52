//! Runs the README's Python examples (`examples/python/test_devwiki.py`,
//! OAuth 1.0a, and `test_devwiki_oauth2.py`, OAuth 2.0) with pytest against
//! this crate's `devwiki` binary.
//!
//! Needs a Python with `pytest requests requests_oauthlib mwoauth`, named by
//! `MWOAUTH_PYTHON` (as for `tests/interop_python.rs`). Without it the test
//! prints a notice and passes, unless `MWOAUTH_REQUIRE_PEERS=1` (CI), where
//! it fails.

use std::path::PathBuf;
use std::process::Command;

fn require_peers() -> bool {
    std::env::var("MWOAUTH_REQUIRE_PEERS").as_deref() == Ok("1")
}

fn skip(why: &str) {
    assert!(!require_peers(), "{why} (MWOAUTH_REQUIRE_PEERS=1)");
    eprintln!(
        "skipping: {why}; e.g. python3 -m venv .venv && .venv/bin/pip install pytest requests \
         requests_oauthlib mwoauth, then MWOAUTH_PYTHON=.venv/bin/python"
    );
}

/// The Python named by `MWOAUTH_PYTHON` if it has the example's modules.
fn python() -> Option<String> {
    let python = match std::env::var("MWOAUTH_PYTHON") {
        Ok(p) if !p.is_empty() => p,
        _ => {
            skip("MWOAUTH_PYTHON is not set");
            return None;
        }
    };
    let has_pytest = Command::new(&python)
        .args(["-c", "import pytest, requests, requests_oauthlib, mwoauth"])
        .output()
        .map(|o| o.status.success())
        .unwrap_or(false);
    if !has_pytest {
        skip(&format!(
            "{python} cannot import pytest, requests, requests_oauthlib and mwoauth"
        ));
        return None;
    }
    Some(python)
}

/// Runs `examples/python/<file>` with pytest; every test must pass.
fn run_example(python: &str, file: &str, tests: usize) {
    let example: PathBuf = [env!("CARGO_MANIFEST_DIR"), "examples", "python", file]
        .iter()
        .collect();
    let output = Command::new(python)
        .args(["-m", "pytest", "-q", "-rs", "-p", "no:cacheprovider"])
        .arg(&example)
        .env("DEVWIKI_BIN", env!("CARGO_BIN_EXE_devwiki"))
        .env("PYTHONDONTWRITEBYTECODE", "1")
        // The OAuth 2.0 example must say what it needs itself.
        .env_remove("OAUTHLIB_INSECURE_TRANSPORT")
        .output()
        .expect("run pytest");
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        output.status.success(),
        "pytest failed:\n{stdout}\n{stderr}"
    );
    let summary = stdout.lines().last().unwrap_or("");
    assert!(
        summary.contains(&format!("{tests} passed")) && !summary.contains("skipped"),
        "every example test must run and pass: {summary}\n{stdout}"
    );
}

#[test]
fn python_example_passes_against_the_binary() {
    if let Some(python) = python() {
        run_example(&python, "test_devwiki.py", 2);
    }
}

#[test]
fn python_oauth2_example_passes_against_the_binary() {
    if let Some(python) = python() {
        run_example(&python, "test_devwiki_oauth2.py", 2);
    }
}
