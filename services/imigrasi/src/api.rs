//! Query API of the immigration views, for immigration tokens only.

use std::collections::HashMap;

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use lintas_kit::auth::{AuthError, Caller};
use lintas_kit::events::{timefmt::millis, Agency};
use lintas_kit::personal;
use lintas_kit::store::Store;
use lintas_kit::views::database_unavailable;
use serde_json::{json, Value};
use sqlx::Row;
use time::format_description::well_known::Rfc3339;

/// Router state: the subscriber's store and the caller tokens.
pub type ApiState = lintas_kit::views::ViewState;

/// The subject history, and the alert desk (list, get, acknowledge, escalate, close).
pub fn router(state: ApiState) -> Router {
    Router::new()
        .route(
            "/v1/agencies/imigrasi/subjects/{subject_key}",
            get(subject_history),
        )
        .with_state(state.clone())
        .merge(crate::ALERTS.router(state.clone()))
        .merge(personal::audit_router(Agency::Imigrasi, state))
}

fn authorize(caller: &Caller) -> Result<(), AuthError> {
    if caller.agency == Agency::Imigrasi {
        Ok(())
    } else {
        Err(AuthError::forbidden())
    }
}

fn rfc3339(ms: i64) -> String {
    millis::from_millis(ms)
        .ok()
        .and_then(|t| t.format(&Rfc3339).ok())
        .unwrap_or_default()
}

/// The history has no personal data. `?include=identity` adds the name and NIK, for tokens
/// with the personal_data role, with `purpose` and `officer_id`; each such read is audited.
async fn subject_history(
    State(state): State<ApiState>,
    caller: Caller,
    Path(subject_key): Path<String>,
    Query(query): Query<HashMap<String, String>>,
) -> Response {
    if let Err(e) = authorize(&caller) {
        return e.into_response();
    }
    let identity = match query.get("include").map(String::as_str) {
        None => None,
        Some("identity") => match personal::justify(&caller, &query) {
            Ok(why) => Some(why),
            Err(refusal) => return refusal,
        },
        Some(other) => {
            return (
                StatusCode::UNPROCESSABLE_ENTITY,
                Json(json!({ "error": "validation_failed", "fields": [{ "field": "include", "message": format!("`{other}`: only `identity` can be included") }] })),
            )
                .into_response()
        }
    };
    let events = match sqlx::query(
        "SELECT event_id, event_type, occurred_at_ms, recorded_at_ms, agency, office, details, deliveries \
         FROM subject_history WHERE subject_key = $1 ORDER BY occurred_at_ms, event_id",
    )
    .bind(&subject_key)
    .fetch_all(state.store.pool())
    .await
    {
        Ok(rows) => rows,
        Err(e) => return database_unavailable(e),
    };
    if events.is_empty() {
        return (
            StatusCode::NOT_FOUND,
            Json(json!({ "error": "no events for this subject" })),
        )
            .into_response();
    }
    let events: Vec<Value> = events
        .iter()
        .map(|r| {
            json!({
                "event_id": r.get::<String, _>(0),
                "event_type": r.get::<String, _>(1),
                "occurred_at": rfc3339(r.get::<i64, _>(2)),
                "recorded_at": rfc3339(r.get::<i64, _>(3)),
                "agency": r.get::<String, _>(4),
                "office": r.get::<String, _>(5),
                "details": serde_json::from_str::<Value>(&r.get::<String, _>(6)).unwrap_or(Value::Null),
                "deliveries": r.get::<i32, _>(7),
            })
        })
        .collect();
    let alerts = match alerts_where(&state.store, Some(&subject_key), None, 1000).await {
        Ok(a) => a,
        Err(e) => return database_unavailable(e),
    };
    let mut body = json!({ "subject_key": subject_key, "events": events, "alerts": alerts });
    if let Some(why) = identity {
        match read_identity(&state, &caller, &why, &subject_key).await {
            Ok(identity) => body["identity"] = identity,
            Err(e) => return database_unavailable(e),
        }
    }
    Json(body).into_response()
}

/// The name and NIK, with the audit row in the same transaction: no read without its record.
async fn read_identity(
    state: &ApiState,
    caller: &Caller,
    why: &personal::Justification,
    subject_key: &str,
) -> Result<Value, sqlx::Error> {
    let mut tx = state.store.pool().begin().await?;
    let row = sqlx::query("SELECT nik, full_name FROM subject_identities WHERE subject_key = $1")
        .bind(subject_key)
        .fetch_optional(&mut *tx)
        .await?;
    let Some(row) = row else {
        tx.rollback().await?;
        return Ok(Value::Null);
    };
    personal::record_read(&mut tx, caller, why, subject_key, &["nik", "full_name"]).await?;
    tx.commit().await?;
    Ok(json!({ "nik": row.get::<String, _>(0), "full_name": row.get::<String, _>(1) }))
}

async fn alerts_where(
    store: &Store,
    subject: Option<&str>,
    rule: Option<&str>,
    limit: i64,
) -> Result<Vec<Value>, sqlx::Error> {
    let rows = sqlx::query(
        "SELECT alert_id, rule, subject_key, severity, status, summary, evidence, raised_at_ms FROM lintas_alerts \
         WHERE ($1 IS NULL OR subject_key = $1) AND ($2 IS NULL OR rule = $2) \
         ORDER BY raised_at_ms DESC, alert_id LIMIT $3",
    )
    .bind(subject)
    .bind(rule)
    .bind(limit)
    .fetch_all(store.pool())
    .await?;
    Ok(rows
        .iter()
        .map(|r| {
            json!({
                "alert_id": r.get::<String, _>(0),
                "rule": r.get::<String, _>(1),
                "subject_key": r.get::<String, _>(2),
                "severity": r.get::<String, _>(3),
                "status": r.get::<String, _>(4),
                "summary": r.get::<String, _>(5),
                "evidence_event_ids": serde_json::from_str::<Value>(&r.get::<String, _>(6)).unwrap_or(Value::Null),
                "triggered_at": rfc3339(r.get::<i64, _>(7)),
            })
        })
        .collect())
}
