//! Black-box tests of the registry router. Every scenario runs twice: on an
//! in-memory SQLite database and on a fresh PostgreSQL database
//! (`LINTAS_TEST_POSTGRES_URL`, default `postgres://postgres@127.0.0.1:5432/test`).

#[macro_use]
mod common;

use axum::http::StatusCode;
use axum::Router;
use serde_json::{json, Value};

use common::{assert_error, call, send, VND};

scenarios!(
    register_is_idempotent_and_ids_are_global,
    backward_default_rejects_and_accepts,
    mode_none,
    mode_backward,
    mode_backward_transitive,
    mode_forward,
    mode_forward_transitive,
    mode_full,
    mode_full_transitive,
    lookup_codes,
    versions_and_latest,
    invalid_input_codes,
    config_endpoints,
    soft_and_hard_delete,
    soft_deleted_versions_do_not_constrain,
    content_types,
    schema_id_endpoints,
    concurrent_registration,
    metrics_use_route_templates,
);

// ---------------------------------------------------------------- http helpers

fn schema_body(schema: &str) -> Value {
    json!({ "schema": schema })
}

async fn register(app: &Router, subject: &str, schema: &str) -> (StatusCode, Value) {
    call(
        app,
        "POST",
        &format!("/subjects/{subject}/versions"),
        Some(schema_body(schema)),
    )
    .await
}

async fn register_ok(app: &Router, subject: &str, schema: &str) -> i64 {
    let (status, body) = register(app, subject, schema).await;
    assert_eq!(status, StatusCode::OK, "register in {subject}: {body}");
    body["id"].as_i64().expect("id")
}

async fn set_level(app: &Router, subject: &str, level: &str) {
    let (status, body) = call(
        app,
        "PUT",
        &format!("/config/{subject}"),
        Some(json!({ "compatibility": level })),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body, json!({ "compatibility": level }));
}

async fn versions(app: &Router, subject: &str) -> Value {
    let (status, body) = call(app, "GET", &format!("/subjects/{subject}/versions"), None).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    body
}

// ---------------------------------------------------------------- schemas

/// A `User` record with the given fields, each `(name, type, default)`.
fn user(fields: &[(&str, &str, Option<Value>)]) -> String {
    let fields: Vec<Value> = fields
        .iter()
        .map(|(name, ty, default)| {
            let mut f = json!({ "name": name, "type": ty });
            if let Some(d) = default {
                f["default"] = d.clone();
            }
            f
        })
        .collect();
    json!({ "type": "record", "name": "User", "namespace": "lintas.test", "fields": fields })
        .to_string()
}

fn v_id() -> String {
    user(&[("id", "long", None)])
}

fn v_id_name_default() -> String {
    user(&[("id", "long", None), ("name", "string", Some(json!("")))])
}

fn v_id_name_required() -> String {
    user(&[("id", "long", None), ("name", "string", None)])
}

// ---------------------------------------------------------------- scenarios

async fn register_is_idempotent_and_ids_are_global(app: Router) {
    let id = register_ok(&app, "users-value", &v_id()).await;
    // Same schema with other whitespace and attribute order.
    let reordered = r#"{ "fields" : [ { "type" : "long", "name" : "id" } ],
        "namespace" : "lintas.test", "name" : "User", "type" : "record" }"#;
    assert_eq!(register_ok(&app, "users-value", reordered).await, id);
    assert_eq!(versions(&app, "users-value").await, json!([1]));
    // Ids are global: the same schema under another subject shares the id.
    assert_eq!(register_ok(&app, "accounts-value", &v_id()).await, id);
    assert_eq!(versions(&app, "accounts-value").await, json!([1]));
    // A different schema gets a different id.
    let other = register_ok(&app, "other-value", "\"string\"").await;
    assert_ne!(other, id);
    let (_, subjects) = call(&app, "GET", "/subjects", None).await;
    assert_eq!(
        subjects,
        json!(["accounts-value", "other-value", "users-value"])
    );
}

