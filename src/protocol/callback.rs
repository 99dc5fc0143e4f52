//! The wiki's answer to the browser: the callback's query, read strictly,
//! as the [`Callback`] that names the pending login it finishes.

use super::error::clean_wiki_message;
use super::oauth1;

/// The longest callback query accepted: 16 KiB.
///
/// An OAuth 2.0 `code` is an encrypted league/oauth2-server payload, hex
/// encoded, so it grows by two characters for every byte of the consumer's
/// scopes, ids and `redirect_uri`. Real ones: 736–1,146 characters on
/// MediaWiki 1.39 (12 grants: 1,146), 890–964 on 1.43; a consumer with every
/// grant and a long callback URL stays under 4 KiB. 16 KiB is four times that
/// and more than ten times the largest code seen (a callback query of 1,190
/// bytes); beyond it a front proxy would refuse the request line anyway
/// (nginx's default `large_client_header_buffers` is 8 KiB).
const MAX_CALLBACK_QUERY: usize = 16 * 1024;

/// An authorization code: printable ASCII (its length is bounded by the
/// callback query's, [`MAX_CALLBACK_QUERY`]).
fn valid_code(s: &str) -> bool {
    !s.is_empty() && s.len() <= MAX_CALLBACK_QUERY && s.bytes().all(|b| b.is_ascii_graphic())
}

/// A well-formed callback from the wiki.
#[derive(Debug)]
pub(crate) struct Callback {
    key: String,
    pub(super) data: CallbackData,
}

#[derive(Debug)]
pub(super) enum CallbackData {
    OAuth1 { verifier: String },
    OAuth2 { code: String },
}

impl Callback {
    /// The key of the pending login this callback finishes ([`PendingLogin::key`]).
    pub(crate) fn login_key(&self) -> &str {
        &self.key
    }

    /// Whether this callback is of the protocol of `pending` (a callback
    /// shaped for the other one is the browser's or a link's mistake).
    pub(crate) fn finishes(&self, pending: &super::PendingLogin) -> bool {
        matches!(
            (&self.data, pending.is_oauth2()),
            (CallbackData::OAuth1 { .. }, false) | (CallbackData::OAuth2 { .. }, true)
        )
    }
}

/// Whether `words` are a denial as MediaWiki words it (league/oauth2-server's
/// texts, `observed-1.43.md`): these may be shown whoever sent the link, as
/// they say nothing a page on another site chose.
pub(crate) fn wiki_denial_text(words: &str) -> bool {
    const TEXTS: [&str; 2] = [
        // Cancel on the authorize dialog (MediaWiki 1.39 and 1.43; no `state`).
        "User has rejected the request from client application",
        "The resource owner or authorization server denied the request.",
    ];
    TEXTS.contains(&words)
}

/// A callback that finishes no login: malformed, or the user (or the wiki)
/// said no. It names the pending login when that part was well-formed (it is
/// used up all the same).
#[derive(Debug)]
pub(crate) struct BadCallback {
    pub message: String,
    pub login_key: Option<String>,
    /// The wiki's words when the authorization was denied (e.g. Cancel).
    pub denied: Option<String>,
}

/// The decoded values of `names` in a query, each given at most once
/// ("… is given twice" otherwise); other parameters are ignored.
fn query_values<const N: usize>(
    query: &str,
    names: [&str; N],
) -> Result<[Option<String>; N], String> {
    let mut values: [Option<String>; N] = std::array::from_fn(|_| None);
    for (k, v) in url::form_urlencoded::parse(query.as_bytes()) {
        let Some(i) = names.iter().position(|n| *n == k) else {
            continue;
        };
        if values[i].is_some() {
            return Err(format!("{k} is given twice"));
        }
        values[i] = Some(v.into_owned());
    }
    Ok(values)
}

