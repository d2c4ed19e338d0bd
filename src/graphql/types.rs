//! GraphQL object types. Each wraps a row and resolves the fields the
//! contract names; role-dependent fields ask `store::sight` and `store::access`.

use async_graphql::{ComplexObject, Context, ID, Object, SimpleObject};
use chrono::{DateTime, Utc};
use sea_orm::EntityTrait;

use crate::auth::Auth;
use crate::domain::{ObservationStatus, Role, SecurityGateStatus, Severity, SeverityCounts};
use crate::entity::{api_token, observation, product, product_group, settings, user};
use crate::graphql::context::{identity, state, to_id};
use crate::graphql::error::ApiResult;
use crate::graphql::limits::{list_cost, nominal, read_cost};
use crate::service::members::Scope;
use crate::service::{gate, members, observations};
use crate::store::access;
use crate::store::sight::{self, Sight};
use crate::store::stored::GateColumns;

/// A count or threshold per severity.
#[derive(SimpleObject, Debug, Clone, Copy, Default)]
pub struct Thresholds {
    pub critical: Option<i32>,
    pub high: Option<i32>,
    pub medium: Option<i32>,
    pub low: Option<i32>,
    pub none: Option<i32>,
    pub unknown: Option<i32>,
}

impl From<[Option<i32>; 6]> for Thresholds {
    fn from([critical, high, medium, low, none, unknown]: [Option<i32>; 6]) -> Self {
        Self {
            critical,
            high,
            medium,
            low,
            none,
            unknown,
        }
    }
}

impl From<SeverityCounts> for Thresholds {
    fn from(counts: SeverityCounts) -> Self {
        counts.0.map(|n| Some(i32::try_from(n).unwrap_or(i32::MAX))).into()
    }
}

pub struct User(pub user::Model);

#[Object]
impl User {
    async fn id(&self) -> ID {
        to_id(self.0.id)
    }

    async fn username(&self) -> &str {
        &self.0.username
    }

    /// Shown to administrators and to the user themself.
    async fn email(&self, ctx: &Context<'_>) -> ApiResult<Option<&str>> {
        let who = identity(ctx)?;
        Ok((who.is_admin() || who.user_id() == self.0.id)
            .then_some(self.0.email.as_deref())
            .flatten())
    }

    async fn full_name(&self) -> Option<&str> {
        self.0.full_name.as_deref()
    }

    /// Whether the user is an administrator: told to administrators and to
    /// the user themself; `false` for anyone else, so that accounts worth
    /// attacking cannot be listed.
    async fn is_admin(&self, ctx: &Context<'_>) -> bool {
        match ctx.data_opt::<Auth>() {
            Some(Auth::User(who)) => (who.is_admin() || who.user_id() == self.0.id) && self.0.is_admin,
            // Signed out: the only user such a request reaches is the one
            // `login` just signed in, who may know.
            _ => self.0.is_admin,
        }
    }
}

pub struct ApiToken(pub api_token::Model);

#[Object]
impl ApiToken {
    async fn id(&self) -> ID {
        to_id(self.0.id)
    }

    async fn name(&self) -> &str {
        &self.0.name
    }

    async fn created_at(&self) -> DateTime<Utc> {
        self.0.created_at
    }

    async fn revoked_at(&self) -> Option<DateTime<Utc>> {
        self.0.revoked_at
    }
}

#[derive(SimpleObject)]
pub struct ProductMember {
    pub user: User,
    pub role: Role,
}

fn members_of(rows: Vec<(user::Model, Role)>) -> Vec<ProductMember> {
    rows.into_iter()
        .map(|(u, role)| ProductMember { user: User(u), role })
        .collect()
}

/// Webhook URLs are secrets: only MAINTAINER+ reads them.
fn secret_for(role: Option<Role>, value: &Option<String>) -> Option<String> {
    role.filter(|r| *r >= Role::Maintainer).and(value.clone())
}

/// A product, with the caller's role on it resolved once.
pub struct Product {
    pub row: product::Model,
    pub role: Option<Role>,
}

