use async_graphql::{Context, ID, Object};

use crate::domain::Channel;
use crate::domain::{Name, Role};
use crate::error::AppError;
use crate::graphql::context::ClientAddress;
use crate::graphql::context::{identity, parse_id, state};
use crate::graphql::error::ApiResult;
use crate::graphql::inputs::parse_ids;
use crate::graphql::inputs::{
    CreateUserInput, ImportedObservation, ObservationInput, ObservationUpdateInput, ProductGroupInput,
    ProductGroupPatch, ProductInput, ProductPatch, SettingsInput, imported_findings,
};
use crate::graphql::notifications::Delivery;
use crate::graphql::types::{
    ApiToken, ApiTokenPayload, AuthPayload, ImportResult, Observation, Product, ProductGroup, ProductMember, Settings,
    User,
};
use crate::jobs;
use crate::notify::failure::InjectedFault;
use crate::service::members::{self, MemberRef, Scope};
use crate::service::notifications;
use crate::service::{observations, product_groups, products, settings, tokens, users};
use crate::store::{Job, JobContext};

pub struct MutationRoot;

#[Object(name = "Mutation")]
impl MutationRoot {
    /// Exchanges a username and password for a session token (JWT).
    async fn login(&self, ctx: &Context<'_>, username: String, password: String) -> ApiResult<AuthPayload> {
        let address = ctx.data_opt::<ClientAddress>().map(|a| a.0);
        let (token, user) = users::login_throttled(state(ctx), &username, &password, address).await?;
        Ok(AuthPayload {
            token,
            user: User(user),
        })
    }

    /// A long-lived token for scripts, shown once.
    async fn create_api_token(&self, ctx: &Context<'_>, name: String) -> ApiResult<ApiTokenPayload> {
        let who = identity(ctx)?;
        let name = Name::parse("name", &name)?;
        let (token, row) = tokens::create(&state(ctx).db, who, name).await?;
        Ok(ApiTokenPayload {
            token,
            api_token: ApiToken(row),
        })
    }

    async fn revoke_api_token(&self, ctx: &Context<'_>, id: ID) -> ApiResult<ApiToken> {
        let id = parse_id("id", &id)?;
        Ok(ApiToken(tokens::revoke(state(ctx), identity(ctx)?, id).await?))
    }

    /// Administrators only.
    async fn create_user(&self, ctx: &Context<'_>, input: CreateUserInput) -> ApiResult<User> {
        let who = identity(ctx)?;
        crate::store::access::require_admin(who)?;
        let s = state(ctx);
        Ok(User(users::create(s, &s.hasher, who, input.into_new_user()?).await?))
    }

    async fn create_product_group(&self, ctx: &Context<'_>, input: ProductGroupInput) -> ApiResult<ProductGroup> {
        let who = identity(ctx)?;
        let row = product_groups::create(state(ctx), who, input.into_spec()?).await?;
        ProductGroup::load(ctx, row).await
    }

    async fn update_product_group(
        &self,
        ctx: &Context<'_>,
        id: ID,
        input: ProductGroupPatch,
    ) -> ApiResult<ProductGroup> {
        let who = identity(ctx)?;
        let id = parse_id("id", &id)?;
        let row = product_groups::update(state(ctx), who, id, input.into_changes()?).await?;
        ProductGroup::load(ctx, row).await
    }

    /// The creator becomes the product's OWNER.
    async fn create_product(&self, ctx: &Context<'_>, input: ProductInput) -> ApiResult<Product> {
        let who = identity(ctx)?;
        let (group, spec) = input.into_parts()?;
        let row = products::create(state(ctx), who, group, spec).await?;
        Product::load(ctx, row).await
    }

    /// MAINTAINER or above.
    async fn update_product(&self, ctx: &Context<'_>, id: ID, input: ProductPatch) -> ApiResult<Product> {
        let who = identity(ctx)?;
        let id = parse_id("id", &id)?;
        let (group, changes) = input.into_parts()?;
        let row = products::update(state(ctx), who, id, group, changes).await?;
        Product::load(ctx, row).await
    }

