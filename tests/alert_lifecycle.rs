//! The alert lifecycle through the agencies' APIs, on tansu and PostgreSQL: a police alert
//! (PO2, a blocked child) is acknowledged, escalated to the prosecutor and closed with a
//! reason; each step answers with the new status, refuses what the status does not allow,
//! and is published on the alert topic. Then the police subscriber's views and offsets are
//! dropped and rebuilt from the topics: every table comes back row for row, the alert's
//! status included. Last, every agency token against every agency's endpoints: only the
//! owner gets through.

mod harness;

use std::time::{Duration, Instant};

use harness::*;
use lintas_kit::codec::Codec;
use lintas_kit::events::AnyEvent;
use rdkafka::Message;
use reqwest::Method;
use serde_json::{json, Value};

async fn post(client: &reqwest::Client, url: String, token: &str, body: Value) {
    let response = client
        .post(&url)
        .bearer_auth(token)
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(
        response.status().as_u16(),
        202,
        "{url}: {}",
        response.text().await.unwrap()
    );
}

async fn call(
    client: &reqwest::Client,
    method: Method,
    url: &str,
    token: Option<&str>,
    body: Option<Value>,
) -> (u16, Value) {
    let mut request = client.request(method, url);
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    if let Some(body) = body {
        request = request.json(&body);
    }
    // A service still starting is not an answer yet.
    let Ok(response) = request.send().await else {
        return (0, Value::Null);
    };
    let status = response.status().as_u16();
    let text = response.text().await.unwrap();
    (
        status,
        serde_json::from_str(&text).unwrap_or(Value::String(text)),
    )
}

