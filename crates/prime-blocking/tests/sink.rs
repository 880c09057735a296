//! The secret sinks: what counts as delivered, what is refused, and that no error shows the
//! secret.

#![cfg(unix)]

use std::os::unix::fs::PermissionsExt as _;
use std::path::PathBuf;

use prime_blocking::prime_core::ApiSecret;
use prime_blocking::sink::{CommandSink, FileSink, SecretSink};

/// The documented example of an issued secret.
const SECRET: &str = prime_blocking::prime_core::example::ISSUED_SECRET;

fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("prime-sink-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("scratch");
    dir
}

fn secret() -> ApiSecret {
    ApiSecret::new(SECRET.to_owned())
}

#[test]
fn a_file_sink_writes_a_new_0600_file_reads_it_back_and_withdraws_it() {
    let dir = scratch("file");
    let path = dir.join("desk1.secret");
    let mut sink = FileSink::new(&path);
    sink.deliver(&secret()).expect("delivered");
    assert_eq!(
        std::fs::read_to_string(&path).unwrap(),
        format!("{SECRET}\n")
    );
    let mode = std::fs::metadata(&path).unwrap().permissions().mode();
    assert_eq!(mode & 0o777, 0o600);
    assert_eq!(sink.read_back().unwrap().unwrap().expose(), SECRET);
    // Never overwrites, even itself.
    let again = sink.deliver(&secret()).expect_err("exists");
    assert!(!again.to_string().contains(SECRET), "{again}");
    sink.withdraw().expect("removed");
    assert!(!path.exists());
    sink.withdraw().expect("nothing to remove is fine");
    assert!(sink.read_back().is_err());
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn a_file_sink_refuses_every_path_it_must_not_write() {
    let dir = scratch("refuse");
    let existing = dir.join("existing");
    std::fs::write(&existing, "keep me").unwrap();
    let target = dir.join("target");
    std::fs::write(&target, "keep me too").unwrap();
    let symlink = dir.join("symlink");
    std::os::unix::fs::symlink(&target, &symlink).unwrap();
    let dangling = dir.join("dangling");
    std::os::unix::fs::symlink(dir.join("nowhere"), &dangling).unwrap();
    for path in [
        existing.clone(),
        symlink,
        dangling,
        dir.clone(),
        dir.join("missing").join("file"),
        existing.join("under-a-file"),
    ] {
        let error = FileSink::new(&path)
            .deliver(&secret())
            .expect_err("refused");
        assert!(!error.to_string().contains(SECRET), "{error}");
        assert!(
            error.to_string().contains(&path.display().to_string()),
            "{error}"
        );
    }
    assert_eq!(std::fs::read_to_string(&existing).unwrap(), "keep me");
    assert_eq!(std::fs::read_to_string(&target).unwrap(), "keep me too");
    assert!(
        !dir.join("nowhere").exists(),
        "a dangling symlink is not followed"
    );
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn a_command_sink_counts_only_exit_status_zero() {
    let dir = scratch("command");
    let out = dir.join("vault.txt");
    let mut ok = CommandSink::shell(&format!("cat > '{}'", out.display()));
    ok.deliver(&secret()).expect("delivered");
    assert_eq!(
        std::fs::read_to_string(&out).unwrap(),
        format!("{SECRET}\n")
    );
    for failing in [
        "cat > /dev/null; exit 1",
        "exit 3",
        "kill -9 $$",
        "cat > /dev/null; false",
    ] {
        let error = CommandSink::shell(failing)
            .deliver(&secret())
            .expect_err(failing);
        assert!(!error.to_string().contains(SECRET), "{error}");
        assert!(error.to_string().contains(failing), "{error}");
    }
    let missing = CommandSink::new("/no/such/program", Vec::new())
        .deliver(&secret())
        .expect_err("cannot run");
    assert!(missing.to_string().contains("cannot run"), "{missing}");
    // A command cannot give the secret back.
    assert!(ok.read_back().unwrap().is_none());
    assert_eq!(ok.describe(), format!("`cat > '{}'`", out.display()));
    let _ = std::fs::remove_dir_all(dir);
}
