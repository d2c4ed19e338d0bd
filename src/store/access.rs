//! The caller's role on products and groups, and which products they see.
//!
//! Results are spelled `Result<T, AppError>`, not the `AppResult` alias:
//! mutation testing (docs/testing.md) replaces a whole body with `Ok(..)`
//! only when it sees a `Result`, and these are the bodies that matter most.

use std::collections::HashMap;

use sea_orm::sea_query::{Expr, ExprTrait, Query};
use sea_orm::{ColumnTrait, Condition, ConnectionTrait, EntityTrait, QueryFilter};

use crate::auth::Identity;
use crate::domain::Role;
use crate::entity::{product, product_group, product_group_member, product_member};
use crate::error::AppError;

fn parse_role(raw: &str) -> Result<Role, AppError> {
    raw.parse().map_err(|e: String| AppError::internal(anyhow::anyhow!(e)))
}

/// The caller's own role on a group (admins: OWNER).
pub async fn group_role(db: &impl ConnectionTrait, who: &Identity, group_id: i64) -> Result<Option<Role>, AppError> {
    if who.is_admin() {
        return Ok(Some(Role::Owner));
    }
    let row = product_group_member::Entity::find_by_id((group_id, who.user_id()))
        .one(db)
        .await?;
    row.map(|m| parse_role(&m.role)).transpose()
}

/// The caller's effective role on a product: the higher of their product and
/// group roles (admins: OWNER).
pub async fn product_role(
    db: &impl ConnectionTrait,
    who: &Identity,
    product: &product::Model,
) -> Result<Option<Role>, AppError> {
    if who.is_admin() {
        return Ok(Some(Role::Owner));
    }
    let direct = product_member::Entity::find_by_id((product.id, who.user_id()))
        .one(db)
        .await?
        .map(|m| parse_role(&m.role))
        .transpose()?;
    let via_group = match product.product_group_id {
        Some(group_id) => group_role(db, who, group_id).await?,
        None => None,
    };
    Ok(Role::effective(false, direct, via_group))
}

/// The caller's effective role on each of `products`, in two queries (for
/// lists, where one lookup per product would be an N+1).
pub async fn roles_on(
    db: &impl ConnectionTrait,
    who: &Identity,
    products: &[product::Model],
) -> Result<HashMap<i64, Role>, AppError> {
    if who.is_admin() {
        return Ok(products.iter().map(|p| (p.id, Role::Owner)).collect());
    }
    let direct: HashMap<i64, Role> = product_member::Entity::find()
        .filter(product_member::Column::UserId.eq(who.user_id()))
        .filter(product_member::Column::ProductId.is_in(products.iter().map(|p| p.id)))
        .all(db)
        .await?
        .into_iter()
        .filter_map(|m| Some((m.product_id, m.role.parse().ok()?)))
        .collect();
    let groups: HashMap<i64, Role> = product_group_member::Entity::find()
        .filter(product_group_member::Column::UserId.eq(who.user_id()))
        .filter(product_group_member::Column::ProductGroupId.is_in(products.iter().filter_map(|p| p.product_group_id)))
        .all(db)
        .await?
        .into_iter()
        .filter_map(|m| Some((m.product_group_id, m.role.parse().ok()?)))
        .collect();
    Ok(products
        .iter()
        .filter_map(|p| {
            let via_group = p.product_group_id.and_then(|g| groups.get(&g).copied());
            Some((p.id, Role::effective(false, direct.get(&p.id).copied(), via_group)?))
        })
        .collect())
}

/// Every member's effective role on `product`, direct or through its group,
/// in two queries (administrators are not listed: they see everything).
/// Live fan-out uses it to classify thousands of subscribers at once.
pub async fn product_audience(
    db: &impl ConnectionTrait,
    product: &product::Model,
) -> Result<HashMap<i64, Role>, AppError> {
    let mut roles: HashMap<i64, Role> = HashMap::new();
    let direct = product_member::Entity::find()
        .filter(product_member::Column::ProductId.eq(product.id))
        .all(db)
        .await?;
    for m in direct {
        roles.insert(m.user_id, parse_role(&m.role)?);
    }
    if let Some(group_id) = product.product_group_id {
        let via_group = product_group_member::Entity::find()
            .filter(product_group_member::Column::ProductGroupId.eq(group_id))
            .all(db)
            .await?;
        for m in via_group {
            let role = parse_role(&m.role)?;
            let entry = roles.entry(m.user_id).or_insert(role);
            *entry = Role::effective(false, Some(*entry), Some(role)).unwrap_or(role);
        }
    }
    Ok(roles)
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
    let role = product_role(db, who, &product)
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

/// The condition on `products` that keeps those the caller is a member of,
/// directly or through the product's group.
pub fn visible_products_condition(who: &Identity) -> Condition {
    if who.is_admin() {
        return Condition::all();
    }
    let direct = Query::select()
        .column(product_member::Column::ProductId)
        .from(product_member::Entity)
        .and_where(Expr::col(product_member::Column::UserId).eq(who.user_id()))
        .to_owned();
    let via_group = Query::select()
        .column(product_group_member::Column::ProductGroupId)
        .from(product_group_member::Entity)
        .and_where(Expr::col(product_group_member::Column::UserId).eq(who.user_id()))
        .to_owned();
    Condition::any()
        .add(product::Column::Id.in_subquery(direct))
        .add(product::Column::ProductGroupId.in_subquery(via_group))
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
pub async fn visible_products(db: &impl ConnectionTrait, who: &Identity) -> Result<Vec<product::Model>, AppError> {
    use sea_orm::QueryOrder;
    Ok(product::Entity::find()
        .filter(visible_products_condition(who))
        .order_by_asc(product::Column::Name)
        .all(db)
        .await?)
}

pub fn require_admin(who: &Identity) -> Result<(), AppError> {
    if who.is_admin() {
        Ok(())
    } else {
        Err(AppError::Forbidden)
    }
}
