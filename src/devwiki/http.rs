//! HTTP plumbing: the raw request as the wiki sees it, responses, the
//! Rocket handler that feeds every request to [`dispatch`], and shared HTML.

use std::io::Cursor;
use std::sync::Arc;

use rocket::data::ToByteUnit;
use rocket::http::Status;
use rocket::route::{Handler, Outcome};
use rocket::{Data, Request, Response};

use super::messages::escape_html;
use super::store::Shared;
use super::verify::{self, PVal, Params};

/// Largest request body read (bigger ones get an error in the real shape).
pub(crate) const BODY_LIMIT: usize = 8 * 1024 * 1024;

/// A request, with exact bytes.
#[derive(Debug, Clone)]
pub(crate) struct Req {
    /// Upper-cased method.
    pub method: String,
    /// The path as sent (percent-encoding kept).
    pub raw_path: String,
    /// The query string as sent (after `?`), if any.
    pub query: Option<String>,
    pub authorization: Option<String>,
    pub content_type: Option<String>,
    pub cookie: Option<String>,
    pub body: Vec<u8>,
    /// The body was larger than [`BODY_LIMIT`].
    pub body_too_large: bool,
}

impl Req {
    /// A request from parts (used by tests and by the Rocket handler).
    pub(crate) fn new(method: &str, target: &str) -> Req {
        let (path, query) = match target.split_once('?') {
            Some((p, q)) => (p.to_string(), Some(q.to_string())),
            None => (target.to_string(), None),
        };
        Req {
            method: method.to_ascii_uppercase(),
            raw_path: path,
            query,
            authorization: None,
            content_type: None,
            cookie: None,
            body: Vec::new(),
            body_too_large: false,
        }
    }

    /// Whether the request was POSTed (`WebRequest::wasPosted`).
    pub(crate) fn was_posted(&self) -> bool {
        self.method == "POST"
    }

    /// `$_GET`.
    pub(crate) fn get_params(&self) -> Params {
        verify::parse_php_query(self.query.as_deref().unwrap_or("").as_bytes())
    }

    /// `$_POST` (form-urlencoded or multipart bodies of POST requests).
    pub(crate) fn post_params(&self) -> Params {
        if !self.was_posted() {
            return Params::default();
        }
        let ct = self.content_type.as_deref().unwrap_or("");
        let lower = ct.to_ascii_lowercase();
        if lower.starts_with("application/x-www-form-urlencoded") {
            verify::parse_php_query(&self.body)
        } else if lower.starts_with("multipart/form-data") {
            parse_multipart(ct, &self.body)
        } else {
            Params::default()
        }
    }

    /// `$_POST + $_GET`: what `WebRequest::getVal` reads (POST wins).
    pub(crate) fn values(&self) -> Params {
        let mut out = self.post_params();
        let get = self.get_params();
        let post_names: Vec<String> = out.names().collect();
        for name in get.names().collect::<Vec<_>>() {
            if !post_names.contains(&name) {
                if let Some(v) = get.get(&name) {
                    out.set(name.into_bytes(), v.clone());
                }
            }
        }
        out
    }

    /// The OAuth view of the request.
    pub(crate) fn oauth_params(&self) -> Params {
        let form_body = if verify::is_signed_form(&self.method, self.content_type.as_deref()) {
            Some(self.body.as_slice())
        } else {
            None
        };
        verify::collect_params(&verify::RequestParts {
            query: self.query.as_deref().map(str::as_bytes),
            form_body,
            authorization: self.authorization.as_deref(),
        })
    }

    /// A cookie's value.
    pub(crate) fn cookie_value(&self, name: &str) -> Option<String> {
        let cookies = self.cookie.as_deref()?;
        cookies.split(';').find_map(|c| {
            let (k, v) = c.trim().split_once('=')?;
            (k == name)
                .then(|| String::from_utf8_lossy(&verify::urldecode(v.as_bytes())).into_owned())
        })
    }
}

/// `getVal`-style text access on parameters: single values only.
pub(crate) fn val(params: &Params, name: &str) -> Option<String> {
    params.get_str(name)
}

/// `getCheck`: present at all (even as an array).
pub(crate) fn check(params: &Params, name: &str) -> bool {
    params.get(name).is_some()
}

