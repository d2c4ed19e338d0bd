//! delivery-latency: flip one product's gate N times through GraphQL and time
//! each Slack message from the mutation's response to its arrival.

use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::Outcome;
use crate::harness::{Bench, random_suffix};
use crate::receiver::Receiver;
use crate::stats::{Summary, met};

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Gate flips (each one is one notification and one Slack request).
    #[arg(long, default_value_t = 300)]
    pub flips: usize,
    /// Pause between flips.
    #[arg(long, default_value_t = 20)]
    pub interval_ms: u64,
    /// Flips before the measured ones (a cold pool opens its connections
    /// then); reported apart, not counted.
    #[arg(long, default_value_t = 10)]
    pub warmup: usize,
    /// Print every flip's figures.
    #[arg(long)]
    pub verbose: bool,
}

const TARGET_P99_MS: f64 = 100.0;

const IMPORT: &str = "mutation($p: ID!, $o: [ImportedObservation!]!) { importObservations(productId: $p, scanner: \"bench\", observations: $o) { securityGate } }";

pub async fn run(bench: &Bench, args: &Args) -> anyhow::Result<Outcome> {
    let receiver = Receiver::start(true).await?;
    let product = bench
        .create_product(json!({
            "name": format!("bench-latency-{}", random_suffix()),
            "notificationSlackWebhook": format!("{}/slack/latency", receiver.base),
        }))
        .await?;
    println!(
        "delivery-latency: engine {:?}, {} warm-up + {} measured flips, {} ms apart, product {product}",
        bench.engine, args.warmup, args.flips, args.interval_ms
    );

    let mut errors = 0u64;
    let total = args.warmup + args.flips;
    let mut responses: Vec<Instant> = Vec::with_capacity(total);
    let mut round_trips: Vec<f64> = Vec::with_capacity(total);
    let mut wall_clock = Vec::with_capacity(total);
    let started = Instant::now();
    for i in 0..total {
        // Even flips fail the gate with a CRITICAL finding, odd ones resolve it.
        let (observations, expected) = if i % 2 == 0 {
            (
                json!([{ "title": "bench critical finding", "severity": "CRITICAL" }]),
                "FAILED",
            )
        } else {
            (json!([]), "PASSED")
        };
        let sent = Instant::now();
        let body = bench
            .gql(
                Some(&bench.admin_token),
                IMPORT,
                json!({ "p": product, "o": observations }),
            )
            .await;
        let arrived = Instant::now();
        responses.push(arrived);
        wall_clock.push(chrono::Utc::now());
        round_trips.push(ms(arrived - sent));
        match body {
            Ok(body) if body["data"]["importObservations"]["securityGate"] == expected => {}
            Ok(body) => {
                errors += 1;
                eprintln!("flip {i}: expected {expected}, got {body}");
            }
            Err(e) => {
                errors += 1;
                eprintln!("flip {i}: {e:#}");
            }
        }
        tokio::time::sleep(Duration::from_millis(args.interval_ms)).await;
    }
    let flipping = started.elapsed();

    let n = total as u64;
    if !receiver.wait_for(n, Duration::from_secs(30)).await {
        eprintln!("only {} of {n} webhook requests arrived within 30 s", receiver.count());
    }
    // Anything beyond one request per flip would be a duplicate.
    tokio::time::sleep(Duration::from_millis(500)).await;
    let log = receiver.log();
    if log.len() as u64 != n {
        errors += 1;
        eprintln!("expected {n} webhook requests, got {}", log.len());
    }

    // Flips alternate Failed and Passed; when two deliveries are in flight at
    // once they may arrive swapped, so the k-th "Failed" message belongs to
    // the k-th failing flip (and likewise for "Passed").
    let mut next_of = [0usize, 1usize];
    let mut matched: Vec<Option<Instant>> = vec![None; responses.len()];
    let mut swapped = 0u64;
    let mut unmatched = 0u64;
    for (k, (at, body)) in log.iter().enumerate() {
        let text = text_of(body);
        let class = if text.ends_with("Failed") {
            0
        } else if text.ends_with("Passed") {
            1
        } else {
            unmatched += 1;
            eprintln!("unexpected webhook body: {body}");
            continue;
        };
        let flip = next_of[class];
        if flip >= responses.len() {
            unmatched += 1;
            continue;
        }
        next_of[class] += 2;
        if flip != k {
            swapped += 1;
        }
        matched[flip] = Some(*at);
    }
    if unmatched > 0 {
        errors += unmatched;
        eprintln!("{unmatched} webhook requests matched no flip");
    }
    let mut latencies = Vec::with_capacity(args.flips);
    let mut cold = Vec::with_capacity(args.warmup);
    for (i, at) in matched.iter().enumerate() {
        let Some(at) = at else {
            if i >= args.warmup {
                errors += 1;
            }
            continue;
        };
        let signed = if *at >= responses[i] {
            ms(*at - responses[i])
        } else {
            -ms(responses[i] - *at)
        };
        if args.verbose {
            println!(
                "flip {i}: {signed:.2} ms after the response (round trip {:.2} ms, response at {})",
                round_trips[i],
                wall_clock[i].format("%H:%M:%S%.6f")
            );
        }
        if i < args.warmup {
            cold.push(signed);
        } else {
            latencies.push(signed);
        }
    }

    let early = latencies.iter().filter(|l| **l < 0.0).count();
    let lat = Summary::of(latencies);
    let cold = Summary::of(cold);
    let rt = Summary::of(round_trips.split_off(args.warmup.min(round_trips.len())));
    println!();
    println!("| measure | count | p50 ms | p90 ms | p99 ms | max ms |");
    println!("|---|---:|---:|---:|---:|---:|");
    println!(
        "| webhook arrival − mutation response | {} | {:.2} | {:.2} | {:.2} | {:.2} |",
        lat.count, lat.p50, lat.p90, lat.p99, lat.max
    );
    if cold.count > 0 {
        println!(
            "| same, warm-up flips (fresh server, not counted) | {} | {:.2} | {:.2} | {:.2} | {:.2} |",
            cold.count, cold.p50, cold.p90, cold.p99, cold.max
        );
    }
    println!(
        "| importObservations round trip | {} | {:.2} | {:.2} | {:.2} | {:.2} |",
        rt.count, rt.p50, rt.p90, rt.p99, rt.max
    );
    println!();
    println!(
        "flipping took {:.1} s; {early} webhook(s) arrived before their mutation's response (negative values); \
         {swapped} arrived out of flip order; errors: {errors}",
        flipping.as_secs_f64()
    );
    let ok = lat.count > 0 && lat.p99 < TARGET_P99_MS;
    println!("target p99 < {TARGET_P99_MS} ms: {} ({:.2} ms)", met(ok), lat.p99);
    Ok(Outcome {
        errors,
        targets_met: ok,
    })
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

fn text_of(body: &Value) -> &str {
    body["text"].as_str().unwrap_or_default()
}
