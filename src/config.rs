//! Configuration from the environment (design.md, "Configuration").

use std::net::SocketAddr;
use std::time::Duration;

use anyhow::{Context, bail};

use crate::domain::client_address::{ForwardedHeader, TrustedProxies};
use crate::domain::retry::RetrySchedule;

/// Cost of the argon2 password hash. The defaults are argon2's recommended
/// ones; tests lower them through configuration so that hashing stays real
/// but cheap.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PasswordHashCost {
    pub memory_kib: u32,
    pub iterations: u32,
    pub parallelism: u32,
}

impl Default for PasswordHashCost {
    fn default() -> Self {
        Self {
            memory_kib: argon2::Params::DEFAULT_M_COST,
            iterations: argon2::Params::DEFAULT_T_COST,
            parallelism: argon2::Params::DEFAULT_P_COST,
        }
    }
}

#[derive(Clone)]
pub struct Config {
    pub database_url: String,
    pub listen: SocketAddr,
    /// HS256 key; when unset one is generated once and kept in the database.
    pub jwt_secret: Option<String>,
    pub jwt_ttl: Duration,
    pub admin_username: String,
    /// When unset and no user exists, a password is generated and printed once.
    pub admin_password: Option<String>,
    pub password_hash_cost: PasswordHashCost,
    pub db_max_connections: u32,
    /// `smtp://user:pass@host:587?tls=required`; unset: email disabled.
    pub smtp_url: Option<String>,
    /// Delays between delivery attempts.
    pub retry_schedule: RetrySchedule,
    /// Allow webhooks to loopback and private addresses (tests, labs).
    pub allow_private_targets: bool,
    /// Adds `Mutation.injectFault` for tests.
    pub fault_injection: bool,
    /// How long a claimed delivery stays with its worker before another may
    /// take it (a crashed worker's rows come back after this).
    pub delivery_lease: Duration,
    /// How long a claimed background job stays with its worker before
    /// another replica may run it again (a crashed worker's jobs come back).
    pub job_lease: Duration,
    /// Timeout of one send, HTTP or SMTP.
    pub send_timeout: Duration,
    /// Whether this process runs the delivery worker.
    pub run_worker: bool,
    /// How long a graceful shutdown may take.
    pub shutdown_timeout: Duration,
    /// When set, `GET /metrics` requires `Authorization: Bearer <token>`.
    pub metrics_token: Option<String>,
    /// Origins allowed to call the API from a browser (none: same origin only).
    pub cors_origins: Vec<String>,
    /// How long a websocket client has to send `connection_init`.
    pub ws_init_timeout: Duration,
    /// Open websockets one user may hold (on one replica).
    pub ws_max_connections_per_user: usize,
    /// Subscriptions one websocket may run at once.
    pub ws_max_subscriptions: usize,
    /// The built web app served at `/` (`HERALD_UI_DIR`).
    pub ui_dir: std::path::PathBuf,
    /// How long a client may take to send a request's headers in full.
    pub http_header_timeout: Duration,
    /// How long a connection may stay open with no request running.
    pub http_idle_timeout: Duration,
    /// Peers whose `X-Forwarded-For` (or `Forwarded`) header names the
    /// client; nobody else's is believed.
    pub trusted_proxies: TrustedProxies,
}

impl std::fmt::Debug for Config {
    // Hand-written so that the secrets never reach a log line.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Config")
            .field("database_url", &redact_url(&self.database_url))
            .field("listen", &self.listen)
            .field("jwt_secret", &self.jwt_secret.as_ref().map(|_| "<set>"))
            .field("jwt_ttl", &self.jwt_ttl)
            .field("admin_username", &self.admin_username)
            .field("admin_password", &self.admin_password.as_ref().map(|_| "<set>"))
            .field("password_hash_cost", &self.password_hash_cost)
            .field("db_max_connections", &self.db_max_connections)
            .field("smtp_url", &self.smtp_url.as_deref().map(redact_url))
            .field("retry_schedule", &self.retry_schedule)
            .field("allow_private_targets", &self.allow_private_targets)
            .field("fault_injection", &self.fault_injection)
            .field("delivery_lease", &self.delivery_lease)
            .field("job_lease", &self.job_lease)
            .field("send_timeout", &self.send_timeout)
            .field("run_worker", &self.run_worker)
            .field("shutdown_timeout", &self.shutdown_timeout)
            .field("metrics_token", &self.metrics_token.as_ref().map(|_| "<set>"))
            .field("cors_origins", &self.cors_origins)
            .field("ws_init_timeout", &self.ws_init_timeout)
            .field("ws_max_connections_per_user", &self.ws_max_connections_per_user)
            .field("ws_max_subscriptions", &self.ws_max_subscriptions)
            .field("ui_dir", &self.ui_dir)
            .field("http_header_timeout", &self.http_header_timeout)
            .field("http_idle_timeout", &self.http_idle_timeout)
            .field("trusted_proxies", &self.trusted_proxies)
            .finish()
    }
}

/// `postgres://user:secret@host/db` → `postgres://user:***@host/db`.
pub fn redact_url(raw: &str) -> String {
    match url::Url::parse(raw) {
        Ok(mut url) if url.password().is_some() => {
            let _ = url.set_password(Some("***"));
            url.to_string()
        }
        _ => raw.to_owned(),
    }
}

