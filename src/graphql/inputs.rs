//! GraphQL input types and their conversion into validated domain values.
//! Every error names the field as the client spelled it.

use async_graphql::{ID, InputObject, MaybeUndefined};

use crate::domain::NotificationType;
use crate::domain::import::ImportedFinding;
use crate::domain::settings::rate_limit_seconds;
use crate::domain::text::{self, SEARCH_MAX_LEN};
use crate::domain::{
    BaseUrl, Description, EmailAddress, EmailList, GateSettings, Name, NotificationTargets, ObservationStatus, Patch,
    ProductChanges, ProductSpec, SettingsChanges, Severity, Threshold, Thresholds, ValidationError, WebhookUrl,
};
use crate::graphql::context::parse_id;
use crate::graphql::error::ApiResult;
use crate::service::notifications::Filter;
use crate::service::observations::{NewObservation, ObservationEdit};
use crate::service::users::{self, NewUser};

/// Absent leaves a value as it is, null clears it.
fn patch<T, U>(
    value: MaybeUndefined<T>,
    parse: impl FnOnce(T) -> Result<U, ValidationError>,
) -> Result<Patch<U>, ValidationError> {
    Ok(match value {
        MaybeUndefined::Undefined => Patch::Keep,
        MaybeUndefined::Null => Patch::Clear,
        MaybeUndefined::Value(v) => Patch::Set(parse(v)?),
    })
}

fn optional_text(value: Option<String>) -> Option<String> {
    value.map(|s| s.trim().to_owned()).filter(|s| !s.is_empty())
}

/// An empty string clears a webhook like null does.
fn webhook(field: &'static str) -> impl Fn(String) -> Result<Option<WebhookUrl>, ValidationError> {
    move |raw| {
        if raw.trim().is_empty() {
            Ok(None)
        } else {
            WebhookUrl::parse(field, &raw).map(Some)
        }
    }
}

fn webhook_patch(field: &'static str, value: MaybeUndefined<String>) -> Result<Patch<WebhookUrl>, ValidationError> {
    Ok(match patch(value, webhook(field))? {
        Patch::Set(None) => Patch::Clear,
        Patch::Set(Some(url)) => Patch::Set(url),
        Patch::Keep => Patch::Keep,
        Patch::Clear => Patch::Clear,
    })
}

#[derive(InputObject, Debug, Default, Clone)]
pub struct ThresholdsInput {
    pub critical: MaybeUndefined<i32>,
    pub high: MaybeUndefined<i32>,
    pub medium: MaybeUndefined<i32>,
    pub low: MaybeUndefined<i32>,
    pub none: MaybeUndefined<i32>,
    pub unknown: MaybeUndefined<i32>,
}

impl ThresholdsInput {
    fn by_severity(self) -> [(Severity, MaybeUndefined<i32>); 6] {
        [
            (Severity::Critical, self.critical),
            (Severity::High, self.high),
            (Severity::Medium, self.medium),
            (Severity::Low, self.low),
            (Severity::None, self.none),
            (Severity::Unknown, self.unknown),
        ]
    }

    fn field(severity: Severity) -> String {
        format!("thresholds.{}", severity.field_name())
    }

    /// For a new product: absent and null both leave the threshold empty.
    fn into_thresholds(self) -> Result<Thresholds, ValidationError> {
        let mut out = Thresholds::default();
        for (severity, value) in self.by_severity() {
            if let MaybeUndefined::Value(v) = value {
                out.set(severity, Some(Threshold::new(&Self::field(severity), v)?));
            }
        }
        Ok(out)
    }

    fn into_patches(self) -> Result<[Patch<Threshold>; 6], ValidationError> {
        let mut out: [Patch<Threshold>; 6] = Default::default();
        for (severity, value) in self.by_severity() {
            out[severity.index()] = patch(value, |v| Threshold::new(&Self::field(severity), v))?;
        }
        Ok(out)
    }

    /// For the global gate, where every severity has a value: null is refused.
    fn into_required(self) -> Result<[Option<Threshold>; 6], ValidationError> {
        let mut out = [None; 6];
        for (severity, value) in self.by_severity() {
            out[severity.index()] = match value {
                MaybeUndefined::Undefined => None,
                MaybeUndefined::Null => {
                    return Err(ValidationError::new(
                        Self::field(severity),
                        "the global gate needs a value",
                    ));
                }
                MaybeUndefined::Value(v) => Some(Threshold::new(&Self::field(severity), v)?),
            };
        }
        Ok(out)
    }
}

/// A new product group; `ProductInput` has the same fields and `productGroupId`.
#[derive(InputObject, Debug, Clone)]
pub struct ProductGroupInput {
    pub name: String,
    pub description: Option<String>,
    pub security_gate_active: Option<bool>,
    pub thresholds: Option<ThresholdsInput>,
    pub notification_email_to: Option<Vec<String>>,
    pub notification_ms_teams_webhook: Option<String>,
    pub notification_slack_webhook: Option<String>,
}

