//! The `.avsc` files are the contract; these tests fail when a Rust type drifts from its file:
//! a field renamed, added or dropped on either side, a symbol missing from an enum, a type
//! that no longer encodes or decodes.

use std::collections::BTreeSet;

use apache_avro::{schema::Schema, types::Value};
use lintas_events::*;
use time::macros::{date, datetime};
use uuid::Uuid;

type Names = std::collections::HashMap<apache_avro::schema::Name, Schema>;

fn envelope(full: bool) -> Envelope {
    Envelope {
        event_id: Uuid::new_v4(),
        occurred_at: datetime!(2026-03-01 08:15:00.123 UTC),
        recorded_at: datetime!(2026-03-01 08:16:00 UTC),
        agency: Agency::Imigrasi,
        office: "KANIM-CILACAP".into(),
        officer_id: "off-17".into(),
        subject_key: full.then(|| "ab".repeat(32)),
        case_id: full.then(|| "LINTAS-CLP-2026-0001".into()),
        correlation_id: full.then(Uuid::new_v4),
        legal_basis: full.then(|| "UU 18/2017 Pasal 13".into()),
        subject_key_id: full.then(|| "v1".into()),
    }
}

fn samples(full: bool) -> Vec<AnyEvent> {
    vec![
        ApplicantRegistered {
            envelope: envelope(full),
            source: RegistrationSource::PassportApplication,
            personal: ApplicantPersonalData {
                nik: "3301014501900001".into(),
                full_name: "Siti Aminah".into(),
            },
            sex: Sex::Female,
            birth_date: date!(1990 - 01 - 05),
            village: "Kesugihan".into(),
            sub_district: "Kesugihan".into(),
            regency: "Cilacap".into(),
            declared_purpose: DeclaredPurpose::Umrah,
            destination_country: "SA".into(),
            placement_agency: full.then(|| PlacementAgency {
                name: "PT Maju".into(),
                licence_number: Some("SIP3MI-1".into()),
            }),
            sponsor_name: full.then(|| "Pak Budi".into()),
            identity_verified: full,
            village_code: Some("33.01.02.2001".parse().unwrap()),
        }
        .into_any(),
        VisaTypeFlagged {
            envelope: envelope(full),
            reason: VisaFlagReason::UmrahOrZiarahWithoutTravelOperatorLetter,
            stage: ScreeningStage::PassportInterview,
            visa_type: VisaType::Umrah,
            destination_country: "SA".into(),
        }
        .into_any(),
        DepartureBlocked {
            envelope: envelope(full),
            checkpoint_code: "TPI-CGK".into(),
            decision: BlockDecision::Deferred,
            carrier: "Garuda".into(),
            flight_or_vessel: "GA 980".into(),
            destination_country: "KH".into(),
            transit_points: if full { vec!["KUL".into()] } else { vec![] },
            visa_shown: VisaType::Tourist,
            return_ticket: false,
            reason: BlockReason::SuspectedNonProceduralWorker,
            group_id: full.then(Uuid::new_v4),
            handed_to: HandedTo::Bp3miShelter,
            traveller_sex: full.then_some(Sex::Female),
            traveller_minor: full.then_some(true),
        }
        .into_any(),
        CaseReferred {
            envelope: envelope(full),
            from_agency: Agency::Imigrasi,
            to_agency: Agency::Polri,
            reason: ReferralReason::SuspectedTrafficking,
            subject_keys: vec!["cd".repeat(32)],
            suspected_recruiter_keys: if full { vec!["rk-1".into()] } else { vec![] },
            legal_articles: vec!["UU 21/2007 Pasal 4".into()],
        }
        .into_any(),
        AlertRaised {
            envelope: envelope(full),
            alert_id: Uuid::new_v4(),
            rule: "IM1".into(),
            owner: Agency::Imigrasi,
            severity: AlertSeverity::Warning,
            evidence_event_ids: vec![Uuid::new_v4(), Uuid::new_v4()],
            summary: "flagged again within 12 months".into(),
            review_by: full.then_some(datetime!(2026-04-01 00:00 UTC)),
            summaries: if full {
                [
                    ("id", "ditandai lagi dalam 12 bulan"),
                    ("en", "flagged again within 12 months"),
                ]
                .map(|(l, t)| (l.to_owned(), t.to_owned()))
                .into()
            } else {
                Default::default()
            },
        }
        .into_any(),
        PassportInterviewConducted {
            envelope: envelope(full),
            interview_office: "KANIM-CILACAP".into(),
            outcome: if full {
                InterviewOutcome::Defer
            } else {
                InterviewOutcome::Approve
            },
            defer_until: full
                .then(|| PassportInterviewConducted::default_defer_until(date!(2026 - 03 - 01))),
            reason_codes: if full {
                vec![
                    InterviewReason::MissingTravelOperatorLetter,
                    InterviewReason::SuspectedNonProcedural,
                ]
            } else {
                vec![]
            },
            passport_number: full.then(|| "X1234567".into()),
        }
        .into_any(),
        DepartureCleared {
            envelope: envelope(full),
            checkpoint_code: "TPI-YIA".into(),
            carrier: "AirAsia".into(),
            flight_or_vessel: "QZ 7712".into(),
            destination_country: "MY".into(),
            transit_points: if full { vec!["SIN".into()] } else { vec![] },
            visa_shown: VisaType::Work,
            epmi_id: full.then(|| "EPMI-2026-000123".into()),
            group_id: full.then(Uuid::new_v4),
            traveller_sex: full.then_some(Sex::Male),
            traveller_minor: full.then_some(false),
        }
        .into_any(),
        RecruiterReported {
            envelope: envelope(full),
            recruiter_key: "polri:RK-2026-0012".into(),
            role: RecruiterRole::ShelterOperator,
            phone_numbers: if full {
                vec!["+6281234567890".into()]
            } else {
                vec![]
            },
            licence_status: LicenceStatus::Unlicensed,
            village: full.then(|| "Kesugihan".into()),
            sub_district: full.then(|| "Kesugihan".into()),
            regency: "Cilacap".into(),
            linked_subject_keys: if full { vec!["cd".repeat(32)] } else { vec![] },
            placement_agency_name: full.then(|| "PT Maju".into()),
            village_code: full.then(|| "33.01.02.2003".parse().unwrap()),
        }
        .into_any(),
        InvestigationOpened {
            envelope: envelope(full),
            investigating_unit: "SATRESKRIM-PPA-PPO-POLRESTA-CILACAP".into(),
            legal_articles: if full {
                vec!["UU 21/2007 Pasal 4".into()]
            } else {
                vec![]
            },
            suspect_recruiter_keys: if full { vec!["rk-1".into()] } else { vec![] },
            subject_keys: if full { vec!["cd".repeat(32)] } else { vec![] },
        }
        .into_any(),
        SpdpSent {
            envelope: envelope(full),
            spdp_number: "SPDP/12/III/2026/Satreskrim".into(),
            sent_to_office: "KEJARI-CILACAP".into(),
            investigation_opened_on: date!(2026 - 02 - 26),
        }
        .into_any(),
        ProsecutionStageChanged {
            envelope: envelope(full),
            stage: if full {
                ProsecutionStage::P19
            } else {
                ProsecutionStage::P16
            },
            prosecutor_id: full.then(|| "jpu-4".into()),
            due_date: full.then_some(date!(2026 - 03 - 15)),
        }
        .into_any(),
        AlertAcknowledged {
            envelope: envelope(full),
            alert_id: Uuid::new_v4(),
            by_agency: Agency::Imigrasi,
            note: full.then(|| "secondary interview scheduled".into()),
        }
        .into_any(),
        AlertEscalated {
            envelope: envelope(full),
            alert_id: Uuid::new_v4(),
            by_agency: Agency::Imigrasi,
            escalated_to: Agency::Polri,
            level: 1,
            reason: EscalationReason::ReviewOverdue,
            note: full.then(|| "review date passed".into()),
        }
        .into_any(),
        AlertClosed {
            envelope: envelope(full),
            alert_id: Uuid::new_v4(),
            by_agency: Agency::Imigrasi,
            reason: AlertCloseReason::FalsePositive,
            note: full.then(|| "documents verified".into()),
        }
        .into_any(),
        PersonalDataRead {
            envelope: envelope(full),
            read_id: Uuid::new_v4(),
            sequence: 7,
            person_key: "ab".repeat(32),
            fields: if full {
                vec!["nik".into(), "full_name".into()]
            } else {
                vec![]
            },
            purpose: "secondary interview".into(),
            previous_hash: "0".repeat(64),
            entry_hash: "f".repeat(64),
        }
        .into_any(),
        PersonalDataErased {
            envelope: envelope(full),
            erasure_id: Uuid::new_v4(),
            scope: ErasureScope::Subject,
            person_key: "ab".repeat(32),
            reason: ErasureReason::ConsentWithdrawn,
            fields: if full { vec!["nik".into()] } else { vec![] },
        }
        .into_any(),
    ]
}

