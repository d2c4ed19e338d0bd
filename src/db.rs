//! Connecting to SQLite or PostgreSQL and bringing the schema up to date.

use std::time::Duration;

use migration::{Migrator, MigratorTrait};
use sea_orm::{ConnectOptions, Database, DatabaseConnection, DbBackend, sqlx};

use crate::config::Config;

pub async fn connect(config: &Config) -> anyhow::Result<DatabaseConnection> {
    let mut options = ConnectOptions::new(config.database_url.clone());
    options
        .max_connections(config.db_max_connections)
        .min_connections(1)
        .connect_timeout(Duration::from_secs(10))
        .acquire_timeout(Duration::from_secs(10))
        .sqlx_logging(false)
        // WAL lets readers and the writer work at once; the busy timeout makes
        // a second writer wait instead of failing with "database is locked".
        .map_sqlx_sqlite_opts(|opts| {
            opts.journal_mode(sea_orm::sqlx::sqlite::SqliteJournalMode::Wal)
                .busy_timeout(Duration::from_secs(5))
                .foreign_keys(true)
        });
    Database::connect(options)
        .await
        .map_err(|e| anyhow::anyhow!("connecting to {}: {e}", crate::config::redact_url(&config.database_url)))
}

/// Taken by whoever migrates, so replicas started together migrate one at a
/// time (sea-orm-migration takes no lock of its own).
const MIGRATION_LOCK: i64 = 0x4845_5241_4c44_4d47; // "HERALDMG"

/// Applies pending migrations. On PostgreSQL under a session advisory lock,
/// held on a connection of its own for the migration alone: a replica that
/// waited finds them applied and has nothing left to do.
pub async fn migrate(db: &DatabaseConnection) -> anyhow::Result<()> {
    if db.get_database_backend() != DbBackend::Postgres {
        Migrator::up(db, None).await?;
        return Ok(());
    }
    let mut lock = db.get_postgres_connection_pool().acquire().await?;
    sqlx::query("SELECT pg_advisory_lock($1)")
        .bind(MIGRATION_LOCK)
        .execute(&mut *lock)
        .await?;
    let migrated = Migrator::up(db, None).await;
    // Closing the connection would also release it; unlocking keeps the
    // pooled connection clean.
    let unlocked = sqlx::query("SELECT pg_advisory_unlock($1)")
        .bind(MIGRATION_LOCK)
        .execute(&mut *lock)
        .await;
    migrated?;
    unlocked?;
    Ok(())
}
