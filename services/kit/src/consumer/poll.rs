//! The poll thread: owns the librdkafka consumer, gathers batches, and runs rebalances.

use std::collections::HashMap;
use std::sync::{mpsc as std_mpsc, Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use rdkafka::client::ClientContext;
use rdkafka::config::ClientConfig;
use rdkafka::consumer::{BaseConsumer, Consumer, ConsumerContext};
use rdkafka::error::KafkaError;
use rdkafka::message::{Message, OwnedMessage};
use rdkafka::statistics::Statistics;
use rdkafka::topic_partition_list::{Offset, TopicPartitionList};
use rdkafka::types::RDKafkaRespErr;
use tokio::sync::{mpsc, oneshot};

use super::decode::{decode_batch, Decoded};
use super::{backoff, StartFrom, SubscriberSettings};
use crate::codec::Codec;
use crate::metrics::{CONSUMER_LAG, RECORDS_CONSUMED};
use crate::shutdown::Shutdown;
use crate::store::Store;
use crate::telemetry::Health;

/// Partition of a topic.
pub(super) type PartitionKey = (String, i32);

/// From the poll thread to the applier, in order.
pub(super) enum Command {
    /// Partitions now owned, with the offset row value as read (None: no row yet).
    Assigned(HashMap<PartitionKey, Option<i64>>),
    Apply(Vec<Decoded>),
    /// Reply once every earlier batch is committed or abandoned.
    Drain(oneshot::Sender<()>),
    Revoked(Vec<PartitionKey>),
    /// Nothing left to poll for now: the low and high watermarks of the assigned partitions,
    /// for the applier to decide whether deadlines may fire.
    Tick(HashMap<PartitionKey, (i64, i64)>),
}

pub(super) struct PollSetup {
    pub settings: SubscriberSettings,
    pub topic_prefix: String,
    pub store: Store,
    pub commands: mpsc::Sender<Command>,
    /// Offsets committed to the database, to store in Kafka for lag tools.
    pub committed: std_mpsc::Receiver<Vec<(String, i32, i64)>>,
    pub health: Health,
    pub shutdown: Shutdown,
    pub runtime: tokio::runtime::Handle,
    pub codec: Codec,
}

struct RuntimeContext {
    group: String,
    store: Store,
    commands: mpsc::Sender<Command>,
    /// Records polled but not yet dispatched; a revoke discards them (the next owner reads
    /// them again from the stored offsets).
    pending: Arc<Mutex<Vec<OwnedMessage>>>,
    health: Health,
    shutdown: Shutdown,
    runtime: tokio::runtime::Handle,
    start_from: StartFrom,
    /// Low and high watermark per partition, from the latest librdkafka statistics.
    marks: Arc<Mutex<HashMap<PartitionKey, (i64, i64)>>>,
}

impl ClientContext for RuntimeContext {
    fn stats(&self, statistics: Statistics) {
        let mut marks = self.marks.lock().expect("lock");
        for (topic, t) in &statistics.topics {
            for (partition, p) in &t.partitions {
                if *partition >= 0 && p.hi_offset >= 0 {
                    marks.insert(
                        (topic.clone(), *partition),
                        (p.lo_offset.max(0), p.hi_offset),
                    );
                }
                // librdkafka reports -1 when it cannot tell. The stored offset is what this
                // subscriber committed to its database; before the first commit the fetch
                // position is the best estimate.
                let lag = if p.consumer_lag_stored >= 0 {
                    p.consumer_lag_stored
                } else if p.hi_offset >= 0 && p.app_offset >= 0 {
                    (p.hi_offset - p.app_offset).max(0)
                } else {
                    continue;
                };
                if *partition >= 0 && p.desired {
                    CONSUMER_LAG
                        .with_label_values(&[&self.group, topic, &partition.to_string()])
                        .set(lag);
                }
            }
        }
        if statistics.brokers.values().any(|b| b.state == "UP") {
            self.health.ready(&format!("{}:broker", self.group));
        }
    }

    fn error(&self, error: KafkaError, reason: &str) {
        if matches!(
            error.rdkafka_error_code(),
            Some(rdkafka::types::RDKafkaErrorCode::AllBrokersDown)
        ) {
            self.health.not_ready(
                &format!("{}:broker", self.group),
                format!("all brokers down: {reason}"),
            );
        }
        tracing::warn!(group = %self.group, error = %error, reason, "kafka client error");
    }
}

impl ConsumerContext for RuntimeContext {
    fn rebalance(
        &self,
        consumer: &BaseConsumer<Self>,
        err: RDKafkaRespErr,
        tpl: &mut TopicPartitionList,
    ) {
        match err {
            RDKafkaRespErr::RD_KAFKA_RESP_ERR__ASSIGN_PARTITIONS => self.on_assign(consumer, tpl),
            RDKafkaRespErr::RD_KAFKA_RESP_ERR__REVOKE_PARTITIONS => self.on_revoke(consumer, tpl),
            other => {
                tracing::error!(group = %self.group, error = ?other, "rebalance failed; giving up partitions");
                self.on_revoke(consumer, tpl);
            }
        }
    }
}

impl RuntimeContext {
    fn on_assign(&self, consumer: &BaseConsumer<Self>, tpl: &mut TopicPartitionList) {
        let partitions: Vec<PartitionKey> = tpl
            .elements()
            .iter()
            .map(|e| (e.topic().to_string(), e.partition()))
            .collect();
        // The database is the source of truth for where we stand; retry until it answers.
        let mut attempt = 0;
        let stored = loop {
            match self
                .runtime
                .block_on(load_offsets(&self.store, &self.group, &partitions))
            {
                Ok(stored) => break stored,
                Err(e) if !self.shutdown.is_triggered() => {
                    tracing::warn!(group = %self.group, error = %e, "cannot read stored offsets; retrying");
                    std::thread::sleep(backoff(attempt));
                    attempt += 1;
                }
                Err(_) => break HashMap::new(),
            }
        };
        let mut positions = HashMap::new();
        for (topic, partition) in &partitions {
            let next = stored.get(&(topic.clone(), *partition)).copied();
            let offset = match (next, self.start_from) {
                (Some(n), _) => Offset::Offset(n),
                (None, StartFrom::Beginning) => Offset::Beginning,
                (None, StartFrom::End) => Offset::End,
            };
            let _ = tpl.set_partition_offset(topic, *partition, offset);
            positions.insert((topic.clone(), *partition), next);
        }
        tracing::info!(group = %self.group, partitions = ?positions, "partitions assigned at stored offsets");
        if self
            .commands
            .blocking_send(super::poll::Command::Assigned(positions))
            .is_err()
        {
            return;
        }
        if let Err(e) = consumer.assign(tpl) {
            tracing::error!(group = %self.group, error = %e, "assign failed");
        }
        self.health.ready(&format!("{}:assignment", self.group));
    }

    fn on_revoke(&self, consumer: &BaseConsumer<Self>, tpl: &TopicPartitionList) {
        self.pending.lock().expect("lock").clear();
        let (done_tx, done_rx) = oneshot::channel();
        if self.commands.blocking_send(Command::Drain(done_tx)).is_ok() {
            let _ = done_rx.blocking_recv();
        }
        let revoked: Vec<PartitionKey> = tpl
            .elements()
            .iter()
            .map(|e| (e.topic().to_string(), e.partition()))
            .collect();
        // Another instance reports these partitions now; a stale value here would look like
        // a stopped consumer.
        for (topic, partition) in &revoked {
            let _ = CONSUMER_LAG.remove_label_values(&[&self.group, topic, &partition.to_string()]);
        }
        let _ = self.commands.blocking_send(Command::Revoked(revoked));
        if let Err(e) = consumer.unassign() {
            tracing::warn!(group = %self.group, error = %e, "unassign failed");
        }
        tracing::info!(group = %self.group, "partitions revoked after in-flight batches committed");
    }
}

async fn load_offsets(
    store: &Store,
    group: &str,
    partitions: &[PartitionKey],
) -> Result<HashMap<PartitionKey, i64>, sqlx::Error> {
    use sqlx::Row;
    let rows = sqlx::query(
        "SELECT topic, partition_id, next_offset FROM lintas_offsets WHERE consumer_group = $1",
    )
    .bind(group)
    .fetch_all(store.pool())
    .await?;
    let mut out = HashMap::new();
    for row in rows {
        let key: PartitionKey = (row.try_get::<String, _>(0)?, row.try_get::<i32, _>(1)?);
        if partitions.contains(&key) {
            out.insert(key, row.try_get::<i64, _>(2)?);
        }
    }
    Ok(out)
}

pub(super) fn spawn(setup: PollSetup) -> anyhow::Result<JoinHandle<()>> {
    let pending = Arc::new(Mutex::new(Vec::new()));
    let context = RuntimeContext {
        group: setup.settings.group.clone(),
        store: setup.store.clone(),
        commands: setup.commands.clone(),
        pending: pending.clone(),
        health: setup.health.clone(),
        shutdown: setup.shutdown.clone(),
        runtime: setup.runtime.clone(),
        start_from: setup.settings.start_from,
        marks: Arc::new(Mutex::new(HashMap::new())),
    };
    let mut config = ClientConfig::new();
    config
        .set("bootstrap.servers", &setup.settings.brokers)
        .set("group.id", &setup.settings.group)
        // Kafka's committed offsets are only a mirror for lag tools; the database decides.
        .set("enable.auto.commit", "true")
        .set("enable.auto.offset.store", "false")
        .set("auto.offset.reset", "earliest")
        .set(
            "session.timeout.ms",
            setup.settings.session_timeout.as_millis().to_string(),
        )
        .set(
            "heartbeat.interval.ms",
            (setup.settings.session_timeout.as_millis() / 3)
                .max(500)
                .to_string(),
        )
        .set("statistics.interval.ms", "5000")
        .set("partition.assignment.strategy", "range,roundrobin");
    for (k, v) in &setup.settings.extra {
        config.set(k, v);
    }
    let consumer: BaseConsumer<RuntimeContext> = config.create_with_context(context)?;
    let topics: Vec<String> = setup
        .settings
        .topics
        .iter()
        .map(|t| format!("{}{}", setup.topic_prefix, t.base_name()))
        .collect();
    let topic_refs: Vec<&str> = topics.iter().map(String::as_str).collect();
    consumer.subscribe(&topic_refs)?;
    let handle = std::thread::Builder::new()
        .name(format!("lintas-poll-{}", setup.settings.group))
        .spawn(move || poll_loop(consumer, setup, pending))?;
    Ok(handle)
}

/// Low and high watermarks of the assigned partitions, from the latest statistics (no
/// request to the broker; at most `statistics.interval.ms` old); unknown ones are left out.
fn watermarks(consumer: &BaseConsumer<RuntimeContext>) -> HashMap<PartitionKey, (i64, i64)> {
    let known = consumer.context().marks.lock().expect("lock").clone();
    let mut marks = HashMap::new();
    if let Ok(assignment) = consumer.assignment() {
        for e in assignment.elements() {
            let key = (e.topic().to_string(), e.partition());
            if let Some(mark) = known.get(&key) {
                marks.insert(key, *mark);
            }
        }
    }
    marks
}

fn poll_loop(
    consumer: BaseConsumer<RuntimeContext>,
    setup: PollSetup,
    pending: Arc<Mutex<Vec<OwnedMessage>>>,
) {
    let group = setup.settings.group.clone();
    let max_batch = setup.settings.max_batch.max(1);
    let mut batch_started: Option<Instant> = None;
    let mut last_tick = Instant::now();
    while !setup.shutdown.is_triggered() {
        store_committed(&consumer, &setup.committed);
        let wait = match batch_started {
            Some(started) => setup.settings.max_wait.saturating_sub(started.elapsed()),
            None => Duration::from_millis(100),
        };
        match consumer.poll(wait) {
            Some(Ok(message)) => {
                RECORDS_CONSUMED
                    .with_label_values(&[&group, message.topic()])
                    .inc();
                pending.lock().expect("lock").push(message.detach());
                batch_started.get_or_insert_with(Instant::now);
            }
            Some(Err(e)) => tracing::warn!(group = %group, error = %e, "poll error"),
            None => {
                let idle = batch_started.is_none() && pending.lock().expect("lock").is_empty();
                if idle && last_tick.elapsed() >= setup.settings.deadline_tick {
                    last_tick = Instant::now();
                    // Skipped when the applier is busy: it is not caught up then anyway.
                    let _ = setup
                        .commands
                        .try_send(Command::Tick(watermarks(&consumer)));
                }
            }
        }
        let full = pending.lock().expect("lock").len() >= max_batch;
        let due = batch_started.is_some_and(|s| s.elapsed() >= setup.settings.max_wait);
        if full || due {
            let batch = std::mem::take(&mut *pending.lock().expect("lock"));
            batch_started = None;
            if batch.is_empty() {
                continue;
            }
            let Some(decoded) =
                setup
                    .runtime
                    .block_on(decode_batch(&setup.codec, &group, batch, &setup.shutdown))
            else {
                break;
            };
            if setup
                .commands
                .blocking_send(Command::Apply(decoded))
                .is_err()
            {
                break;
            }
        }
    }
    // Shutdown: hand over what was polled, wait for it to commit, then leave the group.
    let batch = std::mem::take(&mut *pending.lock().expect("lock"));
    if !batch.is_empty() {
        // With shutdown requested, a registry outage leaves the batch to be read again later.
        if let Some(decoded) =
            setup
                .runtime
                .block_on(decode_batch(&setup.codec, &group, batch, &setup.shutdown))
        {
            let _ = setup.commands.blocking_send(Command::Apply(decoded));
        }
    }
    let (done_tx, done_rx) = oneshot::channel();
    if setup
        .commands
        .blocking_send(Command::Drain(done_tx))
        .is_ok()
    {
        let _ = done_rx.blocking_recv();
    }
    store_committed(&consumer, &setup.committed);
    let _ = consumer.commit_consumer_state(rdkafka::consumer::CommitMode::Sync);
    consumer.unsubscribe();
    drop(consumer);
    tracing::info!(group = %group, "left the consumer group");
}

fn store_committed(
    consumer: &BaseConsumer<RuntimeContext>,
    committed: &std_mpsc::Receiver<Vec<(String, i32, i64)>>,
) {
    while let Ok(offsets) = committed.try_recv() {
        let mut tpl = TopicPartitionList::new();
        for (topic, partition, next) in offsets {
            let _ = tpl.add_partition_offset(&topic, partition, Offset::Offset(next));
        }
        // Fails harmlessly for partitions no longer assigned.
        let _ = consumer.store_offsets(&tpl);
    }
}
