//! The applier: dead-letters what could not be decoded, and commits the view
//! update with the offsets in one transaction.

use std::collections::HashMap;
use std::sync::{mpsc as std_mpsc, Arc};
use std::time::Instant;

use rdkafka::message::{Message, OwnedMessage};
use tokio::sync::mpsc;

use super::dead_letter::{error_headers, DeadLetterStage};
use super::decode::Decoded;
use super::poll::{Command, PartitionKey};
use super::{backoff, Batch, Handler, HandlerError, Record};
use crate::codec::Codec;
use crate::metrics::{
    APPLY_RETRIES, BATCH_DURATION, DEAD_LETTERS, END_TO_END_LATENCY, EVENTS_APPLIED, FENCED_BATCHES,
};
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
    pub committed: std_mpsc::Sender<Vec<(String, i32, i64)>>,
    pub relay_wakeup: Arc<tokio::sync::Notify>,
    pub shutdown: Shutdown,
    pub clock: super::Clock,
}

/// Why a batch did not commit.
enum Abandoned {
    /// Shutdown while waiting out a transient failure: nothing committed, the records will
    /// be read again from the stored offsets.
    Shutdown,
    /// Another instance advanced a partition's offset: this instance lost it.
    Fenced,
}

impl<H: Handler> Applier<H> {
    pub async fn run(self, mut commands: mpsc::Receiver<Command>) {
        // Offset row value this instance last read or wrote, per owned partition.
        let mut positions: HashMap<PartitionKey, Option<i64>> = HashMap::new();
        while let Some(command) = commands.recv().await {
            match command {
                Command::Assigned(assigned) => positions.extend(assigned),
                Command::Revoked(revoked) => revoked.iter().for_each(|p| {
                    positions.remove(p);
                }),
                Command::Drain(done) => {
                    let _ = done.send(());
                }
                Command::Tick(marks) => self.fire_if_caught_up(&marks, &positions).await,
                Command::Apply(messages) => {
                    let started = Instant::now();
                    match self.apply_batch(messages, &mut positions).await {
                        Ok(()) => BATCH_DURATION
                            .with_label_values(&[&self.group])
                            .observe(started.elapsed().as_secs_f64()),
                        Err(Abandoned::Shutdown) => {
                            tracing::info!(group = %self.group, "batch abandoned at shutdown; it will be read again")
                        }
                        Err(Abandoned::Fenced) => {
                            FENCED_BATCHES.with_label_values(&[&self.group]).inc();
                            tracing::warn!(group = %self.group, "batch discarded: another instance owns the partition now");
                        }
                    }
                }
            }
        }
    }

