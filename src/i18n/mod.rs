//! Every text the crate shows a person, in the person's language.
//!
//! The messages live in banana JSON files, as translatewiki.net keeps them
//! for Wikimedia tools: `en.json` (the source), `qqq.json` (what each
//! message is for), `de.json`, `fr.json`, embedded in the crate and read
//! once. An app adds or overrides messages with its own files
//! (`mwoauth.i18n_dir`).
//!
//! One decision, one place: [`Messages::choose`] picks the language of a
//! request (`?uselang=`, then `Accept-Language`, then English);
//! [`Messages::text`] finds a message along the fallback chain (`de-at` →
//! `de` → `en`, the app's files before the crate's in each language),
//! expands `{{PLURAL:$n|one|other}}` and substitutes `$1…$n`. The result is
//! plain text: HTML escaping is done where a page is built. `uselang=qqx`
//! shows the keys, as MediaWiki does.

use std::collections::HashMap;
use std::path::Path;
use std::sync::{Arc, OnceLock};

/// The crate's own message files.
const BUILTIN_FILES: [(&str, &str); 3] = [
    ("en", include_str!("en.json")),
    ("de", include_str!("de.json")),
    ("fr", include_str!("fr.json")),
];

/// The language every chain ends in, and the default.
pub(crate) const DEFAULT_LANGUAGE: &str = "en";

/// MediaWiki's pseudo-language that shows message keys.
const QQX: &str = "qqx";

/// The longest language code accepted.
const MAX_CODE_LEN: usize = 35;

/// The most `Accept-Language` entries looked at (a hostile header is not
/// read further).
const MAX_ACCEPT_ENTRIES: usize = 32;

/// Messages by language, then key.
type Catalog = HashMap<String, HashMap<String, String>>;

fn builtin() -> &'static Catalog {
    static BUILTIN: OnceLock<Catalog> = OnceLock::new();
    BUILTIN.get_or_init(|| {
        let mut catalog = Catalog::new();
        for (lang, text) in BUILTIN_FILES {
            match parse_file(text) {
                Ok(messages) => {
                    catalog.insert(lang.to_string(), messages);
                }
                // The files are checked by the tests; never a browser's doing.
                Err(e) => log::error!("MediaWiki OAuth: the crate's {lang}.json is broken: {e}"),
            }
        }
        catalog
    })
}

/// The messages of one banana file: every key but `@metadata`, whose
/// values must be strings.
fn parse_file(text: &str) -> Result<HashMap<String, String>, String> {
    let value: serde_json::Value =
        serde_json::from_str(text).map_err(|e| format!("not JSON: {e}"))?;
    let object = value.as_object().ok_or("not a JSON object of messages")?;
    let mut messages = HashMap::new();
    for (key, value) in object {
        if key.starts_with('@') {
            continue;
        }
        let text = value
            .as_str()
            .ok_or_else(|| format!("the message \"{key}\" is not a string"))?;
        messages.insert(key.clone(), text.to_string());
    }
    Ok(messages)
}

/// Whether `code` looks like a language code: lowercase BCP 47-ish
/// (`de`, `de-at`, `zh-hans`, `be-tarask`), at most 35 characters.
pub(crate) fn valid_code(code: &str) -> bool {
    if code.is_empty() || code.len() > MAX_CODE_LEN {
        return false;
    }
    let mut parts = code.split('-');
    let primary = parts.next().unwrap_or_default();
    (2..=3).contains(&primary.len())
        && primary.bytes().all(|b| b.is_ascii_lowercase())
        && parts.all(|p| {
            (1..=8).contains(&p.len())
                && p.bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
        })
}

/// `de-at` → `de-at`, `de`, `en`.
fn chain(code: &str) -> impl Iterator<Item = &str> {
    let mut next = Some(code);
    std::iter::from_fn(move || {
        let here = next?;
        next = match here.rfind('-') {
            Some(i) => Some(&here[..i]),
            None if here != DEFAULT_LANGUAGE => Some(DEFAULT_LANGUAGE),
            None => None,
        };
        Some(here)
    })
}

