//! Erasure of one person's personal data by the agency that controls it (UU 27/2022).
//!
//! The request deletes the data from the agency's views in one transaction with the erasure
//! record (who, office, officer, legal basis, reason, fields; never the data) and the
//! PersonalDataErased event for the privacy topic. Reading the event back (or replaying it in
//! a rebuild) erases again, and [`super::PersonalData::erased_at`] keeps data that occurred
//! before the erasure from being stored again whatever order the topics are read in.

use std::collections::HashMap;

use axum::extract::State as AxumState;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use lintas_events::timefmt::millis;
use lintas_events::{Envelope, ErasureReason, PersonalDataErased};
use serde_json::{json, Value};
use sqlx::{AnyConnection, Row};

use super::{holds_identifying_number, PersonalData, State, PERSONAL_DATA_ROLE};
use crate::auth::Caller;
use crate::views::{database_unavailable, invalid, problem, require_agency};

const FIELDS: [&str; 4] = ["person_key", "reason", "legal_basis", "officer_id"];

/// `POST …/erasures`: erases a person's personal data now, for a token of the controlling
/// agency with the personal_data role.
pub(super) async fn request(
    AxumState(state): AxumState<State>,
    caller: Caller,
    headers: axum::http::HeaderMap,
    body: axum::body::Bytes,
) -> Response {
    if let Err(e) = require_agency(&caller, state.data.agency) {
        return e.into_response();
    }
    if !caller.has_role(PERSONAL_DATA_ROLE) {
        return problem(
            StatusCode::FORBIDDEN,
            "this token may not erase personal data (role personal_data)",
        );
    }
    // Strict JSON: no duplicate keys, no control or invisible formatting characters.
    let body = match crate::http::parse_body(&headers, &body) {
        Ok(body) => body,
        Err(refused) => return refused.into_response(),
    };
    let mut bad = Vec::new();
    match body.as_object() {
        Some(fields) => {
            for key in fields.keys().filter(|k| !FIELDS.contains(&k.as_str())) {
                bad.push(("body", format!("unknown field `{key}`")));
            }
        }
        None => bad.push(("body", "a JSON object".to_string())),
    }
    let text = |name: &'static str, max: usize, bad: &mut Vec<(&'static str, String)>| match body
        .get(name)
        .and_then(Value::as_str)
        .map(str::trim)
    {
        Some(v) if !v.is_empty() && v.len() <= max && !holds_identifying_number(v) => {
            Some(v.to_string())
        }
        _ => {
            bad.push((
                name,
                format!("required: 1 to {max} characters, no identity or phone number"),
            ));
            None
        }
    };
    let person_key = match body.get("person_key").and_then(Value::as_str) {
        Some(k)
            if (8..=128).contains(&k.len())
                && k.chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_') =>
        {
            Some(k.to_string())
        }
        _ => {
            bad.push((
                "person_key",
                "required: the pseudonymous key of the person (8 to 128 letters, digits, - and _)"
                    .into(),
            ));
            None
        }
    };
    let reason = match body
        .get("reason")
        .and_then(Value::as_str)
        .map(str::parse::<ErasureReason>)
    {
        Some(Ok(r)) => Some(r),
        Some(Err(e)) => {
            bad.push(("reason", e));
            None
        }
        None => {
            bad.push(("reason", "required".into()));
            None
        }
    };
    let legal_basis = text("legal_basis", 200, &mut bad);
    // A credential that names its officer erases as that officer; `officer_id` may be left
    // out, and another id is refused.
    let officer_id = match (&caller.officer, body.get("officer_id")) {
        (Some(signed_in), None) => Some(signed_in.clone()),
        _ => text("officer_id", 64, &mut bad),
    };
    let (Some(person_key), Some(reason), Some(legal_basis), Some(officer_id)) =
        (person_key, reason, legal_basis, officer_id)
    else {
        return invalid(bad);
    };
    if let Some(refusal) = caller.other_officer(&officer_id) {
        return refusal;
    }
    if !bad.is_empty() {
        return invalid(bad);
    }
    let mut envelope = Envelope::new(
        state.data.agency,
        caller.office.clone(),
        officer_id,
        millis::now(),
    );
    envelope.legal_basis = Some(legal_basis);
    if state.data.scope == lintas_events::ErasureScope::Subject {
        envelope.subject_key = Some(person_key.clone());
    }
    let event = PersonalDataErased {
        erasure_id: envelope.event_id,
        envelope,
        scope: state.data.scope,
        person_key,
        reason,
        fields: state.data.fields.iter().map(|f| f.to_string()).collect(),
    };
    match erase_now(&state, &event).await {
        Ok(()) => {
            tracing::info!(agency = %state.data.agency, office = %caller.office, erasure = %event.erasure_id, "personal data erased");
            (StatusCode::OK, Json(erasure_json(&event))).into_response()
        }
        Err(e) => match e.downcast::<sqlx::Error>() {
            Ok(e) => database_unavailable(e),
            Err(e) => {
                tracing::error!(error = %e, "erasure failed");
                problem(
                    StatusCode::SERVICE_UNAVAILABLE,
                    "the erasure was not recorded; retry",
                )
            }
        },
    }
}

