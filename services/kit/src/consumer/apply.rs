//! The applier: dead-letters what could not be decoded, and commits the view
//! update with the offsets in one transaction.

use std::collections::HashMap;
use std::sync::{mpsc as std_mpsc, Arc};
use std::time::Instant;

use rdkafka::message::{Message, OwnedMessage};
use tokio::sync::mpsc;

use super::dead_letter::{error_headers, redrive_error_headers, DeadLetterStage};
use super::decode::{Decoded, Outcome};
use super::poll::{Command, PartitionKey};
use super::{backoff, Batch, Handler, HandlerError, Record};
use crate::codec::Codec;
use crate::dead_letters::{Action, Request, State};
use crate::internal_events::{
    ApplyRetried, BatchApplied, BatchFenced, DeadLetterDecided, EventsApplied, OffsetGap,
    RecordDeadLettered, RecordSkipped, RedriveRequestSkipped, RetryCause,
};
use crate::metrics::END_TO_END_LATENCY;
use crate::outbox::now_ms;
use crate::producer::EventProducer;
use crate::shutdown::Shutdown;
use crate::store::Store;

pub(super) struct Applier<H> {
    pub group: String,
    pub dead_letter_topic: String,
    pub store: Store,
    pub producer: EventProducer,
    pub handler: Arc<H>,
    pub committed: std_mpsc::Sender<Feedback>,
    pub relay_wakeup: Arc<tokio::sync::Notify>,
    pub shutdown: Shutdown,
    pub clock: super::Clock,
    pub health: crate::telemetry::Health,
}

/// Why a batch did not commit.
enum Abandoned {
    /// Shutdown while waiting out a transient failure: nothing committed, the records will
    /// be read again from the stored offsets.
    Shutdown,
}

/// From the applier back to the poll thread.
pub(super) enum Feedback {
    /// Offsets committed to the database, to store in Kafka for lag tools.
    Committed(Vec<(String, i32, i64)>),
    /// Partitions whose stored offset moved under this instance (another instance applied
    /// them, or an operator reset them): fetch them again from there.
    Seek(Vec<(String, i32, Option<i64>)>),
}

/// What the offsets compare-and-set found.
enum Cas {
    Committed,
    /// The stored offset of at least one partition was not the one this instance expected.
    Missed,
}

impl<H: Handler> Applier<H> {
    pub async fn run(self, mut commands: mpsc::Receiver<Command>) {
        // Offset row value this instance last read or wrote, per owned partition.
        let mut positions: HashMap<PartitionKey, Option<i64>> = HashMap::new();
        // Watermarks taken at a tick: deadlines due by then fire once everything up to them
        // is applied.
        let mut gate: Option<Gate> = None;
        while let Some(command) = commands.recv().await {
            match command {
                Command::Assigned(assigned) => {
                    positions.extend(assigned);
                    gate = None;
                }
                Command::Revoked(revoked) => {
                    revoked.iter().for_each(|p| {
                        positions.remove(p);
                    });
                    gate = None;
                }
                Command::Drain(done) => {
                    let _ = done.send(());
                }
                Command::Tick(marks, taken) => {
                    // Marks that miss an owned partition never let deadlines fire; fresher
                    // ones replace them (a probe that could not tell a partition this time,
                    // or took them before the last assignment).
                    if gate.as_ref().is_none_or(|g| !covers(&g.marks, &positions)) {
                        gate = Some(Gate {
                            marks,
                            at: self.clock.at(taken),
                        });
                    }
                    self.fire_if_caught_up(&mut gate, &positions).await
                }
                Command::Apply(messages) => {
                    let started = Instant::now();
                    let applied = self.apply_batch(messages, &mut positions).await;
                    if gate.is_some() {
                        self.fire_if_caught_up(&mut gate, &positions).await;
                    }
                    match applied {
                        Ok(()) => BatchApplied {
                            group: &self.group,
                            duration: started.elapsed(),
                        }
                        .emit(),
                        Err(Abandoned::Shutdown) => {
                            tracing::info!(group = %self.group, "batch abandoned at shutdown; it will be read again")
                        }
                    }
                }
            }
        }
    }

