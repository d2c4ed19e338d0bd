//! Live push: the event log written inside transactions, the publisher that
//! reads it in commit order and broadcasts to this process's subscribers,
//! and the PostgreSQL LISTEN that wakes it when another replica wrote.

pub mod fanout;
pub mod protocol;
pub mod publisher;
pub mod sessions;
pub mod viewer;

use std::sync::Arc;

use sea_orm::ActiveValue::{NotSet, Set};
use sea_orm::{
    ActiveModelTrait, ConnectionTrait, DatabaseConnection, DatabaseTransaction, DbBackend, DbErr, EntityTrait,
    QueryOrder, QuerySelect,
};
use tokio::sync::broadcast;

use crate::domain::NotificationType;
use crate::entity::{event, notification, product, user};
use crate::error::AppResult;

/// The PostgreSQL channel replicas LISTEN on.
pub const CHANNEL: &str = "herald_events";
/// Serialises transactions that write events, so ids follow commit order.
const EVENTS_LOCK: i64 = 0x4845_5241_4c44; // "HERALD"
/// Events a slow subscriber may fall behind by before it resyncs.
pub const BUS_CAPACITY: usize = 4096;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EventKind {
    NotificationCreated,
    NotificationDeleted,
    /// A user's viewed marks changed.
    Viewed,
    /// Memberships changed (for one user, or anyone when no user is given).
    Membership,
    /// Many things changed at once (retention, a product deleted): recount.
    Resync,
    /// A user's credentials changed (an API token revoked): their open
    /// sessions check theirs again, on every replica.
    Credentials,
}

impl EventKind {
    const ALL: [EventKind; 6] = [
        EventKind::NotificationCreated,
        EventKind::NotificationDeleted,
        EventKind::Viewed,
        EventKind::Membership,
        EventKind::Resync,
        EventKind::Credentials,
    ];

    fn as_str(self) -> &'static str {
        match self {
            EventKind::NotificationCreated => "NOTIFICATION_CREATED",
            EventKind::NotificationDeleted => "NOTIFICATION_DELETED",
            EventKind::Viewed => "VIEWED",
            EventKind::Membership => "MEMBERSHIP",
            EventKind::Resync => "RESYNC",
            EventKind::Credentials => "CREDENTIALS",
        }
    }

    fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.as_str() == s)
    }
}

/// An event about to be written.
#[derive(Debug, Clone, Copy)]
pub struct NewEvent {
    pub kind: EventKind,
    pub notification_id: Option<i64>,
    pub notification_type: Option<NotificationType>,
    pub product_id: Option<i64>,
    pub user_id: Option<i64>,
}

impl NewEvent {
    pub fn of(kind: EventKind) -> Self {
        Self {
            kind,
            notification_id: None,
            notification_type: None,
            product_id: None,
            user_id: None,
        }
    }

    pub fn notification(kind: EventKind, n: &notification::Model) -> Self {
        Self {
            notification_id: Some(n.id),
            notification_type: n.kind.parse().ok(),
            product_id: n.product_id,
            ..Self::of(kind)
        }
    }

    pub fn for_user(kind: EventKind, user_id: Option<i64>) -> Self {
        Self {
            user_id,
            ..Self::of(kind)
        }
    }
}

/// Starts a write transaction that may emit events. On PostgreSQL it takes
/// the events lock first, before any row lock: a transaction that took row
/// locks and then waited for the events lock could deadlock with one holding
/// the events lock and waiting for those rows. The lock also makes event ids
/// follow commit order. SQLite has one writer at a time anyway.
pub async fn begin(db: &DatabaseConnection) -> Result<DatabaseTransaction, DbErr> {
    let txn = crate::db::begin(db).await?;
    if txn.get_database_backend() == DbBackend::Postgres {
        txn.execute_unprepared(&format!("SELECT pg_advisory_xact_lock({EVENTS_LOCK})"))
            .await?;
    }
    Ok(txn)
}

/// Writes an event inside `txn`, which [`begin`] started: it becomes
/// visible, and is published, only if the transaction commits. On
/// PostgreSQL the transaction also wakes the other replicas (NOTIFY is
/// delivered at commit).
pub async fn emit(txn: &DatabaseTransaction, new: NewEvent) -> AppResult<()> {
    let postgres = txn.get_database_backend() == DbBackend::Postgres;
    if postgres {
        // Already held when the transaction came from `begin`; taking it
        // again is free, and keeps the order right if it did not.
        txn.execute_unprepared(&format!("SELECT pg_advisory_xact_lock({EVENTS_LOCK})"))
            .await?;
    }
    event::ActiveModel {
        id: NotSet,
        kind: Set(new.kind.as_str().to_owned()),
        notification_id: Set(new.notification_id),
        notification_type: Set(new.notification_type.map(|t| t.as_str().to_owned())),
        product_id: Set(new.product_id),
        user_id: Set(new.user_id),
        created_at: Set(chrono::Utc::now()),
    }
    .insert(txn)
    .await?;
    if postgres {
        txn.execute_unprepared(&format!("SELECT pg_notify('{CHANNEL}', '')"))
            .await?;
    }
    Ok(())
}

/// The id of the last event written (0 when there is none).
pub async fn last_event_id(db: &impl ConnectionTrait) -> Result<i64, DbErr> {
    let id: Option<i64> = event::Entity::find()
        .select_only()
        .column(event::Column::Id)
        .order_by_desc(event::Column::Id)
        .into_tuple()
        .one(db)
        .await?;
    Ok(id.unwrap_or(0))
}

/// An event as subscribers receive it.
#[derive(Debug, Clone)]
pub struct LiveEvent {
    pub id: i64,
    pub kind: EventKind,
    pub notification_id: Option<i64>,
    pub notification_type: Option<NotificationType>,
    pub product_id: Option<i64>,
    pub user_id: Option<i64>,
    /// The new notification with its product and user, loaded once for
    /// every subscriber.
    pub notification: Option<Arc<notification::Model>>,
    pub product: Option<Arc<product::Model>>,
    pub user: Option<Arc<user::Model>>,
}

impl LiveEvent {
    fn from_row(row: event::Model, notification: Option<notification::Model>) -> Option<Self> {
        Some(Self {
            id: row.id,
            kind: EventKind::parse(&row.kind)?,
            notification_id: row.notification_id,
            notification_type: row.notification_type.and_then(|t| t.parse().ok()),
            product_id: row.product_id,
            user_id: row.user_id,
            notification: notification.map(Arc::new),
            product: None,
            user: None,
        })
    }
}

/// This process's subscribers listen here.
pub struct Bus {
    pub sender: broadcast::Sender<Arc<LiveEvent>>,
    /// Wakes the publisher after a local commit.
    pub wake: tokio::sync::Notify,
}

impl Default for Bus {
    fn default() -> Self {
        Self {
            sender: broadcast::channel(BUS_CAPACITY).0,
            wake: tokio::sync::Notify::new(),
        }
    }
}

impl Bus {
    pub fn subscribe(&self) -> broadcast::Receiver<Arc<LiveEvent>> {
        self.sender.subscribe()
    }
}
