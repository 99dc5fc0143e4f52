//! The client's OAuth 2.0 profile answer (`rest.php/oauth2/resource/profile`):
//! never panics, and an accepted profile has a non-empty name (the
//! `username` given) and the central id of the `sub` given.
#![no_main]

use libfuzzer_sys::fuzz_target;
use rocket_mediawiki_oauth::fuzzing::oauth2_profile;
use rocket_mediawiki_oauth::WikiError;
use serde_json::Value;

fuzz_target!(|data: &[u8]| {
    let Ok(body) = std::str::from_utf8(data) else {
        return;
    };
    let result = oauth2_profile(body);
    let value: Option<Value> = serde_json::from_str(body.trim()).ok();
    let sub = value.as_ref().and_then(|v| match &v["sub"] {
        Value::Number(n) => n.as_u64(),
        Value::String(s) => s.parse::<u64>().ok(),
        _ => None,
    });
    match result {
        Ok(user) => {
            let v = value.expect("an accepted profile is JSON");
            assert!(!user.user.name.is_empty());
            assert_eq!(Some(user.user.name.as_str()), v["username"].as_str());
            assert_eq!(Some(user.user.central_id), sub, "{body:?}");
        }
        Err(WikiError::Refused { key, .. }) => {
            assert_eq!(key.as_deref(), Some("hidden-user"));
            assert!(sub.is_some(), "{body:?}");
            let name = value.as_ref().and_then(|v| v["username"].as_str());
            assert!(name.is_none_or(str::is_empty), "{body:?}");
        }
        Err(WikiError::Unexpected(_)) => {}
        Err(e) => panic!("{e:?}"),
    }
});
