//! Black-box tests of the registry's credentials: HTTP Basic as Confluent's clients send it,
//! roles read, write and admin, refusals in Confluent's error body, and metric labels from a
//! fixed set.

mod common;

use axum::body::Body;
use axum::http::{header, Request, StatusCode};
use axum::Router;
use prometheus::Encoder;
use serde_json::{json, Value};
use tower::ServiceExt;

use common::{basic, send_as, ADMIN, READER, VND, WRITER};

const SCHEMA: &str = r#"{"type":"record","name":"R","fields":[{"name":"a","type":"int"}]}"#;

async fn as_user(
    app: &Router,
    user: Option<&str>,
    method: &str,
    uri: &str,
    body: Option<Value>,
) -> (StatusCode, Value) {
    let bytes = body.map(|b| b.to_string().into_bytes()).unwrap_or_default();
    send_as(app, user, method, uri, Some(VND), bytes).await
}

fn register_body() -> Option<Value> {
    Some(json!({ "schema": SCHEMA }))
}

/// An anonymous registration is refused with 401, a `WWW-Authenticate: Basic` challenge and
/// Confluent's error body (code 40101); so is a wrong password.
#[tokio::test]
async fn anonymous_or_wrong_password_is_401() {
    let app = common::sqlite_router().await;
    let response = app
        .clone()
        .oneshot(
            Request::builder()
                .method("POST")
                .uri("/subjects/s/versions")
                .header(header::CONTENT_TYPE, VND)
                .body(Body::from(register_body().unwrap().to_string()))
                .unwrap(),
        )
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(
        response.headers()[header::WWW_AUTHENTICATE],
        "Basic realm=\"lintas-registry\""
    );
    let (status, body) = as_user(&app, None, "GET", "/subjects", None).await;
    assert_eq!(
        (status.as_u16(), body["error_code"].clone()),
        (401, json!(40101))
    );
    let (status, body) = as_user(
        &app,
        Some("writer:not-the-password"),
        "POST",
        "/subjects/s/versions",
        register_body(),
    )
    .await;
    assert_eq!(
        (status.as_u16(), body["error_code"].clone()),
        (401, json!(40101))
    );
}

/// The read credential reads and looks schemas up, but registering is refused with 403
/// (Confluent's code 40301).
#[tokio::test]
async fn read_only_credential_writing_is_403() {
    let app = common::sqlite_router().await;
    let (status, body) = as_user(
        &app,
        Some(READER),
        "POST",
        "/subjects/s/versions",
        register_body(),
    )
    .await;
    assert_eq!(
        (status.as_u16(), body["error_code"].clone()),
        (403, json!(40301)),
        "{body}"
    );
    let (status, _) = as_user(
        &app,
        Some(WRITER),
        "POST",
        "/subjects/s/versions",
        register_body(),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    for (method, uri, body) in [
        ("GET", "/subjects", None),
        ("GET", "/subjects/s/versions/latest", None),
        ("GET", "/schemas/ids/1", None),
        ("GET", "/config", None),
        ("POST", "/subjects/s", register_body()),
        (
            "POST",
            "/compatibility/subjects/s/versions/latest",
            register_body(),
        ),
    ] {
        let (status, answer) = as_user(&app, Some(READER), method, uri, body).await;
        assert_eq!(status, StatusCode::OK, "{method} {uri}: {answer}");
    }
}

/// Deletes and configuration changes need the admin role: the read and write credentials are
/// refused with 403, the admin one succeeds.
#[tokio::test]
async fn deletes_and_config_need_admin() {
    let app = common::sqlite_router().await;
    as_user(
        &app,
        Some(WRITER),
        "POST",
        "/subjects/s/versions",
        register_body(),
    )
    .await;
    let config = Some(json!({ "compatibility": "NONE" }));
    for user in [READER, WRITER] {
        for (method, uri, body) in [
            ("DELETE", "/subjects/s", None),
            ("DELETE", "/subjects/s/versions/1", None),
            ("PUT", "/config", config.clone()),
            ("PUT", "/config/s", config.clone()),
        ] {
            let (status, answer) = as_user(&app, Some(user), method, uri, body).await;
            assert_eq!(
                (status.as_u16(), answer["error_code"].clone()),
                (403, json!(40301)),
                "{user} {method} {uri}: {answer}"
            );
        }
    }
    let (status, _) = as_user(&app, Some(ADMIN), "PUT", "/config", config).await;
    assert_eq!(status, StatusCode::OK);
    let (status, answer) = as_user(&app, Some(ADMIN), "DELETE", "/subjects/s", None).await;
    assert_eq!((status, answer), (StatusCode::OK, json!([1])));
}

/// A method the route table does not name needs admin (the write credential gets 403); a path
/// that is no route answers 404 to any user, and 401 to nobody in particular.
#[tokio::test]
async fn unclassified_methods_need_admin() {
    let app = common::sqlite_router().await;
    let (status, _) = as_user(&app, Some(WRITER), "PATCH", "/subjects", None).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (status, _) = as_user(&app, Some(ADMIN), "PATCH", "/subjects", None).await;
    assert_eq!(status, StatusCode::METHOD_NOT_ALLOWED);
    let (status, _) = as_user(&app, Some(READER), "DELETE", "/no-such-route", None).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, _) = as_user(&app, None, "GET", "/no-such-route", None).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    // Setting the mode is configuration: admin only, like `PUT /config`.
    let (status, _) = as_user(&app, Some(WRITER), "PUT", "/mode", None).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
}

