//! Prometheus request metrics, labelled by route template so that subject
//! names and ids in paths cannot blow up label cardinality.

use std::sync::LazyLock;
use std::time::Instant;

use axum::extract::{MatchedPath, Request};
use axum::middleware::Next;
use axum::response::Response;
use prometheus::{HistogramOpts, HistogramVec, IntCounterVec, Opts};

struct Metrics {
    requests: IntCounterVec,
    duration: HistogramVec,
    auth_failures: IntCounterVec,
}

// Registered once per process: `Registry::new` may run many times (tests, or
// several pools) while the default Prometheus registry is global.
static METRICS: LazyLock<Metrics> = LazyLock::new(|| {
    let requests = IntCounterVec::new(
        Opts::new(
            "lintas_registry_requests_total",
            "Schema registry HTTP requests",
        ),
        &["route", "method", "status"],
    )
    .expect("valid counter definition");
    let duration = HistogramVec::new(
        HistogramOpts::new(
            "lintas_registry_request_duration_seconds",
            "Schema registry HTTP request latency",
        ),
        &["route", "method"],
    )
    .expect("valid histogram definition");
    let auth_failures = IntCounterVec::new(
        Opts::new(
            "lintas_registry_auth_failures_total",
            "Schema registry requests refused for their credentials: missing, malformed, bad_credentials (unknown user or wrong password), forbidden (role too low)",
        ),
        &["reason"],
    )
    .expect("valid counter definition");
    for reason in AUTH_FAILURE_REASONS {
        auth_failures.with_label_values(&[reason]);
    }
    for collector in [
        Box::new(requests.clone()) as Box<dyn prometheus::core::Collector>,
        Box::new(duration.clone()),
        Box::new(auth_failures.clone()),
    ] {
        // Failure only means someone else registered the name; serving must not stop for it.
        // Listed for `lintas describe` by `collectors` below (this crate does not use the kit).
        #[allow(clippy::disallowed_methods)]
        if let Err(e) = prometheus::register(collector) {
            tracing::warn!(error = %e, "registry metrics not registered");
        }
    }
    Metrics {
        requests,
        duration,
        auth_failures,
    }
});

/// The `reason` label's values, all present from the start.
const AUTH_FAILURE_REASONS: [&str; 4] = ["missing", "malformed", "bad_credentials", "forbidden"];

pub(crate) fn auth_failure(reason: &'static str) {
    debug_assert!(AUTH_FAILURE_REASONS.contains(&reason));
    METRICS.auth_failures.with_label_values(&[reason]).inc();
}

pub(crate) fn init() {
    LazyLock::force(&METRICS);
}

/// Every metric of the registry, registered: this crate does not use the kit, so this is its
/// equivalent of `lintas_kit::metrics::catalogue` (which describes these collectors).
pub fn collectors() -> Vec<Box<dyn prometheus::core::Collector>> {
    vec![
        Box::new(METRICS.requests.clone()),
        Box::new(METRICS.duration.clone()),
        Box::new(METRICS.auth_failures.clone()),
    ]
}

/// The method as a label, from a fixed set: a client inventing methods (`X$RANDOM`) must not
/// create series.
fn method_label(method: &axum::http::Method) -> &'static str {
    use axum::http::Method;
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

pub(crate) async fn track(request: Request, next: Next) -> Response {
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map_or_else(|| "unmatched".to_owned(), |p| p.as_str().to_owned());
    let method = method_label(request.method());
    let started = Instant::now();
    let response = next.run(request).await;
    METRICS
        .duration
        .with_label_values(&[route.as_str(), method])
        .observe(started.elapsed().as_secs_f64());
    METRICS
        .requests
        .with_label_values(&[route.as_str(), method, response.status().as_str()])
        .inc();
    response
}
