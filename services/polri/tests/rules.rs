//! PO1 and PO2 on the kit's in-memory harness: each fires on a scenario built for it, stays
//! silent on a near miss, and gives the same alerts in both arrival orders.

use lintas_kit::events::*;
use lintas_kit::testing::Harness;
use lintas_polri::PolriHandler;
use time::macros::{date, datetime};
use time::{Duration, OffsetDateTime};

fn subject(i: usize) -> String {
    format!("{i:064x}")
}

fn block(i: usize, at: OffsetDateTime) -> AnyEvent {
    let mut envelope = Envelope::new(Agency::Imigrasi, "TPI-CGK", "tpi-9", at);
    envelope.subject_key = Some(subject(i));
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
        handed_to: HandedTo::AirportPolice,
    }
    .into_any()
}

fn report(linked: Vec<String>) -> AnyEvent {
    RecruiterReported {
        envelope: Envelope::new(
            Agency::Polri,
            "POLRESTA-CILACAP",
            "pol-7",
            datetime!(2026-04-01 09:00 UTC),
        ),
        recruiter_key: "rk-cilacap-0001".into(),
        role: RecruiterRole::Recruiter,
        phone_numbers: vec!["+6281234567890".into()],
        licence_status: LicenceStatus::Unlicensed,
        village: Some("Kesugihan".into()),
        sub_district: None,
        regency: "Cilacap".into(),
        linked_subject_keys: linked,
        placement_agency_name: None,
    }
    .into_any()
}

fn registration(i: usize, born: time::Date) -> AnyEvent {
    let mut envelope = Envelope::new(
        Agency::Disnaker,
        "DISNAKER-CILACAP",
        "dn-1",
        datetime!(2026-01-10 08:00 UTC),
    );
    envelope.subject_key = Some(subject(i));
    ApplicantRegistered {
        envelope,
        source: RegistrationSource::PassportApplication,
        personal: ApplicantPersonalData {
            nik: "3301016007100003".into(),
            full_name: "Ani".into(),
        },
        sex: Sex::Female,
        birth_date: born,
        village: "Maos".into(),
        sub_district: "Maos".into(),
        regency: "Cilacap".into(),
        declared_purpose: DeclaredPurpose::Tourism,
        destination_country: "MY".into(),
        placement_agency: None,
        sponsor_name: None,
        identity_verified: true,
    }
    .into_any()
}

async fn fired(events: Vec<AnyEvent>) -> Vec<(String, String)> {
    let mut harness = Harness::new(PolriHandler::default(), lintas_polri::migrations())
        .await
        .unwrap();
    harness.apply_each(events).await.unwrap();
    let mut rows: Vec<(String, String)> =
        sqlx::query_as("SELECT rule, alert_id FROM lintas_alerts")
            .fetch_all(harness.store().pool())
            .await
            .unwrap();
    rows.sort();
    assert_eq!(
        harness.published().len(),
        rows.len(),
        "each alert published once"
    );
    rows
}

#[tokio::test]
async fn po1_five_blocked_people_of_one_recruiter_within_90_days() {
    let start = datetime!(2026-03-01 10:00 UTC);
    let blocks: Vec<AnyEvent> = (0..5)
        .map(|i| block(i, start + Duration::days(20 * i as i64)))
        .collect();
    let linked: Vec<String> = (0..5).map(subject).collect();
    let mut forward = blocks.clone();
    forward.push(report(linked.clone()));
    let mut backward = vec![report(linked.clone())];
    backward.extend(blocks.clone());
    let alerts = fired(forward).await;
    assert_eq!(
        alerts.iter().map(|(r, _)| r.as_str()).collect::<Vec<_>>(),
        ["PO1"]
    );
    assert_eq!(
        fired(backward).await,
        alerts,
        "arrival order changed the alerts"
    );

    // Near misses: four people, or five spread over more than 90 days.
    let mut four: Vec<AnyEvent> = blocks[..4].to_vec();
    four.push(report(linked.clone()));
    assert!(fired(four).await.is_empty());
    let mut spread: Vec<AnyEvent> = (0..5)
        .map(|i| block(i, start + Duration::days(25 * i as i64)))
        .collect();
    spread.push(report(linked));
    assert!(
        fired(spread).await.is_empty(),
        "100 days between the first and the fifth"
    );
}

#[tokio::test]
async fn po2_blocked_child_in_either_order() {
    let at = datetime!(2026-03-01 10:00 UTC);
    let child = registration(7, date!(2010 - 07 - 20));
    let blocked = block(7, at);
    let alerts = fired(vec![child.clone(), blocked.clone()]).await;
    assert_eq!(
        alerts.iter().map(|(r, _)| r.as_str()).collect::<Vec<_>>(),
        ["PO2"]
    );
    assert_eq!(fired(vec![blocked.clone(), child]).await, alerts);
    // Near miss: eighteen on the day of the block.
    assert!(fired(vec![registration(7, date!(2008 - 03 - 01)), blocked])
        .await
        .is_empty());
}

fn referral(case: &str, at: OffsetDateTime) -> AnyEvent {
    let mut envelope = Envelope::new(Agency::Imigrasi, "TPI-CGK", "tpi-9", at);
    envelope.case_id = Some(case.into());
    CaseReferred {
        envelope,
        from_agency: Agency::Imigrasi,
        to_agency: Agency::Polri,
        reason: ReferralReason::SuspectedTrafficking,
        subject_keys: vec![subject(1)],
        suspected_recruiter_keys: vec![],
        legal_articles: vec![],
    }
    .into_any()
}

fn investigation(case: &str, at: OffsetDateTime) -> AnyEvent {
    let mut envelope = Envelope::new(Agency::Polri, "POLRESTA-CILACAP", "pol-7", at);
    envelope.case_id = Some(case.into());
    InvestigationOpened {
        envelope,
        investigating_unit: "SATRESKRIM-PPA-PPO-POLRESTA-CILACAP".into(),
        legal_articles: vec![],
        suspect_recruiter_keys: vec![],
        subject_keys: vec![subject(1)],
    }
    .into_any()
}

#[tokio::test]
async fn po3_referral_without_an_investigation_in_14_days() {
    let referred = datetime!(2026-05-04 02:00 UTC);
    let mut harness = Harness::new(PolriHandler::default(), lintas_polri::migrations())
        .await
        .unwrap();
    harness.clock().set(referred);
    // Case A is investigated on day 10 (near miss); case B never is.
    harness
        .apply_each(vec![
            referral("CASE-A", referred),
            referral("CASE-B", referred),
            investigation("CASE-A", referred + Duration::days(10)),
        ])
        .await
        .unwrap();
    harness.clock().set(referred + Duration::days(13));
    assert_eq!(
        harness.fire_due().await.unwrap(),
        0,
        "not due before day 14"
    );
    harness.clock().set(referred + Duration::days(15));
    assert_eq!(harness.fire_due().await.unwrap(), 1);
    assert_eq!(harness.fire_due().await.unwrap(), 0, "fires once");
    let alerts: Vec<AlertRaised> = harness
        .published()
        .iter()
        .filter_map(|e| match e {
            AnyEvent::AlertRaised(a) => Some(a.clone()),
            _ => None,
        })
        .collect();
    assert_eq!(alerts.len(), 1);
    assert_eq!(alerts[0].rule, "PO3");
    assert_eq!(alerts[0].envelope.case_id.as_deref(), Some("CASE-B"));
}
