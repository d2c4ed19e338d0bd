//! Background jobs as rows: written in the same transaction as the change
//! that causes them, claimed with a lease like deliveries, so that a crash
//! or a restart loses none.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table("jobs")
                    .col(big_pk_auto("id"))
                    .col(string_len("kind", 64))
                    .col(text_null("arguments"))
                    // Who started it and on what, for its failure notification.
                    .col(big_integer_null("user_id"))
                    .col(big_integer_null("product_id"))
                    // A scheduled run (the hourly retention) is enqueued by
                    // every replica; the key keeps one row per period.
                    .col(string_len_null("dedupe_key", 128).unique_key())
                    .col(timestamp_with_time_zone("run_after"))
                    .col(timestamp_with_time_zone_null("lease_until"))
                    .col(integer("attempts").default(0))
                    .col(timestamp_with_time_zone_null("done_at"))
                    .col(text_null("last_error"))
                    .col(timestamp_with_time_zone("created_at"))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_jobs_due")
                    .table("jobs")
                    .col("done_at")
                    .col("run_after")
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager.drop_table(Table::drop().table("jobs").to_owned()).await
    }
}
