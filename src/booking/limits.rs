//! In-memory rate limits: a token bucket per client address. Enough for one
//! server; several servers would each count on their own.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Mutex;

use chrono::{DateTime, Utc};

/// `capacity` requests at once, refilled at one per `refill_seconds`.
#[derive(Debug)]
pub struct RateLimiter {
    capacity: f64,
    refill_seconds: f64,
    buckets: Mutex<HashMap<IpAddr, Bucket>>,
}

#[derive(Debug, Clone, Copy)]
struct Bucket {
    tokens: f64,
    updated: DateTime<Utc>,
}

/// Past this many addresses, full buckets are forgotten.
const MAX_TRACKED: usize = 10_000;

impl RateLimiter {
    pub fn new(capacity: u32, refill_seconds: u32) -> Self {
        Self {
            capacity: f64::from(capacity.max(1)),
            refill_seconds: f64::from(refill_seconds.max(1)),
            buckets: Mutex::new(HashMap::new()),
        }
    }

    /// Takes one request from `key`'s bucket, or says how many seconds until
    /// the next one is allowed.
    pub fn check(&self, key: IpAddr, now: DateTime<Utc>) -> Result<(), u64> {
        let mut buckets = self.buckets.lock().unwrap_or_else(|e| e.into_inner());
        if buckets.len() >= MAX_TRACKED {
            let (capacity, refill) = (self.capacity, self.refill_seconds);
            buckets.retain(|_, b| refilled(b, now, capacity, refill) < capacity);
        }
        let bucket = buckets.entry(key).or_insert(Bucket {
            tokens: self.capacity,
            updated: now,
        });
        bucket.tokens = refilled(bucket, now, self.capacity, self.refill_seconds);
        bucket.updated = now;
        if bucket.tokens >= 1.0 {
            bucket.tokens -= 1.0;
            Ok(())
        } else {
            let wait = (1.0 - bucket.tokens) * self.refill_seconds;
            Err(wait.ceil().max(1.0) as u64)
        }
    }
}

fn refilled(bucket: &Bucket, now: DateTime<Utc>, capacity: f64, refill_seconds: f64) -> f64 {
    let elapsed = (now - bucket.updated).num_milliseconds().max(0) as f64 / 1000.0;
    (bucket.tokens + elapsed / refill_seconds).min(capacity)
}

/// The limits the site applies.
#[derive(Debug)]
pub struct Limits {
    /// Every public POST (booking, cancel, change), per client address.
    pub public_posts: RateLimiter,
    /// Admin login attempts, per client address.
    pub login: RateLimiter,
    /// Admin login attempts from everyone together: guessing from many
    /// addresses is slowed too, and argon2 cannot be used to exhaust the CPU.
    pub login_global: RateLimiter,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            // 10 at once, then one more every 2 minutes.
            public_posts: RateLimiter::new(10, 120),
            // 5 at once, then one every 5 minutes.
            login: RateLimiter::new(5, 300),
            // 30 at once, then one every 10 seconds.
            login_global: RateLimiter::new(30, 10),
        }
    }
}

/// The key under which requests from no known address are counted.
pub const UNKNOWN_CLIENT: IpAddr = IpAddr::V4(std::net::Ipv4Addr::UNSPECIFIED);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_bucket_empties_and_refills() {
        let limiter = RateLimiter::new(2, 60);
        let a: IpAddr = "192.0.2.1".parse().unwrap();
        let b: IpAddr = "192.0.2.2".parse().unwrap();
        let t0 = DateTime::from_timestamp(0, 0).unwrap();
        assert!(limiter.check(a, t0).is_ok());
        assert!(limiter.check(a, t0).is_ok());
        assert_eq!(limiter.check(a, t0), Err(60));
        assert!(limiter.check(b, t0).is_ok(), "another address has its own");
        let later = t0 + chrono::Duration::seconds(30);
        assert_eq!(limiter.check(a, later), Err(30));
        let later = t0 + chrono::Duration::seconds(61);
        assert!(limiter.check(a, later).is_ok());
    }
}
