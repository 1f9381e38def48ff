//! Rule IM1: a subject stopped again within 12 months (office shopping).
//!
//! What counts, and why:
//!
//! - A *stop* is a visa-type flag, a departure block, or a passport interview that deferred or
//!   rejected the application. Stops are counted as *occasions*, not events: a checkpoint
//!   flag and the block it leads to, or an interview's deferral and the flag it raised, are
//!   one stop. Two stops are the same occasion when the same office recorded them within
//!   [`Im1Settings::same_stop_within`] (24 hours) of each other; a first-ever stop never
//!   fires, however many events it produced.
//! - A stop is a *repeat* when an earlier stop of another occasion lies within
//!   [`Im1Settings::window_months`] calendar months before it, taken on local dates: the
//!   brief's "within 12 months" includes the same date a year later, across 29 February too
//!   ([`calendar::within_months`]).
//! - Office shopping without a second stop: a passport application at another office while
//!   an interview's deferral runs (before `defer_until`, when the applicant may apply again)
//!   or within the window of a rejection (a rejection sets no date) is a repeat by itself.
//! - A block later lifted (the same person cleared at a checkpoint afterwards) still counts
//!   as a stop: office shopping is trying again after being stopped, and the stop happened
//!   whatever came of it. (DN1's follow-up and PO1's count, which are about people still held
//!   back, leave lifted blocks out.)
//!
//! Alerts: one per repeat occasion, keyed by the subject, the office and the local date of
//! the repeat (so the flag and the block of one repeat give one alert, whose evidence grows
//! as they arrive), and one per application made elsewhere during a deferral. Everything is
//! computed from the subject's whole history each time one of its events arrives, and an
//! alert, once due, stays due whatever arrives later: the same alerts exist in any arrival
//! order, and an earlier event that arrives late revises the evidence of the alerts raised
//! before it. An alert raised before stops were counted as occasions (its id came from its
//! one trigger event) is revised in place of raising its occasion's alert beside it.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use lintas_kit::consumer::{Batch, HandlerError};
use lintas_kit::events::calendar::{self, TimeZone};
use lintas_kit::events::{
    timefmt::millis, Agency, AlertRaised, AlertSeverity, AnyEvent, InterviewOutcome,
    PassportInterviewConducted, RegistrationSource, RuleAlert, Summary,
};
use serde_json::Value;
use sqlx::Row;
use time::{Date, Duration, OffsetDateTime};
use uuid::Uuid;

pub const IM1: &str = "IM1";

#[derive(Debug, Clone)]
pub struct Im1Settings {
    /// Calendar months between two stops; the brief says 12.
    pub window_months: u32,
    /// Events of one office within this long of each other are one stop (a checkpoint flag
    /// and the block it leads to; an interview's deferral and its flag).
    pub same_stop_within: Duration,
    /// Office code stamped on alerts this subscriber raises.
    pub office: String,
    /// IM2: transit points (IATA) known as routes of women sent to the Middle East on
    /// pilgrimage visas to work.
    pub im2_transit_points: Vec<String>,
    /// The deployment's time zone: the local day on which ages in the history, and IM1's
    /// months, are taken.
    pub time_zone: TimeZone,
}

impl Default for Im1Settings {
    fn default() -> Self {
        Im1Settings {
            window_months: 12,
            same_stop_within: Duration::hours(24),
            office: "LINTAS-IMIGRASI".into(),
            im2_transit_points: ["DXB", "AUH", "DOH", "MCT", "BAH", "KWI", "KUL"]
                .map(String::from)
                .to_vec(),
            time_zone: Default::default(),
        }
    }
}

/// Whether `event` is one IM1 reads: a flag, a block, an interview, a passport application.
pub fn is_im1_input(event: &AnyEvent) -> bool {
    match event {
        AnyEvent::VisaTypeFlagged(_)
        | AnyEvent::DepartureBlocked(_)
        | AnyEvent::PassportInterviewConducted(_) => true,
        AnyEvent::ApplicantRegistered(e) => e.source == RegistrationSource::PassportApplication,
        _ => false,
    }
}

