//! api.php answers: an `error` (or first of `errors`) is an `Err` with its
//! code, JSON that is not an object is `InvalidJson`, and any other object
//! is the answer unchanged.
#![no_main]

use std::time::Duration;

use libfuzzer_sys::fuzz_target;
use rocket_mediawiki_oauth::fuzzing::{classify_answer, parse_answer};
use rocket_mediawiki_oauth::ApiError;
use serde_json::Value;

fn check_error(err: &ApiError, error: &Value, retry_after: Option<Duration>) {
    let code = error
        .get("code")
        .and_then(Value::as_str)
        .unwrap_or("unknown");
    assert_eq!(err.code(), Some(code), "{err:?} from {error}");
    match err {
        ApiError::Api { raw, .. } => assert_eq!(raw, error),
        ApiError::Maxlag { retry_after: r, .. } | ApiError::RateLimited { retry_after: r } => {
            assert_eq!(*r, retry_after)
        }
        _ => {}
    }
}

fuzz_target!(|data: &[u8]| {
    let Ok(body) = std::str::from_utf8(data) else {
        return;
    };
    let retry_after = (body.len() % 3 != 0).then(|| Duration::from_secs(body.len() as u64 % 90));
    let value = match parse_answer(body) {
        Ok(value) => value,
        Err(e) => {
            assert!(matches!(e, ApiError::InvalidJson { .. }), "{e:?}");
            return;
        }
    };
    let original = value.clone();
    let result = classify_answer(value, retry_after);
    let first_of_errors = original
        .get("errors")
        .and_then(Value::as_array)
        .and_then(|e| e.first());
    match (original.get("error"), first_of_errors) {
        (Some(error), _) | (None, Some(error)) => {
            let err = result.expect_err("an error answer is an Err");
            check_error(&err, error, retry_after);
        }
        (None, None) if !original.is_object() => {
            let err = result.expect_err("an answer that is not an object is an Err");
            assert!(matches!(err, ApiError::InvalidJson { .. }), "{err:?}");
        }
        (None, None) => assert_eq!(result.expect("not an error"), original),
    }
});