/// Encodes or converts any event with the function given for each concrete type.
macro_rules! each_event {
    ($event:expr, |$e:ident| $body:expr) => {
        match $event {
            AnyEvent::ApplicantRegistered($e) => $body,
            AnyEvent::VisaTypeFlagged($e) => $body,
            AnyEvent::DepartureBlocked($e) => $body,
            AnyEvent::CaseReferred($e) => $body,
            AnyEvent::AlertRaised($e) => $body,
            AnyEvent::PassportInterviewConducted($e) => $body,
            AnyEvent::DepartureCleared($e) => $body,
            AnyEvent::RecruiterReported($e) => $body,
            AnyEvent::InvestigationOpened($e) => $body,
            AnyEvent::SpdpSent($e) => $body,
            AnyEvent::ProsecutionStageChanged($e) => $body,
            AnyEvent::AlertAcknowledged($e) => $body,
            AnyEvent::AlertEscalated($e) => $body,
            AnyEvent::AlertClosed($e) => $body,
            AnyEvent::PersonalDataRead($e) => $body,
            AnyEvent::PersonalDataErased($e) => $body,
        }
    };
}

fn datum(event: &AnyEvent) -> Vec<u8> {
    each_event!(event, |e| to_datum(e)).unwrap_or_else(|err| {
        panic!(
            "{} does not encode with its schema file: {err}",
            event.type_name()
        )
    })
}

