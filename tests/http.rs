//! The HTTP server from outside: connection timeouts (raw TCP), the content
//! security policies, and login throttling by client address, through a
//! trusted proxy and from an untrusted peer.

mod common;

use std::time::{Duration, Instant};

use common::ws::{TRANSPORT_WS, WsClient};
use common::{Engine, PASSWORD, TestApp, error_code};
use herald::domain::client_address::{ForwardedHeader, TrustedProxies};
use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

const HEADER_TIMEOUT: Duration = Duration::from_secs(1);
const IDLE_TIMEOUT: Duration = Duration::from_secs(3);

async fn with_short_timeouts() -> TestApp {
    TestApp::spawn_with(Engine::Sqlite, |c| {
        c.http_header_timeout = HEADER_TIMEOUT;
        c.http_idle_timeout = IDLE_TIMEOUT;
    })
    .await
}

async fn raw(app: &TestApp) -> TcpStream {
    TcpStream::connect(app.server.addr).await.expect("connects")
}

/// Reads until the server closes the connection (or `limit` passes: then
/// `None`), and returns when that happened.
async fn closed_within(socket: &mut TcpStream, limit: Duration) -> Option<Instant> {
    let mut buf = [0u8; 4096];
    let deadline = tokio::time::Instant::now() + limit;
    loop {
        match tokio::time::timeout_at(deadline, socket.read(&mut buf)).await {
            Err(_) => return None,
            Ok(Ok(0)) | Ok(Err(_)) => return Some(Instant::now()),
            Ok(Ok(_)) => continue,
        }
    }
}

