//! Test harness: real processes on this machine. A tansu broker per test (a real Kafka
//! protocol broker), a fresh PostgreSQL database per test, and the `lintas` binary itself.
#![allow(dead_code)]

use std::net::TcpListener;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use lintas_kit::codec::Codec;
use lintas_kit::producer::{EventProducer, ProducerSettings};
use lintas_kit::registry::RegistryClient;
use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::ClientConfig;

pub const SECRET: &str = "test-secret-test-secret-test-secret-0123";
pub const DISNAKER_TOKEN: &str = "disnaker-token-000000000001";
pub const IMIGRASI_TOKEN: &str = "imigrasi-token-000000000001";
pub const POLRI_TOKEN: &str = "polri-token-00000000000001";
pub const KEJAKSAAN_TOKEN: &str = "kejaksaan-token-0000000001";
pub const CHECKPOINT_TOKEN: &str = "imigrasi-tpi-cgk-token-0001";
/// The other checkpoints the simulation records checks at: a checkpoint office records
/// checks only at its own checkpoint.
pub const CHECKPOINT_YIA_TOKEN: &str = "imigrasi-tpi-yia-token-0001";
pub const CHECKPOINT_SUB_TOKEN: &str = "imigrasi-tpi-sub-token-0001";
pub const CHECKPOINT_CLP_TOKEN: &str = "imigrasi-tpi-clp-token-0001";
pub const DESA_KESUGIHAN_TOKEN: &str = "desa-kesugihan-token-00001";
/// A village token named like Kesugihan's office but without a `village=` claim.
pub const DESA_UNSCOPED_TOKEN: &str = "desa-unscoped-token-000001";
/// An immigration office token that may read personal data (names, NIK), of officer `im-7`.
pub const IMIGRASI_PERSONAL_TOKEN: &str = "imigrasi-personal-token-001";
/// A police token that may read personal data (recruiters' phone numbers), of officer `pol-9`.
pub const POLRI_PERSONAL_TOKEN: &str = "polri-personal-token-000001";

/// local-kms secrets of the contract's KEKs in the tests.
pub const KEK_IMIGRASI_SECRET: &str = "test-kek-imigrasi-0123456789abcdefghijkl";
pub const KEK_POLRI_SECRET: &str = "test-kek-polri-0123456789abcdefghijklmnop";

/// `LINTAS_KEK_SECRETS` of a service entitled to `keks`.
pub fn kek_secrets(keks: &[&str]) -> String {
    keks.iter()
        .map(|kek| match *kek {
            lintas_kit::events::keks::IMMIGRATION => format!("{kek}={KEK_IMIGRASI_SECRET}"),
            lintas_kit::events::keks::POLICE => format!("{kek}={KEK_POLRI_SECRET}"),
            other => panic!("no test secret for KEK {other}"),
        })
        .collect::<Vec<_>>()
        .join(",")
}

/// The test registry's users (`lintas registry --users-file`): one per role. Every `lintas`
/// command the harness starts gets the read credential (`LINTAS_REGISTRY_USER_INFO`), the
/// intakes the write one: subscribers and tools need no more than read.
pub const REGISTRY_READ: &str = "lintas-reader:reader-password-0001";
pub const REGISTRY_WRITE: &str = "lintas-writer:writer-password-0001";
pub const REGISTRY_ADMIN: &str = "lintas-admin:admin-password-000001";

/// The users file of the test registry, hashed as an operator would: the password on the
/// standard input of `lintas registry hash-password`, which prints its argon2id PHC string.
pub fn registry_users() -> String {
    use std::io::Write;
    [
        (REGISTRY_READ, "read"),
        (REGISTRY_WRITE, "write"),
        (REGISTRY_ADMIN, "admin"),
    ]
    .iter()
    .map(|(info, role)| {
        let (user, password) = info.split_once(':').unwrap();
        let mut child = lintas(&["registry", "hash-password"])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .unwrap();
        write!(child.stdin.take().unwrap(), "{password}").unwrap();
        let out = child.wait_with_output().unwrap();
        let hash = String::from_utf8(out.stdout).unwrap();
        assert!(
            out.status.success() && hash.starts_with("$argon2id$"),
            "hash-password: {hash}"
        );
        format!("{user}:{role}:{}\n", hash.trim())
    })
    .collect()
}

/// A registry client sending `user_info` (`user:password`).
pub fn registry_client(registry: &str, user_info: &str) -> RegistryClient {
    RegistryClient::new(registry).with_user_info(Some(&lintas_kit::secret::Secret::new(user_info)))
}

