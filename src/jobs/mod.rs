//! Background jobs: work started by a request or a timer that must not hold
//! a request up. A job that fails becomes a TASK notification.

use std::future::Future;
use std::time::Duration;

use chrono::Utc;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QuerySelect};

use crate::entity::{event, notification, product};
use crate::live::{self, EventKind, NewEvent};
use crate::notify::counters;
use crate::notify::failure::{InjectedFault, report_task};
use crate::service::gate;
use crate::state::AppState;
use crate::store::Scope;

/// Who started a job and what it was given, for its failure notification.
#[derive(Debug, Clone, Default)]
pub struct JobContext {
    pub arguments: Option<String>,
    pub user_id: Option<i64>,
    pub product_id: Option<i64>,
}

/// Runs `job` in its own task; a failure is reported as a TASK notification
/// naming `function`.
pub fn spawn<F>(state: &AppState, function: &'static str, context: JobContext, job: F) -> tokio::task::JoinHandle<()>
where
    F: Future<Output = anyhow::Result<()>> + Send + 'static,
{
    let state = state.clone();
    tokio::spawn(async move {
        if let Err(e) = job.await {
            report_task(
                &state,
                function,
                context.arguments,
                context.user_id,
                context.product_id,
                &e,
            )
            .await;
        }
    })
}

/// Evaluates every product's gate again after the global settings changed,
/// one transaction per product so a large installation is not locked at once.
pub fn spawn_reevaluate_all_gates(state: &AppState, actor: Option<i64>) {
    let job_state = state.clone();
    let context = JobContext {
        user_id: actor,
        ..Default::default()
    };
    spawn(state, "reevaluate_all_gates", context, async move {
        reevaluate_all_gates(&job_state, actor).await.map(|_| ())
    });
}

pub async fn reevaluate_all_gates(state: &AppState, actor: Option<i64>) -> anyhow::Result<usize> {
    let ids: Vec<i64> = product::Entity::find()
        .select_only()
        .column(product::Column::Id)
        .into_tuple()
        .all(&state.db)
        .await?;
    let mut changed = 0;
    for id in ids {
        let uow = state.begin().await?;
        uow.lock([Scope::Product(id)])
            .await
            .map_err(|e| anyhow::anyhow!("{e:?}"))?;
        match gate::reevaluate(&uow, state, id, actor).await {
            Ok(change) => {
                uow.commit().await?;
                changed += usize::from(change.is_some());
            }
            // Deleted meanwhile.
            Err(crate::error::AppError::NotFound(_)) => {}
            Err(e) => anyhow::bail!("product {id}: {e:?}"),
        }
    }
    Ok(changed)
}

/// A job that fails on purpose, for `injectFault(kind: TASK)`.
pub fn spawn_injected_fault(state: &AppState, message: String, user_id: Option<i64>, product_id: Option<i64>) {
    let context = JobContext {
        arguments: Some(format!("{message:?}")),
        user_id,
        product_id,
    };
    spawn(state, "inject_fault", context, async move {
        Err(InjectedFault(message).into())
    });
}

/// Deletes notifications (with their deliveries and views) older than the
/// retention of the settings, every hour.
pub fn spawn_retention(state: AppState) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(Duration::from_secs(3600));
        loop {
            tick.tick().await;
            let job_state = state.clone();
            let run = spawn(&state, "delete_old_notifications", JobContext::default(), async move {
                delete_old_notifications(&job_state).await.map(|_| ())
            });
            let _ = run.await;
        }
    })
}

pub async fn delete_old_notifications(state: &AppState) -> anyhow::Result<u64> {
    let settings = crate::service::settings::load(&state.db)
        .await
        .map_err(|e| anyhow::anyhow!("{e:?}"))?;
    let cutoff = Utc::now() - chrono::Duration::days(i64::from(settings.notification_retention_days.max(1)));
    let txn = state.begin().await?;
    // The counters follow the rows this run really deleted: two runs at
    // once (the startup run and the hourly one, or two replicas) would
    // otherwise both count the same rows, one of them deleting none.
    let deleted = notification::Entity::delete_many()
        .filter(notification::Column::CreatedAt.lt(cutoff))
        .exec_with_returning(&txn)
        .await?;
    // In key order: two runs at once (two replicas) then take the counter
    // rows' locks in the same order and never wait for each other in a
    // circle.
    let mut groups: std::collections::BTreeMap<(Option<i64>, String), i64> = std::collections::BTreeMap::new();
    for n in &deleted {
        *groups.entry((n.product_id, n.kind.clone())).or_default() += 1;
    }
    // Deliveries and views went with them (ON DELETE CASCADE).
    for ((product_id, kind), n) in groups {
        counters::add(&txn, product_id, &kind, -n)
            .await
            .map_err(|e| anyhow::anyhow!("{e:?}"))?;
    }
    // Events are read by live subscribers within seconds; an hour is ample.
    event::Entity::delete_many()
        .filter(event::Column::CreatedAt.lt(Utc::now() - chrono::Duration::hours(1)))
        .exec(&txn)
        .await?;
    if !deleted.is_empty() {
        live::emit(&txn, NewEvent::of(EventKind::Resync))
            .await
            .map_err(|e| anyhow::anyhow!("{e:?}"))?;
    }
    txn.commit().await?;
    Ok(deleted.len() as u64)
}
