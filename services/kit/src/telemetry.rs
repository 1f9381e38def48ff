//! Logs, metrics and health endpoints shared by every service.

use std::collections::BTreeMap;
use std::sync::{Arc, RwLock};
use std::time::Instant;

use axum::extract::{MatchedPath, Request, State};
use axum::http::StatusCode;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use prometheus::{Encoder, TextEncoder};

use crate::metrics::{HTTP_DURATION, HTTP_REQUESTS};

/// Installs the global `tracing` subscriber: human-readable by default, JSON lines when
/// `json` is set (`--log-json`, or `LINTAS_LOG_JSON=true`). Filter with `RUST_LOG`. Safe to
/// call twice.
pub fn init_logging(json: bool) {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| {
        tracing_subscriber::EnvFilter::new("info,librdkafka=warn,rdkafka=warn,sqlx=warn")
    });
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_target(true);
    let _ = if json {
        builder.json().try_init()
    } else {
        builder.try_init()
    };
}

/// Logging for a command-line tool whose standard output is its answer (a table, JSON for
/// scripts): log lines go to standard error, warnings and errors only unless `RUST_LOG` says
/// otherwise.
pub fn init_tool_logging(json: bool) {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn,librdkafka=error"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_target(true)
        .with_writer(std::io::stderr);
    let _ = if json {
        builder.json().try_init()
    } else {
        builder.try_init()
    };
}

/// Readiness of a service's parts. A part that never reported is not ready.
#[derive(Clone, Default)]
pub struct Health {
    parts: Arc<RwLock<BTreeMap<String, Result<(), String>>>>,
    /// Things an operator must know that do not stop the service (records a broker skipped).
    warnings: Arc<RwLock<BTreeMap<String, String>>>,
}

impl Health {
    pub fn new() -> Self {
        Self::default()
    }

    /// Declares a part that must become ready before the service is.
    pub fn register(&self, part: &str) {
        self.parts
            .write()
            .expect("lock")
            .entry(part.into())
            .or_insert_with(|| Err("starting".into()));
    }

    pub fn ready(&self, part: &str) {
        self.parts
            .write()
            .expect("lock")
            .insert(part.into(), Ok(()));
    }

    pub fn not_ready(&self, part: &str, reason: impl Into<String>) {
        self.parts
            .write()
            .expect("lock")
            .insert(part.into(), Err(reason.into()));
    }

    /// Records a warning for `part` (the newest one per part is kept), shown by `/readyz`.
    pub fn warn(&self, part: &str, message: impl Into<String>) {
        self.warnings
            .write()
            .expect("lock")
            .insert(part.into(), message.into());
    }

    pub fn warnings(&self) -> BTreeMap<String, String> {
        self.warnings.read().expect("lock").clone()
    }

    pub fn is_ready(&self) -> bool {
        self.parts.read().expect("lock").values().all(Result::is_ok)
    }

    /// Each part with `"ok"` or the reason it is not ready.
    pub fn report(&self) -> BTreeMap<String, String> {
        self.parts
            .read()
            .expect("lock")
            .iter()
            .map(|(k, v)| {
                (
                    k.clone(),
                    v.as_ref()
                        .map(|_| "ok".to_string())
                        .unwrap_or_else(Clone::clone),
                )
            })
            .collect()
    }
}

/// `/livez`, `/readyz` and `/metrics`.
pub fn ops_router(health: Health) -> Router {
    health_router(health).merge(metrics_router())
}

/// `/livez` and `/readyz`.
pub fn health_router(health: Health) -> Router {
    Router::new()
        .route("/livez", get(|| async { "ok" }))
        .route("/readyz", get(readyz))
        .with_state(health)
}

/// `/metrics` alone, for a listener of its own (`lintas ops --metrics-listen`).
pub fn metrics_router() -> Router {
    Router::new().route("/metrics", get(metrics))
}

async fn readyz(State(health): State<Health>) -> Response {
    let status = if health.is_ready() {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    (
        status,
        Json(serde_json::json!({
            "ready": health.is_ready(),
            "parts": health.report(),
            "warnings": health.warnings(),
        })),
    )
        .into_response()
}

async fn metrics() -> Response {
    let mut buffer = Vec::new();
    let encoder = TextEncoder::new();
    if let Err(e) = encoder.encode(&prometheus::gather(), &mut buffer) {
        return (StatusCode::INTERNAL_SERVER_ERROR, e.to_string()).into_response();
    }
    (
        [(
            axum::http::header::CONTENT_TYPE,
            encoder.format_type().to_string(),
        )],
        buffer,
    )
        .into_response()
}

/// Middleware counting requests and their duration by matched route (never the raw path,
/// which would carry subject keys into metric labels) and by a method from a fixed set:
/// neither label can take a value a client chooses. [`crate::http::serve`] applies it.
pub async fn track_http(request: Request, next: Next) -> Response {
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map(|p| p.as_str().to_owned())
        .unwrap_or_else(|| "unmatched".into());
    let method = crate::http::method_label(request.method());
    let started = Instant::now();
    let response = next.run(request).await;
    HTTP_DURATION
        .with_label_values(&[&route, method])
        .observe(started.elapsed().as_secs_f64());
    HTTP_REQUESTS
        .with_label_values(&[&route, method, response.status().as_str()])
        .inc();
    response
}
