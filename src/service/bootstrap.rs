//! What a fresh database needs before the first request: the signing key and
//! a first administrator.

use base64::Engine;
use rand::RngCore;
use sea_orm::sea_query::Expr;
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, PaginatorTrait, QueryFilter};

use crate::auth::PasswordHasher;
use crate::entity::{settings as settings_entity, user};
use crate::error::AppError;
use crate::service::users::{self, NewUser};
use crate::store::settings;

/// The JWT signing key: the configured one, or one generated on first start
/// and kept in the database so that every replica and restart shares it.
pub async fn jwt_secret(db: &impl ConnectionTrait, configured: Option<&str>) -> anyhow::Result<Vec<u8>> {
    if let Some(secret) = configured {
        return Ok(secret.as_bytes().to_vec());
    }
    let mut bytes = [0u8; 48];
    rand::rng().fill_bytes(&mut bytes);
    let generated = base64::engine::general_purpose::STANDARD.encode(bytes);
    // Only the first replica to get here writes it; everyone reads it back.
    settings_entity::Entity::update_many()
        .col_expr(settings_entity::Column::JwtSecret, Expr::value(generated))
        .filter(settings_entity::Column::Id.eq(settings_entity::ID))
        .filter(settings_entity::Column::JwtSecret.is_null())
        .exec(db)
        .await?;
    let stored = settings::load(db)
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))?
        .jwt_secret
        .ok_or_else(|| anyhow::anyhow!("JWT secret was not stored"))?;
    Ok(stored.into_bytes())
}

/// Creates the first administrator when there is no user at all. Returns the
/// generated password when none was configured, for the caller to print once.
pub async fn first_admin(
    db: &impl ConnectionTrait,
    hasher: &PasswordHasher,
    username: &str,
    password: Option<&str>,
) -> anyhow::Result<Option<String>> {
    if user::Entity::find().count(db).await? > 0 {
        return Ok(None);
    }
    let (password, generated) = match password {
        Some(p) => (p.to_owned(), false),
        None => {
            let mut bytes = [0u8; 18];
            rand::rng().fill_bytes(&mut bytes);
            (base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes), true)
        }
    };
    let new = NewUser {
        username: users::validate_username(username)?,
        email: None,
        full_name: None,
        password: password.clone(),
        is_admin: true,
    };
    match users::insert(db, hasher, new).await {
        Ok(_) => Ok(generated.then_some(password)),
        // Another replica created it first.
        Err(AppError::Invalid(_)) => Ok(None),
        Err(e) => Err(anyhow::anyhow!("creating the first administrator: {e}")),
    }
}
