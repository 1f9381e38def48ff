//! Departure checks at airports and seaports (TPI) → DepartureBlocked or DepartureCleared,
//! one person at a time or a group travelling together (one shared group id).

use lintas_kit::events::*;

use super::fields;
use crate::accept::Request;
use crate::checks::nik_traveller_facts;
use serde_json::{json, Value as Json};

use crate::spec::{
    example_time, optional, required, required_when, symbols, Checks, Endpoint, Field, FieldError,
    Kind, Validated,
};

fn decisions() -> Vec<&'static str> {
    vec!["cleared", "deferred", "refused"]
}

/// Decisions that block a departure: each needs a reason, who took charge, and whether there
/// was a return ticket.
const BLOCKED: (&str, &[&str]) = ("decision", &["deferred", "refused"]);

/// What the checkpoint decided about one traveller: the fields of a single departure check,
/// and of each item of a group check.
const TRAVELLER: [Field; 6] = [
    required("nik", Kind::Nik, "National ID number of the traveller."),
    required(
        "decision",
        Kind::Symbol(decisions),
        "cleared, deferred (penundaan) or refused (penolakan).",
    ),
    required_when(
        "reason",
        Kind::Symbol(symbols::<BlockReason>),
        BLOCKED,
        "Why the departure was blocked; a cleared departure has none.",
    ),
    required_when(
        "handed_to",
        Kind::Symbol(symbols::<HandedTo>),
        BLOCKED,
        "Who took charge of the person.",
    ),
    required_when(
        "return_ticket",
        Kind::Bool,
        BLOCKED,
        "Whether the traveller held a return ticket.",
    ),
    optional(
        "epmi_id",
        Kind::Text { max: 40 },
        "e-PMI id of a legal placement, for a cleared worker only (personal data).",
    ),
];

macro_rules! trip_fields {
    ($($extra:expr),* $(,)?) => {
        fields![
            required("checkpoint_code", Kind::Checkpoint, "Checkpoint (TPI) from the configured list."),
            required("carrier", Kind::Text { max: 100 }, "Airline or shipping line."),
            required("flight_or_vessel", Kind::Text { max: 40 }, "Flight number or vessel name."),
            required("destination_country", Kind::Country, "Final destination country."),
            optional("transit_points", Kind::List { item: &Kind::Text { max: 8 }, max: 10 }, "Transit airports or ports in travel order (IATA or UN/LOCODE codes)."),
            required("visa_shown", Kind::Symbol(symbols::<VisaType>), "Visa the traveller showed."),
            $($extra),*
        ]
    };
}

pub static DEPARTURE_CHECKS: Endpoint = Endpoint {
    path: "/v1/checkpoints/departure-checks",
    summary: "One traveller checked at a checkpoint",
    publishes: &["DepartureBlocked", "DepartureCleared"],
    agencies: &[Agency::Imigrasi],
    fields: trip_fields![
        TRAVELLER[0],
        TRAVELLER[1],
        TRAVELLER[2],
        TRAVELLER[3],
        TRAVELLER[4],
        TRAVELLER[5],
        optional(
            "group_id",
            Kind::Uuid,
            "Shared id of people travelling together."
        ),
    ],
    example: departure_check_example,
    example_caller: Agency::Imigrasi,
};

pub static GROUP_CHECKS: Endpoint = Endpoint {
    path: "/v1/checkpoints/group-checks",
    summary: "People travelling together, checked together: one event each, one shared group id",
    publishes: &["DepartureBlocked", "DepartureCleared"],
    agencies: &[Agency::Imigrasi],
    fields: trip_fields![
        optional(
            "group_id",
            Kind::Uuid,
            "Shared id of the group; generated when absent."
        ),
        required(
            "travellers",
            Kind::List {
                item: &Kind::Object(&TRAVELLER),
                max: 200
            },
            "Each traveller and the decision about them."
        ),
    ],
    example: group_check_example,
    example_caller: Agency::Imigrasi,
};

