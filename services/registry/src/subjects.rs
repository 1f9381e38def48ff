//! Subject, version and compatibility-check endpoints.

use apache_avro::Schema;
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::{json, Value};

use crate::api::{effective_level, flag, parse_version, ApiResult, Params, VersionRef};
use crate::error::RegistryError;
use crate::schema::{read_request, ParsedSchema};
use crate::store::{self, VersionRow};
use crate::Registry;
use crate::{compat, contract, references};

/// Losing a version-number race is retried; this bounds pathological contention.
const REGISTER_ATTEMPTS: usize = 8;

/// `?subjectPrefix=` keeps the subjects starting with it, as Confluent's UI tools ask.
pub(crate) async fn list(State(reg): State<Registry>, Query(params): Query<Params>) -> ApiResult {
    let mut subjects = store::subjects(&reg.pool, flag(&params, "deleted")).await?;
    if let Some(prefix) = params.get("subjectPrefix") {
        subjects.retain(|s| s.starts_with(prefix.as_str()));
    }
    Ok(Json(json!(subjects)))
}

/// The body of a register, lookup or compatibility request, parsed with its references
/// resolved in the store.
async fn parse_body(reg: &Registry, body: &[u8]) -> ApiResult<ParsedSchema> {
    let request = read_request(body)?;
    let definitions =
        references::definitions(&mut *reg.pool.acquire().await?, &request.references).await?;
    request.parse(&definitions)
}

pub(crate) async fn register(
    State(reg): State<Registry>,
    Path(subject): Path<String>,
    body: Bytes,
) -> ApiResult {
    let schema = parse_body(&reg, &body).await?;
    let mut attempt = 1;
    loop {
        match try_register(&reg, &subject, &schema).await {
            Err(e) if attempt < REGISTER_ATTEMPTS && store::is_write_conflict(&e) => attempt += 1,
            result => return result.map(|id| Json(json!({ "id": id }))),
        }
    }
}

/// One optimistic attempt: read, check, insert `max(version) + 1`. A concurrent
/// registration of the same subject makes the insert hit the primary key and
/// the caller retries with fresh state, so checks always see the true latest.
async fn try_register(reg: &Registry, subject: &str, schema: &ParsedSchema) -> ApiResult<i64> {
    let mut tx = reg.pool.begin().await?;
    let versions = store::subject_versions(&mut tx, subject).await?;
    let live: Vec<&VersionRow> = versions.iter().filter(|v| !v.deleted).collect();
    if let Some(existing) = live.iter().find(|v| v.fingerprint == schema.fingerprint) {
        return Ok(existing.schema_id);
    }
    // As in Confluent: the exact request first, then with the contract inherited.
    let inherited = live
        .last()
        .and_then(|latest| schema.inherit(contract_of(latest)));
    let schema = inherited.as_ref().unwrap_or(schema);
    if let Some(existing) = live.iter().find(|v| v.fingerprint == schema.fingerprint) {
        return Ok(existing.schema_id);
    }
    if let Some(latest) = live.last() {
        let level = effective_level(&mut tx, subject).await?;
        let against = if level.is_transitive() {
            &live[..]
        } else {
            std::slice::from_ref(latest)
        };
        let details = compat::check(level, &schema.avro, &parse_stored(&mut tx, against).await?);
        if !details.is_empty() {
            return Err(RegistryError::Incompatible {
                subject: subject.to_owned(),
                details,
            });
        }
    }
    let id = store::ensure_schema(&mut tx, schema).await?;
    // Numbering continues past soft-deleted versions, as in Confluent.
    let next = versions.last().map_or(1, |v| v.version + 1);
    store::insert_version(&mut tx, subject, next, id).await?;
    tx.commit().await?;
    Ok(id)
}

fn contract_of(row: &VersionRow) -> (Option<&str>, Option<&str>) {
    (row.metadata.as_deref(), row.rule_set.as_deref())
}

/// Stored versions parsed self-contained (their references inlined), for compatibility checks.
async fn parse_stored(
    conn: &mut sqlx::AnyConnection,
    rows: &[&VersionRow],
) -> ApiResult<Vec<(i64, Schema)>> {
    let mut parsed = Vec::with_capacity(rows.len());
    for row in rows {
        let corrupt =
            |e: String| RegistryError::Corrupt(format!("stored schema {}: {e}", row.schema_id));
        let definitions = references::definitions(&mut *conn, &row.references)
            .await
            .map_err(|e| corrupt(e.to_string()))?;
        let json: Value = serde_json::from_str(&row.text).map_err(|e| corrupt(e.to_string()))?;
        let inlined = references::inline(&json, &definitions)?;
        let schema = Schema::parse(&inlined).map_err(|e| corrupt(e.to_string()))?;
        parsed.push((row.version, schema));
    }
    Ok(parsed)
}

