//! The registry's notable events, each logged and counted in one place (the pattern of
//! `lintas_kit::internal_events`, which the registry does not depend on).

use axum::http::Method;

use crate::auth::Role;
use crate::metrics;

/// A request refused for its credentials (`reason`: `missing`, `malformed`,
/// `bad_credentials`): answered 401 (`lintas_registry_auth_failures_total`, debug: anyone can
/// send these).
#[derive(Debug, Clone, Copy)]
pub(crate) struct RequestUnauthenticated<'a> {
    pub reason: &'static str,
    pub method: &'a Method,
    /// The route template matched (`None`: no route).
    pub route: Option<&'a str>,
}

impl RequestUnauthenticated<'_> {
    pub fn emit(&self) {
        tracing::debug!(
            reason = self.reason,
            method = %self.method,
            route = self.route.unwrap_or("unmatched"),
            "registry request refused: no valid credentials"
        );
        metrics::auth_failure(self.reason);
    }
}

/// A signed-in user whose role is below the one the route needs: answered 403
/// (`lintas_registry_auth_failures_total` with reason `forbidden`, info).
#[derive(Debug, Clone, Copy)]
pub(crate) struct RequestForbidden<'a> {
    /// The registry account (a service or operator login), never a password.
    pub user: &'a str,
    pub role: Role,
    pub needed: Role,
    pub method: &'a Method,
    pub route: Option<&'a str>,
}

impl RequestForbidden<'_> {
    pub fn emit(&self) {
        tracing::info!(
            user = self.user,
            role = %self.role,
            needed = %self.needed,
            method = %self.method,
            route = self.route.unwrap_or("unmatched"),
            "registry request refused"
        );
        metrics::auth_failure("forbidden");
    }
}
