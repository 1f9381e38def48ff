//! The consumer runtime under injected faults, on tansu and PostgreSQL: whatever goes wrong,
//! a subscriber neither stalls nor skips in silence. Each test injects one fault a review of
//! the runtime found and checks what an agency would notice: every event applied once, or a
//! clear reason on `/readyz` and in the metrics.

mod harness;

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use harness::*;
use lintas_kit::events::*;
use rdkafka::Message;
use serde_json::Value;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// Registrations of `n` men applying for work in Malaysia: they raise no alert, so the only
/// transactions are the subscriber's batches.
fn quiet_registrations(keyer: &SubjectKeyer, from: usize, n: usize) -> Vec<ApplicantRegistered> {
    (from..from + n)
        .map(|i| {
            let nik = format!("33010112019{i:05}");
            let mut e = applicant(keyer, &nik);
            e.sex = Sex::Male;
            e.declared_purpose = DeclaredPurpose::Work;
            e.destination_country = "MY".into();
            e
        })
        .collect()
}

/// Registrations that each raise IM2 (a woman declaring umrah to Saudi Arabia).
fn alerting_registrations(keyer: &SubjectKeyer, from: usize, n: usize) -> Vec<ApplicantRegistered> {
    (from..from + n)
        .map(|i| {
            let mut e = applicant(keyer, &format!("33010145019{i:05}"));
            e.declared_purpose = DeclaredPurpose::Umrah;
            e.destination_country = "SA".into();
            e
        })
        .collect()
}

async fn distinct_applied(pool: &sqlx::AnyPool) -> i64 {
    sqlx::query_scalar("SELECT COUNT(DISTINCT event_id) FROM imigrasi.subject_history")
        .fetch_one(pool)
        .await
        .unwrap_or(0)
}

async fn readyz(url: &str) -> (u16, Value) {
    match reqwest::get(format!("{url}/readyz")).await {
        Ok(r) => (r.status().as_u16(), r.json().await.unwrap_or(Value::Null)),
        Err(_) => (0, Value::Null),
    }
}

/// The value of the series `line_start` on the service at `url`.
async fn metric(url: &str, line_start: &str) -> Option<f64> {
    Client::new().metric(url, line_start).await
}

/// A proxy to PostgreSQL that, once armed, forwards the next `COMMIT` and then cuts that
/// connection before the server's answer reaches the client: the transaction committed, the
/// subscriber does not know it.
struct CommitReplyDropper {
    port: u16,
    armed: Arc<AtomicBool>,
}

impl CommitReplyDropper {
    async fn start() -> CommitReplyDropper {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let armed = Arc::new(AtomicBool::new(false));
        let trigger = armed.clone();
        tokio::spawn(async move {
            while let Ok((client, _)) = listener.accept().await {
                let trigger = trigger.clone();
                tokio::spawn(async move {
                    let Ok(server) = TcpStream::connect("127.0.0.1:5432").await else {
                        return;
                    };
                    let (mut client_read, mut client_write) = client.into_split();
                    let (mut server_read, mut server_write) = server.into_split();
                    let cut = Arc::new(AtomicBool::new(false));
                    let cut_reply = cut.clone();
                    let replies = tokio::spawn(async move {
                        let mut buffer = [0u8; 16384];
                        while let Ok(n) = server_read.read(&mut buffer).await {
                            if n == 0 || cut_reply.load(Ordering::SeqCst) {
                                return;
                            }
                            if client_write.write_all(&buffer[..n]).await.is_err() {
                                return;
                            }
                        }
                    });
                    let mut buffer = [0u8; 16384];
                    while let Ok(n) = client_read.read(&mut buffer).await {
                        if n == 0 {
                            break;
                        }
                        // A simple-protocol query "COMMIT" (sqlx commits that way).
                        let commit = buffer[..n].windows(7).any(|w| w == b"COMMIT\0");
                        if commit && trigger.swap(false, Ordering::SeqCst) {
                            cut.store(true, Ordering::SeqCst);
                            let _ = server_write.write_all(&buffer[..n]).await;
                            // Let the server commit, then cut both ways without its answer.
                            tokio::time::sleep(Duration::from_millis(300)).await;
                            replies.abort();
                            return;
                        }
                        if server_write.write_all(&buffer[..n]).await.is_err() {
                            break;
                        }
                    }
                    replies.abort();
                });
            }
        });
        CommitReplyDropper { port, armed }
    }

