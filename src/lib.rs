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
pub mod notify;
pub mod service;
pub mod state;

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
    handle: tokio::task::JoinHandle<std::io::Result<()>>,
}

impl Server {
    /// Runs until the server stops.
    pub async fn wait(self) -> anyhow::Result<()> {
        self.handle.await??;
        Ok(())
    }

    pub fn abort(&self) {
        self.handle.abort();
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
    if state.config.run_worker {
        delivery::worker::spawn(state.clone());
    }
    jobs::spawn_retention(state.clone());
    let schema = graphql::schema(Some(state.clone()));
    let app = http::router(state.clone(), schema);
    let addr = listener.local_addr()?;
    let handle = tokio::spawn(async move { axum::serve(listener, app).await });
    Ok(Server {
        addr,
        state,
        generated_admin_password,
        handle,
    })
}
