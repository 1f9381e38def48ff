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
use crate::internal_events::{EventPublishFailed, EventPublished};

#[derive(Debug, thiserror::Error)]
pub enum PublishError {
    #[error(transparent)]
    Encode(#[from] EncodeError),
    /// The broker did not acknowledge in time (down, unreachable, or the local queue stayed
    /// full): the event was not accepted and the caller may retry.
    #[error("broker did not acknowledge the record: {0}")]
    Broker(String),
    /// The broker refuses this record for good (too large, invalid, not authorised):
    /// retrying the same record changes nothing.
    #[error("broker refused the record: {0}")]
    Refused(String),
}

impl PublishError {
    pub fn is_transient(&self) -> bool {
        match self {
            PublishError::Broker(_) => true,
            PublishError::Refused(_) => false,
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
#[derive(Clone)]
pub struct ProducerSettings {
    pub brokers: String,
    /// Upper bound on the time to get an acknowledgement, retries included.
    pub delivery_timeout: Duration,
    pub queue_timeout: Duration,
    /// Extra librdkafka properties (security settings in production).
    pub extra: Vec<(String, String)>,
}

/// Without the values of secret client properties (the broker password).
impl std::fmt::Debug for ProducerSettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ProducerSettings")
            .field("brokers", &self.brokers)
            .field("delivery_timeout", &self.delivery_timeout)
            .field("queue_timeout", &self.queue_timeout)
            .field("extra", &crate::kafka_auth::redacted(&self.extra))
            .finish()
    }
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
        let topic = self.codec.topic_name(event.topic());
        let type_name = E::FULL_NAME.rsplit('.').next().unwrap_or(E::FULL_NAME);
        let headers = event_headers(
            type_name,
            &event.envelope().event_id.to_string(),
            event.envelope().correlation_id,
        );
        let result = self.send(&topic, &event.key(), &payload, headers).await;
        match &result {
            Ok(_) => EventPublished {
                topic: &topic,
                event_type: type_name,
            }
            .emit(),
            Err(error) => EventPublishFailed {
                topic: &topic,
                event_type: type_name,
                error,
            }
            .emit(),
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

    /// Publishes bytes already framed (outbox relay) and waits for the ack.
    pub async fn send(
        &self,
        topic: &str,
        key: &str,
        payload: &[u8],
        headers: OwnedHeaders,
    ) -> Result<Delivery, PublishError> {
        self.send_raw(topic, Some(key.as_bytes()), Some(payload), headers)
            .await
    }

    /// Publishes a record as it is, a null key or a null value (tombstone) included (dead
    /// letters keep the original exactly), and waits for the ack.
    pub async fn send_raw(
        &self,
        topic: &str,
        key: Option<&[u8]>,
        payload: Option<&[u8]>,
        headers: OwnedHeaders,
    ) -> Result<Delivery, PublishError> {
        let mut record: FutureRecord<'_, [u8], [u8]> = FutureRecord::to(topic).headers(headers);
        if let Some(key) = key {
            record = record.key(key);
        }
        if let Some(payload) = payload {
            record = record.payload(payload);
        }
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
            Err((e, _)) => Err(self.failed(e, generation).await),
        }
    }

    /// Publishes `records` in their order (each enqueued before the next, so the records of
    /// one partition keep it) and waits for every acknowledgement; one answer per record.
    pub async fn send_batch(
        &self,
        records: &[(String, String, Vec<u8>, OwnedHeaders)],
    ) -> Vec<Result<Delivery, PublishError>> {
        let (producer, generation) = self.producer();
        let mut pending = Vec::with_capacity(records.len());
        for (topic, key, payload, headers) in records {
            let mut record = FutureRecord::to(topic)
                .key(key.as_bytes())
                .payload(payload.as_slice())
                .headers(headers.clone());
            let started = std::time::Instant::now();
            pending.push(loop {
                match producer.send_result(record) {
                    Ok(delivery) => break Ok(delivery),
                    Err((e, back))
                        if e.rdkafka_error_code() == Some(RDKafkaErrorCode::QueueFull)
                            && started.elapsed() < self.queue_timeout =>
                    {
                        // Backpressure: wait for room in the local queue.
                        record = back;
                        tokio::time::sleep(Duration::from_millis(10)).await;
                    }
                    Err((e, _)) => break Err(e),
                }
            });
        }
        let mut answers = Vec::with_capacity(pending.len());
        for enqueued in pending {
            let answer = match enqueued {
                Ok(delivery) => match delivery.await {
                    Ok(Ok(d)) => Ok(Delivery {
                        partition: d.partition,
                        offset: d.offset,
                    }),
                    Ok(Err((e, _))) => Err(self.failed(e, generation).await),
                    Err(_) => Err(PublishError::Broker("the producer was dropped".into())),
                },
                Err(e) => Err(self.failed(e, generation).await),
            };
            answers.push(answer);
        }
        answers
    }

    /// What a failed delivery means; a timed-out idempotent producer is replaced.
    async fn failed(&self, e: rdkafka::error::KafkaError, generation: u64) -> PublishError {
        if matches!(
            e.rdkafka_error_code(),
            Some(RDKafkaErrorCode::MessageTimedOut | RDKafkaErrorCode::Fatal)
        ) {
            // Creating a client spawns librdkafka's threads: not on an async worker.
            let this = self.clone();
            let _ = tokio::task::spawn_blocking(move || this.replace(generation)).await;
        }
        let refused = matches!(
            e.rdkafka_error_code(),
            Some(
                RDKafkaErrorCode::MessageSizeTooLarge
                    | RDKafkaErrorCode::InvalidMessageSize
                    | RDKafkaErrorCode::InvalidMessage
                    | RDKafkaErrorCode::InvalidRecord
                    | RDKafkaErrorCode::MessageBatchTooLarge
                    | RDKafkaErrorCode::TopicAuthorizationFailed
                    | RDKafkaErrorCode::ClusterAuthorizationFailed
                    | RDKafkaErrorCode::InvalidTopic
            )
        );
        if refused {
            PublishError::Refused(e.to_string())
        } else {
            PublishError::Broker(e.to_string())
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
