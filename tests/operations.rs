//! Health, metrics, security headers, CORS and abuse limits of the HTTP
//! surface, against the real server.

mod common;

use common::peers::WebhookServer;
use common::{Engine, TestApp, error_code};
use serde_json::json;

/// The query GraphiQL sends to load the schema (abridged to its deepest part:
/// the nested `ofType` chain).
const INTROSPECTION: &str = "query IntrospectionQuery { __schema { queryType { name } mutationType { name }
    subscriptionType { name } types { ...FullType } directives { name description locations args { ...InputValue } } } }
  fragment FullType on __Type { kind name description fields(includeDeprecated: true) { name description
    args { ...InputValue } type { ...TypeRef } isDeprecated deprecationReason }
    inputFields { ...InputValue } interfaces { ...TypeRef }
    enumValues(includeDeprecated: true) { name description isDeprecated deprecationReason } possibleTypes { ...TypeRef } }
  fragment InputValue on __InputValue { name description type { ...TypeRef } defaultValue }
  fragment TypeRef on __Type { kind name ofType { kind name ofType { kind name ofType { kind name ofType { kind name
    ofType { kind name ofType { kind name ofType { kind name } } } } } } } }";

async fn metric(app: &TestApp, token: Option<&str>) -> (u16, String) {
    let mut request = app.http.get(format!("{}/metrics", app.base));
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    let response = request.send().await.unwrap();
    (response.status().as_u16(), response.text().await.unwrap())
}

/// The value of the sample whose line starts with `prefix`.
fn sample(text: &str, prefix: &str) -> f64 {
    text.lines()
        .find(|l| l.starts_with(prefix))
        .and_then(|l| l.rsplit(' ').next())
        .and_then(|v| v.parse().ok())
        .unwrap_or(0.0)
}

async fn metrics_count_requests_notifications_and_deliveries(engine: Engine) {
    let hooks = WebhookServer::start().await;
    let app = TestApp::spawn_with(engine, |c| c.metrics_token = Some("metrics-token-for-tests".into())).await;
    let admin = app.admin_token.clone();
    assert_eq!(metric(&app, None).await.0, 401, "the token is required when configured");
    assert_eq!(metric(&app, Some("wrong")).await.0, 401);
    let (status, before) = metric(&app, Some("metrics-token-for-tests")).await;
    assert_eq!(status, 200);
    let queries_before = sample(
        &before,
        "herald_graphql_requests_total{operation=\"query\",outcome=\"ok\"}",
    );

    app.ok(&admin, "{ me { id } }", json!({})).await;
    app.gql(Some(&admin), "{ product(id: \"x\") { id } }", json!({})).await;
    let product = app
        .product(
            &admin,
            json!({ "name": "m", "notificationSlackWebhook": hooks.url("/m") }),
        )
        .await;
    app.import(&admin, &product, &[("x", "CRITICAL")]).await;
    hooks.wait_for(1, std::time::Duration::from_secs(10)).await;
    app.eventually("the attempt is counted", || async {
        let text = metric(&app, Some("metrics-token-for-tests")).await.1;
        sample(
            &text,
            "herald_delivery_attempts_total{channel=\"slack\",status=\"sent\"}",
        ) == 1.0
    })
    .await;
    let text = metric(&app, Some("metrics-token-for-tests")).await.1;
    assert_eq!(
        sample(
            &text,
            "herald_graphql_requests_total{operation=\"query\",outcome=\"ok\"}"
        ),
        queries_before + 1.0,
        "{text}"
    );
    assert!(
        sample(
            &text,
            "herald_graphql_requests_total{operation=\"query\",outcome=\"error\"}"
        ) >= 1.0
    );
    assert!(
        sample(
            &text,
            "herald_graphql_requests_total{operation=\"mutation\",outcome=\"ok\"}"
        ) >= 2.0
    );
    assert_eq!(
        sample(&text, "herald_notifications_created_total{type=\"SECURITY_GATE\"}"),
        1.0
    );
    assert!(text.contains("herald_delivery_attempt_duration_seconds_bucket{"));
    assert!(text.contains("herald_graphql_request_duration_seconds_count{operation=\"mutation\"}"));
    assert!(text.contains("herald_outbox_depth 0"));
    assert!(text.contains("herald_db_pool_connections{state=\"idle\"}"));
    assert!(text.contains("herald_rate_limit_suppressed_total 0"));
}

async fn every_response_has_security_headers_and_a_request_id(engine: Engine) {
    let app = TestApp::spawn(engine).await;
    let graphiql = app.http.get(format!("{}/graphql", app.base)).send().await.unwrap();
    let post = app
        .http
        .post(format!("{}/graphql", app.base))
        .json(&json!({ "query": "{ __typename }" }))
        .send()
        .await
        .unwrap();
    for response in [&graphiql, &post] {
        let h = response.headers();
        let csp = h["content-security-policy"].to_str().unwrap();
        assert!(csp.contains("frame-ancestors 'none'"), "{csp}");
        assert_eq!(h["x-content-type-options"], "nosniff");
        assert_eq!(h["x-frame-options"], "DENY");
        assert_eq!(h["x-request-id"].to_str().unwrap().len(), 36, "a UUID per request");
    }
    assert_ne!(graphiql.headers()["x-request-id"], post.headers()["x-request-id"]);
    // A request id sent by a proxy is kept.
    let traced = app
        .http
        .get(format!("{}/healthz", app.base))
        .header("x-request-id", "from-the-proxy")
        .send()
        .await
        .unwrap();
    assert_eq!(traced.headers()["x-request-id"], "from-the-proxy");
}

