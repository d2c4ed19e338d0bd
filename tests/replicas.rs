//! Two real `herald serve` processes on one PostgreSQL database: a change
//! made through one reaches subscribers of the other, every outbox row is
//! sent once, by one of them, and an event whose transaction committed late
//! is not passed over.

mod common;

use std::time::Duration;

use common::peers::WebhookServer;
use common::process::Launch;
use common::ws::{Received, TRANSPORT_WS, WsClient};
use common::{Engine, PASSWORD, TestApp, TestDatabase};
use herald::domain::NotificationType;
use herald::notify::{self, NewNotification};
use herald::store::{Scope, UnitOfWork};
use serde_json::{Value, json};

const FLIPS: usize = 12;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_replicas_share_subscribers_and_the_outbox() {
    let database = TestDatabase::create(Engine::Postgres).await;
    let hooks = WebhookServer::start().await;
    let a = Launch::new("replica-a", &database.url).start().await;
    let b = Launch::new("replica-b", &database.url).start().await;
    let admin = a.login().await;

    let product = a
        .product(
            &admin,
            json!({ "name": "shared", "notificationSlackWebhook": hooks.url("/shared") }),
        )
        .await;
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

/// A rolling deployment starts replicas together on a fresh database. They
/// migrate one at a time (an advisory lock), all of them serve, and they
/// agree on the generated signing key and the first administrator. `herald
/// migrate` run three times at once succeeds three times.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn replicas_started_together_on_a_fresh_database_all_serve() {
    for _round in 0..2 {
        let database = TestDatabase::create(Engine::Postgres).await;
        let launch = |name| Launch::new(name, &database.url).without("HERALD_JWT_SECRET").start();
        let (a, b, c) = tokio::join!(launch("together-a"), launch("together-b"), launch("together-c"));
        let token = a.login().await;
        for replica in [&a, &b, &c] {
            let me = replica.ok(&token, "{ me { username } }", json!({})).await;
            assert_eq!(me["me"]["username"], "admin", "{} shares the signing key", replica.name);
        }
        let users = c.ok(&token, "{ users { username } }", json!({})).await;
        assert_eq!(
            users["users"],
            json!([{ "username": "admin" }]),
            "one first administrator"
        );
    }

    let database = TestDatabase::create(Engine::Postgres).await;
    let migrate = || {
        tokio::process::Command::new(env!("CARGO_BIN_EXE_herald"))
            .arg("migrate")
            .env("DATABASE_URL", &database.url)
            .env("RUST_LOG", "warn")
            .output()
    };
    let (a, b, c) = tokio::join!(migrate(), migrate(), migrate());
    for output in [a, b, c] {
        let output = output.expect("run herald migrate");
        assert!(
            output.status.success(),
            "herald migrate failed: {}",
            String::from_utf8_lossy(&output.stderr)
        );
    }
}

/// An API token revoked through one replica closes the sockets opened with
/// it on the other: the revocation travels as an event.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_revocation_through_one_replica_closes_sockets_on_the_other() {
    let database = TestDatabase::create(Engine::Postgres).await;
    let a = Launch::new("revoke-a", &database.url).start().await;
    let b = Launch::new("revoke-b", &database.url).start().await;
    let admin = a.login().await;
    let created = a
        .ok(
            &admin,
            "mutation { createApiToken(name: \"ci\") { token apiToken { id } } }",
            json!({}),
        )
        .await;
    let token = created["createApiToken"]["token"].as_str().unwrap();
    let id = created["createApiToken"]["apiToken"]["id"].as_str().unwrap();

    let mut socket = WsClient::authenticated(&b.base, TRANSPORT_WS, token).await;
    socket
        .subscribe("1", "subscription { unviewedNotificationCount }")
        .await;
    socket.next_data("1", Duration::from_secs(5)).await;
    let revoked_at = std::time::Instant::now();
    a.ok(
        &admin,
        "mutation($id: ID!) { revokeApiToken(id: $id) { id } }",
        json!({ "id": id }),
    )
    .await;
    assert_eq!(
        socket.next(Duration::from_secs(5)).await,
        Some(Received::Closed(Some(4403)))
    );
    let took = revoked_at.elapsed();
    // 1 s asked; the test machine runs many servers at once.
    assert!(took < Duration::from_secs(2), "closed {took:?} after the revocation");
}

