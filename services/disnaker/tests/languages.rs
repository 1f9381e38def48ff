//! Officers read what Lintas writes for them in Bahasa Indonesia; English is there on request.

use lintas_disnaker::{DisnakerHandler, DisnakerSettings};
use lintas_kit::auth::Tokens;
use lintas_kit::events::*;
use lintas_kit::testing::examples::example;
use lintas_kit::testing::{get, Harness};
use time::macros::date;

/// A child's registration raises DN4; the alert desk answers its summary in Bahasa Indonesia
/// unless `?lang=en`, says which language it answered in, refuses a language it does not
/// have (422), and the AlertRaised on the feed carries both.
#[tokio::test]
async fn alert_summaries_are_in_bahasa_indonesia_unless_english_is_asked_for() {
    let handler = DisnakerHandler {
        settings: DisnakerSettings::default(),
    };
    let mut harness = Harness::new(handler, lintas_disnaker::migrations())
        .await
        .unwrap();
    let mut child: ApplicantRegistered = example();
    child.envelope.subject_key = Some(format!("{:064x}", 7));
    child.birth_date = date!(2011 - 06 - 01);
    harness.apply(vec![child.into_any()]).await.unwrap();

    let tokens = Tokens::parse("disnaker-cilacap-token=disnaker:DISNAKER-CILACAP").unwrap();
    let app = || lintas_disnaker::router(harness.views(tokens.clone()));
    let token = Some("disnaker-cilacap-token");
    let dn4 = |body: &serde_json::Value| {
        let alerts = body["alerts"].as_array().expect("alerts").clone();
        alerts
            .into_iter()
            .find(|a| a["rule"] == "DN4")
            .expect("DN4")
    };
    let path = "/v1/agencies/disnaker/alerts";
    let (status, body) = get(app(), path, token).await;
    assert_eq!(status, 200, "{body}");
    let alert = dn4(&body);
    assert_eq!(
        (alert["summary"].as_str(), alert["language"].as_str()),
        (Some("pemohon berusia di bawah 18 tahun"), Some("id"))
    );
    let (_, body) = get(app(), &format!("{path}?lang=en"), token).await;
    assert_eq!(dn4(&body)["summary"], "applicant under 18");
    let one = format!("{path}/{}?lang=en", alert["alert_id"].as_str().unwrap());
    let (status, body) = get(app(), &one, token).await;
    assert_eq!(
        (status.as_u16(), body["summary"].as_str()),
        (200, Some("applicant under 18"))
    );
    let (status, body) = get(app(), &format!("{path}?lang=jv"), token).await;
    assert_eq!(status, 422, "{body}");
    assert_eq!(body["fields"][0]["field"], "lang", "{body}");

    let raised = harness
        .published()
        .iter()
        .find_map(|e| match e {
            AnyEvent::AlertRaised(a) if a.rule == "DN4" => Some(a.clone()),
            _ => None,
        })
        .expect("DN4 published");
    assert_eq!(
        raised.summary, "applicant under 18",
        "English for older readers"
    );
    assert_eq!(raised.summary_in("id"), "pemohon berusia di bawah 18 tahun");
}
