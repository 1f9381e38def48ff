//! The long fault-injection runs, too long for every CI run: run them with
//!
//! ```sh
//! cargo test -p lintas --test long_faults -- --ignored --test-threads 1
//! ```
//!
//! (`postgres_stopped_for_a_minute` stops the machine's PostgreSQL: run it alone.) Their last
//! figures are in the README. Sizes come from `LINTAS_LONG_EVENTS` and `LINTAS_LONG_KILLS`.

mod harness;

use std::collections::HashSet;
use std::time::{Duration, Instant};

use harness::*;
use lintas_kit::events::*;
use rand::{Rng, SeedableRng};

fn size(var: &str, default: usize) -> usize {
    std::env::var(var)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// Streams `events` in the background, `per_second` about, one record per batch (tansu 0.6
/// skips the rest of a batch when a fetch starts inside it; Kafka does not).
fn stream_at(
    producer: lintas_kit::producer::EventProducer,
    events: Vec<ApplicantRegistered>,
    per_second: usize,
) -> tokio::task::JoinHandle<()> {
    stream(producer, events, per_second / 4, Duration::from_millis(250))
}

async fn wait_all_applied(pool: &sqlx::AnyPool, expected: usize, within: Duration) {
    let deadline = Instant::now() + within;
    while imigrasi_applied(pool).await < expected as i64 && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    tokio::time::sleep(Duration::from_secs(3)).await;
}

/// The subscriber killed with SIGKILL `LINTAS_LONG_KILLS` (50) times at random moments while
/// `LINTAS_LONG_EVENTS` (100,000) events stream in: every event applied exactly once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "long fault injection: cargo test -p lintas --test long_faults -- --ignored"]
async fn sigkill_many_times_while_a_feed_streams_in() {
    let (events, kills) = (
        size("LINTAS_LONG_EVENTS", 100_000),
        size("LINTAS_LONG_KILLS", 50),
    );
    let seed: u64 = rand::random();
    eprintln!("seed {seed}: {events} events, {kills} kills");
    let mut rng = rand::rngs::StdRng::seed_from_u64(seed);
    let broker = Broker::start(6).await;
    let database = fresh_database().await;
    let registry = start_registry(&database, &broker.dir).await;
    let keyer = SubjectKeyer::new(SECRET.as_bytes()).unwrap();
    let feed: Vec<ApplicantRegistered> = (0..events)
        .map(|i| applicant(&keyer, &format!("330101450{i:07}")))
        .collect();
    let expected: HashSet<String> = feed
        .iter()
        .map(|e| e.envelope.event_id.to_string())
        .collect();
    let started = Instant::now();
    // About 120 events a second, so that the feed is still streaming in at the last kill.
    let streaming = stream_at(
        producer_one_record_per_batch(&broker.brokers, &registry.url),
        feed,
        120,
    );
    let extra = [
        "--max-batch",
        "500",
        "--max-wait-ms",
        "20",
        "--session-timeout-ms",
        "3000",
    ];
    let pool = pg(&database).await;
    let mut while_streaming = 0;
    for kill in 1..=kills {
        let mut subscriber = spawn_imigrasi(
            &broker.brokers,
            &registry.url,
            &database,
            &broker.dir,
            &extra,
        );
        let before = imigrasi_applied(&pool).await;
        let deadline = Instant::now() + Duration::from_secs(60);
        while imigrasi_applied(&pool).await == before && Instant::now() < deadline {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        tokio::time::sleep(Duration::from_millis(rng.gen_range(0..2_000))).await;
        subscriber.proc.kill();
        while_streaming += usize::from(!streaming.is_finished());
        eprintln!("kill {kill}: {} applied", imigrasi_applied(&pool).await);
        tokio::time::sleep(Duration::from_millis(3_500)).await;
    }
    streaming.await.unwrap();
    let _subscriber = spawn_imigrasi(
        &broker.brokers,
        &registry.url,
        &database,
        &broker.dir,
        &extra,
    );
    wait_all_applied(&pool, events, Duration::from_secs(900)).await;
    assert_imigrasi_applied_once(&pool, &expected).await;
    eprintln!(
        "RESULT: {events} events, {kills} SIGKILLs ({while_streaming} while the feed streamed in): exactly {events} applied once, in {:?}",
        started.elapsed()
    );
}

/// The broker (tansu on SQLite storage) killed and restarted while the intakes publish: every
/// event the intake answered 202 for is on the topic and applied once; the others were 503.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "long fault injection: cargo test -p lintas --test long_faults -- --ignored"]
async fn broker_killed_while_the_intakes_publish() {
    let requests = size("LINTAS_LONG_REQUESTS", 2_000);
    let mut broker = Broker::start_persistent(2).await;
    let database = fresh_database().await;
    let registry = start_registry(&database, &broker.dir).await;
    let intake = start_intake(&broker.brokers, &registry.url, &database, &broker.dir).await;
    let _imigrasi = spawn_imigrasi(&broker.brokers, &registry.url, &database, &broker.dir, &[]);
    let client = reqwest::Client::new();
    let mut accepted = HashSet::new();
    let mut refused = 0;
    for i in 0..requests {
        if i == requests / 3 {
            broker.stop();
        }
        if i == requests / 3 + 50 {
            broker.restart();
        }
        // A valid NIK: region, birth date (a woman born 1 January 1990), serial.
        let nik = format!("330101450190{:04}", i + 1);
        let response = client
            .post(format!("{}/v1/imigrasi/visa-flags", intake.url))
            .bearer_auth(IMIGRASI_TOKEN)
            .header("idempotency-key", format!("flag-{i}"))
            .json(&serde_json::json!({"nik": nik, "reason": "cultural_ambassador", "stage": "passport_interview",
                "visa_type": "visit", "destination_country": "MY", "officer_id": "im-1"}))
            .send()
            .await;
        match response {
            Ok(r) if r.status().as_u16() == 202 => {
                let body: serde_json::Value = r.json().await.unwrap();
                accepted.insert(body["event_id"].as_str().unwrap().to_string());
            }
            Ok(r) => {
                assert_eq!(r.status().as_u16(), 503, "a refusal is a 503");
                refused += 1;
            }
            Err(_) => refused += 1,
        }
    }
    let pool = pg(&database).await;
    wait_all_applied(&pool, accepted.len(), Duration::from_secs(300)).await;
    let applied: HashSet<String> =
        sqlx::query_scalar("SELECT event_id FROM imigrasi.subject_history")
            .fetch_all(&pool)
            .await
            .unwrap()
            .into_iter()
            .collect();
    let lost: Vec<&String> = accepted.difference(&applied).collect();
    assert!(
        lost.is_empty(),
        "{} events answered 202 were lost: {lost:?}",
        lost.len()
    );
    let twice: i64 =
        sqlx::query_scalar("SELECT COUNT(*) FROM imigrasi.subject_history WHERE deliveries > 1")
            .fetch_one(&pool)
            .await
            .unwrap();
    eprintln!(
        "RESULT: {requests} requests, broker killed and restarted: {} answered 202, all applied; {refused} refused with 503; {twice} delivered more than once (de-duplicated by event id)",
        accepted.len()
    );
}

/// PostgreSQL stopped for a minute under load: nothing is lost, `/readyz` says why while it
/// is down, and the lag drains once it is back.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "stops the machine's PostgreSQL: run alone, cargo test -p lintas --test long_faults postgres -- --ignored"]
async fn postgres_stopped_for_a_minute() {
    let events = size("LINTAS_LONG_EVENTS", 20_000);
    let broker = Broker::start(2).await;
    let database = fresh_database().await;
    // The registry keeps its schemas in SQLite here: only the subscriber's database goes.
    let registry = start_registry(
        &format!("sqlite://{}/registry.db", broker.dir.display()),
        &broker.dir,
    )
    .await;
    let imigrasi = spawn_imigrasi(&broker.brokers, &registry.url, &database, &broker.dir, &[]);
    let keyer = SubjectKeyer::new(SECRET.as_bytes()).unwrap();
    let feed: Vec<ApplicantRegistered> = (0..events)
        .map(|i| applicant(&keyer, &format!("330101450{i:07}")))
        .collect();
    let expected: HashSet<String> = feed
        .iter()
        .map(|e| e.envelope.event_id.to_string())
        .collect();
    let streaming = stream_at(
        producer_one_record_per_batch(&broker.brokers, &registry.url),
        feed,
        400,
    );
    tokio::time::sleep(Duration::from_secs(10)).await;
    let version = std::fs::read_dir("/etc/postgresql")
        .unwrap()
        .next()
        .unwrap()
        .unwrap()
        .file_name();
    let version = version.to_string_lossy().to_string();
    let cluster = |action: &str| {
        let status = std::process::Command::new("pg_ctlcluster")
            .args(["--skip-systemctl-redirect", &version, "main", action])
            .status()
            .unwrap();
        assert!(status.success(), "pg_ctlcluster {action}");
    };
    cluster("stop");
    let stopped = Instant::now();
    let mut reason = String::new();
    while stopped.elapsed() < Duration::from_secs(60) {
        if let Ok(r) = reqwest::get(format!("{}/readyz", imigrasi.url)).await {
            let body: serde_json::Value = r.json().await.unwrap_or_default();
            if let Some(why) = body["parts"]["imigrasi:database"].as_str() {
                reason = why.to_string();
            }
        }
        tokio::time::sleep(Duration::from_secs(1)).await;
    }
    cluster("start");
    assert!(reason.contains("database"), "/readyz said why: {reason}");
    streaming.await.unwrap();
    let back = Instant::now();
    let pool = pg(&database).await;
    wait_all_applied(&pool, events, Duration::from_secs(600)).await;
    assert_imigrasi_applied_once(&pool, &expected).await;
    eprintln!(
        "RESULT: PostgreSQL stopped 60 s under {events} events: /readyz said `{reason}`; all applied once, lag drained {:?} after it returned",
        back.elapsed()
    );
}
