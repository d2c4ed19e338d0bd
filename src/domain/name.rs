use super::ValidationError;

/// A display name (product, group, token, scanner): trimmed, not empty, at
/// most 255 characters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Name(String);

impl Name {
    pub const MAX_LEN: usize = 255;

    pub fn parse(field: &str, raw: &str) -> Result<Self, ValidationError> {
        let trimmed = raw.trim();
        if trimmed.is_empty() {
            return Err(ValidationError::new(field, "must not be empty"));
        }
        if trimmed.chars().count() > Self::MAX_LEN {
            return Err(ValidationError::new(
                field,
                format!("must be at most {} characters", Self::MAX_LEN),
            ));
        }
        if trimmed.chars().any(char::is_control) {
            return Err(ValidationError::new(field, "must not contain control characters"));
        }
        Ok(Self(trimmed.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn into_inner(self) -> String {
        self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn trims_and_keeps_the_text() {
        assert_eq!(Name::parse("name", "  Shop  ").unwrap().as_str(), "Shop");
    }

    #[test]
    fn refuses_empty_blank_long_and_control() {
        for bad in ["", "   ", "a\nb"] {
            let err = Name::parse("name", bad).unwrap_err();
            assert_eq!(err.field, "name");
        }
        assert!(Name::parse("name", &"x".repeat(255)).is_ok());
        assert!(Name::parse("name", &"x".repeat(256)).is_err());
    }
}