/// A minimal `multipart/form-data` reader: text fields only, like `$_POST`.
pub(crate) fn parse_multipart(content_type: &str, body: &[u8]) -> Params {
    let mut out = Params::default();
    let boundary = content_type.split(';').find_map(|part| {
        let (k, v) = part.trim().split_once('=')?;
        k.trim()
            .eq_ignore_ascii_case("boundary")
            .then(|| v.trim().trim_matches('"').to_string())
    });
    let boundary = match boundary {
        Some(b) if !b.is_empty() => format!("--{b}"),
        _ => return out,
    };
    let delim = boundary.as_bytes();
    let mut pos = match find(body, delim, 0) {
        Some(p) => p + delim.len(),
        None => return out,
    };
    loop {
        if body[pos..].starts_with(b"--") {
            break;
        }
        if body[pos..].starts_with(b"\r\n") {
            pos += 2;
        }
        let headers_end = match find(body, b"\r\n\r\n", pos) {
            Some(p) => p,
            None => break,
        };
        let headers = String::from_utf8_lossy(&body[pos..headers_end]).into_owned();
        let content_start = headers_end + 4;
        let next = match find(body, delim, content_start) {
            Some(p) => p,
            None => break,
        };
        let mut content_end = next;
        if content_end >= 2 && &body[content_end - 2..content_end] == b"\r\n" {
            content_end -= 2;
        }
        let mut name = None;
        let mut is_file = false;
        for line in headers.split("\r\n") {
            let lower = line.to_ascii_lowercase();
            if lower.starts_with("content-disposition:") {
                for attr in line.split(';').skip(1) {
                    if let Some((k, v)) = attr.trim().split_once('=') {
                        let v = v.trim().trim_matches('"').to_string();
                        match k.trim().to_ascii_lowercase().as_str() {
                            "name" => name = Some(v),
                            "filename" => is_file = true,
                            _ => {}
                        }
                    }
                }
            }
        }
        if let (Some(n), false) = (name, is_file) {
            if content_start <= content_end {
                out.set(
                    n.into_bytes(),
                    PVal::One(body[content_start..content_end].to_vec()),
                );
            }
        }
        pos = next + delim.len();
        if pos >= body.len() {
            break;
        }
    }
    out
}

fn find(hay: &[u8], needle: &[u8], from: usize) -> Option<usize> {
    if needle.is_empty() || from > hay.len() {
        return None;
    }
    hay[from..]
        .windows(needle.len())
        .position(|w| w == needle)
        .map(|p| p + from)
}

/// A response.
#[derive(Debug, Clone)]
pub(crate) struct Resp {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Resp {
    /// A response with a body and a content type.
    pub(crate) fn new(status: u16, content_type: &str, body: impl Into<Vec<u8>>) -> Resp {
        Resp {
            status,
            headers: vec![
                ("X-Content-Type-Options".into(), "nosniff".into()),
                ("Content-Type".into(), content_type.into()),
            ],
            body: body.into(),
        }
    }

    /// Adds a header.
    pub(crate) fn header(mut self, name: &str, value: impl Into<String>) -> Resp {
        self.headers.push((name.into(), value.into()));
        self
    }

    /// A 302 redirect.
    pub(crate) fn redirect(location: &str) -> Resp {
        Resp::new(302, "text/html; charset=UTF-8", Vec::new())
            .header("Location", location)
            .header("Vary", "Accept-Encoding, Cookie, Authorization")
            .header("Expires", "Thu, 01 Jan 1970 00:00:00 GMT")
            .header("Cache-Control", "private, must-revalidate, max-age=0")
    }

