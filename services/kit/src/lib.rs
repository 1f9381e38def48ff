//! The Lintas kit: everything a publisher or a subscriber needs, so that services stay thin.
//!
//! - [`codec`]: Confluent wire format (magic byte, schema id, Avro body) over a cached
//!   [`registry::RegistryClient`];
//! - [`encryption`]: personal-data fields encrypted on the wire in Confluent's CSFLE format,
//!   under key-encryption keys only entitled agencies hold;
//! - [`auth`], [`oidc`]: who calls an API: static tokens or agency sign-in with OIDC;
//! - [`kafka_auth`]: the service's own Kafka principal (SASL/SCRAM or mutual TLS over TLS);
//! - [`producer`]: idempotent, delivery-confirmed publishing with backpressure;
//! - [`consumer`]: the effectively-once consumer runtime: offsets live in the subscriber's
//!   database and commit in the same transaction as the view update;
//! - [`dead_letters`]: redriving and discarding dead letters, once each;
//! - [`store`]: sqlx on PostgreSQL or SQLite, migrations per dialect;
//! - [`http`]: the one way every HTTP server is served (timeouts, connection limit, body
//!   limit, optional TLS, one JSON error shape, strict JSON bodies);
//! - [`telemetry`]: tracing, Prometheus metrics, `/livez`, `/readyz`, `/metrics`;
//! - [`internal_events`]: each notable runtime event as one struct whose `emit` logs it and
//!   counts it with the same labels;
//! - [`shutdown`]: one signal that every task watches;
//! - [`agency`]: an agency subscriber described once, for binaries that run several;
//! - [`testing`]: run a handler against events in memory, with no broker.
#![forbid(unsafe_code)]
#![doc = ""]
#![doc = "## Guide"]
#![doc = ""]
#![doc = include_str!("../README.md")]

pub mod agency;
pub mod alerts;
pub mod auth;
pub mod codec;
pub mod consumer;
pub mod dead_letters;
pub mod encryption;
pub mod http;
pub mod internal_events;
pub mod kafka_auth;
pub mod metrics;
pub mod oidc;
pub mod outbox;
pub mod personal;
pub mod producer;
pub mod registry;
pub mod secret;
pub mod service;
pub mod shutdown;
pub mod store;
pub mod tasks;
pub mod telemetry;
pub mod testing;
pub mod topics;
pub mod views;

/// The HTTP framework of the kit's servers, for query routes (`views::prelude` has the usual
/// pieces): use this one, so your routes and the kit's agree on its version.
pub use axum;
pub use lintas_events as events;
