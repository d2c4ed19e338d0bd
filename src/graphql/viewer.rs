//! Which fields of a `notificationCreated` result depend on who asks
//! beyond administrator-or-not and the role on the notification's product.
//! The live fan-out executes a query once per such class of viewers, and
//! on its own for each user when the query selects one of these fields.

use async_graphql::parser::types::{DocumentOperations, Selection, SelectionSet};

/// Fields whose value depends on the viewer beyond administrator-or-not and
/// the role on the notification's product: a user's email (shown to that
/// user and to administrators), anything about a product group (the
/// viewer's own role on it, and the group's products they see), and a
/// delivery's target (whole only for who may read the group's setting it
/// may have come from). The test
/// `every_field_reachable_from_a_notification_is_classified` keeps this list
/// honest when the schema grows.
pub const VIEWER_FIELDS: &[&str] = &["email", "productGroup", "target"];

/// Whether `query` selects a field of [`VIEWER_FIELDS`] anywhere (in any
/// operation or fragment: an over-approximation, which is safe). A query
/// that does not parse is treated as viewer-dependent.
pub fn depends_on_viewer(query: &str) -> bool {
    fn selects(set: &SelectionSet) -> bool {
        set.items.iter().any(|item| match &item.node {
            Selection::Field(field) => {
                VIEWER_FIELDS.contains(&field.node.name.node.as_str()) || selects(&field.node.selection_set.node)
            }
            Selection::InlineFragment(fragment) => selects(&fragment.node.selection_set.node),
            // Named fragments are looked at below, on their own.
            Selection::FragmentSpread(_) => false,
        })
    }
    let Ok(document) = async_graphql::parser::parse_query(query) else {
        return true;
    };
    let operations = match &document.operations {
        DocumentOperations::Single(op) => selects(&op.node.selection_set.node),
        DocumentOperations::Multiple(ops) => ops.values().any(|op| selects(&op.node.selection_set.node)),
    };
    operations || document.fragments.values().any(|f| selects(&f.node.selection_set.node))
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use super::*;

    #[test]
    fn queries_naming_a_viewer_field_run_per_user() {
        assert!(!depends_on_viewer(
            "subscription { notificationCreated { id name product { id name myRole } } }"
        ));
        assert!(depends_on_viewer(
            "subscription { notificationCreated { user { email } } }"
        ));
        assert!(depends_on_viewer(
            "subscription { notificationCreated { ...N } } fragment N on Notification { product { productGroup { id } } }"
        ));
        assert!(depends_on_viewer(
            "subscription { notificationCreated { ... on Notification { user { e: email } } } }"
        ));
        assert!(depends_on_viewer(
            "subscription { notificationCreated { deliveries { id target } } }"
        ));
        assert!(depends_on_viewer("subscription {"));
    }

    /// Every field a `notificationCreated` selection can reach must have been
    /// judged: either it depends only on administrator-or-not and the role
    /// on the notification's product (listed here), or it is in
    /// VIEWER_FIELDS. A new field fails this test until someone decides.
    #[test]
    fn every_field_reachable_from_a_notification_is_classified() {
        const ROLE_ONLY: &[&str] = &[
            "Notification.id Notification.type Notification.name Notification.message Notification.createdAt",
            "Notification.product Notification.user Notification.function Notification.arguments",
            "Notification.trace Notification.repeatCount Notification.repeatSince Notification.viewed",
            "Notification.deliveries",
            "Delivery.id Delivery.channel Delivery.status Delivery.attempts",
            "Delivery.nextAttemptAt Delivery.lastError Delivery.lastStatusCode Delivery.history",
            "DeliveryAttempt.attemptedAt DeliveryAttempt.durationMs DeliveryAttempt.outcome",
            "DeliveryAttempt.statusCode DeliveryAttempt.response DeliveryAttempt.error",
            "Product.id Product.name Product.description Product.securityGate Product.securityGateActive",
            "Product.thresholds Product.notificationEmailTo Product.notificationMsTeamsWebhook",
            "Product.notificationSlackWebhook Product.members Product.myRole Product.openObservationCounts",
            "Product.observations Product.createdAt",
            "ProductMember.user ProductMember.role",
            "User.id User.username User.fullName User.isAdmin",
            "Observation.id Observation.productId Observation.scanner Observation.fingerprint",
            "Observation.title Observation.severity Observation.status Observation.createdAt Observation.updatedAt",
            "Thresholds.critical Thresholds.high Thresholds.medium Thresholds.low Thresholds.none Thresholds.unknown",
        ];
        let judged: std::collections::HashSet<&str> =
            ROLE_ONLY.iter().flat_map(|line| line.split_whitespace()).collect();
        let sdl = crate::graphql::schema(None).sdl();
        let document = async_graphql::parser::parse_schema(&sdl).expect("the schema parses");
        let objects: HashMap<String, Vec<(String, String)>> = document
            .definitions
            .iter()
            .filter_map(|d| match d {
                async_graphql::parser::types::TypeSystemDefinition::Type(t) => match &t.node.kind {
                    async_graphql::parser::types::TypeKind::Object(o) => Some((
                        t.node.name.node.to_string(),
                        o.fields
                            .iter()
                            .map(|f| {
                                let ty = f.node.ty.node.to_string();
                                let base = ty.trim_matches(|c| c == '[' || c == ']' || c == '!').to_owned();
                                (f.node.name.node.to_string(), base)
                            })
                            .collect(),
                    )),
                    _ => None,
                },
                _ => None,
            })
            .collect();
        let mut unjudged = Vec::new();
        let mut seen = std::collections::HashSet::new();
        let mut queue = vec!["Notification".to_owned()];
        while let Some(name) = queue.pop() {
            if !seen.insert(name.clone()) {
                continue;
            }
            let Some(fields) = objects.get(&name) else { continue };
            for (field, ty) in fields {
                if VIEWER_FIELDS.contains(&field.as_str()) {
                    continue;
                }
                let qualified = format!("{name}.{field}");
                if !judged.contains(qualified.as_str()) {
                    unjudged.push(qualified);
                }
                queue.push(ty.clone());
            }
        }
        for reached in ["Product", "User", "DeliveryAttempt", "Observation", "Thresholds"] {
            assert!(seen.contains(reached), "the walk reaches {reached}");
        }
        assert!(
            unjudged.is_empty(),
            "decide whether these depend on the viewer: {unjudged:?}"
        );
    }
}
