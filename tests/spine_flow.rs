//! The spine end to end, on a real broker (tansu) and real PostgreSQL, every service a
//! process of the `lintas` binary, one test a claim: an applicant POSTed to the intake shows
//! up in the immigration view; bad input is refused with field errors and publishes nothing;
//! IM1 fires on a repeat flag and stays silent on a near miss; a stopped broker gives 503,
//! never 202.

mod harness;

use std::time::{Duration, Instant};

use harness::*;
use lintas_kit::events::*;
use lintas_kit::testing::examples::{example, Example};
use serde_json::{json, Value};
use time::macros::datetime;

fn applicant() -> Value {
    json!({
        "source": "jobseeker_card_ak1",
        "identity_document_checked": true,
        "nik": "3301014501900001",
        "full_name": "Siti Aminah",
        "sex": "female",
        "birth_date": "1990-01-05",
        "village_code": "33.01.02.2001", "village": "Kesugihan",
        "sub_district": "Kesugihan",
        "regency": "Cilacap",
        "declared_purpose": "umrah",
        "destination_country": "SA",
        "officer_id": "off-17",
        "placement_agency": {"name": "PT Maju Jaya", "licence_number": null}
    })
}

fn bad_fields(body: &Value) -> Vec<String> {
    body["fields"]
        .as_array()
        .map(|a| {
            a.iter()
                .map(|f| f["field"].as_str().unwrap().to_string())
                .collect()
        })
        .unwrap_or_default()
}

/// A stack with the immigration subscriber, ready, and the applicant registered (202).
struct Flow {
    stack: Stack,
    imigrasi: Service,
    client: Client,
    /// The intake's registrations.
    applicants: String,
    /// The intake's answer to the registration.
    accepted: Value,
    subject_key: String,
    /// The applicant's immigration history.
    view_url: String,
}

async fn registered() -> Flow {
    let stack = Stack::start(3).await;
    let imigrasi = stack.subscriber("imigrasi", &[]);
    wait_http_ok(&format!("{}/readyz", imigrasi.url), Duration::from_secs(90)).await;
    let client = Client::new();
    let applicants = stack.intake_url("/v1/applicants");
    let (status, accepted, _) = client
        .post_bytes(
            &applicants,
            DISNAKER_TOKEN,
            "application/json",
            applicant().to_string().into_bytes(),
        )
        .await;
    assert_eq!(status, 202, "{accepted}");
    let subject_key = accepted["subject_key"].as_str().unwrap().to_string();
    let view_url = format!(
        "{}/v1/agencies/imigrasi/subjects/{subject_key}",
        imigrasi.url
    );
    Flow {
        stack,
        imigrasi,
        client,
        applicants,
        accepted,
        subject_key,
        view_url,
    }
}

/// The good path: 202 with the event id and the subject key of the NIK, and the event in the
/// immigration view, as the token's agency and office, without the NIK or the name; only
/// immigration tokens read immigration views.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn applicant_flows_from_intake_to_immigration_view() {
    let Flow {
        client,
        accepted,
        subject_key,
        view_url,
        ..
    } = &registered().await;
    let event_id = accepted["event_id"].as_str().unwrap().to_string();
    assert_eq!(
        *subject_key,
        SubjectKeyer::new(SECRET.as_bytes())
            .unwrap()
            .subject_key("3301014501900001")
    );
    let history = wait_for_history(client, view_url, 1).await;
    let event = &history["events"][0];
    assert_eq!(event["event_id"], event_id);
    assert_eq!(event["event_type"], "ApplicantRegistered");
    assert_eq!(event["agency"], "disnaker", "agency comes from the token");
    assert_eq!(event["office"], "DISNAKER-CILACAP");
    assert_eq!(event["details"]["declared_purpose"], "umrah");
    assert!(
        !history.to_string().contains("3301014501900001"),
        "the view must not hold the NIK"
    );
    assert!(
        !history.to_string().contains("Siti"),
        "the view must not hold the name"
    );

    // Only immigration tokens read immigration views.
    let (forbidden, _) = client.get(view_url, DISNAKER_TOKEN).await;
    assert_eq!(forbidden, 403);
    let (anonymous, _) = client
        .call(reqwest::Method::GET, view_url, None, None)
        .await;
    assert_eq!(anonymous, 401);
}

