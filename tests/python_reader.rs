//! Integrators outside Rust read the feed with standard Confluent clients: one event of each
//! core type, published with the kit's producer on a real broker (tansu) and registered in our
//! own schema registry, is read back by tests/python/read_feed.py, which uses confluent-kafka's
//! Schema Registry Avro deserializer and nothing Lintas-specific. Every field checked here went
//! through Confluent framing, our registry's REST answers and fastavro's logical types.
//!
//! Needs python3 with pip; the Python packages (tests/python/requirements.txt) are installed
//! when missing, and a failed install fails the test: it never skips.

mod harness;

use std::collections::HashMap;
use std::path::PathBuf;
use std::process::Stdio;
use std::time::Duration;

use harness::*;
use lintas_kit::events::*;
use rdkafka::Message;
use serde_json::{json, Value};
use time::format_description::well_known::Rfc3339;
use time::macros::{date, datetime};
use time::OffsetDateTime;

const TOPICS: [&str; 5] = [
    "lintas.applicants.v1",
    "lintas.screening.v1",
    "lintas.departures.v1",
    "lintas.cases.v1",
    "lintas.alerts.imigrasi.v1",
];

fn repo_root() -> PathBuf {
    PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../.."))
        .canonicalize()
        .expect("repository root")
}

fn python() -> String {
    std::env::var("LINTAS_PYTHON").unwrap_or_else(|_| "python3".into())
}

/// What read_feed.py imports; the schema registry part needs the `[schemaregistry]` extra.
const IMPORT_CHECK: &str = "import confluent_kafka, fastavro\n\
     from confluent_kafka.schema_registry import SchemaRegistryClient\n\
     from confluent_kafka.schema_registry.avro import AvroDeserializer";

fn importable() -> Result<(), String> {
    let out = std::process::Command::new(python())
        .args(["-c", IMPORT_CHECK])
        .output()
        .map_err(|e| format!("cannot run {}: {e}", python()))?;
    if out.status.success() {
        Ok(())
    } else {
        Err(String::from_utf8_lossy(&out.stderr).into_owned())
    }
}

