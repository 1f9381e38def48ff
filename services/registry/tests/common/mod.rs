//! Harness shared by the black-box tests: every scenario runs twice, on an
//! in-memory SQLite database and on a fresh PostgreSQL database
//! (`LINTAS_TEST_POSTGRES_URL`, default `postgres://postgres@127.0.0.1:5432/test`).
#![allow(dead_code, unused_macros)] // each test binary uses a different part

use std::future::Future;
use std::hash::{BuildHasher, Hasher};
use std::sync::LazyLock;

use axum::body::Body;
use axum::http::{header::CONTENT_TYPE, Request, StatusCode};
use axum::Router;
use lintas_registry::{Registry, Users};
use serde_json::Value;
use sqlx::any::AnyPoolOptions;
use sqlx::{AnyPool, Connection};
use tower::ServiceExt;

pub const VND: &str = "application/vnd.schemaregistry.v1+json";

/// One user per role (`user:password`); the helpers below call as the admin unless told.
pub const READER: &str = "reader:reader-password";
pub const WRITER: &str = "writer:writer-password";
pub const ADMIN: &str = "admin:admin-password";

/// The users file of the test registries, hashed once per test binary.
static USERS: LazyLock<String> = LazyLock::new(|| {
    [(READER, "read"), (WRITER, "write"), (ADMIN, "admin")]
        .iter()
        .map(|(info, role)| {
            let (user, password) = info.split_once(':').unwrap();
            format!(
                "{user}:{role}:{}\n",
                lintas_registry::hash_password(password)
            )
        })
        .collect()
});

/// The test registry's users.
pub fn users() -> Users {
    Users::parse(&USERS).expect("test users parse")
}

/// `Authorization` header value of `user_info`.
pub fn basic(user_info: &str) -> String {
    use base64::Engine;
    format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode(user_info)
    )
}

// ---------------------------------------------------------------- harness

/// A registry on a fresh in-memory SQLite database, and its pool.
pub async fn sqlite_registry() -> (Router, AnyPool) {
    sqlx::any::install_default_drivers();
    let pool = AnyPoolOptions::new()
        .max_connections(1)
        // An in-memory database lives exactly as long as its only connection.
        .idle_timeout(None)
        .max_lifetime(None)
        .connect("sqlite::memory:")
        .await
        .expect("sqlite pool");
    let router = Registry::new(pool.clone())
        .await
        .expect("registry")
        .with_users(users())
        .router();
    (router, pool)
}

pub async fn sqlite_router() -> Router {
    sqlite_registry().await.0
}

fn postgres_base() -> String {
    std::env::var("LINTAS_TEST_POSTGRES_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".to_owned())
}

fn with_database(url: &str, db: &str) -> String {
    let (base, _) = url.rsplit_once('/').expect("database url has a path");
    format!("{base}/{db}")
}

