pub mod agencies;
pub mod audit;
pub mod bench;
pub mod dead_letters;
pub mod describe;
pub mod events;
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
use lintas_kit::telemetry::{ops_router, Health};

/// A service's routes plus `/livez`, `/readyz`, `/metrics` (request metrics, limits and the
/// error shape come with `lintas_kit::http::serve`).
pub fn with_ops(routes: Router, health: Health) -> Router {
    routes.merge(ops_router(health))
}
