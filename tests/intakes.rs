//! Every intake endpoint against a real broker: a valid request is published and decodes with
//! its registered schema; each class of bad input is refused with field errors and publishes
//! nothing; an interview deferral without a date gets the default 30 days; the OpenAPI
//! document describes exactly what is accepted; a retried
//! Idempotency-Key publishes once, also after a restart; a stopped broker gives 503 and a
//! retry once it is back publishes the event.

mod harness;

use std::time::{Duration, Instant};

use harness::*;
use lintas_kit::events::AnyEvent;
use rdkafka::Message;
use serde_json::{json, Value};

/// One endpoint: who may call it, a valid body, and what it publishes where.
struct Case {
    path: &'static str,
    token: &'static str,
    /// A token of an agency that may not call this endpoint.
    forbidden: &'static str,
    body: Value,
    publishes: &'static [(&'static str, &'static str)],
}

/// The case, recruiter and article of the case endpoints' bodies.
const CASE: &str = "LINTAS-CLP-2026-0042";
const RECRUITER: &str = "rk-cilacap-0001";
const ARTICLE: &str = "UU 21/2007 Pasal 4";

/// A registration of `nik` of Kesugihan declaring umrah, with a placement agency: the body of
/// every registering endpoint but the applicants' (which also takes a `source`).
fn person(nik: &str, sex: &str, birth: &str) -> Value {
    json!({
        "nik": nik, "full_name": "Siti Aminah", "sex": sex, "birth_date": birth,
        "village_code": KESUGIHAN, "village": "Kesugihan", "sub_district": "Kesugihan",
        "regency": "Cilacap", "declared_purpose": "umrah", "destination_country": "SA",
        "officer_id": "off-17", "placement_agency": {"name": "PT Maju Jaya"}
    })
}

fn cases() -> Vec<Case> {
    let any_source = with(
        person(NIK_SITI, "female", "1990-01-05"),
        "source",
        json!("village_report"),
    );
    vec![
        Case {
            // A village office reports through its own channel.
            path: "/v1/applicants",
            token: DESA_KESUGIHAN_TOKEN,
            forbidden: POLRI_TOKEN,
            body: any_source,
            publishes: &[("ApplicantRegistered", "lintas.applicants.v1")],
        },
        Case {
            path: "/v1/disnaker/jobseekers",
            token: DISNAKER_TOKEN,
            forbidden: IMIGRASI_TOKEN,
            body: person(NIK_BUDI, "male", "1990-01-13"),
            publishes: &[("ApplicantRegistered", "lintas.applicants.v1")],
        },
        Case {
            path: "/v1/disnaker/passport-recommendations",
            token: DISNAKER_TOKEN,
            forbidden: IMIGRASI_TOKEN,
            body: person("3301015502950002", "female", "1995-02-15"),
            publishes: &[("ApplicantRegistered", "lintas.applicants.v1")],
        },
        Case {
            path: "/v1/imigrasi/passport-applications",
            token: IMIGRASI_TOKEN,
            forbidden: DISNAKER_TOKEN,
            body: person("3301016007000003", "female", "2000-07-20"),
            publishes: &[("ApplicantRegistered", "lintas.applicants.v1")],
        },
        Case {
            path: "/v1/imigrasi/visa-flags",
            token: IMIGRASI_TOKEN,
            forbidden: DISNAKER_TOKEN,
            body: with(
                umrah_flag(NIK_SITI),
                "occurred_at",
                json!("2026-03-01T08:15:00+07:00"),
            ),
            publishes: &[("VisaTypeFlagged", "lintas.screening.v1")],
        },
        Case {
            path: "/v1/imigrasi/interviews",
            token: IMIGRASI_TOKEN,
            forbidden: POLRI_TOKEN,
            body: json!({
                "nik": NIK_SITI, "outcome": "defer",
                "reason_codes": ["missing_travel_operator_letter"], "officer_id": "off-4",
                "flag": {
                    "reason": "umrah_or_ziarah_without_travel_operator_letter",
                    "visa_type": "umrah", "destination_country": "SA"
                }
            }),
            publishes: &[
                ("PassportInterviewConducted", "lintas.applicants.v1"),
                ("VisaTypeFlagged", "lintas.screening.v1"),
            ],
        },
        Case {
            path: "/v1/checkpoints/departure-checks",
            token: CHECKPOINT_TOKEN,
            forbidden: DISNAKER_TOKEN,
            body: trip(json!({
                "nik": NIK_SITI, "decision": "deferred", "return_ticket": false,
                "reason": "suspected_non_procedural_worker", "handed_to": "bp3mi_shelter"
            })),
            publishes: &[("DepartureBlocked", "lintas.departures.v1")],
        },
        Case {
            path: "/v1/checkpoints/group-checks",
            token: CHECKPOINT_TOKEN,
            forbidden: POLRI_TOKEN,
            body: trip(json!({"travellers": [
                {
                    "nik": NIK_SITI, "decision": "refused", "return_ticket": false,
                    "reason": "suspected_trafficking_victim", "handed_to": "airport_police"
                },
                {"nik": NIK_BUDI, "decision": "cleared", "epmi_id": "EPMI-2026-000123"}
            ]})),
            publishes: &[
                ("DepartureBlocked", "lintas.departures.v1"),
                ("DepartureCleared", "lintas.departures.v1"),
            ],
        },
        Case {
            path: "/v1/cases/referrals",
            token: IMIGRASI_TOKEN,
            forbidden: "not-used-see-below",
            body: json!({
                "case_id": CASE, "to_agency": "polri", "reason": "suspected_trafficking",
                "subject_niks": [NIK_SITI, NIK_BUDI], "suspected_recruiter_keys": [RECRUITER],
                "legal_articles": [ARTICLE], "officer_id": "off-1"
            }),
            publishes: &[("CaseReferred", "lintas.cases.v1")],
        },
        Case {
            path: "/v1/cases/recruiters",
            token: POLRI_TOKEN,
            forbidden: KEJAKSAAN_TOKEN,
            body: json!({
                "case_id": CASE, "recruiter_key": RECRUITER, "role": "recruiter",
                "phone_numbers": ["+6281234567890"], "licence_status": "unlicensed",
                "village_code": KESUGIHAN, "village": "Kesugihan", "regency": "Cilacap",
                "linked_subject_niks": [NIK_SITI], "officer_id": "pol-7"
            }),
            publishes: &[("RecruiterReported", "lintas.cases.v1")],
        },
        Case {
            path: "/v1/cases/investigations",
            token: POLRI_TOKEN,
            forbidden: IMIGRASI_TOKEN,
            body: json!({
                "case_id": CASE, "investigating_unit": "Satreskrim Unit PPA Polresta Cilacap",
                "legal_articles": [ARTICLE], "suspect_recruiter_keys": [RECRUITER],
                "subject_niks": [NIK_SITI], "officer_id": "pol-7"
            }),
            publishes: &[("InvestigationOpened", "lintas.cases.v1")],
        },
        Case {
            path: "/v1/cases/spdp",
            token: POLRI_TOKEN,
            forbidden: DISNAKER_TOKEN,
            body: json!({
                "case_id": CASE, "spdp_number": "SPDP/42/III/2026/Reskrim",
                "sent_to_office": "KEJARI-CILACAP", "investigation_opened_on": "2026-03-02",
                "officer_id": "pol-7"
            }),
            publishes: &[("SpdpSent", "lintas.cases.v1")],
        },
        Case {
            path: "/v1/cases/prosecution-stages",
            token: KEJAKSAAN_TOKEN,
            forbidden: DISNAKER_TOKEN,
            body: json!({
                "case_id": CASE, "stage": "p16", "prosecutor_id": "jaksa-0007",
                "officer_id": "jaksa-7"
            }),
            publishes: &[("ProsecutionStageChanged", "lintas.cases.v1")],
        },
    ]
}

