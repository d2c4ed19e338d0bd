use sea_orm::entity::prelude::*;

use crate::domain::SecurityGateStatus;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "products")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub name: String,
    pub description: Option<String>,
    pub product_group_id: Option<i64>,
    /// The last evaluated value.
    pub security_gate: SecurityGateStatus,
    pub security_gate_active: Option<bool>,
    pub threshold_critical: Option<i32>,
    pub threshold_high: Option<i32>,
    pub threshold_medium: Option<i32>,
    pub threshold_low: Option<i32>,
    pub threshold_none: Option<i32>,
    pub threshold_unknown: Option<i32>,
    /// JSON array of addresses.
    pub notification_email_to: String,
    pub notification_ms_teams_webhook: Option<String>,
    pub notification_slack_webhook: Option<String>,
    pub created_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
