//! `POST /v1/applicants`: a jobseeker card (AK-1) or a passport application → ApplicantRegistered.

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::IntoResponse;
use axum::Json;
use lintas_kit::auth::Caller;
use lintas_kit::events::{
    ApplicantPersonalData, ApplicantRegistered, Envelope, Event, PlacementAgency,
};
use serde_json::{json, Value};

use crate::validate::{FieldError, Fields};
use crate::{IntakeState, Refusal};

pub async fn register(
    State(state): State<IntakeState>,
    caller: Caller,
    headers: HeaderMap,
    body: Bytes,
) -> Result<impl IntoResponse, Refusal> {
    let content_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    if !content_type
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .eq_ignore_ascii_case("application/json")
    {
        return Err(Refusal::BadRequest(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            format!("content type must be application/json, got `{content_type}`"),
        ));
    }
    let body: Value = serde_json::from_slice(&body).map_err(|e| {
        Refusal::BadRequest(
            StatusCode::BAD_REQUEST,
            format!("body is not valid JSON: {e}"),
        )
    })?;
    let event = applicant_from(&body, &caller, &state)?;
    let delivery = state.producer.publish(&event).await?;
    tracing::info!(event_id = %event.envelope.event_id, partition = delivery.partition, offset = delivery.offset, "applicant registered");
    Ok((
        StatusCode::ACCEPTED,
        Json(json!({
            "event_id": event.envelope.event_id,
            "subject_key": event.envelope.subject_key,
            "topic": state.producer.codec().topic_name(ApplicantRegistered::TOPIC),
            "partition": delivery.partition,
            "offset": delivery.offset,
        })),
    ))
}

fn applicant_from(
    body: &Value,
    caller: &Caller,
    state: &IntakeState,
) -> Result<ApplicantRegistered, Refusal> {
    let mut f = Fields::new(body).map_err(|e| Refusal::Invalid(vec![e]))?;
    let source = f.symbol("source");
    let nik = f.nik("nik");
    let full_name = f.text("full_name", 200);
    let sex = f.symbol("sex");
    let birth_date = f.past_date("birth_date");
    let village = f.text("village", 100);
    let sub_district = f.text("sub_district", 100);
    let regency = f.text("regency", 100);
    let declared_purpose = f.symbol("declared_purpose");
    let destination_country = f.country("destination_country");
    let officer_id = f.text("officer_id", 64);
    let occurred_at = f.optional_past_time("occurred_at");
    let correlation_id = f.optional_uuid("correlation_id");
    let sponsor_name = f.optional_text("sponsor_name", 200);
    let placement_agency = match f.optional_object("placement_agency") {
        Some(agency) => {
            let mut a = Fields::nested(agency, "placement_agency");
            let name = a.text("name", 200);
            let licence_number = a.optional_text("licence_number", 64);
            f.absorb(a);
            Some((name, licence_number))
        }
        None => None,
    };
    if let (Some(nik), Some(birth_date), Some(sex)) = (&nik, &birth_date, &sex) {
        f.nik_matches(nik, *birth_date, *sex);
    }
    let errors: Vec<FieldError> = f.finish();
    if !errors.is_empty() {
        return Err(Refusal::Invalid(errors));
    }
    // Every field was checked above; `unwrap` cannot fail past `finish`.
    let nik = nik.unwrap();
    let mut envelope = Envelope::new(
        caller.agency,
        caller.office.clone(),
        officer_id.unwrap(),
        occurred_at
            .flatten()
            .unwrap_or_else(lintas_kit::events::timefmt::millis::now),
    );
    envelope.subject_key = Some(state.keyer.subject_key(&nik));
    envelope.correlation_id = correlation_id.flatten();
    envelope.legal_basis = Some("UU 18/2017 Pasal 13 (dokumen penempatan PMI)".into());
    Ok(ApplicantRegistered {
        envelope,
        source: source.unwrap(),
        personal: ApplicantPersonalData {
            nik,
            full_name: full_name.unwrap(),
        },
        sex: sex.unwrap(),
        birth_date: birth_date.unwrap(),
        village: village.unwrap(),
        sub_district: sub_district.unwrap(),
        regency: regency.unwrap(),
        declared_purpose: declared_purpose.unwrap(),
        destination_country: destination_country.unwrap(),
        placement_agency: placement_agency.and_then(|(name, licence)| {
            Some(PlacementAgency {
                name: name?,
                licence_number: licence.flatten(),
            })
        }),
        sponsor_name: sponsor_name.flatten(),
    })
}