impl Product {
    pub async fn load(ctx: &Context<'_>, row: product::Model) -> ApiResult<Self> {
        let role = sight::role_on(&state(ctx).db, identity(ctx)?, row.id).await?;
        Ok(Self { row, role })
    }

    /// The products the caller sees, with their roles, in one query for
    /// the roles and one for the products; `keep` picks among them.
    pub async fn visible(ctx: &Context<'_>, keep: impl Fn(&product::Model) -> bool) -> ApiResult<Vec<Self>> {
        let db = &state(ctx).db;
        let sight = Sight::of(db, identity(ctx)?).await?;
        let rows = access::visible_products(db, &sight).await?;
        Ok(rows
            .into_iter()
            .filter(|row| keep(row))
            .map(|row| Self {
                role: sight.role_on(Some(row.id)),
                row,
            })
            .collect())
    }
}

#[Object]
impl Product {
    async fn id(&self) -> ID {
        to_id(self.row.id)
    }

    async fn name(&self) -> &str {
        &self.row.name
    }

    async fn description(&self) -> Option<&str> {
        self.row.description.as_deref()
    }

    #[graphql(complexity = "read_cost(child_complexity)")]
    async fn product_group(&self, ctx: &Context<'_>) -> ApiResult<Option<ProductGroup>> {
        let Some(id) = self.row.product_group_id else {
            return Ok(None);
        };
        let group = product_group::Entity::find_by_id(id).one(&state(ctx).db).await?;
        match group {
            Some(row) => Ok(Some(ProductGroup::load(ctx, row).await?)),
            None => Ok(None),
        }
    }

    async fn security_gate(&self) -> SecurityGateStatus {
        self.row.security_gate
    }

    async fn security_gate_active(&self) -> Option<bool> {
        self.row.security_gate_active
    }

    async fn thresholds(&self) -> Thresholds {
        self.row.gate_settings().thresholds.values().into()
    }

    async fn notification_email_to(&self) -> Vec<String> {
        self.row.targets().email_to.strings()
    }

    async fn notification_ms_teams_webhook(&self) -> Option<String> {
        secret_for(self.role, &self.row.notification_ms_teams_webhook)
    }

    async fn notification_slack_webhook(&self) -> Option<String> {
        secret_for(self.role, &self.row.notification_slack_webhook)
    }

    #[graphql(complexity = "list_cost(nominal::MEMBERS, child_complexity)")]
    async fn members(&self, ctx: &Context<'_>) -> ApiResult<Vec<ProductMember>> {
        Ok(members_of(
            members::list(&state(ctx).db, Scope::Product(self.row.id)).await?,
        ))
    }

    async fn my_role(&self) -> Option<Role> {
        self.role
    }

    #[graphql(complexity = "read_cost(child_complexity)")]
    async fn open_observation_counts(&self, ctx: &Context<'_>) -> ApiResult<Thresholds> {
        Ok(gate::open_counts(&state(ctx).db, self.row.id).await?.into())
    }

    #[graphql(complexity = "list_cost(nominal::OBSERVATIONS, child_complexity)")]
    async fn observations(&self, ctx: &Context<'_>) -> ApiResult<Vec<Observation>> {
        let rows = observations::of_product(&state(ctx).db, self.row.id).await?;
        Ok(rows.into_iter().map(Observation).collect())
    }

    async fn created_at(&self) -> DateTime<Utc> {
        self.row.created_at
    }
}

pub struct ProductGroup {
    pub row: product_group::Model,
    pub role: Option<Role>,
}

impl ProductGroup {
    pub async fn load(ctx: &Context<'_>, row: product_group::Model) -> ApiResult<Self> {
        let role = access::group_role(&state(ctx).db, identity(ctx)?, row.id).await?;
        Ok(Self { row, role })
    }
}

#[Object]
impl ProductGroup {
    async fn id(&self) -> ID {
        to_id(self.row.id)
    }

    async fn name(&self) -> &str {
        &self.row.name
    }

    async fn description(&self) -> Option<&str> {
        self.row.description.as_deref()
    }

    async fn security_gate_active(&self) -> Option<bool> {
        self.row.security_gate_active
    }

    async fn thresholds(&self) -> Thresholds {
        self.row.gate_settings().thresholds.values().into()
    }