    fn url(&self, database: &str) -> String {
        let (_, name) = database.rsplit_once('/').unwrap();
        format!("postgres://postgres@127.0.0.1:{}/{name}", self.port)
    }
}

/// The database commits a batch but its answer is lost: the subscriber finds the batch
/// committed when it retries, so nothing is applied twice, and it goes on applying every
/// partition (before, it took the lost answer for a fence and dropped its partitions until
/// the next rebalance, while `/readyz` said ready).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_lost_commit_answer_neither_repeats_nor_stops_a_partition() {
    let broker = Broker::start(1).await;
    let database = fresh_database().await;
    let registry = start_registry(&database, &broker.dir).await;
    let proxy = CommitReplyDropper::start().await;
    let imigrasi = spawn_imigrasi(
        &broker.brokers,
        &registry.url,
        &proxy.url(&database),
        &broker.dir,
        &[],
    );
    let keyer = SubjectKeyer::new(SECRET.as_bytes()).unwrap();
    let producer = producer_one_record_per_batch(&broker.brokers, &registry.url);
    let pool = pg(&database).await;
    for e in quiet_registrations(&keyer, 0, 5) {
        producer.publish(&e).await.unwrap();
    }
    wait_until(
        "the first five applied",
        Duration::from_secs(90),
        async || (distinct_applied(&pool).await == 5).then_some(()),
    )
    .await;
    proxy.armed.store(true, Ordering::SeqCst);
    for e in quiet_registrations(&keyer, 5, 5) {
        producer.publish(&e).await.unwrap();
    }
    wait_until(
        "the answer of a COMMIT dropped",
        Duration::from_secs(30),
        async || (!proxy.armed.load(Ordering::SeqCst)).then_some(()),
    )
    .await;
    for e in quiet_registrations(&keyer, 10, 5) {
        producer.publish(&e).await.unwrap();
    }
    wait_until(
        "all fifteen applied after the lost answer",
        Duration::from_secs(90),
        async || (distinct_applied(&pool).await == 15).then_some(()),
    )
    .await;
    let deliveries: i64 =
        sqlx::query_scalar("SELECT CAST(SUM(deliveries) AS BIGINT) FROM imigrasi.subject_history")
            .fetch_one(&pool)
            .await
            .unwrap();
    assert_eq!(deliveries, 15, "no batch applied twice");
    let (status, body) = readyz(&imigrasi.url).await;
    assert_eq!(status, 200, "every partition still applying: {body}");
}

/// A registry URL that answers 404 for everything (here: a path that is not the registry) is
/// an outage, not a feed of unknown schemas: `/readyz` names it, nothing is dead-lettered, and
/// with the right URL every event applies.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_registry_answering_404_is_waited_out_not_dead_lettered() {
    let broker = Broker::start(1).await;
    let database = fresh_database().await;
    let registry = start_registry(&database, &broker.dir).await;
    let keyer = SubjectKeyer::new(SECRET.as_bytes()).unwrap();
    let producer = producer(&broker.brokers, &registry.url);
    for e in quiet_registrations(&keyer, 0, 3) {
        producer.publish(&e).await.unwrap();
    }
    let wrong = format!("{}/not-the-registry", registry.url);
    let mut imigrasi = spawn_imigrasi(&broker.brokers, &wrong, &database, &broker.dir, &[]);
    let (_, body) = wait_until(
        "/readyz names the registry",
        Duration::from_secs(60),
        async || {
            let (status, body) = readyz(&imigrasi.url).await;
            (status == 503
                && body["parts"]["imigrasi:registry"]
                    .as_str()
                    .is_some_and(|r| r.contains("registry")))
            .then_some((status, body))
        },
    )
    .await;
    assert!(
        body["parts"]["imigrasi:registry"]
            .as_str()
            .unwrap()
            .contains("Confluent"),
        "{body}"
    );
    tokio::time::sleep(Duration::from_secs(3)).await;
    assert_eq!(
        records_in(&broker.brokers, "lintas.imigrasi.dlq"),
        0,
        "nothing dead-lettered"
    );
    let pool = pg(&database).await;
    assert_eq!(distinct_applied(&pool).await, 0);
    imigrasi.proc.terminate();
    let imigrasi = spawn_imigrasi(&broker.brokers, &registry.url, &database, &broker.dir, &[]);
    wait_until(
        "every event applied with the right URL",
        Duration::from_secs(90),
        async || (distinct_applied(&pool).await == 3).then_some(()),
    )
    .await;
    wait_until("ready", Duration::from_secs(30), async || {
        (readyz(&imigrasi.url).await.0 == 200).then_some(())
    })
    .await;
}

