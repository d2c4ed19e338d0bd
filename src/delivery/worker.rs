//! The outbox worker: claims due deliveries with a lease, sends them, and
//! records every attempt. A crash between claim and record leaves the lease
//! to expire, after which the row is claimed again: at-least-once.

use std::collections::HashMap;
use std::collections::hash_map::Entry;
use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use sea_orm::ActiveValue::{NotSet, Set};
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DatabaseConnection, DbBackend, EntityTrait, FromQueryResult,
    QueryFilter, QueryOrder, QuerySelect, Statement,
};
use tokio::task::JoinSet;
use tracing::Instrument;

use crate::delivery::{email, guard, slack, teams};
use crate::domain::notification::{self, NotificationContent, Rendered};
use crate::domain::retry::{self, HttpOutcome};
use crate::domain::{BaseUrl, Channel, DeliveryStatus, WebhookUrl};
use crate::entity::{delivery, delivery_attempt, notification as notification_entity, product, user};
use crate::metrics::{ChannelLabel, DeliveryLabels};
use crate::state::AppState;

/// Deliveries sent at once by one worker.
pub const CONCURRENCY: usize = 64;
/// The longest the worker sleeps without a wake-up, to pick up retries.
const IDLE_POLL: Duration = Duration::from_secs(2);
/// Stored error and response texts are cut to this.
const TEXT_MAX: usize = 1000;

/// What one attempt came to.
#[derive(Debug)]
pub struct Attempt {
    pub outcome: HttpOutcome,
    pub status_code: Option<i32>,
    pub response: Option<String>,
    pub error: Option<String>,
    pub duration: Duration,
}

/// Runs the worker until the task is aborted.
/// Runs the worker until the server shuts down: sends run concurrently, up
/// to [`CONCURRENCY`], and new rows are claimed as soon as a place frees,
/// so a hanging receiver holds up only its own deliveries. At shutdown it
/// claims nothing new and returns once the sends in hand are recorded.
pub fn spawn(state: AppState) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let mut sends: JoinSet<anyhow::Result<()>> = JoinSet::new();
        let mut stopping = state.shutdown_signal();
        let shutdown = async move {
            let _ = stopping.wait_for(|stop| *stop).await;
        };
        tokio::pin!(shutdown);
        loop {
            let stopping = state.is_shutting_down();
            if stopping && sends.is_empty() {
                break;
            }
            let room = CONCURRENCY.saturating_sub(sends.len());
            // Claim in batches (a quarter of the places at least) rather than
            // row by row as single sends finish, unless idle.
            if !stopping && room > 0 && (sends.is_empty() || room >= CONCURRENCY / 4) {
                match start_due(&state, &mut sends, room).await {
                    // A full claim: more may be due at once.
                    Ok(n) if n == room => continue,
                    Ok(_) => {}
                    Err(e) => {
                        tracing::error!(error = ?e, "delivery worker failed");
                        crate::notify::failure::report_task(&state, "delivery_worker", None, None, None, &e).await;
                        tokio::time::sleep(Duration::from_secs(1)).await;
                    }
                }
            }
            // While sends are running, their completions wake the loop.
            let wait = if stopping || !sends.is_empty() {
                IDLE_POLL
            } else {
                next_wait(&state.db).await.unwrap_or(IDLE_POLL)
            };
            tokio::select! {
                Some(done) = sends.join_next(), if !sends.is_empty() => {
                    let result = done.map_err(anyhow::Error::from).and_then(|recorded| recorded);
                    if let Err(e) = result {
                        tracing::error!(error = ?e, "recording a delivery attempt failed");
                        crate::notify::failure::report_task(&state, "delivery_worker", None, None, None, &e).await;
                    }
                }
                _ = state.signals.outbox.notified(), if !stopping => {}
                _ = tokio::time::sleep(wait), if !stopping => {}
                _ = &mut shutdown, if !stopping => {}
            }
        }
    })
}

