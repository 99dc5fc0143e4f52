//! The typed error of the MediaWiki API client.

use std::fmt;
use std::time::Duration;

use serde_json::Value;

use crate::protocol::{RequestError, WikiError};
use crate::wire::Failure;

/// Why an api.php request failed. Match on it; new variants may come.
#[derive(Debug)]
#[non_exhaustive]
pub enum ApiError {
    /// The request could not be sent or the answer not read.
    Transport(String),
    /// The wiki did not answer in time.
    Timeout,
    /// The wiki answered with an HTTP error status (not 429).
    Http {
        /// The status code.
        status: u16,
    },
    /// The answer is larger than the client reads.
    TooLarge {
        /// The limit, in bytes.
        limit: usize,
    },
    /// The answer is not the JSON the API sends.
    InvalidJson {
        /// What went wrong, with the start of the body.
        message: String,
    },
    /// The wiki does not accept the session's authorization: revoked or
    /// unknown grant, bad signature, replayed nonce, stale timestamp, or an
    /// anonymous answer to `assert=user` (`mwoauth-invalid-authorization*`,
    /// `assertuserfailed`). The user should sign in again.
    Authorization {
        /// The API error code.
        code: String,
        /// The API's explanation.
        info: String,
    },
    /// The wiki refused the request's signature itself — bad signature,
    /// timestamp outside ±300 s (a clock off), unknown consumer, or a replayed
    /// nonce (`mwoauth-invalid-authorization` with such an `info`). Not the
    /// user's fault, so not a reason to sign them out: a server clock or the
    /// consumer configuration needs fixing.
    Rejected {
        /// The API error code.
        code: String,
        /// The API's explanation, e.g. "…: Expired timestamp, yours X, ours Y".
        info: String,
    },
    /// The CSRF (or other) token was not accepted, even after a fresh one.
    BadToken {
        /// The API's explanation.
        info: String,
    },
    /// The wiki's replicas lag more than `maxlag` allowed, even after retries.
    Maxlag {
        /// Seconds of lag reported.
        lag: f64,
        /// How long the wiki asked us to wait.
        retry_after: Option<Duration>,
    },
    /// The wiki is in read-only mode.
    ReadOnly {
        /// The reason for the read-only mode (the error's `readonlyreason`),
        /// or the API's explanation when the wiki gives no reason.
        info: String,
    },
    /// Rate limited (HTTP 429 or `ratelimited`).
    RateLimited {
        /// How long the wiki asked us to wait.
        retry_after: Option<Duration>,
    },
    /// Any other API error: `{"error": {"code", "info", …}}`.
    Api {
        /// The API error code, e.g. `cantcreate`, `missingtitle`.
        code: String,
        /// The API's explanation.
        info: String,
        /// The whole `error` object, as sent.
        raw: Value,
    },
    /// The caller's request cannot be made (e.g. a reserved `oauth_*` parameter).
    InvalidRequest(String),
    /// The user is blocked: from this action (`blocked`, `autoblocked`, with
    /// the wiki's `blockinfo` in `raw`), or from using apps at all
    /// (`mwoauth-invalid-authorization-blocked-user`: a locked account, or a
    /// block on a wiki with `$wgBlockDisablesLogin`). Not a reason to sign
    /// out: the sign-in works again when the block ends.
    Blocked {
        /// The API error code.
        code: String,
        /// The API's explanation.
        info: String,
        /// The whole `error` object, as sent (`blockinfo`: who, why, until when).
        raw: Value,
    },
    /// The user has no account on the wiki asked
    /// (`mwoauth-invalid-authorization-invalid-user`): usually another wiki
    /// of a farm ([`ApiClient::at`](crate::ApiClient::at)) where the global
    /// account is not attached yet. Visiting that wiki once while signed in
    /// creates the local account.
    NotAttached {
        /// The API error code.
        code: String,
        /// The API's explanation.
        info: String,
    },
    /// The wiki does not let this app be used (any more): its consumer is not
    /// approved, was disabled, or is owner-only for someone else
    /// (`mwoauth-invalid-authorization-not-approved`). The app's maintainer
    /// must act; signing in again does not help.
    AppNotApproved {
        /// The API error code.
        code: String,
        /// The API's explanation (it names the app).
        info: String,
    },
    /// The user may not do this with this app (`permissiondenied`): they lack
    /// the right on the wiki, or did not give the app the grant that carries
    /// it (an app's session has the user's rights that its grants allow).
    PermissionDenied {
        /// The API error code.
        code: String,
        /// The API's explanation.
        info: String,
        /// The whole `error` object, as sent.
        raw: Value,
    },
    /// More requests of this user were already in flight than
    /// [`ApiOptions::max_concurrent_per_user`](crate::ApiOptions) allows, and
    /// none finished within [`ApiOptions::max_queue_wait`](crate::ApiOptions).
    /// Nothing was sent.
    TooManyInFlight {
        /// The limit of requests in flight per user.
        limit: usize,
        /// How long this request waited for its turn.
        waited: Duration,
    },
}

