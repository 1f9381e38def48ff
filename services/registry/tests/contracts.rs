//! Data contracts (`metadata`, `ruleSet`) registered with schemas, as Confluent's
//! clients send them for client-side field-level encryption. Every scenario runs on
//! SQLite and on PostgreSQL.

#[macro_use]
mod common;

use axum::http::StatusCode;
use axum::Router;
use serde_json::{json, Value};

use common::{assert_error, call, ok};

scenarios!(
    contract_is_returned_by_id_version_and_lookup,
    identical_contract_is_idempotent,
    other_rule_set_gets_new_id_and_version,
    contract_is_inherited_from_latest_version,
    inheritance_skips_soft_deleted_versions,
    invalid_rule_sets_are_refused,
    compatibility_ignores_contract,
);

// ---------------------------------------------------------------- fixtures

/// The record of the spec's captures, its `ssn` tagged PII inline.
fn customer() -> String {
    json!({ "type": "record", "name": "Customer", "namespace": "ex", "fields": [
        { "name": "ssn", "type": "string", "confluent:tags": ["PII"] },
    ]})
    .to_string()
}

/// `customer` plus a defaulted field: a BACKWARD-compatible next version.
fn customer_v2() -> String {
    json!({ "type": "record", "name": "Customer", "namespace": "ex", "fields": [
        { "name": "ssn", "type": "string", "confluent:tags": ["PII"] },
        { "name": "name", "type": "string", "default": "" },
    ]})
    .to_string()
}

/// The ENCRYPT rule as confluent-kafka-python 2.16 sends it (see the spec's capture).
fn encrypt_rules(kek: &str) -> Value {
    json!({ "domainRules": [{
        "name": "encryptPII", "doc": "doc", "kind": "TRANSFORM", "mode": "WRITEREAD",
        "type": "ENCRYPT", "tags": ["PII"],
        "params": { "encrypt.kek.name": kek, "encrypt.kms.type": "local-kms",
                    "encrypt.kms.key.id": "mykey" },
        "onFailure": "ERROR,NONE", "disabled": false,
    }]})
}

fn metadata() -> Value {
    json!({ "tags": {}, "properties": { "owner": "x" }, "sensitive": ["s"] })
}

/// The metadata as the registry returns it: canonical, empty parts left out.
fn metadata_returned() -> Value {
    json!({ "properties": { "owner": "x" }, "sensitive": ["s"] })
}

/// A register/lookup body shaped like the Python client's.
fn body(schema: &str, metadata: Option<Value>, rule_set: Option<Value>) -> Value {
    let mut body = json!({ "schema": schema, "schemaType": "AVRO", "references": [] });
    if let Some(m) = metadata {
        body["metadata"] = m;
    }
    if let Some(r) = rule_set {
        body["ruleSet"] = r;
    }
    body
}

async fn register(app: &Router, subject: &str, body: Value) -> i64 {
    let uri = format!("/subjects/{subject}/versions?normalize=False");
    ok(app, "POST", &uri, Some(body)).await["id"]
        .as_i64()
        .expect("id")
}

async fn versions(app: &Router, subject: &str) -> Value {
    ok(app, "GET", &format!("/subjects/{subject}/versions"), None).await
}

// ---------------------------------------------------------------- scenarios

/// A schema registered with metadata and an encryption ruleSet comes back with both
/// wherever a client reads it: by id (with the deserializer's `subject=`/`format=`
/// query), by version, as `latest`/`-1`, and from lookup.
async fn contract_is_returned_by_id_version_and_lookup(app: Router) {
    let request = body(&customer(), Some(metadata()), Some(encrypt_rules("kek1")));
    let id = register(&app, "t-value", request.clone()).await;

    for uri in [
        format!("/schemas/ids/{id}"),
        format!("/schemas/ids/{id}?subject=t-value"),
        format!("/schemas/ids/{id}?subject=t-value&format=resolved"),
    ] {
        let by_id = ok(&app, "GET", &uri, None).await;
        assert_eq!(
            by_id,
            json!({ "schema": customer(), "metadata": metadata_returned(),
                    "ruleSet": encrypt_rules("kek1") }),
            "{uri}"
        );
    }
    let expected = json!({
        "subject": "t-value", "version": 1, "id": id, "schema": customer(),
        "metadata": metadata_returned(), "ruleSet": encrypt_rules("kek1"),
    });
    for version in ["1", "latest", "-1"] {
        let uri = format!("/subjects/t-value/versions/{version}?deleted=false");
        assert_eq!(ok(&app, "GET", &uri, None).await, expected, "{uri}");
    }
    let uri = "/subjects/t-value?normalize=False&deleted=False";
    assert_eq!(ok(&app, "POST", uri, Some(request)).await, expected);
    // The bare-schema endpoint stays bare.
    let raw = ok(&app, "GET", "/subjects/t-value/versions/1/schema", None).await;
    assert_eq!(raw, serde_json::from_str::<Value>(&customer()).unwrap());
}

