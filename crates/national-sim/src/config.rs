//! What the simulator is started with (`aduan dev national-platform`'s flags).

use std::time::Duration;

#[derive(Debug, Clone)]
pub struct SimulatorConfig {
    /// The agency (city) seeded reports are disposed to.
    pub agency: String,
    /// Reports seeded at start.
    pub reports: usize,
    /// Share of requests answered 500.
    pub fail_rate: f64,
    /// Share of requests that hang for `hang` (a follow-up is recorded first).
    pub timeout_rate: f64,
    pub hang: Duration,
    /// Per delivered item, the chance an earlier report comes along again.
    pub duplicate_rate: f64,
    /// Shuffle each page.
    pub reorder: bool,
    pub seed: u64,
    /// The bearer token clients must send (none: any or no token).
    pub token: Option<String>,
    /// What the feed's end looks like.
    pub feed_end: FeedEnd,
}

/// The three ways a feed says "nothing more for now" (docs/integration.md,
/// "The report feed"); the bridge must read each without asking more than
/// once per poll.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum FeedEnd {
    /// Past the last report: an empty page whose `next` is the cursor sent.
    #[default]
    Empty,
    /// The page that reaches the last report answers `next: null`.
    Null,
    /// The page that reaches the last report answers the cursor it was sent
    /// as `next` (the first page: `"0"`).
    Repeat,
}

impl FeedEnd {
    pub fn parse(s: &str) -> Option<FeedEnd> {
        match s {
            "empty" => Some(FeedEnd::Empty),
            "null" => Some(FeedEnd::Null),
            "repeat" => Some(FeedEnd::Repeat),
            _ => None,
        }
    }
}

impl Default for SimulatorConfig {
    fn default() -> Self {
        SimulatorConfig {
            agency: "MAKASSAR".into(),
            reports: 0,
            fail_rate: 0.0,
            timeout_rate: 0.0,
            hang: Duration::from_secs(30),
            duplicate_rate: 0.0,
            reorder: false,
            seed: 1,
            token: None,
            feed_end: FeedEnd::Empty,
        }
    }
}
