//! The DEK Registry API (`/dek-registry/v1`) as Confluent's CSFLE clients call it.
//! Every scenario runs on SQLite and on PostgreSQL.

#[macro_use]
mod common;

use std::time::{SystemTime, UNIX_EPOCH};

use axum::http::StatusCode;
use axum::Router;
use serde_json::{json, Value};
use sqlx::{AnyPool, Row};

use common::{assert_error, call, ok};

scenarios!(
    kek_lifecycle,
    shared_kek_and_kms_secret_refused,
    dek_create_and_read,
    dek_legacy_create_path,
    dek_soft_and_hard_delete,
    kek_deletion_guards,
);

/// Scenarios that also inspect the database behind the API.
macro_rules! pool_scenarios {
    ($($name:ident),* $(,)?) => {
        mod sqlite_pool {
            $(#[tokio::test]
            async fn $name() {
                let (router, pool) = $crate::common::sqlite_registry().await;
                super::$name(router, pool).await;
            })*
        }
        mod postgres_pool {
            $(#[tokio::test]
            async fn $name() {
                $crate::common::with_postgres_pool(super::$name).await;
            })*
        }
    };
}

pool_scenarios!(hard_deleted_dek_leaves_database);

// ---------------------------------------------------------------- fixtures

const KEKS: &str = "/dek-registry/v1/keks";

/// A wrapped DEK as captured from the Python client (62 bytes, base64).
const MATERIAL: &str =
    "ygaYVx+nBCNAbu0cGapZwjefdhCjWVwWpECs2eODWXyzh3P5poA9xsHEboyojB6m3vq1k2N1IPNeCrAdm3A=";
const OTHER_MATERIAL: &str =
    "1WxMyeL9HtW3XBnm8Ji35aIzLgmHImPdoz4Ibxb34ZsmOI4tWiKYR1WVDYnAQDcvSBDfXQDHYATYDGfTWOo=";

fn now_ms() -> i64 {
    let since = SystemTime::now().duration_since(UNIX_EPOCH).unwrap();
    i64::try_from(since.as_millis()).unwrap()
}

/// The create-KEK body the Python client sends (no kmsProps, no doc).
fn kek_request(name: &str) -> Value {
    json!({ "name": name, "kmsType": "local-kms", "kmsKeyId": "mykey", "shared": false })
}

async fn create_kek(app: &Router, name: &str) -> Value {
    ok(app, "POST", KEKS, Some(kek_request(name))).await
}

/// The create-DEK body the Python client sends.
fn dek_request(subject: &str, version: i64, material: &str) -> Value {
    json!({ "subject": subject, "version": version, "algorithm": "AES256_GCM",
            "encryptedKeyMaterial": material })
}

async fn create_dek(app: &Router, kek: &str, subject: &str, version: i64, material: &str) -> Value {
    let uri = format!("{KEKS}/{kek}/deks/{subject}");
    ok(
        app,
        "POST",
        &uri,
        Some(dek_request(subject, version, material)),
    )
    .await
}

/// The read the Python client makes for one DEK version.
fn dek_uri(kek: &str, subject: &str, version: &str, deleted: bool) -> String {
    format!("{KEKS}/{kek}/deks/{subject}/versions/{version}?algorithm=AES256_GCM&deleted={deleted}")
}

/// Deletes and undeletes answer 204 without a body.
async fn no_content(app: &Router, method: &str, uri: &str) {
    let (status, body) = call(app, method, uri, None).await;
    assert_eq!(status, StatusCode::NO_CONTENT, "{method} {uri}: {body}");
    assert_eq!(body, Value::Null);
}

fn assert_no_plaintext(dek: &Value) {
    assert!(
        dek.get("keyMaterial").is_none(),
        "keyMaterial returned: {dek}"
    );
}

// ---------------------------------------------------------------- scenarios