    /// Fires the deadlines of the partitions this instance owns that were due when the
    /// gate's watermarks were taken, once it has applied everything up to them.
    async fn fire_if_caught_up(
        &self,
        gate: &mut Option<Gate>,
        positions: &HashMap<PartitionKey, Option<i64>>,
    ) {
        let Some(Gate { marks, at }) = gate.as_ref() else {
            return;
        };
        if !caught_up(marks, positions) {
            tracing::debug!(group = %self.group, ?marks, ?positions, "deadlines wait: not applied up to the watermarks yet");
            return;
        }
        let at = *at;
        *gate = None;
        let owned: std::collections::HashSet<PartitionKey> = positions.keys().cloned().collect();
        let codec = self.producer.codec().clone();
        let mut unused = Vec::new();
        match super::fire_due(
            &self.store,
            self.handler.as_ref(),
            Some(&codec),
            &mut unused,
            at,
            Some(&owned),
        )
        .await
        {
            Ok(0) => {}
            Ok(n) => {
                tracing::info!(group = %self.group, deadlines = n, "deadlines fired");
                self.relay_wakeup.notify_one();
            }
            // The next tick tries again; nothing was marked fired.
            Err(e) => tracing::warn!(group = %self.group, error = %e, "firing deadlines failed"),
        }
    }

    async fn apply_batch(
        &self,
        batch: Vec<Decoded>,
        positions: &mut HashMap<PartitionKey, Option<i64>>,
    ) -> Result<(), Abandoned> {
        // Records of partitions we no longer own, or already applied, are not ours to apply.
        let batch: Vec<Decoded> = batch
            .into_iter()
            .filter(|d| {
                match positions.get(&(d.message.topic().to_string(), d.message.partition())) {
                    Some(Some(next)) => d.message.offset() >= *next,
                    Some(None) => true,
                    None => false,
                }
            })
            .collect();
        if batch.is_empty() {
            return Ok(());
        }
        self.notice_gaps(&batch, positions);
        let batch = self.screen_redrives(batch).await?;
        let mut items = Vec::with_capacity(batch.len());
        let mut records = Vec::with_capacity(batch.len());
        for Decoded {
            message,
            outcome,
            mut redrive,
        } in batch
        {
            let mut failure = None;
            let has_record = match outcome {
                Outcome::Event(decoded) => {
                    let crate::codec::Decoded { event, sealed } = *decoded;
                    // A redriven record reaches the handler as the record it was: at its
                    // original topic, partition and offset (the alert desk tells an alert
                    // topic's owner by the topic; deadlines gate on the origin partition).
                    let (topic, partition, offset) = match &redrive {
                        Some(r) => (r.topic.clone(), r.partition, r.offset),
                        None => (
                            message.topic().to_string(),
                            message.partition(),
                            message.offset(),
                        ),
                    };
                    records.push(Record {
                        event,
                        sealed,
                        topic,
                        partition,
                        offset,
                    });
                    true
                }
                Outcome::Duplicate => false,
                Outcome::Skip(reason) => {
                    // A redriven event of a type this build does not know decides nothing:
                    // the dead letter stays pending for an upgraded subscriber.
                    redrive = None;
                    RecordSkipped {
                        group: &self.group,
                        topic: message.topic(),
                        partition: message.partition(),
                        offset: message.offset(),
                        reason,
                    }
                    .emit();
                    false
                }
                Outcome::DeadLetter(class, reason) => {
                    let stage = DeadLetterStage::Decode;
                    self.dead_letter(&message, redrive.as_ref(), stage, class, &reason)
                        .await?;
                    failure = Some(class.to_string());
                    false
                }
                Outcome::Discard => false,
            };
            items.push(Item {
                message,
                has_record,
                redrive,
                failure,
            });
        }
        self.apply_items(items, records, positions).await
    }

