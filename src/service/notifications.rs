//! Reading, marking, deleting and redelivering notifications, with the
//! visibility rules of `domain::notification`.

use chrono::Utc;
use sea_orm::ActiveValue::Set;
use sea_orm::sea_query::{Expr, ExprTrait, Func, LikeExpr, OnConflict, Order, Query, SubQueryStatement};
use sea_orm::{
    AccessMode, ActiveModelTrait, ColumnTrait, Condition, ConnectionTrait, DatabaseConnection, DbBackend, EntityTrait,
    IntoActiveModel, IsolationLevel, PaginatorTrait, QueryFilter, QueryOrder, QuerySelect, TransactionTrait,
};

use crate::auth::Identity;
use crate::domain::notification::{self, Visibility};
use crate::domain::{Channel, DeliveryStatus, EmailAddress, NotificationType, Role, WebhookUrl};
use crate::entity::{
    delivery, delivery_attempt, notification as entity, notification_counter as counter, notification_view,
};
use crate::error::{AppError, AppResult};
use crate::live::log::Seen;
use crate::live::{self, EventKind, NewEvent};
use crate::notify::counters;
use crate::state::AppState;
use crate::store::Scope;
use crate::store::access;
use crate::store::sight::{self, Sight};

/// The most ids one bulk mutation takes (as SecObserve).
pub const MAX_BULK_IDS: usize = 250;

#[derive(Debug, Clone, Default)]
pub struct Filter {
    pub kind: Option<NotificationType>,
    pub product_id: Option<i64>,
    pub search: Option<String>,
    pub unviewed_only: bool,
}

fn viewed_by(user_id: i64) -> sea_orm::sea_query::SelectStatement {
    Query::select()
        .column(notification_view::Column::NotificationId)
        .from(notification_view::Entity)
        .and_where(Expr::col(notification_view::Column::UserId).eq(user_id))
        .to_owned()
}

/// The filter's own condition, without who sees what.
fn filter_condition(user_id: i64, filter: &Filter) -> Condition {
    let mut cond = Condition::all();
    if let Some(kind) = filter.kind {
        cond = cond.add(entity::Column::Kind.eq(kind));
    }
    if let Some(product_id) = filter.product_id {
        cond = cond.add(entity::Column::ProductId.eq(product_id));
    }
    if let Some(search) = filter.search.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
        let escaped = search
            .to_lowercase()
            .replace('\\', "\\\\")
            .replace('%', "\\%")
            .replace('_', "\\_");
        let pattern = format!("%{escaped}%");
        let like = |col: entity::Column| {
            Expr::expr(Func::lower(Expr::col(col))).like(LikeExpr::new(pattern.clone()).escape('\\'))
        };
        cond = cond.add(
            Condition::any()
                .add(like(entity::Column::Name))
                .add(like(entity::Column::Message)),
        );
    }
    if filter.unviewed_only {
        cond = cond.add(entity::Column::Id.not_in_subquery(viewed_by(user_id)));
    }
    cond
}

fn seen(sight: &Sight) -> Condition {
    sight.condition(entity::Column::Kind, entity::Column::ProductId)
}

/// Past this many products a member's page is one filtered walk down the
/// id index: their notifications are then dense among all, and the union
/// would be a long statement (SQLite takes at most 500 branches).
const MAX_PRODUCT_BRANCHES: usize = 64;

/// One page, newest first, after the id `after`; with whether more follow
/// and the total that match.
pub async fn page(
    db: &impl ConnectionTrait,
    who: &Identity,
    sight: &Sight,
    filter: &Filter,
    first: u64,
    after: Option<i64>,
) -> AppResult<(Vec<entity::Model>, bool, u64)> {
    let mut cond = filter_condition(who.user_id(), filter);
    if let Some(after) = after {
        cond = cond.add(entity::Column::Id.lt(after));
    }
    let mut rows = match sight.products() {
        Some(products) if products.len() <= MAX_PRODUCT_BRANCHES => {
            member_page(db, sight, &products, filter.product_id, cond, first + 1, after).await?
        }
        _ => newest(first + 1).filter(cond).filter(seen(sight)).all(db).await?,
    };
    let has_next = rows.len() as u64 > first;
    rows.truncate(first as usize);
    let total = match counted_total(db, sight, filter).await? {
        Some(total) => total,
        None => {
            entity::Entity::find()
                .filter(filter_condition(who.user_id(), filter))
                .filter(seen(sight))
                .count(db)
                .await?
        }
    };
    Ok((rows, has_next, total))
}