fn trip(mut people: Value) -> Value {
    let trip = json!({
        "checkpoint_code": "TPI-CGK", "carrier": "AirAsia", "flight_or_vessel": "QZ 262",
        "destination_country": "KH", "transit_points": ["KUL"], "visa_shown": "tourist",
        "officer_id": "tpi-9"
    });
    for (k, v) in trip.as_object().unwrap() {
        people[k] = v.clone();
    }
    people
}

fn office(token: &str) -> &'static str {
    match token {
        DISNAKER_TOKEN => "DISNAKER-CILACAP",
        IMIGRASI_TOKEN => "KANIM-CILACAP",
        CHECKPOINT_TOKEN => "TPI-CGK",
        POLRI_TOKEN => "POLRESTA-CILACAP",
        KEJAKSAAN_TOKEN => "KEJARI-CILACAP",
        DESA_KESUGIHAN_TOKEN => "DESA-KESUGIHAN",
        other => panic!("unknown token {other}"),
    }
}

/// Records on every topic of the feed.
fn total(brokers: &str) -> i64 {
    lintas_kit::topics::event_topics("")
        .iter()
        .map(|t| records_in(brokers, t))
        .sum()
}

fn named(answer: &Value) -> Vec<String> {
    answer["fields"]
        .as_array()
        .map(|a| {
            a.iter()
                .map(|f| f["field"].as_str().unwrap().to_string())
                .collect()
        })
        .unwrap_or_default()
}

/// Every endpoint of the intake on one stack, each in turn: the claims below, for each.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_endpoint_publishes_valid_input_and_refuses_bad_input() {
    let endpoints = Endpoints::start().await;
    for case in cases() {
        let schema = endpoints.documented(&case);
        the_document_lists_every_field_accepted(&case, schema);
        let before = total(&endpoints.stack.broker.brokers);
        a_missing_required_field_is_refused_by_name(&endpoints, &case, schema).await;
        every_bad_field_is_named_at_once(&endpoints, &case, schema).await;
        the_wrong_caller_or_a_body_not_json_is_refused(&endpoints, &case).await;
        assert_eq!(
            total(&endpoints.stack.broker.brokers),
            before,
            "{}: refused requests published something",
            case.path
        );
        a_valid_request_publishes_what_it_says_sealed_for_outsiders(&endpoints, &case).await;
    }
}

