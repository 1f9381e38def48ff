//! The broker: a tansu process per test (a real Kafka protocol broker) with the feed's
//! topics, and the producers and readers the tests use on it.

use std::path::PathBuf;
use std::process::Command;
use std::time::{Duration, Instant};

use lintas_kit::producer::{EventProducer, ProducerSettings};
use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::ClientConfig;

use super::credentials::codec;
use super::processes::{free_port, scratch_dir, Proc};

/// The tansu binary: $LINTAS_TANSU, else `tansu` on PATH, else the CI cache. Missing tansu is
/// a failure, never a skip.
fn tansu_binary() -> PathBuf {
    if let Ok(path) = std::env::var("LINTAS_TANSU") {
        return PathBuf::from(path);
    }
    for dir in std::env::var("PATH")
        .unwrap_or_default()
        .split(':')
        .chain(["/var/cache/lintas/tools/bin"])
    {
        let candidate = PathBuf::from(dir).join("tansu");
        if candidate.is_file() {
            return candidate;
        }
    }
    panic!(
        "tansu not found: run .ci/run (it installs tansu 0.6) or set LINTAS_TANSU to the binary"
    );
}

pub struct Broker {
    pub proc: Proc,
    pub brokers: String,
    pub dir: PathBuf,
    port: u16,
    engine: String,
}

impl Broker {
    /// A tansu broker with the in-memory engine, and the feed's topics.
    pub async fn start(partitions: i32) -> Broker {
        let dir = scratch_dir("tansu");
        let port = free_port();
        let broker = Self::spawn_on(port, dir);
        let mut topics = lintas_kit::topics::event_topics("");
        topics.push(lintas_kit::topics::dead_letter_topic("", "imigrasi"));
        lintas_kit::topics::ensure_topics(&broker.brokers, &topics, partitions, 1, &[])
            .await
            .expect("topics created");
        broker
    }

    /// A tansu broker with the SQLite engine: it keeps its records across a restart.
    pub async fn start_persistent(partitions: i32) -> Broker {
        let dir = scratch_dir("tansu");
        let broker = Self::spawn_with(free_port(), dir, "sqlite://broker.db");
        let topics = lintas_kit::topics::event_topics("");
        lintas_kit::topics::ensure_topics(&broker.brokers, &topics, partitions, 1, &[])
            .await
            .expect("topics created");
        broker
    }

    /// Starts a stopped broker again on the same address (a persistent one keeps its records).
    pub fn restart(&mut self) {
        let again = Self::spawn_with(self.port, self.dir.clone(), &self.engine.clone());
        self.proc = again.proc;
    }

    fn spawn_on(port: u16, dir: PathBuf) -> Broker {
        Self::spawn_with(port, dir, "memory://tansu/")
    }

    fn spawn_with(port: u16, dir: PathBuf, engine: &str) -> Broker {
        let url = format!("tcp://127.0.0.1:{port}");
        let mut command = Command::new(tansu_binary());
        command.args([
            "broker",
            "--listener-url",
            &url,
            "--advertised-listener-url",
            &url,
            "--storage-engine",
            engine,
        ]);
        let proc = Proc::spawn("tansu", command, &dir);
        let brokers = format!("127.0.0.1:{port}");
        wait_for_broker(&brokers, Duration::from_secs(60));
        Broker {
            proc,
            brokers,
            dir,
            port,
            engine: engine.to_string(),
        }
    }

    pub fn stop(&mut self) {
        self.proc.kill();
    }
}

pub fn wait_for_broker(brokers: &str, timeout: Duration) {
    let deadline = Instant::now() + timeout;
    let consumer: BaseConsumer = ClientConfig::new()
        .set("bootstrap.servers", brokers)
        .create()
        .unwrap();
    while Instant::now() < deadline {
        if consumer
            .fetch_metadata(None, Duration::from_secs(2))
            .is_ok()
        {
            return;
        }
        std::thread::sleep(Duration::from_millis(200));
    }
    panic!("broker at {brokers} did not come up");
}

