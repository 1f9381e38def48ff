//! IM1 (a subject stopped again within 12 months: office shopping) at its edges, on the kit's
//! harness, each scenario in both arrival orders (finding 7 of #18) and on SQLite and on
//! PostgreSQL.

use lintas_imigrasi::ImigrasiHandler;
use lintas_kit::events::*;
use lintas_kit::testing::examples::{example, Example};
use lintas_kit::testing::{Backend, Harness};
use time::macros::{date, datetime};
use time::{Date, OffsetDateTime};

lintas_kit::on_both_stores!(
    im1_a_flag_and_the_block_it_leads_to_are_one_stop,
    im1_a_new_application_at_another_office_during_a_deferral,
    im1_a_repeat_on_the_same_date_a_year_later_across_29_february,
    im1_an_alert_raised_before_occasions_is_revised_not_doubled,
);

/// A checkpoint's flag at `office`.
fn flag(office: &str, at: OffsetDateTime) -> AnyEvent {
    VisaTypeFlagged {
        stage: ScreeningStage::Checkpoint,
        ..example()
    }
    .by(Agency::Imigrasi, office)
    .at(at)
    .into_any()
}

fn block(office: &str, at: OffsetDateTime) -> AnyEvent {
    DepartureBlocked {
        checkpoint_code: office.into(),
        ..example()
    }
    .by(Agency::Imigrasi, office)
    .at(at)
    .into_any()
}

fn interview(
    office: &str,
    at: OffsetDateTime,
    outcome: InterviewOutcome,
    defer_until: Option<Date>,
) -> AnyEvent {
    PassportInterviewConducted {
        interview_office: office.into(),
        outcome,
        defer_until,
        reason_codes: match outcome {
            InterviewOutcome::Approve => vec![],
            _ => vec![InterviewReason::SuspectedNonProcedural],
        },
        ..example()
    }
    .by(Agency::Imigrasi, office)
    .at(at)
    .into_any()
}

/// A passport application at `office`.
fn application(office: &str, at: OffsetDateTime) -> AnyEvent {
    ApplicantRegistered {
        source: RegistrationSource::PassportApplication,
        ..example()
    }
    .by(Agency::Imigrasi, office)
    .at(at)
    .into_any()
}

async fn harness(backend: Backend) -> Harness<ImigrasiHandler> {
    Harness::on(
        backend,
        ImigrasiHandler::default(),
        lintas_imigrasi::migrations(),
    )
    .await
}

/// IM1 alerts (id, evidence ids sorted) after `events` are applied in this order, one batch
/// each, then all redelivered.
async fn im1(backend: Backend, events: &[AnyEvent]) -> Vec<(String, Vec<String>)> {
    let mut harness = harness(backend).await;
    harness.apply_each(events.to_vec()).await.unwrap();
    harness.apply_each(events.to_vec()).await.unwrap();
    let rows: Vec<(String, String)> = sqlx::query_as(
        "SELECT alert_id, evidence FROM lintas_alerts WHERE rule = 'IM1' ORDER BY alert_id",
    )
    .fetch_all(harness.store().pool())
    .await
    .unwrap();
    let published = harness
        .rules_raised()
        .iter()
        .filter(|&&rule| rule == "IM1")
        .count();
    assert_eq!(published, rows.len(), "each alert published once");
    rows.into_iter()
        .map(|(id, evidence)| {
            let mut evidence: Vec<String> = serde_json::from_str(&evidence).unwrap();
            evidence.sort();
            (id, evidence)
        })
        .collect()
}

/// The alerts of `events` in their order and in reverse, which must be the same.
async fn in_both_orders(backend: Backend, events: Vec<AnyEvent>) -> Vec<(String, Vec<String>)> {
    let forward = im1(backend, &events).await;
    let mut reversed = events;
    reversed.reverse();
    assert_eq!(
        forward,
        im1(backend, &reversed).await,
        "same alerts in both orders"
    );
    forward
}

fn ids(events: &[&AnyEvent]) -> Vec<String> {
    let mut ids: Vec<String> = events
        .iter()
        .map(|e| e.envelope().event_id.to_string())
        .collect();
    ids.sort();
    ids
}

/// A checkpoint flag and the block it leads to a minute later are one stop: a first-ever stop
/// raises nothing. After an earlier stop they are one repeat: one alert, with all three.
async fn im1_a_flag_and_the_block_it_leads_to_are_one_stop(backend: Backend) {
    let flagged = flag("TPI-CGK", datetime!(2026-05-04 21:00 +7));
    let blocked = block("TPI-CGK", datetime!(2026-05-04 21:01 +7));
    assert!(
        in_both_orders(backend, vec![flagged.clone(), blocked.clone()])
            .await
            .is_empty()
    );
    // Near midnight, the next local day: still the same stop.
    let late_flag = flag("TPI-CGK", datetime!(2026-05-04 23:50 +7));
    let after_midnight = block("TPI-CGK", datetime!(2026-05-05 00:20 +7));
    assert!(in_both_orders(backend, vec![late_flag, after_midnight])
        .await
        .is_empty());

    let earlier = interview(
        "KANIM-CILACAP",
        datetime!(2026-02-02 10:00 +7),
        InterviewOutcome::Defer,
        None,
    );
    let alerts = in_both_orders(
        backend,
        vec![earlier.clone(), flagged.clone(), blocked.clone()],
    )
    .await;
    assert_eq!(
        alerts.len(),
        1,
        "one repeat occasion, one alert: {alerts:?}"
    );
    assert_eq!(alerts[0].1, ids(&[&earlier, &flagged, &blocked]));

    // Two blocks at different checkpoints the same evening are two stops.
    let elsewhere = block("TPI-YIA", datetime!(2026-05-04 23:00 +7));
    assert_eq!(
        in_both_orders(backend, vec![blocked, elsewhere])
            .await
            .len(),
        1
    );
}