/// The crate's messages and the app's own (`mwoauth.i18n_dir`).
#[derive(Debug, Default)]
pub(crate) struct Messages {
    app: Catalog,
}

impl Messages {
    /// The crate's messages and those of the banana files in `dir`
    /// (`<language>.json`; `qqq.json` documents and is not shown). The
    /// error names the file.
    pub(crate) fn load(dir: &Path) -> Result<Messages, String> {
        let entries = std::fs::read_dir(dir)
            .map_err(|e| format!("cannot read the folder {}: {e}", dir.display()))?;
        let mut app = Catalog::new();
        for entry in entries {
            let path = entry
                .map_err(|e| format!("cannot read the folder {}: {e}", dir.display()))?
                .path();
            if path.extension().and_then(|e| e.to_str()) != Some("json") {
                continue;
            }
            let lang = path
                .file_stem()
                .and_then(|s| s.to_str())
                .unwrap_or_default()
                .to_string();
            if lang == "qqq" {
                continue;
            }
            if !valid_code(&lang) || lang == QQX {
                return Err(format!(
                    "{}: the name is not a lowercase language code such as de.json or pt-br.json",
                    path.display()
                ));
            }
            let text = std::fs::read_to_string(&path)
                .map_err(|e| format!("{}: cannot be read: {e}", path.display()))?;
            let messages = parse_file(&text).map_err(|e| format!("{}: {e}", path.display()))?;
            app.insert(lang, messages);
        }
        Ok(Messages { app })
    }

    /// Whether there are messages in `code` itself (not by fallback).
    fn has(&self, code: &str) -> bool {
        self.app.contains_key(code) || builtin().contains_key(code)
    }

    /// The first of `code` and its more general forms that has messages
    /// (`de-at` → `de`; not English for `es`).
    fn available(&self, code: &str) -> Option<String> {
        let primary = code.split('-').next().unwrap_or(code);
        chain(code)
            .take_while(|c| c.starts_with(primary))
            .find(|c| self.has(c))
            .map(str::to_string)
    }

    /// The language of a request's pages: `uselang` (a query parameter)
    /// when it is a valid code with messages (or `qqx`), then the first
    /// language of `Accept-Language` with messages; `None` when the request
    /// names none of them (the pages are then in [`DEFAULT_LANGUAGE`]). A
    /// language with messages only in a more general form is chosen as that
    /// form (`de-DE` → `de`).
    pub(crate) fn choose(
        &self,
        uselang: Option<&str>,
        accept_language: Option<&str>,
    ) -> Option<String> {
        if let Some(code) = uselang
            .filter(|u| u.len() <= MAX_CODE_LEN)
            .map(str::to_ascii_lowercase)
        {
            if code == QQX {
                return Some(code);
            }
            if valid_code(&code) {
                if let Some(found) = self.available(&code) {
                    return Some(found);
                }
            }
        }
        accept_language
            .map(accepted_languages)
            .unwrap_or_default()
            .iter()
            .find_map(|code| self.available(code))
    }

    /// The message `key` in `lang` with `params` for `$1…$n`: the app's
    /// message before the crate's, along the chain `lang` → … → `en`;
    /// `(key: params)` in `qqx`; `⧼key⧽` for a key nobody has.
    pub(crate) fn text(&self, lang: &str, key: &str, params: &[&str]) -> String {
        if lang == QQX {
            return if params.is_empty() {
                format!("({key})")
            } else {
                format!("({key}: {})", params.join(", "))
            };
        }
        for code in chain(lang) {
            let found = self
                .app
                .get(code)
                .and_then(|m| m.get(key))
                .or_else(|| builtin().get(code).and_then(|m| m.get(key)));
            if let Some(template) = found {
                return format(code, template, params);
            }
        }
        format!("⧼{key}⧽")
    }
}

