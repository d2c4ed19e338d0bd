//! Live subscriptions. Each subscriber receives what `notifications` would
//! show it at that moment: visibility is decided per event, with roles
//! cached until a membership change concerns the subscriber.

use std::sync::Arc;

use async_graphql::{Context, ID, Subscription};
use futures_util::Stream;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect};
use tokio::sync::broadcast::error::RecvError;

use crate::domain::notification::Visibility;
use crate::entity::notification;
use crate::error::AppError;
use crate::graphql::context::{identity, state, to_id};
use crate::graphql::error::ApiError;
use crate::graphql::notifications::{Notification, load_nodes};
use crate::graphql::types::Product;
use crate::live::viewer::Viewer;
use crate::live::{EventKind, LiveEvent};
use crate::service::notifications;
use crate::state::AppState;

/// Notifications a resync after falling behind may replay at once.
const RESYNC_LIMIT: u64 = 100;

pub struct SubscriptionRoot;

/// Keeps the live-subscriber gauge right however a stream ends.
struct Counted(AppState);

impl Counted {
    fn new(state: &AppState) -> Self {
        state.metrics.live_subscribers.inc();
        Counted(state.clone())
    }
}

impl Drop for Counted {
    fn drop(&mut self) {
        self.0.metrics.live_subscribers.dec();
    }
}

#[Subscription]
impl SubscriptionRoot {
    /// New notifications the subscriber may see, as they are committed.
    async fn notification_created(
        &self,
        ctx: &Context<'_>,
    ) -> Result<impl Stream<Item = async_graphql::Result<Notification>>, ApiError> {
        let who = identity(ctx)?.clone();
        let app = state(ctx).clone();
        let mut events = app.bus.subscribe();
        Ok(async_stream::stream! {
            let _counted = Counted::new(&app);
            let mut viewer = Viewer::new(who.clone());
            let mut last_sent: Option<i64> = None;
            loop {
                let event = match events.recv().await {
                    Ok(event) => event,
                    Err(RecvError::Closed) => break,
                    Err(RecvError::Lagged(_)) => {
                        // Fell behind: replay from the table what came after
                        // the last one sent, rather than drop anything.
                        match replay_after(&app.db, &who, last_sent).await {
                            Ok(nodes) => for node in nodes {
                                last_sent = Some(node.row.id);
                                yield Ok(node);
                            },
                            Err(e) => { yield Err(ApiError::from(e).into()); break; }
                        }
                        continue;
                    }
                };
                viewer.observe(&event);
                let Some(row) = created(&event) else { continue };
                match node_for(&mut viewer, &app, &event, &row).await {
                    Ok(Some(node)) => {
                        last_sent = Some(node.row.id);
                        yield Ok(node);
                    }
                    Ok(None) => {}
                    Err(e) => { yield Err(ApiError::from(e).into()); break; }
                }
            }
        })
    }

    /// Ids of deleted notifications the subscriber could see.
    async fn notification_deleted(
        &self,
        ctx: &Context<'_>,
    ) -> Result<impl Stream<Item = async_graphql::Result<ID>>, ApiError> {
        let who = identity(ctx)?.clone();
        let app = state(ctx).clone();
        let mut events = app.bus.subscribe();
        Ok(async_stream::stream! {
            let _counted = Counted::new(&app);
            let mut viewer = Viewer::new(who);
            loop {
                let event = match events.recv().await {
                    Ok(event) => event,
                    Err(RecvError::Closed) => break,
                    Err(RecvError::Lagged(n)) => {
                        // Deleted rows cannot be read back: say so and end,
                        // so the client reloads its list and subscribes again.
                        yield Err(async_graphql::Error::new(format!("fell behind by {n} events; reload and subscribe again")));
                        break;
                    }
                };
                viewer.observe(&event);
                if event.kind != EventKind::NotificationDeleted {
                    continue;
                }
                match viewer.visibility_of(&app.db, &event).await {
                    Ok(Visibility::Hidden) => {}
                    Ok(_) => if let Some(id) = event.notification_id { yield Ok(to_id(id)) },
                    Err(e) => { yield Err(ApiError::from(e).into()); break; }
                }
            }
        })
    }

    /// The subscriber's unviewed count: the current value first, then every
    /// change (new or deleted notifications, marks from any tab, memberships).
    async fn unviewed_notification_count(
        &self,
        ctx: &Context<'_>,
    ) -> Result<impl Stream<Item = async_graphql::Result<i64>>, ApiError> {
        let who = identity(ctx)?.clone();
        let app = state(ctx).clone();
        let mut events = app.bus.subscribe();
        let first = notifications::unviewed_count(&app.db, &who).await? as i64;
        Ok(async_stream::stream! {
            let _counted = Counted::new(&app);
            let mut viewer = Viewer::new(who.clone());
            let mut current = first;
            yield Ok(current);
            loop {
                let relevant = match events.recv().await {
                    Ok(event) => count_may_change(&mut viewer, &app, &event).await,
                    Err(RecvError::Closed) => break,
                    // Whatever was missed, the count is read again.
                    Err(RecvError::Lagged(_)) => true,
                };
                if !relevant {
                    continue;
                }
                match notifications::unviewed_count(&app.db, &who).await {
                    Ok(n) if n as i64 != current => {
                        current = n as i64;
                        yield Ok(current);
                    }
                    Ok(_) => {}
                    Err(e) => { yield Err(ApiError::from(e).into()); break; }
                }
            }
        })
    }
}

/// The node a subscriber receives, built from what the publisher loaded
/// once: no query per subscriber but a role lookup it has not cached yet.
async fn node_for(
    viewer: &mut Viewer,
    app: &AppState,
    event: &LiveEvent,
    row: &notification::Model,
) -> Result<Option<Notification>, AppError> {
    let visibility = viewer.visibility_of(&app.db, event).await?;
    if visibility == Visibility::Hidden {
        return Ok(None);
    }
    let product = match &event.product {
        Some(p) => Some(Product {
            row: (**p).clone(),
            role: viewer.role_on(&app.db, p.id).await?,
        }),
        None => None,
    };
    Ok(Some(Notification {
        row: row.clone(),
        visibility,
        // Nobody has viewed a notification that was just created.
        viewed: false,
        product,
        user: event.user.as_deref().cloned(),
    }))
}

fn created(event: &LiveEvent) -> Option<Arc<notification::Model>> {
    (event.kind == EventKind::NotificationCreated)
        .then(|| event.notification.clone())
        .flatten()
}

/// Whether `event` can change the viewer's unviewed count.
async fn count_may_change(viewer: &mut Viewer, app: &AppState, event: &LiveEvent) -> bool {
    if viewer.observe(event) {
        return true;
    }
    match event.kind {
        EventKind::Viewed => event.user_id == Some(viewer.who.user_id()),
        EventKind::NotificationCreated | EventKind::NotificationDeleted => {
            !matches!(viewer.visibility_of(&app.db, event).await, Ok(Visibility::Hidden))
        }
        EventKind::Membership | EventKind::Resync => false,
    }
}

/// Visible notifications after `after`, oldest first.
async fn replay_after(
    db: &sea_orm::DatabaseConnection,
    who: &crate::auth::Identity,
    after: Option<i64>,
) -> Result<Vec<Notification>, AppError> {
    let mut query = notification::Entity::find().filter(notifications::visible_condition(who));
    if let Some(after) = after {
        query = query.filter(notification::Column::Id.gt(after));
    }
    let rows = query
        .order_by_asc(notification::Column::Id)
        .limit(RESYNC_LIMIT)
        .all(db)
        .await?;
    load_nodes(db, who, rows).await
}
