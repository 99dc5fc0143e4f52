//! A login-in-progress record (`mwoauth_login_<slot>`, encrypted): it
//! finishes a login only when it is the current format, names the callback's
//! login key and is at most ten minutes old, and then gives back its own
//! `next`.
#![no_main]

use libfuzzer_sys::fuzz_target;
use rocket_mediawiki_oauth::fuzzing::take_login;
use serde_json::Value;

const LIFETIME: i64 = 600;

fuzz_target!(|data: &[u8]| {
    let Ok(value) = std::str::from_utf8(data) else {
        return;
    };
    let record: Option<Value> = serde_json::from_str(value).ok();
    let key = record
        .as_ref()
        .and_then(|r| r["l"]["k"].as_str())
        .unwrap_or("requestkey")
        .to_string();
    let (taken, before, after) = take_login(value, &key);
    let Some((login_key, next)) = taken else {
        return;
    };
    let record: Value =
        serde_json::from_str(&value.replace('@', &before.to_string())).expect("a JSON record");
    assert_eq!(login_key, key);
    assert_eq!(record["v"], 2, "{record}");
    assert_eq!(record["n"].as_str(), Some(next.as_str()), "{record}");
    let created = record["at"].as_i64().expect("an integer time");
    assert!(after - created <= LIFETIME + (after - before), "{record}");
});
