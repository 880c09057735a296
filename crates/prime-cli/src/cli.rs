//! The command line, as clap reads it.

use std::net::SocketAddr;
use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

/// Kraken Prime REST from the shell: API users, keys, settlement, signature vectors, a local
/// simulator and a demo.
///
/// Credentials are the account's REST key: KRAKEN_API_KEY and KRAKEN_API_SECRET, or
/// --credentials FILE (JSON with `api_key`, `api_secret` and optionally `url` and `otp`, as
/// `prime mock` prints it). A key with API 2FA also needs --otp or KRAKEN_API_OTP.
///
/// Exit codes: 0 done; 1 a call, check or delivery failed (the message names it); 2 a usage or
/// local-file problem, found before anything was sent; 130/143 stopped by SIGINT/SIGTERM, after
/// ending what prime started.
#[derive(Debug, Parser)]
#[command(name = "prime", version, propagate_version = true)]
pub struct Cli {
    #[command(flatten)]
    pub global: Global,
    #[command(subcommand)]
    pub command: Command,
}

/// Options that apply to every command; they may come before the subcommand.
#[derive(Debug, Args)]
pub struct Global {
    /// Base URL of the API (default <https://api.kraken.com>, or the `url` of --credentials).
    #[arg(long, global = true, value_name = "URL")]
    pub base_url: Option<String>,
    /// The overall bound of a users, keys or settlement command, in seconds (more than 0, at
    /// most one day): every call with its retries and waits, every check, every --secret-cmd
    /// delivery. When it runs out, prime ends what it started, says what was under way and
    /// exits 1. (`demo` bounds each step by it; `vectors verify --signer` has
    /// --signer-timeout; `sign`, `vectors` and `mock` do not use it.)
    #[arg(long, global = true, value_name = "SECONDS", default_value_t = 30.0)]
    pub timeout: f64,
    /// Print results as JSON instead of text.
    #[arg(long, global = true)]
    pub json: bool,
    /// Read credentials from a JSON file instead of the environment.
    #[arg(long, global = true, value_name = "FILE")]
    pub credentials: Option<PathBuf>,
    /// API 2FA one-time password for a key that requires one: its static password or the
    /// current TOTP code (else KRAKEN_API_OTP, else the credentials file's `otp`). Sent as the
    /// `otp` body field, signed.
    #[arg(long, global = true, value_name = "CODE")]
    pub otp: Option<OtpArg>,
    /// More logging on stderr (-v, -vv). Secrets are never logged.
    #[arg(short, long, global = true, action = clap::ArgAction::Count)]
    pub verbose: u8,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// API users: create, get, list, update, set-role.
    #[command(subcommand)]
    Users(UsersCommand),
    /// API user keys: create (shows the secret once), list, update, delete.
    #[command(subcommand)]
    Keys(KeysCommand),
    /// Settlement batches: create, get, list, settle.
    #[command(subcommand)]
    Settlement(SettlementCommand),
    /// Compute a signature: REST API-Sign (default), Prime WebSocket ApiSign or FIX RawData.
    Sign(SignArgs),
    /// Verify or generate signature test vectors.
    #[command(subcommand)]
    Vectors(VectorsCommand),
    /// Run the Prime simulator until interrupted.
    Mock(MockArgs),
    /// Walk the whole Prime workflow against the embedded simulator.
    Demo(DemoArgs),
}

#[derive(Debug, Subcommand)]
pub enum UsersCommand {
    /// CreatePrimeApiUser.
    Create {
        /// Display name.
        #[arg(long)]
        name: String,
        /// Role: Trader or Viewer.
        #[arg(long)]
        role: String,
    },
    /// GetPrimeApiUser.
    Get {
        /// The user.
        #[arg(long)]
        user_id: String,
    },
    /// ListPrimeApiUsers.
    List,
    /// UpdatePrimeApiUser: name and/or status.
    Update {
        /// The user.
        #[arg(long)]
        user_id: String,
        /// New display name.
        #[arg(long)]
        name: Option<String>,
        /// New status: Enabled or Disabled.
        #[arg(long)]
        status: Option<String>,
    },
    /// UpdatePrimeApiUserRoles.
    SetRole {
        /// The user.
        #[arg(long)]
        user_id: String,
        /// Role: Trader or Viewer.
        #[arg(long)]
        role: String,
    },
}