/// How long until the next row falls due (at most the idle poll). A row
/// leased by another worker falls due when its lease ends, not before:
/// otherwise a replica would spin while another one sends.
async fn next_wait(db: &DatabaseConnection) -> anyhow::Result<Duration> {
    let now = Utc::now();
    let waiting = || {
        delivery::Entity::find()
            .filter(delivery::Column::Status.is_in([DeliveryStatus::Pending, DeliveryStatus::Retrying]))
    };
    let free: Option<Option<DateTime<Utc>>> = waiting()
        .select_only()
        .column(delivery::Column::NextAttemptAt)
        .filter(
            sea_orm::Condition::any()
                .add(delivery::Column::LeaseUntil.is_null())
                .add(delivery::Column::LeaseUntil.lt(now)),
        )
        .order_by_asc(delivery::Column::NextAttemptAt)
        .into_tuple()
        .one(db)
        .await?;
    let leased: Option<Option<DateTime<Utc>>> = waiting()
        .select_only()
        .column(delivery::Column::LeaseUntil)
        .filter(delivery::Column::LeaseUntil.gte(now))
        .order_by_asc(delivery::Column::LeaseUntil)
        .into_tuple()
        .one(db)
        .await?;
    let soonest = [free.flatten(), leased.flatten()].into_iter().flatten().min();
    Ok(match soonest {
        Some(at) => (at - now).to_std().unwrap_or(Duration::ZERO).min(IDLE_POLL),
        None => IDLE_POLL,
    })
}

/// Claims due rows by setting a lease, in one statement: `FOR UPDATE SKIP
/// LOCKED` on PostgreSQL so replicas take different rows; SQLite has a single
/// writer, so the `UPDATE … RETURNING` is atomic there as it is.
pub async fn claim(db: &DatabaseConnection, limit: u64, lease: Duration) -> anyhow::Result<Vec<delivery::Model>> {
    let now = Utc::now();
    let lease_until = now + chrono::Duration::from_std(lease)?;
    let backend = db.get_database_backend();
    let (sql, values): (&str, Vec<sea_orm::Value>) = match backend {
        DbBackend::Postgres => (
            "UPDATE deliveries SET lease_until = $1 WHERE id IN (
                SELECT id FROM deliveries
                WHERE status IN ('PENDING', 'RETRYING') AND next_attempt_at <= $2
                  AND (lease_until IS NULL OR lease_until < $2)
                ORDER BY next_attempt_at, id LIMIT $3
                FOR UPDATE SKIP LOCKED)
             RETURNING *",
            vec![lease_until.into(), now.into(), (limit as i64).into()],
        ),
        _ => (
            "UPDATE deliveries SET lease_until = ? WHERE id IN (
                SELECT id FROM deliveries
                WHERE status IN ('PENDING', 'RETRYING') AND next_attempt_at <= ?
                  AND (lease_until IS NULL OR lease_until < ?)
                ORDER BY next_attempt_at, id LIMIT ?)
             RETURNING *",
            vec![lease_until.into(), now.into(), now.into(), (limit as i64).into()],
        ),
    };
    let rows = db
        .query_all_raw(Statement::from_sql_and_values(backend, sql, values))
        .await?;
    let mut claimed = Vec::with_capacity(rows.len());
    for row in rows {
        match delivery::Model::from_query_result(&row, "") {
            Ok(model) => claimed.push(model),
            // A value this version does not know (a channel a newer one
            // added, before a rollback): that row fails alone, or it would
            // lead every claim and stall the whole outbox.
            Err(e) => {
                let id: i64 = row.try_get("", "id")?;
                tracing::warn!(delivery_id = id, error = %e, "a delivery this version cannot read is marked FAILED");
                delivery::Entity::update_many()
                    .col_expr(delivery::Column::Status, Expr::value(DeliveryStatus::Failed))
                    .col_expr(
                        delivery::Column::LastError,
                        Expr::value(format!("this version of Herald cannot read it: {e}")),
                    )
                    .col_expr(delivery::Column::LeaseUntil, Expr::value(Option::<DateTime<Utc>>::None))
                    .filter(delivery::Column::Id.eq(id))
                    .exec(db)
                    .await?;
            }
        }
    }
    Ok(claimed)
}