async fn backward_default_rejects_and_accepts(app: Router) {
    let id1 = register_ok(&app, "s", &v_id()).await;
    let (status, body) = register(&app, "s", &v_id_name_required()).await;
    assert_eq!(status, StatusCode::CONFLICT, "{body}");
    assert_eq!(body["error_code"], json!(409));
    let message = body["message"].as_str().unwrap();
    assert!(
        message.starts_with(
            "Schema being registered is incompatible with an earlier schema for subject \"s\""
        ),
        "{message}"
    );
    assert_eq!(versions(&app, "s").await, json!([1]));

    let id2 = register_ok(&app, "s", &v_id_name_default()).await;
    assert_ne!(id1, id2);
    assert_eq!(versions(&app, "s").await, json!([1, 2]));
    let (_, latest) = call(&app, "GET", "/subjects/s/versions/latest", None).await;
    assert_eq!(latest["version"], json!(2));
    assert_eq!(latest["id"], json!(id2));
}

/// Sets `level` on a fresh subject, registers `history`, then shows `failing`
/// is rejected (by the check endpoint and by registration) and `passing` accepted.
async fn check_mode(
    app: &Router,
    subject: &str,
    level: &str,
    history: &[String],
    failing: &str,
    passing: &str,
) {
    set_level(app, subject, level).await;
    for schema in history {
        register_ok(app, subject, schema).await;
    }
    let uri = format!("/compatibility/subjects/{subject}/versions/latest?verbose=true");
    let (status, body) = call(app, "POST", &uri, Some(schema_body(failing))).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["is_compatible"], json!(false), "{level}: {body}");
    assert!(!body["messages"].as_array().unwrap().is_empty(), "{body}");
    let (status, body) = register(app, subject, failing).await;
    assert_eq!(
        status,
        StatusCode::CONFLICT,
        "{level} should reject: {body}"
    );
    assert_eq!(body["error_code"], json!(409));

    let (_, body) = call(app, "POST", &uri, Some(schema_body(passing))).await;
    assert_eq!(body["is_compatible"], json!(true), "{level}: {body}");
    let (status, body) = register(app, subject, passing).await;
    assert_eq!(status, StatusCode::OK, "{level} should accept: {body}");
    assert_eq!(
        versions(app, subject).await.as_array().unwrap().len(),
        history.len() + 1
    );
}

/// The schema that breaks transitively must pass the non-transitive level.
async fn passes_non_transitive(
    app: &Router,
    subject: &str,
    level: &str,
    history: &[String],
    schema: &str,
) {
    set_level(app, subject, level).await;
    for s in history {
        register_ok(app, subject, s).await;
    }
    let (status, body) = register(app, subject, schema).await;
    assert_eq!(status, StatusCode::OK, "{level} should accept: {body}");
}

async fn mode_none(app: Router) {
    set_level(&app, "none", "NONE").await;
    register_ok(&app, "none", &v_id()).await;
    // Anything goes, even a different type altogether.
    register_ok(&app, "none", "\"string\"").await;
    register_ok(&app, "none", &v_id_name_required()).await;
    assert_eq!(versions(&app, "none").await, json!([1, 2, 3]));
    // The same change is rejected once the subject is not NONE any more.
    set_level(&app, "none", "BACKWARD").await;
    let (status, _) = register(&app, "none", "\"int\"").await;
    assert_eq!(status, StatusCode::CONFLICT);
}

async fn mode_backward(app: Router) {
    check_mode(
        &app,
        "b",
        "BACKWARD",
        &[v_id()],
        &v_id_name_required(),
        &v_id_name_default(),
    )
    .await;
}

async fn mode_backward_transitive(app: Router) {
    // v3 can read v2 (which has `name`) but not v1 (which lacks it, and v3 has no default).
    let history = [v_id(), v_id_name_default()];
    let v3 = v_id_name_required();
    passes_non_transitive(&app, "bt-plain", "BACKWARD", &history, &v3).await;
    let passing = user(&[
        ("id", "long", None),
        ("name", "string", Some(json!(""))),
        ("age", "int", Some(json!(0))),
    ]);
    check_mode(&app, "bt", "BACKWARD_TRANSITIVE", &history, &v3, &passing).await;
}

async fn mode_forward(app: Router) {
    // Adding a required field is fine forward (old readers skip it); dropping one
    // old readers require is not.
    check_mode(
        &app,
        "f",
        "FORWARD",
        &[v_id_name_required()],
        &v_id(),
        &user(&[
            ("id", "long", None),
            ("name", "string", None),
            ("email", "string", None),
        ]),
    )
    .await;
}

