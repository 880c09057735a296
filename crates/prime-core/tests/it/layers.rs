//! prime-core's layers, one folder each, import only the layers below them: the picture in
//! `docs/architecture.md` stays true. Read from the source text: every `crate::<name>` path in
//! code (not in comments, not in test-only items) names the layer it reaches.

use std::path::{Path, PathBuf};

/// The layers from the bottom up; a layer may use the ones before it. Layers of one rank stand
/// side by side and do not use each other. The top is the crate root: `lib.rs`, and
/// `generated_methods.rs` (documentation only, the methods the client macros write), which may
/// use everything.
const LAYERS: [&[&str]; 6] = [
    &["auth"],
    &["endpoints", "issued"],
    &["wire", "example"],
    &["transport"],
    &["workflow"],
    &["lib", "generated_methods"],
];

fn rank(layer: &str) -> Option<usize> {
    LAYERS.iter().position(|names| names.contains(&layer))
}

fn source_files(folder: &Path, found: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(folder).expect("src/ is readable") {
        let path = entry.expect("a src entry").path();
        if path.is_dir() {
            source_files(&path, found);
        } else if path.extension().is_some_and(|e| e == "rs") {
            found.push(path);
        }
    }
}

/// The code lines of `text`, without comments and without the items under `#[cfg(test)]`.
fn code_lines(text: &str) -> Vec<(usize, &str)> {
    let mut lines = Vec::new();
    let mut skipping = false;
    let mut depth = 0usize;
    let mut opened = false;
    for (number, line) in text.lines().enumerate() {
        let trimmed = line.trim();
        if skipping {
            depth += line.matches('{').count();
            opened |= line.contains('{');
            depth = depth.saturating_sub(line.matches('}').count());
            if opened && depth == 0 {
                skipping = false;
            }
            continue;
        }
        if trimmed == "#[cfg(test)]" {
            (skipping, depth, opened) = (true, 0, false);
            continue;
        }
        if !trimmed.starts_with("//") {
            lines.push((number + 1, line));
        }
    }
    lines
}

/// The first segment of every `crate::` path on `line` (not `$crate::`, which belongs to the
/// crate a macro expands in, nor `other_crate::`).
fn crate_paths(line: &str) -> Vec<String> {
    line.match_indices("crate::")
        .filter(|(at, _)| {
            !line[..*at]
                .chars()
                .next_back()
                .is_some_and(|c| c.is_alphanumeric() || c == '_' || c == '$')
        })
        .map(|(at, pattern)| {
            line[at + pattern.len()..]
                .chars()
                .take_while(|c| c.is_alphanumeric() || *c == '_')
                .collect()
        })
        .collect()
}

#[test]
fn every_layer_imports_only_the_layers_below_it() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    source_files(&src, &mut files);
    files.sort();
    let mut wrong = Vec::new();
    let mut seen = 0;
    for file in &files {
        let relative = file.strip_prefix(&src).expect("inside src/");
        let first = relative.components().next().expect("a path");
        let first = first.as_os_str().to_string_lossy();
        let layer = first.trim_end_matches(".rs");
        let own = rank(layer)
            .unwrap_or_else(|| panic!("{}: in no layer; add it to LAYERS", relative.display()));
        let text = std::fs::read_to_string(file).expect("a source file");
        for (number, line) in code_lines(&text) {
            for target in crate_paths(line) {
                seen += 1;
                if target == layer || own == LAYERS.len() - 1 {
                    continue;
                }
                // A name of the crate root (`crate::Credentials`) reaches through lib.rs.
                let reached = rank(&target).unwrap_or(LAYERS.len() - 1);
                if reached >= own {
                    wrong.push(format!(
                        "{}:{number}: {layer} uses crate::{target}, which is not below it",
                        relative.display()
                    ));
                }
            }
        }
    }
    assert!(
        seen > 20,
        "only {seen} crate:: paths found: is the reader broken?"
    );
    assert!(
        wrong.is_empty(),
        "imports that do not run down:\n{}",
        wrong.join("\n")
    );
}

#[test]
fn the_reader_sees_paths_and_skips_comments_and_tests() {
    assert_eq!(
        crate_paths(
            "use crate::auth::{Credentials}; let x = crate::Root; $crate::no; prime_crate::no"
        ),
        ["auth", "Root"]
    );
    let text = "use crate::auth::A;\n// crate::workflow\n#[cfg(test)]\nmod tests {\n    use crate::workflow::B;\n}\nuse crate::endpoints::C;\n";
    let code: Vec<usize> = code_lines(text).into_iter().map(|(n, _)| n).collect();
    assert_eq!(code, [1, 7]);
}
