//! The HTTP surface: GraphQL, GraphiQL and health checks.

use async_graphql::http::GraphiQLSource;
use async_graphql_axum::{GraphQLRequest, GraphQLResponse};
use axum::Router;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{Html, IntoResponse};
use axum::routing::get;
use sea_orm::ConnectionTrait;

use crate::auth::Auth;
use crate::auth::identity::{authenticate, bearer_token};
use crate::graphql::HeraldSchema;
use crate::state::AppState;

#[derive(Clone)]
struct HttpState {
    app: AppState,
    schema: HeraldSchema,
}

pub fn router(app: AppState, schema: HeraldSchema) -> Router {
    Router::new()
        .route("/graphql", get(graphiql).post(graphql))
        .route("/healthz", get(|| async { "ok" }))
        .route("/readyz", get(ready))
        .layer(tower_http::catch_panic::CatchPanicLayer::new())
        .with_state(HttpState { app, schema })
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
    s.schema.execute(request.into_inner().data(auth)).await.into()
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
