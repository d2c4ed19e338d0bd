//! Turns events into notifications. For now a gate change is only logged;
//! storing the notification and its outbox rows belongs here, inside the
//! transaction that made the change.

use sea_orm::DatabaseTransaction;

use crate::domain::gate::GateChange;
use crate::error::AppResult;

/// Called inside the transaction that changed a product's gate, so whatever
/// is written here commits or rolls back with the change.
pub async fn gate_changed(_txn: &DatabaseTransaction, change: &GateChange, actor: Option<i64>) -> AppResult<()> {
    tracing::info!(
        product_id = change.product_id,
        from = change.from.as_str(),
        to = change.to.as_str(),
        actor,
        "security gate changed"
    );
    Ok(())
}
