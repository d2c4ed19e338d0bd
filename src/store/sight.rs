//! Who sees what, written once. Roles come from one query over direct and
//! group memberships ([`memberships`]); what a role lets a user see of a
//! notification is `domain::notification::visibility`. The list, the
//! count, the live viewer and the live fan-out all go through here.

use std::collections::HashMap;

use sea_orm::sea_query::{Alias, Expr, ExprTrait, Order, Query, SelectStatement, UnionType};
use sea_orm::{ColumnTrait, Condition, ConnectionTrait, StatementBuilder};

use crate::auth::Identity;
use crate::domain::notification::{self, Visibility};
use crate::domain::{NotificationType, Role};
use crate::entity::{product, product_group_member, product_member};
use crate::error::AppError;

/// Whose memberships to read.
#[derive(Debug, Clone, Copy)]
pub enum Of {
    User(i64),
    Product(i64),
    UserOnProduct { user_id: i64, product_id: i64 },
}

impl Of {
    fn user(self) -> Option<i64> {
        match self {
            Of::User(u) | Of::UserOnProduct { user_id: u, .. } => Some(u),
            Of::Product(_) => None,
        }
    }

    fn product(self) -> Option<i64> {
        match self {
            Of::Product(p) | Of::UserOnProduct { product_id: p, .. } => Some(p),
            Of::User(_) => None,
        }
    }
}

/// (product, user, role) rows for direct memberships and those held through
/// the product's group, in one statement; a user may appear twice per
/// product, once for each way.
fn membership_rows(of: Of) -> SelectStatement {
    let mut direct = Query::select()
        .column(product_member::Column::ProductId)
        .column(product_member::Column::UserId)
        .column(product_member::Column::Role)
        .from(product_member::Entity)
        .to_owned();
    let mut via_group = Query::select()
        .column((product::Entity, product::Column::Id))
        .column((product_group_member::Entity, product_group_member::Column::UserId))
        .column((product_group_member::Entity, product_group_member::Column::Role))
        .from(product_group_member::Entity)
        .inner_join(
            product::Entity,
            Expr::col((product::Entity, product::Column::ProductGroupId)).equals((
                product_group_member::Entity,
                product_group_member::Column::ProductGroupId,
            )),
        )
        .to_owned();
    if let Some(user_id) = of.user() {
        direct.and_where(Expr::col(product_member::Column::UserId).eq(user_id));
        via_group
            .and_where(Expr::col((product_group_member::Entity, product_group_member::Column::UserId)).eq(user_id));
    }
    if let Some(product_id) = of.product() {
        direct.and_where(Expr::col(product_member::Column::ProductId).eq(product_id));
        via_group.and_where(Expr::col((product::Entity, product::Column::Id)).eq(product_id));
    }
    direct.union(UnionType::All, via_group).to_owned()
}

/// Effective roles, keyed by (product, user): the highest of the direct
/// and the group role (`Role::effective`).
pub async fn memberships(db: &impl ConnectionTrait, of: Of) -> Result<HashMap<(i64, i64), Role>, AppError> {
    let statement = StatementBuilder::build(&membership_rows(of), &db.get_database_backend());
    let mut roles: HashMap<(i64, i64), Role> = HashMap::new();
    for row in db.query_all_raw(statement).await? {
        let product_id: i64 = row.try_get_by_index(0)?;
        let user_id: i64 = row.try_get_by_index(1)?;
        let role: Role = row.try_get_by_index(2)?;
        let entry = roles.entry((product_id, user_id)).or_insert(role);
        *entry = Role::effective(false, Some(*entry), Some(role)).unwrap_or(role);
    }
    Ok(roles)
}

/// Every member's effective role on one product (administrators are not
/// listed: they see everything). The live fan-out classifies thousands of
/// subscribers with it at once.
pub async fn audience(db: &impl ConnectionTrait, product_id: i64) -> Result<HashMap<i64, Role>, AppError> {
    let roles = memberships(db, Of::Product(product_id)).await?;
    Ok(roles.into_iter().map(|((_, user), role)| (user, role)).collect())
}