/// Installs tests/python/requirements.txt when the packages are missing; a failure is a test
/// failure, never a skip.
fn ensure_python_deps() {
    if importable().is_ok() {
        return;
    }
    let root = repo_root();
    let out = std::process::Command::new(python())
        .args([
            "-m",
            "pip",
            "install",
            "-q",
            "-r",
            "tests/python/requirements.txt",
        ])
        .current_dir(&root)
        .output()
        .unwrap_or_else(|e| panic!("cannot run `{} -m pip`: {e}", python()));
    assert!(
        out.status.success(),
        "the Python reader's packages are missing and `{} -m pip install -r tests/python/requirements.txt` \
         failed in {}:\n{}\n{}",
        python(),
        root.display(),
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    if let Err(e) = importable() {
        panic!("the Python reader's packages were installed but still do not import:\n{e}");
    }
}

/// Runs a script of tests/python with `args` and returns its standard output; a failure fails
/// the test with both outputs.
async fn python_script(script: &str, args: &[&str]) -> String {
    let script = repo_root().join("tests/python").join(script);
    let child = tokio::process::Command::new(python())
        .arg(&script)
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .unwrap_or_else(|e| panic!("cannot start {}: {e}", script.display()));
    let out = tokio::time::timeout(Duration::from_secs(150), child.wait_with_output())
        .await
        .unwrap_or_else(|_| panic!("{} did not exit within 150 s", script.display()))
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        out.status.success(),
        "{} failed ({}):\n--- stdout\n{stdout}\n--- stderr\n{}",
        script.display(),
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    stdout
}

/// read_feed.py's JSON lines for `expect` records of `topics`, decrypting with `kek_secret`.
async fn read_feed(
    brokers: &str,
    registry: &str,
    topics: &str,
    expect: usize,
    kek_secret: Option<&str>,
) -> (Vec<Value>, String) {
    let expect = expect.to_string();
    // An integrator's reader holds the registry's read role, sent as Confluent's clients do
    // (the Python client's `basic.auth.user.info`; Java's also wants
    // `basic.auth.credentials.source=USER_INFO`).
    let user_info = format!("basic.auth.user.info={REGISTRY_READ}");
    let mut args = vec![
        "--brokers",
        brokers,
        "--registry",
        registry,
        "--registry-config",
        &user_info,
        "--topics",
        topics,
        "--expect",
        &expect,
        "--timeout",
        "90",
    ];
    if let Some(secret) = kek_secret {
        args.extend(["--kek-secret", secret]);
    }
    let stdout = python_script("read_feed.py", &args).await;
    let lines = stdout
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not a JSON line: {l}: {e}")))
        .collect();
    (lines, stdout)
}

fn envelope(agency: Agency, office: &str, at: OffsetDateTime) -> Envelope {
    Envelope::new(agency, office, "off-3", at)
}

fn instant(v: &Value, what: &str) -> OffsetDateTime {
    let s = v
        .as_str()
        .unwrap_or_else(|| panic!("{what} is not a string: {v}"));
    OffsetDateTime::parse(s, &Rfc3339)
        .unwrap_or_else(|e| panic!("{what} `{s}` is not an RFC 3339 instant: {e}"))
}

fn strings(v: &Value) -> Vec<String> {
    v.as_array()
        .unwrap_or_else(|| panic!("not an array: {v}"))
        .iter()
        .map(|s| s.as_str().unwrap().to_string())
        .collect()
}

/// The checks every event shares: record name, key, envelope.
fn check_common(line: &Value, record: &str, key: &str, envelope: &Envelope) {
    assert_eq!(line["record_name"], record, "{line}");
    assert_eq!(
        line["key"], key,
        "the key must be the partition key: {line}"
    );
    let e = &line["value"]["envelope"];
    assert_eq!(e["event_id"], envelope.event_id.to_string(), "{line}");
    assert_eq!(
        instant(&e["occurred_at"], "occurred_at"),
        envelope.occurred_at,
        "{line}"
    );
    assert_eq!(
        instant(&e["recorded_at"], "recorded_at"),
        envelope.recorded_at,
        "{line}"
    );
    assert_eq!(e["agency"], envelope.agency.symbol(), "{line}");
    assert_eq!(e["office"], envelope.office, "{line}");
    assert_eq!(
        e["subject_key"].as_str(),
        envelope.subject_key.as_deref(),
        "{line}"
    );
    assert_eq!(e["case_id"].as_str(), envelope.case_id.as_deref(), "{line}");
    assert_eq!(
        e["correlation_id"].as_str().map(str::to_string),
        envelope.correlation_id.map(|c| c.to_string()),
        "{line}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn python_confluent_client_reads_every_core_event() {
    ensure_python_deps();
    let broker = Broker::start(3).await;
    let database = fresh_database().await;
    let registry = start_registry(&database, &broker.dir).await;
    let producer = producer(&broker.brokers, &registry.url);

    let subject_key = SubjectKeyer::new(SECRET.as_bytes())
        .unwrap()
        .subject_key("3301014501900001");

    let mut applicant_env = envelope(
        Agency::Disnaker,
        "DISNAKER-CILACAP",
        datetime!(2026-01-05 08:15:30.123 UTC),
    );
    applicant_env.subject_key = Some(subject_key.clone());
    let applicant = ApplicantRegistered {
        envelope: applicant_env,
        source: RegistrationSource::PassportApplication,
        personal: ApplicantPersonalData {
            nik: "3301014501900001".into(),
            full_name: "Siti Aminah".into(),
        },
        sex: Sex::Female,
        birth_date: date!(1990 - 01 - 05),
        village: "Kesugihan".into(),
        sub_district: "Kesugihan".into(),
        regency: "Cilacap".into(),
        declared_purpose: DeclaredPurpose::Umrah,
        destination_country: "SA".into(),
        placement_agency: Some(PlacementAgency {
            name: "PT Maju Jaya".into(),
            licence_number: None,
        }),
        sponsor_name: None,
        identity_verified: true,
        village_code: Some("33.01.02.2001".parse().expect("a village code")),
    };

    let mut flag_env = envelope(
        Agency::Imigrasi,
        "KANIM-CILACAP",
        datetime!(2026-01-10 09:00:00.250 UTC),
    );
    flag_env.subject_key = Some(subject_key.clone());
    flag_env.correlation_id = Some(uuid::Uuid::new_v4());
    let flagged = VisaTypeFlagged {
        envelope: flag_env,
        reason: VisaFlagReason::UmrahOrZiarahWithoutTravelOperatorLetter,
        stage: ScreeningStage::PassportInterview,
        visa_type: VisaType::Umrah,
        destination_country: "SA".into(),
    };

    let mut block_env = envelope(Agency::Imigrasi, "TPI-CGK", datetime!(2026-04-10 22:30 UTC));
    block_env.subject_key = Some(subject_key.clone());
    let blocked = DepartureBlocked {
        envelope: block_env,
        checkpoint_code: "TPI-CGK".into(),
        decision: BlockDecision::Deferred,
        carrier: "Saudia".into(),
        flight_or_vessel: "SV 817".into(),
        destination_country: "SA".into(),
        transit_points: vec!["KUL".into()],
        visa_shown: VisaType::Umrah,
        return_ticket: true,
        reason: BlockReason::SuspectedNonProceduralWorker,
        group_id: None,
        handed_to: HandedTo::Bp3miShelter,
        traveller_sex: None,
        traveller_minor: None,
    };

    let mut case_env = envelope(
        Agency::Imigrasi,
        "KANIM-CILACAP",
        datetime!(2026-04-11 07:45:01.999 UTC),
    );
    case_env.case_id = Some("LINTAS-CLP-2026-0042".into());
    let referred = CaseReferred {
        envelope: case_env,
        from_agency: Agency::Imigrasi,
        to_agency: Agency::Polri,
        reason: ReferralReason::SuspectedTrafficking,
        subject_keys: vec![subject_key.clone()],
        suspected_recruiter_keys: vec![],
        legal_articles: vec!["UU 21/2007 Pasal 4".into()],
    };

    let evidence = vec![flagged.envelope.event_id, blocked.envelope.event_id];
    let mut alert_env = envelope(
        Agency::Imigrasi,
        "KANIM-CILACAP",
        datetime!(2026-04-10 22:30:05 UTC),
    );
    alert_env.subject_key = Some(subject_key.clone());
    let alert = AlertRaised {
        envelope: alert_env,
        alert_id: AlertRaised::derive_id("IM1", &evidence),
        rule: "IM1".into(),
        owner: Agency::Imigrasi,
        severity: AlertSeverity::Priority,
        evidence_event_ids: evidence.clone(),
        summary: "flagged, then blocked within 12 months".into(),
        review_by: Some(datetime!(2026-04-17 22:30 UTC)),
        summaries: [(
            "id",
            "ditandai, lalu ditunda keberangkatannya dalam 12 bulan",
        )]
        .map(|(l, t)| (l.to_owned(), t.to_owned()))
        .into(),
    };

    producer
        .publish(&applicant)
        .await
        .expect("ApplicantRegistered");
    producer.publish(&flagged).await.expect("VisaTypeFlagged");
    producer.publish(&blocked).await.expect("DepartureBlocked");
    producer.publish(&referred).await.expect("CaseReferred");
    producer.publish(&alert).await.expect("AlertRaised");

    // The Python reader, as an integrator entitled to the identities would run it.
    let (lines, stdout) = read_feed(
        &broker.brokers,
        &registry.url,
        &TOPICS.join(","),
        5,
        Some(KEK_IMIGRASI_SECRET),
    )
    .await;
    eprintln!("read_feed.py printed:\n{stdout}");
    assert_eq!(lines.len(), 5, "{stdout}");
    let by_name: HashMap<&str, &Value> = lines
        .iter()
        .map(|l| (l["record_name"].as_str().expect("record_name"), l))
        .collect();
    assert_eq!(by_name.len(), 5, "one record of each type: {stdout}");
    let line = |name: &str| -> &Value {
        by_name
            .get(name)
            .copied()
            .unwrap_or_else(|| panic!("no {name} read: {stdout}"))
    };

    // ApplicantRegistered: enums as symbols, the date logical type as a date.
    let l = line("lintas.events.ApplicantRegistered");
    assert_eq!(l["topic"], "lintas.applicants.v1");
    check_common(
        l,
        ApplicantRegistered::FULL_NAME,
        &subject_key,
        &applicant.envelope,
    );
    let v = &l["value"];
    assert_eq!(v["declared_purpose"], "umrah");
    assert_eq!(v["source"], "passport_application");
    assert_eq!(v["sex"], "female");
    assert_eq!(v["birth_date"], "1990-01-05", "date logical type: {l}");
    assert_eq!(v["destination_country"], "SA");
    assert_eq!(v["personal"]["nik"], "3301014501900001");
    assert_eq!(v["placement_agency"]["name"], "PT Maju Jaya");
    assert!(v["placement_agency"]["licence_number"].is_null());
    assert!(v["sponsor_name"].is_null());

    // VisaTypeFlagged.
    let l = line("lintas.events.VisaTypeFlagged");
    assert_eq!(l["topic"], "lintas.screening.v1");
    check_common(
        l,
        VisaTypeFlagged::FULL_NAME,
        &subject_key,
        &flagged.envelope,
    );
    let v = &l["value"];
    assert_eq!(
        v["reason"],
        "umrah_or_ziarah_without_travel_operator_letter"
    );
    assert_eq!(v["stage"], "passport_interview");
    assert_eq!(v["visa_type"], "umrah");

    // DepartureBlocked.
    let l = line("lintas.events.DepartureBlocked");
    assert_eq!(l["topic"], "lintas.departures.v1");
    check_common(
        l,
        DepartureBlocked::FULL_NAME,
        &subject_key,
        &blocked.envelope,
    );
    let v = &l["value"];
    assert_eq!(v["checkpoint_code"], "TPI-CGK");
    assert_eq!(v["decision"], "deferred");
    assert_eq!(v["reason"], "suspected_non_procedural_worker");
    assert_eq!(v["handed_to"], "bp3mi_shelter");
    assert_eq!(v["return_ticket"], true);
    assert_eq!(strings(&v["transit_points"]), vec!["KUL".to_string()]);
    assert!(v["group_id"].is_null());

    // CaseReferred: keyed by case_id.
    let l = line("lintas.events.CaseReferred");
    assert_eq!(l["topic"], "lintas.cases.v1");
    check_common(
        l,
        CaseReferred::FULL_NAME,
        "LINTAS-CLP-2026-0042",
        &referred.envelope,
    );
    let v = &l["value"];
    assert_eq!(v["envelope"]["case_id"], "LINTAS-CLP-2026-0042");
    assert_eq!(v["from_agency"], "imigrasi");
    assert_eq!(v["to_agency"], "polri");
    assert_eq!(v["reason"], "suspected_trafficking");
    assert_eq!(strings(&v["subject_keys"]), vec![subject_key.clone()]);
    assert_eq!(
        strings(&v["legal_articles"]),
        vec!["UU 21/2007 Pasal 4".to_string()]
    );

    // AlertRaised: keyed by alert_id; uuid arrays and an optional timestamp.
    let l = line("lintas.events.AlertRaised");
    assert_eq!(l["topic"], "lintas.alerts.imigrasi.v1");
    check_common(
        l,
        AlertRaised::FULL_NAME,
        &alert.alert_id.to_string(),
        &alert.envelope,
    );
    let v = &l["value"];
    assert_eq!(v["alert_id"], alert.alert_id.to_string());
    assert_eq!(v["rule"], "IM1");
    assert_eq!(v["owner"], "imigrasi");
    assert_eq!(v["severity"], "priority");
    assert_eq!(
        strings(&v["evidence_event_ids"]),
        evidence.iter().map(|e| e.to_string()).collect::<Vec<_>>()
    );
    assert_eq!(
        instant(&v["review_by"], "review_by"),
        datetime!(2026-04-17 22:30 UTC)
    );

    drop(registry);
    drop(broker);
}

/// Personal data encrypted by Lintas decrypts in Confluent's own Python deserializer with the
/// KEK it is under, and only with that one; a record encrypted by Confluent's Python
/// serializer decrypts in the kit. Not a byte of the NIK, the name or the phone number is in
/// clear on the topics.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn confluent_clients_and_lintas_read_each_others_encrypted_fields() {
    ensure_python_deps();
    let broker = Broker::start(1).await;
    let database = fresh_database().await;
    let registry = start_registry(&database, &broker.dir).await;
    let producer = producer(&broker.brokers, &registry.url);
    let keyer = SubjectKeyer::new(SECRET.as_bytes()).unwrap();
    let mut applicant = harness::applicant(&keyer, "3301014501900001");
    applicant.personal.full_name = "Siti Aminah".into();
    producer.publish(&applicant).await.unwrap();
    let mut report_env = envelope(
        Agency::Polri,
        "POLRESTA-CILACAP",
        datetime!(2026-04-11 07:45 UTC),
    );
    report_env.case_id = Some("LINTAS-CLP-2026-0042".into());
    let report = RecruiterReported {
        envelope: report_env,
        recruiter_key: "rk-cilacap-0042".into(),
        role: RecruiterRole::Recruiter,
        phone_numbers: vec!["+6281234567890".into()],
        licence_status: LicenceStatus::Unlicensed,
        village: None,
        sub_district: None,
        regency: "Cilacap".into(),
        linked_subject_keys: vec![],
        placement_agency_name: None,
        village_code: Some("33.01.02.2001".parse().expect("a village code")),
    };
    producer.publish(&report).await.unwrap();
    for topic in ["lintas.applicants.v1", "lintas.cases.v1"] {
        for record in read_all(&broker.brokers, topic, 1, Duration::from_secs(20)) {
            let raw = String::from_utf8_lossy(record.payload().unwrap()).into_owned();
            for secret in ["3301014501900001", "Siti Aminah", "6281234567890"] {
                assert!(!raw.contains(secret), "{secret} in clear on {topic}");
            }
        }
    }
    let topics = "lintas.applicants.v1,lintas.cases.v1";
    let value_of = |lines: &[Value], name: &str| -> Value {
        lines
            .iter()
            .find(|l| l["record_name"] == format!("lintas.events.{name}"))
            .unwrap_or_else(|| panic!("no {name}: {lines:?}"))["value"]
            .clone()
    };
    // The immigration KEK opens the identity, not the police's phone numbers.
    let (lines, _) = read_feed(
        &broker.brokers,
        &registry.url,
        topics,
        2,
        Some(KEK_IMIGRASI_SECRET),
    )
    .await;
    assert_eq!(
        value_of(&lines, "ApplicantRegistered")["personal"]["nik"],
        "3301014501900001"
    );
    assert_eq!(
        value_of(&lines, "ApplicantRegistered")["personal"]["full_name"],
        "Siti Aminah"
    );
    let phones = value_of(&lines, "RecruiterReported")["phone_numbers"].clone();
    assert_ne!(
        phones,
        json!(["+6281234567890"]),
        "the police KEK was not given"
    );
    // The police KEK opens the phones, not the identity.
    let (lines, _) = read_feed(
        &broker.brokers,
        &registry.url,
        topics,
        2,
        Some(KEK_POLRI_SECRET),
    )
    .await;
    assert_eq!(
        value_of(&lines, "RecruiterReported")["phone_numbers"],
        json!(["+6281234567890"])
    );
    let nik = value_of(&lines, "ApplicantRegistered")["personal"]["nik"].clone();
    assert_ne!(nik, json!("3301014501900001"));
    assert!(
        nik.as_str().unwrap().len() > 40,
        "ciphertext, base64: {nik}"
    );
    // No KEK: both stay ciphertext, the rest of each record reads.
    let (lines, _) = read_feed(&broker.brokers, &registry.url, topics, 2, None).await;
    assert_ne!(
        value_of(&lines, "ApplicantRegistered")["personal"]["nik"],
        json!("3301014501900001")
    );
    assert_eq!(
        value_of(&lines, "ApplicantRegistered")["birth_date"],
        "1990-01-05"
    );

    // The other way: Confluent's Python serializer encrypts, the kit decrypts.
    let subject = keyer.subject_key("3301016502910002");
    let published = python_script(
        "publish_applicant.py",
        &[
            "--brokers",
            &broker.brokers,
            "--registry",
            &registry.url,
            // It creates its data-encryption keys in the registry: a publisher's write role.
            "--registry-user-info",
            REGISTRY_WRITE,
            "--kek-secret",
            KEK_IMIGRASI_SECRET,
            "--subject-key",
            &subject,
            "--nik",
            "3301016502910002",
            "--full-name",
            "Dewi Lestari",
        ],
    )
    .await;
    let published: Value = serde_json::from_str(published.trim()).unwrap();
    let records = read_all(
        &broker.brokers,
        "lintas.applicants.v1",
        2,
        Duration::from_secs(20),
    );
    let record = records
        .iter()
        .find(|r| r.offset() == published["offset"].as_i64().unwrap())
        .expect("the Python-published record");
    let payload = record.payload().unwrap();
    assert!(!String::from_utf8_lossy(payload).contains("3301016502910002"));
    let entitled = harness::codec(&registry.url, &[keks::IMMIGRATION]);
    let decoded = entitled
        .decode_from("lintas.applicants.v1", payload)
        .await
        .unwrap();
    assert!(decoded.sealed.is_none());
    let AnyEvent::ApplicantRegistered(e) = decoded.event else {
        panic!("an ApplicantRegistered")
    };
    assert_eq!(
        (e.personal.nik.as_str(), e.personal.full_name.as_str()),
        ("3301016502910002", "Dewi Lestari")
    );
    let outsider = harness::codec(&registry.url, &[keks::POLICE]);
    let sealed = outsider
        .decode_from("lintas.applicants.v1", payload)
        .await
        .unwrap();
    assert!(sealed.sealed.is_some(), "the police KEK does not open it");
}

/// Confluent's Python SchemaRegistryClient against the registry's roles: without credentials a
/// registration is refused with 401, with the read credential it lists subjects but a
/// registration is refused with 403, the write credential registers but may not delete (403),
/// and the admin credential deletes; every refusal carries Confluent's error code.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn confluent_python_client_meets_the_registry_roles() {
    ensure_python_deps();
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR"))
        .join(format!("py-roles-{}", uuid::Uuid::new_v4().simple()));
    std::fs::create_dir_all(&dir).unwrap();
    let database = fresh_database().await;
    let registry = start_registry(&database, &dir).await;
    let attempt = |op: &'static str, user_info: Option<&'static str>| {
        let url = registry.url.clone();
        async move {
            let mut args = vec!["--registry", url.as_str(), "--op", op];
            if let Some(info) = user_info {
                args.extend(["--user-info", info]);
            }
            let line = python_script("registry_access.py", &args).await;
            let v: Value = serde_json::from_str(line.trim()).unwrap();
            (v["http_status"].as_i64().unwrap(), v["error_code"].as_i64())
        }
    };
    assert_eq!(attempt("register", None).await, (401, Some(40101)));
    assert_eq!(attempt("list", Some(REGISTRY_READ)).await, (200, None));
    assert_eq!(
        attempt("register", Some(REGISTRY_READ)).await,
        (403, Some(40301))
    );
    assert_eq!(attempt("register", Some(REGISTRY_WRITE)).await, (200, None));
    assert_eq!(
        attempt("delete", Some(REGISTRY_WRITE)).await,
        (403, Some(40301))
    );
    assert_eq!(attempt("delete", Some(REGISTRY_ADMIN)).await, (200, None));
}

