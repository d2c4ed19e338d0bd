//! Limits on what one GraphQL document may ask for, and the codes of the
//! errors GraphQL itself raises.
//!
//! - Cost: every field costs 1 plus what it selects, and a list field costs
//!   what one item selects times the list's nominal size (`complexity` on
//!   each list field, see [`list_cost`]), so nested lists multiply; a
//!   field that reads the database costs [`READ_COST`] more. A
//!   document over [`MAX_COMPLEXITY`](super::MAX_COMPLEXITY) is refused
//!   before anything runs.
//! - Aliases let a client repeat an expensive field under different names;
//!   they are counted with every fragment spread out as often as it is
//!   spread, and a fragment that spreads itself is refused, not followed.
//! - A subscription selects exactly one root field (the GraphQL spec's
//!   "single root field" rule, which async-graphql does not check; the live
//!   fan-out relies on it).
//! - Every error has `extensions.code`: errors from parsing, validation and
//!   input coercion come from async-graphql without one.

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex};

use async_graphql::extensions::{
    Extension, ExtensionContext, ExtensionFactory, NextExecute, NextParseQuery, NextRequest, NextSubscribe,
    NextValidation,
};
use async_graphql::futures_util::stream::{BoxStream, StreamExt};
use async_graphql::parser::Pos;
use async_graphql::parser::types::{DocumentOperations, ExecutableDocument, OperationType, Selection, SelectionSet};
use async_graphql::{Response, ServerError, ServerResult, ValidationResult, Value as GqlValue, Variables};

use super::MAX_COMPLEXITY;

/// The most aliased fields one document may contain, fragments spread out.
pub const MAX_ALIASES: usize = 30;

/// The most fields one document may select once its fragments are spread
/// out. Every field costs at least 1, so no document past this fits the
/// budget anyway; refusing it while parsing keeps validation (which walks
/// each spread again) from doing exponential work first.
pub const MAX_FIELDS: usize = MAX_COMPLEXITY;

/// Nominal sizes of lists, for the cost of a query: not limits on the data,
/// but what a query is charged per item it may get back.
pub mod nominal {
    /// `Query.products`: the products the caller sees.
    pub const PRODUCTS: usize = 50;
    /// `ProductGroup.products`.
    pub const GROUP_PRODUCTS: usize = 20;
    /// `Query.productGroups`.
    pub const PRODUCT_GROUPS: usize = 20;
    /// `Product.members`, `ProductGroup.members`.
    pub const MEMBERS: usize = 20;
    /// `Product.observations`.
    pub const OBSERVATIONS: usize = 50;
    /// `Query.users`.
    pub const USERS: usize = 100;
    /// `Query.apiTokens`.
    pub const API_TOKENS: usize = 10;
    /// `Notification.deliveries`: one per recipient.
    pub const DELIVERIES: usize = 10;
    /// `Delivery.history`: one per attempt.
    pub const ATTEMPTS: usize = 10;
}

/// What a field that reads the database costs, on top of what it selects:
/// a round trip to the database takes far longer than a column of a row
/// already loaded (which costs 1), and the time a query takes is mostly its
/// round trips.
pub const READ_COST: usize = 20;

/// No single field is charged more than this: async-graphql adds costs up
/// without checking for overflow, and in a release build an overflow would
/// wrap round to a small cost and let the document through.
const MAX_FIELD_COST: usize = u32::MAX as usize;

/// The cost of a list field that reads the database: the read, plus what
/// one item selects times `size`.
pub fn list_cost(size: usize, child_complexity: usize) -> usize {
    size.saturating_mul(child_complexity)
        .saturating_add(READ_COST)
        .min(MAX_FIELD_COST)
}

/// The cost of a single object that reads the database.
pub fn read_cost(child_complexity: usize) -> usize {
    child_complexity.saturating_add(READ_COST).min(MAX_FIELD_COST)
}

