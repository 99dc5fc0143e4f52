//! OAuth 2.0 of Extension:OAuth under `rest.php/oauth2/…`: the authorize
//! dialog (league `AuthCodeGrant` + MediaWiki's `Authorize` handler), the
//! token endpoint (`authorization_code`, `refresh_token`,
//! `client_credentials`), the `profile` and `scopes` resources, and the
//! Bearer check used by `api.php` (`ResourceServer::verify`).
//!
//! Texts, statuses and headers follow the captures of a real 1.39
//! (`observed-1.39-oauth2.md`); where nothing was captured, the league
//! oauth2-server 8 texts.

use base64::Engine as _;
use sha2::{Digest, Sha256};

use crate::authorize_page;
use crate::callback;
use crate::config::{MediaWikiVersion, ProfileFlavour};
use crate::http::{self, Req, Resp};
use crate::jwt;
use crate::messages::escape_html;
use crate::phpjson::{self, Flags, J};
use crate::special_oauth::grants_claim;
use crate::store::{
    dedup, http_date, random_hex, AuthCode, ConsumerRec, O2Refresh, Shared, Store, AUTH_CODE_TTL,
};
use crate::users;
use crate::verify::{self, Params};

/// The cookie that remembers the user chosen last (shared with 1.0a).
const USER_COOKIE: &str = "devwiki_user";

const DESC_INVALID_REQUEST: &str = "The request is missing a required parameter, includes an invalid parameter value, includes a parameter more than once, or is otherwise malformed.";
const DESC_INVALID_CLIENT: &str = "Client authentication failed";
const DESC_INVALID_GRANT: &str = "The provided authorization grant (e.g., authorization code, resource owner credentials) or refresh token is invalid, expired, revoked, does not match the redirection URI used in the authorization request, or was issued to another client.";
const DESC_INVALID_SCOPE: &str = "The requested scope is invalid, unknown, or malformed";
const DESC_UNSUPPORTED_GRANT: &str =
    "The authorization grant type is not supported by the authorization server.";
const DESC_ACCESS_DENIED: &str = "The resource owner or authorization server denied the request.";
const DESC_REFRESH_INVALID: &str = "The refresh token is invalid.";
const DESC_USER_REJECTED: &str = "User has rejected the request from client application";

/// A league `OAuthServerException`.
#[derive(Debug, Clone)]
struct O2Error {
    error: &'static str,
    description: String,
    hint: Option<String>,
    status: u16,
}

impl O2Error {
    fn new(error: &'static str, description: &str, hint: Option<String>, status: u16) -> O2Error {
        O2Error {
            error,
            description: description.to_string(),
            hint,
            status,
        }
    }

    /// `invalidRequest($parameter, $hint)`.
    fn invalid_request(param: &str, hint: Option<&str>) -> O2Error {
        let hint = hint
            .map(str::to_string)
            .unwrap_or_else(|| format!("Check the `{param}` parameter"));
        O2Error::new("invalid_request", DESC_INVALID_REQUEST, Some(hint), 400)
    }

    fn invalid_client() -> O2Error {
        O2Error::new("invalid_client", DESC_INVALID_CLIENT, None, 401)
    }

    fn invalid_scope(scope: &str) -> O2Error {
        O2Error::new(
            "invalid_scope",
            DESC_INVALID_SCOPE,
            Some(format!("Check the `{scope}` scope")),
            400,
        )
    }

    fn invalid_refresh(hint: &str) -> O2Error {
        O2Error::new(
            "invalid_request",
            DESC_REFRESH_INVALID,
            Some(hint.to_string()),
            401,
        )
    }

    fn access_denied(hint: &str) -> O2Error {
        O2Error::new(
            "access_denied",
            DESC_ACCESS_DENIED,
            Some(hint.to_string()),
            401,
        )
    }

    /// The same error as league/oauth2-server 9.x (Extension:OAuth
    /// REL1_46+, so 1.47) raises it, where it differs from the
    /// wikimedia/oauth2-server fork of 1.39/1.43: `invalidRefreshToken`
    /// is 400 `invalid_grant`; a revoked or expired code is
    /// `invalidGrant`; an undecryptable code has another hint
    /// (research-19 Q2, Q7).
    fn for_version(mut self, version: MediaWikiVersion) -> O2Error {
        if version < MediaWikiVersion::V1_47 {
            return self;
        }
        if self.error == "invalid_request" && self.description == DESC_REFRESH_INVALID {
            self.error = "invalid_grant";
            self.status = 400;
        }
        match self.hint.as_deref() {
            Some("Authorization code has been revoked" | "Authorization code has expired") => {
                self.error = "invalid_grant";
                self.description = DESC_INVALID_GRANT.to_string();
                self.status = 400;
            }
            Some("Cannot decrypt the authorization code") => {
                self.hint = Some("Issue decrypting the authorization code".into());
            }
            _ => {}
        }
        self
    }

    /// `getPayload()`: error, error_description, [hint], message (the
    /// fork of 1.39/1.43; league 9.x of 1.47 has no `message`).
    fn payload(&self, version: MediaWikiVersion) -> Vec<(&'static str, String)> {
        let mut p = vec![
            ("error", self.error.to_string()),
            ("error_description", self.description.clone()),
        ];
        if let Some(h) = &self.hint {
            p.push(("hint", h.clone()));
        }
        if version < MediaWikiVersion::V1_47 {
            p.push(("message", self.description.clone()));
        }
        p
    }

    /// The JSON answer (`generateHttpResponse` for a POST).
    fn json(&self, basic_auth_sent: bool, version: MediaWikiVersion) -> Resp {
        let body = J::Obj(
            self.payload(version)
                .into_iter()
                .map(|(k, v)| (k.to_string(), J::Str(v)))
                .collect(),
        );
        let mut r = json_resp(self.status, "application/json", &body);
        if self.error == "invalid_client" && basic_auth_sent {
            r = r.header("WWW-Authenticate", "Basic realm=\"OAuth\"");
        }
        r
    }