/// One event of a subject's history, as IM1 sees it.
#[derive(Debug, Clone)]
pub(crate) struct Im1Event {
    pub id: Uuid,
    pub at: OffsetDateTime,
    pub office: String,
    pub kind: Kind,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Kind {
    /// A visa-type flag or a departure block.
    Stop,
    /// An interview that deferred or rejected the application: a stop, and no application
    /// elsewhere until the end of local day `barred_through`.
    Refusal {
        barred_through: Date,
        rejected: bool,
    },
    /// A passport application.
    Application,
}

/// An alert IM1 owes.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Repeat {
    pub alert_id: Uuid,
    /// The earliest event that made it due.
    pub at: OffsetDateTime,
    /// Sorted event ids: the earlier stops, then what repeated them.
    pub evidence: Vec<Uuid>,
    pub summary: Summary,
    /// Ids this alert had under the rule before it counted occasions (one alert per
    /// repeating event): an alert raised then is revised, not raised again beside it.
    pub legacy_ids: Vec<Uuid>,
}

/// A repeat occasion being gathered: when it began, its stops, and the earlier stops it
/// repeats.
struct RepeatOccasion {
    at: OffsetDateTime,
    repeating: BTreeSet<Uuid>,
    earlier: BTreeSet<Uuid>,
}

impl Im1Settings {
    fn same_stop(&self, a: &Im1Event, b: &Im1Event) -> bool {
        a.office == b.office && (a.at - b.at).abs() <= self.same_stop_within
    }

    fn day(&self, at: OffsetDateTime) -> Date {
        self.time_zone.local_date(at)
    }

    /// The IM1 view of one history row, if it is one IM1 reads.
    pub(crate) fn event(
        &self,
        id: Uuid,
        event_type: &str,
        at: OffsetDateTime,
        office: String,
        details: &Value,
    ) -> Option<Im1Event> {
        let kind = match event_type {
            "VisaTypeFlagged" | "DepartureBlocked" => Kind::Stop,
            "ApplicantRegistered"
                if details["source"] == RegistrationSource::PassportApplication.to_string() =>
            {
                Kind::Application
            }
            "PassportInterviewConducted" => {
                let outcome = details["outcome"].as_str()?;
                let day = self.day(at);
                let rejected = outcome == InterviewOutcome::Reject.to_string();
                let barred_through = if outcome == InterviewOutcome::Defer.to_string() {
                    // The applicant may apply again on `defer_until`: barred the day before.
                    details["defer_until"]
                        .as_str()
                        .and_then(|d| {
                            Date::parse(d, &time::format_description::well_known::Iso8601::DATE)
                                .ok()
                        })
                        .unwrap_or_else(|| PassportInterviewConducted::default_defer_until(day))
                        .previous_day()?
                } else if rejected {
                    // A rejection sets no date: applying elsewhere within the window is
                    // shopping.
                    calendar::months_after(day, self.window_months)
                } else {
                    return None;
                };
                Kind::Refusal {
                    barred_through,
                    rejected,
                }
            }
            _ => return None,
        };
        Some(Im1Event {
            id,
            at,
            office,
            kind,
        })
    }