impl Default for Config {
    fn default() -> Self {
        Self {
            database_url: "sqlite://herald.db?mode=rwc".into(),
            listen: "127.0.0.1:8000".parse().expect("valid address"),
            jwt_secret: None,
            jwt_ttl: Duration::from_secs(12 * 3600),
            admin_username: "admin".into(),
            admin_password: None,
            password_hash_cost: PasswordHashCost::default(),
            db_max_connections: 10,
            smtp_url: None,
            retry_schedule: RetrySchedule::default(),
            allow_private_targets: false,
            fault_injection: false,
            delivery_lease: Duration::from_secs(60),
            job_lease: Duration::from_secs(300),
            send_timeout: Duration::from_secs(10),
            run_worker: true,
            shutdown_timeout: Duration::from_secs(20),
            metrics_token: None,
            cors_origins: Vec::new(),
            ws_init_timeout: Duration::from_secs(10),
            ws_max_connections_per_user: 100,
            ws_max_subscriptions: 20,
            ui_dir: "frontend/dist".into(),
            http_header_timeout: Duration::from_secs(10),
            http_idle_timeout: Duration::from_secs(60),
            trusted_proxies: TrustedProxies::default(),
        }
    }
}

fn var(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.trim().is_empty())
}

fn parse_var<T: std::str::FromStr>(name: &str) -> anyhow::Result<Option<T>>
where
    T::Err: std::fmt::Display,
{
    match var(name) {
        None => Ok(None),
        Some(raw) => raw.trim().parse().map(Some).map_err(|e| anyhow::anyhow!("{name}: {e}")),
    }
}

impl Config {
    pub fn from_env() -> anyhow::Result<Self> {
        let mut config = Config::default();
        if let Some(url) = var("DATABASE_URL") {
            config.database_url = url;
        }
        if let Some(listen) = parse_var("HERALD_LISTEN")? {
            config.listen = listen;
        }
        config.jwt_secret = var("HERALD_JWT_SECRET");
        if let Some(secret) = &config.jwt_secret
            && secret.len() < 32
        {
            bail!("HERALD_JWT_SECRET: must be at least 32 characters");
        }
        if let Some(minutes) = parse_var::<u64>("HERALD_JWT_TTL_MINUTES")? {
            config.jwt_ttl = Duration::from_secs(minutes * 60);
        }
        if let Some(name) = var("HERALD_ADMIN_USERNAME") {
            config.admin_username = name;
        }
        config.admin_password = var("HERALD_ADMIN_PASSWORD");
        if let Some(kib) = parse_var("HERALD_ARGON2_MEMORY_KIB")? {
            config.password_hash_cost.memory_kib = kib;
        }
        if let Some(n) = parse_var("HERALD_DB_MAX_CONNECTIONS")? {
            config.db_max_connections = n;
        }
        config.smtp_url = var("HERALD_SMTP_URL");
        if let Some(raw) = var("HERALD_RETRY_SCHEDULE") {
            config.retry_schedule =
                RetrySchedule::parse(&raw).map_err(|e| anyhow::anyhow!("HERALD_RETRY_SCHEDULE: {e}"))?;
        }
        config.allow_private_targets = parse_var("HERALD_ALLOW_PRIVATE_TARGETS")?.unwrap_or(false);
        config.fault_injection = parse_var("HERALD_FAULT_INJECTION")?.unwrap_or(false);
        if let Some(seconds) = parse_var::<u64>("HERALD_DELIVERY_LEASE_SECONDS")? {
            config.delivery_lease = Duration::from_secs(seconds.max(1));
            if config.delivery_lease <= config.send_timeout {
                // Still correct (a taken-over attempt is not recorded twice),
                // but a slow receiver may get the message twice.
                tracing::warn!("HERALD_DELIVERY_LEASE_SECONDS is not longer than the 10 s send timeout");
            }
        }
        if let Some(seconds) = parse_var::<u64>("HERALD_JOB_LEASE_SECONDS")? {
            config.job_lease = Duration::from_secs(seconds.max(1));
        }
        if let Some(seconds) = parse_var::<u64>("HERALD_SHUTDOWN_TIMEOUT")? {
            config.shutdown_timeout = Duration::from_secs(seconds);
        }
        config.metrics_token = var("HERALD_METRICS_TOKEN");
        if let Some(n) = parse_var("HERALD_WS_MAX_CONNECTIONS_PER_USER")? {
            config.ws_max_connections_per_user = n;
        }
        if let Some(n) = parse_var("HERALD_WS_MAX_SUBSCRIPTIONS")? {
            config.ws_max_subscriptions = n;
        }
        if let Some(dir) = var("HERALD_UI_DIR") {
            config.ui_dir = dir.into();
        }
        if let Some(seconds) = parse_var::<u64>("HERALD_HTTP_HEADER_TIMEOUT")? {
            config.http_header_timeout = Duration::from_secs(seconds.max(1));
        }
        if let Some(seconds) = parse_var::<u64>("HERALD_HTTP_IDLE_TIMEOUT")? {
            config.http_idle_timeout = Duration::from_secs(seconds.max(1));
        }
        if let Some(raw) = var("HERALD_TRUSTED_PROXIES") {
            let header = match var("HERALD_TRUSTED_PROXY_HEADER") {
                Some(h) => {
                    ForwardedHeader::parse(&h).map_err(|e| anyhow::anyhow!("HERALD_TRUSTED_PROXY_HEADER: {e}"))?
                }
                None => ForwardedHeader::default(),
            };
            config.trusted_proxies =
                TrustedProxies::parse(&raw, header).map_err(|e| anyhow::anyhow!("HERALD_TRUSTED_PROXIES: {e}"))?;
        }
        if let Some(origins) = var("HERALD_CORS_ORIGINS") {
            config.cors_origins = origins
                .split(',')
                .map(|o| o.trim().trim_end_matches('/').to_owned())
                .filter(|o| !o.is_empty())
                .collect();
        }
        argon2::Params::new(
            config.password_hash_cost.memory_kib,
            config.password_hash_cost.iterations,
            config.password_hash_cost.parallelism,
            None,
        )
        .context("HERALD_ARGON2_MEMORY_KIB")?;
        Ok(config)
    }
}