/// Versions visible to a request: live ones, plus soft-deleted with `?deleted=true`.
async fn visible_versions(
    reg: &Registry,
    subject: &str,
    include_deleted: bool,
) -> ApiResult<Vec<VersionRow>> {
    let mut conn = reg.pool.acquire().await?;
    let mut versions = store::subject_versions(&mut conn, subject).await?;
    versions.retain(|v| include_deleted || !v.deleted);
    if versions.is_empty() {
        return Err(RegistryError::SubjectNotFound(subject.to_owned()));
    }
    Ok(versions)
}

fn resolve(versions: &[VersionRow], wanted: VersionRef) -> ApiResult<&VersionRow> {
    let found = match wanted {
        VersionRef::Latest => versions.last(),
        VersionRef::Number(n) => versions.iter().find(|v| v.version == n),
    };
    found.ok_or_else(|| {
        RegistryError::VersionNotFound(match wanted {
            VersionRef::Latest => "latest".to_owned(),
            VersionRef::Number(n) => n.to_string(),
        })
    })
}

fn version_body(subject: &str, row: &VersionRow) -> ApiResult {
    let mut body = json!({
        "subject": subject,
        "version": row.version,
        "id": row.schema_id,
        "schema": row.text,
    });
    add_references(&mut body, &row.references);
    add_contract(&mut body, row.metadata.as_deref(), row.rule_set.as_deref())?;
    Ok(Json(body))
}

/// `references` beside `schema` when it has any, as Confluent answers.
pub(crate) fn add_references(body: &mut Value, references: &[references::Reference]) {
    if !references.is_empty() {
        body["references"] = json!(references);
    }
}

/// `metadata` and `ruleSet` beside `schema`, each only when the schema has one.
pub(crate) fn add_contract(
    body: &mut Value,
    metadata: Option<&str>,
    rule_set: Option<&str>,
) -> ApiResult<()> {
    if let Some(m) = metadata {
        body["metadata"] = contract::to_value(m)?;
    }
    if let Some(r) = rule_set {
        body["ruleSet"] = contract::to_value(r)?;
    }
    Ok(())
}

pub(crate) async fn lookup(
    State(reg): State<Registry>,
    Path(subject): Path<String>,
    Query(params): Query<Params>,
    body: Bytes,
) -> ApiResult {
    let schema = parse_body(&reg, &body).await?;
    let versions = visible_versions(&reg, &subject, flag(&params, "deleted")).await?;
    let find = |fingerprint: &str| versions.iter().rev().find(|v| v.fingerprint == fingerprint);
    let mut row = find(&schema.fingerprint);
    if row.is_none() {
        // Mirrors registration: retry with the contract of the latest live version.
        let latest = versions.iter().rev().find(|v| !v.deleted);
        if let Some(inherited) = latest.and_then(|l| schema.inherit(contract_of(l))) {
            row = find(&inherited.fingerprint);
        }
    }
    version_body(&subject, row.ok_or(RegistryError::SchemaNotFound)?)
}

pub(crate) async fn list_versions(
    State(reg): State<Registry>,
    Path(subject): Path<String>,
    Query(params): Query<Params>,
) -> ApiResult {
    let versions = visible_versions(&reg, &subject, flag(&params, "deleted")).await?;
    Ok(Json(json!(versions
        .iter()
        .map(|v| v.version)
        .collect::<Vec<_>>())))
}

pub(crate) async fn get_version(
    State(reg): State<Registry>,
    Path((subject, version)): Path<(String, String)>,
    Query(params): Query<Params>,
) -> ApiResult {
    let wanted = parse_version(&version)?;
    let versions = visible_versions(&reg, &subject, flag(&params, "deleted")).await?;
    version_body(&subject, resolve(&versions, wanted)?)
}

/// The bare schema, for tools that pipe it straight into an Avro library.
pub(crate) async fn get_version_schema(
    State(reg): State<Registry>,
    Path((subject, version)): Path<(String, String)>,
    Query(params): Query<Params>,
) -> ApiResult<Response> {
    let wanted = parse_version(&version)?;
    let versions = visible_versions(&reg, &subject, flag(&params, "deleted")).await?;
    Ok(resolve(&versions, wanted)?.text.clone().into_response())
}

