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

/// Every kind of command that exits 0 without consuming the whole secret and its end of
/// input is a failed delivery, whatever the timing; so is one that hangs (ended in time).
#[test]
fn a_command_sink_refuses_every_command_that_does_not_consume_its_input() {
    let dir = scratch("unread");
    let partial = dir.join("partial.txt");
    let cases = [
        "true".to_owned(),
        "exit 0".to_owned(),
        "sleep 0.3; echo stored".to_owned(),
        format!("head -c 5 > '{}'", partial.display()),
        "head -c 1 >/dev/null".to_owned(),
        "exec 0<&-; sleep 0.2".to_owned(),
        "dd bs=1 count=3 2>/dev/null >/dev/null".to_owned(),
    ];
    for command in &cases {
        let started = std::time::Instant::now();
        let error = CommandSink::shell(command)
            .timeout(std::time::Duration::from_secs(20))
            .deliver(&secret())
            .expect_err(command);
        let text = error.to_string();
        assert!(text.contains("not delivered"), "{command}: {text}");
        assert!(text.contains(command.as_str()), "{command}: {text}");
        assert!(!text.contains(SECRET), "{command}: {text}");
        assert!(
            started.elapsed() < std::time::Duration::from_secs(15),
            "{command}"
        );
    }
    // A command that hangs, before or after reading: ended at the timeout, with its group.
    let marker = dir.join("survivor");
    for command in [
        "sleep 30".to_owned(),
        format!("cat >/dev/null; sleep 30; touch '{}'", marker.display()),
        format!("(sleep 1; touch '{}') & sleep 30", marker.display()),
    ] {
        let started = std::time::Instant::now();
        let error = CommandSink::shell(&command)
            .timeout(std::time::Duration::from_millis(300))
            .deliver(&secret())
            .expect_err(&command);
        assert!(error.to_string().contains("not delivered"), "{error}");
        assert!(
            started.elapsed() < std::time::Duration::from_secs(10),
            "{command}"
        );
    }
    std::thread::sleep(std::time::Duration::from_millis(1500));
    assert!(!marker.exists(), "the command's process group was ended");
    // Readers that consume everything to the end are delivered, one line or many reads.
    for command in [
        format!("cat > '{}'", dir.join("a").display()),
        format!("sleep 0.2; cat > '{}'", dir.join("b").display()),
        format!("dd bs=1 2>/dev/null > '{}'", dir.join("c").display()),
        format!(
            "while read -r l; do echo \"$l\"; done > '{}'",
            dir.join("d").display()
        ),
    ] {
        let events = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
        let seen = events.clone();
        CommandSink::shell(&command)
            .on_child(move |event| seen.lock().unwrap().push(event))
            .deliver(&secret())
            .unwrap_or_else(|e| panic!("{command}: {e}"));
        let events = events.lock().unwrap();
        assert_eq!(events.len(), 2, "{command}: started and ended");
    }
    for name in ["a", "b", "c", "d"] {
        assert_eq!(
            std::fs::read_to_string(dir.join(name)).unwrap(),
            format!("{SECRET}\n")
        );
    }
    let _ = std::fs::remove_dir_all(dir);
}
