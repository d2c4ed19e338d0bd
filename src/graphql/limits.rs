//! Limits on what one GraphQL document may ask for, beyond depth and
//! complexity: aliases let a client repeat an expensive field many times
//! under different names; and a subscription selects exactly one root
//! field (the GraphQL spec's "single root field" rule, which async-graphql
//! does not check; the live fan-out relies on it).

use std::sync::Arc;

use async_graphql::extensions::{Extension, ExtensionContext, ExtensionFactory, NextParseQuery};
use async_graphql::parser::types::{DocumentOperations, ExecutableDocument, OperationType, Selection, SelectionSet};
use async_graphql::{ServerError, ServerResult, Variables};

/// The most aliased fields one document may contain.
pub const MAX_ALIASES: usize = 30;

fn count_aliases(set: &SelectionSet) -> usize {
    set.items
        .iter()
        .map(|item| match &item.node {
            Selection::Field(field) => {
                usize::from(field.node.alias.is_some()) + count_aliases(&field.node.selection_set.node)
            }
            Selection::InlineFragment(fragment) => count_aliases(&fragment.node.selection_set.node),
            Selection::FragmentSpread(_) => 0,
        })
        .sum()
}

/// Aliases in the operations and in every fragment (each counted once).
pub fn aliases_in(document: &ExecutableDocument) -> usize {
    let operations: usize = match &document.operations {
        DocumentOperations::Single(op) => count_aliases(&op.node.selection_set.node),
        DocumentOperations::Multiple(ops) => ops.values().map(|op| count_aliases(&op.node.selection_set.node)).sum(),
    };
    let fragments: usize = document
        .fragments
        .values()
        .map(|f| count_aliases(&f.node.selection_set.node))
        .sum();
    operations + fragments
}

/// The root fields of `set`, fragments expanded; `None` past a depth no
/// real document needs (a fragment cycle, which validation refuses later).
fn root_fields(document: &ExecutableDocument, set: &SelectionSet, depth: usize) -> Option<usize> {
    if depth > 8 {
        return None;
    }
    set.items.iter().try_fold(0, |n, item| {
        let more = match &item.node {
            Selection::Field(_) => 1,
            Selection::InlineFragment(f) => root_fields(document, &f.node.selection_set.node, depth + 1)?,
            Selection::FragmentSpread(spread) => {
                let fragment = document.fragments.get(&spread.node.fragment_name.node)?;
                root_fields(document, &fragment.node.selection_set.node, depth + 1)?
            }
        };
        Some(n + more)
    })
}

/// Whether every subscription in `document` selects exactly one root field.
pub fn subscriptions_have_one_root_field(document: &ExecutableDocument) -> bool {
    let operations: Vec<_> = match &document.operations {
        DocumentOperations::Single(op) => vec![op],
        DocumentOperations::Multiple(ops) => ops.values().collect(),
    };
    operations
        .into_iter()
        .filter(|op| op.node.ty == OperationType::Subscription)
        .all(|op| root_fields(document, &op.node.selection_set.node, 0) == Some(1))
}

fn bad_input(message: String) -> ServerError {
    let mut error = ServerError::new(message, None);
    let mut extensions = async_graphql::ErrorExtensionValues::default();
    extensions.set("code", "BAD_USER_INPUT");
    error.extensions = Some(extensions);
    error
}

pub struct DocumentLimits;

impl ExtensionFactory for DocumentLimits {
    fn create(&self) -> Arc<dyn Extension> {
        Arc::new(DocumentLimitsExtension)
    }
}

struct DocumentLimitsExtension;

#[async_trait::async_trait]
impl Extension for DocumentLimitsExtension {
    async fn parse_query(
        &self,
        ctx: &ExtensionContext<'_>,
        query: &str,
        variables: &Variables,
        next: NextParseQuery<'_>,
    ) -> ServerResult<ExecutableDocument> {
        let document = next.run(ctx, query, variables).await?;
        if aliases_in(&document) > MAX_ALIASES {
            return Err(bad_input(format!("the document has more than {MAX_ALIASES} aliases")));
        }
        if !subscriptions_have_one_root_field(&document) {
            return Err(bad_input("a subscription selects exactly one root field".into()));
        }
        Ok(document)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_subscription_selects_exactly_one_root_field() {
        let one = |q: &str| subscriptions_have_one_root_field(&async_graphql::parser::parse_query(q).unwrap());
        assert!(one("subscription { notificationCreated { id } }"));
        assert!(one(
            "subscription { ...F } fragment F on Subscription { notificationCreated { id } }"
        ));
        assert!(one("query { a: me { id } b: me { id } }"), "queries may select many");
        assert!(!one("subscription { notificationCreated { id } notificationDeleted }"));
        assert!(!one(
            "subscription { notificationCreated { id } ... on Subscription { notificationDeleted } }"
        ));
        assert!(!one("subscription { ...F } fragment F on Subscription { a b }"));
        assert!(
            !one("subscription { ...F } fragment F on Subscription { ...F }"),
            "a cycle is refused, not followed"
        );
    }

    #[test]
    fn counts_aliases_in_fields_fragments_and_nesting() {
        let doc = async_graphql::parser::parse_query(
            "query { a: me { id } b: me { x: id } ...F ... on Query { c: me { id } } } fragment F on Query { d: me { id } }",
        )
        .unwrap();
        assert_eq!(aliases_in(&doc), 5);
        let none = async_graphql::parser::parse_query("{ me { id } }").unwrap();
        assert_eq!(aliases_in(&none), 0);
    }
}
