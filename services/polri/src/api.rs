//! The police query API: the recruiter network (recruiters, their role, the people linked to
//! each and how many of them were blocked over sliding windows), one recruiter's links, and
//! the alert desk. Police tokens only. Phone numbers are personal data: only with the
//! personal_data role, a purpose and the officer, and each read is audited.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use lintas_kit::auth::{AuthError, Caller};
use lintas_kit::events::timefmt::millis;
use lintas_kit::events::Agency;
use lintas_kit::personal;
use lintas_kit::views::database_unavailable;
use serde_json::{json, Value};
use sqlx::Row;

/// Router state: the subscriber's store, the caller tokens and the codec.
pub type ApiState = lintas_kit::views::ViewState;

/// The sliding windows the network is counted over, in days before now.
const WINDOWS: [i64; 3] = [30, 90, 365];

/// The network, one recruiter, the audit log of personal-data reads, and the alert desk.
pub fn router(state: ApiState) -> Router {
    Router::new()
        .route("/v1/agencies/polri/recruiters", get(network))
        .route(
            "/v1/agencies/polri/recruiters/{recruiter_key}",
            get(recruiter),
        )
        .with_state(state.clone())
        .merge(crate::ALERTS.router(state.clone()))
        .merge(crate::PERSONAL_DATA.router(state))
}

#[allow(clippy::result_large_err)] // the refusal is the response itself, sent at once
fn police_only(caller: &Caller) -> Result<(), Response> {
    if caller.agency == Agency::Polri {
        Ok(())
    } else {
        Err(AuthError::needs_agency(Agency::Polri).into_response())
    }
}

/// Distinct blocked people per window, from (subject, block time) pairs.
fn windows(blocks: &[(String, i64)], now_ms: i64) -> Value {
    let mut out = serde_json::Map::new();
    for days in WINDOWS {
        let since = now_ms - days * 86_400_000;
        let people: BTreeSet<&String> = blocks
            .iter()
            .filter(|(_, at)| *at >= since)
            .map(|(s, _)| s)
            .collect();
        out.insert(format!("{days}_days"), json!(people.len()));
    }
    Value::Object(out)
}

fn now_ms() -> i64 {
    millis::to_millis(&time::OffsetDateTime::now_utc())
}

/// Every recruiter linked to someone, busiest first: role, people linked, and distinct
/// blocked people over the last 30, 90 and 365 days.
async fn network(State(state): State<ApiState>, caller: Caller) -> Response {
    if let Err(refusal) = police_only(&caller) {
        return refusal;
    }
    let pool = state.store.pool();
    let links = sqlx::query(
        "SELECT l.recruiter_key, l.subject_key, b.occurred_at_ms FROM recruiter_links l \
         LEFT JOIN blocks b ON b.subject_key = l.subject_key",
    )
    .fetch_all(pool)
    .await;
    let described =
        sqlx::query("SELECT recruiter_key, role, licence_status, village FROM recruiters")
            .fetch_all(pool)
            .await;
    let (links, described) = match (links, described) {
        (Ok(l), Ok(d)) => (l, d),
        (Err(e), _) | (_, Err(e)) => return database_unavailable(e),
    };
    let mut people: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    let mut blocks: BTreeMap<String, Vec<(String, i64)>> = BTreeMap::new();
    for r in &links {
        let (key, subject) = (r.get::<String, _>(0), r.get::<String, _>(1));
        if let Some(at) = r.get::<Option<i64>, _>(2) {
            blocks
                .entry(key.clone())
                .or_default()
                .push((subject.clone(), at));
        }
        people.entry(key).or_default().insert(subject);
    }
    let about: HashMap<String, (String, String, Option<String>)> = described
        .iter()
        .map(|r| (r.get(0), (r.get(1), r.get(2), r.get(3))))
        .collect();
    let now = now_ms();
    let mut rows: Vec<Value> = people
        .iter()
        .map(|(key, linked)| {
            let about = about.get(key);
            json!({
                "recruiter_key": key,
                "role": about.map(|a| &a.0),
                "licence_status": about.map(|a| &a.1),
                "village": about.and_then(|a| a.2.as_ref()),
                "people_linked": linked.len(),
                "blocked_people_within": windows(blocks.get(key).map(Vec::as_slice).unwrap_or(&[]), now),
            })
        })
        .collect();
    rows.sort_by_key(|r| {
        std::cmp::Reverse((
            r["blocked_people_within"]["90_days"].as_u64(),
            r["people_linked"].as_u64(),
        ))
    });
    Json(json!({ "recruiters": rows })).into_response()
}

