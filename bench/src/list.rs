//! list: `notifications(first: 25)` under concurrent load on a table of a
//! million notifications, as the administrator, as a member of a tenth of
//! the products, and as the worst case for a member: one whose only product
//! holds just the oldest notifications.

use std::time::{Duration, Instant};

use anyhow::bail;
use axum::body::Bytes;
use sea_orm::{ConnectionTrait, Statement};
use serde_json::{Value, json};

use crate::Outcome;
use crate::harness::{Bench, USER_PASSWORD, local_client};
use crate::seed;
use crate::stats::{CpuTimes, Summary, met};

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Notifications in the table.
    #[arg(long, default_value_t = 1_000_000)]
    pub rows: u64,
    /// Products the notifications are spread over.
    #[arg(long, default_value_t = 100)]
    pub products: u64,
    /// Products the member belongs to (READER), spread over the range.
    #[arg(long, default_value_t = 10)]
    pub member_products: u64,
    /// Concurrent request loops per role, each with its own keep-alive client.
    #[arg(long, default_value_t = 4)]
    pub clients: usize,
    /// Length of each role's run.
    #[arg(long, default_value_t = 20)]
    pub seconds: u64,
    /// Upper bound on the requests of one loop.
    #[arg(long, default_value_t = 200_000)]
    pub max_requests_per_client: u64,
    /// Sequential requests per role before the timed run (not counted).
    #[arg(long, default_value_t = 50)]
    pub warmup: u64,
    /// After the load, print the plans (EXPLAIN ANALYZE, through auto_explain)
    /// of every statement one request runs, per role.
    #[arg(long)]
    pub explain: bool,
}

const PAGE: usize = 25;
const TARGET_P99_MS: f64 = 10.0;
const TARGET_RPS: f64 = 500.0;

const QUERY: &str = "{ notifications(first: 25) { totalCount pageInfo { hasNextPage endCursor } edges { cursor node { id type name createdAt viewed product { id name } } } } }";

struct RoleResult {
    role: &'static str,
    requests: u64,
    errors: u64,
    seconds: f64,
    latency: Summary,
    cpu: CpuTimes,
    first_error: Option<String>,
}

