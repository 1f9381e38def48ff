//! JA1-JA3 on the kit's harness with a manual clock, each scenario on SQLite and on
//! PostgreSQL: each fires once when the clock passes its deadline, without any new event, and
//! stays silent on a near miss; an awaited event that arrives before the one starting the
//! clock still cancels it.

use lintas_kejaksaan::{migrations, KejaksaanHandler};
use lintas_kit::events::*;
use lintas_kit::testing::examples::{example, Example, CASE};
use lintas_kit::testing::{Backend, Harness};
use time::macros::{date, datetime};
use time::{Duration, OffsetDateTime};

lintas_kit::on_both_stores!(
    ja1_fires_once_when_seven_days_pass_without_an_spdp,
    an_spdp_in_time_meets_ja1_even_when_it_arrives_first,
    ja2_fires_without_a_prosecutor_and_not_with_one,
    ja3_file_deadlines_run_from_each_stage_and_the_next_stage_meets_them,
    the_case_timeline_is_kept_in_event_time,
    ja1_ends_with_the_seventh_day_in_wib,
    ja1_in_wit_ends_at_wit_midnight,
    an_spdp_sent_after_day_7_does_not_meet_ja1_however_early_it_is_read,
    ja1_is_answered_when_the_spdp_arrives_late,
    an_spdp_sent_in_time_but_read_after_ja1_fired_withdraws_the_alert,
    ja2_and_ja3_are_met_by_the_date_of_the_form_not_its_arrival,
    an_alert_read_back_from_the_own_alert_topic_is_restored,
    ja3_runs_per_suspect_file,
    a_second_investigation_in_a_case_gets_its_own_clocks,
    clocks_once_per_case_from_before_an_upgrade_are_still_met,
    a_corrected_file_sent_back_in_time_meets_the_investigators_deadline,
);

/// The police open an investigation of [`CASE`].
fn investigation(at: OffsetDateTime) -> AnyEvent {
    example::<InvestigationOpened>().at(at).into_any()
}

/// The police send the SPDP of the investigation opened on 1 April 2026.
fn spdp(at: OffsetDateTime) -> AnyEvent {
    spdp_for(at, date!(2026 - 04 - 01))
}

fn spdp_for(at: OffsetDateTime, opened_on: time::Date) -> AnyEvent {
    SpdpSent {
        investigation_opened_on: opened_on,
        ..example()
    }
    .at(at)
    .into_any()
}

/// The prosecutor's office records `stage` of the case, with the date on the form if any.
fn stage(at: OffsetDateTime, stage: ProsecutionStage, due: Option<time::Date>) -> AnyEvent {
    ProsecutionStageChanged {
        stage,
        due_date: due,
        ..example()
    }
    .at(at)
    .into_any()
}

/// The prosecutor's desk, its clock at `now`.
async fn harness(backend: Backend, now: OffsetDateTime) -> Harness<KejaksaanHandler> {
    let harness = Harness::on(backend, KejaksaanHandler::default(), migrations()).await;
    harness.clock().set(now);
    harness
}

async fn alerts(h: &Harness<KejaksaanHandler>) -> Vec<(String, String)> {
    sqlx::query_as("SELECT rule, status FROM lintas_alerts ORDER BY rule")
        .fetch_all(h.store().pool())
        .await
        .unwrap()
}

const OPENED: OffsetDateTime = datetime!(2026-04-01 09:00 UTC);

