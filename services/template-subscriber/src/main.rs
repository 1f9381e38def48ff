//! Runs the subscriber. Configuration from the environment:
//! LINTAS_BROKERS, LINTAS_SCHEMA_REGISTRY_URL, LINTAS_DATABASE_URL (postgres://… or
//! sqlite://…), LINTAS_LISTEN (default 127.0.0.1:8090: /livez, /readyz, /metrics).

use std::sync::Arc;

use lintas_kit::codec::Codec;
use lintas_kit::consumer::{Runtime, SubscriberSettings};
use lintas_kit::producer::{EventProducer, ProducerSettings};
use lintas_kit::registry::RegistryClient;
use lintas_kit::shutdown::Shutdown;
use lintas_kit::store::Store;
use lintas_kit::telemetry::{init_logging, ops_router, serve, Health};
use lintas_template_subscriber::{migrations, TemplateHandler, GROUP, TOPICS};

fn env(name: &str) -> anyhow::Result<String> {
    std::env::var(name).map_err(|_| anyhow::anyhow!("set {name}"))
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    init_logging(std::env::var("LINTAS_LOG_JSON").is_ok());
    let brokers = env("LINTAS_BROKERS")?;
    let shutdown = Shutdown::new();
    tokio::spawn(shutdown.clone().on_signals());

    let store = Store::connect(&env("LINTAS_DATABASE_URL")?, GROUP).await?;
    store.migrate(migrations()).await?;
    let codec = Codec::new(RegistryClient::new(&env("LINTAS_SCHEMA_REGISTRY_URL")?), "");
    let producer = EventProducer::new(&ProducerSettings::new(&brokers), codec)?;

    let health = Health::new();
    let listen = std::env::var("LINTAS_LISTEN").unwrap_or_else(|_| "127.0.0.1:8090".into());
    let listener = tokio::net::TcpListener::bind(&listen).await?;
    tokio::spawn(serve(
        listener,
        ops_router(health.clone()),
        shutdown.clone(),
    ));

    let runtime = Runtime {
        settings: SubscriberSettings::new(GROUP, &brokers, TOPICS),
        store,
        producer,
        health,
        shutdown,
    };
    runtime.run(Arc::new(TemplateHandler)).await
}
