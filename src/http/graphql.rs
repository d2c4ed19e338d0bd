//! `POST /graphql` and GraphiQL.

use std::net::SocketAddr;
use std::time::Instant;

use async_graphql::http::GraphiQLSource;
use async_graphql::parser::types::{DocumentOperations, OperationType};
use async_graphql_axum::{GraphQLRequest, GraphQLResponse};
use axum::extract::{ConnectInfo, State};
use axum::http::{HeaderMap, header};
use axum::response::{Html, IntoResponse};

use super::HttpState;
use crate::auth::Auth;
use crate::auth::identity::{authenticate, bearer_token};
use crate::graphql::context::ClientAddress;
use crate::metrics::{OperationLabel, RequestLabels};
use crate::notify::failure::report_response_errors;

/// The type of the operation a request runs, for metrics.
fn operation_type(request: &async_graphql::Request) -> &'static str {
    let Ok(document) = async_graphql::parser::parse_query(&request.query) else {
        return "invalid";
    };
    let ty = match &document.operations {
        DocumentOperations::Single(op) => Some(op.node.ty),
        DocumentOperations::Multiple(ops) => match &request.operation_name {
            Some(name) => ops.get(name.as_str()).map(|op| op.node.ty),
            None => ops.values().next().map(|op| op.node.ty),
        },
    };
    match ty {
        Some(OperationType::Query) => "query",
        Some(OperationType::Mutation) => "mutation",
        Some(OperationType::Subscription) => "subscription",
        None => "invalid",
    }
}

pub(super) async fn graphql(
    State(s): State<HttpState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    request: GraphQLRequest,
) -> GraphQLResponse {
    let started = Instant::now();
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
    let request = request.into_inner();
    let operation = operation_type(&request);
    let response = s
        .schema
        .execute(
            request
                .data(auth)
                .data(ClientAddress(super::client_address(&s.app.config, peer, &headers))),
        )
        .await;
    report_response_errors(&s.app, &response.errors, user_id);
    let metrics = &s.app.metrics;
    let outcome = if response.errors.is_empty() { "ok" } else { "error" };
    metrics
        .graphql_requests
        .get_or_create(&RequestLabels { operation, outcome })
        .inc();
    metrics
        .graphql_duration
        .get_or_create(&OperationLabel { operation })
        .observe(started.elapsed().as_secs_f64());
    response.into()
}

pub(super) async fn graphiql() -> impl IntoResponse {
    (
        [(header::CONTENT_SECURITY_POLICY, super::GRAPHIQL_CONTENT_SECURITY_POLICY)],
        Html(GraphiQLSource::build().endpoint("/graphql").finish()),
    )
}
