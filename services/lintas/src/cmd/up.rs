//! `lintas up`: the whole system in one process, for a laptop or a trial. Without --brokers
//! the broker is librdkafka's in-process mock cluster: EPHEMERAL, its events are gone when
//! the process stops (the SQLite views stay). With --brokers, --database-url and
//! --schema-registry-url the same code runs against real infrastructure.

use std::path::PathBuf;

use clap::Args;
use lintas_intake::IntakeState;
use lintas_kit::consumer::{Runtime, SubscriberSettings};
use lintas_kit::events::Agency;
use lintas_kit::http::serve;
use lintas_kit::shutdown::Shutdown;
use lintas_kit::store::Store;
use lintas_kit::telemetry::Health;
use lintas_kit::topics::{dead_letter_topic, ensure_topics, event_topics, DEFAULT_PARTITIONS};
use lintas_kit::views::ViewState;

use super::agencies::{Wired, AGENCIES};
use crate::settings::{
    credentials, keyer, listen, local_secret, local_secret_file, random_token, KafkaArgs,
};

#[derive(Args, Debug)]
pub struct UpArgs {
    /// Where the embedded run keeps its SQLite files and its generated secret.
    #[arg(long, env = "LINTAS_DATA_DIR", default_value = "data")]
    pub data_dir: PathBuf,
    /// One address for every API: intake, views, registry, metrics, health.
    #[arg(long, env = "LINTAS_LISTEN", default_value = "127.0.0.1:8080")]
    pub listen: String,
    /// Timeouts, limits and TLS of the HTTP server.
    #[command(flatten)]
    pub http: lintas_kit::http::HttpSettings,
    /// Real Kafka instead of the ephemeral in-process broker.
    #[arg(long, env = "LINTAS_BROKERS")]
    pub brokers: Option<String>,
    /// PostgreSQL (or another SQLite folder, `sqlite://dir/`: one file per service) instead of
    /// SQLite files in the data directory.
    #[arg(long, env = "LINTAS_DATABASE_URL")]
    pub database_url: Option<String>,
    /// An external registry instead of the in-process one served under /registry.
    #[arg(long, env = "LINTAS_SCHEMA_REGISTRY_URL")]
    pub schema_registry_url: Option<String>,
    /// The credential (write role) for --schema-registry-url; the in-process registry gets
    /// credentials generated for the run.
    #[command(flatten)]
    pub registry_auth: lintas_kit::registry::RegistryAuth,
    #[arg(long, env = "LINTAS_SUBJECT_KEY_SECRET", hide_env_values = true)]
    pub subject_key_secret: Option<String>,
    /// Extra librdkafka properties `key=value` (TLS, SASL) for --brokers.
    #[arg(
        long = "kafka-property",
        env = "LINTAS_KAFKA_PROPERTIES",
        value_delimiter = ','
    )]
    pub kafka_properties: Vec<String>,
    /// The run's Kafka principal on --brokers (SASL/SCRAM or mutual TLS).
    #[command(flatten)]
    pub kafka_auth: lintas_kit::kafka_auth::KafkaAuth,
    /// Caller tokens `token=agency:OFFICE,...`; generated and printed when absent.
    #[arg(long, env = "LINTAS_TOKENS", hide_env_values = true)]
    pub tokens: Option<String>,
    /// Agency sign-in with OIDC, beside the tokens.
    #[command(flatten)]
    pub oidc: lintas_kit::oidc::OidcArgs,
    #[command(flatten)]
    pub protection: lintas_kit::service::ProtectionConfig,
    #[command(flatten)]
    pub rules: super::rules::RuleArgs,
    /// Integrators' consumer groups the operators' page looks for by name: the embedded broker
    /// does not list its groups (operators may also name them on the page).
    #[arg(long = "ops-group", env = "LINTAS_OPS_GROUPS", value_delimiter = ',')]
    pub ops_groups: Vec<String>,
}

/// The topics of the run: every event topic, and each agency's dead-letter and redrive
/// topics.
pub(crate) fn run_topics(agencies: &[Wired]) -> Vec<String> {
    let mut topics = event_topics("");
    for agency in agencies {
        topics.push(dead_letter_topic("", agency.group()));
        topics.push(lintas_kit::topics::redrive_topic("", agency.group()));
    }
    topics
}

/// One store per agency of `agencies` (in its order), each migrated; on the ephemeral broker
/// their offsets are forgotten, because a new mock cluster numbers its offsets from 0 again and
/// offsets stored by the last run would skip its first records (the views are kept).
pub(crate) async fn subscriber_stores(
    agencies: &[Wired],
    database_url: &str,
    external_broker: bool,
) -> anyhow::Result<Vec<Store>> {
    let mut stores = Vec::with_capacity(agencies.len());
    for agency in agencies {
        let store = Store::connect(database_url, agency.group()).await?;
        store.migrate(agency.migrations()).await?;
        if !external_broker {
            lintas_kit::consumer::reset_offsets(&store, agency.group()).await?;
        }
        stores.push(store);
    }
    Ok(stores)
}

