//! Background jobs: work started by a request that must not hold it up.
//! Each job runs in its own task; failures are logged (and will become TASK
//! notifications).

use sea_orm::{DatabaseConnection, EntityTrait, QuerySelect, TransactionTrait};

use crate::entity::product;
use crate::service::gate;

/// Evaluates every product's gate again after the global settings changed,
/// one transaction per product so a large installation is not locked at once.
pub fn spawn_reevaluate_all_gates(db: DatabaseConnection, actor: Option<i64>) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        if let Err(e) = reevaluate_all_gates(&db, actor).await {
            tracing::error!(job = "reevaluate_all_gates", error = %e, "background job failed");
        }
    })
}

pub async fn reevaluate_all_gates(db: &DatabaseConnection, actor: Option<i64>) -> anyhow::Result<usize> {
    let ids: Vec<i64> = product::Entity::find()
        .select_only()
        .column(product::Column::Id)
        .into_tuple()
        .all(db)
        .await?;
    let mut changed = 0;
    for id in ids {
        let txn = db.begin().await?;
        match gate::reevaluate(&txn, id, actor).await {
            Ok(change) => {
                txn.commit().await?;
                changed += usize::from(change.is_some());
            }
            // Deleted meanwhile.
            Err(crate::error::AppError::NotFound(_)) => {}
            Err(e) => anyhow::bail!("product {id}: {e:?}"),
        }
    }
    Ok(changed)
}
