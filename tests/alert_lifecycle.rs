//! The alert lifecycle through the agencies' APIs, on tansu and PostgreSQL. A girl of 15 is
//! registered and then refused at the airport: the police's blocked-child alert (PO2) opens.
//! One test a claim, each on its own broker and database:
//!
//! - refusals (another agency, no token, a bad body, a note with personal data, an unknown
//!   alert) change nothing;
//! - the alert is acknowledged, escalated to the prosecutor and closed with a reason, each step
//!   answering with the new status and refusing what the status does not allow;
//! - the escalation is the prosecutor's incoming alert, which only the prosecutor reads;
//! - the police's list filters by status; Disnaker's alerts (DN1, DN4) come in pages;
//! - each step is published on the police's alert topic;
//! - the police subscriber's views and offsets dropped and rebuilt from the topics come back
//!   row for row, the alert's status included;
//! - every agency token against every agency's endpoints: only the owner gets through, and the
//!   refused writes change nothing;
//! - another agency's subscriber cannot close (or forge) an alert it does not own.

mod harness;

use std::time::Duration;

use harness::*;
use lintas_kit::codec::Codec;
use lintas_kit::events::AnyEvent;
use rdkafka::Message;
use reqwest::Method;
use serde_json::{json, Value};

/// A stack with the police's PO2 alert open: broker, database, registry, intakes, the girl's
/// registration and refusal published, and the police subscriber.
struct Desk {
    stack: Stack,
    polri: Service,
    client: Client,
    /// The police's alerts.
    alerts_url: String,
    alert_id: String,
    /// The PO2 alert.
    one: String,
}

impl Desk {
    /// The stack on a broker with `partitions` partitions a topic, once the police list the
    /// PO2 alert, open and theirs.
    async fn start(partitions: i32) -> Desk {
        let stack = Stack::start(partitions).await;
        let client = Client::new();
        // A girl of 15, registered and then blocked: PO2 for the police, DN1 and DN4 for
        // Disnaker.
        client
            .publish(
                &stack.intake_url("/v1/disnaker/jobseekers"),
                DISNAKER_TOKEN,
                minor_jobseeker(KESUGIHAN, "Kesugihan"),
            )
            .await;
        client
            .publish(
                &stack.intake_url("/v1/checkpoints/departure-checks"),
                CHECKPOINT_TOKEN,
                minor_refused("TPI-CGK"),
            )
            .await;
        let polri = stack.subscriber("polri", &[]);
        let alerts_url = format!("{}/v1/agencies/polri/alerts", polri.url);
        let listed = client
            .wait_for_list(&alerts_url, POLRI_TOKEN, "alerts", 1)
            .await;
        let alert = &listed["alerts"][0];
        assert_eq!(alert["rule"], "PO2");
        assert_eq!(alert["status"], "open");
        assert_eq!(alert["owner"], "polri");
        let alert_id = alert["alert_id"].as_str().unwrap().to_string();
        let one = format!("{alerts_url}/{alert_id}");
        Desk {
            stack,
            polri,
            client,
            alerts_url,
            alert_id,
            one,
        }
    }

    /// `lintas subscriber <agency>` on this stack.
    fn subscriber(&self, agency: &str) -> Service {
        self.stack.subscriber(agency, &[])
    }

    /// A police officer's `action` on the PO2 alert.
    async fn act(&self, action: &str, body: Value) -> (u16, Value) {
        self.client
            .post(&format!("{}/{action}", self.one), POLRI_TOKEN, body)
            .await
    }

    /// Acknowledged by po-3, with a note.
    async fn acknowledge(&self) {
        let (status, body) = self
            .act(
                "acknowledge",
                json!({"officer_id": "po-3", "note": "unit PPA informed"}),
            )
            .await;
        assert_eq!(
            (status, body["status"].as_str()),
            (200, Some("acknowledged")),
            "{body}"
        );
    }

