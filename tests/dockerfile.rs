//! There is no Docker engine here, so this checks what can be checked of
//! the Dockerfile without building it: what it copies exists, the binary it
//! runs is the one Cargo builds, the settings it makes are ones Herald
//! reads, and the port, volume, user and health check fit together.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// One instruction: its keyword and its arguments (continuations joined).
#[derive(Debug, Clone)]
struct Instruction {
    keyword: String,
    args: String,
    stage: usize,
}

fn instructions() -> Vec<Instruction> {
    let text = std::fs::read_to_string(repo().join("Dockerfile")).expect("a Dockerfile at the repository root");
    let mut out = Vec::new();
    let mut current = String::new();
    let mut stage = 0;
    for line in text.lines() {
        let trimmed = line.trim();
        if current.is_empty() && (trimmed.is_empty() || trimmed.starts_with('#')) {
            continue;
        }
        if let Some(head) = trimmed.strip_suffix('\\') {
            current.push_str(head);
            current.push(' ');
            continue;
        }
        current.push_str(trimmed);
        let (keyword, args) = current.split_once(char::is_whitespace).unwrap_or((&current, ""));
        let keyword = keyword.to_ascii_uppercase();
        if keyword == "FROM" {
            stage += 1;
        }
        out.push(Instruction {
            keyword,
            args: args.split_whitespace().collect::<Vec<_>>().join(" "),
            stage,
        });
        current.clear();
    }
    out
}

fn all<'a>(list: &'a [Instruction], keyword: &str) -> Vec<&'a Instruction> {
    list.iter().filter(|i| i.keyword == keyword).collect()
}

fn stage_names(list: &[Instruction]) -> Vec<(usize, String, Option<String>)> {
    all(list, "FROM")
        .iter()
        .map(|i| {
            let words: Vec<&str> = i.args.split(' ').collect();
            let name = words
                .iter()
                .position(|w| w.eq_ignore_ascii_case("AS"))
                .map(|p| words[p + 1].to_owned());
            (i.stage, words[0].to_owned(), name)
        })
        .collect()
}

/// `ENV` settings of the final stage, `NAME=value` pairs.
fn env(list: &[Instruction], stage: usize) -> Vec<(String, String)> {
    all(list, "ENV")
        .into_iter()
        .filter(|i| i.stage == stage)
        .flat_map(|i| {
            i.args
                .split(' ')
                .filter_map(|pair| pair.split_once('='))
                .map(|(k, v)| (k.to_owned(), v.trim_matches('"').to_owned()))
                .collect::<Vec<_>>()
        })
        .collect()
}

fn env_value(list: &[Instruction], stage: usize, name: &str) -> String {
    env(list, stage)
        .into_iter()
        .find(|(k, _)| k == name)
        .unwrap_or_else(|| panic!("the runtime image sets {name}"))
        .1
}

/// `COPY` arguments without flags: (from stage, sources, destination).
fn copies(list: &[Instruction]) -> Vec<(usize, Option<String>, Vec<String>, String)> {
    all(list, "COPY")
        .into_iter()
        .map(|i| {
            let mut from = None;
            let mut paths = Vec::new();
            for word in i.args.split(' ') {
                if let Some(f) = word.strip_prefix("--from=") {
                    from = Some(f.to_owned());
                } else if !word.starts_with("--") {
                    paths.push(word.to_owned());
                }
            }
            let dest = paths.pop().expect("COPY has a destination");
            (i.stage, from, paths, dest)
        })
        .collect()
}

fn package_binary_name() -> String {
    let manifest = std::fs::read_to_string(repo().join("Cargo.toml")).unwrap();
    let mut section = String::new();
    let mut package_name = None;
    let mut bin_names = Vec::new();
    for line in manifest.lines() {
        let line = line.trim();
        if line.starts_with('[') {
            section = line.to_owned();
            continue;
        }
        if let Some(value) = line
            .strip_prefix("name")
            .map(str::trim)
            .and_then(|r| r.strip_prefix('='))
        {
            let value = value.trim().trim_matches('"').to_owned();
            match section.as_str() {
                "[package]" => package_name = Some(value),
                "[[bin]]" => bin_names.push(value),
                _ => {}
            }
        }
    }
    // With no [[bin]], the binary is named after the package.
    bin_names
        .into_iter()
        .next()
        .or(package_name)
        .expect("Cargo.toml names the package")
}

fn rust_sources(dir: &Path, out: &mut String) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            rust_sources(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push_str(&std::fs::read_to_string(&path).unwrap());
        }
    }
}

#[test]
fn has_three_stages_node_rust_and_a_slim_runtime() {
    let list = instructions();
    let stages = stage_names(&list);
    assert_eq!(stages.len(), 3, "{stages:?}");
    assert!(
        stages[0].1.starts_with("node:"),
        "the app is built with node: {stages:?}"
    );
    assert!(
        stages[1].1.starts_with("rust:1"),
        "the server is built with rust:1: {stages:?}"
    );
    assert!(stages[2].1.contains("slim"), "the runtime is a slim image: {stages:?}");

    let runs: Vec<&Instruction> = all(&list, "RUN");
    assert!(runs.iter().any(|r| r.stage == 1 && r.args.contains("npm ci")));
    assert!(runs.iter().any(|r| r.stage == 1 && r.args.contains("npm run build")));
    let package: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(repo().join("frontend/package.json")).unwrap()).unwrap();
    assert!(
        package["scripts"]["build"].is_string(),
        "frontend/package.json has a build script"
    );
    assert!(
        repo().join("frontend/package-lock.json").exists(),
        "npm ci needs the lock file"
    );
    let build = runs
        .iter()
        .find(|r| r.stage == 2 && r.args.contains("cargo build"))
        .expect("the rust stage runs cargo build");
    assert!(
        build.args.contains("--release") && build.args.contains("--locked"),
        "{}",
        build.args
    );
}

