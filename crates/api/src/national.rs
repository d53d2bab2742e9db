//! The national platform bridge in the server (`ADUAN_NATIONAL_*`), and
//! `aduan dev national-platform`, the simulator it is tested against.

use std::sync::Arc;
use std::time::Duration;

use aduan_domain::ReferenceData;
use aduan_integration::national::{Backoff, CategoryMap, HttpPlatform, Inbound, Outbound};
use aduan_national_sim::{FeedEnd, SimulatorConfig};
use aduan_store::CommandBus;

/// LAPOR!'s usual category names onto the shipped Makassar categories.
pub const DEFAULT_CATEGORIES: &str = "Infrastruktur=ROAD_DAMAGE,Lingkungan Hidup=GARBAGE,\
Kesehatan=HEALTH_SERVICE,Perhubungan=TRAFFIC_LIGHT,Kependudukan=CIVIL_REGISTRY,\
Pendidikan=EDUCATION,Sosial=SOCIAL_ASSISTANCE,Ketertiban Umum=PUBLIC_ORDER,\
Bencana=DISASTER,Air Bersih=WATER_SUPPLY";

#[derive(Debug, Clone, clap::Args)]
pub struct NationalArgs {
    /// The national platform's base URL; unset: no bridge.
    #[arg(long, env = "ADUAN_NATIONAL_URL")]
    pub national_url: Option<String>,
    /// The bearer token the platform issued to the city.
    #[arg(long, env = "ADUAN_NATIONAL_TOKEN", hide_env_values = true)]
    pub national_token: Option<String>,
    /// The city's agency code on the platform (reports disposed to it come in).
    #[arg(long, env = "ADUAN_NATIONAL_AGENCY", default_value = "MAKASSAR")]
    pub national_agency: String,
    /// How often the bridge asks for new reports once it has them all.
    #[arg(long, env = "ADUAN_NATIONAL_POLL_SECONDS", default_value_t = 30.0)]
    pub national_poll_seconds: f64,
    /// How long one request to the platform may take before it counts as failed.
    #[arg(long, env = "ADUAN_NATIONAL_TIMEOUT_MS", default_value_t = 10_000)]
    pub national_timeout_ms: u64,
    /// The first pause after a failed request; it doubles per failure.
    #[arg(long, env = "ADUAN_NATIONAL_BACKOFF_MS", default_value_t = 1_000)]
    pub national_backoff_ms: u64,
    /// The longest pause between retries.
    #[arg(long, env = "ADUAN_NATIONAL_BACKOFF_MAX_MS", default_value_t = 300_000)]
    pub national_backoff_max_ms: u64,
    /// National category names onto the city's category codes:
    /// `Name=CODE,Name=CODE`. A name equal to a city code maps onto it anyway.
    #[arg(long, env = "ADUAN_NATIONAL_CATEGORIES", default_value = DEFAULT_CATEGORIES)]
    pub national_categories: String,
    /// The city category of a report whose national category maps onto none.
    #[arg(
        long,
        env = "ADUAN_NATIONAL_FALLBACK_CATEGORY",
        default_value = "PUBLIC_INFORMATION"
    )]
    pub national_fallback_category: String,
    /// Import reports in this process.
    #[arg(long, env = "ADUAN_NATIONAL_INBOUND", default_value_t = true, action = clap::ArgAction::Set)]
    pub national_inbound: bool,
    /// Send milestones back from this process (one sender runs at a time
    /// across processes on PostgreSQL).
    #[arg(long, env = "ADUAN_NATIONAL_OUTBOUND", default_value_t = true, action = clap::ArgAction::Set)]
    pub national_outbound: bool,
}

impl NationalArgs {
    /// Whether this process runs the outbound follower.
    pub fn outbound(&self) -> bool {
        self.national_url.is_some() && self.national_outbound
    }

    fn backoff(&self) -> Backoff {
        Backoff {
            initial: Duration::from_millis(self.national_backoff_ms.max(1)),
            max: Duration::from_millis(self.national_backoff_max_ms.max(self.national_backoff_ms)),
        }
    }
}

/// The bridge's tasks, ready to run; none without `ADUAN_NATIONAL_URL`.
pub struct Bridge {
    inbound: Option<Inbound>,
    outbound: Option<Outbound>,
}