/// An investigation without an SPDP by the end of its 7th local day: JA1 once, from the clock
/// alone, with the investigation as evidence; not a moment before.
async fn ja1_fires_once_when_seven_days_pass_without_an_spdp(backend: Backend) {
    let mut h = harness(backend, OPENED).await;
    let opened = investigation(OPENED);
    h.apply(vec![opened.clone()]).await.unwrap();
    h.clock().advance(Duration::days(6) + Duration::hours(23));
    assert_eq!(h.fire_due().await.unwrap(), 0, "not due yet");
    assert!(alerts(&h).await.is_empty());

    // Opened at 16:00 WIB on 1 April: day 7 is 8 April, in time until its last instant.
    h.clock().set(datetime!(2026-04-08 23:59:59.999 +7));
    assert_eq!(h.fire_due().await.unwrap(), 0, "8 April is not over");
    h.clock().set(datetime!(2026-04-09 00:00 +7));
    assert_eq!(h.fire_due().await.unwrap(), 1);
    assert_eq!(alerts(&h).await, [("JA1".to_string(), "open".to_string())]);
    let alert = h.alerts_raised()[0].clone();
    assert_eq!(alert.envelope.case_id.as_deref(), Some(CASE));
    assert_eq!(alert.evidence_event_ids, [opened.envelope().event_id]);
    assert_eq!(alert.owner, Agency::Kejaksaan);

    // Once: later ticks, a redelivered investigation, a late SPDP change nothing.
    h.clock().advance(Duration::days(30));
    assert_eq!(h.fire_due().await.unwrap(), 0);
    h.apply(vec![opened, spdp(OPENED + Duration::days(9))])
        .await
        .unwrap();
    h.fire_due().await.unwrap();
    // JA1 once; the late SPDP started JA2's clock, which has run out too.
    assert_eq!(h.rules_raised(), ["JA1", "JA2"]);
}

/// An SPDP sent on day 6 meets JA1, also when it is read before the investigation.
async fn an_spdp_in_time_meets_ja1_even_when_it_arrives_first(backend: Backend) {
    for order in [[0, 1], [1, 0]] {
        let events = [investigation(OPENED), spdp(OPENED + Duration::days(6))];
        let mut h = harness(backend, OPENED).await;
        for i in order {
            h.apply(vec![events[i].clone()]).await.unwrap();
        }
        // Past JA1's deadline; JA2 (prosecutor within 7 days of the SPDP) not yet due.
        h.clock().set(OPENED + Duration::days(10));
        assert_eq!(h.fire_due().await.unwrap(), 0, "order {order:?}");
        assert!(alerts(&h).await.is_empty(), "order {order:?}");
    }
}

/// No prosecutor assigned (P-16) within 7 days of the SPDP: JA2; one assigned on day 3: nothing.
async fn ja2_fires_without_a_prosecutor_and_not_with_one(backend: Backend) {
    let sent = OPENED + Duration::days(2);
    let mut late = harness(backend, OPENED).await;
    late.apply(vec![investigation(OPENED), spdp(sent)])
        .await
        .unwrap();
    late.clock().set(sent + Duration::days(8));
    assert_eq!(late.fire_due().await.unwrap(), 1);
    assert_eq!(late.rules_raised(), ["JA2"]);

    let mut assigned = harness(backend, OPENED).await;
    assigned
        .apply(vec![
            investigation(OPENED),
            spdp(sent),
            stage(sent + Duration::days(3), ProsecutionStage::P16, None),
        ])
        .await
        .unwrap();
    assigned.clock().set(sent + Duration::days(30));
    assert_eq!(assigned.fire_due().await.unwrap(), 0);
    assert!(assigned.rules_raised().is_empty());
}

/// A file returned for completion (P-19) has 14 days: the P-21 on day 13 meets them, none
/// fires JA3 once day 14 is over; a date on the form sets the deadline instead.
async fn ja3_file_deadlines_run_from_each_stage_and_the_next_stage_meets_them(backend: Backend) {
    let p16 = OPENED + Duration::days(3);
    let p19 = OPENED + Duration::days(40);
    let base = vec![
        investigation(OPENED),
        spdp(OPENED + Duration::days(1)),
        stage(p16, ProsecutionStage::P16, None),
        stage(p19, ProsecutionStage::P19, None),
    ];
    // The corrected file comes back (P-21) on day 13: no alert.
    let mut met = harness(backend, OPENED).await;
    let mut events = base.clone();
    events.push(stage(p19 + Duration::days(13), ProsecutionStage::P21, None));
    met.apply(events).await.unwrap();
    met.clock().set(p19 + Duration::days(60));
    assert_eq!(met.fire_due().await.unwrap(), 0);
    assert!(met.rules_raised().is_empty());

    // It does not: JA3 once day 14 (25 May, P-19 at 16:00 WIB on 11 May) is over, not before.
    let mut missed = harness(backend, OPENED).await;
    missed.apply(base).await.unwrap();
    missed
        .clock()
        .set(p19 + Duration::days(14) + Duration::hours(7));
    assert_eq!(missed.fire_due().await.unwrap(), 0);
    missed.clock().set(datetime!(2026-05-26 00:00 +7));
    assert_eq!(missed.fire_due().await.unwrap(), 1);
    assert_eq!(missed.rules_raised(), ["JA3"]);

    // A date on the form sets the deadline: the end of that day in WIB.
    let mut dated = harness(backend, OPENED).await;
    dated
        .apply(vec![stage(
            p16,
            ProsecutionStage::P18,
            Some(date!(2026 - 04 - 20)),
        )])
        .await
        .unwrap();
    dated.clock().set(datetime!(2026-04-20 16:59 UTC));
    assert_eq!(dated.fire_due().await.unwrap(), 0);
    dated.clock().set(datetime!(2026-04-20 17:01 UTC));
    assert_eq!(dated.fire_due().await.unwrap(), 1);
}