    /// Fires due deadlines of the partitions this instance owns, once it has applied
    /// everything they held (`marks`: low and high watermark per partition, as last fetched).
    async fn fire_if_caught_up(
        &self,
        marks: &HashMap<PartitionKey, (i64, i64)>,
        positions: &HashMap<PartitionKey, Option<i64>>,
    ) {
        if !caught_up(marks, positions) {
            return;
        }
        let owned: std::collections::HashSet<PartitionKey> = positions.keys().cloned().collect();
        let codec = self.producer.codec().clone();
        let mut unused = Vec::new();
        match super::fire_due(
            &self.store,
            self.handler.as_ref(),
            Some(&codec),
            &mut unused,
            self.clock.now(),
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
        let codec = self.producer.codec().clone();
        let mut records = Vec::with_capacity(batch.len());
        let mut sources = Vec::with_capacity(batch.len());
        let mut messages = Vec::with_capacity(batch.len());
        for Decoded { message, event } in batch {
            match event {
                Ok(crate::codec::Decoded { event, sealed }) => {
                    records.push(Record {
                        event,
                        sealed,
                        topic: message.topic().to_string(),
                        partition: message.partition(),
                        offset: message.offset(),
                    });
                    sources.push(messages.len());
                }
                Err((class, reason)) => {
                    self.dead_letter(&message, DeadLetterStage::Decode, class, &reason)
                        .await?
                }
            }
            messages.push(message);
        }
        let mut next_offsets: HashMap<PartitionKey, i64> = HashMap::new();
        for m in &messages {
            let next = next_offsets
                .entry((m.topic().to_string(), m.partition()))
                .or_insert(0);
            *next = (*next).max(m.offset() + 1);
        }
        let mut attempt = 0;
        loop {
            match self
                .commit(&codec, &records, &next_offsets, positions)
                .await
            {
                Ok(true) => break,
                Ok(false) => {
                    for key in next_offsets.keys() {
                        positions.remove(key);
                    }
                    return Err(Abandoned::Fenced);
                }
                Err(HandlerError::Rejected { index, reason }) if index < records.len() => {
                    let message = &messages[sources.remove(index)];
                    records.remove(index);
                    self.dead_letter(message, DeadLetterStage::Handler, "rejected", &reason)
                        .await?;
                }
                Err(e) => {
                    APPLY_RETRIES
                        .with_label_values(&[&self.group, "apply"])
                        .inc();
                    tracing::warn!(group = %self.group, error = %e, attempt, "batch not applied; retrying");
                    self.pause(attempt).await?;
                    attempt += 1;
                }
            }
        }
        let now = now_ms();
        let latency = END_TO_END_LATENCY.with_label_values(&[&self.group]);
        let mut applied: HashMap<(&str, &str), u64> = HashMap::new();
        for record in &records {
            *applied
                .entry((record.topic.as_str(), record.event.type_name()))
                .or_default() += 1;
            let recorded =
                lintas_events::timefmt::millis::to_millis(&record.event.envelope().recorded_at);
            latency.observe(((now - recorded).max(0) as f64) / 1000.0);
        }
        for ((topic, type_name), count) in applied {
            EVENTS_APPLIED
                .with_label_values(&[&self.group, topic, type_name])
                .inc_by(count);
        }
        for (key, next) in &next_offsets {
            positions.insert(key.clone(), Some(*next));
        }
        let _ = self.committed.send(
            next_offsets
                .into_iter()
                .map(|((t, p), n)| (t, p, n))
                .collect(),
        );
        self.relay_wakeup.notify_one();
        Ok(())
    }

    /// One transaction: handler writes, offsets compare-and-set, commit. `Ok(false)` when
    /// fenced by another instance.
    async fn commit(
        &self,
        codec: &Codec,
        records: &[Record],
        next_offsets: &HashMap<PartitionKey, i64>,
        positions: &HashMap<PartitionKey, Option<i64>>,
    ) -> Result<bool, HandlerError> {
        let mut tx = self.store.pool().begin().await?;
        if !records.is_empty() {
            let mut batch = Batch::new(&mut tx, records, super::Sink::Outbox(codec));
            self.handler.apply(&mut batch).await?;
        }
        let now = now_ms();
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
                return Ok(false);
            }
        }
        tx.commit().await?;
        Ok(true)
    }

    /// Sends a record to the dead-letter topic and waits for the ack, retrying until the
    /// broker takes it: its offset may only advance once it is safe there.
    async fn dead_letter(
        &self,
        message: &OwnedMessage,
        stage: DeadLetterStage,
        class: &str,
        reason: &str,
    ) -> Result<(), Abandoned> {
        let headers = error_headers(message, &self.group, stage, class, reason);
        let key = message
            .key()
            .map(|k| String::from_utf8_lossy(k).into_owned())
            .unwrap_or_default();
        let payload = message.payload().unwrap_or_default();
        let mut attempt = 0;
        loop {
            match self
                .producer
                .send(&self.dead_letter_topic, &key, payload, headers.clone())
                .await
            {
                Ok(_) => {
                    DEAD_LETTERS
                        .with_label_values(&[&self.group, message.topic(), stage.as_str(), class])
                        .inc();
                    tracing::warn!(
                        group = %self.group, topic = message.topic(), partition = message.partition(),
                        offset = message.offset(), stage = stage.as_str(), class, reason, "record dead-lettered"
                    );
                    return Ok(());
                }
                Err(e) => {
                    APPLY_RETRIES
                        .with_label_values(&[&self.group, "dead_letter"])
                        .inc();
                    tracing::warn!(group = %self.group, error = %e, "dead-letter topic unavailable; retrying");
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

/// Whether every owned partition has been applied up to its high watermark (a partition never
/// applied counts only when it holds nothing). Owning nothing, or not knowing a watermark, is
/// not caught up.
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