/// Claims up to `limit` due rows and starts sending them; returns how many.
async fn start_due(state: &AppState, sends: &mut JoinSet<anyhow::Result<()>>, limit: usize) -> anyhow::Result<usize> {
    let claimed = claim(&state.db, limit as u64, state.config.delivery_lease).await?;
    if claimed.is_empty() {
        return Ok(0);
    }
    state
        .in_flight
        .lock()
        .expect("in-flight lock")
        .extend(claimed.iter().map(|d| d.id));
    let count = claimed.len();
    let settings = crate::store::settings::load(&state.db)
        .await
        .map_err(|e| anyhow::anyhow!("{e:?}"))?;
    let base_url = settings
        .base_url_frontend
        .as_deref()
        .and_then(|u| BaseUrl::parse("baseUrlFrontend", u).ok());
    // One rendering per notification, shared by its deliveries; a failure to
    // render fails those deliveries, not the batch.
    let mut messages: HashMap<Option<i64>, Result<Arc<Rendered>, String>> = HashMap::new();
    for row in claimed {
        if let Entry::Vacant(slot) = messages.entry(row.notification_id) {
            let rendered = render(&state.db, row.notification_id, base_url.as_ref())
                .await
                .map(Arc::new)
                .map_err(|e| format!("could not build the message: {e}"));
            slot.insert(rendered);
        }
        let message = messages[&row.notification_id].clone();
        let state = state.clone();
        let email_from = settings.email_from.clone();
        let span = tracing::info_span!("delivery", delivery_id = row.id, attempt = row.attempts + 1);
        sends.spawn(
            async move {
                let attempt = match message {
                    Ok(message) => send(&state, &row, &message, email_from.as_deref()).await,
                    Err(error) => Attempt {
                        outcome: HttpOutcome::Fail,
                        status_code: None,
                        response: None,
                        error: Some(error),
                        duration: Duration::ZERO,
                    },
                };
                let recorded = record(&state, &row, attempt).await;
                state.in_flight.lock().expect("in-flight lock").remove(&row.id);
                recorded
            }
            .instrument(span),
        );
    }
    Ok(count)
}

/// What the message of a delivery says: its notification, or the test text.
async fn render(
    db: &DatabaseConnection,
    notification_id: Option<i64>,
    base_url: Option<&BaseUrl>,
) -> anyhow::Result<Rendered> {
    let Some(id) = notification_id else {
        return Ok(notification::render_test(Utc::now()));
    };
    let n = notification_entity::Entity::find_by_id(id)
        .one(db)
        .await?
        .ok_or_else(|| anyhow::anyhow!("notification {id} is gone"))?;
    let product = match n.product_id {
        Some(pid) => product::Entity::find_by_id(pid).one(db).await?,
        None => None,
    };
    let user = match n.user_id {
        Some(uid) => user::Entity::find_by_id(uid).one(db).await?,
        None => None,
    };
    let content = NotificationContent {
        kind: n.kind,
        name: &n.name,
        message: n.message.as_deref(),
        product: product.as_ref().map(|p| (p.id, p.name.as_str())),
        gate: n.gate_status,
        user: user.as_ref().map(|u| u.username.as_str()),
        function: n.function.as_deref(),
        arguments: n.arguments.as_deref(),
        trace: n.trace.as_deref(),
        created_at: n.created_at,
        repeat: n.repeat_count.zip(n.repeat_since),
    };
    Ok(notification::render(&content, base_url))
}

fn cut(text: String) -> String {
    slack::truncate(&text, TEXT_MAX)
}

