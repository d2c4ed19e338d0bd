//! The real `herald serve` binary as a child process, for tests that need
//! what an in-process server cannot give: a SIGKILL, a signal, a restart on
//! the same database, the log it writes.
//!
//! The child's stdout and stderr go to a file of its own (`Herald::output`);
//! it is killed and reaped when its guard is dropped, so that a failing
//! assertion never leaves a server running.

use std::fs::File;
use std::path::PathBuf;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use super::{ADMIN_PASSWORD, CREATE_PRODUCT, JWT_SECRET, product_id};

/// How long a process may take to migrate and answer `/healthz`.
pub const STARTUP: Duration = Duration::from_secs(30);
/// How much of the output a failing test prints (the end of it).
const OUTPUT_SHOWN: usize = 64 * 1024;

/// A port that was free a moment ago.
pub fn free_port() -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1:0");
    listener.local_addr().expect("local address").port()
}

/// How to start one `herald serve`: the database and the environment.
///
/// Nothing from the caller's environment reaches the child except what is set
/// here: every `HERALD_*` variable is removed first. The defaults are the test
/// administrator password and JWT secret, webhooks to 127.0.0.1 allowed, cheap
/// argon2 and `RUST_LOG=warn`; `env` replaces any of them.
pub struct Launch {
    name: &'static str,
    database_url: String,
    env: Vec<(String, String)>,
}

impl Launch {
    pub fn new(name: &'static str, database_url: &str) -> Launch {
        Launch {
            name,
            database_url: database_url.to_owned(),
            env: Vec::new(),
        }
        .env("HERALD_ADMIN_PASSWORD", ADMIN_PASSWORD)
        .env("HERALD_JWT_SECRET", JWT_SECRET)
        .env("HERALD_ALLOW_PRIVATE_TARGETS", "true")
        .env("HERALD_ARGON2_MEMORY_KIB", "64")
        .env("RUST_LOG", "warn")
    }

    /// Sets (or replaces) one variable of the child's environment.
    pub fn env(mut self, key: &str, value: impl Into<String>) -> Launch {
        self.env.retain(|(k, _)| k != key);
        self.env.push((key.to_owned(), value.into()));
        self
    }

    /// Removes one variable, default or not, from the child's environment.
    pub fn without(mut self, key: &str) -> Launch {
        self.env.retain(|(k, _)| k != key);
        self
    }

    /// Starts `herald serve` and waits until it answers `/healthz`.
    pub async fn start(self) -> Herald {
        let port = free_port();
        let log = std::env::temp_dir().join(format!("herald-{}-{port}-{}.log", std::process::id(), self.name));
        let out = File::create(&log).expect("create the log file");
        let err = out.try_clone().expect("clone the log file");
        let mut command = Command::new(env!("CARGO_BIN_EXE_herald"));
        command.arg("serve");
        // Nothing from the caller's environment may change the configuration.
        for (key, _) in std::env::vars_os() {
            let key_text = key.to_string_lossy();
            if key_text.starts_with("HERALD_") || key_text == "RUST_LOG" {
                command.env_remove(key);
            }
        }
        command
            .env("DATABASE_URL", &self.database_url)
            .env("HERALD_LISTEN", format!("127.0.0.1:{port}"));
        for (key, value) in &self.env {
            command.env(key, value);
        }
        let admin_password = self
            .env
            .iter()
            .find(|(k, _)| k == "HERALD_ADMIN_PASSWORD")
            .map(|(_, v)| v.clone())
            .unwrap_or_else(|| ADMIN_PASSWORD.to_owned());
        let child = command
            .stdin(Stdio::null())
            .stdout(out)
            .stderr(err)
            .spawn()
            .expect("start the herald binary");
        let mut herald = Herald {
            name: self.name,
            child,
            base: format!("http://127.0.0.1:{port}"),
            log,
            http: reqwest::Client::builder()
                .timeout(Duration::from_secs(10))
                .build()
                .expect("HTTP client"),
            admin_password,
            keep_log: false,
        };
        herald.wait_until_healthy().await;
        herald
    }
}

