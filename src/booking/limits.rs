//! Rate limits, with `governor`'s GCRA limiters (a token bucket in one
//! number per key): public posts per client, admin logins per client and
//! from everyone together.
//!
//! A client is an IPv4 address or an IPv6 /64 ([`crate::client::counted_as`]):
//! one home or one server is usually given a whole /64, so counting IPv6
//! addresses one by one would hand a single client unlimited fresh buckets.
//!
//! Memory has a hard bound: at most [`MAX_TRACKED`] clients are tracked per
//! limit ([`BoundedStore`]). Only buckets that have refilled are ever
//! forgotten (forgetting one is lossless: a full bucket and a new one are
//! the same), so no flood of other addresses can reset a limited client's
//! bucket. While every tracked bucket is still draining, newcomers share
//! one overflow bucket, so a flood spread over many addresses is limited as
//! one client.
//!
//! The limits are **per server**: each process keeps its counts in memory,
//! so N servers behind one proxy let N times as much through, and a restart
//! forgets them. That is enough for one small server; several would need a
//! shared store (or the proxy's own limits).
//!
//! Time comes from the booking's [`Clock`], so tests move it instead of
//! sleeping.

use std::collections::HashMap;
use std::net::IpAddr;
use std::num::NonZeroU32;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use governor::clock::Clock as GovernorClock;
use governor::middleware::NoOpMiddleware;
use governor::nanos::Nanos;
use governor::state::{InMemoryState, NotKeyed, StateStore};
use governor::{NotUntil, Quota, RateLimiter};

use crate::clock::Clock;

/// The most clients whose buckets are kept, per limit.
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

/// governor's keyed state with a hard bound on the clients it tracks. A
/// bucket is one number, its "theoretical arrival time" (TAT): the bucket is
/// full again once that time has passed.
struct BoundedStore {
    clock: ClockTime,
    /// The clock reading governor counts TATs from (read just before the
    /// limiter reads its own, so "now" here is never behind governor's).
    start: Duration,
    capacity: usize,
    buckets: Arc<Mutex<Buckets>>,
}

#[derive(Default)]
struct Buckets {
    tracked: HashMap<IpAddr, Nanos>,
    /// The bucket newcomers share while `tracked` is full of draining ones.
    overflow: Option<Nanos>,
    /// No tracked bucket is full before this: until then, looking for one
    /// to forget would find none (so a flood of newcomers costs no scan).
    next_full: Nanos,
}

impl BoundedStore {
    fn now(&self) -> Nanos {
        Nanos::from(self.clock.now().saturating_sub(self.start))
    }
}

impl Buckets {
    /// Forgets every bucket that has refilled, and notes when the next one
    /// will.
    fn forget_full(&mut self, now: Nanos) {
        if now < self.next_full {
            return;
        }
        self.tracked.retain(|_, tat| *tat > now);
        self.tracked.shrink_to(self.tracked.len() * 2);
        self.next_full = self
            .tracked
            .values()
            .min()
            .copied()
            .unwrap_or(Nanos::from(0));
    }
}

impl StateStore for BoundedStore {
    type Key = IpAddr;

    fn measure_and_replace<T, F, E>(&self, key: &IpAddr, f: F) -> Result<T, E>
    where
        F: Fn(Option<Nanos>) -> Result<(T, Nanos), E>,
    {
        // One lock for the decision and the update: requests racing each
        // other cannot overshoot the bound.
        let mut buckets = self.buckets.lock().unwrap_or_else(|e| e.into_inner());
        if !buckets.tracked.contains_key(key) && buckets.tracked.len() >= self.capacity {
            buckets.forget_full(self.now());
        }
        if buckets.tracked.contains_key(key) || buckets.tracked.len() < self.capacity {
            let (outcome, tat) = f(buckets.tracked.get(key).copied())?;
            buckets.tracked.insert(*key, tat);
            buckets.next_full = buckets.next_full.min(tat);
            Ok(outcome)
        } else {
            let (outcome, tat) = f(buckets.overflow)?;
            buckets.overflow = Some(tat);
            Ok(outcome)
        }
    }
}