/// Bad input is refused with a reason naming each bad field (422), a wrong content type
/// (415), malformed JSON (400), an oversize body (413) and an unknown token (401); none of it
/// publishes anything.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_input_is_refused_with_field_errors_and_publishes_nothing() {
    let Flow {
        stack,
        client,
        applicants,
        ..
    } = &registered().await;
    let broker = &stack.broker;
    // Bad input: refused with a reason naming each bad field, and nothing published.
    let published_before = records_in(&broker.brokers, "lintas.applicants.v1");
    assert_eq!(published_before, 1);
    let cases: Vec<(&str, Value, &[&str])> = vec![
        (
            "missing NIK",
            {
                let mut b = applicant();
                b.as_object_mut().unwrap().remove("nik");
                b
            },
            &["nik"],
        ),
        (
            "malformed NIK",
            {
                let mut b = applicant();
                b["nik"] = json!("33010145019000AB");
                b
            },
            &["nik"],
        ),
        (
            "unknown province",
            {
                let mut b = applicant();
                b["nik"] = json!("9901014501900001");
                b
            },
            &["nik"],
        ),
        (
            "unknown purpose",
            {
                let mut b = applicant();
                b["declared_purpose"] = json!("holiday");
                b
            },
            &["declared_purpose"],
        ),
        (
            "future birth date",
            {
                let mut b = applicant();
                b["birth_date"] = json!("2999-01-05");
                b
            },
            &["birth_date"],
        ),
        (
            "birth date not the NIK's",
            {
                let mut b = applicant();
                b["birth_date"] = json!("1991-01-05");
                b
            },
            &["birth_date"],
        ),
        (
            "bad country",
            {
                let mut b = applicant();
                b["destination_country"] = json!("Malaysia");
                b
            },
            &["destination_country"],
        ),
        (
            "several at once",
            {
                let mut b = applicant();
                b["sex"] = json!("x");
                b["regency"] = json!("");
                b
            },
            &["sex", "regency"],
        ),
    ];
    for (name, body, fields) in cases {
        let (status, answer, _) = client
            .post_bytes(
                applicants,
                DISNAKER_TOKEN,
                "application/json",
                body.to_string().into_bytes(),
            )
            .await;
        assert_eq!(status, 422, "{name}: {answer}");
        let named = bad_fields(&answer);
        for field in fields {
            assert!(
                named.iter().any(|n| n == field),
                "{name}: {field} not named in {answer}"
            );
        }
    }
    let (status, answer, _) = client
        .post_bytes(
            applicants,
            DISNAKER_TOKEN,
            "text/plain",
            applicant().to_string().into_bytes(),
        )
        .await;
    assert_eq!(status, 415, "wrong content type: {answer}");
    assert!(answer["error"].as_str().unwrap().contains("content type"));
    let (status, answer, _) = client
        .post_bytes(
            applicants,
            DISNAKER_TOKEN,
            "application/json",
            b"{\"nik\":".to_vec(),
        )
        .await;
    assert_eq!(status, 400, "malformed JSON: {answer}");
    let mut huge = applicant();
    huge["full_name"] = json!("x".repeat(100_000));
    let (status, _, _) = client
        .post_bytes(
            applicants,
            DISNAKER_TOKEN,
            "application/json",
            huge.to_string().into_bytes(),
        )
        .await;
    assert_eq!(status, 413, "oversize body");
    let (status, _, _) = client
        .post_bytes(
            applicants,
            "not-a-valid-token-at-all",
            "application/json",
            applicant().to_string().into_bytes(),
        )
        .await;
    assert_eq!(status, 401, "unknown token");
    assert_eq!(
        records_in(&broker.brokers, "lintas.applicants.v1"),
        published_before,
        "refused input must publish nothing"
    );
}