/// The caller's effective role on one product (administrators: OWNER).
pub async fn role_on(db: &impl ConnectionTrait, who: &Identity, product_id: i64) -> Result<Option<Role>, AppError> {
    if who.is_admin() {
        return Ok(Some(Role::Owner));
    }
    let of = Of::UserOnProduct {
        user_id: who.user_id(),
        product_id,
    };
    Ok(memberships(db, of).await?.into_values().next())
}

/// What one user sees: everything (administrators), or what their roles on
/// products let them see.
#[derive(Debug, Clone)]
pub struct Sight {
    admin: bool,
    roles: HashMap<i64, Role>,
}

impl Sight {
    pub async fn of(db: &impl ConnectionTrait, who: &Identity) -> Result<Self, AppError> {
        if who.is_admin() {
            return Ok(Self::everything());
        }
        let roles = memberships(db, Of::User(who.user_id())).await?;
        Ok(Self {
            admin: false,
            roles: roles.into_iter().map(|((product, _), role)| (product, role)).collect(),
        })
    }

    fn everything() -> Self {
        Self {
            admin: true,
            roles: HashMap::new(),
        }
    }

    pub fn is_admin(&self) -> bool {
        self.admin
    }

    /// The role on a product (administrators: OWNER, also for
    /// notifications without a product).
    pub fn role_on(&self, product_id: Option<i64>) -> Option<Role> {
        if self.admin {
            return Some(Role::Owner);
        }
        product_id.and_then(|id| self.roles.get(&id).copied())
    }

    pub fn visibility(&self, kind: NotificationType, product_id: Option<i64>) -> Visibility {
        notification::visibility(kind, self.admin, self.role_on(product_id))
    }

    /// The products a non-administrator holds a role on, in id order;
    /// `None` for administrators, who see every product.
    pub fn products(&self) -> Option<Vec<i64>> {
        if self.admin {
            return None;
        }
        let mut ids: Vec<i64> = self.roles.keys().copied().collect();
        ids.sort_unstable();
        Some(ids)
    }

    /// [`Sight::visibility`] as SQL over a table's type and product columns:
    /// a row passes when this user sees it, whole or in part.
    pub fn condition(&self, kind: impl ColumnTrait, product: impl ColumnTrait) -> Condition {
        match self.products() {
            None => Condition::all(),
            Some(ids) => seen_by_members(kind, product, ids),
        }
    }
}

/// The rows a member of `products` sees, by their type and product columns.
pub fn seen_by_members(
    kind: impl ColumnTrait,
    product: impl ColumnTrait,
    products: impl IntoIterator<Item = i64>,
) -> Condition {
    Condition::all()
        .add(kind.is_in(notification::kinds_members_see()))
        .add(product.is_in(products))
}

/// The newest `limit` ids among the rows `branch` gives for each product.
/// Each product's branch is a bounded walk down the (product_id, id)
/// index, so a product whose notifications are all old costs no more than
/// one with new ones; only the merged newest ids are returned, so the
/// caller loads `limit` rows, not `limit` per product. The same statement
/// runs on both engines.
pub fn newest_per_product(
    products: &[i64],
    limit: u64,
    branch: impl Fn(i64) -> SelectStatement,
) -> Option<SelectStatement> {
    let mut branches = products.iter().enumerate().map(|(i, &product_id)| {
        // SQLite takes ORDER BY and LIMIT only on a whole compound select,
        // so each branch is a subquery of its own.
        Query::select()
            .column(Alias::new("id"))
            .from_subquery(branch(product_id).limit(limit).to_owned(), Alias::new(format!("b{i}")))
            .to_owned()
    });
    let mut union = branches.next()?;
    for next in branches {
        union.union(UnionType::All, next);
    }
    Some(
        Query::select()
            .column(Alias::new("id"))
            .from_subquery(union, Alias::new("newest"))
            .order_by(Alias::new("id"), Order::Desc)
            .limit(limit)
            .to_owned(),
    )
}
