//! Test harness: real processes on this machine. A tansu broker per test (a real Kafka
//! protocol broker), a fresh PostgreSQL database per test, and the `lintas` binary itself.
//!
//! Each black-box test binary includes it with `mod harness;` and `use harness::*;`; a binary
//! uses only part of it, hence the `allow`.
//!
//! - [`processes`]: the `lintas` services (registry, intakes, subscribers) as child processes;
//! - [`broker`]: tansu, the feed's topics, producers and readers;
//! - [`database`]: a fresh PostgreSQL database, dumps of a schema;
//! - [`embedded`]: the embedded run (`lintas up`) and its banner;
//! - [`credentials`]: tokens, registry users, secrets, codecs;
//! - [`api`]: the one HTTP client of the tests, and waiting for a state;
//! - [`bodies`]: the intakes' request bodies; [`events`]: events as a publisher sends them;
//! - [`stack`]: broker, database, registry and intakes together, the usual system under test;
//! - [`imigrasi_view`]: the immigration view read back by the delivery tests.
#![allow(dead_code, unused_imports)]

pub mod api;
pub mod bodies;
pub mod broker;
pub mod credentials;
pub mod database;
pub mod embedded;
pub mod events;
pub mod imigrasi_view;
pub mod processes;
pub mod stack;

pub use api::*;
pub use bodies::*;
pub use broker::*;
pub use credentials::*;
pub use database::*;
pub use embedded::*;
pub use events::*;
pub use imigrasi_view::*;
pub use processes::*;
pub use stack::*;