/// The language to ask the wiki for: what the person asked for, whether or
/// not this app has messages in it (the wiki has many more languages than
/// an app): a valid `uselang` as given, else the first language of
/// `Accept-Language` in its general form (`es-MX` → `es`: MediaWiki knows
/// every such code, not every regional one); `None` when the request names
/// none (the wiki then chooses). The app's pages may fall back (`es` →
/// English) while the wiki speaks Spanish.
pub(crate) fn wiki_language(
    uselang: Option<&str>,
    accept_language: Option<&str>,
) -> Option<String> {
    explicit_uselang(uselang).or_else(|| {
        let first = accepted_languages(accept_language?).into_iter().next()?;
        let primary = first.split('-').next().unwrap_or_default();
        (!primary.is_empty()).then(|| primary.to_string())
    })
}

/// A `?uselang=` worth keeping: a valid language code (lowercased) or
/// `qqx`; `None` for anything else.
pub(crate) fn explicit_uselang(uselang: Option<&str>) -> Option<String> {
    uselang
        .filter(|u| u.len() <= MAX_CODE_LEN)
        .map(str::to_ascii_lowercase)
        .filter(|code| valid_uselang(code))
}

/// Whether `code` is a lowercase language code or `qqx`.
pub(crate) fn valid_uselang(code: &str) -> bool {
    code == QQX || valid_code(code)
}

/// The languages of an `Accept-Language` header, best first (lowercase,
/// valid codes only; `q=0` and `*` left out). Malformed entries are
/// skipped; at most [`MAX_ACCEPT_ENTRIES`] are read.
pub(crate) fn accepted_languages(header: &str) -> Vec<String> {
    let mut ranked: Vec<(u16, String)> = Vec::new();
    for entry in header.split(',').take(MAX_ACCEPT_ENTRIES) {
        let mut parts = entry.split(';');
        let tag = parts.next().unwrap_or_default().trim();
        if tag.len() > MAX_CODE_LEN {
            continue;
        }
        let tag = tag.to_ascii_lowercase();
        if !valid_code(&tag) {
            continue;
        }
        let mut quality = Some(1000);
        for param in parts {
            let param = param.trim();
            if let Some(q) = param
                .strip_prefix("q=")
                .or_else(|| param.strip_prefix("Q="))
            {
                quality = parse_quality(q);
            }
        }
        match quality {
            Some(q) if q > 0 => ranked.push((q, tag)),
            _ => {}
        }
    }
    // Stable: equal qualities keep the header's order.
    ranked.sort_by_key(|r| std::cmp::Reverse(r.0));
    ranked.into_iter().map(|(_, tag)| tag).collect()
}

/// RFC 9110's `qvalue` in thousandths: `0`, `0.5`, `1.000`; anything else
/// is `None`.
fn parse_quality(q: &str) -> Option<u16> {
    let (int, frac) = q.split_once('.').unwrap_or((q, ""));
    if frac.len() > 3 || !frac.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let mut thousandths: u16 = 0;
    for (i, b) in frac.bytes().enumerate() {
        thousandths += u16::from(b - b'0') * [100, 10, 1][i];
    }
    match int {
        "0" => Some(thousandths),
        "1" if thousandths == 0 => Some(1000),
        _ => None,
    }
}

