//! JA1-JA3 on the kit's in-memory harness with a manual clock: each fires once when the
//! clock passes its deadline, without any new event, and stays silent on a near miss; an
//! awaited event that arrives before the one starting the clock still cancels it.

use lintas_kejaksaan::{migrations, KejaksaanHandler};
use lintas_kit::events::*;
use lintas_kit::testing::Harness;
use time::macros::{date, datetime};
use time::{Duration, OffsetDateTime};

const CASE: &str = "POLRESTA-CILACAP/LP/B/112/2026";

fn envelope(agency: Agency, office: &str, at: OffsetDateTime) -> Envelope {
    let mut envelope = Envelope::new(agency, office, "off-1", at);
    envelope.case_id = Some(CASE.into());
    envelope
}

fn investigation(at: OffsetDateTime) -> AnyEvent {
    InvestigationOpened {
        envelope: envelope(Agency::Polri, "POLRESTA-CILACAP", at),
        investigating_unit: "SATRESKRIM-PPA-PPO-POLRESTA-CILACAP".into(),
        legal_articles: vec!["UU 21/2007 Pasal 4".into()],
        suspect_recruiter_keys: vec![],
        subject_keys: vec![],
    }
    .into_any()
}

fn spdp(at: OffsetDateTime) -> AnyEvent {
    SpdpSent {
        envelope: envelope(Agency::Polri, "POLRESTA-CILACAP", at),
        spdp_number: "SPDP/112/IV/2026".into(),
        sent_to_office: "KEJARI-CILACAP".into(),
        investigation_opened_on: date!(2026 - 04 - 01),
    }
    .into_any()
}

fn stage(at: OffsetDateTime, stage: ProsecutionStage, due: Option<time::Date>) -> AnyEvent {
    ProsecutionStageChanged {
        envelope: envelope(Agency::Kejaksaan, "KEJARI-CILACAP", at),
        stage,
        prosecutor_id: Some("jpu-3".into()),
        due_date: due,
    }
    .into_any()
}

async fn harness(now: OffsetDateTime) -> Harness<KejaksaanHandler> {
    let harness = Harness::new(KejaksaanHandler::default(), migrations())
        .await
        .unwrap();
    harness.clock().set(now);
    harness
}

async fn alerts(h: &Harness<KejaksaanHandler>) -> Vec<(String, String)> {
    sqlx::query_as("SELECT rule, status FROM lintas_alerts ORDER BY rule")
        .fetch_all(h.store().pool())
        .await
        .unwrap()
}

fn raised(h: &Harness<KejaksaanHandler>) -> Vec<String> {
    h.published()
        .iter()
        .filter_map(|e| match e {
            AnyEvent::AlertRaised(a) => Some(a.rule.clone()),
            _ => None,
        })
        .collect()
}

const OPENED: OffsetDateTime = datetime!(2026-04-01 09:00 UTC);

#[tokio::test]
async fn ja1_fires_once_when_seven_days_pass_without_an_spdp() {
    let mut h = harness(OPENED).await;
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
    let alert = h
        .published()
        .iter()
        .find_map(|e| match e {
            AnyEvent::AlertRaised(a) => Some(a.clone()),
            _ => None,
        })
        .unwrap();
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
    assert_eq!(raised(&h), ["JA1", "JA2"]);
}

#[tokio::test]
async fn an_spdp_in_time_meets_ja1_even_when_it_arrives_first() {
    for order in [[0, 1], [1, 0]] {
        let events = [investigation(OPENED), spdp(OPENED + Duration::days(6))];
        let mut h = harness(OPENED).await;
        for i in order {
            h.apply(vec![events[i].clone()]).await.unwrap();
        }
        // Past JA1's deadline; JA2 (prosecutor within 7 days of the SPDP) not yet due.
        h.clock().set(OPENED + Duration::days(10));
        assert_eq!(h.fire_due().await.unwrap(), 0, "order {order:?}");
        assert!(alerts(&h).await.is_empty(), "order {order:?}");
    }
}