impl ApiError {
    /// The same error with every text the wiki (or a proxy) sent made safe
    /// to show and log ([`crate::wire::redact`]).
    pub(crate) fn redacted(self, secrets: &[&str]) -> ApiError {
        let r = |m: String| crate::wire::redact(&m, secrets);
        match self {
            ApiError::Transport(m) => ApiError::Transport(r(m)),
            ApiError::InvalidJson { message } => ApiError::InvalidJson {
                message: r(message),
            },
            ApiError::Authorization { code, info } => ApiError::Authorization {
                code: r(code),
                info: r(info),
            },
            ApiError::Rejected { code, info } => ApiError::Rejected {
                code: r(code),
                info: r(info),
            },
            ApiError::BadToken { info } => ApiError::BadToken { info: r(info) },
            ApiError::ReadOnly { info } => ApiError::ReadOnly { info: r(info) },
            ApiError::Api { code, info, raw } => ApiError::Api {
                code: r(code),
                info: r(info),
                raw: redact_json(raw, secrets),
            },
            other => other,
        }
    }

    /// The API error code, for errors that have one.
    pub fn code(&self) -> Option<&str> {
        match self {
            ApiError::Authorization { code, .. }
            | ApiError::Rejected { code, .. }
            | ApiError::Blocked { code, .. }
            | ApiError::NotAttached { code, .. }
            | ApiError::AppNotApproved { code, .. }
            | ApiError::PermissionDenied { code, .. }
            | ApiError::Api { code, .. } => Some(code),
            ApiError::BadToken { .. } => Some("badtoken"),
            ApiError::Maxlag { .. } => Some("maxlag"),
            ApiError::ReadOnly { .. } => Some("readonly"),
            ApiError::RateLimited { .. } => Some("ratelimited"),
            _ => None,
        }
    }

    /// Whether the user's authorization is gone (sign them out).
    pub fn is_authorization(&self) -> bool {
        matches!(self, ApiError::Authorization { .. })
    }

    /// Classifies an API `error` object.
    pub(crate) fn from_error_object(error: &Value, retry_after: Option<Duration>) -> ApiError {
        let code = error
            .get("code")
            .and_then(Value::as_str)
            .unwrap_or("unknown")
            .to_string();
        let info = error
            .get("info")
            .or_else(|| error.get("text"))
            .or_else(|| error.get("*"))
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_string();
        match code.as_str() {
            "mwoauth-invalid-authorization"
                if [
                    "Invalid signature",
                    "Expired timestamp",
                    "Invalid consumer",
                    "Nonce already used",
                ]
                .iter()
                .any(|reason| info.contains(reason)) =>
            {
                ApiError::Rejected { code, info }
            }
            "blocked" | "autoblocked" | "mwoauth-invalid-authorization-blocked-user" => {
                ApiError::Blocked {
                    code,
                    info,
                    raw: error.clone(),
                }
            }
            c if c == "mwoauth-invalid-authorization-invalid-user"
                || c.ends_with("not-attached") =>
            {
                ApiError::NotAttached { code, info }
            }
            "mwoauth-invalid-authorization-not-approved" => ApiError::AppNotApproved { code, info },
            "permissiondenied" => ApiError::PermissionDenied {
                code,
                info,
                raw: error.clone(),
            },
            c if c.starts_with("mwoauth-invalid-authorization")
                || c == "assertuserfailed"
                || c == "assertnameduserfailed" =>
            {
                ApiError::Authorization { code, info }
            }
            "badtoken" => ApiError::BadToken { info },
            "maxlag" => ApiError::Maxlag {
                lag: error.get("lag").and_then(Value::as_f64).unwrap_or(0.0),
                retry_after,
            },
            "readonly" => ApiError::ReadOnly {
                info: error
                    .get("readonlyreason")
                    .and_then(Value::as_str)
                    .filter(|r| !r.trim().is_empty())
                    .map(str::to_string)
                    .unwrap_or(info),
            },
            "ratelimited" => ApiError::RateLimited { retry_after },
            _ => ApiError::Api {
                code,
                info,
                raw: error.clone(),
            },
        }
    }
}

