//! Personal data as UU 27/2022 asks, on tansu and PostgreSQL: erased on request and for good,
//! every read in an audit chain that a rebuild keeps and an altered entry breaks, each
//! service's schema readable by its own database role only, old keys destroyed at the end of
//! retention, and identities asserted only by the channels entitled to assert them.

mod harness;

use std::time::{Duration, Instant};

use harness::*;
use serde_json::{json, Value};

const NIK: &str = "3301014501900001";
const NAME: &str = "Siti Aminah";
const FALSE_NAME: &str = "Nama Palsu";

/// A registry, an intake and the immigration subscriber on a fresh broker and database.
struct Imigrasi {
    broker: Broker,
    database: String,
    registry: Registry,
    intake: Service,
    imigrasi: Service,
    client: Client,
}

async fn stack() -> Imigrasi {
    let Stack {
        broker,
        database,
        registry,
        intake,
    } = Stack::start(2).await;
    let imigrasi = spawn_imigrasi(&broker.brokers, &registry.url, &database, &broker.dir, &[]);
    Imigrasi {
        broker,
        database,
        registry,
        intake,
        imigrasi,
        client: Client::new(),
    }
}

impl Imigrasi {
    /// Registers the applicant through `source` with `token`; returns the subject key.
    async fn register(&self, token: &str, source: &str, name: &str) -> String {
        let (status, body) = self
            .client
            .post(
                &format!("{}/v1/applicants", self.intake.url),
                token,
                registration(source, NIK, name),
            )
            .await;
        assert_eq!(status, 202, "{body}");
        body["subject_key"].as_str().unwrap().to_string()
    }

    fn subject_url(&self, subject: &str) -> String {
        format!(
            "{}/v1/agencies/imigrasi/subjects/{subject}",
            self.imigrasi.url
        )
    }

    /// The identity part of the subject's view, read with the personal-data role.
    async fn identity(&self, subject: &str) -> Value {
        let url = format!(
            "{}?include=identity&purpose=secondary%20interview",
            self.subject_url(subject)
        );
        let (status, body) = self.client.get(&url, IMIGRASI_PERSONAL_TOKEN).await;
        assert_eq!(status, 200, "{body}");
        body
    }

    /// Waits until `check` holds for the subject's view (with the identity).
    async fn wait_identity(
        &self,
        subject: &str,
        what: &str,
        check: impl Fn(&Value) -> bool,
    ) -> Value {
        let deadline = Instant::now() + Duration::from_secs(90);
        loop {
            let (status, _) = self
                .client
                .get(&self.subject_url(subject), IMIGRASI_TOKEN)
                .await;
            if status == 200 {
                let body = self.identity(subject).await;
                if check(&body) {
                    return body;
                }
                assert!(Instant::now() < deadline, "{what}: {body}");
            }
            assert!(
                Instant::now() < deadline,
                "{what}: the subject never appeared"
            );
            tokio::time::sleep(Duration::from_millis(300)).await;
        }
    }

    async fn audit_log(&self) -> Vec<Value> {
        let url = format!(
            "{}/v1/agencies/imigrasi/audit/personal-data-reads",
            self.imigrasi.url
        );
        let (status, body) = self.client.get(&url, IMIGRASI_TOKEN).await;
        assert_eq!(status, 200, "{body}");
        body["reads"].as_array().cloned().unwrap_or_default()
    }

    async fn verify(&self) -> Value {
        let url = format!(
            "{}/v1/agencies/imigrasi/audit/personal-data-reads/verify",
            self.imigrasi.url
        );
        self.client.get(&url, IMIGRASI_TOKEN).await.1
    }

    /// Drops the immigration subscriber's schema and replays everything into a new process.
    async fn rebuild_imigrasi(&mut self) {
        self.imigrasi.proc.terminate();
        drop_schema(&self.database, "imigrasi").await;
        self.imigrasi = spawn_imigrasi(
            &self.broker.brokers,
            &self.registry.url,
            &self.database,
            &self.broker.dir,
            &[],
        );
    }
}