/// A newer publisher's event type is skipped and counted, not dead-lettered; a newer symbol of
/// an enum with a default reads as the default; the events after them apply.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn newer_event_types_are_skipped_and_newer_symbols_read_as_the_default() {
    let broker = Broker::start(1).await;
    let database = fresh_database().await;
    let registry = start_registry(&database, &broker.dir).await;
    let keyer = SubjectKeyer::new(SECRET.as_bytes()).unwrap();
    let producer = producer(&broker.brokers, &registry.url);
    let client = harness::registry_client(&registry.url, harness::REGISTRY_WRITE);

    // VisaTypeFlagged as a newer contract writes it: one more reason.
    let entry = catalogue().of::<VisaTypeFlagged>();
    let mut newer: Value = serde_json::from_str(&entry.json).unwrap();
    add_symbol(&mut newer, "VisaFlagReason", "forged_visa_stamp");
    let newer_text = newer.to_string();
    let newer_schema = apache_avro::Schema::parse_str(&newer_text).unwrap();
    let id = client
        .register(
            "lintas.screening.v1-lintas.events.VisaTypeFlagged",
            &newer_text,
        )
        .await
        .expect("a compatible newer version");
    let mut flag_env = Envelope::new(
        Agency::Imigrasi,
        "KANIM-CILACAP",
        "im-1",
        timefmt::millis::now(),
    );
    let subject = keyer.subject_key("3301011201900001");
    flag_env.subject_key = Some(subject.clone());
    let flag = VisaTypeFlagged {
        envelope: flag_env,
        reason: VisaFlagReason::CulturalAmbassador,
        stage: ScreeningStage::PassportInterview,
        visa_type: VisaType::Visit,
        destination_country: "MY".into(),
    };
    let mut value = apache_avro::to_value(&flag)
        .unwrap()
        .resolve(&newer_schema)
        .unwrap();
    if let apache_avro::types::Value::Record(fields) = &mut value {
        let reason = fields.iter_mut().find(|(n, _)| n == "reason").unwrap();
        reason.1 = apache_avro::types::Value::Enum(11, "forged_visa_stamp".into());
    }
    let body = apache_avro::to_avro_datum(&newer_schema, value).unwrap();
    send_framed(&producer, "lintas.screening.v1", &subject, id, &body).await;

    // An event type this build does not know at all.
    let unknown = r#"{"type":"record","name":"ReturneeRegistered","namespace":"lintas.events","fields":[{"name":"note","type":"string"}]}"#;
    let unknown_id = client
        .register(
            "lintas.applicants.v1-lintas.events.ReturneeRegistered",
            unknown,
        )
        .await
        .unwrap();
    let unknown_schema = apache_avro::Schema::parse_str(unknown).unwrap();
    let value = apache_avro::types::Value::Record(vec![(
        "note".into(),
        apache_avro::types::Value::String("home".into()),
    )]);
    let body = apache_avro::to_avro_datum(&unknown_schema, value).unwrap();
    send_framed(
        &producer,
        "lintas.applicants.v1",
        &subject,
        unknown_id,
        &body,
    )
    .await;
    let after = quiet_registrations(&keyer, 0, 1).remove(0);
    producer.publish(&after).await.unwrap();

    let imigrasi = spawn_imigrasi(&broker.brokers, &registry.url, &database, &broker.dir, &[]);
    let pool = pg(&database).await;
    wait_until(
        "the flag and the registration after the unknown type applied",
        Duration::from_secs(90),
        async || (distinct_applied(&pool).await == 2).then_some(()),
    )
    .await;
    let details: String = sqlx::query_scalar(
        "SELECT details FROM imigrasi.subject_history WHERE event_type = 'VisaTypeFlagged'",
    )
    .fetch_one(&pool)
    .await
    .unwrap();
    assert!(details.contains("\"reason\":\"other\""), "{details}");
    assert_eq!(
        records_in(&broker.brokers, "lintas.imigrasi.dlq"),
        0,
        "nothing dead-lettered"
    );
    let skipped = metric(
        &imigrasi.url,
        "lintas_records_skipped_total{group=\"imigrasi\",reason=\"unknown_type\",topic=\"lintas.applicants.v1\"}",
    )
    .await;
    assert_eq!(skipped, Some(1.0));
}