fn rust_value(event: &AnyEvent) -> Value {
    each_event!(event, |e| apache_avro::to_value(e)).unwrap()
}

#[test]
fn every_catalogue_event_has_samples() {
    for full in [true, false] {
        let sampled: BTreeSet<String> = samples(full)
            .iter()
            .map(|e| format!("lintas.events.{}", e.type_name()))
            .collect();
        let catalogued: BTreeSet<String> = catalogue()
            .events()
            .iter()
            .map(|e| e.full_name.to_string())
            .collect();
        assert_eq!(
            sampled, catalogued,
            "samples(full: {full}) do not cover the catalogue"
        );
    }
}

fn topic_of<E: Event>(e: &E) -> Topic {
    assert!(
        E::TOPICS.contains(&e.topic()),
        "{:?} not in {:?}",
        e.topic(),
        E::TOPICS
    );
    e.topic()
}

#[test]
fn topics_and_keys() {
    for full in [true, false] {
        for event in samples(full) {
            let (topic, key) = each_event!(&event, |e| (topic_of(e), e.key()));
            let envelope = event.envelope();
            let (want_topic, want_key) = match &event {
                AnyEvent::ApplicantRegistered(_) | AnyEvent::PassportInterviewConducted(_) => {
                    (Topic::Applicants, envelope.subject_key.clone())
                }
                AnyEvent::VisaTypeFlagged(_) => (Topic::Screening, envelope.subject_key.clone()),
                AnyEvent::DepartureBlocked(_) | AnyEvent::DepartureCleared(_) => {
                    (Topic::Departures, envelope.subject_key.clone())
                }
                AnyEvent::RecruiterReported(e) => (
                    Topic::Cases,
                    Some(
                        envelope
                            .case_id
                            .clone()
                            .unwrap_or_else(|| e.recruiter_key.clone()),
                    ),
                ),
                AnyEvent::CaseReferred(_)
                | AnyEvent::InvestigationOpened(_)
                | AnyEvent::SpdpSent(_)
                | AnyEvent::ProsecutionStageChanged(_) => (Topic::Cases, envelope.case_id.clone()),
                // An alert on its owner's topic; an action on the acting agency's (the only
                // topic it may write).
                AnyEvent::AlertRaised(e) => (Topic::Alerts(e.owner), Some(e.alert_id.to_string())),
                AnyEvent::AlertAcknowledged(e) => {
                    (Topic::Alerts(e.by_agency), Some(e.alert_id.to_string()))
                }
                AnyEvent::AlertEscalated(e) => {
                    (Topic::Alerts(e.by_agency), Some(e.alert_id.to_string()))
                }
                AnyEvent::AlertClosed(e) => {
                    (Topic::Alerts(e.by_agency), Some(e.alert_id.to_string()))
                }
                AnyEvent::PersonalDataRead(_) | AnyEvent::PersonalDataErased(_) => {
                    (Topic::Privacy, Some(envelope.agency.to_string()))
                }
            };
            // Without a subject or case the key falls back to the event id.
            let want_key = want_key.unwrap_or_else(|| envelope.event_id.to_string());
            assert_eq!(topic, want_topic, "topic of {}", event.type_name());
            assert_eq!(key, want_key, "key of {} (full: {full})", event.type_name());
            assert!(
                catalogue()
                    .get(&format!("lintas.events.{}", event.type_name()))
                    .unwrap()
                    .topics
                    .contains(&want_topic),
                "catalogue topics of {} include {want_topic:?}",
                event.type_name()
            );
        }
    }
}

