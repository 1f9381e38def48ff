//! Global and per-subject compatibility level endpoints.

use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::Json;
use serde::Deserialize;
use serde_json::json;

use crate::api::{flag, ApiResult, Params};
use crate::compat::Level;
use crate::error::RegistryError;
use crate::{store, Registry};

#[derive(Deserialize)]
struct ConfigRequest {
    compatibility: Option<String>,
    // Some clients echo back the GET shape; accept it rather than reject them.
    #[serde(rename = "compatibilityLevel")]
    compatibility_level: Option<String>,
}

fn parse_body(body: &[u8]) -> ApiResult<Level> {
    let req: ConfigRequest = serde_json::from_slice(body).map_err(|e| {
        RegistryError::InvalidCompatibilityLevel(format!("malformed request body: {e}"))
    })?;
    let raw = req
        .compatibility
        .or(req.compatibility_level)
        .ok_or_else(|| {
            RegistryError::InvalidCompatibilityLevel("missing \"compatibility\"".into())
        })?;
    Level::parse(&raw)
}

async fn global(reg: &Registry) -> ApiResult<Level> {
    let stored = store::global_level(&mut *reg.pool.acquire().await?).await?;
    stored.map_or(Ok(Level::DEFAULT), |s| {
        Level::parse(&s).map_err(|_| RegistryError::Corrupt(format!("stored level {s}")))
    })
}

pub(crate) async fn get_global(State(reg): State<Registry>) -> ApiResult {
    Ok(Json(
        json!({ "compatibilityLevel": global(&reg).await?.as_str() }),
    ))
}

pub(crate) async fn put_global(State(reg): State<Registry>, body: Bytes) -> ApiResult {
    let level = parse_body(&body)?;
    store::set_global_level(&reg.pool, level.as_str()).await?;
    Ok(Json(json!({ "compatibility": level.as_str() })))
}

pub(crate) async fn get_subject(
    State(reg): State<Registry>,
    Path(subject): Path<String>,
    Query(params): Query<Params>,
) -> ApiResult {
    let own = store::subject_level(&mut *reg.pool.acquire().await?, &subject).await?;
    let level = match own {
        Some(s) => {
            Level::parse(&s).map_err(|_| RegistryError::Corrupt(format!("stored level {s}")))?
        }
        None if flag(&params, "defaultToGlobal") => global(&reg).await?,
        None => return Err(RegistryError::SubjectLevelNotConfigured(subject)),
    };
    Ok(Json(json!({ "compatibilityLevel": level.as_str() })))
}

pub(crate) async fn put_subject(
    State(reg): State<Registry>,
    Path(subject): Path<String>,
    body: Bytes,
) -> ApiResult {
    let level = parse_body(&body)?;
    store::set_subject_level(&reg.pool, &subject, level.as_str()).await?;
    Ok(Json(json!({ "compatibility": level.as_str() })))
}

/// Drops the subject's own level so it follows the global one again; answers
/// with the level that was removed.
pub(crate) async fn delete_subject(
    State(reg): State<Registry>,
    Path(subject): Path<String>,
) -> ApiResult {
    let own = store::subject_level(&mut *reg.pool.acquire().await?, &subject).await?;
    let Some(previous) = own else {
        return Err(RegistryError::SubjectLevelNotConfigured(subject));
    };
    store::delete_subject_level(&reg.pool, &subject).await?;
    Ok(Json(json!({ "compatibilityLevel": previous })))
}
