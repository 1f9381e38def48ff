//! Arrival order: Kafka keeps order per key within a topic and nothing more, so every
//! subscriber must reach the same views and raise the same alerts whatever the interleaving of
//! its topics' streams. One scenario that triggers rules of every agency (IM1, IM2 in both
//! variants, IM3, DN1-DN4, PO1, PO2, the case timeline, the village notices) is applied, one
//! event per batch, in its natural order and in shuffled interleavings that keep each key's
//! order; every table of each subscriber is compared row for row, and so are the alerts
//! published. The same scenario then runs through the real runtime on tansu into PostgreSQL,
//! and each subscriber raises exactly the alerts it raised in memory: the same rules fire and
//! the same near misses stay silent.

mod harness;

use std::collections::{BTreeMap, BTreeSet, VecDeque};

use lintas_kit::consumer::Handler;
use lintas_kit::events::*;
use lintas_kit::store::Migrations;
use lintas_kit::testing::Harness;
use rand::{Rng, SeedableRng};
use sqlx::Row;
use time::macros::{date, datetime};
use time::{Duration, OffsetDateTime};

const T0: OffsetDateTime = datetime!(2026-03-02 02:00 UTC);

fn subject(i: usize) -> String {
    format!("{:064x}", 0xA000 + i)
}

fn env(agency: Agency, office: &str, at: OffsetDateTime, subject_i: Option<usize>) -> Envelope {
    let mut envelope = Envelope::new(agency, office, "off-1", at);
    envelope.subject_key = subject_i.map(subject);
    envelope
}

fn registered(
    i: usize,
    sex: Sex,
    born: time::Date,
    purpose: DeclaredPurpose,
    to: &str,
    agency: Option<&str>,
) -> AnyEvent {
    ApplicantRegistered {
        envelope: env(Agency::Disnaker, "DISNAKER-CILACAP", T0, Some(i)),
        source: RegistrationSource::JobseekerCardAk1,
        personal: ApplicantPersonalData {
            nik: format!("33010145019{i:05}"),
            full_name: format!("Person {i}"),
        },
        sex,
        birth_date: born,
        village: if i.is_multiple_of(2) {
            "Kesugihan".into()
        } else {
            "Maos".into()
        },
        sub_district: if i.is_multiple_of(2) {
            "Kesugihan".into()
        } else {
            "Maos".into()
        },
        regency: "Cilacap".into(),
        declared_purpose: purpose,
        destination_country: to.into(),
        placement_agency: agency.map(|name| PlacementAgency {
            name: name.into(),
            licence_number: None,
        }),
        sponsor_name: None,
        identity_verified: true,
        village_code: Some("33.01.02.2001".parse().expect("a village code")),
    }
    .into_any()
}

fn flagged(i: usize, at: OffsetDateTime) -> AnyEvent {
    VisaTypeFlagged {
        envelope: env(Agency::Imigrasi, "KANIM-CILACAP", at, Some(i)),
        reason: VisaFlagReason::CulturalAmbassador,
        stage: ScreeningStage::PassportInterview,
        visa_type: VisaType::Visit,
        destination_country: "MY".into(),
    }
    .into_any()
}

fn blocked(i: usize, at: OffsetDateTime, visa: VisaType, to: &str, transit: &[&str]) -> AnyEvent {
    DepartureBlocked {
        envelope: env(Agency::Imigrasi, "TPI-CGK", at, Some(i)),
        checkpoint_code: "TPI-CGK".into(),
        decision: BlockDecision::Deferred,
        carrier: "AirAsia".into(),
        flight_or_vessel: "QZ 262".into(),
        destination_country: to.into(),
        transit_points: transit.iter().map(|t| t.to_string()).collect(),
        visa_shown: visa,
        return_ticket: false,
        reason: BlockReason::SuspectedNonProceduralWorker,
        group_id: None,
        handed_to: HandedTo::AirportPolice,
        traveller_sex: None,
        traveller_minor: None,
    }
    .into_any()
}

