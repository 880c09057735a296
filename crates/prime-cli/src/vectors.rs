//! Signature vector tools: `prime vectors verify|generate` (`prime sign` is in `sign.rs`).
//!
//! One format for all three schemes (`vectors/README.md`, `vectors/vector.schema.json`): a
//! JSON array of objects; no `scheme` (or `"rest"`) is a REST `API-Sign` vector, `"prime-ws"`
//! a Prime WebSocket `ApiSign`, `"prime-fix"` a Prime FIX `96` RawData.

use std::io::{BufRead as _, BufReader, Read as _, Write as _};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use prime_core::diagnosis::{Diagnoser, RestInputs};
use prime_core::issued::UtcTimestamp;
use prime_core::{IssuedCredentials, SigningKey};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};
use serde_json::json;

use crate::cli::VectorsCommand;
use crate::failure::Failure;
use crate::output::{self, clean};

/// One vector as read: every field of every scheme optional, checked by [`Vector::parse`].
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawVector {
    scheme: Option<String>,
    name: Option<String>,
    secret: Option<String>,
    nonce: Option<String>,
    path: Option<String>,
    body: Option<String>,
    api_sign: Option<String>,
    timestamp: Option<String>,
    host: Option<String>,
    sending_time: Option<String>,
    seq_num: Option<serde_json::Value>,
    sender: Option<String>,
    target: Option<String>,
    signature: Option<String>,
}

/// One signature test vector. Secrets are test material, never a real key's.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Vector {
    /// REST `API-Sign`: `secret` is base64.
    Rest {
        name: String,
        secret: String,
        nonce: String,
        path: String,
        body: String,
        api_sign: String,
    },
    /// Prime WebSocket `ApiSign`: `secret` is the issued key's text.
    Ws {
        name: String,
        secret: String,
        timestamp: String,
        host: String,
        path: String,
        signature: String,
    },
    /// Prime FIX Logon `96` RawData: `secret` is the issued key's text.
    Fix {
        name: String,
        secret: String,
        sending_time: String,
        seq_num: u64,
        sender: String,
        target: String,
        signature: String,
    },
}

impl Vector {
    fn name(&self) -> &str {
        match self {
            Vector::Rest { name, .. } | Vector::Ws { name, .. } | Vector::Fix { name, .. } => name,
        }
    }

    fn expected(&self) -> &str {
        match self {
            Vector::Rest { api_sign, .. } => api_sign,
            Vector::Ws { signature, .. } | Vector::Fix { signature, .. } => signature,
        }
    }

