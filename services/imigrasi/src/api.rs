//! Query API of the immigration views, for immigration tokens only.

use std::collections::HashMap;

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use lintas_kit::auth::{AuthError, Caller};
use lintas_kit::events::calendar::{self, TimeZone};
use lintas_kit::events::{timefmt::millis, Agency};
use lintas_kit::personal;
use lintas_kit::store::Store;
use lintas_kit::views::{database_unavailable, Language};
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
        .merge(crate::PERSONAL_DATA.router(state))
}

fn authorize(caller: &Caller) -> Result<(), AuthError> {
    if caller.agency == Agency::Imigrasi {
        Ok(())
    } else {
        Err(AuthError::needs_agency(Agency::Imigrasi))
    }
}

/// History rows written before the history was coarsened held the exact birth date and
/// residence: served, they become an age band and the regency like the new ones.
fn coarse(mut details: Value, occurred_at_ms: i64) -> Value {
    if let Some(fields) = details.as_object_mut() {
        if let Some(born) = fields.remove("birth_date") {
            let born = born.as_str().and_then(|b| {
                time::Date::parse(b, time::macros::format_description!("[year]-[month]-[day]")).ok()
            });
            // The view's state carries no deployment time zone; these legacy rows take the
            // day in the default one (WIB), which moves a band only on a birthday morning.
            let on = millis::from_millis(occurred_at_ms)
                .map(|t| TimeZone::default().local_date(t))
                .ok();
            if let (Some(born), Some(on)) = (born, on) {
                fields.insert(
                    "age_band".into(),
                    json!(calendar::age_band(calendar::age_in_years(born, on))),
                );
            }
        }
        fields.remove("village");
        fields.remove("sub_district");
    }
    details
}

fn rfc3339(ms: i64) -> String {
    millis::from_millis(ms)
        .ok()
        .and_then(|t| t.format(&Rfc3339).ok())
        .unwrap_or_default()
}

/// The history has no personal data. `?include=identity` adds the name and NIK, for tokens
/// with the personal_data role that name their officer, with `purpose`; each such read is
/// audited under that officer.
async fn subject_history(
    State(state): State<ApiState>,
    caller: Caller,
    Path(subject_key): Path<String>,
    Query(query): Query<HashMap<String, String>>,
) -> Response {
    if let Err(e) = authorize(&caller) {
        return e.into_response();
    }
    let language = match Language::from_query(&query) {
        Ok(language) => language,
        Err(refused) => return refused.into_response(),
    };
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
                "details": coarse(serde_json::from_str::<Value>(&r.get::<String, _>(6)).unwrap_or(Value::Null), r.get::<i64, _>(2)),
                "deliveries": r.get::<i32, _>(7),
            })
        })
        .collect();
    let alerts = match alerts_where(&state.store, Some(&subject_key), None, 1000, language).await {
        Ok(a) => a,
        Err(e) => return database_unavailable(e),
    };
    let mut body = json!({ "subject_key": subject_key, "events": events, "alerts": alerts });
    if let Some(why) = identity {
        match read_identity(&state, &caller, &why, &subject_key).await {
            Ok(read) => {
                body["identity"] = read["identity"].clone();
                body["unverified_claims"] = read["unverified_claims"].clone();
            }
            Err(e) => return lintas_kit::views::unavailable(e),
        }
    }
    Json(body).into_response()
}

/// The verified identity (name, NIK, exact birth date and residence) and the unverified
/// claims, with the audit entry in the same transaction: no read without its record.
async fn read_identity(
    state: &ApiState,
    caller: &Caller,
    why: &personal::Justification,
    subject_key: &str,
) -> anyhow::Result<Value> {
    let mut tx = state.store.pool().begin().await?;
    let verified = sqlx::query(
        "SELECT nik, full_name, birth_date, village, sub_district, source, office, occurred_at_ms \
         FROM subject_identities WHERE subject_key = $1",
    )
    .bind(subject_key)
    .fetch_optional(&mut *tx)
    .await?;
    let claims = sqlx::query(
        "SELECT nik, full_name, source, office, occurred_at_ms FROM identity_claims \
         WHERE subject_key = $1 ORDER BY occurred_at_ms, event_id",
    )
    .bind(subject_key)
    .fetch_all(&mut *tx)
    .await?;
    let mut fields: Vec<&str> = Vec::new();
    if verified.is_some() {
        fields.extend(["nik", "full_name", "birth_date", "village", "sub_district"]);
    }
    if !claims.is_empty() && verified.is_none() {
        fields.extend(["nik", "full_name"]);
    }
    if fields.is_empty() {
        tx.rollback().await?;
        return Ok(json!({ "identity": null, "unverified_claims": [] }));
    }
    personal::record_read(
        &mut tx,
        &state.codec,
        &crate::PERSONAL_DATA,
        caller,
        why,
        subject_key,
        &fields,
    )
    .await?;
    tx.commit().await?;
    let identity = verified.map(|r| {
        json!({
            "nik": r.get::<String, _>(0), "full_name": r.get::<String, _>(1),
            "birth_date": r.get::<String, _>(2), "village": r.get::<String, _>(3),
            "sub_district": r.get::<String, _>(4), "source": r.get::<String, _>(5),
            "office": r.get::<String, _>(6), "registered_at": rfc3339(r.get::<i64, _>(7)),
            "verified": true,
        })
    });
    let claims: Vec<Value> = claims
        .iter()
        .map(|r| {
            json!({
                "nik": r.get::<String, _>(0), "full_name": r.get::<String, _>(1),
                "source": r.get::<String, _>(2), "office": r.get::<String, _>(3),
                "claimed_at": rfc3339(r.get::<i64, _>(4)), "verified": false,
            })
        })
        .collect();
    Ok(json!({ "identity": identity, "unverified_claims": claims }))
}

async fn alerts_where(
    store: &Store,
    subject: Option<&str>,
    rule: Option<&str>,
    limit: i64,
    language: Language,
) -> Result<Vec<Value>, sqlx::Error> {
    let rows = sqlx::query(
        "SELECT alert_id, rule, subject_key, severity, status, summary, evidence, raised_at_ms, summaries FROM lintas_alerts \
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
                "summary": language.pick(r.get::<String, _>(5), r.get::<Option<String>, _>(8).as_deref()),
                "evidence_event_ids": serde_json::from_str::<Value>(&r.get::<String, _>(6)).unwrap_or(Value::Null),
                "triggered_at": rfc3339(r.get::<i64, _>(7)),
            })
        })
        .collect())
}