async fn send(state: &AppState, row: &delivery::Model, message: &Rendered, email_from: Option<&str>) -> Attempt {
    let started = Instant::now();
    let failed = |error: String, outcome: HttpOutcome| Attempt {
        outcome,
        status_code: None,
        response: None,
        error: Some(cut(error)),
        duration: started.elapsed(),
    };
    match row.channel {
        Channel::Email => {
            let (Some(transport), Some(from)) = (state.smtp.as_ref(), email_from) else {
                return failed("email is not configured (SMTP and emailFrom)".into(), HttpOutcome::Fail);
            };
            let first_name = first_name_of(&state.db, &row.target).await;
            let mail = match email::build(from, &row.target, message, first_name.as_deref()) {
                Ok(m) => m,
                Err(e) => return failed(e.to_string(), HttpOutcome::Fail),
            };
            let result = email::send(transport, mail).await;
            Attempt {
                outcome: result.outcome,
                status_code: result.code,
                response: result.response.map(cut),
                error: result.error.map(cut),
                duration: started.elapsed(),
            }
        }
        Channel::Slack | Channel::MsTeams => {
            let url = match WebhookUrl::parse("target", &row.target) {
                Ok(u) => u,
                Err(e) => return failed(e.message, HttpOutcome::Fail),
            };
            if let Err(refused) = guard::check_literal(url.url(), state.config.allow_private_targets) {
                return failed(refused.to_string(), HttpOutcome::Fail);
            }
            let payload = match row.channel {
                Channel::Slack => slack::payload(message),
                _ => teams::payload(&url, message),
            };
            post(&state.http, &url, &payload, started).await
        }
    }
}

async fn post(client: &reqwest::Client, url: &WebhookUrl, payload: &serde_json::Value, started: Instant) -> Attempt {
    match client.post(url.expose()).json(payload).send().await {
        Ok(response) => {
            let status = response.status().as_u16();
            let retry_after = response
                .headers()
                .get(reqwest::header::RETRY_AFTER)
                .and_then(|v| v.to_str().ok())
                .and_then(|v| retry::parse_retry_after(v, Utc::now()));
            // What a person reads first on the delivery: the status, named.
            let error = (!response.status().is_success()).then(|| {
                let reason = response.status().canonical_reason().unwrap_or("");
                format!("the receiver answered HTTP {status} {reason}")
                    .trim_end()
                    .to_owned()
            });
            let body = response.text().await.unwrap_or_default();
            Attempt {
                outcome: retry::classify_http(status, retry_after),
                status_code: Some(i32::from(status)),
                response: Some(cut(body)),
                error,
                duration: started.elapsed(),
            }
        }
        Err(e) => {
            // Refused by the SSRF guard: a different address will not appear on retry.
            let refused = matches!(guard::refusal(&e), Some(r) if r != guard::TargetRefused::Unresolvable);
            Attempt {
                outcome: if refused {
                    HttpOutcome::Fail
                } else {
                    HttpOutcome::Retry { after: None }
                },
                status_code: None,
                response: None,
                // reqwest names the URL in its errors; `describe` keeps only the host.
                error: Some(cut(guard::describe(&e))),
                duration: started.elapsed(),
            }
        }
    }
}

/// The first name of the user who has this address, for the greeting.
async fn first_name_of(db: &DatabaseConnection, address: &str) -> Option<String> {
    let found = user::Entity::find()
        .filter(user::Column::Email.eq(address))
        .one(db)
        .await
        .ok()
        .flatten()?;
    found.full_name?.split_whitespace().next().map(str::to_owned)
}

/// What an attempt is recorded, logged and counted as, from where it left
/// the delivery: an attempt that asked for a retry but used up the
/// schedule is the final one, a failure, not a retry.
fn outcome_of(status: DeliveryStatus) -> &'static str {
    match status {
        DeliveryStatus::Sent => "SENT",
        DeliveryStatus::Retrying | DeliveryStatus::Pending => "RETRY",
        DeliveryStatus::Failed => "FAILED",
    }
}

