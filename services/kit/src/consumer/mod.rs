//! The effectively-once consumer runtime, on which every subscriber is built.
//!
//! ```text
//! assign ─► read next_offset per partition from lintas_offsets ─► assign at those offsets
//! loop: poll up to `max_batch` records or `max_wait`
//!       decode each ── cannot ─► dead-letter topic, await ack
//!       BEGIN; handler.apply(batch); compare-and-set lintas_offsets; COMMIT
//!       store offsets in Kafka (only so lag tools see progress); relay the outbox
//! revoke ─► finish the batches in flight, then give the partitions up
//! ```
//! The offset row is updated with a compare-and-set on the value this instance last saw, so
//! an instance that lost its partitions in a rebalance while a slow batch was in flight
//! cannot overwrite the new owner's progress: its transaction rolls back instead.
//!
//! librdkafka is polled on a dedicated thread; rebalances run inside that poll and hand off
//! to the async applier through a channel, so no tokio worker ever blocks on Kafka.

mod apply;
mod dead_letter;
mod deadlines;
mod decode;
mod poll;

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use lintas_events::{AnyEvent, Event, Topic};
use sqlx::{Any, AnyConnection, Transaction};

use crate::codec::Codec;
use crate::outbox;
use crate::producer::EventProducer;
use crate::shutdown::Shutdown;
use crate::store::Store;
use crate::telemetry::Health;

pub use dead_letter::{error_headers, redrive_error_headers, DeadLetterStage};
pub(crate) use deadlines::fire_due;
pub use deadlines::{Cancellation, Clock, Deadline};

/// One decoded record handed to a handler.
#[derive(Debug, Clone)]
pub struct Record {
    pub event: AnyEvent,
    pub topic: String,
    pub partition: i32,
    pub offset: i64,
    /// `Some` when the event's personal-data fields stayed encrypted for this subscriber
    /// (it does not hold their key, or the key was destroyed): they hold ciphertext, never
    /// store or show them as data. The rest of the event is as published.
    pub sealed: Option<crate::encryption::Sealed>,
}

impl Record {
    /// Whether the event's personal-data fields are readable here.
    pub fn personal_data_readable(&self) -> bool {
        self.sealed.is_none()
    }
}

/// Why a handler could not apply a batch.
#[derive(Debug, thiserror::Error)]
pub enum HandlerError {
    /// The record at `index` of the batch is invalid for this subscriber (it will never
    /// apply): it goes to the dead-letter topic and the rest of the batch is applied.
    #[error("record {index} rejected: {reason}")]
    Rejected { index: usize, reason: String },
    /// Anything else (database unavailable, deadlock): the whole batch is retried with
    /// backoff. Never skipped, never dead-lettered.
    #[error(transparent)]
    Transient(#[from] anyhow::Error),
}

impl HandlerError {
    /// A failure worth retrying, from any error.
    pub fn transient(error: impl std::fmt::Display) -> Self {
        HandlerError::Transient(anyhow::anyhow!("{error}"))
    }
}

impl From<sqlx::Error> for HandlerError {
    fn from(e: sqlx::Error) -> Self {
        HandlerError::Transient(e.into())
    }
}

/// What a handler gets: the records of one batch and the open database transaction in which
/// the runtime will also write the offsets.
pub struct Batch<'a> {
    tx: &'a mut Transaction<'static, Any>,
    records: &'a [Record],
    sink: Sink<'a>,
}

