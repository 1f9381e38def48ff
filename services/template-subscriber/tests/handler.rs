//! The handler on the kit's in-memory harness: no broker, no network.

use lintas_kit::events::*;
use lintas_kit::testing::Harness;
use lintas_template_subscriber::{migrations, TemplateHandler};

fn flagged(subject: &str) -> AnyEvent {
    let mut envelope = Envelope::new(
        Agency::Imigrasi,
        "KANIM-CILACAP",
        "off-1",
        timefmt::millis::now(),
    );
    envelope.subject_key = Some(subject.into());
    VisaTypeFlagged {
        envelope,
        reason: VisaFlagReason::TouristVisaToHighRiskDestination,
        stage: ScreeningStage::Checkpoint,
        visa_type: VisaType::Tourist,
        destination_country: "KH".into(),
    }
    .into_any()
}

#[tokio::test]
async fn counts_events_per_subject_and_type() {
    let mut harness = Harness::new(TemplateHandler, migrations()).await.unwrap();
    harness
        .apply(vec![flagged("a"), flagged("a"), flagged("b")])
        .await
        .unwrap();
    let n: i64 = sqlx::query_scalar(
        "SELECT n FROM events_seen WHERE subject_key = 'a' AND event_type = 'VisaTypeFlagged'",
    )
    .fetch_one(harness.store().pool())
    .await
    .unwrap();
    assert_eq!(n, 2);
}
