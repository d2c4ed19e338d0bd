//! Each delivery remembers whose setting its target came from (the product,
//! its group, the global settings, or a test send), so that only who may
//! read that setting reads the target whole.

use sea_orm_migration::sea_orm::DbBackend;
use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        // Unknown origins (rows written before this) count as the settings:
        // administrators only. SQLite adds one column per statement.
        manager
            .alter_table(
                Table::alter()
                    .table("deliveries")
                    .add_column(string_len("target_origin", 16).default("SETTINGS"))
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table("deliveries")
                    .add_column(big_integer_null("target_origin_id"))
                    .to_owned(),
            )
            .await?;
        let db = manager.get_connection();
        // Test sends are the only deliveries without a notification.
        db.execute_unprepared("UPDATE deliveries SET target_origin = 'TEST' WHERE notification_id IS NULL")
            .await?;
        // A gate change's target that is, now, the product's own setting (or
        // else its group's) is credited to it: whoever reads it there may
        // read it here, so this reveals nothing. Anything else stays
        // administrators-only.
        let position = match manager.get_database_backend() {
            DbBackend::Postgres => "strpos",
            _ => "instr",
        };
        let matches = |owner: &str| {
            format!(
                "((deliveries.channel = 'SLACK' AND {owner}.notification_slack_webhook = deliveries.target) \
                 OR (deliveries.channel = 'MS_TEAMS' AND {owner}.notification_ms_teams_webhook = deliveries.target) \
                 OR (deliveries.channel = 'EMAIL' \
                     AND {position}({owner}.notification_email_to, '\"' || deliveries.target || '\"') > 0))"
            )
        };
        db.execute_unprepared(&format!(
            "UPDATE deliveries SET target_origin = 'PRODUCT', target_origin_id = \
               (SELECT n.product_id FROM notifications n WHERE n.id = deliveries.notification_id) \
             WHERE target_origin = 'SETTINGS' AND EXISTS ( \
               SELECT 1 FROM notifications n JOIN products p ON p.id = n.product_id \
               WHERE n.id = deliveries.notification_id AND n.type = 'SECURITY_GATE' AND {})",
            matches("p")
        ))
        .await?;
        db.execute_unprepared(&format!(
            "UPDATE deliveries SET target_origin = 'PRODUCT_GROUP', target_origin_id = \
               (SELECT p.product_group_id FROM notifications n JOIN products p ON p.id = n.product_id \
                WHERE n.id = deliveries.notification_id) \
             WHERE target_origin = 'SETTINGS' AND EXISTS ( \
               SELECT 1 FROM notifications n JOIN products p ON p.id = n.product_id \
                 JOIN product_groups g ON g.id = p.product_group_id \
               WHERE n.id = deliveries.notification_id AND n.type = 'SECURITY_GATE' AND {})",
            matches("g")
        ))
        .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for column in ["target_origin_id", "target_origin"] {
            manager
                .alter_table(Table::alter().table("deliveries").drop_column(column).to_owned())
                .await?;
        }
        Ok(())
    }
}