/// The usual stack, the one client, the decoders of an entitled reader (the immigration
/// subscriber's KEK) and of an outsider (none), and the intake's /openapi.json.
struct Endpoints {
    stack: Stack,
    client: Client,
    codec: lintas_kit::codec::Codec,
    outsider: lintas_kit::codec::Codec,
    openapi: Value,
}

impl Endpoints {
    async fn start() -> Endpoints {
        let stack = Stack::start(3).await;
        let client = Client::new();
        let codec = harness::codec(
            &stack.registry.url,
            &[lintas_kit::events::keks::IMMIGRATION],
        );
        let outsider = harness::codec(&stack.registry.url, &[]);
        let openapi: Value = client
            .http
            .get(format!("{}/openapi.json", stack.intake.url))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        Endpoints {
            stack,
            client,
            codec,
            outsider,
            openapi,
        }
    }

    fn url(&self, case: &Case) -> String {
        format!("{}{}", self.stack.intake.url, case.path)
    }

    /// The request body's schema /openapi.json documents for `case`'s endpoint.
    fn documented(&self, case: &Case) -> &Value {
        let schema = &self.openapi["paths"][case.path]["post"]["requestBody"]["content"]
            ["application/json"]["schema"];
        assert!(
            schema.is_object(),
            "{} is missing from /openapi.json",
            case.path
        );
        schema
    }
}

/// /openapi.json documents every field of the endpoint's valid body.
fn the_document_lists_every_field_accepted(case: &Case, schema: &Value) {
    let properties = schema["properties"].as_object().unwrap();
    for field in case.body.as_object().unwrap().keys() {
        assert!(
            properties.contains_key(field),
            "{}: {field} accepted but not documented",
            case.path
        );
    }
}

/// The valid body without any one field the document requires is refused (422) naming it.
async fn a_missing_required_field_is_refused_by_name(
    endpoints: &Endpoints,
    case: &Case,
    schema: &Value,
) {
    let url = endpoints.url(case);
    for required in schema["required"].as_array().unwrap() {
        let field = required.as_str().unwrap();
        let mut body = case.body.clone();
        body.as_object_mut().unwrap().remove(field);
        let (status, answer, _) = endpoints
            .client
            .post_keyed(&url, case.token, &body, None)
            .await;
        assert_eq!(status, 422, "{} without {field}: {answer}", case.path);
        assert!(
            named(&answer).contains(&field.to_string()),
            "{} without {field}: {answer}",
            case.path
        );
    }
}

/// Wrong types, an unknown field and a short NIK are refused together, every bad field named
/// at once; a code not in a documented list (an enum) is refused.
async fn every_bad_field_is_named_at_once(endpoints: &Endpoints, case: &Case, schema: &Value) {
    let (url, client) = (endpoints.url(case), &endpoints.client);
    let mut bad = case.body.clone();
    bad["officer_id"] = json!(42);
    bad["smuggled"] = json!("x");
    if let Some(nik) = bad.get_mut("nik") {
        *nik = json!("3301014501900");
    }
    let (status, answer, _) = client.post_keyed(&url, case.token, &bad, None).await;
    assert_eq!(status, 422, "{}: {answer}", case.path);
    let fields = named(&answer);
    assert!(
        fields.contains(&"officer_id".to_string()) && fields.contains(&"smuggled".to_string()),
        "{}: {answer}",
        case.path
    );
    if case.body.get("nik").is_some() {
        assert!(
            fields.contains(&"nik".to_string()),
            "{}: {answer}",
            case.path
        );
    }
    for (field, documented) in schema["properties"].as_object().unwrap() {
        if let Some(symbols) = documented["enum"].as_array() {
            if symbols.len() < 300 && case.body.get(field).is_some() {
                let body = with(case.body.clone(), field, json!("no_such_code"));
                let (status, answer, _) = client.post_keyed(&url, case.token, &body, None).await;
                assert_eq!(status, 422, "{} {field}=no_such_code: {answer}", case.path);
            }
        }
    }
}

