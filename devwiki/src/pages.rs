//! Page titles, pages and revisions kept in memory, and their seed data.

use std::collections::HashMap;

/// Namespaces: id, canonical name.
const NAMESPACES: &[(i32, &str)] = &[
    (-1, "Special"),
    (0, ""),
    (1, "Talk"),
    (2, "User"),
    (3, "User talk"),
    (4, "DevWiki"),
    (5, "DevWiki talk"),
    (6, "File"),
    (7, "File talk"),
    (8, "MediaWiki"),
    (9, "MediaWiki talk"),
    (10, "Template"),
    (11, "Template talk"),
    (12, "Help"),
    (13, "Help talk"),
    (14, "Category"),
    (15, "Category talk"),
];

fn namespace_by_name(name: &str) -> Option<i32> {
    let lower = name.to_lowercase();
    let alias = match lower.as_str() {
        "project" => Some(4),
        "project talk" => Some(5),
        "image" => Some(6),
        "image talk" => Some(7),
        _ => None,
    };
    alias.or_else(|| {
        NAMESPACES
            .iter()
            .find(|(id, n)| *id != 0 && n.to_lowercase() == lower)
            .map(|(id, _)| *id)
    })
}

/// The canonical name of a namespace.
pub(crate) fn namespace_name(ns: i32) -> &'static str {
    NAMESPACES
        .iter()
        .find(|(id, _)| *id == ns)
        .map(|(_, n)| *n)
        .unwrap_or("")
}

/// Whether `ns` is a known namespace id.
pub(crate) fn namespace_exists(ns: i32) -> bool {
    NAMESPACES.iter().any(|(id, _)| *id == ns)
}

/// A normalized page title.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub(crate) struct Title {
    pub ns: i32,
    /// The title without namespace, spaces not underscores.
    pub text: String,
}

impl Title {
    /// The prefixed text, e.g. `Help:Contents`.
    pub(crate) fn full(&self) -> String {
        if self.ns == 0 {
            self.text.clone()
        } else {
            format!("{}:{}", namespace_name(self.ns), self.text)
        }
    }

    /// The database key of the text (underscores).
    pub(crate) fn dbkey(&self) -> String {
        self.text.replace(' ', "_")
    }

    /// Whether a talk namespace.
    pub(crate) fn is_talk(&self) -> bool {
        self.ns > 0 && self.ns % 2 == 1
    }
}

fn ucfirst(s: &str) -> String {
    let mut chars = s.chars();
    match chars.next() {
        Some(c) => c.to_uppercase().chain(chars).collect(),
        None => String::new(),
    }
}

/// MediaWiki's title normalization (`Title::newFromText`), simplified:
/// underscores are spaces, runs of spaces collapse, the namespace prefix is
/// case-insensitive, the first letter is upper-cased. `None` for a bad title.
pub(crate) fn parse_title(input: &str) -> Option<Title> {
    let replaced: String = input.replace('_', " ");
    let mut collapsed = String::with_capacity(replaced.len());
    let mut prev_space = false;
    for c in replaced.trim().chars() {
        if c == ' ' {
            if !prev_space {
                collapsed.push(' ');
            }
            prev_space = true;
        } else {
            collapsed.push(c);
            prev_space = false;
        }
    }
    let mut s = collapsed.trim().to_string();
    if let Some(rest) = s.strip_prefix(':') {
        s = rest.trim().to_string();
    }
    let (ns, text) = match s.find(':') {
        Some(p) => match namespace_by_name(s[..p].trim()) {
            Some(ns) => (ns, s[p + 1..].trim().to_string()),
            None => (0, s.clone()),
        },
        None => (0, s.clone()),
    };
    if text.is_empty() || text.len() > 255 {
        return None;
    }
    if text.chars().any(|c| {
        matches!(
            c,
            '#' | '<' | '>' | '[' | ']' | '|' | '{' | '}' | '\u{fffd}'
        ) || c.is_control()
    }) {
        return None;
    }
    let bytes = text.as_bytes();
    if bytes
        .windows(3)
        .any(|w| w[0] == b'%' && w[1].is_ascii_hexdigit() && w[2].is_ascii_hexdigit())
    {
        return None;
    }
    if text == "."
        || text == ".."
        || text.starts_with("./")
        || text.starts_with("../")
        || text.contains("/./")
        || text.contains("/../")
    {
        return None;
    }
    Some(Title {
        ns,
        text: ucfirst(&text),
    })
}

/// A user name normalized like a title in the user namespace.
pub(crate) fn normalize_user_name(input: &str) -> Option<String> {
    let t = parse_title(input)?;
    if t.ns != 0 || t.text.contains('/') || t.text.contains(':') {
        return None;
    }
    Some(t.text)
}

