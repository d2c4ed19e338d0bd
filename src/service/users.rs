use sea_orm::ActiveValue::{NotSet, Set};
use sea_orm::{ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder};

use crate::auth::{Identity, JwtKeys, PasswordHasher};
use crate::domain::text::{self, Lines, PASSWORD_MAX_LEN};
use crate::domain::{EmailAddress, ValidationError};
use crate::entity::user;
use crate::error::{AppError, AppResult};
use crate::service::unique_violation_as;
use crate::state::AppState;
use crate::store::access::require_admin;

/// A user account to create, validated.
#[derive(Debug, Clone)]
pub struct NewUser {
    pub username: String,
    pub email: Option<EmailAddress>,
    pub full_name: Option<String>,
    pub password: String,
    pub is_admin: bool,
}

pub const MIN_PASSWORD_LEN: usize = 8;
pub const USERNAME_MAX_LEN: usize = 150;

pub fn validate_username(raw: &str) -> Result<String, ValidationError> {
    let name = raw.trim();
    let ok = !name.is_empty()
        && name.len() <= USERNAME_MAX_LEN
        && name.chars().all(|c| c.is_ascii_alphanumeric() || "@.+-_".contains(c));
    if ok {
        Ok(name.to_owned())
    } else {
        Err(ValidationError::new(
            "username",
            "must be 1 to 150 characters: letters, digits and @ . + - _",
        ))
    }
}

pub fn validate_password(raw: &str) -> Result<String, ValidationError> {
    text::check("password", raw, Lines::Single, PASSWORD_MAX_LEN)?;
    if raw.chars().count() < MIN_PASSWORD_LEN {
        return Err(ValidationError::new(
            "password",
            format!("must be at least {MIN_PASSWORD_LEN} characters"),
        ));
    }
    Ok(raw.to_owned())
}

/// Stores a user; the caller has checked who may do this.
pub async fn insert(db: &impl ConnectionTrait, hasher: &PasswordHasher, new: NewUser) -> AppResult<user::Model> {
    let password_hash = hasher.hash(&new.password).await.map_err(AppError::Internal)?;
    user::ActiveModel {
        id: NotSet,
        username: Set(new.username),
        email: Set(new.email.map(|e| e.as_str().to_owned())),
        full_name: Set(new.full_name),
        password_hash: Set(password_hash),
        is_admin: Set(new.is_admin),
        created_at: Set(chrono::Utc::now()),
    }
    .insert(db)
    .await
    .map_err(unique_violation_as("username", "this username is taken"))
}

/// Creates a user (administrators only).
pub async fn create(app: &AppState, hasher: &PasswordHasher, who: &Identity, new: NewUser) -> AppResult<user::Model> {
    require_admin(who)?;
    let txn = app.begin().await?;
    let created = insert(&txn, hasher, new).await?;
    txn.commit().await?;
    Ok(created)
}

/// What a login may carry: the rules of [`validate_username`] and
/// [`validate_password`] without the ones an existing account might predate
/// (allowed characters, minimum length). Anything else is bad input, and
/// never reaches the database (PostgreSQL refuses NUL with an error).
fn check_credentials(username: &str, password: &str) -> Result<(), ValidationError> {
    text::check("username", username, Lines::Single, USERNAME_MAX_LEN)?;
    text::check("password", password, Lines::Single, PASSWORD_MAX_LEN)
}

/// Checks a username and password and issues a session token. The answer is
/// the same for an unknown user and a wrong password.
pub async fn login_throttled(
    app: &AppState,
    username: &str,
    password: &str,
    address: Option<std::net::IpAddr>,
) -> AppResult<(String, user::Model)> {
    check_credentials(username.trim(), password)?;
    app.login_throttle
        .check(username, address)
        .map_err(AppError::TooManyRequests)?;
    match login(&app.db, &app.hasher, &app.jwt, username, password).await {
        Ok(ok) => {
            app.login_throttle.succeeded(username, address);
            Ok(ok)
        }
        Err(AppError::Unauthenticated) => {
            app.login_throttle.failed(username, address);
            tracing::info!(client = ?address, "failed login");
            Err(AppError::Unauthenticated)
        }
        Err(e) => Err(e),
    }
}

async fn login(
    db: &impl ConnectionTrait,
    hasher: &PasswordHasher,
    keys: &JwtKeys,
    username: &str,
    password: &str,
) -> AppResult<(String, user::Model)> {
    let found = user::Entity::find()
        .filter(user::Column::Username.eq(username.trim()))
        .one(db)
        .await?;
    let ok = match &found {
        Some(user) => hasher.verify(password, &user.password_hash).await,
        None => {
            // Spend the time of a hash anyway, so timing does not tell which
            // usernames exist.
            let _ = hasher.hash(password).await;
            false
        }
    };
    match found {
        Some(user) if ok => {
            let token = keys.issue(user.id).map_err(AppError::Internal)?;
            Ok((token, user))
        }
        _ => Err(AppError::Unauthenticated),
    }
}

pub async fn list(db: &impl ConnectionTrait, who: &Identity) -> AppResult<Vec<user::Model>> {
    require_admin(who)?;
    Ok(user::Entity::find()
        .order_by_asc(user::Column::Username)
        .all(db)
        .await?)
}

pub async fn by_id(db: &impl ConnectionTrait, id: i64) -> AppResult<Option<user::Model>> {
    Ok(user::Entity::find_by_id(id).one(db).await?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn usernames_and_passwords_are_checked() {
        assert_eq!(validate_username(" alice ").unwrap(), "alice");
        assert_eq!(validate_username("a b").unwrap_err().field, "username");
        assert_eq!(validate_username("").unwrap_err().field, "username");
        assert_eq!(validate_password("short").unwrap_err().field, "password");
        assert!(validate_password("long enough").is_ok());
        assert_eq!(validate_password("long enough\0").unwrap_err().field, "password");
        assert!(validate_password(&"x".repeat(PASSWORD_MAX_LEN)).is_ok());
        assert!(validate_password(&"x".repeat(PASSWORD_MAX_LEN + 1)).is_err());
    }

    #[test]
    fn login_refuses_what_no_account_can_have() {
        assert_eq!(check_credentials("adm\0in", "pw").unwrap_err().field, "username");
        assert_eq!(check_credentials(&"a".repeat(151), "pw").unwrap_err().field, "username");
        assert_eq!(check_credentials("admin", "p\0w").unwrap_err().field, "password");
        assert_eq!(
            check_credentials("admin", &"p".repeat(PASSWORD_MAX_LEN + 1))
                .unwrap_err()
                .field,
            "password"
        );
        assert!(
            check_credentials("any name", "short").is_ok(),
            "other rules are for new accounts"
        );
    }
}