    /// The text MediaWiki's HTML error page shows for this error type
    /// (`mwoauth-oauth2-error-*`).
    fn page_text(&self) -> &'static str {
        match self.error {
            "invalid_client" => "Client authentication failed (e.g., unknown client, no client authentication included, or unsupported authentication method)",
            "unauthorized_client" => {
                "The client is not authorized to request an authorization code using this method."
            }
            "unsupported_grant_type" => DESC_UNSUPPORTED_GRANT,
            "invalid_scope" => "The requested scope is invalid, unknown, or malformed.",
            "access_denied" => DESC_ACCESS_DENIED,
            _ => DESC_INVALID_REQUEST,
        }
    }
}

/// A JSON body as PHP's `json_encode` writes it (slashes escaped).
fn json_resp(status: u16, content_type: &str, body: &J) -> Resp {
    let flags = Flags {
        unescaped_slashes: false,
        ..Flags::PHP_JWT
    };
    Resp {
        status,
        headers: vec![
            ("X-Content-Type-Options".into(), "nosniff".into()),
            ("Content-type".into(), content_type.into()),
        ],
        body: phpjson::encode(body, flags).into_bytes(),
    }
}

/// PHP `urlencode` (`http_build_query`): spaces as `+`.
fn urlencode(s: &str) -> String {
    verify::rawurlencode(s.as_bytes())
        .replace("%20", "+")
        .replace('~', "%7E")
}

fn build_query(pairs: &[(&str, String)]) -> String {
    pairs
        .iter()
        .map(|(k, v)| format!("{k}={}", urlencode(v)))
        .collect::<Vec<_>>()
        .join("&")
}

/// A REST framework error (`{"messageTranslations":…,"httpCode":…}`).
fn rest_error(status: u16, reason: &str, key: &str, text: &str) -> Resp {
    let body = J::obj()
        .with("messageTranslations", J::obj().with("en", J::s(text)))
        .with("errorKey", J::s(key))
        .with("httpCode", J::Int(i64::from(status)))
        .with("httpReason", J::s(reason));
    json_resp(status, "application/json", &body)
}

/// Serves `rest.php` (`path` is what follows `rest.php`).
pub(crate) fn handle(sh: &Shared, req: &Req, path: &str) -> Resp {
    let version = sh.lock().mediawiki;
    let resp = route(sh, req, path);
    if version.at_least_1_43() {
        // observed-1.43.md, "Differences from 1.39" 6: every REST answer
        // varies on x-restbase-compat.
        resp.header("Vary", "x-restbase-compat")
    } else {
        resp
    }
}

fn route(sh: &Shared, req: &Req, path: &str) -> Resp {
    let get = req.method == "GET" || req.method == "HEAD";
    match path {
        "/oauth2/authorize" if get => authorize(sh, req),
        "/oauth2/access_token" if req.method == "POST" => access_token(sh, req),
        "/oauth2/resource/profile" if get => resource(sh, req, true),
        "/oauth2/resource/scopes" if get => resource(sh, req, false),
        "/oauth2/authorize"
        | "/oauth2/access_token"
        | "/oauth2/resource/profile"
        | "/oauth2/resource/scopes" => rest_error(
            405,
            "Method Not Allowed",
            "rest-wrong-method",
            &format!(
                "The request method ({}) was not {} for the path ({path})",
                req.method,
                if path == "/oauth2/access_token" {
                    "POST"
                } else {
                    "GET"
                }
            ),
        ),
        _ => rest_error(
            404,
            "Not Found",
            "rest-no-match",
            &format!("The requested relative path ({path}) did not match any known handler"),
        ),
    }
}

// ------------------------------------------------------------ authorize --

/// `AuthenticationHandler::errorResponse` for a browser: the "Application
/// Connection Error" page, HTTP 200 as captured (OE5, OE6, OE7).
fn error_page(e: &O2Error, version: MediaWikiVersion) -> Resp {
    let hint = e
        .hint
        .as_deref()
        .map(|h| format!("<!-- hint: {} -->", escape_html(h)))
        .unwrap_or_default();
    let body = format!(
        "<div class=\"errorbox\" id=\"mw-mwoauth-error\" data-error=\"{}\">{}</div>{hint}\n<p id=\"mw-returnto\">Return to <a href=\"/wiki/Main_Page\" title=\"Main Page\">Main Page</a>.</p>",
        e.error,
        escape_html(e.page_text())
    );
    let html = http::page_html("Application Connection Error", &body);
    if version.at_least_1_43() {
        // observed-1.43.md OE5/OE7/O7x/OE6: the league error's status
        // (401 invalid_client, 400 otherwise) and REST caching headers.
        return Resp::new(e.status, "text/html;charset=UTF-8", html)
            .header("Content-language", "en")
            .header("X-Frame-Options", "DENY")
            .header("Expires", "Thu, 01 Jan 1970 00:00:00 GMT")
            .header("Cache-Control", "private,must-revalidate,s-maxage=0");
    }
    Resp::new(200, "text/html;charset=UTF-8", html)
        .header("Content-language", "en")
        .header("X-Frame-Options", "DENY")
        .header("Vary", "Accept-Encoding, Cookie, Authorization")
        .header("Expires", "Thu, 01 Jan 1970 00:00:00 GMT")
        .header(
            "Cache-Control",
            "no-cache, no-store, max-age=0, must-revalidate",
        )
        .header("Pragma", "no-cache")
}

/// Scheme, host and the rest of a URL with its port removed, if it is an
/// `http` loopback URL (`127.0.0.1` or `[::1]`).
fn loopback_without_port(url: &str) -> Option<(String, String)> {
    let rest = url.strip_prefix("http://")?;
    let end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let (authority, tail) = rest.split_at(end);
    let host = if let Some(h) = authority.strip_prefix("[::1]") {
        (h.is_empty() || h.starts_with(':')).then_some("[::1]")?
    } else {
        let (h, _) = authority.split_once(':').unwrap_or((authority, ""));
        (h == "127.0.0.1").then_some("127.0.0.1")?
    };
    Some((host.to_string(), tail.to_string()))
}

