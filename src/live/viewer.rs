//! What one subscriber may see of an event, with its [`Sight`] kept until a
//! membership change concerns it.

use sea_orm::DatabaseConnection;

use super::{EventKind, LiveEvent};
use crate::auth::Identity;
use crate::domain::notification::Visibility;
use crate::error::AppResult;
use crate::store::sight::Sight;

pub struct Viewer {
    pub who: Identity,
    sight: Option<Sight>,
}

impl Viewer {
    pub fn new(who: Identity) -> Self {
        Self { who, sight: None }
    }

    /// Forgets the sight when memberships changed for this user (or anyone).
    /// Returns whether the event was such a change.
    pub fn observe(&mut self, event: &LiveEvent) -> bool {
        let concerns_me = matches!(event.kind, EventKind::Membership | EventKind::Resync)
            && event.user_id.is_none_or(|u| u == self.who.user_id());
        if concerns_me {
            self.sight = None;
        }
        concerns_me
    }

    /// How much of the event's notification this subscriber may see.
    pub async fn visibility_of(&mut self, db: &DatabaseConnection, event: &LiveEvent) -> AppResult<Visibility> {
        let Some(kind) = event.notification_type else {
            return Ok(Visibility::Hidden);
        };
        let sight = match &mut self.sight {
            Some(sight) => sight,
            empty => empty.insert(Sight::of(db, &self.who).await?),
        };
        Ok(sight.visibility(kind, event.product_id))
    }
}
