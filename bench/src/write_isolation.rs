//! write-isolation: small writes to one product, alone and then while large
//! imports run on other products. Writes to different products must not
//! wait for each other: the p99 during the imports is compared with the p99
//! alone (same run), and `pg_stat_activity` is sampled throughout for
//! sessions waiting on a lock.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use sea_orm::{ConnectionTrait, DbBackend, Statement};
use serde_json::{Value, json};

use crate::Outcome;
use crate::harness::{Bench, random_suffix};
use crate::stats::{Summary, met};

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Concurrent importers, each on a product of its own.
    #[arg(long, default_value_t = 2)]
    pub imports: usize,
    /// Findings per import (each import replaces the previous set: this
    /// many created and as many resolved).
    #[arg(long, default_value_t = 6000)]
    pub rows: usize,
    /// Small writes measured alone, and again during the imports.
    #[arg(long, default_value_t = 200)]
    pub writes: usize,
    /// Pause between small writes.
    #[arg(long, default_value_t = 10)]
    pub interval_ms: u64,
    /// Concurrent writers of the NOTIFY comparison.
    #[arg(long, default_value_t = 8)]
    pub notify_writers: usize,
    /// Seconds of each NOTIFY mode.
    #[arg(long, default_value_t = 3)]
    pub notify_seconds: u64,
}

const TARGET_RATIO: f64 = 5.0;

const CREATE: &str = "mutation($i: ObservationInput!) { createObservation(input: $i) { id } }";
const IMPORT: &str = "mutation($p: ID!, $o: [ImportedObservation!]!) { importObservations(productId: $p, scanner: \"bench\", observations: $o) { created } }";