/// A limit per client.
pub struct PerClient {
    limiter: RateLimiter<IpAddr, BoundedStore, ClockTime, NoOpMiddleware<Duration>>,
    /// The limiter's buckets, to count them.
    buckets: Arc<Mutex<Buckets>>,
    clock: ClockTime,
}

impl PerClient {
    fn new(quota: Quota, clock: &ClockTime) -> Self {
        Self::bounded(quota, clock, MAX_TRACKED)
    }

    fn bounded(quota: Quota, clock: &ClockTime, capacity: usize) -> Self {
        let buckets = Arc::new(Mutex::default());
        let store = BoundedStore {
            clock: clock.clone(),
            start: clock.now(),
            capacity,
            buckets: Arc::clone(&buckets),
        };
        Self {
            limiter: RateLimiter::new(quota, store, clock.clone()),
            buckets,
            clock: clock.clone(),
        }
    }

    /// Counts one request from `client`, or says how many seconds until the
    /// next one is allowed.
    pub fn check(&self, client: IpAddr) -> Result<(), u64> {
        self.limiter
            .check_key(&crate::client::counted_as(client))
            .map_err(|refused| retry_after(&refused, &self.clock))
    }

    /// How many clients have a bucket of their own.
    pub fn tracked(&self) -> usize {
        self.buckets.lock().map_or(0, |b| b.tracked.len())
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
    fn an_ipv6_client_is_its_slash_64_and_an_ipv4_one_its_address() {
        let (_manual, time) = clock();
        let limiter = PerClient::new(quota(2, 60), &time);
        let ip = |s: &str| s.parse::<IpAddr>().unwrap();
        assert!(limiter.check(ip("2001:db8:1:2::1")).is_ok());
        assert!(
            limiter
                .check(ip("2001:db8:1:2:ffff:ffff:ffff:ffff"))
                .is_ok()
        );
        assert_eq!(
            limiter.check(ip("2001:db8:1:2:abcd::9")),
            Err(60),
            "one /64"
        );
        assert!(limiter.check(ip("2001:db8:1:3::1")).is_ok(), "the next /64");
        assert!(limiter.check(ip("192.0.2.1")).is_ok());
        assert!(
            limiter.check(ip("::ffff:192.0.2.1")).is_ok(),
            "the same IPv4"
        );
        assert_eq!(limiter.check(ip("192.0.2.1")), Err(60));
        assert!(limiter.check(ip("192.0.2.2")).is_ok(), "the next IPv4");
    }

    #[test]
    fn the_tracked_set_has_a_bound_and_a_flood_cannot_reset_a_limited_client() {
        let (manual, time) = clock();
        let limiter = PerClient::bounded(quota(2, 60), &time, 100);
        let attacker = IpAddr::from([203, 0, 113, 7]);
        while limiter.check(attacker).is_ok() {}
        // A flood from many more addresses than the bound.
        for n in 0..1_000u32 {
            let _ = limiter.check(IpAddr::from((0x0a00_0000 + n).to_be_bytes()));
            assert!(limiter.tracked() <= 100);
        }
        assert_eq!(limiter.tracked(), 100);
        assert!(limiter.check(attacker).is_err(), "still limited");
        // Newcomers past the bound share one bucket: the flood is limited too.
        assert!(limiter.check(IpAddr::from([198, 51, 100, 1])).is_err());
        // Once the buckets refill they are forgotten, and a newcomer gets
        // its own again.
        manual.advance(chrono::Duration::seconds(121));
        assert!(limiter.check(IpAddr::from([198, 51, 100, 1])).is_ok());
        assert_eq!(limiter.tracked(), 1, "full buckets are forgotten");
        assert!(limiter.check(attacker).is_ok(), "refilled, as for anyone");
    }
}