async fn mode_forward_transitive(app: Router) {
    // v1 requires `name`, v2 defaults it; dropping it (v3) only v2 can cope with.
    let history = [v_id_name_required(), v_id_name_default()];
    let v3 = v_id();
    passes_non_transitive(&app, "ft-plain", "FORWARD", &history, &v3).await;
    let passing = user(&[
        ("id", "long", None),
        ("name", "string", Some(json!(""))),
        ("email", "string", None),
    ]);
    check_mode(&app, "ft", "FORWARD_TRANSITIVE", &history, &v3, &passing).await;
}

async fn mode_full(app: Router) {
    // Forward-only change (new required field) fails FULL; a defaulted field is fine both ways.
    check_mode(
        &app,
        "full",
        "FULL",
        &[v_id()],
        &v_id_name_required(),
        &v_id_name_default(),
    )
    .await;
    // Backward-only change (dropping a required field) fails FULL too.
    set_level(&app, "full2", "FULL").await;
    register_ok(&app, "full2", &v_id_name_required()).await;
    let (status, _) = register(&app, "full2", &v_id()).await;
    assert_eq!(status, StatusCode::CONFLICT);
}

async fn mode_full_transitive(app: Router) {
    // v3 is fully compatible with v2 but cannot read v1 data.
    let history = [v_id(), v_id_name_default()];
    let v3 = v_id_name_required();
    passes_non_transitive(&app, "fullt-plain", "FULL", &history, &v3).await;
    let passing = user(&[
        ("id", "long", None),
        ("name", "string", Some(json!(""))),
        ("age", "int", Some(json!(0))),
    ]);
    check_mode(&app, "fullt", "FULL_TRANSITIVE", &history, &v3, &passing).await;
}

async fn lookup_codes(app: Router) {
    let id = register_ok(&app, "lk", &v_id()).await;
    register_ok(&app, "lk", &v_id_name_default()).await;
    let (status, body) = call(&app, "POST", "/subjects/lk", Some(schema_body(&v_id()))).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["subject"], json!("lk"));
    assert_eq!(body["id"], json!(id));
    assert_eq!(body["version"], json!(1));
    assert_eq!(body["schema"], json!(v_id()));
    assert_error(
        &app,
        "POST",
        "/subjects/missing",
        Some(schema_body(&v_id())),
        404,
        40401,
    )
    .await;
    assert_error(
        &app,
        "POST",
        "/subjects/lk",
        Some(schema_body(&v_id_name_required())),
        404,
        40403,
    )
    .await;
}

async fn versions_and_latest(app: Router) {
    let id1 = register_ok(&app, "vs", &v_id()).await;
    let id2 = register_ok(&app, "vs", &v_id_name_default()).await;
    assert_eq!(versions(&app, "vs").await, json!([1, 2]));
    let (_, v1) = call(&app, "GET", "/subjects/vs/versions/1", None).await;
    assert_eq!(
        v1,
        json!({ "subject": "vs", "version": 1, "id": id1, "schema": v_id() })
    );
    let (_, latest) = call(&app, "GET", "/subjects/vs/versions/latest", None).await;
    assert_eq!(latest["id"], json!(id2));
    assert!(
        latest.get("schemaType").is_none(),
        "schemaType omitted for AVRO"
    );
    let (status, raw) = call(&app, "GET", "/subjects/vs/versions/2/schema", None).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        raw,
        serde_json::from_str::<Value>(&v_id_name_default()).unwrap()
    );
    assert_error(&app, "GET", "/subjects/vs/versions/3", None, 404, 40402).await;
    assert_error(&app, "GET", "/subjects/nope/versions", None, 404, 40401).await;
    assert_error(&app, "GET", "/subjects/nope/versions/1", None, 404, 40401).await;
    assert_error(&app, "GET", "/subjects/vs/versions/abc", None, 422, 42202).await;
    assert_error(&app, "GET", "/subjects/vs/versions/0", None, 422, 42202).await;
    // Compatibility endpoint against a specific version, and its not-found codes.
    let (_, body) = call(
        &app,
        "POST",
        "/compatibility/subjects/vs/versions/1",
        Some(schema_body(&v_id_name_default())),
    )
    .await;
    assert_eq!(body, json!({ "is_compatible": true }));
    assert_error(
        &app,
        "POST",
        "/compatibility/subjects/vs/versions/9",
        Some(schema_body(&v_id())),
        404,
        40402,
    )
    .await;
    assert_error(
        &app,
        "POST",
        "/compatibility/subjects/nope/versions/latest",
        Some(schema_body(&v_id())),
        404,
        40401,
    )
    .await;
}

