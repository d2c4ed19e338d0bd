//! A webhook stand-in on 127.0.0.1:0 that answers 200 at once and records
//! when each request arrived (and, if asked, its JSON body).

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::routing::post;
use serde_json::Value;
use tokio::sync::Notify;

pub struct Arrivals {
    keep_bodies: bool,
    count: AtomicU64,
    log: Mutex<Vec<(Instant, Value)>>,
    changed: Notify,
}

pub struct Receiver {
    pub base: String,
    pub arrivals: Arc<Arrivals>,
    handle: tokio::task::JoinHandle<()>,
}

async fn receive(State(arrivals): State<Arc<Arrivals>>, body: Bytes) -> &'static str {
    let at = Instant::now();
    if arrivals.keep_bodies {
        let value = serde_json::from_slice(&body).unwrap_or(Value::Null);
        arrivals.log.lock().expect("arrival log").push((at, value));
    }
    arrivals.count.fetch_add(1, Ordering::SeqCst);
    arrivals.changed.notify_waiters();
    "ok"
}

impl Receiver {
    pub async fn start(keep_bodies: bool) -> anyhow::Result<Receiver> {
        let arrivals = Arc::new(Arrivals {
            keep_bodies,
            count: AtomicU64::new(0),
            log: Mutex::new(Vec::new()),
            changed: Notify::new(),
        });
        let app = Router::new()
            .route("/{*path}", post(receive))
            .with_state(arrivals.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        let base = format!("http://{}", listener.local_addr()?);
        let handle = tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        Ok(Receiver { base, arrivals, handle })
    }

    pub fn count(&self) -> u64 {
        self.arrivals.count.load(Ordering::SeqCst)
    }

    /// Waits until at least `n` requests arrived; false on timeout.
    pub async fn wait_for(&self, n: u64, timeout: Duration) -> bool {
        let deadline = tokio::time::Instant::now() + timeout;
        loop {
            let changed = self.arrivals.changed.notified();
            if self.count() >= n {
                return true;
            }
            if tokio::time::timeout_at(deadline, changed).await.is_err() {
                return self.count() >= n;
            }
        }
    }

    /// The recorded arrivals, in order.
    pub fn log(&self) -> Vec<(Instant, Value)> {
        self.arrivals.log.lock().expect("arrival log").clone()
    }
}

impl Drop for Receiver {
    fn drop(&mut self) {
        self.handle.abort();
    }
}
