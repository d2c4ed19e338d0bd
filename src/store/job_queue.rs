//! The jobs table: background work written in the transaction of the
//! change that causes it, and claimed by one worker at a time with a lease
//! (`jobs` runs it).

use std::time::Duration;

use chrono::Utc;
use sea_orm::sea_query::{Expr, OnConflict};
use sea_orm::{ActiveValue::Set, ColumnTrait, DatabaseConnection, DbBackend, EntityTrait, QueryFilter, Statement};

use crate::entity::job;
use crate::error::AppResult;
use crate::store::UnitOfWork;

/// What a job does. Its kind is stored as the name of the function that
/// runs it, which a failure notification shows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Job {
    /// Every product's gate, after the global settings changed.
    ReevaluateAllGates,
    /// Notifications past the retention, old events and finished jobs.
    DeleteOldNotifications,
    /// Fails on purpose, for `injectFault(kind: TASK)`.
    InjectFault(String),
}

impl Job {
    pub fn kind(&self) -> &'static str {
        match self {
            Job::ReevaluateAllGates => "reevaluate_all_gates",
            Job::DeleteOldNotifications => "delete_old_notifications",
            Job::InjectFault(_) => "inject_fault",
        }
    }

    pub fn arguments(&self) -> Option<String> {
        match self {
            Job::InjectFault(message) => Some(message.clone()),
            _ => None,
        }
    }

    /// `None` for a kind this version does not know (written by a newer
    /// replica during a rolling deployment).
    pub fn of(row: &job::Model) -> Option<Job> {
        match row.kind.as_str() {
            "reevaluate_all_gates" => Some(Job::ReevaluateAllGates),
            "delete_old_notifications" => Some(Job::DeleteOldNotifications),
            "inject_fault" => Some(Job::InjectFault(row.arguments.clone().unwrap_or_default())),
            _ => None,
        }
    }
}

/// Who started a job and on what, for its failure notification.
#[derive(Debug, Clone, Copy, Default)]
pub struct JobContext {
    pub user_id: Option<i64>,
    pub product_id: Option<i64>,
}

fn new_row(job: &Job, context: JobContext, dedupe_key: Option<String>) -> job::ActiveModel {
    let now = Utc::now();
    job::ActiveModel {
        kind: Set(job.kind().to_owned()),
        arguments: Set(job.arguments()),
        user_id: Set(context.user_id),
        product_id: Set(context.product_id),
        dedupe_key: Set(dedupe_key),
        run_after: Set(now),
        lease_until: Set(None),
        attempts: Set(0),
        done_at: Set(None),
        last_error: Set(None),
        created_at: Set(now),
        ..Default::default()
    }
}

/// Writes `job` in the change's transaction; its commit wakes this
/// replica's worker.
pub async fn enqueue(uow: &UnitOfWork, job: Job, context: JobContext) -> AppResult<()> {
    job::Entity::insert(new_row(&job, context, None))
        .exec_without_returning(uow)
        .await?;
    uow.wrote_jobs();
    Ok(())
}

/// Enqueues `job` unless a job with `key` exists already: for a run that
/// every replica schedules (the hourly retention), one row per period.
pub async fn enqueue_once(uow: &UnitOfWork, job: Job, key: String) -> AppResult<()> {
    job::Entity::insert(new_row(&job, JobContext::default(), Some(key)))
        .on_conflict(OnConflict::column(job::Column::DedupeKey).do_nothing().to_owned())
        .exec_without_returning(uow)
        .await?;
    uow.wrote_jobs();
    Ok(())
}

/// Claims the oldest due job that no live worker holds.
pub async fn claim_job(db: &DatabaseConnection, lease: Duration) -> anyhow::Result<Option<job::Model>> {
    let now = Utc::now();
    let lease_until = now + chrono::Duration::from_std(lease)?;
    let backend = db.get_database_backend();
    let (sql, values): (&str, Vec<sea_orm::Value>) = match backend {
        DbBackend::Postgres => (
            "UPDATE jobs SET lease_until = $1, attempts = attempts + 1 WHERE id = (
                SELECT id FROM jobs
                WHERE done_at IS NULL AND run_after <= $2 AND (lease_until IS NULL OR lease_until < $2)
                ORDER BY run_after, id LIMIT 1
                FOR UPDATE SKIP LOCKED)
             RETURNING *",
            vec![lease_until.into(), now.into()],
        ),
        _ => (
            "UPDATE jobs SET lease_until = ?, attempts = attempts + 1 WHERE id = (
                SELECT id FROM jobs
                WHERE done_at IS NULL AND run_after <= ? AND (lease_until IS NULL OR lease_until < ?)
                ORDER BY run_after, id LIMIT 1)
             RETURNING *",
            vec![lease_until.into(), now.into(), now.into()],
        ),
    };
    Ok(job::Entity::find()
        .from_raw_sql(Statement::from_sql_and_values(backend, sql, values))
        .one(db)
        .await?)
}

/// Records that a job ran (`error`: why it failed).
pub async fn finish_job(db: &DatabaseConnection, id: i64, error: Option<String>) -> Result<(), sea_orm::DbErr> {
    job::Entity::update_many()
        .col_expr(job::Column::DoneAt, Expr::value(Utc::now()))
        .col_expr(
            job::Column::LeaseUntil,
            Expr::value(Option::<chrono::DateTime<Utc>>::None),
        )
        .col_expr(job::Column::LastError, Expr::value(error))
        .filter(job::Column::Id.eq(id))
        .exec(db)
        .await?;
    Ok(())
}

/// Gives a job's lease back, so that another worker may run it at once.
pub async fn release_job(db: &DatabaseConnection, id: i64) -> Result<(), sea_orm::DbErr> {
    job::Entity::update_many()
        .col_expr(
            job::Column::LeaseUntil,
            Expr::value(Option::<chrono::DateTime<Utc>>::None),
        )
        .filter(job::Column::Id.eq(id))
        .filter(job::Column::DoneAt.is_null())
        .exec(db)
        .await?;
    Ok(())
}
