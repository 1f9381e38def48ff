//! Every HTTP server Lintas opens is served by [`serve`], one way:
//!
//! - a client has `--http-header-timeout-secs` (10) to send a request's headers (and to finish
//!   a TLS handshake); a slow client (slowloris) or an idle keep-alive connection is then
//!   disconnected;
//! - a request has `--http-request-timeout-secs` (30) from its headers to its answer, body
//!   included; beyond it the answer is `408`;
//! - at most `--http-max-connections` (1024) connections are served at once; further
//!   connections wait in the listen backlog until one closes (they are not refused);
//! - a body larger than `--http-max-body-bytes` (1 MiB; a route may set less, the intakes take
//!   64 KiB) is refused with `413`;
//! - with `--tls-cert` and `--tls-key` (PEM files) it serves HTTPS with rustls, re-reading the
//!   files at the next handshake after either changes;
//! - every `4xx`/`5xx` answer is JSON, `{"error": …}` (validation adds
//!   `"fields":[{"field","message"}]`): axum's own refusals (bad JSON, query or path, unknown
//!   route, wrong method, body too large, wrong content type) are rewritten to it;
//! - request metrics are labelled by route template (or `unmatched`) and by a method from a
//!   fixed set ([`method_label`]), so no request can create new series.
//!
//! JSON bodies are read with [`StrictJson`] (or [`parse_body`]): duplicate keys at any depth
//! and control or invisible formatting characters in strings are refused with the field named.

mod json;
mod tls;

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use axum::body::Body;
use axum::extract::{DefaultBodyLimit, Request, State};
use axum::http::{header, HeaderValue, Method, StatusCode};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::{Json, Router};
use clap::Args;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::service::TowerToHyperService;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::TcpListener;
use tokio::sync::Semaphore;

pub use json::{parse, parse_body, refused_character, BodyError, StrictJson, CHARACTERS_MESSAGE};

use crate::shutdown::Shutdown;

/// Limits and TLS of an HTTP server; every service takes them as flags or `LINTAS_HTTP_*` /
/// `LINTAS_TLS_*` variables.
#[derive(Args, Clone, Debug)]
pub struct HttpSettings {
    /// Seconds a client has to send a request's headers (and to finish a TLS handshake); a
    /// slower client, or a keep-alive connection idle that long, is disconnected.
    #[arg(
        long = "http-header-timeout-secs",
        env = "LINTAS_HTTP_HEADER_TIMEOUT_SECS",
        default_value_t = 10
    )]
    pub header_timeout_secs: u64,
    /// Seconds a request may take from its headers to its answer, body included; beyond it
    /// the answer is 408.
    #[arg(
        long = "http-request-timeout-secs",
        env = "LINTAS_HTTP_REQUEST_TIMEOUT_SECS",
        default_value_t = 30
    )]
    pub request_timeout_secs: u64,
    /// Connections served at once; further connections wait in the listen backlog until one
    /// closes.
    #[arg(
        long = "http-max-connections",
        env = "LINTAS_HTTP_MAX_CONNECTIONS",
        default_value_t = 1024
    )]
    pub max_connections: usize,
    /// Largest request body in bytes (a route may accept less: the intakes take 64 KiB);
    /// larger bodies get 413.
    #[arg(
        long = "http-max-body-bytes",
        env = "LINTAS_HTTP_MAX_BODY_BYTES",
        default_value_t = 1024 * 1024
    )]
    pub max_body_bytes: usize,
    /// PEM certificate chain: serve HTTPS (with --tls-key). Both files are read again at the
    /// next TLS handshake after either changes (certificate rotation without a restart).
    #[arg(
        id = "http_tls_cert",
        long = "tls-cert",
        env = "LINTAS_TLS_CERT",
        requires = "http_tls_key"
    )]
    pub tls_cert: Option<PathBuf>,
    /// PEM private key of --tls-cert.
    #[arg(
        id = "http_tls_key",
        long = "tls-key",
        env = "LINTAS_TLS_KEY",
        requires = "http_tls_cert"
    )]
    pub tls_key: Option<PathBuf>,
}

impl Default for HttpSettings {
    /// The flags' defaults: plain HTTP.
    fn default() -> Self {
        HttpSettings {
            header_timeout_secs: 10,
            request_timeout_secs: 30,
            max_connections: 1024,
            max_body_bytes: 1024 * 1024,
            tls_cert: None,
            tls_key: None,
        }
    }
}

impl HttpSettings {
    fn header_timeout(&self) -> Duration {
        Duration::from_secs(self.header_timeout_secs.max(1))
    }

    fn request_timeout(&self) -> Duration {
        Duration::from_secs(self.request_timeout_secs.max(1))
    }

    /// `https` with a certificate, else `http`.
    pub fn scheme(&self) -> &'static str {
        if self.tls_cert.is_some() {
            "https"
        } else {
            "http"
        }
    }
}