/// The real `herald serve` as a child process; killed (and reaped) when
/// dropped. On a panic its output is printed and its log file kept.
pub struct Herald {
    pub name: &'static str,
    child: Child,
    /// `http://127.0.0.1:<port>`
    pub base: String,
    log: PathBuf,
    pub http: reqwest::Client,
    admin_password: String,
    keep_log: bool,
}

impl Herald {
    /// `herald serve` on `database_url` with the default environment.
    pub async fn start(name: &'static str, database_url: &str) -> Herald {
        Launch::new(name, database_url).start().await
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

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Everything the process wrote so far, stdout and stderr interleaved.
    pub fn output(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_else(|e| format!("<cannot read {}: {e}>", self.log.display()))
    }

    /// Where the output goes.
    pub fn log_path(&self) -> &std::path::Path {
        &self.log
    }

    /// Keeps the log file when the guard is dropped (to look at it after the test).
    pub fn keep_log(&mut self) {
        self.keep_log = true;
    }

    /// Whether the process is still running (reaps it when it has exited).
    pub fn is_running(&mut self) -> bool {
        self.child.try_wait().expect("poll the child").is_none()
    }

    /// SIGKILL: no shutdown code runs, nothing is flushed or recorded.
    pub fn kill(&mut self) {
        assert!(
            self.is_running(),
            "herald ({}) had already exited before the kill; its output:\n{}",
            self.name,
            self.output()
        );
        self.child.kill().expect("SIGKILL the child");
        self.child.wait().expect("reap the child");
    }

    /// Sends a signal by name (`TERM`, `INT`, …) with the `kill` command.
    pub fn signal(&mut self, signal: &str) {
        assert!(
            self.is_running(),
            "herald ({}) had already exited before SIG{signal}; its output:\n{}",
            self.name,
            self.output()
        );
        let status = Command::new("kill")
            .args([format!("-{signal}"), self.pid().to_string()])
            .status()
            .expect("run the kill command");
        assert!(status.success(), "kill -{signal} {} failed: {status}", self.pid());
    }

    /// SIGTERM, what service managers send.
    pub fn terminate(&mut self) {
        self.signal("TERM");
    }

    /// Waits up to `timeout` for the process to exit by itself; `None` when it
    /// is still running then (it is left running: the guard kills it).
    pub async fn wait_exit(&mut self, timeout: Duration) -> Option<ExitStatus> {
        let deadline = Instant::now() + timeout;
        loop {
            if let Some(status) = self.child.try_wait().expect("poll the child") {
                return Some(status);
            }
            if Instant::now() >= deadline {
                return None;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    }

    pub async fn gql(&self, token: Option<&str>, query: &str, variables: Value) -> Value {
        super::graphql(&self.http, &self.base, token, query, variables).await
    }

    /// The `data` of a request that must not fail.
    pub async fn ok(&self, token: &str, query: &str, variables: Value) -> Value {
        let body = self.gql(Some(token), query, variables).await;
        assert!(
            body.get("errors").is_none(),
            "unexpected errors from {}: {body}",
            self.name
        );
        body["data"].clone()
    }

    /// Creates a product as `token` and returns its id (as `TestApp::product`).
    pub async fn product(&self, token: &str, input: Value) -> String {
        product_id(&self.ok(token, CREATE_PRODUCT, json!({ "i": input })).await)
    }

    /// Logs in as `username`; panics when that fails.
    pub async fn login_as(&self, username: &str, password: &str) -> String {
        super::login(&self.http, &self.base, username, password).await
    }

    /// Logs in as the administrator `admin` with the password it was started with.
    pub async fn login(&self) -> String {
        self.login_as("admin", &self.admin_password).await
    }
}

impl Drop for Herald {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let panicking = std::thread::panicking();
        if panicking {
            let output = self.output();
            let shown = match output.char_indices().rev().nth(OUTPUT_SHOWN) {
                Some((at, _)) => format!("[… {at} bytes left out …]\n{}", &output[at..]),
                None => output,
            };
            eprintln!(
                "--- output of herald ({}), kept at {} ---\n{shown}",
                self.name,
                self.log.display()
            );
        }
        if !panicking && !self.keep_log {
            let _ = std::fs::remove_file(&self.log);
        }
    }
}
