use async_graphql::{Context, ID, Object};
use sea_orm::{EntityTrait, QueryFilter, QueryOrder};

use crate::entity::{notification, product_group};
use crate::error::AppError;
use crate::graphql::context::{identity, parse_id, state};
use crate::graphql::error::ApiResult;
use crate::graphql::inputs::NotificationFilter;
use crate::graphql::limits::{list_cost, nominal, page_cost};
use crate::graphql::notifications::{
    Delivery, Notification, NotificationConnection, NotificationEdge, PageInfo, decode_cursor, encode_cursor,
    load_nodes,
};
use crate::graphql::types::{ApiToken, Product, ProductGroup, Settings, User};
use crate::service::{notifications, tokens, users};
use crate::store::sight::Sight;
use crate::store::{access, settings};

/// The largest page of `notifications`.
pub const MAX_PAGE: i32 = 100;
/// The page of `notifications` when `first` is not given.
pub const DEFAULT_PAGE: i32 = 25;

pub struct QueryRoot;

#[Object(name = "Query")]
impl QueryRoot {
    /// The signed-in user.
    async fn me(&self, ctx: &Context<'_>) -> ApiResult<User> {
        Ok(User(identity(ctx)?.user.clone()))
    }

    /// Every user (administrators).
    #[graphql(complexity = "list_cost(nominal::USERS, child_complexity)")]
    async fn users(&self, ctx: &Context<'_>) -> ApiResult<Vec<User>> {
        let rows = users::list(&state(ctx).db, identity(ctx)?).await?;
        Ok(rows.into_iter().map(User).collect())
    }

    /// The products the caller is a member of (all of them for administrators).
    #[graphql(complexity = "list_cost(nominal::PRODUCTS, child_complexity)")]
    async fn products(&self, ctx: &Context<'_>) -> ApiResult<Vec<Product>> {
        Product::visible(ctx, |_| true).await
    }

    async fn product(&self, ctx: &Context<'_>, id: ID) -> ApiResult<Option<Product>> {
        let id = parse_id("id", &id)?;
        match access::visible_product(&state(ctx).db, identity(ctx)?, id).await {
            Ok((row, role)) => Ok(Some(Product { row, role: Some(role) })),
            Err(AppError::NotFound(_)) => Ok(None),
            Err(e) => Err(e.into()),
        }
    }

    /// The product groups the caller is a member of.
    #[graphql(complexity = "list_cost(nominal::PRODUCT_GROUPS, child_complexity)")]
    async fn product_groups(&self, ctx: &Context<'_>) -> ApiResult<Vec<ProductGroup>> {
        let rows = product_group::Entity::find()
            .filter(access::visible_groups_condition(identity(ctx)?))
            .order_by_asc(product_group::Column::Name)
            .all(&state(ctx).db)
            .await?;
        let mut out = Vec::with_capacity(rows.len());
        for row in rows {
            out.push(ProductGroup::load(ctx, row).await?);
        }
        Ok(out)
    }

    async fn product_group(&self, ctx: &Context<'_>, id: ID) -> ApiResult<Option<ProductGroup>> {
        let id = parse_id("id", &id)?;
        let row = product_group::Entity::find_by_id(id)
            .filter(access::visible_groups_condition(identity(ctx)?))
            .one(&state(ctx).db)
            .await?;
        match row {
            Some(row) => Ok(Some(ProductGroup::load(ctx, row).await?)),
            None => Ok(None),
        }
    }

    /// Global settings (administrators).
    async fn settings(&self, ctx: &Context<'_>) -> ApiResult<Settings> {
        access::require_admin(identity(ctx)?)?;
        Ok(settings::load(&state(ctx).db).await?.into())
    }

    /// Notifications the caller may see, newest first (Relay connection).
    #[graphql(complexity = "page_cost(first, DEFAULT_PAGE, MAX_PAGE, child_complexity)")]
    async fn notifications(
        &self,
        ctx: &Context<'_>,
        filter: Option<NotificationFilter>,
        #[graphql(default_with = "Some(DEFAULT_PAGE)")] first: Option<i32>,
        after: Option<String>,
    ) -> ApiResult<NotificationConnection> {
        let who = identity(ctx)?;
        let first = first.unwrap_or(DEFAULT_PAGE);
        if !(0..=MAX_PAGE).contains(&first) {
            return Err(AppError::invalid("first", format!("must be between 0 and {MAX_PAGE}")).into());
        }
        let after = after.as_deref().map(decode_cursor).transpose()?;
        let filter = filter.unwrap_or_default().into_filter()?;
        let db = &state(ctx).db;
        let sight = Sight::of(db, who).await?;
        let (rows, has_next_page, total) = notifications::page(db, who, &sight, &filter, first as u64, after).await?;
        let edges: Vec<NotificationEdge> = load_nodes(db, who, &sight, rows)
            .await?
            .into_iter()
            .map(|node| NotificationEdge {
                cursor: encode_cursor(node.row.id),
                node,
            })
            .collect();
        Ok(NotificationConnection {
            page_info: PageInfo {
                has_next_page,
                end_cursor: edges.last().map(|e| e.cursor.clone()),
            },
            edges,
            total_count: total as i64,
        })
    }

    async fn notification(&self, ctx: &Context<'_>, id: ID) -> ApiResult<Option<Notification>> {
        let who = identity(ctx)?;
        let id = parse_id("id", &id)?;
        let db = &state(ctx).db;
        let Some(row) = notification::Entity::find_by_id(id).one(db).await? else {
            return Ok(None);
        };
        // load_nodes decides visibility from the sight (and drops what is
        // hidden); deciding it here too would do it twice.
        let sight = Sight::of(db, who).await?;
        Ok(load_nodes(db, who, &sight, vec![row]).await?.pop())
    }

    /// How many notifications the caller may see and has not viewed.
    async fn unviewed_notification_count(&self, ctx: &Context<'_>) -> ApiResult<i64> {
        Ok(notifications::unviewed_count(&state(ctx).db, identity(ctx)?).await? as i64)
    }

    /// A delivery the caller may manage (administrators, product MAINTAINER+).
    async fn delivery(&self, ctx: &Context<'_>, id: ID) -> ApiResult<Option<Delivery>> {
        let id = parse_id("id", &id)?;
        match notifications::managed_delivery(&state(ctx).db, identity(ctx)?, id).await {
            Ok((row, role)) => Ok(Some(Delivery {
                row,
                product_role: Some(role),
            })),
            Err(AppError::NotFound(_)) => Ok(None),
            Err(e) => Err(e.into()),
        }
    }

    /// The caller's API tokens, revoked ones included.
    #[graphql(complexity = "list_cost(nominal::API_TOKENS, child_complexity)")]
    async fn api_tokens(&self, ctx: &Context<'_>) -> ApiResult<Vec<ApiToken>> {
        let rows = tokens::of_user(&state(ctx).db, identity(ctx)?.user_id()).await?;
        Ok(rows.into_iter().map(ApiToken).collect())
    }
}