/// One revision.
#[derive(Clone, Debug)]
pub(crate) struct Rev {
    pub revid: u64,
    pub pageid: u64,
    pub parentid: u64,
    pub user: String,
    pub userid: u32,
    pub timestamp: i64,
    pub comment: String,
    pub text: String,
    pub minor: bool,
}

/// One page.
#[derive(Clone, Debug)]
pub(crate) struct PageRec {
    pub id: u64,
    pub title: Title,
    /// Revision ids, oldest first.
    pub revs: Vec<u64>,
}

/// All pages and revisions.
#[derive(Debug, Default)]
pub(crate) struct Wiki {
    pub pages: HashMap<Title, PageRec>,
    pub by_id: HashMap<u64, Title>,
    /// Revision `n` is at index `n - 1`.
    pub revisions: Vec<Rev>,
}

impl Wiki {
    /// The page with this title.
    pub(crate) fn page(&self, title: &Title) -> Option<&PageRec> {
        self.pages.get(title)
    }

    /// A revision by id.
    pub(crate) fn rev(&self, revid: u64) -> Option<&Rev> {
        usize::try_from(revid)
            .ok()
            .and_then(|i| i.checked_sub(1))
            .and_then(|i| self.revisions.get(i))
    }

    /// The latest revision of a page.
    pub(crate) fn latest(&self, page: &PageRec) -> Option<&Rev> {
        page.revs.last().and_then(|r| self.rev(*r))
    }

    /// The current text of a page.
    pub(crate) fn text_of(&self, title: &Title) -> Option<String> {
        let page = self.page(title)?;
        self.latest(page).map(|r| r.text.clone())
    }

    /// Saves a new revision (creating the page when needed); returns
    /// (pageid, old revid or 0, new revid).
    pub(crate) fn save(
        &mut self,
        title: &Title,
        (user, userid): (&str, u32),
        text: String,
        comment: String,
        minor: bool,
        timestamp: i64,
    ) -> (u64, u64, u64) {
        let revid = self.revisions.len() as u64 + 1;
        let next_page_id = self.pages.len() as u64 + 1;
        let page = self.pages.entry(title.clone()).or_insert_with(|| PageRec {
            id: next_page_id,
            title: title.clone(),
            revs: Vec::new(),
        });
        let pageid = page.id;
        let parentid = page.revs.last().copied().unwrap_or(0);
        page.revs.push(revid);
        self.by_id.insert(pageid, title.clone());
        self.revisions.push(Rev {
            revid,
            pageid,
            parentid,
            user: user.to_string(),
            userid,
            timestamp,
            comment,
            text,
            minor,
        });
        (pageid, parentid, revid)
    }
}

/// Unix time of 2023-01-01T00:00:00Z, where Alice's test edits start.
const TEST_EDITS_START: i64 = 1_672_531_200;
/// How many test edits Alice has.
pub(crate) const ALICE_TEST_EDITS: usize = 1234;
/// Over how many pages they are spread.
const TEST_PAGES: usize = 30;

/// The seeded wiki: `Main Page` with a few revisions, some pages in other
/// namespaces, and 1,234 edits by Alice on `Test page 1` … `Test page 30`.
pub(crate) fn seed(users: &[(u32, &str)]) -> Wiki {
    let id_of = |name: &str| {
        users
            .iter()
            .find(|(_, n)| *n == name)
            .map(|(i, _)| *i)
            .unwrap_or(0)
    };
    let mut w = Wiki::default();
    let t = |s: &str| {
        parse_title(s).unwrap_or(Title {
            ns: 0,
            text: s.to_string(),
        })
    };
    let day = 86_400;
    let base = 1_669_852_800; // 2022-12-01T00:00:00Z
    let main = t("Main Page");
    w.save(
        &main,
        ("Admin", id_of("Admin")),
        "Welcome to '''DevWiki'''!".into(),
        "Created page with \"Welcome to '''DevWiki'''!\"".into(),
        false,
        base,
    );
    w.save(
        &main,
        ("Alice", id_of("Alice")),
        "Welcome to '''DevWiki'''!\n\nThis wiki imitates MediaWiki with Extension:OAuth for local development.".into(),
        "Explain what this wiki is".into(),
        false,
        base + day,
    );
    w.save(
        &main,
        ("Admin", id_of("Admin")),
        "Welcome to '''DevWiki'''!\n\nThis wiki imitates MediaWiki with Extension:OAuth for local development.\n\n== Getting started ==\nSee [[Help:Contents]].".into(),
        "Add a section".into(),
        true,
        base + 2 * day,
    );
    w.save(
        &t("Help:Contents"),
        ("Admin", id_of("Admin")),
        "Help pages would be here.".into(),
        "Created page with \"Help pages would be here.\"".into(),
        false,
        base + 3 * day,
    );
    w.save(
        &t("Sandbox"),
        (crate::users::ZOE, id_of(crate::users::ZOE)),
        "Play here.".into(),
        "Created page with \"Play here.\"".into(),
        false,
        base + 4 * day,
    );
    w.save(
        &t("Sandbox"),
        ("Blocked", id_of("Blocked")),
        "Play here. Vandalism!".into(),
        "".into(),
        false,
        base + 5 * day,
    );
    w.save(
        &t("User:Alice"),
        ("Alice", id_of("Alice")),
        "I am Alice, an ordinary autoconfirmed user of DevWiki.".into(),
        "Created page with \"I am Alice\"".into(),
        false,
        base + 6 * day,
    );
    let zoe_page = format!("User:{}", crate::users::ZOE);
    w.save(
        &t(&zoe_page),
        (crate::users::ZOE, id_of(crate::users::ZOE)),
        "Ich heiße Zoë. 日本語も少し。".into(),
        "Créée".into(),
        false,
        base + 7 * day,
    );
    let alice = id_of("Alice");
    let titles: Vec<Title> = (1..=TEST_PAGES)
        .map(|i| t(&format!("Test page {i}")))
        .collect();
    for i in 0..ALICE_TEST_EDITS {
        let page = &titles[i % TEST_PAGES];
        let n = i / TEST_PAGES + 1;
        w.save(
            page,
            ("Alice", alice),
            format!("{}, revision {n}.", page.text),
            format!("Test edit {}", i + 1),
            i % 7 == 3,
            TEST_EDITS_START + (i as i64) * 3600,
        );
    }
    w
}

