use sea_orm::entity::prelude::*;

use crate::domain::{Channel, DeliveryStatus};

/// One outbox row: a notification to one recipient on one channel.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "deliveries")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub notification_id: Option<i64>,
    pub channel: Channel,
    /// An address or a webhook URL (a secret).
    pub target: String,
    pub status: DeliveryStatus,
    pub attempts: i32,
    pub next_attempt_at: Option<DateTimeUtc>,
    /// While set and in the future, a worker holds this row.
    pub lease_until: Option<DateTimeUtc>,
    pub last_error: Option<String>,
    pub last_status_code: Option<i32>,
    /// Whose setting the target came from: PRODUCT, PRODUCT_GROUP (with
    /// `target_origin_id`), SETTINGS or TEST; it decides who reads it whole.
    pub target_origin: String,
    pub target_origin_id: Option<i64>,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
