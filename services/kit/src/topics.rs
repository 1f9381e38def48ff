//! Creating the feed's topics. Production creates them with Strimzi `KafkaTopic` resources;
//! the embedded run and the tests create them here. Existing topics are left alone.

use std::time::Duration;

use lintas_events::Topic;
use rdkafka::admin::{AdminClient, AdminOptions, NewTopic, TopicReplication};
use rdkafka::client::DefaultClientContext;
use rdkafka::config::ClientConfig;
use rdkafka::types::RDKafkaErrorCode;

/// Default partitions per topic: enough for a few instances of each subscriber.
pub const DEFAULT_PARTITIONS: i32 = 6;

/// The event topics, with a prefix.
pub fn event_topics(prefix: &str) -> Vec<String> {
    Topic::ALL
        .iter()
        .map(|t| format!("{prefix}{}", t.base_name()))
        .collect()
}

/// The dead-letter topic of a consumer group.
pub fn dead_letter_topic(prefix: &str, group: &str) -> String {
    format!("{prefix}lintas.{group}.dlq")
}

/// The consumer group of a subscriber's offset probe (it only reads committed offsets, to
/// report the lag of `group`): its principal needs Describe on it.
pub fn offset_probe_group(group: &str) -> String {
    format!("{group}-offset-probe")
}

/// The redrive topic of a consumer group: operators' requests to apply a dead letter again or
/// to discard it ([`crate::dead_letters`]). Only that group reads it.
pub fn redrive_topic(prefix: &str, group: &str) -> String {
    format!("{prefix}lintas.{group}.redrive")
}

/// Creates `names` where missing. `extra` are librdkafka properties (security settings).
pub async fn ensure_topics(
    brokers: &str,
    names: &[String],
    partitions: i32,
    replication: i32,
    extra: &[(String, String)],
) -> anyhow::Result<()> {
    let mut config = ClientConfig::new();
    config.set("bootstrap.servers", brokers);
    for (k, v) in extra {
        config.set(k, v);
    }
    let admin: AdminClient<DefaultClientContext> = config.create()?;
    let new: Vec<NewTopic<'_>> = names
        .iter()
        .map(|n| NewTopic::new(n, partitions, TopicReplication::Fixed(replication)))
        .collect();
    let options = AdminOptions::new().operation_timeout(Some(Duration::from_secs(30)));
    for result in admin.create_topics(&new, &options).await? {
        match result {
            Ok(_) | Err((_, RDKafkaErrorCode::TopicAlreadyExists)) => {}
            Err((name, code)) => anyhow::bail!("could not create topic {name}: {code}"),
        }
    }
    Ok(())
}

/// Creates a consumer group's dead-letter topic, where missing, as durable as the event topic
/// `like`: the same replication factor and `min.insync.replicas` (a dead letter is the only
/// copy of a record the subscriber skipped). One partition: dead letters are rare. The redrive
/// topic ([`redrive_topic`]) is created the same way: one partition also keeps redriven
/// records of one key in their order.
pub async fn ensure_dead_letter_topic(
    brokers: &str,
    name: &str,
    like: Option<&str>,
    extra: &[(String, String)],
) -> anyhow::Result<()> {
    let mut config = ClientConfig::new();
    config.set("bootstrap.servers", brokers);
    for (k, v) in extra {
        config.set(k, v);
    }
    let admin: AdminClient<DefaultClientContext> = config.create()?;
    let (mut replication, mut min_insync) = (1, None);
    if let Some(like) = like {
        let metadata = admin
            .inner()
            .fetch_metadata(Some(like), Duration::from_secs(10))?;
        if let Some(p) = metadata
            .topics()
            .first()
            .and_then(|t| t.partitions().first())
        {
            replication = p.replicas().len().max(1) as i32;
        }
        let options = AdminOptions::new().request_timeout(Some(Duration::from_secs(10)));
        if let Ok(results) = admin
            .describe_configs(&[rdkafka::admin::ResourceSpecifier::Topic(like)], &options)
            .await
        {
            min_insync = results
                .into_iter()
                .flatten()
                .flat_map(|r| r.entries)
                .find(|e| e.name == "min.insync.replicas")
                .and_then(|e| e.value);
        }
    }
    let mut topic = NewTopic::new(name, 1, TopicReplication::Fixed(replication));
    if let Some(value) = min_insync.as_deref() {
        topic = topic.set("min.insync.replicas", value);
    }
    let options = AdminOptions::new().operation_timeout(Some(Duration::from_secs(30)));
    for result in admin.create_topics(&[topic], &options).await? {
        match result {
            Ok(_) | Err((_, RDKafkaErrorCode::TopicAlreadyExists)) => {}
            Err((name, code)) => anyhow::bail!("could not create topic {name}: {code}"),
        }
    }
    Ok(())
}
