//! Members of products and product groups, and the roles they hold.

use sea_orm::ActiveValue::Set;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, ModelTrait, PaginatorTrait, QueryFilter, QueryOrder,
};

use crate::auth::Identity;
use crate::domain::Role;
use crate::domain::role::leaves_no_owner;
use crate::entity::{product_group_member, product_member, user};
use crate::error::{AppError, AppResult};
use crate::live::{self, EventKind, NewEvent};
use crate::state::AppState;
use crate::store::access;
use crate::store::{self, UnitOfWork};

/// Who is to become (or already is) a member.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MemberRef {
    /// By id: administrators, or a user who already holds a membership the
    /// caller can see. Anybody else's id is "not found", like an unknown
    /// one, so that ids cannot be probed for accounts.
    Id(i64),
    /// By exact username or email address.
    Name(String),
}

/// What a membership is of.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scope {
    Product(i64),
    Group(i64),
}

impl Scope {
    /// What a change to its members locks.
    fn lock(self) -> store::Scope {
        match self {
            Scope::Product(id) => store::Scope::Product(id),
            Scope::Group(id) => store::Scope::Group(id),
        }
    }
}

/// The caller's role on the scope, which must be at least MAINTAINER to
/// manage its members.
async fn manager_role(txn: &UnitOfWork, who: &Identity, scope: Scope) -> AppResult<Role> {
    Ok(match scope {
        Scope::Product(id) => access::product_with_role(txn, who, id, Role::Maintainer).await?.1,
        Scope::Group(id) => access::group_with_role(txn, who, id, Role::Maintainer).await?.1,
    })
}

async fn current_role(db: &impl ConnectionTrait, scope: Scope, user_id: i64) -> AppResult<Option<Role>> {
    Ok(match scope {
        Scope::Product(id) => product_member::Entity::find_by_id((id, user_id))
            .one(db)
            .await?
            .map(|m| m.role),
        Scope::Group(id) => product_group_member::Entity::find_by_id((id, user_id))
            .one(db)
            .await?
            .map(|m| m.role),
    })
}

/// How many OWNERs the scope has of its own. The caller has locked the
/// scope, so that two OWNERs stepping down at once cannot both see the
/// other stay.
async fn owners(txn: &UnitOfWork, scope: Scope) -> AppResult<u64> {
    let owner = Role::Owner;
    Ok(match scope {
        Scope::Product(id) => {
            product_member::Entity::find()
                .filter(product_member::Column::ProductId.eq(id))
                .filter(product_member::Column::Role.eq(owner))
                .count(txn)
                .await?
        }
        Scope::Group(id) => {
            product_group_member::Entity::find()
                .filter(product_group_member::Column::ProductGroupId.eq(id))
                .filter(product_group_member::Column::Role.eq(owner))
                .count(txn)
                .await?
        }
    })
}

/// Refuses a change that would leave the scope without an OWNER; `field`
/// names the input that asked for it.
async fn keep_an_owner(
    txn: &UnitOfWork,
    scope: Scope,
    before: Option<Role>,
    after: Option<Role>,
    field: &str,
) -> AppResult<()> {
    if leaves_no_owner(owners(txn, scope).await?, before, after) {
        let what = match scope {
            Scope::Product(_) => "a product",
            Scope::Group(_) => "a product group",
        };
        return Err(AppError::invalid(
            field,
            format!("{what} must keep an OWNER: make another member OWNER first"),
        ));
    }
    Ok(())
}

async fn delete_membership(db: &impl ConnectionTrait, scope: Scope, user_id: i64) -> AppResult<bool> {
    let deleted = match scope {
        Scope::Product(id) => match product_member::Entity::find_by_id((id, user_id)).one(db).await? {
            Some(m) => m.delete(db).await?.rows_affected,
            None => 0,
        },
        Scope::Group(id) => match product_group_member::Entity::find_by_id((id, user_id)).one(db).await? {
            Some(m) => m.delete(db).await?.rows_affected,
            None => 0,
        },
    };
    Ok(deleted > 0)
}

