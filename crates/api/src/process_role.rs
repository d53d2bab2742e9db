//! What one `aduan serve` process does. A city on one machine runs `all`; a
//! city that outgrows it runs several `api` processes behind a load balancer
//! (HTTP and WebSocket only: GraphQL, Open311, exports, files, probes) and two
//! or more `worker` processes (the followers of the log: projectors, the
//! deadline watcher, the NATS relay, webhook deliveries, notifications, the
//! national bridge, the incident closer, the acknowledger, audit sealing),
//! each follower elected so that one worker runs it at a time and another
//! takes over when it stops. Workers answer the probes and `/metrics` only.

/// `--role` / `ADUAN_ROLE`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum ProcessRole {
    /// Answers HTTP and runs the followers (the embedded default).
    #[default]
    All,
    /// Answers HTTP and WebSocket only.
    Api,
    /// Runs the followers; answers `/healthz`, `/readyz` and `/metrics` only.
    Worker,
}

impl ProcessRole {
    pub fn serves_api(self) -> bool {
        self != ProcessRole::Worker
    }

    pub fn runs_followers(self) -> bool {
        self != ProcessRole::Api
    }

    pub fn as_str(self) -> &'static str {
        match self {
            ProcessRole::All => "all",
            ProcessRole::Api => "api",
            ProcessRole::Worker => "worker",
        }
    }
}
