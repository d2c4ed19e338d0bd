//! Limits on what one GraphQL document may ask for, beyond depth and
//! complexity: aliases let a client repeat an expensive field many times
//! under different names.

use std::sync::Arc;

use async_graphql::extensions::{Extension, ExtensionContext, ExtensionFactory, NextParseQuery};
use async_graphql::parser::types::{DocumentOperations, ExecutableDocument, Selection, SelectionSet};
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

pub struct AliasLimit;

impl ExtensionFactory for AliasLimit {
    fn create(&self) -> Arc<dyn Extension> {
        Arc::new(AliasLimitExtension)
    }
}

struct AliasLimitExtension;

#[async_trait::async_trait]
impl Extension for AliasLimitExtension {
    async fn parse_query(
        &self,
        ctx: &ExtensionContext<'_>,
        query: &str,
        variables: &Variables,
        next: NextParseQuery<'_>,
    ) -> ServerResult<ExecutableDocument> {
        let document = next.run(ctx, query, variables).await?;
        if aliases_in(&document) > MAX_ALIASES {
            let mut error = ServerError::new(format!("the document has more than {MAX_ALIASES} aliases"), None);
            let mut extensions = async_graphql::ErrorExtensionValues::default();
            extensions.set("code", "BAD_USER_INPUT");
            error.extensions = Some(extensions);
            return Err(error);
        }
        Ok(document)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
