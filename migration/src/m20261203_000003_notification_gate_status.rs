//! A gate notification stores the status the gate moved to, so that nothing
//! reads it back out of the display text (`… has changed to Failed`).

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table("notifications")
                    .add_column(ColumnDef::new("gate_status").string_len(16).null())
                    .to_owned(),
            )
            .await?;
        // Rows written before this: their names are the only record, and
        // always of this one form.
        let db = manager.get_connection();
        for (status, label) in [("PASSED", "Passed"), ("FAILED", "Failed"), ("NONE", "None")] {
            db.execute_unprepared(&format!(
                "UPDATE notifications SET gate_status = '{status}' \
                 WHERE type = 'SECURITY_GATE' AND name = 'Security gate has changed to {label}'"
            ))
            .await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table("notifications")
                    .drop_column("gate_status")
                    .to_owned(),
            )
            .await
    }
}
