//! Notifications, who viewed them, the delivery outbox with every attempt,
//! and the exception rate limit.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table("notifications")
                    .col(big_pk_auto("id"))
                    .col(string_len("type", 32))
                    .col(text("name"))
                    .col(text_null("message"))
                    .col(big_integer_null("product_id"))
                    .col(big_integer_null("user_id"))
                    .col(text_null("function"))
                    .col(text_null("arguments"))
                    .col(text_null("trace"))
                    // How often a rate-limited exception occurred unsent
                    // before this one, and since when.
                    .col(big_integer_null("repeat_count"))
                    .col(timestamp_with_time_zone_null("repeat_since"))
                    .col(timestamp_with_time_zone("created_at"))
                    .foreign_key(
                        ForeignKey::create()
                            .from("notifications", "product_id")
                            .to("products", "id")
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .from("notifications", "user_id")
                            .to("users", "id")
                            .on_delete(ForeignKeyAction::SetNull),
                    )
                    .to_owned(),
            )
            .await?;
        // The list is newest first, by id (ids grow with creation time), for
        // everyone and per product.
        manager
            .create_index(
                Index::create()
                    .name("idx_notifications_product_id")
                    .table("notifications")
                    .col("product_id")
                    .col("id")
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_notifications_created_at")
                    .table("notifications")
                    .col("created_at")
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table("notification_views")
                    .col(big_integer("notification_id"))
                    .col(big_integer("user_id"))
                    .col(timestamp_with_time_zone("viewed_at"))
                    .primary_key(Index::create().col("notification_id").col("user_id"))
                    .foreign_key(
                        ForeignKey::create()
                            .from("notification_views", "notification_id")
                            .to("notifications", "id")
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .from("notification_views", "user_id")
                            .to("users", "id")
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_notification_views_user")
                    .table("notification_views")
                    .col("user_id")
                    .col("notification_id")
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table("deliveries")
                    .col(big_pk_auto("id"))
                    // Null for a test message sent from the settings page.
                    .col(big_integer_null("notification_id"))
                    .col(string_len("channel", 16))
                    .col(text("target"))
                    .col(string_len("status", 16))
                    .col(integer("attempts").default(0))
                    .col(timestamp_with_time_zone_null("next_attempt_at"))
                    .col(timestamp_with_time_zone_null("lease_until"))
                    .col(text_null("last_error"))
                    .col(integer_null("last_status_code"))
                    .col(timestamp_with_time_zone("created_at"))
                    .col(timestamp_with_time_zone("updated_at"))
                    .foreign_key(
                        ForeignKey::create()
                            .from("deliveries", "notification_id")
                            .to("notifications", "id")
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        // The worker's claim: due rows in order. Partial, so it holds only
        // what is still to be sent and serves ORDER BY … LIMIT directly (the
        // same SQL on both engines; sea-query builds no partial indexes).
        manager
            .get_connection()
            .execute_unprepared(
                "CREATE INDEX idx_deliveries_due ON deliveries (next_attempt_at, id) \
                 WHERE status IN ('PENDING', 'RETRYING')",
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_deliveries_notification")
                    .table("deliveries")
                    .col("notification_id")
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table("delivery_attempts")
                    .col(big_pk_auto("id"))
                    .col(big_integer("delivery_id"))
                    .col(timestamp_with_time_zone("attempted_at"))
                    .col(big_integer("duration_ms"))
                    .col(string_len("outcome", 16))
                    .col(integer_null("status_code"))
                    .col(text_null("response"))
                    .col(text_null("error"))
                    .foreign_key(
                        ForeignKey::create()
                            .from("delivery_attempts", "delivery_id")
                            .to("deliveries", "id")
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_delivery_attempts_delivery")
                    .table("delivery_attempts")
                    .col("delivery_id")
                    .to_owned(),
            )
            .await?;

        // How many notifications each (product, type) has, kept with every
        // insert and delete, so that the list's totalCount does not count a
        // million rows. Product 0 stands for "no product".
        manager
            .create_table(
                Table::create()
                    .table("notification_counters")
                    .col(big_integer("product_key"))
                    .col(string_len("type", 32))
                    .col(big_integer("count").default(0))
                    .primary_key(Index::create().col("product_key").col("type"))
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table("exception_rate_limits")
                    .col(string_len("key", 64).primary_key())
                    .col(timestamp_with_time_zone("last_sent_at"))
                    .col(big_integer("suppressed").default(0))
                    .col(timestamp_with_time_zone_null("first_suppressed_at"))
                    // Bumped by every write: replicas change a row only if
                    // nobody else did since they read it.
                    .col(big_integer("version").default(0))
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table("settings")
                    .add_column(integer("notification_retention_days").default(90))
                    .to_owned(),
            )
            .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in [
            "exception_rate_limits",
            "notification_counters",
            "delivery_attempts",
            "deliveries",
            "notification_views",
            "notifications",
        ] {
            manager.drop_table(Table::drop().table(table).to_owned()).await?;
        }
        manager
            .alter_table(
                Table::alter()
                    .table("settings")
                    .drop_column("notification_retention_days")
                    .to_owned(),
            )
            .await
    }
}
