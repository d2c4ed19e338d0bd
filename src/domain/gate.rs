//! The security gate: which settings apply to a product, and whether its open
//! observations pass them.

use super::stored_name::stored_name;
use super::{Severity, ValidationError};

/// A gate threshold: the number of open observations of one severity that is
/// still acceptable, 0..=999 999.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Threshold(i32);

impl Threshold {
    pub const MAX: i32 = 999_999;

    pub fn new(field: &str, value: i32) -> Result<Self, ValidationError> {
        if (0..=Self::MAX).contains(&value) {
            Ok(Self(value))
        } else {
            Err(ValidationError::new(
                field,
                format!("must be between 0 and {}, got {value}", Self::MAX),
            ))
        }
    }

    pub fn value(self) -> i32 {
        self.0
    }

    /// A value read back from storage, where it was validated on the way in.
    pub fn stored(value: i32) -> Self {
        Self(value.clamp(0, Self::MAX))
    }
}

/// One optional threshold per severity, as a product or group stores them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Thresholds(pub [Option<Threshold>; 6]);

impl Thresholds {
    pub fn get(&self, severity: Severity) -> Option<Threshold> {
        self.0[severity.index()]
    }

    pub fn set(&mut self, severity: Severity, value: Option<Threshold>) {
        self.0[severity.index()] = value;
    }

    /// Builds from stored integers; values outside the range are refused with
    /// the field name `thresholds.<severity>`.
    pub fn from_values(values: [Option<i32>; 6]) -> Result<Self, ValidationError> {
        let mut out = Thresholds::default();
        for severity in Severity::ALL {
            if let Some(v) = values[severity.index()] {
                let field = format!("thresholds.{}", severity.field_name());
                out.set(severity, Some(Threshold::new(&field, v)?));
            }
        }
        Ok(out)
    }

    /// Thresholds read back from storage.
    pub fn stored(values: [Option<i32>; 6]) -> Self {
        Self(values.map(|v| v.map(Threshold::stored)))
    }

    pub fn values(&self) -> [Option<i32>; 6] {
        self.0.map(|t| t.map(Threshold::value))
    }
}

/// The gate settings of a product or product group.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct GateSettings {
    /// `Some(true)`: its own thresholds; `Some(false)`: no gate;
    /// `None`: defer (a group to its product, a product to the global gate).
    pub active: Option<bool>,
    pub thresholds: Thresholds,
}

/// The global gate from the settings: on or off, with a value for every
/// severity.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct GlobalGate {
    pub active: bool,
    pub thresholds: [Threshold; 6],
}

impl Default for GlobalGate {
    /// Critical 0, high 0, the rest 99 999: any critical or high finding fails.
    fn default() -> Self {
        Self {
            active: true,
            thresholds: [0, 0, 99_999, 99_999, 99_999, 99_999].map(Threshold),
        }
    }
}

/// Number of OPEN observations per severity.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct SeverityCounts(pub [u64; 6]);

impl SeverityCounts {
    pub fn get(&self, severity: Severity) -> u64 {
        self.0[severity.index()]
    }

    pub fn add(&mut self, severity: Severity, n: u64) {
        self.0[severity.index()] += n;
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, async_graphql::Enum, sea_orm::DeriveValueType)]
#[sea_orm(value_type = "String")]
pub enum SecurityGateStatus {
    Passed,
    Failed,
    None,
}

impl SecurityGateStatus {
    pub const ALL: [SecurityGateStatus; 3] = [Self::Passed, Self::Failed, Self::None];

    pub fn as_str(self) -> &'static str {
        match self {
            SecurityGateStatus::Passed => "PASSED",
            SecurityGateStatus::Failed => "FAILED",
            SecurityGateStatus::None => "NONE",
        }
    }

    /// The word used in notification texts: Passed, Failed, None.
    pub fn label(self) -> &'static str {
        match self {
            SecurityGateStatus::Passed => "Passed",
            SecurityGateStatus::Failed => "Failed",
            SecurityGateStatus::None => "None",
        }
    }
}