/// The case's timeline lists its events by when they happened, not by arrival.
async fn the_case_timeline_is_kept_in_event_time(backend: Backend) {
    let mut h = harness(backend, OPENED).await;
    h.apply(vec![
        stage(OPENED + Duration::days(3), ProsecutionStage::P16, None),
        investigation(OPENED),
        spdp(OPENED + Duration::days(1)),
    ])
    .await
    .unwrap();
    let kinds: Vec<String> =
        sqlx::query_scalar("SELECT kind FROM case_events ORDER BY occurred_at_ms")
            .fetch_all(h.store().pool())
            .await
            .unwrap();
    assert_eq!(
        kinds,
        ["InvestigationOpened", "SpdpSent", "ProsecutionStageChanged"]
    );
    let (stage, spdp_at): (Option<String>, Option<i64>) =
        sqlx::query_as("SELECT stage, spdp_sent_at_ms FROM cases")
            .fetch_one(h.store().pool())
            .await
            .unwrap();
    assert_eq!(stage.as_deref(), Some("p16"));
    assert!(spdp_at.is_some());
}

/// JA1's 7 days are local days, counted from the day of the opening: an SPDP sent at 23:30
/// WIB on day 7 is in time (the old N×24 h deadline had fired at 16:00 that afternoon), and
/// an investigation opened at 06:00 WIB (the day before in UTC) starts day 0 on its WIB day.
async fn ja1_ends_with_the_seventh_day_in_wib(backend: Backend) {
    let mut h = harness(backend, OPENED).await;
    h.apply(vec![investigation(OPENED)]).await.unwrap();
    h.clock().set(datetime!(2026-04-08 23:30 +7));
    assert_eq!(h.fire_due().await.unwrap(), 0, "the evening of day 7");
    h.apply(vec![spdp(datetime!(2026-04-08 23:30 +7))])
        .await
        .unwrap();
    h.clock().set(datetime!(2026-04-09 00:00 +7));
    assert_eq!(h.fire_due().await.unwrap(), 0);
    assert!(h.rules_raised().is_empty());

    let early = datetime!(2026-04-01 06:00 +7);
    let mut h = harness(backend, early).await;
    h.apply(vec![investigation(early)]).await.unwrap();
    h.clock().set(datetime!(2026-04-08 23:59:59.999 +7));
    assert_eq!(h.fire_due().await.unwrap(), 0);
    h.clock().set(datetime!(2026-04-09 00:00 +7));
    assert_eq!(h.fire_due().await.unwrap(), 1);
    assert_eq!(h.rules_raised(), ["JA1"]);
}

/// The deployment's zone decides where the day ends: in WIT (UTC+9) day 7 ends two hours
/// earlier in UTC than in WIB.
async fn ja1_in_wit_ends_at_wit_midnight(backend: Backend) {
    let settings = lintas_kejaksaan::KejaksaanSettings {
        time_zone: calendar::TimeZone::Wit,
        ..Default::default()
    };
    let mut h = Harness::on(backend, KejaksaanHandler { settings }, migrations()).await;
    h.clock().set(OPENED);
    h.apply(vec![investigation(OPENED)]).await.unwrap();
    h.clock().set(datetime!(2026-04-08 23:59 +9));
    assert_eq!(h.fire_due().await.unwrap(), 0);
    h.clock().set(datetime!(2026-04-09 00:00 +9));
    assert_eq!(h.fire_due().await.unwrap(), 1);
}

