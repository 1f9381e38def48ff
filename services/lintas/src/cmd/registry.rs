use clap::Args;
use lintas_kit::http::serve;
use lintas_kit::shutdown::Shutdown;
use lintas_kit::store::Store;
use lintas_kit::telemetry::Health;

use crate::settings::listen;

#[derive(Args, Debug)]
pub struct RegistryArgs {
    /// Database of the registry (its own schema `registry` is used).
    #[arg(long, env = "LINTAS_DATABASE_URL")]
    pub database_url: String,
    #[arg(long, env = "LINTAS_LISTEN", default_value = "127.0.0.1:8081")]
    pub listen: String,
    /// Timeouts, limits and TLS of the HTTP server.
    #[command(flatten)]
    pub http: lintas_kit::http::HttpSettings,
}

pub async fn run(args: RegistryArgs) -> anyhow::Result<()> {
    let shutdown = Shutdown::new();
    let mut tasks = lintas_kit::tasks::Tasks::new(shutdown.clone());
    let signals = shutdown.clone();
    tasks.spawn("signals", async move {
        signals.on_signals().await;
        Ok(())
    });
    let router = registry_router(&args.database_url, "registry").await?;
    let health = Health::new();
    let listener = listen(&args.listen).await?;
    tracing::info!(url = %format!("{}://{}", args.http.scheme(), listener.local_addr()?), "schema registry listening");
    let routes = super::with_ops(router, health);
    let http = args.http.clone();
    tasks.spawn("http-server", async move {
        serve(listener, routes, &http, shutdown).await
    });
    tasks.join().await
}

/// The registry's routes on its own schema (PostgreSQL) or file (SQLite).
pub async fn registry_router(database_url: &str, schema: &str) -> anyhow::Result<axum::Router> {
    let store = Store::connect(database_url, schema).await?;
    let registry = lintas_registry::Registry::new(store.pool().clone()).await?;
    Ok(registry.router())
}
