use super::ValidationError;
use super::text::{self, Lines};

/// A display name (product, group, token, scanner, person) or a title: one
/// line, trimmed, at most 255 characters, with at least one visible
/// character (a name made only of zero-width or direction characters would
/// show as nothing, or reorder the text around it, in lists and messages).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Name(String);

impl Name {
    pub const MAX_LEN: usize = 255;

    pub fn parse(field: &str, raw: &str) -> Result<Self, ValidationError> {
        let trimmed = raw.trim();
        if trimmed.is_empty() {
            return Err(ValidationError::new(field, "must not be empty"));
        }
        text::check(field, trimmed, Lines::Single, Self::MAX_LEN)?;
        if !trimmed.chars().any(text::is_visible) {
            return Err(ValidationError::new(field, "must contain a visible character"));
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
        for bad in [
            "",
            "   ",
            "a\nb",
            "a\0b",
            "\u{200B}\u{202E}",
            "\u{3164}",
            "\u{FEFF} \u{00AD}",
        ] {
            let err = Name::parse("name", bad).unwrap_err();
            assert_eq!(err.field, "name");
        }
        assert!(Name::parse("name", &"x".repeat(255)).is_ok());
        assert!(Name::parse("name", &"x".repeat(256)).is_err());
    }

    #[test]
    fn a_visible_character_among_invisible_ones_is_enough() {
        assert!(Name::parse("name", "\u{200B}Shop").is_ok());
        assert!(Name::parse("name", "东京").is_ok());
    }
}