/// The cost of a page of a connection of `first` items, `first` capped at
/// `max` (the resolver refuses more).
pub fn page_cost(first: Option<i32>, default: i32, max: i32, child_complexity: usize) -> usize {
    let first = first.unwrap_or(default).clamp(0, max);
    list_cost(usize::try_from(first).unwrap_or(0), child_complexity)
}

/// What a document selects once every fragment is spread where it is used.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Expanded {
    pub fields: usize,
    pub aliases: usize,
}

impl Expanded {
    fn add(self, other: Expanded) -> Expanded {
        Expanded {
            fields: self.fields.saturating_add(other.fields),
            aliases: self.aliases.saturating_add(other.aliases),
        }
    }
}

/// A fragment that spreads itself, directly or through others.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FragmentCycle(pub String);

struct Expander<'a> {
    document: &'a ExecutableDocument,
    /// Each fragment is counted once and remembered, so a chain of
    /// fragments each spreading the next twice takes linear time.
    done: HashMap<&'a str, Expanded>,
    in_progress: HashSet<&'a str>,
}

impl<'a> Expander<'a> {
    fn set(&mut self, set: &'a SelectionSet) -> Result<Expanded, FragmentCycle> {
        let mut total = Expanded::default();
        for item in &set.items {
            let more = match &item.node {
                Selection::Field(field) => Expanded {
                    fields: 1,
                    aliases: usize::from(field.node.alias.is_some()),
                }
                .add(self.set(&field.node.selection_set.node)?),
                Selection::InlineFragment(fragment) => self.set(&fragment.node.selection_set.node)?,
                Selection::FragmentSpread(spread) => self.fragment(spread.node.fragment_name.node.as_str())?,
            };
            total = total.add(more);
        }
        Ok(total)
    }

    fn fragment(&mut self, name: &'a str) -> Result<Expanded, FragmentCycle> {
        if let Some(done) = self.done.get(name) {
            return Ok(*done);
        }
        // An unknown fragment counts nothing here; validation names it.
        let Some((key, fragment)) = self.document.fragments.get_key_value(name) else {
            return Ok(Expanded::default());
        };
        let key = key.as_str();
        if !self.in_progress.insert(key) {
            return Err(FragmentCycle(name.to_owned()));
        }
        let expanded = self.set(&fragment.node.selection_set.node)?;
        self.in_progress.remove(key);
        self.done.insert(key, expanded);
        Ok(expanded)
    }
}

/// The fields and aliases of every operation in `document`, each fragment
/// counted as often as it is spread.
pub fn expand(document: &ExecutableDocument) -> Result<Expanded, FragmentCycle> {
    let mut expander = Expander {
        document,
        done: HashMap::new(),
        in_progress: HashSet::new(),
    };
    let mut total = Expanded::default();
    for (_, operation) in document.operations.iter() {
        total = total.add(expander.set(&operation.node.selection_set.node)?);
    }
    // Fragments no operation uses are refused by validation, but a cycle
    // among them is refused here, before validation walks their spreads.
    for name in document.fragments.keys() {
        expander.fragment(name.as_str())?;
    }
    Ok(total)
}

/// Aliases in the operations, fragments spread out.
pub fn aliases_in(document: &ExecutableDocument) -> Result<usize, FragmentCycle> {
    expand(document).map(|e| e.aliases)
}

/// The root fields of `set`, fragments expanded; `None` past a depth no
/// real document needs (a fragment cycle, which is refused anyway).
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

/// The codes of errors that GraphQL itself raises.
pub mod code {
    /// The document is not GraphQL.
    pub const PARSE_FAILED: &str = "GRAPHQL_PARSE_FAILED";
    /// The document does not fit the schema or the limits.
    pub const VALIDATION_FAILED: &str = "GRAPHQL_VALIDATION_FAILED";
    /// A value (argument, variable, operation name) does not fit.
    pub const BAD_USER_INPUT: &str = "BAD_USER_INPUT";
}

