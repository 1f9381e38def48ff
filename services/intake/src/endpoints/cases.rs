//! Referrals and the police and prosecution lifecycle → CaseReferred, RecruiterReported,
//! InvestigationOpened, SpdpSent, ProsecutionStageChanged. All keyed by case id, so one
//! case's events are read in order.

use lintas_kit::events::*;

use super::fields;
use crate::accept::Request;
use serde_json::{json, Value as Json};

use crate::spec::{
    example_date, example_time, optional, required, required_unless, required_with, symbols,
    Checks, Endpoint, FieldError, Kind, Validated,
};

const CASE_ID: crate::spec::Field = required(
    "case_id",
    Kind::Key,
    "Case id shared by every agency, for example LINTAS-CLP-2026-0042.",
);
const SUBJECT_NIKS: crate::spec::Field = optional(
    "subject_niks",
    Kind::List {
        item: &Kind::Nik,
        max: 500,
    },
    "NIKs of the people concerned; only their subject keys are published.",
);
const SUBJECT_KEYS: crate::spec::Field = optional(
    "subject_keys",
    Kind::List {
        item: &Kind::Key,
        max: 500,
    },
    "Subject keys of people already known by key.",
);
const LEGAL_ARTICLES: crate::spec::Field = optional(
    "legal_articles",
    Kind::List {
        item: &Kind::Text { max: 100 },
        max: 20,
    },
    "Legal articles cited, for example 'UU 21/2007 Pasal 4' or 'UU 18/2017 Pasal 81'.",
);

pub static REFERRALS: Endpoint = Endpoint {
    path: "/v1/cases/referrals",
    summary: "Refer a person or a group to another agency",
    publishes: &["CaseReferred"],
    agencies: &[
        Agency::Imigrasi,
        Agency::Disnaker,
        Agency::Polri,
        Agency::Kejaksaan,
        Agency::Desa,
    ],
    fields: fields![
        CASE_ID,
        required(
            "to_agency",
            Kind::Symbol(symbols::<Agency>),
            "Agency the case is referred to."
        ),
        required(
            "reason",
            Kind::Symbol(symbols::<ReferralReason>),
            "Reason code."
        ),
        // A referral concerns at least one person.
        required_unless(
            "subject_niks",
            SUBJECT_NIKS.kind,
            "subject_keys",
            SUBJECT_NIKS.doc
        ),
        SUBJECT_KEYS,
        optional(
            "suspected_recruiter_keys",
            Kind::List {
                item: &Kind::Key,
                max: 100
            },
            "Pseudonymous ids of suspected recruiters."
        ),
        LEGAL_ARTICLES,
    ],
    example: referral_example,
    example_caller: Agency::Imigrasi,
};

pub static RECRUITERS: Endpoint = Endpoint {
    path: "/v1/cases/recruiters",
    summary:
        "Report a recruiter, sponsor, transporter, shelter operator or unlicensed training centre",
    publishes: &["RecruiterReported"],
    agencies: &[
        Agency::Polri,
        Agency::Imigrasi,
        Agency::Disnaker,
        Agency::Desa,
    ],
    fields: fields![
        optional("case_id", Kind::Key, "Case the report belongs to, if any."),
        required(
            "recruiter_key",
            Kind::Key,
            "Pseudonymous id of the reported person or organisation."
        ),
        required(
            "role",
            Kind::Symbol(symbols::<RecruiterRole>),
            "Role in the recruitment or trafficking process."
        ),
        optional(
            "phone_numbers",
            Kind::List {
                item: &Kind::Phone,
                max: 10
            },
            "Phone numbers used (personal data)."
        ),
        required(
            "licence_status",
            Kind::Symbol(symbols::<LicenceStatus>),
            "Placement licence status."
        ),
        optional(
            "village",
            Kind::Text { max: 100 },
            "Village where active, for display."
        ),
        required_with(
            "village_code",
            Kind::VillageCode,
            "village",
            "Kemendagri code of the village where active: how villages are matched."
        ),
        optional(
            "sub_district",
            Kind::Text { max: 100 },
            "Sub-district where active."
        ),
        required("regency", Kind::Text { max: 100 }, "Regency where active."),
        optional(
            "linked_subject_niks",
            Kind::List {
                item: &Kind::Nik,
                max: 500
            },
            "NIKs of people linked to this recruiter; published as subject keys."
        ),
        optional(
            "linked_subject_keys",
            Kind::List {
                item: &Kind::Key,
                max: 500
            },
            "Subject keys of people linked to this recruiter."
        ),
        optional(
            "placement_agency_name",
            Kind::Text { max: 200 },
            "Placement agency the recruiter claims to work for."
        ),
    ],
    example: recruiter_example,
    example_caller: Agency::Polri,
};

