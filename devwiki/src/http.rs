//! HTTP plumbing: the raw request as the wiki sees it, responses, and the
//! shared HTML of pages (the skin, `OutputPage::showErrorPage`).

use std::future::Future;

use crate::messages::{escape_html, Msg};
use crate::verify::{self, PVal, Params};

/// Largest request body read (bigger ones get an error in the real shape).
pub(crate) const BODY_LIMIT: usize = 8 * 1024 * 1024;

/// Largest `multipart/form-data` body read (uploads).
pub(crate) const MULTIPART_BODY_LIMIT: usize = 20 * 1024 * 1024;

/// Most parts read from one multipart body.
const MAX_PARTS: usize = 1000;

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
    pub user_agent: Option<String>,
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
            user_agent: None,
            body: Vec::new(),
            body_too_large: false,
        }
    }

    /// Whether the body is `multipart/form-data`.
    pub(crate) fn is_multipart(&self) -> bool {
        is_multipart(self.content_type.as_deref())
    }

    /// The largest body read for this request.
    pub(crate) fn body_limit(&self) -> usize {
        if self.is_multipart() {
            MULTIPART_BODY_LIMIT
        } else {
            BODY_LIMIT
        }
    }

    /// The parts of a POSTed `multipart/form-data` body (`$_POST` + `$_FILES`).
    pub(crate) fn multipart(&self) -> Vec<Part> {
        if !self.was_posted() || !self.is_multipart() {
            return Vec::new();
        }
        multipart_parts(self.content_type.as_deref().unwrap_or(""), &self.body)
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

fn is_multipart(content_type: Option<&str>) -> bool {
    content_type.is_some_and(|ct| {
        ct.trim_start()
            .to_ascii_lowercase()
            .starts_with("multipart/form-data")
    })
}

/// One part of a `multipart/form-data` body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Part {
    /// The form field name.
    pub name: String,
    /// The file name, for a file (`$_FILES`); text fields have none.
    pub filename: Option<String>,
    /// The part's own `Content-Type`, if any.
    pub content_type: Option<String>,
    /// The content, exactly.
    pub data: Vec<u8>,
}

/// Splits a header value into `;`-separated `key=value` parameters,
/// respecting quoted strings (with `\` escapes). The first item (the value
/// itself, e.g. `form-data`) comes back with an empty key.
pub(crate) fn header_params(value: &str) -> Vec<(String, String)> {
    let mut out = Vec::new();
    let mut chars = value.chars().peekable();
    loop {
        // key (or bare token)
        let mut key = String::new();
        while let Some(&c) = chars.peek() {
            if c == '=' || c == ';' {
                break;
            }
            key.push(c);
            chars.next();
        }
        let mut val = String::new();
        let bare = chars.peek() != Some(&'=');
        if !bare {
            chars.next();
            while chars.peek().is_some_and(|c| *c == ' ' || *c == '\t') {
                chars.next();
            }
            if chars.peek() == Some(&'"') {
                chars.next();
                while let Some(c) = chars.next() {
                    match c {
                        '\\' => {
                            if let Some(n) = chars.next() {
                                val.push(n);
                            }
                        }
                        '"' => break,
                        c => val.push(c),
                    }
                }
                // Anything up to the next ';' after the closing quote is dropped.
                while chars.peek().is_some_and(|c| *c != ';') {
                    chars.next();
                }
            } else {
                while let Some(&c) = chars.peek() {
                    if c == ';' {
                        break;
                    }
                    val.push(c);
                    chars.next();
                }
                val = val.trim().to_string();
            }
        }
        let key = key.trim().to_ascii_lowercase();
        if bare {
            if !key.is_empty() {
                out.push((String::new(), key));
            }
        } else {
            out.push((key, val));
        }
        if chars.next().is_none() {
            break;
        }
    }
    out
}

/// An RFC 5987 `ext-value` (`utf-8''na%C3%AFve.png`), decoded.
fn ext_value(v: &str) -> Option<String> {
    let (charset, rest) = v.split_once('\'')?;
    let (_, encoded) = rest.split_once('\'')?;
    let bytes = verify::urldecode(encoded.replace('+', "%2B").as_bytes());
    if charset.eq_ignore_ascii_case("utf-8") {
        String::from_utf8(bytes).ok()
    } else {
        Some(bytes.iter().map(|b| char::from(*b)).collect())
    }
}

