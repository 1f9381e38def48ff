//! What a village office reads: its notices, its residents who were flagged or blocked, and
//! the recruiters seen in the village. Desa tokens only, scoped by a structured claim: a
//! village office's token (`village=CODE`, the village's Kemendagri code) reads its own
//! village, the regency's village office (role `all_villages`) every village; any other desa
//! token reads none (fails closed).
//!
//! Villages are addressed by code (`/villages/33.01.02.2003/notices`): a name is shared by
//! many villages. `/villages/unplaced/...` lists what came from events without a code
//! (published before codes were in the contract), for the regency's village office only.

use std::collections::HashMap;

use axum::extract::{Path, Query, State};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use lintas_kit::auth::{AuthError, Caller, ALL_VILLAGES_ROLE};
use lintas_kit::events::{Agency, VillageCode};
use lintas_kit::views::{database_unavailable, invalid, Language};
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

/// The path segment naming what to read: `unplaced` for rows without a village code.
const UNPLACED: &str = "unplaced";

/// Which village a request reads: its code, or None for the unplaced rows. Desa tokens
/// only: the token's own village, or every village (and the unplaced) with `all_villages`.
/// The office name grants nothing.
fn village_of(caller: &Caller, segment: &str) -> Result<Option<VillageCode>, Box<Response>> {
    let all = caller.agency == Agency::Desa && caller.has_role(ALL_VILLAGES_ROLE);
    let code = if segment.trim() == UNPLACED {
        None
    } else {
        Some(VillageCode::parse(segment).map_err(|e| Box::new(invalid(vec![("village", e)])))?)
    };
    let own =
        caller.agency == Agency::Desa && code.is_some() && caller.village.as_ref() == code.as_ref();
    if all || own {
        return Ok(code);
    }
    let what = code
        .as_ref()
        .map_or("the unplaced rows".to_string(), |c| format!("village {c}"));
    Err(Box::new(
        AuthError::needs(format_args!(
            "a desa token of {what} or with role {ALL_VILLAGES_ROLE}"
        ))
        .into_response(),
    ))
}

/// The village as answered: its code, or `unplaced`.
fn label(code: &Option<VillageCode>) -> String {
    code.as_ref().map_or(UNPLACED.into(), |c| c.to_string())
}

async fn notices(
    State(state): State<ApiState>,
    caller: Caller,
    Path(village): Path<String>,
    Query(query): Query<HashMap<String, String>>,
) -> Response {
    let code = match village_of(&caller, &village) {
        Ok(code) => code,
        Err(refused) => return *refused,
    };
    let language = match Language::from_query(&query) {
        Ok(language) => language,
        Err(refused) => return refused.into_response(),
    };
    let rows = sqlx::query(
        "SELECT notice_id, rule, subject_key, recruiter_key, summary, evidence, raised_at_ms, summaries FROM notices \
         WHERE village_code IS NOT DISTINCT FROM $1 ORDER BY raised_at_ms DESC, notice_id LIMIT 500",
    )
    .bind(code.as_ref().map(|c| c.to_string()))
    .fetch_all(state.store.pool())
    .await;
    match rows {
        Ok(rows) => Json(json!({"village": label(&code), "notices": rows.iter().map(|r| json!({
            "notice_id": r.get::<String, _>(0),
            "rule": r.get::<String, _>(1),
            "subject_key": r.get::<Option<String>, _>(2),
            "recruiter_key": r.get::<Option<String>, _>(3),
            "summary": language.pick(r.get::<String, _>(4), r.get::<Option<String>, _>(7).as_deref()),
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
    let code = match village_of(&caller, &village) {
        Ok(code) => code,
        Err(refused) => return *refused,
    };
    let rows = sqlx::query(
        "SELECT r.subject_key, e.kind, e.event_id, e.occurred_at_ms, e.details FROM residents r \
         JOIN resident_events e ON e.subject_key = r.subject_key WHERE r.village_code IS NOT DISTINCT FROM $1 \
         ORDER BY r.subject_key, e.occurred_at_ms",
    )
    .bind(code.as_ref().map(|c| c.to_string()))
    .fetch_all(state.store.pool())
    .await;
    match rows {
        Ok(rows) => Json(
            json!({"village": label(&code), "events": rows.iter().map(|r| json!({
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
    let code = match village_of(&caller, &village) {
        Ok(code) => code,
        Err(refused) => return *refused,
    };
    let rows = sqlx::query(
        "SELECT recruiter_key, role, reported_by, MAX(occurred_at_ms), COUNT(*) FROM recruiter_sightings \
         WHERE village_code IS NOT DISTINCT FROM $1 AND (village_code IS NOT NULL OR village IS NOT NULL) \
         GROUP BY recruiter_key, role, reported_by ORDER BY recruiter_key",
    )
    .bind(code.as_ref().map(|c| c.to_string()))
    .fetch_all(state.store.pool())
    .await;
    match rows {
        Ok(rows) => Json(
            json!({"village": label(&code), "recruiters": rows.iter().map(|r| json!({
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