/// Where [`Batch::publish`] sends events.
pub(crate) enum Sink<'a> {
    /// The transactional outbox, relayed to Kafka after commit.
    Outbox(&'a Codec),
    /// Collected in memory, for the test harness.
    Memory(&'a mut Vec<AnyEvent>),
}

impl<'a> Batch<'a> {
    pub fn records(&self) -> &[Record] {
        self.records
    }

    /// The transaction: every write through it commits together with the offsets.
    pub fn tx(&mut self) -> &mut AnyConnection {
        self.tx
    }

    /// Publishes `event` once this batch commits (transactional outbox): an alert raised
    /// by a view update is published if and only if the update commits.
    pub async fn publish<E: Event>(&mut self, event: &E) -> Result<(), HandlerError> {
        match &mut self.sink {
            Sink::Outbox(codec) => outbox::enqueue(self.tx, codec, event)
                .await
                .map_err(HandlerError::Transient),
            Sink::Memory(published) => {
                published.push(event.clone().into_any());
                Ok(())
            }
        }
    }

    /// Schedules deadline `key` at `due_at`, to be handed to [`Handler::fire`] with `payload`
    /// once the clock passes it, unless [`Batch::cancel`] comes first. `origin` is the record
    /// that set it: the deadline fires only once the subscriber has caught up with that
    /// record's partition. Scheduling a key again changes nothing (redelivery), and a key
    /// already cancelled stays cancelled (the awaited event arrived first).
    pub async fn schedule(
        &mut self,
        origin: &Record,
        key: &str,
        due_at: time::OffsetDateTime,
        payload: serde_json::Value,
    ) -> Result<(), HandlerError> {
        deadlines::schedule(
            self.tx,
            (&origin.topic, origin.partition),
            key,
            due_at,
            &payload,
        )
        .await?;
        Ok(())
    }

    /// Deadline `key` is awaited no more: an awaited event arrived that occurred at `met_at`
    /// (its envelope's `occurred_at`). Compared in event time with the due time, not by
    /// arrival: an event that occurred at or after it does not cancel ([`Cancellation::Late`]),
    /// one that occurred before it cancels whenever it arrives. Before the schedule it leaves
    /// a tombstone with its time; after the deadline fired, [`Cancellation::Withdrawn`] hands
    /// the deadline back so the handler withdraws what it raised (the alert desk's
    /// [`crate::alerts::AlertDesk::withdraw`]).
    pub async fn cancel(
        &mut self,
        origin: &Record,
        key: &str,
        met_at: time::OffsetDateTime,
    ) -> Result<Cancellation, HandlerError> {
        Ok(deadlines::cancel(self.tx, (&origin.topic, origin.partition), key, met_at).await?)
    }

    /// [`Batch::cancel`] for a deadline only if it was scheduled (or met) already, leaving no
    /// tombstone otherwise ([`Cancellation::Unchanged`]): for keys a handler no longer
    /// schedules but that may still run from before an upgrade (a clock once per case, now
    /// one per investigation), so the events that meet them still do.
    pub async fn cancel_if_scheduled(
        &mut self,
        origin: &Record,
        key: &str,
        met_at: time::OffsetDateTime,
    ) -> Result<Cancellation, HandlerError> {
        let exists: Option<String> =
            sqlx::query_scalar("SELECT state FROM lintas_deadlines WHERE deadline_key = $1")
                .bind(key)
                .fetch_optional(&mut **self.tx)
                .await?;
        if exists.is_none() {
            return Ok(Cancellation::Unchanged);
        }
        self.cancel(origin, key, met_at).await
    }

    /// True the first time this subscriber sees `record`'s event (`envelope.event_id`), false
    /// for every later copy. The runtime applies each *record* once, but a publisher that
    /// retries (a timeout before the broker's ack) publishes the same *event* again as a new
    /// record: a handler that counts or appends must count it once. The claim is written in
    /// the batch's transaction, so a rolled-back batch forgets it. Upserts keyed by the event
    /// id need no claim.
    pub async fn first_sighting(&mut self, record: &Record) -> Result<bool, HandlerError> {
        let claimed = sqlx::query(
            "INSERT INTO lintas_events_seen (event_id, first_offset_topic, first_offset, seen_at_ms) \
             VALUES ($1, $2, $3, $4) ON CONFLICT (event_id) DO NOTHING",
        )
        .bind(record.event.envelope().event_id.to_string())
        .bind(&record.topic)
        .bind(record.offset)
        .bind(outbox::now_ms())
        .execute(&mut **self.tx)
        .await?;
        Ok(claimed.rows_affected() == 1)
    }

    /// Rejects `record` for good (it goes to the dead-letter topic with `reason`, the rest of
    /// the batch is applied): `return Err(batch.reject(&record, "…"))`. Takes the record, not
    /// an index, so it is right also inside a loop over [`Batch::first_sightings`].
    pub fn reject(&self, record: &Record, reason: impl Into<String>) -> HandlerError {
        let index = self.records.iter().position(|r| {
            r.topic == record.topic && r.partition == record.partition && r.offset == record.offset
        });
        match index {
            Some(index) => HandlerError::Rejected {
                index,
                reason: reason.into(),
            },
            // A handler bug: retried, and visible on /readyz, rather than dead-lettering
            // another record.
            None => HandlerError::transient(format!(
                "rejected {}[{}]@{}, which is not in this batch",
                record.topic, record.partition, record.offset
            )),
        }
    }

    /// The records of this batch whose event this subscriber has not seen before, each
    /// claimed ([`Batch::first_sighting`]), in batch order: iterate over these to count or
    /// append, and a redelivered event is counted once.
    pub async fn first_sightings(&mut self) -> Result<Vec<Record>, HandlerError> {
        let mut fresh = Vec::with_capacity(self.records.len());
        for record in self.records {
            if self.first_sighting(record).await? {
                fresh.push(record.clone());
            }
        }
        Ok(fresh)
    }

    pub(crate) fn new(
        tx: &'a mut Transaction<'static, Any>,
        records: &'a [Record],
        sink: Sink<'a>,
    ) -> Self {
        Batch { tx, records, sink }
    }
}

/// A subscriber's logic: turn a batch of events into view writes (and alerts).
///
/// Must be deterministic given the database state and the batch: the runtime may apply the
/// same records again after a rollback.
pub trait Handler: Send + Sync + 'static {
    fn apply(&self, batch: &mut Batch<'_>)
        -> impl Future<Output = Result<(), HandlerError>> + Send;

    /// Deadlines set with [`Batch::schedule`] that came due and were not cancelled, in one
    /// transaction with `batch` (which has no records). Each deadline is handed over once:
    /// it is marked fired when this commits. The default does nothing.
    fn fire(
        &self,
        batch: &mut Batch<'_>,
        due: &[Deadline],
    ) -> impl Future<Output = Result<(), HandlerError>> + Send {
        let _ = (batch, due);
        async { Ok(()) }
    }
}

/// Records per transaction at most. Batches fill only when there is a backlog (otherwise
/// `max_wait` closes them), so a large bound costs no latency and amortises each commit's
/// fsync over a replay or a backfill.
pub const DEFAULT_MAX_BATCH: usize = 5000;

/// What a subscriber does when a partition's stored offset lies outside its log: past the
/// end (the topic was deleted and recreated, an unclean leader election truncated it) or
/// before the start (retention deleted records it never applied).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OffsetPolicy {
    /// Stop consuming that partition and say so on `/readyz` until an operator decides (the
    /// safe default for an agency's views: nothing is applied under a wrong assumption).
    Stop,
    /// Resume from the start of the log as it is, storing that offset; what was lost is
    /// logged and counted.
    Resume,
}

