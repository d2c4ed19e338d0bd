//! Each event records the id of the transaction that wrote it, so that
//! readers order the log by (transaction, id) and hold back what a still
//! running transaction might yet add before it, instead of every writer
//! taking one cluster-wide lock (see docs/write-path.md).

use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::DbBackend;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let db = manager.get_connection();
        // Rows written before this are history: 0 sorts them first. SQLite
        // has one writer at a time, so its ids follow commit order and the
        // column stays 0 there.
        db.execute_unprepared("ALTER TABLE events ADD COLUMN xid BIGINT NOT NULL DEFAULT 0")
            .await?;
        if manager.get_database_backend() == DbBackend::Postgres {
            // xid8 has no cast to bigint; its text form is the full 64-bit
            // id (epoch and counter), which fits until epoch 2^31.
            db.execute_unprepared(
                "ALTER TABLE events ALTER COLUMN xid SET DEFAULT (pg_current_xact_id()::text::bigint)",
            )
            .await?;
        }
        manager
            .create_index(
                Index::create()
                    .name("idx_events_xid_id")
                    .table("events")
                    .col("xid")
                    .col("id")
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_index(Index::drop().name("idx_events_xid_id").table("events").to_owned())
            .await?;
        manager
            .alter_table(Table::alter().table("events").drop_column("xid").to_owned())
            .await
    }
}
