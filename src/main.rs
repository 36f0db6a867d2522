//! The `sluice` binary: parse the command line, load the config (or the
//! embedded default), start the workers, stop cleanly on SIGTERM/SIGINT.

use std::io::Write;
use std::path::PathBuf;

use anyhow::Context;
use clap::{Parser, Subcommand};

use sluice::config::RawConfig;

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
}

fn main() {
    let cli = Cli::parse();
    let result = match cli.command.unwrap_or(Command::Serve { config: None }) {
        Command::Serve { config } => serve(config),
        Command::CheckConfig { config } => RawConfig::load(&config)
            .and_then(RawConfig::validate)
            .map(|_| println!("{}: ok", config.display())),
    };
    if let Err(e) = result {
        eprintln!("sluice: {e:#}");
        std::process::exit(1);
    }
}

fn serve(config_path: Option<PathBuf>) -> anyhow::Result<()> {
    let (raw, demo) = match &config_path {
        Some(path) => (RawConfig::load(path)?, None),
        None => {
            let (raw, creds) = sluice::demo::default_config()?;
            (raw, Some(creds))
        }
    };
    let config = raw.validate().context("invalid configuration")?;
    let _log_guard = sluice::observe::logging::init(&config.log);
    let signals =
        signal_hook::iterator::Signals::new([signal_hook::consts::SIGTERM, signal_hook::consts::SIGINT])
            .context("installing signal handlers")?;
    let server = sluice::server::start(config)?;
    let mut out = std::io::stdout().lock();
    writeln!(out, "sluice listening on http://{}", server.addr)?;
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