/// Which of `{{PLURAL:…}}`'s forms `number` takes in `lang`: the index in
/// CLDR's order of the language's categories, which is MediaWiki's order of
/// the forms (a message giving fewer forms uses its last). Integers only
/// beyond English's "1 is one"; a number that does not parse takes the
/// last form.
fn plural_index(lang: &str, number: &str) -> usize {
    let number = number.trim();
    let Ok(n) = number.parse::<f64>() else {
        return usize::MAX;
    };
    let primary = lang.split('-').next().unwrap_or(lang);
    // Integer rules below; a fraction is "other" (the last form) there.
    let int = (n.fract() == 0.0 && (0.0..1e15).contains(&n)).then_some(n as u64);
    let other = usize::MAX;
    match (primary, int) {
        // one (0 and 1, and between), other.
        ("fr" | "pt", _) => usize::from(!(0.0..2.0).contains(&n)),
        // one, few, many.
        ("ru" | "uk" | "be", Some(i)) => match (i % 10, i % 100) {
            (1, h) if h != 11 => 0,
            (2..=4, h) if !(12..=14).contains(&h) => 1,
            _ => 2,
        },
        // one, few, many.
        ("pl", Some(i)) => match (i, i % 10, i % 100) {
            (1, ..) => 0,
            (_, 2..=4, h) if !(12..=14).contains(&h) => 1,
            _ => 2,
        },
        // one, few, other.
        ("cs" | "sk", Some(i)) => match i {
            1 => 0,
            2..=4 => 1,
            _ => 2,
        },
        // zero, one, two, few, many, other.
        ("ar", Some(i)) => match (i, i % 100) {
            (0, _) => 0,
            (1, _) => 1,
            (2, _) => 2,
            (_, 3..=10) => 3,
            (_, 11..=99) => 4,
            _ => 5,
        },
        ("ru" | "uk" | "be" | "pl" | "cs" | "sk" | "ar", None) => other,
        // one, other (English, German and most others).
        _ => usize::from(n != 1.0),
    }
}

/// Where the next `{{PLURAL:` starts in `text` (any case, as MediaWiki
/// reads `{{plural:`), and the length of that opening.
fn find_plural(text: &str) -> Option<usize> {
    text.match_indices("{{").map(|(i, _)| i).find(|&i| {
        text.get(i + 2..i + 9)
            .is_some_and(|w| w.eq_ignore_ascii_case("plural:"))
    })
}

/// `$1…$n` in `text` replaced by `params`, in one pass (a parameter's own
/// text is never read again); `$n` without a parameter stays.
fn substitute(text: &str, params: &[&str]) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(i) = rest.find('$') {
        out.push_str(&rest[..i]);
        let after = &rest[i + 1..];
        let digits = after.bytes().take_while(u8::is_ascii_digit).count();
        let param = after[..digits]
            .parse::<usize>()
            .ok()
            .and_then(|n| n.checked_sub(1))
            .and_then(|n| params.get(n));
        match param {
            Some(p) => {
                out.push_str(p);
                rest = &after[digits..];
            }
            None => {
                out.push('$');
                rest = after;
            }
        }
    }
    out.push_str(rest);
    out
}

/// A message of `lang` with its `{{PLURAL:…}}` chosen, then its
/// parameters substituted.
fn format(lang: &str, template: &str, params: &[&str]) -> String {
    const OPEN: &str = "{{PLURAL:";
    let mut chosen = String::with_capacity(template.len());
    let mut rest = template;
    while let Some(start) = find_plural(rest) {
        let Some(len) = rest[start..].find("}}") else {
            break;
        };
        chosen.push_str(&rest[..start]);
        let inner = &rest[start + OPEN.len()..start + len];
        let mut parts = inner.split('|');
        let number = substitute(parts.next().unwrap_or_default(), params);
        let forms: Vec<&str> = parts.collect();
        // Explicit forms first: {{PLURAL:$1|0=none|one|other}}.
        let explicit = forms.iter().find_map(|f: &&str| {
            let (n, form) = f.split_once('=')?;
            (n.bytes().all(|b| b.is_ascii_digit()) && !n.is_empty() && n == number.trim())
                .then_some(form)
        });
        let plain: Vec<&str> = forms
            .iter()
            .copied()
            .filter(|f| {
                !f.split_once('=')
                    .is_some_and(|(n, _)| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()))
            })
            .collect();
        let form = explicit.unwrap_or_else(|| {
            let index = plural_index(lang, &number);
            plain
                .get(index)
                .or(plain.last())
                .copied()
                .unwrap_or_default()
        });
        chosen.push_str(form);
        rest = &rest[start + len + 2..];
    }
    chosen.push_str(rest);
    substitute(&chosen, params)
}

