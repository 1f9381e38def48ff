//! The Disnaker and police subscribers as services: events through the intakes become a
//! follow-up task (DN1) and a blocked-child alert (PO2, with DN4 for the minor), each readable
//! only with the owning agency's token.

mod harness;

use std::time::{Duration, Instant};

use harness::*;
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

async fn wait_for(client: &reqwest::Client, url: &str, token: &str, key: &str, n: usize) -> Value {
    let deadline = Instant::now() + Duration::from_secs(90);
    loop {
        if let Ok(r) = client.get(url).bearer_auth(token).send().await {
            if r.status().as_u16() == 200 {
                let body: Value = r.json().await.unwrap();
                if body[key].as_array().is_some_and(|a| a.len() >= n) {
                    return body;
                }
            }
        }
        assert!(Instant::now() < deadline, "{url} never listed {n} {key}");
        tokio::time::sleep(Duration::from_millis(300)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn disnaker_and_police_views_for_their_own_agency_only() {
    let broker = Broker::start(2).await;
    let database = fresh_database().await;
    let registry = start_registry(&database, &broker.dir).await;
    let intake = start_intake(&broker.brokers, &registry.url, &database, &broker.dir).await;
    let client = reqwest::Client::new();
    // A girl of 15, registered and then blocked with her group's recruiter.
    post(&client, format!("{}/v1/disnaker/jobseekers", intake.url), DISNAKER_TOKEN, json!({
        "nik": "3301016007100003", "full_name": "Ani", "sex": "female", "birth_date": "2010-07-20", "village_code": "33.01.07.2001", "village": "Maos",
        "sub_district": "Maos", "regency": "Cilacap", "declared_purpose": "work", "destination_country": "MY", "officer_id": "dn-1"})).await;
    post(&client, format!("{}/v1/checkpoints/departure-checks", intake.url), CHECKPOINT_TOKEN, json!({
        "nik": "3301016007100003", "checkpoint_code": "TPI-CGK", "decision": "refused", "carrier": "AirAsia",
        "flight_or_vessel": "QZ 262", "destination_country": "MY", "visa_shown": "tourist", "return_ticket": false,
        "reason": "minor_without_guardian", "handed_to": "social_services", "officer_id": "tpi-9"})).await;

    let disnaker = spawn_subscriber(
        "disnaker",
        &broker.brokers,
        &registry.url,
        &database,
        &broker.dir,
        &[],
    );
    let polri = spawn_subscriber(
        "polri",
        &broker.brokers,
        &registry.url,
        &database,
        &broker.dir,
        &[],
    );

    let tasks_url = format!("{}/v1/agencies/disnaker/follow-up-tasks", disnaker.url);
    let tasks = wait_for(&client, &tasks_url, DISNAKER_TOKEN, "tasks", 1).await;
    assert_eq!(tasks["tasks"][0]["village"], "Maos");
    let dn_alerts = wait_for(
        &client,
        &format!("{}/v1/agencies/disnaker/alerts", disnaker.url),
        DISNAKER_TOKEN,
        "alerts",
        2,
    )
    .await;
    let mut rules: Vec<&str> = dn_alerts["alerts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["rule"].as_str().unwrap())
        .collect();
    rules.sort();
    assert_eq!(rules, ["DN1", "DN4"]);
    // Residents blocked, counted by village and by sub-district; nobody is named.
    let (status, by_village) = {
        let r = client
            .get(format!("{}/v1/agencies/disnaker/residents", disnaker.url))
            .bearer_auth(DISNAKER_TOKEN)
            .send()
            .await
            .unwrap();
        (r.status().as_u16(), r.json::<Value>().await.unwrap())
    };
    assert_eq!(status, 200);
    assert_eq!(
        by_village["groups"],
        serde_json::json!([{"village_code": "33.01.07.2001", "village": "Maos", "residents_flagged": 0, "residents_blocked": 1, "flags": 0, "blocks": 1}])
    );
    assert!(!by_village.to_string().contains("3301016007100003"));
    let bad = client
        .get(format!(
            "{}/v1/agencies/disnaker/residents?by=nik",
            disnaker.url
        ))
        .bearer_auth(DISNAKER_TOKEN)
        .send()
        .await
        .unwrap();
    assert_eq!(bad.status().as_u16(), 422);
    let po_alerts = wait_for(
        &client,
        &format!("{}/v1/agencies/polri/alerts", polri.url),
        POLRI_TOKEN,
        "alerts",
        1,
    )
    .await;
    assert_eq!(po_alerts["alerts"][0]["rule"], "PO2");

    // Each view answers its own agency only.
    for (url, token) in [
        (tasks_url.clone(), POLRI_TOKEN),
        (tasks_url, IMIGRASI_TOKEN),
        (
            format!("{}/v1/agencies/polri/alerts", polri.url),
            DISNAKER_TOKEN,
        ),
        (
            format!("{}/v1/agencies/polri/alerts", polri.url),
            KEJAKSAAN_TOKEN,
        ),
    ] {
        let refused = client.get(&url).bearer_auth(token).send().await.unwrap();
        assert_eq!(refused.status().as_u16(), 403, "{url}");
        // The refusal says which agency's credential the resource needs.
        let owner = url
            .split("/agencies/")
            .nth(1)
            .unwrap()
            .split('/')
            .next()
            .unwrap();
        let reason: serde_json::Value = refused.json().await.unwrap();
        let reason = reason["error"].as_str().unwrap_or_default();
        assert!(
            reason.contains(&format!("{owner} tokens")),
            "{url}: {reason}"
        );
    }
    assert_eq!(
        client
            .get(format!("{}/v1/agencies/polri/alerts", polri.url))
            .send()
            .await
            .unwrap()
            .status()
            .as_u16(),
        401
    );
}
