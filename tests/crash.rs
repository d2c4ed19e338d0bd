//! At-least-once delivery across a crash: the real binary is killed with
//! SIGKILL while its worker is in the middle of a send (claimed, not yet
//! recorded); a second process on the same database sends the notification
//! again once the lease has expired, and records a single attempt.

mod common;

use std::fs::File;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use common::peers::{Reply, WebhookServer};
use common::{ADMIN_PASSWORD, Engine, JWT_SECRET, TestDatabase};
use serde_json::{Value, json};

/// `HERALD_DELIVERY_LEASE_SECONDS` of both processes.
const LEASE_SECONDS: u64 = 2;
/// How long a process may take to migrate and answer `/healthz`.
const STARTUP: Duration = Duration::from_secs(30);
/// How long a webhook request or a delivery state may take to show up.
const WAIT: Duration = Duration::from_secs(15);

const DELIVERIES: &str = "query {
    notifications { edges { node { name deliveries { channel status attempts history { outcome statusCode } } } } }
}";

/// A port that was free a moment ago.
fn free_port() -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1:0");
    listener.local_addr().expect("local address").port()
}

/// The real `herald serve` as a child process; killed (and reaped) when
/// dropped, so that a failing assertion does not leave it running.
struct Herald {
    name: &'static str,
    child: Child,
    base: String,
    log: PathBuf,
    http: reqwest::Client,
}

impl Herald {
    /// Starts `herald serve` on `database_url` and waits until it answers `/healthz`.
    async fn start(name: &'static str, database_url: &str) -> Herald {
        let port = free_port();
        let log = std::env::temp_dir().join(format!("herald-crash-{}-{port}-{name}.log", std::process::id()));
        let out = File::create(&log).expect("create the log file");
        let err = out.try_clone().expect("clone the log file");
        let mut command = Command::new(env!("CARGO_BIN_EXE_herald"));
        command.arg("serve");
        // Nothing from the caller's environment may change the configuration.
        for (key, _) in std::env::vars_os() {
            if key.to_string_lossy().starts_with("HERALD_") {
                command.env_remove(key);
            }
        }
        let child = command
            .env("DATABASE_URL", database_url)
            .env("HERALD_LISTEN", format!("127.0.0.1:{port}"))
            .env("HERALD_ADMIN_PASSWORD", ADMIN_PASSWORD)
            .env("HERALD_JWT_SECRET", JWT_SECRET)
            .env("HERALD_ALLOW_PRIVATE_TARGETS", "true")
            .env("HERALD_DELIVERY_LEASE_SECONDS", LEASE_SECONDS.to_string())
            .env("HERALD_ARGON2_MEMORY_KIB", "64")
            .env("RUST_LOG", "warn")
            .stdin(Stdio::null())
            .stdout(out)
            .stderr(err)
            .spawn()
            .expect("start the herald binary");
        let mut herald = Herald {
            name,
            child,
            base: format!("http://127.0.0.1:{port}"),
            log,
            http: reqwest::Client::builder()
                .timeout(Duration::from_secs(10))
                .build()
                .expect("HTTP client"),
        };
        herald.wait_until_healthy().await;
        herald
    }

    async fn wait_until_healthy(&mut self) {
        let deadline = Instant::now() + STARTUP;
        loop {
            if let Some(status) = self.child.try_wait().expect("poll the child") {
                panic!(
                    "herald ({}) exited with {status} before answering /healthz; its output:\n{}",
                    self.name,
                    self.output()
                );
            }
            let answer = self.http.get(format!("{}/healthz", self.base)).send().await;
            if answer.is_ok_and(|r| r.status().is_success()) {
                return;
            }
            if Instant::now() >= deadline {
                panic!(
                    "herald ({}) did not answer GET {}/healthz within {STARTUP:?}; its output:\n{}",
                    self.name,
                    self.base,
                    self.output()
                );
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    fn output(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_else(|e| format!("<cannot read {}: {e}>", self.log.display()))
    }

    /// SIGKILL: no shutdown code runs, nothing is flushed or recorded.
    fn kill(&mut self) {
        assert!(
            self.child.try_wait().expect("poll the child").is_none(),
            "herald ({}) had already exited before the kill; its output:\n{}",
            self.name,
            self.output()
        );
        self.child.kill().expect("SIGKILL the child");
        self.child.wait().expect("reap the child");
    }

    async fn gql(&self, token: Option<&str>, query: &str, variables: Value) -> Value {
        common::graphql(&self.http, &self.base, token, query, variables).await
    }

    async fn ok(&self, token: &str, query: &str, variables: Value) -> Value {
        let body = self.gql(Some(token), query, variables).await;
        assert!(
            body.get("errors").is_none(),
            "unexpected errors from {}: {body}",
            self.name
        );
        body["data"].clone()
    }

    async fn login(&self) -> String {
        let body = self
            .gql(
                None,
                "mutation($u: String!, $p: String!) { login(username: $u, password: $p) { token } }",
                json!({ "u": "admin", "p": ADMIN_PASSWORD }),
            )
            .await;
        body["data"]["login"]["token"]
            .as_str()
            .unwrap_or_else(|| panic!("login on {} failed: {body}", self.name))
            .to_owned()
    }

    /// The deliveries of the only notification.
    async fn deliveries(&self, token: &str) -> Vec<Value> {
        let data = self.ok(token, DELIVERIES, json!({})).await;
        let edges = data["notifications"]["edges"].as_array().expect("edges").clone();
        assert_eq!(edges.len(), 1, "expected exactly one notification: {data}");
        edges[0]["node"]["deliveries"].as_array().expect("deliveries").clone()
    }
}

impl Drop for Herald {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        if std::thread::panicking() {
            eprintln!("--- output of herald ({}) ---\n{}", self.name, self.output());
        }
        let _ = std::fs::remove_file(&self.log);
    }
}

async fn a_crash_between_claim_and_record_resends_after_the_lease(engine: Engine) {
    let database = TestDatabase::create(engine).await;
    let hooks = WebhookServer::start().await;
    // The first send never gets an answer: the worker stays between claim and record.
    hooks.script(vec![Reply::Hang]);

    let mut first = Herald::start("first", &database.url).await;
    let token = first.login().await;
    let product = first
        .ok(
            &token,
            "mutation($i: ProductInput!) { createProduct(input: $i) { id } }",
            json!({ "i": { "name": "crash-test", "notificationSlackWebhook": hooks.url("/crash") } }),
        )
        .await["createProduct"]["id"]
        .as_str()
        .expect("product id")
        .to_owned();
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
    let deliveries = first.deliveries(&token).await;
    assert_eq!(deliveries.len(), 1, "{deliveries:?}");
    assert_eq!(deliveries[0]["channel"], "SLACK");
    assert_eq!(
        deliveries[0]["status"], "PENDING",
        "claimed but not recorded: {deliveries:?}"
    );
    assert_eq!(deliveries[0]["attempts"], 0, "{deliveries:?}");

    first.kill();
    drop(first);

    let second = Herald::start("second", &database.url).await;
    let requests = hooks.wait_for(2, WAIT).await;

    let token = second.login().await;
    let deadline = Instant::now() + WAIT;
    let delivery = loop {
        let deliveries = second.deliveries(&token).await;
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