    /// Commits `items` (in poll order) with their offsets. A record the handler rejects is
    /// dead-lettered and the rest applies; a deterministic database error (a constraint, bad
    /// data) is isolated by bisection to the one record that causes it, which is dead-lettered
    /// after a few attempts, so one bad record never stops the partitions; a transient one is
    /// retried with backoff, and after a while the subscriber says it is not ready, and why.
    fn apply_items<'a>(
        &'a self,
        mut items: Vec<Item>,
        mut records: Vec<Record>,
        positions: &'a mut HashMap<PartitionKey, Option<i64>>,
    ) -> std::pin::Pin<Box<dyn std::future::Future<Output = Result<(), Abandoned>> + Send + 'a>>
    {
        Box::pin(async move {
            let codec = self.producer.codec().clone();
            let mut attempt = 0;
            let started = Instant::now();
            loop {
                if items.is_empty() {
                    return Ok(());
                }
                let next_offsets = next_offsets(&items);
                let decided = decisions(&items);
                match self
                    .commit(&codec, &records, &next_offsets, &decided, positions)
                    .await
                {
                    Ok(Cas::Committed) => break,
                    Ok(Cas::Missed) => {
                        match self.resolve_missed_cas(&next_offsets, positions).await? {
                            // An earlier attempt committed; only its reply was lost.
                            None => break,
                            Some(moved) => {
                                let gone = |topic: &str, partition: i32| {
                                    moved.iter().any(|(t, p)| t == topic && *p == partition)
                                };
                                items.retain(|i| !gone(i.message.topic(), i.message.partition()));
                                records.retain(|r| !gone(&r.topic, r.partition));
                            }
                        }
                    }
                    Err(HandlerError::Rejected { index, reason }) if index < records.len() => {
                        let (message, redrive) =
                            drop_record(&mut items, &mut records, index, "rejected");
                        let stage = DeadLetterStage::Handler;
                        self.dead_letter(&message, redrive.as_ref(), stage, "rejected", &reason)
                            .await?;
                    }
                    Err(e) => {
                        let class = deterministic(&e);
                        if class.is_some() && records.len() > 1 {
                            // Split between records and apply each half on its own.
                            let half = records.len() / 2;
                            let second = items.split_off(split_point(&items, half));
                            let second_records = records.split_off(half);
                            tracing::warn!(group = %self.group, error = %e, records = records.len() + second_records.len(), "batch fails deterministically; isolating the record");
                            self.apply_items(items, records, positions).await?;
                            return self.apply_items(second, second_records, positions).await;
                        }
                        if let (Some(class), 1) = (class, records.len()) {
                            if attempt >= ISOLATED_ATTEMPTS {
                                let (message, redrive) =
                                    drop_record(&mut items, &mut records, 0, class);
                                self.dead_letter(
                                    &message,
                                    redrive.as_ref(),
                                    DeadLetterStage::Handler,
                                    class,
                                    &e.to_string(),
                                )
                                .await?;
                                continue;
                            }
                        }
                        ApplyRetried {
                            group: &self.group,
                            cause: RetryCause::Apply,
                            attempt,
                            error: &e,
                        }
                        .emit();
                        if started.elapsed() >= STUCK_AFTER {
                            self.health.not_ready(
                                &self.apply_part(),
                                format!(
                                    "no batch applied for {}s: {e}",
                                    started.elapsed().as_secs()
                                ),
                            );
                        }
                        self.pause(attempt).await?;
                        attempt += 1;
                    }
                }
            }
            self.health.ready(&self.apply_part());
            self.committed_items(&items, &records, positions);
            Ok(())
        })
    }

    /// Keeps requests for dead letters already decided out of the batch, and all but the
    /// first request for one dead letter within it: each dead letter is redriven (or
    /// discarded) once, however often it is asked. Such a request's offset still advances.
    async fn screen_redrives(&self, mut batch: Vec<Decoded>) -> Result<Vec<Decoded>, Abandoned> {
        if batch.iter().all(|d| d.redrive.is_none()) {
            return Ok(batch);
        }
        let mut attempt = 0;
        let decided = loop {
            match crate::dead_letters::decisions(&self.store, &self.group).await {
                Ok(decided) => break decided,
                Err(e) => {
                    ApplyRetried {
                        group: &self.group,
                        cause: RetryCause::Apply,
                        attempt,
                        error: &e,
                    }
                    .emit();
                    self.pause(attempt).await?;
                    attempt += 1;
                }
            }
        };
        // The records already applied through a dead letter: a record dead-lettered twice (a
        // crash between the dead letter's ack and the commit) is still applied once.
        let mut applied: std::collections::HashSet<(String, i32, i64)> = decided
            .values()
            .filter(|d| d.state == State::Applied)
            .map(|d| d.original.clone())
            .collect();
        let mut seen = std::collections::HashSet::new();
        for d in &mut batch {
            let Some(request) = &d.redrive else { continue };
            let letter = (request.dlq_partition, request.dlq_offset);
            let earlier = decided.get(&letter).map(|decision| decision.state);
            if earlier.is_none() && seen.insert(letter) {
                let original = (request.topic.clone(), request.partition, request.offset);
                if request.action == Action::Redrive
                    && matches!(d.outcome, Outcome::Event(_))
                    && !applied.insert(original)
                {
                    // Decided as a duplicate of the dead letter that applied its record.
                    d.outcome = Outcome::Duplicate;
                }
                continue;
            }
            RedriveRequestSkipped {
                group: &self.group,
                dlq_partition: letter.0,
                dlq_offset: letter.1,
                decided: earlier,
                action: request.action,
            }
            .emit();
            d.redrive = None;
            d.outcome = Outcome::Skip("dead_letter_already_decided");
        }
        Ok(batch)
    }

    /// Records the broker never delivered: the next record of a partition should be at the
    /// offset this instance expects (its stored offset, then one past the last record). On a
    /// topic that is not compacted and has no transactional producers (Lintas's), a jump means
    /// the broker skipped records: counted, logged and shown on `/readyz` as a warning.
    fn notice_gaps(&self, batch: &[Decoded], positions: &HashMap<PartitionKey, Option<i64>>) {
        let mut expected: HashMap<(&str, i32), i64> = HashMap::new();
        for d in batch {
            let key = (d.message.topic(), d.message.partition());
            let next = expected.get(&key).copied().or_else(|| {
                positions
                    .get(&(key.0.to_string(), key.1))
                    .copied()
                    .flatten()
            });
            if let Some(next) = next {
                let offset = d.message.offset();
                if offset > next {
                    let gap = OffsetGap {
                        group: &self.group,
                        topic: key.0,
                        partition: key.1,
                        expected: next,
                        delivered: offset,
                    };
                    gap.emit();
                    self.health
                        .warn(&format!("{}:gaps", self.group), gap.describe());
                }
            }
            expected.insert(key, d.message.offset() + 1);
        }
    }

    fn apply_part(&self) -> String {
        format!("{}:apply", self.group)
    }

    /// After a commit: metrics, positions, the offsets for Kafka, the outbox relay.
    fn committed_items(
        &self,
        items: &[Item],
        records: &[Record],
        positions: &mut HashMap<PartitionKey, Option<i64>>,
    ) {
        let now = now_ms();
        let latency = END_TO_END_LATENCY.with_label_values(&[&self.group]);
        let redriven: std::collections::HashSet<(&str, i32, i64)> = items
            .iter()
            .filter_map(|i| i.redrive.as_ref())
            .map(|r| (r.topic.as_str(), r.partition, r.offset))
            .collect();
        let mut applied: HashMap<(&str, &str), u64> = HashMap::new();
        for record in records {
            *applied
                .entry((record.topic.as_str(), record.event.type_name()))
                .or_default() += 1;
            // A redriven record was recorded long ago: its delay is the operator's, not the
            // pipeline's.
            if redriven.contains(&(record.topic.as_str(), record.partition, record.offset)) {
                continue;
            }
            let recorded =
                lintas_events::timefmt::millis::to_millis(&record.event.envelope().recorded_at);
            latency.observe(((now - recorded).max(0) as f64) / 1000.0);
        }
        for ((topic, event_type), count) in applied {
            EventsApplied {
                group: &self.group,
                topic,
                event_type,
                count,
            }
            .emit();
        }
        for decision in decisions(items) {
            DeadLetterDecided {
                group: &self.group,
                dlq_partition: decision.request.dlq_partition,
                dlq_offset: decision.request.dlq_offset,
                state: decision.state,
                redrive_count: decision.request.count,
            }
            .emit();
        }
        let next_offsets = next_offsets(items);
        for (key, next) in &next_offsets {
            positions.insert(key.clone(), Some(*next));
        }
        let _ = self.committed.send(Feedback::Committed(
            next_offsets
                .into_iter()
                .map(|((t, p), n)| (t, p, n))
                .collect(),
        ));
        self.relay_wakeup.notify_one();
    }

    /// After a compare-and-set missed: reads the stored offsets of the batch's partitions.
    /// All equal to this batch's ends → an earlier attempt committed and only its reply was
    /// lost (`None`). Otherwise the partitions whose stored offset is not the one this
    /// instance expected moved under it (another instance, an operator): they are reloaded
    /// and fetched again from there, and returned so that the rest of the batch can commit.
    async fn resolve_missed_cas(
        &self,
        next_offsets: &HashMap<PartitionKey, i64>,
        positions: &mut HashMap<PartitionKey, Option<i64>>,
    ) -> Result<Option<Vec<PartitionKey>>, Abandoned> {
        let keys: Vec<PartitionKey> = next_offsets.keys().cloned().collect();
        let mut attempt = 0;
        let stored = loop {
            match super::poll::load_offsets(&self.store, &self.group, &keys).await {
                Ok(stored) => break stored,
                Err(e) => {
                    tracing::warn!(group = %self.group, error = %e, "cannot read stored offsets after a missed compare-and-set; retrying");
                    self.pause(attempt).await?;
                    attempt += 1;
                }
            }
        };
        if next_offsets
            .iter()
            .all(|(k, next)| stored.get(k) == Some(next))
        {
            tracing::info!(group = %self.group, "the batch had committed; only the database's answer was lost");
            return Ok(None);
        }
        let moved: Vec<PartitionKey> = keys
            .into_iter()
            .filter(|k| stored.get(k).copied() != positions.get(k).copied().flatten())
            .collect();
        BatchFenced {
            group: &self.group,
            partitions: &moved,
        }
        .emit();
        let mut seek = Vec::with_capacity(moved.len());
        for key in &moved {
            let at = stored.get(key).copied();
            positions.insert(key.clone(), at);
            seek.push((key.0.clone(), key.1, at));
        }
        let _ = self.committed.send(Feedback::Seek(seek));
        Ok(Some(moved))
    }

    /// One transaction: handler writes, offsets compare-and-set, commit.
    async fn commit(
        &self,
        codec: &Codec,
        records: &[Record],
        next_offsets: &HashMap<PartitionKey, i64>,
        decided: &[Decided<'_>],
        positions: &HashMap<PartitionKey, Option<i64>>,
    ) -> Result<Cas, HandlerError> {
        let mut tx = self.store.pool().begin().await?;
        if !records.is_empty() {
            let mut batch = Batch::new(&mut tx, records, super::Sink::Outbox(codec));
            self.handler.apply(&mut batch).await?;
        }
        let now = now_ms();
        for decision in decided {
            record_decision(&mut tx, &self.group, decision, now).await?;
        }
        for ((topic, partition), next) in next_offsets {
            let expected = positions
                .get(&(topic.clone(), *partition))
                .copied()
                .flatten();
            let result = match expected {
                Some(expected) => sqlx::query(
                    "UPDATE lintas_offsets SET next_offset = $1, updated_at_ms = $2 \
                     WHERE consumer_group = $3 AND topic = $4 AND partition_id = $5 AND next_offset = $6",
                )
                .bind(*next)
                .bind(now)
                .bind(&self.group)
                .bind(topic)
                .bind(*partition)
                .bind(expected),
                None => sqlx::query(
                    "INSERT INTO lintas_offsets (next_offset, updated_at_ms, consumer_group, topic, partition_id) \
                     VALUES ($1, $2, $3, $4, $5) ON CONFLICT DO NOTHING",
                )
                .bind(*next)
                .bind(now)
                .bind(&self.group)
                .bind(topic)
                .bind(*partition),
            }
            .execute(&mut *tx)
            .await?;
            if result.rows_affected() != 1 {
                tx.rollback().await?;
                return Ok(Cas::Missed);
            }
        }
        tx.commit().await?;
        Ok(Cas::Committed)
    }

    /// Sends a record to the dead-letter topic and waits for the ack, retrying until the
    /// broker takes it: its offset may only advance once it is safe there.
    async fn dead_letter(
        &self,
        message: &OwnedMessage,
        redrive: Option<&Request>,
        stage: DeadLetterStage,
        class: &str,
        reason: &str,
    ) -> Result<(), Abandoned> {
        // A redriven record that fails again is dead-lettered as the original record was:
        // at its original coordinates, with one more redrive counted.
        let headers = match redrive {
            None => error_headers(message, &self.group, stage, class, reason),
            Some(request) => {
                redrive_error_headers(message, request, &self.group, stage, class, reason)
            }
        };
        let (topic, partition, offset) = match redrive {
            None => (message.topic(), message.partition(), message.offset()),
            Some(r) => (r.topic.as_str(), r.partition, r.offset),
        };
        // The original key and value exactly: a null key stays null, a tombstone stays one.
        let (key, payload) = (message.key(), message.payload());
        let mut attempt = 0;
        let started = Instant::now();
        loop {
            match self
                .producer
                .send_raw(&self.dead_letter_topic, key, payload, headers.clone())
                .await
            {
                Ok(_) => {
                    RecordDeadLettered {
                        group: &self.group,
                        topic,
                        partition,
                        offset,
                        stage,
                        class,
                        reason,
                    }
                    .emit();
                    return Ok(());
                }
                Err(e) => {
                    ApplyRetried {
                        group: &self.group,
                        cause: RetryCause::DeadLetter,
                        attempt,
                        error: &e,
                    }
                    .emit();
                    if started.elapsed() >= STUCK_AFTER {
                        self.health.not_ready(
                            &self.apply_part(),
                            format!(
                                "cannot write the dead-letter topic {}: {e}",
                                self.dead_letter_topic
                            ),
                        );
                    }
                    self.pause(attempt).await?;
                    attempt += 1;
                }
            }
        }
    }

    async fn pause(&self, attempt: u32) -> Result<(), Abandoned> {
        tokio::select! {
            _ = tokio::time::sleep(backoff(attempt)) => Ok(()),
            _ = self.shutdown.wait() => Err(Abandoned::Shutdown),
        }
    }
}

