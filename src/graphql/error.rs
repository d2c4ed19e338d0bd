//! How errors reach the client: `extensions.code` per design.md, the field
//! for bad input, and nothing of an internal error but a generic message.

use std::sync::Arc;

use async_graphql::ErrorExtensions;

use crate::domain::ValidationError;
use crate::error::AppError;
use crate::notify::failure::Failure;

/// The error type of every resolver. It deliberately has no `Display`, so
/// that async-graphql's catch-all conversion cannot turn an internal error
/// into a message with its details. (async-graphql wants it `Clone`, hence
/// the `Arc`.)
#[derive(Debug, Clone)]
pub struct ApiError(Arc<AppError>);

pub type ApiResult<T> = Result<T, ApiError>;

impl<E: Into<AppError>> From<E> for ApiError {
    fn from(e: E) -> Self {
        ApiError(Arc::new(e.into()))
    }
}

impl From<ApiError> for async_graphql::Error {
    fn from(ApiError(error): ApiError) -> Self {
        let code = match &*error {
            AppError::Unauthenticated => "UNAUTHENTICATED",
            AppError::Forbidden => "FORBIDDEN",
            AppError::NotFound(_) => "NOT_FOUND",
            AppError::Invalid(_) => "BAD_USER_INPUT",
            AppError::TooManyRequests(_) => "TOO_MANY_REQUESTS",
            AppError::Internal(_) => "INTERNAL_SERVER_ERROR",
        };
        let message = match &*error {
            AppError::Internal(_) => "internal server error".to_owned(),
            other => other.to_string(),
        };
        let base = match &*error {
            // The HTTP layer finds the failure here and reports it.
            AppError::Internal(cause) => {
                let mut e = async_graphql::Error::new_with_source(Failure::from_error(cause, false));
                e.message = message;
                e
            }
            _ => async_graphql::Error::new(message),
        };
        base.extend_with(|_, ext| {
            ext.set("code", code);
            if let AppError::Invalid(ValidationError { field, .. }) = &*error {
                ext.set("field", field.as_str());
            }
        })
    }
}