impl fmt::Display for ApiError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ApiError::Transport(e) => write!(f, "the wiki could not be reached: {e}"),
            ApiError::Timeout => f.write_str("the wiki did not answer in time"),
            ApiError::Http { status } => write!(f, "the wiki answered with HTTP status {status}"),
            ApiError::TooLarge { limit } => {
                write!(f, "the wiki's answer is larger than {limit} bytes")
            }
            ApiError::InvalidJson { message } => {
                write!(f, "the wiki's answer is not valid JSON: {message}")
            }
            ApiError::Rejected { code, info } => {
                write!(
                    f,
                    "the wiki rejected the request's signature ({code}): {info}"
                )?;
                match crate::protocol::clock_offset(info) {
                    Some(offset) => write!(f, " ({})", crate::protocol::clock_advice(offset)),
                    None => Ok(()),
                }
            }
            ApiError::Authorization { code, info } => write!(
                f,
                "the wiki no longer accepts this sign-in ({code}): {info}"
            ),
            ApiError::BadToken { info } => write!(f, "the wiki did not accept the token: {info}"),
            ApiError::Maxlag { lag, .. } => {
                write!(f, "the wiki is lagged by {lag} seconds; try again later")
            }
            ApiError::ReadOnly { info } => write!(f, "the wiki is read-only: {info}"),
            ApiError::RateLimited { .. } => {
                f.write_str("the wiki is rate-limiting these requests; try again later")
            }
            ApiError::Api { code, info, .. } => write!(f, "API error {code}: {info}"),
            ApiError::InvalidRequest(e) => write!(f, "invalid API request: {e}"),
            ApiError::Blocked { info, .. } => write!(
                f,
                "you are blocked on the wiki, so this app cannot act for you ({info}); it works \
                 again when the block ends, and the wiki's block notice says how to appeal"
            ),
            ApiError::NotAttached { info, .. } => write!(
                f,
                "your account does not exist on that wiki yet ({info}); visit the wiki once \
                 while signed in to create it there, then try again"
            ),
            ApiError::AppNotApproved { info, .. } => write!(
                f,
                "the wiki does not allow this app to be used ({info}); its consumer is not \
                 approved or was disabled, so its maintainer must fix it"
            ),
            ApiError::PermissionDenied { info, .. } => write!(
                f,
                "the wiki did not allow this ({info}); you may lack the right on the wiki, or \
                 not have given this app the grant it needs: log in again and allow it"
            ),
            ApiError::TooManyInFlight { limit, waited } => write!(
                f,
                "{limit} requests of this user were already in flight and none finished within \
                 {} s; try again later",
                waited.as_secs()
            ),
        }
    }
}

impl std::error::Error for ApiError {}

impl From<Failure> for ApiError {
    fn from(f: Failure) -> Self {
        match f {
            Failure::Timeout => ApiError::Timeout,
            Failure::Unreachable(m) => ApiError::Transport(m),
            Failure::TooLarge { limit } => ApiError::TooLarge { limit },
            Failure::NotUtf8 => ApiError::InvalidJson {
                message: "the answer is not UTF-8".into(),
            },
        }
    }
}

impl From<RequestError> for ApiError {
    fn from(e: RequestError) -> Self {
        ApiError::InvalidRequest(e.0)
    }
}

/// A failed refresh of OAuth 2.0 credentials, in the API's terms.
impl From<WikiError> for ApiError {
    fn from(e: WikiError) -> Self {
        match e {
            WikiError::Timeout => ApiError::Timeout,
            WikiError::Unreachable(m) => ApiError::Transport(m),
            WikiError::Status(status) => ApiError::Http { status },
            WikiError::TooLarge { limit } => ApiError::TooLarge { limit },
            WikiError::BadRequest(m) => ApiError::InvalidRequest(m),
            WikiError::Revoked { message } => ApiError::Authorization {
                code: "mwoauth-invalid-authorization".into(),
                info: message,
            },
            WikiError::Refused { key, message } => ApiError::Rejected {
                code: key.unwrap_or_else(|| "refused".into()),
                info: message,
            },
            WikiError::Unexpected(message) => ApiError::InvalidJson { message },
            WikiError::Identity(e) => ApiError::InvalidJson {
                message: e.to_string(),
            },
        }
    }
}