#[test]
fn every_event_round_trips_through_its_schema_file() {
    for full in [true, false] {
        for event in samples(full) {
            let schema = &catalogue()
                .get(&format!("lintas.events.{}", event.type_name()))
                .unwrap()
                .schema;
            let bytes = datum(&event);
            let value = apache_avro::from_avro_datum(schema, &mut &bytes[..], None).unwrap();
            let back = AnyEvent::from_avro(&format!("lintas.events.{}", event.type_name()), value)
                .unwrap();
            assert_eq!(back, event, "{} changed in a round trip", event.type_name());
        }
    }
}

/// Field names of the Rust value and the schema record, recursively: encoding alone would
/// silently drop a Rust field that the schema lacks.
fn same_fields(path: &str, value: &Value, schema: &Schema, names: &Names) {
    let schema = match schema {
        Schema::Ref { name } => names.get(name).expect("named type defined"),
        other => other,
    };
    match (value, schema) {
        (Value::Record(fields), Schema::Record(record)) => {
            let rust: BTreeSet<_> = fields.iter().map(|(n, _)| n.clone()).collect();
            let avro: BTreeSet<_> = record.fields.iter().map(|f| f.name.clone()).collect();
            assert_eq!(
                rust, avro,
                "fields of {path} differ between Rust and the .avsc file"
            );
            for (name, v) in fields {
                let f = record.fields.iter().find(|f| &f.name == name).unwrap();
                same_fields(&format!("{path}.{name}"), v, &f.schema, names);
            }
        }
        (v, Schema::Union(u)) => {
            let v = match v {
                Value::Union(_, inner) => inner.as_ref(),
                v => v,
            };
            if !matches!(v, Value::Null) {
                for variant in u.variants() {
                    if matches!(variant, Schema::Record(_) | Schema::Ref { .. }) {
                        same_fields(path, v, variant, names);
                    }
                }
            }
        }
        _ => {}
    }
}

#[test]
fn rust_fields_match_schema_fields() {
    for event in samples(true) {
        let entry = catalogue()
            .get(&format!("lintas.events.{}", event.type_name()))
            .unwrap();
        let mut names = Names::new();
        collect_names(&entry.schema, &mut names);
        same_fields(
            event.type_name(),
            &rust_value(&event),
            &entry.schema,
            &names,
        );
    }
}