fn with_code(mut error: ServerError, code: &str) -> ServerError {
    let extensions = error.extensions.get_or_insert_with(Default::default);
    if extensions.get("code").is_none() {
        extensions.set("code", code);
    }
    error
}

fn invalid(message: String) -> ServerError {
    with_code(ServerError::new(message, None), code::VALIDATION_FAILED)
}

/// Refuses a fragment cycle, and a document over the alias or size limit
/// once its fragments are spread out.
fn check_expansion(document: &ExecutableDocument) -> ServerResult<()> {
    let expanded = expand(document).map_err(|FragmentCycle(name)| {
        invalid(format!(
            "the fragment \"{name}\" spreads itself, directly or through other fragments"
        ))
    })?;
    if expanded.aliases > MAX_ALIASES {
        return Err(invalid(format!(
            "the document has {} aliases, counting each fragment as often as it is spread; at most {MAX_ALIASES} are allowed",
            expanded.aliases
        )));
    }
    if expanded.fields > MAX_FIELDS {
        return Err(invalid(format!(
            "the document selects {} fields, counting each fragment as often as it is spread; at most {MAX_FIELDS} are allowed",
            expanded.fields
        )));
    }
    Ok(())
}

/// Refuses, while parsing, documents over the alias and size limits or with
/// a fragment cycle; refuses, after validation, documents over the budget.
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
        // Counted on a parse of our own, before async-graphql's: its check
        // of the nesting depth follows every spread without remembering
        // fragments, which takes 2^20 steps on a chain of 20 fragments that
        // each spread the next twice. A document that does not parse is
        // left to async-graphql to report.
        if let Ok(document) = async_graphql::parser::parse_query(query) {
            check_expansion(&document)?;
        }
        let document = next.run(ctx, query, variables).await?;
        if !subscriptions_have_one_root_field(&document) {
            return Err(invalid("a subscription selects exactly one root field".into()));
        }
        Ok(document)
    }

    async fn validation(
        &self,
        ctx: &ExtensionContext<'_>,
        next: NextValidation<'_>,
    ) -> Result<ValidationResult, Vec<ServerError>> {
        let result = next.run(ctx).await?;
        if result.complexity > MAX_COMPLEXITY {
            let mut error = invalid(format!(
                "the query is too complex: it costs {}, and at most {MAX_COMPLEXITY} is allowed; \
                 select fewer nested lists or ask for smaller pages",
                result.complexity
            ));
            if let Some(extensions) = error.extensions.as_mut() {
                extensions.set("cost", result.complexity as u64);
                extensions.set("maxCost", MAX_COMPLEXITY as u64);
            }
            return Err(vec![error]);
        }
        Ok(result)
    }
}

/// Gives every error GraphQL itself raises an `extensions.code`, by the
/// stage it came from: parsing, validation, or else the request's values
/// (variables that do not coerce, an unknown operation name). Errors from
/// resolvers carry their code already and keep it. Registered first, so
/// that it sees the errors of every other extension.
pub struct ErrorCodes;

impl ExtensionFactory for ErrorCodes {
    fn create(&self) -> Arc<dyn Extension> {
        Arc::new(ErrorCodesExtension::default())
    }
}

/// One per request.
#[derive(Default)]
struct ErrorCodesExtension {
    /// Where the document passes a variable to an argument: async-graphql
    /// checks variables' values during validation, so a value that does not
    /// fit is reported there, at these places (the argument, and the field
    /// whose cost is computed from it).
    variable_uses: Mutex<HashSet<Pos>>,
}

fn collect_variable_uses(set: &SelectionSet, into: &mut HashSet<Pos>) {
    for item in &set.items {
        match &item.node {
            Selection::Field(field) => {
                for (name, value) in &field.node.arguments {
                    // Making it constant fails where a variable is used.
                    let uses_variable = value.node.clone().into_const_with(|_| Err::<GqlValue, ()>(())).is_err();
                    if uses_variable {
                        into.insert(name.pos);
                        into.insert(field.pos);
                    }
                }
                collect_variable_uses(&field.node.selection_set.node, into);
            }
            Selection::InlineFragment(fragment) => collect_variable_uses(&fragment.node.selection_set.node, into),
            Selection::FragmentSpread(_) => {}
        }
    }
}

