//! The documentation stays true to the repository: the front page is short, its client
//! examples are the clients' quickstart programs and use their client crate alone, every
//! relative link of the front page, the manual in `docs/` and the crate READMEs resolves inside
//! the repository, every manual page's code is compiled (it is listed as a doctest item in
//! `tests/src/lib.rs`), every published crate (each folder of `crates/`) carries its README and
//! both licenses, and the list of prime-core's root names in `docs/architecture.md` is the
//! crate root's.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

fn repository() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("tests/ has a parent")
        .to_path_buf()
}

fn read(relative: &str) -> String {
    let path = repository().join(relative);
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// Every Markdown page of the manual, relative to the repository, sorted.
fn manual_pages() -> Vec<String> {
    let mut pages = Vec::new();
    let mut folders = vec![repository().join("docs")];
    while let Some(folder) = folders.pop() {
        for entry in std::fs::read_dir(&folder).expect("docs/ is readable") {
            let path = entry.expect("a docs entry").path();
            if path.is_dir() {
                folders.push(path);
            } else if path.extension().is_some_and(|e| e == "md") {
                let relative = path
                    .strip_prefix(repository())
                    .expect("inside the repository");
                pages.push(relative.to_string_lossy().replace('\\', "/"));
            }
        }
    }
    pages.sort();
    pages
}

/// The pages whose links are checked: the front page, the manual, every crate's README and the
/// other pages the manual links to.
fn checked_pages() -> Vec<String> {
    let mut pages: Vec<String> = [
        "README.md",
        "BENCHMARKS.md",
        "vectors/README.md",
        "fuzz/README.md",
    ]
    .map(str::to_owned)
    .into();
    pages.extend(manual_pages());
    for crate_name in published_crates() {
        pages.push(format!("crates/{crate_name}/README.md"));
    }
    pages
}

/// The published crates: every folder of `crates/`, sorted.
fn published_crates() -> Vec<String> {
    let mut crates: Vec<String> = std::fs::read_dir(repository().join("crates"))
        .expect("crates/ is readable")
        .map(|entry| entry.expect("a crates/ entry").path())
        .filter(|path| path.join("Cargo.toml").is_file())
        .map(|path| {
            path.file_name()
                .expect("a name")
                .to_string_lossy()
                .into_owned()
        })
        .collect();
    crates.sort();
    crates
}

#[test]
fn every_published_crate_carries_its_readme_and_both_licenses() {
    let crates = published_crates();
    assert!(crates.len() >= 5, "{crates:?}");
    let licenses = ["LICENSE-MIT", "LICENSE-APACHE"].map(|name| (name, read(name)));
    for name in &crates {
        let folder = format!("crates/{name}");
        let manifest = read(&format!("{folder}/Cargo.toml"));
        assert!(
            !manifest.contains("publish = false"),
            "{name}: the crates/ folder holds the published crates"
        );
        for field in [
            "readme = \"README.md\"".to_owned(),
            format!("documentation = \"https://docs.rs/{name}\""),
            "license.workspace = true".to_owned(),
            "rust-version.workspace = true".to_owned(),
            "description = ".to_owned(),
        ] {
            assert!(
                manifest.contains(&field),
                "{folder}/Cargo.toml lacks `{field}`"
            );
        }
        assert!(
            !read(&format!("{folder}/README.md")).trim().is_empty(),
            "{name}: an empty README"
        );
        for (license, text) in &licenses {
            assert_eq!(
                &read(&format!("{folder}/{license}")),
                text,
                "{name}: {license} is not the repository's"
            );
        }
        // A library's README (its crates.io page) is compiled as its doctests.
        let lib = repository().join(&folder).join("src/lib.rs");
        if lib.is_file() {
            let source = std::fs::read_to_string(&lib).expect("lib.rs");
            assert!(
                source.contains("include_str!(\"../README.md\")"),
                "{name}: src/lib.rs should compile README.md as doctests"
            );
        }
    }
}

/// The targets of the Markdown links `[text](target)` in `text`, outside code.
fn link_targets(text: &str) -> Vec<String> {
    let mut targets = Vec::new();
    let mut in_fence = false;
    for line in text.lines() {
        if line.trim_start().starts_with("```") {
            in_fence = !in_fence;
            continue;
        }
        if in_fence {
            continue;
        }
        let mut rest = line;
        while let Some(start) = rest.find("](") {
            let after = &rest[start + 2..];
            let Some(end) = after.find(')') else { break };
            targets.push(after[..end].to_owned());
            rest = &after[end..];
        }
    }
    targets
}

/// The rust code blocks of `text` (fences that start with "```rust").
fn rust_blocks(text: &str) -> Vec<String> {
    let mut blocks = Vec::new();
    let mut current: Option<String> = None;
    for line in text.lines() {
        match (&mut current, line.trim_start().starts_with("```")) {
            (None, true) if line.trim_start().starts_with("```rust") => {
                current = Some(String::new())
            }
            (Some(_), true) => blocks.push(current.take().expect("an open block")),
            (Some(block), false) => {
                block.push_str(line);
                block.push('\n');
            }
            (None, _) => {}
        }
    }
    blocks
}

#[test]
fn every_relative_link_resolves_inside_the_repository() {
    let root = repository().canonicalize().expect("the repository exists");
    let mut broken = Vec::new();
    let mut checked = 0;
    for page in checked_pages() {
        let folder = repository()
            .join(&page)
            .parent()
            .expect("a folder")
            .to_path_buf();
        for target in link_targets(&read(&page)) {
            if target.contains("://") || target.starts_with('#') || target.starts_with("mailto:") {
                continue;
            }
            checked += 1;
            let file = target.split('#').next().unwrap_or_default();
            match folder.join(file).canonicalize() {
                Ok(resolved) if resolved.starts_with(&root) => {}
                Ok(outside) => broken.push(format!(
                    "{page}: {target} leaves the repository ({})",
                    outside.display()
                )),
                Err(_) => broken.push(format!("{page}: {target} does not exist")),
            }
        }
    }
    assert!(
        checked > 40,
        "only {checked} relative links found: is the parser broken?"
    );
    assert!(broken.is_empty(), "broken links:\n{}", broken.join("\n"));
}

#[test]
fn the_front_page_is_short_and_keeps_its_two_set_up_commands() {
    let readme = read("README.md");
    let lines = readme.lines().count();
    assert!(
        lines <= 200,
        "README.md has {lines} lines; the manual belongs in docs/"
    );
    for command in [
        "cargo run --release -p prime-cli -- demo",
        "cargo test --workspace",
    ] {
        assert!(
            readme.lines().any(|line| line.starts_with(command)),
            "README.md lost its set-up command `{command}`"
        );
    }
}

#[test]
fn the_front_page_examples_are_the_clients_quickstart_programs() {
    let blocks = rust_blocks(&read("README.md"));
    for client in ["prime-blocking", "prime-async"] {
        let program = read(&format!("crates/{client}/examples/quickstart.rs"));
        // The program without its opening doc comment (how to run it).
        let code = program
            .lines()
            .skip_while(|line| line.starts_with("//!") || line.is_empty())
            .map(|line| format!("{line}\n"))
            .collect::<String>();
        assert!(
            blocks.contains(&code),
            "README.md should show crates/{client}/examples/quickstart.rs as it is (the program \
             the adopters tests run):\n{code}"
        );
    }
}

/// Whether `code` starts a path with the crate `name` (`name::…`, not `other::name::…`).
fn names_path_root(code: &str, name: &str) -> bool {
    let pattern = format!("{name}::");
    code.match_indices(&pattern).any(|(at, _)| {
        let before = &code[..at];
        !before.ends_with("::")
            && !before
                .chars()
                .next_back()
                .is_some_and(|c| c.is_alphanumeric() || c == '_')
    })
}

#[test]
fn each_front_page_client_example_uses_its_client_crate_alone() {
    let crates = ["prime_blocking", "prime_async", "prime_core", "prime_mock"];
    let blocks = rust_blocks(&read("README.md"));
    assert!(blocks.len() >= 2, "one example per client");
    for block in blocks {
        let used: BTreeSet<&str> = crates
            .into_iter()
            .filter(|name| names_path_root(&block, name))
            .collect();
        assert!(
            used.len() == 1 && (used.contains("prime_blocking") || used.contains("prime_async")),
            "a README example names {used:?}; it should need only its client crate:\n{block}"
        );
    }
}

#[test]
fn every_manual_page_is_compiled_as_doctests() {
    let doctests = read("tests/src/lib.rs");
    let missing: Vec<String> = manual_pages()
        .into_iter()
        .filter(|page| !doctests.contains(&format!("include_str!(\"../../{page}\")")))
        .collect();
    assert!(
        missing.is_empty(),
        "add these pages to the doctest items of tests/src/lib.rs: {missing:?}"
    );
}

/// The names `pub use` brings into prime-core's root (the last segment, or the `as` name).
fn root_names() -> BTreeSet<String> {
    let lib = read("crates/prime-core/src/lib.rs");
    let mut names = BTreeSet::new();
    let mut statement = String::new();
    for line in lib.lines() {
        let line = line.trim();
        if statement.is_empty() && !line.starts_with("pub use ") {
            continue;
        }
        statement.push_str(line);
        statement.push(' ');
        if !line.ends_with(';') {
            continue;
        }
        let body = statement
            .trim()
            .trim_start_matches("pub use ")
            .trim_end_matches(';');
        let items = match (body.find('{'), body.rfind('}')) {
            (Some(open), Some(close)) => body[open + 1..close].to_owned(),
            _ => body.to_owned(),
        };
        for item in items.split(',') {
            let item = item.trim();
            if item.is_empty() {
                continue;
            }
            let name = item
                .rsplit(" as ")
                .next()
                .and_then(|path| path.rsplit("::").next())
                .unwrap_or(item);
            names.insert(name.trim().to_owned());
        }
        statement.clear();
    }
    for line in lib.lines() {
        if let Some(module) = line.trim().strip_prefix("pub mod ") {
            names.insert(module.trim_end_matches(';').to_owned());
        }
    }
    names
}

#[test]
fn the_architecture_page_lists_every_name_of_prime_core_s_root() {
    let names = root_names();
    assert!(
        names.contains("Credentials") && names.contains("http"),
        "{names:?}"
    );
    let page = read("docs/architecture.md");
    let section = page
        .split("## What prime-core's root exports")
        .nth(1)
        .and_then(|rest| rest.split("\n## ").next())
        .expect("docs/architecture.md lists the root's names");
    let missing: Vec<&String> = names
        .iter()
        .filter(|name| !section.contains(&format!("`{name}`")))
        .collect();
    assert!(
        missing.is_empty(),
        "prime-core's root exports {missing:?}, which docs/architecture.md does not list"
    );
}