/// league `RedirectUriValidator`: exact match, except that the port of a
/// loopback URI is ignored.
pub(crate) fn redirect_uri_matches(registered: &str, sent: &str) -> bool {
    if registered == sent {
        return true;
    }
    match (
        loopback_without_port(registered),
        loopback_without_port(sent),
    ) {
        (Some(a), Some(b)) => a == b,
        _ => false,
    }
}

/// Whether a scope name exists (`ScopeRepository`).
fn known_scope(s: &str) -> bool {
    s == "#default" || users::GRANTS.iter().any(|(g, _)| *g == s)
}

/// `validateScopes` + `finalizeScopes`: unknown names are an error, known
/// ones outside the client's grants are dropped; none or `#default` = all
/// the client's grants.
fn scopes_for(client: &ConsumerRec, requested: Option<&str>) -> Result<Vec<String>, O2Error> {
    let grants = dedup(&client.grants);
    let names: Vec<&str> = requested
        .unwrap_or("")
        .split(' ')
        .filter(|s| !s.is_empty())
        .collect();
    if names.is_empty() {
        return Ok(grants);
    }
    let mut out: Vec<String> = Vec::new();
    for n in names {
        if !known_scope(n) {
            return Err(O2Error::invalid_scope(n));
        }
        let add: Vec<String> = if n == "#default" {
            grants.clone()
        } else if grants.iter().any(|g| g == n) {
            vec![n.to_string()]
        } else {
            vec![]
        };
        for g in add {
            if !out.contains(&g) {
                out.push(g);
            }
        }
    }
    Ok(out)
}

/// `^[A-Za-z0-9-._~]{43,128}$` (code challenge and code verifier).
fn pkce_shaped(s: &str) -> bool {
    (43..=128).contains(&s.len())
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-._~".contains(&b))
}

/// S256: base64url-without-padding(SHA-256(verifier)).
fn s256(verifier: &str) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes()))
}

fn authorize(sh: &Shared, req: &Req) -> Resp {
    let q = req.get_params();
    let get = |n: &str| http::val(&q, n);
    let mut st = sh.lock();
    let version = st.mediawiki;
    let client_id = get("client_id");
    if get("response_type").as_deref() != Some("code") || client_id.is_none() {
        return error_page(
            &O2Error::new(
                "unsupported_grant_type",
                DESC_UNSUPPORTED_GRANT,
                Some("Check that all required parameters have been provided".into()),
                400,
            ),
            version,
        );
    }
    let client = match client_id
        .as_deref()
        .and_then(|k| st.consumers.get(k))
        .filter(|c| c.oauth2)
    {
        Some(c) => c.clone(),
        None => return error_page(&O2Error::invalid_client(), version),
    };
    // Owner-only clients have no callback: invalid_client.
    if client.owner_only.is_some() || client.callback.is_empty() {
        return error_page(&O2Error::invalid_client(), version);
    }
    let redirect_sent = get("redirect_uri");
    if let Some(r) = &redirect_sent {
        if !redirect_uri_matches(&client.callback, r) {
            return error_page(&O2Error::invalid_client(), version);
        }
    }
    let redirect = redirect_sent.clone().unwrap_or(client.callback.clone());
    let scopes = match scopes_for(&client, get("scope").as_deref()) {
        Ok(s) => s,
        Err(e) => {
            // invalid_scope carries the client's registered redirect URI.
            let q = build_query(&e.payload(version));
            return Resp::redirect(&callback::append_query(&client.callback, &q));
        }
    };
    let state = get("state");
    let challenge = match get("code_challenge") {
        Some(c) => {
            let method = get("code_challenge_method").unwrap_or_else(|| "plain".into());
            if method != "plain" && method != "S256" {
                return error_page(
                    &O2Error::invalid_request(
                        "code_challenge_method",
                        Some("Code challenge method must be one of `plain`, `S256`"),
                    ),
                    version,
                );
            }
            if !pkce_shaped(&c) {
                return error_page(
                    &O2Error::invalid_request(
                        "code_challenge",
                        Some("Code challenge must follow the specifications of RFC-7636."),
                    ),
                    version,
                );
            }
            Some((c, method))
        }
        None if !client.confidential => {
            return error_page(
                &O2Error::invalid_request(
                    "code_challenge",
                    Some("Code challenge must be provided for public clients"),
                ),
                version,
            )
        }
        None => None,
    };
    if http::check(&q, "approval_cancel") {
        return match &redirect_sent {
            Some(r) => {
                let e = O2Error::new("unauthorized_client", DESC_USER_REJECTED, None, 400);
                let q = build_query(&e.payload(version));
                Resp::redirect(&callback::append_query(r, &q))
            }
            None => error_page(
                &O2Error::new("unauthorized_client", DESC_USER_REJECTED, None, 400),
                version,
            ),
        };
    }
    let remembered = req
        .cookie_value(USER_COOKIE)
        .filter(|u| st.user(u).is_some());
    let (approver, error) = if let Some(u) = st.switches.auto_approve() {
        (st.find_user(u).map(|u| u.name.clone()), None)
    } else if http::check(&q, "approval_pass") {
        match get("user").and_then(|u| st.find_user(&u).map(|u| u.name.clone())) {
            Some(u) => (Some(u), None),
            None => (None, Some("<p>Choose which DevWiki user you are.</p>")),
        }
    } else {
        (None, None)
    };
    let Some(user) = approver else {
        return dialog(&st, sh, &client, &scopes, &q, remembered.as_deref(), error);
    };
    st.accept(&user, &client.key);
    let now = st.now();
    let payload = auth_code_payload_len(
        st.mediawiki,
        &client.key,
        redirect_sent.as_deref(),
        &scopes,
        st.user(&user).map_or(0, |u| u.id),
        now + AUTH_CODE_TTL,
        challenge.as_ref(),
    );
    let code = league_ciphertext(payload + st.switches.oauth2_code_padding());
    if st.o2_code_sweep.due(st.o2_codes.len()) {
        st.o2_codes.retain(|_, c| c.expires > now);
        let left = st.o2_codes.len();
        st.o2_code_sweep.swept(left);
    }
    st.o2_codes.insert(
        code.clone(),
        AuthCode {
            client: client.key.clone(),
            user: user.clone(),
            redirect_uri: redirect_sent,
            scopes,
            challenge,
            expires: now + AUTH_CODE_TTL,
            used: false,
        },
    );
    let mut pairs = vec![("code", code)];
    if let Some(s) = state {
        pairs.push(("state", s));
    }
    Resp::redirect(&callback::append_query(&redirect, &build_query(&pairs))).header(
        "Set-Cookie",
        format!(
            "{USER_COOKIE}={}; Path=/; HttpOnly; SameSite=Lax",
            verify::rawurlencode(user.as_bytes())
        ),
    )
}

