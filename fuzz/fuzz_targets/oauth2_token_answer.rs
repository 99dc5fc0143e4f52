//! The client's OAuth 2.0 token answer (`rest.php/oauth2/access_token`):
//! never panics; an accepted answer is an HTTP 200 Bearer answer whose
//! tokens are the ones it carries; a refused 200 answer is one of the
//! crate's own messages; and an error answer's message does not depend on
//! the `access_token` / `refresh_token` it carries (it never quotes them).
#![no_main]

use libfuzzer_sys::fuzz_target;
use rocket_mediawiki_oauth::fuzzing::oauth2_token_answer;
use rocket_mediawiki_oauth::WikiError;
use serde_json::Value;

const MESSAGES: &[&str] = &[
    "the wiki's token answer is not the JSON of OAuth 2.0",
    "the wiki's token answer is not usable: token_type is not Bearer",
    "the wiki's token answer is not usable: access_token is missing or malformed",
    "the wiki's token answer is not usable: refresh_token is malformed",
];

const STATUSES: &[u16] = &[400, 401, 403, 500, 502];

fuzz_target!(|data: &[u8]| {
    let Some((&first, rest)) = data.split_first() else {
        return;
    };
    let Ok(body) = std::str::from_utf8(rest) else {
        return;
    };
    let status = if first < 0xc0 {
        200
    } else {
        STATUSES[first as usize % STATUSES.len()]
    };
    let result = oauth2_token_answer(status, body);
    let value: Option<Value> = serde_json::from_str(body).ok();
    match (&result, status) {
        (Ok((access, refresh, lifetime)), 200) => {
            let v = value.expect("an accepted answer is JSON");
            let token_type = v["token_type"].as_str().expect("a token_type");
            assert!(token_type.eq_ignore_ascii_case("bearer"), "{token_type:?}");
            assert_eq!(Some(access.as_str()), v["access_token"].as_str());
            assert_eq!(refresh.as_deref(), v["refresh_token"].as_str());
            assert!(lifetime.is_none_or(|l| l >= 0), "{lifetime:?}");
        }
        (Ok(_), _) => panic!("accepted with HTTP {status}"),
        (Err(WikiError::Unexpected(message)), 200) => {
            assert!(MESSAGES.contains(&message.as_str()), "{message:?}")
        }
        (Err(e), 200) => panic!("{e:?}"),
        (Err(e), _) => {
            match e {
                WikiError::Refused { .. } => {}
                WikiError::Status(s) => assert_eq!(*s, status),
                e => panic!("{e:?}"),
            }
            // The same answer without its tokens reads the same.
            let Some(Value::Object(mut map)) = value else {
                return;
            };
            let full = serde_json::to_string(&map).unwrap();
            let reference = oauth2_token_answer(status, &full).unwrap_err().to_string();
            if reference != e.to_string() {
                // A repeated key: serde_json's map kept one of them.
                return;
            }
            map.remove("access_token");
            map.remove("refresh_token");
            let stripped = serde_json::to_string(&map).unwrap();
            let without = oauth2_token_answer(status, &stripped)
                .unwrap_err()
                .to_string();
            assert_eq!(without, reference, "{body:?}");
        }
    }
});
