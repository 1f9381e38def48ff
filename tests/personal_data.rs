//! Personal data through the immigration API: the subject history never carries the name or
//! the NIK; only a token with the personal_data role that names its officer, stating a purpose, gets
//! them, and each such read lands in the agency's audit log (who, when, which subject, why),
//! which other agencies cannot read. Refused reads leave no record and no data.

mod harness;

use std::time::{Duration, Instant};

use harness::*;
use serde_json::{json, Value};

async fn get(client: &reqwest::Client, url: &str, token: &str) -> (u16, Value) {
    let Ok(response) = client.get(url).bearer_auth(token).send().await else {
        return (0, Value::Null);
    };
    let status = response.status().as_u16();
    (status, response.json().await.unwrap_or(Value::Null))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn names_and_nik_only_with_the_role_a_purpose_and_an_audit_record() {
    let broker = Broker::start(2).await;
    let database = fresh_database().await;
    let registry = start_registry(&database, &broker.dir).await;
    let intake = start_intake(&broker.brokers, &registry.url, &database, &broker.dir).await;
    let imigrasi = spawn_imigrasi(&broker.brokers, &registry.url, &database, &broker.dir, &[]);
    let client = reqwest::Client::new();
    let accepted: Value = client
        .post(format!("{}/v1/applicants", intake.url))
        .bearer_auth(IMIGRASI_TOKEN)
        .json(&json!({
            "source": "passport_application", "nik": "3301014501900001", "full_name": "Siti Aminah",
            "sex": "female", "birth_date": "1990-01-05", "village_code": "33.01.02.2001", "village": "Kesugihan", "sub_district": "Kesugihan",
            "regency": "Cilacap", "declared_purpose": "umrah", "destination_country": "SA", "officer_id": "off-17"}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let subject = accepted["subject_key"].as_str().unwrap().to_string();
    let history = format!("{}/v1/agencies/imigrasi/subjects/{subject}", imigrasi.url);
    let audit = format!(
        "{}/v1/agencies/imigrasi/audit/personal-data-reads",
        imigrasi.url
    );

    let deadline = Instant::now() + Duration::from_secs(60);
    let plain = loop {
        let (status, body) = get(&client, &history, IMIGRASI_TOKEN).await;
        if status == 200 {
            break body;
        }
        assert!(Instant::now() < deadline, "the subject never appeared");
        tokio::time::sleep(Duration::from_millis(300)).await;
    };
    let text = plain.to_string();
    assert!(
        !text.contains("3301014501900001") && !text.contains("Siti"),
        "{text}"
    );
    assert!(plain.get("identity").is_none());

    // Refused: no role; the role without a purpose; an officer other than the one signed in;
    // another agency.
    let with = |q: &str| format!("{history}?include=identity{q}");
    let (status, _) = get(&client, &with("&purpose=interview"), IMIGRASI_TOKEN).await;
    assert_eq!(status, 403);
    let (status, body) = get(
        &client,
        &with("&purpose=interview&officer_id=im-8"),
        IMIGRASI_PERSONAL_TOKEN,
    )
    .await;
    assert_eq!(
        (status, &body["fields"][0]["field"]),
        (403, &json!("officer_id"))
    );
    let (status, body) = get(&client, &with(""), IMIGRASI_PERSONAL_TOKEN).await;
    assert_eq!(status, 422);
    let fields: Vec<&str> = body["fields"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["field"].as_str().unwrap())
        .collect();
    assert_eq!(fields, ["purpose"]);
    let (status, _) = get(&client, &with("&purpose=x"), POLRI_TOKEN).await;
    assert_eq!(status, 403);
    let (_, log) = get(&client, &audit, IMIGRASI_TOKEN).await;
    assert_eq!(log["reads"], json!([]), "refused reads leave no record");

    // Allowed, and audited.
    let (status, body) = get(
        &client,
        &with("&purpose=secondary%20interview"),
        IMIGRASI_PERSONAL_TOKEN,
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["identity"]["nik"], "3301014501900001");
    assert_eq!(body["identity"]["full_name"], "Siti Aminah");
    assert_eq!(body["identity"]["birth_date"], "1990-01-05");
    assert_eq!(body["identity"]["verified"], true);
    let (status, log) = get(
        &client,
        &format!("{audit}?subject_key={subject}"),
        IMIGRASI_TOKEN,
    )
    .await;
    assert_eq!(status, 200);
    let reads = log["reads"].as_array().unwrap();
    assert_eq!(reads.len(), 1, "{log}");
    assert_eq!(reads[0]["office"], "KANIM-CILACAP");
    assert_eq!(reads[0]["officer_id"], "im-7");
    assert_eq!(reads[0]["purpose"], "secondary interview");
    assert_eq!(reads[0]["subject_key"], subject.as_str());
    assert_eq!(
        reads[0]["fields"],
        json!(["nik", "full_name", "birth_date", "village", "sub_district"])
    );
    assert!(reads[0]["at_ms"].as_i64().unwrap() > 0);
    // The audit log is the agency's own.
    let (status, _) = get(&client, &audit, DISNAKER_TOKEN).await;
    assert_eq!(status, 403);

    // The police: a recruiter's phone numbers, the same way.
    let polri = spawn_subscriber(
        "polri",
        &broker.brokers,
        &registry.url,
        &database,
        &broker.dir,
        &[],
    );
    let reported = client
        .post(format!("{}/v1/cases/recruiters", intake.url))
        .bearer_auth(POLRI_TOKEN)
        .json(&json!({
            "recruiter_key": "rk-cilacap-0042", "role": "shelter_operator", "phone_numbers": ["+6281234567890"],
            "licence_status": "unlicensed", "village_code": "33.01.02.2001", "village": "Kesugihan", "regency": "Cilacap",
            "linked_subject_keys": [subject], "officer_id": "pol-7"}))
        .send()
        .await
        .unwrap();
    assert_eq!(
        reported.status().as_u16(),
        202,
        "{}",
        reported.text().await.unwrap()
    );
    let recruiter = format!("{}/v1/agencies/polri/recruiters/rk-cilacap-0042", polri.url);
    let deadline = Instant::now() + Duration::from_secs(60);
    let plain = loop {
        let (status, body) = get(&client, &recruiter, POLRI_TOKEN).await;
        if status == 200 && body["report"].is_object() {
            break body;
        }
        assert!(
            Instant::now() < deadline,
            "the recruiter never appeared: {body}"
        );
        tokio::time::sleep(Duration::from_millis(300)).await;
    };
    assert_eq!(plain["report"]["role"], "shelter_operator");
    assert_eq!(plain["links"][0]["subject_key"], subject.as_str());
    assert!(!plain.to_string().contains("6281234567890"), "{plain}");
    let (_, network) = get(
        &client,
        &format!("{}/v1/agencies/polri/recruiters", polri.url),
        POLRI_TOKEN,
    )
    .await;
    assert_eq!(network["recruiters"][0]["recruiter_key"], "rk-cilacap-0042");
    assert_eq!(network["recruiters"][0]["people_linked"], 1);
    let phones = format!("{recruiter}?include=phones&purpose=case%20LP-112");
    let (status, _) = get(&client, &phones, POLRI_TOKEN).await;
    assert_eq!(status, 403);
    let (status, body) = get(&client, &phones, POLRI_PERSONAL_TOKEN).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["phone_numbers"], json!(["+6281234567890"]));
    let (_, log) = get(
        &client,
        &format!("{}/v1/agencies/polri/audit/personal-data-reads", polri.url),
        POLRI_TOKEN,
    )
    .await;
    let reads = log["reads"].as_array().unwrap();
    assert_eq!(reads.len(), 1, "{log}");
    assert_eq!(
        (
            reads[0]["officer_id"].as_str(),
            reads[0]["purpose"].as_str()
        ),
        (Some("pol-9"), Some("case LP-112"))
    );
    assert_eq!(reads[0]["fields"], json!(["phone_numbers"]));
}
