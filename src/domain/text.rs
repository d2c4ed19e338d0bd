//! Free text from clients, checked the same way everywhere: a length limit
//! for every field, no NUL or other control characters (multi-line text
//! keeps line breaks and tabs), and names that show at least one visible
//! character. PostgreSQL cannot store NUL at all, so without this the same
//! input is stored on SQLite and an internal error on PostgreSQL.

use super::ValidationError;

/// Whether a text may span lines.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lines {
    /// Names, usernames, titles, search terms: no control character at all.
    Single,
    /// Descriptions: `\n`, `\r` and `\t` are allowed, other control characters not.
    Multi,
}

/// Checks `text` as it is (callers decide about trimming): at most
/// `max_chars` characters and no control character that `lines` does not
/// allow. The message never repeats the text: it may be a password.
pub fn check(field: &str, text: &str, lines: Lines, max_chars: usize) -> Result<(), ValidationError> {
    // The byte length bounds the character count from above; counting is
    // only needed near the limit.
    if text.len() > max_chars && text.chars().count() > max_chars {
        return Err(ValidationError::new(
            field,
            format!("must be at most {max_chars} characters"),
        ));
    }
    let allowed = |c: char| lines == Lines::Multi && matches!(c, '\n' | '\r' | '\t');
    if text.chars().any(|c| c.is_control() && !allowed(c)) {
        return Err(ValidationError::new(
            field,
            match lines {
                Lines::Single => "must be one line without control characters",
                Lines::Multi => "must not contain control characters other than line breaks and tabs",
            },
        ));
    }
    Ok(())
}

/// Checks single-line text and returns it trimmed; `None` when it is blank.
pub fn optional_line(field: &str, raw: &str, max_chars: usize) -> Result<Option<String>, ValidationError> {
    check(field, raw, Lines::Single, max_chars)?;
    let trimmed = raw.trim();
    Ok((!trimmed.is_empty()).then(|| trimmed.to_owned()))
}

/// Whether `c` shows something on screen: not white space, not a control
/// or format character (zero-width spaces and joiners, direction marks and
/// overrides), and not one of the fillers and selectors that render as
/// nothing (Unicode's Default_Ignorable_Code_Point, plus the Braille blank).
pub fn is_visible(c: char) -> bool {
    if c.is_whitespace() || c.is_control() {
        return false;
    }
    !matches!(
        c,
        '\u{00AD}'
            | '\u{034F}'
            | '\u{061C}'
            | '\u{115F}'..='\u{1160}'
            | '\u{17B4}'..='\u{17B5}'
            | '\u{180B}'..='\u{180F}'
            | '\u{200B}'..='\u{200F}'
            | '\u{202A}'..='\u{202E}'
            | '\u{2060}'..='\u{206F}'
            | '\u{2800}'
            | '\u{3164}'
            | '\u{FE00}'..='\u{FE0F}'
            | '\u{FEFF}'
            | '\u{FFA0}'
            | '\u{FFF0}'..='\u{FFF8}'
            | '\u{1BCA0}'..='\u{1BCA3}'
            | '\u{1D173}'..='\u{1D17A}'
            | '\u{E0000}'..='\u{E0FFF}'
    )
}

/// A product's or group's description: multi-line, trimmed, at most
/// [`Description::MAX_LEN`] characters; blank means none.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Description(String);

impl Description {
    pub const MAX_LEN: usize = 10_000;

    pub fn parse(field: &str, raw: &str) -> Result<Option<Self>, ValidationError> {
        check(field, raw, Lines::Multi, Self::MAX_LEN)?;
        let trimmed = raw.trim();
        Ok((!trimmed.is_empty()).then(|| Self(trimmed.to_owned())))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn into_inner(self) -> String {
        self.0
    }
}

/// The most characters a notification search term may have.
pub const SEARCH_MAX_LEN: usize = 200;

/// The longest password accepted, at login too (hashing a megabyte on
/// every attempt would be a cheap way to load the server).
pub const PASSWORD_MAX_LEN: usize = 1024;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn single_line_refuses_every_control_character() {
        for bad in ["a\0b", "a\nb", "a\rb", "a\tb", "a\u{7f}b", "a\u{85}b", "\u{1b}[31m"] {
            let err = check("name", bad, Lines::Single, 100).unwrap_err();
            assert_eq!(err.field, "name", "{bad:?}");
        }
        assert!(check("name", "Grüße, 東京 & <ok>", Lines::Single, 100).is_ok());
    }

    #[test]
    fn multi_line_keeps_line_breaks_and_tabs_only() {
        assert!(check("description", "one\r\ntwo\n\tthree", Lines::Multi, 100).is_ok());
        for bad in ["nul\0", "bell\u{7}", "escape\u{1b}", "c1\u{9b}"] {
            assert!(check("description", bad, Lines::Multi, 100).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn the_limit_counts_characters_not_bytes() {
        assert!(check("f", &"ü".repeat(10), Lines::Single, 10).is_ok());
        let err = check("f", &"ü".repeat(11), Lines::Single, 10).unwrap_err();
        assert_eq!(err.message, "must be at most 10 characters");
        assert!(check("f", &"x".repeat(11), Lines::Single, 10).is_err());
    }

    #[test]
    fn messages_do_not_repeat_the_text() {
        let err = check("password", "secret\0", Lines::Single, 100).unwrap_err();
        assert!(!err.message.contains("secret"));
    }

    #[test]
    fn optional_lines_are_trimmed_and_blank_is_none() {
        assert_eq!(optional_line("search", "  gate ", 10).unwrap().as_deref(), Some("gate"));
        assert_eq!(optional_line("search", "   ", 10).unwrap(), None);
        assert_eq!(optional_line("search", "a\0", 10).unwrap_err().field, "search");
    }

    #[test]
    fn invisible_and_direction_characters_are_not_visible() {
        for c in [
            ' ',
            '\u{00A0}',
            '\u{00AD}',
            '\u{200B}',
            '\u{200D}',
            '\u{200E}',
            '\u{202E}',
            '\u{2066}',
            '\u{2800}',
            '\u{3000}',
            '\u{3164}',
            '\u{FE0F}',
            '\u{FEFF}',
            '\u{E0041}',
        ] {
            assert!(!is_visible(c), "{:?}", c);
        }
        for c in ['a', 'Ω', '東', '!', '0', '😀', 'ا'] {
            assert!(is_visible(c), "{c:?}");
        }
    }

    #[test]
    fn descriptions_are_multi_line_trimmed_and_limited() {
        let d = Description::parse("description", "  first\n\tsecond \n")
            .unwrap()
            .unwrap();
        assert_eq!(d.as_str(), "first\n\tsecond");
        assert_eq!(Description::parse("description", " \n ").unwrap(), None);
        assert!(Description::parse("description", &"x".repeat(Description::MAX_LEN)).is_ok());
        let err = Description::parse("description", &"x".repeat(Description::MAX_LEN + 1)).unwrap_err();
        assert_eq!(err.field, "description");
        assert!(Description::parse("description", "a\0").is_err());
    }
}
