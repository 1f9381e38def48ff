//! The handler and its query route on the kit's harness: no broker, no network. Each
//! scenario runs on in-memory SQLite and on PostgreSQL (`LINTAS_TEST_POSTGRES_URL`, default
//! the local `test` database), the two databases a subscriber runs on.

use lintas_kit::auth::Tokens;
use lintas_kit::events::{Event, VisaTypeFlagged};
use lintas_kit::testing::examples::{example, SUBJECT};
use lintas_kit::testing::{get, Backend, Harness};
use lintas_template_subscriber::{migrations, router, TemplateHandler};

lintas_kit::on_both_stores!(
    counts_each_event_once_per_subject_and_type,
    the_route_answers_its_agency_only,
);

/// Tokens of the test callers: an officer of the route's agency and one of another.
const TOKENS: &str =
    "imigrasi-token-0001=imigrasi:KANIM-CILACAP,disnaker-token-0001=disnaker:DISNAKER-CILACAP";

/// Each event counts once: the same flag delivered twice (a publisher's retry) and then in
/// a later batch again counts one, a second flag of the same subject two.
async fn counts_each_event_once_per_subject_and_type(backend: Backend) {
    let mut harness = Harness::on(backend, TemplateHandler, migrations()).await;
    let flag: VisaTypeFlagged = example();
    harness
        .apply(vec![flag.clone().into_any(), flag.clone().into_any()])
        .await
        .unwrap();
    harness
        .apply(vec![
            flag.into_any(),
            example::<VisaTypeFlagged>().into_any(),
        ])
        .await
        .unwrap();
    let n: i64 = sqlx::query_scalar(
        "SELECT n FROM events_seen WHERE subject_key = $1 AND event_type = 'VisaTypeFlagged'",
    )
    .bind(SUBJECT)
    .fetch_one(harness.store().pool())
    .await
    .unwrap();
    assert_eq!(n, 2);
}

/// The route serves the counts to its agency's officers; another agency's token is refused
/// with the agency it needs, and a request without a token is 401.
async fn the_route_answers_its_agency_only(backend: Backend) {
    let mut harness = Harness::on(backend, TemplateHandler, migrations()).await;
    harness
        .apply(vec![example::<VisaTypeFlagged>().into_any()])
        .await
        .unwrap();
    let api = router(harness.views(Tokens::parse(TOKENS).unwrap()));
    let path = "/v1/template_subscriber/event-types";

    let (status, body) = get(api.clone(), path, Some("imigrasi-token-0001")).await;
    assert_eq!(status.as_u16(), 200, "{body}");
    assert_eq!(body["event_types"]["VisaTypeFlagged"], 1);

    let (status, body) = get(api.clone(), path, Some("disnaker-token-0001")).await;
    assert_eq!(status.as_u16(), 403);
    assert!(
        body["error"].as_str().unwrap().contains("imigrasi"),
        "{body}"
    );

    let (status, _) = get(api, path, None).await;
    assert_eq!(status.as_u16(), 401);
}
