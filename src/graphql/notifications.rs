//! Notification, delivery and connection types.

use async_graphql::{Context, ID, Object, SimpleObject};
use base64::Engine;
use chrono::{DateTime, Utc};
use sea_orm::{ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter};

use crate::auth::Identity;

use crate::domain::notification::{TargetOrigin, Visibility, masked_target, may_read_target};
use crate::domain::{Channel, DeliveryStatus, NotificationType, Role};
use crate::entity::{delivery, delivery_attempt, notification, product, user};
use crate::error::AppError;
use crate::graphql::context::{identity, state, to_id};
use crate::graphql::error::ApiResult;
use crate::graphql::types::{Product, User};
use crate::service::notifications;
use crate::store::access;
use crate::store::sight::Sight;

pub struct Notification {
    pub row: notification::Model,
    pub visibility: Visibility,
    /// The caller's role on the notification's product (administrators:
    /// OWNER), decided once with the visibility: a field that depends on the
    /// role must not read it again, or the live fan-out, which renders once
    /// for a whole class of viewers, could see a newer role than the class.
    pub role: Option<Role>,
    pub viewed: bool,
    /// Loaded with the whole page (see [`load_nodes`]).
    pub product: Option<Product>,
    pub user: Option<user::Model>,
}

/// Builds the nodes of a page with a fixed number of queries, whatever its
/// size: products, roles, users and viewed marks are each loaded once.
pub async fn load_nodes(
    db: &DatabaseConnection,
    who: &Identity,
    sight: &Sight,
    rows: Vec<notification::Model>,
) -> Result<Vec<Notification>, AppError> {
    let ids: Vec<i64> = rows.iter().map(|n| n.id).collect();
    let viewed = notifications::viewed_among(db, who.user_id(), &ids).await?;
    let product_ids: Vec<i64> = rows.iter().filter_map(|n| n.product_id).collect();
    let products = product::Entity::find()
        .filter(product::Column::Id.is_in(product_ids))
        .all(db)
        .await?;
    let user_ids: Vec<i64> = rows.iter().filter_map(|n| n.user_id).collect();
    let users = user::Entity::find()
        .filter(user::Column::Id.is_in(user_ids))
        .all(db)
        .await?;
    let mut out = Vec::with_capacity(rows.len());
    for row in rows {
        let role = sight.role_on(row.product_id);
        let visibility = sight.visibility(row.kind, row.product_id);
        if visibility == Visibility::Hidden {
            continue;
        }
        let product = row
            .product_id
            .and_then(|id| products.iter().find(|p| p.id == id))
            .map(|p| Product {
                row: p.clone(),
                role: sight.role_on(Some(p.id)),
            });
        out.push(Notification {
            role,
            viewed: viewed.contains(&row.id),
            user: row.user_id.and_then(|id| users.iter().find(|u| u.id == id).cloned()),
            product,
            visibility,
            row,
        });
    }
    Ok(out)
}

#[Object]
impl Notification {
    async fn id(&self) -> ID {
        to_id(self.row.id)
    }

    #[graphql(name = "type")]
    async fn kind(&self) -> NotificationType {
        self.row.kind
    }

    async fn name(&self) -> &str {
        &self.row.name
    }

    /// Hidden from non-administrators on TASK notifications.
    async fn message(&self) -> Option<&str> {
        self.details(self.row.message.as_deref())
    }

    async fn created_at(&self) -> DateTime<Utc> {
        self.row.created_at
    }

    async fn product(&self) -> Option<&Product> {
        self.product.as_ref()
    }

    /// The user whose action caused it.
    async fn user(&self) -> Option<User> {
        self.user.clone().map(User)
    }

    async fn function(&self) -> Option<&str> {
        self.row.function.as_deref()
    }

    async fn arguments(&self) -> Option<&str> {
        self.details(self.row.arguments.as_deref())
    }

    /// Hidden from non-administrators on TASK notifications.
    async fn trace(&self) -> Option<&str> {
        self.details(self.row.trace.as_deref())
    }

    /// How often a rate-limited exception occurred unsent before this one.
    async fn repeat_count(&self) -> Option<i64> {
        self.row.repeat_count
    }

    async fn repeat_since(&self) -> Option<DateTime<Utc>> {
        self.row.repeat_since
    }

    /// Whether the caller has viewed it.
    async fn viewed(&self) -> bool {
        self.viewed
    }