fn collect_names(schema: &Schema, names: &mut Names) {
    match schema {
        Schema::Record(r) => {
            names.insert(r.name.clone(), schema.clone());
            r.fields
                .iter()
                .for_each(|f| collect_names(&f.schema, names));
        }
        Schema::Enum(e) => {
            names.insert(e.name.clone(), schema.clone());
        }
        Schema::Union(u) => u.variants().iter().for_each(|s| collect_names(s, names)),
        Schema::Array(a) => collect_names(&a.items, names),
        _ => {}
    }
}

fn enum_symbols(full_name: &str) -> Vec<String> {
    for entry in catalogue().events() {
        let mut names = Names::new();
        collect_names(&entry.schema, &mut names);
        for (name, schema) in &names {
            if name.fullname(None) == full_name {
                if let Schema::Enum(e) = schema {
                    return e.symbols.clone();
                }
            }
        }
    }
    panic!("enum {full_name} is in no schema file")
}

fn check_enum<E: AvroEnum>() {
    let rust: Vec<String> = E::symbols().into_iter().map(String::from).collect();
    assert_eq!(
        rust,
        enum_symbols(E::AVRO_NAME),
        "symbols of {} differ between Rust and the .avsc file",
        E::AVRO_NAME
    );
}

#[test]
fn rust_enums_match_schema_enums() {
    check_enum::<Agency>();
    check_enum::<VisaType>();
    check_enum::<RegistrationSource>();
    check_enum::<Sex>();
    check_enum::<DeclaredPurpose>();
    check_enum::<VisaFlagReason>();
    check_enum::<ScreeningStage>();
    check_enum::<BlockDecision>();
    check_enum::<BlockReason>();
    check_enum::<HandedTo>();
    check_enum::<ReferralReason>();
    check_enum::<AlertSeverity>();
    check_enum::<InterviewOutcome>();
    check_enum::<InterviewReason>();
    check_enum::<RecruiterRole>();
    check_enum::<LicenceStatus>();
    check_enum::<ProsecutionStage>();
    check_enum::<EscalationReason>();
    check_enum::<AlertCloseReason>();
}

#[test]
fn every_field_is_documented_and_schemas_are_self_contained() {
    for entry in catalogue().events() {
        let json: serde_json::Value = serde_json::from_str(&entry.json).unwrap();
        assert_documented(entry.full_name, &json);
        // Self-contained: parses without any other schema, as a Python or Java client would.
        apache_avro::Schema::parse_str(&entry.json).unwrap();
    }
}

fn assert_documented(path: &str, json: &serde_json::Value) {
    match json {
        serde_json::Value::Object(map) => {
            if let Some(serde_json::Value::Array(fields)) = map.get("fields") {
                for f in fields {
                    let name = f["name"].as_str().unwrap();
                    assert!(
                        f.get("doc")
                            .and_then(|d| d.as_str())
                            .is_some_and(|d| !d.is_empty()),
                        "{path}.{name} has no doc"
                    );
                    let personal = f.get("lintas.personal_data") == Some(&serde_json::json!(true));
                    let documented_personal = f["doc"]
                        .as_str()
                        .unwrap_or_default()
                        .starts_with("PERSONAL DATA");
                    assert_eq!(
                        personal, documented_personal,
                        "{path}.{name}: a field is documented as PERSONAL DATA exactly when it is marked \"lintas.personal_data\": true"
                    );
                    assert_documented(&format!("{path}.{name}"), &f["type"]);
                }
            }
            for v in map.values() {
                if v.is_object() || v.is_array() {
                    assert_documented(path, v);
                }
            }
        }
        serde_json::Value::Array(items) => items.iter().for_each(|i| assert_documented(path, i)),
        _ => {}
    }
}

#[test]
fn every_schema_file_is_in_the_catalogue_sources() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../schemas");
    let on_disk: BTreeSet<String> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|entry| entry.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|name| name.ends_with(".avsc"))
        .collect();
    let embedded: BTreeSet<String> = SOURCES.iter().map(|(f, _)| f.to_string()).collect();
    assert_eq!(
        on_disk, embedded,
        "schemas/*.avsc and catalogue::SOURCES differ"
    );
}