    /// Every IM1 alert due on `subject`'s history `events` (any order).
    pub(crate) fn repeats(&self, subject: &str, events: &[Im1Event]) -> Vec<Repeat> {
        let mut events: Vec<&Im1Event> = events.iter().collect();
        events.sort_by_key(|e| (e.at, e.id));
        events.dedup_by_key(|e| e.id);
        let stops: Vec<&Im1Event> = events
            .iter()
            .copied()
            .filter(|e| e.kind != Kind::Application)
            .collect();
        // Repeat occasions, by (office, local date) of the repeat.
        let mut occasions: BTreeMap<(String, Date), RepeatOccasion> = BTreeMap::new();
        for (i, stop) in stops.iter().enumerate() {
            let earlier: Vec<&Im1Event> = stops[..i]
                .iter()
                .copied()
                .filter(|d| {
                    !self.same_stop(d, stop)
                        && calendar::within_months(
                            self.day(d.at),
                            self.day(stop.at),
                            self.window_months,
                        )
                })
                .collect();
            if earlier.is_empty() {
                continue;
            }
            let entry = occasions
                .entry((stop.office.clone(), self.day(stop.at)))
                .or_insert_with(|| RepeatOccasion {
                    at: stop.at,
                    repeating: BTreeSet::new(),
                    earlier: BTreeSet::new(),
                });
            entry.repeating.insert(stop.id);
            entry.earlier.extend(earlier.iter().map(|d| d.id));
        }
        let mut out = Vec::new();
        for ((office, day), occasion) in occasions {
            let RepeatOccasion {
                at,
                repeating,
                earlier,
            } = occasion;
            let occasion = Uuid::new_v5(
                &Uuid::NAMESPACE_URL,
                format!("lintas:IM1:{subject}:{office}:{day}").as_bytes(),
            );
            let times = earlier_occasions(self, &stops, &earlier);
            let evidence: BTreeSet<Uuid> = earlier.union(&repeating).copied().collect();
            let legacy_ids = repeating
                .iter()
                .map(|r| AlertRaised::derive_id(IM1, &[*r]))
                .collect();
            out.push(Repeat {
                alert_id: AlertRaised::derive_id(IM1, &[occasion]),
                at,
                evidence: evidence.into_iter().collect(),
                summary: Summary {
                    id: format!(
                        "dihentikan lagi di {office}: sudah dihentikan pada {times} kesempatan lain dalam {} bulan sebelumnya",
                        self.window_months
                    ),
                    en: format!(
                        "stopped again at {office}: stopped on {times} other occasion(s) in the {} months before",
                        self.window_months
                    ),
                },
                legacy_ids,
            });
        }
        // Applications at another office while a deferral or rejection runs.
        for application in events.iter().filter(|e| e.kind == Kind::Application) {
            let refusals: Vec<(&Im1Event, Date, bool)> = stops
                .iter()
                .filter_map(|r| match r.kind {
                    Kind::Refusal {
                        barred_through,
                        rejected,
                    } if r.office != application.office
                        && r.at < application.at
                        && self.day(application.at) <= barred_through =>
                    {
                        Some((*r, barred_through, rejected))
                    }
                    _ => None,
                })
                .collect();
            let Some(&(first, barred_through, rejected)) = refusals.first() else {
                continue;
            };
            let until = barred_through.next_day().unwrap_or(barred_through);
            let refused = if rejected {
                Summary {
                    id: format!(
                        "dalam {} bulan setelah penolakan di {}",
                        self.window_months, first.office
                    ),
                    en: format!(
                        "within {} months of a rejection at {}",
                        self.window_months, first.office
                    ),
                }
            } else {
                Summary {
                    id: format!(
                        "selama penundaan di {} (belum boleh mengajukan lagi sebelum {until})",
                        first.office
                    ),
                    en: format!(
                        "while deferred at {} (no new application before {until})",
                        first.office
                    ),
                }
            };
            let mut evidence: Vec<Uuid> = refusals.iter().map(|(r, _, _)| r.id).collect();
            evidence.push(application.id);
            evidence.sort();
            out.push(Repeat {
                alert_id: AlertRaised::derive_id(IM1, &[application.id]),
                at: application.at,
                evidence,
                summary: Summary {
                    id: format!(
                        "permohonan paspor di {} {}: berpindah kantor (office shopping)",
                        application.office, refused.id
                    ),
                    en: format!(
                        "passport application at {} {}: office shopping",
                        application.office, refused.en
                    ),
                },
                legacy_ids: Vec::new(),
            });
        }
        out
    }
}

/// How many distinct occasions the stops `ids` are.
fn earlier_occasions(settings: &Im1Settings, stops: &[&Im1Event], ids: &BTreeSet<Uuid>) -> usize {
    let mut seen: Vec<&Im1Event> = Vec::new();
    let mut count = 0;
    for stop in stops.iter().copied().filter(|s| ids.contains(&s.id)) {
        if !seen.iter().any(|s| settings.same_stop(s, stop)) {
            count += 1;
        }
        seen.push(stop);
    }
    count
}