#[test]
fn what_it_copies_from_the_repository_exists_and_is_not_ignored() {
    let list = instructions();
    let ignored: BTreeSet<String> = std::fs::read_to_string(repo().join(".dockerignore"))
        .expect("a .dockerignore")
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .map(str::to_owned)
        .collect();
    assert!(ignored.contains("target"), "the build context leaves target/ out");
    assert!(
        ignored.iter().any(|l| l.contains("node_modules")),
        "the build context leaves node_modules out"
    );

    let mut checked = 0;
    for (_, from, sources, _) in copies(&list) {
        if from.is_some() {
            continue;
        }
        for source in sources {
            let path = repo().join(&source);
            assert!(path.exists(), "COPY {source}: not in the repository");
            let clean = source.trim_end_matches('/');
            assert!(!ignored.contains(clean), "COPY {source}: excluded by .dockerignore");
            checked += 1;
        }
    }
    assert!(checked >= 5, "the Dockerfile copies the sources it builds");
}

#[test]
fn the_binary_it_runs_is_the_one_cargo_builds() {
    let list = instructions();
    let bin = package_binary_name();
    assert_eq!(bin, "herald");
    let build = all(&list, "RUN")
        .into_iter()
        .find(|r| r.args.contains("cargo build"))
        .unwrap();
    if build.args.contains("--bin") {
        assert!(build.args.contains(&format!("--bin {bin}")), "{}", build.args);
    }
    let stages = stage_names(&list);
    let rust_stage = stages[1].2.clone().expect("the rust stage is named");
    let web_stage = stages[0].2.clone().expect("the node stage is named");

    let copied = copies(&list);
    let (_, _, _, bin_dest) = copied
        .iter()
        .find(|(stage, from, sources, _)| {
            *stage == 3
                && from.as_deref() == Some(&rust_stage)
                && sources.iter().any(|s| s.ends_with(&format!("target/release/{bin}")))
        })
        .expect("the runtime copies target/release/<bin> from the rust stage");
    let entrypoint = all(&list, "ENTRYPOINT").pop().expect("an ENTRYPOINT").args.clone();
    assert!(
        entrypoint.contains(bin_dest.as_str()),
        "ENTRYPOINT {entrypoint} runs {bin_dest}"
    );
    let cmd = all(&list, "CMD").pop().expect("a CMD").args.clone();
    assert!(cmd.contains("serve"), "the container serves: {cmd}");

    // The app built by the node stage is where HERALD_UI_DIR points.
    let ui_dir = env_value(&list, 3, "HERALD_UI_DIR");
    assert!(
        copied.iter().any(|(stage, from, sources, dest)| *stage == 3
            && from.as_deref() == Some(&web_stage)
            && sources.iter().any(|s| s.ends_with("dist"))
            && dest.trim_end_matches('/') == ui_dir.trim_end_matches('/')),
        "the runtime copies the built app to HERALD_UI_DIR={ui_dir}"
    );
}

#[test]
fn its_settings_are_ones_herald_reads_and_fit_together() {
    let list = instructions();
    let mut sources = String::new();
    rust_sources(&repo().join("src"), &mut sources);
    let settings = env(&list, 3);
    assert!(!settings.is_empty());
    for (name, _) in &settings {
        assert!(
            sources.contains(&format!("\"{name}\"")),
            "ENV {name}: Herald does not read it"
        );
    }

    let listen = env_value(&list, 3, "HERALD_LISTEN");
    let addr: std::net::SocketAddr = listen.parse().expect("HERALD_LISTEN is an address");
    assert!(
        addr.ip().is_unspecified(),
        "listens on all interfaces in a container: {listen}"
    );
    let exposed: Vec<String> = all(&list, "EXPOSE").iter().map(|i| i.args.clone()).collect();
    assert_eq!(exposed, vec![addr.port().to_string()], "EXPOSE matches HERALD_LISTEN");

    // The SQLite file lives in the volume.
    let database = env_value(&list, 3, "DATABASE_URL");
    let path = database
        .strip_prefix("sqlite://")
        .expect("an embedded SQLite database by default")
        .split('?')
        .next()
        .unwrap();
    let volume = all(&list, "VOLUME").pop().expect("a VOLUME").args.clone();
    let volume = volume
        .trim_matches(|c| c == '[' || c == ']')
        .trim_matches('"')
        .to_owned();
    assert!(
        path.starts_with(&format!("{}/", volume.trim_end_matches('/'))),
        "{path} is in the volume {volume}"
    );

    // Not root, and the user exists.
    let user = all(&list, "USER").pop().expect("a USER").args.clone();
    assert!(user != "root" && user != "0", "runs as {user}");
    assert!(
        all(&list, "RUN")
            .iter()
            .any(|r| r.stage == 3 && r.args.contains("useradd") && r.args.contains(&user)),
        "the runtime creates the user {user}"
    );

    // The health check asks /healthz on the listening port, with a tool the image has.
    let health = all(&list, "HEALTHCHECK").pop().expect("a HEALTHCHECK").args.clone();
    assert!(health.contains(&format!(":{}/healthz", addr.port())), "{health}");
    if health.contains("curl") {
        assert!(
            all(&list, "RUN")
                .iter()
                .any(|r| r.stage == 3 && r.args.contains("apt-get install") && r.args.contains("curl")),
            "the runtime image installs curl for the health check"
        );
    }
}
