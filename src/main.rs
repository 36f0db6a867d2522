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
    /// Administration: the admin API client (`--url`, `--token` or
    /// $SLUICE_ADMIN_URL, $SLUICE_ADMIN_TOKEN; `--json`), and offline master
    /// key management.
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
    /// Tenants (admin API).
    Tenants {
        #[command(subcommand)]
        command: TenantCmd,
        #[command(flatten)]
        conn: AdminConn,
    },
    /// Access keys (admin API).
    Keys {
        #[command(subcommand)]
        command: KeyCmd,
        #[command(flatten)]
        conn: AdminConn,
    },
    /// Buckets and their policies (admin API).
    Buckets {
        #[command(subcommand)]
        command: BucketCmd,
        #[command(flatten)]
        conn: AdminConn,
    },
    /// Storage backends (admin API).
    Backends {
        #[command(subcommand)]
        command: BackendCmd,
        #[command(flatten)]
        conn: AdminConn,
    },
    /// Replication status (admin API).
    Replication {
        #[command(flatten)]
        conn: AdminConn,
    },
    /// Dead-letter replication tasks (admin API).
    DeadLetters {
        #[command(flatten)]
        conn: AdminConn,
    },
    /// Where a key lives: its replicas and their state (admin API).
    Placement {
        bucket: String,
        key: String,
        #[command(flatten)]
        conn: AdminConn,
    },
    /// Admin tokens (admin API).
    Tokens {
        #[command(subcommand)]
        command: TokenCmd,
        #[command(flatten)]
        conn: AdminConn,
    },
}