impl ErrorCodesExtension {
    /// A validation error caused by a variable's value rather than by the
    /// document (the messages are async-graphql's).
    fn is_about_a_value(&self, error: &ServerError) -> bool {
        let uses = self.variable_uses.lock().unwrap_or_else(|e| e.into_inner());
        (error.message.starts_with("Invalid value for argument") || error.message.starts_with("Expected input type"))
            && !error.locations.is_empty()
            && error.locations.iter().all(|pos| uses.contains(pos))
    }
}

fn coded(mut response: Response) -> Response {
    response.errors = std::mem::take(&mut response.errors)
        .into_iter()
        .map(|e| with_code(e, code::BAD_USER_INPUT))
        .collect();
    response
}

#[async_trait::async_trait]
impl Extension for ErrorCodesExtension {
    async fn request(&self, ctx: &ExtensionContext<'_>, next: NextRequest<'_>) -> Response {
        coded(next.run(ctx).await)
    }

    /// The websocket path (subscriptions and any operation sent over it).
    fn subscribe<'s>(
        &self,
        ctx: &ExtensionContext<'_>,
        stream: BoxStream<'s, Response>,
        next: NextSubscribe<'_>,
    ) -> BoxStream<'s, Response> {
        next.run(ctx, stream).map(coded).boxed()
    }

    async fn parse_query(
        &self,
        ctx: &ExtensionContext<'_>,
        query: &str,
        variables: &Variables,
        next: NextParseQuery<'_>,
    ) -> ServerResult<ExecutableDocument> {
        let document = next.run(ctx, query, variables).await.map_err(|e| {
            // The parser's limit on nesting (fragment spreads followed)
            // is a limit like the depth, not a syntax error.
            let code = if e.message.starts_with("The recursion depth of the query") {
                code::VALIDATION_FAILED
            } else {
                code::PARSE_FAILED
            };
            with_code(e, code)
        })?;
        let mut uses = HashSet::new();
        for (_, operation) in document.operations.iter() {
            collect_variable_uses(&operation.node.selection_set.node, &mut uses);
        }
        for fragment in document.fragments.values() {
            collect_variable_uses(&fragment.node.selection_set.node, &mut uses);
        }
        *self.variable_uses.lock().unwrap_or_else(|e| e.into_inner()) = uses;
        Ok(document)
    }

    async fn validation(
        &self,
        ctx: &ExtensionContext<'_>,
        next: NextValidation<'_>,
    ) -> Result<ValidationResult, Vec<ServerError>> {
        next.run(ctx).await.map_err(|errors| {
            errors
                .into_iter()
                .map(|e| {
                    let code = if self.is_about_a_value(&e) {
                        code::BAD_USER_INPUT
                    } else {
                        code::VALIDATION_FAILED
                    };
                    with_code(e, code)
                })
                .collect()
        })
    }
}

/// What `query` costs (when validation gets that far), and the errors the
/// schema answers it with, without running anything: for tests, and for
/// anyone who wants to know how close a query is to the budget.
pub async fn cost_of(query: &str, variables: Variables) -> (Option<usize>, Vec<ServerError>) {
    let probe = CostProbe::default();
    let schema = super::schema_builder().extension(probe.clone()).finish();
    let response = schema
        .execute(async_graphql::Request::new(query).variables(variables))
        .await;
    let cost = *probe.0.lock().unwrap_or_else(|e| e.into_inner());
    (cost, response.errors)
}

/// Records the cost validation computed (before the budget is applied)
/// and runs nothing.
#[derive(Clone, Default)]
struct CostProbe(Arc<Mutex<Option<usize>>>);