/// Watermarks of the owned partitions and the time they were taken.
struct Gate {
    marks: HashMap<PartitionKey, (i64, i64)>,
    at: time::OffsetDateTime,
}

/// A polled record of a batch: its message (for offsets and dead letters) and, unless it was
/// dead-lettered or skipped, the decoded record for the handler.
pub(super) struct Item {
    message: OwnedMessage,
    /// Whether a record for the handler comes from it (in `records`, in the same order).
    has_record: bool,
    /// An operator's request (from the redrive topic) whose outcome this batch records.
    redrive: Option<Request>,
    /// The class it was dead-lettered with, if it was.
    failure: Option<String>,
}

/// Attempts at a single record that fails deterministically before it is dead-lettered (a
/// race with another writer can look deterministic once).
const ISOLATED_ATTEMPTS: u32 = 3;

/// How long one batch may fail before the subscriber reports itself not ready.
const STUCK_AFTER: std::time::Duration = std::time::Duration::from_secs(30);

/// The next offset of each partition the items come from.
fn next_offsets(items: &[Item]) -> HashMap<PartitionKey, i64> {
    let mut next: HashMap<PartitionKey, i64> = HashMap::new();
    for m in items.iter().map(|i| &i.message) {
        let n = next
            .entry((m.topic().to_string(), m.partition()))
            .or_insert(0);
        *n = (*n).max(m.offset() + 1);
    }
    next
}