/// Another agency's token is refused (403), no token 401, a body that is not JSON 415, and
/// broken JSON 400.
async fn the_wrong_caller_or_a_body_not_json_is_refused(endpoints: &Endpoints, case: &Case) {
    let (url, client) = (endpoints.url(case), &endpoints.client);
    if case.forbidden != "not-used-see-below" {
        assert_eq!(
            client
                .post_keyed(&url, case.forbidden, &case.body, None)
                .await
                .0,
            403,
            "{}",
            case.path
        );
    }
    let unsigned = client
        .http
        .post(&url)
        .json(&case.body)
        .send()
        .await
        .unwrap();
    assert_eq!(unsigned.status().as_u16(), 401);
    let text = client
        .http
        .post(&url)
        .bearer_auth(case.token)
        .header("content-type", "text/plain")
        .body(case.body.to_string())
        .send()
        .await
        .unwrap();
    assert_eq!(text.status().as_u16(), 415);
    let broken = client
        .http
        .post(&url)
        .bearer_auth(case.token)
        .header("content-type", "application/json")
        .body("{")
        .send()
        .await
        .unwrap();
    assert_eq!(broken.status().as_u16(), 400);
}

/// The valid request is answered 202 after the broker's ack, naming each event it published;
/// each decodes on its topic as the type said, its office from the token and its subject key
/// from the NIK; a registration's NIK and name are readable only with the immigration KEK (the
/// rest of the record is readable to all) and the NIK is nowhere in the clear.
async fn a_valid_request_publishes_what_it_says_sealed_for_outsiders(
    endpoints: &Endpoints,
    case: &Case,
) {
    let url = endpoints.url(case);
    // The valid request: 202 after the broker's ack, and each event decodes on its topic.
    let (status, answer, _) = endpoints
        .client
        .post_keyed(&url, case.token, &case.body, None)
        .await;
    assert_eq!(status, 202, "{}: {answer}", case.path);
    let events = answer["events"].as_array().unwrap();
    assert_eq!(
        events.len(),
        case.publishes.len(),
        "{}: {answer}",
        case.path
    );
    for ((type_name, topic), event) in case.publishes.iter().zip(events) {
        assert_eq!(event["type"], *type_name);
        assert_eq!(event["topic"], *topic);
        let records = read_all(
            &endpoints.stack.broker.brokers,
            topic,
            records_in(&endpoints.stack.broker.brokers, topic) as usize,
            Duration::from_secs(20),
        );
        let found = records.iter().find(|r| {
            r.partition() as i64 == event["partition"].as_i64().unwrap()
                && r.offset() == event["offset"].as_i64().unwrap()
        });
        let payload = found.expect("published record").payload().unwrap();
        let decoded = endpoints
            .codec
            .decode_from(topic, payload)
            .await
            .unwrap()
            .event;
        let sealed = endpoints
            .outsider
            .decode_from(topic, payload)
            .await
            .unwrap();
        assert_eq!(decoded.type_name(), *type_name);
        assert_eq!(
            decoded.envelope().event_id.to_string(),
            event["event_id"].as_str().unwrap()
        );
        assert_eq!(
            decoded.envelope().office,
            office(case.token),
            "office comes from the token"
        );
        if let Some(nik) = case.body.get("nik").and_then(Value::as_str) {
            let key = lintas_kit::events::SubjectKeyer::new(SECRET.as_bytes())
                .unwrap()
                .subject_key(nik);
            assert_eq!(
                decoded.envelope().subject_key.as_deref(),
                Some(key.as_str())
            );
        }
        if let AnyEvent::ApplicantRegistered(a) = &decoded {
            assert_eq!(
                a.personal.nik,
                case.body["nik"].as_str().unwrap(),
                "the NIK travels only in the personal-data field, and opens with the immigration KEK"
            );
            let AnyEvent::ApplicantRegistered(s) = &sealed.event else {
                panic!("the same record decodes without the key")
            };
            assert!(
                sealed.sealed.is_some(),
                "without the KEK the record says it is sealed"
            );
            assert_ne!(
                s.personal.nik, a.personal.nik,
                "without the KEK the NIK stays ciphertext"
            );
            assert_ne!(s.personal.full_name, a.personal.full_name);
            assert_eq!(
                (s.sex, s.birth_date),
                (a.sex, a.birth_date),
                "the rest of the record is readable"
            );
            assert!(!String::from_utf8_lossy(payload).contains(&a.personal.nik));
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn idempotency_key_publishes_once_across_restarts_and_outages() {
    let mut broker = Broker::start_persistent(1).await;
    let database = fresh_database().await;
    let registry = start_registry(&database, &broker.dir).await;
    let port = free_port();
    let mut intake =
        start_intake_on(&broker.brokers, &registry.url, &database, &broker.dir, port).await;
    let client = Client::new();
    let url = format!("{}/v1/disnaker/jobseekers", intake.url);
    let body = person("3301011301900001", "male", "1990-01-13");

    let (status, first, _) = client
        .post_keyed(&url, DISNAKER_TOKEN, &body, Some("ak1-2026-0001"))
        .await;
    assert_eq!(status, 202, "{first}");
    let (status, again, headers) = client
        .post_keyed(&url, DISNAKER_TOKEN, &body, Some("ak1-2026-0001"))
        .await;
    assert_eq!(
        (status, &again),
        (202, &first),
        "a retry gets the first answer"
    );
    assert_eq!(headers["idempotent-replayed"], "true");
    assert_eq!(
        records_in(&broker.brokers, "lintas.applicants.v1"),
        1,
        "the retry published nothing"
    );

    // Same key, different request: refused.
    let mut other = body.clone();
    other["village"] = json!("Maos");
    let (status, answer, _) = client
        .post_keyed(&url, DISNAKER_TOKEN, &other, Some("ak1-2026-0001"))
        .await;
    assert_eq!(status, 422, "{answer}");

    // After a restart of the intake the key is still known.
    drop(intake);
    intake = start_intake_on(&broker.brokers, &registry.url, &database, &broker.dir, port).await;
    let (status, after_restart, _) = client
        .post_keyed(&url, DISNAKER_TOKEN, &body, Some("ak1-2026-0001"))
        .await;
    assert_eq!((status, &after_restart), (202, &first));
    assert_eq!(records_in(&broker.brokers, "lintas.applicants.v1"), 1);

    // Broker down: 503 with Retry-After, never 202. Once it is back, the client's retry with
    // the same key publishes the event; nothing is lost.
    broker.stop();
    let started = Instant::now();
    let mut later = body.clone();
    later["nik"] = json!("3301014501900001");
    later["sex"] = json!("female");
    later["birth_date"] = json!("1990-01-05");
    let (status, answer, headers) = client
        .post_keyed(&url, DISNAKER_TOKEN, &later, Some("ak1-2026-0002"))
        .await;
    assert_eq!(status, 503, "{answer}");
    assert!(headers.contains_key("retry-after"));
    assert!(started.elapsed() < Duration::from_secs(30));
    broker.restart();
    let deadline = Instant::now() + Duration::from_secs(60);
    let accepted = loop {
        let (status, answer, _) = client
            .post_keyed(&url, DISNAKER_TOKEN, &later, Some("ak1-2026-0002"))
            .await;
        if status == 202 {
            break answer;
        }
        assert_eq!(status, 503, "{answer}");
        assert!(
            Instant::now() < deadline,
            "intake did not recover after the broker came back"
        );
        tokio::time::sleep(Duration::from_secs(1)).await;
    };
    let records = read_all(
        &broker.brokers,
        "lintas.applicants.v1",
        3,
        Duration::from_secs(20),
    );
    let codec = lintas_kit::codec::Codec::new(
        harness::registry_client(&registry.url, harness::REGISTRY_READ),
        "",
    );
    let mut ids = Vec::new();
    for r in &records {
        ids.push(
            codec
                .decode(r.payload().unwrap())
                .await
                .unwrap()
                .envelope()
                .event_id
                .to_string(),
        );
    }
    assert!(
        ids.contains(&first["event_id"].as_str().unwrap().to_string()),
        "the first event survived the broker restart"
    );
    assert!(
        ids.contains(&accepted["event_id"].as_str().unwrap().to_string()),
        "the retried event was published"
    );
    // A possible copy from the attempt that timed out carries the same event id.
    let distinct: std::collections::HashSet<_> = ids.iter().collect();
    assert_eq!(distinct.len(), 2, "{ids:?}");
    drop(intake);
}

/// Rules that tie fields together, each refused with the field named and nothing published.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rules_across_fields_are_enforced() {
    let Stack {
        broker,
        registry: _registry,
        intake,
        database: _database,
    } = Stack::start(1).await;
    let client = Client::new();
    let blocked = |extra: Value| {
        let mut body = trip(
            json!({"nik": "3301014501900001", "decision": "deferred", "return_ticket": false,
                                    "reason": "suspected_non_procedural_worker", "handed_to": "bp3mi_shelter"}),
        );
        for (k, v) in extra.as_object().unwrap() {
            if v.is_null() {
                body.as_object_mut().unwrap().remove(k);
            } else {
                body[k] = v.clone();
            }
        }
        body
    };
    let interview = json!({"nik": "3301014501900001", "officer_id": "off-4"});
    let with = |base: &Value, extra: Value| {
        let mut body = base.clone();
        for (k, v) in extra.as_object().unwrap() {
            body[k] = v.clone();
        }
        body
    };
    let referral = json!({"case_id": "LINTAS-CLP-2026-0042", "reason": "suspected_trafficking", "officer_id": "off-1"});
    let cases: Vec<(&str, &str, Value, &str)> = vec![
        (
            "/v1/imigrasi/interviews",
            IMIGRASI_TOKEN,
            with(
                &interview,
                json!({"outcome": "approve", "reason_codes": ["purpose_mismatch"]}),
            ),
            "reason_codes",
        ),
        (
            "/v1/imigrasi/interviews",
            IMIGRASI_TOKEN,
            with(&interview, json!({"outcome": "defer"})),
            "reason_codes",
        ),
        (
            "/v1/imigrasi/interviews",
            IMIGRASI_TOKEN,
            with(
                &interview,
                json!({"outcome": "reject", "reason_codes": ["incomplete_documents"], "defer_until": "2099-01-01"}),
            ),
            "defer_until",
        ),
        (
            "/v1/imigrasi/interviews",
            IMIGRASI_TOKEN,
            with(
                &interview,
                json!({"outcome": "defer", "reason_codes": ["incomplete_documents"], "defer_until": "2020-01-01"}),
            ),
            "defer_until",
        ),
        (
            "/v1/checkpoints/departure-checks",
            CHECKPOINT_TOKEN,
            blocked(json!({"reason": null})),
            "reason",
        ),
        (
            "/v1/checkpoints/departure-checks",
            CHECKPOINT_TOKEN,
            blocked(json!({"handed_to": null})),
            "handed_to",
        ),
        (
            "/v1/checkpoints/departure-checks",
            CHECKPOINT_TOKEN,
            blocked(json!({"decision": "cleared", "handed_to": null, "return_ticket": null})),
            "reason",
        ),
        (
            "/v1/checkpoints/departure-checks",
            CHECKPOINT_TOKEN,
            blocked(json!({"checkpoint_code": "TPI-XXX"})),
            "checkpoint_code",
        ),
        (
            "/v1/checkpoints/departure-checks",
            CHECKPOINT_TOKEN,
            blocked(json!({"destination_country": "KHM"})),
            "destination_country",
        ),
        (
            "/v1/checkpoints/group-checks",
            CHECKPOINT_TOKEN,
            trip(json!({"travellers": [{"nik": "3301014501900001", "decision": "cleared"}]})),
            "travellers",
        ),
        (
            "/v1/checkpoints/group-checks",
            CHECKPOINT_TOKEN,
            trip(
                json!({"travellers": [{"nik": "3301014501900001", "decision": "cleared"}, {"nik": "3301011301900001", "decision": "refused"}]}),
            ),
            "travellers[1].reason",
        ),
        (
            "/v1/cases/referrals",
            IMIGRASI_TOKEN,
            with(
                &referral,
                json!({"to_agency": "imigrasi", "subject_niks": ["3301014501900001"]}),
            ),
            "to_agency",
        ),
        (
            "/v1/cases/referrals",
            IMIGRASI_TOKEN,
            with(&referral, json!({"to_agency": "polri"})),
            "subject_niks",
        ),
        (
            "/v1/cases/referrals",
            IMIGRASI_TOKEN,
            with(
                &referral,
                json!({"to_agency": "polri", "subject_niks": ["3301014501900001", "12"]}),
            ),
            "subject_niks[1]",
        ),
        (
            "/v1/cases/recruiters",
            POLRI_TOKEN,
            json!({"recruiter_key": "rk-cilacap-0001", "role": "recruiter", "licence_status": "unlicensed", "regency": "Cilacap",
                   "phone_numbers": ["12345"], "officer_id": "pol-7"}),
            "phone_numbers[0]",
        ),
        (
            "/v1/cases/spdp",
            POLRI_TOKEN,
            json!({"case_id": "LINTAS-CLP-2026-0042", "spdp_number": "SPDP/1", "sent_to_office": "KEJARI-CILACAP",
                   "investigation_opened_on": "2999-01-01", "officer_id": "pol-7"}),
            "investigation_opened_on",
        ),
        (
            "/v1/cases/prosecution-stages",
            KEJAKSAAN_TOKEN,
            json!({"case_id": "x", "stage": "p16", "officer_id": "jaksa-7"}),
            "case_id",
        ),
    ];
    for (path, token, body, field) in cases {
        let (status, answer, _) = client
            .post_keyed(&format!("{}{path}", intake.url), token, &body, None)
            .await;
        assert_eq!(status, 422, "{path} {body}: {answer}");
        assert!(
            named(&answer).contains(&field.to_string()),
            "{path}: expected {field} named in {answer}"
        );
    }
    assert_eq!(
        total(&broker.brokers),
        0,
        "refused requests published something"
    );
}

/// An interview deferral without a date gets the default 30 days.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_deferral_without_a_date_gets_the_default_30_days() {
    let Stack {
        broker,
        registry,
        intake,
        database: _database,
    } = Stack::start(1).await;
    let client = Client::new();
    let deferral = json!({"nik": NIK_SITI, "officer_id": "off-4", "outcome": "defer",
        "reason_codes": ["missing_travel_operator_letter"], "occurred_at": "2026-03-01T08:00:00Z"});
    let (status, answer, _) = client
        .post_keyed(
            &format!("{}/v1/imigrasi/interviews", intake.url),
            IMIGRASI_TOKEN,
            &deferral,
            None,
        )
        .await;
    assert_eq!(status, 202, "{answer}");
    let records = read_all(
        &broker.brokers,
        "lintas.applicants.v1",
        1,
        Duration::from_secs(20),
    );
    let codec = lintas_kit::codec::Codec::new(
        harness::registry_client(&registry.url, harness::REGISTRY_READ),
        "",
    );
    match codec.decode(records[0].payload().unwrap()).await.unwrap() {
        AnyEvent::PassportInterviewConducted(i) => {
            assert_eq!(i.defer_until, Some(time::macros::date!(2026 - 03 - 31)))
        }
        other => panic!("unexpected {other:?}"),
    }
}

/// One Idempotency-Key is one request: concurrent requests that share a key but carry
/// different bodies cannot both publish (the key is reserved with the body's hash before
/// anything is published), and a key-less request that states `occurred_at` sent twice is
/// one event.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_key_one_request_even_concurrently() {
    let Stack {
        broker,
        registry,
        intake,
        database: _database,
    } = Stack::start(1).await;
    let client = Client::new();
    let url = format!("{}/v1/imigrasi/visa-flags", intake.url);
    let body = |officer: &str| {
        json!({"nik": "3301014501900001", "reason": "cultural_ambassador", "stage": "passport_interview",
               "visa_type": "visit", "destination_country": "MY", "officer_id": officer})
    };
    let mut requests = tokio::task::JoinSet::new();
    for i in 0..8 {
        let (client, url) = (client.clone(), url.clone());
        let body = body(if i % 2 == 0 { "im-a" } else { "im-b" });
        requests.spawn(async move {
            let r = client
                .http
                .post(&url)
                .bearer_auth(IMIGRASI_TOKEN)
                .header("idempotency-key", "flag-2026-0001")
                .json(&body)
                .send()
                .await
                .unwrap();
            (
                body["officer_id"].as_str().unwrap().to_string(),
                r.status().as_u16(),
            )
        });
    }
    let mut accepted = std::collections::BTreeSet::new();
    while let Some(answer) = requests.join_next().await {
        let (officer, status) = answer.unwrap();
        assert!(status == 202 || status == 422, "{status}");
        if status == 202 {
            accepted.insert(officer);
        }
    }
    assert_eq!(
        accepted.len(),
        1,
        "only one body is accepted under the key: {accepted:?}"
    );
    let codec = harness::codec(&registry.url, &[]);
    let records = read_all(
        &broker.brokers,
        "lintas.screening.v1",
        records_in(&broker.brokers, "lintas.screening.v1") as usize,
        Duration::from_secs(20),
    );
    let mut published = std::collections::BTreeSet::new();
    for r in &records {
        let event = codec.decode(r.payload().unwrap()).await.unwrap();
        published.insert((
            event.envelope().event_id,
            event.envelope().officer_id.clone(),
        ));
    }
    assert_eq!(
        published.len(),
        1,
        "one event under one key (republished copies share its id): {published:?}"
    );
    assert!(accepted.contains(&published.iter().next().unwrap().1));

    // No key, but the time the fact occurred: the same fact twice is one event.
    let mut fact = body("im-c");
    fact["occurred_at"] = json!("2026-11-30T08:00:00+07:00");
    let mut ids = Vec::new();
    for _ in 0..2 {
        let answer: Value = client
            .http
            .post(&url)
            .bearer_auth(IMIGRASI_TOKEN)
            .json(&fact)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        ids.push(answer["event_id"].clone());
    }
    assert_eq!(ids[0], ids[1]);
}