/// A codec holding `keks`, as a service entitled to them decodes and encodes (with the
/// registry's write credential, as a publisher).
pub fn codec(registry: &str, keks: &[&str]) -> Codec {
    Codec::new(registry_client(registry, REGISTRY_WRITE), "").with_protection(
        lintas_kit::encryption::ProtectionSettings {
            keyring: lintas_kit::encryption::Keyring::parse_local(&kek_secrets(keks)).unwrap(),
            ..Default::default()
        },
    )
}

/// The KEKs each of our subscribers is entitled to.
pub fn keks_of(agency: &str) -> &'static [&'static str] {
    match agency {
        "imigrasi" => &[lintas_kit::events::keks::IMMIGRATION],
        "polri" => &[lintas_kit::events::keks::POLICE],
        _ => &[],
    }
}

pub fn tokens_spec() -> String {
    [
        format!("{DISNAKER_TOKEN}=disnaker:DISNAKER-CILACAP"),
        format!("{IMIGRASI_TOKEN}=imigrasi:KANIM-CILACAP"),
        format!("{CHECKPOINT_TOKEN}=imigrasi:TPI-CGK"),
        format!("{CHECKPOINT_YIA_TOKEN}=imigrasi:TPI-YIA"),
        format!("{CHECKPOINT_SUB_TOKEN}=imigrasi:TPI-SUB"),
        format!("{CHECKPOINT_CLP_TOKEN}=imigrasi:TPI-CLP"),
        format!("{POLRI_TOKEN}=polri:POLRESTA-CILACAP"),
        format!("{KEJAKSAAN_TOKEN}=kejaksaan:KEJARI-CILACAP"),
        format!("{DESA_KESUGIHAN_TOKEN}=desa:DESA-KESUGIHAN:village=33.01.02.2001"),
        format!("{DESA_UNSCOPED_TOKEN}=desa:DESA-KESUGIHAN"),
        format!("{IMIGRASI_PERSONAL_TOKEN}=imigrasi:KANIM-CILACAP:personal_data+officer=im-7"),
        format!("{POLRI_PERSONAL_TOKEN}=polri:POLRESTA-CILACAP:personal_data+officer=pol-9"),
    ]
    .join(",")
}

pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn scratch_dir(name: &str) -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR"))
        .join(format!("{name}-{}", uuid::Uuid::new_v4().simple()));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// A child process killed (SIGKILL) when dropped; its output goes to a log file that the
/// test prints when it fails.
pub struct Proc {
    pub child: Child,
    pub log: PathBuf,
    pub name: String,
}

impl Proc {
    pub fn spawn(name: &str, mut command: Command, dir: &PathBuf) -> Proc {
        let log = dir.join(format!("{name}-{}.log", uuid::Uuid::new_v4().simple()));
        let file = std::fs::File::create(&log).unwrap();
        command
            .stdout(file.try_clone().unwrap())
            .stderr(file)
            .stdin(Stdio::null())
            .current_dir(dir);
        let child = command
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {name}: {e}"));
        Proc {
            child,
            log,
            name: name.into(),
        }
    }

    /// SIGKILL, as a crash would.
    pub fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    /// SIGTERM and wait, as an orchestrator would.
    pub fn terminate(&mut self) -> std::process::ExitStatus {
        let _ = Command::new("kill")
            .arg("-TERM")
            .arg(self.child.id().to_string())
            .status();
        self.child.wait().unwrap()
    }

    pub fn tail(&self) -> String {
        let text = std::fs::read_to_string(&self.log).unwrap_or_default();
        let lines: Vec<&str> = text.lines().collect();
        lines[lines.len().saturating_sub(40)..].join("\n")
    }
}

impl Drop for Proc {
    fn drop(&mut self) {
        self.kill();
        if std::thread::panicking() {
            eprintln!(
                "---- last lines of {} ({}) ----\n{}",
                self.name,
                self.log.display(),
                self.tail()
            );
        }
    }
}

/// The tansu binary: $LINTAS_TANSU, else `tansu` on PATH, else the CI cache. Missing tansu is
/// a failure, never a skip.
fn tansu_binary() -> PathBuf {
    if let Ok(path) = std::env::var("LINTAS_TANSU") {
        return PathBuf::from(path);
    }
    for dir in std::env::var("PATH")
        .unwrap_or_default()
        .split(':')
        .chain(["/var/cache/lintas/tools/bin"])
    {
        let candidate = PathBuf::from(dir).join("tansu");
        if candidate.is_file() {
            return candidate;
        }
    }
    panic!(
        "tansu not found: run .ci/run (it installs tansu 0.6) or set LINTAS_TANSU to the binary"
    );
}

