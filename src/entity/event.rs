use sea_orm::entity::prelude::*;

/// Something live subscribers hear about, in commit order.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "events")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    /// NOTIFICATION_CREATED, NOTIFICATION_DELETED, VIEWED or MEMBERSHIP.
    pub kind: String,
    pub notification_id: Option<i64>,
    pub notification_type: Option<String>,
    pub product_id: Option<i64>,
    /// Whose views or memberships changed (None: possibly everybody's).
    pub user_id: Option<i64>,
    pub created_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
