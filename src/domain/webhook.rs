use std::fmt;

use url::Url;

use super::ValidationError;

/// A webhook URL for Slack or Microsoft Teams: absolute http(s), with a host
/// and no credentials. It is a secret (whoever has it can post to the
/// channel), so `Debug` and `Display` show only scheme and host; the full
/// text is reached through [`WebhookUrl::expose`].
#[derive(Clone, PartialEq, Eq)]
pub struct WebhookUrl(Url);

impl WebhookUrl {
    pub const MAX_LEN: usize = 2048;

    pub fn parse(field: &str, raw: &str) -> Result<Self, ValidationError> {
        let raw = raw.trim();
        // The message never repeats the input: it may be a secret.
        let invalid = |why: &str| ValidationError::new(field, format!("is not a valid webhook URL: {why}"));
        if raw.len() > Self::MAX_LEN {
            return Err(invalid("too long"));
        }
        // The URL parser would drop or percent-encode them without a word;
        // refused instead, like in every other field.
        if raw.chars().any(char::is_control) {
            return Err(invalid("it contains control characters"));
        }
        let url = Url::parse(raw).map_err(|_| invalid("not an absolute URL"))?;
        // Normalising can lengthen it (percent-encoding); what is stored must
        // parse again.
        if url.as_str().len() > Self::MAX_LEN {
            return Err(invalid("too long"));
        }
        if !matches!(url.scheme(), "http" | "https") {
            return Err(invalid("the scheme must be http or https"));
        }
        if url.host_str().is_none_or(str::is_empty) {
            return Err(invalid("it has no host"));
        }
        if !url.username().is_empty() || url.password().is_some() {
            return Err(invalid("it must not carry credentials"));
        }
        Ok(Self(url))
    }

    pub fn expose(&self) -> &str {
        self.0.as_str()
    }

    pub fn url(&self) -> &Url {
        &self.0
    }

    /// `https://hooks.slack.com/…`: enough to tell webhooks apart on screen.
    pub fn masked(&self) -> String {
        format!("{}://{}/…", self.0.scheme(), self.0.host_str().unwrap_or_default())
    }
}

impl fmt::Debug for WebhookUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "WebhookUrl({})", self.masked())
    }
}

impl fmt::Display for WebhookUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.masked())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SECRET: &str = "https://hooks.slack.com/services/T000/B000/XXXXSECRET";

    #[test]
    fn accepts_http_and_https() {
        assert_eq!(WebhookUrl::parse("f", SECRET).unwrap().expose(), SECRET);
        assert!(WebhookUrl::parse("f", "http://127.0.0.1:9000/hook").is_ok());
    }

    #[test]
    fn refuses_other_schemes_relative_and_credentials() {
        for bad in [
            "",
            "hooks.slack.com/x",
            "ftp://example.com/x",
            "javascript:alert(1)",
            "file:///etc/passwd",
            "https://user:pw@example.com/x",
            "https://",
            "https://hooks.slack.com/services/x\0",
            "https://hooks.slack.com/services/a\nb",
        ] {
            let err = WebhookUrl::parse("notificationSlackWebhook", bad).unwrap_err();
            assert_eq!(err.field, "notificationSlackWebhook", "{bad}");
        }
    }

    #[test]
    fn never_prints_the_secret_part() {
        let url = WebhookUrl::parse("f", SECRET).unwrap();
        assert!(!format!("{url:?}").contains("SECRET"));
        assert!(!format!("{url}").contains("SECRET"));
        assert_eq!(url.masked(), "https://hooks.slack.com/…");
        let err = WebhookUrl::parse("f", "ftp://host/SECRET").unwrap_err();
        assert!(!err.to_string().contains("SECRET"));
    }
}
