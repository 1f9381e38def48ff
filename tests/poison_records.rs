//! Poison records: bytes that are not Confluent-framed Avro, an unknown schema id, a
//! truncated body, and an event the handler rejects each land in the dead-letter topic with
//! the original key, value and headers plus `__connect.errors.*` headers, and the events
//! after them are applied.

mod harness;

use std::collections::HashMap;
use std::time::{Duration, Instant};

use harness::*;
use lintas_kit::events::*;
use rdkafka::message::{Header, Headers, Message, OwnedHeaders};
use rdkafka::producer::{FutureProducer, FutureRecord};
use rdkafka::ClientConfig;
use sqlx::Row;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn undecodable_and_rejected_records_are_dead_lettered_and_the_rest_applied() {
    let broker = Broker::start(1).await;
    let database = fresh_database().await;
    let registry = start_registry(&database, &broker.dir).await;
    let codec = harness::codec(&registry.url, &lintas_kit::events::keks::ALL);
    let keyer = SubjectKeyer::new(SECRET.as_bytes()).unwrap();

    let before = applicant(&keyer, "3301014501900001");
    let after = applicant(&keyer, "3301011301900001");
    let valid = codec.encode(&before).await.unwrap();
    let mut truncated = codec.encode(&after).await.unwrap();
    truncated.truncate(truncated.len() - 7);
    let mut unknown_id = valid.clone();
    unknown_id[1..5].copy_from_slice(&987_654u32.to_be_bytes());
    let mut no_subject = after.clone();
    no_subject.envelope.subject_key = None;
    no_subject.envelope.event_id = uuid::Uuid::new_v4();
    let rejected = codec.encode(&no_subject).await.unwrap();

    // One partition, so the order below is the order the subscriber reads.
    let records: Vec<(&str, Vec<u8>)> = vec![
        ("k-valid-before", valid),
        ("k-not-avro", b"{\"nik\":\"3301014501900001\"}".to_vec()),
        ("k-unknown-id", unknown_id.clone()),
        ("k-truncated", truncated.clone()),
        ("k-rejected", rejected.clone()),
        ("k-valid-after", codec.encode(&after).await.unwrap()),
    ];
    let raw: FutureProducer = ClientConfig::new()
        .set("bootstrap.servers", &broker.brokers)
        .create()
        .unwrap();
    for (key, value) in &records {
        let headers = OwnedHeaders::new().insert(Header {
            key: "origin",
            value: Some(*key),
        });
        raw.send(
            FutureRecord::to("lintas.applicants.v1")
                .key(*key)
                .payload(value)
                .headers(headers),
            Duration::from_secs(10),
        )
        .await
        .unwrap();
    }

    // An id the registry says it does not know is waited for (a follower registry may not have
    // replicated it yet), here 2 s, then dead-lettered.
    let imigrasi = spawn_imigrasi(
        &broker.brokers,
        &registry.url,
        &database,
        &broker.dir,
        &["--unknown-schema-wait-ms", "2000"],
    );
    let pool = pg(&database).await;
    let deadline = Instant::now() + Duration::from_secs(90);
    loop {
        let applied: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM imigrasi.subject_history")
            .fetch_one(&pool)
            .await
            .unwrap_or(0);
        if applied == 2 {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "valid events around the poison were not applied (applied {applied})"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let ids: Vec<String> =
        sqlx::query("SELECT event_id FROM imigrasi.subject_history ORDER BY event_id")
            .fetch_all(&pool)
            .await
            .unwrap()
            .iter()
            .map(|r| r.get(0))
            .collect();
    let mut expected = vec![
        before.envelope.event_id.to_string(),
        after.envelope.event_id.to_string(),
    ];
    expected.sort();
    assert_eq!(ids, expected);

    let dead = read_all(
        &broker.brokers,
        "lintas.imigrasi.dlq",
        4,
        Duration::from_secs(30),
    );
    let dead_keys: Vec<String> = dead
        .iter()
        .map(|m| String::from_utf8_lossy(m.key().unwrap_or_default()).into_owned())
        .collect();
    assert_eq!(dead.len(), 4, "four dead letters: {dead_keys:?}");
    let by_key: HashMap<String, &rdkafka::message::OwnedMessage> = dead
        .iter()
        .map(|m| (String::from_utf8(m.key().unwrap().to_vec()).unwrap(), m))
        .collect();
    let expectations = [
        ("k-not-avro", 1, "decode", "framing", records[1].1.clone()),
        ("k-unknown-id", 2, "decode", "unknown_schema_id", unknown_id),
        ("k-truncated", 3, "decode", "avro", truncated),
        ("k-rejected", 4, "handler", "rejected", rejected),
    ];
    for (key, offset, stage, class, value) in expectations {
        let m = by_key
            .get(key)
            .unwrap_or_else(|| panic!("no dead letter for {key}"));
        assert_eq!(
            m.payload().unwrap(),
            &value[..],
            "{key}: original value kept"
        );
        let headers: HashMap<String, String> = m
            .headers()
            .unwrap()
            .iter()
            .map(|h| {
                (
                    h.key.to_string(),
                    String::from_utf8_lossy(h.value.unwrap_or_default()).into_owned(),
                )
            })
            .collect();
        assert_eq!(headers["origin"], key, "{key}: original headers kept");
        assert_eq!(headers["__connect.errors.topic"], "lintas.applicants.v1");
        assert_eq!(headers["__connect.errors.partition"], "0");
        assert_eq!(
            headers["__connect.errors.offset"],
            offset.to_string(),
            "{key}"
        );
        assert_eq!(headers["__connect.errors.stage"], stage, "{key}");
        assert_eq!(headers["__connect.errors.class.name"], class, "{key}");
        assert!(
            !headers["__connect.errors.exception.message"].is_empty(),
            "{key}: a reason"
        );
        assert_eq!(headers["__connect.errors.connector.name"], "imigrasi");
    }
    // The stored offset moved past every record, poison included.
    let next: i64 = sqlx::query_scalar("SELECT next_offset FROM imigrasi.lintas_offsets WHERE topic = 'lintas.applicants.v1' AND partition_id = 0")
        .fetch_one(&pool)
        .await
        .unwrap();
    assert_eq!(next, 6);
    drop(imigrasi);
}
