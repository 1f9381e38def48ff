//! Operating on dead letters: redrive (apply again, once) and discard (drop, on record).
//!
//! An operator's decision travels as a record on the group's redrive topic
//! (`lintas.<group>.redrive`, [`crate::topics::redrive_topic`]), which only that group's
//! subscriber reads, so a redrive reaches that one subscriber and not every reader of the
//! original topic:
//!
//! ```text
//! lintas dead-letters redrive ─► lintas.<group>.redrive ─► the group's runtime
//!   (key, value and original headers      decode with the ORIGINAL topic, handler, and in the
//!    of the dead letter, lintas.redrive.*  same transaction as the view and the offsets:
//!    headers naming it)                    lintas_dead_letters (dlq partition, offset) = applied
//! lintas dead-letters discard ─► lintas.<group>.redrive (no value) ─► … = discarded
//! ```
//!
//! A dead letter is decided once: the first request the subscriber applies for it records its
//! outcome (`applied`, `failed_again`, `discarded` or `duplicate`) and every later request for it is
//! skipped, so running the same redrive twice applies nothing twice, across restarts too. A
//! redriven record that fails again is dead-lettered anew (a new dead letter, with
//! `lintas.redrive.count` one higher); that new one can be redriven in turn. The redrive
//! topic is one partition and requests are written keyed by the original key, in dead-letter
//! order, so redriven records of one key apply in their original order.
//!
//! A record is applied once however often it was dead-lettered: a redrive of a record already
//! applied through another of its dead letters (one dead-lettered twice, after a crash between
//! the dead letter's ack and the commit) is recorded as `duplicate` and not applied.
//!
//! The redriven record reaches the handler as the record it was (its original topic, partition
//! and offset, from the request's `__connect.errors.*` headers): the redrive topic is trusted
//! like the event topics, so only the operators' principal may write it (Kafka ACLs).
//!
//! Nothing here reads or prints a record's value: a dead letter is described by its error
//! headers, a hash of its key, its schema id and its size ([`Summary`]).

use std::collections::HashMap;
use std::time::{Duration, Instant};

use rdkafka::config::ClientConfig;
use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::message::{Header, Headers, Message, OwnedHeaders, OwnedMessage};
use rdkafka::producer::{FutureProducer, FutureRecord};
use rdkafka::{Offset, TopicPartitionList};
use sha2::{Digest, Sha256};

use crate::store::Store;

/// What a request asks: `redrive` or `discard`.
pub const ACTION: &str = "lintas.redrive.action";
/// The dead letter's partition and offset in the group's dead-letter topic.
pub const DLQ_PARTITION: &str = "lintas.redrive.dlq.partition";
pub const DLQ_OFFSET: &str = "lintas.redrive.dlq.offset";
/// How many redrives the record has been through: on a request, the dead letter's count plus
/// one; on a dead letter of a redriven record that failed again, the request's.
pub const COUNT: &str = "lintas.redrive.count";
/// On a dead letter of a redriven record: the dead letter it replaces, `partition:offset`.
pub const REPLACES: &str = "lintas.redrive.replaces";
/// Who decided, and why (a discard needs a reason).
pub const OPERATOR: &str = "lintas.redrive.operator";
pub const REASON: &str = "lintas.redrive.reason";
pub const REQUESTED_AT: &str = "lintas.redrive.requested.at.ms";

/// Kafka Connect's error headers, as the runtime writes them on a dead letter.
pub const ERROR_TOPIC: &str = "__connect.errors.topic";
pub const ERROR_PARTITION: &str = "__connect.errors.partition";
pub const ERROR_OFFSET: &str = "__connect.errors.offset";
pub const ERROR_STAGE: &str = "__connect.errors.stage";
pub const ERROR_CLASS: &str = "__connect.errors.class.name";
pub const ERROR_MESSAGE: &str = "__connect.errors.exception.message";

/// What an operator decided for a dead letter.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Action {
    Redrive,
    Discard,
}

impl Action {
    pub fn as_str(self) -> &'static str {
        match self {
            Action::Redrive => "redrive",
            Action::Discard => "discard",
        }
    }
}

