//! The local wiki's request bodies (`devwiki/src/http.rs`): form-urlencoded
//! (PHP's `$_POST`) and `multipart/form-data` (through `multer`). Arbitrary
//! bodies and content types never panic; the fields of a well-formed body
//! generated here come back as generated (names and values, exactly).
#![no_main]

use arbitrary::{Arbitrary, Unstructured};
use devwiki::fuzzing::{header_params, multipart_parts, post_params, Value};
use libfuzzer_sys::fuzz_target;

fn encode(input: &[u8]) -> String {
    let mut out = String::new();
    for &b in input {
        if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// A name PHP keeps as it is: not empty, no space, `.`, `[` or `]` (which
/// PHP rewrites or reads as arrays).
fn form_name(raw: &[u8]) -> Vec<u8> {
    let mut name: Vec<u8> = raw
        .iter()
        .map(|b| if b" .[]".contains(b) { b'x' } else { *b })
        .collect();
    name.insert(0, b'f');
    name
}

/// A field name that a `Content-Disposition` header line can carry quoted:
/// no control characters (`\` and `"` are escaped below).
fn part_name(raw: &str) -> String {
    raw.chars().filter(|c| !c.is_control()).collect()
}

fn quote(s: &str) -> String {
    let mut out = String::from("\"");
    for c in s.chars() {
        if c == '"' || c == '\\' {
            out.push('\\');
        }
        out.push(c);
    }
    out.push('"');
    out
}

#[derive(Arbitrary, Debug)]
struct Input<'a> {
    form: Vec<(&'a [u8], &'a [u8])>,
    parts: Vec<(&'a str, &'a [u8], bool)>,
    boundary: u32,
    raw_type: &'a str,
    raw: &'a [u8],
}

fn check_form(pairs: &[(&[u8], &[u8])]) {
    let pairs: Vec<(Vec<u8>, Vec<u8>)> = pairs
        .iter()
        .map(|(k, v)| (form_name(k), v.to_vec()))
        .collect();
    let body = pairs
        .iter()
        .map(|(k, v)| format!("{}={}", encode(k), encode(v)))
        .collect::<Vec<_>>()
        .join("&");
    // The last value of a name wins, at the name's first place.
    let mut expected: Vec<(Vec<u8>, Value)> = Vec::new();
    for (k, v) in &pairs {
        match expected.iter_mut().find(|(name, _)| name == k) {
            Some(slot) => slot.1 = Value::One(v.clone()),
            None => expected.push((k.clone(), Value::One(v.clone()))),
        }
    }
    let (post, _) = post_params("application/x-www-form-urlencoded", body.as_bytes());
    assert_eq!(post.entries(), expected, "{body:?}");
}

fn check_multipart(parts: &[(&str, &[u8], bool)], boundary: u32) {
    // The wiki reads at most 1000 parts.
    let parts = &parts[..parts.len().min(100)];
    let boundary = format!("----devwikiFuzz{boundary:08x}");
    let delimiter = format!("\r\n--{boundary}");
    let mut body = Vec::new();
    let mut expected = Vec::new();
    for (i, (name, data, is_file)) in parts.iter().enumerate() {
        if data
            .windows(delimiter.len())
            .any(|w| w == delimiter.as_bytes())
        {
            return;
        }
        let name = part_name(name);
        body.extend_from_slice(format!("--{boundary}\r\n").as_bytes());
        let filename = is_file.then(|| format!("f{i}.bin"));
        let mut disposition = format!("Content-Disposition: form-data; name={}", quote(&name));
        if let Some(f) = &filename {
            disposition.push_str(&format!("; filename={}", quote(f)));
        }
        body.extend_from_slice(disposition.as_bytes());
        body.extend_from_slice(b"\r\n\r\n");
        body.extend_from_slice(data);
        body.extend_from_slice(b"\r\n");
        expected.push((name, filename, data.to_vec()));
    }
    body.extend_from_slice(format!("--{boundary}--\r\n").as_bytes());
    let content_type = format!("multipart/form-data; boundary={boundary}");
    let got: Vec<(String, Option<String>, Vec<u8>)> = multipart_parts(&content_type, &body)
        .into_iter()
        .map(|p| (p.name, p.filename, p.data))
        .collect();
    assert_eq!(got, expected, "{:?}", String::from_utf8_lossy(&body));
    // $_POST: the text fields, the last value of a name winning.
    let mut fields: Vec<(Vec<u8>, Value)> = Vec::new();
    for (name, filename, data) in expected {
        if filename.is_some() {
            continue;
        }
        let name = name.into_bytes();
        match fields.iter_mut().find(|(n, _)| *n == name) {
            Some(slot) => slot.1 = Value::One(data),
            None => fields.push((name, Value::One(data))),
        }
    }
    let (post, _) = post_params(&content_type, &body);
    assert_eq!(post.entries(), fields);
}

fuzz_target!(|data: &[u8]| {
    // Arbitrary bodies never panic.
    for content_type in [
        "application/x-www-form-urlencoded",
        "multipart/form-data; boundary=ab",
        "multipart/form-data; boundary=\"----devwikiBoundary\"",
    ] {
        let _ = post_params(content_type, data);
        let _ = multipart_parts(content_type, data);
    }
    if let Ok(text) = std::str::from_utf8(data) {
        let _ = header_params(text);
        let _ = post_params(text, b"--ab\r\n\r\n--ab--");
    }

    let Ok(input) = Input::arbitrary(&mut Unstructured::new(data)) else {
        return;
    };
    let _ = post_params(input.raw_type, input.raw);
    let _ = multipart_parts(input.raw_type, input.raw);
    check_form(&input.form);
    check_multipart(&input.parts, input.boundary);
});