fn recruiter(linked: Vec<String>) -> AnyEvent {
    RecruiterReported {
        envelope: env(
            Agency::Polri,
            "POLRESTA-CILACAP",
            T0 + Duration::days(20),
            None,
        ),
        recruiter_key: "rk-cilacap-0001".into(),
        role: RecruiterRole::Recruiter,
        phone_numbers: vec![],
        licence_status: LicenceStatus::Unlicensed,
        village: Some("Kesugihan".into()),
        sub_district: Some("Kesugihan".into()),
        regency: "Cilacap".into(),
        linked_subject_keys: linked,
        placement_agency_name: None,
        village_code: Some("33.01.02.2001".parse().expect("a village code")),
    }
    .into_any()
}

fn case(at: OffsetDateTime, event: impl FnOnce(Envelope) -> AnyEvent, agency: Agency) -> AnyEvent {
    let mut envelope = Envelope::new(agency, "POLRESTA-CILACAP", "off-2", at);
    envelope.case_id = Some("CASE-7".into());
    event(envelope)
}

/// The scenario, in event-time order.
fn scenario() -> Vec<AnyEvent> {
    let adult = date!(1995 - 05 - 05);
    let child = date!(2011 - 02 - 01);
    let mut events = vec![
        // 0: a woman declaring umrah to Saudi Arabia (IM2), later flagged twice (IM1) and
        // blocked on an umrah visa through Dubai (IM2 transit).
        registered(0, Sex::Female, adult, DeclaredPurpose::Umrah, "SA", None),
        // 1: a child (DN4, PO2 once blocked), with an unlicensed agency (DN2).
        registered(
            1,
            Sex::Female,
            child,
            DeclaredPurpose::Work,
            "MY",
            Some("PT Maju Jaya Global"),
        ),
        registered(2, Sex::Male, adult, DeclaredPurpose::Work, "SA", None),
        registered(3, Sex::Male, adult, DeclaredPurpose::Tourism, "KH", None),
        registered(4, Sex::Female, adult, DeclaredPurpose::Tourism, "MY", None),
        flagged(0, T0 + Duration::days(1)),
        flagged(0, T0 + Duration::days(40)),
        blocked(0, T0 + Duration::days(41), VisaType::Umrah, "SA", &["DXB"]),
        blocked(1, T0 + Duration::days(42), VisaType::Tourist, "MY", &[]),
        blocked(2, T0 + Duration::days(43), VisaType::Work, "SA", &[]),
        blocked(
            3,
            T0 + Duration::days(44),
            VisaType::Tourist,
            "KH",
            &["KUL"],
        ),
        blocked(4, T0 + Duration::days(45), VisaType::Visit, "MY", &[]),
        recruiter((0..5).map(subject).collect()),
    ];
    let at = T0 + Duration::days(50);
    events.push(case(
        at,
        |envelope| {
            CaseReferred {
                envelope,
                from_agency: Agency::Imigrasi,
                to_agency: Agency::Polri,
                reason: ReferralReason::SuspectedTrafficking,
                subject_keys: vec![subject(1)],
                suspected_recruiter_keys: vec!["rk-cilacap-0002".into()],
                legal_articles: vec![],
            }
            .into_any()
        },
        Agency::Imigrasi,
    ));
    events.push(case(
        at + Duration::days(2),
        |envelope| {
            InvestigationOpened {
                envelope,
                investigating_unit: "SATRESKRIM-PPA-PPO-POLRESTA-CILACAP".into(),
                legal_articles: vec![],
                suspect_recruiter_keys: vec!["rk-cilacap-0001".into()],
                subject_keys: vec![subject(1), subject(3)],
            }
            .into_any()
        },
        Agency::Polri,
    ));
    events.push(case(
        at + Duration::days(4),
        |envelope| {
            SpdpSent {
                envelope,
                spdp_number: "SPDP/7".into(),
                sent_to_office: "KEJARI-CILACAP".into(),
                investigation_opened_on: (at + Duration::days(2)).date(),
            }
            .into_any()
        },
        Agency::Polri,
    ));
    events.push(case(
        at + Duration::days(6),
        |envelope| {
            ProsecutionStageChanged {
                envelope,
                stage: ProsecutionStage::P16,
                prosecutor_id: Some("jpu-1".into()),
                due_date: None,
            }
            .into_any()
        },
        Agency::Kejaksaan,
    ));
    // Near misses: a woman declaring umrah to a country not under the ban (no IM2); flags 13
    // months apart (no IM1); an adult blocked on a work visa (no PO2, no DN4, no IM3).
    events.push(registered(
        5,
        Sex::Female,
        adult,
        DeclaredPurpose::Umrah,
        "MY",
        None,
    ));
    events.push(flagged(6, T0 - Duration::days(400)));
    events.push(flagged(6, T0 + Duration::days(1)));
    events.push(blocked(
        7,
        T0 + Duration::days(46),
        VisaType::Work,
        "MY",
        &[],
    ));
    events.push(registered(
        7,
        Sex::Male,
        adult,
        DeclaredPurpose::Work,
        "MY",
        None,
    ));
    events
}