/// KEKs: create returns the stored KEK; an identical create is idempotent, a
/// different one under the same name is 409/40971; reads of a missing KEK are
/// 404/40470; PUT updates kmsProps and doc; delete is soft (hidden unless
/// `deleted=true`), then hard; undelete brings a soft-deleted KEK back; lists
/// follow `deleted`.
async fn kek_lifecycle(app: Router) {
    let before = now_ms();
    let created = create_kek(&app, "kek1").await;
    let ts = created["ts"].as_i64().expect("ts");
    assert!((before..=now_ms()).contains(&ts), "{created}");
    assert_eq!(
        created,
        json!({ "name": "kek1", "kmsType": "local-kms", "kmsKeyId": "mykey", "kmsProps": {},
                "shared": false, "ts": ts, "deleted": false })
    );
    let uri = format!("{KEKS}/kek1?deleted=false");
    assert_eq!(ok(&app, "GET", &uri, None).await, created);
    assert_eq!(create_kek(&app, "kek1").await, created, "idempotent");
    let mut other = kek_request("kek1");
    other["kmsKeyId"] = json!("another-key");
    assert_error(&app, "POST", KEKS, Some(other), 409, 40971).await;
    assert_error(&app, "GET", &format!("{KEKS}/nope"), None, 404, 40470).await;
    assert_error(
        &app,
        "GET",
        &format!("{KEKS}/nope?deleted=true"),
        None,
        404,
        40470,
    )
    .await;

    // A second KEK with props and doc, then updated.
    let mut second = kek_request("kek2");
    second["kmsProps"] = json!({ "region": "id-jkt" });
    second["doc"] = json!("Imigrasi");
    let created2 = ok(&app, "POST", KEKS, Some(second)).await;
    assert_eq!(created2["kmsProps"], json!({ "region": "id-jkt" }));
    assert_eq!(created2["doc"], json!("Imigrasi"));
    assert_eq!(ok(&app, "GET", KEKS, None).await, json!(["kek1", "kek2"]));
    let uri = format!("{KEKS}/kek2");
    let updated = ok(
        &app,
        "PUT",
        &uri,
        Some(json!({ "kmsProps": { "region": "id-sby" }, "doc": "moved" })),
    )
    .await;
    assert_eq!(
        (
            updated["kmsProps"].clone(),
            updated["doc"].clone(),
            updated["kmsKeyId"].clone()
        ),
        (
            json!({ "region": "id-sby" }),
            json!("moved"),
            json!("mykey")
        )
    );
    assert_eq!(
        ok(&app, "PUT", &uri, Some(json!({}))).await,
        updated,
        "empty PUT keeps all"
    );
    assert_eq!(ok(&app, "GET", &uri, None).await, updated);
    assert_error(
        &app,
        "PUT",
        &format!("{KEKS}/nope"),
        Some(json!({})),
        404,
        40470,
    )
    .await;

    // Soft delete hides it unless deleted=true.
    no_content(&app, "DELETE", &uri).await;
    assert_error(&app, "GET", &uri, None, 404, 40470).await;
    let gone = ok(&app, "GET", &format!("{uri}?deleted=true"), None).await;
    assert_eq!(gone["deleted"], json!(true));
    assert_eq!(ok(&app, "GET", KEKS, None).await, json!(["kek1"]));
    let all = ok(&app, "GET", &format!("{KEKS}?deleted=true"), None).await;
    assert_eq!(all, json!(["kek1", "kek2"]));
    assert_error(&app, "PUT", &uri, Some(json!({ "doc": "x" })), 404, 40470).await;

    // Hard delete needs a soft delete first.
    let kek1 = format!("{KEKS}/kek1");
    assert_error(
        &app,
        "DELETE",
        &format!("{kek1}?permanent=true"),
        None,
        404,
        40471,
    )
    .await;
    no_content(&app, "POST", &format!("{uri}/undelete")).await;
    assert_eq!(ok(&app, "GET", &uri, None).await["deleted"], json!(false));
    no_content(&app, "DELETE", &uri).await;
    no_content(&app, "DELETE", &format!("{uri}?permanent=true")).await;
    assert_error(
        &app,
        "GET",
        &format!("{uri}?deleted=true"),
        None,
        404,
        40470,
    )
    .await;
    assert_error(&app, "DELETE", &uri, None, 404, 40470).await;
    assert_error(&app, "POST", &format!("{uri}/undelete"), None, 404, 40470).await;
    let all = ok(&app, "GET", &format!("{KEKS}?deleted=true"), None).await;
    assert_eq!(all, json!(["kek1"]));

    // Re-creating a soft-deleted KEK identically brings it back (as in Confluent).
    no_content(&app, "DELETE", &kek1).await;
    assert_eq!(create_kek(&app, "kek1").await["deleted"], json!(false));
    assert_eq!(ok(&app, "GET", &kek1, None).await["deleted"], json!(false));

    // Confluent's name and field checks.
    assert_error(&app, "POST", KEKS, Some(kek_request("1bad")), 422, 42271).await;
    let no_key_id = json!({ "name": "k", "kmsType": "local-kms" });
    assert_error(&app, "POST", KEKS, Some(no_key_id), 422, 42271).await;
    let no_type = json!({ "name": "k", "kmsKeyId": "x" });
    assert_error(&app, "POST", KEKS, Some(no_type), 422, 42271).await;
}