fn newest(limit: u64) -> sea_orm::Select<entity::Entity> {
    entity::Entity::find().order_by_desc(entity::Column::Id).limit(limit)
}

/// Ids a member's page is first looked for among: the newest this many
/// below the cursor. Past it, their notifications are sparse.
pub const RECENT_WINDOW: i64 = 1024;

/// The newest `limit` rows a member sees, under `cond`. Most members'
/// notifications are dense among the newest, and one walk down the id
/// index over the recent window finds a full page. When it does not (their
/// products hold only old notifications), walking on would read nearly
/// every row, so each product is walked on its own, as far as one page,
/// and the walks are merged.
async fn member_page(
    db: &impl ConnectionTrait,
    sight: &Sight,
    products: &[i64],
    only: Option<i64>,
    cond: Condition,
    limit: u64,
    after: Option<i64>,
) -> AppResult<Vec<entity::Model>> {
    // In Rust for a cursor, which a client could set near i64::MIN.
    let floor = match after {
        Some(after) => Expr::val(after.saturating_sub(RECENT_WINDOW)),
        None => Expr::SubQuery(
            None,
            Box::new(SubQueryStatement::SelectStatement(
                Query::select()
                    .expr(Func::max(Expr::col(entity::Column::Id)))
                    .from(entity::Entity)
                    .to_owned(),
            )),
        )
        .sub(RECENT_WINDOW),
    };
    let recent = newest(limit)
        .filter(cond.clone())
        .filter(seen(sight))
        .filter(Expr::col(entity::Column::Id).gt(floor))
        .all(db)
        .await?;
    if recent.len() as u64 >= limit {
        return Ok(recent);
    }
    let products: Vec<i64> = products
        .iter()
        .copied()
        .filter(|p| only.is_none_or(|only| only == *p))
        .collect();
    let branch = |product_id: i64| {
        Query::select()
            .column(entity::Column::Id)
            .from(entity::Entity)
            .cond_where(cond.clone().add(sight::seen_by_members(
                entity::Column::Kind,
                entity::Column::ProductId,
                [product_id],
            )))
            .order_by(entity::Column::Id, Order::Desc)
            .to_owned()
    };
    Ok(match sight::newest_per_product(&products, limit, branch) {
        Some(ids) => {
            newest(limit)
                .filter(entity::Column::Id.in_subquery(ids))
                .all(db)
                .await?
        }
        None => Vec::new(),
    })
}

/// The total from the per (product, type) counters, when the filter is one
/// they can answer (no text search, no unviewed-only).
async fn counted_total(db: &impl ConnectionTrait, sight: &Sight, filter: &Filter) -> AppResult<Option<u64>> {
    if filter.unviewed_only || filter.search.as_deref().is_some_and(|s| !s.trim().is_empty()) {
        return Ok(None);
    }
    let mut query = counter::Entity::find()
        .select_only()
        .column_as(Expr::col(counter::Column::Count).sum().cast_as("BIGINT"), "total")
        .filter(sight.condition(counter::Column::Kind, counter::Column::ProductKey));
    if let Some(kind) = filter.kind {
        query = query.filter(counter::Column::Kind.eq(kind));
    }
    if let Some(product_id) = filter.product_id {
        query = query.filter(counter::Column::ProductKey.eq(counters::product_key(Some(product_id))));
    }
    // SUM is NULL over no rows (and NUMERIC on PostgreSQL without the cast).
    let total: Option<Option<i64>> = query.into_tuple().one(db).await?;
    Ok(Some(u64::try_from(total.flatten().unwrap_or(0)).unwrap_or(0)))
}

/// Which of `ids` `user_id` has viewed.
pub async fn viewed_among(db: &impl ConnectionTrait, user_id: i64, ids: &[i64]) -> AppResult<Vec<i64>> {
    Ok(notification_view::Entity::find()
        .select_only()
        .column(notification_view::Column::NotificationId)
        .filter(notification_view::Column::UserId.eq(user_id))
        .filter(notification_view::Column::NotificationId.is_in(ids.iter().copied()))
        .into_tuple()
        .all(db)
        .await?)
}

