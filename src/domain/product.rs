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

/// What a change of a product's group does. Each side needs MAINTAINER or
/// above on its group: joining, as for a new product, and leaving, since
/// that cuts the group's members off the product and stops its routing.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct GroupMove {
    pub leaves: Option<i64>,
    pub joins: Option<i64>,
}

impl GroupMove {
    pub fn new(current: Option<i64>, change: &Patch<i64>) -> Self {
        match *change {
            Patch::Keep => Self::default(),
            Patch::Clear => Self {
                leaves: current,
                joins: None,
            },
            Patch::Set(target) => Self {
                leaves: current.filter(|&from| from != target),
                joins: Some(target),
            },
        }
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
    fn moving_leaves_one_group_and_joins_another() {
        let moved = |leaves, joins| GroupMove { leaves, joins };
        assert_eq!(GroupMove::new(Some(1), &Patch::Keep), moved(None, None));
        assert_eq!(GroupMove::new(Some(1), &Patch::Clear), moved(Some(1), None));
        assert_eq!(GroupMove::new(None, &Patch::Clear), moved(None, None));
        assert_eq!(GroupMove::new(Some(1), &Patch::Set(2)), moved(Some(1), Some(2)));
        assert_eq!(GroupMove::new(None, &Patch::Set(2)), moved(None, Some(2)));
        assert_eq!(GroupMove::new(Some(2), &Patch::Set(2)), moved(None, Some(2)));
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