    /// The vector as the format writes it, fields in their documented order;
    /// `with_expected: false` leaves the expected signature out (what an external signer is
    /// given), and always names the scheme.
    fn written(&self, with_expected: bool) -> Written<'_> {
        Written {
            vector: self,
            with_expected,
        }
    }

    /// Checks the fields a scheme needs (and refuses the ones it does not).
    fn parse(raw: RawVector, index: usize) -> Result<Vector, String> {
        let scheme = raw.scheme.as_deref().unwrap_or("rest");
        let name = raw.name.clone().unwrap_or_else(|| format!("#{index}"));
        let given = [
            ("nonce", raw.nonce.is_some()),
            ("path", raw.path.is_some()),
            ("body", raw.body.is_some()),
            ("api_sign", raw.api_sign.is_some()),
            ("timestamp", raw.timestamp.is_some()),
            ("host", raw.host.is_some()),
            ("sending_time", raw.sending_time.is_some()),
            ("seq_num", raw.seq_num.is_some()),
            ("sender", raw.sender.is_some()),
            ("target", raw.target.is_some()),
            ("signature", raw.signature.is_some()),
        ];
        let allowed: &[&str] = match scheme {
            "rest" => &["nonce", "path", "body", "api_sign"],
            "prime-ws" => &["timestamp", "host", "path", "signature"],
            "prime-fix" => &["sending_time", "seq_num", "sender", "target", "signature"],
            other => {
                return Err(format!(
                    "vector {name}: unknown scheme {other:?} (rest, prime-ws or prime-fix)"
                ));
            }
        };
        if let Some((field, _)) = given.iter().find(|(f, set)| *set && !allowed.contains(f)) {
            return Err(format!(
                "vector {name}: {field} does not belong to scheme {scheme}"
            ));
        }
        let need = |value: Option<String>, field: &str| {
            value.ok_or_else(|| format!("vector {name}: scheme {scheme} needs {field}"))
        };
        let secret = need(raw.secret, "secret")?;
        Ok(match scheme {
            "rest" => Vector::Rest {
                secret,
                nonce: need(raw.nonce, "nonce")?,
                path: need(raw.path, "path")?,
                body: need(raw.body, "body")?,
                api_sign: need(raw.api_sign, "api_sign")?,
                name,
            },
            "prime-ws" => Vector::Ws {
                secret,
                timestamp: need(raw.timestamp, "timestamp")?,
                host: need(raw.host, "host")?,
                path: need(raw.path, "path")?,
                signature: need(raw.signature, "signature")?,
                name,
            },
            _ => {
                // The schema says integer: a string is refused, not re-read as a number — a
                // signer given `"007"` would sign other digits than the vector's author meant.
                let seq_num = match raw.seq_num {
                    Some(serde_json::Value::Number(n)) => n.as_u64(),
                    Some(serde_json::Value::String(text)) => {
                        return Err(format!(
                            "vector {name}: seq_num must be a positive integer, and it is the \
                             string {text:?}: write it as a JSON number (no quotes), as the \
                             schema says"
                        ));
                    }
                    _ => None,
                }
                .filter(|n| *n > 0)
                .ok_or_else(|| format!("vector {name}: seq_num must be a positive integer"))?;
                Vector::Fix {
                    secret,
                    sending_time: need(raw.sending_time, "sending_time")?,
                    seq_num,
                    sender: need(raw.sender, "sender")?,
                    target: need(raw.target, "target")?,
                    signature: need(raw.signature, "signature")?,
                    name,
                }
            }
        })
    }

    /// The signature this project's signer computes.
    fn compute(&self) -> Result<String, String> {
        match self {
            Vector::Rest {
                secret,
                nonce,
                path,
                body,
                ..
            } => {
                check_nonce(nonce)?;
                let key = SigningKey::from_base64(secret).map_err(|e| e.to_string())?;
                Ok(key
                    .sign(path, nonce.as_bytes(), body.as_bytes())
                    .to_string())
            }
            Vector::Ws {
                secret,
                timestamp,
                host,
                path,
                ..
            } => {
                UtcTimestamp::parse_api_timestamp(timestamp).map_err(|e| e.to_string())?;
                let key = IssuedCredentials::new("-", secret).map_err(|e| e.to_string())?;
                Ok(key.ws_sign(timestamp, host, path).to_string())
            }
            Vector::Fix {
                secret,
                sending_time,
                seq_num,
                sender,
                target,
                ..
            } => {
                UtcTimestamp::parse_sending_time(sending_time).map_err(|e| e.to_string())?;
                let key = IssuedCredentials::new("-", secret).map_err(|e| e.to_string())?;
                Ok(key
                    .fix_raw_data(sending_time, &seq_num.to_string(), sender, target)
                    .to_string())
            }
        }
    }

    /// Why `given` is not this vector's signature, with the REST diagnosis when one applies.
    fn mismatch(&self, given: &str) -> String {
        let mut reason = format!("expected {}, got {given}", self.expected());
        if let Vector::Rest {
            secret,
            nonce,
            path,
            body,
            ..
        } = self
            && let Ok(diagnoser) = Diagnoser::from_base64_secret(secret)
        {
            let mistakes =
                diagnoser.diagnose(&RestInputs::new(path, nonce, body.as_bytes()), given);
            let ids: Vec<&str> = mistakes.iter().map(|m| m.id()).collect();
            reason.push_str(&format!(
                " (diagnosis: {})",
                if ids.is_empty() {
                    "unknown".to_owned()
                } else {
                    ids.join(", ")
                }
            ));
        }
        reason
    }
}