/// The boundary parameter of a `multipart/form-data` content type.
fn boundary_of(content_type: &str) -> Option<String> {
    header_params(content_type)
        .into_iter()
        .find(|(k, _)| k == "boundary")
        .map(|(_, v)| v)
        .filter(|b| !b.is_empty() && b.len() <= 200)
}

/// Reads a `multipart/form-data` body (RFC 7578) with `multer`: every
/// part, text fields and files. Malformed input ends the reading early
/// (what was read completely so far is kept); it never panics and never
/// reads more than [`MAX_PARTS`] parts. The `Content-Disposition` of each
/// part is read here, as PHP does (`filename*` included).
pub(crate) fn multipart_parts(content_type: &str, body: &[u8]) -> Vec<Part> {
    let Some(boundary) = boundary_of(content_type) else {
        return Vec::new();
    };
    let chunk: Result<Vec<u8>, std::io::Error> = Ok(body.to_vec());
    let stream = futures_util::stream::iter([chunk]);
    let mut multipart = multer::Multipart::new(stream, boundary);
    let read = async move {
        let mut parts = Vec::new();
        while parts.len() < MAX_PARTS {
            let Ok(Some(field)) = multipart.next_field().await else {
                break;
            };
            let header = |name: &str| {
                field
                    .headers()
                    .get(name)
                    .map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned())
            };
            let part_type = header("content-type").map(|v| v.trim().to_string());
            let disposition = header("content-disposition").unwrap_or_default();
            let (mut name, mut filename, mut filename_ext) = (None, None, None);
            for (k, v) in header_params(&disposition) {
                match k.as_str() {
                    "name" => name = Some(v),
                    "filename" => filename = Some(v),
                    "filename*" => filename_ext = ext_value(&v),
                    "name*" if name.is_none() => name = ext_value(&v),
                    _ => {}
                }
            }
            let Ok(data) = field.bytes().await else {
                break;
            };
            if let Some(name) = name {
                parts.push(Part {
                    name,
                    filename: filename_ext.or(filename),
                    content_type: part_type,
                    data: data.to_vec(),
                });
            }
        }
        parts
    };
    // The body is all in memory, so the stream never waits: one poll runs
    // the whole read.
    let mut read = std::pin::pin!(read);
    let mut cx = std::task::Context::from_waker(std::task::Waker::noop());
    match read.as_mut().poll(&mut cx) {
        std::task::Poll::Ready(parts) => parts,
        std::task::Poll::Pending => Vec::new(),
    }
}

/// A `multipart/form-data` body as `$_POST`: text fields only (files go
/// to `$_FILES`).
pub(crate) fn parse_multipart(content_type: &str, body: &[u8]) -> Params {
    let mut out = Params::default();
    for part in multipart_parts(content_type, body) {
        if part.filename.is_none() {
            out.set(part.name.into_bytes(), PVal::One(part.data));
        }
    }
    out
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
        "<!DOCTYPE html>\n<html class=\"client-nojs\" lang=\"en\" dir=\"ltr\">\n<head>\n<meta charset=\"UTF-8\">\n<title>{t} - DevWiki</title>\n<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n<style>\nbody{{font-family:sans-serif;margin:0;background:#f8f9fa;color:#202122}}\n#mw-head{{background:#eaecf0;padding:.5em 1em;border-bottom:1px solid #a2a9b1}}\n#content{{background:#fff;margin:1em;padding:1em 1.5em;border:1px solid #a7d7f9;max-width:60em}}\nh1{{font-family:serif;font-weight:normal;border-bottom:1px solid #a2a9b1}}\n.error,.errorbox{{color:#d33;background:#fee7e6;border:1px solid #d33;padding:.5em}}\nbutton{{font-size:1em;padding:.4em 1em;margin-right:.5em}}\n#accept{{background:#36c;color:#fff;border:1px solid #36c}}\ncode,pre{{background:#f8f9fa;border:1px solid #eaecf0;padding:.1em .3em}}\n#footer{{margin:1em;font-size:.8em;color:#54595d}}\n</style>\n</head>\n<body>\n<div id=\"mw-head\"><a href=\"/wiki/Main_Page\">DevWiki</a> &middot; a local imitation of MediaWiki + Extension:OAuth</div>\n<div id=\"content\">\n<h1 id=\"firstHeading\">{t}</h1>\n<div id=\"bodyContent\">\n{body_html}\n</div>\n</div>\n<div id=\"footer\">DevWiki: not a real wiki, for development and tests only. <a href=\"/wiki/DevWiki:Privacy_policy\">Privacy policy</a></div>\n</body>\n</html>\n",
        t = escape_html(title)
    )
}

