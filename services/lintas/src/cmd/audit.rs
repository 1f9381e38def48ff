//! `lintas audit verify`: recomputes an agency's audit chain of personal-data reads in its
//! database and, with --brokers, compares it with the copy on the privacy topic, which the
//! agency's database credentials cannot rewrite. Exits non-zero on the first problem.

use std::time::Duration;

use clap::{Args, Subcommand};
use lintas_kit::events::{Agency, AnyEvent, Topic};
use lintas_kit::personal::{self, AuditEntry};
use lintas_kit::store::Store;
use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::{ClientConfig, Message, Offset, TopicPartitionList};

use crate::settings::KafkaArgs;

/// The consumer group `lintas audit verify` reads the privacy topic with: the auditors'
/// principal may read with this group only (`lintas describe` states it for the ACLs).
pub const VERIFY_GROUP: &str = "lintas-audit-verify";

#[derive(Args, Debug)]
pub struct AuditArgs {
    #[command(subcommand)]
    pub action: AuditAction,
}

#[derive(Subcommand, Debug)]
pub enum AuditAction {
    /// Verify an agency's audit chain (and its copy on the privacy topic, with --brokers).
    Verify(VerifyArgs),
}

#[derive(Args, Debug)]
pub struct VerifyArgs {
    /// The agency whose chain to verify (its subscriber's database schema).
    #[arg(long)]
    pub agency: Agency,
    /// The agency subscriber's database.
    #[arg(long, env = "LINTAS_DATABASE_URL")]
    pub database_url: String,
    /// Also read lintas.privacy.v1 and compare (needs --schema-registry-url).
    #[arg(long)]
    pub brokers: Option<String>,
    #[arg(long, env = "LINTAS_SCHEMA_REGISTRY_URL")]
    pub schema_registry_url: Option<String>,
    /// The auditor's registry credential (the read role).
    #[command(flatten)]
    pub registry_auth: lintas_kit::registry::RegistryAuth,
    #[arg(long, env = "LINTAS_TOPIC_PREFIX", default_value = "")]
    pub topic_prefix: String,
    /// Extra librdkafka properties `key=value` (TLS, SASL).
    #[arg(long = "kafka-property", value_delimiter = ',')]
    pub kafka_properties: Vec<String>,
    /// The auditor's Kafka principal (KafkaUser lintas-auditor: mutual TLS or SCRAM).
    #[command(flatten)]
    pub kafka_auth: lintas_kit::kafka_auth::KafkaAuth,
}

pub async fn run(args: AuditArgs) -> anyhow::Result<()> {
    let AuditAction::Verify(args) = args.action;
    let store = Store::connect(&args.database_url, &args.agency.to_string()).await?;
    let mut report = personal::verify_chain(store.pool(), args.agency).await?;
    let mut on_topic = None;
    if let (None, Some(brokers)) = (&report.problem, &args.brokers) {
        let registry = args
            .schema_registry_url
            .clone()
            .ok_or_else(|| anyhow::anyhow!("--brokers needs --schema-registry-url"))?;
        let kafka = KafkaArgs {
            brokers: brokers.clone(),
            schema_registry_url: registry,
            registry_auth: args.registry_auth.clone(),
            topic_prefix: args.topic_prefix.clone(),
            kafka_properties: args.kafka_properties.clone(),
            auth: args.kafka_auth.clone(),
            protection: Default::default(),
        };
        let topic = read_chain_from_topic(&kafka, args.agency).await?;
        let topic_report = personal::verify_entries(args.agency, &topic);
        let database = personal::chain_entries(store.pool(), args.agency).await?;
        report.problem = match topic_report.problem {
            Some(p) => Some(format!("the copy on the privacy topic: {p}")),
            None => personal::compare_with_topic(&database, &topic),
        };
        on_topic = Some(topic.len());
    }
    println!(
        "{}",
        serde_json::json!({
            "agency": report.agency, "valid": report.valid(), "entries": report.entries,
            "head_hash": report.head_hash, "entries_on_topic": on_topic, "problem": report.problem,
        })
    );
    match &report.problem {
        None => Ok(()),
        Some(problem) => anyhow::bail!(
            "the audit chain of {} does not verify: {problem}",
            args.agency
        ),
    }
}

/// Every entry of `agency` on the privacy topic, in sequence order.
async fn read_chain_from_topic(
    kafka: &KafkaArgs,
    agency: Agency,
) -> anyhow::Result<Vec<(AuditEntry, String)>> {
    let codec = kafka.codec()?;
    let topic = codec.topic_name(Topic::Privacy);
    let mut config = ClientConfig::new();
    config
        .set("bootstrap.servers", &kafka.brokers)
        .set("group.id", VERIFY_GROUP)
        .set("enable.auto.commit", "false");
    for (k, v) in kafka.extra()? {
        config.set(k, v);
    }
    let consumer: BaseConsumer = config.create()?;
    let (topic_name, consumer) = (topic.clone(), std::sync::Arc::new(consumer));
    let reader = consumer.clone();
    // librdkafka blocks: read on a blocking thread, decode afterwards.
    let payloads = tokio::task::spawn_blocking(move || -> anyhow::Result<Vec<Vec<u8>>> {
        let metadata = reader.fetch_metadata(Some(&topic_name), Duration::from_secs(10))?;
        let partitions: Vec<i32> = metadata
            .topics()
            .iter()
            .flat_map(|t| t.partitions().iter().map(|p| p.id()))
            .collect();
        let mut ends = std::collections::HashMap::new();
        let mut assignment = TopicPartitionList::new();
        for p in &partitions {
            let (_, high) = reader.fetch_watermarks(&topic_name, *p, Duration::from_secs(10))?;
            ends.insert(*p, high);
            assignment.add_partition_offset(&topic_name, *p, Offset::Beginning)?;
        }
        reader.assign(&assignment)?;
        let mut out = Vec::new();
        let deadline = std::time::Instant::now() + Duration::from_secs(60);
        let done = |p: i32, next: i64| next >= ends[&p];
        let mut next: std::collections::HashMap<i32, i64> =
            partitions.iter().map(|p| (*p, 0)).collect();
        // Up to the watermarks, then until the topic stays quiet for two seconds: a broker
        // whose watermark lags its log (tansu 0.6) must not hide the last entries.
        let mut quiet_since = std::time::Instant::now();
        while !next.iter().all(|(p, n)| done(*p, *n))
            || quiet_since.elapsed() < Duration::from_secs(2)
        {
            anyhow::ensure!(
                std::time::Instant::now() < deadline,
                "timed out reading {topic_name}"
            );
            if let Some(message) = reader.poll(Duration::from_millis(200)) {
                let message = message?;
                next.insert(message.partition(), message.offset() + 1);
                if let Some(payload) = message.payload() {
                    out.push(payload.to_vec());
                }
                quiet_since = std::time::Instant::now();
            }
        }
        Ok(out)
    })
    .await??;
    let mut entries = Vec::new();
    for payload in payloads {
        if let Ok(AnyEvent::PersonalDataRead(e)) = codec.decode(&payload).await {
            if e.envelope.agency == agency {
                entries.push(personal::entry_of(&e));
            }
        }
    }
    entries.sort_by_key(|(entry, _)| entry.sequence);
    // A relay retry may have published an entry twice: one copy per sequence.
    entries.dedup_by(|a, b| a.0.sequence == b.0.sequence && a.1 == b.1);
    Ok(entries)
}
