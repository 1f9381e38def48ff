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
use serde_json::json;
use sqlx::Row;

/// Router state: the subscriber's store and the caller tokens.
pub type ApiState = lintas_kit::views::ViewState;

/// Follow-up tasks, and the alert desk (list, get, acknowledge, escalate, close).
pub fn router(state: ApiState) -> Router {
    Router::new()
        .route("/v1/agencies/disnaker/follow-up-tasks", get(tasks))
        .with_state(state.clone())
        .merge(crate::ALERTS.router(state))
}

#[derive(Deserialize)]
struct Filter {
    village: Option<String>,
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
