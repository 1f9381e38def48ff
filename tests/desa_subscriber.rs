//! The village early-warning subscriber as a service, black-box: events published through the
//! intakes reach `lintas subscriber desa`, which notifies the resident's village of a block and
//! a village of a police-reported recruiter, and serves each village office only the village of
//! its token's claim (a token without one reads nothing).

mod harness;

use std::time::{Duration, Instant};

use harness::*;
use serde_json::json;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn village_offices_are_warned() {
    let stack = Stack::start(2).await;
    let (broker, database, registry, intake) = stack.parts();
    let client = Client::new();

    // The block first, the registration that names the village after it.
    client.publish(&format!("{}/v1/checkpoints/departure-checks", intake.url), CHECKPOINT_TOKEN, json!({
        "nik": "3301014501900001", "checkpoint_code": "TPI-CGK", "decision": "deferred", "carrier": "AirAsia",
        "flight_or_vessel": "QZ 262", "destination_country": "KH", "visa_shown": "tourist", "return_ticket": false,
        "reason": "suspected_non_procedural_worker", "handed_to": "bp3mi_shelter", "officer_id": "tpi-9"})).await;
    client.publish(&format!("{}/v1/disnaker/jobseekers", intake.url), DISNAKER_TOKEN, json!({
        "nik": "3301014501900001", "full_name": "Siti", "sex": "female", "birth_date": "1990-01-05", "village_code": "33.01.02.2001", "village": "Kesugihan",
        "sub_district": "Kesugihan", "regency": "Cilacap", "declared_purpose": "work", "destination_country": "KH", "officer_id": "dn-1"})).await;
    // A recruiter the police reported, then seen in Adipala by someone else.
    client.publish(&format!("{}/v1/cases/recruiters", intake.url), POLRI_TOKEN, json!({
        "recruiter_key": "rk-cilacap-0001", "role": "recruiter", "licence_status": "unlicensed", "regency": "Cilacap", "officer_id": "pol-7"})).await;
    client.publish(&format!("{}/v1/cases/recruiters", intake.url), DISNAKER_TOKEN, json!({
        "recruiter_key": "rk-cilacap-0001", "role": "recruiter", "licence_status": "unlicensed", "village_code": "33.01.03.2001", "village": "Adipala",
        "regency": "Cilacap", "officer_id": "dn-1"})).await;

    // Villages are addressed by their Kemendagri codes.
    const ADIPALA: &str = "33.01.03.2001";
    let desa = spawn_desa(&broker.brokers, &registry.url, database, &broker.dir);
    let url = |village: &str| format!("{}/v1/agencies/desa/villages/{village}/notices", desa.url);
    let kesugihan = client
        .wait_for_list(&url(KESUGIHAN), DESA_KESUGIHAN_TOKEN, "notices", 1)
        .await;
    let notices = kesugihan["notices"].as_array().unwrap();
    assert_eq!(notices.len(), 1, "{kesugihan}");
    assert_eq!(notices[0]["rule"], "DESA-BLOCKED");

    // Adipala's notice exists, and Kesugihan's office may not read it.
    let (forbidden, _) = client.get(&url(ADIPALA), DESA_KESUGIHAN_TOKEN).await;
    assert_eq!(forbidden, 403);
    let (other_agency, _) = client.get(&url(KESUGIHAN), POLRI_TOKEN).await;
    assert_eq!(other_agency, 403);
    // A village token whose office is named after the village but carries no village claim
    // reads no village: the scope comes from the claim, never from the office's name.
    for village in [KESUGIHAN, ADIPALA] {
        let (unscoped, _) = client.get(&url(village), DESA_UNSCOPED_TOKEN).await;
        assert_eq!(unscoped, 403, "{village}");
    }
    let pool = pg(database).await;
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let rules: Vec<String> = sqlx::query_scalar(
            "SELECT rule FROM desa.notices WHERE village_code = '33.01.03.2001'",
        )
        .fetch_all(&pool)
        .await
        .unwrap();
        if rules == ["DESA-RECRUITER"] {
            break;
        }
        assert!(Instant::now() < deadline, "Adipala notices: {rules:?}");
        tokio::time::sleep(Duration::from_millis(300)).await;
    }
    // Both notices reach the alert topic through the outbox.
    let alerts = read_all(
        &broker.brokers,
        "lintas.alerts.desa.v1",
        2,
        Duration::from_secs(30),
    );
    assert_eq!(alerts.len(), 2);
}