/// A request read from the redrive topic.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Request {
    pub action: Action,
    /// The dead letter it is about.
    pub dlq_partition: i32,
    pub dlq_offset: i64,
    /// The record's original coordinates (`__connect.errors.*` of the dead letter).
    pub topic: String,
    pub partition: i32,
    pub offset: i64,
    pub count: i64,
    pub operator: String,
    pub reason: String,
}

/// The headers of `message` as text, in order (a key may repeat; the last one wins in maps).
pub fn header_pairs<M: Message>(message: &M) -> Vec<(String, String)> {
    message
        .headers()
        .map(|h| {
            h.iter()
                .map(|h| {
                    let value = h.value.map(String::from_utf8_lossy).unwrap_or_default();
                    (h.key.to_string(), value.into_owned())
                })
                .collect()
        })
        .unwrap_or_default()
}

fn last<'a>(pairs: &'a [(String, String)], key: &str) -> Option<&'a str> {
    pairs
        .iter()
        .rev()
        .find(|(k, _)| k == key)
        .map(|(_, v)| v.as_str())
}

impl Request {
    /// The request a redrive-topic record carries, or why it is not one.
    pub fn parse<M: Message>(message: &M) -> Result<Request, String> {
        let pairs = header_pairs(message);
        let text = |key: &str| last(&pairs, key).ok_or_else(|| format!("no {key} header"));
        let number = |key: &str| -> Result<i64, String> {
            text(key)?
                .parse::<i64>()
                .map_err(|_| format!("{key} is not a number"))
        };
        let action = match text(ACTION)? {
            "redrive" => Action::Redrive,
            "discard" => Action::Discard,
            other => return Err(format!("unknown action {other:?}")),
        };
        Ok(Request {
            action,
            dlq_partition: number(DLQ_PARTITION)? as i32,
            dlq_offset: number(DLQ_OFFSET)?,
            topic: text(ERROR_TOPIC)?.to_string(),
            partition: number(ERROR_PARTITION)? as i32,
            offset: number(ERROR_OFFSET)?,
            count: number(COUNT).unwrap_or(0),
            operator: last(&pairs, OPERATOR).unwrap_or_default().to_string(),
            reason: last(&pairs, REASON).unwrap_or_default().to_string(),
        })
    }
}

/// The headers of the request for `dead_letter`: its original headers, its error headers
/// (the original coordinates, which the runtime decodes and dead-letters with), and the
/// request's own. A dead letter's earlier request headers are replaced, not repeated.
pub fn request_headers<M: Message>(
    dead_letter: &M,
    action: Action,
    operator: &str,
    reason: &str,
    now_ms: i64,
) -> OwnedHeaders {
    let pairs = header_pairs(dead_letter);
    let count = last(&pairs, COUNT)
        .and_then(|c| c.parse::<i64>().ok())
        .unwrap_or(0);
    let mut headers = OwnedHeaders::new();
    for (key, value) in pairs
        .iter()
        .filter(|(k, _)| !k.starts_with("lintas.redrive."))
    {
        headers = headers.insert(Header {
            key,
            value: Some(value.as_str()),
        });
    }
    let own = [
        (ACTION, action.as_str().to_string()),
        (DLQ_PARTITION, dead_letter.partition().to_string()),
        (DLQ_OFFSET, dead_letter.offset().to_string()),
        (COUNT, (count + 1).to_string()),
        (OPERATOR, operator.to_string()),
        (REASON, reason.to_string()),
        (REQUESTED_AT, now_ms.to_string()),
    ];
    for (key, value) in &own {
        headers = headers.insert(Header {
            key,
            value: Some(value.as_str()),
        });
    }
    headers
}