impl AdminCommand {
    fn conn(&self) -> Option<&AdminConn> {
        match self {
            AdminCommand::Tenants { conn, .. }
            | AdminCommand::Keys { conn, .. }
            | AdminCommand::Buckets { conn, .. }
            | AdminCommand::Backends { conn, .. }
            | AdminCommand::Replication { conn }
            | AdminCommand::DeadLetters { conn }
            | AdminCommand::Placement { conn, .. }
            | AdminCommand::Tokens { conn, .. } => Some(conn),
            AdminCommand::GenMasterKey | AdminCommand::RotateMasterKey { .. } => None,
        }
    }
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
        Command::Admin { command } => {
            let conn = command.conn().map(|c| AdminConn {
                url: c.url.clone(),
                token: c.token.clone(),
                json: c.json,
            });
            match conn {
                Some(conn) => admin_api(&conn, command),
                None => Ok(()),
            }
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
    if let Some(tls) = server.tls_addr {
        writeln!(out, "sluice listening on https://{tls}")?;
    }
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

/// Where the admin API is, and how to print its answers.
#[derive(clap::Args)]
struct AdminConn {
    /// The sluice endpoint serving /admin/v1.
    #[arg(long, env = "SLUICE_ADMIN_URL", default_value = "http://127.0.0.1:9000", global = true)]
    url: String,
    /// An admin token.
    #[arg(long, env = "SLUICE_ADMIN_TOKEN", hide_env_values = true, default_value = "", global = true)]
    token: String,
    /// Print the API's JSON instead of tables.
    #[arg(long, global = true)]
    json: bool,
}

#[derive(Subcommand)]
enum TenantCmd {
    List,
    Create { name: String },
    Delete { name: String },
}

#[derive(Subcommand)]
enum KeyCmd {
    /// The tenant's access keys.
    List {
        tenant: String,
    },
    /// A new key (its secret is shown once).
    Create {
        tenant: String,
    },
    Enable {
        access_key: String,
    },
    Disable {
        access_key: String,
    },
    Delete {
        access_key: String,
    },
}

#[derive(Subcommand)]
enum BucketCmd {
    List,
    Create {
        tenant: String,
        name: String,
        #[arg(long)]
        replicas: Option<u8>,
        /// Writes are accepted while this many eligible backends are healthy (default 1).
        #[arg(long)]
        min_write_replicas: Option<u8>,
        /// Regions, comma-separated.
        #[arg(long, value_delimiter = ',')]
        residency: Vec<String>,
    },
    /// Change residency and/or replicas (starts a rebalance).
    SetPolicy {
        name: String,
        #[arg(long)]
        replicas: Option<u8>,
        #[arg(long)]
        min_write_replicas: Option<u8>,
        #[arg(long, value_delimiter = ',')]
        residency: Option<Vec<String>>,
    },
}

#[derive(Subcommand)]
enum BackendCmd {
    List,
    Add {
        id: String,
        #[arg(long)]
        endpoint: String,
        #[arg(long)]
        region: String,
        #[arg(long)]
        access_key: Option<String>,
        /// The backend's secret key (or $SLUICE_BACKEND_SECRET_KEY).
        #[arg(long, env = "SLUICE_BACKEND_SECRET_KEY", hide_env_values = true)]
        secret_key: Option<String>,
        #[arg(long)]
        weight: Option<f64>,
    },
    Drain {
        id: String,
    },
    Remove {
        id: String,
    },
}

#[derive(Subcommand)]
enum TokenCmd {
    List,
    /// A new admin token (shown once).
    Create {
        name: String,
        /// admin, tenant-admin or viewer.
        #[arg(long)]
        role: String,
        #[arg(long)]
        tenant: Option<String>,
    },
    Delete {
        id: String,
    },
}

/// One admin API call for a CLI command: (method, path, body).
fn admin_request(cmd: AdminCommand) -> Option<(&'static str, String, Option<serde_json::Value>)> {
    use serde_json::json;
    Some(match cmd {
        AdminCommand::Tenants { command, .. } => match command {
            TenantCmd::List => ("GET", "tenants".into(), None),
            TenantCmd::Create { name } => ("POST", "tenants".into(), Some(json!({ "name": name }))),
            TenantCmd::Delete { name } => ("DELETE", format!("tenants/{name}"), None),
        },
        AdminCommand::Keys { command, .. } => match command {
            KeyCmd::List { tenant } => ("GET", format!("tenants/{tenant}/keys"), None),
            KeyCmd::Create { tenant } => ("POST", format!("tenants/{tenant}/keys"), Some(json!({}))),
            KeyCmd::Enable { access_key } => ("POST", format!("keys/{access_key}/enable"), None),
            KeyCmd::Disable { access_key } => ("POST", format!("keys/{access_key}/disable"), None),
            KeyCmd::Delete { access_key } => ("DELETE", format!("keys/{access_key}"), None),
        },
        AdminCommand::Buckets { command, .. } => match command {
            BucketCmd::List => ("GET", "buckets".into(), None),
            BucketCmd::Create { tenant, name, replicas, min_write_replicas, residency } => (
                "POST",
                "buckets".into(),
                Some(json!({"tenant": tenant, "name": name, "replicas": replicas,
                            "min_write_replicas": min_write_replicas, "residency": residency})),
            ),
            BucketCmd::SetPolicy { name, replicas, min_write_replicas, residency } => (
                "PUT",
                format!("buckets/{name}/policy"),
                Some(
                    json!({"replicas": replicas, "min_write_replicas": min_write_replicas, "residency": residency}),
                ),
            ),
        },
        AdminCommand::Backends { command, .. } => match command {
            BackendCmd::List => ("GET", "backends".into(), None),
            BackendCmd::Add { id, endpoint, region, access_key, secret_key, weight } => (
                "POST",
                "backends".into(),
                Some(json!({"id": id, "endpoint": endpoint, "region": region, "access_key": access_key,
                            "secret_key": secret_key, "weight": weight})),
            ),
            BackendCmd::Drain { id } => ("POST", format!("backends/{id}/drain"), None),
            BackendCmd::Remove { id } => ("DELETE", format!("backends/{id}"), None),
        },
        AdminCommand::Replication { .. } => ("GET", "replication".into(), None),
        AdminCommand::DeadLetters { .. } => ("GET", "replication/dead-letters".into(), None),
        AdminCommand::Placement { bucket, key, .. } => {
            let key: String =
                percent_encoding::utf8_percent_encode(&key, percent_encoding::NON_ALPHANUMERIC).collect();
            ("GET", format!("placement/{bucket}?key={key}"), None)
        }
        AdminCommand::Tokens { command, .. } => match command {
            TokenCmd::List => ("GET", "tokens".into(), None),
            TokenCmd::Create { name, role, tenant } => {
                ("POST", "tokens".into(), Some(json!({"name": name, "role": role, "tenant": tenant})))
            }
            TokenCmd::Delete { id } => ("DELETE", format!("tokens/{id}"), None),
        },
        AdminCommand::GenMasterKey | AdminCommand::RotateMasterKey { .. } => return None,
    })
}

/// Runs an admin API command and prints the answer.
fn admin_api(conn: &AdminConn, cmd: AdminCommand) -> anyhow::Result<()> {
    let Some((method, path, body)) = admin_request(cmd) else { return Ok(()) };
    let client = sluice::admin::client::AdminClient::new(&conn.url, &conn.token)?;
    let v = client.call(method, &path, body.as_ref())?;
    let text = if conn.json {
        format!("{}\n", serde_json::to_string_pretty(&v)?)
    } else {
        sluice::admin::client::render(&v)
    };
    std::io::stdout().write_all(text.as_bytes())?;
    Ok(())
}
