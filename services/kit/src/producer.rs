//! Publishing: idempotent (`enable.idempotence`, `acks=all`), compressed, and confirmed: a
//! publish returns only after the broker acknowledged the record, so a caller never tells
//! its own client "accepted" for an event that could still be lost.

use std::time::Duration;

use lintas_events::Event;
use rdkafka::config::ClientConfig;
use rdkafka::message::{Header, OwnedHeaders};
use rdkafka::producer::{FutureProducer, FutureRecord, Producer};
use rdkafka::util::Timeout;

use crate::codec::{Codec, EncodeError, CONTENT_TYPE};
use crate::metrics::{EVENTS_PUBLISHED, PUBLISH_FAILURES};

#[derive(Debug, thiserror::Error)]
pub enum PublishError {
    #[error(transparent)]
    Encode(#[from] EncodeError),
    /// The broker did not acknowledge in time (down, unreachable, or the local queue stayed
    /// full): the event was not accepted and the caller may retry.
    #[error("broker did not acknowledge the record: {0}")]
    Broker(String),
}

impl PublishError {
    pub fn is_transient(&self) -> bool {
        match self {
            PublishError::Broker(_) => true,
            PublishError::Encode(EncodeError::Registry(e)) => e.is_transient(),
            PublishError::Encode(_) => false,
        }
    }
}

/// Where an acknowledged record landed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Delivery {
    pub partition: i32,
    pub offset: i64,
}

#[derive(Clone)]
pub struct EventProducer {
    producer: FutureProducer,
    codec: Codec,
    /// How long a publish may wait for room in the local queue (backpressure) before failing.
    queue_timeout: Duration,
}

/// Producer settings; defaults suit an intake answering HTTP requests.
#[derive(Debug, Clone)]
pub struct ProducerSettings {
    pub brokers: String,
    /// Upper bound on the time to get an acknowledgement, retries included.
    pub delivery_timeout: Duration,
    pub queue_timeout: Duration,
    /// Extra librdkafka properties (security settings in production).
    pub extra: Vec<(String, String)>,
}

impl ProducerSettings {
    pub fn new(brokers: &str) -> Self {
        ProducerSettings {
            brokers: brokers.into(),
            delivery_timeout: Duration::from_secs(15),
            queue_timeout: Duration::from_secs(30),
            extra: Vec::new(),
        }
    }
}

impl EventProducer {
    pub fn new(
        settings: &ProducerSettings,
        codec: Codec,
    ) -> Result<Self, rdkafka::error::KafkaError> {
        let mut config = ClientConfig::new();
        config
            .set("bootstrap.servers", &settings.brokers)
            .set("enable.idempotence", "true")
            .set("acks", "all")
            .set("compression.type", "lz4")
            .set("linger.ms", "5")
            .set(
                "message.timeout.ms",
                settings.delivery_timeout.as_millis().to_string(),
            )
            .set("queue.buffering.max.messages", "100000");
        for (k, v) in &settings.extra {
            config.set(k, v);
        }
        let producer: FutureProducer = config.create()?;
        Ok(EventProducer {
            producer,
            codec,
            queue_timeout: settings.queue_timeout,
        })
    }

    pub fn codec(&self) -> &Codec {
        &self.codec
    }

    /// Encodes and publishes one event on its topic, keyed by its partition key, and waits
    /// for the broker's acknowledgement.
    pub async fn publish<E: Event>(&self, event: &E) -> Result<Delivery, PublishError> {
        let payload = self.codec.encode(event).await?;
        let topic = self.codec.topic_name(E::TOPIC);
        let type_name = E::FULL_NAME.rsplit('.').next().unwrap_or(E::FULL_NAME);
        let headers = event_headers(
            type_name,
            &event.envelope().event_id.to_string(),
            event.envelope().correlation_id,
        );
        let result = self.send(&topic, &event.key(), &payload, headers).await;
        match &result {
            Ok(_) => EVENTS_PUBLISHED
                .with_label_values(&[&topic, type_name])
                .inc(),
            Err(_) => PUBLISH_FAILURES
                .with_label_values(&[&topic, type_name])
                .inc(),
        }
        result
    }

    /// Publishes bytes already framed (dead letters, outbox relay) and waits for the ack.
    pub async fn send(
        &self,
        topic: &str,
        key: &str,
        payload: &[u8],
        headers: OwnedHeaders,
    ) -> Result<Delivery, PublishError> {
        let record = FutureRecord::to(topic)
            .key(key)
            .payload(payload)
            .headers(headers);
        // FutureProducer retries a full local queue until `queue_timeout`: backpressure, not an error.
        match self
            .producer
            .send(record, Timeout::After(self.queue_timeout))
            .await
        {
            Ok(delivery) => Ok(Delivery {
                partition: delivery.partition,
                offset: delivery.offset,
            }),
            Err((e, _)) => Err(PublishError::Broker(e.to_string())),
        }
    }

    /// Waits for every record in flight; call on shutdown.
    pub fn flush(&self, timeout: Duration) {
        if let Err(e) = self.producer.flush(Timeout::After(timeout)) {
            tracing::warn!(error = %e, "records still in flight at shutdown");
        }
    }

    /// Whether the broker answers a metadata request: for `/readyz`.
    pub fn broker_reachable(&self, timeout: Duration) -> bool {
        self.producer
            .client()
            .fetch_metadata(None, Timeout::After(timeout))
            .is_ok()
    }
}

/// Headers every event carries: content type, event type, event id and, when known, the
/// correlation id as a W3C-style trace id so traces can follow one request across agencies.
pub fn event_headers(
    type_name: &str,
    event_id: &str,
    correlation: Option<uuid::Uuid>,
) -> OwnedHeaders {
    let mut headers = OwnedHeaders::new()
        .insert(Header {
            key: "content-type",
            value: Some(CONTENT_TYPE),
        })
        .insert(Header {
            key: "lintas.event.type",
            value: Some(type_name),
        })
        .insert(Header {
            key: "lintas.event.id",
            value: Some(event_id),
        });
    if let Some(correlation) = correlation {
        let traceparent = format!(
            "00-{}-{}-01",
            correlation.simple(),
            &uuid::Uuid::new_v4().simple().to_string()[..16]
        );
        headers = headers.insert(Header {
            key: "traceparent",
            value: Some(&traceparent),
        });
    }
    headers
}
