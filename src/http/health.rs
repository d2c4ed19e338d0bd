//! Liveness, readiness and metrics.

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::IntoResponse;
use chrono::{DateTime, Utc};
use sea_orm::{
    ColumnTrait, ConnectionTrait, DbBackend, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder, QuerySelect,
};

use super::HttpState;
use crate::auth::identity::bearer_token;
use crate::domain::DeliveryStatus;
use crate::entity::delivery;
use crate::metrics::PoolLabel;

pub(super) async fn alive() -> &'static str {
    "ok"
}

/// Ready when the database answers and, on PostgreSQL, the listener that
/// brings other replicas' events is connected.
pub(super) async fn ready(State(s): State<HttpState>) -> impl IntoResponse {
    if s.app.db.execute_unprepared("SELECT 1").await.is_err() {
        return (StatusCode::SERVICE_UNAVAILABLE, "database unavailable");
    }
    let postgres = s.app.db.get_database_backend() == DbBackend::Postgres;
    if postgres && !s.app.listener_connected.load(std::sync::atomic::Ordering::Relaxed) {
        return (StatusCode::SERVICE_UNAVAILABLE, "event listener not connected");
    }
    (StatusCode::OK, "ready")
}

/// Compares without leaking, through timing, how much of the token matched.
fn same_token(given: &str, expected: &str) -> bool {
    given.len() == expected.len()
        && given
            .bytes()
            .zip(expected.bytes())
            .fold(0u8, |acc, (a, b)| acc | (a ^ b))
            == 0
}

pub(super) async fn metrics(State(s): State<HttpState>, headers: HeaderMap) -> axum::response::Response {
    if let Some(expected) = &s.app.config.metrics_token {
        let given = headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(bearer_token);
        if !given.is_some_and(|g| same_token(g, expected)) {
            return (StatusCode::UNAUTHORIZED, "metrics need the metrics token").into_response();
        }
    }
    if let Err(e) = refresh_gauges(&s).await {
        tracing::warn!(error = %e, "reading the outbox for metrics failed");
    }
    (
        [(
            header::CONTENT_TYPE,
            "application/openmetrics-text; version=1.0.0; charset=utf-8",
        )],
        s.app.metrics.render(),
    )
        .into_response()
}

/// Gauges read from the database and the pool at scrape time.
async fn refresh_gauges(s: &HttpState) -> anyhow::Result<()> {
    let db = &s.app.db;
    let metrics = &s.app.metrics;
    let waiting = || {
        delivery::Entity::find()
            .filter(delivery::Column::Status.is_in([DeliveryStatus::Pending, DeliveryStatus::Retrying]))
    };
    let depth = waiting().count(db).await?;
    metrics.outbox_depth.set(depth as i64);
    let now = Utc::now();
    let oldest_due: Option<Option<DateTime<Utc>>> = waiting()
        .select_only()
        .column(delivery::Column::NextAttemptAt)
        .filter(delivery::Column::NextAttemptAt.lte(now))
        .order_by_asc(delivery::Column::NextAttemptAt)
        .into_tuple()
        .one(db)
        .await?;
    let age = oldest_due
        .flatten()
        .map_or(0.0, |at| (now - at).num_milliseconds().max(0) as f64 / 1000.0);
    metrics.outbox_oldest_due_age.set(age);
    let (size, idle) = match db.get_database_backend() {
        DbBackend::Postgres => {
            let pool = db.get_postgres_connection_pool();
            (pool.size(), pool.num_idle())
        }
        _ => {
            let pool = db.get_sqlite_connection_pool();
            (pool.size(), pool.num_idle())
        }
    };
    metrics
        .db_pool
        .get_or_create(&PoolLabel { state: "idle" })
        .set(idle as i64);
    metrics
        .db_pool
        .get_or_create(&PoolLabel { state: "in_use" })
        .set(i64::from(size) - idle as i64);
    Ok(())
}
