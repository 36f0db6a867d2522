//! The `sluice` binary: parse the command line, load the config (or the
//! embedded default), start the workers, stop cleanly on SIGTERM/SIGINT.

use std::io::Write;
use std::path::PathBuf;

use anyhow::Context;
use clap::{Parser, Subcommand};

use sluice::config::RawConfig;
use sluice::replication::repair::Mode;

#[cfg(not(target_env = "msvc"))]
#[global_allocator]
static GLOBAL: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;

#[derive(Parser)]
#[command(
    name = "sluice",
    version,
    about = "A thread-per-core S3 proxy that routes objects to hashed backends"
)]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
    /// File holding the master key that seals the secrets in the metadata
    /// store (before $SLUICE_MASTER_KEY and the config's [security] sources).
    #[arg(long, global = true)]
    master_key_file: Option<PathBuf>,
}

#[derive(Subcommand)]
enum Command {
    /// Serve the S3 API (without --config: the embedded default on 127.0.0.1:9000).
    Serve {
        /// TOML configuration file.
        #[arg(long, short, env = "SLUICE_CONFIG")]
        config: Option<PathBuf>,
    },
    /// Check a configuration file and exit.
    CheckConfig {
        #[arg(long, short)]
        config: PathBuf,
    },
    /// Compare every backend's copies with placement and queue replication
    /// tasks for missing, stale and misplaced copies (the running server's
    /// workers carry them out).
    Repair {
        #[arg(long, short, env = "SLUICE_CONFIG")]
        config: Option<PathBuf>,
        /// Only this bucket.
        #[arg(long)]
        bucket: Option<String>,
        /// JSON output.
        #[arg(long)]
        json: bool,
    },
    /// Report objects, bytes, under-replicated and misplaced counts per bucket
    /// and backend (read-only).
    Discover {
        #[arg(long, short, env = "SLUICE_CONFIG")]
        config: Option<PathBuf>,
        #[arg(long)]
        bucket: Option<String>,
        /// JSON output.
        #[arg(long)]
        json: bool,
    },
    /// List the replication tasks that ran out of attempts.
    DeadLetters {
        #[arg(long, short, env = "SLUICE_CONFIG")]
        config: Option<PathBuf>,
        /// JSON output.
        #[arg(long)]
        json: bool,
    },
    /// Administration: offline key management here; the admin API client
    /// arrives with `sluice admin <resource> ...`.
    Admin {
        #[command(subcommand)]
        command: AdminCommand,
    },
    /// Put dead-letter tasks back in the replication queue.
    Requeue {
        #[arg(long, short, env = "SLUICE_CONFIG")]
        config: Option<PathBuf>,
        /// Only this task (default: every dead letter).
        #[arg(long)]
        id: Option<u64>,
    },
}

#[derive(Subcommand)]
enum AdminCommand {
    /// Print a new random master key (64 hex digits) to standard output.
    GenMasterKey,
    /// Re-seal every secret in the metadata store under a new master key, in
    /// one transaction. The server must be stopped; start it again with the
    /// new key.
    RotateMasterKey {
        #[arg(long, short, env = "SLUICE_CONFIG")]
        config: Option<PathBuf>,
        /// File holding the new key (the current one comes from the usual sources).
        #[arg(long)]
        new_key_file: PathBuf,
    },
}

fn main() {
    let cli = Cli::parse();
    let key_flag = cli.master_key_file;
    let load_config = |path: Option<PathBuf>| {
        load_config(path).map(|mut c| {
            c.security.master_key_flag = key_flag.clone();
            c
        })
    };
    let result = match cli.command.unwrap_or(Command::Serve { config: None }) {
        Command::Serve { config } => serve(config, key_flag.clone()),
        Command::Admin { command: AdminCommand::GenMasterKey } => sluice::meta::MasterKey::generate()
            .map_err(anyhow::Error::from)
            .and_then(|k| Ok(writeln!(std::io::stdout(), "{}", &*k.to_hex())?)),
        Command::Admin { command: AdminCommand::RotateMasterKey { config, new_key_file } } => {
            load_config(config).and_then(|c| {
                let n = sluice::ops::rotate_master_key(&c, &new_key_file)?;
                writeln!(std::io::stdout(), "re-sealed {n} secret(s) under the new master key")?;
                Ok(())
            })
        }
        Command::CheckConfig { config } => RawConfig::load(&config)
            .and_then(RawConfig::validate)
            .map(|_| println!("{}: ok", config.display())),
        Command::Repair { config, bucket, json } => {
            load_config(config).and_then(|c| scan(&c, bucket, json, Mode::Repair))
        }
        Command::Discover { config, bucket, json } => {
            load_config(config).and_then(|c| scan(&c, bucket, json, Mode::Discover))
        }
        Command::DeadLetters { config, json } => load_config(config).and_then(|c| dead_letters(&c, json)),
        Command::Requeue { config, id } => load_config(config).and_then(|c| {
            let r = sluice::ops::requeue(&c, id)?;
            writeln!(
                std::io::stdout(),
                "requeued {} task(s); dropped {} superseded by newer writes",
                r.requeued,
                r.dropped
            )?;
            Ok(())
        }),
    };
    if let Err(e) = result {
        eprintln!("sluice: {e:#}");
        std::process::exit(1);
    }
}

