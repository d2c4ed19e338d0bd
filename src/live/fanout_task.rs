//! The fan-out's task: reads the event bus in commit order and hands each
//! new notification to the fan-out ([`super::fanout`]), executed on the
//! schema once per class of viewers.

use std::collections::HashMap;
use std::sync::Arc;

use async_graphql::Executor;
use futures_util::StreamExt;
use tokio::sync::broadcast::error::RecvError;

use super::fanout::Rendering;
use super::{EventKind, LiveEvent};
use crate::auth::Auth;
use crate::domain::Role;
use crate::domain::notification;
use crate::error::AppResult;
use crate::state::AppState;
use crate::store::sight;

/// Runs the fan-out of this process: reads the bus in commit order.
pub fn spawn<E: Executor>(state: AppState, executor: E) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let mut events = state.bus.subscribe();
        // Each product's members and roles, until memberships change.
        let mut audiences: HashMap<i64, Arc<HashMap<i64, Role>>> = HashMap::new();
        let mut stopping = state.shutdown_signal();
        loop {
            let received = tokio::select! {
                received = events.recv() => received,
                _ = stopping.wait_for(|stop| *stop) => break,
            };
            match received {
                Ok(event) => {
                    match event.kind {
                        EventKind::Membership | EventKind::Resync => audiences.clear(),
                        EventKind::NotificationCreated => {
                            if let Err(e) = fan_out(&state, &executor, &mut audiences, &event).await {
                                tracing::warn!(error = %e, event = event.id, "live fan-out failed");
                                state.fanout.all_fell_behind();
                            }
                        }
                        EventKind::NotificationDeleted | EventKind::Viewed | EventKind::Credentials => {}
                    }
                    state.fanout.handled.send_replace(event.id);
                }
                Err(RecvError::Lagged(missed)) => {
                    tracing::warn!(missed, "live fan-out fell behind the event bus");
                    audiences.clear();
                    state.fanout.all_fell_behind();
                }
                Err(RecvError::Closed) => break,
            }
        }
    })
}

async fn fan_out(
    state: &AppState,
    executor: &impl Executor,
    audiences: &mut HashMap<i64, Arc<HashMap<i64, Role>>>,
    event: &Arc<LiveEvent>,
) -> AppResult<()> {
    let Some(kind) = event.notification_type else {
        return Ok(());
    };
    if state.fanout.subscribers() == 0 {
        return Ok(());
    }
    let audience = match &event.product {
        // Members see only some kinds; for the rest, nobody's role matters.
        Some(product) if notification::kinds_members_see().any(|k| k == kind) => match audiences.get(&product.id) {
            Some(audience) => Some(audience.clone()),
            None => {
                let audience = Arc::new(sight::audience(&state.db, product.id).await?);
                audiences.insert(product.id, audience.clone());
                Some(audience)
            }
        },
        _ => None,
    };
    let classes = state
        .fanout
        .classify(kind, |user| audience.as_ref().and_then(|a| a.get(&user).copied()));
    for class in classes {
        let request = class
            .template
            .operation
            .request()
            .data(Auth::User((*class.who).clone()))
            .data(Rendering {
                event: event.clone(),
                visibility: class.visibility,
                role: class.role,
            });
        let Some(response) = executor.execute_stream(request, None).next().await else {
            continue;
        };
        let payload: Arc<str> = serde_json::to_string(&response)
            .map_err(crate::error::AppError::internal)?
            .into();
        state.fanout.send(&class.members, &payload);
    }
    state.fanout.forget_unused_templates();
    Ok(())
}
