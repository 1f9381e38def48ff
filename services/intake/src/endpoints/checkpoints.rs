//! Departure checks at airports and seaports (TPI) → DepartureBlocked or DepartureCleared,
//! one person at a time or a group travelling together (one shared group id).

use lintas_kit::events::*;

use super::fields;
use crate::accept::Request;
use crate::spec::{optional, required, symbols, Endpoint, Field, FieldError, Kind, Validated};

fn decisions() -> Vec<&'static str> {
    vec!["cleared", "deferred", "refused"]
}

/// What the checkpoint decided about one traveller.
const TRAVELLER: &[Field] = &[
    required("nik", Kind::Nik, "National ID number of the traveller."),
    required(
        "decision",
        Kind::Symbol(decisions),
        "cleared, deferred (penundaan) or refused (penolakan).",
    ),
    optional(
        "reason",
        Kind::Symbol(symbols::<BlockReason>),
        "Why the departure was blocked; required unless cleared.",
    ),
    optional(
        "handed_to",
        Kind::Symbol(symbols::<HandedTo>),
        "Who took charge of the person; required unless cleared.",
    ),
    optional(
        "return_ticket",
        Kind::Bool,
        "Whether the traveller held a return ticket; required unless cleared.",
    ),
    optional(
        "epmi_id",
        Kind::Text { max: 40 },
        "e-PMI id of a legal placement, for a cleared worker (personal data).",
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
        required("nik", Kind::Nik, "National ID number of the traveller."),
        required(
            "decision",
            Kind::Symbol(decisions),
            "cleared, deferred (penundaan) or refused (penolakan)."
        ),
        optional(
            "reason",
            Kind::Symbol(symbols::<BlockReason>),
            "Why the departure was blocked; required unless cleared."
        ),
        optional(
            "handed_to",
            Kind::Symbol(symbols::<HandedTo>),
            "Who took charge of the person; required unless cleared."
        ),
        optional(
            "return_ticket",
            Kind::Bool,
            "Whether the traveller held a return ticket; required unless cleared."
        ),
        optional(
            "epmi_id",
            Kind::Text { max: 40 },
            "e-PMI id of a legal placement, for a cleared worker (personal data)."
        ),
        optional(
            "group_id",
            Kind::Uuid,
            "Shared id of people travelling together."
        ),
    ],
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
                item: &Kind::Object(TRAVELLER),
                max: 200
            },
            "Each traveller and the decision about them."
        ),
    ],
};

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
    let blocked = decision != "cleared";
    let mut errors = Vec::new();
    for field in ["reason", "handed_to", "return_ticket"] {
        if blocked && !person.has(field) {
            errors.push(FieldError::new(
                format!("{prefix}{field}"),
                "is required when the departure is blocked",
            ));
        }
    }
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