pub fn run(command: VectorsCommand, json: bool) -> Result<(), Failure> {
    match command {
        VectorsCommand::Verify {
            file,
            signer,
            signer_timeout,
        } => {
            let vectors = read(&file)?;
            let results = match signer {
                // An empty file fails below; no signer is started for it.
                Some(command) if !vectors.is_empty() => {
                    let timeout =
                        crate::credentials::timeout(signer_timeout).map_err(|_| {
                            Failure::Usage(format!(
                                "--signer-timeout {signer_timeout}: a number of seconds above 0, at most a day"
                            ))
                        })?;
                    external(&vectors, &command, timeout)?
                }
                _ => vectors
                    .iter()
                    .map(|v| match v.compute() {
                        Ok(computed) if computed == v.expected() => Ok(()),
                        Ok(computed) => Err(v.mismatch(&computed)),
                        Err(e) => Err(e),
                    })
                    .collect(),
            };
            report(&file, &vectors, &results, json)
        }
        // Always JSON: the vector format.
        VectorsCommand::Generate { count, seed, edges } => {
            if edges {
                write_vectors(edge_vectors(seed).into_iter())
            } else {
                let count = count.ok_or_else(|| {
                    Failure::Usage("vectors generate needs --count N or --edges".to_owned())
                })?;
                write_vectors(vectors(count, seed))
            }
        }
    }
}

fn read(file: &Path) -> Result<Vec<Vector>, Failure> {
    let text = std::fs::read(file)
        .map_err(|e| Failure::Usage(format!("cannot read {}: {e}", file.display())))?;
    let raw: Vec<RawVector> = serde_json::from_slice(&text).map_err(|e| {
        Failure::Usage(format!(
            "{} is not a JSON array of signature vectors (see vectors/README.md): {e}",
            file.display()
        ))
    })?;
    raw.into_iter()
        .enumerate()
        .map(|(i, raw)| Vector::parse(raw, i))
        .collect::<Result<_, _>>()
        .map_err(|e| Failure::Usage(format!("{}: {e}", file.display())))
}

fn report(
    file: &Path,
    vectors: &[Vector],
    results: &[Result<(), String>],
    json: bool,
) -> Result<(), Failure> {
    let failures: Vec<(&str, &str)> = vectors
        .iter()
        .zip(results)
        .filter_map(|(v, r)| r.as_ref().err().map(|reason| (v.name(), reason.as_str())))
        .collect();
    let failed = failures.len();
    let passed = vectors.len() - failed;
    if json {
        let failures: Vec<_> = failures
            .iter()
            .map(|(name, reason)| json!({ "name": name, "reason": reason }))
            .collect();
        let report = json!({ "passed": passed, "failed": failed, "failures": failures });
        output::stdout(&format!("{}\n", output::to_json(&report)))?;
    } else {
        let mut text = String::new();
        for (name, reason) in &failures {
            text.push_str(&format!("FAIL {}: {}\n", clean(name), clean(reason)));
        }
        text.push_str(&format!("{passed} passed, {failed} failed\n"));
        output::stdout(&text)?;
    }
    if vectors.is_empty() {
        // Zero of zero passing proves nothing: most likely the wrong file.
        Err(Failure::Call(format!(
            "{} holds no vectors; an empty list verifies nothing",
            file.display()
        )))
    } else if failed == 0 {
        Ok(())
    } else {
        Err(Failure::Call(format!(
            "{failed} of {} vectors failed",
            vectors.len()
        )))
    }
}

/// Longest answer line read from a signer; anything longer is garbage.
const MAX_ANSWER: usize = 1024;

