//! `lintas up`: the whole system in one process, for a laptop or a trial. Without --brokers
//! the broker is librdkafka's in-process mock cluster: EPHEMERAL, its events are gone when
//! the process stops (the SQLite views stay). With --brokers, --database-url and
//! --schema-registry-url the same code runs against real infrastructure.

use std::path::PathBuf;
use std::sync::Arc;

use clap::Args;
use lintas_intake::IntakeState;
use lintas_kit::consumer::{Runtime, SubscriberSettings};
use lintas_kit::events::Agency;
use lintas_kit::shutdown::Shutdown;
use lintas_kit::store::Store;
use lintas_kit::telemetry::{serve, Health};
use lintas_kit::topics::{dead_letter_topic, ensure_topics, event_topics, DEFAULT_PARTITIONS};

use crate::settings::{keyer, listen, local_secret, random_token, tokens, KafkaArgs};

#[derive(Args, Debug)]
pub struct UpArgs {
    /// Where the embedded run keeps its SQLite files and its generated secret.
    #[arg(long, env = "LINTAS_DATA_DIR", default_value = "data")]
    pub data_dir: PathBuf,
    /// One address for every API: intake, views, registry, metrics, health.
    #[arg(long, env = "LINTAS_LISTEN", default_value = "127.0.0.1:8080")]
    pub listen: String,
    /// Real Kafka instead of the ephemeral in-process broker.
    #[arg(long, env = "LINTAS_BROKERS")]
    pub brokers: Option<String>,
    /// PostgreSQL (or another SQLite file) instead of SQLite in the data directory.
    #[arg(long, env = "LINTAS_DATABASE_URL")]
    pub database_url: Option<String>,
    /// An external registry instead of the in-process one served under /registry.
    #[arg(long, env = "LINTAS_SCHEMA_REGISTRY_URL")]
    pub schema_registry_url: Option<String>,
    #[arg(long, env = "LINTAS_SUBJECT_KEY_SECRET", hide_env_values = true)]
    pub subject_key_secret: Option<String>,
    /// Extra librdkafka properties `key=value` (TLS, SASL) for --brokers.
    #[arg(
        long = "kafka-property",
        env = "LINTAS_KAFKA_PROPERTIES",
        value_delimiter = ','
    )]
    pub kafka_properties: Vec<String>,
    /// Caller tokens `token=agency:OFFICE,...`; generated and printed when absent.
    #[arg(long, env = "LINTAS_TOKENS", hide_env_values = true)]
    pub tokens: Option<String>,
}