/// Where the special page was reached, to post forms back the same way.
#[derive(Clone, Debug)]
pub(crate) struct Target {
    /// The form `action` (a path).
    pub action: String,
}

/// `OutputPage::showErrorPage('mwoauth-error', $msg)`.
pub(crate) fn error_page(msg: &Msg) -> Resp {
    Resp::page(
        200,
        "Application Connection Error",
        &format!(
            "<div class=\"errorbox\" id=\"mw-mwoauth-error\">{}</div>",
            msg.html()
        ),
    )
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
    fn multipart_files_and_quoting() {
        let body = b"preamble\r\n--b\r\nContent-Disposition: form-data; name=\"file\"; filename=\"a;b \\\"q\\\".png\"\r\nContent-Type: image/png\r\n\r\n\r\n--not the boundary\r\n\0\xff\r\n--b  \r\nContent-Disposition: form-data; name=\"f2\"; filename*=utf-8''Z%C3%B6e.png\r\n\r\nx\r\n--b\r\n\r\nno headers\r\n--b--";
        let parts = multipart_parts("multipart/form-data; charset=utf-8; boundary=\"b\"", body);
        assert_eq!(parts.len(), 2, "{parts:?}");
        assert_eq!(parts[0].name, "file");
        assert_eq!(parts[0].filename.as_deref(), Some("a;b \"q\".png"));
        assert_eq!(parts[0].content_type.as_deref(), Some("image/png"));
        assert_eq!(parts[0].data, b"\r\n--not the boundary\r\n\0\xff");
        assert_eq!(parts[1].filename.as_deref(), Some("Zöe.png"));
        assert_eq!(parts[1].data, b"x");
        // Text fields are $_POST, files are not.
        let p = parse_multipart("multipart/form-data; boundary=b", body);
        assert!(p.get("file").is_none());
    }

    #[test]
    fn multipart_malformed_never_panics() {
        let ct = "multipart/form-data; boundary=XyZ";
        for body in [
            &b""[..],
            b"--",
            b"--XyZ",
            b"--XyZ--",
            b"--XyZ\r",
            b"--XyZ\r\n",
            b"--XyZ\r\n\r\n",
            b"--XyZ\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\n",
            b"--XyZ\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\nv\r\n--XyZ",
            b"--XyZ\r\nContent-Disposition: form-data; name=\"unterminated\r\n\r\nv\r\n--XyZ--",
            b"--XyZ\r\nContent-Disposition\r\n\r\nv\r\n--XyZ--",
            b"\r\n--XyZ\r\n\xff\xfe: \xff\r\n\r\n\r\n--XyZ--",
        ] {
            let _ = multipart_parts(ct, body);
            let _ = parse_multipart(ct, body);
        }
        for ct in [
            "multipart/form-data",
            "multipart/form-data; boundary=",
            "multipart/form-data; boundary=\"",
            "multipart/form-data; boundary=\"\\",
            "multipart/form-data;;;=;boundary",
        ] {
            assert!(multipart_parts(ct, b"--\r\n\r\n--").is_empty(), "{ct}");
        }
        let v = multipart_parts(
            ct,
            b"--XyZ\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\nv\r\n--XyZ",
        );
        assert_eq!(v.len(), 1, "an unclosed last delimiter still ends a part");
    }

    proptest::proptest! {
        #[test]
        fn multipart_arbitrary_bytes(body in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..512)) {
            let _ = multipart_parts("multipart/form-data; boundary=ab", &body);
            let mut framed = b"--ab\r\n".to_vec();
            framed.extend_from_slice(&body);
            let _ = multipart_parts("multipart/form-data; boundary=ab", &framed);
        }

        #[test]
        fn multipart_file_round_trip(data in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..2048)) {
            let boundary = "----devwikiBoundary7MA4YWxkTrZu0gW";
            let mut body = format!("--{boundary}\r\nContent-Disposition: form-data; name=\"token\"\r\n\r\nabc+\\\r\n--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"x.png\"\r\n\r\n").into_bytes();
            body.extend_from_slice(&data);
            body.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
            let parts = multipart_parts(&format!("multipart/form-data; boundary={boundary}"), &body);
            proptest::prop_assert_eq!(parts.len(), 2);
            proptest::prop_assert_eq!(parts[0].data.as_slice(), b"abc+\\");
            proptest::prop_assert_eq!(parts[1].data.as_slice(), data.as_slice());
        }
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
