//! Disnaker's query API: its alerts and the follow-up tasks of village offices. Disnaker
//! tokens only; no personal data is kept in these views.

use axum::extract::{Query, State};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use lintas_kit::auth::{AuthError, Caller};
use lintas_kit::events::{Agency, VillageCode};
use lintas_kit::views::{database_unavailable, invalid};
use serde::Deserialize;
use serde_json::{json, Value};
use sqlx::Row;

/// Router state: the subscriber's store and the caller tokens.
pub type ApiState = lintas_kit::views::ViewState;

/// Follow-up tasks, and the alert desk (list, get, acknowledge, escalate, close).
pub fn router(state: ApiState) -> Router {
    Router::new()
        .route("/v1/agencies/disnaker/follow-up-tasks", get(tasks))
        .route("/v1/agencies/disnaker/residents", get(residents))
        .with_state(state.clone())
        .merge(crate::ALERTS.router(state))
}

/// Tasks of one village, by its Kemendagri code (`?village_code=33.01.02.2001`): names are
/// shared by many villages.
#[derive(Deserialize)]
struct Filter {
    village_code: Option<String>,
}

#[derive(Deserialize)]
struct Grouping {
    by: Option<String>,
}

/// Residents of the regency who were flagged or blocked (intercepted at a checkpoint), counted
/// by `?by=village` (default: one group per village code, with its name), `sub_district` or
/// `placement_agency`. Counts only: no subject is named here.
async fn residents(
    State(state): State<ApiState>,
    caller: Caller,
    Query(grouping): Query<Grouping>,
) -> Response {
    if caller.agency != Agency::Disnaker {
        return AuthError::needs_agency(Agency::Disnaker).into_response();
    }
    let by = grouping.by.as_deref().unwrap_or("village");
    let column = match by {
        // Two villages of one name are two groups.
        "village" => "COALESCE(r.village_code, '') || ' ' || r.village",
        "sub_district" => "r.sub_district",
        "placement_agency" => "r.placement_agency",
        other => {
            return (
                axum::http::StatusCode::UNPROCESSABLE_ENTITY,
                Json(json!({ "error": "validation_failed", "fields": [{ "field": "by",
                    "message": format!("`{other}`: one of village, sub_district, placement_agency") }] })),
            )
                .into_response()
        }
    };
    let rows = sqlx::query(&format!(
        "SELECT {column}, \
         (SELECT COUNT(*) FROM flags f WHERE f.subject_key = r.subject_key), \
         (SELECT COUNT(*) FROM blocks b WHERE b.subject_key = r.subject_key) \
         FROM residents r"
    ))
    .fetch_all(state.store.pool())
    .await;
    let rows = match rows {
        Ok(rows) => rows,
        Err(e) => return database_unavailable(e),
    };
    let mut groups: std::collections::BTreeMap<String, [i64; 4]> = Default::default();
    for r in &rows {
        let (flags, blocks) = (r.get::<i64, _>(1), r.get::<i64, _>(2));
        if flags == 0 && blocks == 0 {
            continue;
        }
        let key = r
            .get::<Option<String>, _>(0)
            .unwrap_or_else(|| "(none)".into());
        let g = groups.entry(key).or_default();
        g[0] += i64::from(flags > 0);
        g[1] += i64::from(blocks > 0);
        g[2] += flags;
        g[3] += blocks;
    }
    Json(json!({ "by": by, "groups": groups.iter().map(|(k, g)| {
        let mut group = json!({
            "residents_flagged": g[0], "residents_blocked": g[1], "flags": g[2], "blocks": g[3],
        });
        if by == "village" {
            let (code, name) = k.split_once(' ').unwrap_or(("", k));
            group["village_code"] = if code.is_empty() { Value::Null } else { json!(code) };
            group["village"] = json!(name);
        } else {
            group[by] = json!(k);
        }
        group
    }).collect::<Vec<_>>() }))
    .into_response()
}

async fn tasks(
    State(state): State<ApiState>,
    caller: Caller,
    Query(filter): Query<Filter>,
) -> Response {
    if caller.agency != Agency::Disnaker {
        return AuthError::needs_agency(Agency::Disnaker).into_response();
    }
    let code = match filter
        .village_code
        .as_deref()
        .map(VillageCode::parse)
        .transpose()
    {
        Ok(code) => code.map(|c| c.to_string()),
        Err(e) => return invalid(vec![("village_code", e)]),
    };
    let rows = sqlx::query(
        "SELECT task_id, subject_key, village, sub_district, block_event_id, due_at_ms, status, village_code FROM follow_up_tasks \
         WHERE ($1 IS NULL OR village_code = $1) ORDER BY due_at_ms, task_id LIMIT 500",
    )
    .bind(&code)
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
            "village_code": r.get::<Option<String>, _>(7),
        })).collect::<Vec<_>>()}))
        .into_response(),
        Err(e) => database_unavailable(e),
    }
}
