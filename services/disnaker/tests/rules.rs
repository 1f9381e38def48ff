//! Rules DN1-DN4 on the kit's in-memory harness: each fires on a scenario built to trigger it
//! and stays silent on a near miss; DN1 gives the same task whatever the arrival order.

use lintas_disnaker::{DisnakerHandler, DisnakerSettings};
use lintas_kit::events::*;
use lintas_kit::testing::Harness;
use time::macros::{date, datetime};

const SUBJECT: &str = "7a1d0c9e7b2a43d8a6e1f0b3c4d5e6f7a8b9c0d1e2f3a4b5c6d7e8f9a0b1c2d3";

fn registration(adjust: impl FnOnce(&mut ApplicantRegistered)) -> AnyEvent {
    let mut envelope = Envelope::new(
        Agency::Disnaker,
        "DISNAKER-CILACAP",
        "dn-1",
        datetime!(2026-03-01 08:00 UTC),
    );
    envelope.subject_key = Some(SUBJECT.into());
    let mut e = ApplicantRegistered {
        envelope,
        source: RegistrationSource::JobseekerCardAk1,
        personal: ApplicantPersonalData {
            nik: "3301014501900001".into(),
            full_name: "Siti".into(),
        },
        sex: Sex::Female,
        birth_date: date!(1990 - 01 - 05),
        village: "Kesugihan".into(),
        sub_district: "Kesugihan".into(),
        regency: "Cilacap".into(),
        declared_purpose: DeclaredPurpose::Work,
        destination_country: "MY".into(),
        placement_agency: Some(PlacementAgency {
            name: "PT Maju".into(),
            licence_number: Some("SIP3MI-001".into()),
        }),
        sponsor_name: None,
        identity_verified: true,
    };
    adjust(&mut e);
    e.into_any()
}

fn block() -> AnyEvent {
    let mut envelope = Envelope::new(
        Agency::Imigrasi,
        "TPI-CGK",
        "tpi-9",
        datetime!(2026-03-05 22:00 UTC),
    );
    envelope.subject_key = Some(SUBJECT.into());
    DepartureBlocked {
        envelope,
        checkpoint_code: "TPI-CGK".into(),
        decision: BlockDecision::Deferred,
        carrier: "AirAsia".into(),
        flight_or_vessel: "QZ 262".into(),
        destination_country: "KH".into(),
        transit_points: vec![],
        visa_shown: VisaType::Tourist,
        return_ticket: false,
        reason: BlockReason::SuspectedNonProceduralWorker,
        group_id: None,
        handed_to: HandedTo::Bp3miShelter,
    }
    .into_any()
}

async fn rules(events: Vec<AnyEvent>, settings: DisnakerSettings) -> (Vec<String>, Vec<String>) {
    let mut harness = Harness::new(DisnakerHandler { settings }, lintas_disnaker::migrations())
        .await
        .unwrap();
    harness.apply_each(events).await.unwrap();
    let mut fired: Vec<String> = sqlx::query_scalar("SELECT rule FROM lintas_alerts")
        .fetch_all(harness.store().pool())
        .await
        .unwrap();
    fired.sort();
    let tasks: Vec<String> =
        sqlx::query_scalar("SELECT task_id || ' ' || village FROM follow_up_tasks")
            .fetch_all(harness.store().pool())
            .await
            .unwrap();
    let published = harness
        .published()
        .iter()
        .filter(|e| matches!(e, AnyEvent::AlertRaised(_)))
        .count();
    assert_eq!(
        published,
        fired.len(),
        "every stored alert is published once"
    );
    (fired, tasks)
}

#[tokio::test]
async fn dn1_blocked_resident_gets_one_follow_up_task_in_either_order() {
    let (registered, blocked) = (registration(|_| {}), block());
    let (fired, tasks) = rules(
        vec![registered.clone(), blocked.clone()],
        DisnakerSettings::default(),
    )
    .await;
    assert_eq!(fired, ["DN1"]);
    assert_eq!(tasks.len(), 1);
    assert!(tasks[0].ends_with("Kesugihan"));
    // The other order, with the block redelivered: the same single task and alert.
    let (fired_back, tasks_back) = rules(
        vec![blocked.clone(), registered, blocked],
        DisnakerSettings::default(),
    )
    .await;
    assert_eq!((fired_back, tasks_back), (fired, tasks));
    // Near miss: a registration and no block.
    assert!(
        rules(vec![registration(|_| {})], DisnakerSettings::default())
            .await
            .0
            .is_empty()
    );
}

#[tokio::test]
async fn dn2_unlicensed_placement_agency() {
    let missing = registration(|e| {
        e.placement_agency = Some(PlacementAgency {
            name: "PT Tanpa Izin".into(),
            licence_number: None,
        })
    });
    assert_eq!(
        rules(vec![missing], DisnakerSettings::default()).await.0,
        ["DN2"]
    );
    let settings = DisnakerSettings {
        valid_licences: vec!["SIP3MI-001".into()],
        ..Default::default()
    };
    let unknown = registration(|e| {
        e.placement_agency = Some(PlacementAgency {
            name: "PT X".into(),
            licence_number: Some("SIP3MI-999".into()),
        })
    });
    assert_eq!(rules(vec![unknown], settings.clone()).await.0, ["DN2"]);
    // Near miss: a licence on the list.
    assert!(rules(vec![registration(|_| {})], settings)
        .await
        .0
        .is_empty());
}

#[tokio::test]
async fn dn3_work_in_a_banned_country_outside_the_legal_channel() {
    let banned = registration(|e| {
        e.destination_country = "SA".into();
        e.placement_agency = None;
    });
    assert_eq!(
        rules(vec![banned], DisnakerSettings::default()).await.0,
        ["DN3"]
    );
    // Near misses: the same trip on a pilgrimage purpose, and work in a country not banned.
    let pilgrimage = registration(|e| {
        e.destination_country = "SA".into();
        e.declared_purpose = DeclaredPurpose::Umrah;
        e.placement_agency = None;
    });
    let malaysia = registration(|e| e.placement_agency = None);
    assert!(rules(vec![pilgrimage], DisnakerSettings::default())
        .await
        .0
        .is_empty());
    assert!(rules(vec![malaysia], DisnakerSettings::default())
        .await
        .0
        .is_empty());
}

#[tokio::test]
async fn dn4_applicant_under_18() {
    let minor = registration(|e| e.birth_date = date!(2008 - 03 - 02));
    assert_eq!(
        rules(vec![minor], DisnakerSettings::default()).await.0,
        ["DN4"]
    );
    // Near miss: eighteen on the day of registration.
    let adult = registration(|e| e.birth_date = date!(2008 - 03 - 01));
    assert!(rules(vec![adult], DisnakerSettings::default())
        .await
        .0
        .is_empty());
}
