//! Products and product groups store the same gate settings and notification
//! targets; this maps both between their rows and the domain types.

use sea_orm::ActiveValue::Set;

use crate::domain::{
    Description, EmailList, GateSettings, NotificationTargets, ProductChanges, ProductSpec, Severity, Thresholds,
    WebhookUrl,
};
use crate::entity::{product, product_group};

/// Read access to the shared columns.
pub trait GateColumns {
    fn gate_settings(&self) -> GateSettings;
    fn targets(&self) -> NotificationTargets;
}

/// Write access to the shared columns.
pub trait GateColumnsMut {
    fn apply_spec(&mut self, spec: ProductSpec);
    fn apply_changes(&mut self, current: &impl GateColumns, changes: ProductChanges);
}

fn stored_webhook(raw: &Option<String>) -> Option<WebhookUrl> {
    raw.as_deref().and_then(|s| WebhookUrl::parse("stored", s).ok())
}

macro_rules! gate_columns {
    ($entity:ident) => {
        impl GateColumns for $entity::Model {
            fn gate_settings(&self) -> GateSettings {
                GateSettings {
                    active: self.security_gate_active,
                    thresholds: Thresholds::stored([
                        self.threshold_critical,
                        self.threshold_high,
                        self.threshold_medium,
                        self.threshold_low,
                        self.threshold_none,
                        self.threshold_unknown,
                    ]),
                }
            }

            fn targets(&self) -> NotificationTargets {
                NotificationTargets {
                    email_to: EmailList::from_stored(&self.notification_email_to),
                    ms_teams_webhook: stored_webhook(&self.notification_ms_teams_webhook),
                    slack_webhook: stored_webhook(&self.notification_slack_webhook),
                }
            }
        }

        impl $entity::ActiveModel {
            fn set_gate(&mut self, gate: GateSettings) {
                let [critical, high, medium, low, none, unknown] = gate.thresholds.values();
                self.security_gate_active = Set(gate.active);
                self.threshold_critical = Set(critical);
                self.threshold_high = Set(high);
                self.threshold_medium = Set(medium);
                self.threshold_low = Set(low);
                self.threshold_none = Set(none);
                self.threshold_unknown = Set(unknown);
            }

            fn set_targets(&mut self, targets: NotificationTargets) {
                self.notification_email_to = Set(targets.email_to.to_stored());
                self.notification_ms_teams_webhook = Set(targets.ms_teams_webhook.map(|u| u.expose().to_owned()));
                self.notification_slack_webhook = Set(targets.slack_webhook.map(|u| u.expose().to_owned()));
            }
        }

        impl GateColumnsMut for $entity::ActiveModel {
            fn apply_spec(&mut self, spec: ProductSpec) {
                self.name = Set(spec.name.into_inner());
                self.description = Set(spec.description.map(Description::into_inner));
                self.set_gate(spec.gate);
                self.set_targets(spec.targets);
            }

            fn apply_changes(&mut self, current: &impl GateColumns, changes: ProductChanges) {
                if let Some(name) = changes.name {
                    self.name = Set(name.into_inner());
                }
                if !changes.description.is_keep() {
                    self.description = Set(changes.description.apply(None).map(Description::into_inner));
                }
                let mut gate = current.gate_settings();
                gate.active = changes.gate_active.clone().apply(gate.active);
                for severity in Severity::ALL {
                    let value = changes.thresholds[severity.index()]
                        .clone()
                        .apply(gate.thresholds.get(severity));
                    gate.thresholds.set(severity, value);
                }
                self.set_gate(gate);
                let mut targets = current.targets();
                if let Some(list) = changes.email_to {
                    targets.email_to = list;
                }
                targets.ms_teams_webhook = changes.ms_teams_webhook.apply(targets.ms_teams_webhook);
                targets.slack_webhook = changes.slack_webhook.apply(targets.slack_webhook);
                self.set_targets(targets);
            }
        }
    };
}

gate_columns!(product);
gate_columns!(product_group);