/// One recruiter: what the newest report says, the people linked and which of them were
/// blocked and when, the counts over the windows, its alerts; `?include=phones` (with the
/// personal_data role naming its officer, and `purpose`) adds the phone numbers, audited.
async fn recruiter(
    State(state): State<ApiState>,
    caller: Caller,
    Path(recruiter_key): Path<String>,
    Query(query): Query<HashMap<String, String>>,
) -> Response {
    if let Err(refusal) = police_only(&caller) {
        return refusal;
    }
    let phones_wanted = match query.get("include").map(String::as_str) {
        None => None,
        Some("phones") => match personal::justify(&caller, &query) {
            Ok(why) => Some(why),
            Err(refusal) => return refusal,
        },
        Some(other) => {
            return (
                StatusCode::UNPROCESSABLE_ENTITY,
                Json(json!({ "error": "validation_failed", "fields": [{ "field": "include", "message": format!("`{other}`: only `phones` can be included") }] })),
            )
                .into_response()
        }
    };
    let pool = state.store.pool();
    let rows = sqlx::query(
        "SELECT l.subject_key, l.source_event_id, b.event_id, b.occurred_at_ms FROM recruiter_links l \
         LEFT JOIN blocks b ON b.subject_key = l.subject_key WHERE l.recruiter_key = $1 ORDER BY l.subject_key, b.occurred_at_ms",
    )
    .bind(&recruiter_key)
    .fetch_all(pool)
    .await;
    let alerts: Result<Vec<String>, _> = sqlx::query_scalar(
        "SELECT alert_id FROM recruiter_alerts WHERE recruiter_key = $1 ORDER BY alert_id",
    )
    .bind(&recruiter_key)
    .fetch_all(pool)
    .await;
    let about = sqlx::query(
        "SELECT role, licence_status, village, sub_district, regency, placement_agency_name, reported_at_ms \
         FROM recruiters WHERE recruiter_key = $1",
    )
    .bind(&recruiter_key)
    .fetch_optional(pool)
    .await;
    let (rows, alerts, about) = match (rows, alerts, about) {
        (Ok(rows), Ok(alerts), Ok(about)) => (rows, alerts, about),
        (Err(e), _, _) | (_, Err(e), _) | (_, _, Err(e)) => return database_unavailable(e),
    };
    if rows.is_empty() && about.is_none() {
        return (
            StatusCode::NOT_FOUND,
            Json(json!({"error": "no one is linked to this recruiter"})),
        )
            .into_response();
    }
    let blocks: Vec<(String, i64)> = rows
        .iter()
        .filter_map(|r| Some((r.get::<String, _>(0), r.get::<Option<i64>, _>(3)?)))
        .collect();
    let mut body = json!({
        "recruiter_key": recruiter_key,
        "report": about.as_ref().map(|r| json!({
            "role": r.get::<String, _>(0),
            "licence_status": r.get::<String, _>(1),
            "village": r.get::<Option<String>, _>(2),
            "sub_district": r.get::<Option<String>, _>(3),
            "regency": r.get::<String, _>(4),
            "placement_agency_name": r.get::<Option<String>, _>(5),
            "reported_at_ms": r.get::<i64, _>(6),
        })),
        "blocked_people_within": windows(&blocks, now_ms()),
        "alert_ids": alerts,
        "links": rows.iter().map(|r| json!({
            "subject_key": r.get::<String, _>(0),
            "linked_by_event_id": r.get::<String, _>(1),
            "block_event_id": r.get::<Option<String>, _>(2),
            "blocked_at_ms": r.get::<Option<i64>, _>(3),
        })).collect::<Vec<_>>(),
    });
    if let Some(why) = phones_wanted {
        match read_phones(&state, &caller, &why, &recruiter_key).await {
            Ok(phones) => body["phone_numbers"] = json!(phones),
            Err(e) => return lintas_kit::views::unavailable(e),
        }
    }
    Json(body).into_response()
}

/// The phone numbers, with the audit row in the same transaction.
async fn read_phones(
    state: &ApiState,
    caller: &Caller,
    why: &personal::Justification,
    recruiter_key: &str,
) -> anyhow::Result<Vec<String>> {
    let mut tx = state.store.pool().begin().await?;
    let phones: Vec<String> = sqlx::query_scalar(
        "SELECT phone FROM recruiter_phones WHERE recruiter_key = $1 ORDER BY phone",
    )
    .bind(recruiter_key)
    .fetch_all(&mut *tx)
    .await?;
    if phones.is_empty() {
        // Nothing personal left the database: nothing to audit.
        tx.rollback().await?;
        return Ok(phones);
    }
    personal::record_read(
        &mut tx,
        &state.codec,
        &crate::PERSONAL_DATA,
        caller,
        why,
        recruiter_key,
        &["phone_numbers"],
    )
    .await?;
    tx.commit().await?;
    Ok(phones)
}
