//! The settings row (one per installation) and the global gate it holds.

use sea_orm::{ConnectionTrait, EntityTrait};

use crate::domain::{GlobalGate, Threshold};
use crate::entity::settings;
use crate::error::{AppError, AppResult};

pub async fn load(db: &impl ConnectionTrait) -> AppResult<settings::Model> {
    settings::Entity::find_by_id(settings::ID)
        .one(db)
        .await?
        .ok_or_else(|| AppError::internal(anyhow::anyhow!("the settings row is missing")))
}

pub fn global_gate(s: &settings::Model) -> GlobalGate {
    GlobalGate {
        active: s.security_gate_active,
        thresholds: [
            s.threshold_critical,
            s.threshold_high,
            s.threshold_medium,
            s.threshold_low,
            s.threshold_none,
            s.threshold_unknown,
        ]
        .map(Threshold::stored),
    }
}
