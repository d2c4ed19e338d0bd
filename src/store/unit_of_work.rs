//! One transaction per change. Its commit wakes the delivery worker, the
//! job worker, this process's live publisher and (on PostgreSQL, when it wrote events) the
//! other replicas, so no writer can forget to. No lock shared by unrelated
//! products is taken: a change locks what it is about ([`Scope`]) and
//! nothing else.

use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, Ordering};

use sea_orm::{
    ConnectionTrait, DatabaseConnection, DatabaseTransaction, DbBackend, DbErr, ExecResult, QueryResult,
    SqliteTransactionMode, Statement, TransactionOptions, TransactionTrait,
};
use tokio::sync::Notify;

use crate::error::{AppError, AppResult};

/// Wakes the background tasks after a commit.
#[derive(Default)]
pub struct Signals {
    /// The delivery worker: outbox rows may be due.
    pub outbox: Notify,
    /// This process's live publisher: events may be readable.
    pub events: Notify,
    /// This process's job worker: a job was enqueued.
    pub jobs: Notify,
    /// The task that tells the other replicas (PostgreSQL NOTIFY, sent
    /// after commit from a connection of its own: a NOTIFY inside the
    /// transaction would take PostgreSQL's notify lock at commit and
    /// serialise every writing commit).
    pub replicas: Notify,
}

/// What a change locks before it writes anything. Changes to one product
/// (or one group, or one user's marks and memberships) run one at a time,
/// so that their events are ordered as they committed; changes to different
/// ones never wait for each other.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Scope {
    /// A group, so that no product joins or leaves it meanwhile.
    Group(i64),
    Product(i64),
    User(i64),
}

impl Scope {
    /// PostgreSQL advisory lock keys: a class and a 32-bit id (ids past
    /// 2^31 share keys, which only makes two changes wait, never wrong).
    pub fn key(self) -> (i32, i32) {
        const GROUP: i32 = 0x4852_0000; // "HR" 0
        const PRODUCT: i32 = 0x4852_0001;
        const USER: i32 = 0x4852_0002;
        match self {
            Scope::Group(id) => (GROUP, id as i32),
            Scope::Product(id) => (PRODUCT, id as i32),
            Scope::User(id) => (USER, id as i32),
        }
    }
}

pub struct UnitOfWork {
    txn: DatabaseTransaction,
    signals: std::sync::Arc<Signals>,
    wrote_events: AtomicBool,
    wrote_jobs: AtomicBool,
    /// The highest scope locked so far: locks are taken in `Scope` order,
    /// so that two changes never wait for each other in a circle.
    locked: Mutex<Option<Scope>>,
}

impl UnitOfWork {
    /// Starts a change. On SQLite it takes the write lock at once (`BEGIN
    /// IMMEDIATE`): a deferred transaction that reads first and writes later
    /// fails with "database is locked" when another writer went between,
    /// instead of waiting out the busy timeout.
    pub async fn begin(db: &DatabaseConnection, signals: &std::sync::Arc<Signals>) -> Result<Self, DbErr> {
        let txn = db
            .begin_with_options(TransactionOptions {
                sqlite_transaction_mode: Some(SqliteTransactionMode::Immediate),
                ..Default::default()
            })
            .await?;
        Ok(Self {
            txn,
            signals: signals.clone(),
            wrote_events: AtomicBool::new(false),
            wrote_jobs: AtomicBool::new(false),
            locked: Mutex::new(None),
        })
    }

    /// Locks `scopes` until commit, in order. Call it before the change
    /// writes anything: the transaction id, which orders the event log, is
    /// taken at the first write, and must come after the lock for events of
    /// one product to be read in the order their changes committed.
    pub async fn lock(&self, scopes: impl IntoIterator<Item = Scope>) -> AppResult<()> {
        let mut scopes: Vec<Scope> = scopes.into_iter().collect();
        scopes.sort_unstable();
        scopes.dedup();
        let Some(&first) = scopes.first() else {
            return Ok(());
        };
        {
            let mut locked = self.locked.lock().unwrap_or_else(|e| e.into_inner());
            if locked.is_some_and(|held| first < held) {
                return Err(AppError::internal(anyhow::anyhow!(
                    "{first:?} locked after {held:?}",
                    held = locked.unwrap_or(first)
                )));
            }
            *locked = scopes.last().copied();
        }
        if self.txn.get_database_backend() != DbBackend::Postgres {
            // SQLite has one writer at a time already.
            return Ok(());
        }
        let keys: Vec<String> = scopes
            .iter()
            .map(|s| {
                let (class, id) = s.key();
                format!("pg_advisory_xact_lock({class}, {id})")
            })
            .collect();
        // Advisory locks take no transaction id; the check says whether
        // something was written before the lock (a bug in the caller).
        let row = self
            .txn
            .query_one_raw(Statement::from_string(
                DbBackend::Postgres,
                format!(
                    "SELECT pg_current_xact_id_if_assigned() IS NOT NULL AS wrote FROM (SELECT {}) AS locks",
                    keys.join(", ")
                ),
            ))
            .await?;
        let wrote: bool = row.map(|r| r.try_get("", "wrote")).transpose()?.unwrap_or(false);
        if wrote {
            return Err(AppError::internal(anyhow::anyhow!(
                "{first:?} locked after the change had written"
            )));
        }
        Ok(())
    }

    /// Marks that this change wrote events (`live::emit`).
    pub(crate) fn wrote_events(&self) {
        self.wrote_events.store(true, Ordering::Relaxed);
    }

    /// Marks that this change enqueued a job (`jobs::enqueue`).
    pub(crate) fn wrote_jobs(&self) {
        self.wrote_jobs.store(true, Ordering::Relaxed);
    }

    /// Commits, then wakes the delivery worker, the job worker when a job
    /// was enqueued, the live publisher and, when events were written, the
    /// other replicas.
    pub async fn commit(self) -> Result<(), DbErr> {
        self.txn.commit().await?;
        self.signals.outbox.notify_one();
        if self.wrote_jobs.load(Ordering::Relaxed) {
            self.signals.jobs.notify_one();
        }
        if self.wrote_events.load(Ordering::Relaxed) {
            self.signals.events.notify_one();
            self.signals.replicas.notify_one();
        }
        Ok(())
    }
}

#[async_trait::async_trait]
impl ConnectionTrait for UnitOfWork {
    fn get_database_backend(&self) -> DbBackend {
        self.txn.get_database_backend()
    }

    async fn execute_raw(&self, stmt: Statement) -> Result<ExecResult, DbErr> {
        self.txn.execute_raw(stmt).await
    }

    async fn execute_unprepared(&self, sql: &str) -> Result<ExecResult, DbErr> {
        self.txn.execute_unprepared(sql).await
    }

    async fn query_one_raw(&self, stmt: Statement) -> Result<Option<QueryResult>, DbErr> {
        self.txn.query_one_raw(stmt).await
    }

    async fn query_all_raw(&self, stmt: Statement) -> Result<Vec<QueryResult>, DbErr> {
        self.txn.query_all_raw(stmt).await
    }

    fn support_returning(&self) -> bool {
        self.txn.support_returning()
    }
}