/// Where a partition with no stored offset starts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StartFrom {
    /// Replay everything retained: the default, so a new subscriber builds its views from the
    /// whole feed.
    Beginning,
    End,
}

#[derive(Clone)]
pub struct SubscriberSettings {
    /// Consumer group; also the key of the offsets rows and the dead-letter topic's name.
    pub group: String,
    pub brokers: String,
    pub topics: Vec<Topic>,
    pub max_batch: usize,
    pub max_wait: Duration,
    pub session_timeout: Duration,
    pub start_from: StartFrom,
    /// Create the dead-letter and redrive topics at start if missing (off where topics are
    /// managed declaratively, or on brokers without the admin API).
    pub create_dead_letter_topic: bool,
    /// Extra librdkafka properties (security settings in production).
    pub extra: Vec<(String, String)>,
    /// "Now" for deadlines; tests use [`Clock::manual`].
    pub clock: Clock,
    /// How often due deadlines are looked for while the subscriber is caught up.
    pub deadline_tick: Duration,
    /// How long a schema id the registry does not know is waited for (a follower registry
    /// replicating it) before its record is dead-lettered.
    pub unknown_schema_wait: Duration,
    /// What to do when a stored offset lies outside the partition's log.
    pub on_offset_out_of_range: OffsetPolicy,
    /// How long fired and cancelled deadlines are kept (a cancel must outlive any redelivery
    /// of the record that scheduled it: at least the topics' retention).
    pub deadline_retention: Duration,
}

/// Without the values of secret client properties (the broker password).
impl std::fmt::Debug for SubscriberSettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SubscriberSettings")
            .field("group", &self.group)
            .field("brokers", &self.brokers)
            .field("topics", &self.topics)
            .field("max_batch", &self.max_batch)
            .field("max_wait", &self.max_wait)
            .field("session_timeout", &self.session_timeout)
            .field("start_from", &self.start_from)
            .field("create_dead_letter_topic", &self.create_dead_letter_topic)
            .field("extra", &crate::kafka_auth::redacted(&self.extra))
            .field("on_offset_out_of_range", &self.on_offset_out_of_range)
            .finish_non_exhaustive()
    }
}

