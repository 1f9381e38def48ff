//! Run a handler against a list of events with no broker and no network: the same
//! [`Handler`] code the runtime drives, one transaction per batch, offsets and all, on an
//! in-memory SQLite database, or on PostgreSQL ([`Harness::on`]; one scenario on both:
//! [`backend`]). Events for tests: [`examples`]; query routes: [`Harness::views`] and [`get`].
//!
//! ```
//! use lintas_kit::consumer::{Batch, Handler, HandlerError};
//! use lintas_kit::events::{AnyEvent, Event, VisaTypeFlagged};
//! use lintas_kit::store::Migrations;
//! use lintas_kit::testing::examples::example;
//! use lintas_kit::testing::Harness;
//!
//! /// Counts flags per subject, each flag once however often it is delivered.
//! struct FlagCounter;
//!
//! impl Handler for FlagCounter {
//!     async fn apply(&self, batch: &mut Batch<'_>) -> Result<(), HandlerError> {
//!         for record in batch.first_sightings().await? {
//!             let AnyEvent::VisaTypeFlagged(flag) = &record.event else { continue };
//!             sqlx::query(
//!                 "INSERT INTO flags (subject_key, n) VALUES ($1, 1) \
//!                  ON CONFLICT (subject_key) DO UPDATE SET n = flags.n + 1",
//!             )
//!             .bind(flag.envelope.subject_key.clone())
//!             .execute(batch.tx())
//!             .await?;
//!         }
//!         Ok(())
//!     }
//! }
//!
//! # tokio::runtime::Runtime::new().unwrap().block_on(async {
//! let migrations = Migrations::inline("CREATE TABLE flags (subject_key TEXT PRIMARY KEY, n BIGINT NOT NULL)").await;
//! let mut harness = Harness::new(FlagCounter, migrations).await.unwrap();
//! let flag: VisaTypeFlagged = example();
//! // The same flag twice (a publisher's retry), then another flag of the same subject.
//! harness.apply(vec![flag.clone().into_any(), flag.clone().into_any()]).await.unwrap();
//! harness.apply(vec![flag.into_any(), example::<VisaTypeFlagged>().into_any()]).await.unwrap();
//! let n: i64 = sqlx::query_scalar("SELECT n FROM flags").fetch_one(harness.store().pool()).await.unwrap();
//! assert_eq!(n, 2);
//! # });
//! ```

pub mod backend;
pub mod examples;

pub use backend::Backend;

use lintas_events::{AlertClosed, AlertEscalated, AlertRaised, AnyEvent};

use axum::http::StatusCode;
use serde_json::Value;

use crate::auth::Tokens;
use crate::consumer::{Batch, Clock, Handler, HandlerError, Record, Sink};
use crate::store::{Migrations, Store, StoreError};
use crate::views::ViewState;

/// A handler, its database, and what it published.
pub struct Harness<H> {
    handler: H,
    store: Store,
    published: Vec<AnyEvent>,
    next_offset: i64,
    clock: Clock,
    /// Drops a PostgreSQL test schema; last, so the store goes first.
    _schema: Option<backend::SchemaGuard>,
}

impl<H: Handler> Harness<H> {
    /// The handler on a fresh in-memory SQLite database with its migrations applied.
    pub async fn new(handler: H, migrations: Migrations) -> Result<Self, StoreError> {
        let store = Store::connect("sqlite::memory:", "test").await?;
        store.migrate(migrations).await?;
        Ok(Self::with_store(handler, store))
    }

    /// The handler on a fresh database of `backend` with its migrations applied: in-memory
    /// SQLite, or a schema of its own on the tests' PostgreSQL server, dropped with the
    /// harness. Write the scenario once and run it on both with
    /// [`on_both_stores!`](crate::on_both_stores).
    ///
    /// # Panics
    /// When the database cannot be reached (PostgreSQL not running: the message says where it
    /// was looked for) or a migration fails.
    pub async fn on(backend: Backend, handler: H, migrations: Migrations) -> Self {
        let (store, schema) = backend.store(migrations).await;
        Harness {
            _schema: schema,
            ..Self::with_store(handler, store)
        }
    }

    /// The handler on a store you prepared (migrated).
    pub fn with_store(handler: H, store: Store) -> Self {
        Harness {
            handler,
            store,
            published: Vec::new(),
            next_offset: 0,
            clock: Clock::manual(time::OffsetDateTime::now_utc()),
            _schema: None,
        }
    }

    /// Applies `events` as one batch in one transaction, as the runtime would. Events are
    /// numbered as consecutive offsets of one partition of their topic. A rejection or any
    /// other error rolls the whole batch back and is returned.
    pub async fn apply(&mut self, events: Vec<AnyEvent>) -> Result<(), HandlerError> {
        self.apply_records(events, None).await
    }

