//! Failed logins per username and per client address, in memory (each
//! replica counts its own; a client spread over replicas gets a multiple).

use std::net::IpAddr;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use crate::domain::throttle::FailureWindow;

/// Failed logins allowed per username within the window.
pub const PER_USERNAME: usize = 10;
/// Failed logins allowed per client address within the window.
pub const PER_ADDRESS: usize = 50;
pub const WINDOW: Duration = Duration::from_secs(15 * 60);

pub struct LoginThrottle {
    by_username: Mutex<FailureWindow<String>>,
    by_address: Mutex<FailureWindow<IpAddr>>,
}

impl Default for LoginThrottle {
    fn default() -> Self {
        Self {
            by_username: Mutex::new(FailureWindow::new(PER_USERNAME, WINDOW)),
            by_address: Mutex::new(FailureWindow::new(PER_ADDRESS, WINDOW)),
        }
    }
}

fn key(username: &str) -> String {
    username.trim().to_lowercase()
}

impl LoginThrottle {
    /// `Err(wait)` when this username or address must wait before trying again.
    pub fn check(&self, username: &str, address: Option<IpAddr>) -> Result<(), Duration> {
        let now = Instant::now();
        let by_user = self
            .by_username
            .lock()
            .expect("throttle lock")
            .blocked(&key(username), now);
        let by_addr = address.and_then(|a| self.by_address.lock().expect("throttle lock").blocked(&a, now));
        match by_user.max(by_addr) {
            Some(wait) => Err(wait),
            None => Ok(()),
        }
    }

    pub fn failed(&self, username: &str, address: Option<IpAddr>) {
        let now = Instant::now();
        let mut users = self.by_username.lock().expect("throttle lock");
        users.sweep(now);
        users.record_failure(key(username), now);
        if let Some(a) = address {
            let mut addrs = self.by_address.lock().expect("throttle lock");
            addrs.sweep(now);
            addrs.record_failure(a, now);
        }
    }

    pub fn succeeded(&self, username: &str) {
        self.by_username.lock().expect("throttle lock").clear(&key(username));
    }
}