/// The interleaving the write path must survive without a global lock:
/// transaction A takes its event id, B (another product, through the other
/// replica) takes a later one and commits, then A commits. Subscribers of
/// both replicas get A's event and then B's; an event of a transaction
/// rolled back meanwhile is never seen (the canary after it comes next).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_event_committed_late_is_not_passed_over_on_either_replica() {
    let a = TestApp::spawn(Engine::Postgres).await;
    let b = Launch::new("late-b", &a.server.state.config.database_url).start().await;
    let admin = a.admin_token.clone();
    let held = a.product(&admin, json!({ "name": "held" })).await;
    let doomed = a.product(&admin, json!({ "name": "doomed" })).await;
    let other = a.product(&admin, json!({ "name": "other" })).await;
    let flip = |findings: Value| {
        let b = &b;
        let admin = &admin;
        let other = &other;
        async move {
            b.ok(
                admin,
                "mutation($p: ID!, $o: [ImportedObservation!]!) { importObservations(productId: $p, scanner: \"s\", observations: $o) { securityGate } }",
                json!({ "p": other, "o": findings }),
            )
            .await;
        }
    };
    let critical = json!([{ "title": "x", "severity": "CRITICAL" }]);

    let mut subscribers = Vec::new();
    for base in [&a.base, &b.base] {
        let mut socket = WsClient::authenticated(base, TRANSPORT_WS, &admin).await;
        socket
            .subscribe("1", "subscription { notificationCreated { name } }")
            .await;
        subscribers.push(socket);
    }
    // Attached: both hear a change made through B.
    flip(critical.clone()).await;
    for socket in &mut subscribers {
        let data = socket.next_data("1", Duration::from_secs(10)).await;
        assert_eq!(
            data["notificationCreated"]["name"],
            "Security gate has changed to Failed"
        );
    }

    let state = &a.server.state;
    let write = |uow: UnitOfWork, product: String, name: &'static str| async move {
        let product: i64 = product.parse().unwrap();
        uow.lock([Scope::Product(product)]).await.unwrap();
        let new = NewNotification {
            kind: Some(NotificationType::Task),
            name: name.to_owned(),
            product_id: Some(product),
            ..Default::default()
        };
        notify::store(&uow, new, &[]).await.unwrap();
        uow
    };
    let early = write(state.begin().await.unwrap(), held.clone(), "committed late").await;
    let rolled_back = write(state.begin().await.unwrap(), doomed.clone(), "rolled back").await;
    // B's change commits while both are open: it is not held up by them.
    tokio::time::timeout(Duration::from_secs(10), flip(json!([])))
        .await
        .expect("a change to another product does not wait for open transactions");
    drop(rolled_back);
    // Time for both publishers to read B's commit (they poll every second
    // at the latest): a reader going by id alone would publish it now, and
    // pass over A's event for good.
    tokio::time::sleep(Duration::from_millis(1500)).await;
    early.commit().await.unwrap();
    // The canary: whatever came before it has arrived by then.
    flip(critical).await;

    for (socket, replica) in subscribers.iter_mut().zip(["A", "B"]) {
        let mut names = Vec::new();
        for _ in 0..3 {
            let data = socket.next_data("1", Duration::from_secs(10)).await;
            names.push(data["notificationCreated"]["name"].as_str().unwrap().to_owned());
        }
        assert_eq!(
            names,
            [
                "committed late",
                "Security gate has changed to Passed",
                "Security gate has changed to Failed"
            ],
            "on replica {replica}: the late commit is delivered, in transaction order, and the rollback never"
        );
    }
}
