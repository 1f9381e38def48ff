//! The police query API: PO1/PO2 alerts and the recruiters linked to blocked people. Police
//! tokens only; phone numbers and names are not kept in these views.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use lintas_kit::auth::{AuthError, Caller};
use lintas_kit::events::Agency;
use lintas_kit::views::database_unavailable;
use serde_json::json;
use sqlx::Row;

/// Router state: the subscriber's store and the caller tokens.
pub type ApiState = lintas_kit::views::ViewState;

/// A recruiter's links, and the alert desk (list, get, acknowledge, escalate, close).
pub fn router(state: ApiState) -> Router {
    Router::new()
        .route(
            "/v1/agencies/polri/recruiters/{recruiter_key}",
            get(recruiter),
        )
        .with_state(state.clone())
        .merge(crate::ALERTS.router(state))
}

/// The people linked to one recruiter, and which of them were blocked and when.
async fn recruiter(
    State(state): State<ApiState>,
    caller: Caller,
    Path(recruiter_key): Path<String>,
) -> Response {
    if caller.agency != Agency::Polri {
        return AuthError::forbidden().into_response();
    }
    let rows = sqlx::query(
        "SELECT l.subject_key, l.source_event_id, b.event_id, b.occurred_at_ms FROM recruiter_links l \
         LEFT JOIN blocks b ON b.subject_key = l.subject_key WHERE l.recruiter_key = $1 ORDER BY l.subject_key, b.occurred_at_ms",
    )
    .bind(&recruiter_key)
    .fetch_all(state.store.pool())
    .await;
    let alerts: Result<Vec<String>, _> = sqlx::query_scalar(
        "SELECT alert_id FROM recruiter_alerts WHERE recruiter_key = $1 ORDER BY alert_id",
    )
    .bind(&recruiter_key)
    .fetch_all(state.store.pool())
    .await;
    let (rows, alerts) = match (rows, alerts) {
        (Ok(rows), Ok(alerts)) => (Ok(rows), alerts),
        (Err(e), _) | (_, Err(e)) => (Err(e), Vec::new()),
    };
    match rows {
        Ok(rows) if rows.is_empty() => (
            StatusCode::NOT_FOUND,
            Json(json!({"error": "no one is linked to this recruiter"})),
        )
            .into_response(),
        Ok(rows) => Json(
            json!({"recruiter_key": recruiter_key, "alert_ids": alerts, "links": rows.iter().map(|r| json!({
            "subject_key": r.get::<String, _>(0),
            "linked_by_event_id": r.get::<String, _>(1),
            "block_event_id": r.get::<Option<String>, _>(2),
            "blocked_at_ms": r.get::<Option<i64>, _>(3),
        })).collect::<Vec<_>>()}),
        )
        .into_response(),
        Err(e) => database_unavailable(e),
    }
}