/// Runs `command` once (through `sh -c`), writes each vector without its expected signature
/// as one JSON line on its stdin and reads one signature per line from its stdout. A signer
/// that dies, hangs past `timeout` on one vector, or answers something that cannot be a
/// signature stops the run: that vector and every later one fail.
fn external(
    vectors: &[Vector],
    command: &str,
    timeout: Duration,
) -> Result<Vec<Result<(), String>>, Failure> {
    let mut shell = Command::new("sh");
    shell
        .args(["-c", command])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit());
    // Its own process group, so the whole signer (the shell and whatever it started) can be
    // ended at once: a grandchild left behind would keep our stderr open.
    #[cfg(unix)]
    std::os::unix::process::CommandExt::process_group(&mut shell, 0);
    let mut child = shell
        .spawn()
        .map_err(|e| Failure::Usage(format!("cannot start the signer {command:?}: {e}")))?;
    // Ended on SIGINT/SIGTERM too, not only here.
    crate::processes::track_group(child.id());
    // Writes go through a thread as well: a signer that stops reading fills the pipe, and
    // that wait must be bounded by the timeout like the answer's.
    let stdin = child.stdin.take().map(|mut stdin| {
        let (lines, to_write) = mpsc::channel::<Vec<u8>>();
        let (written, acks) = mpsc::channel::<std::io::Result<()>>();
        std::thread::spawn(move || {
            for line in to_write {
                let outcome = stdin.write_all(&line).and_then(|()| stdin.flush());
                let failed = outcome.is_err();
                if written.send(outcome).is_err() || failed {
                    return;
                }
            }
        });
        Writer { lines, acks }
    });
    let answers = child.stdout.take().map(|stdout| {
        // Lines are read on a thread so a hung signer is noticed by the timeout.
        let (tx, rx) = mpsc::channel::<std::io::Result<Vec<u8>>>();
        std::thread::spawn(move || {
            let mut reader = BufReader::new(stdout);
            loop {
                let mut line = Vec::new();
                let read = std::io::Read::by_ref(&mut reader)
                    .take(MAX_ANSWER as u64 + 1)
                    .read_until(b'\n', &mut line);
                let end = matches!(read, Ok(0) | Err(_));
                if tx.send(read.map(|_| line)).is_err() || end {
                    return;
                }
            }
        });
        rx
    });
    let (Some(stdin), Some(answers)) = (stdin, answers) else {
        finish(child);
        return Err(Failure::Call(
            "the signer's pipes could not be opened".to_owned(),
        ));
    };
    let mut results = Vec::with_capacity(vectors.len());
    let mut stopped: Option<String> = None;
    for vector in vectors {
        if let Some(reason) = &stopped {
            results.push(Err(reason.clone()));
            continue;
        }
        match ask(&stdin, &answers, vector, timeout) {
            Ok(answer) if answer == vector.expected() => results.push(Ok(())),
            Ok(answer) => results.push(Err(vector.mismatch(&answer))),
            Err(reason) => {
                results.push(Err(reason.clone()));
                stopped = Some(format!("not checked: {reason}"));
            }
        }
    }
    // Every result is reported by the caller; a stopped run has failures, so it fails.
    drop(stdin);
    finish(child);
    Ok(results)
}

/// The signer's stdin, written by a thread: lines go in, the outcome of each write comes back.
struct Writer {
    lines: mpsc::Sender<Vec<u8>>,
    acks: mpsc::Receiver<std::io::Result<()>>,
}

/// One vector to the signer, one answer back, both within `timeout`.
fn ask(
    stdin: &Writer,
    answers: &mpsc::Receiver<std::io::Result<Vec<u8>>>,
    vector: &Vector,
    timeout: Duration,
) -> Result<String, String> {
    let line = format!(
        "{}\n",
        serde_json::to_string(&vector.written(false)).unwrap_or_default()
    );
    let deadline = Instant::now() + timeout;
    stdin
        .lines
        .send(line.into_bytes())
        .map_err(|_| "the signer stopped reading its input".to_owned())?;
    match stdin
        .acks
        .recv_timeout(deadline.saturating_duration_since(Instant::now()))
    {
        Ok(Ok(())) => {}
        Ok(Err(e)) => return Err(format!("the signer stopped reading its input ({e})")),
        Err(mpsc::RecvTimeoutError::Timeout) => {
            return Err(format!(
                "the signer did not read its input within {} s",
                timeout.as_secs_f64()
            ));
        }
        Err(mpsc::RecvTimeoutError::Disconnected) => {
            return Err("the signer stopped reading its input".to_owned());
        }
    }
    let answer = answers
        .recv_timeout(deadline.saturating_duration_since(Instant::now()))
        .map_err(|e| match e {
            mpsc::RecvTimeoutError::Timeout => {
                format!(
                    "the signer gave no answer within {} s",
                    timeout.as_secs_f64()
                )
            }
            mpsc::RecvTimeoutError::Disconnected => "the signer exited".to_owned(),
        })?
        .map_err(|e| format!("cannot read the signer's output: {e}"))?;
    if answer.is_empty() {
        return Err("the signer exited".to_owned());
    }
    let text = std::str::from_utf8(&answer)
        .map_err(|_| "the signer answered bytes that are not UTF-8 text".to_owned())?;
    let text = text.strip_suffix('\n').ok_or_else(|| {
        format!("the signer answered more than {MAX_ANSWER} bytes or an unterminated line")
    })?;
    let text = text.strip_suffix('\r').unwrap_or(text).trim();
    if text.is_empty() || !text.bytes().all(|b| b.is_ascii_graphic()) {
        return Err(format!(
            "the signer answered \"{}\", which is not a signature",
            clean(text)
        ));
    }
    Ok(text.to_owned())
}

