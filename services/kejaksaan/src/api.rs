//! The prosecutor's query API: cases with their stage and running deadline, one case's
//! timeline, and the alert desk. Prosecutor tokens only; cases carry no personal data.

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use lintas_kit::auth::Caller;
use lintas_kit::events::Agency;
use lintas_kit::views::{database_unavailable, require_agency};
use serde::Deserialize;
use serde_json::json;
use sqlx::any::AnyRow;
use sqlx::Row;

/// Router state: the subscriber's store, the caller tokens and the codec.
pub type ApiState = lintas_kit::views::ViewState;

/// Cases, a case's timeline, and the alert desk (list, get, acknowledge, escalate, close).
pub fn router(state: ApiState) -> Router {
    Router::new()
        .route("/v1/agencies/kejaksaan/cases", get(cases))
        .route("/v1/agencies/kejaksaan/cases/{case_id}", get(case))
        .with_state(state.clone())
        .merge(crate::ALERTS.router(state))
}

const CASE_COLUMNS: &str =
    "case_id, referred_at_ms, investigation_opened_at_ms, investigating_unit, \
    spdp_sent_at_ms, spdp_number, prosecutor_assigned_at_ms, stage, stage_at_ms, file_due_at_ms";

fn case_json(r: &AnyRow) -> serde_json::Value {
    json!({
        "case_id": r.get::<String, _>(0),
        "referred_at_ms": r.get::<Option<i64>, _>(1),
        "investigation_opened_at_ms": r.get::<Option<i64>, _>(2),
        "investigating_unit": r.get::<Option<String>, _>(3),
        "spdp_sent_at_ms": r.get::<Option<i64>, _>(4),
        "spdp_number": r.get::<Option<String>, _>(5),
        "prosecutor_assigned_at_ms": r.get::<Option<i64>, _>(6),
        "stage": r.get::<Option<String>, _>(7),
        "stage_at_ms": r.get::<Option<i64>, _>(8),
        "file_due_at_ms": r.get::<Option<i64>, _>(9),
    })
}

#[derive(Deserialize)]
struct Filter {
    stage: Option<String>,
}

async fn cases(
    State(state): State<ApiState>,
    caller: Caller,
    Query(filter): Query<Filter>,
) -> Response {
    if let Err(e) = require_agency(&caller, Agency::Kejaksaan) {
        return e.into_response();
    }
    let rows = sqlx::query(&format!(
        "SELECT {CASE_COLUMNS} FROM cases WHERE ($1 IS NULL OR stage = $1) ORDER BY case_id LIMIT 500"
    ))
    .bind(&filter.stage)
    .fetch_all(state.store.pool())
    .await;
    match rows {
        Ok(rows) => {
            Json(json!({ "cases": rows.iter().map(case_json).collect::<Vec<_>>() })).into_response()
        }
        Err(e) => database_unavailable(e),
    }
}

async fn case(
    State(state): State<ApiState>,
    caller: Caller,
    Path(case_id): Path<String>,
) -> Response {
    if let Err(e) = require_agency(&caller, Agency::Kejaksaan) {
        return e.into_response();
    }
    let pool = state.store.pool();
    let row = sqlx::query(&format!(
        "SELECT {CASE_COLUMNS} FROM cases WHERE case_id = $1"
    ))
    .bind(&case_id)
    .fetch_optional(pool)
    .await;
    let row = match row {
        Ok(Some(row)) => row,
        Ok(None) => {
            return (
                StatusCode::NOT_FOUND,
                Json(json!({ "error": format!("no case {case_id}") })),
            )
                .into_response()
        }
        Err(e) => return database_unavailable(e),
    };
    let events = sqlx::query(
        "SELECT event_id, kind, stage, agency, office, occurred_at_ms, due_at_ms FROM case_events \
         WHERE case_id = $1 ORDER BY occurred_at_ms, event_id",
    )
    .bind(&case_id)
    .fetch_all(pool)
    .await;
    match events {
        Ok(events) => {
            let mut body = case_json(&row);
            body["timeline"] = events
                .iter()
                .map(|r| {
                    json!({
                        "event_id": r.get::<String, _>(0),
                        "type": r.get::<String, _>(1),
                        "stage": r.get::<Option<String>, _>(2),
                        "agency": r.get::<String, _>(3),
                        "office": r.get::<String, _>(4),
                        "occurred_at_ms": r.get::<i64, _>(5),
                        "due_at_ms": r.get::<Option<i64>, _>(6),
                    })
                })
                .collect();
            Json(body).into_response()
        }
        Err(e) => database_unavailable(e),
    }
}
