//! Every day-counted deadline (PO3, JA1, JA2, JA3 after P-19 and after a file sent) ends at
//! the local midnight that closes day N after the starting event's local day: in WIB, WITA
//! and WIT, for an event at 23:30 local time (already the next day in the zone to the east,
//! still the same UTC day), across a month end, a leap day and a year end. A minute before
//! that midnight nothing fires; a minute after, the rule fires once. The expected instants
//! are computed here from the zones' offsets, not with the calendar helper under test.

use lintas_kit::consumer::Handler;
use lintas_kit::events::calendar::TimeZone;
use lintas_kit::events::*;
use lintas_kit::store::Migrations;
use lintas_kit::testing::examples::example;
use lintas_kit::testing::Harness;
use time::macros::{date, time};
use time::{Date, Duration, OffsetDateTime, PrimitiveDateTime, UtcOffset};

const ZONES: [(TimeZone, i8); 3] = [(TimeZone::Wib, 7), (TimeZone::Wita, 8), (TimeZone::Wit, 9)];

/// A month end, the day before a leap day, a year end.
const DAYS: [Date; 3] = [
    date!(2026 - 04 - 30),
    date!(2028 - 02 - 22),
    date!(2026 - 12 - 28),
];

/// A rule whose clock starts with one event and runs `days` local days.
struct Clock {
    rule: &'static str,
    days: i64,
    start: fn(OffsetDateTime) -> AnyEvent,
}

fn at(envelope: Envelope, t: OffsetDateTime) -> Envelope {
    Envelope {
        occurred_at: t,
        ..envelope
    }
}

fn stage(t: OffsetDateTime, stage: ProsecutionStage) -> AnyEvent {
    let e: ProsecutionStageChanged = example();
    ProsecutionStageChanged {
        envelope: at(e.envelope.clone(), t),
        stage,
        due_date: None,
        ..e
    }
    .into_any()
}

const KEJAKSAAN: [Clock; 4] = [
    Clock {
        rule: "JA1",
        days: 7,
        start: |t| {
            let e: InvestigationOpened = example();
            InvestigationOpened {
                envelope: at(e.envelope.clone(), t),
                ..e
            }
            .into_any()
        },
    },
    Clock {
        rule: "JA2",
        days: 7,
        start: |t| {
            let e: SpdpSent = example();
            SpdpSent {
                envelope: at(e.envelope.clone(), t),
                ..e
            }
            .into_any()
        },
    },
    Clock {
        rule: "JA3",
        days: 14,
        start: |t| stage(t, ProsecutionStage::P19),
    },
    Clock {
        rule: "JA3",
        days: 7,
        start: |t| stage(t, ProsecutionStage::FileSent),
    },
];

const POLRI: Clock = Clock {
    rule: "PO3",
    days: 14,
    start: |t| {
        let e: CaseReferred = example();
        CaseReferred {
            envelope: at(e.envelope.clone(), t),
            from_agency: Agency::Imigrasi,
            to_agency: Agency::Polri,
            ..e
        }
        .into_any()
    },
};

/// 23:30 local time on `day` in the zone of UTC offset `hours`.
fn late_evening(day: Date, hours: i8) -> OffsetDateTime {
    let offset = UtcOffset::from_hms(hours, 0, 0).unwrap();
    PrimitiveDateTime::new(day, time!(23:30)).assume_offset(offset)
}

/// The local midnight that ends day `days` after `day`.
fn end_of_day(day: Date, days: i64, hours: i8) -> OffsetDateTime {
    let offset = UtcOffset::from_hms(hours, 0, 0).unwrap();
    PrimitiveDateTime::new(day + Duration::days(days + 1), time!(00:00)).assume_offset(offset)
}

fn raised(published: &[AnyEvent]) -> Vec<String> {
    published
        .iter()
        .filter_map(|e| match e {
            AnyEvent::AlertRaised(a) => Some(a.rule.clone()),
            _ => None,
        })
        .collect()
}

async fn ends_at_local_midnight<H: Handler>(
    clock: &Clock,
    handler: impl Fn(TimeZone) -> H,
    migrations: fn() -> Migrations,
) {
    for (zone, hours) in ZONES {
        for day in DAYS {
            let start = late_evening(day, hours);
            let due = end_of_day(day, clock.days, hours);
            let what = format!(
                "{} ({} days) from {start} in {zone:?}",
                clock.rule, clock.days
            );
            let mut h = Harness::new(handler(zone), migrations()).await.unwrap();
            h.clock().set(start);
            h.apply_each(vec![(clock.start)(start)]).await.unwrap();
            h.clock().set(due - Duration::minutes(1));
            assert_eq!(h.fire_due().await.unwrap(), 0, "{what}: fired before {due}");
            h.clock().set(due + Duration::minutes(1));
            assert_eq!(h.fire_due().await.unwrap(), 1, "{what}: not fired at {due}");
            assert_eq!(raised(h.published()), [clock.rule], "{what}");
        }
    }
}

#[tokio::test]
async fn the_prosecutors_deadlines_end_at_local_midnight_in_every_zone() {
    for clock in &KEJAKSAAN {
        ends_at_local_midnight(
            clock,
            |time_zone| lintas_kejaksaan::KejaksaanHandler {
                settings: lintas_kejaksaan::KejaksaanSettings {
                    time_zone,
                    ..Default::default()
                },
            },
            lintas_kejaksaan::migrations,
        )
        .await;
    }
}

#[tokio::test]
async fn the_police_referral_deadline_ends_at_local_midnight_in_every_zone() {
    ends_at_local_midnight(
        &POLRI,
        |time_zone| lintas_polri::PolriHandler {
            settings: lintas_polri::PolriSettings {
                time_zone,
                ..Default::default()
            },
        },
        lintas_polri::migrations,
    )
    .await;
}