/// Every row of every table of the database's Lintas schemas, as JSON text.
async fn every_row(database: &str) -> Vec<String> {
    use sqlx::Row;
    let pool = pg(database).await;
    let tables = sqlx::query(
        "SELECT table_schema::text, table_name::text FROM information_schema.tables \
         WHERE table_schema NOT IN ('pg_catalog', 'information_schema') AND table_type = 'BASE TABLE'",
    )
    .fetch_all(&pool)
    .await
    .unwrap();
    let mut rows = Vec::new();
    for t in tables {
        let (schema, table): (String, String) = (t.get(0), t.get(1));
        let found = sqlx::query(&format!(
            "SELECT row_to_json(t)::text FROM \"{schema}\".\"{table}\" t"
        ))
        .fetch_all(&pool)
        .await
        .unwrap();
        rows.extend(
            found
                .iter()
                .map(|r| format!("{schema}.{table}: {}", r.get::<String, _>(0))),
        );
    }
    pool.close().await;
    rows
}

fn assert_no_trace(rows: &[String], what: &str) {
    for needle in [NIK, NAME, FALSE_NAME] {
        let hits: Vec<&String> = rows.iter().filter(|r| r.contains(needle)).collect();
        assert!(hits.is_empty(), "{what}: `{needle}` is still in {hits:?}");
    }
}

/// An erasure by the controlling agency removes the person's name and NIK (verified identity
/// and unverified claims alike) from every table of the deployment, is recorded with its legal
/// basis and without the data, and a rebuild from the topics does not bring the data back.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_erased_identity_is_gone_from_every_view_and_stays_gone_after_a_rebuild() {
    let mut s = stack().await;
    let subject = s
        .register(IMIGRASI_TOKEN, "passport_application", NAME)
        .await;
    s.register(DESA_KESUGIHAN_TOKEN, "village_report", FALSE_NAME)
        .await;
    s.wait_identity(&subject, "identity and claim", |b| {
        b["identity"]["full_name"] == NAME
            && b["unverified_claims"]
                .as_array()
                .is_some_and(|c| c.len() == 1)
    })
    .await;
    assert!(
        every_row(&s.database).await.iter().any(|r| r.contains(NIK)),
        "the view held it"
    );

    let erasures = format!("{}/v1/agencies/imigrasi/erasures", s.imigrasi.url);
    // The officer is the one signed in (the personal-data token names officer im-7).
    let request = json!({"person_key": subject, "reason": "data_subject_request",
        "legal_basis": "UU 27/2022 Pasal 8"});
    let (status, _) = s
        .client
        .post(&erasures, IMIGRASI_TOKEN, request.clone())
        .await;
    assert_eq!(status, 403, "erasing needs the personal_data role");
    let (status, _) = s
        .client
        .post(&erasures, POLRI_PERSONAL_TOKEN, request.clone())
        .await;
    assert_eq!(status, 403, "only the controlling agency erases");
    let (status, bad) = s
        .client
        .post(
            &erasures,
            IMIGRASI_PERSONAL_TOKEN,
            json!({"person_key": subject, "reason": "whim", "officer_id": "dpo-1"}),
        )
        .await;
    assert_eq!(status, 422, "{bad}");
    let mut as_another = request.clone();
    as_another["officer_id"] = json!("dpo-1");
    let (status, refused) = s
        .client
        .post(&erasures, IMIGRASI_PERSONAL_TOKEN, as_another)
        .await;
    assert_eq!(
        status, 403,
        "another officer than the signed-in one: {refused}"
    );
    let (status, erased) = s
        .client
        .post(&erasures, IMIGRASI_PERSONAL_TOKEN, request)
        .await;
    assert_eq!(status, 200, "{erased}");
    assert_eq!(
        erased["fields"],
        json!(["nik", "full_name", "birth_date", "village", "sub_district"])
    );

    let body = s.identity(&subject).await;
    assert!(
        body["identity"].is_null() && body["unverified_claims"] == json!([]),
        "{body}"
    );
    assert!(
        !body["events"].as_array().unwrap().is_empty(),
        "the pseudonymous history stays"
    );
    assert_no_trace(&every_row(&s.database).await, "after the erasure");
    let (_, list) = s.client.get(&erasures, IMIGRASI_TOKEN).await;
    assert_eq!(list["erasures"][0]["legal_basis"], "UU 27/2022 Pasal 8");
    assert_eq!(list["erasures"][0]["officer_id"], "im-7");

    // A graceful stop relays what the API wrote to the privacy topic before the schema goes.
    s.rebuild_imigrasi().await;
    let erasures = format!("{}/v1/agencies/imigrasi/erasures", s.imigrasi.url);
    let deadline = Instant::now() + Duration::from_secs(90);
    loop {
        let (status, list) = s.client.get(&erasures, IMIGRASI_TOKEN).await;
        let (_, history) = s.client.get(&s.subject_url(&subject), IMIGRASI_TOKEN).await;
        let replayed = history["events"].as_array().is_some_and(|e| e.len() == 2);
        if status == 200 && list["erasures"].as_array().is_some_and(|e| e.len() == 1) && replayed {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the rebuild did not catch up: {list}, history {history}; privacy topic {} records, dead letters {}",
            records_in(&s.broker.brokers, "lintas.privacy.v1"),
            records_in(&s.broker.brokers, "lintas.imigrasi.dlq")
        );
        tokio::time::sleep(Duration::from_millis(300)).await;
    }
    let body = s.identity(&subject).await;
    assert!(
        body["identity"].is_null() && body["unverified_claims"] == json!([]),
        "{body}"
    );
    assert_no_trace(&every_row(&s.database).await, "after the rebuild");
}