    /// Escalated to the prosecutor by po-4, the first escalation.
    async fn escalate(&self) {
        let (status, body) = self
            .act(
                "escalate",
                json!({"officer_id": "po-4", "escalated_to": "kejaksaan", "reason": "manual"}),
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
    }

    /// Acknowledged by po-3, then escalated to the prosecutor by po-4.
    async fn acknowledge_and_escalate(&self) {
        self.acknowledge().await;
        self.escalate().await;
    }

    /// Acknowledged, escalated, then closed as resolved by po-4; the closed alert.
    async fn work_through(&self) -> Value {
        self.acknowledge_and_escalate().await;
        self.close().await
    }

    /// Closed as resolved by po-4; the closed alert.
    async fn close(&self) -> Value {
        let (status, body) = self
            .act("close", json!({"officer_id": "po-4", "reason": "resolved"}))
            .await;
        assert_eq!(
            (
                status,
                body["status"].as_str(),
                body["close_reason"].as_str()
            ),
            (200, Some("closed"), Some("resolved")),
            "{body}"
        );
        body
    }

    /// The PO2 alert's lifecycle as read back from lintas.alerts.polri.v1, once it holds three
    /// steps.
    async fn lifecycle_on_topic(&self) -> Vec<&'static str> {
        let codec = Codec::new(registry_client(&self.stack.registry.url, REGISTRY_READ), "");
        let alert_id = self.alert_id.as_str();
        wait_until(
            "the lifecycle on lintas.alerts.polri.v1",
            WAIT,
            async || {
                let mut seen = Vec::new();
                for m in read_all(
                    &self.stack.broker.brokers,
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
                (seen.len() >= 3).then_some(seen)
            },
        )
        .await
    }

    /// Waits until the police subscriber has applied the four records of the PO2 alert on its
    /// own alert topic (raised, acknowledged, escalated, closed: its actions come back to it
    /// there): its views are settled.
    async fn settled(&self) {
        self.lifecycle_on_topic().await;
        let topic = "lintas.alerts.polri.v1";
        wait_until("the police applied their own alert topic", WAIT, async || {
            let pool = pg(&self.stack.database).await;
            let applied: i64 = sqlx::query_scalar(
                "SELECT CAST(COALESCE(SUM(next_offset), 0) AS BIGINT) FROM polri.lintas_offsets WHERE topic = $1",
            )
            .bind(topic)
            .fetch_one(&pool)
            .await
            .unwrap_or(0);
            pool.close().await;
            (applied >= 4).then_some(())
        })
        .await;
    }

    /// The PO2 alert as the police read it.
    async fn alert(&self) -> Value {
        let (status, body) = self.client.get(&self.one, POLRI_TOKEN).await;
        assert_eq!(status, 200, "{body}");
        body
    }
}

/// Refusals change nothing: another agency (403), no token (401), a bad body (422 naming every
/// field), a note with a NIK and a phone number (422: notes travel on the shared alert topic)
/// and an unknown alert (404) leave the alert open with no action.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn refusals_leave_the_alert_unchanged() {
    let desk = Desk::start(2).await;
    let client = &desk.client;
    let ack = format!("{}/acknowledge", desk.one);
    let (status, _) = client
        .post(&ack, DISNAKER_TOKEN, json!({"officer_id": "x"}))
        .await;
    assert_eq!(status, 403);
    let (status, _) = client
        .call(Method::POST, &ack, None, Some(json!({"officer_id": "x"})))
        .await;
    assert_eq!(status, 401);
    let (status, body) = desk
        .act("close", json!({"reason": "bored", "shoe_size": 42}))
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
    let (status, body) = desk
        .act(
            "acknowledge",
            json!({"officer_id": "po-3", "note": "NIK 3301014501900001 called +62 812 3456 7890"}),
        )
        .await;
    assert_eq!(status, 422, "{body}");
    assert_eq!(body["fields"][0]["field"], "note");
    let (status, _) = client
        .post(
            &format!(
                "{}/00000000-0000-4000-8000-000000000000/acknowledge",
                desk.alerts_url
            ),
            POLRI_TOKEN,
            json!({"officer_id": "po-3"}),
        )
        .await;
    assert_eq!(status, 404);
    let unchanged = desk.alert().await;
    assert_eq!(unchanged["status"], "open");
    assert_eq!(unchanged["actions"], json!([]));
}

