//! Registrations: jobseeker cards (AK-1) and passport recommendations at Disnaker, passport
//! applications at the immigration office → ApplicantRegistered.

use lintas_kit::events::*;

use super::{fields, NIK};
use crate::accept::Request;
use crate::checks::nik_mismatches;
use serde_json::{json, Value as Json};

use crate::spec::{
    example_time, optional, required, symbols, Checks, Endpoint, Field, FieldError, Kind, Validated,
};

const PLACEMENT_AGENCY: &[Field] = &[
    required(
        "name",
        Kind::Text { max: 200 },
        "Registered name of the placement agency (P3MI) as given.",
    ),
    optional(
        "licence_number",
        Kind::Text { max: 64 },
        "Its licence (SIP3MI) number, if the applicant gave one.",
    ),
];

macro_rules! applicant_fields {
    ($($extra:expr),* $(,)?) => {
        fields![
            NIK,
            required("full_name", Kind::Text { max: 200 }, "Name as on the identity card (personal data)."),
            required("sex", Kind::Symbol(symbols::<Sex>), "Sex as on the identity card; must match the NIK."),
            required("birth_date", Kind::PastDate, "Date of birth; must match the NIK."),
            required("village_code", Kind::VillageCode, "Kemendagri code of the village (desa/kelurahan) of residence: how villages and regencies are matched."),
            required("village", Kind::Text { max: 100 }, "Village (desa/kelurahan) of residence, for display."),
            required("sub_district", Kind::Text { max: 100 }, "Sub-district (kecamatan) of residence, for display."),
            required("regency", Kind::Text { max: 100 }, "Regency or city (kabupaten/kota) of residence, for display."),
            required("declared_purpose", Kind::Symbol(symbols::<DeclaredPurpose>), "Declared purpose of travel."),
            required("destination_country", Kind::Country, "Destination country."),
            optional("placement_agency", Kind::Object(PLACEMENT_AGENCY), "Placement agency named by the applicant."),
            optional("sponsor_name", Kind::Text { max: 200 }, "Recruiter or sponsor named by the applicant (personal data)."),
            optional("identity_document_checked", Kind::Bool, "Disnaker: the officer checked the name and NIK against the identity card (KTP). Only a passport application at an immigration office, or a Disnaker registration with this check, makes the identity verified; any other registration is kept as an unverified claim."),
            $($extra),*
        ]
    };
}

pub static APPLICANTS: Endpoint = Endpoint {
    path: "/v1/applicants",
    summary: "Register a prospective migrant worker through any registration channel",
    publishes: &["ApplicantRegistered"],
    agencies: &[Agency::Disnaker, Agency::Imigrasi, Agency::Desa],
    fields: applicant_fields![required(
        "source",
        Kind::Symbol(symbols::<RegistrationSource>),
        "Registration channel."
    )],
    example: village_report_example,
    example_caller: Agency::Desa,
};

pub static JOBSEEKERS: Endpoint = Endpoint {
    path: "/v1/disnaker/jobseekers",
    summary: "Jobseeker card (AK-1) issued by Disnaker",
    publishes: &["ApplicantRegistered"],
    agencies: &[Agency::Disnaker],
    fields: applicant_fields![],
    example: jobseeker_example,
    example_caller: Agency::Disnaker,
};

pub static PASSPORT_RECOMMENDATIONS: Endpoint = Endpoint {
    path: "/v1/disnaker/passport-recommendations",
    summary: "Disnaker recommendation letter for a passport application",
    publishes: &["ApplicantRegistered"],
    agencies: &[Agency::Disnaker],
    fields: applicant_fields![],
    example: recommendation_example,
    example_caller: Agency::Disnaker,
};

pub static PASSPORT_APPLICATIONS: Endpoint = Endpoint {
    path: "/v1/imigrasi/passport-applications",
    summary: "Passport application received by an immigration office",
    publishes: &["ApplicantRegistered"],
    agencies: &[Agency::Imigrasi],
    fields: applicant_fields![],
    example: passport_application_example,
    example_caller: Agency::Imigrasi,
};

// Examples: synthetic people from villages of Cilacap (NIKs start 33 01, Jawa Tengah,
// Kabupaten Cilacap; digits 7 to 12 are the birth date, day + 40 for women).

/// A village office reports a young woman recruited by a sponsor for work in Malaysia.
fn village_report_example(_: &Checks<'_>) -> Json {
    json!({
        "source": "village_report",
        "nik": "3301155708980003",
        "full_name": "Sri Wahyuni",
        "sex": "female",
        "birth_date": "1998-08-17",
        "village_code": "33.01.02.2001",
        "village": "Kesugihan",
        "sub_district": "Kesugihan",
        "regency": "Cilacap",
        "declared_purpose": "work",
        "destination_country": "MY",
        "placement_agency": {"name": "PT Sinar Jaya Abadi"},
        "sponsor_name": "Darto",
        "officer_id": "desa-kesugihan-03",
        "occurred_at": example_time(4),
    })
}

