//! replicas: two Herald servers on one PostgreSQL database, each with its
//! own pool, publisher and listener (in this one process). CI importers on
//! their own products, one after another and all at once, through one
//! server and through both; then how long an event committed through one
//! server takes to reach a live subscriber of the other.

use std::time::{Duration, Instant};

use anyhow::bail;
use futures_util::{SinkExt, StreamExt};
use sea_orm::DbBackend;
use serde_json::{Value, json};
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::http::HeaderValue;

use crate::Outcome;
use crate::harness::{Bench, gql_at, random_suffix};
use crate::stats::{Summary, met};

#[derive(Debug, clap::Args)]
pub struct Args {
    /// CI importers, each on a product of its own.
    #[arg(long, default_value_t = 8)]
    pub importers: usize,
    /// Findings per import (each import replaces the previous set).
    #[arg(long, default_value_t = 2000)]
    pub rows: usize,
    /// Imports per importer in each phase.
    #[arg(long, default_value_t = 2)]
    pub rounds: usize,
    /// Pool of each server.
    #[arg(long, default_value_t = 20)]
    pub pool: u32,
    /// Gate changes timed from one server to a subscriber of the other.
    #[arg(long, default_value_t = 50)]
    pub samples: usize,
}

const TARGET_SPEEDUP: f64 = 1.6;

const IMPORT: &str = "mutation($p: ID!, $o: [ImportedObservation!]!) { importObservations(productId: $p, scanner: \"bench\", observations: $o) { created } }";

pub async fn run(bench: &Bench, args: &Args) -> anyhow::Result<Outcome> {
    if bench.backend() != DbBackend::Postgres {
        bail!("replicas: PostgreSQL only");
    }
    let second = bench.second_server(args.pool).await?;
    let bases = [bench.base.clone(), format!("http://{}", second.addr)];
    let suffix = random_suffix();
    let mut products = Vec::new();
    for i in 0..args.importers {
        products.push(
            bench
                .create_product(json!({ "name": format!("bench-replica-{i}-{suffix}") }))
                .await?,
        );
    }
    let sets = [findings("even", args.rows), findings("odd", args.rows)];
    // Every measured import then creates `rows` and resolves as many.
    let mut errors = 0u64;
    errors += imports(bench, &bases[..1], &products, &sets[1], true).await;
    println!(
        "replicas: {} importers of {} rows, {} rounds each phase, pool {} per server",
        args.importers, args.rows, args.rounds, args.pool
    );

    let mut all_met = true;
    for servers in [1, 2] {
        let mut took = [Duration::ZERO; 2];
        for (phase, concurrent) in [false, true].into_iter().enumerate() {
            let started = Instant::now();
            for round in 0..args.rounds {
                errors += imports(bench, &bases[..servers], &products, &sets[round % 2], concurrent).await;
            }
            took[phase] = started.elapsed();
        }
        let imports = (args.importers * args.rounds) as f64;
        let speedup = took[0].as_secs_f64() / took[1].as_secs_f64();
        all_met &= speedup >= TARGET_SPEEDUP;
        println!(
            "  {servers} server(s): serial {:.2} imports/s ({:.1} s), concurrent {:.2} imports/s ({:.1} s): {speedup:.2}x (target at least {TARGET_SPEEDUP}) {}",
            imports / took[0].as_secs_f64(),
            took[0].as_secs_f64(),
            imports / took[1].as_secs_f64(),
            took[1].as_secs_f64(),
            met(speedup >= TARGET_SPEEDUP),
        );
    }

    let latency = across(bench, &bases, &products[0], args.samples, &mut errors).await?;
    println!("\ngate change through server 1 -> subscriber of server 2, ms (after the mutation answered): {latency}");
    second.abort();
    Ok(Outcome {
        errors,
        targets_met: all_met,
    })
}

fn findings(name: &str, rows: usize) -> Value {
    (0..rows)
        .map(|i| json!({ "title": format!("{name} finding {i}"), "severity": "MEDIUM" }))
        .collect()
}

/// One import per product, one after another or all at once; product `i`
/// goes to server `i % servers`. Returns the number of failures.
async fn imports(bench: &Bench, bases: &[String], products: &[String], set: &Value, concurrent: bool) -> u64 {
    let calls = products.iter().enumerate().map(|(i, product)| {
        let url = format!("{}/graphql", bases[i % bases.len()]);
        let variables = json!({ "p": product, "o": set });
        async move {
            match gql_at(&bench.http, &url, Some(&bench.admin_token), IMPORT, variables).await {
                Ok(body) if body.get("errors").is_none() => 0,
                Ok(body) => {
                    eprintln!("import: {}", body["errors"]);
                    1
                }
                Err(e) => {
                    eprintln!("import: {e:#}");
                    1
                }
            }
        }
    });
    if concurrent {
        futures_util::future::join_all(calls).await.into_iter().sum()
    } else {
        let mut failed = 0;
        for call in calls {
            failed += call.await;
        }
        failed
    }
}

/// Flips `product`'s gate through the first server `samples` times and
/// times each notification's arrival at a subscriber of the second, from
/// the mutation's answer (its commit).
async fn across(
    bench: &Bench,
    bases: &[String],
    product: &str,
    samples: usize,
    errors: &mut u64,
) -> anyhow::Result<Summary> {
    let ws_url = format!("{}/graphql/ws", bases[1].replacen("http", "ws", 1));
    let mut request = ws_url.into_client_request()?;
    request.headers_mut().insert(
        "sec-websocket-protocol",
        HeaderValue::from_static("graphql-transport-ws"),
    );
    let (mut ws, _) = tokio_tungstenite::connect_async(request).await?;
    let send = |v: Value| Message::Text(v.to_string().into());
    ws.send(send(
        json!({ "type": "connection_init", "payload": { "token": bench.admin_token } }),
    ))
    .await?;
    match ws.next().await {
        Some(Ok(Message::Text(t))) if t.contains("connection_ack") => {}
        other => bail!("no connection_ack: {other:?}"),
    }
    ws.send(send(json!({ "id": "1", "type": "subscribe", "payload": { "query": "subscription { notificationCreated { id } }" } })))
        .await?;
    // The subscription is registered once the server has read the message;
    // give it a moment before the first change.
    tokio::time::sleep(Duration::from_millis(200)).await;
    let url = format!("{}/graphql", bases[0]);
    let mut took = Vec::with_capacity(samples);
    for i in 0..samples {
        let set = if i % 2 == 0 {
            json!([{ "title": "flip", "severity": "CRITICAL" }])
        } else {
            json!([])
        };
        let body = gql_at(
            &bench.http,
            &url,
            Some(&bench.admin_token),
            IMPORT,
            json!({ "p": product, "o": set }),
        )
        .await?;
        let committed = Instant::now();
        if body.get("errors").is_some() {
            *errors += 1;
            eprintln!("flip: {}", body["errors"]);
            continue;
        }
        loop {
            match tokio::time::timeout(Duration::from_secs(10), ws.next()).await {
                Ok(Some(Ok(Message::Text(t)))) if t.contains("notificationCreated") => {
                    took.push(committed.elapsed().as_secs_f64() * 1000.0);
                    break;
                }
                Ok(Some(Ok(_))) => {}
                other => bail!("the subscriber of the second server heard nothing: {other:?}"),
            }
        }
    }
    Ok(Summary::of(took))
}