pub static INVESTIGATIONS: Endpoint = Endpoint {
    path: "/v1/cases/investigations",
    summary: "Police open an investigation (penyidikan)",
    publishes: &["InvestigationOpened"],
    agencies: &[Agency::Polri],
    fields: fields![
        CASE_ID,
        required(
            "investigating_unit",
            Kind::Text { max: 100 },
            "Investigating unit, for example Satreskrim Unit PPA Polresta Cilacap."
        ),
        LEGAL_ARTICLES,
        optional(
            "suspect_recruiter_keys",
            Kind::List {
                item: &Kind::Key,
                max: 100
            },
            "Pseudonymous ids of the suspects."
        ),
        SUBJECT_NIKS,
        SUBJECT_KEYS,
    ],
    example: investigation_example,
    example_caller: Agency::Polri,
};

pub static SPDP: Endpoint = Endpoint {
    path: "/v1/cases/spdp",
    summary: "Notice of investigation (SPDP) sent to the prosecutor, due within 7 days of opening",
    publishes: &["SpdpSent"],
    agencies: &[Agency::Polri],
    fields: fields![
        CASE_ID,
        required(
            "spdp_number",
            Kind::Text { max: 100 },
            "Number of the SPDP letter."
        ),
        required(
            "sent_to_office",
            Kind::Text { max: 100 },
            "Prosecutor's office it was sent to, for example KEJARI-CILACAP."
        ),
        required(
            "investigation_opened_on",
            Kind::PastDate,
            "Date the investigation was opened."
        ),
    ],
    example: spdp_example,
    example_caller: Agency::Polri,
};

pub static PROSECUTION_STAGES: Endpoint = Endpoint {
    path: "/v1/cases/prosecution-stages",
    summary: "Prosecution form issued (P-16 to P-31), or the investigation file sent to the prosecutor",
    publishes: &["ProsecutionStageChanged"],
    agencies: &[Agency::Kejaksaan, Agency::Polri],
    fields: fields![
        CASE_ID,
        required("stage", Kind::Symbol(symbols::<ProsecutionStage>), "Form: p16 prosecutor assigned, p18 file incomplete, p19 returned with instructions, p21 complete, p22 handover, p29 indictment, p31 to court; file_sent: the investigator sent the file (first or corrected), the only stage a polri office records."),
        optional("suspect_nik", Kind::Nik, "The suspect whose file (berkas) the stage concerns, when the case is split into one file per suspect: each file keeps its own deadlines. Published as the subject key only."),
        optional("prosecutor_id", Kind::Key, "Pseudonymous id of the prosecutor assigned."),
        optional("due_date", Kind::FutureDate, "Deadline the stage sets, if any."),
    ],
    example: prosecution_stage_example,
    example_caller: Agency::Kejaksaan,
};

// Examples: one case in Cilacap, a recruiter sending women from Kesugihan to Cambodia,
// followed from the checkpoint's referral to the prosecutor.
const EXAMPLE_CASE: &str = "LINTAS-CLP-2026-0042";
const EXAMPLE_RECRUITER: &str = "rk-polresta-clp-0117";
const EXAMPLE_VICTIMS: [&str; 2] = ["3301155708980003", "3301126106930004"];

