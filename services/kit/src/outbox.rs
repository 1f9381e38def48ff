//! Transactional outbox: events a handler publishes are written in the batch's transaction
//! and relayed to Kafka after commit. A relay retry can publish a row twice; readers
//! de-duplicate by event id (and alerts by alert id), so that is harmless, while a lost
//! alert would not be.

use std::sync::Arc;
use std::time::Duration;

use lintas_events::Event;
use sqlx::{AnyConnection, Row};

use crate::codec::Codec;
use crate::producer::{event_headers, EventProducer};
use crate::shutdown::Shutdown;
use crate::store::Store;

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
    .bind(codec.topic_name(E::TOPIC))
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

/// Relays outbox rows in insertion order until shutdown, then drains what is left (bounded):
/// a row is deleted only after the broker acknowledged it, and a graceful stop leaves nothing
/// behind for a schema that is about to be dropped for a rebuild.
pub(crate) async fn relay(
    store: Store,
    producer: EventProducer,
    wakeup: Arc<tokio::sync::Notify>,
    shutdown: Shutdown,
) {
    let mut attempt = 0;
    loop {
        match relay_once(&store, &producer).await {
            Ok(0) => {
                attempt = 0;
                tokio::select! {
                    _ = wakeup.notified() => {}
                    _ = tokio::time::sleep(Duration::from_secs(1)) => {}
                    _ = shutdown.wait() => return drain(&store, &producer).await,
                }
            }
            Ok(_) => attempt = 0,
            Err(e) => {
                tracing::warn!(error = %e, "outbox relay failed; retrying");
                tokio::select! {
                    _ = tokio::time::sleep(crate::consumer::backoff(attempt)) => {}
                    _ = shutdown.wait() => return,
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

async fn relay_once(store: &Store, producer: &EventProducer) -> anyhow::Result<usize> {
    let rows = sqlx::query("SELECT id, topic, record_key, payload, event_type, event_id FROM lintas_outbox ORDER BY id LIMIT 200")
        .fetch_all(store.pool())
        .await?;
    for row in &rows {
        let id: i64 = row.try_get(0)?;
        let topic: String = row.try_get(1)?;
        let key: String = row.try_get(2)?;
        let payload: Vec<u8> = row.try_get(3)?;
        let event_type: String = row.try_get(4)?;
        let event_id: String = row.try_get(5)?;
        producer
            .send(
                &topic,
                &key,
                &payload,
                event_headers(&event_type, &event_id, None),
            )
            .await?;
        crate::metrics::EVENTS_PUBLISHED
            .with_label_values(&[&topic, &event_type])
            .inc();
        sqlx::query("DELETE FROM lintas_outbox WHERE id = $1")
            .bind(id)
            .execute(store.pool())
            .await?;
    }
    Ok(rows.len())
}

pub(crate) fn now_ms() -> i64 {
    lintas_events::timefmt::millis::to_millis(&time::OffsetDateTime::now_utc())
}
