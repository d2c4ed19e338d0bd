//! The layers of docs and design hold in the code: `graphql` is the API on
//! top, and nothing below it imports it (the live fan-out runs any
//! `async_graphql::Executor`); `domain` holds the rules and imports no other
//! part of Herald.

use std::path::{Path, PathBuf};

/// Every `.rs` file under `dir`.
fn sources(dir: &Path) -> Vec<PathBuf> {
    let mut found = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display())) {
        let path = entry.expect("directory entry").path();
        if path.is_dir() {
            found.extend(sources(&path));
        } else if path.extension().is_some_and(|e| e == "rs") {
            found.push(path);
        }
    }
    found
}

/// The paths of Herald's own modules that `file` names, from `use crate::…`
/// and `crate::…` anywhere outside comments, with `crate::{a, b::c}` spread.
fn crate_paths(file: &Path) -> Vec<String> {
    let text = std::fs::read_to_string(file).expect("read source");
    let code: String = text
        .lines()
        .map(|line| line.split("//").next().unwrap_or(""))
        .collect::<Vec<_>>()
        .join("\n");
    let mut paths = Vec::new();
    for (at, _) in code.match_indices("crate::") {
        let rest = &code[at + "crate::".len()..];
        if let Some(group) = rest.strip_prefix('{') {
            let group = &group[..group.find('}').unwrap_or(group.len())];
            paths.extend(group.split(',').map(|p| p.trim().to_owned()).filter(|p| !p.is_empty()));
        } else {
            let end = rest
                .find(|c: char| !(c.is_alphanumeric() || c == '_'))
                .unwrap_or(rest.len());
            paths.push(rest[..end].to_owned());
        }
    }
    paths
}

fn offenders(layers: &[&str], forbidden: impl Fn(&str) -> bool) -> Vec<String> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut found = Vec::new();
    for layer in layers {
        for file in sources(&root.join(layer)) {
            for path in crate_paths(&file) {
                if forbidden(&path) {
                    found.push(format!("{} uses crate::{path}", file.display()));
                }
            }
        }
    }
    found
}

#[test]
fn nothing_below_the_api_imports_graphql() {
    let layers = ["domain", "store", "service", "notify", "delivery", "live", "jobs"];
    let found = offenders(&layers, |path| path == "graphql" || path.starts_with("graphql::"));
    assert!(found.is_empty(), "{found:#?}");
}

#[test]
fn the_domain_imports_only_itself() {
    let found = offenders(&["domain"], |path| !(path == "domain" || path.starts_with("domain::")));
    assert!(found.is_empty(), "{found:#?}");
}

/// The checks see what they look for: a file of the live fan-out that named
/// the schema would be found.
#[test]
fn the_check_finds_a_graphql_import() {
    let dir = std::env::temp_dir().join(format!("herald-layers-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("fanout.rs");
    std::fs::write(
        &file,
        "// crate::graphql in a comment is fine\nuse crate::{auth::Identity, graphql::HeraldSchema};\nfn f() { crate::graphql::schema(None); }\n",
    )
    .unwrap();
    let paths = crate_paths(&file);
    std::fs::remove_dir_all(&dir).unwrap();
    assert_eq!(paths, ["auth::Identity", "graphql::HeraldSchema", "graphql"]);
}
