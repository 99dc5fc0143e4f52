//! What can go wrong talking to the wiki, and the wiki's words made plain.

use std::fmt;

use super::identity::IdentityError;
use crate::wire::Failure;

/// A failure talking to the wiki during sign-in or an identity check (or a
/// refusal by it).
#[derive(Debug, Clone)]
#[non_exhaustive]
pub enum WikiError {
    /// The wiki did not answer in time.
    Timeout,
    /// The wiki could not be reached (connection refused, DNS, TLS, …).
    Unreachable(String),
    /// The wiki answered with an HTTP error status.
    Status(u16),
    /// The wiki refused, with its message (`Error: …` or `{"error","message"}`).
    Refused {
        /// The message key, when the wiki gave one (JSON answers).
        key: Option<String>,
        /// The wiki's message, as plain text.
        message: String,
    },
    /// The wiki no longer accepts the user's grant: revoked, or (OAuth 2.0)
    /// a refresh the wiki refused.
    Revoked {
        /// The wiki's message.
        message: String,
    },
    /// The wiki's answer is larger than the crate reads.
    TooLarge {
        /// The limit, in bytes.
        limit: usize,
    },
    /// The wiki answered something that is not the protocol (HTML, garbage).
    Unexpected(String),
    /// The identity token did not verify.
    Identity(IdentityError),
    /// The request could not be built (a caller's mistake, e.g. a reserved parameter).
    BadRequest(String),
}

impl WikiError {
    /// Whether the wiki says the login was already completed (a replayed
    /// callback: its request token was used before, E009).
    pub(crate) fn is_used_up_login(&self) -> bool {
        matches!(self, WikiError::Refused { message, .. }
            if message.contains("E009") || message.contains("Authorization code has been revoked"))
    }

    /// Whether the wiki says the access token is no longer valid (revoked or unknown).
    pub fn is_revoked(&self) -> bool {
        matches!(self, WikiError::Revoked { .. })
            || matches!(self, WikiError::Refused { key: Some(k), .. }
            if k == "mwoauthdatastore-access-token-not-found"
                || k == "mwoauth-access-token-not-found"
                || k.starts_with("mwoauth-invalid-authorization"))
    }
}

impl WikiError {
    /// The same error with every text the wiki (or a proxy) sent made safe
    /// to show and log: `secrets` (what the request sent) and anything that
    /// looks like a secret's value masked ([`crate::wire::redact`]).
    pub(crate) fn redacted(self, secrets: &[&str]) -> WikiError {
        let r = |m: String| crate::wire::redact(&m, secrets);
        match self {
            WikiError::Unreachable(m) => WikiError::Unreachable(r(m)),
            WikiError::Refused { key, message } => WikiError::Refused {
                key: key.map(r),
                message: r(message),
            },
            WikiError::Revoked { message } => WikiError::Revoked {
                message: r(message),
            },
            WikiError::Unexpected(m) => WikiError::Unexpected(r(m)),
            other => other,
        }
    }

    /// Whether the wiki refused because of this app's settings (a wrong
    /// secret or callback), which no new login can mend.
    pub(crate) fn is_a_setting(&self) -> bool {
        matches!(self, WikiError::Refused { message, .. } if setting_to_check(message).is_some())
    }
}

/// Which setting of the app to check, from the wiki's refusal of a
/// handshake step (texts of Extension:OAuth, `observed-1.43.md` E1, E6, E8b,
/// OE1, O3y).
fn setting_to_check(message: &str) -> Option<&'static str> {
    if message.contains("Invalid signature") {
        Some(
            "check mwoauth.consumer_key and mwoauth.consumer_secret \
             (ROCKET_MWOAUTH_CONSUMER_SECRET): they must be the consumer token and secret this \
             wiki showed when the consumer was registered",
        )
    } else if message.contains("Invalid consumer") {
        Some(
            "check mwoauth.consumer_key: this wiki knows no consumer with that token (it may be \
             registered on another wiki, or not approved yet)",
        )
    } else if message.contains("Client authentication failed") {
        Some(
            "check mwoauth.client_id and mwoauth.client_secret (ROCKET_MWOAUTH_CLIENT_SECRET): \
             they must be the client application key and secret this wiki showed when the \
             client was registered",
        )
    } else if message.contains("oauth_callback must be set") {
        Some(
            "check mwoauth.callback: this consumer was registered without \"Allow consumer to \
             specify a callback\", so callback must be \"oob\"",
        )
    } else if message.contains("Invalid redirect URI")
        || message.contains("Check the `redirect_uri` parameter")
    {
        Some(
            "check mwoauth.callback: it must be the callback URL registered with the client, \
             exactly, or \"oob\"",
        )
    } else {
        None
    }
}

impl From<Failure> for WikiError {
    fn from(f: Failure) -> Self {
        match f {
            Failure::Timeout => WikiError::Timeout,
            Failure::Unreachable(m) => WikiError::Unreachable(m),
            Failure::TooLarge { limit } => WikiError::TooLarge { limit },
            Failure::NotUtf8 => WikiError::Unexpected("the answer is not UTF-8".into()),
        }
    }
}

