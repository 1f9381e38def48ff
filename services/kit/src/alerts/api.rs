//! The alert desk's HTTP API. Reads are plain queries; action bodies are strict JSON (no
//! duplicate keys, no control or invisible formatting characters); each lifecycle action is one
//! transaction: the action, the recomputed status and the outbox row of its event commit
//! together, so the feed and the view never disagree.

use std::collections::HashMap;

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use lintas_events::{
    Agency, AlertAcknowledged, AlertCloseReason, AlertClosed, AlertEscalated, AnyEvent, Envelope,
    EscalationReason, Event,
};
use serde_json::{json, Value};
use sqlx::any::AnyRow;
use sqlx::Row;
use uuid::Uuid;

use super::{record_action, refresh, Action, ACKNOWLEDGED, CLOSED};
use crate::auth::{Caller, Tokens};
use crate::http::StrictJson;
use crate::store::Dialect;
use crate::views::{database_unavailable, invalid, problem, require_agency, Language, ViewState};

/// Router state of the alert desk.
#[derive(Clone)]
pub struct DeskState {
    pub views: ViewState,
    pub agency: Agency,
}

impl AsRef<Tokens> for DeskState {
    fn as_ref(&self) -> &Tokens {
        &self.views.tokens
    }
}

pub(super) fn router(state: DeskState) -> Router {
    let base = format!("/v1/agencies/{}/alerts", state.agency);
    Router::new()
        .route(&base, get(list))
        .route(&format!("{base}/incoming"), get(incoming))
        .route(&format!("{base}/{{alert_id}}"), get(one))
        .route(
            &format!("{base}/{{alert_id}}/acknowledge"),
            post(acknowledge),
        )
        .route(&format!("{base}/{{alert_id}}/escalate"), post(escalate))
        .route(&format!("{base}/{{alert_id}}/close"), post(close))
        .with_state(state)
}

const COLUMNS: &str =
    "alert_id, rule, owner, severity, subject_key, summary, evidence, raised_at_ms, \
    review_by_ms, status, escalation_level, escalated_to, close_reason, updated_at_ms, summaries";
const MAX_LIMIT: i64 = 500;

/// The alert as answered, its summary in `language`.
fn alert_json(r: &AnyRow, language: Language) -> Value {
    let summaries = r.get::<Option<String>, _>(14);
    json!({
        "alert_id": r.get::<String, _>(0),
        "rule": r.get::<String, _>(1),
        "owner": r.get::<String, _>(2),
        "severity": r.get::<String, _>(3),
        "subject_key": r.get::<Option<String>, _>(4),
        "summary": language.pick(r.get::<String, _>(5), summaries.as_deref()),
        "language": language.code(),
        "evidence_event_ids": serde_json::from_str::<Value>(&r.get::<String, _>(6)).unwrap_or(Value::Null),
        "raised_at_ms": r.get::<i64, _>(7),
        "review_by_ms": r.get::<Option<i64>, _>(8),
        "status": r.get::<String, _>(9),
        "escalation_level": r.get::<i32, _>(10),
        "escalated_to": r.get::<Option<String>, _>(11),
        "close_reason": r.get::<Option<String>, _>(12),
        "updated_at_ms": r.get::<i64, _>(13),
    })
}

