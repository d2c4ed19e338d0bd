use super::stored_name::stored_name;

/// Severity of an observation, from most to least severe.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, async_graphql::Enum, sea_orm::DeriveValueType)]
#[sea_orm(value_type = "String")]
pub enum Severity {
    Critical,
    High,
    Medium,
    Low,
    None,
    Unknown,
}

impl Severity {
    pub const ALL: [Severity; 6] = [
        Severity::Critical,
        Severity::High,
        Severity::Medium,
        Severity::Low,
        Severity::None,
        Severity::Unknown,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Critical => "CRITICAL",
            Severity::High => "HIGH",
            Severity::Medium => "MEDIUM",
            Severity::Low => "LOW",
            Severity::None => "NONE",
            Severity::Unknown => "UNKNOWN",
        }
    }

    /// Position in [`Severity::ALL`], for per-severity arrays.
    pub fn index(self) -> usize {
        self as usize
    }

    /// The lower-case name used in GraphQL field names (`thresholds.critical`).
    pub fn field_name(self) -> &'static str {
        match self {
            Severity::Critical => "critical",
            Severity::High => "high",
            Severity::Medium => "medium",
            Severity::Low => "low",
            Severity::None => "none",
            Severity::Unknown => "unknown",
        }
    }
}

stored_name!(Severity);

/// Where an observation stands. Only `Open` ones count against the gate.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, async_graphql::Enum, sea_orm::DeriveValueType)]
#[sea_orm(value_type = "String")]
pub enum ObservationStatus {
    Open,
    Resolved,
    Duplicate,
    FalsePositive,
    NotAffected,
    NotSecurity,
    RiskAccepted,
    InReview,
}

impl ObservationStatus {
    pub const ALL: [ObservationStatus; 8] = [
        ObservationStatus::Open,
        ObservationStatus::Resolved,
        ObservationStatus::Duplicate,
        ObservationStatus::FalsePositive,
        ObservationStatus::NotAffected,
        ObservationStatus::NotSecurity,
        ObservationStatus::RiskAccepted,
        ObservationStatus::InReview,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            ObservationStatus::Open => "OPEN",
            ObservationStatus::Resolved => "RESOLVED",
            ObservationStatus::Duplicate => "DUPLICATE",
            ObservationStatus::FalsePositive => "FALSE_POSITIVE",
            ObservationStatus::NotAffected => "NOT_AFFECTED",
            ObservationStatus::NotSecurity => "NOT_SECURITY",
            ObservationStatus::RiskAccepted => "RISK_ACCEPTED",
            ObservationStatus::InReview => "IN_REVIEW",
        }
    }
}

stored_name!(ObservationStatus);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse_round_trips() {
        for s in Severity::ALL {
            assert_eq!(s.as_str().parse::<Severity>().unwrap(), s);
            assert_eq!(Severity::ALL[s.index()], s);
        }
        for s in ObservationStatus::ALL {
            assert_eq!(s.as_str().parse::<ObservationStatus>().unwrap(), s);
        }
        assert!("SEVERE".parse::<Severity>().is_err());
    }
}