impl ProductGroupInput {
    pub fn into_spec(self) -> Result<ProductSpec, ValidationError> {
        Ok(ProductSpec {
            name: Name::parse("name", &self.name)?,
            description: self
                .description
                .map(|d| Description::parse("description", &d))
                .transpose()?
                .flatten(),
            gate: GateSettings {
                active: self.security_gate_active,
                thresholds: self.thresholds.unwrap_or_default().into_thresholds()?,
            },
            targets: NotificationTargets {
                email_to: EmailList::parse("notificationEmailTo", &self.notification_email_to.unwrap_or_default())?,
                ms_teams_webhook: self
                    .notification_ms_teams_webhook
                    .map(webhook("notificationMsTeamsWebhook"))
                    .transpose()?
                    .flatten(),
                slack_webhook: self
                    .notification_slack_webhook
                    .map(webhook("notificationSlackWebhook"))
                    .transpose()?
                    .flatten(),
            },
        })
    }
}

#[derive(InputObject, Debug, Clone)]
pub struct ProductInput {
    pub product_group_id: Option<ID>,
    #[graphql(flatten)]
    pub fields: ProductGroupInput,
}

impl ProductInput {
    pub fn into_parts(self) -> ApiResult<(Option<i64>, ProductSpec)> {
        let group = self
            .product_group_id
            .as_ref()
            .map(|id| parse_id("productGroupId", id))
            .transpose()?;
        Ok((group, self.fields.into_spec()?))
    }
}

/// Changes to a product group: an absent field is left as it is, an explicit
/// null clears it.
#[derive(InputObject, Debug, Default, Clone)]
pub struct ProductGroupPatch {
    pub name: Option<String>,
    pub description: MaybeUndefined<String>,
    pub security_gate_active: MaybeUndefined<bool>,
    pub thresholds: Option<ThresholdsInput>,
    pub notification_email_to: MaybeUndefined<Vec<String>>,
    pub notification_ms_teams_webhook: MaybeUndefined<String>,
    pub notification_slack_webhook: MaybeUndefined<String>,
}

impl ProductGroupPatch {
    pub fn into_changes(self) -> Result<ProductChanges, ValidationError> {
        Ok(ProductChanges {
            name: self.name.map(|n| Name::parse("name", &n)).transpose()?,
            description: match patch(self.description, |d| Description::parse("description", &d))? {
                Patch::Set(None) => Patch::Clear,
                Patch::Set(Some(d)) => Patch::Set(d),
                Patch::Keep => Patch::Keep,
                Patch::Clear => Patch::Clear,
            },
            gate_active: patch(self.security_gate_active, Ok)?,
            thresholds: match self.thresholds {
                Some(t) => t.into_patches()?,
                None => Default::default(),
            },
            email_to: match self.notification_email_to {
                MaybeUndefined::Undefined => None,
                MaybeUndefined::Null => Some(EmailList::default()),
                MaybeUndefined::Value(list) => Some(EmailList::parse("notificationEmailTo", &list)?),
            },
            ms_teams_webhook: webhook_patch("notificationMsTeamsWebhook", self.notification_ms_teams_webhook)?,
            slack_webhook: webhook_patch("notificationSlackWebhook", self.notification_slack_webhook)?,
        })
    }
}

#[derive(InputObject, Debug, Default, Clone)]
pub struct ProductPatch {
    /// Moves the product into a group; null takes it out.
    pub product_group_id: MaybeUndefined<ID>,
    #[graphql(flatten)]
    pub fields: ProductGroupPatch,
}

impl ProductPatch {
    pub fn into_parts(self) -> ApiResult<(Patch<i64>, ProductChanges)> {
        let group = match self.product_group_id {
            MaybeUndefined::Undefined => Patch::Keep,
            MaybeUndefined::Null => Patch::Clear,
            MaybeUndefined::Value(id) => Patch::Set(parse_id("productGroupId", &id)?),
        };
        Ok((group, self.fields.into_changes()?))
    }
}

#[derive(InputObject, Debug, Default, Clone)]
pub struct SettingsInput {
    pub base_url_frontend: MaybeUndefined<String>,
    pub email_from: MaybeUndefined<String>,
    pub exception_email_to: MaybeUndefined<Vec<String>>,
    pub exception_ms_teams_webhook: MaybeUndefined<String>,
    pub exception_slack_webhook: MaybeUndefined<String>,
    pub exception_rate_limit_seconds: Option<i64>,
    pub security_gate_active: Option<bool>,
    pub thresholds: Option<ThresholdsInput>,
}