pub async fn run(bench: &Bench, args: &Args) -> anyhow::Result<Outcome> {
    if bench.backend() != DbBackend::Postgres {
        anyhow::bail!("write-isolation: PostgreSQL only (SQLite has one writer at a time)");
    }
    let suffix = random_suffix();
    let small = bench
        .create_product(json!({ "name": format!("bench-small-{suffix}") }))
        .await?;
    let mut imported = Vec::new();
    for i in 0..args.imports {
        imported.push(
            bench
                .create_product(json!({ "name": format!("bench-import-{i}-{suffix}") }))
                .await?,
        );
    }
    println!(
        "write-isolation: {} small writes alone, then during {} importers of {} rows each",
        args.writes, args.imports, args.rows
    );

    let mut errors = 0u64;
    let alone = small_writes(bench, &small, "alone", args, &mut errors).await;

    let stop = Arc::new(AtomicBool::new(false));
    let imports_done = Arc::new(AtomicU64::new(0));
    let mut importers = Vec::new();
    for product in &imported {
        importers.push(tokio::spawn(import_loop(
            bench.http.clone(),
            bench.graphql_url(),
            bench.admin_token.clone(),
            product.clone(),
            args.rows,
            stop.clone(),
            imports_done.clone(),
        )));
    }
    let sampler = tokio::spawn(sample_waits(bench.server.state.db.clone(), stop.clone()));
    // Let the imports get going before measuring.
    while imports_done.load(Ordering::Relaxed) == 0 {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let during = small_writes(bench, &small, "during", args, &mut errors).await;
    stop.store(true, Ordering::Relaxed);
    for importer in importers {
        errors += importer.await?;
    }
    let waits = sampler.await??;

    let alone = Summary::of(alone);
    let during = Summary::of(during);
    let ratio = during.p99 / alone.p99;
    println!("\nsmall writes (createObservation), ms:");
    println!("  alone:  {alone}");
    println!("  during: {during}");
    println!(
        "  p99 during / p99 alone: {ratio:.2} (target at most {TARGET_RATIO}) {}",
        met(ratio <= TARGET_RATIO)
    );
    println!(
        "imports completed: {} ({} rows each)",
        imports_done.load(Ordering::Relaxed),
        args.rows
    );
    println!(
        "pg_stat_activity, {} samples: sessions waiting on a lock, by what they waited for:",
        waits.samples
    );
    if waits.by_event.is_empty() {
        println!("  none");
    }
    for (event, n) in &waits.by_event {
        println!("  {event}: seen {n} times");
    }
    let no_lock_waits = !waits.by_event.keys().any(|e| e.starts_with("Lock:advisory"));
    println!(
        "no session waited on an advisory lock (another product's transaction): {}",
        met(no_lock_waits)
    );
    notify_at_commit(bench.server.state.db.clone(), args).await?;
    Ok(Outcome {
        errors,
        targets_met: ratio <= TARGET_RATIO && no_lock_waits,
    })
}

/// Where a writing transaction tells the other replicas.
#[derive(Debug, Clone, Copy)]
enum Notify {
    Never,
    /// `pg_notify` inside the transaction (Herald before the write path).
    Inside,
    /// `pg_notify` from the pool after the commit (Herald now, which also
    /// coalesces; here once per commit, the worst case).
    AfterCommit,
}

/// Whether NOTIFY at commit serialises commits: commits per second of
/// `notify_writers` concurrent small transactions in each mode, side by
/// side in one run, with the sessions seen waiting on PostgreSQL's notify
/// lock (`Lock:object`).
async fn notify_at_commit(db: sea_orm::DatabaseConnection, args: &Args) -> anyhow::Result<()> {
    db.execute_unprepared("CREATE TABLE IF NOT EXISTS bench_notify (id BIGSERIAL PRIMARY KEY, v INT)")
        .await?;
    println!(
        "\nNOTIFY at commit: {} writers, {} s each, small INSERT transactions",
        args.notify_writers, args.notify_seconds
    );
    for mode in [Notify::Never, Notify::Inside, Notify::AfterCommit] {
        let stop = Arc::new(AtomicBool::new(false));
        let commits = Arc::new(AtomicU64::new(0));
        let sampler = tokio::spawn(sample_waits(db.clone(), stop.clone()));
        let writers: Vec<_> = (0..args.notify_writers)
            .map(|_| tokio::spawn(notifying_writer(db.clone(), mode, stop.clone(), commits.clone())))
            .collect();
        tokio::time::sleep(Duration::from_secs(args.notify_seconds)).await;
        stop.store(true, Ordering::Relaxed);
        for writer in writers {
            writer.await??;
        }
        let waits = sampler.await??;
        let per_second = commits.load(Ordering::Relaxed) as f64 / args.notify_seconds as f64;
        let on_notify_lock = waits.by_event.get("Lock:object").copied().unwrap_or(0);
        println!(
            "  {mode:?}: {per_second:.0} commits/s; sessions waiting on Lock:object in {on_notify_lock} of {} samples",
            waits.samples
        );
    }
    Ok(())
}

async fn notifying_writer(
    db: sea_orm::DatabaseConnection,
    mode: Notify,
    stop: Arc<AtomicBool>,
    commits: Arc<AtomicU64>,
) -> anyhow::Result<()> {
    use sea_orm::TransactionTrait;
    while !stop.load(Ordering::Relaxed) {
        let txn = db.begin().await?;
        txn.execute_unprepared("INSERT INTO bench_notify (v) VALUES (1)")
            .await?;
        if let Notify::Inside = mode {
            txn.execute_unprepared("SELECT pg_notify('herald_bench', '')").await?;
        }
        txn.commit().await?;
        if let Notify::AfterCommit = mode {
            db.execute_unprepared("SELECT pg_notify('herald_bench', '')").await?;
        }
        commits.fetch_add(1, Ordering::Relaxed);
    }
    Ok(())
}

async fn small_writes(bench: &Bench, product: &str, phase: &str, args: &Args, errors: &mut u64) -> Vec<f64> {
    let mut took = Vec::with_capacity(args.writes);
    for i in 0..args.writes {
        let input = json!({
            "productId": product,
            "title": format!("{phase} {i}"),
            "severity": "LOW",
        });
        let started = Instant::now();
        match bench.gql(Some(&bench.admin_token), CREATE, json!({ "i": input })).await {
            Ok(body) if body.get("errors").is_none() => took.push(started.elapsed().as_secs_f64() * 1000.0),
            Ok(body) => {
                *errors += 1;
                eprintln!("small write: {body}");
            }
            Err(e) => {
                *errors += 1;
                eprintln!("small write: {e:#}");
            }
        }
        tokio::time::sleep(Duration::from_millis(args.interval_ms)).await;
    }
    took
}

/// Imports alternate between two sets of `rows` findings, so that each one
/// creates `rows` observations and resolves as many.
async fn import_loop(
    http: reqwest::Client,
    url: String,
    token: String,
    product: String,
    rows: usize,
    stop: Arc<AtomicBool>,
    done: Arc<AtomicU64>,
) -> u64 {
    let set = |name: &str| -> Value {
        (0..rows)
            .map(|i| json!({ "title": format!("{name} finding {i}"), "severity": "MEDIUM" }))
            .collect()
    };
    let sets = [set("even"), set("odd")];
    let mut errors = 0;
    let mut round = 0usize;
    while !stop.load(Ordering::Relaxed) {
        let variables = json!({ "p": product, "o": sets[round % 2] });
        match crate::harness::gql_at(&http, &url, Some(&token), IMPORT, variables).await {
            Ok(body) if body.get("errors").is_none() => {
                done.fetch_add(1, Ordering::Relaxed);
            }
            Ok(body) => {
                errors += 1;
                eprintln!("import: {}", body["errors"]);
            }
            Err(e) => {
                errors += 1;
                eprintln!("import: {e:#}");
            }
        }
        round += 1;
    }
    errors
}

struct Waits {
    samples: u64,
    /// "Lock:advisory", "Lock:transactionid", "LWLock:…": how often seen.
    by_event: BTreeMap<String, u64>,
}

/// Samples every 20 ms which sessions of this database wait on a lock.
async fn sample_waits(db: sea_orm::DatabaseConnection, stop: Arc<AtomicBool>) -> anyhow::Result<Waits> {
    let query = Statement::from_string(
        DbBackend::Postgres,
        "SELECT wait_event_type || ':' || wait_event AS waiting FROM pg_stat_activity \
         WHERE datname = current_database() AND pid <> pg_backend_pid() \
         AND wait_event_type IN ('Lock', 'LWLock')",
    );
    let mut waits = Waits {
        samples: 0,
        by_event: BTreeMap::new(),
    };
    while !stop.load(Ordering::Relaxed) {
        for row in db.query_all_raw(query.clone()).await? {
            let waiting: String = row.try_get("", "waiting")?;
            *waits.by_event.entry(waiting).or_default() += 1;
        }
        waits.samples += 1;
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    Ok(waits)
}