impl From<reqwest::Error> for ApiError {
    fn from(e: reqwest::Error) -> Self {
        Failure::from(e).into()
    }
}

/// Every string in `value` with secrets masked ([`crate::wire::redact`]).
fn redact_json(value: Value, secrets: &[&str]) -> Value {
    match value {
        Value::String(s) => Value::String(crate::wire::redact(&s, secrets)),
        Value::Array(a) => Value::Array(a.into_iter().map(|v| redact_json(v, secrets)).collect()),
        Value::Object(o) => Value::Object(
            o.into_iter()
                .map(|(k, v)| (k, redact_json(v, secrets)))
                .collect(),
        ),
        other => other,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn classifies_real_errors() {
        let e = ApiError::from_error_object(
            &json!({"code":"mwoauth-invalid-authorization","info":"The authorization headers in your request are not valid: No approved grant was found for that authorization token.","*":"See …"}),
            None,
        );
        assert!(e.is_authorization());
        for reason in [
            "Invalid signature",
            "Expired timestamp, yours 1, ours 2",
            "Invalid consumer",
            "Nonce already used: x",
        ] {
            let e = ApiError::from_error_object(
                &json!({"code":"mwoauth-invalid-authorization","info":format!("The authorization headers in your request are not valid: {reason}")}),
                None,
            );
            assert!(matches!(e, ApiError::Rejected { .. }), "{reason}");
            assert!(!e.is_authorization(), "{reason}: not a reason to sign out");
        }
        let e = ApiError::from_error_object(
            &json!({"code":"maxlag","info":"Waiting for x: 7 seconds lagged","lag":7,"type":"db"}),
            Some(Duration::from_secs(5)),
        );
        assert!(matches!(e, ApiError::Maxlag { lag, retry_after: Some(_) } if lag == 7.0));
        let e = ApiError::from_error_object(&json!({"code":"cantcreate","info":"no"}), None);
        assert_eq!(e.code(), Some("cantcreate"));
        let e = ApiError::from_error_object(
            &json!({"code":"badtoken","info":"Invalid CSRF token."}),
            None,
        );
        assert!(matches!(e, ApiError::BadToken { .. }));
        let e = ApiError::from_error_object(
            &json!({"code":"readonly","info":"The wiki is currently in read-only mode.","readonlyreason":"Switching data centres"}),
            None,
        );
        assert!(matches!(&e, ApiError::ReadOnly { info } if info == "Switching data centres"));
        assert_eq!(
            e.to_string(),
            "the wiki is read-only: Switching data centres"
        );
        let e = ApiError::from_error_object(
            &json!({"code":"readonly","info":"The wiki is currently in read-only mode.","readonlyreason":""}),
            None,
        );
        assert!(
            matches!(&e, ApiError::ReadOnly { info } if info == "The wiki is currently in read-only mode.")
        );
    }

    #[test]
    fn classifies_what_real_users_hit() {
        let e = ApiError::from_error_object(
            &json!({"code":"blocked","info":"You have been blocked from editing.","blockinfo":{"blockid":1}}),
            None,
        );
        assert!(matches!(&e, ApiError::Blocked { raw, .. } if raw["blockinfo"]["blockid"] == 1));
        assert!(!e.is_authorization(), "a block ends: no reason to sign out");
        for (code, info) in [
            ("mwoauth-invalid-authorization-blocked-user", "The authorization headers in your request are for a user who is blocked"),
            ("mwoauth-invalid-authorization-invalid-user", "The authorization headers in your request are for a user that does not exist here"),
            ("mwoauth-invalid-authorization-not-approved", "The app that you are trying to connect seems to be set up incorrectly. Contact the author of \"X\" for help."),
            ("permissiondenied", "You don't have permission to edit this page."),
        ] {
            let e = ApiError::from_error_object(&json!({"code":code,"info":info}), None);
            let typed = match code {
                "mwoauth-invalid-authorization-blocked-user" => matches!(e, ApiError::Blocked { .. }),
                "mwoauth-invalid-authorization-invalid-user" => matches!(e, ApiError::NotAttached { .. }),
                "mwoauth-invalid-authorization-not-approved" => matches!(e, ApiError::AppNotApproved { .. }),
                _ => matches!(e, ApiError::PermissionDenied { .. }),
            };
            assert!(typed, "{code}: {e:?}");
            assert_eq!(e.code(), Some(code));
            assert!(!e.is_authorization(), "{code}: signing out does not help");
            assert!(e.to_string().contains(info), "{e}");
        }
    }
}