pub async fn run(args: UpArgs) -> anyhow::Result<()> {
    std::fs::create_dir_all(&args.data_dir)?;
    let shutdown = Shutdown::new();
    tokio::spawn(shutdown.clone().on_signals());
    let group = lintas_imigrasi::GROUP;

    // The broker. The mock cluster must outlive everything that talks to it.
    let mut topics = event_topics("");
    topics.push(dead_letter_topic("", group));
    topics.push(dead_letter_topic("", lintas_desa::GROUP));
    topics.push(dead_letter_topic("", lintas_disnaker::GROUP));
    let (_mock, brokers, external_broker) = match &args.brokers {
        Some(brokers) => {
            ensure_topics(
                brokers,
                &topics,
                DEFAULT_PARTITIONS,
                1,
                &crate::settings::kafka_properties(&args.kafka_properties)?,
            )
            .await?;
            (None, brokers.clone(), true)
        }
        None => {
            let mock = rdkafka::mocking::MockCluster::new(1)?;
            // Its admin API does not answer CreateTopics; the mock has its own call.
            for topic in &topics {
                mock.create_topic(topic, DEFAULT_PARTITIONS, 1)?;
            }
            let brokers = mock.bootstrap_servers();
            (Some(mock), brokers, false)
        }
    };

    let database_url = args
        .database_url
        .clone()
        .unwrap_or_else(|| format!("sqlite://{}/lintas.db", args.data_dir.display()));
    let listener = listen(&args.listen).await?;
    let base = format!("http://{}", listener.local_addr()?);

    let (registry_url, registry_routes) = match &args.schema_registry_url {
        Some(url) => (url.clone(), axum::Router::new()),
        None => (
            format!("{base}/registry"),
            axum::Router::new().nest(
                "/registry",
                super::registry::registry_router(&database_url, "registry").await?,
            ),
        ),
    };
    let secret = match &args.subject_key_secret {
        Some(s) => s.clone(),
        None => local_secret(&args.data_dir)?,
    };
    let (token_spec, generated) = match &args.tokens {
        Some(spec) => (spec.clone(), Vec::new()),
        None => {
            let generated: Vec<(Agency, String, String)> = [
                (Agency::Disnaker, "DISNAKER-CILACAP"),
                (Agency::Imigrasi, "KANIM-CILACAP"),
                (Agency::Imigrasi, "TPI-CGK"),
                (Agency::Polri, "POLRESTA-CILACAP"),
                (Agency::Kejaksaan, "KEJARI-CILACAP"),
                (Agency::Desa, "DPMD-CILACAP"),
            ]
            .into_iter()
            .map(|(agency, office)| {
                (
                    agency,
                    office.to_string(),
                    format!("{agency}-{}", random_token(24)),
                )
            })
            .collect();
            let spec = generated
                .iter()
                .map(|(a, o, t)| format!("{t}={a}:{o}"))
                .collect::<Vec<_>>()
                .join(",");
            (spec, generated)
        }
    };
    let tokens = tokens(&token_spec)?;
    let kafka = KafkaArgs {
        brokers: brokers.clone(),
        schema_registry_url: registry_url.clone(),
        topic_prefix: String::new(),
        kafka_properties: args.kafka_properties.clone(),
    };
    let producer = kafka.producer()?;
    let store = Store::connect(&database_url, group).await?;
    store.migrate(lintas_imigrasi::migrations()).await?;
    if !external_broker {
        // A new ephemeral broker numbers its offsets from 0 again; offsets stored by the last
        // run would skip its first records.
        lintas_kit::consumer::reset_offsets(&store, group).await?;
    }

    let desa_store = Store::connect(&database_url, lintas_desa::GROUP).await?;
    desa_store.migrate(lintas_desa::migrations()).await?;
    if !external_broker {
        lintas_kit::consumer::reset_offsets(&desa_store, lintas_desa::GROUP).await?;
    }

    let disnaker_store = Store::connect(&database_url, lintas_disnaker::GROUP).await?;
    disnaker_store
        .migrate(lintas_disnaker::migrations())
        .await?;
    if !external_broker {
        lintas_kit::consumer::reset_offsets(&disnaker_store, lintas_disnaker::GROUP).await?;
    }

    let intake_store = Store::connect(&database_url, lintas_intake::SCHEMA).await?;
    intake_store.migrate(lintas_intake::migrations()).await?;
    let health = Health::new();
    let mut ops_settings = lintas_ops::OpsSettings::new(&brokers, "");
    ops_settings.extra = kafka.extra()?;
    for name in [group, lintas_disnaker::GROUP, lintas_desa::GROUP] {
        super::ops::watch(&mut ops_settings, name)?;
    }
    ops_settings
        .services
        .push(("lintas up".into(), base.clone()));
    ops_settings.sample_every = std::time::Duration::from_secs(2);
    ops_settings.window = std::time::Duration::from_secs(30);
    ops_settings.stop_after = std::time::Duration::from_secs(120);
    let ops = lintas_ops::Ops::start(
        ops_settings,
        producer.codec().clone(),
        health.clone(),
        shutdown.clone(),
    )?;
    let routes = registry_routes
        .merge(lintas_ops::router(ops))
        .merge(lintas_intake::router(
            IntakeState {
                producer: producer.clone(),
                keyer: keyer(&secret)?,
                tokens: tokens.clone(),
                store: intake_store,
                checkpoints: super::intake::checkpoints(lintas_intake::DEFAULT_CHECKPOINTS),
            },
            lintas_intake::ALL,
        ))
        .merge(lintas_imigrasi::router(lintas_imigrasi::ApiState {
            store: store.clone(),
            tokens: tokens.clone(),
            codec: producer.codec().clone(),
        }))
        .merge(lintas_disnaker::router(lintas_disnaker::ApiState {
            store: disnaker_store.clone(),
            tokens: tokens.clone(),
            codec: producer.codec().clone(),
        }))
        .merge(lintas_desa::router(lintas_desa::ApiState {
            store: desa_store.clone(),
            tokens,
            codec: producer.codec().clone(),
        }));
    let server = tokio::spawn(serve(
        listener,
        super::with_ops(routes, health.clone()),
        shutdown.clone(),
    ));
    producer.codec().register_all().await?;
    tokio::spawn(super::intake::watch_broker(
        producer.clone(),
        health.clone(),
        shutdown.clone(),
    ));

    let mut settings = SubscriberSettings::new(group, &brokers, lintas_imigrasi::TOPICS);
    settings.create_dead_letter_topic = external_broker;
    settings.extra = kafka.extra()?;
    let mut desa_settings =
        SubscriberSettings::new(lintas_desa::GROUP, &brokers, lintas_desa::TOPICS);
    desa_settings.create_dead_letter_topic = external_broker;
    desa_settings.extra = kafka.extra()?;
    let desa = Runtime {
        settings: desa_settings,
        store: desa_store,
        producer: producer.clone(),
        health: health.clone(),
        shutdown: shutdown.clone(),
    };
    let mut disnaker_settings =
        SubscriberSettings::new(lintas_disnaker::GROUP, &brokers, lintas_disnaker::TOPICS);
    disnaker_settings.create_dead_letter_topic = external_broker;
    disnaker_settings.extra = kafka.extra()?;
    let disnaker = Runtime {
        settings: disnaker_settings,
        store: disnaker_store,
        producer: producer.clone(),
        health: health.clone(),
        shutdown: shutdown.clone(),
    };
    let runtime = Runtime {
        settings,
        store,
        producer,
        health,
        shutdown: shutdown.clone(),
    };

    println!("Lintas is up.");
    if external_broker {
        println!("  broker             {brokers}");
    } else {
        println!("  broker             {brokers}  (in-process mock cluster: EPHEMERAL, events vanish at exit)");
    }
    println!("  database           {database_url}");
    println!("  schema registry    {registry_url}");
    println!("  intakes            POST {base}/v1/...  (every endpoint: {base}/openapi.json)");
    println!("  immigration view   GET  {base}/v1/agencies/imigrasi/subjects/{{subject_key}}");
    println!("  alerts             GET  {base}/v1/agencies/imigrasi/alerts");
    println!("  village notices    GET  {base}/v1/agencies/desa/villages/{{village}}/notices");
    println!("  Disnaker tasks     GET  {base}/v1/agencies/disnaker/follow-up-tasks  (alerts: /v1/agencies/disnaker/alerts)");
    println!("  operators          {base}/ops  (live dashboard)");
    println!("  health, metrics    {base}/livez  {base}/readyz  {base}/metrics");
    for (agency, office, token) in &generated {
        println!("  token {agency:<10} {token}   ({office})");
    }
    println!("A synthetic feed for this run (another terminal):");
    println!(
        "  cargo run -p lintas -- simulate --intake-url {base} --rate 2 --tokens '{token_spec}'"
    );
    println!("Stop with Ctrl-C.");

    let handler = Arc::new(lintas_imigrasi::ImigrasiHandler {
        im1: Default::default(),
    });
    let desa = tokio::spawn(desa.run(Arc::new(lintas_desa::DesaHandler::default())));
    let disnaker =
        tokio::spawn(disnaker.run(Arc::new(lintas_disnaker::DisnakerHandler::default())));
    let result = runtime.run(handler).await;
    shutdown.trigger();
    let desa = desa.await.map_err(anyhow::Error::from).and_then(|r| r);
    let disnaker = disnaker.await.map_err(anyhow::Error::from).and_then(|r| r);
    let _ = server.await;
    result.and(desa).and(disnaker)
}
