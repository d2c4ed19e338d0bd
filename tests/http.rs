//! The HTTP server from outside: the content security policies.

mod common;

use common::{Engine, TestApp};
use serde_json::json;

fn csp(response: &reqwest::Response) -> String {
    response
        .headers()
        .get("content-security-policy")
        .map(|v| v.to_str().unwrap().to_owned())
        .unwrap_or_default()
}

fn assert_strict(what: &str, policy: &str) {
    assert!(policy.contains("script-src 'self';"), "{what}: {policy}");
    assert!(policy.contains("style-src 'self';"), "{what}: {policy}");
    assert!(!policy.contains("unsafe-inline"), "{what}: {policy}");
    assert!(!policy.contains("unpkg"), "{what}: {policy}");
    assert!(policy.contains("frame-ancestors 'none'"), "{what}: {policy}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn only_graphiqls_page_relaxes_the_content_security_policy() {
    let app = TestApp::spawn(Engine::Sqlite).await;
    for path in ["/", "/products/7", "/healthz"] {
        let response = app.http.get(format!("{}{path}", app.base)).send().await.unwrap();
        assert_strict(path, &csp(&response));
    }
    let response = app
        .http
        .post(format!("{}/graphql", app.base))
        .json(&json!({ "query": "{ __typename }" }))
        .send()
        .await
        .unwrap();
    assert_strict("POST /graphql", &csp(&response));

    let graphiql = app
        .http
        .get(format!("{}/graphql", app.base))
        .header("accept", "text/html")
        .send()
        .await
        .unwrap();
    let policy = csp(&graphiql);
    assert!(
        policy.contains("https://unpkg.com"),
        "GraphiQL loads from unpkg: {policy}"
    );
    assert!(
        policy.contains("'unsafe-inline'"),
        "GraphiQL runs inline code: {policy}"
    );
    assert!(policy.contains("frame-ancestors 'none'"), "{policy}");
    assert!(graphiql.text().await.unwrap().contains("graphiql"));
}
