//! Login throttling, pure (the caller passes the time):
//! - [`GrowingDelay`]: after a few free failures for one key, each further
//!   failure makes the next attempt wait twice as long, up to a cap;
//! - [`FailureWindow`]: after too many failures for one key within a
//!   window, attempts wait until the oldest failure leaves it.

use std::collections::{HashMap, VecDeque};
use std::hash::Hash;
use std::net::{IpAddr, Ipv6Addr};
use std::time::{Duration, Instant};

/// The key an address is counted under: IPv4 addresses as they are, IPv6
/// ones by their /64, which one client usually holds whole.
pub fn address_key(ip: IpAddr) -> IpAddr {
    match ip.to_canonical() {
        IpAddr::V6(v6) => IpAddr::V6(Ipv6Addr::from(u128::from(v6) & !((1u128 << 64) - 1))),
        v4 => v4,
    }
}

/// The schedule of [`GrowingDelay`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DelaySchedule {
    /// Failures that cost nothing (typos).
    pub free: u32,
    /// The wait after the first failure beyond the free ones; it doubles.
    pub first: Duration,
    pub max: Duration,
    /// A key with no failure for this long starts over.
    pub forget_after: Duration,
}

impl DelaySchedule {
    /// The wait after `failures` failures.
    pub fn delay(&self, failures: u32) -> Duration {
        match failures.checked_sub(self.free + 1) {
            None => Duration::ZERO,
            Some(doublings) => self
                .first
                .checked_mul(2u32.saturating_pow(doublings.min(31)))
                .unwrap_or(self.max)
                .min(self.max),
        }
    }
}

#[derive(Debug, Clone, Copy)]
struct Failures {
    count: u32,
    last: Instant,
}

/// Failures per key with waits growing with each one; memory is bounded
/// by `capacity` keys (the oldest are forgotten first).
#[derive(Debug)]
pub struct GrowingDelay<K> {
    schedule: DelaySchedule,
    capacity: usize,
    failures: HashMap<K, Failures>,
}

impl<K: Eq + Hash + Clone> GrowingDelay<K> {
    pub fn new(schedule: DelaySchedule, capacity: usize) -> Self {
        Self {
            schedule,
            capacity: capacity.max(1),
            failures: HashMap::new(),
        }
    }

    fn current(&mut self, key: &K, now: Instant) -> Option<Failures> {
        let f = *self.failures.get(key)?;
        if now.saturating_duration_since(f.last) >= self.schedule.forget_after {
            self.failures.remove(key);
            return None;
        }
        Some(f)
    }

    /// `Some(wait)` when `key` must wait before its next attempt.
    pub fn blocked(&mut self, key: &K, now: Instant) -> Option<Duration> {
        let f = self.current(key, now)?;
        let wait = self
            .schedule
            .delay(f.count)
            .saturating_sub(now.saturating_duration_since(f.last));
        (!wait.is_zero()).then_some(wait)
    }

    pub fn record_failure(&mut self, key: K, now: Instant) {
        let count = self.current(&key, now).map_or(0, |f| f.count).saturating_add(1);
        if !self.failures.contains_key(&key) && self.failures.len() >= self.capacity {
            self.sweep(now);
            if self.failures.len() >= self.capacity
                && let Some(oldest) = self.failures.iter().min_by_key(|(_, f)| f.last).map(|(k, _)| k.clone())
            {
                self.failures.remove(&oldest);
            }
        }
        self.failures.insert(key, Failures { count, last: now });
    }

    /// A successful login forgets the key's failures.
    pub fn clear(&mut self, key: &K) {
        self.failures.remove(key);
    }

    /// Drops keys whose failures are forgotten.
    pub fn sweep(&mut self, now: Instant) {
        let forget = self.schedule.forget_after;
        self.failures
            .retain(|_, f| now.saturating_duration_since(f.last) < forget);
    }

    pub fn len(&self) -> usize {
        self.failures.len()
    }

    pub fn is_empty(&self) -> bool {
        self.failures.is_empty()
    }
}

/// Failures per key within a sliding window.
#[derive(Debug)]
pub struct FailureWindow<K> {
    limit: usize,
    window: Duration,
    failures: HashMap<K, VecDeque<Instant>>,
}

impl<K: Eq + Hash + Clone> FailureWindow<K> {
    pub fn new(limit: usize, window: Duration) -> Self {
        Self {
            limit,
            window,
            failures: HashMap::new(),
        }
    }

    fn prune(&mut self, key: &K, now: Instant) {
        if let Some(times) = self.failures.get_mut(key) {
            while times.front().is_some_and(|t| now.duration_since(*t) >= self.window) {
                times.pop_front();
            }
            if times.is_empty() {
                self.failures.remove(key);
            }
        }
    }

    /// `Some(wait)` when `key` has used up its failures: try again after `wait`.
    pub fn blocked(&mut self, key: &K, now: Instant) -> Option<Duration> {
        self.prune(key, now);
        let times = self.failures.get(key)?;
        (times.len() >= self.limit).then(|| self.window.saturating_sub(now.duration_since(times[0])))
    }

