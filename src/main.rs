use clap::{Parser, Subcommand};

// Each websocket subscriber owns many small long-lived allocations; glibc's
// per-thread arenas fragment them (19 KiB per idle subscriber, measured with
// herald-bench subscribers, against about 8 KiB with one arena).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// Herald: tells security teams when a product's security gate flips.
#[derive(Parser)]
#[command(version)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Migrate the database and serve the API (configured by environment).
    Serve,
    /// Apply pending database migrations and exit.
    Migrate,
    /// Print the GraphQL schema (SDL) to stdout, or write it to a file.
    ExportSchema {
        #[arg(long)]
        output: Option<std::path::PathBuf>,
    },
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    let filter =
        tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info,sqlx=warn,sea_orm=warn".into());
    let logs = tracing_subscriber::fmt().with_env_filter(filter);
    match std::env::var("HERALD_LOG_FORMAT").as_deref() {
        Ok("json") => logs
            .json()
            .flatten_event(true)
            .with_current_span(true)
            .with_span_list(false)
            .init(),
        Ok("text") | Err(_) => logs.init(),
        Ok(other) => anyhow::bail!("HERALD_LOG_FORMAT: expected text or json, got {other:?}"),
    }
    match cli.command {
        Command::Serve => {
            let config = herald::Config::from_env()?;
            let listener = tokio::net::TcpListener::bind(config.listen).await?;
            let deadline = config.shutdown_timeout;
            let mut server = herald::start(config, listener).await?;
            if let Some(password) = &server.generated_admin_password {
                // Printed once, on purpose, and never logged.
                println!(
                    "Created the first administrator {:?} with the password {password}",
                    server.state.config.admin_username
                );
            }
            tracing::info!(addr = %server.addr, "Herald is serving; GraphiQL at http://{}/graphql", server.addr);
            tokio::select! {
                result = server.wait() => result,
                _ = shutdown_requested() => {
                    tracing::info!(deadline_s = deadline.as_secs(), "shutting down");
                    server.shutdown(deadline).await?;
                    tracing::info!("stopped");
                    Ok(())
                }
            }
        }
        Command::Migrate => {
            let config = herald::Config::from_env()?;
            let db = herald::db::connect(&config).await?;
            herald::db::migrate(&db).await?;
            tracing::info!("migrations applied");
            Ok(())
        }
        Command::ExportSchema { output } => {
            let sdl = herald::graphql::sdl();
            match output {
                Some(path) => std::fs::write(path, sdl)?,
                None => print!("{sdl}"),
            }
            Ok(())
        }
    }
}

/// SIGTERM (what service managers send) or Ctrl-C.
async fn shutdown_requested() {
    let ctrl_c = tokio::signal::ctrl_c();
    #[cfg(unix)]
    {
        let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
            .expect("installing the SIGTERM handler");
        tokio::select! {
            _ = ctrl_c => {}
            _ = term.recv() => {}
        }
    }
    #[cfg(not(unix))]
    let _ = ctrl_c.await;
}
