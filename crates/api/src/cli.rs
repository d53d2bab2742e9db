//! The `aduan` command line.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use clap::{Parser, Subcommand};

use aduan_domain::Role;
use aduan_store::{EventLog, PgEventLog, PgOptions, SqliteEventLog};

use crate::app;

mod calendar_correction;
mod commands;
mod sla;
use crate::auth::{load_or_create_secret, SecretSource};
pub use sla::SlaCommands;

#[derive(Debug, Parser)]
#[command(name = "aduan", version, about = "Citizen complaint case management")]
pub struct Cli {
    /// Where the embedded SQLite database (aduan.db) lives when DATABASE_URL is not set.
    #[arg(long, env = "ADUAN_DATA_DIR", default_value = "./data", global = true)]
    pub data_dir: PathBuf,
    /// The database: unset for the embedded SQLite file in the data directory,
    /// `postgres://...` for PostgreSQL, or `sqlite://PATH` for another SQLite file.
    #[arg(long, env = "DATABASE_URL", global = true, hide_env_values = true)]
    pub database_url: Option<String>,
    /// Reference data file (OPDs, categories, kecamatan); the shipped one by default.
    #[arg(long, env = "ADUAN_REFERENCE", global = true)]
    pub reference: Option<PathBuf>,
    /// SLA settings file (business calendar, policies); the shipped one by default.
    #[arg(long, env = "ADUAN_SLA_CONFIG", global = true)]
    pub sla_config: Option<PathBuf>,
    /// A file of days off added to the SLA calendar's (TOML: `holidays = [...]`
    /// for national days the settings lack yet, which count towards the years
    /// covered; `local_holidays = [...]` for the city's own).
    #[arg(long, env = "ADUAN_HOLIDAYS", global = true)]
    pub holidays: Option<PathBuf>,
    #[command(flatten)]
    pub objects: ObjectArgs,
    #[command(flatten)]
    pub audit: crate::audit::AuditArgs,
    #[command(subcommand)]
    pub command: Commands,
}

/// Where attachments are kept: a directory (default: `attachments` in the data
/// directory) or, with ADUAN_S3_BUCKET, S3-compatible object storage.
#[derive(Debug, Clone, clap::Args)]
pub struct ObjectArgs {
    #[arg(long, env = "ADUAN_ATTACHMENTS_DIR", global = true)]
    pub attachments_dir: Option<PathBuf>,
    #[arg(long, env = "ADUAN_S3_BUCKET", global = true)]
    pub s3_bucket: Option<String>,
    /// An S3-compatible server's URL (MinIO, Ceph, ...); unset: AWS.
    #[arg(long, env = "ADUAN_S3_ENDPOINT", global = true)]
    pub s3_endpoint: Option<String>,
    #[arg(
        long,
        env = "ADUAN_S3_REGION",
        default_value = "us-east-1",
        global = true
    )]
    pub s3_region: String,
    #[arg(
        long,
        env = "ADUAN_S3_ACCESS_KEY_ID",
        global = true,
        hide_env_values = true
    )]
    pub s3_access_key_id: Option<String>,
    #[arg(
        long,
        env = "ADUAN_S3_SECRET_ACCESS_KEY",
        global = true,
        hide_env_values = true
    )]
    pub s3_secret_access_key: Option<String>,
}

impl Cli {
    /// Where this city's attachments are kept.
    pub fn object_location(&self) -> aduan_attachments::Location {
        let o = &self.objects;
        match &o.s3_bucket {
            Some(bucket) => aduan_attachments::Location::S3 {
                bucket: bucket.clone(),
                endpoint: o.s3_endpoint.clone(),
                region: o.s3_region.clone(),
                access_key_id: o.s3_access_key_id.clone().unwrap_or_default(),
                secret_access_key: o.s3_secret_access_key.clone().unwrap_or_default(),
            },
            None => aduan_attachments::Location::Directory(
                o.attachments_dir
                    .clone()
                    .unwrap_or_else(|| self.data_dir.join("attachments")),
            ),
        }
    }
}

