//! A subscriber as a service in one call: configuration from flags and environment, its
//! store and migrations, `/livez`, `/readyz`, `/metrics` (and its own query routes, if any),
//! and the runtime until SIGTERM or SIGINT.
//!
//! ```no_run
//! use lintas_kit::consumer::{Batch, Handler, HandlerError};
//! use lintas_kit::events::Topic;
//! use lintas_kit::service::{run_subscriber, Subscriber, SubscriberConfig};
//! use lintas_kit::store::Migrations;
//!
//! struct Quiet;
//! impl Handler for Quiet {
//!     async fn apply(&self, _batch: &mut Batch<'_>) -> Result<(), HandlerError> {
//!         Ok(())
//!     }
//! }
//!
//! #[tokio::main]
//! async fn main() -> anyhow::Result<()> {
//!     // --brokers, --schema-registry-url, --database-url, --listen, … or LINTAS_* variables.
//!     let config = SubscriberConfig::from_args();
//!     let migrations = Migrations::inline("CREATE TABLE IF NOT EXISTS quiet (id BIGINT)").await;
//!     run_subscriber(&config, Subscriber { group: "quiet", topics: &[Topic::Privacy], migrations, handler: Quiet }).await
//! }
//! ```

use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use clap::{Args, Parser};
use lintas_events::Topic;

use crate::auth::Tokens;
use crate::codec::Codec;
use crate::consumer::{Handler, Runtime, SubscriberSettings, DEFAULT_MAX_BATCH};
use crate::encryption::{Keyring, LocalKms, ProtectionSettings};
use crate::events::SubjectKeyRotations;
use crate::http::{serve, HttpSettings};
use crate::kafka_auth::{client_properties, refuse_secret_property, KafkaAuth};
use crate::producer::{EventProducer, ProducerSettings};
use crate::registry::{RegistryAuth, RegistryClient};
use crate::secret::Secret;
use crate::shutdown::Shutdown;
use crate::store::{Migrations, Store};
use crate::telemetry::{ops_router, Health};
use crate::views::ViewState;

/// Where the feed is.
#[derive(Args, Clone, Debug)]
pub struct KafkaConfig {
    /// Kafka bootstrap servers.
    #[arg(long, env = "LINTAS_BROKERS")]
    pub brokers: String,
    /// Base URL of the schema registry.
    #[arg(long, env = "LINTAS_SCHEMA_REGISTRY_URL")]
    pub schema_registry_url: String,
    /// The service's registry credential.
    #[command(flatten)]
    pub registry_auth: RegistryAuth,
    /// Prefix of every topic name (lets several deployments share a cluster).
    #[arg(long, env = "LINTAS_TOPIC_PREFIX", default_value = "")]
    pub topic_prefix: String,
    /// Extra librdkafka properties `key=value` (TLS, SASL), repeatable or comma-separated.
    #[arg(
        long = "kafka-property",
        env = "LINTAS_KAFKA_PROPERTIES",
        value_delimiter = ','
    )]
    pub kafka_properties: Vec<String>,
    /// The service's own Kafka principal (SASL/SCRAM or mutual TLS).
    #[command(flatten)]
    pub auth: KafkaAuth,
    #[command(flatten)]
    pub protection: ProtectionConfig,
}

/// What a service holds to read and write personal data (docs/data-protection.md).
#[derive(Args, Clone, Debug)]
pub struct ProtectionConfig {
    /// Key-encryption keys this service holds, `kek-name=secret,…` (local-kms). Only the KEKs
    /// of the personal data it is entitled to: lintas-imigrasi (identities), lintas-polri
    /// (recruiters' phones). Without a KEK its personal-data fields stay encrypted.
    #[arg(
        long,
        env = "LINTAS_KEK_SECRETS",
        hide_env_values = true,
        default_value = ""
    )]
    pub kek_secrets: Secret,
    /// KMS type of the KEKs; `local-kms` is built in, others plug in through
    /// `lintas_kit::encryption::Kms`.
    #[arg(long, env = "LINTAS_KMS_TYPE", default_value = "local-kms")]
    pub kms_type: String,
    /// Days a data-encryption key encrypts before a new version replaces it; destroying old
    /// versions erases what they encrypted (`lintas keys shred`).
    #[arg(long, env = "LINTAS_DEK_ROTATION_DAYS", default_value_t = 30)]
    pub dek_rotation_days: u32,
    /// Subject-key rotation secrets `v2:SECRET,v3:SECRET`: keys of older versions are carried
    /// forward, so a rotation never splits a person's history.
    #[arg(
        long,
        env = "LINTAS_SUBJECT_KEY_ROTATIONS",
        hide_env_values = true,
        default_value = ""
    )]
    pub subject_key_rotations: Secret,
}

impl Default for ProtectionConfig {
    /// No keys; the flags' defaults otherwise.
    fn default() -> Self {
        ProtectionConfig {
            kek_secrets: Secret::default(),
            kms_type: LocalKms::KMS_TYPE.to_string(),
            dek_rotation_days: 30,
            subject_key_rotations: Secret::default(),
        }
    }
}

