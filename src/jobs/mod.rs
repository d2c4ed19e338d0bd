//! Background jobs: work caused by a change or a timer that must not hold
//! a request up. A job is a row in `jobs`, written in the transaction of
//! the change that causes it, so that it commits with its cause or not at
//! all. Any replica's worker claims it with a lease, as deliveries are
//! claimed: a job whose worker crashed is run again once the lease has
//! expired, so a crash or a restart loses none. Jobs may therefore run
//! twice, and each one is safe to repeat. A job that fails becomes a TASK
//! notification naming it.

use std::time::Duration;

use chrono::Utc;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QuerySelect};

use crate::domain::NotificationType;
use crate::entity::{event, job, notification, product};
use crate::error::AppResult;
use crate::live::{self, EventKind, NewEvent};
use crate::notify::counters;
use crate::notify::failure::{InjectedFault, report_task};
use crate::service::gate;
use crate::state::AppState;
use crate::store::{Job, JobContext, Scope, claim_job, enqueue, enqueue_once, finish_job, release_job};

/// How often an idle worker looks for jobs written by other replicas (its
/// own replica's commits wake it at once).
const POLL: Duration = Duration::from_secs(2);
/// How often the retention run is due.
const RETENTION_EVERY: Duration = Duration::from_secs(3600);

/// A job whose cause writes nothing else.
pub async fn enqueue_alone(state: &AppState, job: Job, context: JobContext) -> AppResult<()> {
    let uow = state.begin().await?;
    enqueue(&uow, job, context).await?;
    uow.commit().await?;
    Ok(())
}

/// Enqueues the retention run once per hour, whichever replica's timer
/// comes first (the hour is the row's unique key); also at start.
pub fn spawn_schedule(state: AppState) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(RETENTION_EVERY);
        loop {
            tick.tick().await;
            if let Err(e) = schedule_retention(&state).await {
                tracing::error!(error = ?e, "scheduling the retention run failed");
            }
        }
    })
}

async fn schedule_retention(state: &AppState) -> AppResult<()> {
    let job = Job::DeleteOldNotifications;
    let key = format!("{}@{}", job.kind(), Utc::now().format("%Y-%m-%dT%H"));
    let uow = state.begin().await?;
    enqueue_once(&uow, job, key).await?;
    uow.commit().await?;
    Ok(())
}

/// Runs due jobs one at a time until the server shuts down. A job cut off
/// by the shutdown gives its lease back, so the next replica to look runs
/// it without waiting the lease out.
pub fn spawn_worker(state: AppState) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let mut stopping = state.shutdown_signal();
        let shutdown = async move {
            let _ = stopping.wait_for(|stop| *stop).await;
        };
        tokio::pin!(shutdown);
        // Each branch on `shutdown` leaves the loop, so it is never polled
        // again once it has completed.
        loop {
            if state.is_shutting_down() {
                break;
            }
            match claim_job(&state.db, state.config.job_lease).await {
                Ok(Some(row)) => {
                    tokio::select! {
                        () = run_claimed(&state, &row) => {}
                        () = &mut shutdown => {
                            if let Err(e) = release_job(&state.db, row.id).await {
                                tracing::warn!(error = ?e, job = row.kind, "could not give a job's lease back");
                            }
                            break;
                        }
                    }
                    continue;
                }
                Ok(None) => {}
                Err(e) => tracing::error!(error = ?e, "claiming a job failed"),
            }
            tokio::select! {
                _ = state.signals.jobs.notified() => {}
                _ = tokio::time::sleep(POLL) => {}
                () = &mut shutdown => break,
            }
        }
    })
}

async fn run_claimed(state: &AppState, row: &job::Model) {
    let Some(job) = Job::of(row) else {
        // Left to a replica that knows it once the lease expires.
        tracing::warn!(job = row.kind, "a job of a kind this version does not know");
        return;
    };
    let outcome = match &job {
        Job::ReevaluateAllGates => reevaluate_all_gates(state, row.user_id).await.map(drop),
        Job::DeleteOldNotifications => delete_old_notifications(state).await.map(drop),
        Job::InjectFault(message) => Err(InjectedFault(message.clone()).into()),
    };
    let error = outcome.as_ref().err().map(|e| format!("{e:#}"));
    if let Err(e) = &outcome {
        let arguments = job.arguments().map(|a| format!("{a:?}"));
        report_task(state, job.kind(), arguments, row.user_id, row.product_id, e).await;
    }
    // A failed job is not run again: its failure is reported, and the
    // next change or scheduled run starts a fresh one.
    if let Err(e) = finish_job(&state.db, row.id, error).await {
        tracing::error!(error = ?e, job = row.kind, "recording a finished job failed");
    }
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

pub async fn delete_old_notifications(state: &AppState) -> anyhow::Result<u64> {
    let settings = crate::store::settings::load(&state.db)
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
    // In key order, the stored text as before typed columns: two runs at
    // once (two replicas, of one version or two) then take the counter
    // rows' locks in the same order and never wait for each other in a
    // circle.
    let mut groups: std::collections::BTreeMap<(Option<i64>, &'static str), (NotificationType, i64)> =
        std::collections::BTreeMap::new();
    for n in &deleted {
        groups.entry((n.product_id, n.kind.as_str())).or_insert((n.kind, 0)).1 += 1;
    }
    // Deliveries and views went with them (ON DELETE CASCADE).
    for ((product_id, _), (kind, n)) in groups {
        counters::add(&txn, product_id, kind, -n)
            .await
            .map_err(|e| anyhow::anyhow!("{e:?}"))?;
    }
    // Events are read by live subscribers within seconds; an hour is ample.
    event::Entity::delete_many()
        .filter(event::Column::CreatedAt.lt(Utc::now() - chrono::Duration::hours(1)))
        .exec(&txn)
        .await?;
    // A finished job's row only keeps the hourly schedule from running twice.
    job::Entity::delete_many()
        .filter(job::Column::DoneAt.lt(Utc::now() - chrono::Duration::days(1)))
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
