//! What one subscriber may see of an event, with its roles cached until a
//! membership change concerns it.

use std::collections::HashMap;

use sea_orm::{DatabaseConnection, EntityTrait};

use super::{EventKind, LiveEvent};
use crate::auth::Identity;
use crate::domain::notification::{Visibility, visibility};
use crate::domain::{NotificationType, Role};
use crate::entity::product;
use crate::error::AppResult;
use crate::store::access;

pub struct Viewer {
    pub who: Identity,
    roles: HashMap<i64, Option<Role>>,
}

impl Viewer {
    pub fn new(who: Identity) -> Self {
        Self {
            who,
            roles: HashMap::new(),
        }
    }

    /// Drops cached roles when memberships changed for this user (or anyone).
    /// Returns whether the event was such a change.
    pub fn observe(&mut self, event: &LiveEvent) -> bool {
        let concerns_me = matches!(event.kind, EventKind::Membership | EventKind::Resync)
            && event.user_id.is_none_or(|u| u == self.who.user_id());
        if concerns_me {
            self.roles.clear();
        }
        concerns_me
    }

    pub async fn role_on(&mut self, db: &DatabaseConnection, product_id: i64) -> AppResult<Option<Role>> {
        if let Some(role) = self.roles.get(&product_id) {
            return Ok(*role);
        }
        let role = match product::Entity::find_by_id(product_id).one(db).await? {
            Some(p) => access::product_role(db, &self.who, &p).await?,
            None => None,
        };
        self.roles.insert(product_id, role);
        Ok(role)
    }

    /// How much of the event's notification this subscriber may see.
    pub async fn visibility_of(&mut self, db: &DatabaseConnection, event: &LiveEvent) -> AppResult<Visibility> {
        let Some(kind) = event.notification_type else {
            return Ok(Visibility::Hidden);
        };
        if self.who.is_admin() {
            return Ok(Visibility::Full);
        }
        let role = match event.product_id {
            Some(id) if kind != NotificationType::Exception => self.role_on(db, id).await?,
            _ => None,
        };
        Ok(visibility(kind, false, role))
    }
}