/// Takes the `index`-th record out of the batch (to dead-letter its message with `class`; it
/// keeps its place for the offsets), with the redrive request it came from, if any.
fn drop_record(
    items: &mut [Item],
    records: &mut Vec<Record>,
    index: usize,
    class: &str,
) -> (OwnedMessage, Option<Request>) {
    records.remove(index);
    let item = items
        .iter_mut()
        .filter(|i| i.has_record)
        .nth(index)
        .expect("the index of a record of the batch");
    item.has_record = false;
    item.failure = Some(class.to_string());
    (item.message.clone(), item.redrive.clone())
}

/// The outcome of an operator's request, recorded with the batch that carries it out.
pub(super) struct Decided<'a> {
    request: &'a Request,
    request_offset: i64,
    state: State,
    reason: &'a str,
}

/// What the redrive requests among `items` came to: applied if their record is still in the
/// batch, failed again if it was dead-lettered, discarded if that was asked.
fn decisions(items: &[Item]) -> Vec<Decided<'_>> {
    items
        .iter()
        .filter_map(|item| {
            let request = item.redrive.as_ref()?;
            let (state, reason) = match (request.action, item.has_record, &item.failure) {
                (Action::Discard, _, _) => (State::Discarded, request.reason.as_str()),
                (Action::Redrive, true, _) => (State::Applied, request.reason.as_str()),
                (Action::Redrive, false, Some(class)) => (State::FailedAgain, class.as_str()),
                (Action::Redrive, false, None) => (
                    State::Duplicate,
                    "its record was applied through another dead letter",
                ),
            };
            Some(Decided {
                request,
                request_offset: item.message.offset(),
                state,
                reason,
            })
        })
        .collect()
}