    async fn apply_records(
        &mut self,
        events: Vec<AnyEvent>,
        sealed: Option<crate::encryption::Sealed>,
    ) -> Result<(), HandlerError> {
        let records: Vec<Record> = events
            .into_iter()
            .map(|event| {
                let offset = self.next_offset;
                self.next_offset += 1;
                Record {
                    topic: event.topic().base_name().to_string(),
                    partition: 0,
                    offset,
                    event,
                    sealed,
                }
            })
            .collect();
        let mut published = Vec::new();
        let mut tx = self.store.pool().begin().await?;
        let mut batch = Batch::new(&mut tx, &records, Sink::Memory(&mut published));
        self.handler.apply(&mut batch).await?;
        tx.commit().await?;
        self.published.extend(published);
        Ok(())
    }

    /// Applies `events` as one batch as a subscriber without the key to their personal data
    /// receives them: the records say their personal-data fields are sealed.
    pub async fn apply_sealed(&mut self, events: Vec<AnyEvent>) -> Result<(), HandlerError> {
        self.apply_records(events, Some(crate::encryption::Sealed::NoKey))
            .await
    }

    /// Applies each event in its own batch, in order.
    pub async fn apply_each(&mut self, events: Vec<AnyEvent>) -> Result<(), HandlerError> {
        for event in events {
            self.apply(vec![event]).await?;
        }
        Ok(())
    }

    /// The harness's clock: manual, starting at the time the harness was made. Move it with
    /// [`Clock::set`] or [`Clock::advance`], then call [`Harness::fire_due`].
    pub fn clock(&self) -> &Clock {
        &self.clock
    }

    /// Fires the deadlines due at the clock's time, as the runtime's ticker does once the
    /// subscriber is caught up; returns how many fired.
    pub async fn fire_due(&mut self) -> Result<usize, HandlerError> {
        let mut published = Vec::new();
        let fired = crate::consumer::fire_due(
            &self.store,
            &self.handler,
            None,
            &mut published,
            self.clock.now(),
            None,
        )
        .await?;
        self.published.extend(published);
        Ok(fired)
    }

    pub fn store(&self) -> &Store {
        &self.store
    }

    /// Everything the handler published through [`Batch::publish`] in committed batches.
    pub fn published(&self) -> &[AnyEvent] {
        &self.published
    }

    /// The alerts the handler raised, in the order published.
    pub fn alerts_raised(&self) -> Vec<&AlertRaised> {
        self.published
            .iter()
            .filter_map(|e| match e {
                AnyEvent::AlertRaised(a) => Some(a),
                _ => None,
            })
            .collect()
    }

    /// The rules of the alerts raised, in the order published: `["PO1", "PO1"]`.
    pub fn rules_raised(&self) -> Vec<&str> {
        self.alerts_raised()
            .into_iter()
            .map(|a| a.rule.as_str())
            .collect()
    }

    /// The alerts the handler closed (withdrawn or answered), in the order published.
    pub fn alerts_closed(&self) -> Vec<&AlertClosed> {
        self.published
            .iter()
            .filter_map(|e| match e {
                AnyEvent::AlertClosed(c) => Some(c),
                _ => None,
            })
            .collect()
    }

    /// The escalations the handler published, in order.
    pub fn alerts_escalated(&self) -> Vec<&AlertEscalated> {
        self.published
            .iter()
            .filter_map(|e| match e {
                AnyEvent::AlertEscalated(e) => Some(e),
                _ => None,
            })
            .collect()
    }

    pub fn handler(&self) -> &H {
        &self.handler
    }

    /// What `run_subscriber_with_api` hands your router, on this harness's store, with
    /// `tokens` as the callers (`Tokens::parse("<16+ chars>=imigrasi:KANIM-CILACAP")`): test
    /// your query routes with [`get`] on the views the handler wrote. For reading routes: one
    /// that publishes (the alert desk's actions) needs a registry, see [`run_on_broker`].
    pub fn views(&self, tokens: Tokens) -> ViewState {
        let registry =
            crate::registry::RegistryClient::new("http://127.0.0.1:9/no-registry-in-tests");
        ViewState {
            store: self.store.clone(),
            tokens,
            codec: crate::codec::Codec::new(registry, ""),
        }
    }
}

/// Sends `GET path` to `router` as the bearer of `token` (`None`: no credential) and returns
/// the status and the JSON body (`Value::Null` for a body that is not JSON).
pub async fn get(router: axum::Router, path: &str, token: Option<&str>) -> (StatusCode, Value) {
    use tower::ServiceExt;
    let mut request = axum::http::Request::get(path);
    if let Some(token) = token {
        request = request.header("authorization", format!("Bearer {token}"));
    }
    let request = request
        .body(axum::body::Body::empty())
        .expect("a GET with a path and a header is a valid request");
    let response = router
        .oneshot(request)
        .await
        .expect("an axum router answers every request");
    let status = response.status();
    let body = axum::body::to_bytes(response.into_body(), 4 << 20)
        .await
        .unwrap_or_default();
    (status, serde_json::from_slice(&body).unwrap_or(Value::Null))
}