    /// OWNER only.
    async fn delete_product(&self, ctx: &Context<'_>, id: ID) -> ApiResult<bool> {
        let id = parse_id("id", &id)?;
        products::delete(state(ctx), identity(ctx)?, id).await?;
        Ok(true)
    }

    /// MAINTAINER or above; only an OWNER gives the OWNER role.
    /// The member is named by `user` (exact username or email), or by
    /// `userId` (administrators, or someone already a member here).
    async fn set_product_member(
        &self,
        ctx: &Context<'_>,
        product_id: ID,
        user_id: Option<ID>,
        user: Option<String>,
        role: Role,
    ) -> ApiResult<ProductMember> {
        let scope = Scope::Product(parse_id("productId", &product_id)?);
        let member = member_ref(user_id, user)?;
        let (user, role) = members::set(state(ctx), identity(ctx)?, scope, member, role).await?;
        Ok(ProductMember { user: User(user), role })
    }

    async fn remove_product_member(&self, ctx: &Context<'_>, product_id: ID, user_id: ID) -> ApiResult<bool> {
        let scope = Scope::Product(parse_id("productId", &product_id)?);
        let user_id = parse_id("userId", &user_id)?;
        Ok(members::remove(state(ctx), identity(ctx)?, scope, user_id).await?)
    }

    /// A group role applies to every product of the group.
    /// The member is named by `user` (exact username or email), or by
    /// `userId` (administrators, or someone already a member here).
    async fn set_product_group_member(
        &self,
        ctx: &Context<'_>,
        product_group_id: ID,
        user_id: Option<ID>,
        user: Option<String>,
        role: Role,
    ) -> ApiResult<ProductMember> {
        let scope = Scope::Group(parse_id("productGroupId", &product_group_id)?);
        let member = member_ref(user_id, user)?;
        let (user, role) = members::set(state(ctx), identity(ctx)?, scope, member, role).await?;
        Ok(ProductMember { user: User(user), role })
    }

    async fn remove_product_group_member(
        &self,
        ctx: &Context<'_>,
        product_group_id: ID,
        user_id: ID,
    ) -> ApiResult<bool> {
        let scope = Scope::Group(parse_id("productGroupId", &product_group_id)?);
        let user_id = parse_id("userId", &user_id)?;
        Ok(members::remove(state(ctx), identity(ctx)?, scope, user_id).await?)
    }

    /// WRITER or above.
    async fn create_observation(&self, ctx: &Context<'_>, input: ObservationInput) -> ApiResult<Observation> {
        let who = identity(ctx)?;
        let new = input.into_new()?;
        Ok(Observation(observations::create(state(ctx), who, new).await?))
    }

    async fn update_observation(
        &self,
        ctx: &Context<'_>,
        id: ID,
        input: ObservationUpdateInput,
    ) -> ApiResult<Observation> {
        let who = identity(ctx)?;
        let id = parse_id("id", &id)?;
        Ok(Observation(
            observations::update(state(ctx), who, id, input.into_edit()?).await?,
        ))
    }

    async fn delete_observation(&self, ctx: &Context<'_>, id: ID) -> ApiResult<bool> {
        let id = parse_id("id", &id)?;
        observations::delete(state(ctx), identity(ctx)?, id).await?;
        Ok(true)
    }

    /// Imports a scan (UPLOAD or above): new findings open, findings seen
    /// again kept, open ones missing from the scan resolved; all or nothing.
    async fn import_observations(
        &self,
        ctx: &Context<'_>,
        product_id: ID,
        scanner: String,
        observations: Vec<ImportedObservation>,
    ) -> ApiResult<ImportResult> {
        let who = identity(ctx)?;
        let product_id = parse_id("productId", &product_id)?;
        let scanner = Name::parse("scanner", &scanner)?;
        let findings = imported_findings(observations)?;
        let outcome = crate::service::observations::import(state(ctx), who, product_id, scanner, findings).await?;
        let count = |n: usize| i32::try_from(n).unwrap_or(i32::MAX);
        Ok(ImportResult {
            created: count(outcome.created),
            updated: count(outcome.updated),
            resolved: count(outcome.resolved),
            security_gate: outcome.security_gate,
        })
    }