/// Splits wikitext into sections: section 0 is the text before the first
/// heading; each other section starts at a heading line.
fn section_bounds(text: &str) -> Vec<(usize, usize, usize)> {
    // (start byte, level, line end)
    let mut heads = Vec::new();
    let mut offset = 0;
    for line in text.split_inclusive('\n') {
        let l = line.trim_end_matches(['\n', '\r']).trim_end();
        let level = l.bytes().take_while(|b| *b == b'=').count();
        if (1..=6).contains(&level) && l.len() > 2 * level {
            let trailing = l.bytes().rev().take_while(|b| *b == b'=').count();
            if trailing >= level {
                heads.push((offset, level.min(trailing), offset + line.len()));
            }
        }
        offset += line.len();
    }
    heads
}

/// The byte range of section `n` (0 = lead).
pub(crate) fn section_range(text: &str, n: usize) -> Option<(usize, usize)> {
    let heads = section_bounds(text);
    if n == 0 {
        return Some((0, heads.first().map(|h| h.0).unwrap_or(text.len())));
    }
    let (start, level, _) = *heads.get(n - 1)?;
    let end = heads[n..]
        .iter()
        .find(|h| h.1 <= level)
        .map(|h| h.0)
        .unwrap_or(text.len());
    Some((start, end))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn titles() {
        let t = parse_title("main_page").unwrap();
        assert_eq!((t.ns, t.full().as_str()), (0, "Main page"));
        let t = parse_title(" help:  contents ").unwrap();
        assert_eq!(t.full(), "Help:Contents");
        let t = parse_title("Project:About").unwrap();
        assert_eq!(t.full(), "DevWiki:About");
        let t = parse_title("Foo:Bar").unwrap();
        assert_eq!((t.ns, t.text.as_str()), (0, "Foo:Bar"));
        assert_eq!(parse_title("ünicode").unwrap().text, "Ünicode");
        assert!(parse_title("").is_none());
        assert!(parse_title("a|b").is_none());
        assert!(parse_title("a%41").is_none());
        assert!(parse_title("Talk:").is_none());
    }

    #[test]
    fn seeded_contributions() {
        let w = seed(&[
            (1, "Admin"),
            (2, "Alice"),
            (3, "Blocked"),
            (4, crate::users::ZOE),
        ]);
        let alice = w.revisions.iter().filter(|r| r.user == "Alice").count();
        assert_eq!(alice, ALICE_TEST_EDITS + 2);
        assert_eq!(
            w.page(&parse_title("Main Page").unwrap())
                .unwrap()
                .revs
                .len(),
            3
        );
    }

    #[test]
    fn sections() {
        let text = "lead\n== A ==\na\n=== A1 ===\na1\n== B ==\nb";
        let (s, e) = section_range(text, 0).unwrap();
        assert_eq!(&text[s..e], "lead\n");
        let (s, e) = section_range(text, 1).unwrap();
        assert_eq!(&text[s..e], "== A ==\na\n=== A1 ===\na1\n");
        let (s, e) = section_range(text, 2).unwrap();
        assert_eq!(&text[s..e], "=== A1 ===\na1\n");
        let (s, e) = section_range(text, 3).unwrap();
        assert_eq!(&text[s..e], "== B ==\nb");
        assert!(section_range(text, 4).is_none());
    }
}
