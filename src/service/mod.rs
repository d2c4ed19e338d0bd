//! Use cases: each public function checks the caller's role, runs in one
//! transaction, and calls into `domain` for the rules. GraphQL resolvers
//! call these and nothing below them.

pub mod bootstrap;
pub mod gate;
pub mod members;
pub mod notifications;
pub mod observations;
pub mod product_groups;
pub mod products;
pub mod settings;
pub mod tokens;
pub mod users;

use sea_orm::{DbErr, SqlErr};

use crate::error::AppError;

/// Maps a unique-constraint violation to a BAD_USER_INPUT on `field`, so a
/// duplicate found only at insert time (two requests racing) still reads as
/// bad input; any other database error stays internal.
pub(crate) fn unique_violation_as(field: &'static str, message: &'static str) -> impl FnOnce(DbErr) -> AppError {
    move |err| match err.sql_err() {
        Some(SqlErr::UniqueConstraintViolation(_)) => AppError::invalid(field, message),
        _ => AppError::from(err),
    }
}