/// The registry never holds key-encryption keys: a shared KEK (registry-side KMS) is
/// refused on create and update with a 422 saying so, and so is a local-kms secret
/// in kmsProps. Nothing is stored by a refused create.
async fn shared_kek_and_kms_secret_refused(app: Router) {
    let mut shared = kek_request("sh");
    shared["shared"] = json!(true);
    let error = assert_error(&app, "POST", KEKS, Some(shared), 422, 42271).await;
    let message = error["message"].as_str().unwrap();
    assert!(
        message.contains("shared") && message.contains("never holds key-encryption keys"),
        "{message}"
    );
    assert_error(
        &app,
        "GET",
        &format!("{KEKS}/sh?deleted=true"),
        None,
        404,
        40470,
    )
    .await;

    create_kek(&app, "kek1").await;
    let uri = format!("{KEKS}/kek1");
    let error = assert_error(
        &app,
        "PUT",
        &uri,
        Some(json!({ "shared": true })),
        422,
        42271,
    )
    .await;
    assert!(
        error["message"].as_str().unwrap().contains("shared"),
        "{error}"
    );
    assert_eq!(ok(&app, "GET", &uri, None).await["shared"], json!(false));
    let unchanged = ok(&app, "PUT", &uri, Some(json!({ "shared": false }))).await;
    assert_eq!(unchanged["shared"], json!(false));

    let mut secret = kek_request("sec");
    secret["kmsProps"] = json!({ "secret": "mysecret" });
    assert_error(&app, "POST", KEKS, Some(secret), 422, 42271).await;
    let props = json!({ "kmsProps": { "secret": "mysecret" } });
    assert_error(&app, "PUT", &uri, Some(props), 422, 42271).await;
    assert_eq!(ok(&app, "GET", &uri, None).await["kmsProps"], json!({}));
}