/// The trip of the examples: a flight to Phnom Penh through Kuala Lumpur, a route used to
/// take workers to online-scam compounds in Cambodia, from the first configured checkpoint
/// (the caller's office must be that checkpoint's).
fn example_trip(checks: &Checks<'_>) -> Json {
    json!({
        "checkpoint_code": checks.checkpoints.first().map_or("TPI-CGK", String::as_str),
        "carrier": "AirAsia Indonesia",
        "flight_or_vessel": "QZ 262",
        "destination_country": "KH",
        "transit_points": ["KUL"],
        "visa_shown": "tourist",
        "officer_id": "tpi-cgk-0412",
        "occurred_at": example_time(1),
    })
}

fn departure_check_example(checks: &Checks<'_>) -> Json {
    let mut body = example_trip(checks);
    let traveller = json!({
        // A man born 2 March 1995 in Cilacap (Jawa Tengah 33).
        "nik": "3301100203950011",
        "decision": "deferred",
        "reason": "suspected_non_procedural_worker",
        "handed_to": "bp3mi_shelter",
        "return_ticket": false,
        "group_id": "5b0e7a52-3c1f-4d8e-9a61-2f4c8d7e1b90",
        "correlation_id": "0c9a4f1e-6b2d-4e3a-8f75-91d2c3b4a5e6",
    });
    extend(&mut body, traveller);
    body
}

fn group_check_example(checks: &Checks<'_>) -> Json {
    let mut body = example_trip(checks);
    extend(
        &mut body,
        json!({
            "group_id": "5b0e7a52-3c1f-4d8e-9a61-2f4c8d7e1b90",
            "travellers": [
                // A woman born 17 August 1998 (day + 40 in the NIK): refused, handed to the
                // airport police as a suspected victim.
                {"nik": "3301155708980003", "decision": "refused", "reason": "suspected_trafficking_victim",
                 "handed_to": "airport_police", "return_ticket": false},
                // A worker with a legal placement, cleared.
                {"nik": "3301084411010007", "decision": "cleared", "epmi_id": "EPMI-2026-0045127"},
            ],
        }),
    );
    body
}

fn extend(body: &mut Json, more: Json) {
    if let (Some(body), Json::Object(more)) = (body.as_object_mut(), more) {
        body.extend(more);
    }
}

pub fn departure_check(v: &Validated, r: &Request<'_>) -> Result<Vec<AnyEvent>, Vec<FieldError>> {
    traveller(v, v, "", r, v.opt_uuid("group_id")).map(|e| vec![e])
}

pub fn group_check(v: &Validated, r: &Request<'_>) -> Result<Vec<AnyEvent>, Vec<FieldError>> {
    let travellers = v.objects("travellers");
    if travellers.len() < 2 {
        return Err(vec![FieldError::new(
            "travellers",
            "a group has at least two travellers; use /v1/checkpoints/departure-checks for one",
        )]);
    }
    let group_id = v.opt_uuid("group_id").unwrap_or_else(uuid::Uuid::new_v4);
    let mut events = Vec::new();
    let mut errors = Vec::new();
    for (i, t) in travellers.iter().enumerate() {
        match traveller(v, t, &format!("travellers[{i}]."), r, Some(group_id)) {
            Ok(e) => events.push(e),
            Err(e) => errors.extend(e),
        }
    }
    if errors.is_empty() {
        Ok(events)
    } else {
        Err(errors)
    }
}