/// Every agency's query routes, each on its own store (`stores` in the order of `agencies`),
/// with the views `views` gives it.
pub(crate) fn agency_routes(
    agencies: &[Wired],
    stores: &[Store],
    views: impl Fn(&Store, &[&str], Agency) -> ViewState,
) -> axum::Router {
    agencies
        .iter()
        .zip(stores)
        .fold(axum::Router::new(), |routes, (agency, store)| {
            routes.merge(agency.router(views(store, agency.keks(), agency.agency())))
        })
}

pub async fn run(args: UpArgs) -> anyhow::Result<()> {
    std::fs::create_dir_all(&args.data_dir)?;
    let shutdown = Shutdown::new();
    // Every part runs as a named task; the first to fail or stop stops the others: a
    // half-running backbone would mislead.
    let mut tasks = lintas_kit::tasks::Tasks::new(shutdown.clone());
    let signals = shutdown.clone();
    tasks.spawn("signals", async move {
        signals.on_signals().await;
        Ok(())
    });

    // The broker. The mock cluster must outlive everything that talks to it.
    let topics = run_topics(AGENCIES);
    let (mock, brokers, external_broker) = match &args.brokers {
        Some(brokers) => {
            ensure_topics(
                brokers,
                &topics,
                DEFAULT_PARTITIONS,
                1,
                &lintas_kit::kafka_auth::client_properties(
                    &args.kafka_auth,
                    crate::settings::kafka_properties(&args.kafka_properties)?,
                )?,
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
        .unwrap_or_else(|| format!("sqlite://{}/", args.data_dir.display()));
    // The run's services each keep their own tables: one SQLite file each, in a folder.
    anyhow::ensure!(
        !database_url.starts_with("sqlite:") || database_url.ends_with('/'),
        "`lintas up` runs several services, each in its own SQLite file: give a folder \
         (--database-url sqlite://data/, one <service>.db each) or a PostgreSQL url"
    );
    if args.http.tls_cert.is_some() && args.schema_registry_url.is_none() {
        // The run's own clients (registry, readiness sampling) speak plain HTTP to it.
        anyhow::bail!("--tls-cert in `lintas up` needs an external --schema-registry-url: the in-process registry is reached over plain HTTP");
    }
    let listener = listen(&args.listen).await?;
    let base = format!("{}://{}", args.http.scheme(), listener.local_addr()?);

    // The in-process registry gets a user per role with passwords generated for this run; the
    // run publishes with the write one, and prints what it generated.
    let (registry_url, registry_routes, registry_auth, generated_registry) =
        match &args.schema_registry_url {
            Some(url) => (
                url.clone(),
                axum::Router::new(),
                args.registry_auth.clone(),
                None,
            ),
            None => {
                let (generated, users) = super::registry::Generated::generate();
                let routes = axum::Router::new().nest(
                    "/registry",
                    super::registry::registry_router(&database_url, "registry", users).await?,
                );
                let auth = lintas_kit::registry::RegistryAuth {
                    user_info: Some(generated.write.clone()),
                    user_info_file: None,
                };
                (format!("{base}/registry"), routes, auth, Some(generated))
            }
        };
    let secret = match &args.subject_key_secret {
        Some(s) => s.clone(),
        None => local_secret(&args.data_dir)?,
    };
    let (token_spec, generated) = match &args.tokens {
        Some(spec) => (spec.clone(), Vec::new()),
        None => {
            let generated: Vec<(Agency, String, String)> = [
                (Agency::Disnaker, "DISNAKER-CILACAP", ""),
                (Agency::Imigrasi, "KANIM-CILACAP", ""),
                // Personal data is read under an officer's name.
                (
                    Agency::Imigrasi,
                    "KANIM-CILACAP",
                    ":personal_data+officer=kanim-cilacap-officer",
                ),
                // A checkpoint office records checks at its own checkpoint only: one token
                // per checkpoint the simulation uses.
                (Agency::Imigrasi, "TPI-CGK", ""),
                (Agency::Imigrasi, "TPI-YIA", ""),
                (Agency::Imigrasi, "TPI-SUB", ""),
                (Agency::Imigrasi, "TPI-CLP", ""),
                (Agency::Polri, "POLRESTA-CILACAP", ""),
                (Agency::Kejaksaan, "KEJARI-CILACAP", ""),
                (Agency::Desa, "DPMD-CILACAP", ":all_villages"),
            ]
            .into_iter()
            .map(|(agency, office, roles)| {
                (
                    agency,
                    format!("{office}{roles}"),
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
    // The operators' credential of this run (the `operator` role, for /ops): generated each
    // run and printed, whatever LINTAS_TOKENS holds.
    let operator_token = format!("operator-{}", random_token(32));
    let operator_entry = format!("{operator_token}=other:OPERATIONS:operator");
    let tokens = credentials(
        &[token_spec.as_str(), &operator_entry].join(","),
        &args.oidc,
    )
    .await?;
    let mut protection = args.protection.clone();
    if protection.kek_secrets.is_empty() {
        // Generated once per data directory (never the repository), like the subject-key
        // secret: the embedded run holds every KEK for its intakes.
        let spec = lintas_kit::events::keks::ALL
            .iter()
            .map(|kek| {
                Ok(format!(
                    "{kek}={}",
                    local_secret_file(&args.data_dir, &format!("kek-{kek}.secret"))?
                ))
            })
            .collect::<anyhow::Result<Vec<_>>>()?
            .join(",");
        protection.kek_secrets = spec.parse().expect("infallible");
    }
    let kafka = KafkaArgs {
        brokers: brokers.clone(),
        schema_registry_url: registry_url.clone(),
        registry_auth,
        topic_prefix: String::new(),
        kafka_properties: args.kafka_properties.clone(),
        auth: args.kafka_auth.clone(),
        protection,
    };
    let producer = kafka.producer()?;
    // Each subscriber decodes with the KEKs it is entitled to, and no other.
    let entitled = |keks: &[&str]| producer.with_codec(producer.codec().entitled_to(keks));
    // Each router holds only the credentials of the agencies it serves.
    let views = |store: &Store, keks: &[&str], agency: Agency| ViewState {
        store: store.clone(),
        tokens: tokens.for_agencies(&[agency]),
        codec: producer.codec().entitled_to(keks),
    };

    let stores = subscriber_stores(AGENCIES, &database_url, external_broker).await?;

    let intake_store = Store::connect(&database_url, lintas_intake::SCHEMA).await?;
    intake_store.migrate(lintas_intake::migrations()).await?;
    if !external_broker {
        // The last run's answers point at a log this new broker does not hold: replaying one
        // for a reused Idempotency-Key would answer 202 and publish nothing.
        let forgotten =
            lintas_intake::idempotency::purge(&intake_store, std::time::Duration::ZERO).await?;
        if forgotten > 0 {
            tracing::info!(forgotten, "the previous run's Idempotency-Key answers are forgotten: the embedded broker is new");
        }
    }
    let intake_purge_store = intake_store.clone();
    let health = Health::new();
    let mut ops_settings = lintas_ops::OpsSettings::new(&brokers, "");
    ops_settings.extra = kafka.extra()?;
    ops_settings.named_groups = super::ops::named_groups(&args.ops_groups);
    for agency in AGENCIES {
        super::ops::watch(&mut ops_settings, agency.group())?;
    }
    ops_settings
        .services
        .push(("lintas up".into(), base.clone()));
    ops_settings.sample_every = std::time::Duration::from_secs(2);
    ops_settings.window = std::time::Duration::from_secs(30);
    ops_settings.stop_after = std::time::Duration::from_secs(120);
    let ops = lintas_ops::Ops::start(
        ops_settings,
        // The operators' page reads frames and headers, never a decrypted field.
        producer.codec().entitled_to(&[]),
        health.clone(),
        shutdown.clone(),
        &mut tasks,
    )?;
    let routes = registry_routes
        .merge(lintas_ops::router(
            ops,
            tokens.for_role(lintas_kit::auth::OPERATOR_ROLE),
        ))
        .merge(super::intake::routes(
            IntakeState {
                producer: producer.clone(),
                keyer: keyer(&secret, kafka.protection.rotations()?)?,
                tokens: tokens.for_agencies(&lintas_intake::publishers(lintas_intake::ALL)),
                store: intake_store,
                checkpoints: super::intake::checkpoints(lintas_intake::DEFAULT_CHECKPOINTS),
                time_zone: args.rules.time_zone,
            },
            lintas_intake::ALL,
        )?)
        .merge(agency_routes(AGENCIES, &stores, views));
    let routes = super::with_ops(routes, health.clone());
    let (http, stop) = (args.http.clone(), shutdown.clone());
    tasks.spawn("http-server", async move {
        serve(listener, routes, &http, stop).await
    });
    producer.codec().register_all().await?;
    tasks.spawn(
        "broker-health",
        super::intake::watch_broker(producer.clone(), health.clone(), shutdown.clone()),
    );
    tasks.spawn(
        "idempotency-purge",
        lintas_intake::purge_loop(
            intake_purge_store,
            std::time::Duration::from_secs(7 * 86_400),
            shutdown.clone(),
        ),
    );

    let runtime = |store: Store, agency: Wired| -> anyhow::Result<Runtime> {
        let mut settings = SubscriberSettings::new(agency.group(), &brokers, agency.topics());
        settings.create_dead_letter_topic = external_broker;
        settings.extra = kafka.extra()?;
        Ok(Runtime {
            settings,
            store,
            producer: entitled(agency.keks()),
            health: health.clone(),
            shutdown: shutdown.clone(),
        })
    };
    // The embedded run models Kabupaten Cilacap (the simulator's regency).
    let mut rules = args.rules.clone();
    if rules.disnaker_regency.is_none() {
        rules.disnaker_regency = Some("33.01".parse().expect("Cilacap's regency code"));
    }
    for (agency, store) in AGENCIES.iter().zip(stores) {
        // Each subscriber's task is named after its group (`imigrasi`, …).
        tasks.spawn(
            agency.group(),
            agency.run(runtime(store, *agency)?, &rules)?,
        );
    }

    println!("Lintas is up.");
    if external_broker {
        println!("  broker             {brokers}");
    } else {
        println!("  broker             {brokers}  (in-process mock cluster: EPHEMERAL, events vanish at exit)");
    }
    if database_url.starts_with("sqlite:") {
        println!("  database           {database_url}  (one file per service: <service>.db)");
    } else {
        println!("  database           {database_url}");
    }
    if args.protection.kek_secrets.is_empty() {
        println!(
            "  personal data      encrypted on the feed; key-encryption keys in {}/kek-*.secret (docs/data-protection.md)",
            args.data_dir.display()
        );
    } else {
        println!("  personal data      encrypted on the feed under the KEKs of LINTAS_KEK_SECRETS");
    }
    println!("  schema registry    {registry_url}");
    if let Some(generated) = &generated_registry {
        // Generated by this run, so printed; a credential from the environment never is.
        println!(
            "  registry read      {}   (basic.auth.user.info for readers and integrators)",
            generated.read.expose()
        );
        println!(
            "  registry admin     {}   (deletes and configuration)",
            generated.admin.expose()
        );
    }
    println!("  intakes            POST {base}/v1/...  (every endpoint: {base}/openapi.json)");
    println!("  immigration view   GET  {base}/v1/agencies/imigrasi/subjects/{{subject_key}}  (?include=identity&purpose=… with a personal_data token naming its officer)");
    println!("  Disnaker tasks     GET  {base}/v1/agencies/disnaker/follow-up-tasks");
    println!("  police network     GET  {base}/v1/agencies/polri/recruiters/{{recruiter_key}}");
    println!("  prosecutor cases   GET  {base}/v1/agencies/kejaksaan/cases");
    println!("  village notices    GET  {base}/v1/agencies/desa/villages/{{village}}/notices");
    println!("  alerts             GET  {base}/v1/agencies/{{imigrasi|disnaker|polri|kejaksaan}}/alerts  (POST …/{{id}}/acknowledge|escalate|close)");
    println!(
        "  operators          {base}/ops  (live dashboard: sign in with the operator token below)"
    );
    println!("  health, metrics    {base}/livez  {base}/readyz  {base}/metrics");
    if let Some(oidc) = tokens.oidc() {
        println!(
            "  agency sign-in     OIDC tokens of {} (audience {}) beside the tokens below",
            oidc.settings().issuer,
            oidc.settings().audience
        );
    }
    for (agency, office, token) in &generated {
        println!("  token {agency:<10} {token}   ({office})");
    }
    println!(
        "  token {:<10} {operator_token}   (OPERATIONS: the dashboard at {base}/ops and its API)",
        "operator"
    );
    println!("A synthetic feed for this run (another terminal):");
    // Only tokens this run generated are printed: a spec from the environment stays there.
    if generated.is_empty() {
        println!(
            "  cargo run -p lintas -- simulate --intake-url {base} --rate 2 --tokens \"$LINTAS_TOKENS\""
        );
    } else {
        println!(
            "  cargo run -p lintas -- simulate --intake-url {base} --rate 2 --tokens '{token_spec}'"
        );
    }
    println!("Stop with Ctrl-C.");

    let stopped = tasks.join().await;
    if let Some(mock) = mock {
        // The embedded broker must outlive every client, or each client still open when it
        // goes logs librdkafka's AllBrokersDown as it closes. Some end just after the tasks:
        // each subscriber's watermark probe thread (it notices the shutdown within a second
        // and is not waited for), a request's router clone (the producer) in a connection
        // task. The process is ending and the cluster is ephemeral: it ends with the process.
        std::mem::forget(mock);
    }
    stopped
}
