use async_graphql::{Context, ID};

use crate::auth::{Auth, Identity};
use crate::error::AppError;
use crate::graphql::error::ApiResult;
use crate::state::AppState;

pub fn state<'a>(ctx: &Context<'a>) -> &'a AppState {
    ctx.data_unchecked::<AppState>()
}

/// The signed-in caller, or UNAUTHENTICATED.
pub fn identity<'a>(ctx: &Context<'a>) -> ApiResult<&'a Identity> {
    match ctx.data_opt::<Auth>() {
        Some(Auth::User(identity)) => Ok(identity),
        _ => Err(AppError::Unauthenticated.into()),
    }
}

/// Reads a numeric id; anything else is bad input on `field`.
pub fn parse_id(field: &str, id: &ID) -> ApiResult<i64> {
    id.parse::<i64>()
        .ok()
        .filter(|v| *v > 0)
        .ok_or_else(|| AppError::invalid(field, "is not a valid id").into())
}

pub fn to_id(id: i64) -> ID {
    ID(id.to_string())
}

/// The address of the client that sent the request (for login throttling).
#[derive(Debug, Clone, Copy)]
pub struct ClientAddress(pub std::net::IpAddr);
