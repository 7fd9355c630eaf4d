//! Rate limits, with `governor`'s GCRA limiters (a token bucket in one
//! number per key): public posts per client address, admin logins per
//! address and from everyone together.
//!
//! The limits are **per server**: each process keeps its counts in memory,
//! so N servers behind one proxy let N times as much through, and a restart
//! forgets them. That is enough for one small server; several would need a
//! shared store (or the proxy's own limits).
//!
//! Time comes from the booking's [`Clock`], so tests move it instead of
//! sleeping. Memory is bounded: past [`MAX_TRACKED`] addresses, those whose
//! bucket has refilled are forgotten (`retain_recent`) before another is
//! added.

use std::net::IpAddr;
use std::num::NonZeroU32;
use std::sync::Arc;
use std::time::Duration;

use governor::clock::Clock as GovernorClock;
use governor::middleware::NoOpMiddleware;
use governor::state::keyed::HashMapStateStore;
use governor::state::{InMemoryState, NotKeyed};
use governor::{NotUntil, Quota, RateLimiter};

use crate::clock::Clock;

/// Past this many addresses, those back to a full bucket are forgotten.
pub const MAX_TRACKED: usize = 10_000;

/// The key under which requests from no known address are counted.
pub const UNKNOWN_CLIENT: IpAddr = IpAddr::V4(std::net::Ipv4Addr::UNSPECIFIED);

/// The booking's clock as governor reads it: time since the Unix epoch.
#[derive(Clone)]
struct ClockTime(Arc<dyn Clock>);

impl GovernorClock for ClockTime {
    type Instant = Duration;

    fn now(&self) -> Duration {
        let millis = self.0.now().timestamp_millis();
        Duration::from_millis(u64::try_from(millis).unwrap_or(0))
    }
}

/// `burst` requests at once, then one more every `every_seconds`.
fn quota(burst: u32, every_seconds: u64) -> Quota {
    let burst = NonZeroU32::new(burst).unwrap_or(NonZeroU32::MIN);
    Quota::with_period(Duration::from_secs(every_seconds.max(1)))
        .expect("a period of at least one second")
        .allow_burst(burst)
}

/// Whole seconds until `refused` would be allowed (at least one): the
/// `Retry-After` of the 429.
fn retry_after(refused: &NotUntil<Duration>, clock: &ClockTime) -> u64 {
    let wait = refused.wait_time_from(clock.now());
    (wait.as_millis().div_ceil(1000) as u64).max(1)
}

/// A limit per client address.
pub struct PerClient {
    limiter: RateLimiter<IpAddr, HashMapStateStore<IpAddr>, ClockTime, NoOpMiddleware<Duration>>,
    clock: ClockTime,
}

impl PerClient {
    fn new(quota: Quota, clock: &ClockTime) -> Self {
        Self {
            limiter: RateLimiter::hashmap_with_clock(quota, clock.clone()),
            clock: clock.clone(),
        }
    }

    /// Counts one request from `client`, or says how many seconds until the
    /// next one is allowed.
    pub fn check(&self, client: IpAddr) -> Result<(), u64> {
        if self.limiter.len() >= MAX_TRACKED {
            self.limiter.retain_recent();
            self.limiter.shrink_to_fit();
        }
        self.limiter
            .check_key(&client)
            .map_err(|refused| retry_after(&refused, &self.clock))
    }
}

/// One limit for everyone together.
pub struct Overall {
    limiter: RateLimiter<NotKeyed, InMemoryState, ClockTime, NoOpMiddleware<Duration>>,
    clock: ClockTime,
}

impl Overall {
    fn new(quota: Quota, clock: &ClockTime) -> Self {
        Self {
            limiter: RateLimiter::direct_with_clock(quota, clock.clone()),
            clock: clock.clone(),
        }
    }

    pub fn check(&self) -> Result<(), u64> {
        self.limiter
            .check()
            .map_err(|refused| retry_after(&refused, &self.clock))
    }
}

/// The limits the site applies.
pub struct Limits {
    /// Every public POST (booking, cancel, change), per client address.
    public_posts: PerClient,
    /// Admin login attempts, per client address.
    login: PerClient,
    /// Admin login attempts from everyone together: guessing from many
    /// addresses is slowed too, and argon2 cannot be used to exhaust the CPU.
    login_overall: Overall,
}

impl Limits {
    pub fn new(clock: Arc<dyn Clock>) -> Self {
        let clock = ClockTime(clock);
        Self {
            // 10 at once, then one more every 2 minutes.
            public_posts: PerClient::new(quota(10, 120), &clock),
            // 5 at once, then one every 5 minutes.
            login: PerClient::new(quota(5, 300), &clock),
            // 30 at once, then one every 10 seconds.
            login_overall: Overall::new(quota(30, 10), &clock),
        }
    }

    /// One public post (book, cancel, change the time) from `client`.
    pub fn public_post(&self, client: IpAddr) -> Result<(), u64> {
        self.public_posts.check(client)
    }

    /// One login attempt from `client`: within its own limit, then within
    /// everyone's.
    pub fn login(&self, client: IpAddr) -> Result<(), u64> {
        self.login.check(client)?;
        self.login_overall.check()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::clock::ManualClock;
    use chrono::DateTime;

    fn clock() -> (Arc<ManualClock>, ClockTime) {
        let manual = Arc::new(ManualClock::new(DateTime::from_timestamp(0, 0).unwrap()));
        (manual.clone(), ClockTime(manual))
    }

    #[test]
    fn a_bucket_empties_and_refills() {
        let (manual, time) = clock();
        let limiter = PerClient::new(quota(2, 60), &time);
        let a: IpAddr = "192.0.2.1".parse().unwrap();
        let b: IpAddr = "192.0.2.2".parse().unwrap();
        assert!(limiter.check(a).is_ok());
        assert!(limiter.check(a).is_ok());
        assert_eq!(limiter.check(a), Err(60));
        assert!(limiter.check(b).is_ok(), "another address has its own");
        manual.advance(chrono::Duration::seconds(30));
        assert_eq!(limiter.check(a), Err(30));
        manual.advance(chrono::Duration::seconds(31));
        assert!(limiter.check(a).is_ok());
    }

    #[test]
    fn logins_are_limited_per_address_and_for_everyone() {
        let (_manual, time) = clock();
        let limits = Limits::new(time.0.clone());
        let one: IpAddr = "192.0.2.1".parse().unwrap();
        for _ in 0..5 {
            assert!(limits.login(one).is_ok());
        }
        assert_eq!(limits.login(one), Err(300));
        // 25 more from other addresses fill everyone's limit.
        for n in 0..25u8 {
            assert!(limits.login(IpAddr::from([198, 51, 100, n])).is_ok());
        }
        assert_eq!(limits.login(IpAddr::from([203, 0, 113, 1])), Err(10));
    }

    #[test]
    fn forgotten_addresses_keep_memory_bounded() {
        let (manual, time) = clock();
        let limiter = PerClient::new(quota(1, 1), &time);
        for n in 0..MAX_TRACKED as u32 {
            limiter.check(IpAddr::from(n.to_be_bytes())).unwrap();
        }
        assert_eq!(limiter.limiter.len(), MAX_TRACKED);
        manual.advance(chrono::Duration::seconds(5));
        limiter.check(IpAddr::from([10, 0, 0, 1])).unwrap();
        assert_eq!(limiter.limiter.len(), 1, "full buckets are forgotten");
    }
}
