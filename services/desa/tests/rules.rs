//! The village rules on the kit's harness, each scenario on SQLite and on PostgreSQL: the same
//! handler code the runtime runs, no broker. Events are fed in both orders: the notices must
//! not depend on arrival order.

use lintas_desa::{DesaHandler, RULE_BLOCKED, RULE_RECRUITER};
use lintas_kit::events::*;
use lintas_kit::testing::examples::{example, Example, SUBJECT};
use lintas_kit::testing::{Backend, Harness};
use sqlx::Row;

lintas_kit::on_both_stores!(
    blocked_resident_notifies_the_village_in_either_order_and_once,
    a_flag_alone_notifies_nobody_but_shows_in_the_village_view,
    police_reported_recruiter_in_a_village_notifies_it_in_either_order,
    villages_of_one_name_are_told_apart_by_their_codes,
);

fn registered() -> AnyEvent {
    resident(SUBJECT, "Kesugihan", Some("33.01.02.2001"))
}

/// A registration of `subject` living in the village of that name and Kemendagri code.
fn resident(subject: &str, village: &str, code: Option<&str>) -> AnyEvent {
    ApplicantRegistered {
        village: village.into(),
        village_code: code.map(|c| c.parse().expect("a village code")),
        ..example()
    }
    .about(subject)
    .into_any()
}

fn blocked() -> AnyEvent {
    blocked_of(SUBJECT)
}

fn blocked_of(subject: &str) -> AnyEvent {
    example::<DepartureBlocked>().about(subject).into_any()
}

/// Recruiter rk-cilacap-0001 reported by `agency`, seen in `village` (of code 33.01.02.2001)
/// or nowhere in particular.
fn recruiter(agency: Agency, village: Option<&str>) -> AnyEvent {
    RecruiterReported {
        recruiter_key: "rk-cilacap-0001".into(),
        village: village.map(String::from),
        village_code: village.map(|_| "33.01.02.2001".parse().expect("a village code")),
        linked_subject_keys: vec![],
        ..example()
    }
    .by(agency, "OFFICE")
    .into_any()
}

async fn notices(harness: &Harness<DesaHandler>) -> Vec<(String, String, String)> {
    sqlx::query("SELECT notice_id, rule, village FROM notices ORDER BY notice_id")
        .fetch_all(harness.store().pool())
        .await
        .unwrap()
        .iter()
        .map(|r| (r.get(0), r.get(1), r.get(2)))
        .collect()
}

/// The village desk after `events`, one batch each.
async fn run(backend: Backend, events: Vec<AnyEvent>) -> Harness<DesaHandler> {
    let mut harness = Harness::on(backend, DesaHandler::default(), lintas_desa::migrations()).await;
    harness.apply_each(events).await.unwrap();
    harness
}

/// A resident blocked: one notice to her village, in either order, once however often the
/// events are redelivered, published as an alert owned by the village office.
async fn blocked_resident_notifies_the_village_in_either_order_and_once(backend: Backend) {
    let (reg, block) = (registered(), blocked());
    let forward = run(backend, vec![reg.clone(), block.clone()]).await;
    let backward = run(backend, vec![block.clone(), reg.clone()]).await;
    let replayed = run(
        backend,
        vec![reg.clone(), block.clone(), block.clone(), reg.clone()],
    )
    .await;
    let expected = notices(&forward).await;
    assert_eq!(expected.len(), 1);
    assert_eq!(
        (expected[0].1.as_str(), expected[0].2.as_str()),
        (RULE_BLOCKED, "Kesugihan")
    );
    assert_eq!(
        notices(&backward).await,
        expected,
        "arrival order changed the notices"
    );
    assert_eq!(
        notices(&replayed).await,
        expected,
        "a redelivery raised a second notice"
    );
    // The notice is published as AlertRaised owned by desa, once.
    let published = replayed.alerts_raised();
    assert_eq!(published.len(), 1);
    assert_eq!(published[0].owner, Agency::Desa);
    assert_eq!(
        published[0].evidence_event_ids,
        vec![block.envelope().event_id]
    );
}

/// A visa flag is not a block: no notice, but the village view shows it.
async fn a_flag_alone_notifies_nobody_but_shows_in_the_village_view(backend: Backend) {
    let flag = example::<VisaTypeFlagged>().into_any();
    let harness = run(backend, vec![flag, registered()]).await;
    assert!(notices(&harness).await.is_empty(), "a flag is not a block");
    let kinds: Vec<String> = sqlx::query_scalar(
        "SELECT e.kind FROM residents r JOIN resident_events e ON e.subject_key = r.subject_key WHERE r.village_code = '33.01.02.2001'",
    )
    .fetch_all(harness.store().pool())
    .await
    .unwrap();
    assert_eq!(kinds, vec!["flagged".to_string()]);
}

