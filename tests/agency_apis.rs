//! The Disnaker and police subscribers as services: events through the intakes become a
//! follow-up task (DN1) and a blocked-child alert (PO2, with DN4 for the minor), each readable
//! only with the owning agency's token.

mod harness;

use harness::*;
use reqwest::Method;
use serde_json::json;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn disnaker_and_police_views_for_their_own_agency_only() {
    let stack = Stack::start(2).await;
    let (broker, database, registry, intake) = stack.parts();
    let client = Client::new();
    // A girl of 15, registered and then blocked with her group's recruiter.
    client
        .publish(
            &format!("{}/v1/disnaker/jobseekers", intake.url),
            DISNAKER_TOKEN,
            minor_jobseeker("33.01.07.2001", "Maos"),
        )
        .await;
    client
        .publish(
            &format!("{}/v1/checkpoints/departure-checks", intake.url),
            CHECKPOINT_TOKEN,
            minor_refused("TPI-CGK"),
        )
        .await;

    let disnaker = spawn_subscriber(
        "disnaker",
        &broker.brokers,
        &registry.url,
        database,
        &broker.dir,
        &[],
    );
    let polri = spawn_subscriber(
        "polri",
        &broker.brokers,
        &registry.url,
        database,
        &broker.dir,
        &[],
    );

    let tasks_url = format!("{}/v1/agencies/disnaker/follow-up-tasks", disnaker.url);
    let tasks = client
        .wait_for_list(&tasks_url, DISNAKER_TOKEN, "tasks", 1)
        .await;
    assert_eq!(tasks["tasks"][0]["village"], "Maos");
    let dn_alerts = client
        .wait_for_list(
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
    let (status, by_village) = client
        .get(
            &format!("{}/v1/agencies/disnaker/residents", disnaker.url),
            DISNAKER_TOKEN,
        )
        .await;
    assert_eq!(status, 200, "{by_village}");
    assert_eq!(
        by_village["groups"],
        json!([{"village_code": "33.01.07.2001", "village": "Maos", "residents_flagged": 0, "residents_blocked": 1, "flags": 0, "blocks": 1}])
    );
    assert!(!by_village.to_string().contains(NIK_ANI));
    let (status, _) = client
        .get(
            &format!("{}/v1/agencies/disnaker/residents?by=nik", disnaker.url),
            DISNAKER_TOKEN,
        )
        .await;
    assert_eq!(status, 422);
    let po_alerts = client
        .wait_for_list(
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
        let (status, reason) = client.get(&url, token).await;
        assert_eq!(status, 403, "{url}");
        // The refusal says which agency's credential the resource needs.
        let owner = url
            .split("/agencies/")
            .nth(1)
            .unwrap()
            .split('/')
            .next()
            .unwrap();
        let reason = reason["error"].as_str().unwrap_or_default();
        assert!(
            reason.contains(&format!("{owner} tokens")),
            "{url}: {reason}"
        );
    }
    let (status, _) = client
        .call(
            Method::GET,
            &format!("{}/v1/agencies/polri/alerts", polri.url),
            None,
            None,
        )
        .await;
    assert_eq!(status, 401);
}
