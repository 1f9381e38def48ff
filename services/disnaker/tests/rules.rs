//! Rules DN1-DN4 on the kit's harness, each scenario on SQLite and on PostgreSQL: each fires
//! on a scenario built to trigger it and stays silent on a near miss; DN1 gives the same task
//! whatever the arrival order.

use lintas_disnaker::{DisnakerHandler, DisnakerSettings};
use lintas_kit::events::*;
use lintas_kit::testing::examples::{example, Example, SUBJECT};
use lintas_kit::testing::{Backend, Harness};
use time::macros::{date, datetime};

lintas_kit::on_both_stores!(
    dn1_blocked_resident_gets_one_follow_up_task_in_either_order,
    dn2_unlicensed_placement_agency,
    dn3_work_in_a_banned_country_outside_the_legal_channel,
    dn4_applicant_under_18,
    dn4_a_child_born_on_29_february_is_a_child_until_1_march,
    dn4_the_18th_birthday_begins_at_local_midnight,
    dn1_follow_up_is_due_at_the_end_of_the_seventh_local_day,
    alerts_are_reviewed_by_the_end_of_a_local_day,
    dn1_for_a_block_ten_days_old_is_not_born_overdue,
    a_rebuild_keeps_the_review_date_published_live,
    dn3_a_licence_number_is_not_the_legal_channel,
    dn3_the_designated_scheme_to_saudi_arabia_is_the_open_channel,
    dn1_a_block_lifted_by_a_later_clearance_needs_no_follow_up,
    an_alert_nobody_acted_on_is_escalated_at_its_review_date,
    another_regencys_applicants_get_no_task_or_alert,
);

/// A registration at Disnaker Cilacap on 1 March 2026: an adult from Kesugihan going to work
/// in Malaysia through a licensed agency (SIP3MI-001), changed by `adjust`.
fn registration(adjust: impl FnOnce(&mut ApplicantRegistered)) -> AnyEvent {
    let mut e = ApplicantRegistered {
        birth_date: date!(1990 - 01 - 05),
        village: "Kesugihan".into(),
        declared_purpose: DeclaredPurpose::Work,
        destination_country: "MY".into(),
        placement_agency: Some(PlacementAgency {
            name: "PT Maju".into(),
            licence_number: Some("SIP3MI-001".into()),
        }),
        village_code: Some("33.01.02.2001".parse().expect("a village code")),
        ..example()
    }
    .at(datetime!(2026-03-01 08:00 UTC));
    adjust(&mut e);
    e.into_any()
}

fn block() -> AnyEvent {
    block_at(datetime!(2026-03-05 22:00 UTC))
}

/// The resident blocked at Soekarno-Hatta at `at`.
fn block_at(at: time::OffsetDateTime) -> AnyEvent {
    example::<DepartureBlocked>()
        .about(SUBJECT)
        .at(at)
        .into_any()
}

/// The resident cleared at Yogyakarta at `at`, on a work visa.
fn cleared_at(at: time::OffsetDateTime) -> AnyEvent {
    DepartureCleared {
        checkpoint_code: "TPI-YIA".into(),
        ..example()
    }
    .about(SUBJECT)
    .at(at)
    .into_any()
}

async fn new_harness(backend: Backend, settings: DisnakerSettings) -> Harness<DisnakerHandler> {
    Harness::on(
        backend,
        DisnakerHandler { settings },
        lintas_disnaker::migrations(),
    )
    .await
}

/// (rules of the alerts, sorted; "task id village" of the follow-up tasks) after `events`,
/// one batch each.
async fn rules(
    backend: Backend,
    events: Vec<AnyEvent>,
    settings: DisnakerSettings,
) -> (Vec<String>, Vec<String>) {
    let mut harness = new_harness(backend, settings).await;
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
    assert_eq!(
        harness.alerts_raised().len(),
        fired.len(),
        "every stored alert is published once"
    );
    (fired, tasks)
}