/// Registering the same schema with the same contract again, even with keys, tags
/// and defaults spelled differently, returns the same id and adds no version.
async fn identical_contract_is_idempotent(app: Router) {
    let id = register(
        &app,
        "s",
        body(&customer(), Some(metadata()), Some(encrypt_rules("k"))),
    )
    .await;
    let respelled_rules = json!({ "domainRules": [{
        "params": { "encrypt.kms.key.id": "mykey", "encrypt.kms.type": "local-kms",
                    "encrypt.kek.name": "k" },
        "tags": ["PII"], "type": "ENCRYPT", "onFailure": "ERROR,NONE", "name": "encryptPII",
        "doc": "doc", "expr": null,
    }], "migrationRules": [] });
    let respelled_meta = json!({ "sensitive": ["s"], "properties": { "owner": "x" } });
    let again = register(
        &app,
        "s",
        body(&customer(), Some(respelled_meta), Some(respelled_rules)),
    )
    .await;
    assert_eq!(again, id);
    assert_eq!(versions(&app, "s").await, json!([1]));
    // Ids are global: the same schema and contract under another subject shares it.
    let elsewhere = register(
        &app,
        "other",
        body(&customer(), Some(metadata()), Some(encrypt_rules("k"))),
    )
    .await;
    assert_eq!(elsewhere, id);
}

/// The id names (schema, metadata, ruleSet): the same schema text with another
/// ruleSet is a new id and a new version; without any contract it is a third id.
async fn other_rule_set_gets_new_id_and_version(app: Router) {
    let first = register(&app, "s", body(&customer(), None, Some(encrypt_rules("a")))).await;
    let second = register(&app, "s", body(&customer(), None, Some(encrypt_rules("b")))).await;
    assert_ne!(first, second);
    assert_eq!(versions(&app, "s").await, json!([1, 2]));
    let v2 = ok(&app, "GET", "/subjects/s/versions/2", None).await;
    assert_eq!(v2["ruleSet"], encrypt_rules("b"));
    assert!(v2.get("metadata").is_none(), "{v2}");
    let by_id = ok(&app, "GET", &format!("/schemas/ids/{first}"), None).await;
    assert_eq!(by_id["ruleSet"], encrypt_rules("a"));

    // Metadata alone also makes a distinct id.
    let with_meta = register(&app, "m", body(&customer(), Some(metadata()), None)).await;
    assert_ne!(with_meta, first);
    assert_ne!(with_meta, second);
    // A fresh subject without contract gets the plain schema's own id.
    let plain = register(&app, "plain", body(&customer(), None, None)).await;
    assert!(![first, second, with_meta].contains(&plain));
    let plain_by_id = ok(&app, "GET", &format!("/schemas/ids/{plain}"), None).await;
    assert_eq!(plain_by_id, json!({ "schema": customer() }));
}

/// Confluent's inheritance rule: a schema registered or looked up without
/// metadata/ruleSet under a subject whose latest version has them carries them over,
/// so a stock producer auto-registering the plain schema keeps the encryption rule.
/// An explicitly empty part stops the inheritance.
async fn contract_is_inherited_from_latest_version(app: Router) {
    let id = register(
        &app,
        "t-value",
        body(&customer(), Some(metadata()), Some(encrypt_rules("kek1"))),
    )
    .await;
    // Auto-registering the plain schema is idempotent: same id, no new version.
    assert_eq!(
        register(&app, "t-value", body(&customer(), None, None)).await,
        id
    );
    assert_eq!(versions(&app, "t-value").await, json!([1]));
    // Lookup of the plain schema finds the version with the contract.
    let found = ok(
        &app,
        "POST",
        "/subjects/t-value",
        Some(body(&customer(), None, None)),
    )
    .await;
    assert_eq!(
        (found["id"].clone(), found["ruleSet"].clone()),
        (json!(id), encrypt_rules("kek1"))
    );

    // A new plain schema becomes version 2 and inherits both parts.
    let v2 = register(&app, "t-value", body(&customer_v2(), None, None)).await;
    assert_ne!(v2, id);
    let latest = ok(&app, "GET", "/subjects/t-value/versions/latest", None).await;
    assert_eq!(latest["version"], json!(2));
    assert_eq!(latest["ruleSet"], encrypt_rules("kek1"));
    assert_eq!(latest["metadata"], metadata_returned());
    let by_id = ok(&app, "GET", &format!("/schemas/ids/{v2}"), None).await;
    assert_eq!(by_id["ruleSet"], encrypt_rules("kek1"));

    // Only the missing part is inherited: a new ruleSet keeps the latest's metadata.
    let v3 = register(
        &app,
        "t-value",
        body(&customer_v2(), None, Some(encrypt_rules("kek2"))),
    )
    .await;
    let latest = ok(&app, "GET", &format!("/schemas/ids/{v3}"), None).await;
    assert_eq!(latest["ruleSet"], encrypt_rules("kek2"));
    assert_eq!(latest["metadata"], metadata_returned());

    // Explicitly empty parts drop the contract: a new version without one.
    let bare = register(
        &app,
        "t-value",
        body(&customer_v2(), Some(json!({})), Some(json!({}))),
    )
    .await;
    let latest = ok(&app, "GET", "/subjects/t-value/versions/latest", None).await;
    assert_eq!(
        latest,
        json!({ "subject": "t-value", "version": 4, "id": bare, "schema": customer_v2() })
    );
    // A subject that never had a contract inherits nothing.
    let plain = register(&app, "plain", body(&customer(), None, None)).await;
    let by_id = ok(&app, "GET", &format!("/schemas/ids/{plain}"), None).await;
    assert_eq!(by_id, json!({ "schema": customer() }));
}