pub struct Broker {
    pub proc: Proc,
    pub brokers: String,
    pub dir: PathBuf,
    port: u16,
    engine: String,
}

impl Broker {
    /// A tansu broker with the in-memory engine, and the feed's topics.
    pub async fn start(partitions: i32) -> Broker {
        let dir = scratch_dir("tansu");
        let port = free_port();
        let broker = Self::spawn_on(port, dir);
        let mut topics = lintas_kit::topics::event_topics("");
        topics.push(lintas_kit::topics::dead_letter_topic("", "imigrasi"));
        lintas_kit::topics::ensure_topics(&broker.brokers, &topics, partitions, 1, &[])
            .await
            .expect("topics created");
        broker
    }

    /// A tansu broker with the SQLite engine: it keeps its records across a restart.
    pub async fn start_persistent(partitions: i32) -> Broker {
        let dir = scratch_dir("tansu");
        let broker = Self::spawn_with(free_port(), dir, "sqlite://broker.db");
        let topics = lintas_kit::topics::event_topics("");
        lintas_kit::topics::ensure_topics(&broker.brokers, &topics, partitions, 1, &[])
            .await
            .expect("topics created");
        broker
    }

    /// Starts a stopped broker again on the same address (a persistent one keeps its records).
    pub fn restart(&mut self) {
        let again = Self::spawn_with(self.port, self.dir.clone(), &self.engine.clone());
        self.proc = again.proc;
    }

    fn spawn_on(port: u16, dir: PathBuf) -> Broker {
        Self::spawn_with(port, dir, "memory://tansu/")
    }

    fn spawn_with(port: u16, dir: PathBuf, engine: &str) -> Broker {
        let url = format!("tcp://127.0.0.1:{port}");
        let mut command = Command::new(tansu_binary());
        command.args([
            "broker",
            "--listener-url",
            &url,
            "--advertised-listener-url",
            &url,
            "--storage-engine",
            engine,
        ]);
        let proc = Proc::spawn("tansu", command, &dir);
        let brokers = format!("127.0.0.1:{port}");
        wait_for_broker(&brokers, Duration::from_secs(60));
        Broker {
            proc,
            brokers,
            dir,
            port,
            engine: engine.to_string(),
        }
    }

    pub fn stop(&mut self) {
        self.proc.kill();
    }
}

pub fn wait_for_broker(brokers: &str, timeout: Duration) {
    let deadline = Instant::now() + timeout;
    let consumer: BaseConsumer = ClientConfig::new()
        .set("bootstrap.servers", brokers)
        .create()
        .unwrap();
    while Instant::now() < deadline {
        if consumer
            .fetch_metadata(None, Duration::from_secs(2))
            .is_ok()
        {
            return;
        }
        std::thread::sleep(Duration::from_millis(200));
    }
    panic!("broker at {brokers} did not come up");
}

/// A fresh PostgreSQL database; $LINTAS_TEST_POSTGRES_URL points at the server (default:
/// the local trust-auth server, database `test`).
pub async fn fresh_database() -> String {
    let admin = std::env::var("LINTAS_TEST_POSTGRES_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".into());
    let name = format!("lintas_test_{}", uuid::Uuid::new_v4().simple());
    sqlx::any::install_default_drivers();
    let pool = sqlx::AnyPool::connect(&admin)
        .await
        .unwrap_or_else(|e| panic!("PostgreSQL at {admin} is needed: {e}"));
    sqlx::query(&format!("CREATE DATABASE {name}"))
        .execute(&pool)
        .await
        .unwrap();
    pool.close().await;
    let (base, _) = admin.rsplit_once('/').unwrap();
    format!("{base}/{name}")
}

pub fn lintas(args: &[&str]) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_lintas"));
    command
        .args(args)
        .env(
            "RUST_LOG",
            std::env::var("LINTAS_TEST_LOG").unwrap_or_else(|_| "info,librdkafka=warn".into()),
        )
        .env("LINTAS_REGISTRY_USER_INFO", REGISTRY_READ);
    command
}

pub struct Registry {
    pub proc: Proc,
    pub url: String,
}

