//! Graceful shutdown of the real binary on SIGTERM (and Ctrl-C, SIGINT): it
//! stops accepting, lets the delivery worker finish or release what it
//! claimed, and exits by itself within `HERALD_SHUTDOWN_TIMEOUT`. Deliveries
//! cut short are not lost and not stuck behind their lease: the next process
//! on the same database sends them at once.

mod common;

use std::time::{Duration, Instant};

use common::peers::{Reply, WebhookServer};
use common::process::{Herald, Launch};
use common::{Engine, TestDatabase};
use serde_json::{Value, json};

/// `HERALD_DELIVERY_LEASE_SECONDS`: long, so that only the release at
/// shutdown can explain a quick resend.
const LEASE_SECONDS: u64 = 120;
/// `HERALD_SHUTDOWN_TIMEOUT`.
const SHUTDOWN_SECONDS: u64 = 2;
/// How long the process may take to exit after SIGTERM: the shutdown
/// deadline and a margin.
const EXIT_WAIT: Duration = Duration::from_secs(8);
/// How long an idle server may take to exit.
const IDLE_EXIT: Duration = Duration::from_secs(3);
/// How long the next process may take to send what the first one released;
/// far below the lease.
const RESEND_WAIT: Duration = Duration::from_secs(10);
/// How long a webhook request or a delivery state may take to show up.
const WAIT: Duration = Duration::from_secs(15);

const DELIVERIES: &str = "query {
    notifications(first: 5) { edges { node { product { name } deliveries { channel target status attempts history { outcome statusCode } } } } }
}";

async fn start(name: &'static str, database_url: &str) -> Herald {
    Launch::new(name, database_url)
        .env("HERALD_DELIVERY_LEASE_SECONDS", LEASE_SECONDS.to_string())
        .env("HERALD_SHUTDOWN_TIMEOUT", SHUTDOWN_SECONDS.to_string())
        .env("RUST_LOG", "info")
        .start()
        .await
}

/// Every delivery, with the name of its notification's product.
async fn deliveries(herald: &Herald, token: &str) -> Vec<(String, Value)> {
    let data = herald.ok(token, DELIVERIES, json!({})).await;
    let mut all = Vec::new();
    for edge in data["notifications"]["edges"].as_array().expect("edges") {
        let product = edge["node"]["product"]["name"].as_str().unwrap_or("-").to_owned();
        for delivery in edge["node"]["deliveries"].as_array().expect("deliveries") {
            all.push((product.clone(), delivery.clone()));
        }
    }
    all.sort_by(|a, b| a.0.cmp(&b.0));
    all
}