/// Serves `router` on `listener` with the limits, error shape, metrics and TLS of `settings`
/// until `shutdown`; then stops accepting, lets each connection finish its request and waits
/// for them.
pub async fn serve(
    listener: TcpListener,
    router: Router,
    settings: &HttpSettings,
    shutdown: Shutdown,
) -> anyhow::Result<()> {
    let tls = match (&settings.tls_cert, &settings.tls_key) {
        (Some(cert), Some(key)) => Some(tls::acceptor(cert, key)?),
        (None, None) => None,
        _ => anyhow::bail!("--tls-cert and --tls-key go together"),
    };
    let app = harden(router, settings);
    let header_timeout = settings.header_timeout();
    let max = settings.max_connections.clamp(1, Semaphore::MAX_PERMITS);
    let slots = Arc::new(Semaphore::new(max));
    loop {
        let permit = tokio::select! {
            permit = slots.clone().acquire_owned() => permit.expect("never closed"),
            _ = shutdown.wait() => break,
        };
        let stream = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok((stream, _)) => stream,
                Err(e) => {
                    // Out of file descriptors, or a connection reset before accept: wait a
                    // little rather than spin.
                    tracing::warn!(error = %e, "accept failed");
                    tokio::time::sleep(Duration::from_millis(100)).await;
                    continue;
                }
            },
            _ = shutdown.wait() => break,
        };
        let (app, tls, shutdown) = (app.clone(), tls.clone(), shutdown.clone());
        tokio::spawn(async move {
            let _slot = permit;
            match tls {
                None => connection(stream, app, header_timeout, shutdown).await,
                Some(acceptor) => {
                    match tokio::time::timeout(header_timeout, acceptor.accept(stream)).await {
                        Ok(Ok(stream)) => connection(stream, app, header_timeout, shutdown).await,
                        Ok(Err(e)) => tracing::debug!(error = %e, "TLS handshake failed"),
                        Err(_) => tracing::debug!("TLS handshake timed out"),
                    }
                }
            }
        });
    }
    drop(listener);
    // Every open connection holds a slot: all slots free means all connections closed.
    let _ = slots.acquire_many(max as u32).await;
    Ok(())
}

/// One connection, HTTP/1.1 with keep-alive, with hyper's header-read timeout.
async fn connection<I>(io: I, app: Router, header_timeout: Duration, shutdown: Shutdown)
where
    I: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let mut builder = hyper::server::conn::http1::Builder::new();
    builder
        .timer(TokioTimer::new())
        .header_read_timeout(header_timeout);
    let conn = builder.serve_connection(TokioIo::new(io), TowerToHyperService::new(app));
    tokio::pin!(conn);
    let mut closing = false;
    loop {
        tokio::select! {
            result = conn.as_mut() => {
                if let Err(e) = result {
                    tracing::debug!(error = %e, "connection closed");
                }
                return;
            }
            _ = shutdown.wait(), if !closing => {
                closing = true;
                conn.as_mut().graceful_shutdown();
            }
        }
    }
}

/// The layers every server puts around its routes: body limit, request timeout, the JSON
/// error shape and request metrics. [`serve`] applies them; exposed for tests that drive a
/// router without a socket.
pub fn harden(router: Router, settings: &HttpSettings) -> Router {
    router
        .layer(DefaultBodyLimit::max(settings.max_body_bytes))
        .layer(middleware::from_fn_with_state(
            settings.request_timeout(),
            request_timeout,
        ))
        .layer(middleware::from_fn(json_errors))
        .layer(middleware::from_fn(crate::telemetry::track_http))
}

async fn request_timeout(State(limit): State<Duration>, request: Request, next: Next) -> Response {
    match tokio::time::timeout(limit, next.run(request)).await {
        Ok(response) => response,
        Err(_) => error(
            StatusCode::REQUEST_TIMEOUT,
            format!(
                "request not completed within {} s; it may or may not have taken effect: retry with the same Idempotency-Key",
                limit.as_secs()
            ),
        ),
    }
}

/// `{"error": message}` with `status`: the one shape of every refusal.
pub fn error(status: StatusCode, message: impl Into<String>) -> Response {
    (status, Json(serde_json::json!({ "error": message.into() }))).into_response()
}

/// Whether a response already says it is JSON (`application/json`, `application/…+json`).
fn is_json(response: &Response) -> bool {
    response
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .map(|v| {
            let v = v.trim().to_ascii_lowercase();
            v == "application/json" || (v.starts_with("application/") && v.ends_with("+json"))
        })
        .unwrap_or(false)
}

/// Rewrites a `4xx`/`5xx` answer that is not JSON (axum's plain-text rejections, the empty
/// `404` and `405`) into `{"error": text}`, keeping its status and headers (`Allow`).
pub async fn json_errors(request: Request, next: Next) -> Response {
    let response = next.run(request).await;
    let status = response.status();
    if !(status.is_client_error() || status.is_server_error()) || is_json(&response) {
        return response;
    }
    let (mut parts, body) = response.into_parts();
    let text = axum::body::to_bytes(body, 16 * 1024)
        .await
        .ok()
        .and_then(|b| String::from_utf8(b.to_vec()).ok())
        .map(|t| t.trim().to_string())
        .filter(|t| !t.is_empty())
        .unwrap_or_else(|| status.canonical_reason().unwrap_or("error").to_string());
    let body = serde_json::json!({ "error": text }).to_string();
    parts.headers.remove(header::CONTENT_LENGTH);
    parts.headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    Response::from_parts(parts, Body::from(body))
}

/// The method as a metric label: one of a fixed set, `OTHER` for any extension method.
pub fn method_label(method: &Method) -> &'static str {
    match *method {
        Method::GET => "GET",
        Method::POST => "POST",
        Method::PUT => "PUT",
        Method::DELETE => "DELETE",
        Method::HEAD => "HEAD",
        Method::OPTIONS => "OPTIONS",
        Method::PATCH => "PATCH",
        _ => "OTHER",
    }
}

#[cfg(test)]
mod tests;
