//! Signature vector tools: `prime vectors verify|generate` (`prime sign` is in `sign.rs`).

use std::io::Write as _;
use std::path::Path;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use prime_core::SigningKey;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};
use serde_json::json;

use crate::cli::VectorsCommand;
use crate::failure::Failure;
use crate::output::{self, clean};

/// One signature test vector. `secret` is test material, never a real key's.
#[derive(Debug, Serialize, Deserialize)]
struct Vector {
    name: String,
    secret: String,
    nonce: String,
    path: String,
    body: String,
    api_sign: String,
}

pub fn run(command: VectorsCommand, json: bool) -> Result<(), Failure> {
    match command {
        VectorsCommand::Verify { file } => verify(&file, json),
        // Always JSON: the vector format.
        VectorsCommand::Generate { count, seed } => generate(count, seed),
    }
}

fn verify(file: &Path, json: bool) -> Result<(), Failure> {
    let text = std::fs::read(file)
        .map_err(|e| Failure::Usage(format!("cannot read {}: {e}", file.display())))?;
    let vectors: Vec<Vector> = serde_json::from_slice(&text).map_err(|e| {
        Failure::Usage(format!(
            "{} is not a JSON array of {{name, secret, nonce, path, body, api_sign}} string objects: {e}",
            file.display()
        ))
    })?;
    let failures: Vec<(&str, String)> = vectors
        .iter()
        .filter_map(|v| check(v).err().map(|reason| (v.name.as_str(), reason)))
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

fn check(vector: &Vector) -> Result<(), String> {
    check_nonce(&vector.nonce)?;
    let key = SigningKey::from_base64(&vector.secret).map_err(|e| e.to_string())?;
    let computed = key.sign(
        &vector.path,
        vector.nonce.as_bytes(),
        vector.body.as_bytes(),
    );
    if computed.as_str() == vector.api_sign {
        Ok(())
    } else {
        Err(format!("expected {}, computed {computed}", vector.api_sign))
    }
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

/// Writes `count` vectors as one pretty JSON array, streamed: one vector is generated, written
/// and dropped at a time, so memory stays constant and a reader that stops early (`| head`)
/// ends the command at once, quietly.
fn generate(count: u64, seed: u64) -> Result<(), Failure> {
    let stdout = std::io::stdout().lock();
    let mut out = std::io::BufWriter::new(stdout);
    let mut json = serde_json::Serializer::pretty(&mut out);
    let written = serde::Serializer::collect_seq(&mut json, vectors(count, seed));
    written.map_err(|e| match e.io_error_kind() {
        Some(kind) => Failure::from_stdout(kind.into()),
        None => Failure::Call(format!("cannot encode the vectors: {e}")),
    })?;
    out.write_all(b"\n")
        .and_then(|()| out.flush())
        .map_err(Failure::from_stdout)
}

/// The vectors of one seed, generated lazily.
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
        let path = format!("/0/private/{name}");
        let nonce = nonce.to_string();
        let api_sign = SigningKey::from_bytes(&secret[..])
            .sign(&path, nonce.as_bytes(), body.as_bytes())
            .to_string();
        Vector {
            name: format!("generated-{seed}-{i}"),
            secret: STANDARD.encode(&secret[..]),
            nonce,
            path,
            body,
            api_sign,
        }
    })
}
