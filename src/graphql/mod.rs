//! The GraphQL API: thin resolvers over `service`.

pub mod context;
pub mod error;
pub mod inputs;
pub mod mutation;
pub mod notifications;
pub mod query;
pub mod types;

use async_graphql::{EmptySubscription, Schema};

use crate::state::AppState;

pub type HeraldSchema = Schema<query::QueryRoot, mutation::MutationRoot, EmptySubscription>;

/// Deep enough for the SPA and for GraphiQL's introspection query.
pub const MAX_DEPTH: usize = 16;
pub const MAX_COMPLEXITY: usize = 2000;

pub fn schema(state: Option<AppState>) -> HeraldSchema {
    let builder = Schema::build(query::QueryRoot, mutation::MutationRoot, EmptySubscription)
        .limit_depth(MAX_DEPTH)
        .limit_complexity(MAX_COMPLEXITY);
    match state {
        Some(state) => builder.data(state).finish(),
        None => builder.finish(),
    }
}

/// The schema in SDL, as checked in at `schema.graphql`.
pub fn sdl() -> String {
    schema(None).sdl()
}
