use std::sync::Arc;

use sea_orm::DatabaseConnection;
use tokio::sync::Notify;

use crate::auth::{JwtKeys, PasswordHasher};
use crate::config::Config;
use crate::delivery::email;
use crate::entity::settings;

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
    /// Wakes the delivery worker when outbox rows were committed.
    pub outbox: Notify,
}

impl AppState {
    pub fn new(db: DatabaseConnection, jwt: JwtKeys, hasher: PasswordHasher, config: Config) -> anyhow::Result<Self> {
        let http = crate::delivery::guard::http_client(config.allow_private_targets, config.send_timeout);
        let smtp = config.smtp_url.as_deref().map(email::transport).transpose()?;
        Ok(Self(Arc::new(Inner {
            db,
            jwt,
            hasher,
            config,
            http,
            smtp,
            outbox: Notify::new(),
        })))
    }

    /// Email goes out only when SMTP is configured and `emailFrom` is set.
    pub fn email_enabled(&self, settings: &settings::Model) -> bool {
        self.smtp.is_some() && settings.email_from.is_some()
    }

    /// Call after committing a transaction that may have written outbox rows.
    pub fn outbox_changed(&self) {
        self.outbox.notify_one();
    }
}

impl std::ops::Deref for AppState {
    type Target = Inner;

    fn deref(&self) -> &Inner {
        &self.0
    }
}
