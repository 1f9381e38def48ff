//! PO1 and PO2 on the kit's harness, each scenario on SQLite and on PostgreSQL: each fires on
//! a scenario built for it, stays silent on a near miss, and gives the same alerts in both
//! arrival orders.

use lintas_kit::events::*;
use lintas_kit::testing::examples::{example, subject, Example};
use lintas_kit::testing::{Backend, Harness};
use lintas_polri::PolriHandler;
use time::macros::{date, datetime};
use time::{Duration, OffsetDateTime};

lintas_kit::on_both_stores!(
    po1_five_blocked_people_of_one_recruiter_within_90_days,
    po1_a_person_cleared_after_the_block_no_longer_counts,
    po2_blocked_child_in_either_order,
    po3_referral_without_an_investigation_in_14_days,
    po1_a_recruiter_active_again_a_year_later_is_reported_again,
    po1_crossings_are_the_same_in_any_arrival_order,
    po2_a_blocked_child_never_registered_is_a_priority,
    po2_a_child_by_either_account_is_a_child,
    po2_a_child_born_on_29_february_is_a_child_until_1_march,
    po2_the_18th_birthday_begins_at_midnight_wib,
    po3_runs_to_the_end_of_the_fourteenth_day_in_wib,
    po1_recruiters_sharing_a_phone_number_are_one_network,
    po3_is_met_by_when_the_investigation_was_opened_not_when_it_was_read,
    po3_is_answered_when_the_investigation_is_opened_late,
    po3_a_second_referral_in_a_case_gets_its_own_clock,
    po3_a_clock_once_per_case_from_before_an_upgrade_is_still_met,
);

/// The recruiter of the reports.
const RECRUITER: &str = "rk-cilacap-0001";

/// A block as written before departures carried the traveller's facts: only a registration
/// tells PO2 the traveller's age.
fn block(i: usize, at: OffsetDateTime) -> AnyEvent {
    checked_block(i, at, None)
}

/// A block carrying whether the checkpoint found the traveller a child on the day (from the
/// NIK it checked).
fn checked_block(i: usize, at: OffsetDateTime, minor: Option<bool>) -> AnyEvent {
    DepartureBlocked {
        handed_to: HandedTo::AirportPolice,
        traveller_sex: minor.map(|_| Sex::Female),
        traveller_minor: minor,
        ..example()
    }
    .about(&subject(i))
    .at(at)
    .into_any()
}

/// The police report of [`RECRUITER`] linking `linked`, on 1 April 2026.
fn report(linked: Vec<String>) -> AnyEvent {
    report_at(datetime!(2026-04-01 09:00 UTC), linked)
}

/// A report from `reported_at` linking `linked` to [`RECRUITER`] (its own event id).
fn report_at(reported_at: OffsetDateTime, linked: Vec<String>) -> AnyEvent {
    RecruiterReported {
        recruiter_key: RECRUITER.into(),
        linked_subject_keys: linked,
        ..example()
    }
    .at(reported_at)
    .into_any()
}

fn report_by(recruiter_key: &str, phone: &str, linked: Vec<String>) -> AnyEvent {
    RecruiterReported {
        recruiter_key: recruiter_key.into(),
        phone_numbers: vec![phone.into()],
        linked_subject_keys: linked,
        ..example()
    }
    .into_any()
}

/// A registration of person `i`, born on `born`.
fn registration(i: usize, born: time::Date) -> AnyEvent {
    ApplicantRegistered {
        birth_date: born,
        ..example()
    }
    .about(&subject(i))
    .at(datetime!(2026-01-10 08:00 UTC))
    .into_any()
}

fn cleared(i: usize, at: OffsetDateTime) -> AnyEvent {
    example::<DepartureCleared>()
        .about(&subject(i))
        .at(at)
        .into_any()
}

/// A referral of `case` from the checkpoint to the police.
fn referral(case: &str, at: OffsetDateTime) -> AnyEvent {
    CaseReferred {
        from_agency: Agency::Imigrasi,
        to_agency: Agency::Polri,
        ..example()
    }
    .in_case(case)
    .at(at)
    .into_any()
}