fn referral_example(_: &Checks<'_>) -> Json {
    json!({
        "case_id": EXAMPLE_CASE,
        "to_agency": "polri",
        "reason": "suspected_trafficking",
        "subject_niks": EXAMPLE_VICTIMS,
        "suspected_recruiter_keys": [EXAMPLE_RECRUITER],
        "legal_articles": ["UU 21/2007 Pasal 4"],
        "officer_id": "kanim-clp-0021",
        "occurred_at": example_time(3),
    })
}

fn recruiter_example(_: &Checks<'_>) -> Json {
    json!({
        "case_id": EXAMPLE_CASE,
        "recruiter_key": EXAMPLE_RECRUITER,
        "role": "recruiter",
        "phone_numbers": ["+6281327654321", "082226781234"],
        "licence_status": "unlicensed",
        "village": "Kesugihan",
        "village_code": "33.01.02.2001",
        "sub_district": "Kesugihan",
        "regency": "Cilacap",
        "linked_subject_niks": EXAMPLE_VICTIMS,
        "placement_agency_name": "PT Sinar Jaya Abadi",
        "officer_id": "polresta-clp-ppa-05",
        "occurred_at": example_time(2),
    })
}

fn investigation_example(_: &Checks<'_>) -> Json {
    json!({
        "case_id": EXAMPLE_CASE,
        "investigating_unit": "Satreskrim Unit PPA Polresta Cilacap",
        "legal_articles": ["UU 21/2007 Pasal 4", "UU 18/2017 Pasal 81"],
        "suspect_recruiter_keys": [EXAMPLE_RECRUITER],
        "subject_niks": EXAMPLE_VICTIMS,
        "officer_id": "polresta-clp-ppa-05",
        "occurred_at": example_time(2),
    })
}

fn spdp_example(_: &Checks<'_>) -> Json {
    json!({
        "case_id": EXAMPLE_CASE,
        "spdp_number": "SPDP/42/XI/2026/Reskrim",
        "sent_to_office": "KEJARI-CILACAP",
        "investigation_opened_on": example_date(-3),
        "officer_id": "polresta-clp-ppa-05",
        "occurred_at": example_time(1),
    })
}

fn prosecution_stage_example(_: &Checks<'_>) -> Json {
    json!({
        "case_id": EXAMPLE_CASE,
        "stage": "p16",
        "prosecutor_id": "jaksa-clp-0007",
        "due_date": example_date(14),
        "officer_id": "jaksa-clp-0007",
        "occurred_at": example_time(1),
    })
}

/// Subject keys from NIKs and keys given; `field` names the error when there are none.
fn subjects(v: &Validated, r: &Request<'_>, niks: &str, keys: &str) -> Vec<String> {
    let mut out: Vec<String> = v.texts(niks).iter().map(|n| r.subject_key(n)).collect();
    out.extend(v.texts(keys));
    out.sort();
    out.dedup();
    out
}

fn case_envelope(v: &Validated, r: &Request<'_>) -> Envelope {
    let mut envelope = r.envelope(v, None);
    envelope.case_id = v.opt_text("case_id");
    envelope
}

pub fn referral(v: &Validated, r: &Request<'_>) -> Result<Vec<AnyEvent>, Vec<FieldError>> {
    let subject_keys = subjects(v, r, "subject_niks", "subject_keys");
    let to_agency: Agency = v.symbol("to_agency");
    let mut errors = Vec::new();
    if subject_keys.is_empty() {
        errors.push(FieldError::new(
            "subject_niks",
            "a referral concerns at least one person (subject_niks or subject_keys)",
        ));
    }
    if to_agency == r.caller.agency {
        errors.push(FieldError::new(
            "to_agency",
            "an agency does not refer a case to itself",
        ));
    }
    if !errors.is_empty() {
        return Err(errors);
    }
    let mut envelope = case_envelope(v, r);
    envelope.subject_key = (subject_keys.len() == 1).then(|| subject_keys[0].clone());
    Ok(vec![CaseReferred {
        envelope,
        from_agency: r.caller.agency,
        to_agency,
        reason: v.symbol("reason"),
        subject_keys,
        suspected_recruiter_keys: v.texts("suspected_recruiter_keys"),
        legal_articles: v.texts("legal_articles"),
    }
    .into_any()])
}