    /// A normal wiki HTML page.
    pub(crate) fn page(status: u16, title: &str, body_html: &str) -> Resp {
        Resp::new(
            status,
            "text/html; charset=UTF-8",
            page_html(title, body_html),
        )
        .header("Content-language", "en")
        .header("X-Frame-Options", "DENY")
        .header("Vary", "Accept-Encoding, Cookie, Authorization")
        .header("Expires", "Thu, 01 Jan 1970 00:00:00 GMT")
        .header("Cache-Control", "private, must-revalidate, max-age=0")
    }
}

/// The page frame shared by every HTML page of the wiki.
pub(crate) fn page_html(title: &str, body_html: &str) -> String {
    format!(
        "<!DOCTYPE html>\n<html class=\"client-nojs\" lang=\"en\" dir=\"ltr\">\n<head>\n<meta charset=\"UTF-8\">\n<title>{t} - DevWiki</title>\n<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n<style>\nbody{{font-family:sans-serif;margin:0;background:#f8f9fa;color:#202122}}\n#mw-head{{background:#eaecf0;padding:.5em 1em;border-bottom:1px solid #a2a9b1}}\n#content{{background:#fff;margin:1em;padding:1em 1.5em;border:1px solid #a7d7f9;max-width:60em}}\nh1{{font-family:serif;font-weight:normal;border-bottom:1px solid #a2a9b1}}\n.error,.errorbox{{color:#d33;background:#fee7e6;border:1px solid #d33;padding:.5em}}\nbutton{{font-size:1em;padding:.4em 1em;margin-right:.5em}}\n#accept{{background:#36c;color:#fff;border:1px solid #36c}}\ncode,pre{{background:#f8f9fa;border:1px solid #eaecf0;padding:.1em .3em}}\n#footer{{margin:1em;font-size:.8em;color:#54595d}}\n</style>\n</head>\n<body>\n<div id=\"mw-head\"><a href=\"/wiki/Main_Page\">DevWiki</a> &middot; a local imitation of MediaWiki + Extension:OAuth</div>\n<div id=\"content\">\n<h1 id=\"firstHeading\">{t}</h1>\n<div id=\"bodyContent\">\n{body_html}\n</div>\n</div>\n<div id=\"footer\">DevWiki (rocket_mediawiki_oauth). Not a real wiki: for development and tests only.</div>\n</body>\n</html>\n",
        t = escape_html(title)
    )
}

/// The Rocket handler: reads the request with its exact bytes and hands it
/// to [`dispatch`] (synchronously: the state lock is never held across an
/// `.await`).
#[derive(Clone)]
pub(crate) struct WikiHandler {
    pub shared: Arc<Shared>,
}

#[rocket::async_trait]
impl Handler for WikiHandler {
    async fn handle<'r>(&self, request: &'r Request<'_>, data: Data<'r>) -> Outcome<'r> {
        let mut req = Req::new(request.method().as_str(), "/");
        req.raw_path = request.uri().path().raw().as_str().to_string();
        req.query = request.uri().query().map(|q| q.raw().as_str().to_string());
        let headers = request.headers();
        req.authorization = headers.get_one("Authorization").map(str::to_string);
        req.content_type = headers.get_one("Content-Type").map(str::to_string);
        req.cookie = {
            let all: Vec<&str> = headers.get("Cookie").collect();
            (!all.is_empty()).then(|| all.join("; "))
        };
        if matches!(req.method.as_str(), "POST" | "PUT" | "PATCH" | "DELETE") {
            match data.open((BODY_LIMIT as u64).bytes()).into_bytes().await {
                Ok(capped) => {
                    req.body_too_large = !capped.is_complete();
                    req.body = capped.into_inner();
                }
                Err(_) => req.body_too_large = true,
            }
        }
        let resp = super::dispatch(&self.shared, &req);
        let mut builder = Response::build();
        builder.status(Status::new(resp.status));
        for (name, value) in resp.headers {
            builder.raw_header_adjoin(name, value);
        }
        let len = resp.body.len();
        builder.sized_body(len, Cursor::new(resp.body));
        Outcome::Success(builder.finalize())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn multipart_fields() {
        let body = b"--XyZ\r\nContent-Disposition: form-data; name=\"action\"\r\n\r\nedit\r\n--XyZ\r\nContent-Disposition: form-data; name=\"text\"\r\nContent-Type: text/plain\r\n\r\nline1\r\nline2\r\n--XyZ\r\nContent-Disposition: form-data; name=\"file\"; filename=\"a.txt\"\r\n\r\nbinary\r\n--XyZ--\r\n";
        let p = parse_multipart("multipart/form-data; boundary=XyZ", body);
        assert_eq!(p.get_str("action").as_deref(), Some("edit"));
        assert_eq!(p.get_str("text").as_deref(), Some("line1\r\nline2"));
        assert!(p.get("file").is_none());
        // Garbage does not panic.
        let _ = parse_multipart("multipart/form-data; boundary=XyZ", b"--XyZ");
        let _ = parse_multipart("multipart/form-data; boundary=XyZ", b"--XyZ\r\nbad");
        let _ = parse_multipart("multipart/form-data", b"");
    }

    #[test]
    fn post_wins_over_get() {
        let mut r = Req::new("POST", "/w/api.php?a=get&b=get");
        r.content_type = Some("application/x-www-form-urlencoded".into());
        r.body = b"a=post&c=post".to_vec();
        let v = r.values();
        assert_eq!(v.get_str("a").as_deref(), Some("post"));
        assert_eq!(v.get_str("b").as_deref(), Some("get"));
        assert_eq!(v.names().collect::<Vec<_>>(), ["a", "c", "b"]);
    }
}