/// DEKs: create returns the stored wrapped key with its creation `ts` (never
/// `keyMaterial`); reads by version, by `-1`/`latest` and of the subject give the
/// right version; identical creates are idempotent, different material for an
/// existing version is 409/40971; a create without material is 422; versions are
/// per algorithm; unknown KEK, version or subject is 404/40470.
async fn dek_create_and_read(app: Router) {
    create_kek(&app, "kek1").await;
    let before = now_ms();
    let v1 = create_dek(&app, "kek1", "t-value", 1, MATERIAL).await;
    let ts = v1["ts"].as_i64().expect("ts");
    assert!((before..=now_ms()).contains(&ts), "{v1}");
    assert_eq!(
        v1,
        json!({ "kekName": "kek1", "subject": "t-value", "version": 1,
                "algorithm": "AES256_GCM", "encryptedKeyMaterial": MATERIAL,
                "ts": ts, "deleted": false })
    );
    assert_eq!(
        ok(&app, "GET", &dek_uri("kek1", "t-value", "1", false), None).await,
        v1
    );
    assert_eq!(
        ok(&app, "GET", &dek_uri("kek1", "t-value", "1", true), None).await,
        v1
    );
    assert_eq!(
        create_dek(&app, "kek1", "t-value", 1, MATERIAL).await,
        v1,
        "idempotent"
    );
    let conflict = dek_request("t-value", 1, OTHER_MATERIAL);
    let uri = format!("{KEKS}/kek1/deks/t-value");
    assert_error(&app, "POST", &uri, Some(conflict), 409, 40971).await;
    assert_eq!(
        ok(&app, "GET", &dek_uri("kek1", "t-value", "1", false), None).await,
        v1
    );

    // Version 2 (algorithm left to its default) becomes the latest.
    let body =
        json!({ "subject": "t-value", "version": 2, "encryptedKeyMaterial": OTHER_MATERIAL });
    let v2 = ok(&app, "POST", &uri, Some(body)).await;
    assert_eq!(
        (v2["version"].clone(), v2["algorithm"].clone()),
        (json!(2), json!("AES256_GCM"))
    );
    for latest in [
        dek_uri("kek1", "t-value", "-1", false),
        dek_uri("kek1", "t-value", "latest", false),
        format!("{KEKS}/kek1/deks/t-value"),
        format!("{KEKS}/kek1/deks/t-value?algorithm=AES256_GCM&deleted=false"),
    ] {
        let got = ok(&app, "GET", &latest, None).await;
        assert_eq!(got, v2, "{latest}");
        assert_no_plaintext(&got);
    }
    let versions = format!("{KEKS}/kek1/deks/t-value/versions?algorithm=AES256_GCM");
    assert_eq!(ok(&app, "GET", &versions, None).await, json!([1, 2]));
    assert_eq!(
        ok(&app, "GET", &format!("{KEKS}/kek1/deks"), None).await,
        json!(["t-value"])
    );

    // Each algorithm numbers its own versions.
    let siv = format!("{KEKS}/kek1/deks/t-value/versions/1?algorithm=AES256_SIV");
    assert_error(&app, "GET", &siv, None, 404, 40470).await;
    let body = json!({ "subject": "t-value", "algorithm": "AES256_SIV",
                       "encryptedKeyMaterial": MATERIAL });
    let siv1 = ok(&app, "POST", &uri, Some(body)).await;
    assert_eq!(
        (siv1["version"].clone(), siv1["algorithm"].clone()),
        (json!(1), json!("AES256_SIV"))
    );
    assert_eq!(ok(&app, "GET", &siv, None).await, siv1);
    let siv_versions = format!("{KEKS}/kek1/deks/t-value/versions?algorithm=AES256_SIV");
    assert_eq!(ok(&app, "GET", &siv_versions, None).await, json!([1]));

    // A subject with characters clients percent-encode (a context-qualified subject).
    let qualified = ":.ctx:t-value";
    let encoded = "%3A.ctx%3At-value";
    let made = create_dek(&app, "kek1", encoded, 1, MATERIAL).await;
    assert_eq!(made["subject"], json!(qualified));
    let got = ok(&app, "GET", &dek_uri("kek1", encoded, "1", false), None).await;
    assert_eq!(got["subject"], json!(qualified));

    // Refusals.
    for bad in [
        json!({ "subject": "t-value", "version": 3 }),
        json!({ "subject": "t-value", "version": 3, "encryptedKeyMaterial": "" }),
        json!({ "subject": "t-value", "version": 3, "encryptedKeyMaterial": null }),
    ] {
        let error = assert_error(&app, "POST", &uri, Some(bad), 422, 42271).await;
        assert!(error["message"]
            .as_str()
            .unwrap()
            .contains("encryptedKeyMaterial"));
    }
    let bad_version = dek_request("t-value", 0, MATERIAL);
    assert_error(&app, "POST", &uri, Some(bad_version), 422, 42271).await;
    let mut bad_algorithm = dek_request("t-value", 3, MATERIAL);
    bad_algorithm["algorithm"] = json!("DES");
    assert_error(&app, "POST", &uri, Some(bad_algorithm), 422, 42271).await;
    let versions_3 = format!("{KEKS}/kek1/deks/t-value/versions?algorithm=AES256_GCM");
    assert_eq!(
        ok(&app, "GET", &versions_3, None).await,
        json!([1, 2]),
        "nothing stored"
    );

    // Not found: KEK, version, subject; and malformed versions.
    let missing_kek = format!("{KEKS}/nope/deks/t-value");
    let request = dek_request("t-value", 1, MATERIAL);
    assert_error(&app, "POST", &missing_kek, Some(request), 404, 40470).await;
    assert_error(
        &app,
        "GET",
        &dek_uri("nope", "t-value", "1", true),
        None,
        404,
        40470,
    )
    .await;
    assert_error(
        &app,
        "GET",
        &dek_uri("kek1", "t-value", "9", true),
        None,
        404,
        40470,
    )
    .await;
    assert_error(
        &app,
        "GET",
        &dek_uri("kek1", "other", "-1", true),
        None,
        404,
        40470,
    )
    .await;
    assert_error(
        &app,
        "GET",
        &dek_uri("kek1", "t-value", "abc", true),
        None,
        422,
        42202,
    )
    .await;
    let bad_alg = format!("{KEKS}/kek1/deks/t-value/versions/1?algorithm=DES");
    assert_error(&app, "GET", &bad_alg, None, 422, 42271).await;

    // Route fallbacks keep Confluent's bodies under the new prefix.
    assert_error(&app, "GET", "/dek-registry/v1/nope", None, 404, 404).await;
    assert_error(&app, "PATCH", KEKS, None, 405, 405).await;
    assert_error(
        &app,
        "PUT",
        &format!("{KEKS}/kek1/deks/t-value"),
        None,
        405,
        405,
    )
    .await;
}

