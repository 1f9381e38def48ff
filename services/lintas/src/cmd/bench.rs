//! `lintas bench`: how close the immigration subscriber's effectively-once apply rate (view
//! rows and offsets in one PostgreSQL transaction per batch) comes to the raw rate at which
//! rdkafka can read the same records. Both are measured in the same run, from the first
//! record to the last, and printed with their ratio.

use std::sync::Arc;
use std::time::{Duration, Instant};

use clap::Args;
use lintas_kit::consumer::{Runtime, SubscriberSettings};
use lintas_kit::events::*;
use lintas_kit::http::{serve, HttpSettings};
use lintas_kit::shutdown::Shutdown;
use lintas_kit::store::Store;
use lintas_kit::telemetry::Health;
use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::ClientConfig;

use crate::settings::{listen, random_token, KafkaArgs};

#[derive(Args, Debug)]
pub struct BenchArgs {
    #[arg(long, env = "LINTAS_BROKERS")]
    pub brokers: String,
    /// PostgreSQL for the subscriber's views (a throw-away schema is used and dropped).
    #[arg(long, env = "LINTAS_DATABASE_URL")]
    pub database_url: String,
    /// Events to publish and read.
    #[arg(long, default_value_t = 100_000)]
    pub events: usize,
    #[arg(long, default_value_t = 6)]
    pub partitions: i32,
    #[arg(long, default_value_t = lintas_kit::consumer::DEFAULT_MAX_BATCH)]
    pub max_batch: usize,
}

pub async fn run(args: BenchArgs) -> anyhow::Result<()> {
    let run_id = random_token(8).to_lowercase();
    let prefix = format!("bench-{run_id}.");
    let schema = format!("bench_{run_id}");
    let shutdown = Shutdown::new();

    // A registry for this run, in the same database.
    let listener = listen("127.0.0.1:0").await?;
    let registry_url = format!("http://{}", listener.local_addr()?);
    let registry_schema = format!("{schema}_registry");
    let (credentials, users) = super::registry::Generated::generate();
    let router =
        super::registry::registry_router(&args.database_url, &registry_schema, users).await?;
    let stop = shutdown.clone();
    tokio::spawn(async move { serve(listener, router, &HttpSettings::default(), stop).await });

    let mut topics = lintas_kit::topics::event_topics(&prefix);
    topics.push(lintas_kit::topics::dead_letter_topic(&prefix, &schema));
    lintas_kit::topics::ensure_topics(&args.brokers, &topics, args.partitions, 1, &[]).await?;
    let kafka = KafkaArgs {
        brokers: args.brokers.clone(),
        schema_registry_url: registry_url,
        registry_auth: lintas_kit::registry::RegistryAuth {
            user_info: Some(credentials.write),
            user_info_file: None,
        },
        topic_prefix: prefix.clone(),
        kafka_properties: Vec::new(),
        auth: Default::default(),
        // The identities are encrypted on the wire and decrypted by the subscriber, as in
        // production: the benchmark measures that cost too.
        protection: lintas_kit::service::ProtectionConfig {
            kek_secrets: format!("{}={}", keks::IMMIGRATION, random_token(40))
                .parse()
                .expect("infallible"),
            ..Default::default()
        },
    };
    let producer = kafka.producer()?;
    producer.codec().register_all().await?;

    eprintln!(
        "publishing {} events to {}lintas.applicants.v1 ...",
        args.events, prefix
    );
    let started = Instant::now();
    let keyer = SubjectKeyer::new(random_token(40).as_bytes())?;
    let mut sent = 0;
    while sent < args.events {
        let chunk = (args.events - sent).min(5000);
        let mut tasks = tokio::task::JoinSet::new();
        for i in sent..sent + chunk {
            let producer = producer.clone();
            let event = sample_applicant(&keyer, i);
            tasks.spawn(async move { producer.publish(&event).await });
        }
        while let Some(result) = tasks.join_next().await {
            result??;
        }
        sent += chunk;
    }
    let publish_secs = started.elapsed().as_secs_f64();

    let topic = format!("{prefix}lintas.applicants.v1");
    let brokers = args.brokers.clone();
    let events = args.events;
    let raw_secs =
        tokio::task::spawn_blocking(move || raw_consume(&brokers, &topic, events)).await??;

    let store = Store::connect(&args.database_url, &schema).await?;
    store.migrate(lintas_imigrasi::migrations()).await?;
    let mut settings = SubscriberSettings::new(&schema, &args.brokers, lintas_imigrasi::TOPICS);
    settings.max_batch = args.max_batch;
    let runtime = Runtime {
        settings,
        store: store.clone(),
        producer,
        health: Health::new(),
        shutdown: shutdown.clone(),
    };
    let handler = Arc::new(lintas_imigrasi::ImigrasiHandler {
        im1: Default::default(),
    });
    let task = tokio::spawn(runtime.run(handler));
    let applied = || {
        lintas_kit::metrics::EVENTS_APPLIED
            .with_label_values(&[
                &schema,
                &format!("{prefix}lintas.applicants.v1"),
                "ApplicantRegistered",
            ])
            .get() as usize
    };
    // Like the raw consumer's, the clock starts when the first record reaches the subscriber
    // (after its group join) and stops when the last one is committed.
    let topic = format!("{prefix}lintas.applicants.v1");
    let received = || {
        lintas_kit::metrics::RECORDS_CONSUMED
            .with_label_values(&[&schema, &topic])
            .get()
    };
    let deadline = Instant::now() + Duration::from_secs(600);
    let mut first: Option<Instant> = None;
    while applied() < args.events {
        if first.is_none() && received() > 0 {
            first = Some(Instant::now());
        }
        anyhow::ensure!(
            Instant::now() < deadline,
            "subscriber applied only {} of {} events in 10 minutes",
            applied(),
            args.events
        );
        tokio::time::sleep(Duration::from_millis(1)).await;
    }
    let apply_secs = first
        .map(|f| f.elapsed().as_secs_f64())
        .unwrap_or(f64::EPSILON)
        .max(f64::EPSILON);
    shutdown.trigger();
    let _ = task.await;
    let rows: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM subject_history")
        .fetch_one(store.pool())
        .await?;
    anyhow::ensure!(
        rows as usize == args.events,
        "view holds {rows} rows, expected {}",
        args.events
    );
    let _ = sqlx::query(&format!("DROP SCHEMA IF EXISTS {schema} CASCADE"))
        .execute(store.pool())
        .await;

    let raw_rate = args.events as f64 / raw_secs;
    let apply_rate = args.events as f64 / apply_secs;
    println!("events                          {}", args.events);
    println!(
        "publish (idempotent, acks=all)  {:>10.0} events/s",
        args.events as f64 / publish_secs
    );
    println!(
        "raw rdkafka consume             {:>10.0} records/s",
        raw_rate
    );
    println!("imigrasi apply into PostgreSQL  {:>10.0} events/s  (view + offsets in one transaction per batch of <= {})", apply_rate, args.max_batch);
    println!(
        "ratio apply / raw               {:>10.2}  (target >= 0.5)",
        apply_rate / raw_rate
    );
    Ok(())
}