pub async fn run(bench: &Bench, args: &Args) -> anyhow::Result<Outcome> {
    if args.products == 0 || args.member_products > args.products {
        bail!("need 0 < --member-products <= --products");
    }
    println!(
        "list: {} notifications over {} products; member of {}; {} clients × {} s per role",
        args.rows, args.products, args.member_products, args.clients, args.seconds
    );
    let readers = seed_data(bench, args).await?;
    for r in &readers {
        println!("expected totalCount: {} {}", r.role, r.expected);
    }

    let mut results = Vec::new();
    for r in &readers {
        warm_up(bench, &r.token, r.expected, args.warmup).await?;
        results.push(load(bench, args, r.role, &r.token, r.expected).await);
    }

    println!();
    println!(
        "| role | clients | requests | rps | p50 ms | p90 ms | p99 ms | max ms | errors | CPU server+client | CPU postgres |"
    );
    println!("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
    let mut errors = 0;
    let mut all_met = true;
    for r in &results {
        let rps = r.requests as f64 / r.seconds;
        println!(
            "| {} | {} | {} | {:.0} | {:.2} | {:.2} | {:.2} | {:.2} | {} | {:.0}% | {:.0}% |",
            r.role,
            args.clients,
            r.requests,
            rps,
            r.latency.p50,
            r.latency.p90,
            r.latency.p99,
            r.latency.max,
            r.errors,
            100.0 * r.cpu.this_process / r.seconds,
            100.0 * r.cpu.postgres / r.seconds,
        );
        errors += r.errors;
        all_met &= r.latency.count > 0 && r.latency.p99 < TARGET_P99_MS && rps >= TARGET_RPS;
    }
    println!("(CPU in % of one core; the machine's cores are shared by server, load generator and PostgreSQL)");
    println!();
    for r in &results {
        let rps = r.requests as f64 / r.seconds;
        println!(
            "{}: target p99 < {TARGET_P99_MS} ms: {} ({:.2} ms); target ≥ {TARGET_RPS} rps: {} ({rps:.0})",
            r.role,
            met(r.latency.p99 < TARGET_P99_MS),
            r.latency.p99,
            met(rps >= TARGET_RPS),
        );
        if let Some(e) = &r.first_error {
            println!("{}: first error: {e}", r.role);
        }
    }
    if args.explain {
        let roles: Vec<(&str, &str)> = readers.iter().map(|r| (r.role, r.token.as_str())).collect();
        explain(bench, &roles).await?;
    }
    Ok(Outcome {
        errors,
        targets_met: all_met,
    })
}

/// Runs one request per role on a second server whose connections have
/// auto_explain on, and prints what each statement cost and its plan.
async fn explain(bench: &Bench, roles: &[(&str, &str)]) -> anyhow::Result<()> {
    let Some(name) = bench.database_name() else {
        return Ok(());
    };
    let db = bench.db();
    for setting in [
        "session_preload_libraries = 'auto_explain'",
        "auto_explain.log_min_duration = 0",
        "auto_explain.log_analyze = on",
        "auto_explain.log_buffers = on",
        "auto_explain.log_level = 'notice'",
    ] {
        db.execute_unprepared(&format!("ALTER DATABASE {name} SET {setting}"))
            .await?;
    }
    let result = explain_on_second_server(bench, roles).await;
    db.execute_unprepared(&format!("ALTER DATABASE {name} RESET ALL"))
        .await?;
    result
}

async fn explain_on_second_server(bench: &Bench, roles: &[(&str, &str)]) -> anyhow::Result<()> {
    let server = bench.second_server(2).await?;
    let url = format!("http://{}/graphql", server.addr);
    let client = local_client();
    // Let the start-up jobs finish before listening.
    tokio::time::sleep(Duration::from_secs(1)).await;
    for (role, token) in roles {
        // Twice: the first request of a connection also prepares statements.
        for run in 0..2 {
            crate::plans::take();
            let started = Instant::now();
            let body = client
                .post(&url)
                .bearer_auth(token)
                .json(&json!({ "query": QUERY }))
                .send()
                .await?
                .bytes()
                .await?;
            let elapsed = started.elapsed();
            tokio::time::sleep(Duration::from_millis(200)).await;
            if run == 0 {
                continue;
            }
            if body.windows(8).any(|w| w == b"\"errors\"") {
                println!("{role}: the request failed: {}", String::from_utf8_lossy(&body));
            }
            let plans: Vec<_> = crate::plans::take()
                .iter()
                .filter_map(|m| crate::plans::parse(m))
                .collect();
            let total: f64 = plans.iter().map(|p| p.duration_ms).sum();
            println!();
            println!(
                "### {role}: one `notifications(first: 25)` request: {} statements, {total:.2} ms inside PostgreSQL (with EXPLAIN ANALYZE overhead), {:.2} ms end to end",
                plans.len(),
                elapsed.as_secs_f64() * 1000.0
            );
            println!();
            println!("| statements | ms total | query (first 160 characters) |");
            println!("|---:|---:|---|");
            let mut groups: Vec<(String, usize, f64)> = Vec::new();
            for p in &plans {
                let key: String = p.query.split_whitespace().collect::<Vec<_>>().join(" ");
                let key: String = key.chars().take(160).collect();
                match groups.iter_mut().find(|g| g.0 == key) {
                    Some(g) => {
                        g.1 += 1;
                        g.2 += p.duration_ms;
                    }
                    None => groups.push((key, 1, p.duration_ms)),
                }
            }
            for (query, count, ms) in &groups {
                println!("| {count} | {ms:.2} | `{}` |", query.replace('|', "\\|"));
            }
            let mut slowest: Vec<_> = plans.iter().collect();
            slowest.sort_by(|a, b| b.duration_ms.total_cmp(&a.duration_ms));
            for p in slowest.iter().take(3) {
                println!();
                println!("```");
                println!("{}", p.text.trim_end());
                println!("```");
            }
        }
    }
    server.abort();
    server.state.db.clone().close().await.ok();
    Ok(())
}

/// One who reads the list in the run, and the total they should see.
struct Reader {
    role: &'static str,
    token: String,
    expected: i64,
}

/// Notifications of the worst-case member's one product: the oldest ones.
const OLD_ONLY: i64 = 30;

/// Products, the members and the notifications; returns who reads the list
/// and the totals they should see.
async fn seed_data(bench: &Bench, args: &Args) -> anyhow::Result<Vec<Reader>> {
    let db = bench.db();
    let backend = bench.backend();
    let started = Instant::now();

    // Products as the API stores them: no observations, so the gate passes.
    db.execute_raw(Statement::from_sql_and_values(
        backend,
        "INSERT INTO products (name, security_gate, notification_email_to, created_at)
         SELECT 'bench-product-' || lpad(g::text, 4, '0'), 'PASSED', '[]', now() FROM generate_series(1, $1) g",
        [(args.products as i64).into()],
    ))
    .await?;
    let ids: Vec<i64> = db
        .query_all_raw(Statement::from_string(backend, "SELECT id FROM products ORDER BY id"))
        .await?
        .iter()
        .map(|r| r.try_get_by_index::<i64>(0))
        .collect::<Result<_, _>>()?;

    let member_id = bench.create_user("member").await?;
    let step = (args.products / args.member_products.max(1)).max(1) as usize;
    for id in ids.iter().step_by(step).take(args.member_products as usize) {
        bench.set_member(&id.to_string(), &member_id, "READER").await?;
    }
    let member_token = bench.login("member", USER_PASSWORD).await?;
    println!(
        "seeded {} products and the member in {:.1} s",
        ids.len(),
        started.elapsed().as_secs_f64()
    );

    // Oldest first, so that ids grow with created_at as the server writes them.
    // About one in a thousand is an EXCEPTION (no product) or a TASK.
    let inserting = Instant::now();
    db.execute_raw(Statement::from_sql_and_values(
        backend,
        "WITH p AS (SELECT array_agg(id ORDER BY id) AS ids, count(*)::bigint AS n FROM products)
         INSERT INTO notifications (type, name, message, product_id, function, arguments, trace, created_at)
         SELECT
           CASE WHEN g % 997 = 0 THEN 'EXCEPTION' WHEN g % 991 = 0 THEN 'TASK' ELSE 'SECURITY_GATE' END,
           CASE WHEN g % 997 = 0 THEN 'Exception \"DbErr\" has occurred'
                WHEN g % 991 = 0 THEN 'Exception \"DbErr\" has occurred in background task'
                WHEN (g / p.n) % 2 = 0 THEN 'Security gate has changed to Failed'
                ELSE 'Security gate has changed to Passed' END,
           CASE WHEN g % 997 = 0 OR g % 991 = 0 THEN 'connection reset by peer' END,
           CASE WHEN g % 997 = 0 THEN NULL ELSE p.ids[(1 + g % p.n)::int] END,
           CASE WHEN g % 997 = 0 THEN 'graphql::mutation' WHEN g % 991 = 0 THEN 'delete_old_notifications' END,
           NULL,
           CASE WHEN g % 997 = 0 OR g % 991 = 0 THEN 'stack backtrace: 0: herald::bench' END,
           now() - make_interval(secs => 80.0 * 86400.0 * ($1 - g) / $1)
         FROM p, generate_series(1, $1::bigint) g",
        [(args.rows as i64).into()],
    ))
    .await?;
    // The worst case for a member: a product whose notifications are the
    // oldest in the table, so the newest-first page finds none near the top.
    let old_product = bench.create_product(json!({ "name": "bench-old-only" })).await?;
    db.execute_unprepared(&format!(
        "UPDATE notifications SET product_id = {old_product} WHERE id IN
         (SELECT id FROM notifications WHERE type = 'SECURITY_GATE' ORDER BY id LIMIT {OLD_ONLY})"
    ))
    .await?;
    let old_member_id = bench.create_user("old-member").await?;
    bench.set_member(&old_product, &old_member_id, "READER").await?;
    let old_member_token = bench.login("old-member", USER_PASSWORD).await?;
    let counters = seed::refill_counters(bench).await?;
    db.execute_unprepared("VACUUM (ANALYZE) notifications").await?;
    db.execute_unprepared("ANALYZE").await?;
    println!(
        "inserted {} notifications in {:.1} s ({}), VACUUM ANALYZE done",
        args.rows,
        inserting.elapsed().as_secs_f64(),
        match counters {
            Some(rows) => format!("notification_counters refilled: {rows} rows"),
            None => "no notification_counters table".into(),
        }
    );

    let expected_admin = bench.scalar_i64("SELECT COUNT(*) FROM notifications").await?;
    let expected_member = bench
        .scalar_i64(&format!(
            "SELECT COUNT(*) FROM notifications WHERE type IN ('SECURITY_GATE', 'TASK')
             AND product_id IN (SELECT product_id FROM product_members WHERE user_id = {member_id})"
        ))
        .await?;
    Ok(vec![
        Reader {
            role: "admin",
            token: bench.admin_token.clone(),
            expected: expected_admin,
        },
        Reader {
            role: "member",
            token: member_token,
            expected: expected_member,
        },
        Reader {
            role: "old-only member",
            token: old_member_token,
            expected: OLD_ONLY,
        },
    ])
}

/// What is wrong with one answer, if anything.
fn check(body: &[u8], expected_total: i64) -> Result<(), String> {
    let value: Value = serde_json::from_slice(body).map_err(|e| format!("not JSON: {e}"))?;
    if let Some(errors) = value.get("errors") {
        return Err(format!("errors: {errors}"));
    }
    let connection = &value["data"]["notifications"];
    let edges = connection["edges"].as_array().map_or(0, Vec::len);
    if edges != PAGE {
        return Err(format!("{edges} edges, expected {PAGE}"));
    }
    if connection["totalCount"].as_i64() != Some(expected_total) {
        return Err(format!(
            "totalCount {}, expected {expected_total}",
            connection["totalCount"]
        ));
    }
    if connection["pageInfo"]["hasNextPage"] != json!(true) {
        return Err("hasNextPage is not true".into());
    }
    Ok(())
}

async fn warm_up(bench: &Bench, token: &str, expected: i64, n: u64) -> anyhow::Result<()> {
    let client = local_client();
    let body = Bytes::from(serde_json::to_vec(&json!({ "query": QUERY }))?);
    for _ in 0..n {
        let response = client
            .post(bench.graphql_url())
            .bearer_auth(token)
            .header(reqwest::header::CONTENT_TYPE, "application/json")
            .body(body.clone())
            .send()
            .await?;
        let bytes = response.bytes().await?;
        if let Err(e) = check(&bytes, expected) {
            bail!("warm-up: {e}");
        }
    }
    Ok(())
}

async fn load(bench: &Bench, args: &Args, role: &'static str, token: &str, expected: i64) -> RoleResult {
    let body = Bytes::from(serde_json::to_vec(&json!({ "query": QUERY })).expect("JSON"));
    let url = bench.graphql_url();
    let duration = Duration::from_secs(args.seconds);
    let cpu_start = CpuTimes::now();
    let started = Instant::now();
    let deadline = started + duration;
    let mut loops = tokio::task::JoinSet::new();
    for _ in 0..args.clients {
        let (url, token, body) = (url.clone(), token.to_owned(), body.clone());
        let max = args.max_requests_per_client;
        loops.spawn(async move {
            let client = local_client();
            let mut latencies = Vec::with_capacity(16_384);
            let mut errors = 0u64;
            let mut first_error = None;
            while Instant::now() < deadline && (latencies.len() as u64) < max {
                let sent = Instant::now();
                let result = async {
                    let response = client
                        .post(&url)
                        .bearer_auth(&token)
                        .header(reqwest::header::CONTENT_TYPE, "application/json")
                        .body(body.clone())
                        .send()
                        .await
                        .map_err(|e| e.to_string())?;
                    let status = response.status();
                    let bytes = response.bytes().await.map_err(|e| e.to_string())?;
                    if !status.is_success() {
                        return Err(format!("HTTP {status}"));
                    }
                    Ok(bytes)
                }
                .await;
                latencies.push(sent.elapsed().as_secs_f64() * 1000.0);
                if let Err(e) = result.and_then(|bytes| check(&bytes, expected)) {
                    errors += 1;
                    first_error.get_or_insert(e);
                }
            }
            (latencies, errors, first_error)
        });
    }
    let mut latencies = Vec::new();
    let mut errors = 0;
    let mut first_error = None;
    while let Some(done) = loops.join_next().await {
        match done {
            Ok((l, e, f)) => {
                latencies.extend(l);
                errors += e;
                if first_error.is_none() {
                    first_error = f;
                }
            }
            Err(e) => {
                errors += 1;
                first_error.get_or_insert(e.to_string());
            }
        }
    }
    let seconds = started.elapsed().as_secs_f64();
    let cpu = CpuTimes::now().since(cpu_start);
    RoleResult {
        role,
        requests: latencies.len() as u64,
        errors,
        seconds,
        latency: Summary::of(latencies),
        cpu,
        first_error,
    }
}
