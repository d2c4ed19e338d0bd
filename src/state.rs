use std::collections::HashSet;
use std::sync::atomic::AtomicBool;
use std::sync::{Arc, Mutex};

use sea_orm::DatabaseConnection;
use tokio::sync::watch;

use crate::auth::throttle::LoginThrottle;
use crate::auth::{JwtKeys, PasswordHasher};
use crate::config::Config;
use crate::delivery::email;
use crate::entity::settings;
use crate::live::Bus;
use crate::live::fanout::FanOut;
use crate::live::sessions::Sessions;
use crate::metrics::Metrics;
use crate::store::{Signals, UnitOfWork};

/// What every request handler and background task shares.
#[derive(Clone)]
pub struct AppState(Arc<Inner>);

pub struct Inner {
    pub db: DatabaseConnection,
    pub jwt: JwtKeys,
    pub hasher: PasswordHasher,
    pub config: Config,
    /// The guarded client for webhooks (SSRF checks, timeouts, no redirects).
    pub http: reqwest::Client,
    /// Pooled SMTP connection, when `HERALD_SMTP_URL` is set.
    pub smtp: Option<email::Transport>,
    /// Woken by every commit (`store::UnitOfWork`).
    pub signals: Arc<Signals>,
    pub metrics: Metrics,
    pub login_throttle: LoginThrottle,
    /// Becomes true when the server begins to shut down.
    shutdown: watch::Sender<bool>,
    /// Deliveries this process has claimed and not yet recorded.
    pub in_flight: Mutex<HashSet<i64>>,
    /// Live subscribers of this process listen here.
    pub bus: Bus,
    /// This process's `notificationCreated` subscribers.
    pub fanout: Arc<FanOut>,
    /// On PostgreSQL: whether the LISTEN connection for events is up.
    pub listener_connected: AtomicBool,
    /// This process's open websocket sessions, per user.
    pub sessions: Arc<Sessions>,
}

impl AppState {
    pub fn new(db: DatabaseConnection, jwt: JwtKeys, hasher: PasswordHasher, config: Config) -> anyhow::Result<Self> {
        let http = crate::delivery::guard::http_client(config.allow_private_targets, config.send_timeout);
        let smtp = config.smtp_url.as_deref().map(email::transport).transpose()?;
        let metrics = Metrics::default();
        let fanout = Arc::new(FanOut::new(metrics.live_subscribers.clone()));
        Ok(Self(Arc::new(Inner {
            db,
            jwt,
            hasher,
            config,
            http,
            smtp,
            signals: Arc::default(),
            metrics,
            login_throttle: LoginThrottle::default(),
            shutdown: watch::channel(false).0,
            in_flight: Mutex::new(HashSet::new()),
            bus: Bus::default(),
            fanout,
            listener_connected: AtomicBool::new(false),
            sessions: Arc::default(),
        })))
    }

    /// Email goes out only when SMTP is configured and `emailFrom` is set.
    pub fn email_enabled(&self, settings: &settings::Model) -> bool {
        self.smtp.is_some() && settings.email_from.is_some()
    }

    pub fn begin_shutdown(&self) {
        self.shutdown.send_replace(true);
    }

    /// Resolves (`wait_for(|s| *s)`) when the server begins to shut down.
    pub fn shutdown_signal(&self) -> watch::Receiver<bool> {
        self.shutdown.subscribe()
    }

    pub fn is_shutting_down(&self) -> bool {
        *self.shutdown.borrow()
    }

    /// Starts a change (see `store::UnitOfWork`).
    pub async fn begin(&self) -> Result<UnitOfWork, sea_orm::DbErr> {
        UnitOfWork::begin(&self.db, &self.signals).await
    }
}

impl std::ops::Deref for AppState {
    type Target = Inner;

    fn deref(&self) -> &Inner {
        &self.0
    }
}
