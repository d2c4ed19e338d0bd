//! Login throttling: after too many failed logins for one username, or from
//! one client address, within a window, further attempts are refused until
//! the oldest failure leaves the window. Pure: the caller passes the time.

use std::collections::{HashMap, VecDeque};
use std::hash::Hash;
use std::time::{Duration, Instant};

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
