//! A token bucket per client address, so one client cannot flood the store.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Mutex;
use std::time::Instant;

/// Allows `rate` requests per second per address, with bursts of `rate`.
#[derive(Debug)]
pub struct RateLimiter {
    rate: u32,
    buckets: Mutex<HashMap<IpAddr, (f64, Instant)>>,
}

/// Addresses tracked at most; beyond this, idle entries are dropped.
const MAX_TRACKED: usize = 10_000;

impl RateLimiter {
    /// A limiter of `rate` requests per second; 0 allows everything.
    pub fn new(rate: u32) -> Self {
        Self { rate, buckets: Mutex::new(HashMap::new()) }
    }

    /// Takes one token for `addr` at `now`; false when none is left.
    pub fn allow(&self, addr: IpAddr, now: Instant) -> bool {
        if self.rate == 0 {
            return true;
        }
        let rate = f64::from(self.rate);
        let mut buckets = self.buckets.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        if buckets.len() >= MAX_TRACKED && !buckets.contains_key(&addr) {
            buckets.retain(|_, (_, last)| now.duration_since(*last).as_secs_f64() < 1.0);
        }
        let (tokens, last) = buckets.entry(addr).or_insert((rate, now));
        *tokens = (*tokens + now.duration_since(*last).as_secs_f64() * rate).min(rate);
        *last = now;
        if *tokens >= 1.0 {
            *tokens -= 1.0;
            true
        } else {
            false
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn refills_at_the_configured_rate() {
        let limiter = RateLimiter::new(2);
        let addr: IpAddr = [127, 0, 0, 1].into();
        let t0 = Instant::now();
        assert!(limiter.allow(addr, t0) && limiter.allow(addr, t0));
        assert!(!limiter.allow(addr, t0));
        assert!(limiter.allow(addr, t0 + Duration::from_millis(500)));
        assert!(RateLimiter::new(0).allow(addr, t0));
    }
}