/// The deprecated create path (`POST /keks/{kek}/deks`, subject in the body), which
/// clients fall back to when the subject path answers 405, behaves like the other.
async fn dek_legacy_create_path(app: Router) {
    create_kek(&app, "kek1").await;
    let uri = format!("{KEKS}/kek1/deks");
    let made = ok(
        &app,
        "POST",
        &uri,
        Some(dek_request("legacy-value", 1, MATERIAL)),
    )
    .await;
    assert_eq!(
        (
            made["subject"].clone(),
            made["version"].clone(),
            made["kekName"].clone()
        ),
        (json!("legacy-value"), json!(1), json!("kek1"))
    );
    assert_eq!(
        ok(
            &app,
            "GET",
            &dek_uri("kek1", "legacy-value", "1", false),
            None
        )
        .await,
        made
    );
    let again = ok(
        &app,
        "POST",
        &uri,
        Some(dek_request("legacy-value", 1, MATERIAL)),
    )
    .await;
    assert_eq!(again, made);
    let conflict = dek_request("legacy-value", 1, OTHER_MATERIAL);
    assert_error(&app, "POST", &uri, Some(conflict), 409, 40971).await;
    let no_subject = json!({ "version": 1, "encryptedKeyMaterial": MATERIAL });
    assert_error(&app, "POST", &uri, Some(no_subject), 422, 42271).await;
    assert_error(
        &app,
        "POST",
        &format!("{KEKS}/nope/deks"),
        Some(dek_request("s", 1, MATERIAL)),
        404,
        40470,
    )
    .await;
    // On the subject path, the path wins over the body.
    let path = format!("{KEKS}/kek1/deks/path-value");
    let made = ok(
        &app,
        "POST",
        &path,
        Some(dek_request("body-value", 1, MATERIAL)),
    )
    .await;
    assert_eq!(made["subject"], json!("path-value"));
}