/// Reads one whole response to `GET /healthz` (its body is short, with a
/// content length).
async fn read_response(socket: &mut TcpStream) -> String {
    let mut got = Vec::new();
    let mut buf = [0u8; 4096];
    loop {
        let n = tokio::time::timeout(Duration::from_secs(5), socket.read(&mut buf))
            .await
            .expect("a response")
            .expect("read");
        assert!(n > 0, "closed before the response was complete");
        got.extend_from_slice(&buf[..n]);
        let text = String::from_utf8_lossy(&got).to_string();
        if let Some((head, body)) = text.split_once("\r\n\r\n") {
            let length: usize = head
                .lines()
                .find_map(|l| {
                    l.to_ascii_lowercase()
                        .strip_prefix("content-length:")
                        .map(|v| v.trim().parse().unwrap())
                })
                .expect("a content length");
            if body.len() >= length {
                return text;
            }
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn half_sent_headers_are_closed_after_the_header_timeout() {
    let app = with_short_timeouts().await;
    let mut socket = raw(&app).await;
    socket
        .write_all(b"GET /healthz HTTP/1.1\r\nHost: herald\r\n")
        .await
        .unwrap();
    let sent = Instant::now();
    let closed = closed_within(&mut socket, Duration::from_secs(10))
        .await
        .expect("the server closes a connection whose headers never end");
    let after = closed - sent;
    assert!(
        after >= HEADER_TIMEOUT - Duration::from_millis(200),
        "closed too early: {after:?}"
    );
    assert!(
        after < HEADER_TIMEOUT + Duration::from_secs(2),
        "closed late: {after:?}"
    );

    // A connection that sends nothing at all is closed as soon.
    let mut silent = raw(&app).await;
    let opened = Instant::now();
    let closed = closed_within(&mut silent, Duration::from_secs(10))
        .await
        .expect("closed");
    assert!(closed - opened < HEADER_TIMEOUT + Duration::from_secs(2));

    // Headers that arrive slowly but in time are served.
    let mut slow = raw(&app).await;
    for part in [
        "GET /healthz HTTP/1.1\r\n",
        "Host: herald\r\n",
        "Connection: close\r\n",
        "\r\n",
    ] {
        slow.write_all(part.as_bytes()).await.unwrap();
        tokio::time::sleep(Duration::from_millis(150)).await;
    }
    assert!(read_response(&mut slow).await.starts_with("HTTP/1.1 200"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn idle_keep_alive_connections_are_closed_after_the_idle_timeout() {
    let app = with_short_timeouts().await;
    let mut socket = raw(&app).await;
    for _ in 0..2 {
        socket
            .write_all(b"GET /healthz HTTP/1.1\r\nHost: herald\r\n\r\n")
            .await
            .unwrap();
        assert!(read_response(&mut socket).await.starts_with("HTTP/1.1 200"));
    }
    let answered = Instant::now();
    // Kept alive past the header timeout: idle is not half-sent...
    assert_eq!(
        closed_within(&mut socket, HEADER_TIMEOUT + Duration::from_millis(500)).await,
        None,
        "an idle connection lives until the idle timeout"
    );
    // ...and closed at the idle timeout.
    let closed = closed_within(&mut socket, Duration::from_secs(10))
        .await
        .expect("the server closes an idle connection");
    let after = closed - answered;
    assert!(
        after >= IDLE_TIMEOUT - Duration::from_millis(200),
        "closed too early: {after:?}"
    );
    assert!(after < IDLE_TIMEOUT + Duration::from_secs(2), "closed late: {after:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn websockets_outlive_the_idle_timeout() {
    let app = with_short_timeouts().await;
    let mut socket = WsClient::authenticated(&app.base, TRANSPORT_WS, &app.admin_token).await;
    tokio::time::sleep(IDLE_TIMEOUT + Duration::from_secs(1)).await;
    socket
        .subscribe("1", "subscription { unviewedNotificationCount }")
        .await;
    let data = socket.next_data("1", Duration::from_secs(5)).await;
    assert_eq!(data["unviewedNotificationCount"], 0);
}

fn csp(response: &reqwest::Response) -> String {
    response
        .headers()
        .get("content-security-policy")
        .map(|v| v.to_str().unwrap().to_owned())
        .unwrap_or_default()
}

fn assert_strict(what: &str, policy: &str) {
    assert!(policy.contains("script-src 'self';"), "{what}: {policy}");
    assert!(policy.contains("style-src 'self';"), "{what}: {policy}");
    assert!(!policy.contains("unsafe-inline"), "{what}: {policy}");
    assert!(!policy.contains("unpkg"), "{what}: {policy}");
    assert!(policy.contains("frame-ancestors 'none'"), "{what}: {policy}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn only_graphiqls_page_relaxes_the_content_security_policy() {
    let app = TestApp::spawn(Engine::Sqlite).await;
    for path in ["/", "/products/7", "/healthz"] {
        let response = app.http.get(format!("{}{path}", app.base)).send().await.unwrap();
        assert_strict(path, &csp(&response));
    }
    let response = app
        .http
        .post(format!("{}/graphql", app.base))
        .json(&json!({ "query": "{ __typename }" }))
        .send()
        .await
        .unwrap();
    assert_strict("POST /graphql", &csp(&response));

    let graphiql = app
        .http
        .get(format!("{}/graphql", app.base))
        .header("accept", "text/html")
        .send()
        .await
        .unwrap();
    let policy = csp(&graphiql);
    assert!(
        policy.contains("https://unpkg.com"),
        "GraphiQL loads from unpkg: {policy}"
    );
    assert!(
        policy.contains("'unsafe-inline'"),
        "GraphiQL runs inline code: {policy}"
    );
    assert!(policy.contains("frame-ancestors 'none'"), "{policy}");
    assert!(graphiql.text().await.unwrap().contains("graphiql"));
}

const LOGIN: &str = "mutation($u: String!, $p: String!) { login(username: $u, password: $p) { token } }";

/// A login sent with `X-Forwarded-For: forwarded_for`.
async fn login_via(app: &TestApp, forwarded_for: &str, username: &str, password: &str) -> Value {
    app.http
        .post(format!("{}/graphql", app.base))
        .header("x-forwarded-for", forwarded_for)
        .json(&json!({ "query": LOGIN, "variables": { "u": username, "p": password } }))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap()
}

fn assert_signed_in(what: &str, body: &Value) {
    assert!(body["data"]["login"]["token"].is_string(), "{what}: {body}");
}

fn assert_throttled(what: &str, body: &Value) {
    assert_eq!(error_code(body), "TOO_MANY_REQUESTS", "{what}: {body}");
    assert!(
        body["errors"][0]["message"].as_str().unwrap().contains("try again in"),
        "{body}"
    );
}

/// The test client's connections come from 127.0.0.1: here a trusted proxy.
async fn logins_are_throttled_per_client_behind_a_trusted_proxy(engine: Engine) {
    let app = TestApp::spawn_with(engine, |c| {
        c.trusted_proxies = TrustedProxies::parse("127.0.0.1/32", ForwardedHeader::XForwardedFor).unwrap();
    })
    .await;
    app.user("alice").await;
    let attacker = "203.0.113.7";
    for _ in 0..=herald::auth::throttle::SCHEDULE.free {
        let body = login_via(&app, attacker, "alice", "wrong").await;
        assert_eq!(error_code(&body), "UNAUTHENTICATED", "{body}");
    }
    let body = login_via(&app, attacker, "alice", PASSWORD).await;
    assert_throttled("the attacker waits, even with the right password", &body);
    // What the client writes left of the proxy's entry is not believed.
    let body = login_via(&app, &format!("198.51.100.9, {attacker}"), "alice", PASSWORD).await;
    assert_throttled("a spoofed hop changes nothing", &body);
    let body = login_via(&app, "198.51.100.9", "alice", PASSWORD).await;
    assert_signed_in("the real user from another address", &body);
    let body = login_via(&app, attacker, "admin", common::ADMIN_PASSWORD).await;
    assert_signed_in("another user from the attacker's address", &body);

    // One address trying many accounts is stopped for all of them.
    let sprayer = "203.0.113.50";
    for i in 0..herald::auth::throttle::PER_ADDRESS {
        let body = login_via(&app, sprayer, &format!("nobody{i}"), "guess").await;
        assert_eq!(error_code(&body), "UNAUTHENTICATED", "{body}");
    }
    let body = login_via(&app, sprayer, "alice", PASSWORD).await;
    assert_throttled("the spraying address", &body);
    let body = login_via(&app, "203.0.113.51", "alice", PASSWORD).await;
    assert_signed_in("its neighbour", &body);
}

/// Without trusted proxies the header is the client's word: every attempt
/// counts for the peer, whatever address it claims.
async fn an_untrusted_peer_cannot_pick_its_address(engine: Engine) {
    let app = TestApp::spawn(engine).await;
    app.user("alice").await;
    for i in 0..=herald::auth::throttle::SCHEDULE.free {
        let body = login_via(&app, &format!("198.51.100.{i}"), "alice", "wrong").await;
        assert_eq!(error_code(&body), "UNAUTHENTICATED", "{body}");
    }
    let body = login_via(&app, "198.51.100.200", "alice", PASSWORD).await;
    assert_throttled("a fresh claimed address", &body);
}

on_both_engines!(
    logins_are_throttled_per_client_behind_a_trusted_proxy,
    an_untrusted_peer_cannot_pick_its_address,
);
