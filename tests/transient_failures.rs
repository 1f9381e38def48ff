//! Transient failures are waited out, never dead-lettered and never skipped: the schema
//! registry unreachable when a subscriber starts, and the database cut off mid-stream.

mod harness;

use std::sync::Arc;
use std::time::{Duration, Instant};

use harness::*;
use lintas_kit::events::*;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::Mutex;
use tokio::task::JoinSet;

/// A TCP proxy to PostgreSQL that the test can cut and restore, as a network fault would.
struct Proxy {
    port: u16,
    tasks: Arc<Mutex<JoinSet<()>>>,
}

impl Proxy {
    async fn start(port: u16) -> Proxy {
        let proxy = Proxy {
            port,
            tasks: Arc::new(Mutex::new(JoinSet::new())),
        };
        proxy.restore().await;
        proxy
    }

    async fn restore(&self) {
        let listener = TcpListener::bind(("127.0.0.1", self.port)).await.unwrap();
        let tasks = self.tasks.clone();
        self.tasks.lock().await.spawn(async move {
            loop {
                let Ok((mut inbound, _)) = listener.accept().await else {
                    return;
                };
                let tasks = tasks.clone();
                tasks.lock().await.spawn(async move {
                    if let Ok(mut outbound) = TcpStream::connect("127.0.0.1:5432").await {
                        let _ = tokio::io::copy_bidirectional(&mut inbound, &mut outbound).await;
                    }
                });
            }
        });
    }

    /// Drops the listener and every open connection.
    async fn cut(&self) {
        self.tasks.lock().await.abort_all();
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

async fn wait_applied(pool: &sqlx::AnyPool, expected: i64, within: Duration) {
    let deadline = Instant::now() + within;
    loop {
        let applied: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM imigrasi.subject_history")
            .fetch_one(pool)
            .await
            .unwrap_or(0);
        if applied == expected {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "applied {applied}, expected {expected}"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn registry_and_database_outages_are_waited_out() {
    let broker = Broker::start(2).await;
    let database = fresh_database().await;
    let registry_port = free_port();
    let mut registry = start_registry_on(&database, &broker.dir, registry_port).await;
    let producer = producer(&broker.brokers, &registry.url);
    let keyer = SubjectKeyer::new(SECRET.as_bytes()).unwrap();
    for i in 0..3 {
        producer
            .publish(&applicant(&keyer, &format!("3301014501{i:06}")))
            .await
            .unwrap();
    }

    // Registry down while a subscriber with a cold cache starts: nothing applied, nothing
    // dead-lettered, not ready.
    registry.proc.kill();
    let proxy = Proxy::start(free_port()).await;
    let proxied = database.replace("127.0.0.1:5432", &format!("127.0.0.1:{}", proxy.port));
    let subscriber = spawn_imigrasi(&broker.brokers, &registry.url, &proxied, &broker.dir, &[]);
    let pool = pg(&database).await;
    tokio::time::sleep(Duration::from_secs(8)).await;
    let applied: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM imigrasi.subject_history")
        .fetch_one(&pool)
        .await
        .unwrap();
    assert_eq!(
        applied, 0,
        "nothing can be applied without the writer schema"
    );
    assert_eq!(
        records_in(&broker.brokers, "lintas.imigrasi.dlq"),
        0,
        "an unreachable registry is no reason to dead-letter"
    );

    // Registry back on the same address: the records apply.
    let _registry = start_registry_on(&database, &broker.dir, registry_port).await;
    wait_applied(&pool, 3, Duration::from_secs(60)).await;

    // Database cut off mid-stream: the batch waits, the subscriber says why it is not ready.
    proxy.cut().await;
    for i in 3..6 {
        producer
            .publish(&applicant(&keyer, &format!("3301014501{i:06}")))
            .await
            .unwrap();
    }
    let client = reqwest::Client::new();
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let ready = client
            .get(format!("{}/readyz", subscriber.url))
            .send()
            .await
            .unwrap();
        // Not ready, and for the database's reason (the registry's own part may still be
        // catching up with its return).
        let status = ready.status().as_u16();
        let body: serde_json::Value = ready.json().await.unwrap();
        let database = body["parts"]["imigrasi:database"].as_str().unwrap_or("");
        if status == 503 && database.contains("database") {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "/readyz never reported the database outage"
        );
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    tokio::time::sleep(Duration::from_secs(3)).await;
    let applied: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM imigrasi.subject_history")
        .fetch_one(&pool)
        .await
        .unwrap();
    assert_eq!(
        applied, 3,
        "nothing applies while the database is unreachable"
    );
    proxy.restore().await;
    wait_applied(&pool, 6, Duration::from_secs(90)).await;
    assert_eq!(
        records_in(&broker.brokers, "lintas.imigrasi.dlq"),
        0,
        "a database outage is no reason to dead-letter"
    );
    let deliveries: i64 =
        sqlx::query_scalar("SELECT CAST(SUM(deliveries) AS BIGINT) FROM imigrasi.subject_history")
            .fetch_one(&pool)
            .await
            .unwrap();
    assert_eq!(deliveries, 6, "each event applied once");
    let metrics = client
        .get(format!("{}/metrics", subscriber.url))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        metrics.contains("lintas_apply_retries_total{cause=\"registry\""),
        "registry retries counted"
    );
    // Lag comes from librdkafka statistics (every 5 s): caught up now, so 0 on every partition.
    assert!(
        metrics
            .lines()
            .any(|l| l.starts_with("lintas_consumer_lag{") && l.contains("lintas.applicants.v1")),
        "consumer lag exported: {metrics}"
    );
    drop(subscriber);
}