/// The language of a request's pages, and its messages: the crate's and the
/// app's own (`mwoauth.i18n_dir`), for the app's pages too.
///
/// As a request guard it never fails: the language comes from
/// `?uselang=`, then the browser's `Accept-Language`, then English
/// (`?uselang=qqx` shows message keys, as on MediaWiki). In a catcher,
/// use [`UserLanguage::of`].
///
/// ```
/// use rocket::get;
/// use rocket::response::content::RawHtml;
/// use rocket_mediawiki_oauth::UserLanguage;
///
/// // With `mwoauth.i18n_dir = "i18n"` and i18n/en.json holding
/// // "myapp-greeting": "Hello, $1!" (and de.json, fr.json …).
/// #[get("/hello/<name>")]
/// fn hello(name: &str, lang: UserLanguage) -> RawHtml<String> {
///     RawHtml(format!(
///         "<html lang=\"{}\"><p>{}</p></html>",
///         lang.code(),
///         rocket::http::RawStr::new(&lang.msg("myapp-greeting", &[name])).html_escape(),
///     ))
/// }
/// ```
#[derive(Clone)]
pub struct UserLanguage {
    code: String,
    /// The language the request asked for, for the wiki (see
    /// [`wiki_language`]).
    wiki: Option<String>,
    messages: Arc<Messages>,
}

impl UserLanguage {
    /// The language `choose` found, or the default; `wiki`, what to ask
    /// the wiki for ([`wiki_language`]).
    pub(crate) fn new(
        chosen: Option<String>,
        wiki: Option<String>,
        messages: Arc<Messages>,
    ) -> UserLanguage {
        UserLanguage {
            code: chosen.unwrap_or_else(|| DEFAULT_LANGUAGE.to_string()),
            wiki,
            messages,
        }
    }

    /// The language to ask the wiki for (its consent screen): see
    /// [`wiki_language`].
    pub(crate) fn for_wiki(&self) -> Option<&str> {
        self.wiki.as_deref()
    }

    /// The chosen language's code, e.g. `de` (`en` by default, `qqx` for
    /// keys): for `<html lang>` and your own choices.
    pub fn code(&self) -> &str {
        &self.code
    }

    /// The message `key` in this language (falling back to more general
    /// languages, then English), with `params` as `$1`, `$2`, …:
    /// plain text, to be escaped in HTML. The app's own messages come
    /// before the crate's; an unknown key shows as `⧼key⧽`.
    pub fn msg(&self, key: &str, params: &[&str]) -> String {
        self.messages.text(&self.code, key, params)
    }
}

impl std::fmt::Debug for UserLanguage {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("UserLanguage")
            .field("code", &self.code)
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn app(lang: &str, json: &str) -> Messages {
        let mut app = Catalog::new();
        app.insert(lang.into(), parse_file(json).unwrap());
        Messages { app }
    }

    #[test]
    fn params_and_plurals() {
        let m = Messages::default();
        assert_eq!(
            m.text("en", "mwoauth-flash-signed-in", &["Alice"]),
            "You were signed in, Alice!"
        );
        let busy = |lang, n, s| m.text(lang, "mwoauth-error-busy", &[n, s]);
        assert!(busy("en", "1", "1").starts_with("1 request of this user was "));
        assert!(busy("en", "1", "1").contains("within 1 second;"));
        assert!(busy("en", "0", "2").starts_with("0 requests of this user were "));
        assert!(busy("de", "1", "5").starts_with("1 Anfrage dieses Benutzers lief "));
        assert!(busy("de", "4", "5").contains("5 Sekunden"));
        // French: 0 and 1 are "one".
        assert!(busy("fr", "0", "1").starts_with("0 requête de cet utilisateur était"));
        assert!(busy("fr", "2", "0").contains("en 0 seconde "));
        assert_eq!(format("en", "{{PLURAL:$1|0=no|one|many}}", &["0"]), "no");
        assert_eq!(format("en", "{{PLURAL:$1|0=no|one|many}}", &["1"]), "one");
        assert_eq!(format("en", "{{PLURAL:$1|only}}", &["7"]), "only");
        assert_eq!(format("en", "{{PLURAL:$1|a|b", &["7"]), "{{PLURAL:7|a|b");
        assert_eq!(format("en", "$3 $1 $x $", &["a"]), "$3 a $x $");
        // MediaWiki reads {{plural:…}} too.
        assert_eq!(format("en", "{{plural:$1|one|many}}", &["2"]), "many");
        assert_eq!(format("en", "{{Plural:$1|one|many}}", &["1"]), "one");
    }