stored_name!(SecurityGateStatus);

/// The thresholds that apply to a product, or `None` when it has no gate.
///
/// A group whose `active` is set overrides its products; otherwise the
/// product's own setting decides, and a product that defers uses the global
/// gate. A threshold left empty in a product- or group-specific gate counts
/// as 0; an explicit 0 stays 0 (SecObserve swaps it for the global value).
pub fn applicable_thresholds(
    product: &GateSettings,
    group: Option<&GateSettings>,
    global: &GlobalGate,
) -> Option<[i32; 6]> {
    let specific = match group {
        Some(group) if group.active.is_some() => group,
        _ => product,
    };
    match specific.active {
        Some(true) => Some(specific.thresholds.0.map(|t| t.map_or(0, Threshold::value))),
        Some(false) => None,
        None if global.active => Some(global.thresholds.map(Threshold::value)),
        None => None,
    }
}

/// Evaluates a product's gate: FAILED when some severity has strictly more
/// open observations than its threshold, PASSED otherwise, NONE when no gate
/// applies.
pub fn evaluate(
    product: &GateSettings,
    group: Option<&GateSettings>,
    global: &GlobalGate,
    open: &SeverityCounts,
) -> SecurityGateStatus {
    let Some(thresholds) = applicable_thresholds(product, group, global) else {
        return SecurityGateStatus::None;
    };
    let exceeded = Severity::ALL
        .into_iter()
        .any(|s| open.get(s) > thresholds[s.index()] as u64);
    if exceeded {
        SecurityGateStatus::Failed
    } else {
        SecurityGateStatus::Passed
    }
}

/// A product's gate moved from one value to another.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct GateChange {
    pub product_id: i64,
    pub from: SecurityGateStatus,
    pub to: SecurityGateStatus,
}

impl GateChange {
    /// `Some` only when the value really changed.
    pub fn between(product_id: i64, from: SecurityGateStatus, to: SecurityGateStatus) -> Option<Self> {
        (from != to).then_some(Self { product_id, from, to })
    }
}

#[cfg(test)]
mod tests {
    use super::SecurityGateStatus::{Failed, None as NoGate, Passed};
    use super::*;

    fn th(v: i32) -> Option<Threshold> {
        Some(Threshold::new("t", v).unwrap())
    }

    fn specific(active: Option<bool>, values: [Option<i32>; 6]) -> GateSettings {
        GateSettings {
            active,
            thresholds: Thresholds::from_values(values).unwrap(),
        }
    }

    fn counts(severity: Severity, n: u64) -> SeverityCounts {
        let mut c = SeverityCounts::default();
        c.add(severity, n);
        c
    }

    fn global(active: bool, value: i32) -> GlobalGate {
        GlobalGate {
            active,
            thresholds: [Threshold(value); 6],
        }
    }

    #[test]
    fn threshold_range_is_enforced() {
        assert!(Threshold::new("thresholds.high", 0).is_ok());
        assert!(Threshold::new("thresholds.high", 999_999).is_ok());
        let err = Threshold::new("thresholds.high", 1_000_000).unwrap_err();
        assert_eq!(err.field, "thresholds.high");
        assert!(Threshold::new("thresholds.high", -1).is_err());
        let err = Thresholds::from_values([None, None, Some(-5), None, None, None]).unwrap_err();
        assert_eq!(err.field, "thresholds.medium");
    }

    #[test]
    fn disabled_product_gate_is_none_whatever_the_counts() {
        let product = specific(Some(false), [Some(0); 6]);
        assert_eq!(
            evaluate(&product, None, &global(true, 0), &counts(Severity::Critical, 50)),
            NoGate
        );
    }

    #[test]
    fn product_deferring_to_a_disabled_global_gate_is_none() {
        let product = specific(None, [Some(0); 6]);
        assert_eq!(
            evaluate(&product, None, &global(false, 0), &counts(Severity::Critical, 5)),
            NoGate
        );
    }

