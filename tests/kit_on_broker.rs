//! The kit's test harness runs the same handler in memory and through the real runtime on a
//! real broker: the village subscriber's notices are the same either way.

mod harness;

use std::time::Duration;

use harness::*;
use lintas_kit::events::*;
use lintas_kit::store::Store;
use lintas_kit::testing::examples::{example, Example};
use lintas_kit::testing::{run_on_broker, Harness};

/// A resident of Kesugihan registered and blocked, and a recruiter the police reported, seen
/// in Adipala by the village office.
fn events(keyer: &SubjectKeyer) -> Vec<AnyEvent> {
    let block = DepartureBlocked {
        decision: BlockDecision::Refused,
        reason: BlockReason::SuspectedTraffickingVictim,
        ..example()
    }
    .about(&keyer.subject_key("3301014501900001"));
    let mut registration = applicant(keyer, "3301014501900001");
    registration.village = "Kesugihan".into();
    let recruiter = |agency: Agency, village: Option<&str>| {
        RecruiterReported {
            recruiter_key: "rk-cilacap-0001".into(),
            village: village.map(String::from),
            village_code: village.map(|_| "33.01.03.2001".parse().expect("a village code")),
            linked_subject_keys: vec![],
            ..example()
        }
        .by(agency, "OFFICE")
    };
    vec![
        block.into_any(),
        registration.into_any(),
        recruiter(Agency::Desa, Some("Adipala")).into_any(),
        recruiter(Agency::Polri, None).into_any(),
    ]
}

async fn notices(store: &Store) -> Vec<(String, String, String)> {
    let mut rows: Vec<(String, String, String)> =
        sqlx::query_as("SELECT notice_id, rule, village FROM notices")
            .fetch_all(store.pool())
            .await
            .unwrap();
    rows.sort();
    rows
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn same_handler_in_memory_and_on_a_real_broker() {
    let keyer = SubjectKeyer::new(SECRET.as_bytes()).unwrap();
    let events = events(&keyer);

    let mut memory = Harness::new(
        lintas_desa::DesaHandler::default(),
        lintas_desa::migrations(),
    )
    .await
    .unwrap();
    memory.apply_each(events.clone()).await.unwrap();
    let expected = notices(memory.store()).await;
    assert_eq!(expected.len(), 2, "{expected:?}");

    let broker = Broker::start(2).await;
    let database = fresh_database().await;
    let registry = start_registry(&database, &broker.dir).await;
    let store = Store::connect(&database, "desa").await.unwrap();
    store.migrate(lintas_desa::migrations()).await.unwrap();
    let run = run_on_broker(
        lintas_desa::DesaHandler::default(),
        store.clone(),
        &broker.brokers,
        registry_client(&registry.url, REGISTRY_WRITE),
        lintas_desa::TOPICS,
        events,
        Duration::from_secs(90),
    )
    .await
    .unwrap();
    assert_eq!((run.applied, run.dead_letters), (4, 0));
    assert_eq!(
        notices(&store).await,
        expected,
        "the real runtime and the in-memory harness disagree"
    );
}
