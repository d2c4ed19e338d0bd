use sea_orm::ActiveValue::Set;
use sea_orm::{ActiveModelTrait, IntoActiveModel};

use crate::auth::Identity;
use crate::domain::{SettingsChanges, Threshold};
use crate::entity::settings;
use crate::error::AppResult;
use crate::state::AppState;
use crate::store::access::require_admin;
use crate::store::settings::load;
use crate::store::{Job, JobContext, enqueue};

/// Applies an administrator's changes. A change to the global gate
/// enqueues the re-evaluation of every product in the same transaction.
pub async fn update(app: &AppState, who: &Identity, changes: SettingsChanges) -> AppResult<settings::Model> {
    require_admin(who)?;
    let txn = app.begin().await?;
    let current = load(&txn).await?;
    let touches_gate = changes.touches_gate();
    let mut row = current.clone().into_active_model();
    row.base_url_frontend = Set(changes
        .base_url_frontend
        .map(|u| u.as_str().to_owned())
        .apply(current.base_url_frontend.clone()));
    row.email_from = Set(changes
        .email_from
        .map(|a| a.as_str().to_owned())
        .apply(current.email_from.clone()));
    if let Some(list) = changes.exception_email_to {
        row.exception_email_to = Set(list.to_stored());
    }
    row.exception_ms_teams_webhook = Set(changes
        .exception_ms_teams_webhook
        .map(|u| u.expose().to_owned())
        .apply(current.exception_ms_teams_webhook.clone()));
    row.exception_slack_webhook = Set(changes
        .exception_slack_webhook
        .map(|u| u.expose().to_owned())
        .apply(current.exception_slack_webhook.clone()));
    if let Some(seconds) = changes.exception_rate_limit_seconds {
        row.exception_rate_limit_seconds = Set(seconds);
    }
    if let Some(active) = changes.security_gate_active {
        row.security_gate_active = Set(active);
    }
    let [c, h, m, l, n, u] = changes.thresholds.map(|t| t.map(Threshold::value));
    if let Some(v) = c {
        row.threshold_critical = Set(v);
    }
    if let Some(v) = h {
        row.threshold_high = Set(v);
    }
    if let Some(v) = m {
        row.threshold_medium = Set(v);
    }
    if let Some(v) = l {
        row.threshold_low = Set(v);
    }
    if let Some(v) = n {
        row.threshold_none = Set(v);
    }
    if let Some(v) = u {
        row.threshold_unknown = Set(v);
    }
    let updated = row.update(&txn).await?;
    if touches_gate {
        let context = JobContext {
            user_id: Some(who.user_id()),
            product_id: None,
        };
        enqueue(&txn, Job::ReevaluateAllGates, context).await?;
    }
    txn.commit().await?;
    Ok(updated)
}
