//! What one GraphQL request may cost, and how the server answers what it
//! cannot or will not run: the query budget (nested lists multiply), aliases
//! counted through fragments, `extensions.code` on every error, the request
//! body, and no field suggestions.

mod common;

use std::time::{Duration, Instant};

use async_graphql::futures_util::StreamExt;
use herald::graphql::{MAX_COMPLEXITY, schema_builder};
use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use common::{Engine, TestApp, error_code};

/// What `query` costs, measured in-process, and the errors it gets.
async fn cost_of(query: &str, variables: Value) -> (Option<usize>, Vec<async_graphql::ServerError>) {
    herald::graphql::limits::cost_of(query, async_graphql::Variables::from_json(variables)).await
}

/// GraphiQL's introspection query.
const INTROSPECTION: &str = "query IntrospectionQuery { __schema { queryType { name } mutationType { name }
    subscriptionType { name } types { ...FullType } directives { name description locations args { ...InputValue } } } }
  fragment FullType on __Type { kind name description fields(includeDeprecated: true) { name description
    args { ...InputValue } type { ...TypeRef } isDeprecated deprecationReason }
    inputFields { ...InputValue } interfaces { ...TypeRef }
    enumValues(includeDeprecated: true) { name description isDeprecated deprecationReason } possibleTypes { ...TypeRef } }
  fragment InputValue on __InputValue { name description type { ...TypeRef } defaultValue }
  fragment TypeRef on __Type { kind name ofType { kind name ofType { kind name ofType { kind name ofType { kind name
    ofType { kind name ofType { kind name ofType { kind name } } } } } } } }";

/// Every GraphQL document the web app sends: the `graphql(`…`)` literals of
/// frontend/src/queries.ts.
fn spa_documents() -> Vec<String> {
    let source = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/frontend/src/queries.ts")).unwrap();
    source
        .split("graphql(`")
        .skip(1)
        .map(|rest| rest.split('`').next().unwrap().to_owned())
        .collect()
}

#[tokio::test]
async fn every_document_of_the_web_app_and_graphiql_fits_the_budget() {
    let documents = spa_documents();
    assert!(
        documents.len() >= 20,
        "found the web app's documents: {}",
        documents.len()
    );
    let mut costs = Vec::new();
    for document in documents.iter().map(String::as_str).chain([INTROSPECTION]) {
        // The largest page, although the web app asks for 25.
        let (cost, errors) = cost_of(document, json!({ "first": 100 })).await;
        assert!(errors.is_empty(), "{document}\nis refused: {errors:?}");
        let cost = cost.expect("validated");
        assert!(cost <= MAX_COMPLEXITY);
        costs.push((cost, document.split_whitespace().take(2).collect::<Vec<_>>().join(" ")));
    }
    costs.sort();
    // Printed with --nocapture, to see how much room is left.
    println!("{costs:#?}");
}

#[tokio::test]
async fn nested_lists_multiply_and_become_over_budget_within_three_levels() {
    let nest = |levels: usize| {
        (0..levels).fold("id name".to_owned(), |inner, _| {
            format!("products {{ productGroup {{ {inner} }} }}")
        })
    };
    let cost = |levels| {
        let query = format!("{{ productGroup(id: 1) {{ {} }} }}", nest(levels));
        async move { cost_of(&query, json!({})).await }
    };
    let (one, errors) = cost(1).await;
    assert!(errors.is_empty(), "{errors:?}");
    let (two, errors) = cost(2).await;
    assert!(
        two.unwrap() > 10 * one.unwrap(),
        "a list inside a list multiplies: {one:?} {two:?}"
    );
    assert!(two.unwrap() > MAX_COMPLEXITY, "{two:?}");
    assert_eq!(errors.len(), 1);
    assert!(errors[0].message.contains("too complex"), "{}", errors[0].message);

    // A page costs what its items cost times `first`, capped at the largest page.
    let page = |first: i64| async move {
        cost_of(
            "query($n: Int) { notifications(first: $n) { edges { node { id name } } } }",
            json!({ "n": first }),
        )
        .await
        .0
        .unwrap()
    };
    assert_eq!(page(100).await - page(0).await, 100 * (page(1).await - page(0).await));
    assert_eq!(page(100).await, page(1_000_000).await);
}

// ---------------------------------------------------------------------------
// Over HTTP.

