//! The HTTP server from outside: the content security policies, and login
//! throttling by client address, through a trusted proxy and from an
//! untrusted peer.

mod common;

use common::{Engine, PASSWORD, TestApp, error_code};
use herald::domain::client_address::{ForwardedHeader, TrustedProxies};
use serde_json::{Value, json};

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

const LOGIN: &str = "mutation($u: String!, $p: String!) { login(username: $u, password: $p) { token } }";

/// A login sent with `X-Forwarded-For: forwarded_for`.
async fn login_via(app: &TestApp, forwarded_for: &str, username: &str, password: &str) -> Value {
    app.http
        .post(format!("{}/graphql", app.base))
        .header("x-forwarded-for", forwarded_for)
        .json(&json!({ "query": LOGIN, "variables": { "u": username, "p": password } }))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap()
}

fn assert_signed_in(what: &str, body: &Value) {
    assert!(body["data"]["login"]["token"].is_string(), "{what}: {body}");
}

fn assert_throttled(what: &str, body: &Value) {
    assert_eq!(error_code(body), "TOO_MANY_REQUESTS", "{what}: {body}");
    assert!(
        body["errors"][0]["message"].as_str().unwrap().contains("try again in"),
        "{body}"
    );
}

/// The test client's connections come from 127.0.0.1: here a trusted proxy.
async fn logins_are_throttled_per_client_behind_a_trusted_proxy(engine: Engine) {
    let app = TestApp::spawn_with(engine, |c| {
        c.trusted_proxies = TrustedProxies::parse("127.0.0.1/32", ForwardedHeader::XForwardedFor).unwrap();
    })
    .await;
    app.user("alice").await;
    let attacker = "203.0.113.7";
    for _ in 0..=herald::auth::throttle::SCHEDULE.free {
        let body = login_via(&app, attacker, "alice", "wrong").await;
        assert_eq!(error_code(&body), "UNAUTHENTICATED", "{body}");
    }
    let body = login_via(&app, attacker, "alice", PASSWORD).await;
    assert_throttled("the attacker waits, even with the right password", &body);
    // What the client writes left of the proxy's entry is not believed.
    let body = login_via(&app, &format!("198.51.100.9, {attacker}"), "alice", PASSWORD).await;
    assert_throttled("a spoofed hop changes nothing", &body);
    let body = login_via(&app, "198.51.100.9", "alice", PASSWORD).await;
    assert_signed_in("the real user from another address", &body);
    let body = login_via(&app, attacker, "admin", common::ADMIN_PASSWORD).await;
    assert_signed_in("another user from the attacker's address", &body);

    // One address trying many accounts is stopped for all of them.
    let sprayer = "203.0.113.50";
    for i in 0..herald::auth::throttle::PER_ADDRESS {
        let body = login_via(&app, sprayer, &format!("nobody{i}"), "guess").await;
        assert_eq!(error_code(&body), "UNAUTHENTICATED", "{body}");
    }
    let body = login_via(&app, sprayer, "alice", PASSWORD).await;
    assert_throttled("the spraying address", &body);
    let body = login_via(&app, "203.0.113.51", "alice", PASSWORD).await;
    assert_signed_in("its neighbour", &body);
}

/// Without trusted proxies the header is the client's word: every attempt
/// counts for the peer, whatever address it claims.
async fn an_untrusted_peer_cannot_pick_its_address(engine: Engine) {
    let app = TestApp::spawn(engine).await;
    app.user("alice").await;
    for i in 0..=herald::auth::throttle::SCHEDULE.free {
        let body = login_via(&app, &format!("198.51.100.{i}"), "alice", "wrong").await;
        assert_eq!(error_code(&body), "UNAUTHENTICATED", "{body}");
    }
    let body = login_via(&app, "198.51.100.200", "alice", PASSWORD).await;
    assert_throttled("a fresh claimed address", &body);
}

on_both_engines!(
    logins_are_throttled_per_client_behind_a_trusted_proxy,
    an_untrusted_peer_cannot_pick_its_address,
);