fn add_symbol(node: &mut Value, enum_name: &str, symbol: &str) {
    match node {
        Value::Object(map) => {
            if map.get("type") == Some(&Value::String("enum".into()))
                && map.get("name") == Some(&Value::String(enum_name.into()))
            {
                map["symbols"]
                    .as_array_mut()
                    .unwrap()
                    .insert(11, Value::String(symbol.into()));
                return;
            }
            map.values_mut()
                .for_each(|v| add_symbol(v, enum_name, symbol));
        }
        Value::Array(items) => items
            .iter_mut()
            .for_each(|v| add_symbol(v, enum_name, symbol)),
        _ => {}
    }
}

async fn send_framed(
    producer: &lintas_kit::producer::EventProducer,
    topic: &str,
    key: &str,
    id: u32,
    body: &[u8],
) {
    let framed = lintas_kit::codec::frame(id, body);
    producer
        .send(topic, key, &framed, rdkafka::message::OwnedHeaders::new())
        .await
        .unwrap();
}

/// A stored offset past the end of the log (the topic recreated or truncated) stops that
/// partition and says so on `/readyz` rather than silently rewinding and then dropping every
/// new record up to the old offset; with `--on-offset-out-of-range resume` the subscriber
/// resumes from the log's start.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_offset_past_the_end_of_the_log_stops_the_partition_and_says_why() {
    let broker = Broker::start(1).await;
    let database = fresh_database().await;
    let registry = start_registry(&database, &broker.dir).await;
    let keyer = SubjectKeyer::new(SECRET.as_bytes()).unwrap();
    let producer = producer(&broker.brokers, &registry.url);
    for e in quiet_registrations(&keyer, 0, 3) {
        producer.publish(&e).await.unwrap();
    }
    let mut imigrasi = spawn_imigrasi(&broker.brokers, &registry.url, &database, &broker.dir, &[]);
    let pool = pg(&database).await;
    wait_until("three applied", Duration::from_secs(90), async || {
        (distinct_applied(&pool).await == 3).then_some(())
    })
    .await;
    imigrasi.proc.terminate();
    sqlx::query("UPDATE imigrasi.lintas_offsets SET next_offset = next_offset + 1000 WHERE topic = 'lintas.applicants.v1'")
        .execute(&pool)
        .await
        .unwrap();
    for e in quiet_registrations(&keyer, 3, 2) {
        producer.publish(&e).await.unwrap();
    }
    let mut imigrasi = spawn_imigrasi(&broker.brokers, &registry.url, &database, &broker.dir, &[]);
    let body = wait_until(
        "/readyz says the partition stopped",
        Duration::from_secs(60),
        async || {
            let (status, body) = readyz(&imigrasi.url).await;
            (status == 503
                && body["parts"]["imigrasi:offsets"]
                    .as_str()
                    .is_some_and(|r| r.contains("past its end")))
            .then_some(body)
        },
    )
    .await;
    assert!(
        body["parts"]["imigrasi:offsets"]
            .as_str()
            .unwrap()
            .contains("lintas.applicants.v1[0]"),
        "{body}"
    );
    tokio::time::sleep(Duration::from_secs(2)).await;
    assert_eq!(
        distinct_applied(&pool).await,
        3,
        "nothing applied under a wrong offset"
    );
    let out_of_range = metric(
        &imigrasi.url,
        "lintas_offsets_out_of_range_total{group=\"imigrasi\",kind=\"past_end\",topic=\"lintas.applicants.v1\"}",
    )
    .await;
    assert_eq!(out_of_range, Some(1.0));
    imigrasi.proc.terminate();
    let imigrasi = spawn_imigrasi(
        &broker.brokers,
        &registry.url,
        &database,
        &broker.dir,
        &["--on-offset-out-of-range", "resume"],
    );
    wait_until(
        "resumed: all five applied",
        Duration::from_secs(90),
        async || (distinct_applied(&pool).await == 5).then_some(()),
    )
    .await;
    wait_until("ready", Duration::from_secs(30), async || {
        (readyz(&imigrasi.url).await.0 == 200).then_some(())
    })
    .await;
}