/// Acknowledge, escalate to the prosecutor and close each answer with the new status; a
/// second acknowledgement, an escalation to an agency without the grant and an
/// acknowledgement of the closed alert are refused; the actions are recorded in order, with
/// the officer and the office.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_alert_is_acknowledged_escalated_and_closed() {
    let desk = Desk::start(2).await;
    desk.acknowledge().await;
    let (status, _) = desk.act("acknowledge", json!({"officer_id": "po-3"})).await;
    assert_eq!(status, 409, "a second acknowledgement");
    desk.escalate().await;
    // An agency without the grant to read the police's alerts cannot be escalated to.
    let (status, body) = desk
        .act(
            "escalate",
            json!({"officer_id": "po-4", "escalated_to": "desa", "reason": "manual"}),
        )
        .await;
    assert_eq!(status, 422, "{body}");
    assert_eq!(body["fields"][0]["field"], "escalated_to", "{body}");
    let body = desk.close().await;
    let (status, _) = desk.act("acknowledge", json!({"officer_id": "po-3"})).await;
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
}

/// The prosecutor reads the police's alerts under a grant: the escalation is its incoming
/// alert, owned by the police and escalated; only the prosecutor reads its incoming alerts.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_escalation_is_the_prosecutors_incoming_alert() {
    let desk = Desk::start(2).await;
    let kejaksaan = desk.subscriber("kejaksaan");
    desk.acknowledge_and_escalate().await;
    let incoming_url = format!("{}/v1/agencies/kejaksaan/alerts/incoming", kejaksaan.url);
    let alert_id = desk.alert_id.as_str();
    let incoming = desk
        .client
        .wait_for(
            &incoming_url,
            KEJAKSAAN_TOKEN,
            WAIT,
            "the escalation at the prosecutor",
            |body| {
                body["alerts"]
                    .as_array()
                    .is_some_and(|a| a.iter().any(|x| x["alert_id"] == alert_id))
            },
        )
        .await;
    assert_eq!(incoming["alerts"][0]["owner"], "polri", "{incoming}");
    assert_eq!(incoming["alerts"][0]["status"], "escalated", "{incoming}");
    let (status, _) = desk.client.get(&incoming_url, POLRI_TOKEN).await;
    assert_eq!(status, 403, "only the prosecutor reads its incoming alerts");
}

/// The police's list filters by status (the closed alert under `closed`, none `open`) and
/// refuses a page of no alerts.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_alert_list_filters_by_status() {
    let desk = Desk::start(2).await;
    desk.work_through().await;
    let client = &desk.client;
    let alerts_url = &desk.alerts_url;
    let (_, closed) = client
        .get(&format!("{alerts_url}?status=closed"), POLRI_TOKEN)
        .await;
    assert_eq!(closed["alerts"].as_array().unwrap().len(), 1, "{closed}");
    let (_, open) = client
        .get(&format!("{alerts_url}?status=open"), POLRI_TOKEN)
        .await;
    assert_eq!(open["alerts"], json!([]));
    let (status, _) = client
        .get(&format!("{alerts_url}?limit=0"), POLRI_TOKEN)
        .await;
    assert_eq!(status, 422);
}

/// Disnaker's two alerts on the girl (DN1 and DN4) come one a page, the first page with a
/// cursor to the second, the second with none.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn alerts_come_in_pages() {
    let desk = Desk::start(2).await;
    let disnaker = desk.subscriber("disnaker");
    let client = &desk.client;
    let dn_url = format!("{}/v1/agencies/disnaker/alerts", disnaker.url);
    client
        .wait_for(
            &dn_url,
            DISNAKER_TOKEN,
            WAIT,
            "two Disnaker alerts",
            |body| body["alerts"].as_array().map_or(0, Vec::len) == 2,
        )
        .await;
    let (_, first) = client
        .get(&format!("{dn_url}?limit=1"), DISNAKER_TOKEN)
        .await;
    let cursor = first["next_cursor"]
        .as_str()
        .expect("a second page")
        .to_string();
    let (_, second) = client
        .get(&format!("{dn_url}?limit=1&cursor={cursor}"), DISNAKER_TOKEN)
        .await;
    assert_eq!(second["next_cursor"], Value::Null);
    let mut rules = vec![
        first["alerts"][0]["rule"].as_str().unwrap(),
        second["alerts"][0]["rule"].as_str().unwrap(),
    ];
    rules.sort();
    assert_eq!(rules, ["DN1", "DN4"]);
}

/// The lifecycle is on the feed, for every other reader: the acknowledgement, the escalation
/// and the closing, in that order, on lintas.alerts.polri.v1.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_lifecycle_is_published_on_the_alert_topic() {
    let desk = Desk::start(2).await;
    desk.work_through().await;
    let lifecycle = desk.lifecycle_on_topic().await;
    assert_eq!(lifecycle, ["acknowledged", "escalated", "closed"]);
}

