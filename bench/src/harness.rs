//! Herald started in-process on a fresh database, and a small GraphQL client.

use std::path::PathBuf;
use std::time::Duration;

use anyhow::{Context, anyhow, bail};
use herald::config::{Config, PasswordHashCost};
use sea_orm::{ConnectionTrait, Database, DatabaseConnection, DbBackend, Statement};
use serde_json::{Value, json};

use crate::{Cli, Engine};

pub const ADMIN_PASSWORD: &str = "admin-password-for-bench";
pub const USER_PASSWORD: &str = "user-password-for-bench";
const JWT_SECRET: &str = "bench-secret-bench-secret-bench-secret!";

pub fn random_suffix() -> String {
    use rand::Rng;
    let n: u64 = rand::rng().random();
    format!("{n:016x}")
}

/// A client for 127.0.0.1 only: no proxy from the environment.
pub fn local_client() -> reqwest::Client {
    reqwest::Client::builder()
        .no_proxy()
        .tcp_nodelay(true)
        .timeout(Duration::from_secs(30))
        .build()
        .expect("HTTP client")
}

enum Storage {
    Sqlite(PathBuf),
    Postgres { admin_url: String, name: String },
}

impl Storage {
    async fn create(cli: &Cli) -> anyhow::Result<(Storage, String)> {
        match cli.engine {
            Engine::Sqlite => {
                let path = std::env::temp_dir().join(format!("herald-bench-{}.db", random_suffix()));
                let url = format!("sqlite://{}?mode=rwc", path.display());
                Ok((Storage::Sqlite(path), url))
            }
            Engine::Postgres => {
                let admin_url = cli.database_admin_url.clone();
                let name = format!("herald_bench_{}", random_suffix());
                let admin = Database::connect(&admin_url)
                    .await
                    .with_context(|| format!("PostgreSQL did not answer at {admin_url} (set --database-admin-url)"))?;
                admin.execute_unprepared(&format!("CREATE DATABASE {name}")).await?;
                // Diagnostics: every statement of the run in PostgreSQL's log.
                if std::env::var_os("BENCH_PG_LOG_STATEMENTS").is_some()
                    && let Err(e) = admin
                        .execute_unprepared(&format!("ALTER DATABASE {name} SET log_min_duration_statement = 0"))
                        .await
                {
                    let _ = admin.execute_unprepared(&format!("DROP DATABASE {name}")).await;
                    return Err(e.into());
                }
                admin.close().await.ok();
                let mut url = url::Url::parse(&admin_url)?;
                url.set_path(&format!("/{name}"));
                Ok((Storage::Postgres { admin_url, name }, url.to_string()))
            }
        }
    }

    async fn remove(&self) -> anyhow::Result<()> {
        match self {
            Storage::Sqlite(path) => {
                for suffix in ["", "-wal", "-shm"] {
                    let _ = std::fs::remove_file(format!("{}{suffix}", path.display()));
                }
                Ok(())
            }
            Storage::Postgres { admin_url, name } => {
                let admin = Database::connect(admin_url.as_str()).await?;
                admin
                    .execute_unprepared(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
                    .await?;
                admin.close().await.ok();
                Ok(())
            }
        }
    }
}

fn config(database_url: &str, db_max_connections: u32, run_worker: bool) -> anyhow::Result<Config> {
    Ok(Config {
        database_url: database_url.to_owned(),
        listen: "127.0.0.1:0".parse()?,
        jwt_secret: Some(JWT_SECRET.into()),
        admin_password: Some(ADMIN_PASSWORD.into()),
        // Real argon2, cheap parameters (as the tests).
        password_hash_cost: PasswordHashCost {
            memory_kib: 64,
            iterations: 1,
            parallelism: 1,
        },
        db_max_connections,
        allow_private_targets: true,
        send_timeout: Duration::from_secs(5),
        run_worker,
        ..Config::default()
    })
}

pub struct Bench {
    pub engine: Engine,
    pub server: herald::Server,
    pub base: String,
    pub http: reqwest::Client,
    pub admin_token: String,
    pub database_url: String,
    storage: Storage,
}

impl Bench {
    pub async fn start(cli: &Cli) -> anyhow::Result<Bench> {
        let (storage, database_url) = Storage::create(cli).await?;
        match Self::start_on(cli, &database_url).await {
            Ok((server, admin_token)) => Ok(Bench {
                engine: cli.engine,
                base: format!("http://{}", server.addr),
                server,
                http: local_client(),
                admin_token,
                database_url,
                storage,
            }),
            Err(e) => {
                let _ = storage.remove().await;
                Err(e)
            }
        }
    }

    async fn start_on(cli: &Cli, database_url: &str) -> anyhow::Result<(herald::Server, String)> {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        let server = herald::start(config(database_url, cli.db_max_connections, true)?, listener).await?;
        let base = format!("http://{}", server.addr);
        let token = login_at(&local_client(), &base, "admin", ADMIN_PASSWORD).await?;
        Ok((server, token))
    }