/// A producer from the kit, as a publisher service would use it (holding the KEKs an intake
/// holds).
pub fn producer(brokers: &str, registry: &str) -> EventProducer {
    let codec = codec(registry, &lintas_kit::events::keks::ALL);
    EventProducer::new(&ProducerSettings::new(brokers), codec).unwrap()
}

/// A producer that writes every record as its own record batch. tansu 0.6 answers a fetch
/// that starts inside a batch with the batches after it, skipping the rest of that batch (a
/// broker defect; Kafka returns the containing batch and the client skips ahead). Tests that
/// resume consumers from stored offsets publish this way so that they test Lintas, not it.
pub fn producer_one_record_per_batch(brokers: &str, registry: &str) -> EventProducer {
    let codec = codec(registry, &lintas_kit::events::keks::ALL);
    let mut settings = ProducerSettings::new(brokers);
    settings.extra = vec![
        ("batch.num.messages".into(), "1".into()),
        ("linger.ms".into(), "0".into()),
    ];
    EventProducer::new(&settings, codec).unwrap()
}

/// Records in a topic, summed over partitions (high watermarks).
pub fn records_in(brokers: &str, topic: &str) -> i64 {
    let consumer: BaseConsumer = ClientConfig::new()
        .set("bootstrap.servers", brokers)
        .create()
        .unwrap();
    let metadata = consumer
        .fetch_metadata(Some(topic), Duration::from_secs(10))
        .unwrap();
    metadata.topics()[0]
        .partitions()
        .iter()
        .map(|p| {
            consumer
                .fetch_watermarks(topic, p.id(), Duration::from_secs(10))
                .unwrap()
                .1
        })
        .sum()
}

/// Every topic on the broker but Kafka's own.
pub fn all_topics(brokers: &str) -> Vec<String> {
    let consumer: BaseConsumer = ClientConfig::new()
        .set("bootstrap.servers", brokers)
        .create()
        .unwrap();
    let metadata = consumer
        .fetch_metadata(None, Duration::from_secs(10))
        .unwrap();
    metadata
        .topics()
        .iter()
        .map(|t| t.name().to_string())
        .filter(|t| !t.starts_with("__"))
        .collect()
}

/// Every record of a topic, read with a throw-away consumer group.
pub fn read_all(
    brokers: &str,
    topic: &str,
    expected: usize,
    timeout: Duration,
) -> Vec<rdkafka::message::OwnedMessage> {
    use rdkafka::Message;
    let consumer: BaseConsumer = ClientConfig::new()
        .set("bootstrap.servers", brokers)
        .set("group.id", format!("test-reader-{}", uuid::Uuid::new_v4()))
        .set("auto.offset.reset", "earliest")
        .set("enable.auto.commit", "false")
        .create()
        .unwrap();
    consumer.subscribe(&[topic]).unwrap();
    let deadline = Instant::now() + timeout;
    let mut out = Vec::new();
    while out.len() < expected && Instant::now() < deadline {
        if let Some(Ok(m)) = consumer.poll(Duration::from_millis(200)) {
            let _ = m.topic();
            out.push(m.detach());
        }
    }
    out
}

/// A commit of `group` at offset 0 on every partition of lintas.applicants.v1, as a Rust
/// integrator's consumer leaves it when it stopped before reading anything.
pub fn commit_at_start(brokers: &str, group: &str) {
    let committer: BaseConsumer = ClientConfig::new()
        .set("bootstrap.servers", brokers)
        .set("group.id", group)
        .set("enable.auto.commit", "false")
        .create()
        .unwrap();
    let metadata = committer
        .fetch_metadata(Some("lintas.applicants.v1"), Duration::from_secs(10))
        .unwrap();
    let mut offsets = rdkafka::TopicPartitionList::new();
    for p in metadata.topics()[0].partitions() {
        offsets
            .add_partition_offset("lintas.applicants.v1", p.id(), rdkafka::Offset::Offset(0))
            .unwrap();
    }
    committer
        .commit(&offsets, rdkafka::consumer::CommitMode::Sync)
        .unwrap();
}
