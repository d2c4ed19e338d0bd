//! Database migrations, one file per migration, applied in order.

pub use sea_orm_migration::prelude::*;

mod m20261125_000001_foundation;
mod m20261125_000002_notifications;
mod m20261125_000003_events;
mod m20261202_000001_delivery_target_origin;
mod m20261203_000001_event_xid;
mod m20261203_000002_jobs;
mod m20261203_000003_notification_gate_status;

pub struct Migrator;

#[async_trait::async_trait]
impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![
            Box::new(m20261125_000001_foundation::Migration),
            Box::new(m20261125_000002_notifications::Migration),
            Box::new(m20261125_000003_events::Migration),
            Box::new(m20261202_000001_delivery_target_origin::Migration),
            Box::new(m20261203_000001_event_xid::Migration),
            Box::new(m20261203_000002_jobs::Migration),
            Box::new(m20261203_000003_notification_gate_status::Migration),
        ]
    }
}