fn investigation(case: &str, at: OffsetDateTime) -> AnyEvent {
    example::<InvestigationOpened>()
        .in_case(case)
        .at(at)
        .into_any()
}

async fn new_harness(backend: Backend) -> Harness<PolriHandler> {
    Harness::on(backend, PolriHandler::default(), lintas_polri::migrations()).await
}

/// (rule, alert id) of every alert after `events`, one batch each, sorted.
async fn fired(backend: Backend, events: Vec<AnyEvent>) -> Vec<(String, String)> {
    let mut harness = new_harness(backend).await;
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

fn rules(alerts: &[(String, String)]) -> Vec<&str> {
    alerts.iter().map(|(r, _)| r.as_str()).collect()
}

/// Five people blocked within 90 days, all linked to one recruiter by a police report: PO1,
/// the same alert whether the report comes after the blocks or before them.
async fn po1_five_blocked_people_of_one_recruiter_within_90_days(backend: Backend) {
    let start = datetime!(2026-03-01 10:00 UTC);
    let blocks: Vec<AnyEvent> = (0..5)
        .map(|i| block(i, start + Duration::days(20 * i as i64)))
        .collect();
    let linked: Vec<String> = (0..5).map(subject).collect();
    let mut forward = blocks.clone();
    forward.push(report(linked.clone()));
    let mut backward = vec![report(linked.clone())];
    backward.extend(blocks.clone());
    let alerts = fired(backend, forward).await;
    assert_eq!(rules(&alerts), ["PO1"]);
    assert_eq!(
        fired(backend, backward).await,
        alerts,
        "arrival order changed the alerts"
    );

    // Near misses: four people, or five spread over more than 90 days.
    let mut four: Vec<AnyEvent> = blocks[..4].to_vec();
    four.push(report(linked.clone()));
    assert!(fired(backend, four).await.is_empty());
    let mut spread: Vec<AnyEvent> = (0..5)
        .map(|i| block(i, start + Duration::days(25 * i as i64)))
        .collect();
    spread.push(report(linked));
    assert!(
        fired(backend, spread).await.is_empty(),
        "100 days between the first and the fifth"
    );
}

/// Finding 11 of #18: one of the five people blocked was cleared at a checkpoint a week
/// after the block, leaving legally: the recruiter is linked to four people kept from
/// leaving, under the threshold, yet PO1 counted five. Now the lifted block does not count:
/// read first, no PO1 is raised; read after the alert, the alert is withdrawn (closed
/// `false_positive`, saying why). No open PO1 in either order. A clearance before the
/// block (an earlier trip) lifts nothing.
async fn po1_a_person_cleared_after_the_block_no_longer_counts(backend: Backend) {
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
        let mut harness = new_harness(backend).await;
        harness.apply_each(events).await.unwrap();
        let open: Vec<String> = sqlx::query_scalar(
            "SELECT alert_id FROM lintas_alerts WHERE rule = 'PO1' AND status <> 'closed'",
        )
        .fetch_all(harness.store().pool())
        .await
        .unwrap();
        assert!(open.is_empty(), "clearance read {order}: {open:?}");
        if order == "last" {
            let closes = harness.alerts_closed();
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
    let alerts = fired(backend, earlier).await;
    assert_eq!(rules(&alerts), ["PO1"]);
}

/// A child by her registration, blocked at the airport: PO2 (a priority), in either order.
async fn po2_blocked_child_in_either_order(backend: Backend) {
    let at = datetime!(2026-03-01 10:00 UTC);
    let child = registration(7, date!(2010 - 07 - 20));
    let blocked = block(7, at);
    let alerts = fired(backend, vec![child.clone(), blocked.clone()]).await;
    assert_eq!(rules(&alerts), ["PO2"]);
    assert_eq!(fired(backend, vec![blocked.clone(), child]).await, alerts);
    // Near miss: eighteen on the day of the block.
    assert!(fired(
        backend,
        vec![registration(7, date!(2008 - 03 - 01)), blocked]
    )
    .await
    .is_empty());
}

/// A case referred to the police and not investigated within 14 days: PO3 once, from the
/// clock alone (no new event); a case investigated on day 10 raises nothing.
async fn po3_referral_without_an_investigation_in_14_days(backend: Backend) {
    let referred = datetime!(2026-05-04 02:00 UTC);
    let mut harness = new_harness(backend).await;
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
    let alerts = harness.alerts_raised();
    assert_eq!(alerts.len(), 1);
    assert_eq!(alerts[0].rule, "PO3");
    assert_eq!(alerts[0].envelope.case_id.as_deref(), Some("CASE-B"));
}

/// PO1 used to derive its alert id from the recruiter alone: once raised, a recruiter could
/// block any number of people a year later and the police desk heard nothing.
async fn po1_a_recruiter_active_again_a_year_later_is_reported_again(backend: Backend) {
    let mut harness = new_harness(backend).await;
    let start = datetime!(2025-03-01 10:00 UTC);
    let first: Vec<AnyEvent> = (0..5)
        .map(|i| block(i, start + Duration::days(20 * i as i64)))
        .collect();
    let first_report = report_at(start, (0..5).map(subject).collect());
    harness.apply_each(first.clone()).await.unwrap();
    harness.apply(vec![first_report.clone()]).await.unwrap();
    assert_eq!(harness.rules_raised(), ["PO1"]);

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
        harness.rules_raised(),
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
    assert_eq!(harness.rules_raised(), ["PO1", "PO1"]);
    let ids: Vec<String> =
        sqlx::query_scalar("SELECT alert_id FROM recruiter_alerts WHERE recruiter_key = $1")
            .bind(RECRUITER)
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
    assert_eq!(harness.rules_raised(), ["PO1", "PO1"], "redelivery");
}

/// The same year-apart crossings give the same two alerts whatever the arrival order.
async fn po1_crossings_are_the_same_in_any_arrival_order(backend: Backend) {
    let start = datetime!(2025-03-01 10:00 UTC);
    let mut events: Vec<AnyEvent> = (0..5)
        .map(|i| block(i, start + Duration::days(20 * i as i64)))
        .chain((100..105).map(|i| block(i, start + Duration::days(400 + i as i64 - 100))))
        .collect();
    let linked: Vec<String> = (0..5).chain(100..105).map(subject).collect();
    events.push(report(linked.clone()));
    let forward = fired(backend, events.clone()).await;
    assert_eq!(forward.len(), 2, "{forward:?}");
    events.reverse();
    assert_eq!(fired(backend, events).await, forward);
}

/// A girl whose passport predates Lintas, or was issued by an office that does not publish,
/// blocked at the airport: no registration, but the block says the checkpoint found her a
/// child (from her NIK). The old rule waited for a registration that never comes.
async fn po2_a_blocked_child_never_registered_is_a_priority(backend: Backend) {
    let at = datetime!(2026-03-01 10:00 +7);
    let alerts = fired(backend, vec![checked_block(7, at, Some(true))]).await;
    assert_eq!(rules(&alerts), ["PO2"]);
    // The same alert as when a registration says so too: one per block, in any order.
    let child = registration(7, date!(2010 - 07 - 20));
    let block = checked_block(7, at, Some(true));
    let both = fired(backend, vec![block.clone(), child.clone()]).await;
    assert_eq!(both.len(), 1);
    assert_eq!(fired(backend, vec![child, block]).await, both);
    // Near misses: an adult by the checkpoint's account, or a block that does not say.
    assert!(fired(backend, vec![checked_block(7, at, Some(false))])
        .await
        .is_empty());
    assert!(fired(backend, vec![checked_block(7, at, None)])
        .await
        .is_empty());
}

/// The block and the registration disagree: a child by either account is a child (see
/// `children` in rules.rs), in any arrival order.
async fn po2_a_child_by_either_account_is_a_child(backend: Backend) {
    let at = datetime!(2026-03-01 10:00 +7);
    let adult = registration(7, date!(1990 - 07 - 20));
    let child = registration(7, date!(2010 - 07 - 20));
    for (registration, minor) in [(adult, Some(true)), (child, Some(false))] {
        let block = checked_block(7, at, minor);
        let alerts = fired(backend, vec![registration.clone(), block.clone()]).await;
        assert_eq!(
            rules(&alerts),
            ["PO2"],
            "registration then block, block says minor = {minor:?}"
        );
        assert_eq!(fired(backend, vec![block, registration]).await, alerts);
    }
}

/// Born on 29 February 2008: a child until 1 March 2026 (2026 has no 29 February). The old
/// code put the 18th birthday on 1 March 2008 and never raised PO2 for leap-day children.
async fn po2_a_child_born_on_29_february_is_a_child_until_1_march(backend: Backend) {
    let child = registration(7, date!(2008 - 02 - 29));
    let on_28_february = block(7, datetime!(2026-02-28 10:00 +7));
    let alerts = fired(backend, vec![child.clone(), on_28_february]).await;
    assert_eq!(rules(&alerts), ["PO2"]);
    let on_1_march = block(7, datetime!(2026-03-01 10:00 +7));
    assert!(fired(backend, vec![child, on_1_march]).await.is_empty());
}

/// Blocked at 00:30 WIB on the 18th birthday (still the day before in UTC): an adult, no
/// priority alert; at 23:30 WIB the evening before: a child.
async fn po2_the_18th_birthday_begins_at_midnight_wib(backend: Backend) {
    let born = date!(2008 - 07 - 20);
    let birthday_morning = block(7, datetime!(2026-07-20 00:30 +7));
    assert!(
        fired(backend, vec![registration(7, born), birthday_morning])
            .await
            .is_empty()
    );
    let eve = block(7, datetime!(2026-07-19 23:30 +7));
    assert_eq!(
        fired(backend, vec![registration(7, born), eve]).await.len(),
        1
    );
}

/// PO3's 14 days are local days: a referral at 09:00 WIB on 4 May is in time until
/// 23:59:59.999 WIB on 18 May, and the alert comes once that day is over, not at 09:00.
async fn po3_runs_to_the_end_of_the_fourteenth_day_in_wib(backend: Backend) {
    let referred = datetime!(2026-05-04 09:00 +7);
    let mut harness = new_harness(backend).await;
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
    let mut met = new_harness(backend).await;
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

/// Two reports under different recruiter keys that give one phone number (once in its
/// local form) are one network: three people blocked through one and two through the
/// other are the five of PO1, in either arrival order, once.
async fn po1_recruiters_sharing_a_phone_number_are_one_network(backend: Backend) {
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
    let alerts = fired(backend, forward.clone()).await;
    assert_eq!(rules(&alerts), ["PO1"]);
    let mut backward = forward.clone();
    backward.reverse();
    assert_eq!(fired(backend, backward).await, alerts, "arrival order");
    let mut twice = forward.clone();
    twice.extend(forward);
    assert_eq!(fired(backend, twice).await, alerts, "redelivery");

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
    assert!(fired(backend, apart).await.is_empty());
}

/// The cases of the alerts raised.
fn po3_raised(h: &Harness<PolriHandler>) -> Vec<String> {
    h.alerts_raised()
        .iter()
        .map(|a| a.envelope.case_id.clone().unwrap_or_default())
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
async fn po3_is_met_by_when_the_investigation_was_opened_not_when_it_was_read(backend: Backend) {
    let referred = datetime!(2026-05-04 02:00 UTC);
    let mut h = new_harness(backend).await;
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
    let withdrawals = h.alerts_closed();
    assert_eq!(withdrawals.len(), 1);
    assert_eq!(withdrawals[0].topic(), Topic::Alerts(Agency::Polri));

    let mut h = new_harness(backend).await;
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
async fn po3_is_answered_when_the_investigation_is_opened_late(backend: Backend) {
    // 09:00 WIB on 4 May: day 14 is 18 May.
    let referred = datetime!(2026-05-04 02:00 UTC);
    let mut h = new_harness(backend).await;
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
    let answers = h.alerts_closed();
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
async fn po3_a_second_referral_in_a_case_gets_its_own_clock(backend: Backend) {
    let first = datetime!(2026-05-04 02:00 UTC);
    let second = first + Duration::days(30);
    for investigated in [false, true] {
        let mut h = new_harness(backend).await;
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
async fn po3_a_clock_once_per_case_from_before_an_upgrade_is_still_met(backend: Backend) {
    let referred = datetime!(2026-05-04 02:00 UTC);
    let mut h = new_harness(backend).await;
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
