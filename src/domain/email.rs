use std::fmt;

use super::ValidationError;

/// An email address that passed a conservative syntax check (the dot-atom
/// form of RFC 5322, which is what real mailboxes use). It cannot be built
/// invalid.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct EmailAddress(String);

const LOCAL_SPECIALS: &str = ".!#$%&'*+/=?^_`{|}~-";

impl EmailAddress {
    pub fn parse(field: &str, raw: &str) -> Result<Self, ValidationError> {
        let candidate = raw.trim();
        let invalid = || ValidationError::new(field, format!("{candidate:?} is not a valid email address"));
        if candidate.len() > 254 {
            // Not repeated: it may be a megabyte.
            return Err(ValidationError::new(field, "is not a valid email address: too long"));
        }
        if candidate.is_empty() {
            return Err(invalid());
        }
        let (local, domain) = candidate.rsplit_once('@').ok_or_else(invalid)?;
        let local_ok = !local.is_empty()
            && local.len() <= 64
            && !local.starts_with('.')
            && !local.ends_with('.')
            && !local.contains("..")
            && local
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || LOCAL_SPECIALS.contains(c));
        let labels: Vec<&str> = domain.split('.').collect();
        let domain_ok = labels.len() >= 2
            && labels.iter().all(|label| {
                !label.is_empty()
                    && label.len() <= 63
                    && !label.starts_with('-')
                    && !label.ends_with('-')
                    && label.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
            })
            && labels
                .last()
                .is_some_and(|tld| tld.chars().all(|c| c.is_ascii_alphabetic()) && tld.len() >= 2);
        if local_ok && domain_ok {
            Ok(Self(candidate.to_owned()))
        } else {
            Err(invalid())
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for EmailAddress {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A list of recipients without duplicates, in the order given.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct EmailList(Vec<EmailAddress>);

impl EmailList {
    pub const MAX_LEN: usize = 100;

    pub fn parse<S: AsRef<str>>(field: &str, raw: &[S]) -> Result<Self, ValidationError> {
        if raw.len() > Self::MAX_LEN {
            return Err(ValidationError::new(
                field,
                format!("at most {} addresses are allowed", Self::MAX_LEN),
            ));
        }
        let mut out: Vec<EmailAddress> = Vec::with_capacity(raw.len());
        for item in raw {
            let address = EmailAddress::parse(field, item.as_ref())?;
            // Mail systems treat addresses case-insensitively: one message each.
            if !out.iter().any(|a| a.0.eq_ignore_ascii_case(&address.0)) {
                out.push(address);
            }
        }
        Ok(Self(out))
    }

    /// Reads the JSON array this list is stored as. What was stored was
    /// validated on the way in; anything unreadable counts as empty.
    pub fn from_stored(json: &str) -> Self {
        let raw: Vec<String> = serde_json::from_str(json).unwrap_or_default();
        Self(
            raw.iter()
                .filter_map(|s| EmailAddress::parse("stored", s).ok())
                .collect(),
        )
    }

    pub fn to_stored(&self) -> String {
        serde_json::to_string(&self.strings()).expect("a list of strings serialises")
    }

    pub fn strings(&self) -> Vec<String> {
        self.0.iter().map(|a| a.0.clone()).collect()
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub fn iter(&self) -> impl Iterator<Item = &EmailAddress> {
        self.0.iter()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_ordinary_addresses() {
        for ok in [
            "a@b.io",
            "first.last+tag@mail.example.com",
            "o'brien@example.org",
            "x_y-z@sub-domain.example.de",
        ] {
            assert_eq!(EmailAddress::parse("f", ok).unwrap().as_str(), ok);
        }
        assert_eq!(EmailAddress::parse("f", "  a@b.io ").unwrap().as_str(), "a@b.io");
    }

    #[test]
    fn refuses_malformed_addresses_naming_the_field() {
        for bad in [
            "",
            "plain",
            "@example.com",
            "a@",
            "a@b",
            "a@@b.io",
            "a b@c.io",
            ".a@b.io",
            "a.@b.io",
            "a..b@c.io",
            "a@-b.io",
            "a@b-.io",
            "a@b..io",
            "a@b.c0m1",
            "a@b.c",
            "<a@b.io>",
            "a@b.io,c@d.io",
        ] {
            let err = EmailAddress::parse("notificationEmailTo", bad).unwrap_err();
            assert_eq!(err.field, "notificationEmailTo", "{bad}");
        }
        let long_local = format!("{}@b.io", "a".repeat(65));
        assert!(EmailAddress::parse("f", &long_local).is_err());
    }

    #[test]
    fn list_drops_duplicates_and_round_trips_through_storage() {
        let list = EmailList::parse("f", &["a@b.io", "c@d.io", "a@b.io", "A@B.io"]).unwrap();
        assert_eq!(list.strings(), vec!["a@b.io", "c@d.io"]);
        assert_eq!(EmailList::from_stored(&list.to_stored()), list);
        assert!(EmailList::from_stored("not json").is_empty());
    }

    #[test]
    fn list_refuses_one_bad_address() {
        let err = EmailList::parse("exceptionEmailTo", &["a@b.io", "nope"]).unwrap_err();
        assert_eq!(err.field, "exceptionEmailTo");
        assert!(err.message.contains("nope"));
    }
}