/// IM1 for the subjects of this batch's flags, blocks, interviews and passport applications:
/// their histories are read in one statement per chunk, every alert due is raised (or its
/// evidence revised if raised before).
pub async fn im1(
    batch: &mut Batch<'_>,
    settings: &Im1Settings,
    subjects: &[String],
) -> Result<(), HandlerError> {
    for chunk in subjects.chunks(crate::history::ROWS_PER_STATEMENT) {
        let placeholders: Vec<String> = (1..=chunk.len()).map(|i| format!("${i}")).collect();
        let sql = format!(
            "SELECT subject_key, event_id, event_type, occurred_at_ms, office, details FROM subject_history \
             WHERE subject_key IN ({}) AND event_type IN \
             ('VisaTypeFlagged', 'DepartureBlocked', 'PassportInterviewConducted', 'ApplicantRegistered')",
            placeholders.join(", ")
        );
        let mut query = sqlx::query(&sql);
        for subject in chunk {
            query = query.bind(subject);
        }
        let rows = query.fetch_all(batch.tx()).await?;
        let mut histories: HashMap<String, Vec<Im1Event>> = HashMap::new();
        for row in rows {
            let subject: String = row.try_get(0)?;
            let id: Uuid = row
                .try_get::<String, _>(1)?
                .parse()
                .map_err(HandlerError::transient)?;
            let at = millis::from_millis(row.try_get(3)?).map_err(HandlerError::transient)?;
            let details: Value = serde_json::from_str(&row.try_get::<String, _>(5)?)
                .map_err(HandlerError::transient)?;
            let event_type: String = row.try_get(2)?;
            if let Some(event) = settings.event(id, &event_type, at, row.try_get(4)?, &details) {
                histories.entry(subject).or_default().push(event);
            }
        }
        for subject in chunk {
            let Some(history) = histories.get(subject) else {
                continue;
            };
            for repeat in settings.repeats(subject, history) {
                raise(batch, settings, subject, repeat).await?;
            }
        }
    }
    Ok(())
}

