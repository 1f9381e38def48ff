//! What UI tools (kafbat UI, AKHQ, Redpanda Console) and Confluent's clients call besides
//! subjects and versions, driven over plain HTTP as they send it: the root, schema types,
//! mode, contexts, the list of all schemas, and schema references. Every scenario runs on
//! SQLite and on PostgreSQL.

#[macro_use]
mod common;

use axum::Router;
use serde_json::{json, Value};

use common::{assert_error, ok};

scenarios!(
    the_endpoints_tools_probe_answer_as_confluent_does,
    all_schemas_are_listed_with_confluents_filters,
    a_schema_using_another_subjects_type_is_registered_and_returned_with_its_references,
    a_version_other_schemas_use_cannot_be_deleted,
    a_changed_referenced_type_is_checked_for_compatibility,
);

fn address(extra_field: bool) -> String {
    let mut fields = vec![json!({ "name": "village_code", "type": "string" })];
    if extra_field {
        fields.push(json!({ "name": "rt", "type": ["null", "string"], "default": null }));
    }
    json!({ "type": "record", "name": "Address", "namespace": "id.lintas", "fields": fields })
        .to_string()
}

fn person() -> String {
    json!({ "type": "record", "name": "Person", "namespace": "id.lintas", "fields": [
        { "name": "home", "type": "Address" },
        { "name": "previous", "type": { "type": "array", "items": "id.lintas.Address" } }
    ]})
    .to_string()
}

fn address_ref(version: i64) -> Value {
    json!([{ "name": "id.lintas.Address", "subject": "address", "version": version }])
}

async fn register(app: &Router, subject: &str, schema: &str, references: Value) -> i64 {
    let body = json!({ "schema": schema, "references": references });
    let answer = ok(
        app,
        "POST",
        &format!("/subjects/{subject}/versions"),
        Some(body),
    )
    .await;
    answer["id"].as_i64().expect("id")
}

/// The probes tools send before anything else: `GET /` answers `{}`, only AVRO is a type,
/// the mode is READWRITE (a subject has none of its own unless asked to default to the
/// global one), the only context is the default one; setting any mode but READWRITE is
/// refused instead of ignored.
async fn the_endpoints_tools_probe_answer_as_confluent_does(app: Router) {
    assert_eq!(ok(&app, "GET", "/", None).await, json!({}));
    assert_eq!(
        ok(&app, "GET", "/schemas/types", None).await,
        json!(["AVRO"])
    );
    assert_eq!(
        ok(&app, "GET", "/mode", None).await,
        json!({ "mode": "READWRITE" })
    );
    assert_error(&app, "GET", "/mode/anything", None, 404, 40409).await;
    let global = ok(&app, "GET", "/mode/anything?defaultToGlobal=true", None).await;
    assert_eq!(global, json!({ "mode": "READWRITE" }));
    assert_eq!(ok(&app, "GET", "/contexts", None).await, json!(["."]));
    let same = Some(json!({ "mode": "READWRITE" }));
    assert_eq!(
        ok(&app, "PUT", "/mode", same).await,
        json!({ "mode": "READWRITE" })
    );
    let readonly = Some(json!({ "mode": "READONLY" }));
    assert_error(&app, "PUT", "/mode", readonly.clone(), 422, 42204).await;
    assert_error(&app, "PUT", "/mode/s", readonly, 422, 42204).await;
}

/// `GET /schemas` lists every version with its schema, and honours `subjectPrefix`,
/// `latestOnly`, `deleted`, `offset` and `limit`; `GET /subjects?subjectPrefix=` too.
async fn all_schemas_are_listed_with_confluents_filters(app: Router) {
    ok(
        &app,
        "PUT",
        "/config/address",
        Some(json!({ "compatibility": "NONE" })),
    )
    .await;
    register(&app, "address", &address(false), json!([])).await;
    register(&app, "address", &address(true), json!([])).await;
    register(&app, "person", &person(), address_ref(2)).await;
    let all = ok(&app, "GET", "/schemas", None).await;
    let listed: Vec<(String, i64)> = pairs(&all);
    assert_eq!(
        listed,
        [
            ("address".into(), 1),
            ("address".into(), 2),
            ("person".into(), 1)
        ]
    );
    assert_eq!(all[0]["schema"].as_str(), Some(address(false).as_str()));
    assert_eq!(all[2]["references"], address_ref(2));
    assert!(all[0].get("references").is_none(), "{}", all[0]);
    let latest = ok(&app, "GET", "/schemas?latestOnly=true", None).await;
    assert_eq!(
        pairs(&latest),
        [("address".into(), 2), ("person".into(), 1)]
    );
    let prefixed = ok(&app, "GET", "/schemas?subjectPrefix=pers", None).await;
    assert_eq!(pairs(&prefixed), [("person".into(), 1)]);
    let page = ok(&app, "GET", "/schemas?offset=1&limit=1", None).await;
    assert_eq!(pairs(&page), [("address".into(), 2)]);
    assert_error(&app, "GET", "/schemas?limit=many", None, 400, 400).await;
    ok(&app, "DELETE", "/subjects/address/versions/1", None).await;
    assert_eq!(pairs(&ok(&app, "GET", "/schemas", None).await).len(), 2);
    assert_eq!(
        pairs(&ok(&app, "GET", "/schemas?deleted=true", None).await).len(),
        3
    );
    let subjects = ok(&app, "GET", "/subjects?subjectPrefix=addr", None).await;
    assert_eq!(subjects, json!(["address"]));
}

