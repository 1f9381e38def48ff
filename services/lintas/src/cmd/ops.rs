//! `lintas ops`: the operators' dashboard and consumer-group monitor as its own service. It
//! needs only read access to the broker (metadata, offsets, the topics it tails) and the
//! registry; it holds no database.

use std::time::Duration;

use clap::Args;
use lintas_kit::codec::Codec;
use lintas_kit::registry::RegistryClient;
use lintas_kit::shutdown::Shutdown;
use lintas_kit::telemetry::{serve, Health};
use lintas_ops::{Ops, OpsSettings};

use crate::settings::{listen, KafkaArgs};

#[derive(Args, Debug)]
pub struct OpsArgs {
    #[command(flatten)]
    pub kafka: KafkaArgs,
    /// HTTP address of the dashboard (`/ops`), `/livez`, `/readyz` and `/metrics`.
    #[arg(long, env = "LINTAS_LISTEN", default_value = "127.0.0.1:8090")]
    pub listen: String,
    /// Our subscribers expected to run; each is watched with the topics it reads. Groups of
    /// integrators are found on the broker.
    #[arg(
        long,
        env = "LINTAS_OPS_WATCH",
        value_delimiter = ',',
        default_value = "imigrasi,disnaker,polri,kejaksaan,desa"
    )]
    pub watch: Vec<String>,
    /// Services whose `/readyz` the page shows, `name=http://host:port`.
    #[arg(long = "service", env = "LINTAS_OPS_SERVICES", value_delimiter = ',')]
    pub services: Vec<String>,
    /// How often the broker and the services are sampled.
    #[arg(long, env = "LINTAS_OPS_SAMPLE_MS", default_value_t = 5000)]
    pub sample_ms: u64,
    /// Burrow's window: offsets that do not move for this long while lagging are STALL.
    #[arg(long, env = "LINTAS_OPS_WINDOW_SECONDS", default_value_t = 60)]
    pub window_seconds: u64,
    /// No progress for this long while lagging is STOP.
    #[arg(long, env = "LINTAS_OPS_STOP_AFTER_SECONDS", default_value_t = 300)]
    pub stop_after_seconds: u64,
}

/// The groups and topics of our own subscribers, by name.
pub fn watch(settings: &mut OpsSettings, name: &str) -> anyhow::Result<()> {
    let topics = match name {
        n if n == lintas_imigrasi::GROUP => lintas_imigrasi::TOPICS,
        n if n == lintas_disnaker::GROUP => lintas_disnaker::TOPICS,
        n if n == lintas_polri::GROUP => lintas_polri::TOPICS,
        n if n == lintas_kejaksaan::GROUP => lintas_kejaksaan::TOPICS,
        n if n == lintas_desa::GROUP => lintas_desa::TOPICS,
        other => anyhow::bail!(
            "--watch {other}: not one of our subscribers (imigrasi, disnaker, polri, kejaksaan, desa); other groups are found on the broker"
        ),
    };
    settings.watch_group(name, topics);
    Ok(())
}

pub async fn run(args: OpsArgs) -> anyhow::Result<()> {
    if args.window_seconds < 10 {
        anyhow::bail!("--window-seconds must be at least 10: subscribers mirror their offsets to Kafka every 5 s");
    }
    if !args.kafka.protection.kek_secrets.is_empty() {
        anyhow::bail!(
            "the operators' monitor never holds a key-encryption key: unset LINTAS_KEK_SECRETS"
        );
    }
    let shutdown = Shutdown::new();
    let mut tasks = lintas_kit::tasks::Tasks::new(shutdown.clone());
    let signals = shutdown.clone();
    tasks.spawn("signals", async move {
        signals.on_signals().await;
        Ok(())
    });
    let mut settings = OpsSettings::new(&args.kafka.brokers, &args.kafka.topic_prefix);
    settings.extra = args.kafka.extra()?;
    for name in args.watch.iter().filter(|n| !n.trim().is_empty()) {
        watch(&mut settings, name.trim())?;
    }
    for service in args.services.iter().filter(|s| !s.trim().is_empty()) {
        let (name, url) = service
            .split_once('=')
            .ok_or_else(|| anyhow::anyhow!("--service `{service}` is not name=url"))?;
        settings
            .services
            .push((name.trim().into(), url.trim().into()));
    }
    settings.sample_every = Duration::from_millis(args.sample_ms.max(200));
    settings.window = Duration::from_secs(args.window_seconds);
    settings.stop_after = Duration::from_secs(args.stop_after_seconds);
    let codec = Codec::new(
        RegistryClient::new(&args.kafka.schema_registry_url),
        &args.kafka.topic_prefix,
    );
    let health = Health::new();
    let ops = Ops::start(
        settings,
        codec,
        health.clone(),
        shutdown.clone(),
        &mut tasks,
    )?;
    let listener = listen(&args.listen).await?;
    tracing::info!(url = %format!("http://{}/ops", listener.local_addr()?), "operators' dashboard");
    let server = serve(
        listener,
        super::with_ops(lintas_ops::router(ops), health),
        shutdown,
    );
    tasks.spawn("http-server", async move { Ok(server.await?) });
    tasks.join().await
}
