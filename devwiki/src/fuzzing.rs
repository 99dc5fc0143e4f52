//! Entry points for the fuzz targets in `../fuzz/`, compiled only with
//! `--cfg fuzzing` (as cargo-fuzz builds). Each one calls the wiki's own
//! parser or writer unchanged and hands back plain values, so that no
//! internal has to be public. Not part of the API.

use crate::phpjson::{self, J};
use crate::verify::{self, PVal, Params};

/// One parameter value: several for a PHP array.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Value {
    /// A single value.
    One(Vec<u8>),
    /// An array's values.
    Many(Vec<Vec<u8>>),
}

/// Parsed request parameters (`verify::Params`), in order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Parameters(Params);

impl Parameters {
    /// The names and values, in order.
    pub fn entries(&self) -> Vec<(Vec<u8>, Value)> {
        self.0
            .entries()
            .iter()
            .map(|(k, v)| {
                let v = match v {
                    PVal::One(v) => Value::One(v.clone()),
                    PVal::Many(vs) => Value::Many(vs.clone()),
                };
                (k.clone(), v)
            })
            .collect()
    }

    /// `verify::signable_parameters`.
    pub fn signable(&self) -> String {
        verify::signable_parameters(&self.0)
    }

    /// `verify::base_string`.
    pub fn base_string(&self, method: &str, normalized_url: &str) -> String {
        verify::base_string(method, normalized_url, &self.0)
    }
}

/// `verify::split_header`: an `Authorization: OAuth …` header value.
pub fn split_header(header: &str) -> Parameters {
    Parameters(verify::split_header(header))
}

/// `verify::parse_parameters` (`OAuthUtil::parse_parameters`).
pub fn parse_parameters(input: &[u8]) -> Parameters {
    Parameters(verify::parse_parameters(input))
}

/// `verify::parse_php_query` (`$_GET`, `$_POST` of a form body).
pub fn parse_php_query(input: &[u8]) -> Parameters {
    Parameters(verify::parse_php_query(input))
}

/// `verify::normalized_url`.
pub fn normalized_url(server: &str, raw_path: &str) -> String {
    verify::normalized_url(server, raw_path)
}

/// `Req::post_params` of a POST with this `Content-Type` and body (form or
/// multipart), and `Req::oauth_params` of it.
pub fn post_params(content_type: &str, body: &[u8]) -> (Parameters, Parameters) {
    let mut req = crate::http::Req::new("POST", "/w/index.php");
    req.content_type = Some(content_type.to_string());
    req.body = body.to_vec();
    (
        Parameters(req.post_params()),
        Parameters(req.oauth_params()),
    )
}

/// One part of a multipart body (`http::Part`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Part {
    /// The field name.
    pub name: String,
    /// The file name, for a file.
    pub filename: Option<String>,
    /// The part's `Content-Type`.
    pub content_type: Option<String>,
    /// The content.
    pub data: Vec<u8>,
}

/// `http::multipart_parts`.
pub fn multipart_parts(content_type: &str, body: &[u8]) -> Vec<Part> {
    crate::http::multipart_parts(content_type, body)
        .into_iter()
        .map(|p| Part {
            name: p.name,
            filename: p.filename,
            content_type: p.content_type,
            data: p.data,
        })
        .collect()
}

/// `http::header_params`.
pub fn header_params(value: &str) -> Vec<(String, String)> {
    crate::http::header_params(value)
}

/// A JSON value with ordered objects (`phpjson::J`).
#[derive(Debug, Clone, PartialEq)]
pub enum Json {
    /// `null`.
    Null,
    /// `true` or `false`.
    Bool(bool),
    /// An integer.
    Int(i64),
    /// A string.
    Str(String),
    /// An array.
    Arr(Vec<Json>),
    /// An object, in order (a repeated key is written twice).
    Obj(Vec<(String, Json)>),
}

impl Json {
    fn to_j(&self) -> J {
        match self {
            Json::Null => J::Null,
            Json::Bool(b) => J::Bool(*b),
            Json::Int(i) => J::Int(*i),
            Json::Str(s) => J::Str(s.clone()),
            Json::Arr(items) => J::Arr(items.iter().map(Json::to_j).collect()),
            Json::Obj(entries) => {
                J::Obj(entries.iter().map(|(k, v)| (k.clone(), v.to_j())).collect())
            }
        }
    }
}

/// The PHP `json_encode` flags (`phpjson::Flags`).
#[derive(Debug, Clone, Copy, Default)]
pub struct JsonFlags {
    /// `JSON_UNESCAPED_UNICODE`.
    pub unescaped_unicode: bool,
    /// `JSON_UNESCAPED_SLASHES`.
    pub unescaped_slashes: bool,
    /// `JSON_HEX_TAG | JSON_HEX_AMP`.
    pub hex_tag_amp: bool,
    /// MediaWiki's escape of U+2028/U+2029.
    pub escape_line_separators: bool,
}

/// `phpjson::encode`.
pub fn php_json(value: &Json, flags: JsonFlags) -> String {
    phpjson::encode(
        &value.to_j(),
        phpjson::Flags {
            unescaped_unicode: flags.unescaped_unicode,
            unescaped_slashes: flags.unescaped_slashes,
            hex_tag_amp: flags.hex_tag_amp,
            escape_line_separators: flags.escape_line_separators,
        },
    )
}
