//! An insertion-ordered JSON value and an encoder that escapes like PHP.
//!
//! MediaWiki emits JSON through PHP's `json_encode` (directly, through
//! `FormatJson::encode`, or through firebase/php-jwt). Key order is the
//! insertion order of PHP arrays, and the escaping depends on the flags:
//! `\u` escapes for non-ASCII text, `\u003C` for `<` and so on. The imitation
//! must reproduce both, so it does not use `serde_json::Value` (sorted keys).

use std::fmt::Write as _;

/// A JSON value whose objects keep their insertion order.
#[derive(Clone, Debug, PartialEq)]
pub(crate) enum J {
    Null,
    Bool(bool),
    Int(i64),
    Str(String),
    Arr(Vec<J>),
    Obj(Vec<(String, J)>),
}

impl J {
    /// A string value.
    pub(crate) fn s(v: impl Into<String>) -> J {
        J::Str(v.into())
    }

    /// An empty object.
    pub(crate) fn obj() -> J {
        J::Obj(Vec::new())
    }

    /// Builder: appends (or replaces in place) a key of an object.
    pub(crate) fn with(mut self, key: &str, value: J) -> J {
        self.set(key, value);
        self
    }

    /// Sets a key of an object: replaced in place when present, appended otherwise.
    pub(crate) fn set(&mut self, key: &str, value: J) {
        if let J::Obj(entries) = self {
            if let Some(slot) = entries.iter_mut().find(|(k, _)| k == key) {
                slot.1 = value;
            } else {
                entries.push((key.to_string(), value));
            }
        }
    }

    /// Sets a key of an object, putting it first when it is new (MediaWiki's
    /// `ApiResult::ADD_ON_TOP`).
    pub(crate) fn set_on_top(&mut self, key: &str, value: J) {
        if let J::Obj(entries) = self {
            if let Some(slot) = entries.iter_mut().find(|(k, _)| k == key) {
                slot.1 = value;
            } else {
                entries.insert(0, (key.to_string(), value));
            }
        }
    }

    /// Mutable access to the value of a key of an object.
    pub(crate) fn get_mut(&mut self, key: &str) -> Option<&mut J> {
        match self {
            J::Obj(entries) => entries.iter_mut().find(|(k, _)| k == key).map(|(_, v)| v),
            _ => None,
        }
    }
}

/// Escaping flags, named after the PHP ones.
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct Flags {
    /// `JSON_UNESCAPED_UNICODE`: keep non-ASCII as UTF-8 (else `\uXXXX`).
    pub unescaped_unicode: bool,
    /// `JSON_UNESCAPED_SLASHES`: keep `/` (else `\/`).
    pub unescaped_slashes: bool,
    /// `JSON_HEX_TAG | JSON_HEX_AMP`: `<`, `>`, `&` as `\u003C`, `\u003E`, `\u0026`.
    pub hex_tag_amp: bool,
    /// MediaWiki's extra escape of U+2028/U+2029 when unicode is unescaped.
    pub escape_line_separators: bool,
}

impl Flags {
    /// `FormatJson::encode($v)` (no flags): what Special:OAuth uses.
    pub(crate) const FORMATJSON_DEFAULT: Flags = Flags {
        unescaped_unicode: false,
        unescaped_slashes: true,
        hex_tag_amp: true,
        escape_line_separators: false,
    };
    /// api.php `formatversion=1` (`FormatJson::XMLMETA_OK`).
    pub(crate) const API_FV1: Flags = Flags {
        unescaped_unicode: false,
        unescaped_slashes: true,
        hex_tag_amp: false,
        escape_line_separators: false,
    };
    /// api.php `formatversion=2` (`FormatJson::ALL_OK`).
    pub(crate) const API_FV2: Flags = Flags {
        unescaped_unicode: true,
        unescaped_slashes: true,
        hex_tag_amp: false,
        escape_line_separators: true,
    };
    /// firebase/php-jwt: `json_encode($v, JSON_UNESCAPED_SLASHES)`.
    pub(crate) const PHP_JWT: Flags = Flags {
        unescaped_unicode: false,
        unescaped_slashes: true,
        hex_tag_amp: false,
        escape_line_separators: false,
    };
}

/// Encodes `value` the way PHP would with `flags`.
pub(crate) fn encode(value: &J, flags: Flags) -> String {
    let mut out = String::new();
    write_value(&mut out, value, flags);
    out
}

fn write_value(out: &mut String, value: &J, flags: Flags) {
    match value {
        J::Null => out.push_str("null"),
        J::Bool(true) => out.push_str("true"),
        J::Bool(false) => out.push_str("false"),
        J::Int(i) => {
            let _ = write!(out, "{i}");
        }
        J::Str(s) => write_str(out, s, flags),
        J::Arr(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_value(out, item, flags);
            }
            out.push(']');
        }
        J::Obj(entries) => {
            out.push('{');
            for (i, (k, v)) in entries.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_str(out, k, flags);
                out.push(':');
                write_value(out, v, flags);
            }
            out.push('}');
        }
    }
}

fn write_str(out: &mut String, s: &str, flags: Flags) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '/' if !flags.unescaped_slashes => out.push_str("\\/"),
            '\u{8}' => out.push_str("\\b"),
            '\u{c}' => out.push_str("\\f"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '<' if flags.hex_tag_amp => out.push_str("\\u003C"),
            '>' if flags.hex_tag_amp => out.push_str("\\u003E"),
            '&' if flags.hex_tag_amp => out.push_str("\\u0026"),
            c if (c as u32) < 0x20 => {
                let _ = write!(out, "\\u{:04x}", c as u32);
            }
            '\u{2028}' | '\u{2029}' if flags.unescaped_unicode && flags.escape_line_separators => {
                let _ = write!(out, "\\u{:04x}", c as u32);
            }
            c if (c as u32) < 0x80 || flags.unescaped_unicode => out.push(c),
            c => {
                let mut buf = [0u16; 2];
                for unit in c.encode_utf16(&mut buf) {
                    let _ = write!(out, "\\u{:04x}", unit);
                }
            }
        }
    }
    out.push('"');
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn php_like_escaping() {
        let v = J::obj()
            .with("a", J::s("Zoë/😀<&>"))
            .with("b", J::Int(-3))
            .with("c", J::Arr(vec![J::Bool(true), J::Null]));
        assert_eq!(
            encode(&v, Flags::PHP_JWT),
            r#"{"a":"Zo\u00eb/\ud83d\ude00<&>","b":-3,"c":[true,null]}"#
        );
        assert_eq!(
            encode(&v, Flags::FORMATJSON_DEFAULT),
            r#"{"a":"Zo\u00eb/\ud83d\ude00\u003C\u0026\u003E","b":-3,"c":[true,null]}"#
        );
        assert_eq!(
            encode(&v, Flags::API_FV2),
            r#"{"a":"Zoë/😀<&>","b":-3,"c":[true,null]}"#
        );
    }

    #[test]
    fn on_top_and_replace() {
        let mut v = J::obj().with("query", J::obj());
        v.set_on_top("continue", J::s("x"));
        v.set_on_top("batchcomplete", J::s(""));
        v.set("query", J::Int(1));
        assert_eq!(
            encode(&v, Flags::API_FV1),
            r#"{"batchcomplete":"","continue":"x","query":1}"#
        );
    }
}
