//! The HTTP surface: GraphQL, GraphiQL and health checks.

use async_graphql::http::GraphiQLSource;
use async_graphql_axum::{GraphQLRequest, GraphQLResponse};
use axum::Router;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use std::any::Any;

use axum::response::{Html, IntoResponse, Response};
use axum::routing::get;
use sea_orm::ConnectionTrait;

use crate::auth::Auth;
use crate::auth::identity::{authenticate, bearer_token};
use crate::graphql::HeraldSchema;
use crate::notify::failure::{Failure, report_request};
use crate::state::AppState;

#[derive(Clone)]
struct HttpState {
    app: AppState,
    schema: HeraldSchema,
}

pub fn router(app: AppState, schema: HeraldSchema) -> Router {
    let on_panic = panic_handler(app.clone());
    Router::new()
        .route("/graphql", get(graphiql).post(graphql))
        .route("/healthz", get(|| async { "ok" }))
        .route("/readyz", get(ready))
        .layer(tower_http::catch_panic::CatchPanicLayer::custom(on_panic))
        .with_state(HttpState { app, schema })
}

/// A panic while serving a request: a generic 500 for the client, an
/// EXCEPTION notification for the administrators.
fn panic_handler(app: AppState) -> impl Fn(Box<dyn Any + Send + 'static>) -> Response + Clone {
    move |payload| {
        let message = payload
            .downcast_ref::<String>()
            .cloned()
            .or_else(|| payload.downcast_ref::<&str>().map(|s| (*s).to_owned()))
            .unwrap_or_else(|| "panic".to_owned());
        let failure = Failure {
            in_task: false,
            class: "Panic".into(),
            message,
            trace: std::backtrace::Backtrace::force_capture().to_string(),
            function: None,
            arguments: None,
            user_id: None,
            product_id: None,
        };
        let app = app.clone();
        tokio::spawn(async move { report_request(&app, failure).await });
        let body = serde_json::json!({
            "data": null,
            "errors": [{ "message": "internal server error", "extensions": { "code": "INTERNAL_SERVER_ERROR" } }],
        });
        (StatusCode::INTERNAL_SERVER_ERROR, axum::Json(body)).into_response()
    }
}

async fn graphql(State(s): State<HttpState>, headers: HeaderMap, request: GraphQLRequest) -> GraphQLResponse {
    let bearer = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(bearer_token);
    let auth = match authenticate(&s.app.db, &s.app.jwt, bearer).await {
        Ok(auth) => auth,
        Err(e) => {
            tracing::error!(error = %e, "reading the caller's token failed");
            Auth::Rejected
        }
    };
    let user_id = match &auth {
        Auth::User(identity) => Some(identity.user_id()),
        _ => None,
    };
    let response = s.schema.execute(request.into_inner().data(auth)).await;
    for error in &response.errors {
        if let Some(failure) = error.source::<Failure>() {
            let failure = Failure {
                user_id,
                ..failure.clone()
            };
            let app = s.app.clone();
            // Reported after the answer, so the client does not wait for it.
            tokio::spawn(async move { report_request(&app, failure).await });
        }
    }
    response.into()
}

async fn graphiql() -> impl IntoResponse {
    Html(GraphiQLSource::build().endpoint("/graphql").finish())
}

async fn ready(State(s): State<HttpState>) -> impl IntoResponse {
    match s.app.db.execute_unprepared("SELECT 1").await {
        Ok(_) => (StatusCode::OK, "ready"),
        Err(_) => (StatusCode::SERVICE_UNAVAILABLE, "database unavailable"),
    }
}
