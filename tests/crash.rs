//! Work that survives a crash. At-least-once delivery: the real binary is
//! killed with SIGKILL while its worker is in the middle of a send (claimed,
//! not yet recorded); a second process on the same database sends the
//! notification again once the lease has expired, and records a single
//! attempt. Background jobs: a job cut off the same way runs again.

mod common;

use std::time::{Duration, Instant};

use common::peers::{Reply, WebhookServer};
use common::process::{Herald, Launch};
use common::{Engine, TestDatabase};
use serde_json::{Value, json};

/// `HERALD_DELIVERY_LEASE_SECONDS` of both processes.
const LEASE_SECONDS: u64 = 2;
/// How long a webhook request or a delivery state may take to show up.
const WAIT: Duration = Duration::from_secs(15);

const DELIVERIES: &str = "query {
    notifications(first: 5) { edges { node { name deliveries { channel status attempts history { outcome statusCode } } } } }
}";

/// `herald serve` on `database_url` with the short lease of this test.
async fn start(name: &'static str, database_url: &str) -> Herald {
    Launch::new(name, database_url)
        .env("HERALD_DELIVERY_LEASE_SECONDS", LEASE_SECONDS.to_string())
        .start()
        .await
}

/// The deliveries of the only notification.
async fn the_deliveries(herald: &Herald, token: &str) -> Vec<Value> {
    let data = herald.ok(token, DELIVERIES, json!({})).await;
    let edges = data["notifications"]["edges"].as_array().expect("edges").clone();
    assert_eq!(edges.len(), 1, "expected exactly one notification: {data}");
    edges[0]["node"]["deliveries"].as_array().expect("deliveries").clone()
}

