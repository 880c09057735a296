//! The table of the simulator's choices: one table, in the crate docs and in
//! `docs/simulator-choices.md`, with a source or "undocumented" on every row.

use std::path::Path;

/// The names the table cites; the crate docs list each with its title and URL.
const SOURCES: &[&str] = &[
    "Spot auth guide",
    "Spot errors guide",
    "Spot rate-limit guide",
    "Kraken support",
    "Prime overview",
    "Prime endpoint pages",
    "Prime spec",
    "older Prime docs",
    "Prime WebSocket auth page",
    "Prime FIX Logon page",
];

fn read(relative: &str) -> String {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join(relative);
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// The rows of the table whose header starts `| Rule |`, as text.
fn table(text: &str) -> Vec<String> {
    let lines: Vec<&str> = text.lines().collect();
    let start = lines
        .iter()
        .position(|l| l.starts_with("| Rule | What Kraken documents |"))
        .expect("the table's header");
    lines[start..]
        .iter()
        .take_while(|l| l.starts_with('|'))
        .map(|l| (*l).to_owned())
        .collect()
}

fn crate_docs_table() -> Vec<String> {
    let docs: String = read("src/lib.rs")
        .lines()
        .filter_map(|l| l.strip_prefix("//!"))
        .map(|l| l.strip_prefix(' ').unwrap_or(l))
        .collect::<Vec<_>>()
        .join("\n");
    table(&docs)
}

#[test]
fn the_crate_docs_and_the_docs_page_hold_the_same_table() {
    let page = table(&read("../../docs/simulator-choices.md"));
    assert_eq!(crate_docs_table(), page);
}

#[test]
fn every_rule_names_a_source_or_says_it_is_undocumented() {
    let rows = crate_docs_table();
    assert!(rows.len() > 30, "{} rows", rows.len());
    let lib = read("src/lib.rs");
    for source in SOURCES {
        assert!(
            lib.contains(&format!("**{source}**")),
            "{source} is not listed"
        );
    }
    for row in &rows[2..] {
        let cells: Vec<&str> = row.split(" | ").collect();
        assert_eq!(cells.len(), 4, "{row}");
        let documents = cells[1];
        assert!(
            documents.to_lowercase().contains("undocumented")
                || SOURCES.iter().any(|s| documents.contains(s)),
            "no source and not marked undocumented: {row}"
        );
        assert!(!cells[2].trim().is_empty(), "{row}");
    }
}
