//! Horizontal scale: two instances of the immigration subscriber in one consumer group split
//! the partitions while events stream in; one is stopped mid-stream and the other takes its
//! partitions over. Every event ends up applied exactly once: nothing lost in either
//! rebalance, nothing applied twice.

mod harness;

use std::time::{Duration, Instant};

use harness::*;
use lintas_kit::events::*;

const EVENTS: usize = 4_000;

/// Events this instance applied, from its own /metrics.
async fn applied_by(url: &str) -> u64 {
    let Ok(response) = reqwest::get(format!("{url}/metrics")).await else {
        return 0;
    };
    let text = response.text().await.unwrap_or_default();
    text.lines()
        .filter(|l| {
            l.starts_with("lintas_events_applied_total{") && l.contains("group=\"imigrasi\"")
        })
        .filter_map(|l| l.rsplit(' ').next()?.parse::<f64>().ok())
        .sum::<f64>() as u64
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_instances_split_the_partitions_and_a_rebalance_loses_and_duplicates_nothing() {
    let broker = Broker::start(6).await;
    let database = fresh_database().await;
    let registry = start_registry(&database, &broker.dir).await;

    let producer = producer_one_record_per_batch(&broker.brokers, &registry.url);
    let keyer = SubjectKeyer::new(SECRET.as_bytes()).unwrap();
    let (events, expected) = applicants(&keyer, EVENTS);
    // About 200 events a second for 20 seconds.
    let streaming = stream(producer, events, 40, Duration::from_millis(200));

    let extra = [
        "--max-batch",
        "50",
        "--max-wait-ms",
        "20",
        "--session-timeout-ms",
        "6000",
    ];
    let pool = pg(&database).await;
    let first = spawn_imigrasi(
        &broker.brokers,
        &registry.url,
        &database,
        &broker.dir,
        &extra,
    );
    let deadline = Instant::now() + Duration::from_secs(60);
    while imigrasi_applied(&pool).await == 0 {
        assert!(
            Instant::now() < deadline,
            "the first instance never applied anything"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }

    // A second instance joins: the group rebalances and both apply.
    let mut second = spawn_imigrasi(
        &broker.brokers,
        &registry.url,
        &database,
        &broker.dir,
        &extra,
    );
    let deadline = Instant::now() + Duration::from_secs(60);
    let (by_first, by_second) = loop {
        let (a, b) = (applied_by(&first.url).await, applied_by(&second.url).await);
        let before = a;
        tokio::time::sleep(Duration::from_millis(500)).await;
        let a2 = applied_by(&first.url).await;
        // Both must be making progress at the same time: the partitions are split.
        if b > 0 && a2 > before {
            break (a2, b);
        }
        assert!(
            Instant::now() < deadline,
            "the two instances never applied side by side (first {a}, second {b})"
        );
    };
    eprintln!("side by side: first {by_first}, second {by_second} events applied");
    assert!(
        !streaming.is_finished(),
        "the stream must still be running for the second rebalance"
    );

    // Stop the second one mid-stream: it finishes its batch, commits, and leaves the group.
    let status = second.proc.terminate();
    assert!(status.success(), "SIGTERM exit: {status}");
    let left_at = imigrasi_applied(&pool).await;
    eprintln!("second instance stopped at {left_at} events applied in all");
    streaming.await.unwrap();

    let deadline = Instant::now() + Duration::from_secs(180);
    while imigrasi_applied(&pool).await < EVENTS as i64 && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    // Let anything that would be a duplicate arrive before judging.
    tokio::time::sleep(Duration::from_secs(3)).await;

    assert_imigrasi_applied_once(&pool, &expected).await;
    // The survivor applied the rest, including the stopped instance's partitions.
    assert!(applied_by(&first.url).await > by_first);
}
