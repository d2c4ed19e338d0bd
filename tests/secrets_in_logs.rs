//! Secrets never reach the log: the real binary runs with debug logging (as
//! text and as JSON), everything that handles a secret is exercised (logins
//! right and wrong, a user's password, API tokens used, revoked and forged,
//! webhooks that succeed, fail, hang and are refused by the SSRF guard, SMTP
//! with credentials, the metrics token, injected failures and their traces),
//! and then the whole output is searched for every one of those secrets.

mod common;

use std::path::PathBuf;
use std::time::{Duration, Instant};

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use common::peers::{Reply, SmtpServer, WebhookServer};
use common::process::{Herald, Launch};
use common::{Engine, TestDatabase, error_code};
use serde_json::{Value, json};

const ADMIN_PASSWORD: &str = "AdminSecretPw0x7Q";
const USER_PASSWORD: &str = "UserSecretPw0x9Z";
const WRONG_PASSWORD: &str = "WrongSecretPw0x3K";
const JWT_SECRET: &str = "JwtSecretKey0x5M-abcdefghijklmnopqrstuvwxyz";
const METRICS_TOKEN: &str = "MetricsSecret0x2P";
const WRONG_METRICS_TOKEN: &str = "WrongMetrics0x8V";
const SMTP_USER: &str = "smtpuser";
const SMTP_PASSWORD: &str = "SmtpSecretPw0x4R";
const GARBAGE_TOKEN: &str = "GarbageToken0x6T";

/// The secret path segment of each webhook, and what it is for.
const HOOK_SECRETS: [(&str, &str); 10] = [
    ("T0SECRETPATH1", "product Slack webhook, answers 200"),
    (
        "T0SECRETPATH2",
        "product Teams webhook set by updateProduct, answers 200",
    ),
    ("T0SECRETPATH3", "product Slack webhook answering 500 then 410"),
    ("T0SECRETPATH4", "product Slack webhook that hangs once"),
    ("T0SECRETPATH5", "product group Slack webhook (fallback), answers 200"),
    ("T0SECRETPATH6", "settings exceptionSlackWebhook, answers 200"),
    ("T0SECRETPATH7", "settings exceptionMsTeamsWebhook, answers 200"),
    ("T0SECRETPATH8", "sendTestNotification SLACK target, answers 200"),
    (
        "T0SECRETPATH9",
        "product Slack webhook to 127.0.0.1, refused by the SSRF guard",
    ),
    (
        "T0SECRETPATHA",
        "sendTestNotification to 169.254.169.254, refused by the SSRF guard",
    ),
];

/// How long the deliveries may take to settle: one send hangs until the
/// 10 s send timeout, then is retried after 1 s.
const SETTLE: Duration = Duration::from_secs(40);
const WAIT: Duration = Duration::from_secs(15);
/// How long a process may take to exit after SIGTERM.
const EXIT_WAIT: Duration = Duration::from_secs(10);

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum LogFormat {
    Text,
    Json,
}

fn hook_path(secret: &str) -> String {
    format!("/services/{secret}/B0000/XXXX")
}

/// `herald serve` with debug logs, fault injection and every secret set.
async fn start(name: &'static str, database_url: &str, format: LogFormat, allow_private: bool, smtp: &str) -> Herald {
    let mut launch = Launch::new(name, database_url)
        .env("RUST_LOG", "debug,hyper=info,h2=info")
        .env("HERALD_ADMIN_PASSWORD", ADMIN_PASSWORD)
        .env("HERALD_JWT_SECRET", JWT_SECRET)
        .env("HERALD_METRICS_TOKEN", METRICS_TOKEN)
        .env("HERALD_SMTP_URL", smtp)
        .env("HERALD_FAULT_INJECTION", "true")
        .env("HERALD_RETRY_SCHEDULE", "1s,1s,1s")
        .env("HERALD_ALLOW_PRIVATE_TARGETS", allow_private.to_string())
        .env("HERALD_SHUTDOWN_TIMEOUT", "5");
    if format == LogFormat::Json {
        launch = launch.env("HERALD_LOG_FORMAT", "json");
    }
    launch.start().await
}

/// The `extensions.code` of a request that must fail.
async fn refused(herald: &Herald, token: Option<&str>, query: &str, variables: Value) -> String {
    let body = herald.gql(token, query, variables).await;
    error_code(&body).to_owned()
}