#[derive(Debug, Subcommand)]
pub enum KeysCommand {
    /// CreatePrimeApiUserKey. The secret is shown once and cannot be retrieved again.
    Create {
        /// The user to create a key for.
        #[arg(long)]
        user_id: String,
        /// Write the secret to this new file (mode 0600) instead of printing it.
        #[arg(long, value_name = "FILE")]
        secret_out: Option<PathBuf>,
        /// Then check that the new key authenticates on Prime WebSocket (and FIX with
        /// --fix-addr), as `keys check` does.
        #[arg(long)]
        check: bool,
        /// If the creation's outcome is unknown and keys appeared meanwhile (orphans: their
        /// secrets are lost), delete them and create the key once more. Off by default: a key
        /// another administrator created for the user at the same moment looks the same.
        #[arg(long)]
        delete_orphans: bool,
        #[command(flatten)]
        endpoints: CheckEndpoints,
    },
    /// Rotate a key: create a new one, deliver its secret, give it the old key's allow-list,
    /// check it authenticates, delete the old one. Resumable: rerun the same command after
    /// any interruption (a journal records each step; it holds no secret).
    Rotate(RotateArgs),
    /// Check that an issued key authenticates on Prime WebSocket and/or Prime FIX (exit 0),
    /// or print the server's refusal (exit 1).
    Check {
        /// The issued API key.
        #[arg(long)]
        api_key: String,
        /// File holding the key's secret (raw text, as `keys create --secret-out` writes it).
        #[arg(long, value_name = "FILE")]
        secret_file: PathBuf,
        #[command(flatten)]
        endpoints: CheckEndpoints,
    },
    /// ListPrimeApiUserKeys (no secrets).
    List {
        /// The user.
        #[arg(long)]
        user_id: String,
    },
    /// UpdatePrimeApiUserKey: set or clear the IP allow-list (one of the two is required).
    Update {
        /// The user who owns the key.
        #[arg(long)]
        user_id: String,
        /// The key.
        #[arg(long)]
        key_id: String,
        /// IP addresses or CIDR ranges, comma-separated, sent as the key's allow-list (Kraken
        /// does not document whether it replaces the current list or adds to it; the
        /// simulator replaces it).
        #[arg(long, value_delimiter = ',', num_args = 1.., conflicts_with = "clear_whitelisted_ips")]
        whitelisted_ips: Option<Vec<String>>,
        /// Send an empty allow-list (Kraken does not document its effect; the simulator then
        /// lets the key be used from any address).
        #[arg(long)]
        clear_whitelisted_ips: bool,
    },
    /// DeletePrimeApiUserKey.
    Delete {
        /// The user who owns the key.
        #[arg(long)]
        user_id: String,
        /// The key.
        #[arg(long)]
        key_id: String,
    },
}

#[derive(Debug, Subcommand)]
pub enum SettlementCommand {
    /// CreatePrimeSettlementBatch.
    Create {
        /// currency (default) or tokenized_equity.
        #[arg(long)]
        asset_kind: Option<String>,
    },
    /// GetPrimeSettlementBatch.
    Get {
        /// The batch.
        #[arg(long)]
        batch_id: String,
        /// Asset-kind filter.
        #[arg(long)]
        asset_kind: Option<String>,
    },
    /// ListPrimeSettlementBatches.
    List {
        /// Asset-kind filter.
        #[arg(long)]
        asset_kind: Option<String>,
        /// Statuses, comma-separated (unsettled, partially_settled, settled, completed).
        #[arg(long, value_delimiter = ',', num_args = 1..)]
        statuses: Option<Vec<String>>,
        /// Created after (Unix ms, exclusive).
        #[arg(long)]
        from: Option<i64>,
        /// Created at or before (Unix ms, inclusive).
        #[arg(long)]
        until: Option<i64>,
        /// Page size, 1 to 200.
        #[arg(long)]
        limit: Option<u32>,
        /// Batches to skip.
        #[arg(long)]
        offset: Option<u32>,
    },
    /// SettlePrimeSettlementBatchAsset.
    Settle {
        /// The batch.
        #[arg(long)]
        batch_id: String,
        /// The asset whose leg to settle.
        #[arg(long)]
        asset: String,
    },
}

