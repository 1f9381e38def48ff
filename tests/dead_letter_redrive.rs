//! Dead letters redriven and discarded (`lintas dead-letters`), against tansu and PostgreSQL.
//!
//! A subscriber (a toy handler on the kit's public runtime, group `toy`) rejects applicants
//! of a village it does not know yet ("Kroya") and of one that does not exist ("Nowhere").
//! The cause is then fixed: the subscriber restarts with a handler that knows Kroya. The
//! operator redrives with the `lintas` binary:
//!
//! - the Kroya records are applied exactly once (the view counts each application), the two of
//!   one key in their original order; the Nowhere record fails again and returns to the
//!   dead-letter topic at its original coordinates with `lintas.redrive.count` 1;
//! - a second redrive applies nothing again: the CLI skips what the subscriber recorded as
//!   decided, and requests sent anyway (no database given to the CLI) are skipped by the
//!   subscriber, which records each outcome in the transaction that carries it out;
//!   redriving the Nowhere record's new dead letter returns it with count 2;
//! - a discard is recorded with its operator and reason, and listed.
//!
//! What tansu does not prove: tansu 0.6 is one broker with no replication, no ACLs and no
//! transactions, so this says nothing of the redrive topic's durability settings (created
//! like the dead-letter topic, copying the event topic's replication and
//! `min.insync.replicas`) or of who may write it under Kafka ACLs; and it under-reports high
//! watermarks at times, which the CLI's topic reader tolerates by reading until idle. The
//! ordering guarantee rests on the redrive topic having one partition and on the CLI
//! sending one request after another's acknowledgement, which holds on Apache Kafka too.

mod harness;

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use harness::*;
use lintas_kit::consumer::{Batch, Handler, HandlerError, Runtime, SubscriberSettings};
use lintas_kit::events::*;
use lintas_kit::shutdown::Shutdown;
use lintas_kit::store::{Migrations, Store};
use rdkafka::message::{Headers, Message};

const GROUP: &str = "toy";

/// The toy subscriber's view: each applicant it applied, how many times, and in which order.
const VIEW: &str = "CREATE TABLE IF NOT EXISTS toy_applied (\
    event_id TEXT PRIMARY KEY, village TEXT NOT NULL, applied_count BIGINT NOT NULL, \
    seq BIGINT NOT NULL)";

struct Toy {
    /// The upgrade: Kroya is a village it knows.
    knows_kroya: bool,
}

impl Handler for Toy {
    async fn apply(&self, batch: &mut Batch<'_>) -> Result<(), HandlerError> {
        let records = batch.records().to_vec();
        for record in &records {
            let AnyEvent::ApplicantRegistered(e) = &record.event else {
                continue;
            };
            let unknown = e.village == "Nowhere" || (e.village == "Kroya" && !self.knows_kroya);
            if unknown {
                return Err(batch.reject(record, format!("unknown village {}", e.village)));
            }
            // Counts applications: a record applied twice shows as 2.
            sqlx::query(
                "INSERT INTO toy_applied (event_id, village, applied_count, seq) \
                 VALUES ($1, $2, 1, (SELECT COUNT(*) + 1 FROM toy_applied)) \
                 ON CONFLICT (event_id) DO UPDATE SET applied_count = toy_applied.applied_count + 1",
            )
            .bind(e.envelope.event_id.to_string())
            .bind(&e.village)
            .execute(batch.tx())
            .await?;
        }
        Ok(())
    }
}

/// The toy subscriber running in this process until `stop`.
struct Running {
    shutdown: Shutdown,
    task: tokio::task::JoinHandle<anyhow::Result<()>>,
}

impl Running {
    fn start(handler: Toy, store: &Store, brokers: &str, registry: &str) -> Running {
        let shutdown = Shutdown::new();
        let mut settings = SubscriberSettings::new(GROUP, brokers, &[Topic::Applicants]);
        settings.max_wait = Duration::from_millis(50);
        let runtime = Runtime {
            settings,
            store: store.clone(),
            producer: producer_one_record_per_batch(brokers, registry),
            health: lintas_kit::telemetry::Health::new(),
            shutdown: shutdown.clone(),
        };
        let task = tokio::spawn(runtime.run(Arc::new(handler)));
        Running { shutdown, task }
    }

