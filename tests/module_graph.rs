//! The crate's rooms depend on each other one way only: no module reaches
//! (through `crate::…` or, inside a folder, `super::…` paths outside doc
//! comments and unit tests) a module that reaches it, and none reaches
//! another through the crate root's re-exports (an arrow back up).

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// Every `.rs` file below `dir`.
fn files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// The code of a file without its unit tests and comments.
fn code(path: &Path) -> String {
    let text = std::fs::read_to_string(path).unwrap();
    let text = match text.find("#[cfg(test)]\nmod tests") {
        Some(i) => &text[..i],
        None => &text[..],
    };
    text.lines()
        .filter(|l| !l.trim_start().starts_with("//"))
        .collect::<Vec<_>>()
        .join("\n")
}

fn ident(s: &str) -> String {
    s.chars()
        .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
        .collect()
}

/// The names that follow `prefix` in `code` (`prefix::{a, b}` included).
fn named_after(code: &str, prefix: &str) -> BTreeSet<String> {
    let mut names = BTreeSet::new();
    for piece in code.split(prefix).skip(1) {
        if let Some(group) = piece.strip_prefix('{') {
            let group = group.split('}').next().unwrap_or("");
            names.extend(group.split(',').map(|p| ident(p.trim())));
        } else {
            names.insert(ident(piece));
        }
    }
    names
}

fn assert_no_circle(g: &BTreeMap<String, BTreeSet<String>>) {
    fn visit(
        g: &BTreeMap<String, BTreeSet<String>>,
        node: &str,
        path: &mut Vec<String>,
        done: &mut BTreeSet<String>,
    ) {
        if done.contains(node) {
            return;
        }
        if let Some(i) = path.iter().position(|n| n == node) {
            panic!("import circle: {} -> {node}", path[i..].join(" -> "));
        }
        path.push(node.to_string());
        for dep in g.get(node).into_iter().flatten() {
            visit(g, dep, path, done);
        }
        path.pop();
        done.insert(node.to_string());
    }
    let mut done = BTreeSet::new();
    for node in g.keys() {
        visit(g, node, &mut Vec::new(), &mut done);
    }
}

#[test]
fn the_rooms_of_src_depend_one_way() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut all = Vec::new();
    files(&src, &mut all);
    // Top-level rooms: `src/x.rs` or `src/x/`.
    let room = |p: &Path| -> String {
        let rel = p.strip_prefix(&src).unwrap();
        let first = rel
            .components()
            .next()
            .unwrap()
            .as_os_str()
            .to_string_lossy();
        first.trim_end_matches(".rs").to_string()
    };
    let rooms: BTreeSet<String> = all.iter().map(|p| room(p)).collect();
    assert!(
        rooms.contains("protocol") && rooms.contains("session"),
        "{rooms:?}"
    );
    let lib = code(&src.join("lib.rs"));
    // What the crate root re-exports (`pub use x::{A, b}`).
    let reexported: BTreeSet<String> = lib
        .lines()
        .filter(|l| l.starts_with("pub use "))
        .flat_map(|l| {
            let names = l.split("::").last().unwrap_or("");
            let names = names.trim_matches(|c| c == '{' || c == '}' || c == ';');
            names
                .split(',')
                .map(|n| ident(n.trim().trim_start_matches('{')))
                .collect::<Vec<_>>()
        })
        .collect();
    assert!(reexported.contains("MwUser") && reexported.contains("ApiError"));

    let mut graph: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    let mut folders: BTreeMap<String, BTreeMap<String, BTreeSet<String>>> = BTreeMap::new();
    for path in &all {
        let r = room(path);
        if r == "lib" || r == "fuzzing" {
            continue;
        }
        let code = code(path);
        for name in named_after(&code, "crate::") {
            assert!(
                !reexported.contains(&name),
                "{} reaches {name} through the crate root: name its module",
                path.display()
            );
            if rooms.contains(&name) && name != r {
                graph.entry(r.clone()).or_default().insert(name);
            }
        }
        // Inside a folder: siblings reached with `super::`.
        if let Some(folder) = path.parent().filter(|d| *d != src) {
            let me = path.file_stem().unwrap().to_string_lossy().into_owned();
            let siblings: BTreeSet<String> = std::fs::read_dir(folder)
                .unwrap()
                .map(|e| e.unwrap().path())
                .filter(|p| p.extension().is_some_and(|e| e == "rs"))
                .map(|p| p.file_stem().unwrap().to_string_lossy().into_owned())
                .collect();
            let deps: BTreeSet<String> = named_after(&code, "super::")
                .into_iter()
                .filter(|n| siblings.contains(n) && *n != me)
                .collect();
            folders
                .entry(folder.display().to_string())
                .or_default()
                .insert(me, deps);
        }
    }
    assert!(
        graph["guards"].contains("session"),
        "the reader sees guards -> session"
    );
    assert_no_circle(&graph);
    assert!(folders.len() >= 3, "{folders:?}");
    for g in folders.values() {
        assert_no_circle(g);
    }
}
