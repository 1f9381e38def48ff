use std::sync::Arc;

use clap::{Args, ValueEnum};
use lintas_kit::consumer::{Runtime, SubscriberSettings};
use lintas_kit::shutdown::Shutdown;
use lintas_kit::store::Store;
use lintas_kit::telemetry::{serve, Health};

use crate::settings::{listen, tokens, KafkaArgs};

#[derive(Args, Debug)]
pub struct SubscriberArgs {
    /// Which agency's subscriber.
    pub agency: SubscriberKind,
    #[command(flatten)]
    pub kafka: KafkaArgs,
    /// Database of the views (the subscriber uses its own schema in it).
    #[arg(long, env = "LINTAS_DATABASE_URL")]
    pub database_url: String,
    #[arg(long, env = "LINTAS_LISTEN", default_value = "127.0.0.1:8083")]
    pub listen: String,
    /// Caller tokens: `token=agency:OFFICE,...`.
    #[arg(long, env = "LINTAS_TOKENS", hide_env_values = true)]
    pub tokens: String,
    /// Records per database transaction, at most.
    #[arg(long, env = "LINTAS_MAX_BATCH", default_value_t = lintas_kit::consumer::DEFAULT_MAX_BATCH)]
    pub max_batch: usize,
    /// Milliseconds a batch waits to fill.
    #[arg(long, env = "LINTAS_MAX_WAIT_MS", default_value_t = 100)]
    pub max_wait_ms: u64,
    /// Create the dead-letter topic at start if missing; off where topics are managed
    /// declaratively (Strimzi) and the subscriber may not create them.
    #[arg(long, env = "LINTAS_CREATE_DEAD_LETTER_TOPIC", default_value_t = true, action = clap::ArgAction::Set)]
    pub create_dead_letter_topic: bool,
    /// Consumer group session timeout in milliseconds.
    #[arg(long, env = "LINTAS_SESSION_TIMEOUT_MS", default_value_t = 10_000)]
    pub session_timeout_ms: u64,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum SubscriberKind {
    Imigrasi,
    Desa,
}

pub async fn run(args: SubscriberArgs) -> anyhow::Result<()> {
    let tokens = tokens(&args.tokens)?;
    match args.agency {
        SubscriberKind::Imigrasi => {
            let handler = lintas_imigrasi::ImigrasiHandler {
                im1: Default::default(),
            };
            let spec = Spec {
                group: lintas_imigrasi::GROUP,
                topics: lintas_imigrasi::TOPICS,
                migrations: lintas_imigrasi::migrations(),
            };
            serve_subscriber(&args, spec, handler, |store| {
                lintas_imigrasi::router(lintas_imigrasi::ApiState { store, tokens })
            })
            .await
        }
        SubscriberKind::Desa => {
            let spec = Spec {
                group: lintas_desa::GROUP,
                topics: lintas_desa::TOPICS,
                migrations: lintas_desa::migrations(),
            };
            serve_subscriber(&args, spec, lintas_desa::DesaHandler::default(), |store| {
                lintas_desa::router(lintas_desa::ApiState { store, tokens })
            })
            .await
        }
    }
}

/// What distinguishes one subscriber from another, to the runtime.
pub struct Spec {
    pub group: &'static str,
    pub topics: &'static [lintas_kit::events::Topic],
    pub migrations: lintas_kit::store::Migrations,
}

/// One subscriber as a service: its store and migrations, its query API with `/livez`,
/// `/readyz` and `/metrics`, and the runtime driving its handler until SIGTERM.
async fn serve_subscriber<H: lintas_kit::consumer::Handler>(
    args: &SubscriberArgs,
    spec: Spec,
    handler: H,
    api: impl FnOnce(Store) -> axum::Router,
) -> anyhow::Result<()> {
    let shutdown = Shutdown::new();
    tokio::spawn(shutdown.clone().on_signals());
    let store = Store::connect(&args.database_url, spec.group).await?;
    store.migrate(spec.migrations).await?;
    let mut settings = SubscriberSettings::new(spec.group, &args.kafka.brokers, spec.topics);
    settings.max_batch = args.max_batch;
    settings.max_wait = std::time::Duration::from_millis(args.max_wait_ms);
    settings.session_timeout = std::time::Duration::from_millis(args.session_timeout_ms);
    settings.create_dead_letter_topic = args.create_dead_letter_topic;
    settings.extra = args.kafka.extra()?;
    let health = Health::new();
    let runtime = Runtime {
        settings,
        store: store.clone(),
        producer: args.kafka.producer()?,
        health: health.clone(),
        shutdown: shutdown.clone(),
    };
    let listener = listen(&args.listen).await?;
    tracing::info!(group = spec.group, url = %format!("http://{}", listener.local_addr()?), "subscriber listening");
    let server = tokio::spawn(serve(
        listener,
        super::with_ops(api(store), health),
        shutdown.clone(),
    ));
    let result = runtime.run(Arc::new(handler)).await;
    shutdown.trigger();
    let _ = server.await;
    result
}
