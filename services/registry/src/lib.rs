//! `lintas-registry`: an Avro schema registry speaking the Confluent Schema
//! Registry REST API, so stock Kafka serializers work against Lintas unchanged.
//!
//! It also serves Confluent's DEK Registry API (`/dek-registry/v1`) for client-side
//! field-level encryption, holding only wrapped keys, and stores data contracts
//! (`metadata`, `ruleSet`) with schemas.
//!
//! Every route needs HTTP Basic credentials of a user with the route's role (`read`,
//! `write`, `admin`; see [`auth`](Users)): an anonymous request answers 401, a user without
//! the role 403, both as Confluent error bodies.
//!
//! Storage goes through sqlx's `Any` driver so one binary runs on PostgreSQL
//! (deployments) and SQLite (tests, single-node setups).
#![forbid(unsafe_code)]

mod api;
mod auth;
mod browse;
mod compat;
mod config;
mod contract;
mod dek;
mod error;
mod internal_events;
mod metrics;
mod references;

/// The registry's metrics, registered (for `lintas describe`'s list of them).
pub use metrics::collectors as metric_collectors;
mod schema;
mod store;
mod subjects;

pub use auth::{hash_password, Role, Users};
pub use error::RegistryError;

/// Handle to a registry; cheap to clone (the pool and the users).
#[derive(Clone, Debug)]
pub struct Registry {
    pool: sqlx::AnyPool,
    auth: auth::Auth,
}

impl Registry {
    /// `pool` is dedicated to the registry (its own PostgreSQL schema or its own
    /// SQLite file); this runs the registry's migrations on it.
    ///
    /// For `sqlite::memory:` give the pool a single connection without idle
    /// timeout or max lifetime, or the database vanishes with the connection.
    pub async fn new(pool: sqlx::AnyPool) -> Result<Self, RegistryError> {
        store::migrate(&pool).await?;
        metrics::init();
        Ok(Self {
            pool,
            auth: auth::Auth::new(Users::default()),
        })
    }

    /// The users who may call the API; without any, every request is refused.
    pub fn with_users(mut self, users: Users) -> Self {
        self.auth = auth::Auth::new(users);
        self
    }

    /// The REST API: routes without prefix, state already applied.
    pub fn router(&self) -> axum::Router {
        api::router(self.clone())
    }
}
