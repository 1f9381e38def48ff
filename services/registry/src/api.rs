//! Route table and the helpers shared by the handlers.

use std::collections::HashMap;

use axum::extract::{Path, State};
use axum::http::header::CONTENT_TYPE;
use axum::http::HeaderValue;
use axum::response::Response;
use axum::routing::{get, post};
use axum::{middleware, Json, Router};
use serde_json::{json, Value};

use crate::compat::Level;
use crate::error::RegistryError;
use crate::{auth, browse, config, dek, metrics, store, subjects, Registry};

pub(crate) const CONTENT_TYPE_V1: &str = "application/vnd.schemaregistry.v1+json";

pub(crate) type ApiResult<T = Json<Value>> = Result<T, RegistryError>;
pub(crate) type Params = HashMap<String, String>;

pub(crate) fn router(registry: Registry) -> Router {
    Router::new()
        .route("/", get(browse::root))
        .route("/schemas", get(browse::list))
        .route("/schemas/types", get(browse::types))
        .route("/contexts", get(browse::contexts))
        .route("/mode", get(browse::global_mode).put(browse::put_mode))
        .route(
            "/mode/{subject}",
            get(browse::subject_mode).put(browse::put_subject_mode),
        )
        .route("/subjects", get(subjects::list))
        .route(
            "/subjects/{subject}",
            post(subjects::lookup).delete(subjects::delete_subject),
        )
        .route(
            "/subjects/{subject}/versions",
            get(subjects::list_versions).post(subjects::register),
        )
        .route(
            "/subjects/{subject}/versions/{version}",
            get(subjects::get_version).delete(subjects::delete_version),
        )
        .route(
            "/subjects/{subject}/versions/{version}/schema",
            get(subjects::get_version_schema),
        )
        .route(
            "/subjects/{subject}/versions/{version}/referencedby",
            get(subjects::referenced_by),
        )
        .route("/schemas/ids/{id}", get(schema_by_id))
        .route("/schemas/ids/{id}/schema", get(raw_schema_by_id))
        .route("/schemas/ids/{id}/subjects", get(schema_subjects))
        .route("/schemas/ids/{id}/versions", get(schema_usages))
        .route(
            "/compatibility/subjects/{subject}/versions/{version}",
            post(subjects::check_compatibility),
        )
        .route("/config", get(config::get_global).put(config::put_global))
        .route(
            "/config/{subject}",
            get(config::get_subject)
                .put(config::put_subject)
                .delete(config::delete_subject),
        )
        .merge(dek::routes())
        .fallback(route_not_found)
        .method_not_allowed_fallback(method_not_allowed)
        // Inside the metrics layer, so that refusals are counted as requests too.
        .layer(middleware::from_fn_with_state(
            registry.auth.clone(),
            auth::require,
        ))
        .layer(middleware::from_fn(crate::error::confluent_errors))
        .layer(middleware::from_fn(metrics::track))
        .layer(middleware::map_response(set_content_type))
        .with_state(registry)
}

/// Confluent clients expect this type on every answer, errors included.
async fn set_content_type(mut response: Response) -> Response {
    response
        .headers_mut()
        .insert(CONTENT_TYPE, HeaderValue::from_static(CONTENT_TYPE_V1));
    response
}

async fn route_not_found() -> RegistryError {
    RegistryError::RouteNotFound
}

async fn method_not_allowed() -> RegistryError {
    RegistryError::MethodNotAllowed
}

/// Boolean query flags as Confluent spells them (`?deleted=true`).
pub(crate) fn flag(params: &Params, name: &str) -> bool {
    params
        .get(name)
        .is_some_and(|v| v.eq_ignore_ascii_case("true"))
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum VersionRef {
    Latest,
    Number(i64),
}

pub(crate) fn parse_version(raw: &str) -> Result<VersionRef, RegistryError> {
    if raw.eq_ignore_ascii_case("latest") || raw == "-1" {
        return Ok(VersionRef::Latest);
    }
    match raw.parse::<i64>() {
        Ok(n) if (1..=i64::from(i32::MAX)).contains(&n) => Ok(VersionRef::Number(n)),
        _ => Err(RegistryError::InvalidVersion(raw.to_owned())),
    }
}

/// Subject level, else global level, else Confluent's default.
pub(crate) async fn effective_level(
    conn: &mut sqlx::AnyConnection,
    subject: &str,
) -> ApiResult<Level> {
    let stored = match store::subject_level(conn, subject).await? {
        Some(level) => Some(level),
        None => store::global_level(conn).await?,
    };
    stored.map_or(Ok(Level::DEFAULT), |s| {
        Level::parse(&s).map_err(|_| RegistryError::Corrupt(format!("stored level {s}")))
    })
}

fn parse_id(raw: &str) -> ApiResult<i64> {
    // A non-numeric id can never name a schema; Confluent answers 404 for it too.
    raw.parse().map_err(|_| RegistryError::SchemaNotFound)
}

/// Query parameters (`subject=`, `format=`, …) are accepted and ignored: there is
/// one Avro rendering and ids are global.
async fn schema_by_id(State(reg): State<Registry>, Path(id): Path<String>) -> ApiResult {
    let row = store::schema_by_id(&reg.pool, parse_id(&id)?)
        .await?
        .ok_or(RegistryError::SchemaNotFound)?;
    // schemaType is omitted for AVRO, as Confluent does.
    let mut body = json!({ "schema": row.text });
    subjects::add_references(&mut body, &row.references);
    subjects::add_contract(&mut body, row.metadata.as_deref(), row.rule_set.as_deref())?;
    Ok(Json(body))
}

/// The bare schema text of an id, for tools that pipe it into an Avro library.
async fn raw_schema_by_id(
    State(reg): State<Registry>,
    Path(id): Path<String>,
) -> ApiResult<Response> {
    use axum::response::IntoResponse;
    let row = store::schema_by_id(&reg.pool, parse_id(&id)?)
        .await?
        .ok_or(RegistryError::SchemaNotFound)?;
    Ok(row.text.into_response())
}

async fn schema_usages(
    State(reg): State<Registry>,
    Path(id): Path<String>,
    axum::extract::Query(params): axum::extract::Query<Params>,
) -> ApiResult {
    let id = parse_id(&id)?;
    if store::schema_by_id(&reg.pool, id).await?.is_none() {
        return Err(RegistryError::SchemaNotFound);
    }
    let usages = store::schema_usages(&reg.pool, id, flag(&params, "deleted")).await?;
    let body: Vec<Value> = usages
        .into_iter()
        .map(|(subject, version)| json!({ "subject": subject, "version": version }))
        .collect();
    Ok(Json(Value::Array(body)))
}

/// `GET /schemas/ids/{id}/subjects`: the subjects registering this id (`?deleted=true` also
/// those where it is soft-deleted).
async fn schema_subjects(
    State(reg): State<Registry>,
    Path(id): Path<String>,
    axum::extract::Query(params): axum::extract::Query<Params>,
) -> ApiResult {
    let id = parse_id(&id)?;
    if store::schema_by_id(&reg.pool, id).await?.is_none() {
        return Err(RegistryError::SchemaNotFound);
    }
    let mut subjects: Vec<String> = store::schema_usages(&reg.pool, id, flag(&params, "deleted"))
        .await?
        .into_iter()
        .map(|(subject, _)| subject)
        .filter(|s| params.get("subject").is_none_or(|wanted| wanted == s))
        .collect();
    subjects.dedup();
    Ok(Json(json!(subjects)))
}