#[derive(Debug, Subcommand)]
// Parsed once at start-up: the size of the biggest variant costs nothing.
#[allow(clippy::large_enum_variant)]
pub enum Commands {
    /// Run the HTTP server (migrates the database first).
    Serve(ServeArgs),
    /// Apply database migrations and exit.
    Migrate,
    /// Print a bearer token signed with the server's secret.
    Token(TokenArgs),
    /// Print the GraphQL schema (SDL).
    Schema,
    /// Generate realistic complaints through the real command path (demo data).
    Seed {
        /// How many complaints.
        #[arg(long, default_value_t = 500)]
        cases: usize,
        /// Spread their creation over this many past days.
        #[arg(long, default_value_t = 60)]
        days: i64,
        /// The random seed (the same seed gives the same stories).
        #[arg(long, default_value_t = 2026)]
        seed: u64,
    },
    /// Manage the read-side projections.
    #[command(subcommand)]
    Projections(ProjectionCommands),
    /// Check the attachments' object storage against the event log.
    #[command(subcommand)]
    Attachments(AttachmentCommands),
    /// Write the whole event log as JSON lines (positions, metadata and recording
    /// times as stored), to move a city to another database.
    Export {
        /// The file to write; standard output when omitted.
        #[arg(long)]
        output: Option<PathBuf>,
    },
    /// An online, consistent copy of a SQLite database (the log, projections,
    /// checkpoints and keys) while the server runs; restore by starting a
    /// server on the copy (docs/operations.md, "Backups").
    Backup {
        /// The file to write (must not exist).
        #[arg(long)]
        output: PathBuf,
    },
    /// Read an event log written by `aduan export` into this (empty) database;
    /// the projections rebuild from it when the server starts.
    Import {
        /// The file to read; standard input when omitted.
        #[arg(long)]
        input: Option<PathBuf>,
    },
    /// Tamper evidence: verify the log, sign checkpoints, export and verify
    /// a case's proof (docs/audit.md).
    #[command(subcommand)]
    Audit(crate::audit_cli::AuditCommands),
    /// SLA policy tools: what a proposed policy would have done (docs/operations.md).
    #[command(subcommand)]
    Sla(SlaCommands),
    /// Rotate the server's own keys without downtime, list them
    /// (docs/operations.md, "Rotating secrets").
    #[command(subcommand)]
    Keys(crate::keys::cli::KeyCommands),
    /// Tools for development and integration tests.
    #[command(subcommand)]
    Dev(DevCommands),
}

#[derive(Debug, Subcommand)]
pub enum DevCommands {
    /// Serve a simulated national complaint platform (aduan's SP4N-LAPOR!
    /// contract, in memory), with faults on demand, to run the bridge against.
    NationalPlatform(crate::national::SimulatorArgs),
}

#[derive(Debug, Subcommand)]
pub enum AttachmentCommands {
    /// Reports objects the log names that storage lacks (exit status 1), and
    /// objects no event names (orphans).
    Check {
        /// Delete orphans written more than `--orphan-minutes` ago.
        #[arg(long)]
        delete_orphans: bool,
        #[arg(long, default_value_t = 60)]
        orphan_minutes: i64,
    },
}

#[derive(Debug, Subcommand)]
pub enum ProjectionCommands {
    /// Rebuild a projection from the event log while the server keeps running.
    Rebuild {
        /// The projection to rebuild (all when omitted).
        #[arg(value_parser = [
            "complaint_summary",
            "sla_timers",
            "survey_responses",
            "handoff_legs"
        ])]
        name: Option<String>,
    },
}

