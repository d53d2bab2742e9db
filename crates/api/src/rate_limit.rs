//! Per-client rate limiting of submissions, so one script cannot flood the
//! Command Center: a GCRA (the "leaky bucket as a meter") per client key, in the
//! memory of each server process.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// At most `per_minute` submissions a minute per client on average, with bursts of
/// up to `burst` at once.
#[derive(Debug)]
pub struct SubmitLimiter {
    interval: Option<Duration>,
    tolerance: Duration,
    /// Each client's theoretical arrival time of its next allowed request.
    next: Mutex<HashMap<String, Instant>>,
}

/// Past this many tracked clients, those idle long enough to be back at a full
/// burst are forgotten.
const PRUNE_ABOVE: usize = 10_000;

impl SubmitLimiter {
    /// `per_minute == 0` turns limiting off.
    pub fn new(per_minute: u32, burst: u32) -> Self {
        let interval = (per_minute > 0).then(|| Duration::from_secs(60) / per_minute);
        SubmitLimiter {
            tolerance: interval.unwrap_or_default() * burst.saturating_sub(1),
            interval,
            next: Mutex::new(HashMap::new()),
        }
    }

    /// Counts one submission by `client` at `now`; when it is one too many, how
    /// long until the client may submit again (and nothing is counted).
    pub fn check(&self, client: &str, now: Instant) -> Result<(), Duration> {
        let Some(interval) = self.interval else {
            return Ok(());
        };
        let mut next = self.next.lock().unwrap_or_else(|p| p.into_inner());
        if next.len() > PRUNE_ABOVE {
            next.retain(|_, at| *at > now);
        }
        let at = next.get(client).copied().unwrap_or(now).max(now);
        if at > now + self.tolerance {
            return Err(at - self.tolerance - now);
        }
        next.insert(client.to_string(), at + interval);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_burst_passes_then_the_rate_holds_per_client() {
        let limiter = SubmitLimiter::new(60, 3); // one a second, bursts of three
        let t0 = Instant::now();
        for _ in 0..3 {
            assert_eq!(limiter.check("warga-1", t0), Ok(()));
        }
        assert_eq!(limiter.check("warga-1", t0), Err(Duration::from_secs(1)));
        assert_eq!(limiter.check("warga-2", t0), Ok(()), "per client");
        let later = t0 + Duration::from_millis(1500);
        assert_eq!(limiter.check("warga-1", later), Ok(()));
        assert_eq!(
            limiter.check("warga-1", later),
            Err(Duration::from_millis(500))
        );
        // A refused request is not counted: after the wait, one passes again.
        assert_eq!(
            limiter.check("warga-1", later + Duration::from_millis(500)),
            Ok(())
        );
    }

    #[test]
    fn zero_per_minute_turns_it_off() {
        let limiter = SubmitLimiter::new(0, 1);
        let now = Instant::now();
        assert!((0..1000).all(|_| limiter.check("script", now).is_ok()));
    }
}