/// Imports one critical finding, which fails the product's gate.
async fn flip_gate(herald: &Herald, token: &str, product: &str) {
    let data = herald
        .ok(
            token,
            "mutation($p: ID!, $o: [ImportedObservation!]!) { importObservations(productId: $p, scanner: \"trivy\", observations: $o) { securityGate } }",
            json!({ "p": product, "o": [{ "title": "CVE-2024-0001", "severity": "CRITICAL" }] }),
        )
        .await;
    assert_eq!(data["importObservations"]["securityGate"], "FAILED", "{data}");
}

async fn send_test(herald: &Herald, token: &str, channel: &str, target: &str) -> String {
    herald
        .ok(
            token,
            "mutation($c: Channel!, $t: String!) { sendTestNotification(channel: $c, target: $t) { id } }",
            json!({ "c": channel, "t": target }),
        )
        .await["sendTestNotification"]["id"]
        .as_str()
        .expect("delivery id")
        .to_owned()
}

/// Every delivery: those of the notifications, labelled by notification and
/// target, and the test deliveries `extra`; once none is PENDING or RETRYING.
async fn settled(herald: &Herald, token: &str, extra: &[String], timeout: Duration) -> Vec<(String, Value)> {
    let deadline = Instant::now() + timeout;
    loop {
        let data = herald
            .ok(
                token,
                "query { notifications(first: 50) { edges { node { type name product { name } deliveries { channel target status attempts lastStatusCode lastError } } } } }",
                json!({}),
            )
            .await;
        let mut all = Vec::new();
        for edge in data["notifications"]["edges"].as_array().expect("edges") {
            let node = &edge["node"];
            let label = format!(
                "{} {}",
                node["type"].as_str().unwrap_or_default(),
                node["product"]["name"].as_str().unwrap_or("-")
            );
            for d in node["deliveries"].as_array().expect("deliveries") {
                all.push((label.clone(), d.clone()));
            }
        }
        for id in extra {
            let d = herald
                .ok(
                    token,
                    "query($id: ID!) { delivery(id: $id) { channel target status attempts lastStatusCode lastError } }",
                    json!({ "id": id }),
                )
                .await["delivery"]
                .clone();
            all.push(("TEST -".to_owned(), d));
        }
        if all
            .iter()
            .all(|(_, d)| d["status"] == "SENT" || d["status"] == "FAILED")
        {
            return all;
        }
        assert!(
            Instant::now() < deadline,
            "deliveries of {} still waiting after {timeout:?}: {all:#?}",
            herald.name
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// The delivery whose target contains `needle`.
fn delivery_to<'a>(all: &'a [(String, Value)], needle: &str) -> &'a Value {
    let found: Vec<&Value> = all
        .iter()
        .map(|(_, d)| d)
        .filter(|d| d["target"].as_str().is_some_and(|t| t.contains(needle)))
        .collect();
    assert_eq!(found.len(), 1, "one delivery to {needle}: {all:#?}");
    found[0]
}

/// Sends SIGTERM and waits for a clean exit; returns everything it logged
/// and where the log file is (kept, so that a failure can be looked into).
async fn stop(mut herald: Herald) -> (String, PathBuf) {
    herald.terminate();
    let status = herald
        .wait_exit(EXIT_WAIT)
        .await
        .unwrap_or_else(|| panic!("{} did not exit within {EXIT_WAIT:?} of SIGTERM", herald.name));
    assert!(status.success(), "{} exited with {status}", herald.name);
    herald.keep_log();
    (herald.output(), herald.log_path().to_owned())
}

/// Removes ANSI colour sequences (`ESC [ … letter`), which tracing writes
/// between field names and values.
fn strip_ansi(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        if c == '\u{1b}' && chars.peek() == Some(&'[') {
            chars.next();
            for c in chars.by_ref() {
                if c.is_ascii_alphabetic() {
                    break;
                }
            }
        } else {
            out.push(c);
        }
    }
    out
}

/// Every line of `log` that contains one of the secrets (case-insensitively),
/// named by what the secret is.
fn leaks(log: &str, secrets: &[(String, String)]) -> Vec<String> {
    let mut found = Vec::new();
    for (what, secret) in secrets {
        let needle = secret.to_lowercase();
        for (n, line) in log.lines().enumerate() {
            if line.to_lowercase().contains(&needle) {
                let shown: String = line.chars().take(600).collect();
                found.push(format!("{what} ({secret:?}) on line {}: {shown}", n + 1));
            }
        }
    }
    found
}

