//! Visa and purpose flags raised at the passport interview or at a checkpoint → VisaTypeFlagged.

use lintas_kit::events::*;

use super::{fields, NIK};
use crate::accept::Request;
use serde_json::{json, Value as Json};

use crate::spec::{example_time, required, symbols, Checks, Endpoint, FieldError, Kind, Validated};

pub static VISA_FLAGS: Endpoint = Endpoint {
    path: "/v1/imigrasi/visa-flags",
    summary: "The declared purpose or the visa does not fit the evidence",
    publishes: &["VisaTypeFlagged"],
    agencies: &[Agency::Imigrasi],
    fields: fields![
        NIK,
        required(
            "reason",
            Kind::Symbol(symbols::<VisaFlagReason>),
            "Reason code."
        ),
        required(
            "stage",
            Kind::Symbol(symbols::<ScreeningStage>),
            "Where the flag was raised."
        ),
        required(
            "visa_type",
            Kind::Symbol(symbols::<VisaType>),
            "Visa held or applied for."
        ),
        required("destination_country", Kind::Country, "Destination country."),
    ],
    example: visa_flag_example,
    example_caller: Agency::Imigrasi,
};

/// A "cultural ambassador" invitation to Malaysia on a visit visa: a known cover for
/// non-procedural placement.
fn visa_flag_example(_: &Checks<'_>) -> Json {
    json!({
        // A woman born 17 August 1998 (day + 40 in the NIK).
        "nik": "3301155708980003",
        "reason": "cultural_ambassador",
        "stage": "passport_interview",
        "visa_type": "visit",
        "destination_country": "MY",
        "officer_id": "kanim-clp-0021",
        "occurred_at": example_time(2),
    })
}

pub fn visa_flag(v: &Validated, r: &Request<'_>) -> Result<Vec<AnyEvent>, Vec<FieldError>> {
    Ok(vec![flag(v, r)])
}

pub(crate) fn flag(v: &Validated, r: &Request<'_>) -> AnyEvent {
    VisaTypeFlagged {
        envelope: r.envelope(v, Some(&v.text("nik"))),
        reason: v.symbol("reason"),
        stage: v.symbol("stage"),
        visa_type: v.symbol("visa_type"),
        destination_country: v.text("destination_country"),
    }
    .into_any()
}