impl Bridge {
    /// Checks the settings now, so a wrong category map stops the start.
    pub fn new(
        args: &NationalArgs,
        bus: &Arc<CommandBus>,
        reference: &ReferenceData,
    ) -> anyhow::Result<Bridge> {
        let Some(url) = args.national_url.as_deref().filter(|u| !u.is_empty()) else {
            return Ok(Bridge {
                inbound: None,
                outbound: None,
            });
        };
        let platform = Arc::new(HttpPlatform::new(
            url,
            args.national_token.clone(),
            &args.national_agency,
            Duration::from_millis(args.national_timeout_ms.max(1)),
        )?);
        let codes = reference
            .categories
            .iter()
            .map(|c| c.code.clone())
            .collect();
        let categories = CategoryMap::new(
            &args.national_categories,
            &args.national_fallback_category,
            codes,
        )
        .map_err(|e| anyhow::anyhow!("ADUAN_NATIONAL_CATEGORIES: {e}"))?;
        let poll = Duration::from_secs_f64(args.national_poll_seconds.clamp(0.05, 86_400.0));
        tracing::info!(%url, agency = %args.national_agency, inbound = args.national_inbound,
            outbound = args.national_outbound, "national platform bridge on");
        Ok(Bridge {
            inbound: args.national_inbound.then(|| {
                Inbound::new(
                    bus.clone(),
                    platform.clone(),
                    categories,
                    poll,
                    args.backoff(),
                )
            }),
            outbound: args.national_outbound.then(|| {
                Outbound::new(
                    bus.log().clone(),
                    platform,
                    &args.national_agency,
                    args.backoff(),
                )
            }),
        })
    }

    /// Spawns what is configured; each task ends at shutdown.
    pub fn spawn(
        self,
        stopped: &tokio::sync::watch::Receiver<bool>,
    ) -> Vec<tokio::task::JoinHandle<()>> {
        let mut tasks = Vec::new();
        if let Some(inbound) = self.inbound {
            let stopped = stopped.clone();
            tasks.push(tokio::spawn(async move { inbound.run(stopped).await }));
        }
        if let Some(outbound) = self.outbound {
            let stopped = stopped.clone();
            tasks.push(tokio::spawn(async move { outbound.run(stopped).await }));
        }
        tasks
    }
}

#[derive(Debug, Clone, clap::Args)]
pub struct SimulatorArgs {
    /// Where to listen; port 0 picks a free one. The address is printed on
    /// the first line of standard output.
    #[arg(long, default_value = "127.0.0.1:8090")]
    pub addr: std::net::SocketAddr,
    /// The agency the seeded reports are disposed to.
    #[arg(long, default_value = "MAKASSAR")]
    pub agency: String,
    /// How many reports to seed.
    #[arg(long, default_value_t = 20)]
    pub reports: usize,
    /// Share of requests answered with 500 (0 to 1).
    #[arg(long, default_value_t = 0.0)]
    pub fail_rate: f64,
    /// Share of requests that hang for --timeout-ms (a follow-up is recorded
    /// before the hang: the answer is lost, not the effect).
    #[arg(long, default_value_t = 0.0)]
    pub timeout_rate: f64,
    #[arg(long, default_value_t = 30_000)]
    pub timeout_ms: u64,
    /// Per report delivered, the chance that an earlier one comes again.
    #[arg(long, default_value_t = 0.0)]
    pub duplicate_rate: f64,
    /// Shuffle the reports within each page.
    #[arg(long, default_value_t = false)]
    pub reorder: bool,
    /// Seeds the reports and the fault dice.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Require this bearer token (none: any request is served).
    #[arg(long, env = "ADUAN_NATIONAL_TOKEN", hide_env_values = true)]
    pub token: Option<String>,
    /// What the end of the feed looks like: `empty` (an empty page giving
    /// back the cursor sent), `null` (the last page answers `next: null`),
    /// `repeat` (the last page gives back the cursor sent).
    #[arg(long, default_value = "empty", value_parser = ["empty", "null", "repeat"])]
    pub feed_end: String,
}

/// Serves the simulator until SIGTERM or Ctrl-C.
pub async fn simulate(args: &SimulatorArgs) -> anyhow::Result<()> {
    let config = SimulatorConfig {
        agency: args.agency.clone(),
        reports: args.reports,
        fail_rate: args.fail_rate.clamp(0.0, 1.0),
        timeout_rate: args.timeout_rate.clamp(0.0, 1.0),
        hang: Duration::from_millis(args.timeout_ms),
        duplicate_rate: args.duplicate_rate.clamp(0.0, 1.0),
        reorder: args.reorder,
        seed: args.seed,
        token: args.token.clone().filter(|t| !t.is_empty()),
        feed_end: FeedEnd::parse(&args.feed_end).unwrap_or_default(),
    };
    let listener = tokio::net::TcpListener::bind(args.addr).await?;
    let addr = listener.local_addr()?;
    {
        use std::io::Write;
        let mut out = std::io::stdout().lock();
        writeln!(out, "http://{addr}")?;
        out.flush()?;
    }
    tracing::info!(%addr, reports = args.reports, "national platform simulator listening");
    axum::serve(listener, aduan_national_sim::router(config))
        .with_graceful_shutdown(crate::shutdown::signal())
        .await?;
    Ok(())
}
