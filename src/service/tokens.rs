use sea_orm::ActiveValue::{NotSet, Set};
use sea_orm::{ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, IntoActiveModel, QueryFilter, QueryOrder};

use crate::auth::{Identity, api_token};
use crate::domain::Name;
use crate::entity::api_token as token_entity;
use crate::error::{AppError, AppResult};
use crate::live::{self, EventKind, NewEvent};
use crate::state::AppState;
use crate::store::Scope;

/// Creates an API token for the caller. The token is returned once; only its
/// hash is kept.
pub async fn create(db: &impl ConnectionTrait, who: &Identity, name: Name) -> AppResult<(String, token_entity::Model)> {
    let (token, hash) = api_token::generate();
    let stored = token_entity::ActiveModel {
        id: NotSet,
        user_id: Set(who.user_id()),
        name: Set(name.into_inner()),
        token_hash: Set(hash),
        created_at: Set(chrono::Utc::now()),
        revoked_at: Set(None),
    }
    .insert(db)
    .await?;
    Ok((token, stored))
}

/// Revokes one of the caller's tokens (administrators: anybody's). The
/// revocation is an event: every replica's sockets opened with the token
/// check it again and close.
pub async fn revoke(app: &AppState, who: &Identity, id: i64) -> AppResult<token_entity::Model> {
    let txn = app.begin().await?;
    let token = token_entity::Entity::find_by_id(id)
        .one(&txn)
        .await?
        .filter(|t| t.user_id == who.user_id() || who.is_admin())
        .ok_or(AppError::NotFound("API token"))?;
    if token.revoked_at.is_some() {
        return Ok(token);
    }
    let user_id = token.user_id;
    txn.lock([Scope::User(user_id)]).await?;
    let mut row = token.into_active_model();
    row.revoked_at = Set(Some(chrono::Utc::now()));
    let revoked = row.update(&txn).await?;
    live::emit(&txn, NewEvent::for_user(EventKind::Credentials, Some(user_id))).await?;
    txn.commit().await?;
    Ok(revoked)
}

pub async fn of_user(db: &impl ConnectionTrait, user_id: i64) -> AppResult<Vec<token_entity::Model>> {
    Ok(token_entity::Entity::find()
        .filter(token_entity::Column::UserId.eq(user_id))
        .order_by_asc(token_entity::Column::Id)
        .all(db)
        .await?)
}
