//! delivery-throughput: a backlog of N Slack deliveries inserted with SQL,
//! then the worker is woken and timed until every one is SENT.

use std::time::{Duration, Instant};

use anyhow::bail;
use sea_orm::{ConnectionTrait, DbBackend, Statement};
use serde_json::json;

use crate::Outcome;
use crate::harness::{Bench, random_suffix};
use crate::receiver::Receiver;
use crate::seed;
use crate::stats::{CpuTimes, Summary, met};

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Deliveries in the backlog.
    #[arg(long, default_value_t = 20_000)]
    pub deliveries: u64,
    /// Give up after this many seconds.
    #[arg(long, default_value_t = 300)]
    pub timeout_seconds: u64,
}

const TARGET_PER_SECOND: f64 = 2000.0;

pub async fn run(bench: &Bench, args: &Args) -> anyhow::Result<Outcome> {
    let n = args.deliveries;
    let receiver = Receiver::start(false).await?;
    let target = format!("{}/slack/throughput", receiver.base);
    // The product the notification is about; its own webhook is not used.
    let product: i64 = bench
        .create_product(json!({ "name": format!("bench-throughput-{}", random_suffix()) }))
        .await?
        .parse()?;
    let db = bench.db();
    let backend = bench.backend();
    let now = chrono::Utc::now();

    let inserting = Instant::now();
    let notification_id = {
        let sql = match backend {
            DbBackend::Postgres => {
                "INSERT INTO notifications (type, name, gate_status, product_id, created_at) VALUES ('SECURITY_GATE', 'Security gate has changed to Failed', 'FAILED', $1, $2) RETURNING id"
            }
            _ => {
                "INSERT INTO notifications (type, name, gate_status, product_id, created_at) VALUES ('SECURITY_GATE', 'Security gate has changed to Failed', 'FAILED', ?, ?) RETURNING id"
            }
        };
        let row = db
            .query_one_raw(Statement::from_sql_and_values(
                backend,
                sql,
                [product.into(), now.into()],
            ))
            .await?
            .ok_or_else(|| anyhow::anyhow!("no id returned"))?;
        row.try_get_by_index::<i64>(0)?
    };
    let insert = match backend {
        DbBackend::Postgres => Statement::from_sql_and_values(
            backend,
            "INSERT INTO deliveries (notification_id, channel, target, status, attempts, next_attempt_at, created_at, updated_at)
             SELECT $1, 'SLACK', $2, 'PENDING', 0, $3, $3, $3 FROM generate_series(1, $4)",
            [notification_id.into(), target.clone().into(), now.into(), (n as i64).into()],
        ),
        _ => Statement::from_sql_and_values(
            backend,
            "WITH RECURSIVE s(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM s WHERE i < ?)
             INSERT INTO deliveries (notification_id, channel, target, status, attempts, next_attempt_at, created_at, updated_at)
             SELECT ?, 'SLACK', ?, 'PENDING', 0, ?, ?, ? FROM s",
            [
                (n as i64).into(),
                notification_id.into(),
                target.clone().into(),
                now.into(),
                now.into(),
                now.into(),
            ],
        ),
    };
    let inserted = db.execute_raw(insert).await?.rows_affected();
    if inserted != n {
        bail!("inserted {inserted} deliveries, expected {n}");
    }
    let counters = seed::refill_counters(bench).await?;
    if backend == DbBackend::Postgres {
        db.execute_unprepared("ANALYZE deliveries").await?;
    }
    println!(
        "delivery-throughput: engine {:?}, {n} deliveries inserted in {:.2} s (notification {notification_id}{})",
        bench.engine,
        inserting.elapsed().as_secs_f64(),
        if counters.is_some() { ", counters refilled" } else { "" }
    );

    let cpu_start = CpuTimes::now();
    let woken = Instant::now();
    bench.server.state.signals.outbox.notify_one();
    let deadline = Duration::from_secs(args.timeout_seconds);
    let received = receiver.wait_for(n, deadline).await;
    let all_received = woken.elapsed();
    let sent_sql = "SELECT COUNT(*) FROM deliveries WHERE status = 'SENT'";
    let mut sent = bench.scalar_i64(sent_sql).await?;
    while received && (sent as u64) < n && woken.elapsed() < deadline {
        tokio::time::sleep(Duration::from_millis(20)).await;
        sent = bench.scalar_i64(sent_sql).await?;
    }
    let elapsed = woken.elapsed();
    let cpu = CpuTimes::now().since(cpu_start);

    let mut errors = 0;
    let got = receiver.count();
    if got != n || sent as u64 != n {
        errors += 1;
        eprintln!("receiver counted {got}, deliveries SENT {sent}, expected {n} each");
    }
    let not_sent = bench
        .scalar_i64("SELECT COUNT(*) FROM deliveries WHERE status <> 'SENT'")
        .await?;
    let attempts = attempt_durations(bench).await?;

    let rate = n as f64 / elapsed.as_secs_f64();
    let rate_received = n as f64 / all_received.as_secs_f64();
    let wall = elapsed.as_secs_f64();
    println!();
    println!("| measure | value |");
    println!("|---|---:|");
    println!("| deliveries | {n} |");
    println!(
        "| wake → receiver counted all | {:.2} s ({rate_received:.0}/s) |",
        all_received.as_secs_f64()
    );
    println!("| wake → all rows SENT | {wall:.2} s |");
    println!("| **deliveries/s** | **{rate:.0}** |");
    println!("| rows not SENT at the end | {not_sent} |");
    println!(
        "| attempt HTTP time (delivery_attempts.duration_ms) p50 / p99 / max | {:.0} / {:.0} / {:.0} ms |",
        attempts.p50, attempts.p99, attempts.max
    );
    println!(
        "| sends in flight on average (Σ duration_ms / wall time) | {:.1} |",
        attempts.mean * attempts.count as f64 / 1000.0 / wall
    );
    println!(
        "| CPU: this process (server + receiver) | {:.1} s ({:.0}% of one core) |",
        cpu.this_process,
        100.0 * cpu.this_process / wall
    );
    println!(
        "| CPU: PostgreSQL processes | {:.1} s ({:.0}% of one core) |",
        cpu.postgres,
        100.0 * cpu.postgres / wall
    );
    println!();
    let ok = errors == 0 && rate >= TARGET_PER_SECOND;
    println!(
        "target ≥ {TARGET_PER_SECOND:.0} deliveries/s: {} ({rate:.0}/s)",
        met(ok)
    );
    Ok(Outcome {
        errors,
        targets_met: ok,
    })
}

/// The recorded duration of every attempt, in milliseconds.
async fn attempt_durations(bench: &Bench) -> anyhow::Result<Summary> {
    let rows = bench
        .db()
        .query_all_raw(Statement::from_string(
            bench.backend(),
            "SELECT duration_ms FROM delivery_attempts",
        ))
        .await?;
    let sample = rows
        .iter()
        .filter_map(|r| r.try_get_by_index::<i64>(0).ok())
        .map(|v| v as f64)
        .collect();
    Ok(Summary::of(sample))
}