impl ProtectionConfig {
    pub fn settings(&self) -> anyhow::Result<ProtectionSettings> {
        let keyring = Keyring::parse_local(self.kek_secrets.expose())
            .map_err(|e| anyhow::anyhow!("LINTAS_KEK_SECRETS: {e}"))?;
        if self.kms_type != LocalKms::KMS_TYPE {
            anyhow::bail!(
                "LINTAS_KMS_TYPE {}: this build has the local-kms driver only (see docs/data-protection.md to add one)",
                self.kms_type
            );
        }
        Ok(ProtectionSettings {
            keyring,
            kms_type: self.kms_type.clone(),
            dek_rotation_days: self.dek_rotation_days,
        })
    }

    pub fn rotations(&self) -> anyhow::Result<SubjectKeyRotations> {
        SubjectKeyRotations::parse(self.subject_key_rotations.expose())
            .map_err(|e| anyhow::anyhow!("LINTAS_SUBJECT_KEY_ROTATIONS: {e}"))
    }
}

impl KafkaConfig {
    /// The registry client of this service, with its credential.
    pub fn registry(&self) -> anyhow::Result<RegistryClient> {
        Ok(RegistryClient::new(&self.schema_registry_url)
            .with_user_info(self.registry_auth.user_info()?.as_ref()))
    }

    /// The codec of this feed: the registry, and the keys this service holds.
    pub fn codec(&self) -> anyhow::Result<Codec> {
        let codec = Codec::new(self.registry()?, &self.topic_prefix)
            .with_protection(self.protection.settings()?)
            .with_subject_key_rotations(self.protection.rotations()?);
        tracing::info!(keks = ?codec.protection().settings().keyring, "personal-data keys held");
        Ok(codec)
    }

    /// The producer for this feed: encodes with the registry, idempotent, acknowledged.
    pub fn producer(&self) -> anyhow::Result<EventProducer> {
        self.auth.log(&self.brokers);
        let codec = self.codec()?;
        let mut settings = ProducerSettings::new(&self.brokers);
        settings.extra = self.extra()?;
        Ok(EventProducer::new(&settings, codec)?)
    }

    /// Every Kafka client property of this service: its principal's and the extra ones.
    pub fn extra(&self) -> anyhow::Result<Vec<(String, String)>> {
        client_properties(&self.auth, kafka_properties(&self.kafka_properties)?)
    }
}

/// `key=value` librdkafka properties.
pub fn kafka_properties(pairs: &[String]) -> anyhow::Result<Vec<(String, String)>> {
    pairs
        .iter()
        .filter(|p| !p.trim().is_empty())
        .map(|p| match p.split_once('=') {
            Some((k, v)) if !k.trim().is_empty() => {
                refuse_secret_property(k.trim())?;
                Ok((k.trim().to_string(), v.trim().to_string()))
            }
            _ => anyhow::bail!("Kafka property `{p}` is not key=value"),
        })
        .collect()
}

/// Everything a subscriber service is configured with.
#[derive(Args, Clone, Debug)]
pub struct SubscriberConfig {
    #[command(flatten)]
    pub kafka: KafkaConfig,
    /// Database of the views: `postgres://…` (the subscriber's own schema, named after its
    /// group), `sqlite://file.db` (exactly that file) or `sqlite://folder/` (`<group>.db` in it).
    #[arg(long, env = "LINTAS_DATABASE_URL")]
    pub database_url: String,
    /// HTTP address for the query API, `/livez`, `/readyz` and `/metrics`.
    #[arg(long, env = "LINTAS_LISTEN", default_value = "127.0.0.1:8083")]
    pub listen: String,
    /// Timeouts, limits and TLS of the HTTP server.
    #[command(flatten)]
    pub http: HttpSettings,
    /// Caller tokens `token=agency:OFFICE,...` for the query API (none: only OIDC sign-in,
    /// or no caller at all: every route answers 401).
    #[arg(
        long,
        env = "LINTAS_TOKENS",
        hide_env_values = true,
        default_value = ""
    )]
    pub tokens: String,
    /// Agency sign-in for the query API.
    #[command(flatten)]
    pub oidc: crate::oidc::OidcArgs,
    /// The agencies whose credentials the query API accepts (another agency's gets 403);
    /// empty: every agency's. Our subscribers serve their own agency only.
    #[arg(skip)]
    pub serves: Vec<lintas_events::Agency>,
    /// Records per database transaction, at most.
    #[arg(long, env = "LINTAS_MAX_BATCH", default_value_t = DEFAULT_MAX_BATCH)]
    pub max_batch: usize,
    /// Milliseconds a batch waits to fill.
    #[arg(long, env = "LINTAS_MAX_WAIT_MS", default_value_t = 100)]
    pub max_wait_ms: u64,
    /// Create the dead-letter and redrive topics at start if missing; off where topics are
    /// managed declaratively (Strimzi) and the subscriber may not create them.
    #[arg(long, env = "LINTAS_CREATE_DEAD_LETTER_TOPIC", default_value_t = true, action = clap::ArgAction::Set)]
    pub create_dead_letter_topic: bool,
    /// Milliseconds a schema id the registry does not know is waited for (a follower registry
    /// replicating it) before its record is dead-lettered.
    #[arg(long, env = "LINTAS_UNKNOWN_SCHEMA_WAIT_MS", default_value_t = 60_000)]
    pub unknown_schema_wait_ms: u64,
    /// A stored offset outside the partition's log: `stop` the partition until an operator
    /// decides (default), or `resume` from the log's start.
    #[arg(long, env = "LINTAS_ON_OFFSET_OUT_OF_RANGE", default_value = "stop", value_parser = ["stop", "resume"])]
    pub on_offset_out_of_range: String,
    /// Consumer group session timeout in milliseconds.
    #[arg(long, env = "LINTAS_SESSION_TIMEOUT_MS", default_value_t = 10_000)]
    pub session_timeout_ms: u64,
    /// Log JSON lines instead of text.
    #[arg(long, env = "LINTAS_LOG_JSON")]
    pub log_json: bool,
}