// Issue #18, finding 3: deadlines are met in event time, not by arrival.

/// (rule, status, close reason) of every alert on the desk.
async fn desk(h: &Harness<KejaksaanHandler>) -> Vec<(String, String, Option<String>)> {
    sqlx::query_as(
        "SELECT rule, status, close_reason FROM lintas_alerts ORDER BY rule, raised_at_ms",
    )
    .fetch_all(h.store().pool())
    .await
    .unwrap()
}

/// An SPDP sent on day 9 misses JA1 although it is read before the deadline is checked (a
/// backfill, a consumer lagging, a rebuild), and also when it is read before the
/// investigation itself.
async fn an_spdp_sent_after_day_7_does_not_meet_ja1_however_early_it_is_read(backend: Backend) {
    let late = spdp(OPENED + Duration::days(9));
    for order in [[0, 1], [1, 0]] {
        let events = [investigation(OPENED), late.clone()];
        let mut h = harness(backend, OPENED).await;
        for i in order {
            h.apply(vec![events[i].clone()]).await.unwrap();
        }
        h.clock().set(OPENED + Duration::days(10));
        h.fire_due().await.unwrap();
        assert_eq!(h.rules_raised(), ["JA1"], "order {order:?}");
        // Raised, and answered at once: the SPDP is there, 2 days late (see below).
        assert_eq!(
            desk(&h).await,
            [(
                "JA1".to_string(),
                "closed".to_string(),
                Some("resolved".to_string())
            )]
        );
    }
}

/// Finding 11 of #18: JA1 fired, then the SPDP arrived, sent on day 9: the deadline was
/// missed (the alert is right), but the alert stayed open as if the police still had not
/// sent it. Now it is answered: closed `resolved`, with the date and how late, published on
/// the prosecutor's alert topic; once, however often the SPDP is redelivered, and the same
/// when the late SPDP was read before the deadline fired.
async fn ja1_is_answered_when_the_spdp_arrives_late(backend: Backend) {
    let late = spdp(OPENED + Duration::days(9));
    for read_before_firing in [false, true] {
        let mut h = harness(backend, OPENED).await;
        h.apply(vec![investigation(OPENED)]).await.unwrap();
        if read_before_firing {
            h.apply(vec![late.clone()]).await.unwrap();
        }
        h.clock().set(OPENED + Duration::days(8));
        assert_eq!(h.fire_due().await.unwrap(), 1);
        h.apply(vec![late.clone()]).await.unwrap();
        h.apply(vec![late.clone()]).await.unwrap();
        assert_eq!(h.rules_raised(), ["JA1"]);
        assert_eq!(
            desk(&h).await,
            [(
                "JA1".to_string(),
                "closed".to_string(),
                Some("resolved".to_string())
            )],
            "read before firing: {read_before_firing}"
        );
        let answers = h.alerts_closed();
        assert_eq!(answers.len(), 1, "once: {answers:?}");
        assert_eq!(answers[0].reason, AlertCloseReason::Resolved);
        assert_eq!(answers[0].topic(), Topic::Alerts(Agency::Kejaksaan));
        // Sent at 16:00 WIB on 10 April; day 7 was 8 April.
        assert_eq!(
            answers[0].note.as_deref(),
            Some("SPDP sent on 2026-04-10, 2 days late")
        );
    }
}