#[derive(Debug, Clone, clap::Args)]
pub struct ServeArgs {
    #[arg(long, env = "ADUAN_ADDR", default_value = "127.0.0.1:8080")]
    pub addr: SocketAddr,
    /// What this process does: `all` (the default), `api` (HTTP and WebSocket
    /// only) or `worker` (the log's followers; probes and metrics only).
    /// `api` and `worker` need PostgreSQL (docs/operations.md).
    #[arg(long, env = "ADUAN_ROLE", value_enum, default_value_t = crate::process_role::ProcessRole::All)]
    pub role: crate::process_role::ProcessRole,
    /// Log as JSON lines instead of text.
    #[arg(long, env = "ADUAN_LOG_JSON", default_value_t = false)]
    pub log_json: bool,
    /// Days after a closure during which the citizen may reopen it.
    #[arg(long, env = "ADUAN_REOPEN_WINDOW_DAYS", default_value_t = 14)]
    pub reopen_window_days: i64,
    /// How long a request waits for a database connection before UNAVAILABLE.
    #[arg(long, env = "ADUAN_DB_ACQUIRE_TIMEOUT_MS", default_value_t = 5000)]
    pub db_acquire_timeout_ms: u64,
    /// Streaming replicas of the PostgreSQL primary (hot standbys) that answer
    /// lists, dashboards and other queries; commands and single-case reads
    /// stay on DATABASE_URL. Repeat the flag or separate URLs with commas.
    #[arg(
        long = "read-database-url",
        env = "ADUAN_READ_DATABASE_URL",
        value_delimiter = ',',
        hide_env_values = true
    )]
    pub read_database_urls: Vec<String>,
    /// How long a read with `minPosition` waits for a replica to reach it
    /// before the primary answers it instead.
    #[arg(long, env = "ADUAN_READ_REPLICA_WAIT_MS", default_value_t = 1000)]
    pub read_replica_wait_ms: u64,
    /// The pool's size. Each elected follower keeps one of them for its
    /// election while it runs (about a dozen with every integration on), so
    /// requests share what is left.
    #[arg(long, env = "ADUAN_DB_MAX_CONNECTIONS", default_value_t = 32)]
    pub db_max_connections: u32,
    /// How many complaints' current states the process keeps in memory, so a
    /// command on one of them needs one database round trip instead of two
    /// (0: none). Each costs a few kilobytes; a stale one is caught and reread.
    #[arg(long, env = "ADUAN_CASE_CACHE", default_value_t = aduan_store::bus::DEFAULT_CACHED_CASES)]
    pub case_cache: usize,
    /// How often (at most) the elected process seals new events into the
    /// audit tree and signs a checkpoint.
    #[arg(long, env = "ADUAN_AUDIT_CHECKPOINT_SECONDS", default_value_t = 300)]
    pub audit_checkpoint_seconds: u64,
    /// NATS server to relay every event to (JetStream); unset: no relay.
    #[arg(long, env = "ADUAN_NATS_URL")]
    pub nats_url: Option<String>,
    /// The JetStream stream the relay publishes to (created if missing).
    #[arg(long, env = "ADUAN_NATS_STREAM", default_value = aduan_integration::nats::STREAM)]
    pub nats_stream: String,
    /// Subjects are `<prefix>.<OPD or UNASSIGNED>.<EventType>`.
    #[arg(long, env = "ADUAN_NATS_SUBJECT_PREFIX", default_value = aduan_integration::nats::SUBJECT_PREFIX)]
    pub nats_subject_prefix: String,
    /// Whether the relay's envelopes carry personal data (reporter, exact
    /// address, citizens' account ids, INTERNAL note texts).
    #[arg(long, env = "ADUAN_NATS_PERSONAL_DATA", default_value_t = false, action = clap::ArgAction::Set)]
    pub nats_personal_data: bool,
    /// CloudEvents `source` of outbound events (a URI reference naming this city's aduan).
    #[arg(long, env = "ADUAN_EVENT_SOURCE", default_value = "/aduan")]
    pub event_source: String,
    /// Prefix of outbound events' CloudEvents `type`.
    #[arg(
        long,
        env = "ADUAN_EVENT_TYPE_PREFIX",
        default_value = "id.go.makassar.aduan.complaint"
    )]
    pub event_type_prefix: String,
    /// The largest file one upload may carry (bytes).
    #[arg(long, env = "ADUAN_ATTACHMENT_MAX_BYTES", default_value_t = 10 * 1024 * 1024)]
    pub attachment_max_bytes: usize,
    /// The most files one request may carry.
    #[arg(long, env = "ADUAN_ATTACHMENT_MAX_FILES", default_value_t = 10)]
    pub attachment_max_files: usize,
    /// How long an attachment link stays valid.
    #[arg(long, env = "ADUAN_ATTACHMENT_LINK_SECONDS", default_value_t = 600)]
    pub attachment_link_seconds: u64,
    /// Hand out links the S3 object store signs itself (clients then fetch
    /// files from the store, not through this server). Needs ADUAN_S3_BUCKET.
    #[arg(long, env = "ADUAN_ATTACHMENT_PRESIGNED_URLS", default_value_t = false, action = clap::ArgAction::Set)]
    pub attachment_presigned_urls: bool,
    /// How long a webhook receiver may take to answer a delivery.
    #[arg(long, env = "ADUAN_WEBHOOK_TIMEOUT_MS", default_value_t = 10_000)]
    pub webhook_timeout_ms: u64,
    /// The wait after a webhook delivery's first failed attempt; it doubles
    /// with each next one, up to ADUAN_WEBHOOK_RETRY_CAP_MS.
    #[arg(long, env = "ADUAN_WEBHOOK_RETRY_BASE_MS", default_value_t = 1_000)]
    pub webhook_retry_base_ms: u64,
    #[arg(long, env = "ADUAN_WEBHOOK_RETRY_CAP_MS", default_value_t = 600_000)]
    pub webhook_retry_cap_ms: u64,
    /// Attempts per event before its endpoint is paused (the defaults retry
    /// for about 40 minutes).
    #[arg(long, env = "ADUAN_WEBHOOK_ATTEMPTS", default_value_t = 13)]
    pub webhook_attempts: u32,
    /// Notifications to reporters (docs/notifications.md): the templates file
    /// (the shipped config/notifications.toml when unset).
    #[arg(long, env = "ADUAN_NOTIFICATION_TEMPLATES")]
    pub notification_templates: Option<std::path::PathBuf>,
    /// Where citizens follow their cases, for the links in notifications
    /// (`{url}/lacak/{tracking code}`); unset: messages carry no link.
    #[arg(long, env = "ADUAN_PUBLIC_BASE_URL")]
    pub public_base_url: Option<String>,
    /// This server's `/notifications/opt-out` as reached from outside
    /// (`https://aduan.example.go.id/notifications/opt-out`): e-mails then carry
    /// a one-click `List-Unsubscribe` there; unset: they do not.
    #[arg(long, env = "ADUAN_NOTIFY_UNSUBSCRIBE_URL")]
    pub notify_unsubscribe_url: Option<String>,
    /// SMTP server notifications are e-mailed through (`smtp://host:port`,
    /// `smtp://user:pass@host:587?tls=required`, `smtps://host:465`); unset: no e-mail.
    #[arg(long, env = "ADUAN_SMTP_URL")]
    pub smtp_url: Option<String>,
    /// The notifications' sender.
    #[arg(
        long,
        env = "ADUAN_NOTIFY_FROM",
        default_value = "Aduan Kota Makassar <aduan@makassarkota.go.id>"
    )]
    pub notify_from: String,
    /// The message gateway SMS or WhatsApp notifications are posted to
    /// (docs/notifications.md has its contract); unset: no SMS or WhatsApp.
    #[arg(long, env = "ADUAN_NOTIFY_GATEWAY_URL")]
    pub notify_gateway_url: Option<String>,
    /// The `Authorization` header sent to the gateway (`Bearer ...`).
    #[arg(
        long,
        env = "ADUAN_NOTIFY_GATEWAY_AUTHORIZATION",
        hide_env_values = true
    )]
    pub notify_gateway_authorization: Option<String>,
    /// What the gateway sends: `sms` or `whatsapp`.
    #[arg(long, env = "ADUAN_NOTIFY_GATEWAY_CHANNEL", default_value = "sms")]
    pub notify_gateway_channel: String,
    /// How long the SMTP server or the gateway may take to answer a send.
    #[arg(long, env = "ADUAN_NOTIFY_TIMEOUT_MS", default_value_t = 15_000)]
    pub notify_timeout_ms: u64,
    /// The wait after a notification's first failed attempt; it doubles with
    /// each next one, up to ADUAN_NOTIFY_RETRY_CAP_MS.
    #[arg(long, env = "ADUAN_NOTIFY_RETRY_BASE_MS", default_value_t = 30_000)]
    pub notify_retry_base_ms: u64,
    #[arg(long, env = "ADUAN_NOTIFY_RETRY_CAP_MS", default_value_t = 3_600_000)]
    pub notify_retry_cap_ms: u64,
    /// Attempts before a notification is given up (`failed`); the defaults
    /// try for about seven hours.
    #[arg(long, env = "ADUAN_NOTIFY_ATTEMPTS", default_value_t = 12)]
    pub notify_attempts: u32,
    /// Events older than this when the notifier first sees them are not
    /// notified (switching notifications on for a city with history).
    #[arg(long, env = "ADUAN_NOTIFY_MAX_AGE_HOURS", default_value_t = 72)]
    pub notify_max_age_hours: u64,
    /// How many days sent and skipped notifications stay in the outbox (0:
    /// for good); pending and failed ones stay until they are dealt with.
    #[arg(long, env = "ADUAN_NOTIFY_KEEP_DAYS", default_value_t = 400)]
    pub notify_keep_days: u64,
    /// How often the server pings GraphQL WebSocket clients; one silent for two
    /// of these is dropped.
    #[arg(long, env = "ADUAN_WS_PING_SECONDS", default_value_t = 15)]
    pub ws_ping_seconds: u64,
    /// How often the deadline watcher looks for passed deadlines.
    #[arg(long, env = "ADUAN_WATCH_INTERVAL_MS", default_value_t = 1000)]
    pub watch_interval_ms: u64,
    /// Run the deadline watcher in this process (`false` on all but some of
    /// several processes, or on a copy of a city's data that must not change).
    #[arg(long, env = "ADUAN_WATCH", default_value_t = true, action = clap::ArgAction::Set)]
    pub watch: bool,
    /// Submissions a signed-in citizen may make per minute on average (0: no
    /// limit); over it, RATE_LIMITED with Retry-After. City staff are not limited.
    #[arg(long, env = "ADUAN_SUBMIT_RATE_PER_MINUTE", default_value_t = 20)]
    pub submit_rate_per_minute: u32,
    /// How many submissions a citizen may make at once before the rate applies.
    #[arg(long, env = "ADUAN_SUBMIT_BURST", default_value_t = 5)]
    pub submit_burst: u32,
    /// The header a trusted reverse proxy puts the client's address in (for
    /// example X-Forwarded-For; its last entry is used). Without it, submissions
    /// without a token are limited per connecting address.
    #[arg(long, env = "ADUAN_CLIENT_IP_HEADER")]
    pub client_ip_header: Option<String>,
    /// The identity provider's public keys: a JWKS file path or http(s) URL.
    /// RS256 and ES256 tokens are then verified against it; HS256 only if
    /// ADUAN_JWT_SECRET is set as well.
    #[arg(long, env = "ADUAN_JWKS")]
    pub jwks: Option<String>,
    /// The `iss` every token must carry (checked when set).
    #[arg(long, env = "ADUAN_JWT_ISSUER")]
    pub jwt_issuer: Option<String>,
    /// The `aud` every token must carry (checked when set).
    #[arg(long, env = "ADUAN_JWT_AUDIENCE")]
    pub jwt_audience: Option<String>,
    /// Clock skew tolerated on `exp` and `nbf`.
    #[arg(long, env = "ADUAN_JWT_LEEWAY_SECONDS", default_value_t = 30)]
    pub jwt_leeway_seconds: u64,
    #[command(flatten)]
    pub national: crate::national::NationalArgs,
    #[command(flatten)]
    pub shutdown: crate::shutdown::ShutdownArgs,
}