/// Whether a JSON log line names its request: a `request_id` (in the event's
/// fields or in one of its spans) that is not the `-` placeholder.
fn has_request_id(line: &Value) -> bool {
    match line {
        Value::Object(map) => map.iter().any(|(k, v)| {
            (k == "request_id" && v.as_str().is_some_and(|id| !id.is_empty() && id != "-")) || has_request_id(v)
        }),
        Value::Array(items) => items.iter().any(has_request_id),
        _ => false,
    }
}

/// Any JSON value, refusing objects that repeat a name: valid JSON, but
/// consumers keep only one of the values (RFC 8259, 4).
struct NoDuplicateKeys;

impl<'de> serde::de::DeserializeSeed<'de> for NoDuplicateKeys {
    type Value = ();

    fn deserialize<D: serde::Deserializer<'de>>(self, deserializer: D) -> Result<(), D::Error> {
        deserializer.deserialize_any(self)
    }
}

impl<'de> serde::de::Visitor<'de> for NoDuplicateKeys {
    type Value = ();

    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("any JSON value")
    }
    fn visit_bool<E>(self, _: bool) -> Result<(), E> {
        Ok(())
    }
    fn visit_i64<E>(self, _: i64) -> Result<(), E> {
        Ok(())
    }
    fn visit_u64<E>(self, _: u64) -> Result<(), E> {
        Ok(())
    }
    fn visit_f64<E>(self, _: f64) -> Result<(), E> {
        Ok(())
    }
    fn visit_str<E>(self, _: &str) -> Result<(), E> {
        Ok(())
    }
    fn visit_unit<E>(self) -> Result<(), E> {
        Ok(())
    }
    fn visit_seq<A: serde::de::SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        while seq.next_element_seed(NoDuplicateKeys)?.is_some() {}
        Ok(())
    }
    fn visit_map<A: serde::de::MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        let mut seen = std::collections::HashSet::new();
        while let Some(key) = map.next_key::<String>()? {
            if !seen.insert(key.clone()) {
                return Err(serde::de::Error::custom(format!(
                    "the name {key:?} appears twice in one object"
                )));
            }
            map.next_value_seed(NoDuplicateKeys)?;
        }
        Ok(())
    }
}

/// What is wrong with a log that should be one JSON object per line, every
/// line logged while serving a request naming it.
fn json_log_problems(text: &str, server: &str) -> Vec<String> {
    let mut problems = Vec::new();
    let mut lines = Vec::new();
    for (n, line) in text.lines().enumerate().filter(|(_, l)| !l.trim().is_empty()) {
        let shown: String = line.chars().take(400).collect();
        let Some(value) = serde_json::from_str::<Value>(line).ok().filter(Value::is_object) else {
            problems.push(format!("line {} is not a JSON object: {shown}", n + 1));
            continue;
        };
        let mut de = serde_json::Deserializer::from_str(line);
        if let Err(e) = serde::de::DeserializeSeed::deserialize(NoDuplicateKeys, &mut de) {
            problems.push(format!("line {}: {e}: {shown}", n + 1));
        }
        lines.push((n + 1, line, value));
    }
    let request_scoped: &[&str] = match server {
        "open" => &[
            "finished processing request",
            "failed login",
            "internal error while serving a request",
        ],
        _ => &["finished processing request"],
    };
    for needle in request_scoped {
        let matching: Vec<_> = lines.iter().filter(|(_, line, _)| line.contains(needle)).collect();
        if matching.is_empty() {
            problems.push(format!("no {needle:?} line at all"));
        }
        for (n, line, value) in matching {
            if !has_request_id(value) {
                let shown: String = line.chars().take(400).collect();
                problems.push(format!(
                    "line {n}, logged while serving a request, has no request_id: {shown}"
                ));
            }
        }
    }
    // Enough to see what is wrong; a broken format would list every line.
    if problems.len() > 20 {
        let more = problems.len() - 20;
        problems.truncate(20);
        problems.push(format!("… and {more} more"));
    }
    problems
}