/// The credential an example of /openapi.json is posted with: its `x-example-caller`, at the
/// checkpoint or village the example names.
fn example_token(caller: &str, example: &Value) -> &'static str {
    match (
        caller,
        example.get("checkpoint_code").and_then(Value::as_str),
    ) {
        ("imigrasi", Some(checkpoint)) => {
            assert_eq!(checkpoint, "TPI-CGK", "the first configured checkpoint");
            CHECKPOINT_TOKEN
        }
        ("imigrasi", None) => IMIGRASI_TOKEN,
        ("disnaker", _) => DISNAKER_TOKEN,
        ("polri", _) => POLRI_TOKEN,
        ("kejaksaan", _) => KEJAKSAAN_TOKEN,
        ("desa", _) => DESA_KESUGIHAN_TOKEN,
        other => panic!("no test token for example caller {other:?}"),
    }
}

/// One field of an example: its name as the intake reports it (`travellers[0].reason`), its
/// JSON pointer, and whether the document says the example must have it.
struct ExampleField {
    name: String,
    pointer: String,
    required: bool,
}

/// Every field of `instance` (nested objects and objects in lists too), each with whether
/// `schema` requires it of this instance.
fn example_fields(
    schema: &Value,
    instance: &Value,
    name: &str,
    pointer: &str,
    out: &mut Vec<ExampleField>,
) {
    let Some(map) = instance.as_object() else {
        return;
    };
    let required = required_of(schema, instance);
    for (key, value) in map {
        let (field, at) = (format!("{name}{key}"), format!("{pointer}/{key}"));
        out.push(ExampleField {
            name: field.clone(),
            pointer: at.clone(),
            required: required.contains(key),
        });
        let property = &schema["properties"][key];
        if property["type"] == "object" {
            example_fields(property, value, &format!("{field}."), &at, out);
        } else if property["type"] == "array" && property["items"]["type"] == "object" {
            for (i, item) in value.as_array().unwrap().iter().enumerate() {
                let (item_name, item_at) = (format!("{field}[{i}]."), format!("{at}/{i}"));
                example_fields(&property["items"], item, &item_name, &item_at, out);
            }
        }
    }
}

