//! Re-evaluates a product's security gate against the database and records
//! the new value; the rule itself is `domain::gate::evaluate`.

use sea_orm::ActiveValue::Set;
use sea_orm::sea_query::{Expr, ExprTrait};
use sea_orm::{ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, IntoActiveModel, QueryFilter, QuerySelect};

use crate::domain::gate::{self, GateChange};
use crate::domain::{ObservationStatus, SecurityGateStatus, Severity, SeverityCounts};
use crate::entity::{observation, product, product_group};
use crate::error::{AppError, AppResult};
use crate::notify;
use crate::state::AppState;
use crate::store::settings;
use crate::store::stored::GateColumns;
use crate::store::{Scope, UnitOfWork};

/// Open observations per severity.
pub async fn open_counts(db: &impl ConnectionTrait, product_id: i64) -> AppResult<SeverityCounts> {
    let rows: Vec<(Severity, i64)> = observation::Entity::find()
        .select_only()
        .column(observation::Column::Severity)
        .column_as(Expr::col(observation::Column::Id).count(), "n")
        .filter(observation::Column::ProductId.eq(product_id))
        .filter(observation::Column::Status.eq(ObservationStatus::Open))
        .group_by(observation::Column::Severity)
        .into_tuple()
        .all(db)
        .await?;
    let mut counts = SeverityCounts::default();
    for (severity, n) in rows {
        counts.add(severity, u64::try_from(n).unwrap_or(0));
    }
    Ok(counts)
}

/// The gate value a product has now, from its settings, its group's, the
/// global ones and its open observations.
pub async fn current_value(db: &impl ConnectionTrait, product: &product::Model) -> AppResult<SecurityGateStatus> {
    let group = match product.product_group_id {
        Some(id) => product_group::Entity::find_by_id(id).one(db).await?,
        None => None,
    };
    let global = settings::global_gate(&settings::load(db).await?);
    let counts = open_counts(db, product.id).await?;
    Ok(gate::evaluate(
        &product.gate_settings(),
        group.as_ref().map(|g| g.gate_settings()).as_ref(),
        &global,
        &counts,
    ))
}

/// Evaluates the gate of one product inside `txn`, which has locked it;
/// when its value changes, stores it and reports the change (the one place
/// a gate change is reported from).
pub async fn reevaluate(
    txn: &UnitOfWork,
    app: &AppState,
    product_id: i64,
    actor: Option<i64>,
) -> AppResult<Option<GateChange>> {
    let product = product::Entity::find_by_id(product_id)
        .one(txn)
        .await?
        .ok_or(AppError::NotFound("product"))?;
    let new = current_value(txn, &product).await?;
    let old = product.security_gate;
    let Some(change) = GateChange::between(product_id, old, new) else {
        return Ok(None);
    };
    let mut row = product.into_active_model();
    row.security_gate = Set(new);
    row.update(txn).await?;
    notify::gate_changed(txn, app, &change, actor).await?;
    Ok(Some(change))
}

/// Locks a group and then its products (none can join or leave while the
/// group is locked), before a change to the group writes anything; returns
/// the products.
pub async fn lock_group(txn: &UnitOfWork, group_id: i64) -> AppResult<Vec<i64>> {
    txn.lock([Scope::Group(group_id)]).await?;
    let ids: Vec<i64> = product::Entity::find()
        .select_only()
        .column(product::Column::Id)
        .filter(product::Column::ProductGroupId.eq(group_id))
        .into_tuple()
        .all(txn)
        .await?;
    txn.lock(ids.iter().map(|&id| Scope::Product(id))).await?;
    Ok(ids)
}

/// Re-evaluates the products of a group [`lock_group`] locked (after the
/// group's settings changed).
pub async fn reevaluate_group(
    txn: &UnitOfWork,
    app: &AppState,
    products: &[i64],
    actor: Option<i64>,
) -> AppResult<Vec<GateChange>> {
    let mut changes = Vec::new();
    for &id in products {
        changes.extend(reevaluate(txn, app, id, actor).await?);
    }
    Ok(changes)
}