/// A recruiter the police reported, seen in a village: a notice to that village, in either
/// order; one the police never reported notifies nobody.
async fn police_reported_recruiter_in_a_village_notifies_it_in_either_order(backend: Backend) {
    let police = recruiter(Agency::Polri, None);
    let sighting = recruiter(Agency::Desa, Some("Adipala"));
    let forward = run(backend, vec![police.clone(), sighting.clone()]).await;
    let backward = run(backend, vec![sighting.clone(), police.clone()]).await;
    let expected = notices(&forward).await;
    assert_eq!(expected.len(), 1);
    assert_eq!(
        (expected[0].1.as_str(), expected[0].2.as_str()),
        (RULE_RECRUITER, "Adipala")
    );
    assert_eq!(notices(&backward).await, expected);
    // Near miss: the same recruiter seen by the village, never reported by the police.
    let unknown = run(
        backend,
        vec![
            recruiter(Agency::Desa, Some("Adipala")),
            recruiter(Agency::Disnaker, Some("Maos")),
        ],
    )
    .await;
    assert!(notices(&unknown).await.is_empty());
}

/// Two villages of one name (Jetis in Nusawungu, Jetis in Kemranjen) are two villages: each
/// office reads its own resident's notice by its code, never the other's, and a name is not
/// an address (422). A registration without a code (published before codes were in the
/// contract) is unplaced: only the regency's village office reads it, under `unplaced`.
async fn villages_of_one_name_are_told_apart_by_their_codes(backend: Backend) {
    use lintas_desa::router;
    use lintas_kit::auth::Tokens;
    use lintas_kit::testing::get;
    const OTHER: &str = "7a1d0c9e7b2a43d8a6e1f0b3c4d5e6f7a8b9c0d1e2f3a4b5c6d7e8f9a0b1c2d3";
    const UNPLACED: &str = "8b1d0c9e7b2a43d8a6e1f0b3c4d5e6f7a8b9c0d1e2f3a4b5c6d7e8f9a0b1c2d3";
    let harness = run(
        backend,
        vec![
            resident(SUBJECT, "Jetis", Some("33.01.05.2004")),
            resident(OTHER, "JETIS", Some("33.02.10.2006")),
            resident(UNPLACED, "Jetis", None),
            blocked_of(SUBJECT),
            blocked_of(OTHER),
            blocked_of(UNPLACED),
        ],
    )
    .await;
    let tokens = Tokens::parse(
        "jetis-nusawungu-token=desa:DESA-JETIS:village=33.01.05.2004,\
         dpmd-cilacap-token-01=desa:DPMD-CILACAP:all_villages",
    )
    .unwrap();
    let app = || router(harness.views(tokens.clone()));
    let subjects = |body: &serde_json::Value| -> Vec<String> {
        body["notices"]
            .as_array()
            .unwrap()
            .iter()
            .map(|n| n["subject_key"].as_str().unwrap().to_string())
            .collect()
    };
    let own = "/v1/agencies/desa/villages/33.01.05.2004/notices";
    let (status, body) = get(app(), own, Some("jetis-nusawungu-token")).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(subjects(&body), [SUBJECT], "{body}");
    assert_eq!(body["village"], "33.01.05.2004");
    let other = "/v1/agencies/desa/villages/33.02.10.2006/notices";
    let (status, _) = get(app(), other, Some("jetis-nusawungu-token")).await;
    assert_eq!(status, 403);
    let (status, body) = get(app(), other, Some("dpmd-cilacap-token-01")).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(subjects(&body), [OTHER], "{body}");
    let by_name = "/v1/agencies/desa/villages/Jetis/notices";
    let (status, body) = get(app(), by_name, Some("jetis-nusawungu-token")).await;
    assert_eq!(status, 422, "{body}");
    let unplaced = "/v1/agencies/desa/villages/unplaced/notices";
    let (status, _) = get(app(), unplaced, Some("jetis-nusawungu-token")).await;
    assert_eq!(status, 403);
    let (status, body) = get(app(), unplaced, Some("dpmd-cilacap-token-01")).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(subjects(&body), [UNPLACED], "{body}");
}