/// A dead letter as operators see it: never its value, never its key in clear.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Summary {
    pub partition: i32,
    pub offset: i64,
    /// The record's original topic, partition and offset.
    pub topic: String,
    pub original_partition: i32,
    pub original_offset: i64,
    pub stage: String,
    pub class: String,
    /// The failure's message (the runtime's or the handler's reason).
    pub message: String,
    /// Redrives this record went through before it landed here.
    pub redrive_count: i64,
    /// SHA-256 of the key, first 16 hex digits: tells records of one key apart without the
    /// key (a subject key is a pseudonym of a person).
    pub key_hash: Option<String>,
    pub schema_id: Option<u32>,
    pub value_bytes: usize,
    pub timestamp_ms: Option<i64>,
}

impl Summary {
    pub fn of<M: Message>(message: &M) -> Summary {
        let pairs = header_pairs(message);
        let text = |key: &str| last(&pairs, key).unwrap_or_default().to_string();
        let number = |key: &str| last(&pairs, key).and_then(|v| v.parse::<i64>().ok());
        let payload = message.payload().unwrap_or_default();
        Summary {
            partition: message.partition(),
            offset: message.offset(),
            topic: text(ERROR_TOPIC),
            original_partition: number(ERROR_PARTITION).unwrap_or(-1) as i32,
            original_offset: number(ERROR_OFFSET).unwrap_or(-1),
            stage: text(ERROR_STAGE),
            class: text(ERROR_CLASS),
            message: text(ERROR_MESSAGE),
            redrive_count: number(COUNT).unwrap_or(0),
            key_hash: message.key().map(key_hash),
            schema_id: crate::codec::unframe(payload).ok().map(|(id, _)| id),
            value_bytes: payload.len(),
            timestamp_ms: message.timestamp().to_millis(),
        }
    }
}

/// First 16 hex digits of the key's SHA-256.
pub fn key_hash(key: &[u8]) -> String {
    hex::encode(&Sha256::digest(key)[..8])
}

/// The outcome a subscriber recorded for a dead letter.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum State {
    /// Redriven and applied once.
    Applied,
    /// Redriven, and dead-lettered again (as a new dead letter).
    FailedAgain,
    /// Dropped by an operator, with a reason.
    Discarded,
    /// Redriven, but its record had been applied through another dead letter of it (a
    /// record dead-lettered twice): not applied again.
    Duplicate,
}

impl State {
    pub fn as_str(self) -> &'static str {
        match self {
            State::Applied => "applied",
            State::FailedAgain => "failed_again",
            State::Discarded => "discarded",
            State::Duplicate => "duplicate",
        }
    }

    pub fn parse(s: &str) -> Option<State> {
        match s {
            "applied" => Some(State::Applied),
            "failed_again" => Some(State::FailedAgain),
            "discarded" => Some(State::Discarded),
            "duplicate" => Some(State::Duplicate),
            _ => None,
        }
    }
}

/// A decision as the subscriber recorded it (`lintas_dead_letters`).
#[derive(Debug, Clone, serde::Serialize)]
pub struct Decision {
    pub partition: i32,
    pub offset: i64,
    pub state: State,
    pub redrive_count: i64,
    pub operator: String,
    /// A discard's reason, or the class of the new failure.
    pub reason: String,
    pub decided_at_ms: i64,
    /// The record's original topic, partition and offset.
    pub original: (String, i32, i64),
}

/// Every decision `group`'s subscriber recorded in its store, by dead letter.
pub async fn decisions(
    store: &Store,
    group: &str,
) -> Result<HashMap<(i32, i64), Decision>, sqlx::Error> {
    type Row = (i64, i64, String, i64, String, String, i64, String, i64, i64);
    let rows: Vec<Row> = sqlx::query_as(
        "SELECT dlq_partition, dlq_offset, state, redrive_count, operator, reason, decided_at_ms, \
         original_topic, original_partition, original_offset \
         FROM lintas_dead_letters WHERE consumer_group = $1",
    )
    .bind(group)
    .fetch_all(store.pool())
    .await?;
    Ok(rows
        .into_iter()
        .filter_map(|row| {
            let (partition, offset, state, count, operator, reason, at, topic, op, oo) = row;
            let partition = partition as i32;
            Some((
                (partition, offset),
                Decision {
                    partition,
                    offset,
                    state: State::parse(&state)?,
                    redrive_count: count,
                    operator,
                    reason,
                    decided_at_ms: at,
                    original: (topic, op as i32, oo),
                },
            ))
        })
        .collect())
}