/// The config of an operator command: the file, or the embedded default
/// (whose data directory `sluice serve` without a config uses).
fn load_config(path: Option<PathBuf>) -> anyhow::Result<sluice::config::Config> {
    let raw = match &path {
        Some(path) => RawConfig::load(path)?,
        None => sluice::demo::default_config()?.0,
    };
    raw.validate().context("invalid configuration")
}

fn scan(
    config: &sluice::config::Config,
    bucket: Option<String>,
    json: bool,
    mode: Mode,
) -> anyhow::Result<()> {
    let reports = sluice::ops::scan(config, bucket.as_deref(), mode)?;
    sluice::ops::print_reports(&reports, json, mode)?;
    let failed: Vec<&str> = reports.iter().filter(|r| r.error.is_some()).map(|r| r.bucket.as_str()).collect();
    if !failed.is_empty() {
        anyhow::bail!("the scan of {} stopped early (see above)", failed.join(", "));
    }
    Ok(())
}

fn dead_letters(config: &sluice::config::Config, json: bool) -> anyhow::Result<()> {
    let tasks = sluice::ops::dead_letters(config)?;
    let mut out = std::io::stdout().lock();
    if json {
        writeln!(out, "{}", serde_json::to_string_pretty(&tasks)?)?;
        return Ok(());
    }
    for t in &tasks {
        writeln!(
            out,
            "{:>10} {:<6} {}/{} attempts {} last error: {}",
            t.id,
            format!("{:?}", t.kind).to_lowercase(),
            t.bucket,
            t.key,
            t.attempts,
            t.last_error.as_deref().unwrap_or("-")
        )?;
    }
    writeln!(out, "{} dead-letter task(s)", tasks.len())?;
    Ok(())
}

fn serve(config_path: Option<PathBuf>, master_key_flag: Option<PathBuf>) -> anyhow::Result<()> {
    let (raw, demo) = match &config_path {
        Some(path) => (RawConfig::load(path)?, None),
        None => {
            let (raw, creds) = sluice::demo::default_config()?;
            (raw, Some(creds))
        }
    };
    let mut config = raw.validate().context("invalid configuration")?;
    config.security.master_key_flag = master_key_flag;
    let _log_guard = sluice::observe::logging::init(&config.log);
    let signals =
        signal_hook::iterator::Signals::new([signal_hook::consts::SIGTERM, signal_hook::consts::SIGINT])
            .context("installing signal handlers")?;
    let server = sluice::server::start(config)?;
    let mut out = std::io::stdout().lock();
    writeln!(out, "sluice listening on http://{}", server.addr)?;
    if let Some(token) = &server.bootstrap_token {
        writeln!(out, "bootstrap admin token (shown once; store it now):")?;
        writeln!(out, "  export SLUICE_ADMIN_TOKEN={}", token.expose())?;
    }
    if let Some(creds) = demo {
        writeln!(out, "demo tenant credentials (bucket \"{}\"):", sluice::demo::DEMO_BUCKET)?;
        writeln!(out, "  export AWS_ACCESS_KEY_ID={}", creds.access_key)?;
        writeln!(out, "  export AWS_SECRET_ACCESS_KEY={}", creds.secret_key.expose())?;
        writeln!(out, "  export AWS_DEFAULT_REGION={}", server.shared.config.server.region)?;
        writeln!(
            out,
            "  aws --endpoint-url http://{} s3 cp README.md s3://{}/",
            server.addr,
            sluice::demo::DEMO_BUCKET
        )?;
    }
    out.flush()?;
    drop(out);

    let mut signals = signals;
    let first = signals.forever().next();
    tracing::info!(signal = ?first, "shutting down: no new connections, finishing in-flight requests");
    server.stop();
    // A second signal skips the grace period.
    std::thread::spawn(move || {
        if signals.forever().next().is_some() {
            std::process::exit(130);
        }
    });
    server.join();
    tracing::info!("stopped");
    Ok(())
}
