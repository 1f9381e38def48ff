//! `lintas ops`: the operators' dashboard and consumer-group monitor as its own service. It
//! needs only read access to the broker (metadata, offsets, the topics it tails) and the
//! registry; it holds no database. Its page's data needs a token with the operator role;
//! `/metrics` is served on a listener of its own (`--metrics-listen`), for Prometheus only.

use std::time::Duration;

use clap::Args;
use lintas_kit::codec::Codec;
use lintas_kit::http::serve;
use lintas_kit::shutdown::Shutdown;
use lintas_kit::telemetry::{health_router, metrics_router, Health};
use lintas_ops::{Ops, OpsSettings};

use crate::settings::{credentials, listen, KafkaArgs};

#[derive(Args, Debug)]
pub struct OpsArgs {
    #[command(flatten)]
    pub kafka: KafkaArgs,
    /// HTTP address of the dashboard (`/ops`, its API `/ops/api/…`), `/livez` and `/readyz`.
    #[arg(long, env = "LINTAS_LISTEN", default_value = "127.0.0.1:8090")]
    pub listen: String,
    /// HTTP address of `/metrics`, apart from the dashboard so that only Prometheus needs to
    /// reach it (a NetworkPolicy in Kubernetes).
    #[arg(long, env = "LINTAS_METRICS_LISTEN", default_value = "127.0.0.1:8091")]
    pub metrics_listen: String,
    /// Timeouts, limits and TLS of both HTTP servers (dashboard and metrics).
    #[command(flatten)]
    pub http: lintas_kit::http::HttpSettings,
    /// Operators' tokens `token=other:OPS-OFFICE:operator,...`: only tokens with the
    /// `operator` role read the dashboard's data (any other token gets 403).
    #[arg(
        long,
        env = "LINTAS_TOKENS",
        hide_env_values = true,
        default_value = ""
    )]
    pub tokens: String,
    /// Operators may also sign in with OIDC (claims `lintas_agency: other`,
    /// `lintas_roles: [operator]`).
    #[command(flatten)]
    pub oidc: lintas_kit::oidc::OidcArgs,
    /// Dead letters the viewer may read from the broker per minute (all operators together);
    /// beyond it the viewer answers 429.
    #[arg(
        long,
        env = "LINTAS_OPS_DEAD_LETTER_VIEWS_PER_MINUTE",
        default_value_t = lintas_ops::DEFAULT_DEAD_LETTER_VIEWS_PER_MINUTE
    )]
    pub dead_letter_views_per_minute: u32,
    /// Our subscribers expected to run; each is watched with the topics it reads. Groups of
    /// integrators are found on the broker.
    #[arg(
        long,
        env = "LINTAS_OPS_WATCH",
        value_delimiter = ',',
        default_value = "imigrasi,disnaker,polri,kejaksaan,desa"
    )]
    pub watch: Vec<String>,
    /// Integrators' consumer groups to look for by name, on every event topic they committed
    /// offsets on. Groups the broker lists are found without it; a broker that does not list
    /// them (a principal without DESCRIBE on groups) shows others only this way. Operators may
    /// name more on the page.
    #[arg(long = "group", env = "LINTAS_OPS_GROUPS", value_delimiter = ',')]
    pub groups: Vec<String>,
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

/// Our subscribers' consumer groups.
pub const SUBSCRIBER_GROUPS: [&str; 5] = [
    lintas_imigrasi::GROUP,
    lintas_disnaker::GROUP,
    lintas_polri::GROUP,
    lintas_kejaksaan::GROUP,
    lintas_desa::GROUP,
];

/// The groups and topics of our own subscribers, by name.
pub fn watch(settings: &mut OpsSettings, name: &str) -> anyhow::Result<()> {
    let topics = match name {
        n if n == lintas_imigrasi::GROUP => lintas_imigrasi::TOPICS,
        n if n == lintas_disnaker::GROUP => lintas_disnaker::TOPICS,
        n if n == lintas_polri::GROUP => lintas_polri::TOPICS,
        n if n == lintas_kejaksaan::GROUP => lintas_kejaksaan::TOPICS,
        n if n == lintas_desa::GROUP => lintas_desa::TOPICS,
        other => anyhow::bail!(
            "--watch {other}: not one of our subscribers (imigrasi, disnaker, polri, kejaksaan, desa); other groups are found on the broker, or named with --group"
        ),
    };
    settings.watch_group(name, topics);
    Ok(())
}

/// Integrators' groups to look for by name (`--group`, `LINTAS_OPS_GROUPS`), blanks dropped.
pub fn named_groups(names: &[String]) -> Vec<String> {
    names
        .iter()
        .map(|n| n.trim().to_string())
        .filter(|n| !n.is_empty())
        .collect()
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
    // Only operators' credentials: any other gets 403.
    let tokens = credentials(&args.tokens, &args.oidc)
        .await?
        .for_role(lintas_kit::auth::OPERATOR_ROLE);
    let mut settings = OpsSettings::new(&args.kafka.brokers, &args.kafka.topic_prefix);
    args.kafka.auth.log(&args.kafka.brokers);
    settings.extra = args.kafka.extra()?;
    settings.dead_letter_views_per_minute = args.dead_letter_views_per_minute;
    for name in args.watch.iter().filter(|n| !n.trim().is_empty()) {
        watch(&mut settings, name.trim())?;
    }
    settings.named_groups = named_groups(&args.groups);
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
    // Frames and headers only, never a decrypted field: the registry's read role suffices.
    let codec = Codec::new(args.kafka.registry()?, &args.kafka.topic_prefix);
    let health = Health::new();
    let ops = Ops::start(
        settings,
        codec,
        health.clone(),
        shutdown.clone(),
        &mut tasks,
    )?;
    let listener = listen(&args.listen).await?;
    let metrics_listener = listen(&args.metrics_listen).await?;
    tracing::info!(
        url = %format!("{}://{}/ops", args.http.scheme(), listener.local_addr()?),
        metrics = %format!("{}://{}/metrics", args.http.scheme(), metrics_listener.local_addr()?),
        "operators' dashboard"
    );
    let routes = lintas_ops::router(ops, tokens).merge(health_router(health));
    let (http, stop) = (args.http.clone(), shutdown.clone());
    tasks.spawn("http-server", async move {
        serve(listener, routes, &http, stop).await
    });
    let http = args.http.clone();
    tasks.spawn("metrics-server", async move {
        serve(metrics_listener, metrics_router(), &http, shutdown).await
    });
    tasks.join().await
}