impl SettingsInput {
    pub fn into_changes(self) -> Result<SettingsChanges, ValidationError> {
        let blank_is_null = |v: MaybeUndefined<String>| match v {
            MaybeUndefined::Value(s) if s.trim().is_empty() => MaybeUndefined::Null,
            other => other,
        };
        Ok(SettingsChanges {
            base_url_frontend: patch(blank_is_null(self.base_url_frontend), |s| {
                BaseUrl::parse("baseUrlFrontend", &s)
            })?,
            email_from: patch(blank_is_null(self.email_from), |s| EmailAddress::parse("emailFrom", &s))?,
            exception_email_to: match self.exception_email_to {
                MaybeUndefined::Undefined => None,
                MaybeUndefined::Null => Some(EmailList::default()),
                MaybeUndefined::Value(list) => Some(EmailList::parse("exceptionEmailTo", &list)?),
            },
            exception_ms_teams_webhook: webhook_patch("exceptionMsTeamsWebhook", self.exception_ms_teams_webhook)?,
            exception_slack_webhook: webhook_patch("exceptionSlackWebhook", self.exception_slack_webhook)?,
            exception_rate_limit_seconds: self
                .exception_rate_limit_seconds
                .map(|v| rate_limit_seconds("exceptionRateLimitSeconds", v))
                .transpose()?,
            security_gate_active: self.security_gate_active,
            thresholds: match self.thresholds {
                Some(t) => t.into_required()?,
                None => [None; 6],
            },
        })
    }
}

#[derive(InputObject, Debug, Clone)]
pub struct CreateUserInput {
    pub username: String,
    pub email: Option<String>,
    pub full_name: Option<String>,
    pub password: String,
    #[graphql(default_with = "Some(false)")]
    pub is_admin: Option<bool>,
}

impl CreateUserInput {
    pub fn into_new_user(self) -> Result<NewUser, ValidationError> {
        Ok(NewUser {
            username: users::validate_username(&self.username)?,
            email: optional_text(self.email)
                .map(|e| EmailAddress::parse("email", &e))
                .transpose()?,
            full_name: optional_text(self.full_name)
                .map(|n| Name::parse("fullName", &n).map(Name::into_inner))
                .transpose()?,
            password: users::validate_password(&self.password)?,
            is_admin: self.is_admin.unwrap_or(false),
        })
    }
}

#[derive(InputObject, Debug, Clone)]
pub struct ObservationInput {
    pub product_id: ID,
    pub title: String,
    pub severity: Severity,
    #[graphql(default_with = "ObservationStatus::Open")]
    pub status: ObservationStatus,
    #[graphql(default_with = "String::from(\"manual\")")]
    pub scanner: String,
    pub fingerprint: Option<String>,
}

impl ObservationInput {
    pub fn into_new(self) -> ApiResult<NewObservation> {
        Ok(NewObservation {
            product_id: parse_id("productId", &self.product_id)?,
            scanner: Name::parse("scanner", &self.scanner)?,
            fingerprint: optional_text(self.fingerprint)
                .map(|f| Name::parse("fingerprint", &f))
                .transpose()?,
            title: Name::parse("title", &self.title)?,
            severity: self.severity,
            status: self.status,
        })
    }
}

#[derive(InputObject, Debug, Default, Clone)]
pub struct ObservationUpdateInput {
    pub title: Option<String>,
    pub severity: Option<Severity>,
    pub status: Option<ObservationStatus>,
}

impl ObservationUpdateInput {
    pub fn into_edit(self) -> Result<ObservationEdit, ValidationError> {
        Ok(ObservationEdit {
            title: self.title.map(|t| Name::parse("title", &t)).transpose()?,
            severity: self.severity,
            status: self.status,
        })
    }
}

#[derive(InputObject, Debug, Clone)]
pub struct ImportedObservation {
    pub fingerprint: Option<String>,
    pub title: String,
    pub severity: Severity,
}

/// The most findings one import takes.
pub const MAX_IMPORT: usize = 10_000;

pub fn imported_findings(list: Vec<ImportedObservation>) -> Result<Vec<ImportedFinding>, ValidationError> {
    if list.len() > MAX_IMPORT {
        return Err(ValidationError::new(
            "observations",
            format!("at most {MAX_IMPORT} observations per import"),
        ));
    }
    list.into_iter()
        .enumerate()
        .map(|(i, o)| ImportedFinding::new(i, o.fingerprint.as_deref(), &o.title, o.severity))
        .collect()
}

#[derive(InputObject, Debug, Default, Clone)]
pub struct NotificationFilter {
    #[graphql(name = "type")]
    pub kind: Option<NotificationType>,
    pub product_id: Option<ID>,
    pub search: Option<String>,
    pub unviewed_only: Option<bool>,
}

impl NotificationFilter {
    pub fn into_filter(self) -> ApiResult<Filter> {
        Ok(Filter {
            kind: self.kind,
            product_id: self
                .product_id
                .as_ref()
                .map(|id| parse_id("filter.productId", id))
                .transpose()?,
            search: self
                .search
                .map(|s| text::optional_line("filter.search", &s, SEARCH_MAX_LEN))
                .transpose()?
                .flatten(),
            unviewed_only: self.unviewed_only.unwrap_or(false),
        })
    }
}

/// Reads a list of ids for a bulk mutation.
pub fn parse_ids(ids: &[ID]) -> ApiResult<Vec<i64>> {
    ids.iter().map(|id| parse_id("ids", id)).collect()
}
