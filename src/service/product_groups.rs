use sea_orm::ActiveValue::{NotSet, Set};
use sea_orm::{ActiveModelTrait, EntityTrait, IntoActiveModel};

use crate::auth::Identity;
use crate::domain::{ProductChanges, ProductSpec, Role};
use crate::entity::{product_group, product_group_member};
use crate::error::{AppError, AppResult};
use crate::service::{gate, unique_violation_as};
use crate::state::AppState;
use crate::store::access;
use crate::store::stored::GateColumnsMut;

const DUPLICATE_NAME: &str = "a product group with this name already exists";

/// Creates a product group; the creator becomes its OWNER.
pub async fn create(app: &AppState, who: &Identity, spec: ProductSpec) -> AppResult<product_group::Model> {
    let txn = app.begin().await?;
    let mut row = product_group::ActiveModel {
        id: NotSet,
        created_at: Set(chrono::Utc::now()),
        ..Default::default()
    };
    row.apply_spec(spec);
    let created = row
        .insert(&txn)
        .await
        .map_err(unique_violation_as("name", DUPLICATE_NAME))?;
    product_group_member::ActiveModel {
        product_group_id: Set(created.id),
        user_id: Set(who.user_id()),
        role: Set(Role::Owner),
    }
    .insert(&txn)
    .await?;
    txn.commit().await?;
    Ok(created)
}

/// Changes a group (MAINTAINER+ on it) and evaluates its products' gates
/// again in the same transaction.
pub async fn update(
    app: &AppState,
    who: &Identity,
    id: i64,
    changes: ProductChanges,
) -> AppResult<product_group::Model> {
    let txn = app.begin().await?;
    let products = gate::lock_group(&txn, id).await?;
    let (current, _) = access::group_with_role(&txn, who, id, Role::Maintainer).await?;
    let mut row = current.clone().into_active_model();
    row.apply_changes(&current, changes);
    row.update(&txn)
        .await
        .map_err(unique_violation_as("name", DUPLICATE_NAME))?;
    gate::reevaluate_group(&txn, app, &products, Some(who.user_id())).await?;
    let updated = product_group::Entity::find_by_id(id)
        .one(&txn)
        .await?
        .ok_or(AppError::NotFound("product group"))?;
    txn.commit().await?;
    Ok(updated)
}