/// A random interleaving that keeps the order of each (topic, key) stream, as Kafka does.
fn interleave(events: &[AnyEvent], seed: u64) -> Vec<AnyEvent> {
    let mut streams: BTreeMap<(String, String), VecDeque<AnyEvent>> = BTreeMap::new();
    for e in events {
        streams
            .entry((e.topic().base_name().to_string(), e.key()))
            .or_default()
            .push_back(e.clone());
    }
    let mut rng = rand::rngs::StdRng::seed_from_u64(seed);
    let mut out = Vec::new();
    while !streams.is_empty() {
        let keys: Vec<_> = streams.keys().cloned().collect();
        let pick = keys[rng.gen_range(0..keys.len())].clone();
        let stream = streams.get_mut(&pick).unwrap();
        out.push(stream.pop_front().unwrap());
        if stream.is_empty() {
            streams.remove(&pick);
        }
    }
    out
}

/// Every table but the runtime's bookkeeping, as sorted JSON rows.
async fn dump<H: Handler>(h: &Harness<H>) -> BTreeMap<String, Vec<String>> {
    let pool = h.store().pool();
    let tables: Vec<String> = sqlx::query_scalar(
        "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' \
         AND name NOT IN ('lintas_offsets', 'lintas_outbox', '_sqlx_migrations') ORDER BY name",
    )
    .fetch_all(pool)
    .await
    .unwrap();
    let mut out = BTreeMap::new();
    for table in tables {
        let columns: Vec<String> = sqlx::query(&format!("PRAGMA table_info({table})"))
            .fetch_all(pool)
            .await
            .unwrap()
            .iter()
            .map(|r| r.get::<String, _>(1))
            // When the runtime wrote a row, not what the events say.
            .filter(|c| !(table == "lintas_deadlines" && c == "updated_at_ms"))
            .collect();
        let rows = sqlx::query(&format!(
            "SELECT json_array({}) FROM {table}",
            columns.join(", ")
        ))
        .fetch_all(pool)
        .await
        .unwrap();
        let mut rows: Vec<String> = rows.iter().map(|r| r.get::<String, _>(0)).collect();
        rows.sort();
        out.insert(table, rows);
    }
    out
}

fn alerts<H: Handler>(h: &Harness<H>) -> BTreeSet<String> {
    h.published()
        .iter()
        .filter_map(|e| match e {
            AnyEvent::AlertRaised(a) => Some(format!("{} {}", a.rule, a.alert_id)),
            _ => None,
        })
        .collect()
}

async fn check<H: Handler>(
    name: &str,
    make: impl Fn() -> H,
    migrations: impl Fn() -> Migrations,
    rules: &[&str],
) {
    let events = scenario();
    let mut natural = Harness::new(make(), migrations()).await.unwrap();
    natural.apply_each(events.clone()).await.unwrap();
    let want = dump(&natural).await;
    let want_alerts = alerts(&natural);
    let fired: BTreeSet<&str> = want_alerts
        .iter()
        .map(|a| a.split(' ').next().unwrap())
        .collect();
    assert_eq!(
        fired,
        rules.iter().copied().collect(),
        "{name}: rules the scenario fires"
    );
    for seed in 1..=8 {
        let order = interleave(&events, seed);
        let mut shuffled = Harness::new(make(), migrations()).await.unwrap();
        shuffled.apply_each(order).await.unwrap();
        let got = dump(&shuffled).await;
        for (table, rows) in &want {
            assert_eq!(
                rows, &got[table],
                "{name}: table {table} differs with interleaving seed {seed}"
            );
        }
        assert_eq!(
            alerts(&shuffled),
            want_alerts,
            "{name}: alerts with seed {seed}"
        );
    }
}