/// The fields `schema` requires of `instance`: its `required`, and the `then.required` of
/// each `allOf` condition that `instance` meets.
fn required_of(schema: &Value, instance: &Value) -> std::collections::BTreeSet<String> {
    let names = |list: &Value| -> Vec<String> {
        list.as_array()
            .map(|a| a.iter().map(|v| v.as_str().unwrap().to_string()).collect())
            .unwrap_or_default()
    };
    let mut required: std::collections::BTreeSet<String> =
        names(&schema["required"]).into_iter().collect();
    for condition in schema["allOf"].as_array().into_iter().flatten() {
        if meets(&condition["if"], instance) {
            required.extend(names(&condition["then"]["required"]));
        }
    }
    required
}

/// Whether `instance` meets a JSON Schema condition of the document. Only the keywords its
/// conditions use are evaluated; any other fails the test, so that a new kind of condition
/// is evaluated here before it is trusted.
fn meets(condition: &Value, instance: &Value) -> bool {
    let map = instance.as_object().unwrap();
    condition
        .as_object()
        .unwrap()
        .iter()
        .all(|(keyword, value)| match keyword.as_str() {
            "required" => value
                .as_array()
                .unwrap()
                .iter()
                .all(|k| map.contains_key(k.as_str().unwrap())),
            "properties" => value.as_object().unwrap().iter().all(|(k, s)| {
                map.get(k)
                    .is_none_or(|v| s["enum"].as_array().unwrap().contains(v))
            }),
            "not" => !meets(value, instance),
            other => panic!("condition keyword {other} is not evaluated by this test"),
        })
}

