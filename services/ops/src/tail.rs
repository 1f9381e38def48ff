//! Tails the feed without joining any group: event topics from their end (throughput by
//! topic and by event type), the alert topic from its beginning (each alert's lifecycle), and
//! the newest records of every dead-letter topic (their error headers).

use std::collections::BTreeSet;
use std::sync::Arc;
use std::time::Duration;

use lintas_kit::codec::{unframe, Codec};
use lintas_kit::events::AnyEvent;
use lintas_kit::shutdown::Shutdown;
use rdkafka::config::ClientConfig;
use rdkafka::consumer::{BaseConsumer, Consumer, StreamConsumer};
use rdkafka::message::{BorrowedMessage, Headers, Message};
use rdkafka::{Offset, TopicPartitionList};

use crate::{now_ms, AlertView, DeadLetter, Ops, ALERTS_KEPT, NEWEST_DEAD_LETTERS};

/// How many of each dead-letter partition's newest records to read at start.
const DEAD_LETTER_BACKLOG: i64 = 10;
const TIMEOUT: Duration = Duration::from_secs(5);

pub fn spawn(
    ops: Ops,
    codec: Codec,
    shutdown: Shutdown,
) -> anyhow::Result<impl std::future::Future<Output = anyhow::Result<()>>> {
    let mut config = ClientConfig::new();
    config
        .set("bootstrap.servers", &ops.settings.brokers)
        // Never subscribes, so never joins this group; needed only to create a consumer.
        .set("group.id", "lintas-ops-tail")
        .set("enable.auto.commit", "false")
        .set("enable.auto.offset.store", "false")
        .set("enable.partition.eof", "false");
    for (k, v) in &ops.settings.extra {
        config.set(k, v);
    }
    let consumer: StreamConsumer = config.create()?;
    let metadata = Arc::new(crate::sampler::client(&ops, "lintas-ops-tail")?);
    Ok(async move {
        let tail = Tail {
            ops,
            codec,
            consumer,
            metadata,
            assigned: Default::default(),
            started_ms: now_ms(),
        };
        tail.run(shutdown).await;
        Ok(())
    })
}

struct Tail {
    ops: Ops,
    codec: Codec,
    consumer: StreamConsumer,
    /// For the blocking metadata and watermark calls.
    metadata: Arc<BaseConsumer>,
    assigned: std::sync::Mutex<BTreeSet<(String, i32)>>,
    /// Records older than this are history (the alert topic's, read for the lifecycle) and
    /// do not count as throughput.
    started_ms: i64,
}

impl Tail {
    async fn run(&self, shutdown: Shutdown) {
        let mut rescan = tokio::time::interval(Duration::from_secs(10));
        loop {
            tokio::select! {
                _ = shutdown.wait() => return,
                _ = rescan.tick() => {
                    // Dead-letter topics appear when a subscriber first needs one.
                    if let Err(e) = self.assign_new().await {
                        tracing::warn!(error = %e, "could not assign the feed's partitions");
                    }
                }
                message = self.consumer.recv() => match message {
                    Ok(message) => self.record(&message).await,
                    Err(e) => {
                        tracing::warn!(error = %e, "tailing the feed");
                        tokio::time::sleep(Duration::from_secs(1)).await;
                    }
                },
            }
        }
    }

    async fn assign_new(&self) -> anyhow::Result<()> {
        let consumer = self.metadata.clone();
        let settings = self.ops.settings.clone();
        let assigned = self.assigned.lock().expect("lock").clone();
        let additions = tokio::task::spawn_blocking(move || -> anyhow::Result<_> {
            let metadata = consumer.fetch_metadata(None, TIMEOUT)?;
            let alerts: Vec<String> = lintas_kit::events::ALERT_TOPICS
                .iter()
                .map(|t| format!("{}{}", settings.topic_prefix, t.base_name()))
                .collect();
            let events = settings.event_topics();
            let mut additions = Vec::new();
            for topic in metadata.topics() {
                let name = topic.name();
                let dead_letters = settings.dead_letter_group(name).is_some();
                if !dead_letters && !events.iter().any(|t| t == name) {
                    continue;
                }
                for p in topic.partitions() {
                    if assigned.contains(&(name.to_string(), p.id())) {
                        continue;
                    }
                    let offset = if alerts.iter().any(|a| a == name) {
                        Offset::Beginning
                    } else if dead_letters {
                        let (low, high) = consumer.fetch_watermarks(name, p.id(), TIMEOUT)?;
                        Offset::Offset((high - DEAD_LETTER_BACKLOG).max(low))
                    } else {
                        Offset::End
                    };
                    additions.push((name.to_string(), p.id(), offset));
                }
            }
            Ok(additions)
        })
        .await??;
        if additions.is_empty() {
            return Ok(());
        }
        let mut list = TopicPartitionList::new();
        for (topic, partition, offset) in &additions {
            list.add_partition_offset(topic, *partition, *offset)?;
        }
        self.consumer.incremental_assign(&list)?;
        let mut assigned = self.assigned.lock().expect("lock");
        for (topic, partition, _) in additions {
            assigned.insert((topic, partition));
        }
        Ok(())
    }