    #[test]
    fn plural_forms_in_cldr_order() {
        let ru = |n: &str| format("ru", "$1 {{PLURAL:$1|запрос|запроса|запросов}}", &[n]);
        assert_eq!(ru("1"), "1 запрос");
        assert_eq!(ru("21"), "21 запрос");
        assert_eq!(ru("11"), "11 запросов");
        assert_eq!(ru("3"), "3 запроса");
        assert_eq!(ru("13"), "13 запросов");
        assert_eq!(ru("5"), "5 запросов");
        let pl = |n: &str| format("pl", "{{PLURAL:$1|plik|pliki|plików}}", &[n]);
        assert_eq!(
            (pl("1"), pl("22"), pl("12"), pl("5")),
            (
                "plik".into(),
                "pliki".into(),
                "plików".into(),
                "plików".into()
            )
        );
        let ar = |n: &str| format("ar", "{{PLURAL:$1|z|o|t|f|m|x}}", &[n]);
        let got: Vec<String> = ["0", "1", "2", "3", "11", "100", "1.5"].map(ar).to_vec();
        assert_eq!(got, ["z", "o", "t", "f", "m", "x", "x"]);
        // Portuguese, like French: 0 is "one".
        assert_eq!(format("pt", "{{PLURAL:$1|um|muitos}}", &["0"]), "um");
        // Fewer forms than categories: the last one.
        assert_eq!(format("ru", "{{PLURAL:$1|a|b}}", &["5"]), "b");
        assert_eq!(format("de", "{{PLURAL:$1|a|b}}", &["x"]), "b");
    }

    #[test]
    fn parameters_are_not_read_as_wikitext() {
        let hostile = "{{PLURAL:1|x|y}} $1";
        assert_eq!(
            format("en", "A $1 B", &[hostile]),
            "A {{PLURAL:1|x|y}} $1 B"
        );
    }