/// Deferred at Cilacap until 3 April, a new application at Jakarta on 20 March is office
/// shopping; at the same office, or on the day the deferral ends, it is not.
async fn im1_a_new_application_at_another_office_during_a_deferral(backend: Backend) {
    let deferred = interview(
        "KANIM-CILACAP",
        datetime!(2026-03-04 10:00 +7),
        InterviewOutcome::Defer,
        Some(date!(2026 - 04 - 03)),
    );
    let shopping = application("KANIM-JAKARTA-SELATAN", datetime!(2026-03-20 09:00 +7));
    let alerts = in_both_orders(backend, vec![deferred.clone(), shopping.clone()]).await;
    assert_eq!(alerts.len(), 1, "{alerts:?}");
    assert_eq!(alerts[0].1, ids(&[&deferred, &shopping]));

    // A rejection sets no date: an application elsewhere months later is still shopping.
    let rejected = interview(
        "KANIM-CILACAP",
        datetime!(2026-03-04 10:00 +7),
        InterviewOutcome::Reject,
        None,
    );
    let later = application("KANIM-SEMARANG", datetime!(2026-09-01 09:00 +7));
    assert_eq!(
        in_both_orders(backend, vec![rejected, later]).await.len(),
        1
    );

    // Near misses: the same office; another office on the day the deferral ends; an approval.
    let same_office = application("KANIM-CILACAP", datetime!(2026-03-20 09:00 +7));
    assert!(in_both_orders(backend, vec![deferred.clone(), same_office])
        .await
        .is_empty());
    let on_the_day = application("KANIM-JAKARTA-SELATAN", datetime!(2026-04-03 08:00 +7));
    assert!(in_both_orders(backend, vec![deferred, on_the_day])
        .await
        .is_empty());
    let approved = interview(
        "KANIM-CILACAP",
        datetime!(2026-03-04 10:00 +7),
        InterviewOutcome::Approve,
        None,
    );
    assert!(in_both_orders(backend, vec![approved, shopping])
        .await
        .is_empty());
}

/// "Within 12 months" in calendar months on the local date: flagged 10 June 2027, blocked on
/// 10 June 2028 (366 days, across 29 February) is a repeat; the day after is not.
async fn im1_a_repeat_on_the_same_date_a_year_later_across_29_february(backend: Backend) {
    let first = flag("KANIM-CILACAP", datetime!(2027-06-10 10:00 +7));
    let again = block("TPI-CGK", datetime!(2028-06-10 23:30 +7));
    let alerts = in_both_orders(backend, vec![first.clone(), again.clone()]).await;
    assert_eq!(alerts.len(), 1, "{alerts:?}");
    assert_eq!(alerts[0].1, ids(&[&first, &again]));
    let too_late = block("TPI-CGK", datetime!(2028-06-11 00:30 +7));
    assert!(in_both_orders(backend, vec![first, too_late])
        .await
        .is_empty());
    // From a leap day, 1 March of the next year is its anniversary.
    let leap = flag("KANIM-CILACAP", datetime!(2028-02-29 10:00 +7));
    let anniversary = block("TPI-CGK", datetime!(2029-03-01 10:00 +7));
    assert_eq!(
        in_both_orders(backend, vec![leap, anniversary]).await.len(),
        1
    );
}

/// A deployment upgraded with alerts of the old rule (one per flag or block, the id from that
/// event): the occasion's alert is that alert revised, not a second one beside it.
async fn im1_an_alert_raised_before_occasions_is_revised_not_doubled(backend: Backend) {
    let earlier = flag("KANIM-CILACAP", datetime!(2026-01-05 10:00 +7));
    let blocked = block("TPI-CGK", datetime!(2026-05-04 21:00 +7));
    let flagged = flag("TPI-CGK", datetime!(2026-05-04 21:05 +7));
    let mut harness = harness(backend).await;
    harness
        .apply_each(vec![earlier.clone(), blocked.clone()])
        .await
        .unwrap();
    // Replace what the new rule raised with what the old one had raised for the block.
    let legacy = AlertRaised::derive_id("IM1", &[blocked.envelope().event_id]);
    let pool = harness.store().pool().clone();
    sqlx::query("UPDATE lintas_alerts SET alert_id = $1 WHERE rule = 'IM1'")
        .bind(legacy.to_string())
        .execute(&pool)
        .await
        .unwrap();
    harness.apply_each(vec![flagged.clone()]).await.unwrap();
    let rows: Vec<(String, String)> =
        sqlx::query_as("SELECT alert_id, evidence FROM lintas_alerts WHERE rule = 'IM1'")
            .fetch_all(&pool)
            .await
            .unwrap();
    assert_eq!(rows.len(), 1, "{rows:?}");
    assert_eq!(rows[0].0, legacy.to_string());
    let mut evidence: Vec<String> = serde_json::from_str(&rows[0].1).unwrap();
    evidence.sort();
    assert_eq!(evidence, ids(&[&earlier, &blocked, &flagged]));
}
