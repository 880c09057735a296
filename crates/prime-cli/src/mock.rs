//! `prime mock`: the simulator as a standalone server.

use std::io::Write;

use serde_json::json;

use crate::cli::MockArgs;
use crate::failure::Failure;

pub fn run(args: &MockArgs) -> Result<(), Failure> {
    let mut builder = prime_mock::MockServer::builder().listen(args.listen);
    if let Some(seed) = args.seed {
        builder = builder.seed(seed);
    }
    let server = builder
        .start()
        .map_err(|e| Failure::Usage(format!("cannot listen on {}: {e}", args.listen)))?;
    // The first line is machine-readable: a credentials file for `--credentials`.
    let line = json!({
        "url": server.url(),
        "api_key": server.account_api_key(),
        "api_secret": server.account_secret().expose(),
        "ws_url": server.ws_url(),
        "fix_addr": server.fix_addr().to_string(),
    });
    let mut stdout = std::io::stdout().lock();
    writeln!(stdout, "{line}").map_err(|e| Failure::Call(e.to_string()))?;
    stdout.flush().map_err(|e| Failure::Call(e.to_string()))?;
    drop(stdout);
    eprintln!(
        "prime mock: serving on {}; press Ctrl-C to stop",
        server.url()
    );
    // Serve until the process is interrupted (SIGINT ends it).
    server.serve_forever();
    Err(Failure::Call(
        "the simulator stopped unexpectedly".to_owned(),
    ))
}