    /// Empty for callers without a role on the group (a product's member
    /// reaches the group through `Product.productGroup`).
    async fn notification_email_to(&self) -> Vec<String> {
        match self.role {
            Some(_) => self.row.targets().email_to.strings(),
            None => Vec::new(),
        }
    }

    async fn notification_ms_teams_webhook(&self) -> Option<String> {
        secret_for(self.role, &self.row.notification_ms_teams_webhook)
    }

    async fn notification_slack_webhook(&self) -> Option<String> {
        secret_for(self.role, &self.row.notification_slack_webhook)
    }

    /// Empty for callers without a role on the group.
    #[graphql(complexity = "list_cost(nominal::MEMBERS, child_complexity)")]
    async fn members(&self, ctx: &Context<'_>) -> ApiResult<Vec<ProductMember>> {
        if self.role.is_none() {
            return Ok(Vec::new());
        }
        Ok(members_of(
            members::list(&state(ctx).db, Scope::Group(self.row.id)).await?,
        ))
    }

    async fn my_role(&self) -> Option<Role> {
        self.role
    }

    /// The group's products that the caller sees.
    #[graphql(complexity = "list_cost(nominal::GROUP_PRODUCTS, child_complexity)")]
    async fn products(&self, ctx: &Context<'_>) -> ApiResult<Vec<Product>> {
        Product::visible(ctx, |p| p.product_group_id == Some(self.row.id)).await
    }
}

pub struct Observation(pub observation::Model);

#[Object]
impl Observation {
    async fn id(&self) -> ID {
        to_id(self.0.id)
    }

    async fn product_id(&self) -> ID {
        to_id(self.0.product_id)
    }

    async fn scanner(&self) -> &str {
        &self.0.scanner
    }

    async fn fingerprint(&self) -> &str {
        &self.0.fingerprint
    }

    async fn title(&self) -> &str {
        &self.0.title
    }

    async fn severity(&self) -> Severity {
        self.0.severity
    }

    async fn status(&self) -> ObservationStatus {
        self.0.status
    }

    async fn created_at(&self) -> DateTime<Utc> {
        self.0.created_at
    }

    async fn updated_at(&self) -> DateTime<Utc> {
        self.0.updated_at
    }
}

#[derive(SimpleObject)]
#[graphql(complex)]
pub struct Settings {
    pub base_url_frontend: Option<String>,
    pub email_from: Option<String>,
    pub exception_email_to: Vec<String>,
    pub exception_ms_teams_webhook: Option<String>,
    pub exception_slack_webhook: Option<String>,
    pub exception_rate_limit_seconds: i64,
    pub security_gate_active: bool,
    pub thresholds: Thresholds,
}

#[ComplexObject]
impl Settings {
    /// Email is sent only when SMTP is configured and `emailFrom` is set.
    async fn email_enabled(&self, ctx: &Context<'_>) -> bool {
        state(ctx).config.smtp_url.is_some() && self.email_from.is_some()
    }
}

impl From<settings::Model> for Settings {
    fn from(s: settings::Model) -> Self {
        let global = crate::store::settings::global_gate(&s);
        Self {
            base_url_frontend: s.base_url_frontend,
            email_from: s.email_from,
            exception_email_to: crate::domain::EmailList::from_stored(&s.exception_email_to).strings(),
            exception_ms_teams_webhook: s.exception_ms_teams_webhook,
            exception_slack_webhook: s.exception_slack_webhook,
            exception_rate_limit_seconds: s.exception_rate_limit_seconds,
            security_gate_active: s.security_gate_active,
            thresholds: global.thresholds.map(|t| Some(t.value())).into(),
        }
    }
}

#[derive(SimpleObject)]
pub struct AuthPayload {
    pub token: String,
    pub user: User,
}

#[derive(SimpleObject)]
pub struct ApiTokenPayload {
    /// The token itself, shown this once.
    pub token: String,
    pub api_token: ApiToken,
}

#[derive(SimpleObject)]
pub struct ImportResult {
    pub created: i32,
    pub updated: i32,
    pub resolved: i32,
    pub security_gate: SecurityGateStatus,
}
