//! Confluent's DEK Registry API (`/dek-registry/v1`), which client-side field-level
//! encryption (CSFLE) clients call to share data-encryption keys.
//!
//! The registry is a directory, never a key holder: a KEK here is only a reference to a
//! key in the clients' KMS, and a DEK is stored only wrapped (`encryptedKeyMaterial`)
//! under that KEK. Shared KEKs — Confluent's registry-side KMS access, where the server
//! generates and unwraps DEKs and returns `keyMaterial` — are refused, and `keyMaterial`
//! is never returned. Permanently deleting a DEK version crypto-shreds the records
//! encrypted under it.

mod deks;
mod keks;
mod store;

use std::time::{SystemTime, UNIX_EPOCH};

use axum::routing::{get, post};
use axum::Router;
use serde_json::{json, Value};

use crate::api::{ApiResult, Params};
use crate::error::RegistryError;
use crate::Registry;

use store::{DekRow, KekRow};

const PREFIX: &str = "/dek-registry/v1/keks";

pub(crate) fn routes() -> Router<Registry> {
    let at = |path: &str| format!("{PREFIX}{path}");
    Router::new()
        .route(PREFIX, get(keks::list).post(keks::create))
        .route(
            &at("/{name}"),
            get(keks::get).put(keks::update).delete(keks::delete),
        )
        .route(&at("/{name}/undelete"), post(keks::undelete))
        // The legacy create (subject in the body) is what clients fall back to on a 405.
        .route(
            &at("/{name}/deks"),
            get(deks::subjects).post(deks::create_legacy),
        )
        .route(
            &at("/{name}/deks/{subject}"),
            get(deks::latest)
                .post(deks::create)
                .delete(deks::delete_all),
        )
        .route(
            &at("/{name}/deks/{subject}/undelete"),
            post(deks::undelete_all),
        )
        .route(&at("/{name}/deks/{subject}/versions"), get(deks::versions))
        .route(
            &at("/{name}/deks/{subject}/versions/{version}"),
            get(deks::version).delete(deks::delete_version),
        )
        .route(
            &at("/{name}/deks/{subject}/versions/{version}/undelete"),
            post(deks::undelete_version),
        )
}

fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
}

/// Confluent's rule for KEK names: a letter or `_`, then letters, digits, `_` or `-`.
fn check_name(name: &str) -> ApiResult<()> {
    let mut chars = name.chars();
    let valid = name.chars().count() <= 256
        && chars.next().is_some_and(|c| c.is_alphabetic() || c == '_')
        && chars.all(|c| c.is_alphanumeric() || c == '_' || c == '-');
    if valid {
        Ok(())
    } else {
        Err(invalid("name", ""))
    }
}

fn check_subject(subject: &str) -> ApiResult<()> {
    if subject.is_empty() || subject.chars().any(char::is_control) {
        return Err(invalid("subject", ""));
    }
    Ok(())
}

fn invalid(field: &'static str, detail: &str) -> RegistryError {
    RegistryError::InvalidKey {
        field,
        detail: detail.to_owned(),
    }
}

/// A request body, read whatever its content type (as the schema endpoints do).
fn parse_body<T: serde::de::DeserializeOwned>(body: &[u8]) -> ApiResult<T> {
    serde_json::from_slice(body)
        .map_err(|e| RegistryError::BadRequest(format!("Malformed request body: {e}")))
}

const ALGORITHMS: [&str; 3] = ["AES128_GCM", "AES256_GCM", "AES256_SIV"];

/// The DEK algorithm, AES256_GCM when not given (as in Confluent).
fn algorithm(raw: Option<&str>) -> ApiResult<&'static str> {
    let Some(raw) = raw.filter(|a| !a.is_empty()) else {
        return Ok("AES256_GCM");
    };
    ALGORITHMS
        .into_iter()
        .find(|a| a.eq_ignore_ascii_case(raw))
        .ok_or_else(|| {
            invalid(
                "algorithm",
                &format!(": '{raw}'; expected one of {}", ALGORITHMS.join(", ")),
            )
        })
}

fn algorithm_param(params: &Params) -> ApiResult<&'static str> {
    algorithm(params.get("algorithm").map(String::as_str))
}

/// `offset` and `limit` of Confluent's list endpoints (limit -1 or absent: all).
fn page<T>(items: Vec<T>, params: &Params) -> Vec<T> {
    let number = |key: &str| params.get(key).and_then(|v| v.parse::<i64>().ok());
    let offset = usize::try_from(number("offset").unwrap_or(0)).unwrap_or(0);
    let limit = number("limit")
        .and_then(|l| usize::try_from(l).ok())
        .unwrap_or(usize::MAX);
    items.into_iter().skip(offset).take(limit).collect()
}

fn kek_body(kek: &KekRow) -> ApiResult<Value> {
    let props: Value = serde_json::from_str(&kek.kms_props)
        .map_err(|e| RegistryError::Corrupt(format!("kmsProps of KEK {}: {e}", kek.name)))?;
    let mut body = json!({
        "name": kek.name,
        "kmsType": kek.kms_type,
        "kmsKeyId": kek.kms_key_id,
        "kmsProps": props,
        "shared": false,
        "ts": kek.ts,
        "deleted": kek.deleted,
    });
    if let Some(doc) = &kek.doc {
        body["doc"] = json!(doc);
    }
    Ok(body)
}

/// Never with `keyMaterial`: the registry cannot unwrap a DEK, and must not.
fn dek_body(dek: &DekRow) -> Value {
    json!({
        "kekName": dek.kek_name,
        "subject": dek.subject,
        "version": dek.version,
        "algorithm": dek.algorithm,
        "encryptedKeyMaterial": dek.encrypted_key_material,
        "ts": dek.ts,
        "deleted": dek.deleted,
    })
}

/// The KEK `name`; soft-deleted only with `include_deleted`. 40470 otherwise.
async fn find_kek(
    conn: &mut sqlx::AnyConnection,
    name: &str,
    include_deleted: bool,
) -> ApiResult<KekRow> {
    match store::kek(conn, name).await? {
        Some(kek) if include_deleted || !kek.deleted => Ok(kek),
        _ => Err(RegistryError::KeyNotFound(name.to_owned())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kek_names_follow_confluent() {
        for ok in ["kek1", "_k", "Kunci-Imigrasi_2", "kéy"] {
            assert!(check_name(ok).is_ok(), "{ok}");
        }
        for bad in ["", "1kek", "-k", "a b", "a/b", "a.b", &"k".repeat(257)] {
            assert!(check_name(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn algorithms_default_and_normalise() {
        assert_eq!(algorithm(None).unwrap(), "AES256_GCM");
        assert_eq!(algorithm(Some("aes256_siv")).unwrap(), "AES256_SIV");
        assert!(algorithm(Some("DES")).is_err());
    }
}
