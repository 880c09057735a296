//! Replays the committed cargo-fuzz corpora (`fuzz/corpus/<target>/`) through the same checks
//! the fuzz targets run, so every input a fuzzer ever kept stays a regression test in CI.

#[path = "../../../fuzz/src/lib.rs"]
mod checks;

use std::path::Path;

fn replay(target: &str, check: fn(&[u8])) {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../fuzz/corpus")
        .join(target);
    let mut replayed = 0;
    for entry in std::fs::read_dir(&dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display())) {
        let path = entry.expect("a corpus entry").path();
        let input = std::fs::read(&path).expect("a readable corpus file");
        check(&input);
        replayed += 1;
    }
    assert!(replayed > 0, "the {target} corpus is empty");
}

#[test]
fn response_envelope_corpus() {
    replay("response_envelope", checks::response_envelope);
}

#[test]
fn response_types_corpus() {
    replay("response_types", checks::response_types);
}

#[test]
fn kraken_error_corpus() {
    replay("kraken_error", checks::kraken_error);
}

#[test]
fn mock_request_corpus() {
    replay("mock_request", checks::mock_request);
}
