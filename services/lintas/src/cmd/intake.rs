use std::time::Duration;

use clap::Args;
use lintas_intake::IntakeState;
use lintas_kit::producer::EventProducer;
use lintas_kit::shutdown::Shutdown;
use lintas_kit::telemetry::{serve, Health};

use crate::settings::{keyer, listen, tokens, KafkaArgs};

#[derive(Args, Debug)]
pub struct IntakeArgs {
    #[command(flatten)]
    pub kafka: KafkaArgs,
    #[arg(long, env = "LINTAS_LISTEN", default_value = "127.0.0.1:8082")]
    pub listen: String,
    /// Caller tokens: `token=agency:OFFICE,...`.
    #[arg(long, env = "LINTAS_TOKENS", hide_env_values = true)]
    pub tokens: String,
    /// Shared key of the pseudonymous subject key (HMAC of the NIK), at least 32 bytes.
    #[arg(long, env = "LINTAS_SUBJECT_KEY_SECRET", hide_env_values = true)]
    pub subject_key_secret: String,
}

pub async fn run(args: IntakeArgs) -> anyhow::Result<()> {
    let shutdown = Shutdown::new();
    tokio::spawn(shutdown.clone().on_signals());
    let producer = args.kafka.producer()?;
    // A contract the registry refuses must stop the intake before it accepts anything.
    producer.codec().register_all().await?;
    let health = Health::new();
    tokio::spawn(watch_broker(
        producer.clone(),
        health.clone(),
        shutdown.clone(),
    ));
    let state = IntakeState {
        producer: producer.clone(),
        keyer: keyer(&args.subject_key_secret)?,
        tokens: tokens(&args.tokens)?,
    };
    let listener = listen(&args.listen).await?;
    tracing::info!(url = %format!("http://{}", listener.local_addr()?), "registration intake listening");
    serve(
        listener,
        super::with_ops(lintas_intake::router(state), health),
        shutdown,
    )
    .await?;
    producer.flush(Duration::from_secs(10));
    Ok(())
}

/// Readiness of a publisher: the broker answers metadata requests.
pub async fn watch_broker(producer: EventProducer, health: Health, shutdown: Shutdown) {
    health.register("intake:broker");
    loop {
        let p = producer.clone();
        let reachable =
            tokio::task::spawn_blocking(move || p.broker_reachable(Duration::from_secs(3)))
                .await
                .unwrap_or(false);
        if reachable {
            health.ready("intake:broker");
        } else {
            health.not_ready("intake:broker", "broker unreachable");
        }
        tokio::select! {
            _ = tokio::time::sleep(Duration::from_secs(5)) => {}
            _ = shutdown.wait() => return,
        }
    }
}
