//! `prime`: every Kraken Prime REST endpoint from the shell, signature test-vector tools, the
//! simulator and a demo of the whole workflow.
//!
//! Exit codes: 0 success, 1 the call failed (Kraken error, transport failure, a failed vector),
//! 2 bad usage (arguments, credentials, files).
#![forbid(unsafe_code)]

mod api;
mod cli;
mod credentials;
mod demo;
mod failure;
mod mock;
mod output;
mod secret_file;
mod vectors;

use std::process::ExitCode;

use clap::Parser;

use crate::cli::{Cli, Command};

fn main() -> ExitCode {
    let cli = Cli::parse();
    init_logging(cli.global.verbose);
    let outcome = match cli.command {
        Command::Users(command) => api::users(&cli.global, command),
        Command::Keys(command) => api::keys(&cli.global, command),
        Command::Settlement(command) => api::settlement(&cli.global, command),
        Command::Sign(args) => vectors::sign(&args),
        Command::Vectors(command) => vectors::run(command),
        Command::Mock(args) => mock::run(&args),
        Command::Demo(args) => demo::run(&cli.global, &args),
    };
    match outcome {
        Ok(()) => ExitCode::SUCCESS,
        Err(failure) => failure.report(),
    }
}

/// The most ureq-proto may log: its TRACE records are raw wire bytes (bodies with secrets).
const WIRE_DUMP_CAP: &str = "ureq_proto=debug";

/// Logs go to stderr; `-v` shows what the client does, `-vv` everything but raw wire bytes.
fn init_logging(verbose: u8) {
    let level = match verbose {
        0 => "warn",
        1 => "info",
        _ => "trace",
    };
    let filter = tracing_subscriber::EnvFilter::try_from_env("PRIME_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(level))
        // ureq-proto hex-dumps every byte on the wire at TRACE (through `log`), including the
        // one-time secret in a created key's response: capped whatever PRIME_LOG asks for.
        .add_directive(
            WIRE_DUMP_CAP
                .parse()
                .expect("WIRE_DUMP_CAP is a valid filter directive"),
        );
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .init();
}
