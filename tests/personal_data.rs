//! Personal data through the agencies' APIs. The immigration subject history never carries
//! the name or the NIK; only a token with the personal_data role that names its officer,
//! stating a purpose, gets them, and each such read lands in the agency's audit log (who,
//! when, which subject, why), which other agencies cannot read. Refused reads leave no record
//! and no data. The police read a recruiter's phone numbers the same way.

mod harness;

use std::time::Duration;

use harness::*;
use serde_json::json;

/// Siti registered with her passport application on a new stack; the stack and her subject
/// key.
async fn registered(client: &Client) -> (Stack, String) {
    let stack = Stack::start(2).await;
    let accepted = client
        .publish(
            &stack.intake_url("/v1/applicants"),
            IMIGRASI_TOKEN,
            registration("passport_application", NIK_SITI, "Siti Aminah"),
        )
        .await;
    let subject = accepted["subject_key"].as_str().unwrap().to_string();
    (stack, subject)
}

/// The subject history carries no name and no NIK; the identity is refused without the role,
/// without a purpose, for another officer and to another agency, and those refusals leave no
/// record; with all of them it is served and the read is audited, in a log only the agency
/// reads.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn names_and_nik_only_with_the_role_a_purpose_and_an_audit_record() {
    let client = Client::new();
    let (stack, subject) = registered(&client).await;
    let imigrasi = stack.subscriber("imigrasi", &[]);
    let history = format!("{}/v1/agencies/imigrasi/subjects/{subject}", imigrasi.url);
    let audit = format!(
        "{}/v1/agencies/imigrasi/audit/personal-data-reads",
        imigrasi.url
    );

    let plain = client
        .wait_for(
            &history,
            IMIGRASI_TOKEN,
            Duration::from_secs(60),
            "the subject",
            |_| true,
        )
        .await;
    let text = plain.to_string();
    assert!(!text.contains(NIK_SITI) && !text.contains("Siti"), "{text}");
    assert!(plain.get("identity").is_none());

    // Refused: no role; the role without a purpose; an officer other than the one signed in;
    // another agency.
    let with = |q: &str| format!("{history}?include=identity{q}");
    let (status, _) = client
        .get(&with("&purpose=interview"), IMIGRASI_TOKEN)
        .await;
    assert_eq!(status, 403);
    let (status, body) = client
        .get(
            &with("&purpose=interview&officer_id=im-8"),
            IMIGRASI_PERSONAL_TOKEN,
        )
        .await;
    assert_eq!(
        (status, &body["fields"][0]["field"]),
        (403, &json!("officer_id"))
    );
    let (status, body) = client.get(&with(""), IMIGRASI_PERSONAL_TOKEN).await;
    assert_eq!(status, 422);
    let fields: Vec<&str> = body["fields"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["field"].as_str().unwrap())
        .collect();
    assert_eq!(fields, ["purpose"]);
    let (status, _) = client.get(&with("&purpose=x"), POLRI_TOKEN).await;
    assert_eq!(status, 403);
    let (_, log) = client.get(&audit, IMIGRASI_TOKEN).await;
    assert_eq!(log["reads"], json!([]), "refused reads leave no record");

    // Allowed, and audited.
    let (status, body) = client
        .get(
            &with("&purpose=secondary%20interview"),
            IMIGRASI_PERSONAL_TOKEN,
        )
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["identity"]["nik"], NIK_SITI);
    assert_eq!(body["identity"]["full_name"], "Siti Aminah");
    assert_eq!(body["identity"]["birth_date"], "1990-01-05");
    assert_eq!(body["identity"]["verified"], true);
    let (status, log) = client
        .get(&format!("{audit}?subject_key={subject}"), IMIGRASI_TOKEN)
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
    let (status, _) = client.get(&audit, DISNAKER_TOKEN).await;
    assert_eq!(status, 403);
}

/// A recruiter's phone numbers, reported by the police, are not in the recruiter's view or
/// the network; only the personal_data role with a purpose reads them, and the read is audited
/// with the officer and the purpose.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_recruiters_phone_numbers_only_with_the_role_a_purpose_and_an_audit_record() {
    let client = Client::new();
    let (stack, subject) = registered(&client).await;
    let polri = stack.subscriber("polri", &[]);
    client
        .publish(
            &stack.intake_url("/v1/cases/recruiters"),
            POLRI_TOKEN,
            json!({
                "recruiter_key": "rk-cilacap-0042", "role": "shelter_operator",
                "phone_numbers": ["+6281234567890"], "licence_status": "unlicensed",
                "village_code": KESUGIHAN, "village": "Kesugihan", "regency": "Cilacap",
                "linked_subject_keys": [subject], "officer_id": "pol-7"
            }),
        )
        .await;
    let recruiter = format!("{}/v1/agencies/polri/recruiters/rk-cilacap-0042", polri.url);
    let plain = client
        .wait_for(
            &recruiter,
            POLRI_TOKEN,
            Duration::from_secs(60),
            "the recruiter",
            |body| body["report"].is_object(),
        )
        .await;
    assert_eq!(plain["report"]["role"], "shelter_operator");
    assert_eq!(plain["links"][0]["subject_key"], subject.as_str());
    assert!(!plain.to_string().contains("6281234567890"), "{plain}");
    let (_, network) = client
        .get(
            &format!("{}/v1/agencies/polri/recruiters", polri.url),
            POLRI_TOKEN,
        )
        .await;
    assert_eq!(network["recruiters"][0]["recruiter_key"], "rk-cilacap-0042");
    assert_eq!(network["recruiters"][0]["people_linked"], 1);
    let phones = format!("{recruiter}?include=phones&purpose=case%20LP-112");
    let (status, _) = client.get(&phones, POLRI_TOKEN).await;
    assert_eq!(status, 403);
    let (status, body) = client.get(&phones, POLRI_PERSONAL_TOKEN).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["phone_numbers"], json!(["+6281234567890"]));
    let (_, log) = client
        .get(
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