/// Runs `handler` through the real runtime on a real broker, with the same handler code as
/// [`Harness`]: publishes `events` on topics of their own (a fresh prefix, so runs never
/// meet), consumes `topics` with a fresh consumer group into `store`, and returns once every
/// event of those topics was applied or dead-lettered. Pass a migrated store.
pub async fn run_on_broker<H: Handler>(
    handler: H,
    store: Store,
    brokers: &str,
    registry: crate::registry::RegistryClient,
    topics: &[lintas_events::Topic],
    events: Vec<AnyEvent>,
    timeout: std::time::Duration,
) -> anyhow::Result<BrokerRun> {
    use crate::codec::Codec;
    use crate::consumer::{Runtime, SubscriberSettings};
    use crate::producer::{EventProducer, ProducerSettings};
    let run = uuid::Uuid::new_v4().simple().to_string()[..12].to_string();
    let prefix = format!("test-{run}.");
    let group = format!("test_{run}");
    let mut names = crate::topics::event_topics(&prefix);
    names.push(crate::topics::dead_letter_topic(&prefix, &group));
    crate::topics::ensure_topics(brokers, &names, 2, 1, &[]).await?;
    // The run holds every KEK of the contract (fresh local-kms secrets), as the intakes that
    // encrypt and the subscribers entitled to decrypt would together.
    let keyring = crate::encryption::Keyring::parse_local(
        &lintas_events::keks::ALL
            .iter()
            .map(|kek| format!("{kek}={}", uuid::Uuid::new_v4().simple()))
            .collect::<Vec<_>>()
            .join(","),
    )
    .map_err(|e| anyhow::anyhow!(e))?;
    let codec =
        Codec::new(registry, &prefix).with_protection(crate::encryption::ProtectionSettings {
            keyring,
            ..Default::default()
        });
    let producer = EventProducer::new(&ProducerSettings::new(brokers), codec)?;
    let expected = events
        .iter()
        .filter(|e| topics.contains(&e.topic()))
        .count() as u64;
    for event in &events {
        producer.publish_any(event).await?;
    }
    let shutdown = crate::shutdown::Shutdown::new();
    let runtime = Runtime {
        settings: SubscriberSettings::new(&group, brokers, topics),
        store,
        producer,
        health: crate::telemetry::Health::new(),
        shutdown: shutdown.clone(),
    };
    let task = tokio::spawn(runtime.run(std::sync::Arc::new(handler)));
    let deadline = tokio::time::Instant::now() + timeout;
    let outcome = loop {
        let done = BrokerRun {
            applied: counted("lintas_events_applied_total", &group),
            dead_letters: counted("lintas_dead_letters_total", &group),
        };
        if done.applied + done.dead_letters >= expected {
            break Ok(done);
        }
        if tokio::time::Instant::now() > deadline {
            break Err(anyhow::anyhow!(
                "{} of {expected} events handled within {timeout:?}",
                done.applied + done.dead_letters
            ));
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    };
    shutdown.trigger();
    task.await??;
    outcome
}

/// What [`run_on_broker`] saw.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BrokerRun {
    pub applied: u64,
    pub dead_letters: u64,
}

/// Sum of a counter over the label sets of one consumer group.
fn counted(name: &str, group: &str) -> u64 {
    prometheus::gather()
        .iter()
        .filter(|family| family.name() == name)
        .flat_map(|family| family.get_metric().iter())
        .filter(|m| {
            m.get_label()
                .iter()
                .any(|l| l.name() == "group" && l.value() == group)
        })
        .map(|m| m.get_counter().get_value() as u64)
        .sum()
}

#[cfg(test)]
mod tests {
    use lintas_events::{AnyEvent, Event, VisaTypeFlagged};

    use super::examples::example;
    use super::Harness;
    use crate::consumer::{Batch, Handler, HandlerError};
    use crate::store::Migrations;

    /// Rejects every flag to Cambodia, looping over first sightings.
    struct RefuseCambodia;

    impl Handler for RefuseCambodia {
        async fn apply(&self, batch: &mut Batch<'_>) -> Result<(), HandlerError> {
            for record in batch.first_sightings().await? {
                if let AnyEvent::VisaTypeFlagged(flag) = &record.event {
                    if flag.destination_country == "KH" {
                        return Err(batch.reject(&record, "no flags to KH here"));
                    }
                }
            }
            Ok(())
        }
    }

    /// `Batch::reject` names the rejected record's place in the batch, also when a repeat
    /// before it left it at another place in `first_sightings()`'s list.
    #[tokio::test]
    async fn a_rejection_names_the_record_rejected() {
        let mut harness = Harness::new(RefuseCambodia, Migrations::inline("SELECT 1").await)
            .await
            .unwrap();
        let malaysia = VisaTypeFlagged {
            destination_country: "MY".into(),
            ..example()
        };
        let cambodia = VisaTypeFlagged {
            destination_country: "KH".into(),
            ..example()
        };
        let batch = vec![
            malaysia.clone().into_any(),
            malaysia.into_any(),
            cambodia.into_any(),
        ];
        match harness.apply(batch).await {
            Err(HandlerError::Rejected { index, reason }) => {
                assert_eq!((index, reason.as_str()), (2, "no flags to KH here"))
            }
            other => panic!("expected the KH flag rejected, got {other:?}"),
        }
    }
}