impl SubscriberSettings {
    pub fn new(group: &str, brokers: &str, topics: &[Topic]) -> Self {
        SubscriberSettings {
            group: group.into(),
            brokers: brokers.into(),
            topics: topics.to_vec(),
            max_batch: DEFAULT_MAX_BATCH,
            max_wait: Duration::from_millis(100),
            session_timeout: Duration::from_secs(10),
            start_from: StartFrom::Beginning,
            create_dead_letter_topic: true,
            extra: Vec::new(),
            clock: Clock::system(),
            deadline_tick: Duration::from_secs(1),
            unknown_schema_wait: Duration::from_secs(60),
            deadline_retention: Duration::from_secs(400 * 86_400),
            on_offset_out_of_range: OffsetPolicy::Stop,
        }
    }
}

/// Everything the runtime needs besides the handler.
#[derive(Clone)]
pub struct Runtime {
    pub settings: SubscriberSettings,
    pub store: Store,
    pub producer: EventProducer,
    pub health: Health,
    pub shutdown: Shutdown,
}

impl Runtime {
    /// Runs `handler` until shutdown: consumer group, offsets in the view's transaction,
    /// batching, dead letters, retries, outbox relay, lag metrics and readiness.
    pub async fn run<H: Handler>(self, handler: Arc<H>) -> anyhow::Result<()> {
        let prefix = self.producer.codec().topic_prefix().to_string();
        let group = self.settings.group.clone();
        let dlq = crate::topics::dead_letter_topic(&prefix, &group);
        let redrive = crate::topics::redrive_topic(&prefix, &group);
        let mut tasks = crate::tasks::Tasks::new(self.shutdown.clone());
        if self.settings.create_dead_letter_topic {
            self.ensure_redrive_topic(&prefix, &redrive).await;
        }
        if self.settings.create_dead_letter_topic {
            // In the background: a broker whose admin API is slow or refuses (ACLs) must not
            // delay consuming; a dead letter waits for its topic like any transient failure.
            let (brokers, topic, extra) = (
                self.settings.brokers.clone(),
                dlq.clone(),
                self.settings.extra.clone(),
            );
            let like = self
                .settings
                .topics
                .first()
                .map(|t| format!("{prefix}{}", t.base_name()));
            tasks.spawn_oneshot("ensure-dead-letter-topic", async move {
                if let Err(e) = crate::topics::ensure_dead_letter_topic(
                    &brokers,
                    &topic,
                    like.as_deref(),
                    &extra,
                )
                .await
                {
                    // Production creates topics declaratively and may forbid creation: not fatal.
                    tracing::warn!(topic = %topic, error = %e, "could not ensure the dead-letter topic exists");
                }
                Ok(())
            });
        }
        self.health.ready(&format!("{group}:apply"));
        for part in ["broker", "assignment", "database", "registry"] {
            self.health.register(&format!("{group}:{part}"));
        }
        let (commands_tx, commands_rx) = tokio::sync::mpsc::channel(1);
        let (committed_tx, committed_rx) = std::sync::mpsc::channel();
        let relay_wakeup = Arc::new(tokio::sync::Notify::new());

        let poller = poll::spawn(poll::PollSetup {
            settings: self.settings.clone(),
            topic_prefix: prefix,
            redrive_topic: redrive.clone(),
            store: self.store.clone(),
            commands: commands_tx,
            committed: committed_rx,
            health: self.health.clone(),
            shutdown: self.shutdown.clone(),
            runtime: tokio::runtime::Handle::current(),
            codec: self.producer.codec().clone(),
        })?;
        tasks.spawn(
            "outbox-relay",
            outbox::relay(
                self.store.clone(),
                self.producer.clone(),
                relay_wakeup.clone(),
                self.shutdown.clone(),
            ),
        );
        tasks.spawn(
            "database-health",
            watch_database(
                self.store.clone(),
                self.health.clone(),
                format!("{group}:database"),
                self.shutdown.clone(),
            ),
        );
        tasks.spawn(
            "registry-health",
            watch_registry(
                self.producer.codec().registry().clone(),
                self.health.clone(),
                format!("{group}:registry"),
                self.shutdown.clone(),
            ),
        );
        tasks.spawn(
            "deadline-purge",
            deadlines::purge_loop(
                self.store.clone(),
                self.settings.deadline_retention,
                self.shutdown.clone(),
            ),
        );
        let applier = apply::Applier {
            group: group.clone(),
            dead_letter_topic: dlq,
            store: self.store.clone(),
            producer: self.producer.clone(),
            handler,
            committed: committed_tx,
            relay_wakeup,
            shutdown: self.shutdown.clone(),
            clock: self.settings.clock.clone(),
            health: self.health.clone(),
        };
        tasks.spawn("applier", async move {
            applier.run(commands_rx).await;
            Ok(())
        });
        // The poll thread ends at shutdown; a panic, or an end before it, stops the service.
        let poll_group = group.clone();
        tasks.spawn("poll-thread", async move {
            match tokio::task::spawn_blocking(move || poller.join()).await {
                Ok(Ok(())) => Ok(()),
                _ => Err(anyhow::anyhow!(
                    "the consumer poll thread of {poll_group} ended abnormally"
                )),
            }
        });
        let result = tasks.join().await;
        let producer = self.producer.clone();
        let _ = tokio::task::spawn_blocking(move || producer.flush(Duration::from_secs(10))).await;
        result
    }
}