/// The approval dialog: the 1.0a page's look; a GET form back to
/// `authorize` with the request's parameters and `approval_pass=1`
/// (`#accept`) or `approval_cancel=1` (`#cancel`).
fn dialog(
    st: &Store,
    sh: &Shared,
    client: &ConsumerRec,
    scopes: &[String],
    q: &Params,
    selected: Option<&str>,
    error_html: Option<&str>,
) -> Resp {
    let options = authorize_page::user_options(st, selected);
    let description = authorize_page::description_html(client, scopes);
    let mut hidden = String::new();
    for name in [
        "response_type",
        "client_id",
        "redirect_uri",
        "scope",
        "state",
        "code_challenge",
        "code_challenge_method",
        "display",
        "ui_locales",
    ] {
        if let Some(v) = http::val(q, name) {
            hidden.push_str(&format!(
                "<input type=\"hidden\" name=\"{name}\" value=\"{}\">\n",
                escape_html(&v)
            ));
        }
    }
    let error = error_html
        .map(|e| format!("<div class=\"errorbox\" id=\"mw-mwoauth-error\">{e}</div>\n"))
        .unwrap_or_default();
    // 1.47 (Extension:OAuth master 5cc52b0b): `ui_locales` becomes
    // `uselang` of the consent screen.
    let uselang = (st.mediawiki == MediaWikiVersion::V1_47)
        .then(|| http::val(q, "ui_locales"))
        .flatten()
        .and_then(|l| uselang_from_ui_locales(&l));
    if let Some(lang) = &uselang {
        hidden.push_str(&format!(
            "<input type=\"hidden\" name=\"uselang\" value=\"{}\">\n",
            escape_html(lang)
        ));
    }
    let body = format!(
        "<div id=\"mw-mwoauth-authorize-dialog\" class=\"mw-ui-container\">\n<form id=\"mw-mwoauth-authorize-form\" class=\"mw-htmlform\" action=\"{action}\" method=\"get\">\n{error}<p><label for=\"user\">You are (DevWiki has no passwords: pick a seeded user):</label>\n<select name=\"user\" id=\"user\">{options}</select></p>\n<p>Hi,</p>\n{description}\n<input type=\"hidden\" name=\"oauth_version\" value=\"2\">\n{hidden}<p><button type=\"submit\" name=\"approval_pass\" id=\"accept\" value=\"1\" class=\"mw-mwoauth-authorize-button\">Allow</button>\n<button type=\"submit\" name=\"approval_cancel\" id=\"cancel\" value=\"1\" class=\"mw-mwoauth-authorize-button\">Cancel</button></p>\n</form>\n</div>\n<p id=\"footer-places-privacy\"><a href=\"/wiki/DevWiki:Privacy_policy\">Privacy policy</a></p>",
        action = escape_html(&format!("{}/rest.php/oauth2/authorize", sh.script_path)),
    );
    let page = Resp::page(200, "OAuth", &body);
    match uselang {
        Some(lang) => {
            let html = String::from_utf8_lossy(&page.body).replacen(
                "lang=\"en\"",
                &format!("lang=\"{}\"", escape_html(&lang)),
                1,
            );
            let mut page = page;
            page.body = html.into_bytes();
            for (name, value) in page.headers.iter_mut() {
                if name.eq_ignore_ascii_case("Content-language") {
                    *value = lang.clone();
                }
            }
            page
        }
        None => page,
    }
}

/// Language codes devwiki knows (a part of MediaWiki's
/// `LanguageNameUtils::isKnownLanguageTag`).
const KNOWN_LANGUAGES: &[&str] = &[
    "ar", "bg", "bn", "ca", "cs", "cy", "da", "de", "el", "en", "eo", "es", "et", "eu", "fa", "fi",
    "fr", "ga", "gl", "he", "hi", "hr", "hu", "hy", "id", "is", "it", "ja", "ka", "ko", "la", "lt",
    "lv", "mk", "ms", "nb", "nl", "nn", "pl", "pt", "ro", "ru", "sk", "sl", "sq", "sr", "sv", "sw",
    "ta", "th", "tr", "uk", "ur", "vi", "zh",
];

/// `Authorize::getUselangFromUiLocales` (Extension:OAuth master): the
/// first known tag of the space-separated list, BCP 47 turned into
/// MediaWiki's internal code (lowercase).
fn uselang_from_ui_locales(ui_locales: &str) -> Option<String> {
    ui_locales
        .split(' ')
        .map(str::to_ascii_lowercase)
        .find(|tag| {
            let mut parts = tag.split('-');
            let primary = parts.next().unwrap_or("");
            KNOWN_LANGUAGES.contains(&primary)
                && parts.all(|p| {
                    (1..=8).contains(&p.len()) && p.bytes().all(|b| b.is_ascii_alphanumeric())
                })
        })
}

// --------------------------------------------------------- access_token --

/// `Authorization: Basic base64(id:secret)`.
fn basic_credentials(req: &Req) -> Option<(String, String)> {
    let a = req.authorization.as_deref()?;
    let (scheme, rest) = a.split_once(' ')?;
    if !scheme.eq_ignore_ascii_case("basic") {
        return None;
    }
    let raw = base64::engine::general_purpose::STANDARD
        .decode(rest.trim())
        .ok()?;
    let text = String::from_utf8(raw).ok()?;
    let (id, secret) = text.split_once(':')?;
    Some((id.to_string(), secret.to_string()))
}

