//! Turns events into stored notifications and outbox rows: gate changes
//! inside the transaction that made them, failures (rate limited) in a
//! transaction of their own.

pub mod counters;
pub mod failure;
pub mod rate_limit;

use sea_orm::ActiveValue::{NotSet, Set};
use sea_orm::{ActiveModelTrait, EntityTrait};

use crate::domain::gate::GateChange;
use crate::domain::notification::{self, Recipient};
use crate::domain::{Channel, DeliveryStatus, NotificationType, SecurityGateStatus};
use crate::entity::{delivery, notification as notification_entity, product, product_group};
use crate::error::{AppError, AppResult};
use crate::live::{self, EventKind, NewEvent};
use crate::state::AppState;
use crate::store::UnitOfWork;
use crate::store::stored::GateColumns;

/// A notification about to be stored.
#[derive(Debug, Clone, Default)]
pub struct NewNotification {
    pub kind: Option<NotificationType>,
    pub name: String,
    pub message: Option<String>,
    pub product_id: Option<i64>,
    pub user_id: Option<i64>,
    pub function: Option<String>,
    pub arguments: Option<String>,
    pub trace: Option<String>,
    pub repeat: Option<(i64, chrono::DateTime<chrono::Utc>)>,
    /// The status a gate moved to (SECURITY_GATE notifications).
    pub gate: Option<SecurityGateStatus>,
}

/// Stores a notification and one PENDING outbox row per recipient, due now.
pub async fn store(
    db: &UnitOfWork,
    new: NewNotification,
    recipients: &[Recipient],
) -> AppResult<notification_entity::Model> {
    let now = chrono::Utc::now();
    let kind = new
        .kind
        .ok_or_else(|| AppError::internal(anyhow::anyhow!("notification without a type")))?;
    let stored = notification_entity::ActiveModel {
        id: NotSet,
        kind: Set(kind),
        name: Set(new.name),
        message: Set(new.message),
        product_id: Set(new.product_id),
        user_id: Set(new.user_id),
        function: Set(new.function),
        arguments: Set(new.arguments),
        trace: Set(new.trace),
        repeat_count: Set(new.repeat.map(|(n, _)| n)),
        repeat_since: Set(new.repeat.map(|(_, since)| since)),
        created_at: Set(now),
        gate_status: Set(new.gate),
    }
    .insert(db)
    .await?;
    counters::add(db, stored.product_id, stored.kind, 1).await?;
    live::emit(db, NewEvent::notification(EventKind::NotificationCreated, &stored)).await?;
    if !recipients.is_empty() {
        let rows = recipients.iter().map(|r| pending_delivery(Some(stored.id), r, now));
        delivery::Entity::insert_many(rows).exec(db).await?;
    }
    Ok(stored)
}

/// A new outbox row for one recipient, due now.
pub fn pending_delivery(
    notification_id: Option<i64>,
    recipient: &Recipient,
    now: chrono::DateTime<chrono::Utc>,
) -> delivery::ActiveModel {
    delivery::ActiveModel {
        id: NotSet,
        notification_id: Set(notification_id),
        channel: Set(recipient.channel),
        target: Set(recipient.target.clone()),
        status: Set(DeliveryStatus::Pending),
        attempts: Set(0),
        next_attempt_at: Set(Some(now)),
        lease_until: Set(None),
        last_error: Set(None),
        last_status_code: Set(None),
        target_origin: Set(recipient.origin.kind().to_owned()),
        target_origin_id: Set(recipient.origin.id()),
        created_at: Set(now),
        updated_at: Set(now),
    }
}

/// Called inside the transaction that changed a product's gate, so the
/// notification and its outbox rows commit or roll back with the change.
pub async fn gate_changed(txn: &UnitOfWork, app: &AppState, change: &GateChange, actor: Option<i64>) -> AppResult<()> {
    let product = product::Entity::find_by_id(change.product_id)
        .one(txn)
        .await?
        .ok_or(AppError::NotFound("product"))?;
    let group = match product.product_group_id {
        Some(id) => product_group::Entity::find_by_id(id).one(txn).await?,
        None => None,
    };
    let group_targets = group.map(|g| (g.id, g.targets()));
    let mut recipients = notification::gate_recipients(
        (product.id, &product.targets()),
        group_targets.as_ref().map(|(id, t)| (*id, t)),
    );
    if !app.email_enabled(&crate::store::settings::load(txn).await?) {
        recipients.retain(|r| r.channel != Channel::Email);
    }
    tracing::info!(
        product_id = change.product_id,
        from = change.from.as_str(),
        to = change.to.as_str(),
        recipients = recipients.len(),
        "security gate changed"
    );
    app.metrics
        .notification_created(NotificationType::SecurityGate.as_str());
    store(
        txn,
        NewNotification {
            kind: Some(NotificationType::SecurityGate),
            name: notification::gate_name(change.to),
            gate: Some(change.to),
            product_id: Some(change.product_id),
            user_id: actor,
            ..Default::default()
        },
        &recipients,
    )
    .await?;
    Ok(())
}
