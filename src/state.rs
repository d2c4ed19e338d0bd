use std::sync::Arc;

use sea_orm::DatabaseConnection;

use crate::auth::{JwtKeys, PasswordHasher};
use crate::config::Config;

/// What every request handler shares.
#[derive(Clone)]
pub struct AppState(Arc<Inner>);

pub struct Inner {
    pub db: DatabaseConnection,
    pub jwt: JwtKeys,
    pub hasher: PasswordHasher,
    pub config: Config,
}

impl AppState {
    pub fn new(db: DatabaseConnection, jwt: JwtKeys, hasher: PasswordHasher, config: Config) -> Self {
        Self(Arc::new(Inner {
            db,
            jwt,
            hasher,
            config,
        }))
    }
}

impl std::ops::Deref for AppState {
    type Target = Inner;

    fn deref(&self) -> &Inner {
        &self.0
    }
}
