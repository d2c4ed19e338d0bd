use async_graphql::{Context, ID, Object};

use crate::domain::{Name, Role};
use crate::error::AppError;
use crate::graphql::context::{identity, parse_id, state};
use crate::graphql::error::ApiResult;
use crate::graphql::inputs::{
    CreateUserInput, ImportedObservation, ObservationInput, ObservationUpdateInput, ProductGroupInput,
    ProductGroupPatch, ProductInput, ProductPatch, SettingsInput, imported_findings,
};
use crate::graphql::types::{
    ApiToken, ApiTokenPayload, AuthPayload, ImportResult, Observation, Product, ProductGroup, ProductMember, Settings,
    User,
};
use crate::jobs;
use crate::service::members::{self, Scope};
use crate::service::{observations, product_groups, products, settings, tokens, users};

pub struct MutationRoot;

#[Object(name = "Mutation")]
impl MutationRoot {
    /// Exchanges a username and password for a session token (JWT).
    async fn login(&self, ctx: &Context<'_>, username: String, password: String) -> ApiResult<AuthPayload> {
        let s = state(ctx);
        let (token, user) = users::login(&s.db, &s.hasher, &s.jwt, &username, &password).await?;
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
        Ok(ApiToken(tokens::revoke(&state(ctx).db, identity(ctx)?, id).await?))
    }

    /// Administrators only.
    async fn create_user(&self, ctx: &Context<'_>, input: CreateUserInput) -> ApiResult<User> {
        let who = identity(ctx)?;
        crate::service::access::require_admin(who)?;
        let s = state(ctx);
        Ok(User(
            users::create(&s.db, &s.hasher, who, input.into_new_user()?).await?,
        ))
    }

    async fn create_product_group(&self, ctx: &Context<'_>, input: ProductGroupInput) -> ApiResult<ProductGroup> {
        let who = identity(ctx)?;
        let row = product_groups::create(&state(ctx).db, who, input.into_spec()?).await?;
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
        let row = product_groups::update(&state(ctx).db, who, id, input.into_changes()?).await?;
        ProductGroup::load(ctx, row).await
    }

    /// The creator becomes the product's OWNER.
    async fn create_product(&self, ctx: &Context<'_>, input: ProductInput) -> ApiResult<Product> {
        let who = identity(ctx)?;
        let (group, spec) = input.into_parts()?;
        let row = products::create(&state(ctx).db, who, group, spec).await?;
        Product::load(ctx, row).await
    }

    /// MAINTAINER or above.
    async fn update_product(&self, ctx: &Context<'_>, id: ID, input: ProductPatch) -> ApiResult<Product> {
        let who = identity(ctx)?;
        let id = parse_id("id", &id)?;
        let (group, changes) = input.into_parts()?;
        let row = products::update(&state(ctx).db, who, id, group, changes).await?;
        Product::load(ctx, row).await
    }

    /// OWNER only.
    async fn delete_product(&self, ctx: &Context<'_>, id: ID) -> ApiResult<bool> {
        let id = parse_id("id", &id)?;
        products::delete(&state(ctx).db, identity(ctx)?, id).await?;
        Ok(true)
    }

    /// MAINTAINER or above; only an OWNER gives the OWNER role.
    async fn set_product_member(
        &self,
        ctx: &Context<'_>,
        product_id: ID,
        user_id: ID,
        role: Role,
    ) -> ApiResult<ProductMember> {
        let scope = Scope::Product(parse_id("productId", &product_id)?);
        let user_id = parse_id("userId", &user_id)?;
        let (user, role) = members::set(&state(ctx).db, identity(ctx)?, scope, user_id, role).await?;
        Ok(ProductMember { user: User(user), role })
    }

    async fn remove_product_member(&self, ctx: &Context<'_>, product_id: ID, user_id: ID) -> ApiResult<bool> {
        let scope = Scope::Product(parse_id("productId", &product_id)?);
        let user_id = parse_id("userId", &user_id)?;
        Ok(members::remove(&state(ctx).db, identity(ctx)?, scope, user_id).await?)
    }

    /// A group role applies to every product of the group.
    async fn set_product_group_member(
        &self,
        ctx: &Context<'_>,
        product_group_id: ID,
        user_id: ID,
        role: Role,
    ) -> ApiResult<ProductMember> {
        let scope = Scope::Group(parse_id("productGroupId", &product_group_id)?);
        let user_id = parse_id("userId", &user_id)?;
        let (user, role) = members::set(&state(ctx).db, identity(ctx)?, scope, user_id, role).await?;
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
        Ok(members::remove(&state(ctx).db, identity(ctx)?, scope, user_id).await?)
    }

    /// WRITER or above.
    async fn create_observation(&self, ctx: &Context<'_>, input: ObservationInput) -> ApiResult<Observation> {
        let who = identity(ctx)?;
        let new = input.into_new()?;
        Ok(Observation(observations::create(&state(ctx).db, who, new).await?))
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
            observations::update(&state(ctx).db, who, id, input.into_edit()?).await?,
        ))
    }

    async fn delete_observation(&self, ctx: &Context<'_>, id: ID) -> ApiResult<bool> {
        let id = parse_id("id", &id)?;
        observations::delete(&state(ctx).db, identity(ctx)?, id).await?;
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
        let outcome = crate::service::observations::import(&state(ctx).db, who, product_id, scanner, findings).await?;
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
        crate::service::access::require_admin(who)?;
        let s = state(ctx);
        let changes = input.into_changes().map_err(AppError::from)?;
        let (row, touches_gate) = settings::update(&s.db, who, changes).await?;
        if touches_gate {
            jobs::spawn_reevaluate_all_gates(s.db.clone(), Some(who.user_id()));
        }
        Ok(row.into())
    }
}