async fn cors_is_closed_unless_configured(engine: Engine) {
    let preflight = |app: &TestApp, origin: &'static str| {
        app.http
            .request(reqwest::Method::OPTIONS, format!("{}/graphql", app.base))
            .header("origin", origin)
            .header("access-control-request-method", "POST")
            .header("access-control-request-headers", "authorization,content-type")
            .send()
    };
    let closed = TestApp::spawn(engine).await;
    let response = preflight(&closed, "https://evil.example").await.unwrap();
    assert!(response.headers().get("access-control-allow-origin").is_none());

    let open = TestApp::spawn_with(engine, |c| c.cors_origins = vec!["https://herald.example.com".into()]).await;
    let allowed = preflight(&open, "https://herald.example.com").await.unwrap();
    assert_eq!(
        allowed.headers()["access-control-allow-origin"],
        "https://herald.example.com"
    );
    let other = preflight(&open, "https://evil.example").await.unwrap();
    assert!(other.headers().get("access-control-allow-origin").is_none());
}

async fn abuse_limits_refuse_clearly_and_introspection_still_works(engine: Engine) {
    let app = TestApp::spawn(engine).await;
    let admin = app.admin_token.clone();
    let introspection = app.gql(Some(&admin), INTROSPECTION, json!({})).await;
    assert!(
        introspection.get("errors").is_none(),
        "GraphiQL's introspection passes the limits: {introspection}"
    );
    assert!(!introspection.to_string().contains("injectFault") || app.server.state.config.fault_injection);

    let aliases: String = (0..31).map(|i| format!("a{i}: me {{ id }} ")).collect();
    let body = app.gql(Some(&admin), &format!("{{ {aliases} }}"), json!({})).await;
    assert_eq!(error_code(&body), "GRAPHQL_VALIDATION_FAILED");
    assert!(body["errors"][0]["message"].as_str().unwrap().contains("aliases"));
    let fine: String = (0..30).map(|i| format!("a{i}: me {{ id }} ")).collect();
    assert!(
        app.gql(Some(&admin), &format!("{{ {fine} }}"), json!({}))
            .await
            .get("errors")
            .is_none()
    );

    let nested = (0..9).fold("id".to_owned(), |inner, _| {
        format!("productGroup {{ products {{ {inner} }} }}")
    });
    let deep = format!("{{ products {{ {nested} }} }}");
    let body = app.gql(Some(&admin), &deep, json!({})).await;
    assert!(
        body["errors"][0]["message"]
            .as_str()
            .unwrap()
            .contains("nested too deep"),
        "{body}"
    );

    let first = app
        .gql(Some(&admin), "{ notifications(first: 101) { totalCount } }", json!({}))
        .await;
    assert_eq!(error_code(&first), "BAD_USER_INPUT");

    let huge = "x".repeat(2 * 1024 * 1024);
    let response = app
        .http
        .post(format!("{}/graphql", app.base))
        .json(&json!({ "query": "{ me { id } }", "variables": { "pad": huge } }))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 413, "bodies over 1 MiB are refused");
}

async fn fault_injection_is_absent_unless_enabled(engine: Engine) {
    let app = TestApp::spawn_with(engine, |c| c.fault_injection = false).await;
    let admin = app.admin_token.clone();
    let types = app
        .gql(
            Some(&admin),
            "{ __type(name: \"Mutation\") { fields { name } } }",
            json!({}),
        )
        .await;
    assert!(!types.to_string().contains("injectFault"), "hidden from introspection");
    let body = app
        .gql(
            Some(&admin),
            "mutation { injectFault(kind: TASK, message: \"x\") }",
            json!({}),
        )
        .await;
    assert!(body.get("errors").is_some(), "and refused: {body}");
    let list = app.ok(&admin, "{ notifications { totalCount } }", json!({})).await;
    assert_eq!(list["notifications"]["totalCount"], 0);
}

async fn logins_are_throttled_per_username(engine: Engine) {
    let app = TestApp::spawn(engine).await;
    app.user("alice").await;
    let login = "mutation($u: String!, $p: String!) { login(username: $u, password: $p) { token } }";
    for _ in 0..=herald::auth::throttle::SCHEDULE.free {
        let body = app.gql(None, login, json!({ "u": "alice", "p": "wrong" })).await;
        assert_eq!(error_code(&body), "UNAUTHENTICATED");
    }
    let blocked = app
        .gql(None, login, json!({ "u": "alice", "p": common::PASSWORD }))
        .await;
    assert_eq!(
        error_code(&blocked),
        "TOO_MANY_REQUESTS",
        "even the right password waits: {blocked}"
    );
    assert!(
        blocked["errors"][0]["message"]
            .as_str()
            .unwrap()
            .contains("try again in")
    );
    // Other users are not locked out by alice's attacker.
    let admin = app
        .gql(None, login, json!({ "u": "admin", "p": common::ADMIN_PASSWORD }))
        .await;
    assert!(admin.get("errors").is_none(), "{admin}");
}

on_both_engines!(
    metrics_count_requests_notifications_and_deliveries,
    every_response_has_security_headers_and_a_request_id,
    cors_is_closed_unless_configured,
    abuse_limits_refuse_clearly_and_introspection_still_works,
    fault_injection_is_absent_unless_enabled,
    logins_are_throttled_per_username,
);