#[tokio::test]
async fn ja2_fires_without_a_prosecutor_and_not_with_one() {
    let sent = OPENED + Duration::days(2);
    let mut late = harness(OPENED).await;
    late.apply(vec![investigation(OPENED), spdp(sent)])
        .await
        .unwrap();
    late.clock().set(sent + Duration::days(8));
    assert_eq!(late.fire_due().await.unwrap(), 1);
    assert_eq!(raised(&late), ["JA2"]);

    let mut assigned = harness(OPENED).await;
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
    assert!(raised(&assigned).is_empty());
}

#[tokio::test]
async fn ja3_file_deadlines_run_from_each_stage_and_the_next_stage_meets_them() {
    let p16 = OPENED + Duration::days(3);
    let p19 = OPENED + Duration::days(40);
    let base = vec![
        investigation(OPENED),
        spdp(OPENED + Duration::days(1)),
        stage(p16, ProsecutionStage::P16, None),
        stage(p19, ProsecutionStage::P19, None),
    ];
    // The corrected file comes back (P-21) on day 13: no alert.
    let mut met = harness(OPENED).await;
    let mut events = base.clone();
    events.push(stage(p19 + Duration::days(13), ProsecutionStage::P21, None));
    met.apply(events).await.unwrap();
    met.clock().set(p19 + Duration::days(60));
    assert_eq!(met.fire_due().await.unwrap(), 0);
    assert!(raised(&met).is_empty());

    // It does not: JA3 once day 14 (25 May, P-19 at 16:00 WIB on 11 May) is over, not before.
    let mut missed = harness(OPENED).await;
    missed.apply(base).await.unwrap();
    missed
        .clock()
        .set(p19 + Duration::days(14) + Duration::hours(7));
    assert_eq!(missed.fire_due().await.unwrap(), 0);
    missed.clock().set(datetime!(2026-05-26 00:00 +7));
    assert_eq!(missed.fire_due().await.unwrap(), 1);
    assert_eq!(raised(&missed), ["JA3"]);

    // A date on the form sets the deadline: the end of that day in WIB.
    let mut dated = harness(OPENED).await;
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

#[tokio::test]
async fn the_case_timeline_is_kept_in_event_time() {
    let mut h = harness(OPENED).await;
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
#[tokio::test]
async fn ja1_ends_with_the_seventh_day_in_wib() {
    let mut h = harness(OPENED).await;
    h.apply(vec![investigation(OPENED)]).await.unwrap();
    h.clock().set(datetime!(2026-04-08 23:30 +7));
    assert_eq!(h.fire_due().await.unwrap(), 0, "the evening of day 7");
    h.apply(vec![spdp(datetime!(2026-04-08 23:30 +7))])
        .await
        .unwrap();
    h.clock().set(datetime!(2026-04-09 00:00 +7));
    assert_eq!(h.fire_due().await.unwrap(), 0);
    assert!(raised(&h).is_empty());

    let early = datetime!(2026-04-01 06:00 +7);
    let mut h = harness(early).await;
    h.apply(vec![investigation(early)]).await.unwrap();
    h.clock().set(datetime!(2026-04-08 23:59:59.999 +7));
    assert_eq!(h.fire_due().await.unwrap(), 0);
    h.clock().set(datetime!(2026-04-09 00:00 +7));
    assert_eq!(h.fire_due().await.unwrap(), 1);
    assert_eq!(raised(&h), ["JA1"]);
}

/// The deployment's zone decides where the day ends: in WIT (UTC+9) day 7 ends two hours
/// earlier in UTC than in WIB.
#[tokio::test]
async fn ja1_in_wit_ends_at_wit_midnight() {
    let settings = lintas_kejaksaan::KejaksaanSettings {
        time_zone: calendar::TimeZone::Wit,
        ..Default::default()
    };
    let mut h = Harness::new(KejaksaanHandler { settings }, migrations())
        .await
        .unwrap();
    h.clock().set(OPENED);
    h.apply(vec![investigation(OPENED)]).await.unwrap();
    h.clock().set(datetime!(2026-04-08 23:59 +9));
    assert_eq!(h.fire_due().await.unwrap(), 0);
    h.clock().set(datetime!(2026-04-09 00:00 +9));
    assert_eq!(h.fire_due().await.unwrap(), 1);
}