/// Writes a dead letter's outcome in the batch's transaction. A dead letter already decided
/// keeps its first outcome (`screen_redrives` keeps such requests out of batches; this is
/// the guard should two requests for it meet in one transaction anyway).
async fn record_decision(
    tx: &mut sqlx::Transaction<'static, sqlx::Any>,
    group: &str,
    decision: &Decided<'_>,
    now: i64,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO lintas_dead_letters (consumer_group, dlq_partition, dlq_offset, state, \
         redrive_count, operator, reason, request_offset, decided_at_ms, original_topic, \
         original_partition, original_offset) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12) ON CONFLICT DO NOTHING",
    )
    .bind(group)
    .bind(i64::from(decision.request.dlq_partition))
    .bind(decision.request.dlq_offset)
    .bind(decision.state.as_str())
    .bind(decision.request.count)
    .bind(&decision.request.operator)
    .bind(decision.reason)
    .bind(decision.request_offset)
    .bind(now)
    .bind(&decision.request.topic)
    .bind(i64::from(decision.request.partition))
    .bind(decision.request.offset)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// Where to split `items` so that the first part holds `records` records: records stay in
/// poll order, so each part's offsets are contiguous per partition.
fn split_point(items: &[Item], records: usize) -> usize {
    let mut seen = 0;
    for (i, item) in items.iter().enumerate() {
        if item.has_record {
            if seen == records {
                return i;
            }
            seen += 1;
        }
    }
    items.len()
}

