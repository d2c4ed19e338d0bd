//! The real server on a random port, against a fresh SQLite file or a fresh
//! PostgreSQL database, and a small GraphQL client.
#![allow(dead_code)]

pub mod peers;
pub mod process;
pub mod ws;

use std::time::Duration;

use herald::config::{Config, PasswordHashCost};
use sea_orm::{ConnectionTrait, Database};
use serde_json::{Value, json};

pub const ADMIN_PASSWORD: &str = "admin-password-for-tests";
pub const JWT_SECRET: &str = "test-secret-test-secret-test-secret!";
pub const PASSWORD: &str = "password-for-tests";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Engine {
    Sqlite,
    Postgres,
}

/// Runs a test body once per database engine.
#[macro_export]
macro_rules! on_both_engines {
    ($($name:ident),* $(,)?) => {$(
        mod $name {
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn sqlite() {
                super::$name(super::common::Engine::Sqlite).await
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn postgres() {
                super::$name(super::common::Engine::Postgres).await
            }
        }
    )*};
}

/// The PostgreSQL server the tests use: `TEST_DATABASE_URL`, else the local
/// one on 127.0.0.1:5432. A missing server fails the test, loudly.
pub fn postgres_admin_url() -> String {
    std::env::var("TEST_DATABASE_URL").unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".into())
}

fn random_suffix() -> String {
    use rand::Rng;
    let n: u64 = rand::rng().random();
    format!("{n:016x}")
}

enum Storage {
    Sqlite(std::path::PathBuf),
    Postgres { admin_url: String, name: String },
}

pub struct TestApp {
    pub engine: Engine,
    pub base: String,
    pub http: reqwest::Client,
    pub server: herald::Server,
    pub admin_token: String,
    storage: Storage,
}

pub fn test_config(database_url: String) -> Config {
    Config {
        // Webhook stand-ins listen on 127.0.0.1.
        allow_private_targets: true,
        fault_injection: true,
        retry_schedule: herald::domain::retry::RetrySchedule::parse("1s,1s,1s").unwrap(),
        send_timeout: Duration::from_secs(2),
        database_url,
        listen: "127.0.0.1:0".parse().unwrap(),
        jwt_secret: Some(JWT_SECRET.into()),
        admin_password: Some(ADMIN_PASSWORD.into()),
        // Real argon2, cheap parameters.
        password_hash_cost: PasswordHashCost {
            memory_kib: 64,
            iterations: 1,
            parallelism: 1,
        },
        db_max_connections: 5,
        ..Config::default()
    }
}

impl TestApp {
    pub async fn spawn(engine: Engine) -> TestApp {
        Self::spawn_with(engine, |_| {}).await
    }

    /// Starts the server with a configuration adjusted by `adjust`.
    pub async fn spawn_with(engine: Engine, adjust: impl FnOnce(&mut Config)) -> TestApp {
        let (storage, url) = Self::fresh_database(engine).await;
        let mut config = test_config(url);
        adjust(&mut config);
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let server = herald::start(config, listener).await.expect("server starts");
        let base = format!("http://{}", server.addr);
        let mut app = TestApp {
            engine,
            base,
            http: reqwest::Client::new(),
            server,
            admin_token: String::new(),
            storage,
        };
        app.admin_token = app.login("admin", ADMIN_PASSWORD).await;
        app.wait_until_ready().await;
        app
    }

    /// Waits for `/readyz`, as a load balancer would before sending traffic:
    /// on PostgreSQL the event listener connects in the background, and on
    /// a loaded machine that can take a moment after the server answers.
    async fn wait_until_ready(&self) {
        let started = std::time::Instant::now();
        loop {
            let response = self.http.get(format!("{}/readyz", self.base)).send().await;
            if response.is_ok_and(|r| r.status().is_success()) {
                return;
            }
            assert!(
                started.elapsed() < std::time::Duration::from_secs(15),
                "the server did not become ready within 15 s"
            );
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        }
    }

    /// A new empty database: a SQLite file, or a PostgreSQL database of its own.
    async fn fresh_database(engine: Engine) -> (Storage, String) {
        match engine {
            Engine::Sqlite => {
                let path = std::env::temp_dir().join(format!("herald-test-{}.db", random_suffix()));
                let url = format!("sqlite://{}?mode=rwc", path.display());
                (Storage::Sqlite(path), url)
            }
            Engine::Postgres => {
                let admin_url = postgres_admin_url();
                let name = format!("herald_test_{}", random_suffix());
                let admin = Database::connect(&admin_url).await.unwrap_or_else(|e| {
                    panic!("PostgreSQL is required for these tests and did not answer at {admin_url}: {e}. Start it, or set TEST_DATABASE_URL.")
                });
                admin
                    .execute_unprepared(&format!("CREATE DATABASE {name}"))
                    .await
                    .expect("create test database");
                admin.close().await.ok();
                let mut url = url::Url::parse(&admin_url).unwrap();
                url.set_path(&format!("/{name}"));
                (Storage::Postgres { admin_url, name }, url.to_string())
            }
        }
    }

    /// Sends a GraphQL request and returns the whole response body.
    pub async fn gql(&self, token: Option<&str>, query: &str, variables: Value) -> Value {
        graphql(&self.http, &self.base, token, query, variables).await
    }

    /// Sends a request that must succeed and returns its `data`.
    pub async fn ok(&self, token: &str, query: &str, variables: Value) -> Value {
        let body = self.gql(Some(token), query, variables).await;
        assert!(body.get("errors").is_none(), "unexpected errors: {body}");
        body["data"].clone()
    }

    pub async fn login(&self, username: &str, password: &str) -> String {
        login(&self.http, &self.base, username, password).await
    }

    /// Creates a user as admin and returns (id, token).
    pub async fn user(&self, username: &str) -> (String, String) {
        let data = self
            .ok(
                &self.admin_token,
                "mutation($i: CreateUserInput!) { createUser(input: $i) { id } }",
                json!({ "i": { "username": username, "password": PASSWORD, "email": format!("{username}@example.com") } }),
            )
            .await;
        let id = data["createUser"]["id"].as_str().unwrap().to_owned();
        (id, self.login(username, PASSWORD).await)
    }

    /// Creates a product as `token` and returns its id.
    pub async fn product(&self, token: &str, input: Value) -> String {
        product_id(&self.ok(token, CREATE_PRODUCT, json!({ "i": input })).await)
    }

    pub async fn set_member(&self, product_id: &str, user_id: &str, role: &str) {
        self.ok(
            &self.admin_token,
            "mutation($p: ID!, $u: ID!, $r: Role!) { setProductMember(productId: $p, userId: $u, role: $r) { role } }",
            json!({ "p": product_id, "u": user_id, "r": role }),
        )
        .await;
    }

    /// Creates a product group as `token` and returns its id.
    pub async fn group(&self, token: &str, input: Value) -> String {
        let data = self
            .ok(
                token,
                "mutation($i: ProductGroupInput!) { createProductGroup(input: $i) { id } }",
                json!({ "i": input }),
            )
            .await;
        data["createProductGroup"]["id"].as_str().unwrap().to_owned()
    }

    /// Gives `user_id` a role on a product group (as admin).
    pub async fn set_group_member(&self, group_id: &str, user_id: &str, role: &str) {
        self.ok(
            &self.admin_token,
            "mutation($g: ID!, $u: ID!, $r: Role!) { setProductGroupMember(productGroupId: $g, userId: $u, role: $r) { role } }",
            json!({ "g": group_id, "u": user_id, "r": role }),
        )
        .await;
    }

    pub async fn gate(&self, token: &str, product_id: &str) -> String {
        let data = self
            .ok(
                token,
                "query($id: ID!) { product(id: $id) { securityGate } }",
                json!({ "id": product_id }),
            )
            .await;
        data["product"]["securityGate"].as_str().unwrap().to_owned()
    }

    /// Imports findings given as (title, severity) and returns the result.
    pub async fn import(&self, token: &str, product_id: &str, findings: &[(&str, &str)]) -> Value {
        let observations: Vec<Value> = findings
            .iter()
            .map(|(title, severity)| json!({ "title": title, "severity": severity }))
            .collect();
        self.gql(
            Some(token),
            "mutation($p: ID!, $o: [ImportedObservation!]!) { importObservations(productId: $p, scanner: \"trivy\", observations: $o) { created updated resolved securityGate } }",
            json!({ "p": product_id, "o": observations }),
        )
        .await
    }

    /// The first column of the one row `sql` gives, read straight from the
    /// server's database.
    pub async fn scalar<T: sea_orm::TryGetable>(&self, sql: &str) -> T {
        let db = &self.server.state.db;
        db.query_one_raw(sea_orm::Statement::from_string(db.get_database_backend(), sql))
            .await
            .unwrap()
            .expect("a row")
            .try_get_by_index(0)
            .unwrap()
    }

    /// Polls `check` until it holds, for work done in the background.
    pub async fn eventually<F, Fut>(&self, what: &str, mut check: F)
    where
        F: FnMut() -> Fut,
        Fut: std::future::Future<Output = bool>,
    {
        for _ in 0..100 {
            if check().await {
                return;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!("timed out waiting for: {what}");
    }
}

/// POSTs a GraphQL request to the server at `base` and returns the body.
pub async fn graphql(http: &reqwest::Client, base: &str, token: Option<&str>, query: &str, variables: Value) -> Value {
    let mut request = http
        .post(format!("{base}/graphql"))
        .json(&json!({ "query": query, "variables": variables }));
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    let response = request.send().await.expect("GraphQL request sent");
    response.json().await.expect("GraphQL answers JSON")
}

/// Logs in at the server at `base` and returns the session token; panics
/// when that fails.
pub async fn login(http: &reqwest::Client, base: &str, username: &str, password: &str) -> String {
    let body = graphql(
        http,
        base,
        None,
        "mutation($u: String!, $p: String!) { login(username: $u, password: $p) { token } }",
        json!({ "u": username, "p": password }),
    )
    .await;
    body["data"]["login"]["token"]
        .as_str()
        .unwrap_or_else(|| panic!("login as {username} at {base} failed: {body}"))
        .to_owned()
}

/// The `extensions.code` of the first error.
/// Creates a product from `$i`; [`product_id`] reads its answer. The
/// in-process and the server-process harnesses both use it.
pub const CREATE_PRODUCT: &str = "mutation($i: ProductInput!) { createProduct(input: $i) { id } }";

pub fn product_id(data: &Value) -> String {
    data["createProduct"]["id"].as_str().expect("product id").to_owned()
}

pub fn error_code(body: &Value) -> &str {
    body["errors"][0]["extensions"]["code"]
        .as_str()
        .unwrap_or_else(|| panic!("expected an error, got {body}"))
}

impl Drop for TestApp {
    fn drop(&mut self) {
        self.server.abort();
        self.storage.remove();
    }
}

impl Storage {
    /// Deletes the SQLite file, or drops the PostgreSQL database.
    fn remove(&self) {
        match self {
            Storage::Sqlite(path) => {
                for suffix in ["", "-wal", "-shm"] {
                    let _ = std::fs::remove_file(format!("{}{suffix}", path.display()));
                }
            }
            Storage::Postgres { admin_url, name } => {
                let (admin_url, name) = (admin_url.clone(), name.clone());
                // Drop runs inside the test's runtime; use a thread of our own.
                let _ = std::thread::spawn(move || {
                    let rt = tokio::runtime::Builder::new_current_thread()
                        .enable_all()
                        .build()
                        .unwrap();
                    rt.block_on(async {
                        if let Ok(admin) = Database::connect(&admin_url).await {
                            let _ = admin
                                .execute_unprepared(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
                                .await;
                        }
                    });
                })
                .join();
            }
        }
    }
}

/// A fresh empty database for a server run outside the test (e.g. the real
/// binary as a child process); removed when dropped, like `TestApp`'s.
pub struct TestDatabase {
    pub url: String,
    storage: Storage,
}

impl TestDatabase {
    pub async fn create(engine: Engine) -> TestDatabase {
        let (storage, url) = TestApp::fresh_database(engine).await;
        TestDatabase { url, storage }
    }
}

impl Drop for TestDatabase {
    fn drop(&mut self) {
        self.storage.remove();
    }
}
