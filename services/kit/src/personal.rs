//! Personal data (names, NIK) in a query API: only for tokens with the
//! [`PERSONAL_DATA_ROLE`], only with a stated purpose and the acting officer, and never
//! without a row in the agency's audit log, written in the same transaction as the read.
//!
//! ```text
//! GET /v1/agencies/imigrasi/subjects/{key}?include=identity&purpose=secondary-interview&officer_id=im-7
//! GET /v1/agencies/imigrasi/audit/personal-data-reads?subject_key=…
//! ```

use std::collections::HashMap;

use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use lintas_events::Agency;
use serde_json::json;
use sqlx::{AnyConnection, Row};

use crate::auth::Caller;
use crate::views::{database_unavailable, require_agency, ViewState};

/// The role that may read personal data, as given in `LINTAS_TOKENS`
/// (`token=imigrasi:KANIM-CILACAP:personal_data`).
pub const PERSONAL_DATA_ROLE: &str = "personal_data";

/// Why personal data is being read, and by whom: required with every read.
#[derive(Debug, Clone)]
pub struct Justification {
    pub purpose: String,
    pub officer_id: String,
}

/// Checks that `caller` may read personal data and has said why (`purpose`) and who
/// (`officer_id`) in the query; the refusal is the response to send.
pub fn justify(
    caller: &Caller,
    query: &HashMap<String, String>,
) -> Result<Justification, Response> {
    if !caller.has_role(PERSONAL_DATA_ROLE) {
        return Err((
            StatusCode::FORBIDDEN,
            Json(json!({ "error": "this token may not read personal data (role personal_data)" })),
        )
            .into_response());
    }
    let mut fields = Vec::new();
    let mut take = |name: &'static str, max: usize| match query.get(name).map(|v| v.trim()) {
        Some(v) if !v.is_empty() && v.len() <= max => v.to_string(),
        _ => {
            fields.push(json!({ "field": name, "message": format!("required to read personal data, 1 to {max} characters") }));
            String::new()
        }
    };
    let purpose = take("purpose", 200);
    let officer_id = take("officer_id", 64);
    if !fields.is_empty() {
        return Err((
            StatusCode::UNPROCESSABLE_ENTITY,
            Json(json!({ "error": "validation_failed", "fields": fields })),
        )
            .into_response());
    }
    Ok(Justification {
        purpose,
        officer_id,
    })
}

/// Writes the audit row of one read; call it in the transaction that reads the data.
pub async fn record_read(
    conn: &mut AnyConnection,
    caller: &Caller,
    why: &Justification,
    subject_key: &str,
    fields: &[&str],
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO lintas_personal_data_reads (read_id, at_ms, agency, office, officer_id, subject_key, purpose, fields) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
    )
    .bind(uuid::Uuid::new_v4().to_string())
    .bind(crate::outbox::now_ms())
    .bind(caller.agency.to_string())
    .bind(&caller.office)
    .bind(&why.officer_id)
    .bind(subject_key)
    .bind(&why.purpose)
    .bind(fields.join(","))
    .execute(conn)
    .await?;
    tracing::info!(office = %caller.office, officer = %why.officer_id, purpose = %why.purpose, "personal data read");
    Ok(())
}

#[derive(Clone)]
struct AuditState {
    views: ViewState,
    agency: Agency,
}

impl AsRef<crate::auth::Tokens> for AuditState {
    fn as_ref(&self) -> &crate::auth::Tokens {
        &self.views.tokens
    }
}

/// `GET /v1/agencies/{agency}/audit/personal-data-reads?subject_key=&office=&limit=`: the
/// agency's own audit log, newest first, for any of its tokens.
pub fn audit_router(agency: Agency, views: ViewState) -> Router {
    Router::new()
        .route(
            &format!("/v1/agencies/{agency}/audit/personal-data-reads"),
            get(reads),
        )
        .with_state(AuditState { views, agency })
}

async fn reads(
    State(state): State<AuditState>,
    caller: Caller,
    Query(query): Query<HashMap<String, String>>,
) -> Response {
    if let Err(e) = require_agency(&caller, state.agency) {
        return e.into_response();
    }
    let limit = query
        .get("limit")
        .and_then(|l| l.parse::<i64>().ok())
        .unwrap_or(100)
        .clamp(1, 1000);
    let rows = sqlx::query(
        "SELECT read_id, at_ms, office, officer_id, subject_key, purpose, fields FROM lintas_personal_data_reads \
         WHERE ($1 IS NULL OR subject_key = $1) AND ($2 IS NULL OR office = $2) \
         ORDER BY at_ms DESC, read_id LIMIT $3",
    )
    .bind(query.get("subject_key"))
    .bind(query.get("office"))
    .bind(limit)
    .fetch_all(state.views.store.pool())
    .await;
    match rows {
        Ok(rows) => Json(json!({ "reads": rows.iter().map(|r| json!({
            "read_id": r.get::<String, _>(0),
            "at_ms": r.get::<i64, _>(1),
            "office": r.get::<String, _>(2),
            "officer_id": r.get::<String, _>(3),
            "subject_key": r.get::<String, _>(4),
            "purpose": r.get::<String, _>(5),
            "fields": r.get::<String, _>(6).split(',').collect::<Vec<_>>(),
        })).collect::<Vec<_>>() }))
        .into_response(),
        Err(e) => database_unavailable(e),
    }
}