    #[graphql(
        complexity = "crate::graphql::limits::list_cost(crate::graphql::limits::nominal::DELIVERIES, child_complexity)"
    )]
    async fn deliveries(&self, ctx: &Context<'_>) -> ApiResult<Vec<Delivery>> {
        let rows = notifications::deliveries_of(&state(ctx).db, self.row.id).await?;
        Ok(rows
            .into_iter()
            .map(|row| Delivery {
                row,
                product_role: self.role,
            })
            .collect())
    }
}

impl Notification {
    fn details<'a>(&self, value: Option<&'a str>) -> Option<&'a str> {
        match self.visibility {
            Visibility::Full => value,
            _ => None,
        }
    }
}

pub struct Delivery {
    pub row: delivery::Model,
    /// The caller's role on the notification's product (administrators:
    /// OWNER), decided with the notification's visibility.
    pub product_role: Option<Role>,
}

#[Object]
impl Delivery {
    async fn id(&self) -> ID {
        to_id(self.row.id)
    }

    async fn channel(&self) -> Channel {
        self.row.channel
    }

    /// The address, or the webhook URL: whole only for who may read the
    /// setting it came from (the product's, its group's, or the global
    /// settings'), masked for everyone else.
    async fn target(&self, ctx: &Context<'_>) -> ApiResult<String> {
        let who = identity(ctx)?;
        let channel = self.row.channel;
        let origin = TargetOrigin::from_stored(&self.row.target_origin, self.row.target_origin_id);
        let group_role = match origin {
            TargetOrigin::ProductGroup(id) => access::group_role(&state(ctx).db, who, id).await?,
            _ => None,
        };
        Ok(
            if may_read_target(origin, channel, who.is_admin(), self.product_role, group_role) {
                self.row.target.clone()
            } else {
                masked_target(channel, &self.row.target)
            },
        )
    }

    async fn status(&self) -> DeliveryStatus {
        self.row.status
    }

    async fn attempts(&self) -> i32 {
        self.row.attempts
    }

    async fn next_attempt_at(&self) -> Option<DateTime<Utc>> {
        match self.row.status {
            DeliveryStatus::Pending | DeliveryStatus::Retrying => self.row.next_attempt_at,
            _ => None,
        }
    }

    async fn last_error(&self) -> Option<&str> {
        self.row.last_error.as_deref()
    }

    async fn last_status_code(&self) -> Option<i32> {
        self.row.last_status_code
    }

    /// Every attempt, oldest first.
    #[graphql(
        complexity = "crate::graphql::limits::list_cost(crate::graphql::limits::nominal::ATTEMPTS, child_complexity)"
    )]
    async fn history(&self, ctx: &Context<'_>) -> ApiResult<Vec<DeliveryAttempt>> {
        let rows = notifications::attempts_of(&state(ctx).db, self.row.id).await?;
        Ok(rows.into_iter().map(DeliveryAttempt).collect())
    }
}

pub struct DeliveryAttempt(pub delivery_attempt::Model);

#[Object]
impl DeliveryAttempt {
    async fn attempted_at(&self) -> DateTime<Utc> {
        self.0.attempted_at
    }

    async fn duration_ms(&self) -> i64 {
        self.0.duration_ms
    }

    /// SENT, RETRY or FAILED.
    async fn outcome(&self) -> &str {
        &self.0.outcome
    }

    /// The HTTP status, or the SMTP reply code.
    async fn status_code(&self) -> Option<i32> {
        self.0.status_code
    }

    async fn response(&self) -> Option<&str> {
        self.0.response.as_deref()
    }

    async fn error(&self) -> Option<&str> {
        self.0.error.as_deref()
    }
}

#[derive(SimpleObject)]
pub struct PageInfo {
    pub has_next_page: bool,
    pub end_cursor: Option<String>,
}

#[derive(SimpleObject)]
pub struct NotificationEdge {
    pub cursor: String,
    pub node: Notification,
}

#[derive(SimpleObject)]
pub struct NotificationConnection {
    pub edges: Vec<NotificationEdge>,
    pub page_info: PageInfo,
    pub total_count: i64,
}

/// Cursors are opaque to clients: `n:<id>` in base64.
pub fn encode_cursor(id: i64) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(format!("n:{id}"))
}

pub fn decode_cursor(cursor: &str) -> Result<i64, AppError> {
    base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(cursor)
        .ok()
        .and_then(|bytes| String::from_utf8(bytes).ok())
        .and_then(|s| s.strip_prefix("n:").and_then(|id| id.parse().ok()))
        .ok_or_else(|| AppError::invalid("after", "is not a cursor from this list"))
}