fn pairs(list: &Value) -> Vec<(String, i64)> {
    let items = list.as_array().expect("a list");
    items
        .iter()
        .map(|s| {
            (
                s["subject"].as_str().unwrap().to_owned(),
                s["version"].as_i64().unwrap(),
            )
        })
        .collect()
}

/// A schema naming a type of another subject registers with `references`, is found by a
/// lookup with the same references, and comes back with them by id and by version; the
/// same text without references is another schema (it would not parse on its own).
async fn a_schema_using_another_subjects_type_is_registered_and_returned_with_its_references(
    app: Router,
) {
    let address_id = register(&app, "address", &address(false), json!([])).await;
    let id = register(&app, "person", &person(), address_ref(1)).await;
    assert_ne!(id, address_id);
    assert_eq!(
        register(&app, "person", &person(), address_ref(1)).await,
        id,
        "idempotent"
    );
    let by_id = ok(&app, "GET", &format!("/schemas/ids/{id}"), None).await;
    assert_eq!(
        by_id,
        json!({ "schema": person(), "references": address_ref(1) })
    );
    let version = ok(&app, "GET", "/subjects/person/versions/latest", None).await;
    assert_eq!(version["references"], address_ref(1));
    let lookup = json!({ "schema": person(), "references": address_ref(1) });
    let found = ok(&app, "POST", "/subjects/person", Some(lookup)).await;
    assert_eq!(
        (found["id"].as_i64(), found["version"].as_i64()),
        (Some(id), Some(1))
    );
    // Without its references the schema names a type it does not define.
    let bare = json!({ "schema": person() });
    assert_error(
        &app,
        "POST",
        "/subjects/person/versions",
        Some(bare),
        422,
        42201,
    )
    .await;
    let missing = json!({ "schema": person(), "references": address_ref(7) });
    let error = assert_error(
        &app,
        "POST",
        "/subjects/other/versions",
        Some(missing),
        422,
        42201,
    )
    .await;
    assert!(
        error["message"].as_str().unwrap().contains("address"),
        "{error}"
    );
    let users = ok(
        &app,
        "GET",
        "/subjects/address/versions/1/referencedby",
        None,
    )
    .await;
    assert_eq!(users, json!([id]));
}

/// Deleting a version another schema uses would leave that schema unreadable: refused
/// with 42206, soft and permanent, until the user is deleted first.
async fn a_version_other_schemas_use_cannot_be_deleted(app: Router) {
    register(&app, "address", &address(false), json!([])).await;
    register(&app, "person", &person(), address_ref(1)).await;
    assert_error(
        &app,
        "DELETE",
        "/subjects/address/versions/1",
        None,
        422,
        42206,
    )
    .await;
    assert_error(&app, "DELETE", "/subjects/address", None, 422, 42206).await;
    ok(&app, "DELETE", "/subjects/person", None).await;
    ok(&app, "DELETE", "/subjects/address/versions/1", None).await;
    // The soft-deleted user still needs it: no permanent delete before the user's.
    let permanent = "/subjects/address/versions/1?permanent=true";
    assert_error(&app, "DELETE", permanent, None, 422, 42206).await;
    ok(&app, "DELETE", "/subjects/person?permanent=true", None).await;
    ok(&app, "DELETE", permanent, None).await;
}

/// Compatibility sees through references: a new version of the user pointing at a
/// referenced type that gained a field with a default stays BACKWARD compatible, one pointing
/// at a type that lost a field readers need is refused.
async fn a_changed_referenced_type_is_checked_for_compatibility(app: Router) {
    ok(
        &app,
        "PUT",
        "/config/address",
        Some(json!({ "compatibility": "NONE" })),
    )
    .await;
    register(&app, "address", &address(false), json!([])).await;
    register(&app, "address", &address(true), json!([])).await;
    let empty = json!({ "type": "record", "name": "Address", "namespace": "id.lintas",
                        "fields": [{ "name": "rt", "type": "string" }] })
    .to_string();
    register(&app, "address", &empty, json!([])).await;
    register(&app, "person", &person(), address_ref(1)).await;
    let grown = json!({ "schema": person(), "references": address_ref(2) });
    let check = ok(
        &app,
        "POST",
        "/compatibility/subjects/person/versions/latest",
        Some(grown),
    )
    .await;
    assert_eq!(check["is_compatible"], json!(true));
    let broken = json!({ "schema": person(), "references": address_ref(3) });
    let check = ok(
        &app,
        "POST",
        "/compatibility/subjects/person/versions/latest",
        Some(broken.clone()),
    )
    .await;
    assert_eq!(check["is_compatible"], json!(false));
    assert_error(
        &app,
        "POST",
        "/subjects/person/versions",
        Some(broken),
        409,
        409,
    )
    .await;
}
