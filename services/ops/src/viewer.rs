//! The dead-letter viewer: one dead letter by its coordinates, read with one Kafka client that
//! the monitor opens at start and every view shares, at a bounded rate. A client per view
//! would let anyone who can reach the page open broker connections without limit.

use std::sync::Mutex;
use std::time::{Duration, Instant};

use lintas_kit::codec::unframe;
use rdkafka::config::ClientConfig;
use rdkafka::consumer::{Consumer, StreamConsumer};
use rdkafka::error::KafkaError;
use rdkafka::message::{Headers, Message};
use rdkafka::{Offset, TopicPartitionList};

use crate::tail::dead_letter;
use crate::OpsSettings;

/// How long one view waits for its record.
const VIEW_TIMEOUT: Duration = Duration::from_secs(5);

/// The shared client and the rate it may be used at.
pub(crate) struct DeadLetterViewer {
    /// One view at a time: the client is assigned the one partition a view reads.
    consumer: tokio::sync::Mutex<StreamConsumer>,
    rate: RateLimit,
}

/// A view refused because the viewer's rate is spent: retry after this long.
#[derive(Debug)]
pub(crate) struct TooManyViews(pub Duration);

impl DeadLetterViewer {
    pub(crate) fn new(settings: &OpsSettings) -> anyhow::Result<DeadLetterViewer> {
        let mut config = ClientConfig::new();
        config
            .set("bootstrap.servers", &settings.brokers)
            // Never subscribes, so never joins this group; librdkafka needs one to consume.
            .set("group.id", "lintas-ops-viewer")
            .set("enable.auto.commit", "false")
            .set("enable.partition.eof", "true");
        for (k, v) in &settings.extra {
            config.set(k, v);
        }
        Ok(DeadLetterViewer {
            consumer: tokio::sync::Mutex::new(config.create()?),
            rate: RateLimit::per_minute(settings.dead_letter_views_per_minute),
        })
    }

    /// Takes one view from the rate, or says when the next one is available.
    pub(crate) fn admit(&self) -> Result<(), TooManyViews> {
        self.rate.take().map_err(TooManyViews)
    }

    /// Headers and the size and schema id of the body, never the body (it may hold personal
    /// data; it stays in Kafka, readable under the topic's ACLs). `None` when the record is
    /// not (or no longer) there.
    pub(crate) async fn read(
        &self,
        topic: &str,
        partition: i32,
        offset: i64,
        group: &str,
    ) -> anyhow::Result<Option<serde_json::Value>> {
        let consumer = self.consumer.lock().await;
        let mut list = TopicPartitionList::new();
        list.add_partition_offset(topic, partition, Offset::Offset(offset))?;
        consumer.assign(&list)?;
        let found = next_at(&consumer, topic, partition, offset).await;
        // Nothing stays assigned between views: no fetching in the background.
        consumer.unassign()?;
        let Some(message) = found? else {
            return Ok(None);
        };
        let headers: Vec<(String, String)> = message
            .headers()
            .map(|h| {
                h.iter()
                    .map(|h| {
                        let value = h.value.map(String::from_utf8_lossy).unwrap_or_default();
                        (h.key.to_string(), value.into_owned())
                    })
                    .collect()
            })
            .unwrap_or_default();
        let payload = message.payload().unwrap_or_default();
        Ok(Some(serde_json::json!({
            "letter": dead_letter(&message, group),
            "headers": headers,
            "key": message.key().map(|k| String::from_utf8_lossy(k).into_owned()),
            "value_bytes": payload.len(),
            "schema_id": unframe(payload).ok().map(|(id, _)| id),
        })))
    }
}

/// The record at `offset` of the assigned partition, skipping anything a previous view left in
/// the client's queue.
async fn next_at<'c>(
    consumer: &'c StreamConsumer,
    topic: &str,
    partition: i32,
    offset: i64,
) -> anyhow::Result<Option<rdkafka::message::BorrowedMessage<'c>>> {
    let deadline = tokio::time::Instant::now() + VIEW_TIMEOUT;
    loop {
        let message = match tokio::time::timeout_at(deadline, consumer.recv()).await {
            Err(_) => return Ok(None),
            Ok(Err(KafkaError::PartitionEOF(p))) if p == partition => return Ok(None),
            Ok(Err(KafkaError::PartitionEOF(_))) => continue,
            Ok(Err(e)) => return Err(e.into()),
            Ok(Ok(m)) => m,
        };
        if message.topic() != topic || message.partition() != partition {
            continue;
        }
        return Ok((message.offset() == offset).then_some(message));
    }
}

/// A token bucket: `per_minute` views a minute, a quarter of them (at least one) at once.
struct RateLimit {
    capacity: f64,
    per_second: f64,
    /// Tokens left, and when they were counted.
    state: Mutex<(f64, Instant)>,
}

impl RateLimit {
    fn per_minute(per_minute: u32) -> RateLimit {
        let per_minute = per_minute.max(1) as f64;
        let capacity = (per_minute / 4.0).floor().max(1.0);
        RateLimit {
            capacity,
            per_second: per_minute / 60.0,
            state: Mutex::new((capacity, Instant::now())),
        }
    }

    fn take(&self) -> Result<(), Duration> {
        let mut state = self.state.lock().unwrap_or_else(|e| e.into_inner());
        let now = Instant::now();
        let (tokens, counted) = *state;
        let tokens = (tokens + now.duration_since(counted).as_secs_f64() * self.per_second)
            .min(self.capacity);
        if tokens >= 1.0 {
            *state = (tokens - 1.0, now);
            Ok(())
        } else {
            *state = (tokens, now);
            Err(Duration::from_secs_f64((1.0 - tokens) / self.per_second))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::RateLimit;

    #[test]
    fn a_burst_then_refusals_with_the_wait() {
        let rate = RateLimit::per_minute(8);
        assert!(rate.take().is_ok());
        assert!(rate.take().is_ok());
        let wait = rate
            .take()
            .expect_err("a third view at once is over the rate");
        assert!(
            wait.as_secs_f64() > 0.0 && wait.as_secs_f64() <= 7.5,
            "{wait:?}"
        );
    }
}