fn metric_lines(name: &str) -> Vec<String> {
    let mut buffer = Vec::new();
    prometheus::TextEncoder::new()
        .encode(&prometheus::gather(), &mut buffer)
        .unwrap();
    String::from_utf8(buffer)
        .unwrap()
        .lines()
        .filter(|l| l.starts_with(name))
        .map(str::to_string)
        .collect()
}

/// Requests with made-up methods (`curl -X RANDOM`) are counted under `method="OTHER"`: no new
/// series per method; refusals are counted by reason.
#[tokio::test]
async fn random_methods_add_no_metric_series() {
    let app = common::sqlite_router().await;
    for (n, user) in [None, Some(ADMIN), Some(READER)].into_iter().enumerate() {
        let method = format!("X{n}RANDOM{}", std::process::id());
        let req = Request::builder().method(method.as_str()).uri("/subjects");
        let req = match user {
            Some(u) => req.header(header::AUTHORIZATION, basic(u)),
            None => req,
        };
        let response = app
            .clone()
            .oneshot(req.body(Body::empty()).unwrap())
            .await
            .unwrap();
        assert!(response.status().is_client_error());
    }
    let lines = metric_lines("lintas_registry_request");
    assert!(!lines.is_empty());
    assert!(!lines.iter().any(|l| l.contains("RANDOM")), "{lines:#?}");
    assert!(
        lines.iter().any(|l| l.contains("method=\"OTHER\"")),
        "{lines:#?}"
    );
    let failures = metric_lines("lintas_registry_auth_failures_total");
    for reason in ["missing", "malformed", "bad_credentials", "forbidden"] {
        assert!(
            failures
                .iter()
                .any(|l| l.contains(&format!("reason=\"{reason}\""))),
            "{failures:#?}"
        );
    }
    assert_eq!(failures.len(), 4, "{failures:#?}");
}

/// Nested under a prefix (as `lintas up` serves it under `/registry`), each route keeps its
/// role: the read credential reads and looks up, and may not register.
#[tokio::test]
async fn nested_under_a_prefix_keeps_the_roles() {
    let app = Router::new().nest("/registry", common::sqlite_router().await);
    let (status, _) = as_user(
        &app,
        Some(WRITER),
        "POST",
        "/registry/subjects/s/versions",
        register_body(),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    let (status, _) = as_user(&app, Some(READER), "GET", "/registry/subjects", None).await;
    assert_eq!(status, StatusCode::OK);
    let (status, _) = as_user(
        &app,
        Some(READER),
        "POST",
        "/registry/subjects/s",
        register_body(),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    let (status, _) = as_user(
        &app,
        Some(READER),
        "POST",
        "/registry/subjects/s/versions",
        register_body(),
    )
    .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (status, _) = as_user(&app, None, "GET", "/registry/subjects", None).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
}