/// What an integrator reads in /openapi.json holds: every endpoint has an example, posting it
/// is accepted, and `required` (with its `if`/`then` conditions) is exactly what validation
/// demands: removing a field it requires is refused naming that field, removing any other
/// field of the example is accepted.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn openapi_examples_are_accepted_and_required_is_what_validation_demands() {
    // The fields unbound would be dropped, and their processes killed, at once.
    let Stack {
        broker: _broker,
        database: _database,
        registry: _registry,
        intake,
    } = Stack::start(1).await;
    let client = Client::new();
    let openapi: Value = client
        .http
        .get(format!("{}/openapi.json", intake.url))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let paths = openapi["paths"].as_object().unwrap();
    let mut documented: Vec<&str> = paths.keys().map(String::as_str).collect();
    let mut known: Vec<&str> = cases().iter().map(|c| c.path).collect();
    documented.sort();
    known.sort();
    assert_eq!(documented, known, "every endpoint is documented");

    // The departure checks' conditional fields are stated, not only enforced.
    let departure = &paths["/v1/checkpoints/departure-checks"]["post"]["requestBody"]["content"]
        ["application/json"]["schema"];
    let blocked = json!({"decision": "deferred"});
    let needs = required_of(departure, &blocked);
    for field in ["reason", "handed_to", "return_ticket"] {
        assert!(
            needs.contains(field),
            "{field} not required when blocked: {departure}"
        );
    }

    for (path, item) in paths {
        let media = &item["post"]["requestBody"]["content"]["application/json"];
        let (schema, example) = (&media["schema"], &media["example"]);
        assert!(example.is_object(), "{path} has no example");
        let caller = media["x-example-caller"].as_str().unwrap_or_default();
        let token = example_token(caller, example);
        let url = format!("{}{path}", intake.url);
        let (status, answer, _) = client.post_keyed(&url, token, example, None).await;
        assert_eq!(status, 202, "{path}: its example {example} got {answer}");

        let mut fields = Vec::new();
        example_fields(schema, example, "", "", &mut fields);
        assert!(
            fields.iter().any(|f| f.required),
            "{path}: no field of the example is required"
        );
        for field in fields {
            let mut body = example.clone();
            let (parent, key) = field.pointer.rsplit_once('/').unwrap();
            body.pointer_mut(parent)
                .and_then(Value::as_object_mut)
                .unwrap()
                .remove(key);
            let (status, answer, _) = client.post_keyed(&url, token, &body, None).await;
            if field.required {
                assert_eq!(
                    status, 422,
                    "{path} without {}, documented as required, got {answer}",
                    field.name
                );
                assert!(
                    named(&answer).contains(&field.name),
                    "{path} without {}: {answer}",
                    field.name
                );
            } else {
                assert_eq!(
                    status, 202,
                    "{path} without {}, documented as optional, got {answer}",
                    field.name
                );
            }
        }
    }
}