async fn wait_until(what: &str, mut check: impl AsyncFnMut() -> Option<Value>) -> Value {
    let deadline = Instant::now() + Duration::from_secs(90);
    loop {
        if let Some(v) = check().await {
            return v;
        }
        assert!(Instant::now() < deadline, "never: {what}");
        tokio::time::sleep(Duration::from_millis(300)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn alerts_are_acknowledged_escalated_closed_and_survive_a_rebuild() {
    let broker = Broker::start(2).await;
    let database = fresh_database().await;
    let registry = start_registry(&database, &broker.dir).await;
    let intake = start_intake(&broker.brokers, &registry.url, &database, &broker.dir).await;
    let client = reqwest::Client::new();
    // A girl of 15, registered and then blocked: PO2 for the police, DN1 and DN4 for Disnaker.
    post(&client, format!("{}/v1/disnaker/jobseekers", intake.url), DISNAKER_TOKEN, json!({
        "nik": "3301016007100003", "full_name": "Ani", "sex": "female", "birth_date": "2010-07-20", "village_code": "33.01.02.2001", "village": "Kesugihan",
        "sub_district": "Kesugihan", "regency": "Cilacap", "declared_purpose": "work", "destination_country": "MY", "officer_id": "dn-1"})).await;
    post(&client, format!("{}/v1/checkpoints/departure-checks", intake.url), CHECKPOINT_TOKEN, json!({
        "nik": "3301016007100003", "checkpoint_code": "TPI-CGK", "decision": "refused", "carrier": "AirAsia",
        "flight_or_vessel": "QZ 262", "destination_country": "MY", "visa_shown": "tourist", "return_ticket": false,
        "reason": "minor_without_guardian", "handed_to": "social_services", "officer_id": "tpi-9"})).await;

    let mut polri = spawn_subscriber(
        "polri",
        &broker.brokers,
        &registry.url,
        &database,
        &broker.dir,
        &[],
    );
    let disnaker = spawn_subscriber(
        "disnaker",
        &broker.brokers,
        &registry.url,
        &database,
        &broker.dir,
        &[],
    );
    let imigrasi = spawn_imigrasi(&broker.brokers, &registry.url, &database, &broker.dir, &[]);
    let desa = spawn_desa(&broker.brokers, &registry.url, &database, &broker.dir);
    let kejaksaan = spawn_subscriber(
        "kejaksaan",
        &broker.brokers,
        &registry.url,
        &database,
        &broker.dir,
        &[],
    );

    let alerts_url = format!("{}/v1/agencies/polri/alerts", polri.url);
    let listed = wait_until("the PO2 alert", async || {
        let (status, body) = call(&client, Method::GET, &alerts_url, Some(POLRI_TOKEN), None).await;
        (status == 200 && body["alerts"].as_array().is_some_and(|a| !a.is_empty())).then_some(body)
    })
    .await;
    let alert = &listed["alerts"][0];
    assert_eq!(alert["rule"], "PO2");
    assert_eq!(alert["status"], "open");
    assert_eq!(alert["owner"], "polri");
    let alert_id = alert["alert_id"].as_str().unwrap().to_string();
    let one = format!("{alerts_url}/{alert_id}");

    // Refusals change nothing: another agency, no token, a bad body, an unknown alert.
    let ack = format!("{one}/acknowledge");
    let (status, _) = call(
        &client,
        Method::POST,
        &ack,
        Some(DISNAKER_TOKEN),
        Some(json!({"officer_id": "x"})),
    )
    .await;
    assert_eq!(status, 403);
    let (status, _) = call(
        &client,
        Method::POST,
        &ack,
        None,
        Some(json!({"officer_id": "x"})),
    )
    .await;
    assert_eq!(status, 401);
    let (status, body) = call(
        &client,
        Method::POST,
        &format!("{one}/close"),
        Some(POLRI_TOKEN),
        Some(json!({"reason": "bored", "shoe_size": 42})),
    )
    .await;
    assert_eq!(status, 422, "{body}");
    let fields: Vec<&str> = body["fields"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["field"].as_str().unwrap())
        .collect();
    assert!(
        fields.contains(&"reason") && fields.contains(&"officer_id") && fields.contains(&"body"),
        "{body}"
    );
    // A note travels on the shared alert topic: no identity or phone number in it.
    let (status, body) = call(
        &client,
        Method::POST,
        &format!("{one}/acknowledge"),
        Some(POLRI_TOKEN),
        Some(
            json!({"officer_id": "po-3", "note": "NIK 3301014501900001 called +62 812 3456 7890"}),
        ),
    )
    .await;
    assert_eq!(status, 422, "{body}");
    assert_eq!(body["fields"][0]["field"], "note");
    let (status, _) = call(
        &client,
        Method::POST,
        &format!("{alerts_url}/00000000-0000-4000-8000-000000000000/acknowledge"),
        Some(POLRI_TOKEN),
        Some(json!({"officer_id": "po-3"})),
    )
    .await;
    assert_eq!(status, 404);
    let (_, unchanged) = call(&client, Method::GET, &one, Some(POLRI_TOKEN), None).await;
    assert_eq!(unchanged["status"], "open");
    assert_eq!(unchanged["actions"], json!([]));

    // Acknowledge, escalate to the prosecutor, close.
    let (status, body) = call(
        &client,
        Method::POST,
        &ack,
        Some(POLRI_TOKEN),
        Some(json!({"officer_id": "po-3", "note": "unit PPA informed"})),
    )
    .await;
    assert_eq!(
        (status, body["status"].as_str()),
        (200, Some("acknowledged")),
        "{body}"
    );
    let (status, _) = call(
        &client,
        Method::POST,
        &ack,
        Some(POLRI_TOKEN),
        Some(json!({"officer_id": "po-3"})),
    )
    .await;
    assert_eq!(status, 409, "a second acknowledgement");
    let (status, body) = call(
        &client,
        Method::POST,
        &format!("{one}/escalate"),
        Some(POLRI_TOKEN),
        Some(json!({"officer_id": "po-4", "escalated_to": "kejaksaan", "reason": "manual"})),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        (
            body["status"].as_str(),
            body["escalation_level"].as_i64(),
            body["escalated_to"].as_str()
        ),
        (Some("escalated"), Some(1), Some("kejaksaan"))
    );
    // The prosecutor reads the police's alerts under a grant: the escalation is its incoming
    // alert. An agency without the grant cannot be escalated to.
    let incoming_url = format!("{}/v1/agencies/kejaksaan/alerts/incoming", kejaksaan.url);
    let incoming = wait_until("the escalation at the prosecutor", async || {
        let (status, body) = call(
            &client,
            Method::GET,
            &incoming_url,
            Some(KEJAKSAAN_TOKEN),
            None,
        )
        .await;
        (status == 200
            && body["alerts"]
                .as_array()
                .is_some_and(|a| a.iter().any(|x| x["alert_id"] == alert_id.as_str())))
        .then_some(body)
    })
    .await;
    assert_eq!(incoming["alerts"][0]["owner"], "polri", "{incoming}");
    assert_eq!(incoming["alerts"][0]["status"], "escalated", "{incoming}");
    let (status, _) = call(&client, Method::GET, &incoming_url, Some(POLRI_TOKEN), None).await;
    assert_eq!(status, 403, "only the prosecutor reads its incoming alerts");
    let (status, body) = call(
        &client,
        Method::POST,
        &format!("{one}/escalate"),
        Some(POLRI_TOKEN),
        Some(json!({"officer_id": "po-4", "escalated_to": "desa", "reason": "manual"})),
    )
    .await;
    assert_eq!(status, 422, "{body}");
    assert_eq!(body["fields"][0]["field"], "escalated_to", "{body}");
    let (status, body) = call(
        &client,
        Method::POST,
        &format!("{one}/close"),
        Some(POLRI_TOKEN),
        Some(json!({"officer_id": "po-4", "reason": "resolved"})),
    )
    .await;
    assert_eq!(
        (
            status,
            body["status"].as_str(),
            body["close_reason"].as_str()
        ),
        (200, Some("closed"), Some("resolved"))
    );
    let (status, _) = call(
        &client,
        Method::POST,
        &ack,
        Some(POLRI_TOKEN),
        Some(json!({"officer_id": "po-3"})),
    )
    .await;
    assert_eq!(status, 409, "acknowledging a closed alert");
    let actions: Vec<(&str, &str)> = body["actions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| {
            (
                a["action"].as_str().unwrap(),
                a["officer_id"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        actions,
        [
            ("acknowledged", "po-3"),
            ("escalated", "po-4"),
            ("closed", "po-4")
        ]
    );
    assert!(body["actions"]
        .as_array()
        .unwrap()
        .iter()
        .all(|a| a["office"] == "POLRESTA-CILACAP"));

    // Filters and pages.
    let (_, closed) = call(
        &client,
        Method::GET,
        &format!("{alerts_url}?status=closed"),
        Some(POLRI_TOKEN),
        None,
    )
    .await;
    assert_eq!(closed["alerts"].as_array().unwrap().len(), 1);
    let (_, open) = call(
        &client,
        Method::GET,
        &format!("{alerts_url}?status=open"),
        Some(POLRI_TOKEN),
        None,
    )
    .await;
    assert_eq!(open["alerts"], json!([]));
    let (status, _) = call(
        &client,
        Method::GET,
        &format!("{alerts_url}?limit=0"),
        Some(POLRI_TOKEN),
        None,
    )
    .await;
    assert_eq!(status, 422);
    let dn_url = format!("{}/v1/agencies/disnaker/alerts", disnaker.url);
    wait_until("two Disnaker alerts", async || {
        let (_, body) = call(&client, Method::GET, &dn_url, Some(DISNAKER_TOKEN), None).await;
        (body["alerts"].as_array().map_or(0, Vec::len) == 2).then_some(body)
    })
    .await;
    let (_, first) = call(
        &client,
        Method::GET,
        &format!("{dn_url}?limit=1"),
        Some(DISNAKER_TOKEN),
        None,
    )
    .await;
    let cursor = first["next_cursor"]
        .as_str()
        .expect("a second page")
        .to_string();
    let (_, second) = call(
        &client,
        Method::GET,
        &format!("{dn_url}?limit=1&cursor={cursor}"),
        Some(DISNAKER_TOKEN),
        None,
    )
    .await;
    assert_eq!(second["next_cursor"], Value::Null);
    let mut rules = vec![
        first["alerts"][0]["rule"].as_str().unwrap(),
        second["alerts"][0]["rule"].as_str().unwrap(),
    ];
    rules.sort();
    assert_eq!(rules, ["DN1", "DN4"]);

    // The lifecycle is on the feed, for every other reader.
    let codec = Codec::new(
        harness::registry_client(&registry.url, harness::REGISTRY_READ),
        "",
    );
    let lifecycle = wait_until("the lifecycle on lintas.alerts.polri.v1", async || {
        let mut seen = Vec::new();
        for m in read_all(
            &broker.brokers,
            "lintas.alerts.polri.v1",
            usize::MAX,
            Duration::from_secs(3),
        ) {
            match codec.decode(m.payload().unwrap()).await.unwrap() {
                AnyEvent::AlertAcknowledged(e) if e.alert_id.to_string() == alert_id => {
                    seen.push("acknowledged")
                }
                AnyEvent::AlertEscalated(e) if e.alert_id.to_string() == alert_id => {
                    seen.push("escalated")
                }
                AnyEvent::AlertClosed(e) if e.alert_id.to_string() == alert_id => {
                    seen.push("closed")
                }
                _ => {}
            }
        }
        (seen.len() >= 3).then(|| json!(seen))
    })
    .await;
    assert_eq!(lifecycle, json!(["acknowledged", "escalated", "closed"]));

    // Rebuild: drop the police views and offsets, replay the topics, get the same rows.
    let before = police_rows(&database).await;
    assert!(
        before["lintas_alerts"]
            .iter()
            .any(|r| r.contains("\"closed\"")),
        "{before:?}"
    );
    polri.proc.terminate();
    let pool = pg(&database).await;
    sqlx::query("DROP SCHEMA polri CASCADE")
        .execute(&pool)
        .await
        .unwrap();
    pool.close().await;
    let polri = spawn_subscriber(
        "polri",
        &broker.brokers,
        &registry.url,
        &database,
        &broker.dir,
        &[],
    );
    let after = wait_until("the rebuilt police views", async || {
        let (status, body) = call(
            &client,
            Method::GET,
            &format!("{}/v1/agencies/polri/alerts/{alert_id}", polri.url),
            Some(POLRI_TOKEN),
            None,
        )
        .await;
        if status != 200 || body["actions"].as_array().map_or(0, Vec::len) < 3 {
            return None;
        }
        let after = police_rows(&database).await;
        if after != before {
            for (k, v) in &after {
                if before.get(k) != Some(v) {
                    eprintln!("DEBUG table {k}: before {:?} after {:?}", before.get(k), v);
                }
            }
        }
        (after == before).then(|| json!(after.len()))
    })
    .await;
    assert!(after.as_u64().unwrap() >= 4, "tables compared: {after}");

    // The access matrix: every token against every agency's endpoints.
    let subject = before["births"][0]
        .split("\"subject_key\":\"")
        .nth(1)
        .unwrap()
        .split('"')
        .next()
        .unwrap()
        .to_string();
    let endpoints: Vec<(&str, Method, String, Option<Value>)> = vec![
        (
            "imigrasi",
            Method::GET,
            format!("{}/v1/agencies/imigrasi/subjects/{subject}", imigrasi.url),
            None,
        ),
        (
            "imigrasi",
            Method::GET,
            format!("{}/v1/agencies/imigrasi/alerts", imigrasi.url),
            None,
        ),
        (
            "imigrasi",
            Method::GET,
            format!("{}/v1/agencies/imigrasi/alerts/{alert_id}", imigrasi.url),
            None,
        ),
        (
            "imigrasi",
            Method::POST,
            format!(
                "{}/v1/agencies/imigrasi/alerts/{alert_id}/close",
                imigrasi.url
            ),
            Some(json!({"officer_id": "x", "reason": "other"})),
        ),
        (
            "disnaker",
            Method::GET,
            format!("{}/v1/agencies/disnaker/follow-up-tasks", disnaker.url),
            None,
        ),
        ("disnaker", Method::GET, dn_url.clone(), None),
        (
            "disnaker",
            Method::POST,
            format!("{dn_url}/{alert_id}/acknowledge"),
            Some(json!({"officer_id": "x"})),
        ),
        (
            "polri",
            Method::GET,
            format!("{}/v1/agencies/polri/alerts", polri.url),
            None,
        ),
        (
            "polri",
            Method::GET,
            format!("{}/v1/agencies/polri/recruiters/unknown", polri.url),
            None,
        ),
        (
            "polri",
            Method::POST,
            format!("{}/v1/agencies/polri/alerts/{alert_id}/escalate", polri.url),
            Some(json!({"officer_id": "x", "escalated_to": "kejaksaan", "reason": "manual"})),
        ),
        (
            "imigrasi",
            Method::GET,
            format!(
                "{}/v1/agencies/imigrasi/audit/personal-data-reads",
                imigrasi.url
            ),
            None,
        ),
        (
            "kejaksaan",
            Method::GET,
            format!("{}/v1/agencies/kejaksaan/cases", kejaksaan.url),
            None,
        ),
        (
            "kejaksaan",
            Method::GET,
            format!("{}/v1/agencies/kejaksaan/cases/UNKNOWN", kejaksaan.url),
            None,
        ),
        (
            "kejaksaan",
            Method::GET,
            format!("{}/v1/agencies/kejaksaan/alerts", kejaksaan.url),
            None,
        ),
        (
            "kejaksaan",
            Method::POST,
            format!(
                "{}/v1/agencies/kejaksaan/alerts/{alert_id}/close",
                kejaksaan.url
            ),
            Some(json!({"officer_id": "x", "reason": "other"})),
        ),
        (
            "desa",
            Method::GET,
            format!(
                "{}/v1/agencies/desa/villages/33.01.02.2001/notices",
                desa.url
            ),
            None,
        ),
        (
            "desa",
            Method::GET,
            format!(
                "{}/v1/agencies/desa/villages/33.01.02.2001/residents",
                desa.url
            ),
            None,
        ),
        (
            "desa",
            Method::GET,
            format!(
                "{}/v1/agencies/desa/villages/33.01.02.2001/recruiters",
                desa.url
            ),
            None,
        ),
    ];
    let tokens = [
        ("disnaker", DISNAKER_TOKEN),
        ("imigrasi", IMIGRASI_TOKEN),
        ("imigrasi", CHECKPOINT_TOKEN),
        ("polri", POLRI_TOKEN),
        ("kejaksaan", KEJAKSAAN_TOKEN),
        ("desa", DESA_KESUGIHAN_TOKEN),
    ];
    let mut checked = 0;
    for (owner, method, url, body) in &endpoints {
        for (agency, token) in tokens {
            let (status, answer) =
                call(&client, method.clone(), url, Some(token), body.clone()).await;
            if agency == *owner {
                assert_ne!(status, 403, "{agency} on its own {url}: {answer}");
                assert_ne!(status, 401, "{url}");
            } else {
                assert_eq!(status, 403, "{agency} token on {url}: {answer}");
            }
            checked += 1;
        }
        let (status, _) = call(&client, method.clone(), url, None, body.clone()).await;
        assert_eq!(status, 401, "no token on {url}");
    }
    assert_eq!(checked, endpoints.len() * tokens.len());
    // The refused writes changed nothing.
    let (_, still) = call(
        &client,
        Method::GET,
        &format!("{}/v1/agencies/polri/alerts/{alert_id}", polri.url),
        Some(POLRI_TOKEN),
        None,
    )
    .await;
    assert_eq!(still["actions"].as_array().unwrap().len(), 3);
}

/// A compromised subscriber cannot act on another agency's alert. The manpower office's
/// principal may write only its own alert topic (and tansu, which enforces no ACL, cannot
/// prove that part: `deploy/` does); on it, it publishes an AlertClosed and an AlertRaised that
/// claim to be the police's, and a truthful escalation of the police's alert in its own name.
/// The police subscriber, which reads the manpower office's alerts under a grant,
/// dead-letters the two forgeries with the reason and counts them; the police's alert stays
/// open, with no action, and the police's own close still works.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn another_agencys_subscriber_cannot_close_an_alert_it_does_not_own() {
    use lintas_kit::events::{
        Agency, AlertCloseReason, AlertClosed, AlertEscalated, AlertRaised, AlertSeverity,
        Envelope, EscalationReason,
    };
    let broker = Broker::start(1).await;
    let database = fresh_database().await;
    let registry = start_registry(&database, &broker.dir).await;
    let intake = start_intake(&broker.brokers, &registry.url, &database, &broker.dir).await;
    let client = reqwest::Client::new();
    post(&client, format!("{}/v1/disnaker/jobseekers", intake.url), DISNAKER_TOKEN, json!({
        "nik": "3301016007100003", "full_name": "Ani", "sex": "female", "birth_date": "2010-07-20", "village_code": "33.01.02.2001", "village": "Kesugihan",
        "sub_district": "Kesugihan", "regency": "Cilacap", "declared_purpose": "work", "destination_country": "MY", "officer_id": "dn-1"})).await;
    post(&client, format!("{}/v1/checkpoints/departure-checks", intake.url), CHECKPOINT_TOKEN, json!({
        "nik": "3301016007100003", "checkpoint_code": "TPI-CGK", "decision": "refused", "carrier": "AirAsia",
        "flight_or_vessel": "QZ 262", "destination_country": "MY", "visa_shown": "tourist", "return_ticket": false,
        "reason": "minor_without_guardian", "handed_to": "social_services", "officer_id": "tpi-9"})).await;
    let polri = spawn_subscriber(
        "polri",
        &broker.brokers,
        &registry.url,
        &database,
        &broker.dir,
        &[],
    );
    let alerts_url = format!("{}/v1/agencies/polri/alerts", polri.url);
    let listed = wait_until("the PO2 alert", async || {
        let (status, body) = call(&client, Method::GET, &alerts_url, Some(POLRI_TOKEN), None).await;
        (status == 200 && body["alerts"].as_array().is_some_and(|a| !a.is_empty())).then_some(body)
    })
    .await;
    let alert_id: uuid::Uuid = listed["alerts"][0]["alert_id"]
        .as_str()
        .unwrap()
        .parse()
        .unwrap();
    let one = format!("{alerts_url}/{alert_id}");

    // What the compromised manpower-office subscriber writes on the one alert topic it may.
    let codec = harness::codec(&registry.url, &[]);
    let producer = producer(&broker.brokers, &registry.url);
    let now = time::OffsetDateTime::now_utc();
    let as_police = Envelope::new(Agency::Polri, "POLRESTA-CILACAP", "po-x", now);
    let forged_close = AlertClosed {
        envelope: as_police.clone(),
        alert_id,
        by_agency: Agency::Polri,
        reason: AlertCloseReason::FalsePositive,
        note: None,
    };
    let forged_raise = AlertRaised {
        envelope: as_police,
        alert_id: uuid::Uuid::new_v4(),
        rule: "PO2".into(),
        owner: Agency::Polri,
        severity: AlertSeverity::Info,
        evidence_event_ids: vec![],
        summary: "nothing to see".into(),
        review_by: None,
    };
    let own_name = AlertEscalated {
        envelope: Envelope::new(Agency::Disnaker, "DISNAKER-CILACAP", "dn-x", now),
        alert_id,
        by_agency: Agency::Disnaker,
        escalated_to: Agency::Kejaksaan,
        level: 1,
        reason: EscalationReason::Manual,
        note: None,
    };
    let payloads = [
        codec.encode(&forged_close).await.unwrap(),
        codec.encode(&forged_raise).await.unwrap(),
        codec.encode(&own_name).await.unwrap(),
    ];
    for payload in &payloads {
        producer
            .send(
                "lintas.alerts.disnaker.v1",
                &alert_id.to_string(),
                payload,
                rdkafka::message::OwnedHeaders::new(),
            )
            .await
            .unwrap();
    }
    let dead = wait_until("both forgeries dead-lettered", async || {
        let letters = read_all(
            &broker.brokers,
            "lintas.polri.dlq",
            2,
            Duration::from_secs(3),
        );
        (letters.len() >= 2).then_some(Value::from(letters.len()))
    })
    .await;
    assert_eq!(dead, 2, "the truthful escalation is no forgery");
    for letter in read_all(
        &broker.brokers,
        "lintas.polri.dlq",
        2,
        Duration::from_secs(3),
    ) {
        use rdkafka::message::Headers;
        let reason = letter
            .headers()
            .and_then(|h| {
                h.iter()
                    .find(|h| h.key == "__connect.errors.exception.message")
                    .and_then(|h| h.value)
                    .map(|v| String::from_utf8_lossy(v).into_owned())
            })
            .unwrap_or_default();
        assert!(
            reason.contains("forged alert event") && reason.contains("polri"),
            "{reason}"
        );
    }
    let forged = metric_value(
        &polri.url,
        "lintas_alert_events_forged_total{agency=\"polri\"}",
    )
    .await;
    assert_eq!(forged, Some(2.0));
    let (_, alert) = call(&client, Method::GET, &one, Some(POLRI_TOKEN), None).await;
    assert_eq!(alert["status"], "open", "{alert}");
    assert_eq!(alert["actions"], json!([]), "{alert}");
    let (_, listed) = call(&client, Method::GET, &alerts_url, Some(POLRI_TOKEN), None).await;
    assert_eq!(
        listed["alerts"].as_array().unwrap().len(),
        1,
        "no forged alert listed: {listed}"
    );
    // The owner still decides.
    let (status, body) = call(
        &client,
        Method::POST,
        &format!("{one}/close"),
        Some(POLRI_TOKEN),
        Some(json!({"officer_id": "po-4", "reason": "resolved"})),
    )
    .await;
    assert_eq!(
        (status, body["status"].as_str()),
        (200, Some("closed")),
        "{body}"
    );
}

async fn metric_value(url: &str, line_start: &str) -> Option<f64> {
    let text = reqwest::get(format!("{url}/metrics"))
        .await
        .ok()?
        .text()
        .await
        .ok()?;
    text.lines()
        .find(|l| l.starts_with(line_start))
        .and_then(|l| l.rsplit(' ').next())
        .and_then(|v| v.parse().ok())
}

/// Every police table but the runtime's bookkeeping; deadlines (the alert desk's review
/// dates) without the time the runtime last wrote them.
async fn police_rows(database: &str) -> std::collections::BTreeMap<String, Vec<String>> {
    use sqlx::Row;
    let mut skip = BOOKKEEPING.to_vec();
    skip.push("lintas_deadlines");
    let mut out = schema_rows(database, "polri", &skip).await;
    let pool = pg(database).await;
    let deadlines = sqlx::query(
        "SELECT deadline_key || ' ' || state || ' ' || due_at_ms FROM polri.lintas_deadlines ORDER BY 1",
    )
    .fetch_all(&pool)
    .await
    .unwrap();
    pool.close().await;
    out.insert(
        "lintas_deadlines".into(),
        deadlines.iter().map(|r| r.get::<String, _>(0)).collect(),
    );
    out
}
