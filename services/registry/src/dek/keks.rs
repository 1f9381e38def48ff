//! KEK endpoints: `/dek-registry/v1/keks[/{name}[/undelete]]`.

use std::collections::BTreeMap;

use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::{Deserialize, Deserializer};
use serde_json::json;

use super::store::{self, KekRow};
use super::{check_name, find_kek, invalid, kek_body, now_ms, page, parse_body};
use crate::api::{flag, ApiResult, Params};
use crate::contract::null_default;
use crate::error::RegistryError;
use crate::Registry;

/// The local-kms driver reads its key-encryption secret from `kmsProps.secret`; stored
/// here it would make the registry a KEK holder.
const LOCAL_KMS_SECRET: &str = "secret";

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct CreateKek {
    name: Option<String>,
    kms_type: Option<String>,
    kms_key_id: Option<String>,
    #[serde(default, deserialize_with = "null_default")]
    kms_props: BTreeMap<String, String>,
    doc: Option<String>,
    #[serde(default, deserialize_with = "null_default")]
    shared: bool,
}

/// Absent: keep the stored value; `null`: clear it; a value: set it.
fn patch<'de, D, T>(d: D) -> Result<Option<Option<T>>, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de>,
{
    Option::<T>::deserialize(d).map(Some)
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct UpdateKek {
    #[serde(default, deserialize_with = "patch")]
    kms_props: Option<Option<BTreeMap<String, String>>>,
    #[serde(default, deserialize_with = "patch")]
    doc: Option<Option<String>>,
    #[serde(default, deserialize_with = "patch")]
    shared: Option<Option<bool>>,
}

fn props_json(name: &str, props: &BTreeMap<String, String>) -> ApiResult<String> {
    if props.contains_key(LOCAL_KMS_SECRET) {
        return Err(invalid(
            "kmsProps",
            &format!(
                " '{name}': kmsProps.{LOCAL_KMS_SECRET} would store the KMS secret in the \
                 registry, which never holds key-encryption keys; give it to the clients instead"
            ),
        ));
    }
    Ok(serde_json::to_string(props).expect("string map serializes"))
}

pub(super) async fn list(State(reg): State<Registry>, Query(params): Query<Params>) -> ApiResult {
    let mut conn = reg.pool.acquire().await?;
    let names = store::kek_names(&mut conn, flag(&params, "deleted")).await?;
    Ok(Json(json!(page(names, &params))))
}

pub(super) async fn get(
    State(reg): State<Registry>,
    Path(name): Path<String>,
    Query(params): Query<Params>,
) -> ApiResult {
    check_name(&name)?;
    let mut conn = reg.pool.acquire().await?;
    let kek = find_kek(&mut conn, &name, flag(&params, "deleted")).await?;
    Ok(Json(kek_body(&kek)?))
}

/// Idempotent for an identical KEK (a soft-deleted one comes back, as in Confluent);
/// 40971 for another definition under the same name.
pub(super) async fn create(State(reg): State<Registry>, body: Bytes) -> ApiResult {
    let req: CreateKek = parse_body(&body)?;
    let name = req.name.unwrap_or_default();
    check_name(&name)?;
    let kms_key_id = req.kms_key_id.filter(|k| !k.is_empty());
    let kms_key_id = kms_key_id.ok_or_else(|| invalid("kmsKeyId", ""))?;
    let kms_type = req.kms_type.filter(|k| !k.is_empty());
    let kms_type = kms_type.ok_or_else(|| invalid("kmsType", ""))?;
    if req.shared {
        return Err(RegistryError::SharedKekUnsupported(name));
    }
    let wanted = KekRow {
        kms_props: props_json(&name, &req.kms_props)?,
        name,
        kms_type,
        kms_key_id,
        doc: req.doc,
        ts: now_ms(),
        deleted: false,
    };
    let mut tx = reg.pool.begin().await?;
    if store::insert_kek(&mut tx, &wanted).await? {
        tx.commit().await?;
        return Ok(Json(kek_body(&wanted)?));
    }
    let mut existing = find_kek(&mut tx, &wanted.name, true).await?;
    if !existing.same_key(&wanted) {
        return Err(RegistryError::KeyAlreadyExists(wanted.name));
    }
    if existing.deleted {
        existing.deleted = false;
        existing.ts = wanted.ts;
        store::update_kek(&mut tx, &existing).await?;
    }
    tx.commit().await?;
    Ok(Json(kek_body(&existing)?))
}

/// Changes `kmsProps`, `doc` (and `shared`, which may only stay false) of a live KEK.
pub(super) async fn update(
    State(reg): State<Registry>,
    Path(name): Path<String>,
    body: Bytes,
) -> ApiResult {
    check_name(&name)?;
    let req: UpdateKek = parse_body(&body)?;
    if req.shared == Some(Some(true)) {
        return Err(RegistryError::SharedKekUnsupported(name));
    }
    let mut tx = reg.pool.begin().await?;
    let old = find_kek(&mut tx, &name, false).await?;
    let mut new = old.clone();
    match req.kms_props {
        None => {}
        Some(props) => new.kms_props = props_json(&name, &props.unwrap_or_default())?,
    }
    if let Some(doc) = req.doc {
        new.doc = doc;
    }
    if new.same_key(&old) {
        return Ok(Json(kek_body(&old)?));
    }
    new.ts = now_ms();
    store::update_kek(&mut tx, &new).await?;
    tx.commit().await?;
    Ok(Json(kek_body(&new)?))
}

/// Soft delete, then (`permanent=true`) hard delete. Refused with 42272 while DEKs
/// remain under the KEK: live ones for a soft delete, any for a hard delete.
pub(super) async fn delete(
    State(reg): State<Registry>,
    Path(name): Path<String>,
    Query(params): Query<Params>,
) -> ApiResult<Response> {
    check_name(&name)?;
    let permanent = flag(&params, "permanent");
    let mut tx = reg.pool.begin().await?;
    let mut kek = find_kek(&mut tx, &name, true).await?;
    if store::dek_count(&mut tx, &name, permanent).await? > 0 {
        return Err(RegistryError::KeyReferenceExists(name));
    }
    if permanent {
        if !kek.deleted {
            return Err(RegistryError::KeyNotSoftDeleted(name));
        }
        store::delete_kek(&mut tx, &name)
            .await
            .map_err(|e| reference_exists(e, &name))?;
    } else if !kek.deleted {
        kek.deleted = true;
        kek.ts = now_ms();
        store::update_kek(&mut tx, &kek).await?;
    }
    tx.commit().await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

/// A DEK created concurrently with a hard delete trips the foreign key.
fn reference_exists(err: RegistryError, name: &str) -> RegistryError {
    match &err {
        RegistryError::Database(sqlx::Error::Database(db)) if db.is_foreign_key_violation() => {
            RegistryError::KeyReferenceExists(name.to_owned())
        }
        _ => err,
    }
}

pub(super) async fn undelete(
    State(reg): State<Registry>,
    Path(name): Path<String>,
) -> ApiResult<Response> {
    check_name(&name)?;
    let mut tx = reg.pool.begin().await?;
    let mut kek = find_kek(&mut tx, &name, true).await?;
    if kek.deleted {
        kek.deleted = false;
        kek.ts = now_ms();
        store::update_kek(&mut tx, &kek).await?;
    }
    tx.commit().await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}