/// Records the broker never delivers are not skipped in silence. tansu 0.6 answers a fetch
/// that starts inside a multi-record batch with the batches after it (Apache Kafka does not):
/// with the stored offset in the middle of a batch, every record after it is either applied
/// or reported as a gap (metric and `/readyz` warning). On Kafka there would be no gap and
/// every record would be applied; this test proves the accounting, not tansu's behaviour.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn records_the_broker_skips_are_counted_and_shown() {
    let broker = Broker::start(1).await;
    let database = fresh_database().await;
    let registry = start_registry(&database, &broker.dir).await;
    let keyer = SubjectKeyer::new(SECRET.as_bytes()).unwrap();
    // Several records per batch.
    let batched = {
        let codec = harness::codec(&registry.url, &keks::ALL);
        let mut settings = lintas_kit::producer::ProducerSettings::new(&broker.brokers);
        settings.extra = vec![("linger.ms".into(), "300".into())];
        lintas_kit::producer::EventProducer::new(&settings, codec).unwrap()
    };
    let events = quiet_registrations(&keyer, 0, 10);
    let mut sends = tokio::task::JoinSet::new();
    for e in events {
        let p = batched.clone();
        sends.spawn(async move { p.publish(&e).await.unwrap() });
    }
    while sends.join_next().await.is_some() {}
    producer_one_record_per_batch(&broker.brokers, &registry.url)
        .publish(&quiet_registrations(&keyer, 10, 1).remove(0))
        .await
        .unwrap();
    // The subscriber's schema, with a stored offset in the middle of the first batch.
    let mut imigrasi = spawn_imigrasi(
        &broker.brokers,
        &registry.url,
        &database,
        &broker.dir,
        &["--max-batch", "1"],
    );
    wait_until("ready", Duration::from_secs(60), async || {
        (readyz(&imigrasi.url).await.0 == 200).then_some(())
    })
    .await;
    imigrasi.proc.terminate();
    let pool = pg(&database).await;
    sqlx::query("DELETE FROM imigrasi.subject_history")
        .execute(&pool)
        .await
        .unwrap();
    sqlx::query("DELETE FROM imigrasi.lintas_offsets")
        .execute(&pool)
        .await
        .unwrap();
    sqlx::query(
        "INSERT INTO imigrasi.lintas_offsets (consumer_group, topic, partition_id, next_offset, updated_at_ms) \
         VALUES ('imigrasi', 'lintas.applicants.v1', 0, 3, 0)",
    )
    .execute(&pool)
    .await
    .unwrap();
    let imigrasi = spawn_imigrasi(&broker.brokers, &registry.url, &database, &broker.dir, &[]);
    let (applied, gaps) = wait_until(
        "offsets 3..10 applied or reported",
        Duration::from_secs(90),
        async || {
            let applied = distinct_applied(&pool).await;
            let gaps = metric(
            &imigrasi.url,
            "lintas_offset_gap_records_total{group=\"imigrasi\",topic=\"lintas.applicants.v1\"}",
        )
        .await
        .unwrap_or(0.0) as i64;
            (applied + gaps == 8 && applied >= 1).then_some((applied, gaps))
        },
    )
    .await;
    eprintln!("after offset 3 of 11: {applied} applied, {gaps} reported as never delivered");
    if gaps > 0 {
        let (_, body) = readyz(&imigrasi.url).await;
        assert!(
            body["warnings"]["imigrasi:gaps"]
                .as_str()
                .is_some_and(|w| w.contains("never delivered")),
            "{body}"
        );
    }
}

