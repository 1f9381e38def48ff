//! An agency's subscriber described once, so that a binary running several agencies iterates
//! over one list instead of wiring each agency by hand in every command.
//!
//! An agency crate implements [`AgencySubscriber`] on a unit struct: who it is, what it
//! consumes, its tables, its handler type and its query routes. A binary lists its agencies
//! as [`Wire`]s, each with the function that builds the handler from the binary's settings
//! (its flags and environment stay the binary's: the kit knows no command line), and uses
//! them through [`WiredAgency`], which erases the handler type so that the list is one slice.

use std::future::Future;
use std::marker::PhantomData;
use std::pin::Pin;
use std::sync::Arc;

use axum::Router;

use crate::consumer::{Handler, Runtime};
use crate::events::{Agency, Topic};
use crate::service::{run_subscriber_with_api, Subscriber, SubscriberConfig};
use crate::store::Migrations;
use crate::views::ViewState;

/// An agency's subscriber: implemented once, in the agency's crate.
pub trait AgencySubscriber: Send + Sync + 'static {
    /// Whose credentials its query API and alert desk accept, and its name on a command line.
    const AGENCY: Agency;
    /// Consumer group, database schema and dead-letter topic name.
    const GROUP: &'static str;
    const TOPICS: &'static [Topic];
    /// Key-encryption keys it may hold: a subscriber is refused any other, and decodes with
    /// these only.
    const KEKS: &'static [&'static str];
    /// Event types it publishes through its outbox (short names, `AlertRaised`): what its
    /// rules raise and what the kit's APIs it serves publish for it (the alert desk's
    /// lifecycle, personal-data reads and erasures). Its Kafka principal may write exactly
    /// their topics; `lintas describe` states them and a test of the binary checks them
    /// against what the handler and its routes publish.
    const PUBLISHES: &'static [&'static str];
    type Handler: Handler;
    fn migrations() -> Migrations;
    /// Its query routes, on its store, with its callers' credentials and its codec.
    fn router(views: ViewState) -> Router;
}

/// A subscriber's run until shutdown, to spawn as a task.
pub type Run = Pin<Box<dyn Future<Output = anyhow::Result<()>> + Send + 'static>>;

/// An agency of a binary's list, whatever its handler type; `S` is the binary's settings,
/// from which each agency's handler is built.
pub trait WiredAgency<S>: Send + Sync {
    fn agency(&self) -> Agency;
    fn group(&self) -> &'static str;
    fn topics(&self) -> &'static [Topic];
    fn keks(&self) -> &'static [&'static str];
    fn publishes(&self) -> &'static [&'static str];
    fn migrations(&self) -> Migrations;
    fn router(&self, views: ViewState) -> Router;
    /// Its handler, from `settings`, on `runtime` (the embedded run of several agencies).
    /// Settings it refuses fail here, before anything runs.
    fn run(&self, runtime: Runtime, settings: &S) -> anyhow::Result<Run>;
    /// The agency as a service of its own, with its query API: [`run_subscriber_with_api`].
    fn run_service<'a>(
        &self,
        config: &'a SubscriberConfig,
        settings: &S,
    ) -> anyhow::Result<Pin<Box<dyn Future<Output = anyhow::Result<()>> + 'a>>>;
}

/// An agency `A` and how its handler is built from the settings `S`: one line of a list.
pub struct Wire<A: AgencySubscriber, S> {
    build: fn(&S) -> anyhow::Result<A::Handler>,
    agency: PhantomData<fn() -> A>,
}

impl<A: AgencySubscriber, S> Wire<A, S> {
    /// `build` makes the agency's handler from the settings, or refuses them (a setting the
    /// agency cannot serve without).
    pub const fn new(build: fn(&S) -> anyhow::Result<A::Handler>) -> Self {
        Wire {
            build,
            agency: PhantomData,
        }
    }

    /// The agency's handler from `settings` (what [`WiredAgency::run`] runs), for tests:
    /// [`crate::testing::Harness::with_store`] on the store the binary made for it.
    pub fn handler(&self, settings: &S) -> anyhow::Result<A::Handler> {
        (self.build)(settings)
    }
}

impl<A: AgencySubscriber, S> WiredAgency<S> for Wire<A, S> {
    fn agency(&self) -> Agency {
        A::AGENCY
    }

    fn group(&self) -> &'static str {
        A::GROUP
    }

    fn topics(&self) -> &'static [Topic] {
        A::TOPICS
    }

    fn keks(&self) -> &'static [&'static str] {
        A::KEKS
    }

    fn publishes(&self) -> &'static [&'static str] {
        A::PUBLISHES
    }

    fn migrations(&self) -> Migrations {
        A::migrations()
    }

    fn router(&self, views: ViewState) -> Router {
        A::router(views)
    }

    fn run(&self, runtime: Runtime, settings: &S) -> anyhow::Result<Run> {
        let handler = Arc::new(self.handler(settings)?);
        Ok(Box::pin(runtime.run(handler)))
    }

    fn run_service<'a>(
        &self,
        config: &'a SubscriberConfig,
        settings: &S,
    ) -> anyhow::Result<Pin<Box<dyn Future<Output = anyhow::Result<()>> + 'a>>> {
        let subscriber = Subscriber {
            group: A::GROUP,
            topics: A::TOPICS,
            migrations: A::migrations(),
            handler: self.handler(settings)?,
        };
        Ok(Box::pin(run_subscriber_with_api(
            config,
            subscriber,
            A::router,
        )))
    }
}