/// A notification and how much of it the caller sees; `None` when hidden.
pub async fn get(db: &impl ConnectionTrait, who: &Identity, id: i64) -> AppResult<Option<(entity::Model, Visibility)>> {
    let Some(n) = entity::Entity::find_by_id(id).one(db).await? else {
        return Ok(None);
    };
    Ok(match Sight::of(db, who).await?.visibility(n.kind, n.product_id) {
        Visibility::Hidden => None,
        v => Some((n, v)),
    })
}

/// Visible minus viewed: the visible total comes from the counters, and a
/// user's views are few next to all notifications.
pub async fn unviewed_count(db: &impl ConnectionTrait, who: &Identity) -> AppResult<u64> {
    let sight = Sight::of(db, who).await?;
    let visible = counted_total(db, &sight, &Filter::default()).await?.unwrap_or(0);
    let viewed = entity::Entity::find()
        .filter(seen(&sight))
        .filter(entity::Column::Id.in_subquery(viewed_by(who.user_id())))
        .count(db)
        .await?;
    Ok(visible.saturating_sub(viewed))
}

/// The caller's unviewed count and which events it reflects, read in one
/// snapshot: a live count adds to it the events it did not.
pub async fn unviewed_count_as_of(db: &DatabaseConnection, who: &Identity) -> AppResult<(u64, Seen)> {
    let txn = match db.get_database_backend() {
        DbBackend::Postgres => {
            db.begin_with_config(Some(IsolationLevel::RepeatableRead), Some(AccessMode::ReadOnly))
                .await?
        }
        // A SQLite read transaction sees one snapshot already.
        _ => db.begin().await?,
    };
    let count = unviewed_count(&txn, who).await?;
    let as_of = Seen::of(&txn).await?;
    txn.commit().await?;
    Ok((count, as_of))
}

fn check_bulk(ids: &[i64]) -> AppResult<()> {
    if ids.len() > MAX_BULK_IDS {
        return Err(AppError::invalid("ids", format!("at most {MAX_BULK_IDS} ids at once")));
    }
    Ok(())
}

/// Marks the given notifications viewed by the caller; ids the caller cannot
/// see are skipped. Returns how many were newly marked.
pub async fn mark_viewed(app: &AppState, who: &Identity, ids: &[i64]) -> AppResult<u64> {
    check_bulk(ids)?;
    let txn = app.begin().await?;
    txn.lock([Scope::User(who.user_id())]).await?;
    let sight = Sight::of(&txn, who).await?;
    let visible: Vec<i64> = entity::Entity::find()
        .select_only()
        .column(entity::Column::Id)
        .filter(seen(&sight))
        .filter(entity::Column::Id.is_in(ids.iter().copied()))
        .into_tuple()
        .all(&txn)
        .await?;
    let already = viewed_among(&txn, who.user_id(), &visible).await?;
    let fresh: Vec<i64> = visible.into_iter().filter(|id| !already.contains(id)).collect();
    if !fresh.is_empty() {
        let now = Utc::now();
        let rows = fresh.iter().map(|id| notification_view::ActiveModel {
            notification_id: Set(*id),
            user_id: Set(who.user_id()),
            viewed_at: Set(now),
        });
        notification_view::Entity::insert_many(rows)
            .on_conflict(
                OnConflict::columns([
                    notification_view::Column::NotificationId,
                    notification_view::Column::UserId,
                ])
                .do_nothing()
                .to_owned(),
            )
            .exec_without_returning(&txn)
            .await?;
    }
    if !fresh.is_empty() {
        live::emit(&txn, NewEvent::for_user(EventKind::Viewed, Some(who.user_id()))).await?;
    }
    txn.commit().await?;
    Ok(fresh.len() as u64)
}