impl ExtensionFactory for CostProbe {
    fn create(&self) -> Arc<dyn Extension> {
        Arc::new(self.clone())
    }
}

#[async_trait::async_trait]
impl Extension for CostProbe {
    async fn validation(
        &self,
        ctx: &ExtensionContext<'_>,
        next: NextValidation<'_>,
    ) -> Result<ValidationResult, Vec<ServerError>> {
        let result = next.run(ctx).await?;
        *self.0.lock().unwrap_or_else(|e| e.into_inner()) = Some(result.complexity);
        Ok(result)
    }

    async fn execute(&self, _: &ExtensionContext<'_>, _: Option<&str>, _: NextExecute<'_>) -> Response {
        Response::new(GqlValue::Null)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(q: &str) -> ExecutableDocument {
        async_graphql::parser::parse_query(q).unwrap()
    }

    #[test]
    fn a_subscription_selects_exactly_one_root_field() {
        let one = |q: &str| subscriptions_have_one_root_field(&parse(q));
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
        let doc = parse(
            "query { a: me { id } b: me { x: id } ...F ... on Query { c: me { id } } } fragment F on Query { d: me { id } }",
        );
        assert_eq!(aliases_in(&doc), Ok(5));
        assert_eq!(aliases_in(&parse("{ me { id } }")), Ok(0));
    }

    #[test]
    fn a_fragment_counts_as_often_as_it_is_spread() {
        let doc = parse("{ ...F ...F me { ...F } } fragment F on Query { a: me { id } b: me { id } }");
        assert_eq!(aliases_in(&doc), Ok(6));
        // Spread inside a fragment that is itself spread twice: 2 × 3 × 1.
        let doc = parse("{ ...A ...A } fragment A on Query { ...B ...B ...B } fragment B on Query { x: me { id } }");
        assert_eq!(aliases_in(&doc), Ok(6));
        assert_eq!(expand(&doc).unwrap(), Expanded { fields: 12, aliases: 6 });
    }

    #[test]
    fn a_chain_of_doubling_fragments_is_counted_without_walking_it() {
        let mut query = String::from("{ ...F0 }");
        for i in 0..200 {
            query.push_str(&format!(" fragment F{i} on Query {{ ...F{n} ...F{n} }}", n = i + 1));
        }
        query.push_str(" fragment F200 on Query { a: me { id } }");
        let expanded = expand(&parse(&query)).unwrap();
        assert_eq!(expanded.aliases, usize::MAX, "2^200 saturates");
    }

    #[test]
    fn a_fragment_cycle_is_refused_not_followed() {
        let cycle = |q: &str| expand(&parse(q)).err();
        assert_eq!(
            cycle("{ ...F } fragment F on Query { me { id } ...F }"),
            Some(FragmentCycle("F".into()))
        );
        assert!(
            cycle(
                "{ ...A } fragment A on Query { ...B } fragment B on Query { me { ...C } } fragment C on User { ...A }"
            )
            .is_some()
        );
        assert!(
            cycle("{ me { id } } fragment U on Query { ...U }").is_some(),
            "also in a fragment no operation spreads"
        );
        assert_eq!(
            cycle("{ ...A ...B } fragment A on Query { ...B } fragment B on Query { me { id } }"),
            None
        );
    }

    #[test]
    fn a_list_costs_its_items_times_its_nominal_size_without_overflowing() {
        assert_eq!(list_cost(20, 3), 60 + READ_COST);
        assert_eq!(list_cost(20, 0), READ_COST);
        assert_eq!(list_cost(usize::MAX, usize::MAX), MAX_FIELD_COST);
        assert_eq!(read_cost(usize::MAX), MAX_FIELD_COST);
        assert_eq!(page_cost(None, 25, 100, 2), 50 + READ_COST);
        assert_eq!(page_cost(Some(1000), 25, 100, 2), 200 + READ_COST, "first is capped");
        assert_eq!(page_cost(Some(-5), 25, 100, 2), READ_COST);
    }
}