/// The class of an error that will fail again with the same records: a constraint violation
/// or bad data, in PostgreSQL's (SQLSTATE 23xxx, 22xxx) or SQLite's (19, 20 and their
/// extended codes) terms. Anything else (connection lost, deadlock, timeout) is transient.
fn deterministic(error: &HandlerError) -> Option<&'static str> {
    let HandlerError::Transient(error) = error else {
        return None;
    };
    let sqlx::Error::Database(db) = error.downcast_ref::<sqlx::Error>()? else {
        return None;
    };
    let code = db.code()?;
    if code.len() == 5 {
        return match &code[..2] {
            "23" => Some("constraint"),
            "22" => Some("data"),
            _ => None,
        };
    }
    match code.parse::<i64>().ok()? & 0xff {
        19 => Some("constraint"),
        20 => Some("data"),
        _ => None,
    }
}

/// Whether every owned partition has been applied up to its high watermark (a partition never
/// applied counts only when it holds nothing). Owning nothing, or not knowing a watermark, is
/// not caught up.
fn covers(
    marks: &HashMap<PartitionKey, (i64, i64)>,
    positions: &HashMap<PartitionKey, Option<i64>>,
) -> bool {
    positions.keys().all(|p| marks.contains_key(p))
}

fn caught_up(
    marks: &HashMap<PartitionKey, (i64, i64)>,
    positions: &HashMap<PartitionKey, Option<i64>>,
) -> bool {
    !positions.is_empty()
        && positions.iter().all(|(p, next)| match marks.get(p) {
            Some(&(low, high)) if high >= 0 => next.map_or(high <= low, |n| n >= high),
            _ => false,
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(n: i32) -> PartitionKey {
        ("lintas.cases.v1".to_string(), n)
    }

    #[test]
    fn deadlines_wait_until_every_owned_partition_is_applied_to_its_end() {
        let marks = HashMap::from([(p(0), (0, 10)), (p(1), (5, 5))]);
        let applied = HashMap::from([(p(0), Some(10)), (p(1), None)]);
        assert!(caught_up(&marks, &applied));
        // Partition 0 still has records to apply: a replay in progress.
        let behind = HashMap::from([(p(0), Some(9)), (p(1), None)]);
        assert!(!caught_up(&marks, &behind));
        // Never applied, but not empty.
        let fresh = HashMap::from([(p(0), None)]);
        assert!(!caught_up(&marks, &fresh));
        // No watermark known yet for an owned partition.
        let unknown = HashMap::from([(p(0), Some(10)), (p(2), Some(3))]);
        assert!(!caught_up(&marks, &unknown));
        // Owning nothing (before the first assignment).
        assert!(!caught_up(&marks, &HashMap::new()));
    }
}