/// Where `keys check` and `keys create --check` authenticate an issued key.
///
/// Without --ws-url and --fix-addr: the `ws_url`/`fix_addr` of a `prime mock` credentials file
/// (--credentials), else the simulator's WebSocket when --base-url is a loopback http URL, else
/// Kraken's production WebSocket.
#[derive(Debug, Args)]
pub struct CheckEndpoints {
    /// Prime WebSocket URL, e.g. wss://wss.prime.kraken.com/ws/v1 or ws://127.0.0.1:PORT/ws/v1.
    #[arg(long, value_name = "URL")]
    pub ws_url: Option<String>,
    /// Prime FIX address HOST:PORT (needs --sender and --target).
    #[arg(long, value_name = "HOST:PORT")]
    pub fix_addr: Option<String>,
    /// FIX SenderCompID (49) Kraken assigned.
    #[arg(long)]
    pub sender: Option<String>,
    /// FIX TargetCompID (56) Kraken assigned.
    #[arg(long)]
    pub target: Option<String>,
    /// FIX transport: auto (TLS, plain TCP for a loopback address such as the simulator's),
    /// tls or plain.
    #[arg(long, value_enum, default_value_t = FixTransport::Auto)]
    pub fix_transport: FixTransport,
}

/// `prime keys rotate`.
#[derive(Debug, Args)]
pub struct RotateArgs {
    /// The user whose key is rotated.
    #[arg(long)]
    pub user_id: String,
    /// The key to replace.
    #[arg(long)]
    pub key_id: String,
    /// Write the new secret to this new file (mode 0600); the journal goes beside it as
    /// FILE.rotation.json.
    #[arg(long, value_name = "FILE", conflicts_with = "secret_cmd")]
    pub secret_out: Option<PathBuf>,
    /// Pipe the new secret to this shell command's stdin (e.g. 'vault kv put secret/desk1
    /// api_secret=-'). Delivered only when the command reads the whole secret and the end of
    /// its input, then exits 0, within --timeout; otherwise the command (and what it started)
    /// is ended, the secret printed on stderr, the new key kept for the rerun, and nothing
    /// deleted.
    #[arg(long, value_name = "COMMAND")]
    pub secret_cmd: Option<String>,
    /// The journal file (default: beside --secret-out, or
    /// prime-rotate-USER-KEY.json in the current directory with --secret-cmd).
    #[arg(long, value_name = "PATH")]
    pub journal: Option<PathBuf>,
    /// Keep the old key instead of deleting it.
    #[arg(long)]
    pub keep_old: bool,
    /// Do not check that the new key authenticates before the old one is deleted.
    #[arg(long)]
    pub no_check: bool,
    #[command(flatten)]
    pub endpoints: CheckEndpoints,
}

/// How the FIX check connects.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum FixTransport {
    /// TLS, except plain TCP to a loopback address.
    Auto,
    /// Always TLS.
    Tls,
    /// Always plain TCP.
    Plain,
}

/// Which signature `prime sign` computes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum SignScheme {
    /// REST API-Sign (account key, base64 secret): --path, --nonce, --body.
    Rest,
    /// Prime WebSocket ApiSign (issued key, secret text): --timestamp, --host, --path.
    PrimeWs,
    /// Prime FIX Logon 96 RawData (issued key, secret text): --sending-time, --seq-num,
    /// --sender, --target.
    PrimeFix,
}

/// The secret comes from KRAKEN_API_SECRET or --secret-file, as raw text; it is never printed.
#[derive(Debug, Args)]
pub struct SignArgs {
    /// The scheme.
    #[arg(long, value_enum, default_value_t = SignScheme::Rest)]
    pub scheme: SignScheme,
    /// rest: the signed path, e.g. /0/private/CreatePrimeApiUserKey; prime-ws: the request
    /// path, e.g. /ws/v1.
    #[arg(long)]
    pub path: Option<String>,
    /// rest: the nonce, decimal digits exactly as in the body.
    #[arg(long)]
    pub nonce: Option<String>,
    /// rest: the exact request body.
    #[arg(long)]
    pub body: Option<String>,
    /// prime-ws: ApiTimestamp, e.g. 2019-02-13T05:17:32.000000Z.
    #[arg(long)]
    pub timestamp: Option<String>,
    /// prime-ws: the Host header as sent, e.g. wss.prime.kraken.com.
    #[arg(long)]
    pub host: Option<String>,
    /// prime-fix: SendingTime (52), e.g. 20220915-18:29:58.756.
    #[arg(long)]
    pub sending_time: Option<String>,
    /// prime-fix: MsgSeqNum (34).
    #[arg(long)]
    pub seq_num: Option<u64>,
    /// prime-fix: SenderCompID (49).
    #[arg(long)]
    pub sender: Option<String>,
    /// prime-fix: TargetCompID (56).
    #[arg(long)]
    pub target: Option<String>,
    /// Read the secret from this file instead of KRAKEN_API_SECRET (one final line break is
    /// ignored).
    #[arg(long, value_name = "FILE")]
    pub secret_file: Option<PathBuf>,
    /// A signature that was refused: exit 0 if it matches; otherwise exit 1 with one line
    /// `diagnosis: <id>: <explanation>` per known mistake that reproduces it (rest), or
    /// `diagnosis: unknown`.
    #[arg(long, value_name = "SIGNATURE")]
    pub expect: Option<String>,
}