/// One traveller's event: `trip` holds the shared fields, `person` the traveller's own.
fn traveller(
    trip: &Validated,
    person: &Validated,
    prefix: &str,
    r: &Request<'_>,
    group_id: Option<uuid::Uuid>,
) -> Result<AnyEvent, Vec<FieldError>> {
    let decision = person.text_symbol("decision");
    // The same list that makes reason, handed_to and return_ticket required, so a blocked
    // traveller always has them here.
    let blocked = BLOCKED.1.contains(&decision);
    // What a blocked departure requires is declared (TRAVELLER) and checked by validation;
    // what it must not carry is checked here.
    let mut errors = Vec::new();
    if blocked && person.has("epmi_id") {
        errors.push(FieldError::new(
            format!("{prefix}epmi_id"),
            "only a cleared departure has an e-PMI id",
        ));
    }
    if !blocked && person.has("reason") {
        errors.push(FieldError::new(
            format!("{prefix}reason"),
            "a cleared departure has no block reason",
        ));
    }
    if !errors.is_empty() {
        return Err(errors);
    }
    let nik = person.text("nik");
    let envelope = r.envelope(trip, Some(&nik));
    // The rules about who travels (IM2: a woman on a pilgrimage visa; PO2: a blocked child)
    // must hold for a traveller Lintas never registered (a passport from before Lintas or
    // from another office), so the check carries what they need, derived from the NIK just
    // validated: the sex, and whether a child on the local day of the check. Each traveller
    // of a group gets their own.
    let facts = nik_traveller_facts(&nik, r.state.time_zone.local_date(envelope.occurred_at));
    let (traveller_sex, traveller_minor) = (facts.map(|f| f.0), facts.map(|f| f.1));
    Ok(if blocked {
        DepartureBlocked {
            envelope,
            checkpoint_code: trip.text("checkpoint_code"),
            decision: if decision == "refused" {
                BlockDecision::Refused
            } else {
                BlockDecision::Deferred
            },
            carrier: trip.text("carrier"),
            flight_or_vessel: trip.text("flight_or_vessel"),
            destination_country: trip.text("destination_country"),
            transit_points: trip.texts("transit_points"),
            visa_shown: trip.symbol("visa_shown"),
            return_ticket: person.opt_bool("return_ticket").unwrap_or(false),
            reason: person.symbol("reason"),
            group_id,
            handed_to: person.symbol("handed_to"),
            traveller_sex,
            traveller_minor,
        }
        .into_any()
    } else {
        DepartureCleared {
            envelope,
            checkpoint_code: trip.text("checkpoint_code"),
            carrier: trip.text("carrier"),
            flight_or_vessel: trip.text("flight_or_vessel"),
            destination_country: trip.text("destination_country"),
            transit_points: trip.texts("transit_points"),
            visa_shown: trip.symbol("visa_shown"),
            epmi_id: person.opt_text("epmi_id"),
            group_id,
            traveller_sex,
            traveller_minor,
        }
        .into_any()
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::spec::{validate, Checks};
    use crate::IntakeState;
    use lintas_kit::auth::Caller;
    use time::macros::datetime;

    /// What the builder publishes for `body` posted to `endpoint` by the checkpoint TPI-CGK.
    async fn published(
        endpoint: &Endpoint,
        build: crate::accept::Build,
        body: Json,
    ) -> Vec<AnyEvent> {
        let state = IntakeState::for_tests().await;
        let caller = Caller::new(Agency::Imigrasi, "TPI-CGK");
        let checks = Checks {
            checkpoints: &state.checkpoints,
            time_zone: state.time_zone,
            // After every check of these tests, so that none is refused as in the future.
            now: datetime!(2030-01-01 00:00 UTC),
        };
        let validated = validate(endpoint.fields, &body, &checks).unwrap();
        build(&validated, &Request::without_key(&caller, &state)).unwrap()
    }

    /// A girl born 17 August 2010 (day + 40 in the NIK), on an umrah visa to Jeddah through
    /// Dubai, deferred at Soekarno-Hatta at 06:30 WIB on 1 December 2026 (still 30 November
    /// in UTC): a child on the day of the check.
    const GIRL: &str = "3301155708100003";

    fn umrah_trip() -> Json {
        json!({
            "checkpoint_code": "TPI-CGK", "carrier": "Emirates", "flight_or_vessel": "EK 357",
            "destination_country": "SA", "transit_points": ["DXB"], "visa_shown": "umrah",
            "officer_id": "tpi-cgk-0412", "occurred_at": "2026-11-30T23:30:00Z",
        })
    }

    /// Every string and number anywhere in an event, as the topic would carry it.
    fn leaves(value: &serde_json::Value, out: &mut Vec<String>) {
        match value {
            Json::Object(map) => map.values().for_each(|v| leaves(v, out)),
            Json::Array(items) => items.iter().for_each(|v| leaves(v, out)),
            Json::String(s) => out.push(s.clone()),
            Json::Number(n) => out.push(n.to_string()),
            _ => {}
        }
    }

    /// The birth date in every form it could take on the topic: the NIK, its date digits, the
    /// date as written.
    fn assert_no_birth_date(event: &AnyEvent, nik: &str) {
        let mut values = Vec::new();
        let record = match event {
            AnyEvent::DepartureBlocked(e) => serde_json::to_value(e),
            AnyEvent::DepartureCleared(e) => serde_json::to_value(e),
            other => panic!("not a departure: {other:?}"),
        };
        leaves(&record.unwrap(), &mut values);
        for value in values {
            for secret in [nik, &nik[6..12], "2010-08-17", "17-08-2010", "17/08/2010"] {
                assert!(
                    !value.contains(secret),
                    "{} carries `{value}`, which holds `{secret}` of the birth date or NIK",
                    event.type_name()
                );
            }
        }
    }

    #[tokio::test]
    async fn a_departure_check_carries_the_travellers_sex_and_minority_and_not_the_birth_date() {
        let mut body = umrah_trip();
        body.as_object_mut().unwrap().extend(
            json!({
                "nik": GIRL, "decision": "deferred", "reason": "minor_without_guardian",
                "handed_to": "airport_police", "return_ticket": true,
            })
            .as_object()
            .unwrap()
            .clone(),
        );
        let events = published(&DEPARTURE_CHECKS, departure_check, body).await;
        let [AnyEvent::DepartureBlocked(block)] = events.as_slice() else {
            panic!("one DepartureBlocked: {events:?}")
        };
        assert_eq!(block.traveller_sex, Some(Sex::Female));
        assert_eq!(block.traveller_minor, Some(true));
        // Nothing more: the record is the contract's, whose only new facts about the person
        // are these two, and no value holds the birth date or the NIK.
        let record = serde_json::to_value(block).unwrap();
        let fields: Vec<&String> = record.as_object().unwrap().keys().collect();
        let contract = &catalogue().of::<DepartureBlocked>().json;
        let contract: Json = serde_json::from_str(contract).unwrap();
        let declared: Vec<&str> = contract["fields"]
            .as_array()
            .unwrap()
            .iter()
            .map(|f| f["name"].as_str().unwrap())
            .collect();
        assert_eq!(fields.len(), declared.len());
        assert!(fields.iter().all(|f| declared.contains(&f.as_str())));
        assert!(!declared
            .iter()
            .any(|f| f.contains("birth") || f.contains("nik")));
        assert_no_birth_date(&events[0], GIRL);
    }

    #[tokio::test]
    async fn a_group_check_derives_each_travellers_facts() {
        let mut body = umrah_trip();
        body.as_object_mut().unwrap().extend(
            json!({
                "travellers": [
                    {"nik": GIRL, "decision": "refused", "reason": "suspected_trafficking_victim",
                     "handed_to": "airport_police", "return_ticket": false},
                    // A man born 2 March 1995, cleared.
                    {"nik": "3301100203950011", "decision": "cleared"},
                ],
            })
            .as_object()
            .unwrap()
            .clone(),
        );
        let events = published(&GROUP_CHECKS, group_check, body).await;
        let [AnyEvent::DepartureBlocked(girl), AnyEvent::DepartureCleared(man)] = events.as_slice()
        else {
            panic!("a block and a clearance: {events:?}")
        };
        assert_eq!(
            (girl.traveller_sex, girl.traveller_minor),
            (Some(Sex::Female), Some(true))
        );
        assert_eq!(
            (man.traveller_sex, man.traveller_minor),
            (Some(Sex::Male), Some(false))
        );
        assert_no_birth_date(&events[0], GIRL);
        assert_no_birth_date(&events[1], "3301100203950011");
    }

    /// "A child on the day" is the local day: at 06:30 WIB on her 18th birthday she is an
    /// adult, though in UTC it is still the day before.
    #[tokio::test]
    async fn minority_is_taken_on_the_local_day_of_the_check() {
        let mut body = umrah_trip();
        body.as_object_mut().unwrap().extend(
            json!({
                "nik": GIRL, "decision": "cleared", "occurred_at": "2028-08-16T23:30:00Z",
            })
            .as_object()
            .unwrap()
            .clone(),
        );
        let events = published(&DEPARTURE_CHECKS, departure_check, body).await;
        let [AnyEvent::DepartureCleared(cleared)] = events.as_slice() else {
            panic!("one DepartureCleared: {events:?}")
        };
        assert_eq!(cleared.traveller_minor, Some(false));
    }
}
