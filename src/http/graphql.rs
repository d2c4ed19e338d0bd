//! `POST /graphql` and GraphiQL.

use std::net::SocketAddr;
use std::time::Instant;

use async_graphql::http::GraphiQLSource;
use async_graphql::parser::types::{DocumentOperations, OperationType};
use async_graphql_axum::GraphQLResponse;
use axum::body::Bytes;
use axum::extract::{ConnectInfo, FromRequest, Request, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{Html, IntoResponse, Response};

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
    GraphQLBody(request): GraphQLBody,
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

/// The body of `POST /graphql`: one GraphQL request in JSON. What cannot be
/// read as one is answered here, in GraphQL's error format with a code and
/// a message meant for people (async-graphql's own extractor answers with
/// Rust debug text, and 400 for a chunked body over the limit).
pub(super) struct GraphQLBody(async_graphql::Request);

impl<S: Send + Sync> FromRequest<S> for GraphQLBody {
    type Rejection = Response;

    async fn from_request(request: Request, state: &S) -> Result<Self, Self::Rejection> {
        let bytes = match Bytes::from_request(request, state).await {
            Ok(bytes) => bytes,
            // The body limit, with or without Content-Length.
            Err(e) if e.status() == StatusCode::PAYLOAD_TOO_LARGE => {
                return Err(refused(
                    StatusCode::PAYLOAD_TOO_LARGE,
                    "PAYLOAD_TOO_LARGE",
                    format!(
                        "the request body is larger than {} MiB",
                        super::MAX_BODY_BYTES / (1024 * 1024)
                    ),
                ));
            }
            Err(_) => return Err(bad_request("the request body could not be read".into())),
        };
        if std::str::from_utf8(&bytes).is_err() {
            return Err(bad_request("the request body is not UTF-8 text".into()));
        }
        match serde_json::from_slice::<async_graphql::BatchRequest>(&bytes) {
            Ok(async_graphql::BatchRequest::Single(request)) => Ok(GraphQLBody(request)),
            Ok(async_graphql::BatchRequest::Batch(_)) => Err(bad_request(
                "send one GraphQL request per POST; batches are not supported".into(),
            )),
            // serde_json's message names what is wrong and where, e.g.
            // "missing field `query` at line 1 column 2".
            Err(e) => Err(bad_request(format!(
                "the request body is not a GraphQL request in JSON: {e}"
            ))),
        }
    }
}

fn bad_request(message: String) -> Response {
    refused(StatusCode::BAD_REQUEST, "BAD_REQUEST", message)
}

fn refused(status: StatusCode, code: &str, message: String) -> Response {
    // No `data`: nothing ran (GraphQL over HTTP's "request error").
    let body = serde_json::json!({ "errors": [{ "message": message, "extensions": { "code": code } }] });
    (status, axum::Json(body)).into_response()
}
