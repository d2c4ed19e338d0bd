use sea_orm::entity::prelude::*;

/// A background job (`jobs::Job`), run once by whichever replica claims it.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "jobs")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    /// REEVALUATE_ALL_GATES, DELETE_OLD_NOTIFICATIONS or INJECT_FAULT.
    pub kind: String,
    pub arguments: Option<String>,
    pub user_id: Option<i64>,
    pub product_id: Option<i64>,
    #[sea_orm(unique)]
    pub dedupe_key: Option<String>,
    pub run_after: DateTimeUtc,
    /// Claimed by a worker until then; after it, another may claim it.
    pub lease_until: Option<DateTimeUtc>,
    pub attempts: i32,
    pub done_at: Option<DateTimeUtc>,
    /// Why its last run failed (also reported as a TASK notification).
    pub last_error: Option<String>,
    pub created_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
