//! The read-only endpoints UI tools (kafbat UI, AKHQ, Redpanda Console) and Confluent's
//! clients call besides subjects and versions: the root, schema types, mode, contexts and the
//! list of all schemas.

use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::Json;
use serde_json::{json, Value};

use crate::api::{flag, ApiResult, Params};
use crate::error::RegistryError;
use crate::store;
use crate::subjects::{add_contract, add_references};
use crate::Registry;

/// The only mode this registry runs in: it has no read-only or import mode.
const MODE: &str = "READWRITE";

/// `GET /`: an empty object, as Confluent's server answers; tools use it as a ping.
pub(crate) async fn root() -> Json<Value> {
    Json(json!({}))
}

/// `GET /schemas/types`: only Avro is stored.
pub(crate) async fn types() -> Json<Value> {
    Json(json!(["AVRO"]))
}

/// `GET /contexts`: the default context only (no multi-tenant contexts).
pub(crate) async fn contexts() -> Json<Value> {
    Json(json!(["."]))
}

/// `GET /mode`.
pub(crate) async fn global_mode() -> Json<Value> {
    Json(json!({ "mode": MODE }))
}

/// `GET /mode/{subject}`: no subject has a mode of its own, so 40409 unless
/// `?defaultToGlobal=true`, as in Confluent.
pub(crate) async fn subject_mode(
    Path(subject): Path<String>,
    Query(params): Query<Params>,
) -> ApiResult {
    if flag(&params, "defaultToGlobal") {
        return Ok(global_mode().await);
    }
    Err(RegistryError::SubjectModeNotConfigured(subject))
}

/// `PUT /mode` and `PUT /mode/{subject}`: setting READWRITE (what it already is) succeeds,
/// any other mode is refused rather than silently ignored.
pub(crate) async fn put_mode(body: Bytes) -> ApiResult {
    let wanted = serde_json::from_slice::<Value>(&body)
        .ok()
        .and_then(|v| v.get("mode").and_then(Value::as_str).map(str::to_owned))
        .ok_or_else(|| RegistryError::InvalidMode("(the body must be {\"mode\": …})".into()))?;
    if wanted.eq_ignore_ascii_case(MODE) {
        return Ok(global_mode().await);
    }
    Err(RegistryError::InvalidMode(wanted))
}

/// `PUT /mode/{subject}`.
pub(crate) async fn put_subject_mode(Path(_subject): Path<String>, body: Bytes) -> ApiResult {
    put_mode(body).await
}

/// `GET /schemas`: every version of every subject with its schema, filtered by
/// `subjectPrefix`, `deleted`, `latestOnly`, and paged by `offset` and `limit` (-1: all).
pub(crate) async fn list(State(reg): State<Registry>, Query(params): Query<Params>) -> ApiResult {
    let prefix = params.get("subjectPrefix").map_or("", String::as_str);
    let offset = number(&params, "offset", 0)?;
    let limit = number(&params, "limit", -1)?;
    let mut rows = store::all_versions(&reg.pool, prefix, flag(&params, "deleted")).await?;
    if flag(&params, "latestOnly") {
        // Rows come by subject then version: keep each subject's last.
        rows.dedup_by(|later, earlier| {
            let same = later.0 == earlier.0;
            if same {
                *earlier = later.clone();
            }
            same
        });
    }
    let page = rows
        .into_iter()
        .skip(usize::try_from(offset).unwrap_or(0))
        .take(usize::try_from(limit).unwrap_or(usize::MAX));
    let mut out = Vec::new();
    for (subject, version, id, _deleted) in page {
        let schema = store::schema_by_id(&reg.pool, id)
            .await?
            .ok_or_else(|| RegistryError::Corrupt(format!("version without schema {id}")))?;
        let mut body =
            json!({ "subject": subject, "version": version, "id": id, "schema": schema.text });
        add_references(&mut body, &schema.references);
        add_contract(
            &mut body,
            schema.metadata.as_deref(),
            schema.rule_set.as_deref(),
        )?;
        out.push(body);
    }
    Ok(Json(Value::Array(out)))
}

fn number(params: &Params, name: &str, default: i64) -> ApiResult<i64> {
    match params.get(name) {
        None => Ok(default),
        Some(raw) => raw.parse::<i64>().ok().filter(|n| *n >= -1).ok_or_else(|| {
            RegistryError::BadRequest(format!("{name} must be a whole number, not {raw}"))
        }),
    }
}