/// `?rule=&status=&severity=&subject_key=&limit=&cursor=&lang=`, newest first, summaries in
/// Bahasa Indonesia unless `lang=en`. `next_cursor` is
/// present when more alerts follow.
async fn list(
    State(state): State<DeskState>,
    caller: Caller,
    Query(query): Query<HashMap<String, String>>,
) -> Response {
    if let Err(e) = require_agency(&caller, state.agency) {
        return e.into_response();
    }
    let mut bad = Vec::new();
    for key in query.keys() {
        if ![
            "rule",
            "status",
            "severity",
            "subject_key",
            "limit",
            "cursor",
            Language::PARAMETER,
        ]
        .contains(&key.as_str())
        {
            bad.push(("query", format!("unknown parameter `{key}`")));
        }
    }
    let limit = match query.get("limit").map(|l| l.parse::<i64>()) {
        None => 50,
        Some(Ok(n)) if (1..=MAX_LIMIT).contains(&n) => n,
        Some(_) => {
            bad.push(("limit", format!("a number from 1 to {MAX_LIMIT}")));
            0
        }
    };
    if let Some(status) = query.get("status") {
        if ![super::OPEN, ACKNOWLEDGED, super::ESCALATED, CLOSED].contains(&status.as_str()) {
            bad.push((
                "status",
                "one of open, acknowledged, escalated, closed".into(),
            ));
        }
    }
    let cursor = match query.get("cursor").map(|c| parse_cursor(c)) {
        None => None,
        Some(Some(c)) => Some(c),
        Some(None) => {
            bad.push(("cursor", "not a cursor this API returned".into()));
            None
        }
    };
    let language = match Language::from_query(&query) {
        Ok(language) => language,
        Err(_) => {
            bad.push((
                Language::PARAMETER,
                crate::views::UnknownLanguage::MESSAGE.into(),
            ));
            Language::default()
        }
    };
    if !bad.is_empty() {
        return invalid(bad);
    }
    let (before_ms, before_id) = cursor.unzip();
    let rows = sqlx::query(&format!(
        "SELECT {COLUMNS} FROM lintas_alerts WHERE ($1 IS NULL OR rule = $1) AND ($2 IS NULL OR status = $2) \
         AND ($3 IS NULL OR severity = $3) AND ($4 IS NULL OR subject_key = $4) \
         AND ($5 IS NULL OR raised_at_ms < $5 OR (raised_at_ms = $5 AND alert_id < $6)) \
         AND owner = $8 ORDER BY raised_at_ms DESC, alert_id DESC LIMIT $7"
    ))
    .bind(query.get("rule"))
    .bind(query.get("status"))
    .bind(query.get("severity"))
    .bind(query.get("subject_key"))
    .bind(before_ms)
    .bind(before_id)
    .bind(limit + 1)
    .bind(state.agency.to_string())
    .fetch_all(state.views.store.pool())
    .await;
    match rows {
        Ok(rows) => {
            let more = rows.len() as i64 > limit;
            let page = &rows[..rows.len().min(limit as usize)];
            let next = more.then(|| {
                let last = page.last().expect("a full page");
                format!("{}_{}", last.get::<i64, _>(7), last.get::<String, _>(0))
            });
            Json(json!({
                "alerts": page.iter().map(|r| alert_json(r, language)).collect::<Vec<_>>(),
                "next_cursor": next,
            }))
            .into_response()
        }
        Err(e) => database_unavailable(e),
    }
}

fn parse_cursor(cursor: &str) -> Option<(i64, String)> {
    let (ms, id) = cursor.split_once('_')?;
    Some((ms.parse().ok()?, Uuid::parse_str(id).ok()?.to_string()))
}

/// Other agencies' alerts escalated to this one (read from their alert topics under a grant,
/// `lintas_events::ALERT_GRANTS`), newest first, with their owner's current status. Only the
/// owner acts on them.
async fn incoming(
    State(state): State<DeskState>,
    caller: Caller,
    Query(query): Query<HashMap<String, String>>,
) -> Response {
    if let Err(e) = require_agency(&caller, state.agency) {
        return e.into_response();
    }
    let language = match Language::from_query(&query) {
        Ok(language) => language,
        Err(refused) => return refused.into_response(),
    };
    let rows = sqlx::query(&format!(
        "SELECT {COLUMNS} FROM lintas_alerts WHERE owner <> $1 AND escalated_to = $1 \
         ORDER BY raised_at_ms DESC, alert_id DESC LIMIT {MAX_LIMIT}"
    ))
    .bind(state.agency.to_string())
    .fetch_all(state.views.store.pool())
    .await;
    match rows {
        Ok(rows) => Json(json!({
            "alerts": rows.iter().map(|r| alert_json(r, language)).collect::<Vec<_>>()
        }))
        .into_response(),
        Err(e) => database_unavailable(e),
    }
}

