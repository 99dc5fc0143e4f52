//! The English texts of the messages the real server answers with
//! (Extension:OAuth `i18n/en.json`), and MediaWiki's ways of rendering them:
//! `escaped()` for `format=raw`, `text()` for `format=json`, parsed HTML for
//! pages.

/// A message parameter: plain text, or raw HTML (`Message::rawParam`).
#[derive(Clone, Debug)]
pub(crate) enum P {
    Text(String),
    Raw(String),
}

/// A message: its key, its English template and its parameters.
#[derive(Clone, Debug)]
pub(crate) struct Msg {
    pub key: &'static str,
    template: String,
    params: Vec<P>,
}

/// PHP `htmlspecialchars($s, ENT_QUOTES)`.
pub(crate) fn escape_html(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#039;"),
            c => out.push(c),
        }
    }
    out
}

/// The help link MediaWiki adds to error details (`Linker::makeExternalLink`).
fn err_link(code: &str) -> P {
    P::Raw(format!(
        "<a class=\"external\" href=\"https://www.mediawiki.org/wiki/Help:OAuth/Errors#{code}\">{code}</a>"
    ))
}

impl Msg {
    fn new(key: &'static str, template: &str, params: Vec<P>) -> Msg {
        Msg {
            key,
            template: template.to_string(),
            params,
        }
    }

    /// Splits the template at `$N` and feeds literal parts and parameters.
    fn render(
        &self,
        mut literal: impl FnMut(&str) -> String,
        mut param: impl FnMut(&P) -> String,
    ) -> String {
        let t = self.template.as_str();
        let bytes = t.as_bytes();
        let mut out = String::new();
        let mut last = 0;
        let mut i = 0;
        while i < bytes.len() {
            if bytes[i] == b'$'
                && i + 1 < bytes.len()
                && bytes[i + 1].is_ascii_digit()
                && bytes[i + 1] != b'0'
            {
                let n = usize::from(bytes[i + 1] - b'0');
                out.push_str(&literal(&t[last..i]));
                match self.params.get(n - 1) {
                    Some(p) => out.push_str(&param(p)),
                    None => out.push_str(&literal(&t[i..i + 2])),
                }
                i += 2;
                last = i;
            } else {
                i += 1;
            }
        }
        out.push_str(&literal(&t[last..]));
        out
    }

    /// `Message::escaped()`: HTML-escaped, raw parameters kept as they are.
    pub(crate) fn escaped(&self) -> String {
        self.render(escape_html, |p| match p {
            P::Text(s) => escape_html(s),
            P::Raw(s) => s.clone(),
        })
    }

    /// `Message::text()` / `plain()`: everything substituted as is.
    pub(crate) fn text(&self) -> String {
        self.render(str::to_string, |p| match p {
            P::Text(s) | P::Raw(s) => s.clone(),
        })
    }

    /// The message as page HTML: paragraphs at blank lines, wiki links made
    /// into links, the template's own HTML kept, text parameters escaped.
    pub(crate) fn html(&self) -> String {
        let body = self.render(render_wikitext_literal, |p| match p {
            P::Text(s) => escape_html(s),
            P::Raw(s) => s.clone(),
        });
        body.split("\n\n")
            .filter(|p| !p.trim().is_empty())
            .map(|p| format!("<p>{}\n</p>", p.trim_end()))
            .collect::<Vec<_>>()
            .join("")
    }
}

/// Turns the little wikitext found in these templates into HTML.
fn render_wikitext_literal(s: &str) -> String {
    let mut out = String::new();
    let mut rest = s;
    while let Some(start) = rest.find('[') {
        out.push_str(&rest[..start]);
        let after = &rest[start..];
        if let Some(inner) = after.strip_prefix("[[") {
            if let Some(end) = inner.find("]]") {
                let target = &inner[..end];
                let (page, label) = target.split_once('|').unwrap_or((target, target));
                out.push_str(&format!(
                    "<a href=\"/wiki/{}\">{}</a>",
                    escape_html(&page.replace(' ', "_")),
                    label
                ));
                rest = &inner[end + 2..];
                continue;
            }
        } else if let Some(end) = after.find(']') {
            let inner = &after[1..end];
            if let Some((url, label)) = inner.split_once(' ') {
                out.push_str(&format!(
                    "<a class=\"external\" href=\"{}\">{}</a>",
                    escape_html(url),
                    label
                ));
                rest = &after[end + 1..];
                continue;
            }
        }
        out.push('[');
        rest = &after[1..];
    }
    out.push_str(rest);
    out
}

// --- Extension:OAuth messages -------------------------------------------------

/// `mwoauth-oauth-exception`: a plain `OAuthException` text.
pub(crate) fn oauth_exception(detail: &str) -> Msg {
    Msg::new(
        "mwoauth-oauth-exception",
        "An error occurred in the OAuth protocol: $1",
        vec![P::Text(detail.to_string())],
    )
}