#[derive(Debug, clap::Args)]
pub struct TokenArgs {
    #[arg(long, value_parser = parse_role)]
    pub role: Role,
    /// The OPD code, for OPD_ADMIN and OPD_OFFICER.
    #[arg(long)]
    pub opd: Option<String>,
    /// The subject (user id); defaults to one derived from the role.
    #[arg(long)]
    pub sub: Option<String>,
    #[arg(long, default_value_t = 24)]
    pub ttl_hours: i64,
}

fn parse_role(s: &str) -> Result<Role, String> {
    Role::parse(&s.to_ascii_uppercase()).ok_or_else(|| {
        let all: Vec<_> = Role::ALL.iter().map(|r| r.as_str()).collect();
        format!("unknown role; one of {}", all.join(", "))
    })
}

pub fn main() -> ExitCode {
    let cli = Cli::parse();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("aduan: cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run(cli)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("aduan: {e:#}");
            e.downcast_ref::<Exit>()
                .map_or(ExitCode::FAILURE, |exit| ExitCode::from(exit.code))
        }
    }
}

/// A failure with an exit status of its own, which the command documents.
#[derive(Debug, thiserror::Error)]
#[error("{message}")]
pub struct Exit {
    pub code: u8,
    pub message: String,
}

async fn run(cli: Cli) -> anyhow::Result<()> {
    match &cli.command {
        Commands::Serve(args) => {
            init_tracing(args.log_json);
            app::serve(&cli, args).await
        }
        Commands::Migrate => commands::migrate(&cli).await,
        Commands::Token(args) => commands::token(&cli, args).await,
        Commands::Projections(ProjectionCommands::Rebuild { name }) => {
            commands::rebuild(&cli, name.as_deref()).await
        }
        Commands::Seed { cases, days, seed } => commands::seed(&cli, *cases, *days, *seed).await,
        Commands::Attachments(AttachmentCommands::Check {
            delete_orphans,
            orphan_minutes,
        }) => commands::check_attachments(&cli, *delete_orphans, *orphan_minutes).await,
        Commands::Export { output } => commands::export(&cli, output.as_deref()).await,
        Commands::Import { input } => commands::import(&cli, input.as_deref()).await,
        Commands::Backup { output } => commands::backup(&cli, output).await,
        Commands::Audit(command) => crate::audit_cli::run(&cli, command).await,
        Commands::Sla(command) => sla::run(&cli, command).await,
        Commands::Keys(command) => crate::keys::cli::run(&cli, command).await,
        Commands::Schema => {
            print!("{}", crate::graphql::sdl());
            Ok(())
        }
        Commands::Dev(DevCommands::NationalPlatform(args)) => {
            init_tracing(false);
            crate::national::simulate(args).await
        }
    }
}

