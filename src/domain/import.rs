//! Matching an imported scan against the observations a product already has
//! from the same scanner.

use std::collections::{HashMap, HashSet};

use sha2::{Digest, Sha256};

use super::{Name, ObservationStatus, Severity, ValidationError};

/// One finding of an imported scan, validated.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImportedFinding {
    pub fingerprint: String,
    pub title: String,
    pub severity: Severity,
}

impl ImportedFinding {
    /// `index` is the finding's position in the list, for the error's field name.
    pub fn new(
        index: usize,
        fingerprint: Option<&str>,
        title: &str,
        severity: Severity,
    ) -> Result<Self, ValidationError> {
        let title = Name::parse(&format!("observations[{index}].title"), title)?.into_inner();
        let fingerprint = match fingerprint.map(str::trim) {
            Some(f) if !f.is_empty() => Name::parse(&format!("observations[{index}].fingerprint"), f)?.into_inner(),
            _ => derived_fingerprint(&title, severity),
        };
        Ok(Self {
            fingerprint,
            title,
            severity,
        })
    }
}

/// The fingerprint of a finding that brings none: a hash of title and severity.
pub fn derived_fingerprint(title: &str, severity: Severity) -> String {
    let mut hasher = Sha256::new();
    hasher.update(title.as_bytes());
    hasher.update([0]);
    hasher.update(severity.as_str().as_bytes());
    hasher.finalize().iter().map(|b| format!("{b:02x}")).collect()
}

/// An observation already stored for this product and scanner.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExistingObservation {
    pub id: i64,
    pub fingerprint: String,
    pub title: String,
    pub severity: Severity,
    pub status: ObservationStatus,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ObservationUpdate {
    pub id: i64,
    pub title: String,
    pub severity: Severity,
    pub status: ObservationStatus,
}

/// What an import does: new findings become OPEN observations, findings seen
/// again keep their status (a RESOLVED one reopens) and take the new title
/// and severity, and open ones missing from the scan are RESOLVED.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ImportPlan {
    pub create: Vec<ImportedFinding>,
    pub update: Vec<ObservationUpdate>,
    pub resolve: Vec<i64>,
}

pub fn plan(existing: &[ExistingObservation], incoming: Vec<ImportedFinding>) -> ImportPlan {
    let by_fingerprint: HashMap<&str, &ExistingObservation> =
        existing.iter().map(|o| (o.fingerprint.as_str(), o)).collect();
    let mut seen: HashSet<String> = HashSet::new();
    let mut out = ImportPlan::default();
    for finding in incoming {
        // A scan that lists the same finding twice imports it once.
        if !seen.insert(finding.fingerprint.clone()) {
            continue;
        }
        match by_fingerprint.get(finding.fingerprint.as_str()) {
            None => out.create.push(finding),
            Some(old) => {
                let status = if old.status == ObservationStatus::Resolved {
                    ObservationStatus::Open
                } else {
                    old.status
                };
                if old.title != finding.title || old.severity != finding.severity || old.status != status {
                    out.update.push(ObservationUpdate {
                        id: old.id,
                        title: finding.title,
                        severity: finding.severity,
                        status,
                    });
                }
            }
        }
    }
    out.resolve = existing
        .iter()
        .filter(|o| !seen.contains(&o.fingerprint))
        .filter(|o| matches!(o.status, ObservationStatus::Open | ObservationStatus::InReview))
        .map(|o| o.id)
        .collect();
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn existing(id: i64, fp: &str, severity: Severity, status: ObservationStatus) -> ExistingObservation {
        ExistingObservation {
            id,
            fingerprint: fp.into(),
            title: format!("t{id}"),
            severity,
            status,
        }
    }

    fn finding(fp: &str, title: &str, severity: Severity) -> ImportedFinding {
        ImportedFinding::new(0, Some(fp), title, severity).unwrap()
    }

    #[test]
    fn new_are_created_present_kept_missing_resolved() {
        let old = vec![
            existing(1, "a", Severity::High, ObservationStatus::Open),
            existing(2, "b", Severity::Low, ObservationStatus::Open),
            existing(3, "c", Severity::Low, ObservationStatus::FalsePositive),
        ];
        let plan = plan(
            &old,
            vec![
                finding("a", "t1", Severity::High),
                finding("d", "new", Severity::Critical),
            ],
        );
        assert_eq!(plan.create.len(), 1);
        assert_eq!(plan.create[0].fingerprint, "d");
        assert!(plan.update.is_empty(), "unchanged finding is kept as it is");
        assert_eq!(
            plan.resolve,
            vec![2],
            "assessed observations are not resolved by a scan"
        );
    }

    #[test]
    fn seen_again_takes_new_severity_and_reopens_if_resolved() {
        let old = vec![existing(1, "a", Severity::High, ObservationStatus::Resolved)];
        let plan = plan(&old, vec![finding("a", "t1", Severity::Critical)]);
        assert_eq!(
            plan.update,
            vec![ObservationUpdate {
                id: 1,
                title: "t1".into(),
                severity: Severity::Critical,
                status: ObservationStatus::Open
            }]
        );
        assert!(plan.resolve.is_empty());
    }

    #[test]
    fn duplicates_in_one_scan_count_once() {
        let plan = plan(
            &[],
            vec![finding("a", "x", Severity::Low), finding("a", "x", Severity::Low)],
        );
        assert_eq!(plan.create.len(), 1);
    }

    #[test]
    fn missing_fingerprint_is_derived_from_title_and_severity() {
        let a = ImportedFinding::new(0, None, "SQL injection", Severity::High).unwrap();
        let b = ImportedFinding::new(1, Some("  "), "SQL injection", Severity::High).unwrap();
        let c = ImportedFinding::new(2, None, "SQL injection", Severity::Low).unwrap();
        assert_eq!(a.fingerprint, b.fingerprint);
        assert_ne!(a.fingerprint, c.fingerprint);
        assert_eq!(a.fingerprint.len(), 64);
    }

    #[test]
    fn empty_title_names_its_position() {
        let err = ImportedFinding::new(3, None, " ", Severity::High).unwrap_err();
        assert_eq!(err.field, "observations[3].title");
    }
}
