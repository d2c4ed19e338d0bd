//! Per (product, type) notification counts, changed in the same transaction
//! as the notifications they count, so the list's `totalCount` is a sum over
//! a few hundred rows instead of a count over millions.

use sea_orm::ActiveValue::Set;
use sea_orm::sea_query::{Expr, ExprTrait, OnConflict};
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter};

use crate::domain::NotificationType;
use crate::entity::notification_counter as counter;
use crate::error::AppResult;

/// The counter key of a notification's product; 0 when it has none.
pub fn product_key(product_id: Option<i64>) -> i64 {
    product_id.unwrap_or(0)
}

/// Adds `delta` (negative to subtract) to one counter.
pub async fn add(
    db: &impl ConnectionTrait,
    product_id: Option<i64>,
    kind: NotificationType,
    delta: i64,
) -> AppResult<()> {
    counter::Entity::insert(counter::ActiveModel {
        product_key: Set(product_key(product_id)),
        kind: Set(kind),
        count: Set(delta),
    })
    .on_conflict(
        OnConflict::columns([counter::Column::ProductKey, counter::Column::Kind])
            .value(
                counter::Column::Count,
                Expr::col((counter::Entity, counter::Column::Count)).add(delta),
            )
            .to_owned(),
    )
    .exec_without_returning(db)
    .await?;
    Ok(())
}

/// Forgets a deleted product's counters (its notifications went with it).
pub async fn drop_product(db: &impl ConnectionTrait, product_id: i64) -> AppResult<()> {
    counter::Entity::delete_many()
        .filter(counter::Column::ProductKey.eq(product_id))
        .exec(db)
        .await?;
    Ok(())
}
