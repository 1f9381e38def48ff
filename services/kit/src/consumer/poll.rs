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
use crate::internal_events::{OffsetOutsideLog, OutsideLogAction, OutsideLogKind, RecordConsumed};
use crate::metrics::CONSUMER_LAG;
use crate::shutdown::Shutdown;
use crate::store::Store;
use crate::telemetry::Health;

/// Partition of a topic.
pub(super) type PartitionKey = (String, i32);

/// Low and high watermark of each partition.
pub(super) type Watermarks = HashMap<PartitionKey, (i64, i64)>;

/// From the poll thread to the applier, in order.
pub(super) enum Command {
    /// Partitions now owned, with the offset row value as read (None: no row yet).
    Assigned(HashMap<PartitionKey, Option<i64>>),
    Apply(Vec<Decoded>),
    /// Reply once every earlier batch is committed or abandoned.
    Drain(oneshot::Sender<()>),
    Revoked(Vec<PartitionKey>),
    /// Every `deadline_tick`, busy or not: the low and high watermarks of the assigned
    /// partitions and when they were asked of the broker, for the applier to decide whether
    /// deadlines due by then may fire.
    Tick(HashMap<PartitionKey, (i64, i64)>, Instant),
}

pub(super) struct PollSetup {
    pub settings: SubscriberSettings,
    pub topic_prefix: String,
    /// The group's redrive topic, read along with the event topics.
    pub redrive_topic: String,
    pub store: Store,
    pub commands: mpsc::Sender<Command>,
    /// Offsets committed to the database (stored in Kafka for lag tools), and partitions to
    /// fetch again from their stored offset.
    pub committed: std_mpsc::Receiver<super::apply::Feedback>,
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
    /// Read from its beginning whatever `start_from` says: a request written before the
    /// group's first assignment must not be skipped.
    redrive_topic: String,
    offset_policy: super::OffsetPolicy,
    /// To probe a partition with a client of its own.
    brokers: String,
    extra: Vec<(String, String)>,
    /// Owned partitions stopped because their stored offset lies outside the log, and why.
    out_of_range: Mutex<std::collections::BTreeMap<PartitionKey, String>>,
    /// What the watermark probe asks about.
    owned: OwnedPartitions,
}