/// One alert with its actions (who did what, when, why).
async fn one(
    State(state): State<DeskState>,
    caller: Caller,
    Path(alert_id): Path<String>,
    Query(query): Query<HashMap<String, String>>,
) -> Response {
    if let Err(e) = require_agency(&caller, state.agency) {
        return e.into_response();
    }
    let language = match Language::from_query(&query) {
        Ok(language) => language,
        Err(refused) => return refused.into_response(),
    };
    match read_one(&state, &alert_id, language).await {
        Ok(Some(alert)) => Json(alert).into_response(),
        Ok(None) => problem(StatusCode::NOT_FOUND, format!("no alert {alert_id}")),
        Err(e) => database_unavailable(e),
    }
}

/// This agency's alert, or another agency's alert escalated to this one.
async fn read_one(
    state: &DeskState,
    alert_id: &str,
    language: Language,
) -> Result<Option<Value>, sqlx::Error> {
    let pool = state.views.store.pool();
    let Some(row) = sqlx::query(&format!(
        "SELECT {COLUMNS} FROM lintas_alerts WHERE alert_id = $1 AND (owner = $2 OR escalated_to = $2)"
    ))
    .bind(alert_id)
    .bind(state.agency.to_string())
    .fetch_optional(pool)
    .await?
    else {
        return Ok(None);
    };
    let actions = sqlx::query(
        "SELECT event_id, action, by_agency, office, officer_id, at_ms, escalated_to, level, reason, note \
         FROM lintas_alert_actions WHERE alert_id = $1 AND by_agency = $2 ORDER BY at_ms, event_id",
    )
    .bind(alert_id)
    .bind(row.get::<String, _>(2))
    .fetch_all(pool)
    .await?;
    let mut alert = alert_json(&row, language);
    alert["actions"] = actions
        .iter()
        .map(|r| {
            json!({
                "event_id": r.get::<String, _>(0),
                "action": r.get::<String, _>(1),
                "by_agency": r.get::<String, _>(2),
                "office": r.get::<String, _>(3),
                "officer_id": r.get::<String, _>(4),
                "at_ms": r.get::<i64, _>(5),
                "escalated_to": r.get::<Option<String>, _>(6),
                "level": r.get::<Option<i32>, _>(7),
                "reason": r.get::<Option<String>, _>(8),
                "note": r.get::<Option<String>, _>(9),
            })
        })
        .collect();
    Ok(Some(alert))
}

/// Fields every action takes: who acts (the office comes from the token) and a note.
struct Common {
    officer_id: String,
    note: Option<String>,
}

