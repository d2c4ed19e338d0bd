//! The stored and GraphQL spelling of Herald's enums (`SECURITY_GATE`,
//! `OWNER`): one text per variant. As an entity column such an enum is
//! read and written as that text (sea-orm's `DeriveValueType`), so a row
//! holding anything else fails to load instead of being guessed at.

use std::fmt;

/// A text that names no variant of the enum asked for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnknownName {
    pub kind: &'static str,
    pub text: String,
}

impl fmt::Display for UnknownName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "unknown {} {:?}", self.kind, self.text)
    }
}

impl std::error::Error for UnknownName {}

/// `Display` and `FromStr` from the enum's `ALL` and `as_str`, which
/// `DeriveValueType` uses to write and read the column.
macro_rules! stored_name {
    ($name:ident) => {
        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl std::str::FromStr for $name {
            type Err = $crate::domain::stored_name::UnknownName;

            fn from_str(s: &str) -> Result<Self, Self::Err> {
                $name::ALL
                    .iter()
                    .copied()
                    .find(|v| v.as_str() == s)
                    .ok_or_else(|| $crate::domain::stored_name::UnknownName {
                        kind: stringify!($name),
                        text: s.to_owned(),
                    })
            }
        }

        // sea-orm asks this of every primary-key column (one is part of the
        // counters' key); only auto-increment keys are made from a number.
        impl sea_orm::TryFromU64 for $name {
            fn try_from_u64(_: u64) -> Result<Self, sea_orm::DbErr> {
                Err(sea_orm::DbErr::ConvertFromU64(stringify!($name)))
            }
        }
    };
}

pub(crate) use stored_name;
