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

/// A block as written before departures carried the traveller's facts: only a registration
/// tells PO2 the traveller's age.
fn block(i: usize, at: OffsetDateTime) -> AnyEvent {
    checked_block(i, at, None)
}

/// A block carrying whether the checkpoint found the traveller a child on the day (from the
/// NIK it checked).
fn checked_block(i: usize, at: OffsetDateTime, minor: Option<bool>) -> AnyEvent {
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
        traveller_sex: minor.map(|_| Sex::Female),
        traveller_minor: minor,
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
        village_code: Some("33.01.02.2001".parse().expect("a village code")),
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
        village_code: Some("33.01.02.2001".parse().expect("a village code")),
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

fn cleared(i: usize, at: OffsetDateTime) -> AnyEvent {
    let mut envelope = Envelope::new(Agency::Imigrasi, "TPI-YIA", "tpi-2", at);
    envelope.subject_key = Some(subject(i));
    DepartureCleared {
        envelope,
        checkpoint_code: "TPI-YIA".into(),
        carrier: "Garuda".into(),
        flight_or_vessel: "GA 820".into(),
        destination_country: "MY".into(),
        transit_points: vec![],
        visa_shown: VisaType::Work,
        epmi_id: None,
        group_id: None,
        traveller_sex: None,
        traveller_minor: None,
    }
    .into_any()
}

/// Finding 11 of #18: one of the five people blocked was cleared at a checkpoint a week
/// after the block, leaving legally: the recruiter is linked to four people kept from
/// leaving, under the threshold, yet PO1 counted five. Now the lifted block does not count:
/// read first, no PO1 is raised; read after the alert, the alert is withdrawn (closed
/// `false_positive`, saying why). No open PO1 in either order. A clearance before the
/// block (an earlier trip) lifts nothing.
#[tokio::test]
async fn po1_a_person_cleared_after_the_block_no_longer_counts() {
    let start = datetime!(2026-03-01 10:00 UTC);
    let blocks: Vec<AnyEvent> = (0..5)
        .map(|i| block(i, start + Duration::days(20 * i as i64)))
        .collect();
    let linked: Vec<String> = (0..5).map(subject).collect();
    let lifted = cleared(2, start + Duration::days(47));
    let mut clearance_last = blocks.clone();
    clearance_last.push(report(linked.clone()));
    clearance_last.push(lifted.clone());
    let mut clearance_first = vec![lifted];
    clearance_first.extend(blocks.clone());
    clearance_first.push(report(linked.clone()));
    for (order, events) in [("last", clearance_last), ("first", clearance_first)] {
        let mut harness = Harness::new(PolriHandler::default(), lintas_polri::migrations())
            .await
            .unwrap();
        harness.apply_each(events).await.unwrap();
        let open: Vec<String> = sqlx::query_scalar(
            "SELECT alert_id FROM lintas_alerts WHERE rule = 'PO1' AND status <> 'closed'",
        )
        .fetch_all(harness.store().pool())
        .await
        .unwrap();
        assert!(open.is_empty(), "clearance read {order}: {open:?}");
        if order == "last" {
            let closes: Vec<&AlertClosed> = harness
                .published()
                .iter()
                .filter_map(|e| match e {
                    AnyEvent::AlertClosed(c) => Some(c),
                    _ => None,
                })
                .collect();
            assert_eq!(closes.len(), 1);
            assert_eq!(closes[0].reason, AlertCloseReason::FalsePositive);
            assert!(
                closes[0]
                    .note
                    .as_deref()
                    .unwrap()
                    .contains("4 blocked people remain"),
                "{closes:?}"
            );
        }
    }
    // Near miss: cleared on an earlier trip, before the block: five still count.
    let mut earlier = vec![cleared(2, start - Duration::days(10))];
    earlier.extend(blocks);
    earlier.push(report(linked));
    let alerts = fired(earlier).await;
    assert_eq!(
        alerts.iter().map(|(r, _)| r.as_str()).collect::<Vec<_>>(),
        ["PO1"]
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

/// A report from `reporter_at` linking `linked` to one recruiter (its own event id).
fn report_at(reporter_at: OffsetDateTime, linked: Vec<String>) -> AnyEvent {
    let mut event = report(linked);
    if let AnyEvent::RecruiterReported(r) = &mut event {
        r.envelope = Envelope::new(Agency::Polri, "POLRESTA-CILACAP", "pol-7", reporter_at);
    }
    event
}

fn raised_rules(harness: &Harness<PolriHandler>) -> Vec<String> {
    harness
        .published()
        .iter()
        .filter_map(|e| match e {
            AnyEvent::AlertRaised(a) => Some(a.rule.clone()),
            _ => None,
        })
        .collect()
}

/// PO1 used to derive its alert id from the recruiter alone: once raised, a recruiter could
/// block any number of people a year later and the police desk heard nothing.
#[tokio::test]
async fn po1_a_recruiter_active_again_a_year_later_is_reported_again() {
    let harness = Harness::new(PolriHandler::default(), lintas_polri::migrations())
        .await
        .unwrap();
    active_again_a_year_later(harness).await;
}

/// The same on PostgreSQL ($LINTAS_TEST_POSTGRES_URL, default the local `test` database),
/// in a schema of its own.
#[tokio::test]
async fn po1_a_recruiter_active_again_a_year_later_is_reported_again_on_postgresql() {
    let url = std::env::var("LINTAS_TEST_POSTGRES_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".into());
    let schema = format!("polri_po1_{}", uuid::Uuid::new_v4().simple());
    let store = lintas_kit::store::Store::connect(&url, &schema)
        .await
        .unwrap_or_else(|e| panic!("PostgreSQL at {url} is needed: {e}"));
    store.migrate(lintas_polri::migrations()).await.unwrap();
    let pool = store.pool().clone();
    active_again_a_year_later(Harness::with_store(PolriHandler::default(), store)).await;
    sqlx::query(&format!("DROP SCHEMA {schema} CASCADE"))
        .execute(&pool)
        .await
        .unwrap();
}

async fn active_again_a_year_later(mut harness: Harness<PolriHandler>) {
    let start = datetime!(2025-03-01 10:00 UTC);
    let first: Vec<AnyEvent> = (0..5)
        .map(|i| block(i, start + Duration::days(20 * i as i64)))
        .collect();
    let first_report = report_at(start, (0..5).map(subject).collect());
    harness.apply_each(first.clone()).await.unwrap();
    harness.apply(vec![first_report.clone()]).await.unwrap();
    assert_eq!(raised_rules(&harness), ["PO1"]);

    // A block of a sixth person that arrives late, inside the first window (even before
    // its first block): the same crossing, no new alert.
    harness
        .apply_each(vec![
            block(5, start - Duration::days(10)),
            report_at(start + Duration::days(1), vec![subject(5)]),
        ])
        .await
        .unwrap();
    assert_eq!(
        raised_rules(&harness),
        ["PO1"],
        "a late block of the same window"
    );

    // A year later, twelve more people within a month: a new crossing, a new alert.
    let later = start + Duration::days(365);
    let second: Vec<AnyEvent> = (100..112)
        .map(|i| block(i, later + Duration::days((i - 100) as i64 * 2)))
        .collect();
    let second_report = report_at(later, (100..112).map(subject).collect());
    harness.apply_each(second.clone()).await.unwrap();
    harness.apply(vec![second_report.clone()]).await.unwrap();
    assert_eq!(raised_rules(&harness), ["PO1", "PO1"]);
    let ids: Vec<String> = sqlx::query_scalar(
        "SELECT alert_id FROM recruiter_alerts WHERE recruiter_key = 'rk-cilacap-0001'",
    )
    .fetch_all(harness.store().pool())
    .await
    .unwrap();
    assert_eq!(ids.len(), 2, "both alerts on the recruiter's page");

    // Redelivery of everything raises nothing more.
    let mut again = first;
    again.extend(second);
    again.push(first_report);
    again.push(second_report);
    harness.apply(again).await.unwrap();
    assert_eq!(raised_rules(&harness), ["PO1", "PO1"], "redelivery");
}

/// The same year-apart crossings give the same two alerts whatever the arrival order.
#[tokio::test]
async fn po1_crossings_are_the_same_in_any_arrival_order() {
    let start = datetime!(2025-03-01 10:00 UTC);
    let mut events: Vec<AnyEvent> = (0..5)
        .map(|i| block(i, start + Duration::days(20 * i as i64)))
        .chain((100..105).map(|i| block(i, start + Duration::days(400 + i as i64 - 100))))
        .collect();
    let linked: Vec<String> = (0..5).chain(100..105).map(subject).collect();
    events.push(report(linked.clone()));
    let forward = fired(events.clone()).await;
    assert_eq!(forward.len(), 2, "{forward:?}");
    events.reverse();
    assert_eq!(fired(events).await, forward);
}

/// A girl whose passport predates Lintas, or was issued by an office that does not publish,
/// blocked at the airport: no registration, but the block says the checkpoint found her a
/// child (from her NIK). The old rule waited for a registration that never comes.
#[tokio::test]
async fn po2_a_blocked_child_never_registered_is_a_priority() {
    let at = datetime!(2026-03-01 10:00 +7);
    let alerts = fired(vec![checked_block(7, at, Some(true))]).await;
    assert_eq!(
        alerts.iter().map(|(r, _)| r.as_str()).collect::<Vec<_>>(),
        ["PO2"]
    );
    // The same alert as when a registration says so too: one per block, in any order.
    let child = registration(7, date!(2010 - 07 - 20));
    let block = checked_block(7, at, Some(true));
    let both = fired(vec![block.clone(), child.clone()]).await;
    assert_eq!(both.len(), 1);
    assert_eq!(fired(vec![child, block]).await, both);
    // Near misses: an adult by the checkpoint's account, or a block that does not say.
    assert!(fired(vec![checked_block(7, at, Some(false))])
        .await
        .is_empty());
    assert!(fired(vec![checked_block(7, at, None)]).await.is_empty());
}

/// The block and the registration disagree: a child by either account is a child (see
/// `children` in rules.rs), in any arrival order.
#[tokio::test]
async fn po2_a_child_by_either_account_is_a_child() {
    let at = datetime!(2026-03-01 10:00 +7);
    let adult = registration(7, date!(1990 - 07 - 20));
    let child = registration(7, date!(2010 - 07 - 20));
    for (registration, minor) in [(adult, Some(true)), (child, Some(false))] {
        let block = checked_block(7, at, minor);
        let alerts = fired(vec![registration.clone(), block.clone()]).await;
        assert_eq!(
            alerts.iter().map(|(r, _)| r.as_str()).collect::<Vec<_>>(),
            ["PO2"],
            "registration then block, block says minor = {minor:?}"
        );
        assert_eq!(fired(vec![block, registration]).await, alerts);
    }
}

/// Born on 29 February 2008: a child until 1 March 2026 (2026 has no 29 February). The old
/// code put the 18th birthday on 1 March 2008 and never raised PO2 for leap-day children.
#[tokio::test]
async fn po2_a_child_born_on_29_february_is_a_child_until_1_march() {
    let child = registration(7, date!(2008 - 02 - 29));
    let on_28_february = block(7, datetime!(2026-02-28 10:00 +7));
    let alerts = fired(vec![child.clone(), on_28_february]).await;
    assert_eq!(
        alerts.iter().map(|(r, _)| r.as_str()).collect::<Vec<_>>(),
        ["PO2"]
    );
    let on_1_march = block(7, datetime!(2026-03-01 10:00 +7));
    assert!(fired(vec![child, on_1_march]).await.is_empty());
}

/// Blocked at 00:30 WIB on the 18th birthday (still the day before in UTC): an adult, no
/// priority alert; at 23:30 WIB the evening before: a child.
#[tokio::test]
async fn po2_the_18th_birthday_begins_at_midnight_wib() {
    let born = date!(2008 - 07 - 20);
    let birthday_morning = block(7, datetime!(2026-07-20 00:30 +7));
    assert!(fired(vec![registration(7, born), birthday_morning])
        .await
        .is_empty());
    let eve = block(7, datetime!(2026-07-19 23:30 +7));
    assert_eq!(fired(vec![registration(7, born), eve]).await.len(), 1);
}

/// PO3's 14 days are local days: a referral at 09:00 WIB on 4 May is in time until
/// 23:59:59.999 WIB on 18 May, and the alert comes once that day is over, not at 09:00.
#[tokio::test]
async fn po3_runs_to_the_end_of_the_fourteenth_day_in_wib() {
    let referred = datetime!(2026-05-04 09:00 +7);
    let mut harness = Harness::new(PolriHandler::default(), lintas_polri::migrations())
        .await
        .unwrap();
    harness.clock().set(referred);
    harness
        .apply(vec![referral("CASE-C", referred)])
        .await
        .unwrap();
    harness.clock().set(datetime!(2026-05-18 23:59:59.999 +7));
    assert_eq!(harness.fire_due().await.unwrap(), 0, "day 14 is not over");
    harness.clock().set(datetime!(2026-05-19 00:00 +7));
    assert_eq!(harness.fire_due().await.unwrap(), 1);

    // An investigation at 23:00 WIB on day 14 is in time.
    let mut met = Harness::new(PolriHandler::default(), lintas_polri::migrations())
        .await
        .unwrap();
    met.clock().set(referred);
    met.apply_each(vec![
        referral("CASE-D", referred),
        investigation("CASE-D", datetime!(2026-05-18 23:00 +7)),
    ])
    .await
    .unwrap();
    met.clock().set(datetime!(2026-06-30 00:00 +7));
    assert_eq!(met.fire_due().await.unwrap(), 0);
}

fn report_by(recruiter_key: &str, phone: &str, linked: Vec<String>) -> AnyEvent {
    let mut event = report(linked);
    if let AnyEvent::RecruiterReported(r) = &mut event {
        r.recruiter_key = recruiter_key.into();
        r.phone_numbers = vec![phone.into()];
    }
    event
}

/// Two reports under different recruiter keys that give one phone number (once in its
/// local form) are one network: three people blocked through one and two through the
/// other are the five of PO1, in either arrival order, once.
#[tokio::test]
async fn po1_recruiters_sharing_a_phone_number_are_one_network() {
    let start = datetime!(2026-03-01 10:00 UTC);
    let blocks: Vec<AnyEvent> = (0..5)
        .map(|i| block(i, start + Duration::days(10 * i as i64)))
        .collect();
    let reports = vec![
        report_by(
            "rk-cilacap-0001",
            "+6281234567890",
            (0..3).map(subject).collect(),
        ),
        report_by(
            "rk-banyumas-0042",
            "081234567890",
            (3..5).map(subject).collect(),
        ),
    ];
    let mut forward = blocks.clone();
    forward.extend(reports.clone());
    let alerts = fired(forward.clone()).await;
    assert_eq!(
        alerts.iter().map(|(r, _)| r.as_str()).collect::<Vec<_>>(),
        ["PO1"]
    );
    let mut backward = forward.clone();
    backward.reverse();
    assert_eq!(fired(backward).await, alerts, "arrival order");
    let mut twice = forward.clone();
    twice.extend(forward);
    assert_eq!(fired(twice).await, alerts, "redelivery");

    // Near miss: different numbers, two recruiters with three and two people.
    let mut apart = blocks;
    apart.push(report_by(
        "rk-cilacap-0001",
        "+6281234567890",
        (0..3).map(subject).collect(),
    ));
    apart.push(report_by(
        "rk-banyumas-0042",
        "+6285700000001",
        (3..5).map(subject).collect(),
    ));
    assert!(fired(apart).await.is_empty());
}

fn po3_raised(h: &Harness<PolriHandler>) -> Vec<String> {
    h.published()
        .iter()
        .filter_map(|e| match e {
            AnyEvent::AlertRaised(a) => Some(a.envelope.case_id.clone().unwrap_or_default()),
            _ => None,
        })
        .collect()
}

async fn po3_desk(h: &Harness<PolriHandler>) -> Vec<(String, Option<String>)> {
    sqlx::query_as("SELECT status, close_reason FROM lintas_alerts WHERE rule = 'PO3'")
        .fetch_all(h.store().pool())
        .await
        .unwrap()
}

/// Issue #18, finding 3: PO3 is met by when the investigation was opened, not when it was
/// read. Opened on day 10 but read after the alert fired: the alert is withdrawn (closed as
/// a false positive, published on the police alert topic), once. Opened on day 16 but read
/// on day 2 (a backfill): PO3 fires all the same.
#[tokio::test]
async fn po3_is_met_by_when_the_investigation_was_opened_not_when_it_was_read() {
    let referred = datetime!(2026-05-04 02:00 UTC);
    let mut h = Harness::new(PolriHandler::default(), lintas_polri::migrations())
        .await
        .unwrap();
    h.clock().set(referred);
    h.apply(vec![referral("CASE-E", referred)]).await.unwrap();
    h.clock().set(referred + Duration::days(15));
    assert_eq!(h.fire_due().await.unwrap(), 1);
    let opened_on_day_10 = investigation("CASE-E", referred + Duration::days(10));
    h.apply_each(vec![opened_on_day_10.clone(), opened_on_day_10])
        .await
        .unwrap();
    assert_eq!(
        po3_desk(&h).await,
        [("closed".to_string(), Some("false_positive".to_string()))]
    );
    let withdrawals: Vec<&AlertClosed> = h
        .published()
        .iter()
        .filter_map(|e| match e {
            AnyEvent::AlertClosed(c) => Some(c),
            _ => None,
        })
        .collect();
    assert_eq!(withdrawals.len(), 1);
    assert_eq!(withdrawals[0].topic(), Topic::Alerts(Agency::Polri));

    let mut h = Harness::new(PolriHandler::default(), lintas_polri::migrations())
        .await
        .unwrap();
    h.clock().set(referred);
    h.apply_each(vec![
        investigation("CASE-F", referred + Duration::days(16)),
        referral("CASE-F", referred),
    ])
    .await
    .unwrap();
    h.clock().set(referred + Duration::days(17));
    assert_eq!(h.fire_due().await.unwrap(), 1);
    assert_eq!(po3_raised(&h), ["CASE-F"]);
    // Raised (the deadline was missed) and answered at once: the investigation is there.
    assert_eq!(
        po3_desk(&h).await,
        [("closed".to_string(), Some("resolved".to_string()))]
    );
}

/// Finding 11 of #18: PO3 fired, then the investigation arrived, opened on day 16: the
/// deadline was missed (the alert is right) but the alert stayed open as if nothing had
/// been opened. Now it is answered: closed `resolved` with the date and how late, published
/// on the police alert topic, once however often the investigation is redelivered.
#[tokio::test]
async fn po3_is_answered_when_the_investigation_is_opened_late() {
    // 09:00 WIB on 4 May: day 14 is 18 May.
    let referred = datetime!(2026-05-04 02:00 UTC);
    let mut h = Harness::new(PolriHandler::default(), lintas_polri::migrations())
        .await
        .unwrap();
    h.clock().set(referred);
    h.apply(vec![referral("CASE-L", referred)]).await.unwrap();
    h.clock().set(referred + Duration::days(15));
    assert_eq!(h.fire_due().await.unwrap(), 1);
    assert_eq!(po3_desk(&h).await, [("open".to_string(), None)]);
    let opened_on_day_16 = investigation("CASE-L", referred + Duration::days(16));
    h.apply_each(vec![opened_on_day_16.clone(), opened_on_day_16])
        .await
        .unwrap();
    assert_eq!(
        po3_desk(&h).await,
        [("closed".to_string(), Some("resolved".to_string()))]
    );
    let answers: Vec<&AlertClosed> = h
        .published()
        .iter()
        .filter_map(|e| match e {
            AnyEvent::AlertClosed(c) => Some(c),
            _ => None,
        })
        .collect();
    assert_eq!(answers.len(), 1, "once: {answers:?}");
    assert_eq!(answers[0].reason, AlertCloseReason::Resolved);
    assert_eq!(answers[0].topic(), Topic::Alerts(Agency::Polri));
    assert_eq!(
        answers[0].note.as_deref(),
        Some("investigation opened on 2026-05-20, 2 days late")
    );
    assert_eq!(po3_raised(&h), ["CASE-L"], "the alert itself stays");
}

/// Issue #18, finding 6: PO3 runs per referral. A case referred, left uninvestigated (PO3
/// fires), then referred again gets a second clock, which fires too when no investigation
/// follows; an investigation since the second referral meets it.
#[tokio::test]
async fn po3_a_second_referral_in_a_case_gets_its_own_clock() {
    let first = datetime!(2026-05-04 02:00 UTC);
    let second = first + Duration::days(30);
    for investigated in [false, true] {
        let mut h = Harness::new(PolriHandler::default(), lintas_polri::migrations())
            .await
            .unwrap();
        h.clock().set(first);
        h.apply(vec![referral("CASE-G", first)]).await.unwrap();
        h.clock().set(first + Duration::days(15));
        assert_eq!(h.fire_due().await.unwrap(), 1);
        let mut events = vec![referral("CASE-G", second)];
        if investigated {
            events.push(investigation("CASE-G", second + Duration::days(3)));
        }
        h.apply_each(events).await.unwrap();
        h.clock().set(second + Duration::days(15));
        let fired = h.fire_due().await.unwrap();
        assert_eq!(
            fired,
            usize::from(!investigated),
            "investigated: {investigated}"
        );
    }
}

/// A deployment upgraded mid-case still holds the clock it ran once per case (`PO3:{case}`):
/// the investigation that meets it still does.
#[tokio::test]
async fn po3_a_clock_once_per_case_from_before_an_upgrade_is_still_met() {
    let referred = datetime!(2026-05-04 02:00 UTC);
    let mut h = Harness::new(PolriHandler::default(), lintas_polri::migrations())
        .await
        .unwrap();
    h.clock().set(referred);
    sqlx::query(
        "INSERT INTO lintas_deadlines (deadline_key, due_at_ms, payload, topic, partition_id, state, updated_at_ms) \
         VALUES ('PO3:CASE-H', $1, $2, 'lintas.cases.v1', 0, 'pending', 0)",
    )
    .bind(((referred + Duration::days(15)).unix_timestamp_nanos() / 1_000_000) as i64)
    .bind(
        serde_json::json!({ "case_id": "CASE-H", "trigger_event_id": uuid::Uuid::new_v4().to_string() })
            .to_string(),
    )
    .execute(h.store().pool())
    .await
    .unwrap();
    h.apply(vec![investigation("CASE-H", referred + Duration::days(3))])
        .await
        .unwrap();
    h.clock().set(referred + Duration::days(30));
    assert_eq!(h.fire_due().await.unwrap(), 0);
}
