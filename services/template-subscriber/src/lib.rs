//! template_subscriber: a Lintas subscriber. Start here: change `TOPICS`, the migrations and
//! `apply`. The runtime (in `main.rs`) does the rest: consumer group, offsets in the same
//! transaction as your writes, batching, retries, dead letters, metrics, health, shutdown.
#![forbid(unsafe_code)]

use lintas_kit::consumer::{Batch, Handler, HandlerError};
use lintas_kit::events::Topic;
use lintas_kit::store::Migrations;

/// Consumer group, database schema and dead-letter topic name (`lintas.<GROUP>.dlq`).
pub const GROUP: &str = "template_subscriber";

/// Topics this subscriber reads.
pub const TOPICS: &[Topic] = &[Topic::Applicants, Topic::Screening, Topic::Departures];

pub fn migrations() -> Migrations {
    Migrations {
        postgres: sqlx::migrate!("./migrations/postgres"),
        sqlite: sqlx::migrate!("./migrations/sqlite"),
    }
}

/// Counts events per subject and type.
pub struct TemplateHandler;

impl Handler for TemplateHandler {
    async fn apply(&self, batch: &mut Batch<'_>) -> Result<(), HandlerError> {
        let seen: Vec<(String, &'static str)> = batch
            .records()
            .iter()
            .filter_map(|r| {
                r.event
                    .envelope()
                    .subject_key
                    .clone()
                    .map(|s| (s, r.event.type_name()))
            })
            .collect();
        for (subject_key, event_type) in seen {
            sqlx::query(
                "INSERT INTO events_seen (subject_key, event_type, n) VALUES ($1, $2, 1) \
                 ON CONFLICT (subject_key, event_type) DO UPDATE SET n = events_seen.n + 1",
            )
            .bind(subject_key)
            .bind(event_type)
            .execute(batch.tx())
            .await?;
        }
        Ok(())
    }
}
