//! Village officers read their notices in Bahasa Indonesia; English is there on request.

use lintas_desa::{router, DesaHandler};
use lintas_kit::auth::Tokens;
use lintas_kit::events::*;
use lintas_kit::testing::examples::{example, KARANG_KANDRI};
use lintas_kit::testing::{get, Harness};

/// A resident of Karang Kandri blocked at a checkpoint: the village office's notice reads in
/// Bahasa Indonesia with the village named, in English with `?lang=en`, and a language it
/// does not have is a 422.
#[tokio::test]
async fn notices_are_in_bahasa_indonesia_unless_english_is_asked_for() {
    let mut harness = Harness::new(DesaHandler::default(), lintas_desa::migrations())
        .await
        .unwrap();
    let resident: ApplicantRegistered = example();
    let blocked: DepartureBlocked = example();
    harness
        .apply(vec![resident.into_any(), blocked.into_any()])
        .await
        .unwrap();
    let tokens = Tokens::parse(&format!(
        "karang-kandri-token=desa:DESA-KK:village={KARANG_KANDRI}"
    ))
    .unwrap();
    let app = || router(harness.views(tokens.clone()));
    let path = format!("/v1/agencies/desa/villages/{KARANG_KANDRI}/notices");
    let token = Some("karang-kandri-token");
    let summary =
        |body: &serde_json::Value| body["notices"][0]["summary"].as_str().map(str::to_owned);
    let (status, body) = get(app(), &path, token).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        summary(&body).as_deref(),
        Some("warga ditunda keberangkatannya di tempat pemeriksaan: kunjungan tindak lanjut oleh pemerintah desa")
    );
    let (_, body) = get(app(), &format!("{path}?lang=en"), token).await;
    assert!(
        summary(&body)
            .unwrap()
            .starts_with("a resident was blocked"),
        "{body}"
    );
    let (status, _) = get(app(), &format!("{path}?lang=fr"), token).await;
    assert_eq!(status, 422);
    let raised = harness.published().iter().find_map(|e| match e {
        AnyEvent::AlertRaised(a) => Some(a.summary_in("id").to_owned()),
        _ => None,
    });
    let raised = raised.expect("the notice is published as an alert");
    assert!(
        raised.ends_with(&format!("(Karang Kandri, {KARANG_KANDRI})")),
        "{raised}"
    );
    assert!(raised.starts_with("warga ditunda"), "{raised}");
}