/// Deletes notifications for everybody. Ids the caller cannot see are
/// skipped; one the caller sees but may not delete refuses the whole call.
pub async fn delete(app: &AppState, who: &Identity, ids: &[i64]) -> AppResult<u64> {
    check_bulk(ids)?;
    let txn = app.begin().await?;
    let sight = Sight::of(&txn, who).await?;
    let rows = entity::Entity::find()
        .filter(seen(&sight))
        .filter(entity::Column::Id.is_in(ids.iter().copied()))
        .all(&txn)
        .await?;
    for n in &rows {
        if !notification::may_delete(sight.is_admin(), sight.role_on(n.product_id)) {
            return Err(AppError::Forbidden);
        }
    }
    // Ordered with the rest of their products' events.
    txn.lock(rows.iter().filter_map(|n| n.product_id).map(Scope::Product))
        .await?;
    let deleted = entity::Entity::delete_many()
        .filter(entity::Column::Id.is_in(rows.iter().map(|n| n.id)))
        .exec(&txn)
        .await?;
    for n in &rows {
        counters::add(&txn, n.product_id, n.kind, -1).await?;
        live::emit(&txn, NewEvent::notification(EventKind::NotificationDeleted, n)).await?;
    }
    txn.commit().await?;
    Ok(deleted.rows_affected)
}

pub async fn deliveries_of(db: &impl ConnectionTrait, notification_id: i64) -> AppResult<Vec<delivery::Model>> {
    Ok(delivery::Entity::find()
        .filter(delivery::Column::NotificationId.eq(notification_id))
        .order_by_asc(delivery::Column::Id)
        .all(db)
        .await?)
}

pub async fn attempts_of(db: &impl ConnectionTrait, delivery_id: i64) -> AppResult<Vec<delivery_attempt::Model>> {
    Ok(delivery_attempt::Entity::find()
        .filter(delivery_attempt::Column::DeliveryId.eq(delivery_id))
        .order_by_asc(delivery_attempt::Column::Id)
        .all(db)
        .await?)
}

/// A delivery the caller may manage: administrators, or MAINTAINER+ on the
/// product of its notification; with the caller's role on that product
/// (administrators: OWNER).
pub async fn managed_delivery(
    db: &impl ConnectionTrait,
    who: &Identity,
    id: i64,
) -> AppResult<(delivery::Model, Role)> {
    let row = delivery::Entity::find_by_id(id)
        .one(db)
        .await?
        .ok_or(AppError::NotFound("delivery"))?;
    if who.is_admin() {
        return Ok((row, Role::Owner));
    }
    let notification_id = row.notification_id.ok_or(AppError::NotFound("delivery"))?;
    let (n, _) = get(db, who, notification_id)
        .await?
        .ok_or(AppError::NotFound("delivery"))?;
    let product_id = n.product_id.ok_or(AppError::NotFound("delivery"))?;
    match sight::role_on(db, who, product_id).await? {
        Some(role) if role >= Role::Maintainer => Ok((row, role)),
        _ => Err(AppError::Forbidden),
    }
}

/// Sends a delivery again from the start of the retry schedule.
pub async fn redeliver(app: &AppState, who: &Identity, id: i64) -> AppResult<(delivery::Model, Role)> {
    let txn = app.begin().await?;
    let (row, role) = managed_delivery(&txn, who, id).await?;
    let now = Utc::now();
    let mut active = row.into_active_model();
    active.status = Set(DeliveryStatus::Pending);
    active.attempts = Set(0);
    active.next_attempt_at = Set(Some(now));
    active.lease_until = Set(None);
    active.updated_at = Set(now);
    let updated = active.update(&txn).await?;
    txn.commit().await?;
    Ok((updated, role))
}

/// Queues a test message to one target (administrators).
pub async fn send_test(app: &AppState, who: &Identity, channel: Channel, target: &str) -> AppResult<delivery::Model> {
    access::require_admin(who)?;
    let target = match channel {
        Channel::Email => {
            let settings = crate::store::settings::load(&app.db).await?;
            if !app.email_enabled(&settings) {
                return Err(AppError::invalid(
                    "channel",
                    "email needs HERALD_SMTP_URL and emailFrom",
                ));
            }
            EmailAddress::parse("target", target)?.as_str().to_owned()
        }
        Channel::MsTeams | Channel::Slack => WebhookUrl::parse("target", target)?.expose().to_owned(),
    };
    let recipient = notification::Recipient {
        channel,
        target,
        origin: notification::TargetOrigin::Test,
    };
    let txn = app.begin().await?;
    let row = crate::notify::pending_delivery(None, &recipient, Utc::now())
        .insert(&txn)
        .await?;
    txn.commit().await?;
    Ok(row)
}
