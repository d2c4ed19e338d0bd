//! This process's open websocket sessions, per user: the per-user limit,
//! and the wake-up that makes a session check its credential again when
//! the user's credentials changed (an API token revoked), so a revoked
//! token cannot keep a socket opened before the revocation.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use tokio::sync::Notify;

#[derive(Default)]
pub struct Sessions {
    by_user: Mutex<HashMap<i64, HashMap<u64, Arc<Notify>>>>,
    next_key: AtomicU64,
}

/// One open session; dropping it closes it in the registry.
pub struct Session {
    sessions: Arc<Sessions>,
    user_id: i64,
    key: u64,
    recheck: Arc<Notify>,
}

impl Sessions {
    /// Opens a session of `user_id`; `None` when the user already has
    /// `limit` open on this process.
    pub fn open(self: &Arc<Self>, user_id: i64, limit: usize) -> Option<Session> {
        let mut by_user = self.by_user.lock().expect("sessions lock");
        let mine = by_user.entry(user_id).or_default();
        if mine.len() >= limit {
            return None;
        }
        let key = self.next_key.fetch_add(1, Ordering::Relaxed);
        let recheck = Arc::new(Notify::new());
        mine.insert(key, recheck.clone());
        Some(Session {
            sessions: self.clone(),
            user_id,
            key,
            recheck,
        })
    }

    /// Tells every session of `user_id` to check its credential again.
    pub fn recheck(&self, user_id: i64) {
        let by_user = self.by_user.lock().expect("sessions lock");
        // `notify_one` keeps a permit for a session that is busy right now.
        by_user
            .get(&user_id)
            .into_iter()
            .flat_map(|m| m.values())
            .for_each(|n| n.notify_one());
    }

    /// Open sessions of `user_id` on this process.
    pub fn count(&self, user_id: i64) -> usize {
        self.by_user
            .lock()
            .expect("sessions lock")
            .get(&user_id)
            .map_or(0, HashMap::len)
    }
}

impl Session {
    /// Resolves when the user's credentials changed since the last call.
    pub async fn recheck_requested(&self) {
        self.recheck.notified().await
    }

    pub fn user_id(&self) -> i64 {
        self.user_id
    }
}

impl Drop for Session {
    fn drop(&mut self) {
        let mut by_user = self.sessions.by_user.lock().expect("sessions lock");
        if let Some(mine) = by_user.get_mut(&self.user_id) {
            mine.remove(&self.key);
            if mine.is_empty() {
                by_user.remove(&self.user_id);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_limit_counts_open_sessions_per_user() {
        let sessions = Arc::new(Sessions::default());
        let a = sessions.open(1, 2).unwrap();
        let _b = sessions.open(1, 2).unwrap();
        assert!(sessions.open(1, 2).is_none(), "a third one is over the limit");
        assert!(sessions.open(2, 2).is_some(), "another user has a limit of their own");
        drop(a);
        assert_eq!(sessions.count(1), 1);
        assert!(sessions.open(1, 2).is_some(), "a closed one frees its place");
    }

    #[tokio::test]
    async fn a_recheck_reaches_only_that_users_sessions_even_when_busy() {
        let sessions = Arc::new(Sessions::default());
        let mine = sessions.open(1, 5).unwrap();
        let other = sessions.open(2, 5).unwrap();
        // Asked before the session waits: the permit is kept.
        sessions.recheck(1);
        tokio::time::timeout(std::time::Duration::from_secs(1), mine.recheck_requested())
            .await
            .expect("the recheck reaches the session");
        let quiet = tokio::time::timeout(std::time::Duration::from_millis(50), other.recheck_requested()).await;
        assert!(quiet.is_err(), "another user's session is not asked");
    }
}