/// What operators' tools and Confluent's Python client need of the registry beyond subjects
/// and versions (issue #14, point 5): the probes kafbat UI, AKHQ and Redpanda Console send
/// (`/`, `/schemas/types`, `/mode`, `/contexts`, `/schemas`) answer as Confluent's do, and a
/// schema using another subject's type through `references` registers, reads back with its
/// references, and carries a record through AvroSerializer and AvroDeserializer, which
/// resolves the reference from the registry.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn confluent_python_client_uses_schema_references_and_the_tools_endpoints() {
    ensure_python_deps();
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR"))
        .join(format!("py-tools-{}", uuid::Uuid::new_v4().simple()));
    std::fs::create_dir_all(&dir).unwrap();
    let database = fresh_database().await;
    let registry = start_registry(&database, &dir).await;
    let args = [
        "--registry",
        registry.url.as_str(),
        "--user-info",
        REGISTRY_WRITE,
    ];
    let line = python_script("registry_tools.py", &args).await;
    let seen: Value = serde_json::from_str(line.trim()).unwrap();
    assert_eq!(seen["/"], json!({}));
    assert_eq!(seen["/schemas/types"], json!(["AVRO"]));
    assert_eq!(seen["/mode"], json!("READWRITE"));
    assert_eq!(seen["/contexts"], json!(["."]));
    assert_eq!(
        seen["references"],
        json!([{ "name": "id.lintas.python.Address", "subject": "python-address", "version": 1 }])
    );
    assert_eq!(
        seen["listed"],
        json!([["python-address", 1], ["python-person-value", 1]])
    );
    assert_eq!(seen["referenced_by"], json!([seen["person_id"]]));
    assert_eq!(seen["subjects_of_id"], json!(["python-person-value"]));
    assert_eq!(seen["schema_id_on_the_wire"], seen["person_id"]);
    assert_eq!(
        seen["round_trip"],
        json!({ "alias": "applicant-7", "home": { "village_code": "33.01.02.2003" } })
    );
}