/// Soft-deleted DEK versions are hidden unless `deleted=true` (which readers send, so
/// old records stay readable); hard delete needs a soft delete first (40471) and then
/// the version is gone even for `deleted=true`. Undelete restores versions.
async fn dek_soft_and_hard_delete(app: Router) {
    create_kek(&app, "kek1").await;
    create_dek(&app, "kek1", "s", 1, MATERIAL).await;
    let v2 = create_dek(&app, "kek1", "s", 2, OTHER_MATERIAL).await;
    let base = format!("{KEKS}/kek1/deks/s");
    let versions =
        |deleted: bool| format!("{base}/versions?algorithm=AES256_GCM&deleted={deleted}");

    no_content(
        &app,
        "DELETE",
        &format!("{base}/versions/1?algorithm=AES256_GCM"),
    )
    .await;
    assert_error(
        &app,
        "GET",
        &dek_uri("kek1", "s", "1", false),
        None,
        404,
        40470,
    )
    .await;
    let hidden = ok(&app, "GET", &dek_uri("kek1", "s", "1", true), None).await;
    assert_eq!(
        (
            hidden["deleted"].clone(),
            hidden["encryptedKeyMaterial"].clone()
        ),
        (json!(true), json!(MATERIAL))
    );
    assert_eq!(ok(&app, "GET", &versions(false), None).await, json!([2]));
    assert_eq!(ok(&app, "GET", &versions(true), None).await, json!([1, 2]));
    assert_eq!(
        ok(&app, "GET", &dek_uri("kek1", "s", "-1", false), None).await,
        v2
    );

    assert_error(
        &app,
        "DELETE",
        &format!("{base}/versions/2?permanent=true"),
        None,
        404,
        40471,
    )
    .await;
    no_content(
        &app,
        "DELETE",
        &format!("{base}/versions/1?algorithm=AES256_GCM&permanent=true"),
    )
    .await;
    assert_error(
        &app,
        "GET",
        &dek_uri("kek1", "s", "1", true),
        None,
        404,
        40470,
    )
    .await;
    assert_eq!(ok(&app, "GET", &versions(true), None).await, json!([2]));
    assert_error(
        &app,
        "DELETE",
        &format!("{base}/versions/1"),
        None,
        404,
        40470,
    )
    .await;
    assert_error(
        &app,
        "POST",
        &format!("{base}/versions/1/undelete"),
        None,
        404,
        40470,
    )
    .await;

    // All versions of the subject at once.
    create_dek(&app, "kek1", "s", 3, MATERIAL).await;
    assert_error(
        &app,
        "DELETE",
        &format!("{base}?permanent=true"),
        None,
        404,
        40471,
    )
    .await;
    no_content(&app, "DELETE", &base).await;
    assert_error(&app, "GET", &base, None, 404, 40470).await;
    assert_eq!(
        ok(&app, "GET", &format!("{base}?deleted=true"), None).await["version"],
        json!(3)
    );
    assert_eq!(
        ok(&app, "GET", &format!("{KEKS}/kek1/deks"), None).await,
        json!([])
    );
    let all = ok(&app, "GET", &format!("{KEKS}/kek1/deks?deleted=true"), None).await;
    assert_eq!(all, json!(["s"]));
    no_content(&app, "POST", &format!("{base}/undelete")).await;
    assert_eq!(ok(&app, "GET", &versions(false), None).await, json!([2, 3]));

    // One version: soft delete the latest, undelete it by number.
    no_content(&app, "DELETE", &format!("{base}/versions/latest")).await;
    assert_eq!(ok(&app, "GET", &versions(false), None).await, json!([2]));
    no_content(&app, "POST", &format!("{base}/versions/3/undelete")).await;
    assert_eq!(ok(&app, "GET", &versions(false), None).await, json!([2, 3]));

    // Soft then hard delete of everything: nothing left, even with deleted=true.
    no_content(&app, "DELETE", &base).await;
    no_content(&app, "DELETE", &format!("{base}?permanent=true")).await;
    assert_eq!(ok(&app, "GET", &versions(true), None).await, json!([]));
    assert_error(
        &app,
        "GET",
        &format!("{base}?deleted=true"),
        None,
        404,
        40470,
    )
    .await;
    assert_error(&app, "DELETE", &base, None, 404, 40470).await;
    assert_eq!(
        ok(&app, "GET", &format!("{KEKS}/kek1/deks?deleted=true"), None).await,
        json!([])
    );
}

