//! `prime`: every Kraken Prime REST endpoint from the shell, signature test-vector tools, the
//! simulator and a demo of the whole workflow.
//!
//! Exit codes: 0 success, 1 the call failed (Kraken error, transport failure, a failed vector),
//! 2 bad usage (arguments, credentials, files), 128 + N when stopped by signal N (130 for
//! SIGINT, 143 for SIGTERM; what `prime` started is ended first).
#![forbid(unsafe_code)]

mod activity;
mod announce;
mod api;
mod budget;
mod cli;
mod clock;
mod credentials;
mod demo;
mod failure;
mod issued_check;
mod mock;
mod new_key;
mod output;
mod processes;
mod rotate;
mod secret_file;
mod sign;
mod vectors;

use std::process::ExitCode;

use clap::Parser;

use crate::cli::{Cli, Command};

fn main() -> ExitCode {
    let cli = Cli::parse();
    init_logging(cli.global.verbose);
    processes::install();
    // `--timeout` bounds a whole users/keys/settlement command; a bad value is reported by
    // the command itself, as a usage error.
    if matches!(
        cli.command,
        Command::Users(_) | Command::Keys(_) | Command::Settlement(_)
    ) && let Ok(timeout) = credentials::timeout(cli.global.timeout)
    {
        budget::start(timeout);
    }
    let outcome = match cli.command {
        Command::Users(command) => api::users(&cli.global, command),
        Command::Keys(command) => api::keys(&cli.global, command),
        Command::Settlement(command) => api::settlement(&cli.global, command),
        Command::Sign(args) => sign::run(&args, cli.global.json),
        Command::Vectors(command) => vectors::run(command, cli.global.json),
        Command::Mock(args) => mock::run(&args),
        Command::Demo(args) => demo::run(&cli.global, &args),
    };
    let code = match outcome {
        Ok(()) => ExitCode::SUCCESS,
        Err(failure) => output::report(failure),
    };
    // A signal or the watchdog may be stopping the process (it ended a child, which made the
    // command fail): then it decides the exit code, after this report.
    processes::let_a_stop_finish();
    code
}

/// Logs go to stderr; `-v` shows what the client does, `-vv` everything — except ureq-proto's
/// TRACE wire dump, which hex-dumps every byte sent and received (through `log`), the one-time
/// secret in a created key's response included: it is dropped whatever `PRIME_LOG` asks for.
fn init_logging(verbose: u8) {
    use tracing_subscriber::Layer as _;
    use tracing_subscriber::filter::{FilterExt as _, filter_fn};
    use tracing_subscriber::layer::SubscriberExt as _;
    use tracing_subscriber::util::SubscriberInitExt as _;

    let level = match verbose {
        0 => "warn",
        1 => "info",
        _ => "trace",
    };
    let requested = tracing_subscriber::EnvFilter::try_from_env("PRIME_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(level));
    let no_wire_dump = filter_fn(|meta| {
        !(*meta.level() == tracing::Level::TRACE && meta.target().starts_with("ureq_proto"))
    });
    tracing_subscriber::registry()
        .with(
            tracing_subscriber::fmt::layer()
                .with_writer(std::io::stderr)
                // Colour codes only for a terminal: in a file or a pipe they are noise.
                .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
                .with_filter(requested.and(no_wire_dump)),
        )
        // Long waits are announced whatever the log level.
        .with(announce::LongWaits.with_filter(filter_fn(|meta| {
            meta.target().starts_with("prime_core") && *meta.level() <= tracing::Level::DEBUG
        })))
        .init();
}
