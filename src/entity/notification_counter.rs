use sea_orm::entity::prelude::*;

use crate::domain::NotificationType;

/// The number of notifications per product (0: none) and type.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "notification_counters")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub product_key: i64,
    #[sea_orm(primary_key, auto_increment = false, column_name = "type")]
    pub kind: NotificationType,
    pub count: i64,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