fn jobseeker_example(_: &Checks<'_>) -> Json {
    json!({
        "nik": "3301100203950011",
        "full_name": "Agus Setiawan",
        "sex": "male",
        "birth_date": "1995-03-02",
        "village_code": "33.01.03.2001",
        "village": "Adipala",
        "sub_district": "Adipala",
        "regency": "Cilacap",
        "declared_purpose": "work",
        "destination_country": "TW",
        "placement_agency": {"name": "PT Bina Tenaga Mandiri", "licence_number": "SIP3MI 1207/2024"},
        "identity_document_checked": true,
        "officer_id": "disnaker-clp-07",
        "occurred_at": example_time(5),
        "correlation_id": "3a6f8e21-4b7c-4d9e-a1f2-6b5c4d3e2f10",
    })
}

fn recommendation_example(_: &Checks<'_>) -> Json {
    json!({
        "nik": "3301084411010007",
        "full_name": "Dwi Lestari",
        "sex": "female",
        "birth_date": "2001-11-04",
        "village_code": "33.01.07.2001",
        "village": "Maos Kidul",
        "sub_district": "Maos",
        "regency": "Cilacap",
        "declared_purpose": "work",
        "destination_country": "HK",
        "placement_agency": {"name": "PT Citra Karya Sejahtera", "licence_number": "SIP3MI 0388/2023"},
        "identity_document_checked": true,
        "officer_id": "disnaker-clp-07",
        "occurred_at": example_time(6),
    })
}

fn passport_application_example(_: &Checks<'_>) -> Json {
    json!({
        "nik": "3301126106930004",
        "full_name": "Nur Aini",
        "sex": "female",
        "birth_date": "1993-06-21",
        "village_code": "33.01.22.1001",
        "village": "Sidanegara",
        "sub_district": "Cilacap Tengah",
        "regency": "Cilacap",
        "declared_purpose": "umrah",
        "destination_country": "SA",
        "officer_id": "kanim-clp-0021",
        "occurred_at": example_time(7),
    })
}

pub fn any_source(v: &Validated, r: &Request<'_>) -> Result<Vec<AnyEvent>, Vec<FieldError>> {
    applicant(v, r, v.symbol("source"))
}

pub fn jobseeker(v: &Validated, r: &Request<'_>) -> Result<Vec<AnyEvent>, Vec<FieldError>> {
    applicant(v, r, RegistrationSource::JobseekerCardAk1)
}

pub fn passport_recommendation(
    v: &Validated,
    r: &Request<'_>,
) -> Result<Vec<AnyEvent>, Vec<FieldError>> {
    applicant(v, r, RegistrationSource::PassportRecommendation)
}

pub fn passport_application(
    v: &Validated,
    r: &Request<'_>,
) -> Result<Vec<AnyEvent>, Vec<FieldError>> {
    applicant(v, r, RegistrationSource::PassportApplication)
}

/// The registration channels each agency may use: a village office reports, it does not
/// issue AK-1 cards or take passport applications.
fn channel_allowed(agency: Agency, source: RegistrationSource) -> bool {
    use RegistrationSource::*;
    match agency {
        Agency::Imigrasi => matches!(source, PassportApplication | Other),
        Agency::Disnaker => matches!(source, JobseekerCardAk1 | PassportRecommendation | Other),
        Agency::Desa => matches!(source, VillageReport),
        _ => false,
    }
}

/// Whether the channel is entitled to assert the identity: an immigration office's passport
/// application, or Disnaker's card or recommendation after the identity document was checked.
fn identity_verified(agency: Agency, source: RegistrationSource, document_checked: bool) -> bool {
    use RegistrationSource::*;
    match (agency, source) {
        (Agency::Imigrasi, PassportApplication) => true,
        (Agency::Disnaker, JobseekerCardAk1 | PassportRecommendation) => document_checked,
        _ => false,
    }
}

fn applicant(
    v: &Validated,
    r: &Request<'_>,
    source: RegistrationSource,
) -> Result<Vec<AnyEvent>, Vec<FieldError>> {
    if !channel_allowed(r.caller.agency, source) {
        return Err(vec![FieldError::new(
            "source",
            format!(
                "a {} office may not register through {source}",
                r.caller.agency
            ),
        )]);
    }
    let nik = v.text("nik");
    let (birth_date, sex) = (v.date("birth_date"), v.symbol::<Sex>("sex"));
    let mismatches: Vec<FieldError> = nik_mismatches(&nik, birth_date, sex)
        .into_iter()
        .map(|(f, m)| FieldError::new(f, m))
        .collect();
    if !mismatches.is_empty() {
        return Err(mismatches);
    }
    let mut envelope = r.envelope(v, Some(&nik));
    envelope.legal_basis = Some("UU 18/2017 Pasal 13 (dokumen penempatan PMI)".into());
    Ok(vec![ApplicantRegistered {
        envelope,
        source,
        personal: ApplicantPersonalData {
            nik,
            full_name: v.text("full_name"),
        },
        sex,
        birth_date,
        village: v.text("village"),
        sub_district: v.text("sub_district"),
        regency: v.text("regency"),
        declared_purpose: v.symbol("declared_purpose"),
        destination_country: v.text("destination_country"),
        placement_agency: v.object("placement_agency").map(|p| PlacementAgency {
            name: p.text("name"),
            licence_number: p.opt_text("licence_number"),
        }),
        sponsor_name: v.opt_text("sponsor_name"),
        identity_verified: identity_verified(
            r.caller.agency,
            source,
            v.opt_bool("identity_document_checked").unwrap_or(false),
        ),
        village_code: v.opt_village_code("village_code"),
    }
    .into_any()])
}
