//! Global settings as an administrator changes them.

use super::{EmailAddress, EmailList, Patch, Threshold, ValidationError, WebhookUrl};

/// The address of the SPA, used to link notifications to a product's page.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BaseUrl(String);

impl BaseUrl {
    pub const MAX_LEN: usize = 2048;

    pub fn parse(field: &str, raw: &str) -> Result<Self, ValidationError> {
        let trimmed = raw.trim();
        // Checked before parsing: the URL parser drops control characters
        // without a word.
        super::text::check(field, trimmed, super::text::Lines::Single, Self::MAX_LEN)?;
        let url = url::Url::parse(trimmed).map_err(|_| ValidationError::new(field, "is not an absolute URL"))?;
        if !matches!(url.scheme(), "http" | "https") || url.host_str().is_none() {
            return Err(ValidationError::new(field, "must be an http(s) URL with a host"));
        }
        Ok(Self(trimmed.trim_end_matches('/').to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The SPA page of a product.
    pub fn product_page(&self, product_id: i64) -> String {
        format!("{}/products/{product_id}", self.0)
    }
}

/// Seconds within which the same exception is sent once; 0 never suppresses.
pub fn rate_limit_seconds(field: &str, value: i64) -> Result<i64, ValidationError> {
    const MAX: i64 = 366 * 24 * 3600;
    if (0..=MAX).contains(&value) {
        Ok(value)
    } else {
        Err(ValidationError::new(field, format!("must be between 0 and {MAX}")))
    }
}

/// Changes to the global settings; absent fields stay as they are.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct SettingsChanges {
    pub base_url_frontend: Patch<BaseUrl>,
    pub email_from: Patch<EmailAddress>,
    pub exception_email_to: Option<EmailList>,
    pub exception_ms_teams_webhook: Patch<WebhookUrl>,
    pub exception_slack_webhook: Patch<WebhookUrl>,
    pub exception_rate_limit_seconds: Option<i64>,
    pub security_gate_active: Option<bool>,
    pub thresholds: [Option<Threshold>; 6],
}

impl SettingsChanges {
    pub fn touches_gate(&self) -> bool {
        self.security_gate_active.is_some() || self.thresholds.iter().any(Option::is_some)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base_url_links_to_product_pages() {
        let url = BaseUrl::parse("baseUrlFrontend", "https://herald.example.com/").unwrap();
        assert_eq!(url.product_page(7), "https://herald.example.com/products/7");
        assert_eq!(
            BaseUrl::parse("baseUrlFrontend", "ftp://x").unwrap_err().field,
            "baseUrlFrontend"
        );
        assert!(BaseUrl::parse("baseUrlFrontend", "herald").is_err());
        for bad in ["https://herald.example.com/\0", "https://herald.example.com/a\tb"] {
            assert_eq!(
                BaseUrl::parse("baseUrlFrontend", bad).unwrap_err().field,
                "baseUrlFrontend"
            );
        }
        let long = format!("https://herald.example.com/{}", "a".repeat(BaseUrl::MAX_LEN));
        assert!(BaseUrl::parse("baseUrlFrontend", &long).is_err());
    }

    #[test]
    fn rate_limit_is_not_negative() {
        assert_eq!(rate_limit_seconds("f", 0), Ok(0));
        assert!(rate_limit_seconds("f", -1).is_err());
    }
}
