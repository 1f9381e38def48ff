//! The dashboard page, its data as JSON, and the dead-letter viewer.
//!
//! The page polls `/ops/api/snapshot`; everything it draws comes from there, so the same
//! figures are available to scripts.

use axum::extract::{Path, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};

use crate::{now_ms, Ops};

const PAGE: &str = include_str!("../assets/index.html");
const SCRIPT: &str = include_str!("../assets/app.js");
const STYLE: &str = include_str!("../assets/app.css");

/// `/ops` (the page), `/ops/app.js`, `/ops/app.css`, `/ops/api/snapshot` and
/// `/ops/api/dead-letters/{topic}/{partition}/{offset}`.
pub fn router(ops: Ops) -> Router {
    Router::new()
        .route(
            "/ops",
            get(|| async { asset("text/html; charset=utf-8", PAGE) }),
        )
        .route(
            "/ops/app.js",
            get(|| async { asset("text/javascript; charset=utf-8", SCRIPT) }),
        )
        .route(
            "/ops/app.css",
            get(|| async { asset("text/css; charset=utf-8", STYLE) }),
        )
        .route("/ops/api/snapshot", get(snapshot))
        .route(
            "/ops/api/dead-letters/{topic}/{partition}/{offset}",
            get(dead_letter),
        )
        .with_state(ops)
}

fn asset(content_type: &'static str, body: &'static str) -> Response {
    (
        [
            (header::CONTENT_TYPE, content_type),
            (header::CACHE_CONTROL, "no-cache"),
        ],
        body,
    )
        .into_response()
}

async fn snapshot(State(ops): State<Ops>) -> Json<serde_json::Value> {
    let now = now_ms();
    let mut view = ops.view();
    let minutes = view.minutes.as_mut().map(|s| s.rates(now));
    let hours = view.hours.as_mut().map(|s| s.rates(now));
    let mut alerts: Vec<_> = view.alerts.values().cloned().collect();
    alerts.sort_by_key(|a| std::cmp::Reverse(a.raised_at_ms));
    alerts.truncate(50);
    let open = view
        .alerts
        .values()
        .filter(|a| a.status != "closed")
        .count();
    Json(serde_json::json!({
        "generated_at_ms": now,
        "broker_error": view.broker,
        "events_seen": view.events_seen,
        "throughput": { "minutes": minutes, "hours": hours },
        "groups": view.groups,
        "dead_letters": {
            "topics": view.dead_letter_counts.values().collect::<Vec<_>>(),
            "newest": view.newest_dead_letters,
        },
        "alerts": { "open": open, "newest": alerts },
        "services": view.services,
    }))
}

async fn dead_letter(
    State(ops): State<Ops>,
    Path((topic, partition, offset)): Path<(String, i32, i64)>,
) -> Response {
    match crate::tail::read_dead_letter(&ops, &topic, partition, offset).await {
        Ok(Some(letter)) => Json(letter).into_response(),
        Ok(None) => (
            StatusCode::NOT_FOUND,
            Json(serde_json::json!({
                "error": format!("no dead letter at {topic}/{partition}/{offset} (not a dead-letter topic, or no longer retained)")
            })),
        )
            .into_response(),
        Err(e) => (
            StatusCode::SERVICE_UNAVAILABLE,
            Json(serde_json::json!({ "error": format!("could not read from the broker: {e}") })),
        )
            .into_response(),
    }
}
