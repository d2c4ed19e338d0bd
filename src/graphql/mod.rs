//! The GraphQL API: thin resolvers over `service`.

pub mod context;
pub mod error;
pub mod inputs;
pub mod limits;
pub mod mutation;
pub mod notifications;
pub mod query;
pub mod subscription;
pub mod types;
pub mod viewer;

use async_graphql::{Schema, SchemaBuilder};

use crate::state::AppState;

pub type HeraldSchema = Schema<query::QueryRoot, mutation::MutationRoot, subscription::SubscriptionRoot>;

/// Deep enough for the SPA and for GraphiQL's introspection query.
pub const MAX_DEPTH: usize = 16;
/// The most a query may cost (see `limits`): the web app's biggest query,
/// the product groups page, costs 3,700 (tests/limits.rs checks them all);
/// GraphiQL's introspection 181; a group's products inside a group's
/// products already costs over 9,000.
pub const MAX_COMPLEXITY: usize = 5000;

/// The schema with its limits, before its data is added. Tests add
/// extensions of their own to it.
pub fn schema_builder() -> SchemaBuilder<query::QueryRoot, mutation::MutationRoot, subscription::SubscriptionRoot> {
    Schema::build(query::QueryRoot, mutation::MutationRoot, subscription::SubscriptionRoot)
        .limit_depth(MAX_DEPTH)
        // The cost is checked by `limits::DocumentLimits`, whose error says
        // what the query costs.
        .extension(limits::ErrorCodes)
        .extension(limits::DocumentLimits)
        // Suggestions ("Did you mean …?") would name fields hidden from
        // the schema, such as the fault injection's.
        .disable_suggestions()
}

pub fn schema(state: Option<AppState>) -> HeraldSchema {
    let builder = schema_builder();
    match state {
        Some(state) => builder.data(state).finish(),
        None => builder.finish(),
    }
}

/// The schema in SDL, as checked in at `schema.graphql`: without what only
/// `HERALD_FAULT_INJECTION` adds (async-graphql's SDL export ignores
/// `visible`, so those items are cut here).
pub fn sdl() -> String {
    without_items(&schema(None).sdl(), &["enum FaultKind {", "injectFault("])
}

/// Removes each SDL item (a type block or a field line) that starts with one
/// of `starts`, together with the description just above it.
fn without_items(sdl: &str, starts: &[&str]) -> String {
    let lines: Vec<&str> = sdl.lines().collect();
    let mut keep = vec![true; lines.len()];
    for (i, line) in lines.iter().enumerate() {
        let trimmed = line.trim_start();
        if !starts.iter().any(|s| trimmed.starts_with(s)) {
            continue;
        }
        // The item itself: one line, or a block up to its closing brace.
        let mut end = i;
        if trimmed.ends_with('{') {
            while end < lines.len() && lines[end].trim() != "}" {
                end += 1;
            }
            // And the blank line after the block.
            if end + 1 < lines.len() && lines[end + 1].trim().is_empty() {
                end += 1;
            }
        }
        // Its description: a `"""` block ending right above it.
        let mut start = i;
        if start > 0 && lines[start - 1].trim() == "\"\"\"" {
            start -= 1;
            while start > 0 && lines[start - 1].trim() != "\"\"\"" {
                start -= 1;
            }
            start = start.saturating_sub(1);
        } else if start > 0 && lines[start - 1].trim_start().starts_with("\"\"\"") {
            start -= 1;
        }
        keep[start..=end.min(lines.len() - 1)]
            .iter_mut()
            .for_each(|k| *k = false);
    }
    let mut out: String = lines
        .iter()
        .zip(keep)
        .filter(|(_, k)| *k)
        .map(|(l, _)| format!("{l}\n"))
        .collect();
    if !sdl.ends_with('\n') {
        out.pop();
    }
    out
}
