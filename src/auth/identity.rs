use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter};

use super::{JwtKeys, api_token};
use crate::entity::{api_token as token_entity, user};

/// A signed-in user.
#[derive(Debug, Clone)]
pub struct Identity {
    pub user: user::Model,
}

impl Identity {
    pub fn user_id(&self) -> i64 {
        self.user.id
    }

    pub fn is_admin(&self) -> bool {
        self.user.is_admin
    }
}

/// The outcome of reading the bearer token of a request.
#[derive(Debug, Clone)]
pub enum Auth {
    Anonymous,
    /// A token was sent but is not valid (bad signature, expired, revoked…).
    Rejected,
    User(Identity),
}

/// Resolves a bearer token (a JWT from `login` or an API token) to a user.
pub async fn authenticate(
    db: &impl ConnectionTrait,
    keys: &JwtKeys,
    bearer: Option<&str>,
) -> Result<Auth, sea_orm::DbErr> {
    let Some(token) = bearer.map(str::trim).filter(|t| !t.is_empty()) else {
        return Ok(Auth::Anonymous);
    };
    let user_id = if api_token::looks_like_api_token(token) {
        let found = token_entity::Entity::find()
            .filter(token_entity::Column::TokenHash.eq(api_token::hash(token)))
            .filter(token_entity::Column::RevokedAt.is_null())
            .one(db)
            .await?;
        found.map(|t| t.user_id)
    } else {
        keys.verify(token).and_then(|claims| claims.sub.parse::<i64>().ok())
    };
    let Some(user_id) = user_id else {
        return Ok(Auth::Rejected);
    };
    Ok(match user::Entity::find_by_id(user_id).one(db).await? {
        Some(user) => Auth::User(Identity { user }),
        None => Auth::Rejected,
    })
}

/// The token of an `Authorization: Bearer …` header value.
pub fn bearer_token(header: &str) -> Option<&str> {
    let (scheme, token) = header.trim().split_once(' ')?;
    scheme.eq_ignore_ascii_case("bearer").then_some(token.trim())
}
