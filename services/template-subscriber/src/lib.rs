//! template_subscriber: a Lintas subscriber. Start here: change `TOPICS`, the migrations,
//! `apply` and the query route. The runtime (in `main.rs`) does the rest: consumer group,
//! offsets in the same transaction as your writes, batching, retries, dead letters, metrics,
//! health, shutdown.
#![forbid(unsafe_code)]

use lintas_kit::consumer::{Batch, Handler, HandlerError};
use lintas_kit::events::Topic;
use lintas_kit::store::Migrations;
use lintas_kit::views::prelude::*;
use sqlx::Row;

/// Consumer group, database schema and dead-letter topic name (`lintas.<GROUP>.dlq`).
pub const GROUP: &str = "template_subscriber";

/// Topics this subscriber reads.
pub const TOPICS: &[Topic] = &[Topic::Applicants, Topic::Screening, Topic::Departures];

/// The agency whose officers may read this subscriber's views: every other token gets 403.
pub const AGENCY: Agency = Agency::Imigrasi;

pub fn migrations() -> Migrations {
    Migrations {
        postgres: sqlx::migrate!("./migrations/postgres"),
        sqlite: sqlx::migrate!("./migrations/sqlite"),
    }
}

/// Counts events per subject and type, each event once: a publisher's retry with an
/// Idempotency-Key (or a stated `occurred_at`) delivers the same event (same `event_id`) again,
/// and `first_sightings` leaves such copies out.
pub struct TemplateHandler;

impl Handler for TemplateHandler {
    async fn apply(&self, batch: &mut Batch<'_>) -> Result<(), HandlerError> {
        for record in batch.first_sightings().await? {
            let Some(subject_key) = record.event.envelope().subject_key.clone() else {
                continue;
            };
            sqlx::query(
                "INSERT INTO events_seen (subject_key, event_type, n) VALUES ($1, $2, 1) \
                 ON CONFLICT (subject_key, event_type) DO UPDATE SET n = events_seen.n + 1",
            )
            .bind(subject_key)
            .bind(record.event.type_name())
            .execute(batch.tx())
            .await?;
        }
        Ok(())
    }
}

/// The query API: `GET /v1/template_subscriber/event-types`, how many events of each type
/// this subscriber saw, for `AGENCY`'s tokens only. Served beside `/livez`, `/readyz` and
/// `/metrics` by `run_subscriber_with_api` (see `main.rs`).
pub fn router(views: ViewState) -> Router {
    Router::new()
        .route("/v1/template_subscriber/event-types", get(event_types))
        .with_state(views)
}

/// The caller comes from its bearer token (401 without a valid one); the agency check is the
/// route's own, first thing.
async fn event_types(State(views): State<ViewState>, caller: Caller) -> Response {
    if let Err(refused) = require_agency(&caller, AGENCY) {
        return refused.into_response();
    }
    // PostgreSQL sums a BIGINT as NUMERIC, which the Any driver cannot read: cast it back
    // (a no-op on SQLite), or the route answers 503 on PostgreSQL.
    let rows = sqlx::query(
        "SELECT event_type, CAST(SUM(n) AS BIGINT) FROM events_seen \
         GROUP BY event_type ORDER BY event_type",
    )
    .fetch_all(views.store.pool())
    .await;
    match rows {
        Ok(rows) => {
            let counts: serde_json::Map<String, serde_json::Value> = rows
                .iter()
                .map(|row| (row.get::<String, _>(0), row.get::<i64, _>(1).into()))
                .collect();
            Json(serde_json::json!({ "event_types": counts })).into_response()
        }
        Err(e) => database_unavailable(e),
    }
}
