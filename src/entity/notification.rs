use sea_orm::entity::prelude::*;

use crate::domain::{NotificationType, SecurityGateStatus};

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "notifications")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    /// SECURITY_GATE, EXCEPTION or TASK.
    #[sea_orm(column_name = "type")]
    pub kind: NotificationType,
    pub name: String,
    pub message: Option<String>,
    pub product_id: Option<i64>,
    pub user_id: Option<i64>,
    pub function: Option<String>,
    pub arguments: Option<String>,
    pub trace: Option<String>,
    pub repeat_count: Option<i64>,
    pub repeat_since: Option<DateTimeUtc>,
    pub created_at: DateTimeUtc,
    /// SECURITY_GATE notifications: the status the gate moved to.
    pub gate_status: Option<SecurityGateStatus>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