#[derive(Parser)]
struct Cli {
    #[command(flatten)]
    config: SubscriberConfig,
}

impl SubscriberConfig {
    /// From the process's flags and environment; prints help and exits on `--help` or an error.
    pub fn from_args() -> SubscriberConfig {
        Cli::parse().config
    }
}

/// What distinguishes one subscriber from another.
pub struct Subscriber<H> {
    /// Consumer group, database schema and dead-letter topic name.
    pub group: &'static str,
    pub topics: &'static [Topic],
    pub migrations: Migrations,
    pub handler: H,
}

/// Runs a subscriber without a query API of its own.
pub async fn run_subscriber<H: Handler>(
    config: &SubscriberConfig,
    subscriber: Subscriber<H>,
) -> anyhow::Result<()> {
    run_subscriber_with_api(config, subscriber, |_| Router::new()).await
}

/// Runs a subscriber with its query routes, built from its store, the caller tokens and the
/// codec (for events the API publishes through the outbox, such as the alert lifecycle).
pub async fn run_subscriber_with_api<H: Handler>(
    config: &SubscriberConfig,
    subscriber: Subscriber<H>,
    api: impl FnOnce(ViewState) -> Router,
) -> anyhow::Result<()> {
    crate::telemetry::init_logging(config.log_json);
    let oidc = config.oidc.verifier().map_err(|e| anyhow::anyhow!(e))?;
    if let Some(oidc) = &oidc {
        oidc.load().await;
    }
    let mut tokens = Tokens::parse(&config.tokens)
        .map_err(|e| anyhow::anyhow!("LINTAS_TOKENS: {e}"))?
        .with_oidc(oidc);
    if !config.serves.is_empty() {
        tokens = tokens.for_agencies(&config.serves);
    }
    let shutdown = Shutdown::new();
    let mut tasks = crate::tasks::Tasks::new(shutdown.clone());
    let signals = shutdown.clone();
    tasks.spawn("signals", async move {
        signals.on_signals().await;
        Ok(())
    });
    let store = Store::connect(&config.database_url, subscriber.group).await?;
    store.migrate(subscriber.migrations).await?;
    let mut settings =
        SubscriberSettings::new(subscriber.group, &config.kafka.brokers, subscriber.topics);
    settings.max_batch = config.max_batch;
    settings.max_wait = Duration::from_millis(config.max_wait_ms);
    settings.session_timeout = Duration::from_millis(config.session_timeout_ms);
    settings.create_dead_letter_topic = config.create_dead_letter_topic;
    settings.unknown_schema_wait = Duration::from_millis(config.unknown_schema_wait_ms);
    settings.on_offset_out_of_range = match config.on_offset_out_of_range.as_str() {
        "resume" => crate::consumer::OffsetPolicy::Resume,
        _ => crate::consumer::OffsetPolicy::Stop,
    };
    settings.extra = config.kafka.extra()?;
    let health = Health::new();
    let producer = config.kafka.producer()?;
    let views = ViewState {
        store: store.clone(),
        tokens,
        codec: producer.codec().clone(),
    };
    let runtime = Runtime {
        settings,
        store,
        producer,
        health: health.clone(),
        shutdown: shutdown.clone(),
    };
    let listener = tokio::net::TcpListener::bind(&config.listen)
        .await
        .map_err(|e| anyhow::anyhow!("cannot listen on {}: {e}", config.listen))?;
    tracing::info!(group = subscriber.group, url = %format!("{}://{}", config.http.scheme(), listener.local_addr()?), "subscriber listening");
    let routes = api(views).merge(ops_router(health));
    let http = config.http.clone();
    let stop = shutdown.clone();
    tasks.spawn("http-server", async move {
        serve(listener, routes, &http, stop).await
    });
    let handler = Arc::new(subscriber.handler);
    tasks.spawn("runtime", async move {
        runtime.run(handler).await?;
        Ok(())
    });
    tasks.join().await
}
