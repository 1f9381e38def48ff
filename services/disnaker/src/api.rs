//! Disnaker's query API: its alerts and the follow-up tasks of village offices. Disnaker
//! tokens only; no personal data is kept in these views.

use axum::extract::{Query, State};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use lintas_kit::auth::{AuthError, Caller};
use lintas_kit::events::Agency;
use lintas_kit::views::database_unavailable;
use serde::Deserialize;
use serde_json::{json, Value};
use sqlx::Row;

/// Router state: the subscriber's store and the caller tokens.
pub type ApiState = lintas_kit::views::ViewState;

pub fn router(state: ApiState) -> Router {
    Router::new()
        .route("/v1/agencies/disnaker/alerts", get(alerts))
        .route("/v1/agencies/disnaker/follow-up-tasks", get(tasks))
        .with_state(state)
}

#[derive(Deserialize)]
struct Filter {
    rule: Option<String>,
    village: Option<String>,
}

async fn alerts(
    State(state): State<ApiState>,
    caller: Caller,
    Query(filter): Query<Filter>,
) -> Response {
    if caller.agency != Agency::Disnaker {
        return AuthError::forbidden().into_response();
    }
    let rows = sqlx::query(
        "SELECT alert_id, rule, subject_key, summary, evidence, raised_at_ms, status FROM alerts \
         WHERE ($1 IS NULL OR rule = $1) ORDER BY raised_at_ms DESC, alert_id LIMIT 500",
    )
    .bind(&filter.rule)
    .fetch_all(state.store.pool())
    .await;
    match rows {
        Ok(rows) => Json(json!({"alerts": rows.iter().map(|r| json!({
            "alert_id": r.get::<String, _>(0),
            "rule": r.get::<String, _>(1),
            "subject_key": r.get::<Option<String>, _>(2),
            "summary": r.get::<String, _>(3),
            "evidence_event_ids": serde_json::from_str::<Value>(&r.get::<String, _>(4)).unwrap_or(Value::Null),
            "raised_at_ms": r.get::<i64, _>(5),
            "status": r.get::<String, _>(6),
        })).collect::<Vec<_>>()}))
        .into_response(),
        Err(e) => database_unavailable(e),
    }
}

async fn tasks(
    State(state): State<ApiState>,
    caller: Caller,
    Query(filter): Query<Filter>,
) -> Response {
    if caller.agency != Agency::Disnaker {
        return AuthError::forbidden().into_response();
    }
    let rows = sqlx::query(
        "SELECT task_id, subject_key, village, sub_district, block_event_id, due_at_ms, status FROM follow_up_tasks \
         WHERE ($1 IS NULL OR village = $1) ORDER BY due_at_ms, task_id LIMIT 500",
    )
    .bind(&filter.village)
    .fetch_all(state.store.pool())
    .await;
    match rows {
        Ok(rows) => Json(json!({"tasks": rows.iter().map(|r| json!({
            "task_id": r.get::<String, _>(0),
            "subject_key": r.get::<String, _>(1),
            "village": r.get::<String, _>(2),
            "sub_district": r.get::<String, _>(3),
            "block_event_id": r.get::<String, _>(4),
            "due_at_ms": r.get::<i64, _>(5),
            "status": r.get::<String, _>(6),
        })).collect::<Vec<_>>()}))
        .into_response(),
        Err(e) => database_unavailable(e),
    }
}