/// `mwoauth-callback-not-oob`
pub(crate) fn callback_not_oob() -> Msg {
    Msg::new(
        "mwoauth-callback-not-oob",
        "oauth_callback must be set, and must be set to \"oob\" (case-sensitive)",
        vec![],
    )
}

/// `mwoauth-callback-not-oob-or-prefix`
pub(crate) fn callback_not_oob_or_prefix() -> Msg {
    Msg::new(
        "mwoauth-callback-not-oob-or-prefix",
        "oauth_callback must be set, and must be set to \"oob\" (case-sensitive), or the configured callback must be a prefix of the supplied callback.",
        vec![],
    )
}

/// `mwoauthdatastore-request-token-not-found` (E004)
pub(crate) fn request_token_not_found() -> Msg {
    Msg::new(
        "mwoauthdatastore-request-token-not-found",
        "Sorry, something went wrong connecting this application.\nGo back and try to connect your account again, or contact the application author.\n\n<span class=\"plainlinks mw-mwoautherror-details\">OAuth token not found, $1</span>",
        vec![err_link("E004")],
    )
}

/// `mwoauthdatastore-request-token-already-used` (E009)
pub(crate) fn request_token_already_used() -> Msg {
    Msg::new(
        "mwoauthdatastore-request-token-already-used",
        "This request has already been completed and cannot be resubmitted.\nGo back to the application and try to connect your account again, or contact the application author.\n\n<span class=\"plainlinks mw-mwoautherror-details\">OAuth token already used, $1</span>",
        vec![err_link("E009")],
    )
}

/// `mwoauthdatastore-access-token-not-found`
pub(crate) fn access_token_not_found() -> Msg {
    Msg::new(
        "mwoauthdatastore-access-token-not-found",
        "No approved grant was found for that authorization token.",
        vec![],
    )
}

/// `mwoauthdatastore-callback-not-found`
pub(crate) fn callback_not_found() -> Msg {
    Msg::new(
        "mwoauthdatastore-callback-not-found",
        "OAuth callback URL not found in cache. This is probably an error in how the application makes requests to the server.",
        vec![],
    )
}

/// `mwoauthdatastore-bad-token`
pub(crate) fn bad_token() -> Msg {
    Msg::new(
        "mwoauthdatastore-bad-token",
        "No token was found matching your request.",
        vec![],
    )
}

/// `mwoauthdatastore-bad-verifier`
pub(crate) fn bad_verifier() -> Msg {
    Msg::new(
        "mwoauthdatastore-bad-verifier",
        "The verification code provided was not valid.",
        vec![],
    )
}

/// `mwoauthserver-bad-consumer-key` (E006)
pub(crate) fn bad_consumer_key() -> Msg {
    Msg::new(
        "mwoauthserver-bad-consumer-key",
        "Sorry, something went wrong connecting this application.\n\n<span class=\"plainlinks mw-mwoautherror-details\">Unknown OAuth key, $1</span>",
        vec![err_link("E006")],
    )
}

/// `mwoauthserver-bad-consumer`
pub(crate) fn bad_consumer(name: &str, owner: &str) -> Msg {
    Msg::new(
        "mwoauthserver-bad-consumer",
        "\"$1\" is not approved as a Connected App. [$2 Contact] the application author for help.\n\n<span class=\"plainlinks mw-mwoautherror-details\">Connected OAuth app not approved.</span>",
        vec![
            P::Text(name.to_string()),
            P::Text(format!("/wiki/User_talk:{}", owner.replace(' ', "_"))),
        ],
    )
}

/// `mwoauthserver-consumer-owner-only` (E010)
pub(crate) fn consumer_owner_only(name: &str, key: &str) -> Msg {
    Msg::new(
        "mwoauthserver-consumer-owner-only",
        "\"$1\" is an owner-only Connected App. To fetch the access token, see [[$2]].\n\n<span class=\"plainlinks mw-mwoautherror-details\">Consumer is owner-only, $3</span>",
        vec![
            P::Text(name.to_string()),
            P::Text(format!("Special:OAuthConsumerRegistration/update/{key}")),
            err_link("E010"),
        ],
    )
}

/// `mwoauth-invalid-consumer-key` (cancel page with an unknown consumer)
pub(crate) fn invalid_consumer_key() -> Msg {
    Msg::new(
        "mwoauth-invalid-consumer-key",
        "No consumer exists with the given key.",
        vec![],
    )
}

/// `mwoauth-bad-request-invalid-action` (E002): unknown Special:OAuth subpage.
pub(crate) fn bad_request_invalid_action() -> Msg {
    Msg::new(
        "mwoauth-bad-request-invalid-action",
        "Sorry, something went wrong, you'll need to contact the application author for help with this.\n\n<span class=\"plainlinks mw-mwoautherror-details\">Unknown URL, $1</span>",
        vec![err_link("E002")],
    )
}