/// IM1: flagged, then blocked 3 months later, raises one alert in the view and on the alert
/// topic (published once through the outbox); a near miss, 13 months apart, raises nothing.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn im1_fires_on_a_repeat_flag_and_stays_silent_on_a_near_miss() {
    let Flow {
        stack,
        imigrasi,
        client,
        subject_key,
        view_url,
        ..
    } = &registered().await;
    let (broker, registry) = (&stack.broker, &stack.registry);
    // IM1: flagged, then blocked 3 months later → one alert on the AlertRaised topic and in
    // the view. A near miss (13 months apart) raises nothing.
    let producer = producer(&broker.brokers, &registry.url);
    let flagged = flag(subject_key, datetime!(2026-01-10 09:00 UTC));
    let blocked = block(subject_key, datetime!(2026-04-10 22:30 UTC));
    producer.publish(&flagged).await.unwrap();
    producer.publish(&blocked).await.unwrap();
    let other = SubjectKeyer::new(SECRET.as_bytes())
        .unwrap()
        .subject_key("3301011301900001");
    producer
        .publish(&flag(&other, datetime!(2025-01-10 09:00 UTC)))
        .await
        .unwrap();
    producer
        .publish(&block(&other, datetime!(2026-02-12 09:00 UTC)))
        .await
        .unwrap();
    let history = wait_for_history(client, view_url, 3).await;
    // The applicant (a woman declaring umrah to Saudi Arabia) also meets IM2, twice: when she
    // registered, and when she was checked on an umrah visa direct to Saudi Arabia (each
    // calls for a secondary interview where it happened).
    let alerts = history["alerts"].as_array().unwrap();
    let mut rules: Vec<&str> = alerts.iter().map(|a| a["rule"].as_str().unwrap()).collect();
    rules.sort();
    assert_eq!(rules, ["IM1", "IM2", "IM2"], "{history}");
    let im1 = alerts.iter().find(|a| a["rule"] == "IM1").unwrap();
    let evidence: Vec<&str> = im1["evidence_event_ids"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap())
        .collect();
    assert!(evidence.contains(&flagged.envelope.event_id.to_string().as_str()));
    assert!(evidence.contains(&blocked.envelope.event_id.to_string().as_str()));
    let near_miss = wait_for_history(
        client,
        &format!("{}/v1/agencies/imigrasi/subjects/{other}", imigrasi.url),
        2,
    )
    .await;
    assert_eq!(
        near_miss["alerts"].as_array().unwrap().len(),
        0,
        "13 months apart is not IM1: {near_miss}"
    );
    let raised = read_all(
        &broker.brokers,
        "lintas.alerts.imigrasi.v1",
        4,
        Duration::from_secs(10),
    );
    assert_eq!(
        raised.len(),
        3,
        "each AlertRaised is published once through the outbox"
    );
    let codec = lintas_kit::codec::Codec::new(
        harness::registry_client(&registry.url, harness::REGISTRY_READ),
        "",
    );
    use rdkafka::Message;
    let mut published = Vec::new();
    for record in &raised {
        match codec.decode(record.payload().unwrap()).await.unwrap() {
            AnyEvent::AlertRaised(alert) => {
                assert_eq!(
                    alert.envelope.subject_key.as_deref(),
                    Some(subject_key.as_str())
                );
                published.push((alert.rule.clone(), alert.alert_id.to_string()));
            }
            other => panic!("expected AlertRaised, got {other:?}"),
        }
    }
    assert!(
        published.contains(&(
            "IM1".to_string(),
            im1["alert_id"].as_str().unwrap().to_string()
        )),
        "{published:?}"
    );
}

/// Broker down: the intake answers 503 with Retry-After, never 202, and within 30 s.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stopped_broker_gives_503_never_202() {
    let mut flow = registered().await;
    let (client, applicants) = (&flow.client, &flow.applicants);
    // Broker down: the intake answers 503 with Retry-After, never 202.
    flow.stack.broker.stop();
    let started = Instant::now();
    let (status, answer, headers) = client
        .post_bytes(
            applicants,
            DISNAKER_TOKEN,
            "application/json",
            applicant().to_string().into_bytes(),
        )
        .await;
    assert_eq!(status, 503, "{answer}");
    assert!(headers.contains_key("retry-after"));
    assert!(started.elapsed() < Duration::from_secs(30));
}

/// The immigration office's flag of an umrah visa to Saudi Arabia without the travel
/// operator's letter.
fn flag(subject_key: &str, at: time::OffsetDateTime) -> VisaTypeFlagged {
    VisaTypeFlagged {
        reason: VisaFlagReason::UmrahOrZiarahWithoutTravelOperatorLetter,
        visa_type: VisaType::Umrah,
        destination_country: "SA".into(),
        ..example()
    }
    .about(subject_key)
    .at(at)
}

/// A block at Soekarno-Hatta of a flight direct to Saudi Arabia on an umrah visa, with a
/// return ticket; the block does not say who travelled.
fn block(subject_key: &str, at: time::OffsetDateTime) -> DepartureBlocked {
    DepartureBlocked {
        destination_country: "SA".into(),
        transit_points: vec![],
        visa_shown: VisaType::Umrah,
        return_ticket: true,
        traveller_sex: None,
        traveller_minor: None,
        ..example()
    }
    .about(subject_key)
    .at(at)
}

/// The subject history at `url` once it holds `events` events (within 60 s).
async fn wait_for_history(client: &Client, url: &str, events: usize) -> Value {
    client
        .wait_for(
            url,
            IMIGRASI_TOKEN,
            Duration::from_secs(60),
            &format!("{events} events"),
            |body| body["events"].as_array().unwrap().len() >= events,
        )
        .await
}
