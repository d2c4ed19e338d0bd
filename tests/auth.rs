//! Login, session tokens and API tokens against the real server.

mod common;

use base64::Engine as _;
use common::{Engine, JWT_SECRET, PASSWORD, TestApp, error_code};
use serde_json::json;

const ME: &str = "{ me { username isAdmin } }";

async fn login_issues_a_token_that_authenticates(engine: Engine) {
    let app = TestApp::spawn(engine).await;
    let data = app.ok(&app.admin_token, ME, json!({})).await;
    assert_eq!(data["me"], json!({ "username": "admin", "isAdmin": true }));

    let wrong = app
        .gql(
            None,
            "mutation { login(username: \"admin\", password: \"nope\") { token } }",
            json!({}),
        )
        .await;
    assert_eq!(error_code(&wrong), "UNAUTHENTICATED");
    let unknown = app
        .gql(
            None,
            "mutation { login(username: \"ghost\", password: \"nope\") { token } }",
            json!({}),
        )
        .await;
    assert_eq!(error_code(&unknown), "UNAUTHENTICATED");
    assert_eq!(wrong["errors"][0]["message"], unknown["errors"][0]["message"]);

    let anonymous = app.gql(None, ME, json!({})).await;
    assert_eq!(error_code(&anonymous), "UNAUTHENTICATED");
}

fn b64(value: &serde_json::Value) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(value.to_string())
}

fn sign(claims: &serde_json::Value, secret: &str) -> String {
    jsonwebtoken::encode(
        &jsonwebtoken::Header::new(jsonwebtoken::Algorithm::HS256),
        claims,
        &jsonwebtoken::EncodingKey::from_secret(secret.as_bytes()),
    )
    .unwrap()
}

async fn forged_and_expired_tokens_are_refused(engine: Engine) {
    let app = TestApp::spawn(engine).await;
    let now = chrono::Utc::now().timestamp();
    let valid_claims = json!({ "sub": "1", "iss": "herald", "iat": now, "exp": now + 600 });
    // Sanity: our own signature with the server's secret is accepted.
    let good = sign(&valid_claims, JWT_SECRET);
    assert_eq!(app.ok(&good, ME, json!({})).await["me"]["username"], "admin");

    let alg_none = format!(
        "{}.{}.",
        b64(&json!({ "alg": "none", "typ": "JWT" })),
        b64(&valid_claims)
    );
    let wrong_key = sign(&valid_claims, "some-other-secret-some-other-secret");
    let expired = sign(
        &json!({ "sub": "1", "iss": "herald", "iat": now - 7200, "exp": now - 3600 }),
        JWT_SECRET,
    );
    let wrong_issuer = sign(
        &json!({ "sub": "1", "iss": "elsewhere", "iat": now, "exp": now + 600 }),
        JWT_SECRET,
    );
    let mut tampered = good.clone();
    tampered.replace_range(tampered.len() - 4.., "AAAA");
    for (what, token) in [
        ("alg none", alg_none),
        ("wrong key", wrong_key),
        ("expired", expired),
        ("wrong issuer", wrong_issuer),
        ("tampered", tampered),
        ("garbage", "not-a-token".into()),
    ] {
        let body = app.gql(Some(&token), ME, json!({})).await;
        assert_eq!(error_code(&body), "UNAUTHENTICATED", "{what}: {body}");
    }
}

async fn api_tokens_work_until_revoked(engine: Engine) {
    let app = TestApp::spawn(engine).await;
    let (_, alice) = app.user("alice").await;
    let data = app
        .ok(
            &alice,
            "mutation { createApiToken(name: \"ci\") { token apiToken { id name } } }",
            json!({}),
        )
        .await;
    let token = data["createApiToken"]["token"].as_str().unwrap().to_owned();
    let id = data["createApiToken"]["apiToken"]["id"].as_str().unwrap().to_owned();
    assert_eq!(app.ok(&token, ME, json!({})).await["me"]["username"], "alice");

    // Only the owner (or an admin) sees and revokes it.
    let (_, bob) = app.user("bob").await;
    let bobs_try = app
        .gql(
            Some(&bob),
            "mutation($id: ID!) { revokeApiToken(id: $id) { id } }",
            json!({ "id": id }),
        )
        .await;
    assert_eq!(error_code(&bobs_try), "NOT_FOUND");
    let listed = app.ok(&alice, "{ apiTokens { name revokedAt } }", json!({})).await;
    assert_eq!(listed["apiTokens"], json!([{ "name": "ci", "revokedAt": null }]));

    app.ok(
        &alice,
        "mutation($id: ID!) { revokeApiToken(id: $id) { revokedAt } }",
        json!({ "id": id }),
    )
    .await;
    let after = app.gql(Some(&token), ME, json!({})).await;
    assert_eq!(error_code(&after), "UNAUTHENTICATED");
    // The session token still works.
    assert_eq!(app.ok(&alice, ME, json!({})).await["me"]["username"], "alice");
    let _ = PASSWORD;
}

async fn only_admins_manage_users_and_settings(engine: Engine) {
    let app = TestApp::spawn(engine).await;
    let (_, alice) = app.user("alice").await;
    for query in [
        "{ users { id } }",
        "{ settings { emailFrom } }",
        "mutation { updateSettings(input: { emailFrom: \"x@example.com\" }) { emailFrom } }",
        "mutation { createUser(input: { username: \"eve\", password: \"long-enough\" }) { id } }",
    ] {
        let body = app.gql(Some(&alice), query, json!({})).await;
        assert_eq!(error_code(&body), "FORBIDDEN", "{query}");
    }
    let users = app.ok(&app.admin_token, "{ users { username } }", json!({})).await;
    assert_eq!(
        users["users"],
        json!([{ "username": "admin" }, { "username": "alice" }])
    );
    let duplicate = app
        .gql(
            Some(&app.admin_token),
            "mutation { createUser(input: { username: \"alice\", password: \"long-enough\" }) { id } }",
            json!({}),
        )
        .await;
    assert_eq!(error_code(&duplicate), "BAD_USER_INPUT");
    assert_eq!(duplicate["errors"][0]["extensions"]["field"], "username");
}

async fn health_endpoints_answer(engine: Engine) {
    let app = TestApp::spawn(engine).await;
    for path in ["/healthz", "/readyz"] {
        let response = app.http.get(format!("{}{path}", app.base)).send().await.unwrap();
        assert_eq!(response.status(), 200, "{path}");
    }
    let graphiql = app.http.get(format!("{}/graphql", app.base)).send().await.unwrap();
    assert!(graphiql.text().await.unwrap().to_lowercase().contains("graphiql"));
}

on_both_engines!(
    login_issues_a_token_that_authenticates,
    forged_and_expired_tokens_are_refused,
    api_tokens_work_until_revoked,
    only_admins_manage_users_and_settings,
    health_endpoints_answer,
);
