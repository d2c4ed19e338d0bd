use sea_orm::ActiveValue::{NotSet, Set};
use sea_orm::{ActiveModelTrait, EntityTrait, IntoActiveModel, ModelTrait};

use crate::auth::Identity;
use crate::domain::product::GroupMove;
use crate::domain::{Patch, ProductChanges, ProductSpec, Role};
use crate::entity::{product, product_member};
use crate::error::{AppError, AppResult};
use crate::live::{self, EventKind, NewEvent};
use crate::service::{gate, unique_violation_as};
use crate::state::AppState;
use crate::store::Scope;
use crate::store::access;
use crate::store::stored::GateColumnsMut;

const DUPLICATE_NAME: &str = "a product with this name already exists";

/// Creates a product; the creator becomes its OWNER. A product that joins a
/// group needs MAINTAINER on that group. Its first gate value is recorded
/// without a notification.
pub async fn create(
    app: &AppState,
    who: &Identity,
    group_id: Option<i64>,
    spec: ProductSpec,
) -> AppResult<product::Model> {
    let txn = app.begin().await?;
    if let Some(group_id) = group_id {
        // A change to the group's settings waits, or sees this product.
        txn.lock([Scope::Group(group_id)]).await?;
        access::group_with_role(&txn, who, group_id, Role::Maintainer).await?;
    }
    let mut row = product::ActiveModel {
        id: NotSet,
        product_group_id: Set(group_id),
        security_gate: Set(crate::domain::SecurityGateStatus::None),
        created_at: Set(chrono::Utc::now()),
        ..Default::default()
    };
    row.apply_spec(spec);
    let created = row
        .insert(&txn)
        .await
        .map_err(unique_violation_as("name", DUPLICATE_NAME))?;
    product_member::ActiveModel {
        product_id: Set(created.id),
        user_id: Set(who.user_id()),
        role: Set(Role::Owner),
    }
    .insert(&txn)
    .await?;
    let initial = gate::current_value(&txn, &created).await?;
    let mut row = created.into_active_model();
    row.security_gate = Set(initial);
    let created = row.update(&txn).await?;
    // New roles: the creator's, and those of the group's members.
    let event = match group_id {
        Some(_) => NewEvent::of(EventKind::Membership),
        None => NewEvent::for_user(EventKind::Membership, Some(who.user_id())),
    };
    live::emit(&txn, event).await?;
    txn.commit().await?;
    Ok(created)
}

/// Changes a product (MAINTAINER+); moving it into or out of a group needs
/// MAINTAINER on that group too. The gate is evaluated again in the same
/// transaction.
pub async fn update(
    app: &AppState,
    who: &Identity,
    id: i64,
    group: Patch<i64>,
    changes: ProductChanges,
) -> AppResult<product::Model> {
    let txn = app.begin().await?;
    // The group it joins (whose settings change then waits, or sees it),
    // then itself. Leaving needs no group lock: a change to the group it
    // leaves waits for this product's lock and finds it gone.
    let joins = match &group {
        Patch::Set(group_id) => Some(Scope::Group(*group_id)),
        Patch::Keep | Patch::Clear => None,
    };
    txn.lock(joins.into_iter().chain([Scope::Product(id)])).await?;
    let (current, _) = access::product_with_role(&txn, who, id, Role::Maintainer).await?;
    let change = GroupMove::new(current.product_group_id, &group);
    for group_id in change.leaves.into_iter().chain(change.joins) {
        access::group_with_role(&txn, who, group_id, Role::Maintainer).await?;
    }
    let mut row = current.clone().into_active_model();
    row.apply_changes(&current, changes);
    let moved = !group.is_keep();
    row.product_group_id = Set(group.apply(current.product_group_id));
    row.update(&txn)
        .await
        .map_err(unique_violation_as("name", DUPLICATE_NAME))?;
    gate::reevaluate(&txn, app, id, Some(who.user_id())).await?;
    if moved {
        // Group members gain or lose the product.
        live::emit(&txn, NewEvent::of(EventKind::Membership)).await?;
    }
    let updated = product::Entity::find_by_id(id)
        .one(&txn)
        .await?
        .ok_or(AppError::NotFound("product"))?;
    txn.commit().await?;
    Ok(updated)
}

/// Deletes a product with its observations and memberships (OWNER).
pub async fn delete(app: &AppState, who: &Identity, id: i64) -> AppResult<()> {
    let txn = app.begin().await?;
    txn.lock([Scope::Product(id)]).await?;
    let (product, _) = access::product_with_role(&txn, who, id, Role::Owner).await?;
    product.delete(&txn).await?;
    crate::notify::counters::drop_product(&txn, id).await?;
    // Its notifications went with it.
    live::emit(&txn, NewEvent::of(EventKind::Resync)).await?;
    txn.commit().await?;
    Ok(())
}