pub fn recruiter(v: &Validated, r: &Request<'_>) -> Result<Vec<AnyEvent>, Vec<FieldError>> {
    Ok(vec![RecruiterReported {
        envelope: case_envelope(v, r),
        recruiter_key: v.text("recruiter_key"),
        role: v.symbol("role"),
        phone_numbers: v.texts("phone_numbers"),
        licence_status: v.symbol("licence_status"),
        village: v.opt_text("village"),
        sub_district: v.opt_text("sub_district"),
        regency: v.text("regency"),
        linked_subject_keys: subjects(v, r, "linked_subject_niks", "linked_subject_keys"),
        placement_agency_name: v.opt_text("placement_agency_name"),
        village_code: v.opt_village_code("village_code"),
    }
    .into_any()])
}

pub fn investigation(v: &Validated, r: &Request<'_>) -> Result<Vec<AnyEvent>, Vec<FieldError>> {
    Ok(vec![InvestigationOpened {
        envelope: case_envelope(v, r),
        investigating_unit: v.text("investigating_unit"),
        legal_articles: v.texts("legal_articles"),
        suspect_recruiter_keys: v.texts("suspect_recruiter_keys"),
        subject_keys: subjects(v, r, "subject_niks", "subject_keys"),
    }
    .into_any()])
}

pub fn spdp(v: &Validated, r: &Request<'_>) -> Result<Vec<AnyEvent>, Vec<FieldError>> {
    Ok(vec![SpdpSent {
        envelope: case_envelope(v, r),
        spdp_number: v.text("spdp_number"),
        sent_to_office: v.text("sent_to_office"),
        investigation_opened_on: v.date("investigation_opened_on"),
    }
    .into_any()])
}