/// Who acts: a credential that names its officer (an OIDC sign-in, a static token with
/// `officer=`) acts as that officer, and may leave `officer_id` out; another id is refused
/// in `act`. Without one, the body names the officer.
fn common(body: &Value, caller: &Caller, bad: &mut Vec<(&'static str, String)>) -> Common {
    let officer_id = match (
        body.get("officer_id").and_then(Value::as_str),
        &caller.officer,
    ) {
        (None, Some(signed_in)) => signed_in.clone(),
        (Some(id), _) if !id.trim().is_empty() && id.len() <= 64 => id.to_string(),
        _ => {
            bad.push((
                "officer_id",
                "required: the acting officer's id, 1 to 64 characters".into(),
            ));
            String::new()
        }
    };
    let note = match body.get("note") {
        None | Some(Value::Null) => None,
        Some(Value::String(s)) if crate::personal::holds_identifying_number(s) => {
            bad.push((
                "note",
                "must not hold an identity, passport or phone number: alert events are shared"
                    .into(),
            ));
            None
        }
        Some(Value::String(s)) if s.len() <= 1000 => Some(s.clone()),
        Some(_) => {
            bad.push((
                "note",
                "a text of at most 1000 characters, without personal data".into(),
            ));
            None
        }
    };
    Common { officer_id, note }
}

fn symbol<T: std::str::FromStr<Err = String>>(
    body: &Value,
    field: &'static str,
    bad: &mut Vec<(&'static str, String)>,
) -> Option<T> {
    match body.get(field).and_then(Value::as_str).map(str::parse::<T>) {
        Some(Ok(v)) => Some(v),
        Some(Err(e)) => {
            bad.push((field, e));
            None
        }
        None => {
            bad.push((field, "required".into()));
            None
        }
    }
}

fn unknown_fields(body: &Value, known: &[&str], bad: &mut Vec<(&'static str, String)>) {
    match body.as_object() {
        Some(fields) => {
            for key in fields.keys() {
                if !known.contains(&key.as_str()) {
                    bad.push(("body", format!("unknown field `{key}`")));
                }
            }
        }
        None => bad.push(("body", "a JSON object".into())),
    }
}

async fn acknowledge(
    State(state): State<DeskState>,
    caller: Caller,
    Path(alert_id): Path<String>,
    StrictJson(body): StrictJson<Value>,
) -> Response {
    let mut bad = Vec::new();
    unknown_fields(&body, &["officer_id", "note"], &mut bad);
    let common = common(&body, &caller, &mut bad);
    act(
        state,
        caller,
        alert_id,
        bad,
        common.officer_id,
        move |id, envelope, by, _level| {
            AnyEvent::AlertAcknowledged(AlertAcknowledged {
                envelope,
                alert_id: id,
                by_agency: by,
                note: common.note,
            })
        },
    )
    .await
}

async fn escalate(
    State(state): State<DeskState>,
    caller: Caller,
    Path(alert_id): Path<String>,
    StrictJson(body): StrictJson<Value>,
) -> Response {
    let mut bad = Vec::new();
    unknown_fields(
        &body,
        &["officer_id", "note", "escalated_to", "reason"],
        &mut bad,
    );
    let common = common(&body, &caller, &mut bad);
    let to: Option<Agency> = symbol(&body, "escalated_to", &mut bad);
    if let Some(to) = to {
        if to == state.agency || !lintas_events::may_read_alerts(to, state.agency) {
            let granted: Vec<String> = lintas_events::ALERT_GRANTS
                .iter()
                .filter(|(_, owner)| *owner == state.agency)
                .map(|(reader, _)| reader.to_string())
                .collect();
            bad.push((
                "escalated_to",
                format!(
                    "{to} does not read {}'s alerts; escalate to one of: {}",
                    state.agency,
                    granted.join(", ")
                ),
            ));
        }
    }
    let reason: Option<EscalationReason> = symbol(&body, "reason", &mut bad);
    act(
        state,
        caller,
        alert_id,
        bad,
        common.officer_id,
        move |id, envelope, by, level| {
            AnyEvent::AlertEscalated(AlertEscalated {
                envelope,
                alert_id: id,
                by_agency: by,
                escalated_to: to.expect("validated"),
                level: level + 1,
                reason: reason.expect("validated"),
                note: common.note,
            })
        },
    )
    .await
}

async fn close(
    State(state): State<DeskState>,
    caller: Caller,
    Path(alert_id): Path<String>,
    StrictJson(body): StrictJson<Value>,
) -> Response {
    let mut bad = Vec::new();
    unknown_fields(&body, &["officer_id", "note", "reason"], &mut bad);
    let common = common(&body, &caller, &mut bad);
    let reason: Option<AlertCloseReason> = symbol(&body, "reason", &mut bad);
    act(
        state,
        caller,
        alert_id,
        bad,
        common.officer_id,
        move |id, envelope, by, _level| {
            AnyEvent::AlertClosed(AlertClosed {
                envelope,
                alert_id: id,
                by_agency: by,
                reason: reason.expect("validated"),
                note: common.note,
            })
        },
    )
    .await
}

/// The shared path of every action: agency, validation, current status, then one
/// transaction for the action, the status and the outbox row.
async fn act(
    state: DeskState,
    caller: Caller,
    alert_id: String,
    bad: Vec<(&'static str, String)>,
    officer_id: String,
    build: impl FnOnce(Uuid, Envelope, Agency, i32) -> AnyEvent,
) -> Response {
    if let Err(e) = require_agency(&caller, state.agency) {
        return e.into_response();
    }
    let Ok(id) = Uuid::parse_str(&alert_id) else {
        return problem(StatusCode::NOT_FOUND, format!("no alert {alert_id}"));
    };
    if !bad.is_empty() {
        return invalid(bad);
    }
    if let Some(refusal) = caller.other_officer(&officer_id) {
        return refusal;
    }
    match act_in_tx(&state, &caller, id, &officer_id, build).await {
        Ok(Ok(())) => match read_one(&state, &id.to_string(), Language::default()).await {
            Ok(Some(alert)) => Json(alert).into_response(),
            Ok(None) => problem(StatusCode::NOT_FOUND, format!("no alert {id}")),
            Err(e) => database_unavailable(e),
        },
        Ok(Err(refusal)) => refusal,
        Err(e) => match e.downcast::<sqlx::Error>() {
            Ok(e) => database_unavailable(e),
            Err(e) => {
                tracing::error!(error = %e, "alert action failed");
                problem(
                    StatusCode::SERVICE_UNAVAILABLE,
                    "could not record the action; retry",
                )
            }
        },
    }
}

async fn act_in_tx(
    state: &DeskState,
    caller: &Caller,
    id: Uuid,
    officer_id: &str,
    build: impl FnOnce(Uuid, Envelope, Agency, i32) -> AnyEvent,
) -> anyhow::Result<Result<(), Response>> {
    let store = &state.views.store;
    let mut tx = store.pool().begin().await?;
    // Serialises concurrent actions on one alert (SQLite serialises all writers anyway).
    let lock = if store.dialect() == Dialect::Postgres {
        " FOR UPDATE"
    } else {
        ""
    };
    let current = sqlx::query(&format!(
        "SELECT status, escalation_level FROM lintas_alerts WHERE alert_id = $1 AND owner = $2{lock}"
    ))
    .bind(id.to_string())
    .bind(state.agency.to_string())
    .fetch_optional(&mut *tx)
    .await?;
    let Some(current) = current else {
        return Ok(Err(problem(
            StatusCode::NOT_FOUND,
            format!("no alert {id}"),
        )));
    };
    let (status, level): (String, i32) = (current.get(0), current.get(1));
    let envelope = Envelope::new(
        caller.agency,
        caller.office.clone(),
        officer_id,
        time::OffsetDateTime::now_utc(),
    );
    let event = build(id, envelope, caller.agency, level);
    let action = Action::from_event(&event).expect("a lifecycle event");
    if status == CLOSED {
        return Ok(Err(problem(StatusCode::CONFLICT, "the alert is closed")));
    }
    if action.action == ACKNOWLEDGED && status == ACKNOWLEDGED {
        return Ok(Err(problem(
            StatusCode::CONFLICT,
            "the alert is already acknowledged",
        )));
    }
    record_action(&mut tx, &action).await?;
    refresh(&mut tx, id).await?;
    let codec = &state.views.codec;
    match &event {
        AnyEvent::AlertAcknowledged(e) => enqueue(&mut tx, codec, e).await?,
        AnyEvent::AlertEscalated(e) => enqueue(&mut tx, codec, e).await?,
        AnyEvent::AlertClosed(e) => enqueue(&mut tx, codec, e).await?,
        _ => unreachable!("a lifecycle event"),
    }
    tx.commit().await?;
    tracing::info!(alert_id = %id, action = action.action, office = %caller.office, "alert action recorded");
    Ok(Ok(()))
}

async fn enqueue<E: Event>(
    conn: &mut sqlx::AnyConnection,
    codec: &crate::codec::Codec,
    event: &E,
) -> anyhow::Result<()> {
    crate::outbox::enqueue(conn, codec, event).await
}