/// A KEK cannot be deleted while DEKs remain under it (42272, Confluent's
/// reference-exists code): no live DEKs for a soft delete, none at all for a hard
/// delete. DEKs of a soft-deleted KEK stay readable with `deleted=true` but cannot
/// be undeleted (40472) or created until the KEK is back.
async fn kek_deletion_guards(app: Router) {
    create_kek(&app, "kek1").await;
    create_dek(&app, "kek1", "s", 1, MATERIAL).await;
    let kek = format!("{KEKS}/kek1");
    let dek = format!("{kek}/deks/s");
    assert_error(&app, "DELETE", &kek, None, 422, 42272).await;
    no_content(&app, "DELETE", &dek).await;
    no_content(&app, "DELETE", &kek).await;
    assert_error(
        &app,
        "DELETE",
        &format!("{kek}?permanent=true"),
        None,
        422,
        42272,
    )
    .await;

    assert_error(
        &app,
        "GET",
        &dek_uri("kek1", "s", "1", false),
        None,
        404,
        40470,
    )
    .await;
    let read = ok(&app, "GET", &dek_uri("kek1", "s", "1", true), None).await;
    assert_eq!(read["encryptedKeyMaterial"], json!(MATERIAL));
    assert_error(&app, "POST", &format!("{dek}/undelete"), None, 404, 40472).await;
    assert_error(
        &app,
        "POST",
        &format!("{dek}/versions/1/undelete"),
        None,
        404,
        40472,
    )
    .await;
    let create = dek_request("s", 2, MATERIAL);
    assert_error(&app, "POST", &dek, Some(create), 404, 40470).await;
    assert_error(&app, "GET", &format!("{kek}/deks"), None, 404, 40470).await;

    // Once its DEKs are permanently gone, the KEK can go too.
    no_content(&app, "DELETE", &format!("{dek}?permanent=true")).await;
    no_content(&app, "DELETE", &format!("{kek}?permanent=true")).await;
    assert_error(
        &app,
        "GET",
        &format!("{kek}?deleted=true"),
        None,
        404,
        40470,
    )
    .await;
}

/// Crypto-shredding: a permanently deleted DEK version is removed from the database
/// (not flagged), so the wrapped key cannot be recovered through the registry; a
/// soft delete keeps the row.
async fn hard_deleted_dek_leaves_database(app: Router, pool: AnyPool) {
    create_kek(&app, "kek1").await;
    create_dek(&app, "kek1", "s", 1, MATERIAL).await;
    create_dek(&app, "kek1", "s", 2, OTHER_MATERIAL).await;
    let rows_with = |material: &'static str| {
        let pool = pool.clone();
        async move {
            sqlx::query("SELECT COUNT(*) FROM deks WHERE encrypted_key_material = $1")
                .bind(material)
                .fetch_one(&pool)
                .await
                .unwrap()
                .get::<i64, _>(0)
        }
    };
    let uri = format!("{KEKS}/kek1/deks/s/versions/1");
    no_content(&app, "DELETE", &uri).await;
    assert_eq!(rows_with(MATERIAL).await, 1, "a soft delete keeps the key");
    no_content(&app, "DELETE", &format!("{uri}?permanent=true")).await;
    assert_eq!(
        rows_with(MATERIAL).await,
        0,
        "hard-deleted key still stored"
    );
    assert_eq!(
        rows_with(OTHER_MATERIAL).await,
        1,
        "other versions untouched"
    );
}

