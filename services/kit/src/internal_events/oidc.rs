//! Sign-in through the agencies' identity provider.

use std::fmt::Display;

use crate::oidc::{JWKS_FETCH_FAILURES, JWKS_KEYS};

/// The identity provider's signing keys were fetched: `keys` usable ones, now in use
/// (`lintas_oidc_jwks_keys`, info).
#[derive(Debug, Clone, Copy)]
pub struct JwksLoaded {
    pub keys: usize,
}

impl JwksLoaded {
    pub fn emit(&self) {
        tracing::info!(keys = self.keys, "identity provider keys loaded");
        JWKS_KEYS.set(self.keys as i64);
    }
}

/// A fetch of the identity provider's JWKS failed; the cached keys stay in use
/// (`lintas_oidc_jwks_fetch_failures_total`, warn).
#[derive(Clone, Copy)]
pub struct JwksFetchFailed<'a> {
    pub url: &'a str,
    pub error: &'a dyn Display,
}

impl JwksFetchFailed<'_> {
    pub fn emit(&self) {
        tracing::warn!(
            url = self.url,
            error = %self.error,
            "cannot fetch the identity provider's keys; keeping the cached ones"
        );
        JWKS_FETCH_FAILURES.inc();
    }
}