/// Every personal-data read is an entry of a hash chain, published on the privacy topic: the
/// chain verifies, a rebuild restores it from the topic, and an altered entry or a removed
/// one is reported by the API and by `lintas audit verify` (which compares with the topic).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_audit_chain_survives_a_rebuild_and_exposes_tampering() {
    let mut s = stack().await;
    let subject = s
        .register(IMIGRASI_TOKEN, "passport_application", NAME)
        .await;
    s.wait_identity(&subject, "identity", |b| b["identity"]["nik"] == NIK)
        .await;
    s.identity(&subject).await;
    let reads = s.audit_log().await;
    assert!(reads.len() >= 2, "{reads:?}");
    let verified = s.verify().await;
    assert_eq!(verified["valid"], true, "{verified}");
    let entries = verified["entries"].as_i64().unwrap();
    assert_eq!(entries as usize, reads.len());

    let pool = pg(&s.database).await;
    wait_records(&s.broker.brokers, "lintas.privacy.v1", entries).await;
    s.rebuild_imigrasi().await;
    let deadline = Instant::now() + Duration::from_secs(90);
    while s.verify().await["entries"] != json!(entries) {
        assert!(
            Instant::now() < deadline,
            "the audit was not restored: {}",
            s.verify().await
        );
        tokio::time::sleep(Duration::from_millis(300)).await;
    }
    assert_eq!(s.verify().await["valid"], true);
    assert!(audit_verify(&s, true).0, "database and topic agree");

    // Someone with the agency's database credentials removes the last read and rewinds the
    // head to match: the database alone looks whole, the topic's copy does not.
    let last = format!(
        "SELECT sequence FROM imigrasi.lintas_personal_data_reads WHERE sequence = {entries}"
    );
    let _: i64 = sqlx::query_scalar(&last).fetch_one(&pool).await.unwrap();
    sqlx::query(&format!(
        "DELETE FROM imigrasi.lintas_personal_data_reads WHERE sequence = {entries}"
    ))
    .execute(&pool)
    .await
    .unwrap();
    sqlx::query(&format!(
        "UPDATE imigrasi.lintas_audit_chain SET sequence = {0}, head_hash = \
         (SELECT entry_hash FROM imigrasi.lintas_personal_data_reads WHERE sequence = {0})",
        entries - 1
    ))
    .execute(&pool)
    .await
    .unwrap();
    assert_eq!(
        s.verify().await["valid"],
        true,
        "the database alone cannot tell"
    );
    let (valid, output) = audit_verify(&s, true);
    assert!(
        !valid && output.contains("missing from the database"),
        "{output}"
    );

    // An altered purpose breaks the chain.
    sqlx::query(
        "UPDATE imigrasi.lintas_personal_data_reads SET purpose = 'routine' WHERE sequence = 1",
    )
    .execute(&pool)
    .await
    .unwrap();
    let verified = s.verify().await;
    assert_eq!(verified["valid"], false);
    assert_eq!(verified["problem"], "entry 1 was altered");
    let (valid, output) = audit_verify(&s, false);
    assert!(!valid && output.contains("entry 1 was altered"), "{output}");
}

