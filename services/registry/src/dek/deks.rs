//! DEK endpoints: `/dek-registry/v1/keks/{name}/deks[/{subject}[/versions[/{version}]]]`
//! and their `undelete`s. A DEK is identified by (KEK, subject, algorithm, version);
//! the `algorithm` query parameter defaults to AES256_GCM.

use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::Deserialize;
use serde_json::json;

use super::store::{self, DekRow};
use super::{
    algorithm, algorithm_param, check_name, check_subject, dek_body, find_kek, invalid, now_ms,
    page, parse_body,
};
use crate::api::{flag, parse_version, ApiResult, Params, VersionRef};
use crate::error::RegistryError;
use crate::Registry;

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct CreateDek {
    subject: Option<String>,
    version: Option<i64>,
    algorithm: Option<String>,
    encrypted_key_material: Option<String>,
}

/// The versions of one DEK visible to a request, oldest first.
async fn visible(
    conn: &mut sqlx::AnyConnection,
    kek: &str,
    subject: &str,
    algorithm: &str,
    include_deleted: bool,
) -> ApiResult<Vec<DekRow>> {
    let mut rows = store::dek_versions(conn, kek, subject, algorithm).await?;
    rows.retain(|d| include_deleted || !d.deleted);
    Ok(rows)
}

fn pick(rows: Vec<DekRow>, wanted: VersionRef, subject: &str) -> ApiResult<DekRow> {
    let found = match wanted {
        VersionRef::Latest => rows.into_iter().last(),
        VersionRef::Number(n) => rows.into_iter().find(|d| d.version == n),
    };
    found.ok_or_else(|| RegistryError::KeyNotFound(subject.to_owned()))
}

/// GET one version (`latest`/`-1` = the highest visible): 40470 when the KEK or the
/// version is missing, or soft-deleted without `deleted=true`.
async fn read(
    reg: &Registry,
    (name, subject): (&str, &str),
    wanted: VersionRef,
    params: &Params,
) -> ApiResult {
    check_name(name)?;
    check_subject(subject)?;
    let algorithm = algorithm_param(params)?;
    let deleted = flag(params, "deleted");
    let mut conn = reg.pool.acquire().await?;
    find_kek(&mut conn, name, deleted).await?;
    let rows = visible(&mut conn, name, subject, algorithm, deleted).await?;
    Ok(Json(dek_body(&pick(rows, wanted, subject)?)))
}

pub(super) async fn subjects(
    State(reg): State<Registry>,
    Path(name): Path<String>,
    Query(params): Query<Params>,
) -> ApiResult {
    check_name(&name)?;
    let deleted = flag(&params, "deleted");
    let mut conn = reg.pool.acquire().await?;
    find_kek(&mut conn, &name, deleted).await?;
    let subjects = store::dek_subjects(&mut conn, &name, deleted).await?;
    Ok(Json(json!(page(subjects, &params))))
}

pub(super) async fn latest(
    State(reg): State<Registry>,
    Path((name, subject)): Path<(String, String)>,
    Query(params): Query<Params>,
) -> ApiResult {
    read(&reg, (&name, &subject), VersionRef::Latest, &params).await
}

pub(super) async fn version(
    State(reg): State<Registry>,
    Path((name, subject, version)): Path<(String, String, String)>,
    Query(params): Query<Params>,
) -> ApiResult {
    let wanted = parse_version(&version)?;
    read(&reg, (&name, &subject), wanted, &params).await
}

pub(super) async fn versions(
    State(reg): State<Registry>,
    Path((name, subject)): Path<(String, String)>,
    Query(params): Query<Params>,
) -> ApiResult {
    check_name(&name)?;
    check_subject(&subject)?;
    let algorithm = algorithm_param(&params)?;
    let deleted = flag(&params, "deleted");
    let mut conn = reg.pool.acquire().await?;
    find_kek(&mut conn, &name, deleted).await?;
    let rows = visible(&mut conn, &name, &subject, algorithm, deleted).await?;
    let numbers: Vec<i64> = rows.iter().map(|d| d.version).collect();
    Ok(Json(json!(page(numbers, &params))))
}

pub(super) async fn create(
    State(reg): State<Registry>,
    Path((name, subject)): Path<(String, String)>,
    body: Bytes,
) -> ApiResult {
    let req: CreateDek = parse_body(&body)?;
    // The path names the subject, whatever the body says (as in Confluent).
    store_dek(&reg, &name, &subject, req).await
}

/// The deprecated form with the subject in the body only.
pub(super) async fn create_legacy(
    State(reg): State<Registry>,
    Path(name): Path<String>,
    body: Bytes,
) -> ApiResult {
    let req: CreateDek = parse_body(&body)?;
    let subject = req.subject.clone().unwrap_or_default();
    store_dek(&reg, &name, &subject, req).await
}

