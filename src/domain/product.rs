//! What a client may set on a product or a product group, validated.

use super::{Description, EmailList, GateSettings, Name, Threshold, WebhookUrl};

/// A change to one optional field: leave it, clear it, or set it.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum Patch<T> {
    #[default]
    Keep,
    Clear,
    Set(T),
}

impl<T> Patch<T> {
    /// Applies the change to the current value.
    pub fn apply(self, current: Option<T>) -> Option<T> {
        match self {
            Patch::Keep => current,
            Patch::Clear => None,
            Patch::Set(v) => Some(v),
        }
    }

    pub fn map<U>(self, f: impl FnOnce(T) -> U) -> Patch<U> {
        match self {
            Patch::Keep => Patch::Keep,
            Patch::Clear => Patch::Clear,
            Patch::Set(v) => Patch::Set(f(v)),
        }
    }

    pub fn is_keep(&self) -> bool {
        matches!(self, Patch::Keep)
    }
}

/// Where a product's (or group's) notifications go.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct NotificationTargets {
    pub email_to: EmailList,
    pub ms_teams_webhook: Option<WebhookUrl>,
    pub slack_webhook: Option<WebhookUrl>,
}

/// A new product or product group.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProductSpec {
    pub name: Name,
    pub description: Option<Description>,
    pub gate: GateSettings,
    pub targets: NotificationTargets,
}

/// Changes to a product or product group; absent fields stay as they are.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ProductChanges {
    pub name: Option<Name>,
    pub description: Patch<Description>,
    pub gate_active: Patch<bool>,
    pub thresholds: [Patch<Threshold>; 6],
    pub email_to: Option<EmailList>,
    pub ms_teams_webhook: Patch<WebhookUrl>,
    pub slack_webhook: Patch<WebhookUrl>,
}

impl ProductChanges {
    /// Whether applying these changes could move the security gate.
    pub fn touches_gate(&self) -> bool {
        !self.gate_active.is_keep() || self.thresholds.iter().any(|t| !t.is_keep())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::Severity;

    #[test]
    fn patch_keeps_clears_or_sets() {
        assert_eq!(Patch::<i32>::Keep.apply(Some(1)), Some(1));
        assert_eq!(Patch::<i32>::Clear.apply(Some(1)), None);
        assert_eq!(Patch::Set(2).apply(Some(1)), Some(2));
    }

    #[test]
    fn only_gate_fields_touch_the_gate() {
        let mut changes = ProductChanges {
            name: Some(Name::parse("name", "x").unwrap()),
            ..Default::default()
        };
        assert!(!changes.touches_gate());
        changes.thresholds[Severity::Low.index()] = Patch::Clear;
        assert!(changes.touches_gate());
    }
}
