use sea_orm::entity::prelude::*;

/// The single row (id 1) of global settings.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "settings")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: i32,
    pub base_url_frontend: Option<String>,
    pub email_from: Option<String>,
    /// JSON array of addresses.
    pub exception_email_to: String,
    pub exception_ms_teams_webhook: Option<String>,
    pub exception_slack_webhook: Option<String>,
    pub exception_rate_limit_seconds: i64,
    pub security_gate_active: bool,
    pub threshold_critical: i32,
    pub threshold_high: i32,
    pub threshold_medium: i32,
    pub threshold_low: i32,
    pub threshold_none: i32,
    pub threshold_unknown: i32,
    pub jwt_secret: Option<String>,
    pub notification_retention_days: i32,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}

pub const ID: i32 = 1;