/// A record that violates a constraint of the view fails the same way every time: it is
/// isolated by bisection and dead-lettered alone, the others apply. A fault no retry can fix
/// (a table gone) makes `/readyz` say why after a while, and the subscriber recovers when
/// it is repaired.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_bad_record_is_isolated_and_a_stuck_subscriber_says_why() {
    let broker = Broker::start(1).await;
    let database = fresh_database().await;
    let registry = start_registry(&database, &broker.dir).await;
    let keyer = SubjectKeyer::new(SECRET.as_bytes()).unwrap();
    let mut imigrasi = spawn_imigrasi(&broker.brokers, &registry.url, &database, &broker.dir, &[]);
    // Ready and holding its partitions: stopped while its first join is still in flight, tansu
    // has been seen to keep the group waiting for the gone member, so that the next instance
    // got no assignment for over 90 s (Apache Kafka completes the rebalance on LeaveGroup).
    wait_until("ready and assigned", Duration::from_secs(60), async || {
        let (status, body) = readyz(&imigrasi.url).await;
        (status == 200 && body["parts"]["imigrasi:assignment"] == "ok").then_some(())
    })
    .await;
    imigrasi.proc.terminate();
    let pool = pg(&database).await;
    sqlx::query(
        "ALTER TABLE imigrasi.subject_history ADD CONSTRAINT no_poison CHECK (office <> 'POISON')",
    )
    .execute(&pool)
    .await
    .unwrap();
    // Published together, read in one batch by the subscriber started after them.
    let mut events = quiet_registrations(&keyer, 0, 12);
    events[7].envelope.office = "POISON".into();
    let producer_all = producer(&broker.brokers, &registry.url);
    let mut sends = tokio::task::JoinSet::new();
    for e in events {
        let p = producer_all.clone();
        sends.spawn(async move { p.publish(&e).await.unwrap() });
    }
    while sends.join_next().await.is_some() {}
    let imigrasi = spawn_imigrasi(&broker.brokers, &registry.url, &database, &broker.dir, &[]);
    wait_until("eleven applied", Duration::from_secs(90), async || {
        (distinct_applied(&pool).await == 11).then_some(())
    })
    .await;
    let dead = read_all(
        &broker.brokers,
        "lintas.imigrasi.dlq",
        1,
        Duration::from_secs(30),
    );
    assert_eq!(dead.len(), 1);
    let class = dead[0].headers().and_then(|h| {
        use rdkafka::message::Headers;
        h.iter()
            .find(|h| h.key == "__connect.errors.class.name")
            .and_then(|h| h.value.map(|v| String::from_utf8_lossy(v).into_owned()))
    });
    assert_eq!(class.as_deref(), Some("constraint"));
    wait_until("ready", Duration::from_secs(30), async || {
        (readyz(&imigrasi.url).await.0 == 200).then_some(())
    })
    .await;

    // The view's table disappears: retried, and after 30 s not ready, with the reason.
    sqlx::query("ALTER TABLE imigrasi.subject_history RENAME TO subject_history_gone")
        .execute(&pool)
        .await
        .unwrap();
    producer_all
        .publish(&quiet_registrations(&keyer, 20, 1).remove(0))
        .await
        .unwrap();
    let body = wait_until(
        "/readyz says the batch cannot apply",
        Duration::from_secs(75),
        async || {
            let (status, body) = readyz(&imigrasi.url).await;
            (status == 503
                && body["parts"]["imigrasi:apply"]
                    .as_str()
                    .is_some_and(|r| r.contains("subject_history")))
            .then_some(body)
        },
    )
    .await;
    eprintln!("stuck: {body}");
    sqlx::query("ALTER TABLE imigrasi.subject_history_gone RENAME TO subject_history")
        .execute(&pool)
        .await
        .unwrap();
    wait_until("recovered", Duration::from_secs(60), async || {
        (distinct_applied(&pool).await == 12 && readyz(&imigrasi.url).await.0 == 200).then_some(())
    })
    .await;
}

