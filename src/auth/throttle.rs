//! Failed logins, in memory (each replica counts its own; a client spread
//! over replicas gets a multiple):
//! - per username and client address, with waits that grow with each
//!   failure: an attacker slows down their own guesses only, and the real
//!   user signs in from anywhere else;
//! - per client address, whatever the username: one address cannot try
//!   many accounts.
//!
//! The client address is the one `HERALD_TRUSTED_PROXIES` allow to believe
//! (see `domain::client_address`); behind a proxy not listed there, every
//! client shares the proxy's.

use std::net::IpAddr;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use crate::domain::throttle::{DelaySchedule, FailureWindow, GrowingDelay, address_key};

/// Per username and address: three failures are free, then 2 s, 4 s, 8 s…
/// up to 15 minutes; an hour without failure starts over.
pub const SCHEDULE: DelaySchedule = DelaySchedule {
    free: 3,
    first: Duration::from_secs(2),
    max: Duration::from_secs(15 * 60),
    forget_after: Duration::from_secs(3600),
};
/// Failed logins allowed per client address within the window.
pub const PER_ADDRESS: usize = 50;
pub const WINDOW: Duration = Duration::from_secs(15 * 60);
/// Usernames and addresses remembered at most (oldest forgotten first).
const CAPACITY: usize = 100_000;

type Key = (String, Option<IpAddr>);

pub struct LoginThrottle {
    by_user_and_address: Mutex<GrowingDelay<Key>>,
    by_address: Mutex<FailureWindow<IpAddr>>,
}

impl Default for LoginThrottle {
    fn default() -> Self {
        Self {
            by_user_and_address: Mutex::new(GrowingDelay::new(SCHEDULE, CAPACITY)),
            by_address: Mutex::new(FailureWindow::new(PER_ADDRESS, WINDOW)),
        }
    }
}

fn key(username: &str, address: Option<IpAddr>) -> Key {
    // Bounded: no real username is longer, and a key is kept for an hour.
    let name: String = username.trim().to_lowercase().chars().take(256).collect();
    (name, address.map(address_key))
}

impl LoginThrottle {
    /// `Err(wait)` when this username from this address, or this address,
    /// must wait before trying again.
    pub fn check(&self, username: &str, address: Option<IpAddr>) -> Result<(), Duration> {
        let now = Instant::now();
        let by_user = self
            .by_user_and_address
            .lock()
            .expect("throttle lock")
            .blocked(&key(username, address), now);
        let by_addr = address.and_then(|a| {
            self.by_address
                .lock()
                .expect("throttle lock")
                .blocked(&address_key(a), now)
        });
        match by_user.max(by_addr) {
            Some(wait) => Err(wait),
            None => Ok(()),
        }
    }

    pub fn failed(&self, username: &str, address: Option<IpAddr>) {
        let now = Instant::now();
        self.by_user_and_address
            .lock()
            .expect("throttle lock")
            .record_failure(key(username, address), now);
        if let Some(a) = address {
            let mut addrs = self.by_address.lock().expect("throttle lock");
            addrs.sweep(now);
            addrs.record_failure(address_key(a), now);
        }
    }

    /// Forgets this username's failures from this address only: signing
    /// in to one's own account must not clear an address's count.
    pub fn succeeded(&self, username: &str, address: Option<IpAddr>) {
        self.by_user_and_address
            .lock()
            .expect("throttle lock")
            .clear(&key(username, address));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> Option<IpAddr> {
        Some(s.parse().unwrap())
    }

    #[test]
    fn an_attacker_slows_down_only_their_own_address() {
        let t = LoginThrottle::default();
        for _ in 0..=SCHEDULE.free {
            assert!(t.check("alice", ip("203.0.113.7")).is_ok());
            t.failed("Alice ", ip("203.0.113.7"));
        }
        assert!(t.check("alice", ip("203.0.113.7")).is_err(), "same name, same address");
        assert!(t.check("alice", ip("198.51.100.1")).is_ok(), "the real user elsewhere");
        assert!(t.check("bob", ip("203.0.113.7")).is_ok(), "another name");
        t.succeeded("bob", ip("203.0.113.7"));
        assert!(
            t.check("alice", ip("203.0.113.7")).is_err(),
            "bob's success clears nothing of alice's"
        );
    }

    #[test]
    fn one_address_cannot_try_many_accounts() {
        let t = LoginThrottle::default();
        for i in 0..PER_ADDRESS {
            t.failed(&format!("user{i}"), ip("2001:db8::1"));
        }
        assert!(t.check("someone", ip("2001:db8::2")).is_err(), "the same /64");
        assert!(t.check("someone", ip("2001:db8:0:1::1")).is_ok());
    }
}