/// Waits until `topic` holds `at_least` records, counted by reading them (tansu's high
/// watermark can lag its log).
async fn wait_records(brokers: &str, topic: &str, at_least: i64) {
    let deadline = Instant::now() + Duration::from_secs(30);
    while (read_all(brokers, topic, at_least as usize, Duration::from_secs(5)).len() as i64)
        < at_least
    {
        assert!(
            Instant::now() < deadline,
            "{topic} never held {at_least} records"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// `lintas audit verify` for the immigration chain; (exit success, stdout and stderr).
fn audit_verify(s: &Imigrasi, with_topic: bool) -> (bool, String) {
    let mut args = vec![
        "audit",
        "verify",
        "--agency",
        "imigrasi",
        "--database-url",
        &s.database,
    ];
    if with_topic {
        args.extend([
            "--brokers",
            &s.broker.brokers,
            "--schema-registry-url",
            &s.registry.url,
        ]);
    }
    let out = lintas(&args).output().unwrap();
    (
        out.status.success(),
        format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        ),
    )
}

/// A village report is a claim: it never becomes the identity immigration officers read,
/// does not replace the verified one, and a village office cannot pretend to be a passport
/// application.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_village_report_never_stands_in_for_a_verified_identity() {
    let s = stack().await;
    let (status, refused) = s
        .client
        .post(
            &format!("{}/v1/applicants", s.intake.url),
            DESA_KESUGIHAN_TOKEN,
            registration("passport_application", NIK, FALSE_NAME),
        )
        .await;
    assert_eq!(status, 422, "{refused}");
    assert_eq!(refused["fields"][0]["field"], "source");

    let subject = s
        .register(DESA_KESUGIHAN_TOKEN, "village_report", FALSE_NAME)
        .await;
    let body = s
        .wait_identity(&subject, "the claim", |b| {
            b["unverified_claims"]
                .as_array()
                .is_some_and(|c| !c.is_empty())
        })
        .await;
    assert!(
        body["identity"].is_null(),
        "a claim is not the identity: {body}"
    );
    assert_eq!(body["unverified_claims"][0]["full_name"], FALSE_NAME);
    assert_eq!(body["unverified_claims"][0]["verified"], false);

    s.register(IMIGRASI_TOKEN, "passport_application", NAME)
        .await;
    s.wait_identity(&subject, "the verified identity", |b| {
        b["identity"]["full_name"] == NAME
    })
    .await;
    s.register(DESA_KESUGIHAN_TOKEN, "village_report", "Orang Lain")
        .await;
    let body = s
        .wait_identity(&subject, "the second claim", |b| {
            b["unverified_claims"]
                .as_array()
                .is_some_and(|c| c.len() == 2)
        })
        .await;
    assert_eq!(body["identity"]["full_name"], NAME, "{body}");
    assert_eq!(body["identity"]["verified"], true);
}

/// Each service connects with its own PostgreSQL role (deploy/postgres/init-roles.sh), owner
/// of its schema only: the services work, and one service's credentials can neither read nor
/// delete another's rows, the immigration identities and audit log included.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_service_role_cannot_read_another_agencys_schema() {
    let broker = Broker::start(1).await;
    let database = fresh_database().await;
    let role_url = create_service_roles(&database);
    let registry = start_registry(&role_url("registry"), &broker.dir).await;
    let intake = start_intake(
        &broker.brokers,
        &registry.url,
        &role_url("intake"),
        &broker.dir,
    )
    .await;
    let imigrasi = spawn_imigrasi(
        &broker.brokers,
        &registry.url,
        &role_url("imigrasi"),
        &broker.dir,
        &[],
    );
    let _disnaker = spawn_subscriber(
        "disnaker",
        &broker.brokers,
        &registry.url,
        &role_url("disnaker"),
        &broker.dir,
        &[],
    );
    let client = Client::new();
    let accepted = client
        .publish(
            &format!("{}/v1/applicants", intake.url),
            IMIGRASI_TOKEN,
            registration("passport_application", NIK, NAME),
        )
        .await;
    let subject = accepted["subject_key"].as_str().unwrap().to_string();
    let own = pg(&role_url("imigrasi")).await;
    let deadline = Instant::now() + Duration::from_secs(90);
    while sqlx::query_scalar::<_, i64>("SELECT COUNT(*) FROM imigrasi.subject_identities")
        .fetch_one(&own)
        .await
        .unwrap_or(0)
        == 0
    {
        assert!(
            Instant::now() < deadline,
            "the immigration subscriber never applied the registration"
        );
        tokio::time::sleep(Duration::from_millis(300)).await;
    }
    let url = format!("{}/v1/agencies/imigrasi/subjects/{subject}", imigrasi.url);
    let (status, body) = client.get(&url, IMIGRASI_TOKEN).await;
    assert_eq!(status, 200, "{body}");

    let disnaker = pg(&role_url("disnaker")).await;
    for sql in [
        "SELECT nik FROM imigrasi.subject_identities",
        "SELECT * FROM imigrasi.lintas_personal_data_reads",
        "DELETE FROM imigrasi.lintas_personal_data_reads",
        "SELECT * FROM intake.idempotency_keys",
        "SELECT * FROM registry.deks",
        "CREATE TABLE public.stash (x TEXT)",
    ] {
        let refused = sqlx::query(sql).execute(&disnaker).await;
        let message = refused.expect_err(sql).to_string();
        assert!(message.contains("permission denied"), "{sql}: {message}");
    }
    let is_superuser: bool =
        sqlx::query_scalar("SELECT rolsuper FROM pg_roles WHERE rolname = current_user")
            .fetch_one(&own)
            .await
            .unwrap();
    assert!(!is_superuser);
}