/// Stores the attempt and moves the delivery on: SENT, RETRYING with the
/// next time, or FAILED; the lease is released either way.
async fn record(state: &AppState, row: &delivery::Model, attempt: Attempt) -> anyhow::Result<()> {
    let now = Utc::now();
    let attempts = row.attempts + 1;
    let (status, next_attempt_at) = match attempt.outcome {
        HttpOutcome::Sent => (DeliveryStatus::Sent, None),
        HttpOutcome::Fail => (DeliveryStatus::Failed, None),
        HttpOutcome::Retry { after } => {
            match retry::next_delay(&state.config.retry_schedule, attempts as u32, after, &mut rand::rng()) {
                Some(delay) => (DeliveryStatus::Retrying, Some(now + chrono::Duration::from_std(delay)?)),
                None => (DeliveryStatus::Failed, None),
            }
        }
    };
    let outcome = outcome_of(status);
    let channel_label = row.channel.as_str().to_ascii_lowercase();
    state
        .metrics
        .delivery_attempts
        .get_or_create(&DeliveryLabels {
            channel: channel_label.clone(),
            status: match outcome {
                "SENT" => "sent",
                "RETRY" => "retry",
                _ => "failed",
            },
        })
        .inc();
    state
        .metrics
        .delivery_duration
        .get_or_create(&ChannelLabel { channel: channel_label })
        .observe(attempt.duration.as_secs_f64());
    tracing::info!(
        delivery_id = row.id,
        channel = %row.channel,
        attempt = attempts,
        outcome,
        status_code = attempt.status_code,
        duration_ms = attempt.duration.as_millis() as u64,
        "delivery attempt"
    );
    let txn = state.begin().await?;
    let updated = delivery::Entity::update_many()
        .col_expr(delivery::Column::Status, Expr::value(status))
        .col_expr(delivery::Column::Attempts, Expr::value(attempts))
        .col_expr(delivery::Column::NextAttemptAt, Expr::value(next_attempt_at))
        .col_expr(delivery::Column::LeaseUntil, Expr::value(Option::<DateTime<Utc>>::None))
        .col_expr(delivery::Column::LastError, Expr::value(attempt.error.clone()))
        .col_expr(delivery::Column::LastStatusCode, Expr::value(attempt.status_code))
        .col_expr(delivery::Column::UpdatedAt, Expr::value(now))
        .filter(delivery::Column::Id.eq(row.id))
        // Only while the lease is still ours: a send that outlived its lease
        // was taken over, and the other worker records its own attempt.
        .filter(delivery::Column::LeaseUntil.eq(row.lease_until))
        .exec(&txn)
        .await?;
    if updated.rows_affected == 0 {
        // Deleted with its notification meanwhile, or taken over.
        return Ok(());
    }
    delivery_attempt::ActiveModel {
        id: NotSet,
        delivery_id: Set(row.id),
        attempted_at: Set(now),
        duration_ms: Set(attempt.duration.as_millis() as i64),
        outcome: Set(outcome.to_owned()),
        status_code: Set(attempt.status_code),
        response: Set(attempt.response),
        error: Set(attempt.error),
    }
    .insert(&txn)
    .await?;
    txn.commit().await?;
    Ok(())
}

/// Releases the leases of deliveries this process claimed but did not record
/// (shutdown cut them short), so that they are due again at once.
pub async fn release_unfinished(state: &AppState) -> anyhow::Result<()> {
    let ids: Vec<i64> = state.in_flight.lock().expect("in-flight lock").drain().collect();
    if ids.is_empty() {
        return Ok(());
    }
    tracing::info!(count = ids.len(), "releasing unfinished deliveries");
    delivery::Entity::update_many()
        .col_expr(delivery::Column::LeaseUntil, Expr::value(Option::<DateTime<Utc>>::None))
        .filter(delivery::Column::Id.is_in(ids))
        .exec(&state.db)
        .await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_attempt_is_named_after_where_it_left_the_delivery() {
        assert_eq!(outcome_of(DeliveryStatus::Sent), "SENT");
        assert_eq!(outcome_of(DeliveryStatus::Retrying), "RETRY");
        assert_eq!(outcome_of(DeliveryStatus::Failed), "FAILED");
    }
}
