//! The event log that live subscriptions read: what changed, in commit
//! order, kept for a short while.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table("events")
                    .col(big_pk_auto("id"))
                    .col(string_len("kind", 32))
                    .col(big_integer_null("notification_id"))
                    .col(string_len_null("notification_type", 32))
                    .col(big_integer_null("product_id"))
                    .col(big_integer_null("user_id"))
                    .col(timestamp_with_time_zone("created_at"))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_events_created_at")
                    .table("events")
                    .col("created_at")
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager.drop_table(Table::drop().table("events").to_owned()).await
    }
}