/// A group's dead-letter and redrive topics, as an operator's tool reads and writes them.
#[derive(Clone)]
pub struct Topics {
    pub brokers: String,
    /// librdkafka properties (the tool's principal: security settings).
    pub extra: Vec<(String, String)>,
    pub group: String,
    pub dead_letter_topic: String,
    pub redrive_topic: String,
}

/// How long a read of a whole topic may take.
const READ_TIMEOUT: Duration = Duration::from_secs(30);

impl Topics {
    pub fn new(brokers: &str, extra: Vec<(String, String)>, prefix: &str, group: &str) -> Topics {
        Topics {
            brokers: brokers.to_string(),
            extra,
            group: group.to_string(),
            dead_letter_topic: crate::topics::dead_letter_topic(prefix, group),
            redrive_topic: crate::topics::redrive_topic(prefix, group),
        }
    }

    /// Every dead letter of the group, in partition and offset order. Blocking.
    pub fn dead_letters(&self) -> anyhow::Result<Vec<OwnedMessage>> {
        self.read_all(&self.dead_letter_topic)
    }

    /// Every request written so far, with its offset on the redrive topic. Blocking.
    pub fn requests(&self) -> anyhow::Result<Vec<(i64, Request)>> {
        Ok(self
            .read_all(&self.redrive_topic)?
            .iter()
            .filter_map(|m| Some((m.offset(), Request::parse(m).ok()?)))
            .collect())
    }

    /// Reads `topic` from its start to its end, as it is now: up to the high watermarks, then
    /// until nothing more arrives for a moment (a broker may report a high watermark behind
    /// records it serves). No group joined, no offset committed. A missing topic is empty.
    fn read_all(&self, topic: &str) -> anyhow::Result<Vec<OwnedMessage>> {
        let mut config = ClientConfig::new();
        config
            .set("bootstrap.servers", &self.brokers)
            .set("group.id", format!("{}-dead-letter-tool", self.group))
            .set("enable.auto.commit", "false")
            .set("auto.offset.reset", "earliest");
        for (k, v) in &self.extra {
            config.set(k, v);
        }
        let consumer: BaseConsumer = config.create()?;
        let metadata = consumer.fetch_metadata(Some(topic), Duration::from_secs(10))?;
        let Some(found) = metadata.topics().first().filter(|t| t.error().is_none()) else {
            return Ok(Vec::new());
        };
        let mut tpl = TopicPartitionList::new();
        let mut ends = HashMap::new();
        for p in found.partitions() {
            let (_, high) = consumer.fetch_watermarks(topic, p.id(), Duration::from_secs(10))?;
            ends.insert(p.id(), high);
            tpl.add_partition_offset(topic, p.id(), Offset::Beginning)?;
        }
        consumer.assign(&tpl)?;
        let deadline = Instant::now() + READ_TIMEOUT;
        let mut reached: HashMap<i32, i64> = HashMap::new();
        let mut out = Vec::new();
        let mut idle_since = Instant::now();
        while Instant::now() < deadline {
            match consumer.poll(Duration::from_millis(100)) {
                Some(Ok(m)) => {
                    reached.insert(m.partition(), m.offset() + 1);
                    out.push(m.detach());
                    idle_since = Instant::now();
                }
                Some(Err(e)) => tracing::warn!(topic, error = %e, "reading the topic"),
                None => {
                    let at_end = ends
                        .iter()
                        .all(|(p, high)| reached.get(p).copied().unwrap_or(0) >= *high);
                    if at_end && idle_since.elapsed() >= Duration::from_millis(700) {
                        break;
                    }
                }
            }
        }
        out.sort_by_key(|m| (m.partition(), m.offset()));
        out.dedup_by_key(|m| (m.partition(), m.offset()));
        Ok(out)
    }

