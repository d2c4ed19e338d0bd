//! The HTTP surface: GraphQL and GraphiQL, health checks and metrics, with
//! the layers every response passes (request ids and tracing, panics, body
//! size, CORS, security headers).

pub mod conn;
mod graphql;
mod health;
mod spa;
mod ws;

use std::any::Any;
use std::time::Duration;

use axum::Router;
use axum::http::{HeaderName, HeaderValue, Method, Request, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::cors::{AllowOrigin, CorsLayer};
use tower_http::limit::RequestBodyLimitLayer;
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};
use tower_http::set_header::SetResponseHeaderLayer;
use tower_http::trace::TraceLayer;

use tracing::Instrument;

use crate::graphql::HeraldSchema;
use crate::notify::failure::{Failure, report_request};
use crate::state::AppState;

/// The largest request body taken (GraphQL documents and variables).
pub const MAX_BODY_BYTES: usize = 1024 * 1024;

/// Everything the web app loads is its own: no inline code, no other host.
const CONTENT_SECURITY_POLICY: &str = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; \
     font-src 'self'; connect-src 'self'; object-src 'none'; frame-ancestors 'none'; base-uri 'none'; \
     form-action 'self'";

/// GraphiQL's page (GET /graphql) alone runs inline code and loads its code
/// from unpkg; it sets this itself, and the layer leaves it.
const GRAPHIQL_CONTENT_SECURITY_POLICY: &str = "default-src 'self'; script-src 'self' 'unsafe-inline' https://unpkg.com; \
     style-src 'self' 'unsafe-inline' https://unpkg.com; img-src 'self' data:; font-src 'self' data: https://unpkg.com; \
     connect-src 'self'; object-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'";

#[derive(Clone)]
struct HttpState {
    app: AppState,
    schema: HeraldSchema,
}

pub fn router(app: AppState, schema: HeraldSchema) -> Router {
    let on_panic = panic_handler(app.clone());
    let cors = cors_layer(&app.config.cors_origins);
    let x_request_id = HeaderName::from_static("x-request-id");
    let mut router = Router::new()
        .route("/graphql", get(graphql::graphiql).post(graphql::graphql))
        .route("/graphql/ws", get(ws::upgrade))
        .route("/healthz", get(health::alive))
        .route("/readyz", get(health::ready))
        .route("/metrics", get(health::metrics))
        .fallback(spa::fallback)
        .layer(RequestBodyLimitLayer::new(MAX_BODY_BYTES))
        .layer(CatchPanicLayer::custom(on_panic))
        .layer(security_header("content-security-policy", CONTENT_SECURITY_POLICY))
        .layer(security_header("x-content-type-options", "nosniff"))
        .layer(security_header("x-frame-options", "DENY"))
        .layer(security_header("referrer-policy", "no-referrer"))
        .with_state(HttpState { app, schema });
    if let Some(cors) = cors {
        router = router.layer(cors);
    }
    router
        .layer(PropagateRequestIdLayer::new(x_request_id.clone()))
        .layer(TraceLayer::new_for_http().make_span_with(|request: &Request<_>| {
            let id = request
                .headers()
                .get("x-request-id")
                .and_then(|v| v.to_str().ok())
                .unwrap_or("-");
            // The path only: query strings may carry what should not be logged.
            tracing::info_span!("request", request_id = %id, method = %request.method(), path = %request.uri().path())
        }))
        .layer(SetRequestIdLayer::new(x_request_id, MakeRequestUuid))
}

/// The address of the client of a request from `peer`: the peer, or the
/// client a trusted proxy names (`HERALD_TRUSTED_PROXIES`). For login
/// throttling, over HTTP and the websocket alike.
pub fn client_address(
    config: &crate::Config,
    peer: std::net::SocketAddr,
    headers: &axum::http::HeaderMap,
) -> std::net::IpAddr {
    let proxies = &config.trusted_proxies;
    let values = headers
        .get_all(proxies.header().name())
        .iter()
        // Not text: not an address, which ends what is believed.
        .map(|v| v.to_str().unwrap_or("?"));
    proxies.client(peer.ip(), values)
}

fn security_header(name: &'static str, value: &'static str) -> SetResponseHeaderLayer<HeaderValue> {
    SetResponseHeaderLayer::if_not_present(HeaderName::from_static(name), HeaderValue::from_static(value))
}

/// No CORS unless origins are configured: the SPA is served from the same
/// origin.
fn cors_layer(origins: &[String]) -> Option<CorsLayer> {
    if origins.is_empty() {
        return None;
    }
    let allowed: Vec<HeaderValue> = origins.iter().filter_map(|o| HeaderValue::from_str(o).ok()).collect();
    Some(
        CorsLayer::new()
            .allow_origin(AllowOrigin::list(allowed))
            .allow_methods([Method::GET, Method::POST])
            .allow_headers([header::AUTHORIZATION, header::CONTENT_TYPE])
            .max_age(Duration::from_secs(3600)),
    )
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
        tokio::spawn(async move { report_request(&app, failure).await }.instrument(tracing::Span::current()));
        let body = serde_json::json!({
            "data": null,
            "errors": [{ "message": "internal server error", "extensions": { "code": "INTERNAL_SERVER_ERROR" } }],
        });
        (StatusCode::INTERNAL_SERVER_ERROR, axum::Json(body)).into_response()
    }
}
