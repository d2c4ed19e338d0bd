//! The caller's role on products and groups, and which products they see.
//!
//! Results are spelled `Result<T, AppError>`, not the `AppResult` alias:
//! mutation testing (docs/testing.md) replaces a whole body with `Ok(..)`
//! only when it sees a `Result`, and these are the bodies that matter most.

use sea_orm::sea_query::{Expr, ExprTrait, Query};
use sea_orm::{ColumnTrait, Condition, ConnectionTrait, EntityTrait, QueryFilter};

use crate::auth::Identity;
use crate::domain::Role;
use crate::entity::{product, product_group, product_group_member};
use crate::error::AppError;
use crate::store::sight::{self, Sight};

/// The caller's own role on a group (admins: OWNER).
pub async fn group_role(db: &impl ConnectionTrait, who: &Identity, group_id: i64) -> Result<Option<Role>, AppError> {
    if who.is_admin() {
        return Ok(Some(Role::Owner));
    }
    let row = product_group_member::Entity::find_by_id((group_id, who.user_id()))
        .one(db)
        .await?;
    Ok(row.map(|m| m.role))
}

/// Loads a product the caller may see. A product they are not a member of
/// reads as NOT_FOUND, so ids do not reveal what exists.
pub async fn visible_product(
    db: &impl ConnectionTrait,
    who: &Identity,
    id: i64,
) -> Result<(product::Model, Role), AppError> {
    let product = product::Entity::find_by_id(id)
        .one(db)
        .await?
        .ok_or(AppError::NotFound("product"))?;
    let role = sight::role_on(db, who, product.id)
        .await?
        .ok_or(AppError::NotFound("product"))?;
    Ok((product, role))
}

/// Loads a product and checks that the caller holds at least `min` on it.
pub async fn product_with_role(
    db: &impl ConnectionTrait,
    who: &Identity,
    id: i64,
    min: Role,
) -> Result<(product::Model, Role), AppError> {
    let (product, role) = visible_product(db, who, id).await?;
    if role < min {
        return Err(AppError::Forbidden);
    }
    Ok((product, role))
}

/// Loads a group and checks that the caller holds at least `min` on it.
pub async fn group_with_role(
    db: &impl ConnectionTrait,
    who: &Identity,
    id: i64,
    min: Role,
) -> Result<(product_group::Model, Role), AppError> {
    let group = product_group::Entity::find_by_id(id)
        .one(db)
        .await?
        .ok_or(AppError::NotFound("product group"))?;
    let role = group_role(db, who, id)
        .await?
        .ok_or(AppError::NotFound("product group"))?;
    if role < min {
        return Err(AppError::Forbidden);
    }
    Ok((group, role))
}

/// The condition on `product_groups` that keeps those the caller is a member of.
pub fn visible_groups_condition(who: &Identity) -> Condition {
    if who.is_admin() {
        return Condition::all();
    }
    let member_of = Query::select()
        .column(product_group_member::Column::ProductGroupId)
        .from(product_group_member::Entity)
        .and_where(Expr::col(product_group_member::Column::UserId).eq(who.user_id()))
        .to_owned();
    Condition::all().add(product_group::Column::Id.in_subquery(member_of))
}

/// Products the caller sees, by name.
pub async fn visible_products(db: &impl ConnectionTrait, sight: &Sight) -> Result<Vec<product::Model>, AppError> {
    use sea_orm::QueryOrder;
    let mut query = product::Entity::find().order_by_asc(product::Column::Name);
    if let Some(ids) = sight.products() {
        query = query.filter(product::Column::Id.is_in(ids));
    }
    Ok(query.all(db).await?)
}

pub fn require_admin(who: &Identity) -> Result<(), AppError> {
    if who.is_admin() {
        Ok(())
    } else {
        Err(AppError::Forbidden)
    }
}
