//! The local wiki's PHP-style JSON writer (`devwiki/src/phpjson.rs`): for
//! any value and any flags, what it writes parses with `serde_json` to that
//! value (a repeated key: the last one), and the flags hold: no raw `/`
//! unless slashes are unescaped, only ASCII unless unicode is unescaped, no
//! raw `<`, `>`, `&` with the hex flags, never a raw C0 control character, no
//! raw U+2028/U+2029 when MediaWiki escapes them.
#![no_main]

use arbitrary::{Arbitrary, Unstructured};
use devwiki::fuzzing::{php_json, Json, JsonFlags};
use libfuzzer_sys::fuzz_target;
use serde_json::Value;

/// Depth-limited values (serde_json reads at most 128 levels).
fn value(u: &mut Unstructured<'_>, depth: u32) -> arbitrary::Result<Json> {
    let kind = if depth >= 16 {
        u.int_in_range(0..=3)?
    } else {
        u.int_in_range(0..=5)?
    };
    Ok(match kind {
        0 => Json::Null,
        1 => Json::Bool(u.arbitrary()?),
        2 => Json::Int(u.arbitrary()?),
        3 => Json::Str(u.arbitrary()?),
        4 => {
            let n = u.int_in_range(0..=8)?;
            Json::Arr(
                (0..n)
                    .map(|_| value(u, depth + 1))
                    .collect::<Result<_, _>>()?,
            )
        }
        _ => {
            let n = u.int_in_range(0..=8)?;
            let mut entries = Vec::new();
            for _ in 0..n {
                entries.push((u.arbitrary()?, value(u, depth + 1)?));
            }
            Json::Obj(entries)
        }
    })
}

fn expected(v: &Json) -> Value {
    match v {
        Json::Null => Value::Null,
        Json::Bool(b) => Value::Bool(*b),
        Json::Int(i) => Value::from(*i),
        Json::Str(s) => Value::String(s.clone()),
        Json::Arr(items) => Value::Array(items.iter().map(expected).collect()),
        Json::Obj(entries) => {
            let mut map = serde_json::Map::new();
            for (k, v) in entries {
                map.insert(k.clone(), expected(v));
            }
            Value::Object(map)
        }
    }
}

fuzz_target!(|data: &[u8]| {
    let mut u = Unstructured::new(data);
    let Ok(flags) = <[bool; 4]>::arbitrary(&mut u) else {
        return;
    };
    let flags = JsonFlags {
        unescaped_unicode: flags[0],
        unescaped_slashes: flags[1],
        hex_tag_amp: flags[2],
        escape_line_separators: flags[3],
    };
    let Ok(v) = value(&mut u, 0) else {
        return;
    };
    let out = php_json(&v, flags);
    let parsed: Value = serde_json::from_str(&out).unwrap_or_else(|e| panic!("{e}: {out:?}"));
    assert_eq!(parsed, expected(&v), "{out:?}");

    assert!(!out.chars().any(|c| c < ' '), "{out:?}");
    if !flags.unescaped_slashes {
        assert!(!out.replace("\\/", "").contains('/'), "{out:?}");
    }
    if !flags.unescaped_unicode {
        assert!(out.is_ascii(), "{out:?}");
    }
    if flags.hex_tag_amp {
        assert!(!out.contains(['<', '>', '&']), "{out:?}");
    }
    if flags.unescaped_unicode && flags.escape_line_separators {
        assert!(!out.contains(['\u{2028}', '\u{2029}']), "{out:?}");
    }
});