    pub fn record_failure(&mut self, key: K, now: Instant) {
        self.prune(&key, now);
        let times = self.failures.entry(key).or_default();
        times.push_back(now);
        // Bounded memory: only the newest `limit` failures matter.
        while times.len() > self.limit {
            times.pop_front();
        }
    }

    /// A successful login forgets the key's failures.
    pub fn clear(&mut self, key: &K) {
        self.failures.remove(key);
    }

    /// Drops keys whose failures have all left the window (call now and then).
    pub fn sweep(&mut self, now: Instant) {
        let window = self.window;
        self.failures
            .retain(|_, times| times.back().is_some_and(|t| now.duration_since(*t) < window));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SCHEDULE: DelaySchedule = DelaySchedule {
        free: 2,
        first: Duration::from_secs(1),
        max: Duration::from_secs(10),
        forget_after: Duration::from_secs(60),
    };

    #[test]
    fn delays_double_after_the_free_failures_up_to_the_cap() {
        let waits: Vec<u64> = (0..9).map(|n| SCHEDULE.delay(n).as_secs()).collect();
        assert_eq!(waits, [0, 0, 0, 1, 2, 4, 8, 10, 10]);
        assert_eq!(SCHEDULE.delay(u32::MAX), SCHEDULE.max);
    }

    #[test]
    fn each_key_waits_for_its_own_failures_until_it_succeeds_or_is_forgotten() {
        let start = Instant::now();
        let at = |s: u64| start + Duration::from_secs(s);
        let mut d = GrowingDelay::new(SCHEDULE, 100);
        for _ in 0..3 {
            assert_eq!(d.blocked(&"a", start), None);
            d.record_failure("a", start);
        }
        assert_eq!(d.blocked(&"a", start), Some(Duration::from_secs(1)));
        assert_eq!(d.blocked(&"b", start), None, "keys are independent");
        assert_eq!(d.blocked(&"a", at(1)), None, "the wait is over");
        d.record_failure("a", at(1));
        assert_eq!(
            d.blocked(&"a", at(2)),
            Some(Duration::from_secs(1)),
            "2 s from the last failure"
        );
        d.clear(&"a");
        assert_eq!(d.blocked(&"a", at(2)), None, "a success forgets");
        for _ in 0..6 {
            d.record_failure("c", start);
        }
        assert!(d.blocked(&"c", at(59)).is_none(), "the cap is 10 s");
        d.record_failure("c", at(59));
        assert_eq!(d.blocked(&"c", at(59)), Some(Duration::from_secs(10)), "counts on");
        d.record_failure("c", at(59 + 60));
        assert_eq!(d.blocked(&"c", at(59 + 60)), None, "forgotten after a quiet minute");
    }

    #[test]
    fn memory_is_bounded_by_forgetting_the_oldest() {
        let start = Instant::now();
        let mut d = GrowingDelay::new(SCHEDULE, 3);
        for (i, key) in ["a", "b", "c", "d"].into_iter().enumerate() {
            d.record_failure(key, start + Duration::from_secs(i as u64));
        }
        assert_eq!(d.len(), 3);
        assert!(!d.failures.contains_key("a"), "the oldest went");
        d.sweep(start + Duration::from_secs(100));
        assert!(d.is_empty());
    }

    #[test]
    fn ipv6_addresses_count_by_their_64() {
        let a: IpAddr = "2001:db8:1:2:aaaa::1".parse().unwrap();
        let b: IpAddr = "2001:db8:1:2:bbbb::2".parse().unwrap();
        let c: IpAddr = "2001:db8:1:3::1".parse().unwrap();
        assert_eq!(address_key(a), address_key(b));
        assert_ne!(address_key(a), address_key(c));
        let v4: IpAddr = "192.0.2.1".parse().unwrap();
        assert_eq!(address_key(v4), v4);
        assert_eq!(address_key("::ffff:192.0.2.1".parse().unwrap()), v4);
    }

    #[test]
    fn blocks_after_the_limit_until_the_oldest_failure_leaves_the_window() {
        let start = Instant::now();
        let mut w = FailureWindow::new(3, Duration::from_secs(60));
        for i in 0..3 {
            assert_eq!(w.blocked(&"alice", start), None);
            w.record_failure("alice", start + Duration::from_secs(i));
        }
        let wait = w.blocked(&"alice", start + Duration::from_secs(10)).unwrap();
        assert_eq!(wait, Duration::from_secs(50));
        assert_eq!(w.blocked(&"bob", start), None, "keys are independent");
        assert_eq!(
            w.blocked(&"alice", start + Duration::from_secs(60)),
            None,
            "the oldest left"
        );
    }

    #[test]
    fn success_clears_and_sweep_forgets_old_keys() {
        let start = Instant::now();
        let mut w = FailureWindow::new(1, Duration::from_secs(10));
        w.record_failure("a", start);
        assert!(w.blocked(&"a", start).is_some());
        w.clear(&"a");
        assert!(w.blocked(&"a", start).is_none());
        w.record_failure("b", start);
        w.sweep(start + Duration::from_secs(11));
        assert!(w.failures.is_empty());
    }
}