/// Registers a client-wrapped DEK version. The same version with the same wrapped
/// material is idempotent (and brings back a soft-deleted one); other material is
/// 40971, on which clients fetch the version that won.
async fn store_dek(reg: &Registry, name: &str, subject: &str, req: CreateDek) -> ApiResult {
    check_name(name)?;
    check_subject(subject)?;
    let version = req.version.unwrap_or(1);
    if !(1..=i64::from(i32::MAX)).contains(&version) {
        return Err(invalid("version", &format!(": {version}")));
    }
    let algorithm = algorithm(req.algorithm.as_deref())?;
    let Some(material) = req.encrypted_key_material.filter(|m| !m.trim().is_empty()) else {
        return Err(invalid(
            "encryptedKeyMaterial",
            ": this registry never generates or unwraps DEKs; wrap the DEK under the KEK \
             client-side and send it as encryptedKeyMaterial",
        ));
    };
    let wanted = DekRow {
        kek_name: name.to_owned(),
        subject: subject.to_owned(),
        algorithm: algorithm.to_owned(),
        version,
        encrypted_key_material: material,
        ts: now_ms(),
        deleted: false,
    };
    let mut tx = reg.pool.begin().await?;
    find_kek(&mut tx, name, false).await?;
    if store::insert_dek(&mut tx, &wanted).await? {
        tx.commit().await?;
        return Ok(Json(dek_body(&wanted)));
    }
    let rows = store::dek_versions(&mut tx, name, subject, algorithm).await?;
    let mut existing = pick(rows, VersionRef::Number(version), subject)?;
    if existing.encrypted_key_material != wanted.encrypted_key_material {
        return Err(RegistryError::KeyAlreadyExists(subject.to_owned()));
    }
    if existing.deleted {
        let key = (name, subject, algorithm);
        store::set_deks_deleted(&mut tx, key, Some(version), false).await?;
        existing.deleted = false;
    }
    tx.commit().await?;
    Ok(Json(dek_body(&existing)))
}

/// What a delete or undelete acts on: one version, or all of the subject's.
enum Target {
    All,
    One(VersionRef),
}

/// Soft delete, or with `permanent=true` hard delete of soft-deleted versions (40471
/// if any targeted version is still live). Hard-deleted versions leave the database.
async fn remove(
    reg: &Registry,
    (name, subject): (&str, &str),
    target: Target,
    params: &Params,
) -> ApiResult<Response> {
    check_name(name)?;
    check_subject(subject)?;
    let algorithm = algorithm_param(params)?;
    let mut tx = reg.pool.begin().await?;
    find_kek(&mut tx, name, true).await?;
    let rows = store::dek_versions(&mut tx, name, subject, algorithm).await?;
    let (version, live) = match target {
        Target::All if rows.is_empty() => return Err(RegistryError::KeyNotFound(subject.into())),
        Target::All => (None, rows.iter().any(|d| !d.deleted)),
        Target::One(wanted) => {
            let row = pick(rows, wanted, subject)?;
            (Some(row.version), !row.deleted)
        }
    };
    let key = (name, subject, algorithm);
    let permanent = flag(params, "permanent");
    if permanent {
        if live {
            return Err(RegistryError::KeyNotSoftDeleted(subject.to_owned()));
        }
        store::delete_deks(&mut tx, key, version).await?;
    } else {
        store::set_deks_deleted(&mut tx, key, version, true).await?;
    }
    tx.commit().await?;
    if permanent {
        store::flush_deleted(&reg.pool).await;
    }
    Ok(StatusCode::NO_CONTENT.into_response())
}

/// Undelete needs a live KEK (40472 while it is soft-deleted).
async fn restore(
    reg: &Registry,
    (name, subject): (&str, &str),
    target: Target,
    params: &Params,
) -> ApiResult<Response> {
    check_name(name)?;
    check_subject(subject)?;
    let algorithm = algorithm_param(params)?;
    let mut tx = reg.pool.begin().await?;
    if find_kek(&mut tx, name, true).await?.deleted {
        return Err(RegistryError::KeySoftDeleted(name.to_owned()));
    }
    let rows = store::dek_versions(&mut tx, name, subject, algorithm).await?;
    let version = match target {
        Target::All if rows.is_empty() => return Err(RegistryError::KeyNotFound(subject.into())),
        Target::All => None,
        Target::One(wanted) => Some(pick(rows, wanted, subject)?.version),
    };
    store::set_deks_deleted(&mut tx, (name, subject, algorithm), version, false).await?;
    tx.commit().await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

pub(super) async fn delete_all(
    State(reg): State<Registry>,
    Path((name, subject)): Path<(String, String)>,
    Query(params): Query<Params>,
) -> ApiResult<Response> {
    remove(&reg, (&name, &subject), Target::All, &params).await
}

pub(super) async fn delete_version(
    State(reg): State<Registry>,
    Path((name, subject, version)): Path<(String, String, String)>,
    Query(params): Query<Params>,
) -> ApiResult<Response> {
    let wanted = parse_version(&version)?;
    remove(&reg, (&name, &subject), Target::One(wanted), &params).await
}

pub(super) async fn undelete_all(
    State(reg): State<Registry>,
    Path((name, subject)): Path<(String, String)>,
    Query(params): Query<Params>,
) -> ApiResult<Response> {
    restore(&reg, (&name, &subject), Target::All, &params).await
}

pub(super) async fn undelete_version(
    State(reg): State<Registry>,
    Path((name, subject, version)): Path<(String, String, String)>,
    Query(params): Query<Params>,
) -> ApiResult<Response> {
    let wanted = parse_version(&version)?;
    restore(&reg, (&name, &subject), Target::One(wanted), &params).await
}
