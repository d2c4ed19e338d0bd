//! Live subscribers at scale: N authenticated `graphql-transport-ws`
//! subscribers of one product on a separate `herald serve` process (one
//! process may hold at most 20,000 files here), gate changes at a set rate,
//! and when each subscriber receives each notification.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::process::Stdio;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use futures_util::{SinkExt, StreamExt};
use serde_json::json;
use tokio::net::TcpSocket;
use tokio::sync::watch;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::http::HeaderValue;
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;

use crate::Outcome;
use crate::harness::{ADMIN_PASSWORD, Bench, gql_at, local_client, login_at};
use crate::stats::{Summary, met};

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Subscribers to hold open.
    #[arg(long, default_value_t = 19_500)]
    pub subscribers: usize,
    /// Gate changes per second.
    #[arg(long, default_value_t = 5.0)]
    pub rate: f64,
    /// How long to make changes.
    #[arg(long, default_value_t = 20)]
    pub seconds: u64,
    /// Source addresses to spread the connections over (127.0.0.2 and on).
    #[arg(long, default_value_t = 4)]
    pub addresses: u8,
    /// Handshakes in flight at once while connecting.
    #[arg(long, default_value_t = 256)]
    pub connect_concurrency: usize,
}

/// The server's resident memory in KiB.
fn rss_kib(pid: u32) -> anyhow::Result<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status"))?;
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .context("VmRSS not found")
}

/// This process's soft limit of open files.
fn open_file_limit() -> Option<u64> {
    let limits = std::fs::read_to_string("/proc/self/limits").ok()?;
    let line = limits.lines().find(|l| l.starts_with("Max open files"))?;
    line.split_whitespace().nth(3)?.parse().ok()
}

struct Child(std::process::Child);

