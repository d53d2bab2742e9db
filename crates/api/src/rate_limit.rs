//! Per-client rate limiting of submissions, so one script cannot flood the
//! Command Center: governor's GCRA (the "leaky bucket as a meter") keyed per
//! client, in the memory of each server process.

use std::num::NonZeroU32;
use std::time::Duration;

use governor::clock::{Clock, MonotonicClock};
use governor::middleware::NoOpMiddleware;
use governor::state::keyed::DashMapStateStore;
use governor::{Quota, RateLimiter};

type Keyed<C> =
    RateLimiter<String, DashMapStateStore<String>, C, NoOpMiddleware<<C as Clock>::Instant>>;

/// At most `per_minute` submissions a minute per client on average, with bursts of
/// up to `burst` at once.
pub struct SubmitLimiter<C: Clock = MonotonicClock> {
    limiter: Option<Keyed<C>>,
    clock: C,
}

impl std::fmt::Debug for SubmitLimiter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SubmitLimiter")
            .field("on", &self.limiter.is_some())
            .finish()
    }
}

/// Past this many tracked clients, those idle long enough to be back at a full
/// burst are forgotten.
const PRUNE_ABOVE: usize = 10_000;

impl SubmitLimiter {
    /// `per_minute == 0` turns limiting off.
    pub fn new(per_minute: u32, burst: u32) -> Self {
        Self::with_clock(per_minute, burst, MonotonicClock)
    }
}

impl<C: Clock + Clone> SubmitLimiter<C> {
    /// The same on another clock (tests move a fake one).
    pub fn with_clock(per_minute: u32, burst: u32, clock: C) -> Self {
        let quota = NonZeroU32::new(per_minute).map(|n| {
            // A burst of 0 allows what a burst of 1 does: one at a time.
            Quota::per_minute(n).allow_burst(NonZeroU32::new(burst).unwrap_or(NonZeroU32::MIN))
        });
        SubmitLimiter {
            limiter: quota.map(|q| RateLimiter::dashmap_with_clock(q, clock.clone())),
            clock,
        }
    }

    /// Counts one submission by `client` now; when it is one too many, how long
    /// until the client may submit again (and nothing is counted).
    pub fn check(&self, client: &str) -> Result<(), Duration> {
        let Some(limiter) = &self.limiter else {
            return Ok(());
        };
        if limiter.len() > PRUNE_ABOVE {
            limiter.retain_recent();
        }
        limiter
            .check_key(&client.to_string())
            .map_err(|refused| refused.wait_time_from(self.clock.now()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use governor::clock::FakeRelativeClock;

    #[test]
    fn a_burst_passes_then_the_rate_holds_per_client() {
        let clock = FakeRelativeClock::default();
        // one a second, bursts of three
        let limiter = SubmitLimiter::with_clock(60, 3, clock.clone());
        for _ in 0..3 {
            assert_eq!(limiter.check("warga-1"), Ok(()));
        }
        assert_eq!(limiter.check("warga-1"), Err(Duration::from_secs(1)));
        assert_eq!(limiter.check("warga-2"), Ok(()), "per client");
        clock.advance(Duration::from_millis(1500));
        assert_eq!(limiter.check("warga-1"), Ok(()));
        assert_eq!(limiter.check("warga-1"), Err(Duration::from_millis(500)));
        // A refused request is not counted: after the wait, one passes again.
        clock.advance(Duration::from_millis(500));
        assert_eq!(limiter.check("warga-1"), Ok(()));
    }

    #[test]
    fn zero_per_minute_turns_it_off() {
        let limiter = SubmitLimiter::new(0, 1);
        assert!((0..1000).all(|_| limiter.check("script").is_ok()));
    }
}