/// Ends the signer: it had its stdin closed; it gets a moment to exit, then its whole
/// process group (whatever it started, too) is killed.
fn finish(mut child: Child) {
    let deadline = Instant::now() + Duration::from_secs(2);
    while Instant::now() < deadline {
        if let Ok(Some(_)) = child.try_wait() {
            break;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    // The group's id is the signer's pid (process_group(0)).
    #[cfg(unix)]
    if let Some(group) = i32::try_from(child.id())
        .ok()
        .and_then(rustix::process::Pid::from_raw)
    {
        let _ = rustix::process::kill_process_group(group, rustix::process::Signal::KILL);
    }
    let _ = child.kill();
    let _ = child.wait();
    crate::processes::untrack_group(child.id());
}

fn check_nonce(nonce: &str) -> Result<(), String> {
    if !nonce.is_empty() && nonce.len() <= 20 && nonce.bytes().all(|b| b.is_ascii_digit()) {
        Ok(())
    } else {
        Err("the nonce must be 1 to 20 decimal digits".to_owned())
    }
}

/// Endpoints used for generated vectors, with a body field to vary.
const SHAPES: [(&str, &str); 4] = [
    ("CreatePrimeApiUserKey", "user_id"),
    ("ListPrimeApiUserKeys", "user_id"),
    ("GetPrimeSettlementBatch", "batch_id"),
    ("CreatePrimeApiUser", "name"),
];

/// Writes vectors as one pretty JSON array, streamed: one vector is generated, written and
/// dropped at a time, so memory stays constant and a reader that stops early (`| head`) ends
/// the command at once, quietly.
fn write_vectors(vectors: impl Iterator<Item = Vector>) -> Result<(), Failure> {
    let stdout = std::io::stdout().lock();
    let mut out = std::io::BufWriter::new(stdout);
    let mut json = serde_json::Serializer::pretty(&mut out);
    let written = serde::Serializer::collect_seq(&mut json, vectors.map(WithExpected));
    written.map_err(|e| match e.io_error_kind() {
        Some(kind) => Failure::from_stdout(kind.into()),
        None => Failure::Call(format!("cannot encode the vectors: {e}")),
    })?;
    out.write_all(b"\n")
        .and_then(|()| out.flush())
        .map_err(Failure::from_stdout)
}

/// An owned vector written with its expected signature (for the streamed array).
struct WithExpected(Vector);

impl Serialize for WithExpected {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        self.0.written(true).serialize(serializer)
    }
}

/// A vector as written: [`Vector::written`].
struct Written<'a> {
    vector: &'a Vector,
    with_expected: bool,
}