    #[test]
    fn product_deferring_uses_global_thresholds() {
        let product = specific(None, [Some(100); 6]);
        let g = GlobalGate::default();
        assert_eq!(evaluate(&product, None, &g, &SeverityCounts::default()), Passed);
        assert_eq!(evaluate(&product, None, &g, &counts(Severity::Critical, 1)), Failed);
        assert_eq!(evaluate(&product, None, &g, &counts(Severity::High, 1)), Failed);
        assert_eq!(evaluate(&product, None, &g, &counts(Severity::Medium, 99_999)), Passed);
        assert_eq!(evaluate(&product, None, &g, &counts(Severity::Medium, 100_000)), Failed);
    }

    #[test]
    fn each_severity_passes_at_its_threshold_and_fails_one_above() {
        for severity in Severity::ALL {
            let mut values = [Some(999_999); 6];
            values[severity.index()] = Some(7);
            let product = specific(Some(true), values);
            let g = global(false, 0);
            assert_eq!(
                evaluate(&product, None, &g, &counts(severity, 7)),
                Passed,
                "{severity:?} at threshold"
            );
            assert_eq!(
                evaluate(&product, None, &g, &counts(severity, 8)),
                Failed,
                "{severity:?} above threshold"
            );
        }
    }

    #[test]
    fn empty_specific_threshold_counts_as_zero_and_explicit_zero_stays_zero() {
        let g = global(true, 50);
        let empty = specific(Some(true), [None; 6]);
        assert_eq!(evaluate(&empty, None, &g, &SeverityCounts::default()), Passed);
        assert_eq!(evaluate(&empty, None, &g, &counts(Severity::Low, 1)), Failed);
        let zero = specific(Some(true), [Some(0); 6]);
        // SecObserve would use the global 50 here; an explicit 0 means zero.
        assert_eq!(evaluate(&zero, None, &g, &counts(Severity::Unknown, 1)), Failed);
    }

    #[test]
    fn group_with_a_setting_overrides_the_product() {
        let product = specific(Some(true), [Some(0); 6]);
        let g = global(true, 0);
        let open = counts(Severity::High, 3);

        let lenient_group = specific(Some(true), [Some(10); 6]);
        assert_eq!(evaluate(&product, Some(&lenient_group), &g, &open), Passed);

        let disabled_group = specific(Some(false), [None; 6]);
        assert_eq!(evaluate(&product, Some(&disabled_group), &g, &open), NoGate);

        let strict_group = specific(Some(true), [Some(2); 6]);
        let lenient_product = specific(Some(true), [Some(10); 6]);
        assert_eq!(evaluate(&lenient_product, Some(&strict_group), &g, &open), Failed);
    }

    #[test]
    fn group_without_a_setting_leaves_the_product_in_charge() {
        let group = specific(None, [Some(0); 6]);
        let g = global(true, 0);
        let open = counts(Severity::High, 3);
        let product = specific(Some(true), [Some(5); 6]);
        assert_eq!(evaluate(&product, Some(&group), &g, &open), Passed);
        let deferring = specific(None, [Some(5); 6]);
        assert_eq!(evaluate(&deferring, Some(&group), &g, &open), Failed);
        let disabled = specific(Some(false), [None; 6]);
        assert_eq!(evaluate(&disabled, Some(&group), &g, &open), NoGate);
    }

    #[test]
    fn gate_change_only_when_the_value_moves() {
        assert_eq!(GateChange::between(1, Passed, Passed), None);
        assert_eq!(
            GateChange::between(1, Passed, Failed),
            Some(GateChange {
                product_id: 1,
                from: Passed,
                to: Failed
            })
        );
    }

    #[test]
    fn thresholds_round_trip_values() {
        let t = Thresholds::from_values([Some(1), None, Some(3), None, Some(0), Some(999_999)]).unwrap();
        assert_eq!(t.values(), [Some(1), None, Some(3), None, Some(0), Some(999_999)]);
        assert_eq!(t.get(Severity::Critical), th(1));
    }
}