    #[test]
    fn fallback_qqx_and_unknown_keys() {
        let m = Messages::default();
        assert_eq!(m.text("de-at", "mwoauth-page-home", &[]), "Startseite");
        assert_eq!(m.text("es", "mwoauth-page-home", &[]), "Home");
        assert_eq!(
            m.text("qqx", "mwoauth-page-home", &[]),
            "(mwoauth-page-home)"
        );
        assert_eq!(
            m.text("qqx", "mwoauth-error-busy", &["4", "5"]),
            "(mwoauth-error-busy: 4, 5)"
        );
        assert_eq!(m.text("de", "no-such-key", &[]), "⧼no-such-key⧽");
        let m = app(
            "de",
            r#"{"@metadata": {}, "mwoauth-page-home": "Anfang", "x-new": "Neu $1"}"#,
        );
        assert_eq!(m.text("de", "mwoauth-page-home", &[]), "Anfang");
        assert_eq!(m.text("de-ch", "x-new", &["!"]), "Neu !");
        // The crate's German before the app's English.
        let m = app("en", r#"{"mwoauth-page-home": "Start"}"#);
        assert_eq!(m.text("de", "mwoauth-page-home", &[]), "Startseite");
        assert_eq!(m.text("en", "mwoauth-page-home", &[]), "Start");
    }

    #[test]
    fn the_wiki_is_asked_for_what_the_person_asked_for() {
        let h = Some("de-DE,de;q=0.9,en;q=0.5");
        assert_eq!(wiki_language(None, None), None);
        assert_eq!(wiki_language(None, h).as_deref(), Some("de"));
        // The app has no Spanish; the wiki does.
        assert_eq!(wiki_language(Some("es"), h).as_deref(), Some("es"));
        assert_eq!(
            wiki_language(None, Some("es-MX, de;q=0.1")).as_deref(),
            Some("es")
        );
        assert_eq!(wiki_language(Some("qqx"), h).as_deref(), Some("qqx"));
        assert_eq!(wiki_language(Some("<script>"), h).as_deref(), Some("de"));
        assert_eq!(wiki_language(Some("<script>"), None), None);
        assert_eq!(wiki_language(None, Some("*;q=0.5, de;q=0")), None);
    }

    #[test]
    fn chooses_uselang_then_accept_language_then_english() {
        struct M(Messages);
        impl M {
            fn choose(&self, u: Option<&str>, a: Option<&str>) -> String {
                self.0
                    .choose(u, a)
                    .unwrap_or_else(|| DEFAULT_LANGUAGE.into())
            }
        }
        let m = M(Messages::default());
        assert_eq!(m.0.choose(None, None), None);
        assert_eq!(m.0.choose(None, Some("en-US")).as_deref(), Some("en"));
        let h = Some("de-DE,de;q=0.9,en;q=0.5");
        assert_eq!(m.choose(None, h), "de");
        assert_eq!(m.choose(Some("fr"), h), "fr");
        assert_eq!(m.choose(Some("FR"), h), "fr");
        assert_eq!(m.choose(Some("qqx"), h), "qqx");
        assert_eq!(m.choose(Some("es"), h), "de");
        assert_eq!(m.choose(Some("<script>"), None), "en");
        assert_eq!(m.choose(None, None), "en");
        assert_eq!(m.choose(None, Some("es, fr;q=0.1, de;q=0.2")), "de");
        assert_eq!(m.choose(None, Some("de;q=0, fr")), "fr");
        assert_eq!(m.choose(None, Some("*, fr;q=0.5")), "fr");
        // qqx only through uselang.
        assert_eq!(m.choose(None, Some("qqx")), "en");
        assert_eq!(m.choose(None, Some("fr;q=2, de;q=abc, ,;;, en-GB")), "en");
        let m = M(app("de-at", r#"{"x": "y"}"#));
        assert_eq!(m.choose(None, Some("de-AT")), "de-at");
        assert_eq!(m.choose(Some("de-at"), None), "de-at");
    }

    #[test]
    fn hostile_accept_language_is_bounded() {
        let long = "xx;q=0.1,".repeat(100_000) + "de";
        assert!(accepted_languages(&long).len() <= MAX_ACCEPT_ENTRIES);
        assert_eq!(accepted_languages(&"a".repeat(1000)), Vec::<String>::new());
        assert_eq!(accepted_languages("de;q=0.5;q=1"), vec!["de"]);
        assert_eq!(accepted_languages("ü, ≥;q=.5, de-"), Vec::<String>::new());
        assert_eq!(parse_quality("0.123"), Some(123));
        assert_eq!(parse_quality("1.0001"), None);
        assert_eq!(parse_quality("0.99999"), None);
        assert_eq!(parse_quality("-0"), None);
    }

    #[test]
    fn codes() {
        for ok in ["en", "de-at", "zh-hans", "be-tarask", "sr-el", "fr"] {
            assert!(valid_code(ok), "{ok}");
        }
        for bad in [
            "",
            "e",
            "EN",
            "de_at",
            "de-",
            "-de",
            "abcd",
            "de-at-",
            &"a-".repeat(20),
        ] {
            assert!(!valid_code(bad), "{bad}");
        }
        assert_eq!(chain("de-at").collect::<Vec<_>>(), ["de-at", "de", "en"]);
        assert_eq!(chain("en").collect::<Vec<_>>(), ["en"]);
    }
}