async fn a_crash_between_claim_and_record_resends_after_the_lease(engine: Engine) {
    let database = TestDatabase::create(engine).await;
    let hooks = WebhookServer::start().await;
    // The first send never gets an answer: the worker stays between claim and record.
    hooks.script(vec![Reply::Hang]);

    let mut first = start("first", &database.url).await;
    let token = first.login().await;
    let product = first
        .product(
            &token,
            json!({ "name": "crash-test", "notificationSlackWebhook": hooks.url("/crash") }),
        )
        .await;
    let imported = first
        .ok(
            &token,
            "mutation($p: ID!, $o: [ImportedObservation!]!) { importObservations(productId: $p, scanner: \"trivy\", observations: $o) { created securityGate } }",
            json!({ "p": product, "o": [{ "title": "CVE-2024-0001", "severity": "CRITICAL" }] }),
        )
        .await;
    assert_eq!(imported["importObservations"]["securityGate"], "FAILED", "{imported}");

    // The worker is mid-send: the request arrived and is held open.
    let arrived = hooks.wait_for(1, WAIT).await;
    assert_eq!(arrived[0].path, "/crash");
    let deliveries = the_deliveries(&first, &token).await;
    assert_eq!(deliveries.len(), 1, "{deliveries:?}");
    assert_eq!(deliveries[0]["channel"], "SLACK");
    assert_eq!(
        deliveries[0]["status"], "PENDING",
        "claimed but not recorded: {deliveries:?}"
    );
    assert_eq!(deliveries[0]["attempts"], 0, "{deliveries:?}");

    first.kill();
    drop(first);

    let second = start("second", &database.url).await;
    let requests = hooks.wait_for(2, WAIT).await;

    let token = second.login().await;
    let deadline = Instant::now() + WAIT;
    let delivery = loop {
        let deliveries = the_deliveries(&second, &token).await;
        assert_eq!(deliveries.len(), 1, "{deliveries:?}");
        if deliveries[0]["status"] == "SENT" || deliveries[0]["status"] == "FAILED" {
            break deliveries[0].clone();
        }
        assert!(
            Instant::now() < deadline,
            "the delivery was not recorded within {WAIT:?}: {deliveries:?}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    assert_eq!(delivery["status"], "SENT", "{delivery}");
    // The killed attempt was never recorded.
    assert_eq!(delivery["attempts"], 1, "{delivery}");
    assert_eq!(
        delivery["history"],
        json!([{ "outcome": "SENT", "statusCode": 200 }]),
        "{delivery}"
    );

    // Nothing else arrives: the same notification exactly twice.
    tokio::time::sleep(Duration::from_secs(1)).await;
    let all = hooks.requests();
    assert_eq!(all.len(), 2, "expected exactly two webhook requests, got {all:#?}");
    assert_eq!(requests[1].path, "/crash");
    assert!(
        all[0]
            .raw_body
            .contains("Security gate for crash-test has changed to Failed"),
        "unexpected message: {}",
        all[0].raw_body
    );
    assert_ne!(all[0].body, Value::Null, "not JSON: {}", all[0].raw_body);
    assert_eq!(all[0].body, all[1].body, "the resend differs from the killed send");
}

on_both_engines!(a_crash_between_claim_and_record_resends_after_the_lease);

/// The gate re-evaluation that a settings change enqueues (in the change's
/// own transaction) is cut off by SIGKILL while it runs: the test holds the
/// product's lock, so the job is mid-run when the process dies. A second
/// process runs it again once its lease has expired, and the gate moves
/// once. PostgreSQL only: the hold uses its advisory lock, and a SQLite
/// writer held that way would fail the job instead of waiting.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_job_cut_off_by_a_crash_runs_again_after_its_lease() {
    use herald::store::Scope;
    use sea_orm::{ConnectionTrait, Database, DbBackend, Statement, TransactionTrait};

    const JOB: &str = "SELECT attempts, done_at IS NOT NULL AS done, last_error FROM jobs \
                       WHERE kind = 'reevaluate_all_gates'";
    let database = TestDatabase::create(Engine::Postgres).await;
    let launch = |name| Launch::new(name, &database.url).env("HERALD_JOB_LEASE_SECONDS", LEASE_SECONDS.to_string());
    let mut first = launch("job-first").start().await;
    let token = first.login().await;
    let product = first.product(&token, json!({ "name": "job-crash" })).await;
    let imported = first
        .ok(
            &token,
            "mutation($p: ID!) { importObservations(productId: $p, scanner: \"trivy\", observations: [{ title: \"CVE-1\", severity: CRITICAL }]) { securityGate } }",
            json!({ "p": product }),
        )
        .await;
    assert_eq!(imported["importObservations"]["securityGate"], "FAILED");

    let db = Database::connect(&database.url).await.expect("connect");
    let hold = db.begin().await.expect("begin");
    let (class, key) = Scope::Product(product.parse().expect("numeric id")).key();
    hold.execute_raw(Statement::from_string(
        DbBackend::Postgres,
        format!("SELECT pg_advisory_xact_lock({class}, {key})"),
    ))
    .await
    .expect("hold the product's lock");

    first
        .ok(
            &token,
            "mutation { updateSettings(input: { thresholds: { critical: 1 } }) { thresholds { critical } } }",
            json!({}),
        )
        .await;
    // Claimed, and waiting for the product inside its run.
    let deadline = Instant::now() + WAIT;
    loop {
        let waiting = db
            .query_one_raw(Statement::from_string(
                DbBackend::Postgres,
                "SELECT count(*) AS n FROM pg_locks WHERE locktype = 'advisory' AND NOT granted",
            ))
            .await
            .expect("pg_locks")
            .expect("a row");
        if waiting.try_get::<i64>("", "n").expect("n") > 0 {
            break;
        }
        assert!(Instant::now() < deadline, "the job never reached the product");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let job_row = || async {
        db.query_one_raw(Statement::from_string(DbBackend::Postgres, JOB))
            .await
            .expect("read the job row")
            .expect("the settings change enqueued the job")
    };
    let job = job_row().await;
    assert_eq!(job.try_get::<i32>("", "attempts").unwrap(), 1);
    assert!(!job.try_get::<bool>("", "done").unwrap());

    first.kill();
    drop(first);
    hold.rollback().await.expect("release the product");

    let second = launch("job-second").start().await;
    let token = second.login().await;
    let gate = "query($id: ID!) { product(id: $id) { securityGate } }";
    let deadline = Instant::now() + WAIT;
    while second.ok(&token, gate, json!({ "id": product })).await["product"]["securityGate"] != "PASSED" {
        assert!(Instant::now() < deadline, "the job was not run again within {WAIT:?}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let job = job_row().await;
    assert_eq!(job.try_get::<i32>("", "attempts").unwrap(), 2, "run again once");
    assert!(job.try_get::<bool>("", "done").unwrap());
    assert_eq!(job.try_get::<Option<String>>("", "last_error").unwrap(), None);
    let names = second
        .ok(
            &token,
            "query { notifications(first: 10) { edges { node { name } } } }",
            json!({}),
        )
        .await;
    let passed = names["notifications"]["edges"]
        .as_array()
        .expect("edges")
        .iter()
        .filter(|e| e["node"]["name"] == "Security gate has changed to Passed")
        .count();
    assert_eq!(passed, 1, "the gate moved once: {names}");
}