/// Gives `user_id` the role `role` on the scope (MAINTAINER+; only an OWNER
/// gives or changes the OWNER role; the last OWNER stays one).
pub async fn set(
    app: &AppState,
    who: &Identity,
    scope: Scope,
    member: MemberRef,
    role: Role,
) -> AppResult<(user::Model, Role)> {
    let txn = app.begin().await?;
    txn.lock([scope.lock()]).await?;
    let mine = manager_role(&txn, who, scope).await?;
    let member = find_member(&txn, who, scope, &member).await?;
    let user_id = member.id;
    txn.lock([store::Scope::User(user_id)]).await?;
    let before = current_role(&txn, scope, user_id).await?;
    if !mine.may_assign(role) || before.is_some_and(|b| !mine.may_assign(b)) {
        return Err(AppError::Forbidden);
    }
    keep_an_owner(&txn, scope, before, Some(role), "role").await?;
    delete_membership(&txn, scope, user_id).await?;
    match scope {
        Scope::Product(id) => {
            product_member::ActiveModel {
                product_id: Set(id),
                user_id: Set(user_id),
                role: Set(role),
            }
            .insert(&txn)
            .await?;
        }
        Scope::Group(id) => {
            product_group_member::ActiveModel {
                product_group_id: Set(id),
                user_id: Set(user_id),
                role: Set(role),
            }
            .insert(&txn)
            .await?;
        }
    }
    live::emit(&txn, NewEvent::for_user(EventKind::Membership, Some(user_id))).await?;
    txn.commit().await?;
    Ok((member, role))
}

/// Removes a member (MAINTAINER+; removing an OWNER takes an OWNER; the
/// last OWNER cannot be removed).
pub async fn remove(app: &AppState, who: &Identity, scope: Scope, user_id: i64) -> AppResult<bool> {
    let txn = app.begin().await?;
    txn.lock([scope.lock(), store::Scope::User(user_id)]).await?;
    let mine = manager_role(&txn, who, scope).await?;
    let Some(before) = current_role(&txn, scope, user_id).await? else {
        return Ok(false);
    };
    if !mine.may_assign(before) {
        return Err(AppError::Forbidden);
    }
    keep_an_owner(&txn, scope, Some(before), None, "userId").await?;
    let removed = delete_membership(&txn, scope, user_id).await?;
    live::emit(&txn, NewEvent::for_user(EventKind::Membership, Some(user_id))).await?;
    txn.commit().await?;
    Ok(removed)
}

/// The user `member` names, as the caller may address them.
async fn find_member(
    db: &impl ConnectionTrait,
    who: &Identity,
    scope: Scope,
    member: &MemberRef,
) -> AppResult<user::Model> {
    let found = match member {
        MemberRef::Id(id) if who.is_admin() || is_visible_member(db, scope, *id).await? => {
            user::Entity::find_by_id(*id).one(db).await?
        }
        MemberRef::Id(_) => None,
        MemberRef::Name(name) => {
            let name = name.trim();
            user::Entity::find()
                .filter(
                    sea_orm::Condition::any()
                        .add(user::Column::Username.eq(name))
                        .add(user::Column::Email.eq(name)),
                )
                .one(db)
                .await?
        }
    };
    found.ok_or(AppError::NotFound("user"))
}

/// Whether `user_id` is a member the caller already sees on the scope: of
/// the scope itself, or of the product's group.
async fn is_visible_member(db: &impl ConnectionTrait, scope: Scope, user_id: i64) -> AppResult<bool> {
    if current_role(db, scope, user_id).await?.is_some() {
        return Ok(true);
    }
    let Scope::Product(product_id) = scope else {
        return Ok(false);
    };
    let group = crate::entity::product::Entity::find_by_id(product_id)
        .one(db)
        .await?
        .and_then(|p| p.product_group_id);
    Ok(match group {
        Some(group) => current_role(db, Scope::Group(group), user_id).await?.is_some(),
        None => false,
    })
}

/// The members of a scope with their roles, by username.
pub async fn list(db: &impl ConnectionTrait, scope: Scope) -> AppResult<Vec<(user::Model, Role)>> {
    let pairs: Vec<(i64, Role)> = match scope {
        Scope::Product(id) => product_member::Entity::find()
            .filter(product_member::Column::ProductId.eq(id))
            .all(db)
            .await?
            .into_iter()
            .map(|m| (m.user_id, m.role))
            .collect(),
        Scope::Group(id) => product_group_member::Entity::find()
            .filter(product_group_member::Column::ProductGroupId.eq(id))
            .all(db)
            .await?
            .into_iter()
            .map(|m| (m.user_id, m.role))
            .collect(),
    };
    let users = user::Entity::find()
        .filter(user::Column::Id.is_in(pairs.iter().map(|(id, _)| *id)))
        .order_by_asc(user::Column::Username)
        .all(db)
        .await?;
    Ok(users
        .into_iter()
        .filter_map(|u| {
            let role = pairs.iter().find(|(id, _)| *id == u.id)?.1;
            Some((u, role))
        })
        .collect())
}
