//! The wiki's modules depend on each other one way only: no module reaches
//! (through `crate::…` paths outside its tests) a module that reaches it.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

/// Module name → the sibling modules it names with `crate::`.
fn graph() -> BTreeMap<String, BTreeSet<String>> {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut sources = BTreeMap::new();
    for entry in std::fs::read_dir(&src).unwrap() {
        let path = entry.unwrap().path();
        let name = path.file_stem().unwrap().to_string_lossy().into_owned();
        if path.extension().is_some_and(|e| e == "rs") && name != "lib" && name != "main" {
            let text = std::fs::read_to_string(&path).unwrap();
            // Unit tests may reach anywhere.
            let code = match text.find("#[cfg(test)]\nmod tests") {
                Some(i) => text[..i].to_string(),
                None => text,
            };
            sources.insert(name, code);
        }
    }
    let names: BTreeSet<String> = sources.keys().cloned().collect();
    let ident = |s: &str| -> String {
        s.chars()
            .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
            .collect()
    };
    sources
        .iter()
        .map(|(name, code)| {
            let mut deps = BTreeSet::new();
            for piece in code.split("crate::").skip(1) {
                if let Some(group) = piece.strip_prefix('{') {
                    let group = group.split('}').next().unwrap_or("");
                    deps.extend(group.split(',').map(|p| ident(p.trim())));
                } else {
                    deps.insert(ident(piece));
                }
            }
            deps.retain(|d| names.contains(d) && d != name);
            (name.clone(), deps)
        })
        .collect()
}

#[test]
fn no_import_circle_among_the_modules() {
    let g = graph();
    assert!(g.len() > 15, "{g:?}");
    assert!(
        g["api_edit"].contains("api_base"),
        "the reader sees api_base"
    );
    // Depth-first search for a back edge.
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
        for dep in &g[node] {
            visit(g, dep, path, done);
        }
        path.pop();
        done.insert(node.to_string());
    }
    let mut done = BTreeSet::new();
    for node in g.keys() {
        visit(&g, node, &mut Vec::new(), &mut done);
    }
}