async fn secrets_never_reach_the_log(engine: Engine, format: LogFormat) {
    let smtp = SmtpServer::start().await;
    let smtp_url = smtp.url_with_credentials(SMTP_USER, SMTP_PASSWORD);
    let ok_hook = WebhookServer::start().await;
    let flaky_hook = WebhookServer::start().await;
    flaky_hook.script(vec![Reply::Status(500, "boom"), Reply::Status(410, "gone")]);
    let hanging_hook = WebhookServer::start().await;
    hanging_hook.script(vec![Reply::Hang]);
    let url = |hook: &WebhookServer, i: usize| hook.url(&hook_path(HOOK_SECRETS[i].0));

    let database = TestDatabase::create(engine).await;
    let herald = start("open", &database.url, format, true, &smtp_url).await;
    let mut tokens: Vec<(String, String)> = Vec::new();

    // Passwords: the administrator's, wrong ones, a new user's.
    let admin = herald.login().await;
    tokens.push(("the administrator's session token".into(), admin.clone()));
    let login = "mutation($u: String!, $p: String!) { login(username: $u, password: $p) { token } }";
    for user in ["admin", "nobody"] {
        let code = refused(&herald, None, login, json!({ "u": user, "p": WRONG_PASSWORD })).await;
        assert_eq!(code, "UNAUTHENTICATED", "wrong password for {user}");
    }
    herald
        .ok(
            &admin,
            "mutation($i: CreateUserInput!) { createUser(input: $i) { id } }",
            json!({ "i": { "username": "alice", "password": USER_PASSWORD, "email": "alice@example.com", "fullName": "Alice Example" } }),
        )
        .await;
    let code = refused(&herald, None, login, json!({ "u": "alice", "p": WRONG_PASSWORD })).await;
    assert_eq!(code, "UNAUTHENTICATED");
    let alice = herald.login_as("alice", USER_PASSWORD).await;
    tokens.push(("alice's session token".into(), alice.clone()));
    let me = herald.ok(&alice, "{ me { username } }", json!({})).await;
    assert_eq!(me["me"]["username"], "alice");

    // Settings: email and the exception webhooks.
    herald
        .ok(
            &admin,
            "mutation($i: SettingsInput!) { updateSettings(input: $i) { emailEnabled } }",
            json!({ "i": {
                "emailFrom": "herald@example.com",
                "exceptionEmailTo": ["ops@example.com"],
                "exceptionSlackWebhook": url(&ok_hook, 5),
                "exceptionMsTeamsWebhook": url(&ok_hook, 6),
            } }),
        )
        .await;

    // An API token, used by a script.
    let created = herald
        .ok(
            &admin,
            "mutation { createApiToken(name: \"ci\") { token apiToken { id } } }",
            json!({}),
        )
        .await;
    let api_token = created["createApiToken"]["token"].as_str().expect("token").to_owned();
    let api_token_id = created["createApiToken"]["apiToken"]["id"]
        .as_str()
        .expect("id")
        .to_owned();
    tokens.push(("the API token".into(), api_token.clone()));
    let me = herald.ok(&api_token, "{ me { username } }", json!({})).await;
    assert_eq!(me["me"]["username"], "admin");

    // Products whose gates flip, with every kind of webhook and email.
    let group = herald
        .ok(
            &admin,
            "mutation($i: ProductGroupInput!) { createProductGroup(input: $i) { id } }",
            json!({ "i": { "name": "group", "notificationSlackWebhook": url(&ok_hook, 4) } }),
        )
        .await["createProductGroup"]["id"]
        .as_str()
        .expect("group id")
        .to_owned();
    let p1 = herald
        .product(
            &admin,
            json!({ "name": "p1", "notificationSlackWebhook": url(&ok_hook, 0),
                "notificationEmailTo": ["secteam@example.com", "alice@example.com"] }),
        )
        .await;
    herald
        .ok(
            &admin,
            "mutation($id: ID!, $i: ProductPatch!) { updateProduct(id: $id, input: $i) { id } }",
            json!({ "id": p1, "i": { "notificationMsTeamsWebhook": url(&ok_hook, 1) } }),
        )
        .await;
    let p2 = herald
        .product(
            &admin,
            json!({ "name": "p2", "notificationSlackWebhook": url(&flaky_hook, 2) }),
        )
        .await;
    let p3 = herald
        .product(
            &admin,
            json!({ "name": "p3", "notificationSlackWebhook": url(&hanging_hook, 3) }),
        )
        .await;
    let p4 = herald
        .product(&admin, json!({ "name": "p4", "productGroupId": group }))
        .await;
    // The script imports with its API token.
    flip_gate(&herald, &api_token, &p1).await;
    for product in [&p2, &p3, &p4] {
        flip_gate(&herald, &admin, product).await;
    }

    // The API token revoked, then tried; a garbage token; an expired session token.
    herald
        .ok(
            &admin,
            "mutation($id: ID!) { revokeApiToken(id: $id) { revokedAt } }",
            json!({ "id": api_token_id }),
        )
        .await;
    let now = chrono::Utc::now().timestamp();
    let expired = jsonwebtoken::encode(
        &jsonwebtoken::Header::new(jsonwebtoken::Algorithm::HS256),
        &herald::auth::jwt::Claims {
            sub: "1".into(),
            iss: herald::auth::jwt::ISSUER.into(),
            iat: now - 7200,
            exp: now - 3600,
        },
        &jsonwebtoken::EncodingKey::from_secret(JWT_SECRET.as_bytes()),
    )
    .expect("sign an expired token");
    tokens.push(("an expired session token".into(), expired.clone()));
    for (what, token) in [
        ("revoked API token", api_token.as_str()),
        ("garbage token", GARBAGE_TOKEN),
        ("expired session token", expired.as_str()),
    ] {
        let code = refused(&herald, Some(token), "{ me { username } }", json!({})).await;
        assert_eq!(code, "UNAUTHENTICATED", "{what}");
    }

    // Test notifications, and failures whose traces are logged and sent.
    let test_deliveries = vec![
        send_test(&herald, &admin, "SLACK", &url(&ok_hook, 7)).await,
        send_test(&herald, &admin, "EMAIL", "test@example.com").await,
    ];
    let fault = "mutation($k: FaultKind!) { injectFault(kind: $k, message: \"injected for the log test\") }";
    let code = refused(&herald, Some(&admin), fault, json!({ "k": "REQUEST" })).await;
    assert_eq!(code, "INTERNAL_SERVER_ERROR");
    herald.ok(&admin, fault, json!({ "k": "TASK" })).await;

    // Metrics, with the right token and a wrong one.
    let metrics = format!("{}/metrics", herald.base);
    let scraped = herald
        .http
        .get(&metrics)
        .bearer_auth(METRICS_TOKEN)
        .send()
        .await
        .expect("scrape");
    assert_eq!(scraped.status(), 200);
    assert!(scraped.text().await.expect("metrics text").contains("herald"));
    let wrong = herald
        .http
        .get(&metrics)
        .bearer_auth(WRONG_METRICS_TOKEN)
        .send()
        .await
        .expect("scrape");
    assert_eq!(wrong.status(), 401);

    // A second server without private targets: the SSRF guard refuses.
    let guarded_database = TestDatabase::create(engine).await;
    let guarded = start("guarded", &guarded_database.url, format, false, &smtp_url).await;
    let guarded_admin = guarded.login().await;
    tokens.push(("the guarded server's session token".into(), guarded_admin.clone()));
    let refused_product = guarded
        .product(
            &guarded_admin,
            json!({ "name": "refused", "notificationSlackWebhook": url(&ok_hook, 8) }),
        )
        .await;
    flip_gate(&guarded, &guarded_admin, &refused_product).await;
    let metadata = format!("http://169.254.169.254{}", hook_path(HOOK_SECRETS[9].0));
    let guarded_tests = vec![send_test(&guarded, &guarded_admin, "SLACK", &metadata).await];
    let guarded_all = settled(&guarded, &guarded_admin, &guarded_tests, WAIT).await;
    for (label, d) in &guarded_all {
        assert_eq!(d["status"], "FAILED", "{label}: refused: {d}");
        let error = d["lastError"].as_str().unwrap_or_default();
        assert!(error.contains("private"), "{label}: {d}");
    }
    let (guarded_log, guarded_path) = stop(guarded).await;

    // Everything settles on the first server.
    let all = settled(&herald, &admin, &test_deliveries, SETTLE).await;
    let flaky = delivery_to(&all, HOOK_SECRETS[2].0);
    assert_eq!(
        (&flaky["status"], &flaky["attempts"], &flaky["lastStatusCode"]),
        (&json!("FAILED"), &json!(2), &json!(410)),
        "500, then 410: {flaky}"
    );
    let hung = delivery_to(&all, HOOK_SECRETS[3].0);
    assert_eq!(
        (&hung["status"], &hung["attempts"]),
        (&json!("SENT"), &json!(2)),
        "timed out once, then sent: {hung}"
    );
    for (label, d) in &all {
        if d != flaky {
            assert_eq!(d["status"], "SENT", "{label}: {d}");
        }
    }
    let paths: Vec<String> = ok_hook.requests().iter().map(|r| r.path.clone()).collect();
    for i in [0, 1, 4, 5, 6, 7] {
        assert!(
            paths.contains(&hook_path(HOOK_SECRETS[i].0)),
            "{} was called: {paths:?}",
            HOOK_SECRETS[i].1
        );
    }
    assert!(
        !paths.contains(&hook_path(HOOK_SECRETS[8].0)),
        "the SSRF guard let a request through"
    );
    let mails = smtp.messages();
    assert!(
        mails.len() >= 5 && mails.iter().all(|m| m.auth_user.as_deref() == Some(SMTP_USER)),
        "mails sent with the SMTP credentials: {mails:#?}"
    );

    let (log, path) = stop(herald).await;

    // The secrets, and the forms they could take on the wire.
    let mut secrets: Vec<(String, String)> = vec![
        ("the administrator's password".into(), ADMIN_PASSWORD.into()),
        ("alice's password".into(), USER_PASSWORD.into()),
        ("a wrong password tried".into(), WRONG_PASSWORD.into()),
        ("HERALD_JWT_SECRET".into(), JWT_SECRET.into()),
        ("HERALD_METRICS_TOKEN".into(), METRICS_TOKEN.into()),
        ("a wrong metrics token tried".into(), WRONG_METRICS_TOKEN.into()),
        ("the SMTP password".into(), SMTP_PASSWORD.into()),
        (
            "the SMTP AUTH PLAIN response".into(),
            BASE64.encode(format!("\0{SMTP_USER}\0{SMTP_PASSWORD}")),
        ),
        ("the SMTP password in base64".into(), BASE64.encode(SMTP_PASSWORD)),
        ("a garbage bearer token".into(), GARBAGE_TOKEN.into()),
    ];
    for (what, token) in &tokens {
        secrets.push((what.clone(), token.clone()));
        // The signature alone is enough to recognise a JWT.
        if let Some((_, signature)) = token.rsplit_once('.') {
            secrets.push((format!("{what}, its signature"), signature.to_owned()));
        }
    }
    for (segment, what) in HOOK_SECRETS {
        secrets.push((format!("the webhook path of the {what}"), segment.to_owned()));
    }

    for (name, raw, path) in [("open", &log, &path), ("guarded", &guarded_log, &guarded_path)] {
        let text = strip_ansi(raw);
        let found = leaks(&text, &secrets);
        assert!(
            found.is_empty(),
            "secrets in the log of the {name} server ({format:?}, {} lines, kept at {}):\n{}",
            text.lines().count(),
            path.display(),
            found.join("\n")
        );

        // The log is real: the search above could have found something.
        let expected: &[&str] = match name {
            "open" => &[
                "delivery attempt",
                "security gate changed",
                "failed login",
                "internal error while serving a request",
                "background job failed",
            ],
            _ => &["delivery attempt", "security gate changed"],
        };
        for needle in expected {
            assert!(
                text.contains(needle),
                "no {needle:?} in the log of the {name} server (kept at {})",
                path.display()
            );
        }
        if format == LogFormat::Json {
            let problems = json_log_problems(&text, name);
            assert!(
                problems.is_empty(),
                "the JSON log of the {name} server (kept at {}) is not as it should be:\n{}",
                path.display(),
                problems.join("\n")
            );
        }
    }
    // Passed: the logs are of no more use.
    let _ = std::fs::remove_file(&path);
    let _ = std::fs::remove_file(&guarded_path);
}

macro_rules! log_tests {
    ($($name:ident: $engine:ident, $format:ident;)*) => {$(
        #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
        async fn $name() {
            secrets_never_reach_the_log(Engine::$engine, LogFormat::$format).await
        }
    )*};
}

log_tests! {
    sqlite_text: Sqlite, Text;
    sqlite_json: Sqlite, Json;
    postgres_text: Postgres, Text;
    postgres_json: Postgres, Json;
}