/// The police sent the SPDP on day 5 but it was posted on day 8, after JA1 fired: the alert
/// is withdrawn (closed as a false positive, published on the prosecutor's alert topic), so
/// the investigators who met the deadline are not left accused. Once, however often the
/// SPDP is redelivered.
async fn an_spdp_sent_in_time_but_read_after_ja1_fired_withdraws_the_alert(backend: Backend) {
    let mut h = harness(backend, OPENED).await;
    h.apply(vec![investigation(OPENED)]).await.unwrap();
    h.clock().set(OPENED + Duration::days(8));
    assert_eq!(h.fire_due().await.unwrap(), 1);
    assert_eq!(h.rules_raised(), ["JA1"]);

    let sent_on_day_5 = spdp(OPENED + Duration::days(5));
    h.apply(vec![sent_on_day_5.clone()]).await.unwrap();
    h.apply(vec![sent_on_day_5]).await.unwrap();
    assert_eq!(
        desk(&h).await,
        [(
            "JA1".to_string(),
            "closed".to_string(),
            Some("false_positive".to_string())
        )]
    );
    let withdrawals = h.alerts_closed();
    assert_eq!(withdrawals.len(), 1, "{withdrawals:?}");
    assert_eq!(withdrawals[0].by_agency, Agency::Kejaksaan);
    assert_eq!(withdrawals[0].reason, AlertCloseReason::FalsePositive);
    assert_eq!(withdrawals[0].topic(), Topic::Alerts(Agency::Kejaksaan));
    let raised_id = h.alerts_raised()[0].alert_id;
    assert_eq!(withdrawals[0].alert_id, raised_id);
    // Its JA2 clock runs from the day the SPDP was sent: day 12 is over.
    h.clock().set(OPENED + Duration::days(13));
    h.fire_due().await.unwrap();
    assert_eq!(h.rules_raised(), ["JA1", "JA2"]);
}

/// JA2 and JA3 follow the same rule: a P-16 or a next stage dated in time but read after the
/// deadline fired withdraws the alert; one dated too late, read before the check, does not
/// prevent it.
async fn ja2_and_ja3_are_met_by_the_date_of_the_form_not_its_arrival(backend: Backend) {
    let sent = OPENED + Duration::days(1);
    // JA2: P-16 on day 3 after the SPDP, read on day 10.
    let mut h = harness(backend, OPENED).await;
    h.apply(vec![investigation(OPENED), spdp(sent)])
        .await
        .unwrap();
    h.clock().set(sent + Duration::days(10));
    assert_eq!(h.fire_due().await.unwrap(), 1);
    h.apply(vec![stage(
        sent + Duration::days(3),
        ProsecutionStage::P16,
        None,
    )])
    .await
    .unwrap();
    assert_eq!(desk(&h).await[0].1, "closed");
    assert_eq!(h.alerts_closed().len(), 1);
    // JA2: P-16 on day 9 after the SPDP, read on day 2: still late.
    let mut h = harness(backend, OPENED).await;
    h.apply(vec![
        investigation(OPENED),
        spdp(sent),
        stage(sent + Duration::days(9), ProsecutionStage::P16, None),
    ])
    .await
    .unwrap();
    h.clock().set(sent + Duration::days(10));
    assert_eq!(h.fire_due().await.unwrap(), 1);
    assert_eq!(h.rules_raised(), ["JA2"]);

    // JA3: P-19 on 11 May, corrected file accepted (P-21) on day 10, read on day 20.
    let p19 = OPENED + Duration::days(40);
    let mut h = harness(backend, p19).await;
    h.apply(vec![stage(p19, ProsecutionStage::P19, None)])
        .await
        .unwrap();
    h.clock().set(p19 + Duration::days(20));
    assert_eq!(h.fire_due().await.unwrap(), 1);
    h.apply(vec![stage(
        p19 + Duration::days(10),
        ProsecutionStage::P21,
        None,
    )])
    .await
    .unwrap();
    assert_eq!(desk(&h).await[0].1, "closed");
    // JA3: the P-21 dated day 20 is read before the P-19 it follows: JA3 all the same.
    let mut h = harness(backend, p19).await;
    h.apply(vec![
        stage(p19 + Duration::days(20), ProsecutionStage::P21, None),
        stage(p19, ProsecutionStage::P19, None),
    ])
    .await
    .unwrap();
    h.clock().set(p19 + Duration::days(21));
    assert_eq!(h.fire_due().await.unwrap(), 1);
    assert_eq!(h.rules_raised(), ["JA3"]);
}