/// The outbox: a row the broker refuses for good (too large) is set aside with its reason and
/// the alerts after it are published; two replicas sharing one database relay each alert once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_outbox_sets_a_poison_row_aside_and_two_replicas_relay_each_alert_once() {
    let broker = Broker::start(2).await;
    let database = fresh_database().await;
    let registry = start_registry(&database, &broker.dir).await;
    let keyer = SubjectKeyer::new(SECRET.as_bytes()).unwrap();
    let first = spawn_imigrasi(&broker.brokers, &registry.url, &database, &broker.dir, &[]);
    wait_until("ready", Duration::from_secs(60), async || {
        (readyz(&first.url).await.0 == 200).then_some(())
    })
    .await;
    let _second = spawn_imigrasi(&broker.brokers, &registry.url, &database, &broker.dir, &[]);
    let pool = pg(&database).await;
    sqlx::query(
        "INSERT INTO imigrasi.lintas_outbox (topic, record_key, payload, event_type, event_id, created_at_ms) \
         VALUES ('lintas.alerts.imigrasi.v1', 'k', $1, 'AlertRaised', 'poison', 0)",
    )
    .bind(vec![0u8; 2_000_000])
    .execute(&pool)
    .await
    .unwrap();
    let producer = producer(&broker.brokers, &registry.url);
    for e in alerting_registrations(&keyer, 0, 30) {
        producer.publish(&e).await.unwrap();
    }
    // Counted by reading every record (tansu's high watermark lags when two producers write
    // one partition).
    wait_until(
        "thirty alerts on the topic",
        Duration::from_secs(120),
        async || {
            (read_all(
                &broker.brokers,
                "lintas.alerts.imigrasi.v1",
                30,
                Duration::from_secs(5),
            )
            .len()
                >= 30)
                .then_some(())
        },
    )
    .await;
    tokio::time::sleep(Duration::from_secs(3)).await;
    let codec = harness::codec(&registry.url, &[]);
    let mut alert_ids = std::collections::BTreeSet::new();
    let records = read_all(
        &broker.brokers,
        "lintas.alerts.imigrasi.v1",
        60,
        Duration::from_secs(10),
    );
    for r in &records {
        if let Ok(AnyEvent::AlertRaised(a)) = codec.decode(r.payload().unwrap()).await {
            alert_ids.insert(a.alert_id);
        }
    }
    assert_eq!(
        (records.len(), alert_ids.len()),
        (30, 30),
        "each alert relayed once"
    );
    let reason: String = sqlx::query_scalar(
        "SELECT reason FROM imigrasi.lintas_outbox_failed WHERE event_id = 'poison'",
    )
    .fetch_one(&pool)
    .await
    .unwrap();
    assert!(
        reason.to_lowercase().contains("size") || reason.to_lowercase().contains("large"),
        "{reason}"
    );
    let left: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM imigrasi.lintas_outbox")
        .fetch_one(&pool)
        .await
        .unwrap();
    assert_eq!(left, 0);
}