/// Rebuild: the police views and offsets dropped, the police subscriber replays the topics
/// and every police table comes back row for row, the closed alert and its actions included.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rebuild_restores_every_police_table() {
    let mut desk = Desk::start(2).await;
    desk.work_through().await;
    desk.settled().await;
    let before = police_rows(&desk.stack.database).await;
    assert!(
        before["lintas_alerts"]
            .iter()
            .any(|r| r.contains("\"closed\"")),
        "{before:?}"
    );
    desk.polri.proc.terminate();
    drop_schema(&desk.stack.database, "polri").await;
    let polri = desk.subscriber("polri");
    let one = format!("{}/v1/agencies/polri/alerts/{}", polri.url, desk.alert_id);
    let client = &desk.client;
    let database = desk.stack.database.as_str();
    let after = wait_until("the rebuilt police views", WAIT, async || {
        let (status, body) = client.get(&one, POLRI_TOKEN).await;
        if status != 200 || body["actions"].as_array().map_or(0, Vec::len) < 3 {
            return None;
        }
        let after = police_rows(database).await;
        if after != before {
            for (k, v) in &after {
                if before.get(k) != Some(v) {
                    eprintln!("DEBUG table {k}: before {:?} after {:?}", before.get(k), v);
                }
            }
        }
        (after == before).then_some(after.len())
    })
    .await;
    assert!(after >= 4, "tables compared: {after}");
    desk.polri = polri;
}

/// The access matrix: every agency's token against every agency's endpoints; only the owner
/// gets through (neither 401 nor 403), every other agency is 403 and no token 401; the
/// refused writes change nothing.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn only_the_owning_agency_gets_through() {
    let desk = Desk::start(2).await;
    let disnaker = desk.subscriber("disnaker");
    let imigrasi = spawn_imigrasi(
        &desk.stack.broker.brokers,
        &desk.stack.registry.url,
        &desk.stack.database,
        &desk.stack.broker.dir,
        &[],
    );
    let desa = spawn_desa(
        &desk.stack.broker.brokers,
        &desk.stack.registry.url,
        &desk.stack.database,
        &desk.stack.broker.dir,
    );
    let kejaksaan = desk.subscriber("kejaksaan");
    desk.work_through().await;
    for service in [&disnaker, &imigrasi, &desa, &kejaksaan] {
        wait_http_ok(&format!("{}/livez", service.url), WAIT).await;
    }
    let client = &desk.client;
    let polri = &desk.polri;
    let alert_id = &desk.alert_id;
    let dn_url = format!("{}/v1/agencies/disnaker/alerts", disnaker.url);
    let subject = police_rows(&desk.stack.database).await["births"][0]
        .split("\"subject_key\":\"")
        .nth(1)
        .unwrap()
        .split('"')
        .next()
        .unwrap()
        .to_string();
    let endpoints: Vec<Endpoint> = vec![
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
    let checked = client.assert_only_owners(&endpoints, &tokens).await;
    assert_eq!(checked, endpoints.len() * tokens.len());
    // The refused writes changed nothing.
    let still = desk.alert().await;
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
    let desk = Desk::start(1).await;
    let (broker, registry, polri, client) = (
        &desk.stack.broker,
        &desk.stack.registry,
        &desk.polri,
        &desk.client,
    );
    let alert_id: uuid::Uuid = desk.alert_id.parse().unwrap();
    let alerts_url = &desk.alerts_url;

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
        summaries: Default::default(),
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
    let dead = wait_until("both forgeries dead-lettered", WAIT, async || {
        let letters = read_all(
            &broker.brokers,
            "lintas.polri.dlq",
            2,
            Duration::from_secs(3),
        );
        (letters.len() >= 2).then_some(letters.len())
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
    let forged = client
        .metric(
            &polri.url,
            "lintas_alert_events_forged_total{agency=\"polri\"}",
        )
        .await;
    assert_eq!(forged, Some(2.0));
    let alert = desk.alert().await;
    assert_eq!(alert["status"], "open", "{alert}");
    assert_eq!(alert["actions"], json!([]), "{alert}");
    let (_, listed) = client.get(alerts_url, POLRI_TOKEN).await;
    assert_eq!(
        listed["alerts"].as_array().unwrap().len(),
        1,
        "no forged alert listed: {listed}"
    );
    // The owner still decides.
    desk.close().await;
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
