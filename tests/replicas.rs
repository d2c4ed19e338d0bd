//! Two real `herald serve` processes on one PostgreSQL database: a change
//! made through one reaches subscribers of the other, and every outbox row
//! is sent once, by one of them.

mod common;

use std::time::Duration;

use common::peers::WebhookServer;
use common::process::Launch;
use common::ws::{TRANSPORT_WS, WsClient};
use common::{Engine, PASSWORD, TestDatabase};
use serde_json::json;

const FLIPS: usize = 12;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_replicas_share_subscribers_and_the_outbox() {
    let database = TestDatabase::create(Engine::Postgres).await;
    let hooks = WebhookServer::start().await;
    let a = Launch::new("replica-a", &database.url).start().await;
    let b = Launch::new("replica-b", &database.url).start().await;
    let admin = a.login().await;

    let product = a
        .ok(
            &admin,
            "mutation($i: ProductInput!) { createProduct(input: $i) { id } }",
            json!({ "i": { "name": "shared", "notificationSlackWebhook": hooks.url("/shared") } }),
        )
        .await["createProduct"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let member_id = a
        .ok(
            &admin,
            "mutation { createUser(input: { username: \"member\", password: \"password-for-tests\" }) { id } }",
            json!({}),
        )
        .await["createUser"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    a.ok(
        &admin,
        "mutation($p: ID!, $u: ID!) { setProductMember(productId: $p, userId: $u, role: READER) { role } }",
        json!({ "p": product, "u": member_id }),
    )
    .await;

    // The member listens on replica B; the changes are made through A.
    let member = b.login_as("member", PASSWORD).await;
    let mut listener = WsClient::authenticated(&b.base, TRANSPORT_WS, &member).await;
    listener
        .subscribe("1", "subscription { notificationCreated { id name } }")
        .await;
    tokio::time::sleep(Duration::from_millis(300)).await;

    let mut expected = Vec::new();
    for i in 0..FLIPS {
        let findings = if i % 2 == 0 {
            json!([{ "title": "x", "severity": "CRITICAL" }])
        } else {
            json!([])
        };
        let result = a
            .ok(
                &admin,
                "mutation($p: ID!, $o: [ImportedObservation!]!) { importObservations(productId: $p, scanner: \"s\", observations: $o) { securityGate } }",
                json!({ "p": product, "o": findings }),
            )
            .await;
        let status = if result["importObservations"]["securityGate"] == "FAILED" {
            "Failed"
        } else {
            "Passed"
        };
        expected.push(format!("Security gate has changed to {status}"));
    }

    let mut received = Vec::new();
    let mut ids = Vec::new();
    for _ in 0..FLIPS {
        let data = listener.next_data("1", Duration::from_secs(10)).await;
        received.push(data["notificationCreated"]["name"].as_str().unwrap().to_owned());
        ids.push(
            data["notificationCreated"]["id"]
                .as_str()
                .unwrap()
                .parse::<i64>()
                .unwrap(),
        );
    }
    assert_eq!(
        received, expected,
        "every change, through the other replica, in commit order"
    );
    assert!(ids.windows(2).all(|w| w[0] < w[1]));

    // Each notification's Slack message was sent exactly once.
    hooks.wait_for(FLIPS, Duration::from_secs(15)).await;
    tokio::time::sleep(Duration::from_secs(2)).await;
    assert_eq!(hooks.requests().len(), FLIPS, "no outbox row is sent twice");

    // Both replicas report ready: database and event listener.
    for replica in [&a, &b] {
        let ready = replica
            .http
            .get(format!("{}/readyz", replica.base))
            .send()
            .await
            .unwrap();
        assert_eq!(ready.status(), 200);
    }
}