/// Seconds from the first record to the last with a plain consumer group.
fn raw_consume(brokers: &str, topic: &str, events: usize) -> anyhow::Result<f64> {
    let consumer: BaseConsumer = ClientConfig::new()
        .set("bootstrap.servers", brokers)
        .set("group.id", format!("bench-raw-{}", random_token(6)))
        .set("auto.offset.reset", "earliest")
        .set("enable.auto.commit", "false")
        .create()?;
    consumer.subscribe(&[topic])?;
    let deadline = Instant::now() + Duration::from_secs(600);
    let mut count = 0;
    let mut first = None;
    while count < events {
        anyhow::ensure!(
            Instant::now() < deadline,
            "raw consumer read only {count} of {events} records"
        );
        if let Some(message) = consumer.poll(Duration::from_millis(100)) {
            message?;
            first.get_or_insert_with(Instant::now);
            count += 1;
        }
    }
    Ok(first
        .map(|f| f.elapsed().as_secs_f64())
        .unwrap_or(f64::EPSILON)
        .max(f64::EPSILON))
}

fn sample_applicant(keyer: &SubjectKeyer, i: usize) -> ApplicantRegistered {
    let nik = format!("3301{:06}{:06}", 410190 + (i % 20), i % 1_000_000);
    let mut envelope = Envelope::new(
        Agency::Disnaker,
        "DISNAKER-CILACAP",
        "bench",
        timefmt::millis::now(),
    );
    envelope.subject_key = Some(keyer.subject_key(&nik));
    ApplicantRegistered {
        envelope,
        source: RegistrationSource::JobseekerCardAk1,
        personal: ApplicantPersonalData {
            nik,
            full_name: format!("Pemohon {i}"),
        },
        sex: if i.is_multiple_of(3) {
            Sex::Male
        } else {
            Sex::Female
        },
        birth_date: time::macros::date!(1990 - 01 - 01),
        village: format!("Desa {}", i % 300),
        sub_district: format!("Kecamatan {}", i % 24),
        regency: "Cilacap".into(),
        declared_purpose: DeclaredPurpose::Work,
        destination_country: "MY".into(),
        placement_agency: None,
        sponsor_name: None,
        identity_verified: true,
        village_code: Some(
            format!("33.01.{:02}.2{:03}", 1 + i % 24, 1 + (i % 300) / 24)
                .parse()
                .expect("a village code"),
        ),
    }
}