    /// Another server on the same database, with a pool of `pool` and
    /// without a delivery worker (its pool opens new connections, which pick
    /// up per-database settings).
    pub async fn second_server(&self, pool: u32) -> anyhow::Result<herald::Server> {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        herald::start(config(&self.database_url, pool, false)?, listener).await
    }

    pub fn db(&self) -> &DatabaseConnection {
        &self.server.state.db
    }

    pub fn backend(&self) -> DbBackend {
        self.db().get_database_backend()
    }

    pub fn graphql_url(&self) -> String {
        format!("{}/graphql", self.base)
    }

    /// Stops the server and drops its database (unless `keep`).
    pub async fn finish(self, keep: bool) -> anyhow::Result<()> {
        self.server.abort();
        if keep {
            println!("\nkept the database: {}", self.database_url);
            return Ok(());
        }
        self.server.state.db.clone().close().await.ok();
        self.storage.remove().await
    }

    /// Sends a GraphQL request and returns the whole response body.
    pub fn database_name(&self) -> Option<&str> {
        match &self.storage {
            Storage::Postgres { name, .. } => Some(name),
            Storage::Sqlite(_) => None,
        }
    }

    pub async fn gql(&self, token: Option<&str>, query: &str, variables: Value) -> anyhow::Result<Value> {
        gql_at(&self.http, &self.graphql_url(), token, query, variables).await
    }

    /// A request that must succeed; returns its `data`.
    pub async fn ok(&self, token: &str, query: &str, variables: Value) -> anyhow::Result<Value> {
        let body = self.gql(Some(token), query, variables).await?;
        if body.get("errors").is_some() {
            bail!("GraphQL errors: {body}");
        }
        Ok(body["data"].clone())
    }

    pub async fn login(&self, username: &str, password: &str) -> anyhow::Result<String> {
        login_at(&self.http, &self.base, username, password).await
    }

    /// Creates a user as admin; returns its id.
    pub async fn create_user(&self, username: &str) -> anyhow::Result<String> {
        let data = self
            .ok(
                &self.admin_token,
                "mutation($i: CreateUserInput!) { createUser(input: $i) { id } }",
                json!({ "i": { "username": username, "password": USER_PASSWORD, "email": format!("{username}@example.com") } }),
            )
            .await?;
        id_of(&data["createUser"]["id"])
    }

    /// Creates a product as admin; returns its id.
    pub async fn create_product(&self, input: Value) -> anyhow::Result<String> {
        let data = self
            .ok(
                &self.admin_token,
                "mutation($i: ProductInput!) { createProduct(input: $i) { id } }",
                json!({ "i": input }),
            )
            .await?;
        id_of(&data["createProduct"]["id"])
    }

    pub async fn set_member(&self, product_id: &str, user_id: &str, role: &str) -> anyhow::Result<()> {
        self.ok(
            &self.admin_token,
            "mutation($p: ID!, $u: ID!, $r: Role!) { setProductMember(productId: $p, userId: $u, role: $r) { role } }",
            json!({ "p": product_id, "u": user_id, "r": role }),
        )
        .await?;
        Ok(())
    }

    /// One scalar from SQL.
    pub async fn scalar_i64(&self, sql: &str) -> anyhow::Result<i64> {
        let row = self
            .db()
            .query_one_raw(Statement::from_string(self.backend(), sql))
            .await?
            .ok_or_else(|| anyhow!("no row: {sql}"))?;
        Ok(row.try_get_by_index::<i64>(0)?)
    }
}

fn id_of(value: &Value) -> anyhow::Result<String> {
    value
        .as_str()
        .map(str::to_owned)
        .ok_or_else(|| anyhow!("expected an id, got {value}"))
}

pub async fn gql_at(
    http: &reqwest::Client,
    url: &str,
    token: Option<&str>,
    query: &str,
    variables: Value,
) -> anyhow::Result<Value> {
    let mut request = http.post(url).json(&json!({ "query": query, "variables": variables }));
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    let response = request.send().await?;
    let status = response.status();
    let body: Value = response
        .json()
        .await
        .with_context(|| format!("HTTP {status}: not JSON"))?;
    Ok(body)
}

pub async fn login_at(http: &reqwest::Client, base: &str, username: &str, password: &str) -> anyhow::Result<String> {
    let body = gql_at(
        http,
        &format!("{base}/graphql"),
        None,
        "mutation($u: String!, $p: String!) { login(username: $u, password: $p) { token } }",
        json!({ "u": username, "p": password }),
    )
    .await?;
    body["data"]["login"]["token"]
        .as_str()
        .map(str::to_owned)
        .ok_or_else(|| anyhow!("login as {username} failed: {body}"))
}