#[derive(Debug, Subcommand)]
pub enum VectorsCommand {
    /// Check every vector in FILE; prints failures, then `N passed, M failed`.
    Verify {
        /// JSON array of vectors of any scheme (rest, prime-ws, prime-fix); see
        /// vectors/README.md.
        file: PathBuf,
        /// Check this external signer instead of prime's: COMMAND is started once (through
        /// `sh -c`), given each vector without its signature as one JSON line on stdin, and
        /// must answer one signature per line on stdout.
        #[arg(long, value_name = "COMMAND")]
        signer: Option<String>,
        /// Seconds the signer may take per vector — to read it and to answer — before the run
        /// fails and the signer (with what it started) is ended.
        #[arg(long, value_name = "SECONDS", default_value_t = 10.0)]
        signer_timeout: f64,
    },
    /// Write vectors in the same format to stdout (streamed: any count runs in constant
    /// memory; a reader that stops early ends it quietly).
    Generate {
        /// How many random REST vectors.
        #[arg(long, required_unless_present = "edges")]
        count: Option<u64>,
        /// Seed for reproducible output.
        #[arg(long, default_value_t = 0)]
        seed: u64,
        /// The edge suite instead: every SHA-256/SHA-512 padding edge, keys around the block
        /// size, all three schemes (vectors/edges.json is `--edges --seed 15`).
        #[arg(long, conflicts_with = "count")]
        edges: bool,
    },
}

#[derive(Debug, Args)]
pub struct MockArgs {
    /// Address to listen on.
    #[arg(long, default_value = "127.0.0.1:0")]
    pub listen: SocketAddr,
    /// Seed for deterministic ids and secrets (random when absent).
    #[arg(long)]
    pub seed: Option<u64>,
    /// Also write the credentials (the same JSON as the first line of stdout) to this file,
    /// mode 0600, atomically (a temporary file renamed into place) once the simulator accepts
    /// connections: when the file exists, it is complete and the simulator is serving. An
    /// existing file at the path is replaced, and the file is removed when the simulator is
    /// stopped (SIGINT, SIGTERM, SIGHUP; only SIGKILL leaves it). A script that starts it
    /// repeatedly in one folder:
    ///
    ///   rm -f mock.json; prime mock --credentials-out mock.json & mock=$!
    ///
    ///   until [ -e mock.json ]; do sleep 0.1; done; prime --credentials mock.json users list
    ///
    ///   kill $mock; wait $mock   # also removes mock.json
    #[arg(long, value_name = "FILE")]
    pub credentials_out: Option<PathBuf>,
    /// Switch on the rate-limit and lockout model (modelled on Kraken's Spot REST guides;
    /// Prime documents no limits of its own): per key, a counter of at most 20 calls that
    /// forgets one per second and counts refused calls too (`EAPI:Rate limit exceeded` over
    /// it), and `EGeneral:Temporary lockout` for 15 minutes after 10 refused calls.
    #[arg(long)]
    pub rate_limits: bool,
    /// Request fields an endpoint does not define: refuse (`EGeneral:Invalid arguments:<field>`;
    /// the Prime request schemas say `additionalProperties: false`) or ignore (what Kraken
    /// support says of Spot REST).
    #[arg(long, value_name = "refuse|ignore", default_value = "refuse")]
    pub unknown_fields: prime_mock::UnknownFields,
}

#[derive(Debug, Args)]
pub struct DemoArgs {
    /// Seed for the embedded simulator (random when absent).
    #[arg(long)]
    pub seed: Option<u64>,
}

/// The `--otp` value: a secret (a static 2FA password), so `Debug` never shows it and it is
/// wiped on drop.
#[derive(Clone)]
pub struct OtpArg(pub zeroize::Zeroizing<String>);

impl std::str::FromStr for OtpArg {
    type Err = std::convert::Infallible;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        Ok(Self(zeroize::Zeroizing::new(text.to_owned())))
    }
}

impl std::fmt::Debug for OtpArg {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("OtpArg(<redacted>)")
    }
}
