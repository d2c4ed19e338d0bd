use sea_orm::entity::prelude::*;

/// Something live subscribers hear about. Read in (xid, id) order, and only
/// from transactions older than every one still running (`live::log`).
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
    /// The writing transaction's id on PostgreSQL (set by the column's
    /// default); 0 on SQLite, whose single writer keeps ids in commit order.
    pub xid: i64,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