pub async fn start_registry(database_url: &str, dir: &PathBuf) -> Registry {
    start_registry_on(database_url, dir, free_port()).await
}

pub async fn start_registry_on(database_url: &str, dir: &PathBuf, port: u16) -> Registry {
    let listen = format!("127.0.0.1:{port}");
    let users = dir.join(format!("registry-users-{port}"));
    std::fs::write(&users, registry_users()).unwrap();
    let proc = Proc::spawn(
        "registry",
        lintas(&[
            "registry",
            "--database-url",
            database_url,
            "--listen",
            &listen,
            "--users-file",
            users.to_str().unwrap(),
        ]),
        dir,
    );
    let url = format!("http://{listen}");
    wait_http_ok(&format!("{url}/readyz"), Duration::from_secs(60)).await;
    // The deploy step: the publishers' write credential registers the whole contract, so
    // that subscribers (read role) find the ids of what they publish.
    codec(&url, &lintas_kit::events::keks::ALL)
        .register_all()
        .await
        .expect("the contract registers");
    Registry { proc, url }
}

pub struct Service {
    pub proc: Proc,
    pub url: String,
}

pub async fn start_intake(
    brokers: &str,
    registry: &str,
    database_url: &str,
    dir: &PathBuf,
) -> Service {
    start_intake_on(brokers, registry, database_url, dir, free_port()).await
}

pub async fn start_intake_on(
    brokers: &str,
    registry: &str,
    database_url: &str,
    dir: &PathBuf,
    port: u16,
) -> Service {
    start_intake_with(brokers, registry, database_url, dir, port, &[]).await
}

/// The intakes with `extra` flags.
pub async fn start_intake_with(
    brokers: &str,
    registry: &str,
    database_url: &str,
    dir: &PathBuf,
    port: u16,
    extra: &[&str],
) -> Service {
    let listen = format!("127.0.0.1:{port}");
    let mut args = vec![
        "intake",
        "all",
        "--brokers",
        brokers,
        "--schema-registry-url",
        registry,
        "--database-url",
        database_url,
        "--listen",
        &listen,
    ];
    args.extend_from_slice(extra);
    let mut command = lintas(&args);
    command
        .env("LINTAS_REGISTRY_USER_INFO", REGISTRY_WRITE)
        .env("LINTAS_TOKENS", tokens_spec())
        .env("LINTAS_DISNAKER_REGENCY", "33.01")
        .env("LINTAS_SUBJECT_KEY_SECRET", SECRET)
        .env(
            "LINTAS_KEK_SECRETS",
            kek_secrets(&lintas_kit::events::keks::ALL),
        );
    let proc = Proc::spawn("intake", command, dir);
    let url = format!("http://{listen}");
    wait_http_ok(&format!("{url}/readyz"), Duration::from_secs(60)).await;
    Service { proc, url }
}

/// The immigration subscriber as its own process.
pub fn spawn_imigrasi(
    brokers: &str,
    registry: &str,
    database_url: &str,
    dir: &PathBuf,
    extra: &[&str],
) -> Service {
    spawn_subscriber("imigrasi", brokers, registry, database_url, dir, extra)
}

/// The village early-warning subscriber as its own process.
pub fn spawn_desa(brokers: &str, registry: &str, database_url: &str, dir: &PathBuf) -> Service {
    spawn_subscriber("desa", brokers, registry, database_url, dir, &[])
}

/// `lintas subscriber <agency>` as its own process, with a short session timeout unless
/// `extra` sets one.
pub fn spawn_subscriber(
    agency: &str,
    brokers: &str,
    registry: &str,
    database_url: &str,
    dir: &PathBuf,
    extra: &[&str],
) -> Service {
    let listen = format!("127.0.0.1:{}", free_port());
    let mut args = vec![
        "subscriber",
        agency,
        "--brokers",
        brokers,
        "--schema-registry-url",
        registry,
        "--database-url",
        database_url,
        "--listen",
        &listen,
    ];
    if !extra.contains(&"--session-timeout-ms") {
        args.extend_from_slice(&["--session-timeout-ms", "6000"]);
    }
    args.extend_from_slice(extra);
    let mut command = lintas(&args);
    command
        .env("LINTAS_TOKENS", tokens_spec())
        .env("LINTAS_DISNAKER_REGENCY", "33.01")
        .env("LINTAS_KEK_SECRETS", kek_secrets(keks_of(agency)));
    let proc = Proc::spawn(agency, command, dir);
    Service {
        proc,
        url: format!("http://{listen}"),
    }
}