async fn invalid_input_codes(app: Router) {
    let uri = "/subjects/bad/versions";
    assert_error(
        &app,
        "POST",
        uri,
        Some(schema_body(r#"{"type":"record"}"#)),
        422,
        42201,
    )
    .await;
    assert_error(&app, "POST", uri, Some(schema_body("not json")), 422, 42201).await;
    assert_error(
        &app,
        "POST",
        uri,
        Some(json!({ "schema": v_id(), "schemaType": "PROTOBUF" })),
        422,
        42201,
    )
    .await;
    // A reference to a version that does not exist.
    let refs =
        json!({ "schema": v_id(), "references": [{ "name": "x", "subject": "y", "version": 1 }] });
    assert_error(&app, "POST", uri, Some(refs), 422, 42201).await;
    assert_error(&app, "POST", uri, Some(json!({})), 422, 42201).await;
    // Explicit AVRO and empty references are fine.
    let ok = json!({ "schema": v_id(), "schemaType": "AVRO", "references": [] });
    let (status, _) = call(&app, "POST", uri, Some(ok)).await;
    assert_eq!(status, StatusCode::OK);
    // Malformed JSON body.
    let (status, body) = send(&app, "POST", uri, Some(VND), b"{oops".to_vec()).await;
    assert_eq!(
        (status.as_u16(), body["error_code"].clone()),
        (422, json!(42201))
    );
    assert_error(&app, "GET", "/no/such/route", None, 404, 404).await;
}

async fn config_endpoints(app: Router) {
    let (_, body) = call(&app, "GET", "/config", None).await;
    assert_eq!(body, json!({ "compatibilityLevel": "BACKWARD" }));
    let (status, body) = call(
        &app,
        "PUT",
        "/config",
        Some(json!({ "compatibility": "FULL" })),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body, json!({ "compatibility": "FULL" }));
    let (_, body) = call(&app, "GET", "/config", None).await;
    assert_eq!(body, json!({ "compatibilityLevel": "FULL" }));

    assert_error(&app, "GET", "/config/cfg", None, 404, 40408).await;
    let (_, body) = call(&app, "GET", "/config/cfg?defaultToGlobal=true", None).await;
    assert_eq!(body, json!({ "compatibilityLevel": "FULL" }));

    // The global FULL level governs a subject without its own level.
    register_ok(&app, "cfg", &v_id_name_required()).await;
    let (status, _) = register(&app, "cfg", &v_id()).await;
    assert_eq!(status, StatusCode::CONFLICT);

    set_level(&app, "cfg", "NONE").await;
    let (_, body) = call(&app, "GET", "/config/cfg", None).await;
    assert_eq!(body, json!({ "compatibilityLevel": "NONE" }));
    register_ok(&app, "cfg", &v_id()).await;

    assert_error(
        &app,
        "PUT",
        "/config/cfg",
        Some(json!({ "compatibility": "SIDEWAYS" })),
        422,
        42203,
    )
    .await;
    assert_error(
        &app,
        "PUT",
        "/config",
        Some(json!({ "compatibility": "SIDEWAYS" })),
        422,
        42203,
    )
    .await;
    let (_, body) = call(&app, "GET", "/config/cfg", None).await;
    assert_eq!(
        body,
        json!({ "compatibilityLevel": "NONE" }),
        "invalid PUT changed nothing"
    );

    let (status, body) = call(&app, "DELETE", "/config/cfg", None).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body, json!({ "compatibilityLevel": "NONE" }));
    assert_error(&app, "GET", "/config/cfg", None, 404, 40408).await;
    assert_error(&app, "DELETE", "/config/cfg", None, 404, 40408).await;
}

async fn soft_and_hard_delete(app: Router) {
    let id1 = register_ok(&app, "del", &v_id()).await;
    let id2 = register_ok(&app, "del", &v_id_name_default()).await;

    assert_error(
        &app,
        "DELETE",
        "/subjects/del/versions/2?permanent=true",
        None,
        404,
        40407,
    )
    .await;
    let (status, body) = call(&app, "DELETE", "/subjects/del/versions/2", None).await;
    assert_eq!((status, body), (StatusCode::OK, json!(2)));
    assert_eq!(versions(&app, "del").await, json!([1]));
    assert_error(&app, "GET", "/subjects/del/versions/2", None, 404, 40402).await;
    let (status, _) = call(&app, "GET", "/subjects/del/versions/2?deleted=true", None).await;
    assert_eq!(status, StatusCode::OK);
    let (_, latest) = call(&app, "GET", "/subjects/del/versions/latest", None).await;
    assert_eq!(latest["version"], json!(1));
    assert_error(
        &app,
        "POST",
        "/subjects/del",
        Some(schema_body(&v_id_name_default())),
        404,
        40403,
    )
    .await;
    assert_error(&app, "DELETE", "/subjects/del/versions/2", None, 404, 40406).await;
    // Readers of old records still resolve the id.
    let (status, body) = call(&app, "GET", &format!("/schemas/ids/{id2}"), None).await;
    assert_eq!(
        (status, body["schema"].clone()),
        (StatusCode::OK, json!(v_id_name_default()))
    );

    let (_, body) = call(
        &app,
        "DELETE",
        "/subjects/del/versions/2?permanent=true",
        None,
    )
    .await;
    assert_eq!(body, json!(2));
    let (_, body) = call(&app, "GET", "/subjects/del/versions?deleted=true", None).await;
    assert_eq!(body, json!([1]));

    assert_error(
        &app,
        "DELETE",
        "/subjects/del?permanent=true",
        None,
        404,
        40405,
    )
    .await;
    let (status, body) = call(&app, "DELETE", "/subjects/del", None).await;
    assert_eq!((status, body), (StatusCode::OK, json!([1])));
    let (_, subjects) = call(&app, "GET", "/subjects", None).await;
    assert_eq!(subjects, json!([]));
    let (_, subjects) = call(&app, "GET", "/subjects?deleted=true", None).await;
    assert_eq!(subjects, json!(["del"]));
    assert_error(&app, "GET", "/subjects/del/versions", None, 404, 40401).await;
    assert_error(
        &app,
        "GET",
        "/subjects/del/versions/latest",
        None,
        404,
        40401,
    )
    .await;
    assert_error(
        &app,
        "POST",
        "/subjects/del",
        Some(schema_body(&v_id())),
        404,
        40401,
    )
    .await;
    assert_error(&app, "DELETE", "/subjects/del", None, 404, 40404).await;

    let (status, body) = call(&app, "DELETE", "/subjects/del?permanent=true", None).await;
    assert_eq!((status, body), (StatusCode::OK, json!([1])));
    let (_, subjects) = call(&app, "GET", "/subjects?deleted=true", None).await;
    assert_eq!(subjects, json!([]));
    assert_error(&app, "DELETE", "/subjects/del", None, 404, 40401).await;
    let (status, _) = call(&app, "GET", &format!("/schemas/ids/{id1}"), None).await;
    assert_eq!(status, StatusCode::OK);

    // A permanently deleted subject starts over at version 1 with the same id.
    assert_eq!(register_ok(&app, "del", &v_id()).await, id1);
    assert_eq!(versions(&app, "del").await, json!([1]));
}

async fn soft_deleted_versions_do_not_constrain(app: Router) {
    register_ok(&app, "sd", &v_id()).await;
    register_ok(&app, "sd", &v_id_name_default()).await;
    // `name` as int cannot read v2's string `name`, but v2 is about to be deleted.
    let retyped = user(&[("id", "long", None), ("name", "int", Some(json!(0)))]);
    let (status, _) = register(&app, "sd", &retyped).await;
    assert_eq!(status, StatusCode::CONFLICT);
    call(&app, "DELETE", "/subjects/sd/versions/2", None).await;
    register_ok(&app, "sd", &retyped).await;
    assert_eq!(versions(&app, "sd").await, json!([1, 3]));
    register_ok(&app, "sd", &v_id()).await;
    assert_eq!(
        versions(&app, "sd").await,
        json!([1, 3]),
        "v1 is still live, so idempotent"
    );
}

async fn content_types(app: Router) {
    let body = schema_body(&v_id()).to_string().into_bytes();
    let mut ids = Vec::new();
    for ct in [
        Some(VND),
        Some("application/vnd.schemaregistry+json"),
        Some("application/json"),
        Some("text/plain; charset=utf-8"),
        None,
    ] {
        let (status, value) = send(&app, "POST", "/subjects/ct/versions", ct, body.clone()).await;
        assert_eq!(status, StatusCode::OK, "{ct:?}: {value}");
        ids.push(value["id"].clone());
        let (status, _) = send(&app, "POST", "/subjects/ct", ct, body.clone()).await;
        assert_eq!(status, StatusCode::OK, "lookup with {ct:?}");
    }
    assert!(ids.windows(2).all(|w| w[0] == w[1]), "{ids:?}");
    let config = json!({ "compatibility": "FULL" }).to_string().into_bytes();
    let (status, _) = send(&app, "PUT", "/config/ct", None, config).await;
    assert_eq!(status, StatusCode::OK);
    // `send` asserts the vnd content type on every response, errors included.
    let (status, _) = send(&app, "GET", "/subjects/none/versions", None, Vec::new()).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}

async fn schema_id_endpoints(app: Router) {
    let id = register_ok(&app, "a", &v_id()).await;
    register_ok(&app, "b", &v_id()).await;
    let (_, body) = call(&app, "GET", &format!("/schemas/ids/{id}"), None).await;
    assert_eq!(body, json!({ "schema": v_id() }));
    let (_, body) = call(&app, "GET", &format!("/schemas/ids/{id}/versions"), None).await;
    assert_eq!(
        body,
        json!([{ "subject": "a", "version": 1 }, { "subject": "b", "version": 1 }])
    );
    assert_error(&app, "GET", "/schemas/ids/999999", None, 404, 40403).await;
    assert_error(&app, "GET", "/schemas/ids/x", None, 404, 40403).await;
    assert_error(
        &app,
        "GET",
        "/schemas/ids/999999/versions",
        None,
        404,
        40403,
    )
    .await;
}

async fn concurrent_registration(app: Router) {
    set_level(&app, "race", "NONE").await;
    // Same schema from many clients at once: one id, one version, everywhere.
    let same: Vec<_> = (0..8)
        .map(|i| {
            let app = app.clone();
            tokio::spawn(async move {
                let subject = if i % 2 == 0 { "race" } else { "race-other" };
                register_ok(&app, subject, &v_id()).await
            })
        })
        .collect();
    let mut ids = Vec::new();
    for task in same {
        ids.push(task.await.unwrap());
    }
    assert!(ids.windows(2).all(|w| w[0] == w[1]), "{ids:?}");
    assert_eq!(versions(&app, "race").await, json!([1]));
    assert_eq!(versions(&app, "race-other").await, json!([1]));

    // Distinct schemas racing into one subject get distinct, gap-free versions.
    let distinct: Vec<_> = (0..6)
        .map(|i| {
            let app = app.clone();
            tokio::spawn(async move {
                register_ok(
                    &app,
                    "race",
                    &format!("{{\"type\":\"fixed\",\"name\":\"F\",\"size\":{}}}", i + 1),
                )
                .await
            })
        })
        .collect();
    for task in distinct {
        task.await.unwrap();
    }
    assert_eq!(versions(&app, "race").await, json!([1, 2, 3, 4, 5, 6, 7]));
}

async fn metrics_use_route_templates(app: Router) {
    register_ok(&app, "metered", &v_id()).await;
    let families = prometheus::gather();
    let requests = families
        .iter()
        .find(|f| f.name() == "lintas_registry_requests_total")
        .expect("request counter registered");
    let labels: Vec<Vec<(String, String)>> = requests
        .get_metric()
        .iter()
        .map(|m| {
            m.get_label()
                .iter()
                .map(|l| (l.name().to_owned(), l.value().to_owned()))
                .collect()
        })
        .collect();
    assert!(
        labels.iter().any(
            |l| l.contains(&("route".into(), "/subjects/{subject}/versions".into()))
                && l.contains(&("method".into(), "POST".into()))
                && l.contains(&("status".into(), "200".into()))
        ),
        "{labels:?}"
    );
    assert!(
        !labels.iter().flatten().any(|(_, v)| v.contains("metered")),
        "raw paths leaked into labels"
    );
    assert!(families
        .iter()
        .any(|f| f.name() == "lintas_registry_request_duration_seconds"));
}
