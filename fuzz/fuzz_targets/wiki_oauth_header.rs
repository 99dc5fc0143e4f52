//! The local wiki's OAuth 1.0a `Authorization` header parser and signature
//! base string (`devwiki/src/verify.rs`). A header built from (name, value)
//! pairs with RFC 3986 encoding parses back to those pairs (the last of a
//! repeated name, at its first place; `"0"` reads as empty, as PHP's
//! `empty()` does) and re-serializes to the same parameters; arbitrary bytes
//! never panic; the base string of parsed parameters is stable (parse →
//! signable → parse of that → signable is the same string) and is
//! `METHOD&enc(url)&enc(signable)`.
#![no_main]

use arbitrary::{Arbitrary, Unstructured};
use devwiki::fuzzing::{
    normalized_url, parse_parameters, parse_php_query, split_header, Parameters, Value,
};
use libfuzzer_sys::fuzz_target;

/// RFC 3986 percent-encoding of everything but the unreserved characters,
/// written here independently of the wiki's `rawurlencode`.
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

/// A parameter name the header grammar reads: `oauth_[a-z_-]*`.
fn header_name(raw: &[u8]) -> Vec<u8> {
    const ALPHABET: &[u8] = b"abcdefghijklmnopqrstuvwxyz_-";
    let mut name = b"oauth_".to_vec();
    name.extend(raw.iter().map(|b| ALPHABET[*b as usize % ALPHABET.len()]));
    name
}

fn header_of(pairs: &[(Vec<u8>, Vec<u8>)], separator: &str, realm: bool) -> String {
    let mut header = String::from("OAuth ");
    if realm {
        header.push_str("realm=\"http://127.0.0.1:8080/\"");
        header.push_str(separator);
    }
    let fields: Vec<String> = pairs
        .iter()
        .map(|(k, v)| format!("{}=\"{}\"", std::str::from_utf8(k).unwrap(), encode(v)))
        .collect();
    header.push_str(&fields.join(separator));
    header
}

/// Pairs as the parser should keep them: one entry per name (the last
/// value, at the first place), a `"0"` or empty value read as empty.
fn expected(pairs: &[(Vec<u8>, Vec<u8>)]) -> Vec<(Vec<u8>, Value)> {
    let mut out: Vec<(Vec<u8>, Value)> = Vec::new();
    for (k, v) in pairs {
        let v = if v == b"0" { Vec::new() } else { v.clone() };
        match out.iter_mut().find(|(name, _)| name == k) {
            Some(slot) => slot.1 = Value::One(v),
            None => out.push((k.clone(), Value::One(v))),
        }
    }
    out
}

fn one_values(params: &Parameters) -> Vec<(Vec<u8>, Vec<u8>)> {
    params
        .entries()
        .into_iter()
        .map(|(k, v)| match v {
            Value::One(v) => (k, v),
            Value::Many(_) => panic!("a header holds single values"),
        })
        .collect()
}

/// The base string of `params` is stable through a re-parse of its
/// signable form, and is built from it.
fn check_base_string(params: &Parameters, server: &str, path: &str, method: &str) {
    let signable = params.signable();
    let again = parse_parameters(signable.as_bytes()).signable();
    assert_eq!(signable, again, "signable of {params:?}");
    let url = normalized_url(server, path);
    let base = params.base_string(method, &url);
    let expected = format!(
        "{}&{}&{}",
        encode(method.to_ascii_uppercase().as_bytes()),
        encode(url.as_bytes()),
        encode(signable.as_bytes())
    );
    assert_eq!(base, expected);
}

#[derive(Arbitrary, Debug)]
struct Input<'a> {
    pairs: Vec<(&'a [u8], &'a [u8])>,
    comma_only: bool,
    realm: bool,
    server: &'a str,
    path: &'a str,
    method: &'a str,
    raw: &'a [u8],
}

fuzz_target!(|data: &[u8]| {
    // Arbitrary bytes never panic, whichever parser reads them.
    if let Ok(text) = std::str::from_utf8(data) {
        let parsed = split_header(text);
        check_base_string(&parsed, "http://127.0.0.1:8080", "/w/index.php", "POST");
        for (k, _) in parsed.entries() {
            assert!(k.starts_with(b"oauth_"), "{k:?}");
        }
    }
    for parsed in [parse_parameters(data), parse_php_query(data)] {
        check_base_string(&parsed, "http://127.0.0.1:8080", "/w/index.php", "GET");
    }

    let Ok(input) = Input::arbitrary(&mut Unstructured::new(data)) else {
        return;
    };
    let pairs: Vec<(Vec<u8>, Vec<u8>)> = input
        .pairs
        .iter()
        .map(|(k, v)| (header_name(k), v.to_vec()))
        .collect();
    let separator = if input.comma_only { "," } else { ", " };
    let header = header_of(&pairs, separator, input.realm);
    let parsed = split_header(&header);
    assert_eq!(parsed.entries(), expected(&pairs), "{header:?}");

    // Re-serialized, the parsed parameters parse to the same.
    let header2 = header_of(&one_values(&parsed), ", ", false);
    assert_eq!(split_header(&header2), parsed, "{header2:?}");

    check_base_string(&parsed, input.server, input.path, input.method);
    let query = parse_php_query(input.raw);
    check_base_string(&query, input.server, input.path, input.method);
});