    /// Administrators only. A change to the global gate re-evaluates every
    /// product in the background.
    async fn update_settings(&self, ctx: &Context<'_>, input: SettingsInput) -> ApiResult<Settings> {
        let who = identity(ctx)?;
        crate::store::access::require_admin(who)?;
        let s = state(ctx);
        let changes = input.into_changes().map_err(AppError::from)?;
        Ok(settings::update(s, who, changes).await?.into())
    }

    /// Marks notifications viewed by the caller; returns how many were newly
    /// marked. Ids the caller cannot see are skipped.
    async fn mark_notifications_viewed(&self, ctx: &Context<'_>, ids: Vec<ID>) -> ApiResult<i32> {
        let ids = parse_ids(&ids)?;
        let n = notifications::mark_viewed(state(ctx), identity(ctx)?, &ids).await?;
        Ok(n as i32)
    }

    /// Deletes notifications for everybody (administrators, product OWNERs).
    async fn delete_notifications(&self, ctx: &Context<'_>, ids: Vec<ID>) -> ApiResult<i32> {
        let ids = parse_ids(&ids)?;
        let n = notifications::delete(state(ctx), identity(ctx)?, &ids).await?;
        Ok(n as i32)
    }

    /// Sends a delivery again from the start (administrators, product MAINTAINER+).
    async fn redeliver(&self, ctx: &Context<'_>, delivery_id: ID) -> ApiResult<Delivery> {
        let id = parse_id("deliveryId", &delivery_id)?;
        let (row, role) = notifications::redeliver(state(ctx), identity(ctx)?, id).await?;
        Ok(Delivery {
            row,
            product_role: Some(role),
        })
    }

    /// Queues a test message to one address or webhook (administrators).
    async fn send_test_notification(&self, ctx: &Context<'_>, channel: Channel, target: String) -> ApiResult<Delivery> {
        let row = notifications::send_test(state(ctx), identity(ctx)?, channel, &target).await?;
        // Administrators only: they read every target.
        Ok(Delivery {
            row,
            product_role: Some(Role::Owner),
        })
    }

    /// Raises a real failure for tests; exists only with HERALD_FAULT_INJECTION.
    #[graphql(visible = "fault_injection_enabled")]
    async fn inject_fault(
        &self,
        ctx: &Context<'_>,
        kind: FaultKind,
        message: String,
        product_id: Option<ID>,
    ) -> ApiResult<bool> {
        let who = identity(ctx)?;
        let product_id = product_id.as_ref().map(|id| parse_id("productId", id)).transpose()?;
        let s = state(ctx);
        if !s.config.fault_injection {
            return Err(AppError::NotFound("field").into());
        }
        match kind {
            FaultKind::Request => Err(AppError::Internal(InjectedFault(message).into()).into()),
            FaultKind::Panic => panic!("{message}"),
            FaultKind::Task => {
                let context = JobContext {
                    user_id: Some(who.user_id()),
                    product_id,
                };
                jobs::enqueue_alone(s, Job::InjectFault(message), context).await?;
                Ok(true)
            }
        }
    }
}

#[derive(async_graphql::Enum, Debug, Clone, Copy, PartialEq, Eq)]
#[graphql(visible = "fault_injection_enabled")]
pub enum FaultKind {
    /// An unexpected error in a resolver.
    Request,
    /// A panic while serving a request.
    Panic,
    /// A failing background job.
    Task,
}

fn fault_injection_enabled(ctx: &Context<'_>) -> bool {
    ctx.data_opt::<crate::state::AppState>()
        .is_some_and(|s| s.config.fault_injection)
}

/// Exactly one of `userId` and `user` names the member.
fn member_ref(user_id: Option<ID>, user: Option<String>) -> ApiResult<MemberRef> {
    match (user_id, user) {
        (Some(id), None) => Ok(MemberRef::Id(parse_id("userId", &id)?)),
        // A username or an address: one line, at most an address's length.
        (None, Some(name)) if name.chars().any(char::is_control) || name.len() > 320 => {
            Err(AppError::invalid("user", "not a username or email address").into())
        }
        (None, Some(name)) if !name.trim().is_empty() => Ok(MemberRef::Name(name)),
        _ => Err(AppError::invalid("user", "give the member's username or email").into()),
    }
}