/// The success answer of `BearerTokenResponse`.
fn token_response(expires_in: i64, access: &str, refresh: Option<&str>) -> Resp {
    let refresh = refresh
        .map(|r| format!(",\"refresh_token\":\"{r}\""))
        .unwrap_or_default();
    Resp {
        status: 200,
        headers: vec![
            ("X-Content-Type-Options".into(), "nosniff".into()),
            ("pragma".into(), "no-cache".into()),
            ("cache-control".into(), "no-store".into()),
            (
                "content-type".into(),
                "application/json; charset=UTF-8".into(),
            ),
        ],
        body: format!(
            "{{\"token_type\":\"Bearer\",\"expires_in\":{expires_in},\"access_token\":\"{access}\"{refresh}}}"
        )
        .into_bytes(),
    }
}

fn access_token(sh: &Shared, req: &Req) -> Resp {
    let form = req.content_type.as_deref().is_some_and(|c| {
        c.trim_start()
            .to_ascii_lowercase()
            .starts_with("application/x-www-form-urlencoded")
    });
    if !form {
        return rest_error(
            415,
            "Unsupported Media Type",
            "rest-unsupported-content-type",
            &format!(
                "Unsupported Content-Type: {}",
                req.content_type.as_deref().unwrap_or("")
            ),
        );
    }
    let body = verify::parse_php_query(&req.body);
    let basic_sent = req.authorization.is_some();
    let mut st = sh.lock();
    let grant = http::val(&body, "grant_type");
    *st.o2_counts.entry("*".into()).or_insert(0) += 1;
    if let Some(g) = &grant {
        *st.o2_counts.entry(g.clone()).or_insert(0) += 1;
    }
    let version = st.mediawiki;
    match token_grant(&mut st, req, &body, grant.as_deref()) {
        Ok(resp) if version.at_least_1_43() => {
            // observed-1.43.md O3: only `UseDC=master` is set.
            let expires = http_date(st.now() + 10);
            resp.header(
                "Set-Cookie",
                format!("UseDC=master; expires={expires}; Max-Age=10; path=/; HttpOnly"),
            )
        }
        Ok(resp) => resp,
        Err(e) => {
            let r = e.for_version(version).json(basic_sent, version);
            if version.at_least_1_43() {
                // observed-1.43.md OE1, O3x, O6x.
                r.header("Cache-Control", "private,no-cache,s-maxage=0")
            } else {
                r
            }
        }
    }
}

fn token_grant(
    st: &mut Store,
    req: &Req,
    body: &Params,
    grant: Option<&str>,
) -> Result<Resp, O2Error> {
    let grant = match grant {
        Some(g @ ("authorization_code" | "refresh_token" | "client_credentials")) => g,
        Some(other) => {
            return Err(O2Error::new(
                "invalid_request",
                &format!(
                    "Invalid request: Unrecognized value for parameter \"grant_type\": {other}."
                ),
                Some("Check the `grant_type` parameter".into()),
                400,
            ))
        }
        None => {
            return Err(O2Error::new(
                "invalid_request",
                "Invalid request: The \"grant_type\" parameter must be set.",
                Some("Check the `grant_type` parameter".into()),
                400,
            ))
        }
    };
    let basic = basic_credentials(req);
    let client_id = http::val(body, "client_id")
        .or_else(|| basic.as_ref().map(|b| b.0.clone()))
        .ok_or_else(|| O2Error::invalid_request("client_id", None))?;
    let client = st
        .consumers
        .get(&client_id)
        .filter(|c| c.oauth2)
        .cloned()
        .ok_or_else(O2Error::invalid_client)?;
    let secret = http::val(body, "client_secret").or_else(|| basic.map(|b| b.1));
    let secret_ok = secret
        .as_deref()
        .is_some_and(|s| verify::hash_equals(s.as_bytes(), client.secret.as_bytes()));
    // Owner-only clients are forced to ['client_credentials'].
    let allowed = client.owner_only.is_none() || grant == "client_credentials";
    let validate = || {
        if secret_ok && allowed {
            Ok(())
        } else {
            Err(O2Error::invalid_client())
        }
    };
    let now = st.now();
    let lifetime = st.switches.oauth2_access_token_lifetime();
    match grant {
        "authorization_code" => {
            // Only confidential clients are validated (league AuthCodeGrant).
            if client.confidential {
                validate()?;
            }
            let code =
                http::val(body, "code").ok_or_else(|| O2Error::invalid_request("code", None))?;
            let rec = st.o2_codes.get(&code).cloned().ok_or_else(|| {
                O2Error::invalid_request("code", Some("Cannot decrypt the authorization code"))
            })?;
            if rec.expires <= now {
                return Err(O2Error::invalid_request(
                    "code",
                    Some("Authorization code has expired"),
                ));
            }
            if rec.used {
                return Err(O2Error::invalid_request(
                    "code",
                    Some("Authorization code has been revoked"),
                ));
            }
            if rec.client != client.key {
                return Err(O2Error::invalid_request(
                    "code",
                    Some("Authorization code was not issued to this client"),
                ));
            }
            let redirect = http::val(body, "redirect_uri");
            if rec.redirect_uri.is_some() && redirect.is_none() {
                return Err(O2Error::invalid_request("redirect_uri", None));
            }
            if rec.redirect_uri != redirect {
                return Err(O2Error::invalid_request(
                    "redirect_uri",
                    Some("Invalid redirect URI"),
                ));
            }
            let verifier = http::val(body, "code_verifier");
            match (&rec.challenge, verifier) {
                (Some(_), None) => return Err(O2Error::invalid_request("code_verifier", None)),
                (Some((challenge, method)), Some(v)) => {
                    if !pkce_shaped(&v) {
                        return Err(O2Error::invalid_request(
                            "code_verifier",
                            Some("Code Verifier must follow the specifications of RFC-7636."),
                        ));
                    }
                    let computed = if method == "S256" { s256(&v) } else { v };
                    if !verify::hash_equals(computed.as_bytes(), challenge.as_bytes()) {
                        return Err(O2Error::new(
                            "invalid_grant",
                            DESC_INVALID_GRANT,
                            Some("Failed to verify `code_verifier`.".into()),
                            400,
                        ));
                    }
                }
                (None, Some(_)) => {
                    return Err(O2Error::invalid_request(
                        "code_challenge",
                        Some("code_verifier received when no code_challenge is present"),
                    ))
                }
                (None, None) => {}
            }
            if let Some(c) = st.o2_codes.get_mut(&code) {
                c.used = true;
            }
            let (access, refresh) = issue_pair(
                st,
                &client.key,
                &rec.user,
                &rec.scopes,
                lifetime,
                "authorization_code",
            );
            Ok(token_response(lifetime, &access, Some(&refresh)))
        }
        "refresh_token" => {
            // Always validated: a public client needs its secret here (1.39).
            validate()?;
            let token = http::val(body, "refresh_token")
                .ok_or_else(|| O2Error::invalid_request("refresh_token", None))?;
            let rec = st
                .o2_refresh
                .get(&token)
                .cloned()
                .ok_or_else(|| O2Error::invalid_refresh("Cannot decrypt the refresh token"))?;
            if rec.client != client.key {
                return Err(O2Error::invalid_refresh("Token is not linked to client"));
            }
            if rec.expires <= now {
                return Err(O2Error::invalid_refresh("Token has expired"));
            }
            let grace = st.switches.oauth2_refresh_grace();
            let spent = rec.used_at.is_some_and(|t| now - t >= grace);
            if rec.revoked || spent {
                return Err(O2Error::invalid_refresh("Token has been revoked"));
            }
            let scopes = match http::val(body, "scope") {
                Some(s) if !s.trim().is_empty() => {
                    let mut out = Vec::new();
                    for n in s.split(' ').filter(|n| !n.is_empty()) {
                        if !rec.scopes.iter().any(|g| g == n) {
                            return Err(O2Error::invalid_scope(n));
                        }
                        if !out.iter().any(|g: &String| g == n) {
                            out.push(n.to_string());
                        }
                    }
                    out
                }
                _ => rec.scopes.clone(),
            };
            if let Some(a) = st.o2_access.get_mut(&rec.access_jti) {
                a.revoked = true;
            }
            if let Some(r) = st.o2_refresh.get_mut(&token) {
                r.used_at.get_or_insert(now);
            }
            let (access, refresh) = issue_pair(
                st,
                &client.key,
                &rec.user,
                &scopes,
                lifetime,
                "refresh_token",
            );
            Ok(token_response(lifetime, &access, Some(&refresh)))
        }
        _ => {
            validate()?;
            if !client.confidential {
                return Err(O2Error::invalid_client());
            }
            let scopes = scopes_for(&client, http::val(body, "scope").as_deref())?;
            let user = client.owner_only.clone();
            if let Some(owner) = &user {
                if !st
                    .acceptances
                    .contains_key(&(owner.clone(), client.key.clone()))
                {
                    return Err(O2Error::access_denied("The approval was revoked"));
                }
            }
            let (access, _) = st.mint_access_token(
                &client.key,
                user.as_deref(),
                &scopes,
                lifetime,
                "client_credentials",
            );
            Ok(token_response(lifetime, &access, None))
        }
    }
}

