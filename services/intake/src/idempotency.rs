//! `Idempotency-Key`: a retried request gets the first answer and publishes nothing new.
//!
//! The key is reserved with the request's hash before anything is published; the answer is
//! stored only after the broker acknowledged every event. Event ids of a keyed request derive
//! from the office and the key, so a retry after a 503 (when the first attempt may or may not
//! have reached the broker) republishes the *same* event ids, which readers de-duplicate. A
//! reservation a crash leaves without an answer lets the same request through again.
//!
//! A request without a key that states `occurred_at` is keyed by its content (office and body):
//! the same fact sent twice is one event. Without either, a retry after an ambiguous 503 may
//! record the fact twice, and the 503 says so.

use lintas_kit::store::Store;
use sha2::{Digest, Sha256};
use sqlx::Row;
use uuid::Uuid;

const NAMESPACE: Uuid = Uuid::from_u128(0x6c696e74_6173_4000_8000_6964656d706f);

pub struct Key<'a> {
    pub office: &'a str,
    pub key: &'a str,
    pub request_hash: String,
}

impl<'a> Key<'a> {
    pub fn new(office: &'a str, key: &'a str, body: &[u8]) -> Self {
        Key {
            office,
            key,
            request_hash: hex::encode(Sha256::digest(body)),
        }
    }

    /// Id of the `index`-th event published for this key.
    pub fn event_id(&self, index: usize) -> Uuid {
        Uuid::new_v5(
            &NAMESPACE,
            format!("{}\n{}\n{index}", self.office, self.key).as_bytes(),
        )
    }
}

pub enum Seen {
    /// This request holds the key now: publish, then [`remember`] the answer.
    New,
    /// Same key, same request: the stored answer.
    Replay(serde_json::Value),
    /// Same key, another request: a client bug worth refusing loudly.
    Conflict,
}

/// Reserves `key` for this request's body before anything is published, so that two
/// concurrent requests with one key and different bodies cannot both publish: the second
/// finds the first's reservation and is refused. The same body again (a retry, or a
/// concurrent duplicate) proceeds: its event ids derive from the key, so whatever it
/// publishes again is the same events, which readers de-duplicate.
pub async fn reserve(store: &Store, key: &Key<'_>) -> Result<Seen, sqlx::Error> {
    let inserted = sqlx::query(
        "INSERT INTO idempotency_keys (office, idem_key, request_hash, response, created_at_ms) VALUES ($1, $2, $3, '', $4) \
         ON CONFLICT (office, idem_key) DO NOTHING",
    )
    .bind(key.office)
    .bind(key.key)
    .bind(&key.request_hash)
    .bind(now_ms())
    .execute(store.pool())
    .await?;
    if inserted.rows_affected() == 1 {
        return Ok(Seen::New);
    }
    let row = sqlx::query(
        "SELECT request_hash, response FROM idempotency_keys WHERE office = $1 AND idem_key = $2",
    )
    .bind(key.office)
    .bind(key.key)
    .fetch_optional(store.pool())
    .await?;
    Ok(match row {
        // Purged between the two statements: as good as new.
        None => Seen::New,
        Some(row) if row.try_get::<String, _>(0)? != key.request_hash => Seen::Conflict,
        Some(row) => match row.try_get::<String, _>(1)? {
            // Reserved by an attempt that has not answered (in flight, or it failed): go on.
            pending if pending.is_empty() => Seen::New,
            answer => Seen::Replay(serde_json::from_str(&answer).unwrap_or_default()),
        },
    })
}

/// Stores the answer of a reserved key.
pub async fn remember(
    store: &Store,
    key: &Key<'_>,
    response: &serde_json::Value,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "UPDATE idempotency_keys SET response = $3 WHERE office = $1 AND idem_key = $2 AND request_hash = $4",
    )
    .bind(key.office)
    .bind(key.key)
    .bind(response.to_string())
    .bind(&key.request_hash)
    .execute(store.pool())
    .await?;
    Ok(())
}

/// Deletes answers older than `retention`: a client retries within minutes, not weeks.
pub async fn purge(store: &Store, retention: std::time::Duration) -> Result<u64, sqlx::Error> {
    let before = now_ms() - retention.as_millis() as i64;
    let done = sqlx::query("DELETE FROM idempotency_keys WHERE created_at_ms < $1")
        .bind(before)
        .execute(store.pool())
        .await?;
    Ok(done.rows_affected())
}

fn now_ms() -> i64 {
    lintas_kit::events::timefmt::millis::to_millis(&time::OffsetDateTime::now_utc())
}