#[tokio::test]
async fn imigrasi_views_do_not_depend_on_arrival_order() {
    check(
        "imigrasi",
        || lintas_imigrasi::ImigrasiHandler {
            im1: Default::default(),
        },
        lintas_imigrasi::migrations,
        &["IM1", "IM2", "IM3"],
    )
    .await;
}

#[tokio::test]
async fn disnaker_views_do_not_depend_on_arrival_order() {
    check(
        "disnaker",
        lintas_disnaker::DisnakerHandler::default,
        lintas_disnaker::migrations,
        &["DN1", "DN2", "DN3", "DN4"],
    )
    .await;
}

#[tokio::test]
async fn polri_views_do_not_depend_on_arrival_order() {
    check(
        "polri",
        lintas_polri::PolriHandler::default,
        lintas_polri::migrations,
        &["PO1", "PO2"],
    )
    .await;
}

#[tokio::test]
async fn kejaksaan_views_do_not_depend_on_arrival_order() {
    check(
        "kejaksaan",
        lintas_kejaksaan::KejaksaanHandler::default,
        lintas_kejaksaan::migrations,
        &[],
    )
    .await;
}

#[tokio::test]
async fn desa_views_do_not_depend_on_arrival_order() {
    check(
        "desa",
        lintas_desa::DesaHandler::default,
        lintas_desa::migrations,
        &["DESA-BLOCKED", "DESA-RECRUITER"],
    )
    .await;
}

/// (rule, alert id) of every alert in a subscriber's alert desk.
async fn desk(pool: &sqlx::AnyPool) -> BTreeSet<(String, String)> {
    sqlx::query("SELECT rule, alert_id FROM lintas_alerts")
        .fetch_all(pool)
        .await
        .unwrap()
        .iter()
        .map(|r| (r.get::<String, _>(0), r.get::<String, _>(1)))
        .collect()
}

async fn on_broker<H: Handler>(
    make: impl Fn() -> H,
    migrations: impl Fn() -> Migrations,
    group: &str,
    topics: &[Topic],
    urls: (&str, &str, &str),
) {
    let (brokers, registry, database) = urls;
    let events = scenario();
    let mut memory = Harness::new(make(), migrations()).await.unwrap();
    memory.apply_each(events.clone()).await.unwrap();
    let want = desk(memory.store().pool()).await;
    let store = lintas_kit::store::Store::connect(database, group)
        .await
        .unwrap();
    store.migrate(migrations()).await.unwrap();
    let run = lintas_kit::testing::run_on_broker(
        make(),
        store.clone(),
        brokers,
        harness::registry_client(registry, harness::REGISTRY_WRITE),
        topics,
        events,
        std::time::Duration::from_secs(90),
    )
    .await
    .unwrap();
    assert_eq!(run.dead_letters, 0, "{group}: nothing dead-lettered");
    assert_eq!(
        desk(store.pool()).await,
        want,
        "{group}: alerts on the broker and in memory"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn on_a_real_broker_and_postgresql_the_same_alerts_fire() {
    let broker = harness::Broker::start(2).await;
    let database = harness::fresh_database().await;
    let registry = harness::start_registry(&database, &broker.dir).await;
    let urls = (
        broker.brokers.as_str(),
        registry.url.as_str(),
        database.as_str(),
    );
    on_broker(
        || lintas_imigrasi::ImigrasiHandler {
            im1: Default::default(),
        },
        lintas_imigrasi::migrations,
        "imigrasi",
        lintas_imigrasi::TOPICS,
        urls,
    )
    .await;
    on_broker(
        lintas_disnaker::DisnakerHandler::default,
        lintas_disnaker::migrations,
        "disnaker",
        lintas_disnaker::TOPICS,
        urls,
    )
    .await;
    on_broker(
        lintas_polri::PolriHandler::default,
        lintas_polri::migrations,
        "polri",
        lintas_polri::TOPICS,
        urls,
    )
    .await;
    on_broker(
        lintas_kejaksaan::KejaksaanHandler::default,
        lintas_kejaksaan::migrations,
        "kejaksaan",
        lintas_kejaksaan::TOPICS,
        urls,
    )
    .await;
}
