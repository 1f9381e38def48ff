use std::time::Duration;

use clap::{Args, ValueEnum};
use lintas_intake::IntakeState;
use lintas_kit::http::serve;
use lintas_kit::producer::EventProducer;
use lintas_kit::shutdown::Shutdown;
use lintas_kit::store::Store;
use lintas_kit::tasks::Tasks;
use lintas_kit::telemetry::Health;

use crate::settings::{credentials, keyer, listen, KafkaArgs};

#[derive(Args, Debug)]
pub struct IntakeArgs {
    /// Which intake to serve: one agency's endpoints, or all four intakes on one address.
    #[arg(value_enum, default_value_t = IntakeKind::All)]
    pub which: IntakeKind,
    #[command(flatten)]
    pub kafka: KafkaArgs,
    /// Database for idempotency answers (schema `intake`).
    #[arg(long, env = "LINTAS_DATABASE_URL")]
    pub database_url: String,
    /// Checkpoint codes accepted by the checkpoint intake, comma-separated.
    #[arg(long, env = "LINTAS_CHECKPOINTS", default_value = lintas_intake::DEFAULT_CHECKPOINTS)]
    pub checkpoints: String,
    #[arg(long, env = "LINTAS_LISTEN", default_value = "127.0.0.1:8082")]
    pub listen: String,
    /// Timeouts, limits and TLS of the HTTP server.
    #[command(flatten)]
    pub http: lintas_kit::http::HttpSettings,
    /// Caller tokens: `token=agency:OFFICE,...`; only those of the agencies publishing
    /// through the intakes served are kept.
    #[arg(
        long,
        env = "LINTAS_TOKENS",
        hide_env_values = true,
        default_value = ""
    )]
    pub tokens: String,
    #[command(flatten)]
    pub oidc: lintas_kit::oidc::OidcArgs,
    /// Shared key of the pseudonymous subject key (HMAC of the NIK), at least 32 bytes.
    #[arg(long, env = "LINTAS_SUBJECT_KEY_SECRET", hide_env_values = true)]
    pub subject_key_secret: String,
    /// Days an Idempotency-Key's answer is kept (a retry comes within minutes; 7 by default).
    #[arg(long, env = "LINTAS_IDEMPOTENCY_RETENTION_DAYS", default_value_t = 7)]
    pub idempotency_retention_days: u64,
    /// The deployment's time zone (WIB, WITA or WIT): "today" in the date checks.
    #[arg(long, env = "LINTAS_TIME_ZONE", default_value = "WIB")]
    pub time_zone: lintas_kit::events::calendar::TimeZone,
}

pub async fn run(args: IntakeArgs) -> anyhow::Result<()> {
    let shutdown = Shutdown::new();
    let mut tasks = Tasks::new(shutdown.clone());
    let signals = shutdown.clone();
    tasks.spawn("signals", async move {
        signals.on_signals().await;
        Ok(())
    });
    let producer = args.kafka.producer()?;
    // A contract the registry refuses must stop the intake before it accepts anything.
    producer.codec().register_all().await?;
    let health = Health::new();
    tasks.spawn(
        "broker-health",
        watch_broker(producer.clone(), health.clone(), shutdown.clone()),
    );
    let store = Store::connect(&args.database_url, lintas_intake::SCHEMA).await?;
    store.migrate(lintas_intake::migrations()).await?;
    tasks.spawn(
        "idempotency-purge",
        lintas_intake::purge_loop(
            store.clone(),
            Duration::from_secs(args.idempotency_retention_days * 86_400),
            shutdown.clone(),
        ),
    );
    let state = IntakeState {
        producer: producer.clone(),
        keyer: keyer(&args.subject_key_secret, args.kafka.protection.rotations()?)?,
        tokens: credentials(&args.tokens, &args.oidc)
            .await?
            .for_agencies(&lintas_intake::publishers(args.which.intakes())),
        store,
        checkpoints: checkpoints(&args.checkpoints),
        time_zone: args.time_zone,
    };
    let listener = listen(&args.listen).await?;
    tracing::info!(url = %format!("{}://{}", args.http.scheme(), listener.local_addr()?), "intake listening");
    let routes = super::with_ops(routes(state, args.which.intakes())?, health);
    let http = args.http.clone();
    tasks.spawn("http-server", async move {
        serve(listener, routes, &http, shutdown).await
    });
    let result = tasks.join().await;
    tokio::task::spawn_blocking(move || producer.flush(Duration::from_secs(10))).await?;
    result
}

/// Readiness of a publisher: the broker answers metadata requests.
pub async fn watch_broker(
    producer: EventProducer,
    health: Health,
    shutdown: Shutdown,
) -> anyhow::Result<()> {
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
            _ = shutdown.wait() => return Ok(()),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum IntakeKind {
    /// Disnaker: jobseeker cards (AK-1), passport recommendations, registrations by any channel.
    Disnaker,
    /// Immigration office: passport applications, interviews, visa flags.
    Imigrasi,
    /// Checkpoints (TPI): departure checks, one traveller or a group.
    Checkpoint,
    /// Referrals between agencies, recruiter reports, investigations and prosecution.
    Referral,
    /// All four intakes.
    All,
}

impl IntakeKind {
    pub fn intakes(self) -> &'static [&'static lintas_intake::Intake] {
        let all = lintas_intake::ALL;
        let named = |name: &str| {
            all.iter()
                .position(|i| i.name == name)
                .map(|p| &all[p..=p])
                .expect("intake exists")
        };
        match self {
            IntakeKind::Disnaker => named("disnaker"),
            IntakeKind::Imigrasi => named("imigrasi"),
            IntakeKind::Checkpoint => named("checkpoint"),
            IntakeKind::Referral => named("referral"),
            IntakeKind::All => all,
        }
    }
}

pub fn checkpoints(spec: &str) -> Vec<String> {
    spec.split(',')
        .map(str::trim)
        .filter(|c| !c.is_empty())
        .map(String::from)
        .collect()
}

/// The intakes' routes, once every builder has made events of its endpoint's example: a
/// builder reading an undeclared (misspelt) field stops the service here, at start-up.
pub fn routes(
    state: lintas_intake::IntakeState,
    intakes: &[&'static lintas_intake::Intake],
) -> anyhow::Result<axum::Router> {
    lintas_intake::self_check(&state, intakes)
        .map_err(|e| anyhow::anyhow!("intake self-check failed: {e}"))?;
    Ok(lintas_intake::router(state, intakes))
}