impl ClientContext for RuntimeContext {
    fn stats(&self, statistics: Statistics) {
        for (topic, t) in &statistics.topics {
            for (partition, p) in &t.partitions {
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
        // The group coordinator answered, so a broker is reachable; the statistics (every
        // five seconds) would otherwise keep `/readyz` at "starting" while records apply.
        self.health.ready(&format!("{}:broker", self.group));
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
        let mut stored = stored;
        let stopped = self.check_offsets_in_log(consumer, &mut stored);
        if self.start_from == StartFrom::End {
            self.store_end_offsets(consumer, &partitions, &mut stored);
        }
        let mut positions = HashMap::new();
        for (topic, partition) in &partitions {
            let next = stored.get(&(topic.clone(), *partition)).copied();
            let offset = match (next, self.start_from_for(topic)) {
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
        self.owned.set(partitions.clone());
        if !stopped.is_empty() {
            let mut paused = TopicPartitionList::new();
            for (topic, partition) in &stopped {
                paused.add_partition(topic, *partition);
            }
            if let Err(e) = consumer.pause(&paused) {
                tracing::error!(group = %self.group, error = %e, "could not stop the partitions outside their log");
            }
        }
        self.report_out_of_range();
        self.health.ready(&format!("{}:assignment", self.group));
    }

    fn start_from_for(&self, topic: &str) -> StartFrom {
        if topic == self.redrive_topic {
            StartFrom::Beginning
        } else {
            self.start_from
        }
    }

    /// Checks each stored offset against its partition's log. Outside it, with the `Stop`
    /// policy the partition is returned (to be paused) and reported; with `Resume` the log's
    /// start is stored instead and what was lost is logged.
    fn check_offsets_in_log(
        &self,
        consumer: &BaseConsumer<Self>,
        stored: &mut HashMap<PartitionKey, i64>,
    ) -> Vec<PartitionKey> {
        let mut stopped = Vec::new();
        let mut problems = self.out_of_range.lock().expect("lock");
        for (key, next) in stored.clone() {
            problems.remove(&key);
            let (low, high) = match consumer.fetch_watermarks(
                &key.0,
                key.1,
                Duration::from_secs(10),
            ) {
                Ok(marks) => marks,
                Err(e) => {
                    tracing::warn!(group = %self.group, topic = %key.0, partition = key.1, error = %e, "cannot check the stored offset against the log");
                    continue;
                }
            };
            // The probe starts at the last offset the broker admits to, not inside what it
            // may under-report: tansu 0.6 reports a high watermark below records it has
            // served when batches hold several records, and skips the rest of a batch when
            // a fetch starts inside it.
            let kind = if next > high && !self.record_exists_at(&key, low.max(high - 1), next - 1) {
                OutsideLogKind::PastEnd
            } else if next < low {
                OutsideLogKind::BeforeStart
            } else {
                continue;
            };
            let stored_now = match self.offset_policy {
                super::OffsetPolicy::Stop => None,
                super::OffsetPolicy::Resume => Some(self.runtime.block_on(store_offset(
                    &self.store,
                    &self.group,
                    &key,
                    next,
                    low,
                ))),
            };
            let event = OffsetOutsideLog {
                group: &self.group,
                topic: &key.0,
                partition: key.1,
                stored: next,
                low,
                high,
                kind,
                action: match &stored_now {
                    None => OutsideLogAction::Stopped,
                    Some(Ok(())) => OutsideLogAction::Resumed,
                    Some(Err(e)) => OutsideLogAction::StoreFailed(e),
                },
            };
            event.emit();
            let what = event.describe();
            if let Some(Ok(())) = stored_now {
                stored.insert(key, low);
            } else {
                problems.insert(key.clone(), what);
                stopped.push(key);
            }
        }
        stopped
    }

    /// With `StartFrom::End`, a partition seen for the first time starts at its end *now*:
    /// the offset is stored at once, so that a restart before its first record does not jump
    /// again and skip what was published in between.
    fn store_end_offsets(
        &self,
        consumer: &BaseConsumer<Self>,
        partitions: &[PartitionKey],
        stored: &mut HashMap<PartitionKey, i64>,
    ) {
        let fresh: Vec<&PartitionKey> = partitions
            .iter()
            .filter(|k| !stored.contains_key(*k) && k.0 != self.redrive_topic)
            .collect();
        for key in fresh {
            let Ok((_, high)) = consumer.fetch_watermarks(&key.0, key.1, Duration::from_secs(10))
            else {
                continue;
            };
            let inserted = self.runtime.block_on(
                sqlx::query(
                    "INSERT INTO lintas_offsets (next_offset, updated_at_ms, consumer_group, topic, partition_id) \
                     VALUES ($1, $2, $3, $4, $5) ON CONFLICT DO NOTHING",
                )
                .bind(high)
                .bind(crate::outbox::now_ms())
                .bind(&self.group)
                .bind(&key.0)
                .bind(key.1)
                .execute(self.store.pool()),
            );
            if inserted.is_ok() {
                stored.insert(key.clone(), high);
            }
        }
    }

    /// Whether the broker still delivers the record at `offset`, asked with a client of its
    /// own: a stored offset above the reported high watermark is only past the end if the
    /// record before it cannot be fetched. (Kafka answers "out of range"; tansu 0.6 reports a
    /// high watermark below its log when producers write a partition concurrently.)
    /// Whether the broker serves a record at `offset` to a probe reading from `from`.
    fn record_exists_at(&self, key: &PartitionKey, from: i64, offset: i64) -> bool {
        let mut config = ClientConfig::new();
        config
            .set("bootstrap.servers", &self.brokers)
            .set("group.id", crate::topics::offset_probe_group(&self.group))
            .set("enable.auto.commit", "false")
            .set("auto.offset.reset", "error");
        for (k, v) in &self.extra {
            config.set(k, v);
        }
        let Ok(probe) = config.create::<BaseConsumer>() else {
            return false;
        };
        let mut tpl = TopicPartitionList::new();
        if tpl
            .add_partition_offset(&key.0, key.1, Offset::Offset(from.min(offset)))
            .is_err()
            || probe.assign(&tpl).is_err()
        {
            return false;
        }
        let deadline = Instant::now() + Duration::from_secs(3);
        while Instant::now() < deadline {
            match probe.poll(Duration::from_millis(200)) {
                Some(Ok(m)) if m.offset() >= offset => return true,
                Some(Err(_)) => return false,
                _ => {}
            }
        }
        false
    }

    fn report_out_of_range(&self) {
        let problems = self.out_of_range.lock().expect("lock");
        crate::metrics::PARTITIONS_STOPPED
            .with_label_values(&[&self.group])
            .set(problems.len() as i64);
        let part = format!("{}:offsets", self.group);
        if problems.is_empty() {
            self.health.ready(&part);
        } else {
            let reasons: Vec<&str> = problems.values().map(String::as_str).collect();
            self.health
                .not_ready(&part, format!("partitions stopped: {}", reasons.join("; ")));
        }
    }

    /// The log of an owned partition moved under the running subscriber: Kafka answered a
    /// fetch "offset out of range", or the fetch position stands outside the watermarks
    /// (tansu 0.6 answers such a fetch with nothing). The stored offsets are checked against
    /// the log again and the policy applied as at an assignment. With `after_reset`, every
    /// other partition is fetched again from its stored offset, since librdkafka stops
    /// fetching the partition it could not reset and does not say which one it was.
    fn recheck_offsets(&self, consumer: &BaseConsumer<Self>, after_reset: bool) {
        let Ok(assignment) = consumer.assignment() else {
            return;
        };
        let stopped_already = self.out_of_range.lock().expect("lock").clone();
        let partitions: Vec<PartitionKey> = assignment
            .elements()
            .iter()
            .map(|e| (e.topic().to_string(), e.partition()))
            .filter(|k| !stopped_already.contains_key(k))
            .collect();
        let mut stored = match self.runtime.block_on(load_offsets(
            &self.store,
            &self.group,
            &partitions,
        )) {
            Ok(stored) => stored,
            Err(e) => {
                tracing::warn!(group = %self.group, error = %e, "cannot read stored offsets to check them against the log; retried at the next turn");
                return;
            }
        };
        let before = stored.clone();
        let stopped = self.check_offsets_in_log(consumer, &mut stored);
        let moved: HashMap<PartitionKey, Option<i64>> = stored
            .iter()
            .filter(|(k, v)| before.get(*k) != Some(*v))
            .map(|(k, v)| (k.clone(), Some(*v)))
            .collect();
        if !moved.is_empty()
            && self
                .commands
                .blocking_send(Command::Assigned(moved.clone()))
                .is_err()
        {
            return;
        }
        let mut paused = TopicPartitionList::new();
        for (topic, partition) in &stopped {
            paused.add_partition(topic, *partition);
        }
        if paused.count() > 0 {
            if let Err(e) = consumer.pause(&paused) {
                tracing::error!(group = %self.group, error = %e, "could not stop the partitions outside their log");
            }
        }
        let fetch_again = partitions
            .iter()
            .filter(|k| !stopped.contains(k) && (after_reset || moved.contains_key(*k)));
        for key in fetch_again {
            self.pending
                .lock()
                .expect("lock")
                .retain(|m| !(m.topic() == key.0 && m.partition() == key.1));
            let at = stored
                .get(key)
                .map_or(Offset::Beginning, |n| Offset::Offset(*n));
            if let Err(e) = consumer.seek(&key.0, key.1, at, Duration::from_secs(10)) {
                tracing::warn!(group = %self.group, topic = %key.0, partition = key.1, error = %e, "could not fetch the partition again");
            }
        }
        self.report_out_of_range();
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
        {
            let mut problems = self.out_of_range.lock().expect("lock");
            for (topic, partition) in &revoked {
                let _ =
                    CONSUMER_LAG.remove_label_values(&[&self.group, topic, &partition.to_string()]);
                problems.remove(&(topic.clone(), *partition));
            }
        }
        self.report_out_of_range();
        let _ = self.commands.blocking_send(Command::Revoked(revoked));
        self.owned.set(Vec::new());
        if let Err(e) = consumer.unassign() {
            tracing::warn!(group = %self.group, error = %e, "unassign failed");
        }
        tracing::info!(group = %self.group, "partitions revoked after in-flight batches committed");
    }
}

/// Moves a stored offset from `from` to `to` (an operator's policy, not a batch).
async fn store_offset(
    store: &Store,
    group: &str,
    key: &PartitionKey,
    from: i64,
    to: i64,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "UPDATE lintas_offsets SET next_offset = $1, updated_at_ms = $2 \
         WHERE consumer_group = $3 AND topic = $4 AND partition_id = $5 AND next_offset = $6",
    )
    .bind(to)
    .bind(crate::outbox::now_ms())
    .bind(group)
    .bind(&key.0)
    .bind(key.1)
    .bind(from)
    .execute(store.pool())
    .await?;
    Ok(())
}

pub(super) async fn load_offsets(
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
    let watermarks = WatermarkProbe::spawn(&setup.settings, setup.shutdown.clone())?;
    let context = RuntimeContext {
        group: setup.settings.group.clone(),
        store: setup.store.clone(),
        commands: setup.commands.clone(),
        pending: pending.clone(),
        health: setup.health.clone(),
        shutdown: setup.shutdown.clone(),
        runtime: setup.runtime.clone(),
        start_from: setup.settings.start_from,
        redrive_topic: setup.redrive_topic.clone(),
        offset_policy: setup.settings.on_offset_out_of_range,
        brokers: setup.settings.brokers.clone(),
        extra: setup.settings.extra.clone(),
        out_of_range: Mutex::new(Default::default()),
        owned: watermarks.owned.clone(),
    };
    setup
        .health
        .ready(&format!("{}:offsets", setup.settings.group));
    let mut config = ClientConfig::new();
    config
        .set("bootstrap.servers", &setup.settings.brokers)
        .set("group.id", &setup.settings.group)
        // Kafka's committed offsets are only a mirror for lag tools; the database decides.
        .set("enable.auto.commit", "true")
        .set("enable.auto.offset.store", "false")
        // Every assignment names its offsets; a reset means the log moved under a running
        // subscriber (topic recreated, unclean election, retention): `recheck_offsets`.
        .set("auto.offset.reset", "error")
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
    let mut topics: Vec<String> = setup
        .settings
        .topics
        .iter()
        .map(|t| format!("{}{}", setup.topic_prefix, t.base_name()))
        .collect();
    topics.push(setup.redrive_topic.clone());
    let topic_refs: Vec<&str> = topics.iter().map(String::as_str).collect();
    consumer.subscribe(&topic_refs)?;
    let handle = std::thread::Builder::new()
        .name(format!("lintas-poll-{}", setup.settings.group))
        .spawn(move || poll_loop(consumer, setup, pending, watermarks))?;
    Ok(handle)
}

/// The partitions this instance owns, as the watermark probe sees them; setting them wakes
/// the probe so that marks for a new assignment follow at once.
#[derive(Clone)]
struct OwnedPartitions {
    partitions: Arc<Mutex<Vec<PartitionKey>>>,
    wake: std_mpsc::SyncSender<()>,
}

impl OwnedPartitions {
    fn set(&self, partitions: Vec<PartitionKey>) {
        *self.partitions.lock().expect("lock") = partitions;
        let _ = self.wake.try_send(());
    }

    fn get(&self) -> Vec<PartitionKey> {
        self.partitions.lock().expect("lock").clone()
    }
}

/// Watermarks of the owned partitions, asked of the broker on a thread and client of their
/// own: an answer that takes seconds (tansu 0.6 takes up to 10 s for a timestamp lookup)
/// must never hold up polling, or every partition of the subscriber goes silent while it
/// waits. The poll thread takes the latest marks at each tick.
struct WatermarkProbe {
    owned: OwnedPartitions,
    marks: std_mpsc::Receiver<(Watermarks, Instant)>,
}

impl WatermarkProbe {
    fn spawn(settings: &SubscriberSettings, shutdown: Shutdown) -> anyhow::Result<Self> {
        let mut config = ClientConfig::new();
        config
            .set("bootstrap.servers", &settings.brokers)
            .set("group.id", format!("{}-watermarks", settings.group))
            .set("enable.auto.commit", "false");
        for (k, v) in &settings.extra {
            config.set(k, v);
        }
        let client: BaseConsumer = config.create()?;
        let (wake, woken) = std_mpsc::sync_channel(1);
        let owned = OwnedPartitions {
            partitions: Arc::new(Mutex::new(Vec::new())),
            wake,
        };
        let (tx, marks) = std_mpsc::sync_channel(1);
        // The thread holds the list, not the waker: when the subscriber is gone, it ends.
        let asked = owned.partitions.clone();
        let every = settings.deadline_tick.min(Duration::from_secs(1));
        std::thread::Builder::new()
            .name(format!("lintas-watermarks-{}", settings.group))
            .spawn(move || {
                let mut batched = true;
                while !shutdown.is_triggered() {
                    let partitions = asked.lock().expect("lock").clone();
                    if !partitions.is_empty() {
                        let taken = Instant::now();
                        let marks = if batched {
                            fresh_watermarks(&client, &partitions)
                        } else {
                            None
                        };
                        // A broker that does not answer the batched request for every
                        // partition (tansu 0.6's timestamp lookups time out) is asked one
                        // partition at a time from then on.
                        batched &= marks.is_some();
                        let marks =
                            marks.unwrap_or_else(|| watermarks_one_by_one(&client, &partitions));
                        // Full: the poll thread has not taken the last ones yet; fresher
                        // ones follow.
                        if let Err(std_mpsc::TrySendError::Disconnected(_)) =
                            tx.try_send((marks, taken))
                        {
                            return;
                        }
                    }
                    if let Err(std_mpsc::RecvTimeoutError::Disconnected) = woken.recv_timeout(every)
                    {
                        return;
                    }
                }
            })?;
        Ok(WatermarkProbe { owned, marks })
    }

    /// The latest marks taken and when, keeping only partitions still owned.
    fn latest(&self) -> Option<(Watermarks, Instant)> {
        let (mut marks, taken) = self.marks.try_iter().last()?;
        let owned = self.owned.get();
        marks.retain(|k, _| owned.contains(k));
        Some((marks, taken))
    }
}

/// Low and high watermarks of `partitions`, asked of the broker now (one ListOffsets
/// request for the ends and one for the starts, for all of them); None when the broker does
/// not tell every partition. A partition left out keeps deadlines from firing: never a
/// stale or borrowed value (statistics lag by seconds, and a partition just assigned has
/// none of its own).
fn fresh_watermarks(
    client: &BaseConsumer,
    partitions: &[PartitionKey],
) -> Option<HashMap<PartitionKey, (i64, i64)>> {
    let at = |timestamp: i64| {
        let mut tpl = TopicPartitionList::new();
        for (topic, partition) in partitions {
            let _ = tpl.add_partition_offset(topic, *partition, Offset::Offset(timestamp));
        }
        client.offsets_for_times(tpl, Duration::from_secs(5)).ok()
    };
    let (ends, starts) = (at(-1)?, at(-2)?);
    let mut marks = HashMap::new();
    for e in ends.elements() {
        let (Offset::Offset(high), None) = (e.offset(), e.error().err()) else {
            continue;
        };
        let low = starts
            .find_partition(e.topic(), e.partition())
            .and_then(|s| match s.offset() {
                Offset::Offset(low) => Some(low),
                _ => None,
            })
            .unwrap_or(0);
        marks.insert((e.topic().to_string(), e.partition()), (low, high));
    }
    (marks.len() == partitions.len()).then_some(marks)
}

fn watermarks_one_by_one(
    client: &BaseConsumer,
    partitions: &[PartitionKey],
) -> HashMap<PartitionKey, (i64, i64)> {
    partitions
        .iter()
        .filter_map(|(topic, partition)| {
            let mark = client
                .fetch_watermarks(topic, *partition, Duration::from_secs(5))
                .ok()?;
            Some(((topic.clone(), *partition), mark))
        })
        .collect()
}

fn poll_loop(
    consumer: BaseConsumer<RuntimeContext>,
    setup: PollSetup,
    pending: Arc<Mutex<Vec<OwnedMessage>>>,
    watermarks: WatermarkProbe,
) {
    let group = setup.settings.group.clone();
    let max_batch = setup.settings.max_batch.max(1);
    let mut batch_started: Option<Instant> = None;
    let mut last_tick = Instant::now();
    let mut outside = OutsideTheLog::default();
    while !setup.shutdown.is_triggered() {
        store_committed(&consumer, &setup.committed, &pending);
        let wait = match batch_started {
            Some(started) => setup.settings.max_wait.saturating_sub(started.elapsed()),
            None => Duration::from_millis(100),
        };
        match consumer.poll(wait) {
            Some(Ok(message)) => {
                RecordConsumed {
                    group: &group,
                    topic: message.topic(),
                }
                .emit();
                pending.lock().expect("lock").push(message.detach());
                batch_started.get_or_insert_with(Instant::now);
            }
            Some(Err(KafkaError::MessageConsumption(
                rdkafka::types::RDKafkaErrorCode::AutoOffsetReset,
            ))) => {
                tracing::warn!(group = %group, "the broker answered a fetch with \"offset out of range\"; checking the stored offsets against the log");
                consumer.context().recheck_offsets(&consumer, true);
            }
            Some(Err(e)) => tracing::warn!(group = %group, error = %e, "poll error"),
            None => {}
        }
        // Under sustained traffic too: the applier fires what was due when these marks were
        // taken once it has applied up to them. Retried at the next turn when it is busy.
        if last_tick.elapsed() >= setup.settings.deadline_tick {
            if let Some((marks, taken)) = watermarks.latest() {
                if outside.notice(&consumer, &marks) {
                    consumer.context().recheck_offsets(&consumer, false);
                }
                if setup.commands.try_send(Command::Tick(marks, taken)).is_ok() {
                    last_tick = Instant::now();
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
            let Some(decoded) = setup.runtime.block_on(decode_batch(
                &setup.codec,
                &group,
                &setup.redrive_topic,
                batch,
                setup.settings.unknown_schema_wait,
                &setup.shutdown,
            )) else {
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
        if let Some(decoded) = setup.runtime.block_on(decode_batch(
            &setup.codec,
            &group,
            &setup.redrive_topic,
            batch,
            setup.settings.unknown_schema_wait,
            &setup.shutdown,
        )) {
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
    store_committed(&consumer, &setup.committed, &pending);
    let _ = consumer.commit_consumer_state(rdkafka::consumer::CommitMode::Sync);
    consumer.unsubscribe();
    drop(consumer);
    tracing::info!(group = %group, "left the consumer group");
}

/// Fetch positions that stand outside their partition's watermarks without moving: a
/// broker that answers such a fetch with nothing (tansu 0.6) would otherwise leave the
/// partition silent for good. A position seen there at two ticks in a row is worth a check
/// of the stored offsets, at most once a minute (tansu also under-reports high watermarks
/// for a while when producers write concurrently; the check then finds the record).
#[derive(Default)]
struct OutsideTheLog {
    seen: HashMap<PartitionKey, i64>,
    last_check: Option<Instant>,
}

impl OutsideTheLog {
    fn notice(
        &mut self,
        consumer: &BaseConsumer<RuntimeContext>,
        marks: &HashMap<PartitionKey, (i64, i64)>,
    ) -> bool {
        let Ok(positions) = consumer.position() else {
            return false;
        };
        let mut seen = HashMap::new();
        let mut again = false;
        for e in positions.elements() {
            let key = (e.topic().to_string(), e.partition());
            let (Offset::Offset(at), Some((low, high))) = (e.offset(), marks.get(&key)) else {
                continue;
            };
            if at > *high || at < *low {
                again |= self.seen.get(&key) == Some(&at);
                seen.insert(key, at);
            }
        }
        self.seen = seen;
        let due = self
            .last_check
            .is_none_or(|t| t.elapsed() >= Duration::from_secs(60));
        if again && due {
            self.last_check = Some(Instant::now());
        }
        again && due
    }
}

fn store_committed(
    consumer: &BaseConsumer<RuntimeContext>,
    feedback: &std_mpsc::Receiver<super::apply::Feedback>,
    pending: &Mutex<Vec<OwnedMessage>>,
) {
    use super::apply::Feedback;
    while let Ok(message) = feedback.try_recv() {
        match message {
            Feedback::Committed(offsets) => {
                let mut tpl = TopicPartitionList::new();
                for (topic, partition, next) in offsets {
                    let _ = tpl.add_partition_offset(&topic, partition, Offset::Offset(next));
                }
                // Fails harmlessly for partitions no longer assigned.
                let _ = consumer.store_offsets(&tpl);
            }
            Feedback::Seek(partitions) => {
                let group = consumer.context().group.clone();
                for (topic, partition, at) in partitions {
                    pending
                        .lock()
                        .expect("lock")
                        .retain(|m| !(m.topic() == topic && m.partition() == partition));
                    let offset = at.map_or(Offset::Beginning, Offset::Offset);
                    // Not assigned any more: the next owner starts from the stored offset.
                    if let Err(e) =
                        consumer.seek(&topic, partition, offset, Duration::from_secs(10))
                    {
                        tracing::info!(group = %group, topic, partition, error = %e, "no seek: partition not assigned here");
                    }
                }
            }
        }
    }
}
