use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "exception_rate_limits")]
pub struct Model {
    /// SHA-256 of kind, message, function and arguments.
    #[sea_orm(primary_key, auto_increment = false)]
    pub key: String,
    pub last_sent_at: DateTimeUtc,
    pub suppressed: i64,
    pub first_suppressed_at: Option<DateTimeUtc>,
    pub version: i64,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