/// Runs `scenario` against a throw-away PostgreSQL database, dropping it even
/// when the scenario panics (the panic is re-raised afterwards).
pub async fn with_postgres_pool<F, Fut>(scenario: F)
where
    F: FnOnce(Router, AnyPool) -> Fut,
    Fut: Future<Output = ()> + Send + 'static,
{
    sqlx::any::install_default_drivers();
    let admin_url = postgres_base();
    let name = format!(
        "registry_test_{:016x}",
        std::collections::hash_map::RandomState::new()
            .build_hasher()
            .finish()
    );
    let mut admin = sqlx::AnyConnection::connect(&admin_url)
        .await
        .expect("PostgreSQL reachable (set LINTAS_TEST_POSTGRES_URL)");
    sqlx::raw_sql(&format!("CREATE DATABASE {name}"))
        .execute(&mut admin)
        .await
        .expect("create test database");
    let pool = AnyPoolOptions::new()
        .max_connections(5)
        .connect(&with_database(&admin_url, &name))
        .await
        .expect("test database pool");
    let registry = Registry::new(pool.clone())
        .await
        .expect("registry")
        .with_users(users());
    let outcome = tokio::spawn(scenario(registry.router(), pool.clone())).await;
    pool.close().await;
    sqlx::raw_sql(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
        .execute(&mut admin)
        .await
        .expect("drop test database");
    if let Err(e) = outcome {
        std::panic::resume_unwind(e.into_panic());
    }
}

pub async fn with_postgres<F, Fut>(scenario: F)
where
    F: FnOnce(Router) -> Fut,
    Fut: Future<Output = ()> + Send + 'static,
{
    with_postgres_pool(|router, _| scenario(router)).await;
}

/// One `#[tokio::test]` per scenario `async fn(Router)` and database.
macro_rules! scenarios {
    ($($name:ident),* $(,)?) => {
        mod sqlite {
            $(#[tokio::test]
            async fn $name() {
                super::$name($crate::common::sqlite_router().await).await;
            })*
        }
        mod postgres {
            $(#[tokio::test]
            async fn $name() {
                $crate::common::with_postgres(super::$name).await;
            })*
        }
    };
}

// ---------------------------------------------------------------- http helpers

pub async fn send(
    app: &Router,
    method: &str,
    uri: &str,
    content_type: Option<&str>,
    body: Vec<u8>,
) -> (StatusCode, Value) {
    send_as(app, Some(ADMIN), method, uri, content_type, body).await
}

/// `send` as `user_info` (`user:password`), or anonymously.
pub async fn send_as(
    app: &Router,
    user_info: Option<&str>,
    method: &str,
    uri: &str,
    content_type: Option<&str>,
    body: Vec<u8>,
) -> (StatusCode, Value) {
    let mut req = Request::builder().method(method).uri(uri);
    if let Some(ct) = content_type {
        req = req.header(CONTENT_TYPE, ct);
    }
    if let Some(info) = user_info {
        req = req.header(axum::http::header::AUTHORIZATION, basic(info));
    }
    let response = app
        .clone()
        .oneshot(req.body(Body::from(body)).unwrap())
        .await
        .unwrap();
    let status = response.status();
    assert_eq!(
        response
            .headers()
            .get(CONTENT_TYPE)
            .map(|v| v.to_str().unwrap()),
        Some(VND),
        "{method} {uri} content type"
    );
    let bytes = axum::body::to_bytes(response.into_body(), 1 << 20)
        .await
        .unwrap();
    let value = if bytes.is_empty() {
        Value::Null
    } else {
        serde_json::from_slice(&bytes)
            .unwrap_or_else(|e| panic!("{method} {uri}: non-JSON body {bytes:?}: {e}"))
    };
    if !status.is_success() {
        // Every error must carry the Confluent body shape.
        assert!(value["error_code"].is_u64(), "{method} {uri}: {value}");
        assert!(value["message"].is_string(), "{method} {uri}: {value}");
    }
    (status, value)
}

pub async fn call(
    app: &Router,
    method: &str,
    uri: &str,
    body: Option<Value>,
) -> (StatusCode, Value) {
    let bytes = body.map(|b| b.to_string().into_bytes()).unwrap_or_default();
    send(app, method, uri, Some(VND), bytes).await
}

/// `call`, asserting a 200 answer.
pub async fn ok(app: &Router, method: &str, uri: &str, body: Option<Value>) -> Value {
    let (status, value) = call(app, method, uri, body).await;
    assert_eq!(status, StatusCode::OK, "{method} {uri}: {value}");
    value
}

pub async fn assert_error(
    app: &Router,
    method: &str,
    uri: &str,
    body: Option<Value>,
    status: u16,
    code: u64,
) -> Value {
    let (got, value) = call(app, method, uri, body).await;
    assert_eq!(got.as_u16(), status, "{method} {uri}: {value}");
    assert_eq!(
        value["error_code"],
        serde_json::json!(code),
        "{method} {uri}: {value}"
    );
    value
}