/// Runs deploy/postgres/init-roles.sh against `database` (trust auth here, so any password
/// works); returns the URL of each service's own role.
fn create_service_roles(database: &str) -> impl Fn(&str) -> String {
    let (base, name) = database.rsplit_once('/').unwrap();
    let name = name.to_string();
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let mut command = std::process::Command::new("bash");
    command
        .arg(root.join("deploy/postgres/init-roles.sh"))
        .env("POSTGRES_DB", &name)
        .env("PGHOST", "127.0.0.1")
        .env("PGUSER", "postgres");
    for service in [
        "registry",
        "intake",
        "imigrasi",
        "disnaker",
        "polri",
        "kejaksaan",
        "desa",
    ] {
        command.env(
            format!("LINTAS_DB_PASSWORD_{}", service.to_uppercase()),
            format!("pw-{service}"),
        );
    }
    let out = command.output().unwrap();
    assert!(
        out.status.success(),
        "init-roles.sh: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    let host = base.rsplit_once('@').map_or(base, |(_, h)| h).to_string();
    move |service: &str| format!("postgres://lintas_{service}:pw-{service}@{host}/{name}")
}

/// Destroying a data-encryption key version at the end of retention erases what it
/// encrypted: a rebuild still applies every event (the pseudonymous history is whole) but the
/// identities under the destroyed key stay sealed, and says so in its metrics, while those
/// under the current key are readable.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn destroyed_keys_leave_events_readable_and_identities_sealed() {
    let broker = Broker::start(1).await;
    let database = fresh_database().await;
    let registry = start_registry(&database, &broker.dir).await;
    let keyer = lintas_kit::events::SubjectKeyer::new(SECRET.as_bytes()).unwrap();
    let old = harness::applicant(&keyer, "3301014501900001");
    producer(&broker.brokers, &registry.url)
        .publish(&old)
        .await
        .unwrap();
    let subject = "lintas.applicants.v1-lintas.events.ApplicantRegistered";
    let rotated = lintas(&[
        "keys",
        "rotate",
        "--schema-registry-url",
        &registry.url,
        "--kek",
        "lintas-imigrasi",
        "--subject",
        subject,
    ])
    .env(
        "LINTAS_KEK_SECRETS",
        kek_secrets(&[lintas_kit::events::keks::IMMIGRATION]),
    )
    .env("LINTAS_REGISTRY_USER_INFO", REGISTRY_WRITE)
    .output()
    .unwrap();
    assert!(
        rotated.status.success(),
        "{}",
        String::from_utf8_lossy(&rotated.stderr)
    );
    let new = harness::applicant(&keyer, "3301016502910002");
    producer(&broker.brokers, &registry.url)
        .publish(&new)
        .await
        .unwrap();
    let shredded = lintas(&[
        "keys",
        "shred",
        "--schema-registry-url",
        &registry.url,
        "--retention-days",
        "0",
    ])
    .env("LINTAS_REGISTRY_USER_INFO", REGISTRY_ADMIN)
    .output()
    .unwrap();
    let printed = String::from_utf8_lossy(&shredded.stdout);
    let destroyed: Vec<Value> = printed
        .lines()
        .filter_map(|l| serde_json::from_str(l).ok())
        .collect();
    assert!(
        shredded.status.success() && destroyed.len() == 1,
        "{printed}"
    );
    assert!(
        printed.contains("\"version\":1"),
        "only the old version goes: {printed}"
    );

    let imigrasi = spawn_imigrasi(&broker.brokers, &registry.url, &database, &broker.dir, &[]);
    let pool = pg(&database).await;
    let deadline = Instant::now() + Duration::from_secs(90);
    while imigrasi_applied(&pool).await < 2 {
        assert!(Instant::now() < deadline, "both registrations apply");
        tokio::time::sleep(Duration::from_millis(300)).await;
    }
    let identities: Vec<String> = sqlx::query_scalar("SELECT nik FROM imigrasi.subject_identities")
        .fetch_all(&pool)
        .await
        .unwrap();
    assert_eq!(
        identities,
        ["3301016502910002"],
        "the old identity is sealed for good"
    );
    let metrics = reqwest::get(format!("{}/metrics", imigrasi.url))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        metrics.contains("lintas_personal_data_sealed_total{reason=\"key_destroyed\"} 1"),
        "{metrics}"
    );
    assert_eq!(
        records_in(&broker.brokers, "lintas.imigrasi.dlq"),
        0,
        "nothing dead-lettered"
    );
}