    async fn stop(mut self) {
        self.shutdown.trigger();
        (&mut self.task).await.unwrap().unwrap();
    }
}

/// A failing assertion stops the subscriber too: its poll thread would otherwise keep the
/// test's runtime from shutting down, and the test would hang instead of failing.
impl Drop for Running {
    fn drop(&mut self) {
        self.shutdown.trigger();
    }
}

fn registration(keyer: &SubjectKeyer, nik: &str, village: &str) -> ApplicantRegistered {
    let mut event = applicant(keyer, nik);
    event.village = village.into();
    event
}

/// `lintas dead-letters ARGS --group toy --brokers …`, with or without the subscriber's
/// database; its standard output, after it succeeded.
fn cli(brokers: &str, database: Option<&str>, args: &[&str]) -> String {
    let mut all = vec!["dead-letters"];
    all.extend_from_slice(args);
    all.extend_from_slice(&["--group", GROUP, "--brokers", brokers]);
    if let Some(database) = database {
        all.extend_from_slice(&["--database-url", database]);
    }
    let output = lintas(&all)
        .env_remove("LINTAS_DATABASE_URL")
        .output()
        .expect("lintas runs");
    let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
    assert!(
        output.status.success(),
        "lintas {all:?} failed: {stdout}\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    stdout
}

fn listed(brokers: &str, database: &str) -> serde_json::Value {
    serde_json::from_str(&cli(brokers, Some(database), &["list", "--json"])).expect("JSON")
}

async fn wait_for<F: std::future::Future<Output = bool>>(what: &str, mut check: impl FnMut() -> F) {
    let deadline = Instant::now() + Duration::from_secs(90);
    while !check().await {
        assert!(Instant::now() < deadline, "timed out waiting: {what}");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// event id → (village, times applied, order applied).
async fn view(pool: &sqlx::AnyPool) -> HashMap<String, (String, i64, i64)> {
    let rows: Vec<(String, String, i64, i64)> =
        sqlx::query_as("SELECT event_id, village, applied_count, seq FROM toy.toy_applied")
            .fetch_all(pool)
            .await
            .unwrap_or_default();
    rows.into_iter()
        .map(|(id, village, n, seq)| (id, (village, n, seq)))
        .collect()
}

fn headers(m: &rdkafka::message::OwnedMessage) -> HashMap<String, String> {
    m.headers()
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

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn poison_fixed_at_the_cause_is_redriven_once_and_a_discard_is_recorded() {
    let broker = Broker::start(1).await;
    let database = fresh_database().await;
    let registry = start_registry(&database, &broker.dir).await;
    let keyer = SubjectKeyer::new(SECRET.as_bytes()).unwrap();
    // Created before anyone subscribes (the runtime would create both, the DLQ in the
    // background): a reader subscribed to a missing topic may not see it for minutes.
    let own = [
        "lintas.toy.dlq".to_string(),
        "lintas.toy.redrive".to_string(),
    ];
    lintas_kit::topics::ensure_topics(&broker.brokers, &own, 1, 1, &[])
        .await
        .unwrap();
    let store = Store::connect(&database, GROUP).await.unwrap();
    store.migrate(Migrations::inline(VIEW).await).await.unwrap();
    let pool = pg(&database).await;

    // One partition: the subscriber reads them in this order. The two Kroya records share a
    // key (one applicant registered twice).
    let events = [
        registration(&keyer, "3301014501900001", "Adipala"),
        registration(&keyer, "3301014501900002", "Kroya"),
        registration(&keyer, "3301014501900003", "Adipala"),
        registration(&keyer, "3301014501900002", "Kroya"),
        registration(&keyer, "3301014501900004", "Nowhere"),
        registration(&keyer, "3301014501900005", "Adipala"),
    ];
    let publisher = producer_one_record_per_batch(&broker.brokers, &registry.url);
    for event in &events {
        publisher.publish(event).await.unwrap();
    }
    let id = |i: usize| events[i].envelope.event_id.to_string();

    // Before the fix: three applied, three dead letters.
    let v1 = Running::start(
        Toy { knows_kroya: false },
        &store,
        &broker.brokers,
        &registry.url,
    );
    wait_for("three applied before the fix", || async {
        view(&pool).await.len() == 3
    })
    .await;
    let dead = read_all(
        &broker.brokers,
        "lintas.toy.dlq",
        3,
        Duration::from_secs(60),
    );
    assert_eq!(dead.len(), 3, "three dead letters");
    v1.stop().await;

    let before = listed(&broker.brokers, &database);
    assert_eq!(before["counts"]["pending"], 3, "{before:#}");
    let text = cli(&broker.brokers, Some(&database), &["show", "--offset", "0"]);
    assert!(
        text.contains("rejected") && text.contains("lintas.applicants.v1[0]@1"),
        "{text}"
    );
    assert!(
        !text.contains("3301014501900002"),
        "no NIK in clear: {text}"
    );

    // The fix at the cause: a handler that knows Kroya.
    let v2 = Running::start(
        Toy { knows_kroya: true },
        &store,
        &broker.brokers,
        &registry.url,
    );
    let out = cli(
        &broker.brokers,
        Some(&database),
        &[
            "redrive",
            "--all",
            "--operator",
            "op-ani",
            "--reason",
            "handler v2 knows Kroya",
            "--wait",
            "90",
        ],
    );
    assert!(out.contains("3 to send"), "{out}");
    assert!(out.contains("sent 3/3"), "{out}");
    assert!(out.contains("progress:"), "{out}");

    let applied = view(&pool).await;
    assert_eq!(
        applied.len(),
        5,
        "the two Kroya records applied: {applied:?}"
    );
    assert!(
        applied.values().all(|(_, n, _)| *n == 1),
        "each applied once: {applied:?}"
    );
    assert!(
        applied[&id(1)].2 < applied[&id(3)].2,
        "one key's redriven records apply in their original order: {applied:?}"
    );
    assert!(!applied.contains_key(&id(4)), "Nowhere is still rejected");

    // The record that failed again is back in the dead-letter topic, as itself.
    let dead = read_all(
        &broker.brokers,
        "lintas.toy.dlq",
        4,
        Duration::from_secs(60),
    );
    assert_eq!(dead.len(), 4);
    let again = headers(&dead[3]);
    assert_eq!(again["__connect.errors.topic"], "lintas.applicants.v1");
    assert_eq!(again["__connect.errors.offset"], "4", "its original offset");
    assert_eq!(again["__connect.errors.class.name"], "rejected");
    assert_eq!(again["lintas.redrive.count"], "1");
    assert_eq!(again["lintas.redrive.replaces"], "0:2");
    assert!(!again.contains_key("lintas.redrive.operator"));
    assert_eq!(dead[3].payload(), dead[2].payload(), "the original value");
    let after = listed(&broker.brokers, &database);
    assert_eq!(after["counts"]["applied"], 2, "{after:#}");
    assert_eq!(after["counts"]["failed_again"], 1, "{after:#}");
    assert_eq!(
        after["counts"]["pending"], 1,
        "the new dead letter: {after:#}"
    );

    // A second redrive applies nothing twice: the CLI skips the decided ones (and sends the
    // new dead letter, which fails again, now with count 2) ...
    let out = cli(
        &broker.brokers,
        Some(&database),
        &["redrive", "--all", "--operator", "op-ani", "--wait", "90"],
    );
    assert!(out.contains("3 already decided"), "{out}");
    let dead = read_all(
        &broker.brokers,
        "lintas.toy.dlq",
        5,
        Duration::from_secs(60),
    );
    assert_eq!(dead.len(), 5);
    assert_eq!(headers(&dead[4])["lintas.redrive.count"], "2");
    assert_eq!(headers(&dead[4])["lintas.redrive.replaces"], "0:3");
    // ... and the subscriber skips requests for decided dead letters sent anyway (a CLI
    // without the database cannot tell).
    let out = cli(
        &broker.brokers,
        None,
        &[
            "redrive",
            "--partition",
            "0",
            "--from-offset",
            "0",
            "--to-offset",
            "1",
            "--operator",
            "op-budi",
        ],
    );
    assert!(out.contains("sent 2/2"), "{out}");
    let requests = records_in(&broker.brokers, "lintas.toy.redrive");
    wait_for("the repeated requests consumed", || async {
        let next: Option<i64> = sqlx::query_scalar(
            "SELECT next_offset FROM toy.lintas_offsets WHERE topic = 'lintas.toy.redrive'",
        )
        .fetch_optional(&pool)
        .await
        .ok()
        .flatten();
        next == Some(requests)
    })
    .await;
    let unchanged = view(&pool).await;
    assert_eq!(unchanged, applied, "nothing applied twice");

    // A discard, with its reason, on record.
    let out = cli(
        &broker.brokers,
        Some(&database),
        &[
            "discard",
            "--offset",
            "4",
            "--reason",
            "no such village: test data",
            "--operator",
            "op-citra",
            "--wait",
            "60",
        ],
    );
    assert!(out.contains("discarded 1"), "{out}");
    let (state, operator, reason): (String, String, String) = sqlx::query_as(
        "SELECT state, operator, reason FROM toy.lintas_dead_letters WHERE dlq_partition = 0 AND dlq_offset = 4",
    )
    .fetch_one(&pool)
    .await
    .unwrap();
    assert_eq!(
        (state.as_str(), operator.as_str(), reason.as_str()),
        ("discarded", "op-citra", "no such village: test data")
    );
    let last = listed(&broker.brokers, &database);
    assert_eq!(last["counts"]["discarded"], 1, "{last:#}");
    assert_eq!(last["counts"]["applied"], 2, "{last:#}");
    assert_eq!(last["counts"]["failed_again"], 2, "{last:#}");
    assert!(last["counts"].get("pending").is_none(), "{last:#}");
    // Nothing pending: a redrive of everything now sends nothing.
    let out = cli(
        &broker.brokers,
        Some(&database),
        &["redrive", "--all", "--operator", "op-ani"],
    );
    assert!(out.contains("0 to send"), "{out}");
    v2.stop().await;
    assert_eq!(view(&pool).await, applied, "nothing applied twice");
}

const OPERATOR_TOKEN: &str = "operator-token-0000000000001";

/// The operators' page makes the same requests, under the operator credential: an agency's
/// token is refused, a discard without a reason is refused, a redrive names its operator from
/// the credential, and a repeated one sends nothing again.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_operators_page_redrives_and_discards_under_the_operator_credential() {
    use rdkafka::message::{Header, OwnedHeaders};
    use rdkafka::producer::{FutureProducer, FutureRecord};
    use serde_json::json;

    let broker = Broker::start(1).await;
    lintas_kit::topics::ensure_topics(
        &broker.brokers,
        &["lintas.imigrasi.redrive".to_string()],
        1,
        1,
        &[],
    )
    .await
    .unwrap();
    // Two dead letters as the runtime writes them.
    let producer: FutureProducer = rdkafka::ClientConfig::new()
        .set("bootstrap.servers", &broker.brokers)
        .create()
        .unwrap();
    for (offset, body) in [("7", "first poison"), ("9", "second poison")] {
        let mut headers = OwnedHeaders::new();
        for (key, value) in [
            ("__connect.errors.topic", "lintas.applicants.v1"),
            ("__connect.errors.partition", "2"),
            ("__connect.errors.offset", offset),
            ("__connect.errors.stage", "handler"),
            ("__connect.errors.class.name", "rejected"),
            ("__connect.errors.exception.message", "unknown village"),
            ("__connect.errors.connector.name", "imigrasi"),
        ] {
            headers = headers.insert(Header {
                key,
                value: Some(value),
            });
        }
        producer
            .send(
                FutureRecord::to("lintas.imigrasi.dlq")
                    .key("subject")
                    .payload(body)
                    .headers(headers),
                Duration::from_secs(10),
            )
            .await
            .unwrap();
    }
    let listen = format!("127.0.0.1:{}", free_port());
    let tokens = format!(
        "{OPERATOR_TOKEN}=other:OPS-CILACAP:operator,{IMIGRASI_TOKEN}=imigrasi:KANIM-CILACAP"
    );
    let metrics_listen = format!("127.0.0.1:{}", free_port());
    let _ops = Proc::spawn(
        "ops",
        lintas(&[
            "ops",
            "--brokers",
            &broker.brokers,
            "--schema-registry-url",
            "http://127.0.0.1:9",
            "--listen",
            &listen,
            "--metrics-listen",
            &metrics_listen,
            "--watch",
            "imigrasi",
            "--tokens",
            &tokens,
        ]),
        &broker.dir,
    );
    let url = format!("http://{listen}/ops/api/groups");
    wait_http_ok(&format!("http://{listen}/readyz"), Duration::from_secs(60)).await;
    let client = Client::new();

    let redrive = format!("{url}/imigrasi/dead-letters/redrive");
    let (status, body) = client
        .post(&redrive, IMIGRASI_TOKEN, json!({"all": true}))
        .await;
    assert_eq!(status, 403, "an agency's token: {body}");
    assert!(body["error"].is_string(), "{body}");
    let (status, body) = client
        .post(
            &redrive,
            OPERATOR_TOKEN,
            json!({"all": true, "class": "rejected"}),
        )
        .await;
    assert_eq!(status, 422, "two selections: {body}");
    let (status, body) = client
        .post(
            &format!("{url}/someone-else/dead-letters/redrive"),
            OPERATOR_TOKEN,
            json!({"all": true}),
        )
        .await;
    assert_eq!(status, 404, "a group not watched: {body}");
    let discard = format!("{url}/imigrasi/dead-letters/0/1/discard");
    let (status, body) = client
        .post(&discard, OPERATOR_TOKEN, json!({"reason": "  "}))
        .await;
    assert_eq!(status, 422, "a discard needs a reason: {body}");
    assert!(body["error"].as_str().unwrap().contains("reason"), "{body}");

    let (status, body) = client
        .post(&discard, OPERATOR_TOKEN, json!({"reason": "test data"}))
        .await;
    assert_eq!((status, &body["sent"]), (202, &json!(1)), "{body}");
    let (status, body) = client
        .post(
            &redrive,
            OPERATOR_TOKEN,
            json!({"all": true, "reason": "fixed"}),
        )
        .await;
    assert_eq!(status, 202, "{body}");
    assert_eq!(
        (&body["sent"], &body["already_requested"]),
        (&json!(1), &json!(1)),
        "{body}"
    );
    let (_, body) = client
        .post(&redrive, OPERATOR_TOKEN, json!({"all": true}))
        .await;
    assert_eq!(
        (&body["sent"], &body["already_requested"]),
        (&json!(0), &json!(2)),
        "a repeat sends nothing: {body}"
    );

    let requests = read_all(
        &broker.brokers,
        "lintas.imigrasi.redrive",
        2,
        Duration::from_secs(30),
    );
    assert_eq!(requests.len(), 2);
    let discarded = headers(&requests[0]);
    assert_eq!(discarded["lintas.redrive.action"], "discard");
    assert_eq!(discarded["lintas.redrive.dlq.offset"], "1");
    assert_eq!(discarded["lintas.redrive.reason"], "test data");
    assert_eq!(discarded["lintas.redrive.operator"], "other:OPS-CILACAP");
    assert!(
        requests[0].payload().is_none(),
        "a discard carries no value"
    );
    let redriven = headers(&requests[1]);
    assert_eq!(redriven["lintas.redrive.action"], "redrive");
    assert_eq!(redriven["lintas.redrive.dlq.offset"], "0");
    assert_eq!(redriven["lintas.redrive.count"], "1");
    assert_eq!(redriven["__connect.errors.offset"], "7");
    assert_eq!(requests[1].payload(), Some(&b"first poison"[..]));
    assert_eq!(requests[1].key(), Some(&b"subject"[..]));
}