/// A registered resident blocked at the airport: DN1 and one follow-up task for her village,
/// the same in either order and when the block is redelivered.
async fn dn1_blocked_resident_gets_one_follow_up_task_in_either_order(backend: Backend) {
    let (registered, blocked) = (registration(|_| {}), block());
    let (fired, tasks) = rules(
        backend,
        vec![registered.clone(), blocked.clone()],
        DisnakerSettings::default(),
    )
    .await;
    assert_eq!(fired, ["DN1"]);
    assert_eq!(tasks.len(), 1);
    assert!(tasks[0].ends_with("Kesugihan"));
    // The other order, with the block redelivered: the same single task and alert.
    let (fired_back, tasks_back) = rules(
        backend,
        vec![blocked.clone(), registered, blocked],
        DisnakerSettings::default(),
    )
    .await;
    assert_eq!((fired_back, tasks_back), (fired, tasks));
    // Near miss: a registration and no block.
    assert!(rules(
        backend,
        vec![registration(|_| {})],
        DisnakerSettings::default()
    )
    .await
    .0
    .is_empty());
}

/// A placement agency without a licence number, or one not on the list of valid licences:
/// DN2.
async fn dn2_unlicensed_placement_agency(backend: Backend) {
    let missing = registration(|e| {
        e.placement_agency = Some(PlacementAgency {
            name: "PT Tanpa Izin".into(),
            licence_number: None,
        })
    });
    assert_eq!(
        rules(backend, vec![missing], DisnakerSettings::default())
            .await
            .0,
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
    assert_eq!(
        rules(backend, vec![unknown], settings.clone()).await.0,
        ["DN2"]
    );
    // Near miss: a licence on the list.
    assert!(rules(backend, vec![registration(|_| {})], settings)
        .await
        .0
        .is_empty());
}

/// Work in Saudi Arabia (under the domestic-work ban) with no placement agency: DN3.
async fn dn3_work_in_a_banned_country_outside_the_legal_channel(backend: Backend) {
    let banned = registration(|e| {
        e.destination_country = "SA".into();
        e.placement_agency = None;
    });
    assert_eq!(
        rules(backend, vec![banned], DisnakerSettings::default())
            .await
            .0,
        ["DN3"]
    );
    // Near misses: the same trip on a pilgrimage purpose, and work in a country not banned.
    let pilgrimage = registration(|e| {
        e.destination_country = "SA".into();
        e.declared_purpose = DeclaredPurpose::Umrah;
        e.placement_agency = None;
    });
    let malaysia = registration(|e| e.placement_agency = None);
    assert!(
        rules(backend, vec![pilgrimage], DisnakerSettings::default())
            .await
            .0
            .is_empty()
    );
    assert!(rules(backend, vec![malaysia], DisnakerSettings::default())
        .await
        .0
        .is_empty());
}

/// An applicant a day short of 18 on the day of registration: DN4.
async fn dn4_applicant_under_18(backend: Backend) {
    let minor = registration(|e| e.birth_date = date!(2008 - 03 - 02));
    assert_eq!(
        rules(backend, vec![minor], DisnakerSettings::default())
            .await
            .0,
        ["DN4"]
    );
    // Near miss: eighteen on the day of registration.
    let adult = registration(|e| e.birth_date = date!(2008 - 03 - 01));
    assert!(rules(backend, vec![adult], DisnakerSettings::default())
        .await
        .0
        .is_empty());
}

fn registered_at(at: time::OffsetDateTime, born: time::Date) -> AnyEvent {
    registration(|e| {
        e.envelope.occurred_at = at;
        e.birth_date = born;
    })
}

/// Born on 29 February 2008: a child until 1 March 2026. The old code put the 18th birthday
/// on 1 March 2008 (the fallback of a failed `replace_year`) and never raised DN4.
async fn dn4_a_child_born_on_29_february_is_a_child_until_1_march(backend: Backend) {
    let born = date!(2008 - 02 - 29);
    let on_28_february = registered_at(datetime!(2026-02-28 10:00 +7), born);
    assert_eq!(
        rules(backend, vec![on_28_february], DisnakerSettings::default())
            .await
            .0,
        ["DN4"]
    );
    let on_1_march = registered_at(datetime!(2026-03-01 10:00 +7), born);
    assert!(
        rules(backend, vec![on_1_march], DisnakerSettings::default())
            .await
            .0
            .is_empty()
    );
}

/// Registered at 00:30 WIB on the 18th birthday, 17:30 UTC the day before: an adult, no
/// false priority alert; the evening before, a child. In WIT (UTC+9) 23:30 WIB is already
/// the birthday.
async fn dn4_the_18th_birthday_begins_at_local_midnight(backend: Backend) {
    let born = date!(2008 - 06 - 15);
    let morning = registered_at(datetime!(2026-06-15 00:30 +7), born);
    assert!(rules(backend, vec![morning], DisnakerSettings::default())
        .await
        .0
        .is_empty());
    let eve = registered_at(datetime!(2026-06-14 23:30 +7), born);
    assert_eq!(
        rules(backend, vec![eve.clone()], DisnakerSettings::default())
            .await
            .0,
        ["DN4"]
    );
    let wit = DisnakerSettings {
        time_zone: lintas_kit::events::calendar::TimeZone::Wit,
        ..DisnakerSettings::default()
    };
    assert!(rules(backend, vec![eve], wit).await.0.is_empty());
}

/// A block at 22:00 UTC on a day ahead of the test's clock (so it is not read late): at
/// 05:00 WIB on the next day.
fn fresh_block_day() -> (time::OffsetDateTime, time::Date) {
    let day = (time::OffsetDateTime::now_utc() + time::Duration::days(30)).date();
    (
        day.with_time(time::macros::time!(22:00)).assume_utc(),
        day.next_day().unwrap(),
    )
}

/// The village office's 7 days end with the 7th local day after the block: a block at
/// 05:00 WIB (22:00 UTC the day before) is due by the end of the 7th WIB day after it, not at
/// 22:00 UTC seven days later.
async fn dn1_follow_up_is_due_at_the_end_of_the_seventh_local_day(backend: Backend) {
    let mut harness = new_harness(backend, DisnakerSettings::default()).await;
    let (at, wib_day) = fresh_block_day();
    harness
        .apply_each(vec![registration(|_| {}), block_at(at)])
        .await
        .unwrap();
    let due: i64 = sqlx::query_scalar("SELECT due_at_ms FROM follow_up_tasks")
        .fetch_one(harness.store().pool())
        .await
        .unwrap();
    assert_eq!(
        timefmt::millis::from_millis(due).unwrap(),
        (wib_day + time::Duration::days(8))
            .midnight()
            .assume_offset(time::macros::offset!(+7))
    );
}

/// An alert's review date counts local days too: DN1 for a block at 05:00 WIB is to be
/// reviewed by the end of the 7th WIB day after it, not 7 × 24 hours after the block.
async fn alerts_are_reviewed_by_the_end_of_a_local_day(backend: Backend) {
    let mut harness = new_harness(backend, DisnakerSettings::default()).await;
    let (at, wib_day) = fresh_block_day();
    harness
        .apply_each(vec![registration(|_| {}), block_at(at)])
        .await
        .unwrap();
    let review_by: Vec<_> = harness
        .alerts_raised()
        .iter()
        .map(|a| (a.rule.clone(), a.review_by))
        .collect();
    let end_of_7th_day = (wib_day + time::Duration::days(8))
        .midnight()
        .assume_offset(time::macros::offset!(+7));
    assert_eq!(review_by, [("DN1".to_string(), Some(end_of_7th_day))]);
}

/// Finding 11 of #18: a block read 10 days after it happened (a stalled checkpoint feed, or
/// the resident registered only now) gave a follow-up task and an alert due 3 days ago:
/// born overdue, and listed under ten days of newer alerts. The village office can act only
/// from when the task reaches it: the 7 local days run from then.
async fn dn1_for_a_block_ten_days_old_is_not_born_overdue(backend: Backend) {
    let mut harness = new_harness(backend, DisnakerSettings::default()).await;
    let now = time::OffsetDateTime::now_utc();
    harness
        .apply_each(vec![
            registration(|_| {}),
            block_at(now - time::Duration::days(10)),
        ])
        .await
        .unwrap();
    let (raised, review, due): (i64, i64, i64) = sqlx::query_as(
        "SELECT a.raised_at_ms, a.review_by_ms, t.due_at_ms FROM lintas_alerts a, follow_up_tasks t \
         WHERE a.rule = 'DN1'",
    )
    .fetch_one(harness.store().pool())
    .await
    .unwrap();
    let at = |ms| timefmt::millis::from_millis(ms).unwrap();
    assert!(
        at(review) > now + time::Duration::days(6),
        "review by {} for an alert raised at {now}",
        at(review)
    );
    assert_eq!(due, review, "the task is due with its alert");
    // Listed among the alerts raised today, not ten days back.
    assert!(at(raised) >= now.replace_time(time::Time::MIDNIGHT));
}

/// A rebuild raises DN1 again, later: the review date kept is the one published live (read
/// back from Disnaker's alert topic), in either order of the topics, and the task follows it.
async fn a_rebuild_keeps_the_review_date_published_live(backend: Backend) {
    let old_block = block_at(time::OffsetDateTime::now_utc() - time::Duration::days(10));
    let mut live = new_harness(backend, DisnakerSettings::default()).await;
    live.apply_each(vec![registration(|_| {}), old_block.clone()])
        .await
        .unwrap();
    // As on the topic: raised live three days before the rebuild.
    let mut raised = live.alerts_raised()[0].clone();
    raised.envelope.recorded_at -= time::Duration::days(3);
    raised.review_by =
        Some(calendar::TimeZone::default().end_of_day_after(raised.actionable_at(), 7));
    let live_review = timefmt::millis::to_millis(&raised.review_by.unwrap());
    let facts = vec![registration(|_| {}), old_block];
    let topic_first = [vec![raised.clone().into_any()], facts.clone()].concat();
    let rules_first = [facts, vec![raised.into_any()]].concat();
    for (order, events) in [("topic first", topic_first), ("rules first", rules_first)] {
        let mut rebuild = new_harness(backend, DisnakerSettings::default()).await;
        rebuild.apply_each(events).await.unwrap();
        let (review, due): (i64, i64) = sqlx::query_as(
            "SELECT a.review_by_ms, t.due_at_ms FROM lintas_alerts a, follow_up_tasks t WHERE a.rule = 'DN1'",
        )
        .fetch_one(rebuild.store().pool())
        .await
        .unwrap();
        assert_eq!((review, due), (live_review, live_review), "{order}");
    }
}

fn placed(country: &'static str, licence: &'static str) -> AnyEvent {
    registration(move |e| {
        e.destination_country = country.into();
        e.placement_agency = Some(PlacementAgency {
            name: "PT Maju".into(),
            licence_number: Some(licence.into()),
        });
    })
}

fn dn3(fired: &[String]) -> bool {
    fired.iter().any(|r| r == "DN3")
}

/// Finding 9 of #18: DN3 took any licence number for the legal channel. Domestic work in
/// Kuwait with licence "X" passed; the one open channel is the scheme to Saudi Arabia through
/// an agency designated for it, and with none designated (the default) nobody is inside.
async fn dn3_a_licence_number_is_not_the_legal_channel(backend: Backend) {
    for (country, licence) in [("KW", "X"), ("KW", "SIP3MI-001"), ("SA", "SIP3MI-001")] {
        let fired = rules(
            backend,
            vec![placed(country, licence)],
            DisnakerSettings::default(),
        )
        .await
        .0;
        assert!(dn3(&fired), "{country} {licence}: {fired:?}");
    }
    // Near misses: work in Malaysia with any licence; the same agency for a pilgrimage.
    assert!(rules(
        backend,
        vec![placed("MY", "X")],
        DisnakerSettings::default()
    )
    .await
    .0
    .is_empty());
    let umrah = registration(|e| {
        e.destination_country = "SA".into();
        e.declared_purpose = DeclaredPurpose::Umrah;
    });
    assert!(rules(backend, vec![umrah], DisnakerSettings::default())
        .await
        .0
        .is_empty());
}

/// Inside the designated scheme to Saudi Arabia nothing fires (as the number is typed at the
/// counter too); the same designated agency sending a worker to Kuwait is outside it.
async fn dn3_the_designated_scheme_to_saudi_arabia_is_the_open_channel(backend: Backend) {
    let settings = DisnakerSettings {
        scheme_agencies: vec!["SIP3MI-SPSK-017".into()],
        ..Default::default()
    };
    for (country, licence) in [("SA", "SIP3MI-SPSK-017"), ("sa", " sip3mi-spsk-017")] {
        let fired = rules(backend, vec![placed(country, licence)], settings.clone())
            .await
            .0;
        assert!(fired.is_empty(), "{country} {licence}: {fired:?}");
    }
    for (country, licence) in [("KW", "SIP3MI-SPSK-017"), ("SA", "X")] {
        let fired = rules(backend, vec![placed(country, licence)], settings.clone())
            .await
            .0;
        assert!(dn3(&fired), "{country} {licence}: {fired:?}");
    }
    let mut harness = new_harness(backend, settings).await;
    harness.apply_each(vec![placed("KW", "X")]).await.unwrap();
    let summary: String =
        sqlx::query_scalar("SELECT summary FROM lintas_alerts WHERE rule = 'DN3'")
            .fetch_one(harness.store().pool())
            .await
            .unwrap();
    assert!(
        summary.contains("Saudi Arabia") && summary.contains("licence X"),
        "{summary}"
    );
}

/// (task status, alert status, close reason) of the resident's DN1.
async fn dn1(harness: &Harness<DisnakerHandler>) -> Vec<(String, String, Option<String>)> {
    sqlx::query_as(
        "SELECT t.status, a.status, a.close_reason FROM follow_up_tasks t, lintas_alerts a WHERE a.rule = 'DN1'",
    )
    .fetch_all(harness.store().pool())
    .await
    .unwrap()
}

/// Finding 11 of #18: a resident deferred at Soekarno-Hatta and cleared at a checkpoint a
/// week later on a work visa (the block resolved in the traveller's favour) kept an open
/// follow-up task and alert: the village office was sent to visit someone who had left
/// legally. Now the task is `lifted` and its alert closed `resolved` with where and when the
/// departure was cleared, once, in any arrival order. A clearance before the block (an
/// earlier trip) lifts nothing.
async fn dn1_a_block_lifted_by_a_later_clearance_needs_no_follow_up(backend: Backend) {
    let blocked_at = datetime!(2026-03-05 22:00 UTC);
    let (registered, blocked) = (registration(|_| {}), block_at(blocked_at));
    let cleared = cleared_at(blocked_at + time::Duration::days(7));
    let orders = [
        vec![registered.clone(), blocked.clone(), cleared.clone()],
        vec![cleared.clone(), registered.clone(), blocked.clone()],
        vec![
            registered.clone(),
            cleared.clone(),
            blocked.clone(),
            cleared,
        ],
    ];
    for (i, events) in orders.into_iter().enumerate() {
        let mut harness = new_harness(backend, DisnakerSettings::default()).await;
        harness.apply_each(events).await.unwrap();
        assert_eq!(
            dn1(&harness).await,
            [(
                "lifted".to_string(),
                "closed".to_string(),
                Some("resolved".to_string())
            )],
            "order {i}"
        );
        let closes = harness.alerts_closed();
        assert_eq!(closes.len(), 1, "order {i}: once");
        assert_eq!(closes[0].topic(), Topic::Alerts(Agency::Disnaker));
        assert_eq!(
            closes[0].note.as_deref(),
            Some("block lifted: departure cleared at TPI-YIA on 2026-03-13; no follow-up visit needed")
        );
    }
    // Near miss: cleared on an earlier trip, then blocked: the follow-up stands.
    let mut harness = new_harness(backend, DisnakerSettings::default()).await;
    harness
        .apply_each(vec![
            cleared_at(blocked_at - time::Duration::days(30)),
            registration(|_| {}),
            block_at(blocked_at),
        ])
        .await
        .unwrap();
    assert_eq!(
        dn1(&harness).await,
        [("open".to_string(), "open".to_string(), None)]
    );
}

/// Finding 11 of #18: nothing happened to an alert at its review date. Now the desk escalates
/// an alert nobody acted on (`review_overdue`, level 1, published on Disnaker's alert topic),
/// once, at the review date and not a moment before; an alert acknowledged in time is left
/// alone. The review is scheduled when the alert is read back from the alert topic, as the
/// runtime does.
async fn an_alert_nobody_acted_on_is_escalated_at_its_review_date(backend: Backend) {
    for acknowledged in [false, true] {
        let mut harness = new_harness(backend, DisnakerSettings::default()).await;
        let (at, _) = fresh_block_day();
        harness
            .apply_each(vec![registration(|_| {}), block_at(at)])
            .await
            .unwrap();
        let raised = harness.alerts_raised()[0].clone();
        let mut read_back = vec![raised.clone().into_any()];
        if acknowledged {
            read_back.push(
                AlertAcknowledged {
                    envelope: Envelope::new(
                        Agency::Disnaker,
                        "DISNAKER-CILACAP",
                        "dn-4",
                        at + time::Duration::days(1),
                    ),
                    alert_id: raised.alert_id,
                    by_agency: Agency::Disnaker,
                    note: None,
                }
                .into_any(),
            );
        }
        harness.apply_each(read_back).await.unwrap();
        let review_by = raised.review_by.unwrap();
        harness
            .clock()
            .set(review_by - time::Duration::milliseconds(1));
        assert_eq!(harness.fire_due().await.unwrap(), 0, "not due yet");
        harness.clock().set(review_by);
        harness.fire_due().await.unwrap();
        harness.clock().set(review_by + time::Duration::days(30));
        harness.fire_due().await.unwrap();
        let escalations = harness.alerts_escalated();
        let (status, level): (String, i32) =
            sqlx::query_as("SELECT status, escalation_level FROM lintas_alerts WHERE rule = 'DN1'")
                .fetch_one(harness.store().pool())
                .await
                .unwrap();
        if acknowledged {
            assert!(escalations.is_empty(), "{escalations:?}");
            assert_eq!((status.as_str(), level), ("acknowledged", 0));
        } else {
            assert_eq!(escalations.len(), 1, "once: {escalations:?}");
            assert_eq!(escalations[0].alert_id, raised.alert_id);
            assert_eq!(escalations[0].reason, EscalationReason::ReviewOverdue);
            assert_eq!(escalations[0].level, 1);
            assert_eq!(escalations[0].topic(), Topic::Alerts(Agency::Disnaker));
            assert_eq!((status.as_str(), level), ("escalated", 1));
        }
    }
}

/// Issue #18, finding 10: Disnaker Cilacap (regency 33.01) on a national feed. A child from a
/// village of Kabupaten Banyumas (33.02), blocked, is another office's resident: no task, no
/// alert here. The same child from a village of Cilacap gets DN1 and DN4. A registration
/// published before codes existed cannot be placed and is kept, as before.
async fn another_regencys_applicants_get_no_task_or_alert(backend: Backend) {
    let served = DisnakerSettings {
        regency: Some("33.01".parse().unwrap()),
        ..DisnakerSettings::default()
    };
    let child_from = |code: Option<&str>| {
        registration(|e| {
            e.birth_date = date!(2010 - 01 - 05);
            e.village_code = code.map(|c| c.parse().unwrap());
        })
    };
    let elsewhere = rules(
        backend,
        vec![child_from(Some("33.02.05.2001")), block()],
        served.clone(),
    )
    .await;
    assert_eq!(elsewhere, (vec![], vec![]), "Banyumas is not Cilacap's");
    let (fired, tasks) = rules(
        backend,
        vec![child_from(Some("33.01.02.2001")), block()],
        served.clone(),
    )
    .await;
    assert_eq!(fired, ["DN1", "DN4"]);
    assert_eq!(tasks.len(), 1);
    let (fired, _) = rules(backend, vec![child_from(None), block()], served).await;
    assert_eq!(
        fired,
        ["DN1", "DN4"],
        "without a code the applicant is kept"
    );
}