/// The same on a SQLite file in WAL mode, as deployments run it: after the hard
/// delete the wrapped key's bytes are in neither the database file nor its WAL.
#[tokio::test]
async fn hard_deleted_dek_leaves_sqlite_file() {
    use sqlx::Executor;
    sqlx::any::install_default_drivers();
    let path = std::env::temp_dir().join(format!(
        "lintas-registry-shred-{}-{}.db",
        std::process::id(),
        now_ms()
    ));
    let pool = sqlx::any::AnyPoolOptions::new()
        .max_connections(2)
        .after_connect(|conn, _| {
            Box::pin(async move {
                conn.execute("PRAGMA journal_mode=WAL").await?;
                Ok(())
            })
        })
        .connect(&format!("sqlite://{}?mode=rwc", path.display()))
        .await
        .expect("sqlite file");
    let app = lintas_registry::Registry::new(pool.clone())
        .await
        .expect("registry")
        .with_users(common::users())
        .router();
    let material = "U2hyZWRNZVBsZWFzZTpsaW50YXMtY3J5cHRvLXNocmVkLXRlc3QtbWF0ZXJpYWw=";
    create_kek(&app, "kek1").await;
    create_dek(&app, "kek1", "s", 1, material).await;
    let on_disk = || {
        let mut bytes = Vec::new();
        for suffix in ["", "-wal", "-journal"] {
            let mut file = path.clone().into_os_string();
            file.push(suffix);
            bytes.extend(std::fs::read(&file).unwrap_or_default());
        }
        bytes
            .windows(material.len())
            .any(|w| w == material.as_bytes())
    };
    assert!(on_disk(), "the key is stored before the delete");
    let uri = format!("{KEKS}/kek1/deks/s/versions/1");
    no_content(&app, "DELETE", &uri).await;
    no_content(&app, "DELETE", &format!("{uri}?permanent=true")).await;
    assert!(!on_disk(), "hard-deleted key bytes remain on disk");
    pool.close().await;
    for suffix in ["", "-wal", "-shm", "-journal"] {
        let mut file = path.clone().into_os_string();
        file.push(suffix);
        let _ = std::fs::remove_file(file);
    }
}

/// Not a test: with `LINTAS_REGISTRY_SERVE=host:port` (and optionally
/// `LINTAS_REGISTRY_SERVE_DB`, default in-memory SQLite) it serves the registry until
/// killed, for checks with real clients (`cargo test -p lintas-registry --test dek
/// serve -- --ignored`).
#[tokio::test]
#[ignore]
async fn serve() {
    let Ok(listen) = std::env::var("LINTAS_REGISTRY_SERVE") else {
        return;
    };
    sqlx::any::install_default_drivers();
    let url =
        std::env::var("LINTAS_REGISTRY_SERVE_DB").unwrap_or_else(|_| "sqlite::memory:".into());
    let pool = sqlx::any::AnyPoolOptions::new()
        .max_connections(1)
        .idle_timeout(None)
        .max_lifetime(None)
        .connect(&url)
        .await
        .expect("database");
    let app = lintas_registry::Registry::new(pool)
        .await
        .expect("registry")
        .with_users(common::users())
        .router();
    let listener = tokio::net::TcpListener::bind(&listen)
        .await
        .expect("listen");
    eprintln!(
        "registry listening on http://{}",
        listener.local_addr().unwrap()
    );
    axum::serve(listener, app).await.expect("serve");
}