impl Serialize for Written<'_> {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap as _;
        let mut map = serializer.serialize_map(None)?;
        match self.vector {
            Vector::Rest {
                name,
                secret,
                nonce,
                path,
                body,
                api_sign,
            } => {
                if !self.with_expected {
                    map.serialize_entry("scheme", "rest")?;
                }
                map.serialize_entry("name", name)?;
                map.serialize_entry("secret", secret)?;
                map.serialize_entry("nonce", nonce)?;
                map.serialize_entry("path", path)?;
                map.serialize_entry("body", body)?;
                if self.with_expected {
                    map.serialize_entry("api_sign", api_sign)?;
                }
            }
            Vector::Ws {
                name,
                secret,
                timestamp,
                host,
                path,
                signature,
            } => {
                map.serialize_entry("scheme", "prime-ws")?;
                map.serialize_entry("name", name)?;
                map.serialize_entry("secret", secret)?;
                map.serialize_entry("timestamp", timestamp)?;
                map.serialize_entry("host", host)?;
                map.serialize_entry("path", path)?;
                if self.with_expected {
                    map.serialize_entry("signature", signature)?;
                }
            }
            Vector::Fix {
                name,
                secret,
                sending_time,
                seq_num,
                sender,
                target,
                signature,
            } => {
                map.serialize_entry("scheme", "prime-fix")?;
                map.serialize_entry("name", name)?;
                map.serialize_entry("secret", secret)?;
                map.serialize_entry("sending_time", sending_time)?;
                map.serialize_entry("seq_num", seq_num)?;
                map.serialize_entry("sender", sender)?;
                map.serialize_entry("target", target)?;
                if self.with_expected {
                    map.serialize_entry("signature", signature)?;
                }
            }
        }
        map.end()
    }
}

