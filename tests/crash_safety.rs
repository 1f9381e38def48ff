//! Effectively-once under crashes: the immigration subscriber is killed with SIGKILL at
//! random moments while 10,000 events stream in, restarted each time, and must end with
//! every event applied exactly once: no loss, no duplicate.

mod harness;

use std::time::{Duration, Instant};

use harness::*;
use lintas_kit::events::*;
use rand::{Rng, SeedableRng};

const EVENTS: usize = 10_000;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigkill_at_random_moments_loses_and_duplicates_nothing() {
    let seed: u64 = std::env::var("LINTAS_CRASH_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(rand::random);
    eprintln!("crash schedule seed: {seed} (set LINTAS_CRASH_SEED to replay)");
    let mut rng = rand::rngs::StdRng::seed_from_u64(seed);

    let broker = Broker::start(6).await;
    let database = fresh_database().await;
    let registry = start_registry(&database, &broker.dir).await;

    // Stream the events in the background, about 250 a second, while the subscriber dies.
    let producer = producer_one_record_per_batch(&broker.brokers, &registry.url);
    let keyer = SubjectKeyer::new(SECRET.as_bytes()).unwrap();
    let (events, expected) = applicants(&keyer, EVENTS);
    let streaming = stream(producer, events, 100, Duration::from_millis(400));

    // Small batches make many transactions, so kills land inside and between them.
    let extra = [
        "--max-batch",
        "37",
        "--max-wait-ms",
        "20",
        "--session-timeout-ms",
        "3000",
    ];
    let pool = pg(&database).await;
    let mut kills = 0;
    while kills < 6 {
        let mut subscriber = spawn_imigrasi(
            &broker.brokers,
            &registry.url,
            &database,
            &broker.dir,
            &extra,
        );
        // Kill while it is applying: wait for progress, then a random moment later.
        let start = imigrasi_applied(&pool).await;
        let deadline = Instant::now() + Duration::from_secs(60);
        while imigrasi_applied(&pool).await == start && Instant::now() < deadline {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        let alive = Duration::from_millis(rng.gen_range(0..1_500));
        tokio::time::sleep(alive).await;
        subscriber.proc.kill();
        kills += 1;
        eprintln!(
            "kill {kills}, {alive:?} into applying: {start} -> {} events applied",
            imigrasi_applied(&pool).await
        );
        // The restarted instance joins once the broker has expired the dead member's
        // session, as an orchestrator's restart delay would; joining earlier only delays its
        // assignment on Kafka, but tansu 0.6 can leave it with none.
        tokio::time::sleep(Duration::from_millis(3_500)).await;
    }
    streaming.await.unwrap();

    let subscriber = spawn_imigrasi(
        &broker.brokers,
        &registry.url,
        &database,
        &broker.dir,
        &extra,
    );
    let deadline = Instant::now() + Duration::from_secs(240);
    while imigrasi_applied(&pool).await < EVENTS as i64 && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    // Let anything that would be a duplicate arrive before judging.
    tokio::time::sleep(Duration::from_secs(3)).await;

    assert_imigrasi_applied_once(&pool, &expected).await;
    drop(subscriber);
}
