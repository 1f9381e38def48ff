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