/// A product group of 20 products; returns the group's id.
async fn group_of_twenty(app: &TestApp) -> String {
    let group = app
        .ok(
            &app.admin_token,
            "mutation { createProductGroup(input: { name: \"platform\" }) { id } }",
            json!({}),
        )
        .await["createProductGroup"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    for i in 0..20 {
        app.product(
            &app.admin_token,
            json!({ "name": format!("service-{i}"), "productGroupId": group }),
        )
        .await;
    }
    group
}

async fn timed(app: &TestApp, query: &str, variables: Value) -> (Value, Duration) {
    let started = Instant::now();
    let body = app.gql(Some(&app.admin_token), query, variables).await;
    (body, started.elapsed())
}

async fn a_cost_bomb_is_refused_before_it_runs(engine: Engine) {
    let app = TestApp::spawn(engine).await;
    let group = group_of_twenty(&app).await;

    // The query: six levels of a group's products.
    let nested = (0..6).fold("id name".to_owned(), |inner, _| {
        format!("products {{ productGroup {{ {inner} }} }}")
    });
    let bomb = format!("query($g: ID!) {{ productGroup(id: $g) {{ {nested} }} }}");
    let (body, took) = timed(&app, &bomb, json!({ "g": group })).await;
    assert_eq!(error_code(&body), "GRAPHQL_VALIDATION_FAILED", "{body}");
    let message = body["errors"][0]["message"].as_str().unwrap();
    assert!(
        message.contains("too complex") && message.contains(&MAX_COMPLEXITY.to_string()),
        "{message}"
    );
    assert!(body.get("data").is_none_or(Value::is_null), "nothing ran: {body}");
    assert!(took < Duration::from_secs(1), "refused at once: {took:?}");

    // Already the second level is over budget; the first answers, fast.
    let two = (0..2).fold("id".to_owned(), |inner, _| {
        format!("products {{ productGroup {{ {inner} }} }}")
    });
    let (body, _) = timed(
        &app,
        &format!("query($g: ID!) {{ productGroup(id: $g) {{ {two} }} }}"),
        json!({ "g": group }),
    )
    .await;
    assert_eq!(error_code(&body), "GRAPHQL_VALIDATION_FAILED", "{body}");
    let one = "products { id name productGroup { id name } }";
    let (body, took) = timed(
        &app,
        &format!("query($g: ID!) {{ productGroup(id: $g) {{ {one} }} }}"),
        json!({ "g": group }),
    )
    .await;
    assert!(body.get("errors").is_none(), "{body}");
    assert_eq!(body["data"]["productGroup"]["products"].as_array().unwrap().len(), 20);
    assert!(
        took < Duration::from_secs(1),
        "an accepted query answers within 1 s: {took:?}"
    );

    // Thirty aliases of what fits once do not fit.
    let aliased: String = (0..30)
        .map(|i| format!("a{i}: productGroup(id: $g) {{ {one} }} "))
        .collect();
    let (body, _) = timed(&app, &format!("query($g: ID!) {{ {aliased} }}"), json!({ "g": group })).await;
    assert_eq!(error_code(&body), "GRAPHQL_VALIDATION_FAILED", "{body}");
}

async fn aliases_count_once_per_fragment_spread(engine: Engine) {
    let app = TestApp::spawn(engine).await;
    let admin = app.admin_token.clone();
    let sixteen: String = (0..16).map(|i| format!("a{i}: me {{ id }} ")).collect();
    // 16 aliases, spread twice: 32.
    let twice = format!("{{ ...F ...F }} fragment F on Query {{ {sixteen} }}");
    let body = app.gql(Some(&admin), &twice, json!({})).await;
    assert_eq!(error_code(&body), "GRAPHQL_VALIDATION_FAILED", "{body}");
    assert!(
        body["errors"][0]["message"].as_str().unwrap().contains("aliases"),
        "{body}"
    );
    // Through a fragment that spreads another: 16 × 1 × 2.
    let nested = format!("{{ ...G }} fragment G on Query {{ ...F ...F }} fragment F on Query {{ {sixteen} }}");
    let body = app.gql(Some(&admin), &nested, json!({})).await;
    assert_eq!(error_code(&body), "GRAPHQL_VALIDATION_FAILED", "{body}");
    // Spread once, it fits.
    let once = format!("{{ ...F }} fragment F on Query {{ {sixteen} }}");
    assert!(app.gql(Some(&admin), &once, json!({})).await.get("errors").is_none());

    // A cycle is refused, not followed.
    for cycle in [
        "{ ...F } fragment F on Query { me { id } ...F }",
        "{ ...A } fragment A on Query { me { id } ...B } fragment B on Query { ...A }",
    ] {
        let body = app.gql(Some(&admin), cycle, json!({})).await;
        // async-graphql's parser already stops following spreads at a depth
        // of 32; the alias count refuses a cycle too ("spreads itself").
        assert_eq!(error_code(&body), "GRAPHQL_VALIDATION_FAILED", "{body}");
    }
    // A chain of fragments that each spread the next twice: refused while
    // counting, without walking 2^20 spreads.
    let mut chain = String::from("{ ...F0 }");
    for i in 0..20 {
        chain.push_str(&format!(" fragment F{i} on Query {{ ...F{n} ...F{n} }}", n = i + 1));
    }
    chain.push_str(" fragment F20 on Query { me { id } }");
    let (body, took) = timed(&app, &chain, json!({})).await;
    assert_eq!(error_code(&body), "GRAPHQL_VALIDATION_FAILED", "{body}");
    assert!(
        body["errors"][0]["message"].as_str().unwrap().contains("fields"),
        "{body}"
    );
    assert!(took < Duration::from_secs(1), "{took:?}");
}

on_both_engines!(
    a_cost_bomb_is_refused_before_it_runs,
    aliases_count_once_per_fragment_spread
);

// ---------------------------------------------------------------------------
// Error codes. These are protocol checks, the same on either engine.

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_error_of_graphql_itself_has_a_code() {
    let app = TestApp::spawn(Engine::Sqlite).await;
    let admin = app.admin_token.clone();
    let deep = (0..9).fold("id".to_owned(), |inner, _| {
        format!("productGroup {{ products {{ {inner} }} }}")
    });
    let cases: &[(&str, &str, Value)] = &[
        ("GRAPHQL_PARSE_FAILED", "{ me { id }", json!({})),
        ("GRAPHQL_PARSE_FAILED", "", json!({})),
        ("GRAPHQL_VALIDATION_FAILED", "{ nope }", json!({})),
        ("GRAPHQL_VALIDATION_FAILED", "{ me { id password } }", json!({})),
        (
            "GRAPHQL_VALIDATION_FAILED",
            "{ notifications(first: \"ten\") { totalCount } }",
            json!({}),
        ),
        (
            "GRAPHQL_VALIDATION_FAILED",
            &format!("{{ products {{ {deep} }} }}"),
            json!({}),
        ),
        (
            "GRAPHQL_VALIDATION_FAILED",
            "query($id: ID!) { me { id } }",
            json!({ "id": "1" }),
        ),
        (
            "BAD_USER_INPUT",
            "query($n: Int) { notifications(first: $n) { totalCount } }",
            json!({ "n": "ten" }),
        ),
        (
            "BAD_USER_INPUT",
            "query($id: ID!) { product(id: $id) { id } }",
            json!({}),
        ),
        (
            "BAD_USER_INPUT",
            "query($f: NotificationFilter) { notifications(filter: $f) { totalCount } }",
            json!({ "f": { "type": "NOT_A_TYPE" } }),
        ),
    ];
    for (code, query, variables) in cases {
        let body = app.gql(Some(&admin), query, variables.clone()).await;
        let errors = body["errors"]
            .as_array()
            .unwrap_or_else(|| panic!("{query}: expected an error, got {body}"));
        for error in errors {
            assert_eq!(error["extensions"]["code"], *code, "{query}: {body}");
        }
    }

    // An operation name the document does not have.
    let response = app
        .http
        .post(format!("{}/graphql", app.base))
        .bearer_auth(&admin)
        .json(&json!({ "query": "query A { me { id } }", "operationName": "B" }))
        .send()
        .await
        .unwrap();
    let body: Value = response.json().await.unwrap();
    assert!(body["errors"][0]["extensions"]["code"].is_string(), "{body}");
}

#[tokio::test]
async fn errors_over_the_websocket_path_have_codes_too() {
    // The websocket handler runs the same schema through `execute_stream`.
    let schema = schema_builder().finish();
    for (code, query) in [
        ("GRAPHQL_PARSE_FAILED", "subscription {"),
        ("GRAPHQL_VALIDATION_FAILED", "subscription { nope }"),
        (
            "GRAPHQL_VALIDATION_FAILED",
            "subscription { notificationDeleted unviewedNotificationCount }",
        ),
    ] {
        let response = schema.execute_stream(query).next().await.unwrap();
        assert_eq!(response.errors.len(), 1, "{query}");
        let extensions = response.errors[0].extensions.as_ref().expect("extensions");
        assert_eq!(
            extensions.get("code"),
            Some(&async_graphql::Value::from(code)),
            "{query}"
        );
    }
}

/// Sends `body` as it is (not through serde) and returns status and body.
async fn post_raw(app: &TestApp, body: Vec<u8>) -> (u16, Value) {
    let response = app
        .http
        .post(format!("{}/graphql", app.base))
        .header("content-type", "application/json")
        .bearer_auth(&app.admin_token)
        .body(body)
        .send()
        .await
        .unwrap();
    let status = response.status().as_u16();
    (status, response.json().await.unwrap_or(Value::Null))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_body_that_is_not_a_graphql_request_gets_a_message_meant_for_people() {
    let app = TestApp::spawn(Engine::Sqlite).await;
    for (body, says) in [
        (b"{\"query\": ".to_vec(), "not a GraphQL request in JSON"),
        (b"not json".to_vec(), "not a GraphQL request in JSON"),
        (b"{\"query\": [1, 2]}".to_vec(), "not a GraphQL request in JSON"),
        (
            b"{\"query\": \"{ me { id } }\", \"variables\": 5}".to_vec(),
            "not a GraphQL request in JSON",
        ),
        (b"{\"query\": \"{ me { \xff\xfe } }\"}".to_vec(), "not UTF-8"),
        (
            b"[{\"query\": \"{ me { id } }\"}]".to_vec(),
            "batches are not supported",
        ),
    ] {
        let (status, answer) = post_raw(&app, body.clone()).await;
        assert_eq!(status, 400, "{}: {answer}", String::from_utf8_lossy(&body));
        let message = answer["errors"][0]["message"]
            .as_str()
            .unwrap_or_else(|| panic!("{answer}"));
        assert!(message.contains(says), "{message}");
        // No Rust debug text such as `InvalidRequest(Error("…", line: 1, column: 10))`.
        assert!(
            !message.contains("InvalidRequest") && !message.contains("Error("),
            "{message}"
        );
        assert_eq!(answer["errors"][0]["extensions"]["code"], "BAD_REQUEST", "{answer}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_body_over_one_mib_gets_413_also_when_chunked() {
    let app = TestApp::spawn(Engine::Sqlite).await;
    let addr = app.base.trim_start_matches("http://").to_owned();
    let mut stream = tokio::net::TcpStream::connect(&addr).await.unwrap();
    let head = format!(
        "POST /graphql HTTP/1.1\r\nhost: {addr}\r\ncontent-type: application/json\r\ntransfer-encoding: chunked\r\nconnection: close\r\n\r\n"
    );
    stream.write_all(head.as_bytes()).await.unwrap();
    // 2 MiB of JSON in 64 KiB chunks; the server may answer and stop reading
    // before the end.
    let chunk = format!("{:x}\r\n{}\r\n", 64 * 1024, " ".repeat(64 * 1024));
    let mut sent = 0;
    for _ in 0..32 {
        if stream.write_all(chunk.as_bytes()).await.is_err() {
            break;
        }
        sent += 1;
    }
    if sent == 32 {
        let _ = stream.write_all(b"0\r\n\r\n").await;
    }
    let mut answer = Vec::new();
    let _ = tokio::time::timeout(Duration::from_secs(5), stream.read_to_end(&mut answer)).await;
    let answer = String::from_utf8_lossy(&answer);
    assert!(answer.starts_with("HTTP/1.1 413"), "{answer}");
    assert!(answer.contains("PAYLOAD_TOO_LARGE"), "{answer}");

    // And with a Content-Length over the limit.
    let (status, _) = post_raw(&app, vec![b' '; 2 * 1024 * 1024]).await;
    assert_eq!(status, 413);
    // Just under the limit is read (and is not a request).
    let (status, _) = post_raw(&app, vec![b' '; 1024 * 1024 - 1]).await;
    assert_eq!(status, 400);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_field_suggestions_name_hidden_fields() {
    let app = TestApp::spawn_with(Engine::Sqlite, |c| c.fault_injection = false).await;
    let admin = app.admin_token.clone();
    for query in [
        "mutation { injectFaul(kind: REQUEST, message: \"x\") }",
        "mutation { injectfault(kind: REQUEST, message: \"x\") }",
        "{ mee { id } }",
    ] {
        let body = app.gql(Some(&admin), query, json!({})).await;
        assert_eq!(error_code(&body), "GRAPHQL_VALIDATION_FAILED", "{body}");
        let message = body["errors"][0]["message"].as_str().unwrap();
        assert!(!message.contains("Did you mean"), "{message}");
        assert!(!message.contains("injectFault"), "{message}");
    }
}