impl From<reqwest::Error> for WikiError {
    fn from(e: reqwest::Error) -> Self {
        Failure::from(e).into()
    }
}

impl fmt::Display for WikiError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            WikiError::Timeout => f.write_str("the wiki did not answer in time"),
            WikiError::Unreachable(e) => write!(f, "the wiki could not be reached: {e}"),
            WikiError::Status(s) => write!(f, "the wiki answered with HTTP status {s}"),
            WikiError::Refused { message, .. } => {
                write!(f, "the wiki refused: {message}")?;
                match (clock_offset(message), setting_to_check(message)) {
                    (Some(offset), _) => write!(f, " ({})", clock_advice(offset)),
                    (None, Some(advice)) => write!(f, " ({advice})"),
                    (None, None) => Ok(()),
                }
            }
            WikiError::Revoked { message } => {
                write!(f, "the wiki no longer accepts this sign-in: {message}")
            }
            WikiError::TooLarge { limit } => {
                write!(f, "the wiki's answer is larger than {limit} bytes")
            }
            WikiError::Unexpected(e) => write!(f, "the wiki gave an unexpected answer: {e}"),
            WikiError::Identity(e) => write!(f, "the wiki's identity answer was rejected: {e}"),
            WikiError::BadRequest(e) => write!(f, "{e}"),
        }
    }
}

impl std::error::Error for WikiError {
    /// The identity token's error, when it did not verify.
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            WikiError::Identity(e) => Some(e),
            _ => None,
        }
    }
}

/// A request that cannot be authorized as given (a caller's mistake).
#[derive(Debug)]
pub(crate) struct RequestError(pub String);

/// This server's clock minus the wiki's, from a refusal's
/// "Expired timestamp, yours X, ours Y".
pub(crate) fn clock_offset(message: &str) -> Option<i64> {
    let rest = &message[message.find("Expired timestamp, yours ")? + 25..];
    let (yours, rest) = rest.split_once(", ours ")?;
    let ours: String = rest.chars().take_while(char::is_ascii_digit).collect();
    Some(
        yours
            .trim()
            .parse::<i64>()
            .ok()?
            .saturating_sub(ours.parse().ok()?),
    )
}

/// What an operator reads about a clock that is `offset` seconds off.
pub(crate) fn clock_advice(offset: i64) -> String {
    let (by, way) = if offset >= 0 {
        (offset, "ahead of")
    } else {
        (offset.saturating_neg(), "behind")
    };
    format!(
        "this server's clock is {by} s {way} the wiki's, which accepts 300 s: synchronize \
         this server's clock (NTP)"
    )
}

/// Turns a wiki message (HTML-escaped text with bits of markup) into plain text.
pub(crate) fn clean_wiki_message(message: &str) -> String {
    fn strip_tags(s: &str) -> String {
        let mut out = String::with_capacity(s.len());
        let mut in_tag = false;
        for c in s.chars() {
            match c {
                '<' => in_tag = true,
                '>' if in_tag => in_tag = false,
                _ if !in_tag => out.push(c),
                _ => {}
            }
        }
        out
    }
    let unescaped = strip_tags(message)
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&#039;", "'")
        .replace("&amp;", "&");
    let text = strip_tags(&unescaped);
    let text = text.split_whitespace().collect::<Vec<_>>().join(" ");
    let mut text: String = text.chars().take(500).collect();
    if text.is_empty() {
        text = "no message".into();
    }
    crate::wire::scrub(&text)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refusals_caused_by_a_setting_name_it() {
        let refused = |m: &str| WikiError::Refused {
            key: None,
            message: m.into(),
        };
        // The wiki's words, as captured (observed-1.43.md E1, E6, E8b, OE1, O3y).
        let cases = [
            ("An error occurred in the OAuth protocol: Invalid signature", "mwoauth.consumer_secret"),
            ("An error occurred in the OAuth protocol: Invalid consumer", "mwoauth.consumer_key"),
            ("Client authentication failed", "mwoauth.client_secret"),
            ("oauth_callback must be set, and must be set to \"oob\" (case-sensitive), or the configured callback must be a prefix of the supplied callback", "mwoauth.callback"),
            ("The request is missing a required parameter (Invalid redirect URI)", "mwoauth.callback"),
        ];
        for (message, key) in cases {
            let e = refused(message);
            assert!(e.is_a_setting(), "{message}");
            assert!(e.to_string().contains(key), "{e}");
        }
        let e = refused("This request has already been completed and cannot be resubmitted.");
        assert!(!e.is_a_setting());
        assert!(!e.to_string().contains("check mwoauth"), "{e}");
    }

    #[test]
    fn clock_offsets_from_refusals() {
        let m = "The authorization headers in your request are not valid: Expired timestamp, yours 1795827381, ours 1795830981";
        assert_eq!(clock_offset(m), Some(-3600));
        assert!(clock_advice(-3600).contains("3600 s behind"));
        assert_eq!(clock_offset("Expired timestamp, yours 9, ours 2."), Some(7));
        assert_eq!(clock_offset("Expired timestamp, yours x, ours 2"), None);
        assert_eq!(clock_offset("Invalid signature"), None);
    }
}
