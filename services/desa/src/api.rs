//! What a village office reads: its notices, its residents who were flagged or blocked, and
//! the recruiters seen in the village. Desa tokens only, scoped by a structured claim: a
//! village office's token (`village=NAME`) reads its own village, the regency's village office
//! (role `all_villages`) every village; any other desa token reads none (fails closed).

use axum::extract::{Path, State};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use lintas_kit::auth::{AuthError, Caller, ALL_VILLAGES_ROLE};
use lintas_kit::events::Agency;
use lintas_kit::views::database_unavailable;
use serde_json::{json, Value};
use sqlx::Row;

/// Router state: the subscriber's store and the caller tokens.
pub type ApiState = lintas_kit::views::ViewState;

pub fn router(state: ApiState) -> Router {
    Router::new()
        .route("/v1/agencies/desa/villages/{village}/notices", get(notices))
        .route(
            "/v1/agencies/desa/villages/{village}/residents",
            get(residents),
        )
        .route(
            "/v1/agencies/desa/villages/{village}/recruiters",
            get(recruiters),
        )
        .with_state(state)
}

/// Desa tokens only: the token's own village, or every village with `all_villages`. The
/// office name grants nothing.
fn authorize(caller: &Caller, village: &str) -> Result<(), AuthError> {
    let allowed = caller.agency == Agency::Desa
        && (caller.has_role(ALL_VILLAGES_ROLE)
            || caller
                .village
                .as_deref()
                .is_some_and(|own| own.eq_ignore_ascii_case(village.trim())));
    if allowed {
        Ok(())
    } else {
        Err(AuthError::needs(format_args!(
            "a desa token of village {} or with role {ALL_VILLAGES_ROLE}",
            village.trim()
        )))
    }
}

async fn notices(
    State(state): State<ApiState>,
    caller: Caller,
    Path(village): Path<String>,
) -> Response {
    if let Err(e) = authorize(&caller, &village) {
        return e.into_response();
    }
    let rows = sqlx::query(
        "SELECT notice_id, rule, subject_key, recruiter_key, summary, evidence, raised_at_ms FROM notices \
         WHERE village = $1 ORDER BY raised_at_ms DESC, notice_id LIMIT 500",
    )
    .bind(&village)
    .fetch_all(state.store.pool())
    .await;
    match rows {
        Ok(rows) => Json(json!({"village": village, "notices": rows.iter().map(|r| json!({
            "notice_id": r.get::<String, _>(0),
            "rule": r.get::<String, _>(1),
            "subject_key": r.get::<Option<String>, _>(2),
            "recruiter_key": r.get::<Option<String>, _>(3),
            "summary": r.get::<String, _>(4),
            "evidence_event_ids": serde_json::from_str::<Value>(&r.get::<String, _>(5)).unwrap_or(Value::Null),
            "raised_at_ms": r.get::<i64, _>(6),
        })).collect::<Vec<_>>()}))
        .into_response(),
        Err(e) => database_unavailable(e),
    }
}

async fn residents(
    State(state): State<ApiState>,
    caller: Caller,
    Path(village): Path<String>,
) -> Response {
    if let Err(e) = authorize(&caller, &village) {
        return e.into_response();
    }
    let rows = sqlx::query(
        "SELECT r.subject_key, e.kind, e.event_id, e.occurred_at_ms, e.details FROM residents r \
         JOIN resident_events e ON e.subject_key = r.subject_key WHERE r.village = $1 ORDER BY r.subject_key, e.occurred_at_ms",
    )
    .bind(&village)
    .fetch_all(state.store.pool())
    .await;
    match rows {
        Ok(rows) => Json(
            json!({"village": village, "events": rows.iter().map(|r| json!({
            "subject_key": r.get::<String, _>(0),
            "kind": r.get::<String, _>(1),
            "event_id": r.get::<String, _>(2),
            "occurred_at_ms": r.get::<i64, _>(3),
            "details": serde_json::from_str::<Value>(&r.get::<String, _>(4)).unwrap_or(Value::Null),
        })).collect::<Vec<_>>()}),
        )
        .into_response(),
        Err(e) => database_unavailable(e),
    }
}

async fn recruiters(
    State(state): State<ApiState>,
    caller: Caller,
    Path(village): Path<String>,
) -> Response {
    if let Err(e) = authorize(&caller, &village) {
        return e.into_response();
    }
    let rows = sqlx::query(
        "SELECT recruiter_key, role, reported_by, MAX(occurred_at_ms), COUNT(*) FROM recruiter_sightings WHERE village = $1 \
         GROUP BY recruiter_key, role, reported_by ORDER BY recruiter_key",
    )
    .bind(&village)
    .fetch_all(state.store.pool())
    .await;
    match rows {
        Ok(rows) => Json(
            json!({"village": village, "recruiters": rows.iter().map(|r| json!({
            "recruiter_key": r.get::<String, _>(0),
            "role": r.get::<String, _>(1),
            "reported_by": r.get::<String, _>(2),
            "last_seen_ms": r.get::<i64, _>(3),
            "reports": r.get::<i64, _>(4),
        })).collect::<Vec<_>>()}),
        )
        .into_response(),
        Err(e) => database_unavailable(e),
    }
}