    /// Writes a request for each of `letters` to the redrive topic, in their order, each
    /// acknowledged before the next is sent (so requests of one key keep the dead letters'
    /// order whatever the producer's settings); `progress` hears after each one.
    pub async fn send(
        &self,
        letters: &[OwnedMessage],
        action: Action,
        operator: &str,
        reason: &str,
        mut progress: impl FnMut(usize),
    ) -> anyhow::Result<usize> {
        let mut config = ClientConfig::new();
        config
            .set("bootstrap.servers", &self.brokers)
            .set("enable.idempotence", "true")
            .set("acks", "all");
        for (k, v) in &self.extra {
            config.set(k, v);
        }
        let producer: FutureProducer = config.create()?;
        let now = crate::outbox::now_ms();
        for (sent, letter) in letters.iter().enumerate() {
            let headers = request_headers(letter, action, operator, reason, now);
            let mut record: FutureRecord<'_, [u8], [u8]> =
                FutureRecord::to(&self.redrive_topic).headers(headers);
            if let Some(key) = letter.key() {
                record = record.key(key);
            }
            // A discard carries no value: the decision, not the record.
            if let (Action::Redrive, Some(value)) = (action, letter.payload()) {
                record = record.payload(value);
            }
            producer
                .send(record, Duration::from_secs(30))
                .await
                .map_err(|(e, _)| anyhow::anyhow!("writing to {}: {e}", self.redrive_topic))?;
            progress(sent + 1);
        }
        Ok(letters.len())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rdkafka::Timestamp;

    fn dead_letter(headers: &[(&str, &str)]) -> OwnedMessage {
        let mut owned = OwnedHeaders::new();
        for (key, value) in headers {
            owned = owned.insert(Header {
                key,
                value: Some(*value),
            });
        }
        OwnedMessage::new(
            Some(vec![0, 0, 0, 0, 7, 1, 2]),
            Some(b"subject-key".to_vec()),
            "lintas.imigrasi.dlq".into(),
            Timestamp::CreateTime(1),
            0,
            12,
            Some(owned),
        )
    }

    #[test]
    fn a_request_names_its_dead_letter_and_counts_one_more_redrive() {
        let letter = dead_letter(&[
            ("lintas.event_type", "ApplicantRegistered"),
            (ERROR_TOPIC, "lintas.applicants.v1"),
            (ERROR_PARTITION, "3"),
            (ERROR_OFFSET, "41"),
            (ERROR_CLASS, "rejected"),
            (COUNT, "1"),
        ]);
        let headers = request_headers(&letter, Action::Redrive, "op-1", "", 5);
        let request = OwnedMessage::new(
            letter.payload().map(<[u8]>::to_vec),
            Some(b"subject-key".to_vec()),
            "lintas.imigrasi.redrive".into(),
            Timestamp::CreateTime(2),
            0,
            0,
            Some(headers),
        );
        let parsed = Request::parse(&request).unwrap();
        assert_eq!(parsed.action, Action::Redrive);
        assert_eq!((parsed.dlq_partition, parsed.dlq_offset), (0, 12));
        assert_eq!(
            (parsed.topic.as_str(), parsed.partition, parsed.offset),
            ("lintas.applicants.v1", 3, 41)
        );
        assert_eq!(parsed.count, 2);
        // The original headers travel on; the old count is replaced, not repeated.
        let pairs = header_pairs(&request);
        assert!(pairs.contains(&("lintas.event_type".into(), "ApplicantRegistered".into())));
        assert_eq!(pairs.iter().filter(|(k, _)| k == COUNT).count(), 1);
    }

    #[test]
    fn a_summary_has_no_key_in_clear_and_no_value() {
        let summary = Summary::of(&dead_letter(&[(ERROR_CLASS, "avro")]));
        let json = serde_json::to_string(&summary).unwrap();
        assert!(!json.contains("subject-key"), "{json}");
        assert_eq!(summary.schema_id, Some(7));
        assert_eq!(summary.value_bytes, 7);
        assert_eq!(summary.key_hash.as_deref().map(str::len), Some(16));
    }
}
