//! Herald: security gate and exception notifications over GraphQL.
//!
//! `start` builds the whole server from a [`Config`]; `main.rs` and the
//! integration tests both go through it.

pub mod auth;
pub mod config;
pub mod db;
pub mod delivery;
pub mod domain;
pub mod entity;
pub mod error;
pub mod graphql;
pub mod http;
pub mod jobs;
pub mod live;
pub mod metrics;
pub mod notify;
pub mod service;
pub mod state;
pub mod store;

use std::net::SocketAddr;

use tokio::net::TcpListener;

pub use config::Config;
use state::AppState;

/// A server bound to its address and serving in the background.
pub struct Server {
    pub addr: SocketAddr,
    pub state: AppState,
    /// Set when this start created the first administrator with a generated
    /// password; printed once by `main`.
    pub generated_admin_password: Option<String>,
    http: tokio::task::JoinHandle<std::io::Result<()>>,
    worker: Option<tokio::task::JoinHandle<()>>,
    jobs: tokio::task::JoinHandle<()>,
    background: Vec<tokio::task::JoinHandle<()>>,
}

impl Server {
    /// Runs until the HTTP server stops.
    pub async fn wait(&mut self) -> anyhow::Result<()> {
        (&mut self.http).await??;
        Ok(())
    }

    /// Stops at once, without waiting for anything (tests).
    pub fn abort(&self) {
        self.http.abort();
        self.worker.iter().for_each(|w| w.abort());
        self.jobs.abort();
        self.background.iter().for_each(|b| b.abort());
    }

    /// Graceful shutdown: stop accepting connections, let requests in flight
    /// finish and the delivery worker finish its batch, all within `deadline`;
    /// deliveries still unfinished then are released so another replica (or
    /// the next start) takes them at once instead of after their lease.
    pub async fn shutdown(mut self, deadline: std::time::Duration) -> anyhow::Result<()> {
        let until = tokio::time::Instant::now() + deadline;
        self.state.begin_shutdown();
        if tokio::time::timeout_at(until, &mut self.http).await.is_err() {
            tracing::warn!("requests still running at the shutdown deadline");
            self.http.abort();
        }
        if let Some(mut worker) = self.worker.take()
            && tokio::time::timeout_at(until, &mut worker).await.is_err()
        {
            tracing::warn!("deliveries still running at the shutdown deadline; releasing them");
            worker.abort();
            let _ = worker.await;
        }
        // The job worker stops on the shutdown signal and gives the lease of
        // a job it cut off back.
        if tokio::time::timeout_at(until, &mut self.jobs).await.is_err() {
            self.jobs.abort();
        }
        self.background.iter().for_each(|b| b.abort());
        delivery::worker::release_unfinished(&self.state).await?;
        Ok(())
    }
}

/// Connects, migrates, bootstraps and starts serving on `listener`.
pub async fn start(config: Config, listener: TcpListener) -> anyhow::Result<Server> {
    let db = db::connect(&config).await?;
    db::migrate(&db).await?;
    let hasher = auth::PasswordHasher::new(config.password_hash_cost)?;
    let secret = service::bootstrap::jwt_secret(&db, config.jwt_secret.as_deref()).await?;
    let jwt = auth::JwtKeys::new(&secret, config.jwt_ttl);
    let generated_admin_password =
        service::bootstrap::first_admin(&db, &hasher, &config.admin_username, config.admin_password.as_deref()).await?;
    let state = AppState::new(db, jwt, hasher, config)?;
    let worker = state.config.run_worker.then(|| delivery::worker::spawn(state.clone()));
    let jobs = jobs::spawn_worker(state.clone());
    let mut background = vec![jobs::spawn_schedule(state.clone())];
    background.extend(live::publisher::spawn(state.clone()).await?);
    let schema = graphql::schema(Some(state.clone()));
    background.push(live::fanout_task::spawn(state.clone(), schema.clone()));
    let app = http::router(state.clone(), schema);
    let addr = listener.local_addr()?;
    let mut stopping = state.shutdown_signal();
    let timeouts = http::conn::Timeouts {
        header: state.config.http_header_timeout,
        idle: state.config.http_idle_timeout,
    };
    let http = tokio::spawn(async move {
        let listener = http::conn::GuardedListener::new(listener, timeouts);
        axum::serve(listener, http::conn::MakeService(app))
            .with_graceful_shutdown(async move {
                let _ = stopping.wait_for(|stop| *stop).await;
            })
            .await
    });
    Ok(Server {
        addr,
        state,
        generated_admin_password,
        http,
        worker,
        jobs,
        background,
    })
}
