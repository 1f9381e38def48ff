//! The village rules on the kit's in-memory harness: the same handler code the runtime runs,
//! no broker. Events are fed in both orders: the notices must not depend on arrival order.

use lintas_desa::{DesaHandler, RULE_BLOCKED, RULE_RECRUITER};
use lintas_kit::events::*;
use lintas_kit::testing::Harness;
use sqlx::Row;

const SUBJECT: &str = "5f1d0c9e7b2a43d8a6e1f0b3c4d5e6f7a8b9c0d1e2f3a4b5c6d7e8f9a0b1c2d3";

fn envelope(agency: Agency, subject: Option<&str>) -> Envelope {
    let mut e = Envelope::new(
        agency,
        "OFFICE",
        "off-1",
        time::macros::datetime!(2026-03-01 08:00 UTC),
    );
    e.subject_key = subject.map(String::from);
    e
}

fn registered() -> AnyEvent {
    resident(SUBJECT, "Kesugihan", Some("33.01.02.2001"))
}

/// A registration of `subject` living in the village of that name and Kemendagri code.
fn resident(subject: &str, village: &str, code: Option<&str>) -> AnyEvent {
    ApplicantRegistered {
        envelope: envelope(Agency::Disnaker, Some(subject)),
        source: RegistrationSource::JobseekerCardAk1,
        personal: ApplicantPersonalData {
            nik: "3301014501900001".into(),
            full_name: "Siti".into(),
        },
        sex: Sex::Female,
        birth_date: time::macros::date!(1990 - 01 - 05),
        village: village.into(),
        sub_district: "Kesugihan".into(),
        regency: "Cilacap".into(),
        declared_purpose: DeclaredPurpose::Umrah,
        destination_country: "SA".into(),
        placement_agency: None,
        sponsor_name: None,
        identity_verified: true,
        village_code: code.map(|c| c.parse().expect("a village code")),
    }
    .into_any()
}

fn blocked() -> AnyEvent {
    blocked_of(SUBJECT)
}

fn blocked_of(subject: &str) -> AnyEvent {
    DepartureBlocked {
        envelope: envelope(Agency::Imigrasi, Some(subject)),
        checkpoint_code: "TPI-CGK".into(),
        decision: BlockDecision::Deferred,
        carrier: "Saudia".into(),
        flight_or_vessel: "SV 817".into(),
        destination_country: "SA".into(),
        transit_points: vec![],
        visa_shown: VisaType::Umrah,
        return_ticket: true,
        reason: BlockReason::SuspectedNonProceduralWorker,
        group_id: None,
        handed_to: HandedTo::Bp3miShelter,
        traveller_sex: None,
        traveller_minor: None,
    }
    .into_any()
}

fn recruiter(agency: Agency, village: Option<&str>) -> AnyEvent {
    RecruiterReported {
        envelope: envelope(agency, None),
        recruiter_key: "rk-cilacap-0001".into(),
        role: RecruiterRole::Recruiter,
        phone_numbers: vec![],
        licence_status: LicenceStatus::Unlicensed,
        village: village.map(String::from),
        sub_district: None,
        regency: "Cilacap".into(),
        linked_subject_keys: vec![],
        placement_agency_name: None,
        village_code: village.map(|_| "33.01.02.2001".parse().expect("a village code")),
    }
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

async fn run(events: Vec<AnyEvent>) -> Harness<DesaHandler> {
    let mut harness = Harness::new(DesaHandler::default(), lintas_desa::migrations())
        .await
        .unwrap();
    harness.apply_each(events).await.unwrap();
    harness
}

#[tokio::test]
async fn blocked_resident_notifies_the_village_in_either_order_and_once() {
    let (reg, block) = (registered(), blocked());
    let forward = run(vec![reg.clone(), block.clone()]).await;
    let backward = run(vec![block.clone(), reg.clone()]).await;
    let replayed = run(vec![reg.clone(), block.clone(), block.clone(), reg.clone()]).await;
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
    let published: Vec<&AlertRaised> = replayed
        .published()
        .iter()
        .filter_map(|e| match e {
            AnyEvent::AlertRaised(a) => Some(a),
            _ => None,
        })
        .collect();
    assert_eq!(published.len(), 1);
    assert_eq!(published[0].owner, Agency::Desa);
    assert_eq!(
        published[0].evidence_event_ids,
        vec![block.envelope().event_id]
    );
}

#[tokio::test]
async fn a_flag_alone_notifies_nobody_but_shows_in_the_village_view() {
    let flag = VisaTypeFlagged {
        envelope: envelope(Agency::Imigrasi, Some(SUBJECT)),
        reason: VisaFlagReason::UmrahOrZiarahWithoutTravelOperatorLetter,
        stage: ScreeningStage::PassportInterview,
        visa_type: VisaType::Umrah,
        destination_country: "SA".into(),
    }
    .into_any();
    let harness = run(vec![flag, registered()]).await;
    assert!(notices(&harness).await.is_empty(), "a flag is not a block");
    let kinds: Vec<String> = sqlx::query_scalar(
        "SELECT e.kind FROM residents r JOIN resident_events e ON e.subject_key = r.subject_key WHERE r.village_code = '33.01.02.2001'",
    )
    .fetch_all(harness.store().pool())
    .await
    .unwrap();
    assert_eq!(kinds, vec!["flagged".to_string()]);
}

#[tokio::test]
async fn police_reported_recruiter_in_a_village_notifies_it_in_either_order() {
    let police = recruiter(Agency::Polri, None);
    let sighting = recruiter(Agency::Desa, Some("Adipala"));
    let forward = run(vec![police.clone(), sighting.clone()]).await;
    let backward = run(vec![sighting.clone(), police.clone()]).await;
    let expected = notices(&forward).await;
    assert_eq!(expected.len(), 1);
    assert_eq!(
        (expected[0].1.as_str(), expected[0].2.as_str()),
        (RULE_RECRUITER, "Adipala")
    );
    assert_eq!(notices(&backward).await, expected);
    // Near miss: the same recruiter seen by the village, never reported by the police.
    let unknown = run(vec![
        recruiter(Agency::Desa, Some("Adipala")),
        recruiter(Agency::Disnaker, Some("Maos")),
    ])
    .await;
    assert!(notices(&unknown).await.is_empty());
}

/// Two villages of one name (Jetis in Nusawungu, Jetis in Kemranjen) are two villages: each
/// office reads its own resident's notice by its code, never the other's, and a name is not
/// an address (422). A registration without a code (published before codes were in the
/// contract) is unplaced: only the regency's village office reads it, under `unplaced`.
#[tokio::test]
async fn villages_of_one_name_are_told_apart_by_their_codes() {
    use lintas_desa::router;
    use lintas_kit::auth::Tokens;
    use lintas_kit::testing::get;
    const OTHER: &str = "7a1d0c9e7b2a43d8a6e1f0b3c4d5e6f7a8b9c0d1e2f3a4b5c6d7e8f9a0b1c2d3";
    const UNPLACED: &str = "8b1d0c9e7b2a43d8a6e1f0b3c4d5e6f7a8b9c0d1e2f3a4b5c6d7e8f9a0b1c2d3";
    let harness = run(vec![
        resident(SUBJECT, "Jetis", Some("33.01.05.2004")),
        resident(OTHER, "JETIS", Some("33.02.10.2006")),
        resident(UNPLACED, "Jetis", None),
        blocked_of(SUBJECT),
        blocked_of(OTHER),
        blocked_of(UNPLACED),
    ])
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