impl Drop for Child {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// What the web app's inbox subscribes to.
const SUBSCRIPTION: &str = "subscription { notificationCreated { id type name message createdAt viewed product { id name securityGate myRole } user { id username fullName } } }";

/// Receipts of one subscriber: (notification id, when).
type Receipts = Vec<(i64, Instant)>;

async fn subscriber(
    server: SocketAddr,
    source: IpAddr,
    token: Arc<str>,
    ready: Arc<AtomicUsize>,
    mut stop: watch::Receiver<bool>,
) -> anyhow::Result<Receipts> {
    let socket = TcpSocket::new_v4()?;
    socket.bind(SocketAddr::new(source, 0))?;
    let stream = socket.connect(server).await?;
    let mut request = format!("ws://{server}/graphql/ws").into_client_request()?;
    request.headers_mut().insert(
        "sec-websocket-protocol",
        HeaderValue::from_static("graphql-transport-ws"),
    );
    let config = WebSocketConfig::default().read_buffer_size(4096).write_buffer_size(0);
    let (mut ws, _) = tokio_tungstenite::client_async_with_config(request, stream, Some(config)).await?;
    ws.send(Message::Text(
        json!({ "type": "connection_init", "payload": { "token": &*token } })
            .to_string()
            .into(),
    ))
    .await?;
    match ws.next().await {
        Some(Ok(Message::Text(t))) if t.contains("connection_ack") => {}
        other => bail!("no connection_ack: {other:?}"),
    }
    ws.send(Message::Text(
        json!({ "id": "1", "type": "subscribe", "payload": { "query": SUBSCRIPTION } })
            .to_string()
            .into(),
    ))
    .await?;
    ready.fetch_add(1, Ordering::Relaxed);
    let mut receipts = Receipts::new();
    loop {
        tokio::select! {
            message = ws.next() => match message {
                Some(Ok(Message::Text(text))) => {
                    let at = Instant::now();
                    // `…"notificationCreated":{"id":"123",…`
                    const KEY: &str = "\"notificationCreated\":{\"id\":\"";
                    if let Some(start) = text.find(KEY) {
                        let rest = &text[start + KEY.len()..];
                        if let Some(id) = rest.split('"').next().and_then(|v| v.parse().ok()) {
                            receipts.push((id, at));
                        }
                    }
                }
                Some(Ok(_)) => {}
                _ => break,
            },
            _ = stop.changed() => break,
        }
    }
    Ok(receipts)
}

pub async fn run(bench: &Bench, args: &Args) -> anyhow::Result<Outcome> {
    if bench.database_name().is_none() {
        bail!("subscribers: PostgreSQL only (--engine postgres)");
    }
    if let Some(limit) = open_file_limit()
        && (limit as usize) < args.subscribers + 200
    {
        bail!("this process may open {limit} files; raise it first: ulimit -n 20000");
    }
    // The server under test: its own process, on the bench's database.
    let binary = std::env::current_exe()?.with_file_name("herald");
    let port = std::net::TcpListener::bind("127.0.0.1:0")?.local_addr()?.port();
    let server_addr: SocketAddr = format!("127.0.0.1:{port}").parse()?;
    let child = Child(
        std::process::Command::new(&binary)
            .arg("serve")
            .env("DATABASE_URL", &bench.database_url)
            .env("HERALD_LISTEN", server_addr.to_string())
            .env("HERALD_ADMIN_PASSWORD", ADMIN_PASSWORD)
            .env(
                "HERALD_WS_MAX_CONNECTIONS_PER_USER",
                (args.subscribers + 100).to_string(),
            )
            .env("HERALD_DB_MAX_CONNECTIONS", "20")
            .env("RUST_LOG", "warn")
            .stdout(Stdio::null())
            .stderr(Stdio::inherit())
            .spawn()
            .with_context(|| format!("starting {} (cargo build --release -p herald first)", binary.display()))?,
    );
    let base = format!("http://{server_addr}");
    let http = local_client();
    let started = Instant::now();
    while http.get(format!("{base}/readyz")).send().await.is_err() {
        if started.elapsed() > Duration::from_secs(30) {
            bail!("the server did not start");
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let graphql = format!("{base}/graphql");
    let admin = login_at(&http, &base, "admin", ADMIN_PASSWORD).await?;
    let product = gql_at(
        &http,
        &graphql,
        Some(&admin),
        "mutation { createProduct(input: { name: \"live-bench\" }) { id } }",
        json!({}),
    )
    .await?["data"]["createProduct"]["id"]
        .as_str()
        .context("product")?
        .to_owned();
    let member = gql_at(
        &http,
        &graphql,
        Some(&admin),
        "mutation { createUser(input: { username: \"subscriber\", password: \"password-for-bench\" }) { id } }",
        json!({}),
    )
    .await?["data"]["createUser"]["id"]
        .as_str()
        .context("user")?
        .to_owned();
    gql_at(
        &http,
        &graphql,
        Some(&admin),
        "mutation($p: ID!, $u: ID!) { setProductMember(productId: $p, userId: $u, role: READER) { role } }",
        json!({ "p": product, "u": member }),
    )
    .await?;
    let member_token = login_at(&http, &base, "subscriber", "password-for-bench").await?;
    let api_token: Arc<str> = gql_at(
        &http,
        &graphql,
        Some(&member_token),
        "mutation { createApiToken(name: \"bench\") { token } }",
        json!({}),
    )
    .await?["data"]["createApiToken"]["token"]
        .as_str()
        .context("token")?
        .into();

    tokio::time::sleep(Duration::from_secs(1)).await;
    let rss_before = rss_kib(child.0.id())?;

    // Connect, a bounded number of handshakes at a time.
    let ready = Arc::new(AtomicUsize::new(0));
    let (stop_tx, stop_rx) = watch::channel(false);
    let gate = Arc::new(tokio::sync::Semaphore::new(args.connect_concurrency));
    let mut tasks = Vec::with_capacity(args.subscribers);
    let connecting = Instant::now();
    for i in 0..args.subscribers {
        let source = IpAddr::V4(Ipv4Addr::new(
            127,
            0,
            0,
            2 + (i % usize::from(args.addresses.max(1))) as u8,
        ));
        let (token, ready, stop, gate) = (api_token.clone(), ready.clone(), stop_rx.clone(), gate.clone());
        tasks.push(tokio::spawn(async move {
            let permit = gate.acquire_owned().await;
            let before = ready.load(Ordering::Relaxed);
            let run = subscriber(server_addr, source, token, ready.clone(), stop);
            tokio::pin!(run);
            // Hold the permit until this one is subscribed (or failed).
            loop {
                tokio::select! {
                    result = &mut run => { drop(permit); return result; }
                    _ = tokio::time::sleep(Duration::from_millis(5)) => {
                        if ready.load(Ordering::Relaxed) > before { break; }
                    }
                }
            }
            drop(permit);
            run.await
        }));
    }
    while ready.load(Ordering::Relaxed) < args.subscribers {
        if connecting.elapsed() > Duration::from_secs(240) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let held = ready.load(Ordering::Relaxed);
    let connect_time = connecting.elapsed();
    tokio::time::sleep(Duration::from_secs(2)).await;
    let rss_idle = rss_kib(child.0.id())?;

    // Gate changes at the set rate, each answered after its commit.
    let interval = Duration::from_secs_f64(1.0 / args.rate);
    let flips = (args.rate * args.seconds as f64).round() as usize;
    let mut commits = Vec::with_capacity(flips);
    let mut ticker = tokio::time::interval(interval);
    let flipping = Instant::now();
    for i in 0..flips {
        ticker.tick().await;
        let findings = if i % 2 == 0 {
            json!([{ "title": "x", "severity": "CRITICAL" }])
        } else {
            json!([])
        };
        let body = gql_at(
            &http,
            &graphql,
            Some(&admin),
            "mutation($p: ID!, $o: [ImportedObservation!]!) { importObservations(productId: $p, scanner: \"bench\", observations: $o) { securityGate } }",
            json!({ "p": product, "o": findings }),
        )
        .await?;
        if body.get("errors").is_some() {
            bail!("flip failed: {body}");
        }
        commits.push(Instant::now());
    }
    let flip_time = flipping.elapsed();
    let rss_busy = rss_kib(child.0.id())?;
    // Let the last messages arrive.
    tokio::time::sleep(Duration::from_secs(10)).await;
    let _ = stop_tx.send(true);
    let mut receipts: Vec<Receipts> = Vec::with_capacity(tasks.len());
    let mut failed = 0u64;
    for t in tasks {
        match t.await {
            Ok(Ok(r)) => receipts.push(r),
            _ => failed += 1,
        }
    }
    drop(child);

    // The i-th flip made the i-th notification.
    let mut ids: Vec<i64> = receipts.iter().flatten().map(|(id, _)| *id).collect();
    ids.sort_unstable();
    ids.dedup();
    let commit_of: std::collections::HashMap<i64, Instant> = ids.iter().copied().zip(commits.iter().copied()).collect();
    let mut latencies = Vec::new();
    let mut last_receipt: std::collections::HashMap<i64, Instant> = Default::default();
    let (mut first_commit, mut last_seen) = (None::<Instant>, None::<Instant>);
    for (id, at) in receipts.iter().flatten() {
        if let Some(commit) = commit_of.get(id) {
            latencies.push(at.saturating_duration_since(*commit).as_secs_f64() * 1000.0);
            let last = last_receipt.entry(*id).or_insert(*at);
            *last = (*last).max(*at);
            first_commit = Some(first_commit.map_or(*commit, |f: Instant| f.min(*commit)));
            last_seen = Some(last_seen.map_or(*at, |l: Instant| l.max(*at)));
        }
    }
    let until_last: Vec<f64> = last_receipt
        .iter()
        .map(|(id, at)| at.saturating_duration_since(commit_of[id]).as_secs_f64() * 1000.0)
        .collect();
    let delivered = latencies.len();
    let expected = held * flips;
    let span = match (first_commit, last_seen) {
        (Some(f), Some(l)) => l.saturating_duration_since(f).as_secs_f64(),
        _ => 0.0,
    };
    let per_message = Summary::of(latencies);
    let per_notification = Summary::of(until_last);
    let per_subscriber_kib = (rss_idle.saturating_sub(rss_before)) as f64 / held.max(1) as f64;
    let missing = expected.saturating_sub(delivered) as u64;
    let rate = delivered as f64 / span.max(f64::EPSILON);

    println!("| measure | value |");
    println!("|---|---|");
    println!(
        "| subscribers held | {held} of {} (connected in {:.1} s) |",
        args.subscribers,
        connect_time.as_secs_f64()
    );
    println!(
        "| server RSS | {rss_before} KiB before, {rss_idle} KiB idle with subscribers, {rss_busy} KiB after the changes |"
    );
    println!(
        "| server memory per subscriber | {per_subscriber_kib:.1} KiB (target ≤ 16: {}) |",
        met(per_subscriber_kib <= 16.0)
    );
    println!(
        "| gate changes | {flips} in {:.1} s ({:.2}/s) |",
        flip_time.as_secs_f64(),
        flips as f64 / flip_time.as_secs_f64()
    );
    println!("| messages delivered | {delivered} of {expected}; {rate:.0}/s |");
    println!(
        "| commit → receipt, per message | p50 {:.1} ms, p99 {:.1} ms, max {:.1} ms |",
        per_message.p50, per_message.p99, per_message.max
    );
    println!(
        "| commit → last subscriber, per change | p50 {:.1} ms, p99 {:.1} ms (target < 500: {}) |",
        per_notification.p50,
        per_notification.p99,
        met(per_notification.p99 < 500.0)
    );
    println!("| errors | {failed} subscriber tasks failed, {missing} messages missing |");
    Ok(Outcome {
        errors: failed + missing,
        targets_met: per_subscriber_kib <= 16.0 && per_notification.p99 < 500.0 && missing == 0,
    })
}