/// Inheritance takes the latest *live* version: once the version carrying the rules
/// is soft-deleted, a plain registration no longer picks them up.
async fn inheritance_skips_soft_deleted_versions(app: Router) {
    let plain = register(&app, "s", body(&customer(), None, None)).await;
    register(
        &app,
        "s",
        body(&customer_v2(), None, Some(encrypt_rules("k"))),
    )
    .await;
    let (status, _) = call(&app, "DELETE", "/subjects/s/versions/2", None).await;
    assert_eq!(status, StatusCode::OK);
    // Version 1 (no contract) is now the latest live one: plain is idempotent again.
    assert_eq!(
        register(&app, "s", body(&customer(), None, None)).await,
        plain
    );
    let v3 = register(&app, "s", body(&customer_v2(), None, None)).await;
    let by_id = ok(&app, "GET", &format!("/schemas/ids/{v3}"), None).await;
    assert!(by_id.get("ruleSet").is_none(), "{by_id}");
    assert_eq!(versions(&app, "s").await, json!([1, 3]));
}

/// Malformed rules are refused with Confluent's invalid-ruleSet error (422, 42210)
/// and nothing is registered; a reference to a version that does not exist is refused (42201).
async fn invalid_rule_sets_are_refused(app: Router) {
    let rule = |patch: Value| {
        let mut r = encrypt_rules("k")["domainRules"][0].clone();
        for (k, v) in patch.as_object().unwrap() {
            r[k] = v.clone();
        }
        r
    };
    let bad_sets = [
        json!({ "domainRules": [rule(json!({ "kind": "MUTATE" }))] }),
        json!({ "domainRules": [rule(json!({ "mode": "SOMETIMES" }))] }),
        json!({ "domainRules": [rule(json!({ "name": "" }))] }),
        json!({ "domainRules": [rule(json!({ "name": null }))] }),
        json!({ "domainRules": [rule(json!({})), rule(json!({ "tags": ["X"] }))] }),
        json!({ "domainRules": [rule(json!({}))],
                "migrationRules": [rule(json!({ "mode": "UPGRADE" }))] }),
        json!({ "domainRules": [rule(json!({ "mode": "UPGRADE" }))] }),
        json!({ "domainRules": "not a list" }),
    ];
    for rules in bad_sets {
        let request = body(&customer(), None, Some(rules.clone()));
        let error = assert_error(
            &app,
            "POST",
            "/subjects/bad/versions",
            Some(request.clone()),
            422,
            42210,
        )
        .await;
        assert!(!error["message"].as_str().unwrap().is_empty(), "{rules}");
        assert_error(&app, "POST", "/subjects/bad", Some(request), 422, 42210).await;
    }
    assert_error(&app, "GET", "/subjects/bad/versions", None, 404, 40401).await;
    let refs = json!({ "schema": customer(), "ruleSet": encrypt_rules("k"),
                       "references": [{ "name": "x", "subject": "y", "version": 1 }] });
    assert_error(
        &app,
        "POST",
        "/subjects/bad/versions",
        Some(refs),
        422,
        42201,
    )
    .await;
    let meta = body(
        &customer(),
        Some(json!({ "properties": ["not", "a", "map"] })),
        None,
    );
    assert_error(
        &app,
        "POST",
        "/subjects/bad/versions",
        Some(meta),
        422,
        42201,
    )
    .await;
}

/// The compatibility endpoint accepts contracts and judges the Avro schema alone.
async fn compatibility_ignores_contract(app: Router) {
    register(&app, "c", body(&customer(), None, Some(encrypt_rules("k")))).await;
    let uri = "/compatibility/subjects/c/versions/latest?verbose=true";
    let compatible = body(
        &customer_v2(),
        Some(metadata()),
        Some(encrypt_rules("other")),
    );
    let answer = ok(&app, "POST", uri, Some(compatible)).await;
    assert_eq!(answer["is_compatible"], json!(true), "{answer}");
    let breaking = json!({ "type": "record", "name": "Customer", "namespace": "ex",
        "fields": [{ "name": "ssn", "type": "int" }] })
    .to_string();
    let answer = ok(
        &app,
        "POST",
        uri,
        Some(body(&breaking, None, Some(encrypt_rules("k")))),
    )
    .await;
    assert_eq!(answer["is_compatible"], json!(false), "{answer}");
    // Registration applies the same judgement (409), with or without a contract.
    assert_error(
        &app,
        "POST",
        "/subjects/c/versions",
        Some(body(&breaking, None, None)),
        409,
        409,
    )
    .await;
}