pub fn prosecution_stage(v: &Validated, r: &Request<'_>) -> Result<Vec<AnyEvent>, Vec<FieldError>> {
    let stage: ProsecutionStage = v.symbol("stage");
    // The P-forms are the prosecutor's; the investigator records sending the file.
    if r.caller.agency == Agency::Polri && stage != ProsecutionStage::FileSent {
        return Err(vec![FieldError::new(
            "stage",
            format!("a polri office records only file_sent; {stage} is the prosecutor's form"),
        )]);
    }
    let mut envelope = case_envelope(v, r);
    envelope.subject_key = v.opt_text("suspect_nik").map(|nik| r.subject_key(&nik));
    Ok(vec![ProsecutionStageChanged {
        envelope,
        stage,
        prosecutor_id: v.opt_text("prosecutor_id"),
        due_date: v.opt_date("due_date"),
    }
    .into_any()])
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::spec::{validate, Checks};
    use lintas_kit::events::calendar::TimeZone;
    use serde_json::json;
    use time::macros::datetime;

    fn checks(now: time::OffsetDateTime, time_zone: TimeZone) -> Checks<'static> {
        Checks {
            checkpoints: &[],
            time_zone,
            now,
        }
    }

    fn spdp_on(opened_on: &str) -> serde_json::Value {
        json!({
            "officer_id": "pol-7", "case_id": "LINTAS-CLP-2026-0042",
            "spdp_number": "SPDP/112/IV/2026", "sent_to_office": "KEJARI-CILACAP",
            "investigation_opened_on": opened_on,
        })
    }

    /// At 06:00 WIB on 1 April it is still 31 March in UTC: an investigation opened "today"
    /// was refused as in the future until 07:00 WIB.
    #[test]
    fn an_spdp_posted_before_seven_wib_may_name_today() {
        let early = datetime!(2026-04-01 06:00 +7);
        let wib = checks(early, TimeZone::Wib);
        assert!(validate(SPDP.fields, &spdp_on("2026-04-01"), &wib).is_ok());
        let errors = validate(SPDP.fields, &spdp_on("2026-04-02"), &wib).unwrap_err();
        assert_eq!(errors[0].field, "investigation_opened_on");
        assert!(errors[0].message.contains("future"));
        // The deployment's zone decides: at 23:30 WIB it is already the next day in WIT.
        let late = datetime!(2026-04-01 23:30 +7);
        assert!(validate(
            SPDP.fields,
            &spdp_on("2026-04-02"),
            &checks(late, TimeZone::Wit)
        )
        .is_ok());
        assert!(validate(
            SPDP.fields,
            &spdp_on("2026-04-02"),
            &checks(late, TimeZone::Wib)
        )
        .is_err());
    }

    /// "Today or later" is the local today too: at 06:00 WIB yesterday's date is in the past.
    #[test]
    fn a_due_date_of_yesterday_is_refused_before_seven_wib() {
        let early = datetime!(2026-04-01 06:00 +7);
        let stage = |due: &str| {
            json!({
                "officer_id": "jpu-3", "case_id": "LINTAS-CLP-2026-0042",
                "stage": "p18", "due_date": due,
            })
        };
        let wib = checks(early, TimeZone::Wib);
        let errors = validate(PROSECUTION_STAGES.fields, &stage("2026-03-31"), &wib).unwrap_err();
        assert_eq!(errors[0].field, "due_date");
        assert!(validate(PROSECUTION_STAGES.fields, &stage("2026-04-01"), &wib).is_ok());
    }

    /// A NIK with regency 00, district 00 or serial 0000 is refused naming the field, as
    /// a list item too.
    #[test]
    fn placeholder_niks_are_refused_naming_the_field() {
        let referral = json!({
            "officer_id": "tpi-9", "case_id": "LINTAS-CLP-2026-0042",
            "to_agency": "polri", "reason": "suspected_trafficking",
            "subject_niks": ["3301014501900001", "3300014501900001", "3301004501900001", "3301014501900000"],
        });
        let errors = validate(
            REFERRALS.fields,
            &referral,
            &checks(datetime!(2026-04-01 09:00 +7), TimeZone::Wib),
        )
        .unwrap_err();
        let fields: Vec<&str> = errors.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(
            fields,
            ["subject_niks[1]", "subject_niks[2]", "subject_niks[3]"],
            "{errors:?}"
        );
    }

    /// The investigator records sending the file (`file_sent`), with the suspect's file
    /// named by a subject key only; a P-form posted by the police is refused naming `stage`.
    #[tokio::test]
    async fn the_police_record_only_the_file_sent() {
        let state = crate::IntakeState::for_tests().await;
        let police = lintas_kit::auth::Caller::new(Agency::Polri, "POLRESTA-CILACAP");
        let now = datetime!(2026-04-01 09:00 +7);
        let body = |stage: &str| {
            json!({"officer_id": "pol-7", "case_id": "LINTAS-CLP-2026-0042", "stage": stage,
                   "suspect_nik": "3301011203850002"})
        };
        let build = |stage: &str| {
            let v = validate(
                PROSECUTION_STAGES.fields,
                &body(stage),
                &checks(now, TimeZone::Wib),
            )
            .unwrap();
            prosecution_stage(&v, &Request::without_key(&police, &state))
        };
        let events = build("file_sent").unwrap();
        let AnyEvent::ProsecutionStageChanged(sent) = &events[0] else {
            panic!("{events:?}");
        };
        assert_eq!(sent.stage, ProsecutionStage::FileSent);
        assert_eq!(
            sent.envelope.subject_key.as_deref(),
            Some(state.keyer.subject_key("3301011203850002").as_str())
        );
        let refused = build("p21").unwrap_err();
        assert_eq!(refused[0].field, "stage");
        assert!(refused[0].message.contains("prosecutor"), "{refused:?}");
    }
}
