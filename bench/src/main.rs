//! `herald-bench`: starts Herald in-process on a fresh database and measures
//! delivery latency, delivery throughput and the notification list under load.
//! All traffic stays on 127.0.0.1; every loop is bounded in count and time.

mod harness;
mod latency;
mod list;
mod plans;
mod receiver;
mod replicas;
mod seed;
mod stats;
mod subscribers;
mod throughput;
mod write_isolation;

use std::process::ExitCode;

use clap::{Parser, Subcommand, ValueEnum};

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Engine {
    Postgres,
    Sqlite,
}

#[derive(Debug, Parser)]
#[command(
    name = "herald-bench",
    about = "Benchmarks for Herald, run against an in-process server"
)]
pub struct Cli {
    /// Database engine of the server under test.
    #[arg(long, value_enum, default_value = "postgres", global = true)]
    pub engine: Engine,
    /// PostgreSQL URL used to create (and drop) a fresh database for the run.
    #[arg(
        long,
        env = "TEST_DATABASE_URL",
        default_value = "postgres://postgres@127.0.0.1:5432/test",
        global = true
    )]
    pub database_admin_url: String,
    /// Size of the server's database pool.
    #[arg(long, default_value_t = 20, global = true)]
    pub db_max_connections: u32,
    /// Keep the database at the end and print its URL (for EXPLAIN).
    #[arg(long, global = true)]
    pub keep_db: bool,
    /// Exit with status 2 when a target is not met (errors always exit 1).
    #[arg(long, global = true)]
    pub strict: bool,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Time from a gate flip's mutation response to the Slack webhook's arrival.
    DeliveryLatency(latency::Args),
    /// Deliveries per second of the outbox worker, from a bulk-inserted backlog.
    DeliveryThroughput(throughput::Args),
    /// `notifications(first: 25)` under concurrent load, as admin and as a member (PostgreSQL).
    List(list::Args),
    /// Live subscribers of one product on a separate server process, gate changes at a set rate (PostgreSQL).
    Subscribers(subscribers::Args),
    /// Small writes to one product alone, then during large imports on others (PostgreSQL).
    WriteIsolation(write_isolation::Args),
    /// CI importers on one and two servers of one database, serial and concurrent; live latency across them (PostgreSQL).
    Replicas(replicas::Args),
}

/// What a subcommand came to.
pub struct Outcome {
    /// Requests that failed or answers that were wrong.
    pub errors: u64,
    /// Whether every target was met.
    pub targets_met: bool,
}

#[tokio::main]
async fn main() -> ExitCode {
    {
        use tracing_subscriber::filter::{LevelFilter, Targets};
        use tracing_subscriber::prelude::*;
        // RUST_LOG, when set, prints to stderr; `list --explain` captures the
        // plans PostgreSQL sends as notices.
        let fmt = std::env::var_os("RUST_LOG").is_some().then(|| {
            tracing_subscriber::fmt::layer()
                .with_writer(std::io::stderr)
                .with_filter(tracing_subscriber::EnvFilter::from_default_env())
        });
        let capture = plans::Capture.with_filter(Targets::new().with_target(plans::TARGET, LevelFilter::INFO));
        tracing_subscriber::registry().with(fmt).with(capture).init();
    }
    let cli = Cli::parse();
    if matches!(cli.command, Command::List(_)) && cli.engine != Engine::Postgres {
        eprintln!("list: PostgreSQL only (--engine postgres)");
        return ExitCode::from(64);
    }
    let bench = match harness::Bench::start(&cli).await {
        Ok(b) => b,
        Err(e) => {
            eprintln!("could not start Herald: {e:#}");
            return ExitCode::FAILURE;
        }
    };
    let result = match &cli.command {
        Command::DeliveryLatency(args) => latency::run(&bench, args).await,
        Command::DeliveryThroughput(args) => throughput::run(&bench, args).await,
        Command::List(args) => list::run(&bench, args).await,
        Command::Subscribers(args) => subscribers::run(&bench, args).await,
        Command::WriteIsolation(args) => write_isolation::run(&bench, args).await,
        Command::Replicas(args) => replicas::run(&bench, args).await,
    };
    if let Err(e) = bench.finish(cli.keep_db).await {
        eprintln!("cleanup: {e:#}");
    }
    match result {
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
        Ok(outcome) if outcome.errors > 0 => {
            eprintln!("{} error(s)", outcome.errors);
            ExitCode::FAILURE
        }
        Ok(outcome) if cli.strict && !outcome.targets_met => ExitCode::from(2),
        Ok(_) => ExitCode::SUCCESS,
    }
}
