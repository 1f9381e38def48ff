pub mod audit;
pub mod bench;
pub mod intake;
pub mod keys;
pub mod new;
pub mod ops;
pub mod registry;
pub mod rules;
pub mod simulate;
pub mod subscriber;
pub mod topics;
pub mod up;

use axum::Router;
use lintas_kit::telemetry::{ops_router, track_http, Health};

/// A service's routes plus `/livez`, `/readyz`, `/metrics`, with request metrics.
pub fn with_ops(routes: Router, health: Health) -> Router {
    routes
        .merge(ops_router(health))
        .route_layer(axum::middleware::from_fn(track_http))
}
