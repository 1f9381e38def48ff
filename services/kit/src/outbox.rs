//! Transactional outbox: events a handler or an API publishes are written in the same
//! transaction as the view update and relayed to Kafka after commit.
//!
//! The relay claims a batch of rows (`FOR UPDATE SKIP LOCKED` on PostgreSQL, so replicas of a
//! subscriber never relay the same row), publishes them together, and deletes them once the
//! broker acknowledged each. A retry can publish a row twice; readers de-duplicate by event id
//! (and alerts by alert id), so that is harmless, while a lost alert would not be. A row the
//! broker refuses for good (too large, not authorised) is moved aside to `lintas_outbox_failed`
//! with the reason and counted, so that it does not block every later alert.

use std::sync::Arc;
use std::time::Duration;

use lintas_events::Event;
use sqlx::{AnyConnection, Row};

use crate::codec::Codec;
use crate::producer::{event_headers, EventProducer, PublishError};
use crate::shutdown::Shutdown;
use crate::store::{Dialect, Store};

/// Rows claimed and published together.
const RELAY_BATCH: i64 = 500;

pub(crate) async fn enqueue<E: Event>(
    conn: &mut AnyConnection,
    codec: &Codec,
    event: &E,
) -> anyhow::Result<()> {
    let payload = codec.encode(event).await?;
    let type_name = E::FULL_NAME.rsplit('.').next().unwrap_or(E::FULL_NAME);
    sqlx::query(
        "INSERT INTO lintas_outbox (topic, record_key, payload, event_type, event_id, created_at_ms) VALUES ($1, $2, $3, $4, $5, $6)",
    )
    .bind(codec.topic_name(event.topic()))
    .bind(event.key())
    .bind(payload)
    .bind(type_name)
    .bind(event.envelope().event_id.to_string())
    .bind(now_ms())
    .execute(conn)
    .await?;
    Ok(())
}

/// How long a stopping service keeps relaying what its last batches and API calls wrote.
const DRAIN_ON_SHUTDOWN: Duration = Duration::from_secs(10);

/// Relays outbox rows until shutdown, then drains what is left (bounded), so that a graceful
/// stop leaves nothing behind for a schema that is about to be dropped for a rebuild.
pub(crate) async fn relay(
    store: Store,
    producer: EventProducer,
    wakeup: Arc<tokio::sync::Notify>,
    shutdown: Shutdown,
) -> anyhow::Result<()> {
    let mut attempt = 0;
    loop {
        match relay_once(&store, &producer).await {
            Ok(0) => {
                attempt = 0;
                tokio::select! {
                    _ = wakeup.notified() => {}
                    _ = tokio::time::sleep(Duration::from_secs(1)) => {}
                    _ = shutdown.wait() => {
                        drain(&store, &producer).await;
                        return Ok(());
                    }
                }
            }
            Ok(_) => attempt = 0,
            Err(e) => {
                tracing::warn!(error = %e, "outbox relay failed; retrying");
                tokio::select! {
                    _ = tokio::time::sleep(crate::consumer::backoff(attempt)) => {}
                    _ = shutdown.wait() => return Ok(()),
                }
                attempt += 1;
            }
        }
    }
}

async fn drain(store: &Store, producer: &EventProducer) {
    let drained = tokio::time::timeout(DRAIN_ON_SHUTDOWN, async {
        loop {
            match relay_once(store, producer).await {
                Ok(0) => return Ok(()),
                Ok(_) => {}
                Err(e) => return Err(e),
            }
        }
    })
    .await;
    match drained {
        Ok(Ok(())) => {}
        Ok(Err(e)) => {
            tracing::warn!(error = %e, "outbox not drained at shutdown; the next start relays it")
        }
        Err(_) => tracing::warn!(
            "outbox not drained within {DRAIN_ON_SHUTDOWN:?} at shutdown; the next start relays it"
        ),
    }
}

/// One claimed batch: published together, each acknowledged row deleted, each refused row
/// moved aside; a transient failure leaves its row for the next pass. Returns how many rows
/// left the outbox.
async fn relay_once(store: &Store, producer: &EventProducer) -> anyhow::Result<usize> {
    let claim = match store.dialect() {
        Dialect::Postgres => " FOR UPDATE SKIP LOCKED",
        // SQLite has one writer at a time and no row locks: one relay per file.
        Dialect::Sqlite => "",
    };
    let mut tx = store.pool().begin().await?;
    let rows = sqlx::query(&format!(
        "SELECT id, topic, record_key, payload, event_type, event_id, created_at_ms FROM lintas_outbox \
         ORDER BY id LIMIT {RELAY_BATCH}{claim}"
    ))
    .fetch_all(&mut *tx)
    .await?;
    if rows.is_empty() {
        return Ok(0);
    }
    // Handed to librdkafka in outbox order (one partition's records keep it), acks awaited
    // together.
    let mut records = Vec::with_capacity(rows.len());
    for row in &rows {
        let (topic, key, payload, event_type, event_id): (String, String, Vec<u8>, String, String) = (
            row.try_get(1)?,
            row.try_get(2)?,
            row.try_get(3)?,
            row.try_get(4)?,
            row.try_get(5)?,
        );
        records.push((
            topic,
            key,
            payload,
            event_headers(&event_type, &event_id, None),
        ));
    }
    let results = producer.send_batch(&records).await;
    let mut done = 0;
    let mut transient = None;
    for (row, result) in rows.iter().zip(results) {
        let id: i64 = row.try_get(0)?;
        let (topic, event_type): (String, String) = (row.try_get(1)?, row.try_get(4)?);
        match result {
            Ok(_) => {
                crate::internal_events::EventPublished {
                    topic: &topic,
                    event_type: &event_type,
                }
                .emit();
                sqlx::query("DELETE FROM lintas_outbox WHERE id = $1")
                    .bind(id)
                    .execute(&mut *tx)
                    .await?;
                done += 1;
            }
            Err(e) if !e.is_transient() => {
                set_aside(&mut tx, row, &e).await?;
                done += 1;
            }
            Err(e) => transient = Some(e),
        }
    }
    tx.commit().await?;
    match transient {
        Some(e) if done == 0 => Err(e.into()),
        _ => Ok(done),
    }
}

/// Moves a row the broker refuses for good out of the way, with the reason.
async fn set_aside(
    conn: &mut AnyConnection,
    row: &sqlx::any::AnyRow,
    error: &PublishError,
) -> anyhow::Result<()> {
    let id: i64 = row.try_get(0)?;
    let event_type: String = row.try_get(4)?;
    sqlx::query(
        "INSERT INTO lintas_outbox_failed (id, topic, record_key, payload, event_type, event_id, created_at_ms, failed_at_ms, reason) \
         SELECT id, topic, record_key, payload, event_type, event_id, created_at_ms, $2, $3 FROM lintas_outbox WHERE id = $1",
    )
    .bind(id)
    .bind(now_ms())
    .bind(error.to_string())
    .execute(&mut *conn)
    .await?;
    sqlx::query("DELETE FROM lintas_outbox WHERE id = $1")
        .bind(id)
        .execute(&mut *conn)
        .await?;
    crate::internal_events::OutboxRowSetAside {
        outbox_id: id,
        event_type: &event_type,
        error,
    }
    .emit();
    Ok(())
}

pub(crate) fn now_ms() -> i64 {
    lintas_events::timefmt::millis::to_millis(&time::OffsetDateTime::now_utc())
}