pub(crate) async fn check_compatibility(
    State(reg): State<Registry>,
    Path((subject, version)): Path<(String, String)>,
    Query(params): Query<Params>,
    body: Bytes,
) -> ApiResult {
    let wanted = parse_version(&version)?;
    let schema = parse_body(&reg, &body).await?;
    let versions = visible_versions(&reg, &subject, false).await?;
    let target = resolve(&versions, wanted)?;
    let mut conn = reg.pool.acquire().await?;
    let level = effective_level(&mut conn, &subject).await?;
    let against: Vec<&VersionRow> = if level.is_transitive() {
        versions.iter().collect()
    } else {
        vec![target]
    };
    let messages = compat::check(
        level,
        &schema.avro,
        &parse_stored(&mut conn, &against).await?,
    );
    let mut body = json!({ "is_compatible": messages.is_empty() });
    if flag(&params, "verbose") {
        body["messages"] = json!(messages);
    }
    Ok(Json(body))
}

pub(crate) async fn delete_subject(
    State(reg): State<Registry>,
    Path(subject): Path<String>,
    Query(params): Query<Params>,
) -> ApiResult {
    let all = visible_versions(&reg, &subject, true).await?;
    let live: Vec<i64> = all
        .iter()
        .filter(|v| !v.deleted)
        .map(|v| v.version)
        .collect();
    let permanent = flag(&params, "permanent");
    refuse_if_referenced(&reg, &subject, None, permanent).await?;
    if permanent {
        if !live.is_empty() {
            return Err(RegistryError::SubjectNotSoftDeleted(subject));
        }
        store::hard_delete(&reg.pool, &subject, None).await?;
        // A recreated subject should start from the global level, not a stale one.
        store::delete_subject_level(&reg.pool, &subject).await?;
        return Ok(Json(json!(all
            .iter()
            .map(|v| v.version)
            .collect::<Vec<_>>())));
    }
    if live.is_empty() {
        return Err(RegistryError::SubjectSoftDeleted(subject));
    }
    store::soft_delete(&reg.pool, &subject, None).await?;
    Ok(Json(json!(live)))
}

pub(crate) async fn delete_version(
    State(reg): State<Registry>,
    Path((subject, version)): Path<(String, String)>,
    Query(params): Query<Params>,
) -> ApiResult {
    let wanted = parse_version(&version)?;
    let permanent = flag(&params, "permanent");
    // Soft-deleted rows are loaded too, to tell "already deleted" (40406) from "never existed" (40402).
    let all = visible_versions(&reg, &subject, true).await?;
    let row = if permanent {
        resolve(&all, wanted)?.clone()
    } else {
        let live: Vec<VersionRow> = all.iter().filter(|v| !v.deleted).cloned().collect();
        if live.is_empty() {
            return Err(RegistryError::SubjectNotFound(subject));
        }
        match wanted {
            VersionRef::Latest => resolve(&live, wanted)?.clone(),
            VersionRef::Number(_) => resolve(&all, wanted)?.clone(),
        }
    };
    refuse_if_referenced(&reg, &subject, Some(row.version), permanent).await?;
    if permanent {
        if !row.deleted {
            return Err(RegistryError::VersionNotSoftDeleted(subject, row.version));
        }
        store::hard_delete(&reg.pool, &subject, Some(row.version)).await?;
    } else if row.deleted || store::soft_delete(&reg.pool, &subject, Some(row.version)).await? == 0
    {
        return Err(RegistryError::VersionSoftDeleted(subject, row.version));
    }
    Ok(Json(json!(row.version)))
}

/// A version other schemas use cannot be deleted, or they could no longer be read (42206,
/// as in Confluent). A soft delete is refused while a live version refers to it, a
/// permanent one while any version does.
async fn refuse_if_referenced(
    reg: &Registry,
    subject: &str,
    version: Option<i64>,
    permanent: bool,
) -> ApiResult<()> {
    let users = store::referenced_by(&reg.pool, subject, version, permanent).await?;
    if users.is_empty() {
        return Ok(());
    }
    let what = match version {
        Some(v) => format!("subject '{subject}' version {v}"),
        None => format!("subject '{subject}'"),
    };
    Err(RegistryError::ReferenceExists(format!(
        "{what} (used by schema ids {users:?})"
    )))
}

/// `GET /subjects/{subject}/versions/{version}/referencedby`: ids of the schemas that use
/// this version, for tools that show dependencies before a delete.
pub(crate) async fn referenced_by(
    State(reg): State<Registry>,
    Path((subject, version)): Path<(String, String)>,
) -> ApiResult {
    let wanted = parse_version(&version)?;
    let versions = visible_versions(&reg, &subject, false).await?;
    let row = resolve(&versions, wanted)?;
    let ids = store::referenced_by(&reg.pool, &subject, Some(row.version), false).await?;
    Ok(Json(json!(ids)))
}