/// `mwoauth-bad-request-missing-params` (E001)
pub(crate) fn bad_request_missing_params() -> Msg {
    Msg::new(
        "mwoauth-bad-request-missing-params",
        "Sorry, something went wrong configuring this connected application. Contact the application's developer.\n\n<span class=\"plainlinks mw-mwoautherror-details\">OAuth missing parameters, $1</span>",
        vec![err_link("E001")],
    )
}

/// `mwoauth-oauth-unsupported-version`
pub(crate) fn unsupported_version(v: &str) -> Msg {
    Msg::new(
        "mwoauth-oauth-unsupported-version",
        "This endpoint is not allowed for OAuth version $1",
        vec![P::Text(v.to_string())],
    )
}

/// `mwoauth-invalid-field` (HTMLForm validation of hidden fields)
pub(crate) fn invalid_field(field: &str) -> Msg {
    Msg::new(
        "mwoauth-invalid-field",
        "Invalid value provided for \"$1\" field",
        vec![P::Text(field.to_string())],
    )
}

/// `mwoauth-invalid-authorization` (api.php)
pub(crate) fn invalid_authorization(detail: &str) -> Msg {
    Msg::new(
        "mwoauth-invalid-authorization",
        "The authorization headers in your request are not valid: $1",
        vec![P::Text(detail.to_string())],
    )
}

/// `mwoauth-not-api`
pub(crate) fn not_api() -> Msg {
    Msg::new(
        "mwoauth-not-api",
        "OAuth can only be used with the API",
        vec![],
    )
}

/// `mwoauth-acceptance-cancelled`: "You can go back to [$2 "$1"]" links
/// to the consumer's registered callback URL (`showCancelPage`).
pub(crate) fn acceptance_cancelled(name: &str, callback: &str) -> Msg {
    Msg::new(
        "mwoauth-acceptance-cancelled",
        "You have chosen not to allow \"$1\" to access your account. \"$1\" will not work unless you allow it access. You can go back to $2 or [[Special:OAuthManageMyGrants|manage]] your connected apps.",
        vec![
            P::Text(name.to_string()),
            P::Raw(format!(
                "<a rel=\"nofollow\" class=\"external text\" href=\"{}\">\"{}\"</a>",
                escape_html(callback),
                escape_html(name)
            )),
        ],
    )
}

/// `mwoauth-verified`
pub(crate) fn verified(verifier: &str) -> Msg {
    Msg::new(
        "mwoauth-verified",
        "The application is now allowed to access MediaWiki on your behalf.\n\nTo complete the process, provide this verification value to the application: <b>$1</b>",
        vec![P::Text(verifier.to_string())],
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn captured_raw_texts() {
        let e009 = format!("Error: {}", request_token_already_used().escaped());
        assert_eq!(
            e009,
            "Error: This request has already been completed and cannot be resubmitted.\nGo back to the application and try to connect your account again, or contact the application author.\n\n&lt;span class=&quot;plainlinks mw-mwoautherror-details&quot;&gt;OAuth token already used, <a class=\"external\" href=\"https://www.mediawiki.org/wiki/Help:OAuth/Errors#E009\">E009</a>&lt;/span&gt;"
        );
        assert_eq!(e009.len(), 369);
        assert_eq!(
            format!("Error: {}", request_token_not_found().escaped()).len(),
            337
        );
        assert_eq!(
            format!("Error: {}", callback_not_oob_or_prefix().escaped()),
            "Error: oauth_callback must be set, and must be set to &quot;oob&quot; (case-sensitive), or the configured callback must be a prefix of the supplied callback."
        );
        assert_eq!(
            format!("Error: {}", oauth_exception("Signature method 'PLAINTEXT' not supported try one of the following: HMAC-SHA1, RSA-SHA1").escaped()),
            "Error: An error occurred in the OAuth protocol: Signature method &#039;PLAINTEXT&#039; not supported try one of the following: HMAC-SHA1, RSA-SHA1"
        );
        assert_eq!(format!("Error: {}", callback_not_oob().escaped()).len(), 86);
    }

    #[test]
    fn cancel_page_html() {
        let h = acceptance_cancelled("A <b>", "http://127.0.0.1:8000/cb?a=1&b=\"").html();
        assert!(h.contains("You have chosen not to allow \"A &lt;b&gt;\" to access your account."));
        assert!(h.contains("You can go back to <a rel=\"nofollow\" class=\"external text\" href=\"http://127.0.0.1:8000/cb?a=1&amp;b=&quot;\">\"A &lt;b&gt;\"</a> or"), "{h}");
        assert!(h.contains("<a href=\"/wiki/Special:OAuthManageMyGrants\">manage</a>"));
    }
}
