//! The usual system under test: a broker, a fresh database, the schema registry with the
//! contract registered, and the intakes; the subscribers a test needs are started on it.

use super::broker::Broker;
use super::database::fresh_database;
use super::processes::{spawn_subscriber, start_intake, start_registry, Registry, Service};

pub struct Stack {
    pub broker: Broker,
    pub database: String,
    pub registry: Registry,
    pub intake: Service,
}

impl Stack {
    /// A tansu broker with `partitions` partitions a topic, a fresh PostgreSQL database, the
    /// registry and the intakes, each ready.
    pub async fn start(partitions: i32) -> Stack {
        let broker = Broker::start(partitions).await;
        let database = fresh_database().await;
        let registry = start_registry(&database, &broker.dir).await;
        let intake = start_intake(&broker.brokers, &registry.url, &database, &broker.dir).await;
        Stack {
            broker,
            database,
            registry,
            intake,
        }
    }

    /// `lintas subscriber <agency>` with `extra` flags on this stack.
    pub fn subscriber(&self, agency: &str, extra: &[&str]) -> Service {
        spawn_subscriber(
            agency,
            &self.broker.brokers,
            &self.registry.url,
            &self.database,
            &self.broker.dir,
            extra,
        )
    }

    /// The broker, the database URL, the registry and the intakes, to name them at once.
    pub fn parts(&self) -> (&Broker, &str, &Registry, &Service) {
        (&self.broker, &self.database, &self.registry, &self.intake)
    }

    /// The intakes' `path`.
    pub fn intake_url(&self, path: &str) -> String {
        format!("{}{path}", self.intake.url)
    }
}
