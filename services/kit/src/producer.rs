//! Publishing: idempotent (`enable.idempotence`, `acks=all`), compressed, and confirmed: a
//! publish returns only after the broker acknowledged the record, so a caller never tells
//! its own client "accepted" for an event that could still be lost.

use std::time::Duration;

use lintas_events::Event;
use rdkafka::config::ClientConfig;
use rdkafka::message::{Header, OwnedHeaders};
use std::sync::{Arc, RwLock};

use rdkafka::producer::{FutureProducer, FutureRecord, Producer};
use rdkafka::types::RDKafkaErrorCode;
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
            PublishError::Encode(e) => e.is_transient(),
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
    current: Arc<RwLock<Current>>,
    config: ClientConfig,
    codec: Codec,
    /// How long a publish may wait for room in the local queue (backpressure) before failing.
    queue_timeout: Duration,
}

/// The live librdkafka producer and how many times it was replaced.
struct Current {
    producer: FutureProducer,
    generation: u64,
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
            current: Arc::new(RwLock::new(Current {
                producer,
                generation: 0,
            })),
            config,
            codec,
            queue_timeout: settings.queue_timeout,
        })
    }

    pub fn codec(&self) -> &Codec {
        &self.codec
    }

    /// The same Kafka producer encoding with another codec (for example one holding other
    /// keys), for services that share a process.
    pub fn with_codec(&self, codec: Codec) -> EventProducer {
        EventProducer {
            codec,
            ..self.clone()
        }
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

    /// Publishes any event of the contract (for example one a handler received) on its topic.
    pub async fn publish_any(
        &self,
        event: &lintas_events::AnyEvent,
    ) -> Result<Delivery, PublishError> {
        use lintas_events::AnyEvent;
        macro_rules! each {
            ($($variant:ident),* $(,)?) => {
                match event {
                    $(AnyEvent::$variant(e) => self.publish(e).await,)*
                }
            };
        }
        each!(
            ApplicantRegistered,
            PassportInterviewConducted,
            VisaTypeFlagged,
            DepartureBlocked,
            DepartureCleared,
            CaseReferred,
            RecruiterReported,
            InvestigationOpened,
            SpdpSent,
            ProsecutionStageChanged,
            AlertRaised,
            AlertAcknowledged,
            AlertEscalated,
            AlertClosed,
            PersonalDataRead,
            PersonalDataErased,
        )
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
        let (producer, generation) = self.producer();
        // FutureProducer retries a full local queue until `queue_timeout`: backpressure, not an error.
        match producer
            .send(record, Timeout::After(self.queue_timeout))
            .await
        {
            Ok(delivery) => Ok(Delivery {
                partition: delivery.partition,
                offset: delivery.offset,
            }),
            Err((e, _)) => {
                if matches!(
                    e.rdkafka_error_code(),
                    Some(RDKafkaErrorCode::MessageTimedOut | RDKafkaErrorCode::Fatal)
                ) {
                    self.replace(generation);
                }
                Err(PublishError::Broker(e.to_string()))
            }
        }
    }

    fn producer(&self) -> (FutureProducer, u64) {
        let current = self.current.read().expect("lock");
        (current.producer.clone(), current.generation)
    }

    /// An idempotent producer whose record timed out may not know whether the broker stored
    /// it, and librdkafka then treats the producer's sequence state as unusable. A fresh
    /// producer (new producer id) continues cleanly; readers de-duplicate by event id. Only
    /// the first caller to see a failure of a generation replaces it.
    fn replace(&self, failed_generation: u64) {
        let mut current = self.current.write().expect("lock");
        if current.generation != failed_generation {
            return;
        }
        match self.config.create::<FutureProducer>() {
            Ok(producer) => {
                current.producer = producer;
                current.generation += 1;
                tracing::warn!(
                    generation = current.generation,
                    "producer replaced after a delivery timeout"
                );
            }
            Err(e) => tracing::error!(error = %e, "could not create a new producer"),
        }
    }

    /// Waits for every record in flight; call on shutdown.
    pub fn flush(&self, timeout: Duration) {
        if let Err(e) = self.producer().0.flush(Timeout::After(timeout)) {
            tracing::warn!(error = %e, "records still in flight at shutdown");
        }
    }

    /// Whether the broker answers a metadata request: for `/readyz`.
    pub fn broker_reachable(&self, timeout: Duration) -> bool {
        self.producer()
            .0
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
