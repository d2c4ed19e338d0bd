//! Users, tokens, products and their groups, memberships, observations and the
//! single row of global settings.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

/// The gate settings and notification targets that products and product
/// groups share.
fn gate_and_targets(mut table: TableCreateStatement) -> TableCreateStatement {
    table
        .col(boolean_null("security_gate_active"))
        .col(integer_null("threshold_critical"))
        .col(integer_null("threshold_high"))
        .col(integer_null("threshold_medium"))
        .col(integer_null("threshold_low"))
        .col(integer_null("threshold_none"))
        .col(integer_null("threshold_unknown"))
        // A JSON array of addresses.
        .col(text("notification_email_to").default("[]"))
        .col(text_null("notification_ms_teams_webhook"))
        .col(text_null("notification_slack_webhook"));
    table
}

fn members_table(name: &'static str, owner_column: &'static str, owner_table: &'static str) -> TableCreateStatement {
    Table::create()
        .table(name)
        .col(big_integer(owner_column))
        .col(big_integer("user_id"))
        .col(string_len("role", 16))
        .primary_key(Index::create().col(owner_column).col("user_id"))
        .foreign_key(
            ForeignKey::create()
                .from(name, owner_column)
                .to(owner_table, "id")
                .on_delete(ForeignKeyAction::Cascade),
        )
        .foreign_key(
            ForeignKey::create()
                .from(name, "user_id")
                .to("users", "id")
                .on_delete(ForeignKeyAction::Cascade),
        )
        .to_owned()
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table("users")
                    .col(big_pk_auto("id"))
                    .col(string_len_uniq("username", 150))
                    .col(string_len_null("email", 254))
                    .col(string_len_null("full_name", 255))
                    .col(text("password_hash"))
                    .col(boolean("is_admin").default(false))
                    .col(timestamp_with_time_zone("created_at"))
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table("api_tokens")
                    .col(big_pk_auto("id"))
                    .col(big_integer("user_id"))
                    .col(string_len("name", 255))
                    .col(string_len_uniq("token_hash", 64))
                    .col(timestamp_with_time_zone("created_at"))
                    .col(timestamp_with_time_zone_null("revoked_at"))
                    .foreign_key(
                        ForeignKey::create()
                            .from("api_tokens", "user_id")
                            .to("users", "id")
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(gate_and_targets(
                Table::create()
                    .table("product_groups")
                    .col(big_pk_auto("id"))
                    .col(string_len_uniq("name", 255))
                    .col(text_null("description"))
                    .col(timestamp_with_time_zone("created_at"))
                    .to_owned(),
            ))
            .await?;

        manager
            .create_table(gate_and_targets(
                Table::create()
                    .table("products")
                    .col(big_pk_auto("id"))
                    .col(string_len_uniq("name", 255))
                    .col(text_null("description"))
                    .col(big_integer_null("product_group_id"))
                    .col(string_len("security_gate", 16).default("NONE"))
                    .col(timestamp_with_time_zone("created_at"))
                    .foreign_key(
                        ForeignKey::create()
                            .from("products", "product_group_id")
                            .to("product_groups", "id")
                            .on_delete(ForeignKeyAction::SetNull),
                    )
                    .to_owned(),
            ))
            .await?;

        manager
            .create_table(members_table("product_members", "product_id", "products"))
            .await?;
        manager
            .create_table(members_table(
                "product_group_members",
                "product_group_id",
                "product_groups",
            ))
            .await?;
        for (table, index) in [
            ("product_members", "idx_product_members_user"),
            ("product_group_members", "idx_product_group_members_user"),
        ] {
            manager
                .create_index(Index::create().name(index).table(table).col("user_id").to_owned())
                .await?;
        }

        manager
            .create_table(
                Table::create()
                    .table("observations")
                    .col(big_pk_auto("id"))
                    .col(big_integer("product_id"))
                    .col(string_len("scanner", 255))
                    .col(string_len("fingerprint", 255))
                    .col(text("title"))
                    .col(string_len("severity", 16))
                    .col(string_len("status", 32))
                    .col(timestamp_with_time_zone("created_at"))
                    .col(timestamp_with_time_zone("updated_at"))
                    .foreign_key(
                        ForeignKey::create()
                            .from("observations", "product_id")
                            .to("products", "id")
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("uq_observations_product_scanner_fingerprint")
                    .table("observations")
                    .col("product_id")
                    .col("scanner")
                    .col("fingerprint")
                    .unique()
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_observations_product_status")
                    .table("observations")
                    .col("product_id")
                    .col("status")
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table("settings")
                    .col(integer("id").primary_key())
                    .col(text_null("base_url_frontend"))
                    .col(string_len_null("email_from", 254))
                    .col(text("exception_email_to").default("[]"))
                    .col(text_null("exception_ms_teams_webhook"))
                    .col(text_null("exception_slack_webhook"))
                    .col(big_integer("exception_rate_limit_seconds").default(3600))
                    .col(boolean("security_gate_active").default(true))
                    .col(integer("threshold_critical").default(0))
                    .col(integer("threshold_high").default(0))
                    .col(integer("threshold_medium").default(99999))
                    .col(integer("threshold_low").default(99999))
                    .col(integer("threshold_none").default(99999))
                    .col(integer("threshold_unknown").default(99999))
                    .col(text_null("jwt_secret"))
                    .to_owned(),
            )
            .await?;
        manager
            .exec_stmt(
                Query::insert()
                    .into_table("settings")
                    .columns(["id"])
                    .values_panic([1.into()])
                    .to_owned(),
            )
            .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in [
            "settings",
            "observations",
            "product_group_members",
            "product_members",
            "products",
            "product_groups",
            "api_tokens",
            "users",
        ] {
            manager.drop_table(Table::drop().table(table).to_owned()).await?;
        }
        Ok(())
    }
}
