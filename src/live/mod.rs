//! Live push: the event log written inside transactions, the publisher that
//! reads it in commit order and broadcasts to this process's subscribers,
//! and the PostgreSQL LISTEN that wakes it when another replica wrote.

pub mod fanout;
pub mod fanout_task;
pub mod log;
pub mod protocol;
pub mod publisher;
pub mod sessions;
pub mod viewer;

use std::sync::Arc;

use sea_orm::ActiveModelTrait;
use sea_orm::ActiveValue::{NotSet, Set};
use tokio::sync::broadcast;

use crate::domain::NotificationType;
use crate::entity::{event, notification, product, user};
use crate::error::AppResult;
use crate::store::UnitOfWork;

/// The PostgreSQL channel replicas LISTEN on.
pub const CHANNEL: &str = "herald_events";
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
            notification_type: Some(n.kind),
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

/// Writes an event inside `uow`: it becomes visible, and is published,
/// only if the change commits; the commit wakes the publishers.
pub async fn emit(uow: &UnitOfWork, new: NewEvent) -> AppResult<()> {
    event::ActiveModel {
        id: NotSet,
        kind: Set(new.kind.as_str().to_owned()),
        notification_id: Set(new.notification_id),
        notification_type: Set(new.notification_type.map(|t| t.as_str().to_owned())),
        product_id: Set(new.product_id),
        user_id: Set(new.user_id),
        created_at: Set(chrono::Utc::now()),
        // The column's default: the writing transaction's id.
        xid: NotSet,
    }
    .insert(uow)
    .await?;
    uow.wrote_events();
    Ok(())
}

/// An event as subscribers receive it.
#[derive(Debug, Clone)]
pub struct LiveEvent {
    pub id: i64,
    /// The writing transaction's id (0 on SQLite).
    pub xid: i64,
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
            xid: row.xid,
            kind: EventKind::parse(&row.kind)?,
            notification_id: row.notification_id,
            // Unknown to this version (written by a newer replica during a
            // rolling deployment): no notification this version can show,
            // rather than a log no replica can read past.
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
}

impl Default for Bus {
    fn default() -> Self {
        Self {
            sender: broadcast::channel(BUS_CAPACITY).0,
        }
    }
}

impl Bus {
    pub fn subscribe(&self) -> broadcast::Receiver<Arc<LiveEvent>> {
        self.sender.subscribe()
    }
}