async fn raise(
    batch: &mut Batch<'_>,
    settings: &Im1Settings,
    subject: &str,
    repeat: Repeat,
) -> Result<(), HandlerError> {
    if !repeat.legacy_ids.is_empty() {
        let placeholders: Vec<String> = (1..=repeat.legacy_ids.len())
            .map(|i| format!("${i}"))
            .collect();
        let sql = format!(
            "SELECT alert_id FROM lintas_alerts WHERE alert_id IN ({}) ORDER BY alert_id LIMIT 1",
            placeholders.join(", ")
        );
        let mut query = sqlx::query_scalar::<_, String>(&sql);
        for id in &repeat.legacy_ids {
            query = query.bind(id.to_string());
        }
        if let Some(legacy) = query.fetch_optional(batch.tx()).await? {
            let legacy: Uuid = legacy.parse().map_err(HandlerError::transient)?;
            return crate::ALERTS
                .revise(batch, legacy, &repeat.evidence, &repeat.summary)
                .await;
        }
    }
    let alert = RuleAlert {
        rule: IM1.into(),
        owner: Agency::Imigrasi,
        office: settings.office.clone(),
        occurred_at: repeat.at,
        subject_key: Some(subject.to_string()),
        severity: AlertSeverity::Warning,
        evidence: repeat.evidence.clone(),
        summary: repeat.summary.clone(),
        review_within: Duration::days(14),
    };
    // Raised before all its evidence had arrived: the view gets the complete evidence.
    if !crate::ALERTS
        .raise(
            batch,
            AlertRaised::from_rule_in(repeat.alert_id, alert, settings.time_zone),
        )
        .await?
    {
        crate::ALERTS
            .revise(batch, repeat.alert_id, &repeat.evidence, &repeat.summary)
            .await?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;
    use time::macros::{date, datetime};

    fn event(n: u128, kind: &str, office: &str, at: OffsetDateTime, details: Value) -> Im1Event {
        Im1Settings::default()
            .event(Uuid::from_u128(n), kind, at, office.into(), &details)
            .expect("an event IM1 reads")
    }

    #[test]
    fn a_deferral_bars_until_the_day_before_it_ends_a_rejection_for_12_months() {
        let settings = Im1Settings::default();
        let deferral = |until: Value| {
            event(
                1,
                "PassportInterviewConducted",
                "KANIM-CILACAP",
                datetime!(2026-03-04 23:30 +7),
                json!({"outcome": "defer", "defer_until": until}),
            )
            .kind
        };
        assert_eq!(
            deferral(json!("2026-04-03")),
            Kind::Refusal {
                barred_through: date!(2026 - 04 - 02),
                rejected: false,
            }
        );
        // No date on the event: the default 30 days from the local date of the interview.
        assert_eq!(
            deferral(Value::Null),
            Kind::Refusal {
                barred_through: date!(2026 - 04 - 02),
                rejected: false,
            }
        );
        let rejected = event(
            2,
            "PassportInterviewConducted",
            "KANIM-CILACAP",
            datetime!(2028-02-29 10:00 +7),
            json!({"outcome": "reject", "defer_until": null}),
        );
        assert_eq!(
            rejected.kind,
            Kind::Refusal {
                barred_through: date!(2029 - 03 - 01),
                rejected: true,
            }
        );
        // An approval, and a registration that is not a passport application, are not read.
        assert!(settings
            .event(
                Uuid::from_u128(3),
                "PassportInterviewConducted",
                datetime!(2026-03-04 10:00 +7),
                "KANIM-CILACAP".into(),
                &json!({"outcome": "approve"}),
            )
            .is_none());
        assert!(settings
            .event(
                Uuid::from_u128(4),
                "ApplicantRegistered",
                datetime!(2026-03-04 10:00 +7),
                "DISNAKER-CILACAP".into(),
                &json!({"source": "jobseeker_card_ak1"}),
            )
            .is_none());
    }

    #[test]
    fn an_application_elsewhere_says_which_refusal_it_shops_around() {
        let settings = Im1Settings::default();
        let interview = |outcome: &str, until: Value| {
            event(
                1,
                "PassportInterviewConducted",
                "KANIM-CILACAP",
                datetime!(2026-03-04 10:00 +7),
                json!({"outcome": outcome, "defer_until": until}),
            )
        };
        let application = event(
            2,
            "ApplicantRegistered",
            "KANIM-SEMARANG",
            datetime!(2026-03-20 09:00 +7),
            json!({"source": "passport_application"}),
        );
        let deferred = settings.repeats(
            "s",
            &[interview("defer", json!("2026-04-03")), application.clone()],
        );
        assert_eq!(deferred.len(), 1);
        assert_eq!(
            deferred[0].summary.en,
            "passport application at KANIM-SEMARANG while deferred at KANIM-CILACAP \
             (no new application before 2026-04-03): office shopping"
        );
        assert!(deferred[0].legacy_ids.is_empty());
        let rejected = settings.repeats("s", &[interview("reject", Value::Null), application]);
        assert_eq!(
            rejected[0].summary.en,
            "passport application at KANIM-SEMARANG within 12 months of a rejection at \
             KANIM-CILACAP: office shopping"
        );
    }

    #[test]
    fn earlier_stops_are_counted_as_occasions() {
        let settings = Im1Settings::default();
        let stop = |n, kind, office, at| event(n, kind, office, at, json!({}));
        let history = [
            // One occasion: a flag and its block at Yogyakarta.
            stop(
                1,
                "VisaTypeFlagged",
                "TPI-YIA",
                datetime!(2026-01-05 20:00 +7),
            ),
            stop(
                2,
                "DepartureBlocked",
                "TPI-YIA",
                datetime!(2026-01-05 20:05 +7),
            ),
            // Another, at Jakarta in March.
            stop(
                3,
                "DepartureBlocked",
                "TPI-CGK",
                datetime!(2026-03-05 20:05 +7),
            ),
            // The repeat: a flag and its block at Surabaya.
            stop(
                4,
                "VisaTypeFlagged",
                "TPI-SUB",
                datetime!(2026-06-01 07:00 +7),
            ),
            stop(
                5,
                "DepartureBlocked",
                "TPI-SUB",
                datetime!(2026-06-01 07:10 +7),
            ),
        ];
        let repeats = settings.repeats("s", &history);
        // March repeats January; June repeats both.
        assert_eq!(repeats.len(), 2, "{repeats:?}");
        let june = repeats
            .iter()
            .find(|r| r.summary.en.contains("TPI-SUB"))
            .unwrap();
        assert!(
            june.summary.en.contains("on 2 other occasion(s)")
                && june.summary.id.contains("pada 2 kesempatan lain"),
            "{:?}",
            june.summary
        );
        assert_eq!(june.evidence.len(), 5);
        assert_eq!(june.at, datetime!(2026-06-01 07:00 +7));
        // The same history in any order gives the same alerts.
        let mut reversed = history.to_vec();
        reversed.reverse();
        assert_eq!(settings.repeats("s", &reversed), repeats);
    }
}