/// After the subject-key secret is rotated, events published before (v1 keys) and after (v2
/// keys, `subject_key_id = v2`) land in one history: the subscriber, holding only the rotation
/// secret, carries the old keys forward; the old key itself no longer names anyone.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_subject_key_rotation_does_not_split_a_history() {
    let broker = Broker::start(1).await;
    let database = fresh_database().await;
    let registry = start_registry(&database, &broker.dir).await;
    let keyer = lintas_kit::events::SubjectKeyer::new(SECRET.as_bytes()).unwrap();
    let before = harness::applicant(&keyer, NIK);
    producer(&broker.brokers, &registry.url)
        .publish(&before)
        .await
        .unwrap();
    let rotation = "v2:rotation-secret-0123456789abcdefghijklmnop";
    let rotate = ["--subject-key-rotations", rotation];
    let intake = start_intake_with(
        &broker.brokers,
        &registry.url,
        &database,
        &broker.dir,
        free_port(),
        &rotate,
    )
    .await;
    let client = Client::new();
    let flagged = client
        .publish(
            &format!("{}/v1/imigrasi/visa-flags", intake.url),
            IMIGRASI_TOKEN,
            umrah_flag(NIK),
        )
        .await;
    let v2 = flagged["subject_key"]
        .as_str()
        .expect("a subject key")
        .to_string();
    let v1 = before.envelope.subject_key.clone().unwrap();
    assert_ne!(v1, v2, "new events carry the new version's key");
    let imigrasi = spawn_imigrasi(
        &broker.brokers,
        &registry.url,
        &database,
        &broker.dir,
        &rotate,
    );
    let url = |key: &str| format!("{}/v1/agencies/imigrasi/subjects/{key}", imigrasi.url);
    let body = client
        .wait_for(
            &url(&v2),
            IMIGRASI_TOKEN,
            WAIT,
            "one history under the v2 key",
            |body| body["events"].as_array().is_some_and(|e| e.len() == 2),
        )
        .await;
    let types: Vec<&str> = body["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["event_type"].as_str().unwrap())
        .collect();
    assert_eq!(types, ["ApplicantRegistered", "VisaTypeFlagged"]);
    let (old, _) = client.get(&url(&v1), IMIGRASI_TOKEN).await;
    assert_eq!(old, 404);
}