    async fn record(&self, message: &BorrowedMessage<'_>) {
        let topic = message.topic();
        if let Some(group) = self.ops.settings.dead_letter_group(topic) {
            let letter = dead_letter(message, group);
            let mut view = self.ops.view();
            view.newest_dead_letters.push_front(letter);
            view.newest_dead_letters
                .make_contiguous()
                .sort_by_key(|d| std::cmp::Reverse(d.timestamp_ms));
            view.newest_dead_letters.truncate(NEWEST_DEAD_LETTERS);
            return;
        }
        let payload = message.payload().unwrap_or_default();
        let event_type = match unframe(payload) {
            Ok((id, _)) => match self.codec.registry().schema_by_id(id).await {
                Ok(schema) => short_name(&schema.full_name).to_string(),
                Err(_) => "unknown schema".to_string(),
            },
            Err(_) => "not Confluent framed".to_string(),
        };
        let topic_owner =
            lintas_kit::events::Topic::from_name(&self.ops.settings.topic_prefix, topic)
                .and_then(lintas_kit::events::Topic::alert_owner);
        if let (true, Some(owner)) = (event_type.starts_with("Alert"), topic_owner) {
            if let Ok(event) = self.codec.decode(payload).await {
                self.alert(event, owner);
            }
        }
        let at = message.timestamp().to_millis().unwrap_or_else(now_ms);
        if at < self.started_ms {
            return;
        }
        let now = now_ms();
        let mut view = self.ops.view();
        view.events_seen += 1;
        let crate::View { minutes, hours, .. } = &mut *view;
        for series in [minutes.as_mut(), hours.as_mut()].into_iter().flatten() {
            series.add(&format!("topic:{topic}"), 1, now);
            series.add(&format!("type:{event_type}"), 1, now);
        }
    }

    /// An alert event read on `topic_owner`'s alert topic. Only what the owner wrote there
    /// counts: an event naming another agency is forged (the subscribers dead-letter it).
    fn alert(&self, event: AnyEvent, topic_owner: lintas_kit::events::Agency) {
        let at = event.envelope().recorded_at;
        let at_ms = (at.unix_timestamp_nanos() / 1_000_000) as i64;
        let mut view = self.ops.view();
        let (id, status) = match event {
            AnyEvent::AlertRaised(raised) if raised.owner == topic_owner => {
                let id = raised.alert_id.to_string();
                view.alerts.entry(id.clone()).or_insert(AlertView {
                    alert_id: id,
                    rule: raised.rule,
                    owner: raised.owner.to_string(),
                    severity: raised.severity.to_string(),
                    summary: raised.summary,
                    summaries: raised.summaries,
                    raised_at_ms: at_ms,
                    status: "raised",
                    updated_at_ms: at_ms,
                });
                if view.alerts.len() > ALERTS_KEPT {
                    let oldest = view
                        .alerts
                        .values()
                        .min_by_key(|a| a.raised_at_ms)
                        .map(|a| a.alert_id.clone());
                    if let Some(oldest) = oldest {
                        view.alerts.remove(&oldest);
                    }
                }
                return;
            }
            AnyEvent::AlertAcknowledged(e) if e.by_agency == topic_owner => {
                (e.alert_id, "acknowledged")
            }
            AnyEvent::AlertEscalated(e) if e.by_agency == topic_owner => (e.alert_id, "escalated"),
            AnyEvent::AlertClosed(e) if e.by_agency == topic_owner => (e.alert_id, "closed"),
            _ => return,
        };
        let owner = topic_owner.to_string();
        if let Some(alert) = view
            .alerts
            .get_mut(&id.to_string())
            .filter(|a| a.owner == owner)
        {
            // Lifecycle events can be redelivered or arrive late: the newest wins.
            if at_ms >= alert.updated_at_ms {
                alert.status = status;
                alert.updated_at_ms = at_ms;
            }
        }
    }
}

fn short_name(full_name: &str) -> &str {
    full_name.rsplit('.').next().unwrap_or(full_name)
}

pub(crate) fn dead_letter(message: &BorrowedMessage<'_>, group: &str) -> DeadLetter {
    let header = |name: &str| -> Option<String> {
        message.headers().and_then(|headers| {
            headers
                .iter()
                .filter(|h| h.key == name)
                .last()
                .and_then(|h| h.value)
                .map(|v| String::from_utf8_lossy(v).into_owned())
        })
    };
    DeadLetter {
        topic: message.topic().to_string(),
        partition: message.partition(),
        offset: message.offset(),
        group: group.to_string(),
        timestamp_ms: message.timestamp().to_millis(),
        stage: header("__connect.errors.stage"),
        class: header("__connect.errors.class.name"),
        reason: header("__connect.errors.exception.message"),
        original_topic: header("__connect.errors.topic"),
        original_partition: header("__connect.errors.partition"),
        original_offset: header("__connect.errors.offset"),
    }
}
