//! Reads the event log after the last event it published (in the order
//! `log` defines) and broadcasts each event to this process's subscribers.
//! Woken by local commits, by NOTIFY from other replicas, and by a
//! one-second poll should both be missed; as it always reads from the
//! table, nothing sent while a listener was reconnecting is lost.

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use sea_orm::{ColumnTrait, ConnectionTrait, DbBackend, EntityTrait, QueryFilter, Statement};

use super::log::{self, Cursor};
use super::{CHANNEL, EventKind, LiveEvent};
use crate::entity::{notification, product, user};
use crate::state::AppState;

const BATCH: u64 = 500;
const POLL: Duration = Duration::from_secs(1);
/// How soon to look again while events wait behind a running transaction
/// (one that writes no event of its own wakes nobody when it ends).
const HELD_RETRY: Duration = Duration::from_millis(5);

/// Starts the publisher (and, on PostgreSQL, the listener and the notifier
/// of the other replicas). Where the log stands is read here, before the
/// server answers anyone: subscribers start from now and earlier events
/// are history, so a change made once this server is ready must come after
/// that point, never be taken for history.
pub async fn spawn(state: AppState) -> Result<Vec<tokio::task::JoinHandle<()>>, sea_orm::DbErr> {
    let mut cursor = log::start(&state.db).await?;
    let mut tasks = Vec::new();
    if state.db.get_database_backend() == DbBackend::Postgres {
        tasks.push(spawn_listener(state.clone()));
        tasks.push(spawn_replica_notifier(state.clone()));
    }
    tasks.push(tokio::spawn(async move {
        let mut stopping = state.shutdown_signal();
        let mut held_retry = HELD_RETRY;
        while !state.is_shutting_down() {
            let wait = match publish_new(&state, &mut cursor).await {
                Ok(Published { full: true, .. }) => continue,
                Ok(Published { held: true, .. }) => {
                    let wait = held_retry;
                    held_retry = (held_retry * 2).min(POLL);
                    wait
                }
                Ok(_) => {
                    held_retry = HELD_RETRY;
                    POLL
                }
                Err(e) => {
                    tracing::warn!(error = %e, "reading events failed");
                    POLL
                }
            };
            tokio::select! {
                _ = state.signals.events.notified() => {}
                _ = tokio::time::sleep(wait) => {}
                _ = stopping.wait_for(|stop| *stop) => {}
            }
        }
    }));
    Ok(tasks)
}

struct Published {
    /// A whole batch was read: read again at once.
    full: bool,
    /// Events wait behind a transaction still running.
    held: bool,
}

/// Broadcasts the events after `cursor` that may be read, in order.
async fn publish_new(state: &AppState, cursor: &mut Cursor) -> anyhow::Result<Published> {
    let batch = log::read(&state.db, *cursor, BATCH).await?;
    let published = Published {
        full: batch.ready.len() as u64 == BATCH,
        held: batch.held,
    };
    let rows = batch.ready;
    let created: Vec<i64> = rows
        .iter()
        .filter(|r| r.kind == "NOTIFICATION_CREATED")
        .filter_map(|r| r.notification_id)
        .collect();
    let mut notifications: HashMap<i64, notification::Model> = notification::Entity::find()
        .filter(notification::Column::Id.is_in(created))
        .all(&state.db)
        .await?
        .into_iter()
        .map(|n| (n.id, n))
        .collect();
    let products: HashMap<i64, Arc<product::Model>> = product::Entity::find()
        .filter(product::Column::Id.is_in(notifications.values().filter_map(|n| n.product_id)))
        .all(&state.db)
        .await?
        .into_iter()
        .map(|p| (p.id, Arc::new(p)))
        .collect();
    let users: HashMap<i64, Arc<user::Model>> = user::Entity::find()
        .filter(user::Column::Id.is_in(notifications.values().filter_map(|n| n.user_id)))
        .all(&state.db)
        .await?
        .into_iter()
        .map(|u| (u.id, Arc::new(u)))
        .collect();
    for row in rows {
        *cursor = Cursor::of(&row);
        let loaded = row.notification_id.and_then(|id| notifications.remove(&id));
        let Some(mut event) = LiveEvent::from_row(row, loaded) else {
            continue;
        };
        if let Some(n) = &event.notification {
            event.product = n.product_id.and_then(|id| products.get(&id).cloned());
            event.user = n.user_id.and_then(|id| users.get(&id).cloned());
        }
        // Not for subscribers: the sessions of that user check their
        // credential again, and one that no longer holds closes.
        if event.kind == EventKind::Credentials {
            event.user_id.into_iter().for_each(|id| state.sessions.recheck(id));
            continue;
        }
        // A notification deleted before it was published is skipped.
        if event.kind == EventKind::NotificationCreated && event.notification.is_none() {
            continue;
        }
        state.metrics.live_events.inc();
        // No subscriber is not an error.
        let _ = state.bus.sender.send(Arc::new(event));
    }
    Ok(published)
}

/// Tells the other replicas that events were committed: one NOTIFY per
/// wake-up, from a pooled connection after the commit, so that many commits
/// close together cost one.
fn spawn_replica_notifier(state: AppState) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let mut stopping = state.shutdown_signal();
        loop {
            tokio::select! {
                _ = state.signals.replicas.notified() => {}
                _ = stopping.wait_for(|stop| *stop) => return,
            }
            let notify = Statement::from_string(DbBackend::Postgres, format!("SELECT pg_notify('{CHANNEL}', '')"));
            // Missed, the other replicas still poll within a second.
            if let Err(e) = state.db.execute_raw(notify).await {
                tracing::warn!(error = %e, "waking the other replicas failed");
            }
        }
    })
}

/// LISTENs for other replicas' commits and wakes the publisher; reconnects
/// on its own, and wakes the publisher after every reconnect so that what
/// was missed meanwhile is read from the table.
fn spawn_listener(state: AppState) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let pool = state.db.get_postgres_connection_pool().clone();
        while !state.is_shutting_down() {
            let mut listener = match sea_orm::sqlx::postgres::PgListener::connect_with(&pool).await {
                Ok(l) => l,
                Err(e) => {
                    tracing::warn!(error = %e, "connecting the event listener failed");
                    tokio::time::sleep(POLL).await;
                    continue;
                }
            };
            if let Err(e) = listener.listen(CHANNEL).await {
                tracing::warn!(error = %e, "LISTEN failed");
                tokio::time::sleep(POLL).await;
                continue;
            }
            state.listener_connected.store(true, Ordering::Relaxed);
            state.signals.events.notify_one();
            loop {
                match listener.try_recv().await {
                    Ok(Some(_)) => state.signals.events.notify_one(),
                    // The connection dropped and will be re-established.
                    Ok(None) => {
                        state.listener_connected.store(false, Ordering::Relaxed);
                        state.signals.events.notify_one();
                    }
                    Err(e) => {
                        tracing::warn!(error = %e, "the event listener failed");
                        break;
                    }
                }
            }
            state.listener_connected.store(false, Ordering::Relaxed);
        }
    })
}
