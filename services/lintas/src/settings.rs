//! Settings shared by several subcommands: flags with environment-variable fallbacks.

use std::path::Path;

use clap::Args;
use lintas_kit::auth::Tokens;
use lintas_kit::codec::Codec;
use lintas_kit::events::SubjectKeyer;
use lintas_kit::producer::{EventProducer, ProducerSettings};
use lintas_kit::registry::RegistryClient;

#[derive(Args, Clone, Debug)]
pub struct KafkaArgs {
    /// Kafka bootstrap servers.
    #[arg(long, env = "LINTAS_BROKERS")]
    pub brokers: String,
    /// Base URL of the schema registry.
    #[arg(long, env = "LINTAS_SCHEMA_REGISTRY_URL")]
    pub schema_registry_url: String,
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
}

impl KafkaArgs {
    pub fn producer(&self) -> anyhow::Result<EventProducer> {
        let codec = Codec::new(
            RegistryClient::new(&self.schema_registry_url),
            &self.topic_prefix,
        );
        let mut settings = ProducerSettings::new(&self.brokers);
        settings.extra = self.extra()?;
        Ok(EventProducer::new(&settings, codec)?)
    }

    pub fn extra(&self) -> anyhow::Result<Vec<(String, String)>> {
        kafka_properties(&self.kafka_properties)
    }
}

/// `key=value` librdkafka properties.
pub fn kafka_properties(pairs: &[String]) -> anyhow::Result<Vec<(String, String)>> {
    pairs
        .iter()
        .filter(|p| !p.trim().is_empty())
        .map(|p| match p.split_once('=') {
            Some((k, v)) if !k.trim().is_empty() => {
                Ok((k.trim().to_string(), v.trim().to_string()))
            }
            _ => anyhow::bail!("Kafka property `{p}` is not key=value"),
        })
        .collect()
}

/// Caller tokens: `token=agency:OFFICE,...` (at least 16 characters per token).
pub fn tokens(spec: &str) -> anyhow::Result<Tokens> {
    Tokens::parse(spec).map_err(|e| anyhow::anyhow!("LINTAS_TOKENS: {e}"))
}

pub fn keyer(secret: &str) -> anyhow::Result<SubjectKeyer> {
    Ok(SubjectKeyer::new(secret.as_bytes())?)
}

/// The embedded run's secret: kept in the data directory (never the repository) so that
/// subject keys stay stable across restarts.
pub fn local_secret(data_dir: &Path) -> anyhow::Result<String> {
    let path = data_dir.join("subject-key.secret");
    if let Ok(existing) = std::fs::read_to_string(&path) {
        return Ok(existing.trim().to_string());
    }
    let secret = random_token(48);
    std::fs::write(&path, &secret)?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600))?;
    }
    Ok(secret)
}

pub fn random_token(len: usize) -> String {
    use rand::distributions::{Alphanumeric, DistString};
    Alphanumeric.sample_string(&mut rand::thread_rng(), len)
}

pub async fn listen(addr: &str) -> anyhow::Result<tokio::net::TcpListener> {
    tokio::net::TcpListener::bind(addr)
        .await
        .map_err(|e| anyhow::anyhow!("cannot listen on {addr}: {e}"))
}