/// A rebuild reads the prosecutor's own alert topic: an alert raised live, which the rules
/// would not raise again on the replay (its SPDP now comes before the check), comes back
/// with its lifecycle, once however often it is read.
async fn an_alert_read_back_from_the_own_alert_topic_is_restored(backend: Backend) {
    let mut live = harness(backend, OPENED).await;
    live.apply(vec![investigation(OPENED)]).await.unwrap();
    live.clock().set(OPENED + Duration::days(8));
    live.fire_due().await.unwrap();
    live.apply(vec![spdp(OPENED + Duration::days(5))])
        .await
        .unwrap();
    let topic: Vec<AnyEvent> = live
        .published()
        .iter()
        .filter(|e| e.topic() == Topic::Alerts(Agency::Kejaksaan))
        .cloned()
        .collect();
    assert_eq!(topic.len(), 2, "AlertRaised and AlertClosed");

    // Rebuilt the same day: JA1's deadline long past, JA2's not yet.
    let mut rebuilt = harness(backend, OPENED + Duration::days(8)).await;
    rebuilt.apply(topic.clone()).await.unwrap();
    rebuilt
        .apply(vec![
            investigation(OPENED),
            spdp(OPENED + Duration::days(5)),
        ])
        .await
        .unwrap();
    rebuilt.apply(topic).await.unwrap();
    rebuilt.fire_due().await.unwrap();
    assert_eq!(desk(&rebuilt).await, desk(&live).await);
    assert!(rebuilt.published().is_empty(), "nothing raised again");
}

// Issue #18, finding 6: clocks per file (suspect) and per investigation.

fn stage_on(file: &str, at: OffsetDateTime, stage_: ProsecutionStage) -> AnyEvent {
    let mut event = stage(at, stage_, None);
    if let AnyEvent::ProsecutionStageChanged(e) = &mut event {
        e.envelope.subject_key = Some(file.into());
    }
    event
}

/// A case split into one file per suspect: the P-21 on suspect B's file does not meet the
/// 14 days suspect A's investigator has to return A's corrected file.
async fn ja3_runs_per_suspect_file(backend: Backend) {
    let p19 = OPENED + Duration::days(40);
    let mut h = harness(backend, p19).await;
    h.apply_each(vec![
        stage_on("suspect-a", p19, ProsecutionStage::P19),
        stage_on("suspect-b", p19, ProsecutionStage::P19),
        stage_on("suspect-b", p19 + Duration::days(5), ProsecutionStage::P21),
    ])
    .await
    .unwrap();
    h.clock().set(p19 + Duration::days(16));
    assert_eq!(h.fire_due().await.unwrap(), 1);
    assert_eq!(h.rules_raised(), ["JA3"]);
    let evidence = h.alerts_raised()[0].evidence_event_ids.clone();
    let a_p19: Vec<String> =
        sqlx::query_scalar("SELECT event_id FROM case_events WHERE file_key = 'suspect-a'")
            .fetch_all(h.store().pool())
            .await
            .unwrap();
    assert_eq!(
        evidence.iter().map(|u| u.to_string()).collect::<Vec<_>>(),
        a_p19,
        "the alert is about suspect A's file"
    );
}

/// A second investigation in the same case gets its own 7 days for an SPDP, and its SPDP its
/// own 7 days for a prosecutor; the SPDP of the first investigation meets neither.
async fn a_second_investigation_in_a_case_gets_its_own_clocks(backend: Backend) {
    let second = OPENED + Duration::days(30);
    let mut h = harness(backend, OPENED).await;
    h.apply_each(vec![
        investigation(OPENED),
        spdp(OPENED + Duration::days(2)),
        stage(OPENED + Duration::days(3), ProsecutionStage::P16, None),
        investigation(second),
    ])
    .await
    .unwrap();
    h.clock().set(second + Duration::days(8));
    assert_eq!(h.fire_due().await.unwrap(), 1);
    assert_eq!(h.rules_raised(), ["JA1"]);

    // Its SPDP comes (late, naming the day it was opened), and no prosecutor for it.
    h.apply(vec![spdp_for(
        second + Duration::days(9),
        calendar::TimeZone::Wib.local_date(second),
    )])
    .await
    .unwrap();
    h.clock().set(second + Duration::days(20));
    assert_eq!(h.fire_due().await.unwrap(), 1);
    assert_eq!(h.rules_raised(), ["JA1", "JA2"]);
}

