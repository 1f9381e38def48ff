//! Departure checks at airports and seaports (TPI) → DepartureBlocked or DepartureCleared,
//! one person at a time or a group travelling together (one shared group id).

use lintas_kit::events::*;

use super::fields;
use crate::accept::Request;
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
    let envelope = r.envelope(trip, Some(&person.text("nik")));
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
        }
        .into_any()
    })
}