/// Reads the callback's query strictly: no duplicates of the protocol's
/// parameters, nothing oversized or malformed. OAuth 1.0a answers with
/// `oauth_token` + `oauth_verifier`, OAuth 2.0 with `code` + `state` or
/// `error` (a Cancel on MediaWiki 1.39 comes without `state`).
pub(crate) fn read_callback(query: Option<&str>) -> Result<Callback, BadCallback> {
    let bad = |message: String, login_key: Option<String>| BadCallback {
        message,
        login_key,
        denied: None,
    };
    let query = query.unwrap_or_default();
    if query.is_empty() {
        // What the wiki links back to after an OAuth 1.0a Cancel ("You can
        // go back to …": the registered callback, bare).
        return Err(BadCallback {
            message: "the callback carries nothing".into(),
            login_key: None,
            denied: Some("you came back from the wiki without allowing the app".into()),
        });
    }
    if query.len() > MAX_CALLBACK_QUERY {
        return Err(bad("the query is too long".into(), None));
    }
    let is_oauth2 = url::form_urlencoded::parse(query.as_bytes())
        .any(|(k, _)| matches!(k.as_ref(), "code" | "state" | "error"));
    if is_oauth2 {
        let [code, state, error, error_description] =
            query_values(query, ["code", "state", "error", "error_description"])
                .map_err(|m| bad(m, None))?;
        let key = state.filter(|s| oauth1::valid_token(s));
        if let Some(error) = error {
            let words = error_description
                .map(|d| clean_wiki_message(&d))
                .unwrap_or_else(|| clean_wiki_message(&error));
            return Err(BadCallback {
                message: format!("the wiki did not authorize the sign-in: {words}"),
                login_key: key,
                denied: Some(words),
            });
        }
        let key = key.ok_or_else(|| bad("state is missing or malformed".into(), None))?;
        return match code.filter(|c| valid_code(c)) {
            Some(code) => Ok(Callback {
                key,
                data: CallbackData::OAuth2 { code },
            }),
            None => Err(bad("code is missing or malformed".into(), Some(key))),
        };
    }
    let [token, verifier] =
        query_values(query, ["oauth_token", "oauth_verifier"]).map_err(|m| bad(m, None))?;
    let key = token
        .filter(|t| oauth1::valid_token(t))
        .ok_or_else(|| bad("oauth_token is missing or malformed".into(), None))?;
    match verifier.filter(|v| oauth1::valid_token(v)) {
        Some(verifier) => Ok(Callback {
            key,
            data: CallbackData::OAuth1 { verifier },
        }),
        None => Err(bad(
            "oauth_verifier is missing or malformed".into(),
            Some(key),
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn callback_query_is_strict() {
        let c = read_callback(Some("oauth_verifier=abc&oauth_token=def&x=1")).unwrap();
        assert_eq!(c.login_key(), "def");
        let e = read_callback(Some("oauth_token=a&oauth_token=b")).unwrap_err();
        assert!(e.message.contains("twice"), "{}", e.message);
        assert!(read_callback(Some(&"x".repeat(MAX_CALLBACK_QUERY + 1))).is_err());
        let e = read_callback(Some("oauth_token=a%0Ab&oauth_verifier=v")).unwrap_err();
        assert_eq!(e.login_key, None);
        let e = read_callback(Some("oauth_token=abc&oauth_verifier=a%0Ab")).unwrap_err();
        assert_eq!(e.login_key.as_deref(), Some("abc"));
        // Back from an OAuth 1.0a Cancel page: cancelled, not malformed.
        let e = read_callback(None).unwrap_err();
        assert!(e.denied.is_some());
        assert!(read_callback(Some("")).unwrap_err().denied.is_some());
    }

    #[test]
    fn oauth2_callback_parameters_once_each() {
        let c = read_callback(Some("code=abc&state=xyz&other=1")).unwrap();
        assert_eq!(c.login_key(), "xyz");
        assert!(matches!(c.data, CallbackData::OAuth2 { ref code } if code == "abc"));
        let e = read_callback(Some("code=abc&state=a&state=b")).unwrap_err();
        assert!(e.message.contains("twice"), "{}", e.message);
        // A Cancel on MediaWiki 1.39 and 1.43: no state.
        let e = read_callback(Some("error=unauthorized_client&error_description=User+has+rejected+the+request+from+client+application")).unwrap_err();
        assert_eq!(e.login_key, None);
        assert_eq!(
            e.denied.as_deref(),
            Some("User has rejected the request from client application")
        );
    }
}