async fn erase_now(state: &State, event: &PersonalDataErased) -> anyhow::Result<()> {
    let mut tx = state.views.store.pool().begin().await?;
    apply(&mut tx, &state.data, event).await?;
    crate::outbox::enqueue(&mut tx, &state.views.codec, event).await?;
    tx.commit().await?;
    Ok(())
}

fn erasure_json(e: &PersonalDataErased) -> Value {
    json!({
        "erasure_id": e.erasure_id,
        "person_key": e.person_key,
        "scope": e.scope,
        "reason": e.reason,
        "legal_basis": e.envelope.legal_basis,
        "office": e.envelope.office,
        "officer_id": e.envelope.officer_id,
        "erased_at_ms": millis::to_millis(&e.envelope.occurred_at),
        "fields": e.fields,
    })
}

/// Records the erasure (once) and deletes the data it covers.
pub(super) async fn apply(
    conn: &mut AnyConnection,
    data: &PersonalData,
    e: &PersonalDataErased,
) -> Result<(), sqlx::Error> {
    let at = millis::to_millis(&e.envelope.occurred_at);
    sqlx::query(
        "INSERT INTO lintas_erasures (erasure_id, agency, scope, person_key, erased_at_ms, reason, legal_basis, office, officer_id, fields) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) ON CONFLICT (erasure_id) DO NOTHING",
    )
    .bind(e.erasure_id.to_string())
    .bind(e.envelope.agency.to_string())
    .bind(e.scope.to_string())
    .bind(&e.person_key)
    .bind(at)
    .bind(e.reason.to_string())
    .bind(e.envelope.legal_basis.clone().unwrap_or_default())
    .bind(&e.envelope.office)
    .bind(&e.envelope.officer_id)
    .bind(e.fields.join(","))
    .execute(&mut *conn)
    .await?;
    (data.erase)(conn, &e.person_key, at).await
}

pub(super) async fn erased_at(
    conn: &mut AnyConnection,
    data: &PersonalData,
    keys: &[&str],
) -> Result<HashMap<String, i64>, sqlx::Error> {
    let mut out = HashMap::new();
    if keys.is_empty() {
        return Ok(out);
    }
    // Erasures are rare: one cheap look at the table spares the IN list on every batch.
    let any: Option<i64> =
        sqlx::query_scalar("SELECT erased_at_ms FROM lintas_erasures WHERE agency = $1 LIMIT 1")
            .bind(data.agency.to_string())
            .fetch_optional(&mut *conn)
            .await?;
    if any.is_none() {
        return Ok(out);
    }
    for chunk in keys.chunks(500) {
        let placeholders: Vec<String> = (0..chunk.len()).map(|i| format!("${}", i + 3)).collect();
        let sql = format!(
            "SELECT person_key, MAX(erased_at_ms) FROM lintas_erasures WHERE agency = $1 AND scope = $2 \
             AND person_key IN ({}) GROUP BY person_key",
            placeholders.join(", ")
        );
        let mut query = sqlx::query(&sql)
            .bind(data.agency.to_string())
            .bind(data.scope.to_string());
        for key in chunk {
            query = query.bind(*key);
        }
        for row in query.fetch_all(&mut *conn).await? {
            out.insert(row.try_get(0)?, row.try_get(1)?);
        }
    }
    Ok(out)
}

/// `GET …/erasures`: the agency's erasure records, newest first.
pub(super) async fn list(AxumState(state): AxumState<State>, caller: Caller) -> Response {
    if let Err(e) = require_agency(&caller, state.data.agency) {
        return e.into_response();
    }
    let rows = sqlx::query(
        "SELECT erasure_id, scope, person_key, erased_at_ms, reason, legal_basis, office, officer_id, fields \
         FROM lintas_erasures WHERE agency = $1 ORDER BY erased_at_ms DESC, erasure_id LIMIT 1000",
    )
    .bind(state.data.agency.to_string())
    .fetch_all(state.views.store.pool())
    .await;
    match rows {
        Ok(rows) => Json(json!({ "erasures": rows.iter().map(|r| json!({
            "erasure_id": r.get::<String, _>(0),
            "scope": r.get::<String, _>(1),
            "person_key": r.get::<String, _>(2),
            "erased_at_ms": r.get::<i64, _>(3),
            "reason": r.get::<String, _>(4),
            "legal_basis": r.get::<String, _>(5),
            "office": r.get::<String, _>(6),
            "officer_id": r.get::<String, _>(7),
            "fields": r.get::<String, _>(8).split(',').filter(|f| !f.is_empty()).collect::<Vec<_>>(),
        })).collect::<Vec<_>>() }))
        .into_response(),
        Err(e) => database_unavailable(e),
    }
}
