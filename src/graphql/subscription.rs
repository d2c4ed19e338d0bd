//! Live subscriptions. Each subscriber receives what `notifications` would
//! show it at that moment: visibility is decided per event, from roles
//! read again after any membership change.

use std::sync::Arc;

use async_graphql::{Context, ID, Subscription};
use futures_util::{Stream, StreamExt, stream};
use tokio::sync::broadcast::error::RecvError;

use crate::domain::notification::Visibility;
use crate::error::AppError;
use crate::graphql::context::{identity, state, to_id};
use crate::graphql::error::ApiError;
use crate::graphql::notifications::Notification;
use crate::graphql::types::Product;
use crate::graphql::viewer::depends_on_viewer;
use crate::live::fanout::{Rendering, Slot};
use crate::live::viewer::Viewer;
use crate::live::{EventKind, LiveEvent};
use crate::service::notifications;
use crate::state::AppState;

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
    /// Runs over `/graphql/ws` only, where the live fan-out executes each
    /// notification once per query and viewer class (see `live::fanout`).
    async fn notification_created(
        &self,
        ctx: &Context<'_>,
    ) -> Result<impl Stream<Item = async_graphql::Result<Notification>>, ApiError> {
        identity(ctx)?;
        if let Some(rendering) = ctx.data_opt::<Rendering>() {
            let node = rendered(rendering);
            return Ok(stream::iter([Ok(node)]).left_stream());
        }
        let Some(slot) = ctx.data_opt::<Arc<Slot>>() else {
            return Err(AppError::invalid("notificationCreated", "subscribe over the websocket at /graphql/ws").into());
        };
        slot.register(&state(ctx).fanout, depends_on_viewer(&slot.operation.query))
            .map_err(|refused| AppError::invalid("notificationCreated", refused))?;
        // The fan-out sends the results; this stream has nothing to add.
        Ok(stream::empty().right_stream())
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
                    Ok(_) => if let Some(id) = event.notification_id {
                        // After the fan-out has queued everything before it,
                        // so a deletion never overtakes its creation.
                        app.fanout.caught_up_with(event.id).await;
                        yield Ok(to_id(id))
                    },
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
        // Events `as_of` saw are in the first count already.
        let (first, mut as_of) = notifications::unviewed_count_as_of(&app.db, &who).await?;
        Ok(async_stream::stream! {
            let _counted = Counted::new(&app);
            let mut viewer = Viewer::new(who.clone());
            let mut current = first as i64;
            yield Ok(current);
            loop {
                let change = match events.recv().await {
                    Ok(event) if as_of.includes(event.id, event.xid) => {
                        viewer.observe(&event);
                        continue;
                    }
                    Ok(event) => count_change(&mut viewer, &app, &event).await,
                    Err(RecvError::Closed) => break,
                    // Whatever was missed, the count is read again.
                    Err(RecvError::Lagged(_)) => CountChange::Reread,
                };
                match change {
                    CountChange::Unchanged => {}
                    // A new notification is unviewed by everyone: no query.
                    CountChange::OneMore => {
                        current += 1;
                        yield Ok(current);
                    }
                    CountChange::Reread => match notifications::unviewed_count_as_of(&app.db, &who).await {
                        Ok((n, at)) => {
                            as_of = at;
                            if n as i64 != current {
                                current = n as i64;
                                yield Ok(current);
                            }
                        }
                        Err(e) => { yield Err(ApiError::from(e).into()); break; }
                    },
                }
            }
        })
    }
}

/// The notification a fan-out request carries, as this schema's type.
fn rendered(rendering: &Rendering) -> Notification {
    let row = rendering.event.notification.as_deref().cloned();
    Notification {
        row: row.expect("the fan-out renders created notifications only"),
        visibility: rendering.visibility,
        role: rendering.role,
        // Nobody has viewed a notification that was just created.
        viewed: false,
        product: rendering.event.product.as_deref().map(|p| Product {
            row: p.clone(),
            role: rendering.role,
        }),
        user: rendering.event.user.as_deref().cloned(),
    }
}

/// What an event does to the viewer's unviewed count.
enum CountChange {
    Unchanged,
    OneMore,
    /// It may have changed in a way only the database knows.
    Reread,
}

async fn count_change(viewer: &mut Viewer, app: &AppState, event: &LiveEvent) -> CountChange {
    if viewer.observe(event) {
        return CountChange::Reread;
    }
    match event.kind {
        EventKind::Viewed if event.user_id == Some(viewer.who.user_id()) => CountChange::Reread,
        EventKind::NotificationCreated | EventKind::NotificationDeleted => {
            match viewer.visibility_of(&app.db, event).await {
                Ok(Visibility::Hidden) => CountChange::Unchanged,
                Ok(_) if event.kind == EventKind::NotificationCreated => CountChange::OneMore,
                // A deleted one may have been viewed; and a role that could
                // not be read: only the database knows.
                _ => CountChange::Reread,
            }
        }
        _ => CountChange::Unchanged,
    }
}
