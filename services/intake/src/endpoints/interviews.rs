//! Passport interview outcomes at the immigration office → PassportInterviewConducted, and a
//! VisaTypeFlagged when the interview flags the purpose or visa.

use lintas_kit::events::*;

use super::{fields, NIK};
use crate::accept::Request;
use serde_json::{json, Value as Json};

use crate::spec::{
    example_date, example_time, optional, required, required_when, symbols, Checks, Endpoint,
    Field, FieldError, Kind, Validated,
};

const FLAG: &[Field] = &[
    required(
        "reason",
        Kind::Symbol(symbols::<VisaFlagReason>),
        "Why the purpose or visa does not fit the evidence.",
    ),
    required(
        "visa_type",
        Kind::Symbol(symbols::<VisaType>),
        "Visa applied for or held.",
    ),
    required("destination_country", Kind::Country, "Destination country."),
];

pub static INTERVIEWS: Endpoint = Endpoint {
    path: "/v1/imigrasi/interviews",
    summary: "Outcome of a passport interview (wawancara): approve, defer (30 days by default) or reject",
    publishes: &["PassportInterviewConducted", "VisaTypeFlagged"],
    agencies: &[Agency::Imigrasi],
    fields: fields![
        NIK,
        required("outcome", Kind::Symbol(symbols::<InterviewOutcome>), "Decision of the interview."),
        optional("defer_until", Kind::FutureDate, "For a deferral only: when the applicant may apply again; 30 days after the interview when absent."),
        required_when("reason_codes", Kind::List { item: &Kind::Symbol(symbols::<InterviewReason>), max: 10 }, ("outcome", &["defer", "reject"]), "Reasons; at least one for a deferral or a rejection, none for an approval."),
        optional("passport_number", Kind::Text { max: 20 }, "Passport issued, or a prior passport found (personal data)."),
        optional("flag", Kind::Object(FLAG), "When the interview flags the declared purpose or the visa: published as VisaTypeFlagged."),
    ],
    example: interview_example,
    example_caller: Agency::Imigrasi,
};

/// An umrah applicant without the travel operator's letter: deferred, and the visa flagged.
fn interview_example(_: &Checks<'_>) -> Json {
    json!({
        // A woman born 21 June 1993 (day + 40 in the NIK).
        "nik": "3301126106930004",
        "outcome": "defer",
        "defer_until": example_date(30),
        "reason_codes": ["missing_travel_operator_letter"],
        "passport_number": "C4821937",
        "flag": {
            "reason": "umrah_or_ziarah_without_travel_operator_letter",
            "visa_type": "umrah",
            "destination_country": "SA",
        },
        "officer_id": "kanim-clp-0021",
        "occurred_at": example_time(3),
        "correlation_id": "7e3d2b1a-9c8f-4a6e-b5d4-3c2b1a0f9e8d",
    })
}

pub fn interview(v: &Validated, r: &Request<'_>) -> Result<Vec<AnyEvent>, Vec<FieldError>> {
    let outcome: InterviewOutcome = v.symbol("outcome");
    let reasons: Vec<InterviewReason> = v.texts_as_symbols("reason_codes");
    let mut errors = Vec::new();
    match outcome {
        InterviewOutcome::Approve if !reasons.is_empty() => errors.push(FieldError::new(
            "reason_codes",
            "must be empty when the outcome is approve",
        )),
        InterviewOutcome::Defer | InterviewOutcome::Reject if reasons.is_empty() => {
            errors.push(FieldError::new(
                "reason_codes",
                "at least one reason is required to defer or reject",
            ))
        }
        _ => {}
    }
    if outcome != InterviewOutcome::Defer && v.opt_date("defer_until").is_some() {
        errors.push(FieldError::new("defer_until", "only a deferral has a date"));
    }
    if !errors.is_empty() {
        return Err(errors);
    }
    let nik = v.text("nik");
    let envelope = r.envelope(v, Some(&nik));
    let defer_until = (outcome == InterviewOutcome::Defer).then(|| {
        v.opt_date("defer_until").unwrap_or_else(|| {
            // The office's local date of the interview, not the UTC one (an interview at
            // 06:00 WIB is still the day before in UTC).
            PassportInterviewConducted::default_defer_until(
                r.state.time_zone.local_date(envelope.occurred_at),
            )
        })
    });
    let mut events = vec![PassportInterviewConducted {
        interview_office: r.caller.office.clone(),
        outcome,
        defer_until,
        reason_codes: reasons,
        passport_number: v.opt_text("passport_number"),
        envelope,
    }
    .into_any()];
    if let Some(flag) = v.object("flag") {
        let mut envelope = r.envelope(v, Some(&nik));
        envelope.correlation_id = envelope
            .correlation_id
            .or(Some(events[0].envelope().event_id));
        events.push(
            VisaTypeFlagged {
                envelope,
                reason: flag.symbol("reason"),
                stage: ScreeningStage::PassportInterview,
                visa_type: flag.symbol("visa_type"),
                destination_country: flag.text("destination_country"),
            }
            .into_any(),
        );
    }
    Ok(events)
}