impl Runtime {
    /// Creates the group's redrive topic where missing, before subscribing: a consumer
    /// subscribed to a topic that does not exist yet may not notice it for minutes (the
    /// metadata refresh interval), and a redrive would wait that long. Bounded: a broker
    /// whose admin API is slow or refuses (ACLs; topics created declaratively) delays the
    /// start by at most 15 s, and the subscriber consumes its event topics regardless.
    async fn ensure_redrive_topic(&self, prefix: &str, redrive: &str) {
        let like = self
            .settings
            .topics
            .first()
            .map(|t| format!("{prefix}{}", t.base_name()));
        let ensure = crate::topics::ensure_dead_letter_topic(
            &self.settings.brokers,
            redrive,
            like.as_deref(),
            &self.settings.extra,
        );
        match tokio::time::timeout(Duration::from_secs(15), ensure).await {
            Ok(Ok(())) => {}
            Ok(Err(e)) => {
                tracing::warn!(topic = %redrive, error = %e, "could not ensure the redrive topic exists")
            }
            Err(_) => {
                tracing::warn!(topic = %redrive, "the broker did not create the redrive topic within 15 s")
            }
        }
    }
}

/// Forgets where `group` stands in every partition, so it starts again from
/// [`StartFrom`]. For a broker whose topics were recreated (offsets start again at 0), such as
/// the embedded run's ephemeral broker; the views are kept.
pub async fn reset_offsets(store: &Store, group: &str) -> Result<u64, sqlx::Error> {
    let done = sqlx::query("DELETE FROM lintas_offsets WHERE consumer_group = $1")
        .bind(group)
        .execute(store.pool())
        .await?;
    Ok(done.rows_affected())
}

async fn watch_database(
    store: Store,
    health: Health,
    part: String,
    shutdown: Shutdown,
) -> anyhow::Result<()> {
    loop {
        match tokio::time::timeout(Duration::from_secs(3), store.ping()).await {
            Ok(Ok(())) => health.ready(&part),
            Ok(Err(e)) => health.not_ready(&part, format!("database: {e}")),
            Err(_) => health.not_ready(&part, "database: ping timed out"),
        }
        tokio::select! {
            _ = tokio::time::sleep(Duration::from_secs(2)) => {}
            _ = shutdown.wait() => return Ok(()),
        }
    }
}

/// Not ready until the registry answers as a Confluent registry: a wrong URL must show at
/// once, not as a feed of undecodable records.
async fn watch_registry(
    registry: crate::registry::RegistryClient,
    health: Health,
    part: String,
    shutdown: Shutdown,
) -> anyhow::Result<()> {
    loop {
        // Checked every 10 s while it answers, every second while it does not, so that a
        // registry back from an outage is ready again within a second.
        let pause = match registry.check().await {
            Ok(()) => {
                health.ready(&part);
                Duration::from_secs(10)
            }
            Err(e) => {
                health.not_ready(&part, format!("schema registry: {e}"));
                Duration::from_secs(1)
            }
        };
        tokio::select! {
            _ = tokio::time::sleep(pause) => {}
            _ = shutdown.wait() => return Ok(()),
        }
    }
}

/// Exponential backoff with jitter for transient failures, capped at 10 s.
pub(crate) fn backoff(attempt: u32) -> Duration {
    let base = 100u64.saturating_mul(1 << attempt.min(7)).min(10_000);
    Duration::from_millis(base / 2 + rand::random::<u64>() % (base / 2 + 1))
}