async fn sigterm_while_deliveries_are_in_flight_loses_nothing(engine: Engine) {
    let database = TestDatabase::create(engine).await;
    let hooks = WebhookServer::start().await;
    // Both sends hang: the worker holds two claimed, unrecorded deliveries.
    hooks.script(vec![Reply::Hang, Reply::Hang]);

    let mut first = start("first", &database.url).await;
    let token = first.login().await;
    // Both gates flip in one transaction (the group's gate is switched on), so
    // the worker claims both deliveries in one batch: it takes the next batch
    // only when the one in hand is done, and a hanging send holds it.
    let group = first
        .ok(
            &token,
            "mutation($i: ProductGroupInput!) { createProductGroup(input: $i) { id } }",
            json!({ "i": { "name": "shutdown-group", "securityGateActive": false } }),
        )
        .await["createProductGroup"]["id"]
        .as_str()
        .expect("group id")
        .to_owned();
    for name in ["alpha", "beta"] {
        let product = first
            .product(
                &token,
                json!({
                    "name": name,
                    "productGroupId": group,
                    "notificationSlackWebhook": hooks.url(&format!("/{name}")),
                }),
            )
            .await;
        let imported = first
            .ok(
                &token,
                "mutation($p: ID!, $o: [ImportedObservation!]!) { importObservations(productId: $p, scanner: \"trivy\", observations: $o) { securityGate } }",
                json!({ "p": product, "o": [{ "title": "CVE-2024-0001", "severity": "CRITICAL" }] }),
            )
            .await;
        assert_eq!(
            imported["importObservations"]["securityGate"], "NONE",
            "the group's gate is off: {imported}"
        );
    }
    let flipped = first
        .ok(
            &token,
            "mutation($id: ID!, $i: ProductGroupPatch!) { updateProductGroup(id: $id, input: $i) { id } }",
            json!({ "id": group, "i": { "securityGateActive": true } }),
        )
        .await;
    assert!(flipped["updateProductGroup"]["id"].is_string(), "{flipped}");
    let gates = first.ok(&token, "{ products { name securityGate } }", json!({})).await;
    assert_eq!(
        gates["products"],
        json!([{ "name": "alpha", "securityGate": "FAILED" }, { "name": "beta", "securityGate": "FAILED" }]),
        "{gates}"
    );

    // Both sends are in flight: the requests arrived and are held open.
    let arrived = hooks.wait_for(2, WAIT).await;
    let mut paths: Vec<&str> = arrived.iter().map(|r| r.path.as_str()).collect();
    paths.sort();
    assert_eq!(paths, ["/alpha", "/beta"]);
    let before = deliveries(&first, &token).await;
    assert_eq!(before.len(), 2, "{before:?}");
    for (product, delivery) in &before {
        assert_eq!(
            delivery["status"], "PENDING",
            "{product}: claimed, not recorded: {delivery}"
        );
        assert_eq!(delivery["attempts"], 0, "{product}: {delivery}");
    }

    let signalled = Instant::now();
    first.terminate();
    let status = first.wait_exit(EXIT_WAIT).await.unwrap_or_else(|| {
        panic!(
            "herald did not exit within {EXIT_WAIT:?} of SIGTERM (HERALD_SHUTDOWN_TIMEOUT={SHUTDOWN_SECONDS}); its output:\n{}",
            first.output()
        )
    });
    let took = signalled.elapsed();
    eprintln!("SIGTERM with two sends in flight: exited with {status} after {took:?}");
    assert!(
        status.success(),
        "herald exited with {status} after SIGTERM; its output:\n{}",
        first.output()
    );
    assert_eq!(hooks.requests().len(), 2, "nothing new was sent while stopping");
    drop(first);

    // The next process sends both at once, not after the 120 s lease.
    let restarted = Instant::now();
    let second = start("second", &database.url).await;
    let requests = hooks.wait_for(4, RESEND_WAIT).await;
    eprintln!(
        "both deliveries sent again {:?} after the second start",
        restarted.elapsed()
    );
    let mut resent: Vec<&str> = requests[2..].iter().map(|r| r.path.as_str()).collect();
    resent.sort();
    assert_eq!(resent, ["/alpha", "/beta"]);

    let token = second.login().await;
    let deadline = Instant::now() + WAIT;
    let after = loop {
        let all = deliveries(&second, &token).await;
        assert_eq!(all.len(), 2, "{all:?}");
        if all
            .iter()
            .all(|(_, d)| d["status"] == "SENT" || d["status"] == "FAILED")
        {
            break all;
        }
        assert!(
            Instant::now() < deadline,
            "the deliveries were not recorded within {WAIT:?}: {all:?}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    for (product, delivery) in &after {
        assert_eq!(delivery["status"], "SENT", "{product}: {delivery}");
        // The attempts cut short by the shutdown were never recorded.
        assert_eq!(delivery["attempts"], 1, "{product}: {delivery}");
        assert_eq!(
            delivery["history"],
            json!([{ "outcome": "SENT", "statusCode": 200 }]),
            "{product}: {delivery}"
        );
    }

    // Nothing else arrives: each notification exactly twice.
    tokio::time::sleep(Duration::from_secs(1)).await;
    let all = hooks.requests();
    assert_eq!(all.len(), 4, "expected exactly four webhook requests, got {all:#?}");
    for name in ["alpha", "beta"] {
        let bodies: Vec<&Value> = all
            .iter()
            .filter(|r| r.path == format!("/{name}"))
            .map(|r| &r.body)
            .collect();
        assert_eq!(bodies.len(), 2, "{name}: {all:#?}");
        assert_eq!(bodies[0], bodies[1], "{name}: the resend differs from the first send");
        assert!(
            bodies[0]
                .to_string()
                .contains(&format!("Security gate for {name} has changed to Failed")),
            "{name}: unexpected message {}",
            bodies[0]
        );
    }
}

async fn an_idle_server_stops_at_once_on_sigterm_and_ctrl_c(engine: Engine) {
    let database = TestDatabase::create(engine).await;
    // SIGINT is what Ctrl-C sends.
    for signal in ["TERM", "INT"] {
        let mut herald = start("idle", &database.url).await;
        // A keep-alive connection is open (the health checks of the start):
        // an idle connection must not hold the shutdown up.
        let token = herald.login().await;
        herald.ok(&token, "{ me { username } }", json!({})).await;
        let base = herald.base.clone();

        let signalled = Instant::now();
        herald.signal(signal);
        let status = herald.wait_exit(IDLE_EXIT).await.unwrap_or_else(|| {
            panic!(
                "idle herald did not exit within {IDLE_EXIT:?} of SIG{signal}; its output:\n{}",
                herald.output()
            )
        });
        let took = signalled.elapsed();
        eprintln!("SIG{signal} on an idle server: exited with {status} after {took:?}");
        assert_eq!(
            status.code(),
            Some(0),
            "SIG{signal}: herald exited with {status}; its output:\n{}",
            herald.output()
        );

        let fresh = reqwest::Client::builder()
            .timeout(Duration::from_secs(2))
            .build()
            .expect("HTTP client");
        match fresh.get(format!("{base}/healthz")).send().await {
            Err(e) => assert!(e.is_connect(), "SIG{signal}: expected a refused connection, got {e:?}"),
            Ok(answer) => panic!("SIG{signal}: /healthz still answers after the exit: {answer:?}"),
        }
    }
}

/// `HERALD_ARGON2_MEMORY_KIB` of the in-flight request test: a login then
/// takes long enough to be signalled in the middle of it.
const SLOW_HASH_KIB: u32 = 16_384;

async fn a_request_in_flight_is_answered_before_the_exit(engine: Engine) {
    let database = TestDatabase::create(engine).await;
    let mut herald = Launch::new("slow-login", &database.url)
        .env("HERALD_ARGON2_MEMORY_KIB", SLOW_HASH_KIB.to_string())
        .env("HERALD_SHUTDOWN_TIMEOUT", "20")
        .env("RUST_LOG", "info")
        .start()
        .await;
    let timed = Instant::now();
    herald.login().await;
    let one_login = timed.elapsed();
    eprintln!("one login with {SLOW_HASH_KIB} KiB: {one_login:?}");

    let (http, base) = (herald.http.clone(), herald.base.clone());
    let login = tokio::spawn(async move {
        let body = common::graphql(
            &http,
            &base,
            None,
            "mutation($u: String!, $p: String!) { login(username: $u, password: $p) { token } }",
            json!({ "u": "admin", "p": common::ADMIN_PASSWORD }),
        )
        .await;
        (Instant::now(), body)
    });
    tokio::time::sleep(one_login / 4).await;
    let signalled = Instant::now();
    herald.terminate();
    let (answered, body) = login.await.expect("the login task");
    assert!(
        body["data"]["login"]["token"].is_string(),
        "the login in flight at SIGTERM was not answered: {body}"
    );
    assert!(
        answered > signalled,
        "the login was answered before the signal ({:?} before): the test proves nothing, make the hash slower",
        signalled - answered
    );
    let status = herald.wait_exit(EXIT_WAIT).await.unwrap_or_else(|| {
        panic!(
            "herald did not exit within {EXIT_WAIT:?} of SIGTERM; its output:\n{}",
            herald.output()
        )
    });
    eprintln!(
        "a login in flight at SIGTERM was answered {:?} later; exit with {status} {:?} after the signal",
        answered - signalled,
        signalled.elapsed()
    );
    assert!(
        status.success(),
        "herald exited with {status}; its output:\n{}",
        herald.output()
    );
}

on_both_engines!(
    sigterm_while_deliveries_are_in_flight_loses_nothing,
    an_idle_server_stops_at_once_on_sigterm_and_ctrl_c,
    a_request_in_flight_is_answered_before_the_exit,
);