/// The random REST vectors of one seed, generated lazily.
fn vectors(count: u64, seed: u64) -> impl Iterator<Item = Vector> {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    (0..count).map(move |i| {
        let mut secret = zeroize::Zeroizing::new([0u8; prime_core::SECRET_LEN]);
        rng.fill(&mut secret[..]);
        let nonce: u64 = rng.random_range(1_600_000_000_000_000_000..1_900_000_000_000_000_000);
        let (name, field) = SHAPES[rng.random_range(0..SHAPES.len())];
        let value: String = (0..rng.random_range(1..24))
            .map(|_| char::from(rng.random_range(b'A'..=b'Z')))
            .collect();
        let body = format!(r#"{{"nonce":{nonce},"{field}":"{value}"}}"#);
        rest_vector(
            format!("generated-{seed}-{i}"),
            &secret[..],
            nonce.to_string(),
            format!("/0/private/{name}"),
            body,
        )
    })
}

fn rest_vector(name: String, secret: &[u8], nonce: String, path: String, body: String) -> Vector {
    let api_sign = SigningKey::from_bytes(secret)
        .sign(&path, nonce.as_bytes(), body.as_bytes())
        .to_string();
    Vector::Rest {
        name,
        secret: STANDARD.encode(secret),
        nonce,
        path,
        body,
        api_sign,
    }
}

/// Message lengths on both sides of every SHA-256 padding edge (a 64-byte block with 9 bytes
/// of padding at least) and every SHA-512 one (128-byte block, 17 bytes).
const SHA256_EDGES: [usize; 6] = [55, 56, 63, 64, 119, 120];
const SHA512_EDGES: [usize; 6] = [111, 112, 127, 128, 239, 240];
/// REST secret lengths around SHA-512's 128-byte block (longer keys are hashed first).
const REST_KEY_LENS: [usize; 10] = [1, 32, 63, 64, 65, 127, 128, 129, 200, 300];
/// Issued-secret lengths around SHA-256's 64-byte block.
const TEXT_KEY_LENS: [usize; 8] = [1, 31, 32, 63, 64, 65, 100, 300];

/// Random bytes of a seed's stream.
fn bytes(rng: &mut ChaCha8Rng, len: usize) -> Vec<u8> {
    let mut out = vec![0u8; len];
    rng.fill(&mut out[..]);
    out
}

/// Random printable ASCII (an issued secret's text, a filler).
fn text(rng: &mut ChaCha8Rng, len: usize) -> String {
    (0..len)
        .map(|_| char::from(rng.random_range(b'a'..=b'z')))
        .collect()
}

/// A nonce of `digits` digits (19 is today's nanoseconds, 20 reaches `u64::MAX`).
fn nonce_of(rng: &mut ChaCha8Rng, digits: usize) -> String {
    match digits {
        20 => rng
            .random_range(10_000_000_000_000_000_000..=u64::MAX)
            .to_string(),
        19 => rng
            .random_range(1_000_000_000_000_000_000u64..10_000_000_000_000_000_000)
            .to_string(),
        _ => rng
            .random_range(1_616_000_000_000u64..1_900_000_000_000)
            .to_string(),
    }
}

/// A body whose `nonce ++ body` is exactly `total` bytes: JSON when it fits, else a form.
fn body_of_total(nonce: &str, total: usize, json: bool) -> Option<String> {
    let n = nonce.len();
    // {"nonce":N,"p":"<fill>"} is 17 + n + fill bytes; nonce=N&p=<fill> is 9 + n + fill.
    let (fixed, make): (usize, fn(&str, &str) -> String) = if json {
        (17, |nonce, fill| {
            format!(r#"{{"nonce":{nonce},"p":"{fill}"}}"#)
        })
    } else {
        (9, |nonce, fill| format!("nonce={nonce}&p={fill}"))
    };
    let fill = total.checked_sub(2 * n + fixed)?;
    Some(make(nonce, &"x".repeat(fill)))
}

/// A REST path `/0/private/ListPrimeApiUsers?pad=...` of exactly `len` bytes.
fn path_of_len(len: usize) -> Option<String> {
    const BASE: &str = "/0/private/ListPrimeApiUsers";
    if len == BASE.len() {
        return Some(BASE.to_owned());
    }
    let fill = len.checked_sub(BASE.len() + "?pad=".len())?;
    Some(format!("{BASE}?pad={}", "q".repeat(fill)))
}

/// The edge vectors of one seed: every padding edge of both hashes on both REST hash
/// inputs and on the WebSocket and FIX messages, keys around the block size, empty, form,
/// JSON, query-string and non-ASCII bodies, 13-, 19- and 20-digit nonces.
pub fn edge_vectors(seed: u64) -> Vec<Vector> {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut out = Vec::new();
    let secret64 = bytes(&mut rng, 64);
    // REST: nonce ++ body (the SHA-256 input) at every edge of both hashes.
    for total in SHA256_EDGES.into_iter().chain(SHA512_EDGES) {
        for digits in [13, 19, 20] {
            for json in [true, false] {
                let nonce = nonce_of(&mut rng, digits);
                if let Some(body) = body_of_total(&nonce, total, json) {
                    let kind = if json { "json" } else { "form" };
                    out.push(rest_vector(
                        format!("rest-sha256-input-{total}-nonce{digits}-{kind}"),
                        &secret64,
                        nonce,
                        "/0/private/ListPrimeApiUsers".to_owned(),
                        body,
                    ));
                }
            }
        }
    }
    // REST: the HMAC inner message path ++ digest (32 bytes) at every SHA-512 edge, and at
    // the SHA-256 ones too.
    for message in SHA512_EDGES.into_iter().chain(SHA256_EDGES) {
        if let Some(path) = message.checked_sub(32).and_then(path_of_len) {
            let nonce = nonce_of(&mut rng, 19);
            out.push(rest_vector(
                format!("rest-hmac-inner-{message}-query-string"),
                &secret64,
                nonce.clone(),
                path,
                format!(r#"{{"nonce":{nonce}}}"#),
            ));
        }
    }
    // REST: keys shorter than, equal to and longer than the 128-byte block.
    for len in REST_KEY_LENS {
        let secret = bytes(&mut rng, len);
        let nonce = nonce_of(&mut rng, 19);
        out.push(rest_vector(
            format!("rest-key-{len}-bytes"),
            &secret,
            nonce.clone(),
            "/0/private/CreatePrimeApiUserKey".to_owned(),
            format!(r#"{{"nonce":{nonce},"user_id":"2T0RXL9B8K5D6"}}"#),
        ));
    }
    // REST: body shapes.
    let nonce = nonce_of(&mut rng, 19);
    for (label, path, body) in [
        ("empty-body", "/0/private/ListPrimeApiUsers", String::new()),
        (
            "form-body",
            "/0/private/AddOrder",
            format!("nonce={nonce}&ordertype=limit&pair=XBTUSD&price=37500&type=buy&volume=1.25"),
        ),
        (
            "json-nested-body",
            "/0/private/ListPrimeSettlementBatches",
            format!(
                r#"{{"nonce":{nonce},"statuses":["unsettled","partially_settled"],"limit":20}}"#
            ),
        ),
        (
            "query-string",
            "/0/private/GetCustodyTask?id=TGWOJ4JQPOTZT2&x=%C3%A9",
            format!(r#"{{"nonce":{nonce}}}"#),
        ),
        (
            "non-ascii-body",
            "/0/private/CreatePrimeApiUser",
            format!(r#"{{"nonce":{nonce},"name":"Zoë Ærø 東京 €😀"}}"#),
        ),
        (
            "large-body",
            "/0/private/CreatePrimeApiUser",
            format!(r#"{{"nonce":{nonce},"name":"{}"}}"#, "n".repeat(3000)),
        ),
    ] {
        out.push(rest_vector(
            format!("rest-{label}"),
            &secret64,
            nonce.clone(),
            path.to_owned(),
            body,
        ));
    }
    // Prime WebSocket: GET\n<timestamp>\n<host>\n<path> at every SHA-256 edge (host length
    // varies), and keys around SHA-256's 64-byte block.
    let ws_secret = text(&mut rng, 31);
    let timestamp = "2026-11-28T16:21:25.123456Z";
    let fixed = "GET\n".len() + timestamp.len() + 1 + 1 + "/ws/v1".len();
    for message in SHA256_EDGES {
        if let Some(host_len) = message.checked_sub(fixed).filter(|l| *l >= 4) {
            let host = format!("{}.io", text(&mut rng, host_len - 3));
            out.push(ws_vector(
                format!("ws-message-{message}"),
                &ws_secret,
                timestamp,
                &host,
                "/ws/v1",
            ));
        }
    }
    for len in TEXT_KEY_LENS {
        let secret = text(&mut rng, len);
        out.push(ws_vector(
            format!("ws-key-{len}-bytes"),
            &secret,
            timestamp,
            "wss.prime.kraken.com",
            "/ws/v1",
        ));
    }
    // Prime FIX: <52> SOH <34> SOH <49> SOH <56> at every SHA-256 edge (sender length
    // varies), and keys around the block.
    let sending_time = "20261128-16:21:25.123";
    let fixed = sending_time.len() + 1 + "1".len() + 1 + 1 + "KRAKEN".len();
    for message in SHA256_EDGES {
        if let Some(sender_len) = message.checked_sub(fixed).filter(|l| *l >= 1) {
            let sender = text(&mut rng, sender_len).to_uppercase();
            out.push(fix_vector(
                format!("fix-message-{message}"),
                &ws_secret,
                sending_time,
                1,
                &sender,
                "KRAKEN",
            ));
        }
    }
    for len in TEXT_KEY_LENS {
        let secret = text(&mut rng, len);
        out.push(fix_vector(
            format!("fix-key-{len}-bytes"),
            &secret,
            sending_time,
            2,
            "CUSTOMER",
            "KRAKEN",
        ));
    }
    out
}

fn ws_vector(name: String, secret: &str, timestamp: &str, host: &str, path: &str) -> Vector {
    let signature = IssuedCredentials::new("-", secret)
        .map(|key| key.ws_sign(timestamp, host, path).to_string())
        .unwrap_or_default();
    Vector::Ws {
        name,
        secret: secret.to_owned(),
        timestamp: timestamp.to_owned(),
        host: host.to_owned(),
        path: path.to_owned(),
        signature,
    }
}

fn fix_vector(
    name: String,
    secret: &str,
    sending_time: &str,
    seq_num: u64,
    sender: &str,
    target: &str,
) -> Vector {
    let signature = IssuedCredentials::new("-", secret)
        .map(|key| {
            key.fix_raw_data(sending_time, &seq_num.to_string(), sender, target)
                .to_string()
        })
        .unwrap_or_default();
    Vector::Fix {
        name,
        secret: secret.to_owned(),
        sending_time: sending_time.to_owned(),
        seq_num,
        sender: sender.to_owned(),
        target: target.to_owned(),
        signature,
    }
}