pub async fn signing_secret(log: &Arc<dyn EventLog>) -> anyhow::Result<(Vec<u8>, SecretSource)> {
    let env = std::env::var("ADUAN_JWT_SECRET").ok();
    load_or_create_secret(log, env.as_deref()).await
}

/// The event log the command line names: PostgreSQL for a `postgres://` URL, a
/// SQLite file for `sqlite://PATH`, and by default the embedded SQLite file
/// `aduan.db` in the data directory (created with it).
pub fn connect(cli: &Cli, options: &PgOptions) -> anyhow::Result<Arc<dyn EventLog>> {
    open_log(cli, options, false)
}

/// The event log for `serve`: on SQLite its WAL is checkpointed in the
/// background (`EventLog::upkeep`), never by a command's commit.
pub fn connect_serving(cli: &Cli, options: &PgOptions) -> anyhow::Result<Arc<dyn EventLog>> {
    open_log(cli, options, true)
}

fn open_log(cli: &Cli, options: &PgOptions, serving: bool) -> anyhow::Result<Arc<dyn EventLog>> {
    let open = |path: &std::path::Path| -> anyhow::Result<Arc<dyn EventLog>> {
        Ok(Arc::new(if serving {
            SqliteEventLog::open_serving(path, options.max_connections)?
        } else {
            SqliteEventLog::open(path, options.max_connections)?
        }))
    };
    match cli.database_url.as_deref().filter(|u| !u.is_empty()) {
        Some(url) if url.starts_with("postgres://") || url.starts_with("postgresql://") => {
            Ok(Arc::new(PgEventLog::connect(url, options)?))
        }
        Some(url) => {
            let path = url.strip_prefix("sqlite://").ok_or_else(|| {
                anyhow::anyhow!("DATABASE_URL must start with postgres:// or sqlite://")
            })?;
            open(std::path::Path::new(path))
        }
        None => {
            std::fs::create_dir_all(&cli.data_dir).map_err(|e| {
                anyhow::anyhow!(
                    "cannot create the data directory {}: {e}",
                    cli.data_dir.display()
                )
            })?;
            open(&cli.data_dir.join("aduan.db"))
        }
    }
}

pub fn pg_options(args: &ServeArgs) -> PgOptions {
    PgOptions {
        max_connections: args.db_max_connections,
        acquire_timeout: Duration::from_millis(args.db_acquire_timeout_ms),
    }
}

fn init_tracing(json: bool) {
    let filter = tracing_subscriber::EnvFilter::try_from_env("ADUAN_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    // Colours only on a terminal: log files and collectors get plain text.
    let ansi = std::io::IsTerminal::is_terminal(&std::io::stdout());
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(ansi);
    if json {
        builder.json().init();
    } else {
        builder.init();
    }
}