/// A deployment upgraded mid-case still holds the clocks it ran once per case (`JA1:{case}`,
/// `JA2:{case}`): the SPDP and the P-16 that meet them still do, no false alert on upgrade.
async fn clocks_once_per_case_from_before_an_upgrade_are_still_met(backend: Backend) {
    let mut h = harness(backend, OPENED).await;
    let opened = investigation(OPENED);
    let sent = OPENED + Duration::days(2);
    for (rule, due) in [
        ("JA1", datetime!(2026-04-09 00:00 +7)),
        ("JA2", datetime!(2026-04-11 00:00 +7)),
    ] {
        let payload = serde_json::json!({
            "rule": rule, "case_id": CASE, "trigger_event_id": opened.envelope().event_id.to_string(),
        });
        sqlx::query(
            "INSERT INTO lintas_deadlines (deadline_key, due_at_ms, payload, topic, partition_id, state, updated_at_ms) \
             VALUES ($1, $2, $3, 'lintas.cases.v1', 0, 'pending', 0)",
        )
        .bind(format!("{rule}:{CASE}"))
        .bind((due.unix_timestamp_nanos() / 1_000_000) as i64)
        .bind(payload.to_string())
        .execute(h.store().pool())
        .await
        .unwrap();
    }
    h.apply(vec![
        spdp(sent),
        stage(sent + Duration::days(2), ProsecutionStage::P16, None),
    ])
    .await
    .unwrap();
    h.clock().set(OPENED + Duration::days(30));
    assert_eq!(h.fire_due().await.unwrap(), 0);
    assert!(h.rules_raised().is_empty());
}

/// The summary of the first alert raised.
fn first_summary(h: &Harness<KejaksaanHandler>) -> String {
    h.alerts_raised()[0].summary.clone()
}

/// Issue #18, finding 6: the investigator's corrected file is recorded when it is sent back
/// (`file_sent`). Returned on day 10 of 14, it meets the investigator's deadline although the
/// prosecutor's P-21 comes on day 16; the prosecutor's own 7 days to answer then run from the
/// file sent, and only they can fire. The same in either arrival order.
async fn a_corrected_file_sent_back_in_time_meets_the_investigators_deadline(backend: Backend) {
    let p19 = OPENED + Duration::days(40);
    let returned = p19 + Duration::days(10);
    let answered = p19 + Duration::days(16);
    let events = vec![
        stage(p19, ProsecutionStage::P19, None),
        stage(returned, ProsecutionStage::FileSent, None),
        stage(answered, ProsecutionStage::P21, None),
    ];
    for order in [events.clone(), events.iter().rev().cloned().collect()] {
        let mut h = harness(backend, p19).await;
        h.apply_each(order).await.unwrap();
        h.clock().set(p19 + Duration::days(60));
        assert_eq!(h.fire_due().await.unwrap(), 0);
        assert!(h.rules_raised().is_empty(), "nobody missed a deadline");
    }

    // Near miss: the file sent on day 10 and no answer: the prosecutor's 7 days fire JA3, and
    // the alert says whose move it was.
    let mut unanswered = harness(backend, p19).await;
    unanswered.apply_each(events[..2].to_vec()).await.unwrap();
    unanswered.clock().set(returned + Duration::days(6));
    assert_eq!(unanswered.fire_due().await.unwrap(), 0);
    unanswered.clock().set(returned + Duration::days(9));
    assert_eq!(unanswered.fire_due().await.unwrap(), 1);
    let summary = first_summary(&unanswered);
    assert!(summary.contains("prosecutor's 7 days"), "{summary}");

    // And the corrected file never sent back: the investigator's 14 days fire JA3.
    let mut not_returned = harness(backend, p19).await;
    not_returned.apply_each(events[..1].to_vec()).await.unwrap();
    not_returned.clock().set(p19 + Duration::days(16));
    assert_eq!(not_returned.fire_due().await.unwrap(), 1);
    let summary = first_summary(&not_returned);
    assert!(
        summary.contains("not sent back") && summary.contains("P-19"),
        "{summary}"
    );
}
