//! Visa and purpose flags raised at the passport interview or at a checkpoint → VisaTypeFlagged.

use lintas_kit::events::*;

use super::{fields, NIK};
use crate::accept::Request;
use crate::spec::{required, symbols, Endpoint, FieldError, Kind, Validated};

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
};

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
