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
    /// Consumer group session timeout in milliseconds.
    #[arg(long, env = "LINTAS_SESSION_TIMEOUT_MS", default_value_t = 10_000)]
    pub session_timeout_ms: u64,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum SubscriberKind {
    Imigrasi,
}

pub async fn run(args: SubscriberArgs) -> anyhow::Result<()> {
    let shutdown = Shutdown::new();
    tokio::spawn(shutdown.clone().on_signals());
    match args.agency {
        SubscriberKind::Imigrasi => {
            let store = Store::connect(&args.database_url, lintas_imigrasi::GROUP).await?;
            store.migrate(lintas_imigrasi::migrations()).await?;
            let mut settings = SubscriberSettings::new(
                lintas_imigrasi::GROUP,
                &args.kafka.brokers,
                lintas_imigrasi::TOPICS,
            );
            settings.max_batch = args.max_batch;
            settings.max_wait = std::time::Duration::from_millis(args.max_wait_ms);
            settings.session_timeout = std::time::Duration::from_millis(args.session_timeout_ms);
            let health = Health::new();
            let runtime = Runtime {
                settings,
                store: store.clone(),
                producer: args.kafka.producer()?,
                health: health.clone(),
                shutdown: shutdown.clone(),
            };
            let api = lintas_imigrasi::router(lintas_imigrasi::ApiState {
                store,
                tokens: tokens(&args.tokens)?,
            });
            let listener = listen(&args.listen).await?;
            tracing::info!(url = %format!("http://{}", listener.local_addr()?), "immigration subscriber listening");
            let server = tokio::spawn(serve(
                listener,
                super::with_ops(api, health),
                shutdown.clone(),
            ));
            let handler = Arc::new(lintas_imigrasi::ImigrasiHandler {
                im1: Default::default(),
            });
            let result = runtime.run(handler).await;
            shutdown.trigger();
            let _ = server.await;
            result
        }
    }
}