pub async fn wait_http_ok(url: &str, timeout: Duration) {
    let client = reqwest::Client::new();
    let deadline = Instant::now() + timeout;
    while Instant::now() < deadline {
        if let Ok(r) = client.get(url).send().await {
            if r.status().is_success() {
                return;
            }
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    panic!("{url} did not answer 200 within {timeout:?}");
}

/// A producer from the kit, as a publisher service would use it (holding the KEKs an intake
/// holds).
pub fn producer(brokers: &str, registry: &str) -> EventProducer {
    let codec = codec(registry, &lintas_kit::events::keks::ALL);
    EventProducer::new(&ProducerSettings::new(brokers), codec).unwrap()
}

/// A producer that writes every record as its own record batch. tansu 0.6 answers a fetch
/// that starts inside a batch with the batches after it, skipping the rest of that batch (a
/// broker defect; Kafka returns the containing batch and the client skips ahead). Tests that
/// resume consumers from stored offsets publish this way so that they test Lintas, not it.
pub fn producer_one_record_per_batch(brokers: &str, registry: &str) -> EventProducer {
    let codec = codec(registry, &lintas_kit::events::keks::ALL);
    let mut settings = ProducerSettings::new(brokers);
    settings.extra = vec![
        ("batch.num.messages".into(), "1".into()),
        ("linger.ms".into(), "0".into()),
    ];
    EventProducer::new(&settings, codec).unwrap()
}

/// Records in a topic, summed over partitions (high watermarks).
pub fn records_in(brokers: &str, topic: &str) -> i64 {
    let consumer: BaseConsumer = ClientConfig::new()
        .set("bootstrap.servers", brokers)
        .create()
        .unwrap();
    let metadata = consumer
        .fetch_metadata(Some(topic), Duration::from_secs(10))
        .unwrap();
    metadata.topics()[0]
        .partitions()
        .iter()
        .map(|p| {
            consumer
                .fetch_watermarks(topic, p.id(), Duration::from_secs(10))
                .unwrap()
                .1
        })
        .sum()
}

/// Every topic on the broker but Kafka's own.
pub fn all_topics(brokers: &str) -> Vec<String> {
    let consumer: BaseConsumer = ClientConfig::new()
        .set("bootstrap.servers", brokers)
        .create()
        .unwrap();
    let metadata = consumer
        .fetch_metadata(None, Duration::from_secs(10))
        .unwrap();
    metadata
        .topics()
        .iter()
        .map(|t| t.name().to_string())
        .filter(|t| !t.starts_with("__"))
        .collect()
}

/// Every record of a topic, read with a throw-away consumer group.
pub fn read_all(
    brokers: &str,
    topic: &str,
    expected: usize,
    timeout: Duration,
) -> Vec<rdkafka::message::OwnedMessage> {
    use rdkafka::Message;
    let consumer: BaseConsumer = ClientConfig::new()
        .set("bootstrap.servers", brokers)
        .set("group.id", format!("test-reader-{}", uuid::Uuid::new_v4()))
        .set("auto.offset.reset", "earliest")
        .set("enable.auto.commit", "false")
        .create()
        .unwrap();
    consumer.subscribe(&[topic]).unwrap();
    let deadline = Instant::now() + timeout;
    let mut out = Vec::new();
    while out.len() < expected && Instant::now() < deadline {
        if let Some(Ok(m)) = consumer.poll(Duration::from_millis(200)) {
            let _ = m.topic();
            out.push(m.detach());
        }
    }
    out
}

pub async fn pg(database_url: &str) -> sqlx::AnyPool {
    sqlx::any::install_default_drivers();
    sqlx::AnyPool::connect(database_url).await.unwrap()
}

/// A valid ApplicantRegistered for `nik` (a woman born 5 January 1990 when the NIK says so).
pub fn applicant(
    keyer: &lintas_kit::events::SubjectKeyer,
    nik: &str,
) -> lintas_kit::events::ApplicantRegistered {
    use lintas_kit::events::*;
    let mut envelope = Envelope::new(
        Agency::Disnaker,
        "DISNAKER-CILACAP",
        "test",
        timefmt::millis::now(),
    );
    envelope.subject_key = Some(keyer.subject_key(nik));
    ApplicantRegistered {
        envelope,
        source: RegistrationSource::JobseekerCardAk1,
        personal: ApplicantPersonalData {
            nik: nik.into(),
            full_name: "Dewi".into(),
        },
        sex: Sex::Female,
        birth_date: time::macros::date!(1990 - 01 - 05),
        village: "Adipala".into(),
        sub_district: "Adipala".into(),
        regency: "Cilacap".into(),
        declared_purpose: DeclaredPurpose::Work,
        destination_country: "MY".into(),
        placement_agency: None,
        sponsor_name: None,
        identity_verified: true,
        village_code: Some("33.01.03.2001".parse().expect("a village code")),
    }
}

/// Tables every schema dump leaves out: the runtime's bookkeeping, not views.
pub const BOOKKEEPING: [&str; 3] = ["lintas_offsets", "lintas_outbox", "_sqlx_migrations"];

/// Every table of a PostgreSQL schema but `skip`, as sorted JSON rows: two dumps are equal
/// exactly when the tables hold the same rows.
pub async fn schema_rows(
    database: &str,
    schema: &str,
    skip: &[&str],
) -> std::collections::BTreeMap<String, Vec<String>> {
    use sqlx::Row;
    let pool = pg(database).await;
    let tables: Vec<String> = sqlx::query_scalar(
        "SELECT table_name::text FROM information_schema.tables WHERE table_schema = $1 ORDER BY 1",
    )
    .bind(schema)
    .fetch_all(&pool)
    .await
    .unwrap();
    let mut out = std::collections::BTreeMap::new();
    for table in tables.into_iter().filter(|t| !skip.contains(&t.as_str())) {
        let rows = sqlx::query(&format!(
            "SELECT row_to_json(t)::text FROM {schema}.{table} t"
        ))
        .fetch_all(&pool)
        .await
        .unwrap();
        let mut rows: Vec<String> = rows.iter().map(|r| r.get::<String, _>(0)).collect();
        rows.sort();
        out.insert(table, rows);
    }
    pool.close().await;
    out
}

/// Rows in the immigration subject history.
pub async fn imigrasi_applied(pool: &sqlx::AnyPool) -> i64 {
    sqlx::query_scalar::<_, i64>("SELECT COUNT(*) FROM imigrasi.subject_history")
        .fetch_one(pool)
        .await
        .unwrap_or(0)
}

/// The immigration view holds exactly `expected` (applicant events), each applied once, and
/// the stored offsets account for every record of the applicants topic.
pub async fn assert_imigrasi_applied_once(
    pool: &sqlx::AnyPool,
    expected: &std::collections::HashSet<String>,
) {
    use sqlx::Row;
    let rows = sqlx::query("SELECT event_id, deliveries FROM imigrasi.subject_history")
        .fetch_all(pool)
        .await
        .unwrap();
    let ids: std::collections::HashSet<String> =
        rows.iter().map(|r| r.get::<String, _>(0)).collect();
    let deliveries: i64 = rows.iter().map(|r| r.get::<i32, _>(1) as i64).sum();
    assert_eq!(rows.len(), expected.len(), "rows in the view");
    assert_eq!(
        &ids, expected,
        "the view holds exactly the published events"
    );
    assert_eq!(
        deliveries,
        expected.len() as i64,
        "no event was applied twice"
    );
    let offsets: i64 = sqlx::query_scalar(
        "SELECT CAST(SUM(next_offset) AS BIGINT) FROM imigrasi.lintas_offsets WHERE topic = 'lintas.applicants.v1'",
    )
    .fetch_one(pool)
    .await
    .unwrap();
    assert_eq!(
        offsets,
        expected.len() as i64,
        "stored offsets account for every record"
    );
}

/// A commit of `group` at offset 0 on every partition of lintas.applicants.v1, as a Rust
/// integrator's consumer leaves it when it stopped before reading anything.
pub fn commit_at_start(brokers: &str, group: &str) {
    let committer: BaseConsumer = ClientConfig::new()
        .set("bootstrap.servers", brokers)
        .set("group.id", group)
        .set("enable.auto.commit", "false")
        .create()
        .unwrap();
    let metadata = committer
        .fetch_metadata(Some("lintas.applicants.v1"), Duration::from_secs(10))
        .unwrap();
    let mut offsets = rdkafka::TopicPartitionList::new();
    for p in metadata.topics()[0].partitions() {
        offsets
            .add_partition_offset("lintas.applicants.v1", p.id(), rdkafka::Offset::Offset(0))
            .unwrap();
    }
    committer
        .commit(&offsets, rdkafka::consumer::CommitMode::Sync)
        .unwrap();
}