/// Approves `client` for `user` directly (as if they had pressed Allow
/// and the code had been redeemed): a new access and refresh token with all
/// the client's grants. `None` for an unknown user, a client that is not
/// OAuth 2.0, or an owner-only one.
pub(crate) fn grant_tokens(st: &mut Store, user: &str, client: &str) -> Option<(String, String)> {
    let name = st.find_user(user)?.name.clone();
    let c = st
        .consumers
        .get(client)
        .filter(|c| c.oauth2 && c.owner_only.is_none())?;
    let scopes = dedup(&c.grants);
    st.accept(&name, client);
    let lifetime = st.switches.oauth2_access_token_lifetime();
    Some(issue_pair(
        st,
        client,
        &name,
        &scopes,
        lifetime,
        "authorization_code",
    ))
}

/// Accepts an access token of another wiki as it is, for `user` and
/// `client` (see `DevWiki::import_oauth2_token`).
pub(crate) fn import_token(st: &mut Store, user: &str, client: &str, token: &str) -> bool {
    let Some(name) = st.find_user(user).map(|u| u.name.clone()) else {
        return false;
    };
    if !st.consumers.get(client).is_some_and(|c| c.oauth2) {
        return false;
    }
    let Ok(claims) = jwt::claims_unverified(token) else {
        return false;
    };
    let (Some(jti), Some(exp)) = (
        claims.get("jti").and_then(|j| j.as_str()),
        claims.get("exp").and_then(|e| e.as_f64()),
    ) else {
        return false;
    };
    let scopes: Vec<String> = claims
        .get("scopes")
        .and_then(|s| s.as_array())
        .map(|a| {
            a.iter()
                .filter_map(|s| s.as_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_default();
    st.accept(&name, client);
    st.o2_access.insert(
        jti.to_string(),
        crate::store::O2Access {
            client: client.to_string(),
            user: Some(name),
            scopes,
            expires: exp.floor() as i64,
            revoked: false,
        },
    );
    st.o2_imported.insert(token.to_string());
    true
}

/// A league (defuse/php-encryption) ciphertext of a payload of
/// `payload_bytes`, lowercase hex: the `def50200` version header, a
/// 32-byte salt, a 16-byte IV, the AES-256-CTR ciphertext (as long as the
/// payload) and a 32-byte HMAC, so `2 * (84 + payload_bytes)` characters.
/// devwiki keeps its codes and tokens in tables, so the bytes are random:
/// only the shape and the length are those of a real wiki.
fn league_ciphertext(payload_bytes: usize) -> String {
    format!("def50200{}", random_hex(2 * (32 + 16 + payload_bytes + 32)))
}

/// The league `user_id`: a JSON number up to REL1_45, a string from
/// REL1_46 on (`UserEntity::getIdentifier(): string`).
fn league_user_id(version: MediaWikiVersion, central_id: u32) -> J {
    if version == MediaWikiVersion::V1_47 {
        J::s(central_id.to_string())
    } else {
        J::Int(i64::from(central_id))
    }
}

/// The length of the JSON an authorization code encrypts
/// (`AuthCodeGrant::completeAuthorizationRequest`, `json_encode` with
/// its default flags: `\/` for slashes, `\uXXXX` for non-ASCII).
pub(crate) fn auth_code_payload_len(
    version: MediaWikiVersion,
    client_id: &str,
    redirect_uri: Option<&str>,
    scopes: &[String],
    central_id: u32,
    expire_time: i64,
    challenge: Option<&(String, String)>,
) -> usize {
    let opt = |v: Option<&str>| v.map_or(J::Null, J::s);
    let payload = J::obj()
        .with("client_id", J::s(client_id))
        .with("redirect_uri", opt(redirect_uri))
        .with("auth_code_id", J::s(random_hex(80)))
        .with(
            "scopes",
            J::Arr(scopes.iter().cloned().map(J::Str).collect()),
        )
        .with("user_id", league_user_id(version, central_id))
        .with("expire_time", J::Int(expire_time))
        .with("code_challenge", opt(challenge.map(|c| c.0.as_str())))
        .with(
            "code_challenge_method",
            opt(challenge.map(|c| c.1.as_str())),
        );
    phpjson::encode(&payload, Flags::default()).len()
}

/// The length of the JSON a refresh token encrypts
/// (`BearerTokenResponse::generateHttpResponse`).
fn refresh_token_payload_len(
    version: MediaWikiVersion,
    client_id: &str,
    access_token_id: &str,
    scopes: &[String],
    central_id: u32,
    expire_time: i64,
) -> usize {
    let payload = J::obj()
        .with("client_id", J::s(client_id))
        .with("refresh_token_id", J::s(random_hex(80)))
        .with("access_token_id", J::s(access_token_id))
        .with(
            "scopes",
            J::Arr(scopes.iter().cloned().map(J::Str).collect()),
        )
        .with("user_id", league_user_id(version, central_id))
        .with("expire_time", J::Int(expire_time));
    phpjson::encode(&payload, Flags::default()).len()
}

/// An access token and a refresh token for a user's approval.
fn issue_pair(
    st: &mut Store,
    client: &str,
    user: &str,
    scopes: &[String],
    lifetime: i64,
    grant_type: &str,
) -> (String, String) {
    let (access, jti) = st.mint_access_token(client, Some(user), scopes, lifetime, grant_type);
    let now = st.now();
    let ttl = st.switches.oauth2_refresh_token_lifetime();
    let payload = refresh_token_payload_len(
        st.mediawiki,
        client,
        &jti,
        scopes,
        st.user(user).map_or(0, |u| u.id),
        now.saturating_add(ttl),
    );
    let refresh = league_ciphertext(payload);
    if st.o2_refresh_sweep.due(st.o2_refresh.len()) {
        st.o2_refresh.retain(|_, r| r.expires > now);
        let live: std::collections::HashSet<String> = st
            .o2_refresh
            .values()
            .map(|r| r.access_jti.clone())
            .collect();
        st.o2_access
            .retain(|j, a| a.expires > now || live.contains(j));
        let left = st.o2_refresh.len();
        st.o2_refresh_sweep.swept(left);
    }
    st.o2_refresh.insert(
        refresh.clone(),
        O2Refresh {
            client: client.to_string(),
            user: user.to_string(),
            scopes: scopes.to_vec(),
            access_jti: jti,
            expires: now.saturating_add(ttl),
            used_at: None,
            revoked: false,
        },
    );
    (access, refresh)
}

// ---------------------------------------------------------- Bearer check --

/// Who a valid Bearer token acts for.
#[derive(Clone, Debug)]
pub(crate) struct Bearer {
    pub client: String,
    /// `None`: an anonymous `client_credentials` session.
    pub user: Option<String>,
    pub scopes: Vec<String>,
}

/// `ResourceServer::verify`: the signature, the time validity, then "not
/// revoked" (an unknown `jti`, a refreshed-away token, or a revoked
/// approval). The error is the league hint.
pub(crate) fn verify_bearer(st: &Store, token: &str) -> Result<Bearer, String> {
    let claims = if st.o2_imported.contains(token) {
        jwt::claims_unverified(token)?
    } else {
        jwt::decode_rs256(token)?
    };
    let jti = claims
        .get("jti")
        .and_then(|j| j.as_str())
        .ok_or_else(|| "Access token could not be verified".to_string())?;
    let rec = st
        .o2_access
        .get(jti)
        .ok_or_else(|| "Access token has been revoked".to_string())?;
    if rec.expires <= st.now() {
        return Err("Access token could not be verified".into());
    }
    let approved = match &rec.user {
        Some(u) => st
            .acceptances
            .contains_key(&(u.clone(), rec.client.clone())),
        None => st.consumers.contains_key(&rec.client),
    };
    if rec.revoked || !approved {
        return Err("Access token has been revoked".into());
    }
    Ok(Bearer {
        client: rec.client.clone(),
        user: rec.user.clone(),
        scopes: rec.scopes.clone(),
    })
}

/// The token of an `Authorization: Bearer …` header.
pub(crate) fn bearer_token(authorization: &str) -> Option<&str> {
    authorization
        .strip_prefix("Bearer")
        .map(|t| t.trim_start_matches([' ', '\t']).trim_end())
}

// ------------------------------------------------------------ resources --

fn resource(sh: &Shared, req: &Req, profile: bool) -> Resp {
    let st = sh.lock();
    let version = st.mediawiki;
    let Some(token) = req.authorization.as_deref().and_then(bearer_token) else {
        return match version {
            // An upstream bug: no Authorization header gives HTTP 500.
            MediaWikiVersion::V1_39 => {
                let body = J::obj()
                    .with("message", J::s("Error: exception of type TypeError"))
                    .with("httpCode", J::Int(500))
                    .with("httpReason", J::s("Internal Server Error"));
                json_resp(500, "application/json", &body)
            }
            // observed-1.43.md O4b: the empty header reaches lcobucci/jwt.
            MediaWikiVersion::V1_43 => {
                O2Error::access_denied("The JWT string must have two dots").json(false, version)
            }
            // Extension:OAuth master b9be5eb3: no header is passed on, so
            // league 9.4.1's BearerTokenValidator answers.
            MediaWikiVersion::V1_47 => {
                O2Error::access_denied("Missing \"Authorization\" header").json(false, version)
            }
        };
    };
    let b = match verify_bearer(&st, token) {
        Ok(b) => b,
        Err(hint) => return O2Error::access_denied(&hint).json(false, version),
    };
    let body = if profile {
        let Some(user) = b.user.as_deref().and_then(|u| st.user(u)) else {
            return O2Error::access_denied("The access token is not tied to a user")
                .json(false, version);
        };
        profile_json(user, &b.scopes, st.switches.profile_as(), version)
    } else {
        let c = st.consumers.get(&b.client);
        let grants = c.map(|c| c.grants.clone()).unwrap_or_default();
        let as_object = c.is_some_and(|c| c.grants_as_object);
        J::obj().with("scopes", grants_claim(&grants, as_object))
    };
    let body = phpjson::encode(&body, Flags::FORMATJSON_DEFAULT).into_bytes();
    if version.at_least_1_43() {
        // observed-1.43.md O4, O5b, O8b.
        return Resp {
            status: 200,
            headers: vec![
                ("X-Content-Type-Options".into(), "nosniff".into()),
                ("Content-Type".into(), "application/json".into()),
                (
                    "Cache-Control".into(),
                    "private,must-revalidate,s-maxage=0".into(),
                ),
            ],
            body,
        };
    }
    Resp {
        status: 200,
        headers: vec![
            ("X-Content-Type-Options".into(), "nosniff".into()),
            ("Content-type".into(), "text/html; charset=UTF-8".into()),
        ],
        body,
    }
}

/// `UserStatementProvider::getUserProfile`.
fn profile_json(
    user: &users::UserRec,
    scopes: &[String],
    flavour: ProfileFlavour,
    version: MediaWikiVersion,
) -> J {
    let newer = version.at_least_1_43();
    let sub = if flavour == ProfileFlavour::SubAsNumber {
        J::Int(i64::from(user.id))
    } else {
        J::s(user.id.to_string())
    };
    if user.hidden {
        return J::obj().with("sub", sub).with("blocked", J::Bool(true));
    }
    let confirmed = user.email_authenticated.is_some();
    let mut p = J::obj()
        .with("sub", sub)
        .with("username", J::s(user.name.clone()))
        .with("editcount", J::Int(user.editcount));
    // `$profile['confirmed_email'] = $profile['email_verified'] = …` puts
    // email_verified first (observed-1.43.md O4); devwiki's 1.39 wiki keeps
    // its older order for the Mw144 flavour.
    if newer && flavour != ProfileFlavour::Mw139 {
        p.set("email_verified", J::Bool(confirmed));
    }
    p.set("confirmed_email", J::Bool(confirmed));
    if !newer && flavour != ProfileFlavour::Mw139 {
        p.set("email_verified", J::Bool(confirmed));
    }
    p.set("blocked", J::Bool(user.block.is_some()));
    p.set("registered", J::s(user.registered.clone()));
    p.set(
        "groups",
        J::Arr(user.groups().into_iter().map(J::Str).collect()),
    );
    p.set(
        "rights",
        J::Arr(
            users::listed_rights(users::session_rights(&user.rights, scopes), newer)
                .into_iter()
                .map(J::Str)
                .collect(),
        ),
    );
    p.set(
        "grants",
        J::Arr(scopes.iter().cloned().map(J::Str).collect()),
    );
    if scopes.iter().any(|g| g == "mwoauth-authonlyprivate") {
        p.set("realname", J::s(user.realname.clone()));
        p.set(
            "email",
            J::s(if confirmed {
                user.email.clone()
            } else {
                String::new()
            }),
        );
    }
    p
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn loopback_ports_are_ignored_elsewhere_exact() {
        let reg = "http://127.0.0.1:8000/oauth-callback";
        assert!(redirect_uri_matches(reg, reg));
        assert!(redirect_uri_matches(
            reg,
            "http://127.0.0.1:9999/oauth-callback"
        ));
        assert!(redirect_uri_matches(reg, "http://127.0.0.1/oauth-callback"));
        assert!(!redirect_uri_matches(reg, "http://127.0.0.1:8000/other"));
        assert!(!redirect_uri_matches(
            reg,
            "http://localhost:8000/oauth-callback"
        ));
        assert!(!redirect_uri_matches(
            reg,
            "https://127.0.0.1:8000/oauth-callback"
        ));
        assert!(redirect_uri_matches(
            "http://[::1]:1/cb",
            "http://[::1]:5/cb"
        ));
        assert!(!redirect_uri_matches(
            "https://app.example/cb",
            "https://app.example/cb/"
        ));
        assert!(!redirect_uri_matches(
            "http://127.0.0.1.evil.example/cb",
            "http://127.0.0.1.evil.example:8/cb"
        ));
    }

    #[test]
    fn pkce_s256_against_python_hashlib() {
        assert_eq!(
            s256("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWjonoFc"),
            // base64.urlsafe_b64encode(hashlib.sha256(v).digest()) without "="
            "-WipZ2m6iGz4YxOc-93MLxSzk7-tnHwwtVI-vA0sSok"
        );
        assert!(pkce_shaped("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWjonoFc"));
        assert!(!pkce_shaped("short"));
        assert!(!pkce_shaped(&"a+".repeat(30)));
    }

    #[test]
    fn php_urlencode() {
        assert_eq!(
            urlencode(DESC_USER_REJECTED),
            "User+has+rejected+the+request+from+client+application"
        );
    }
}
