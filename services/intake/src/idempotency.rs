//! `Idempotency-Key`: a retried request gets the first answer and publishes nothing new.
//!
//! The answer is stored only after the broker acknowledged every event. Event ids of a keyed
//! request derive from the office and the key, so a retry after a 503 (when the first attempt
//! may or may not have reached the broker) republishes the *same* event ids, which readers
//! de-duplicate. No pending state can be left behind by a crash.

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
    New,
    /// Same key, same request: the stored answer.
    Replay(serde_json::Value),
    /// Same key, another request: a client bug worth refusing loudly.
    Conflict,
}

pub async fn lookup(store: &Store, key: &Key<'_>) -> Result<Seen, sqlx::Error> {
    let row = sqlx::query(
        "SELECT request_hash, response FROM idempotency_keys WHERE office = $1 AND idem_key = $2",
    )
    .bind(key.office)
    .bind(key.key)
    .fetch_optional(store.pool())
    .await?;
    Ok(match row {
        None => Seen::New,
        Some(row) if row.try_get::<String, _>(0)? == key.request_hash => {
            Seen::Replay(serde_json::from_str(&row.try_get::<String, _>(1)?).unwrap_or_default())
        }
        Some(_) => Seen::Conflict,
    })
}

pub async fn remember(
    store: &Store,
    key: &Key<'_>,
    response: &serde_json::Value,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO idempotency_keys (office, idem_key, request_hash, response, created_at_ms) VALUES ($1, $2, $3, $4, $5) \
         ON CONFLICT (office, idem_key) DO NOTHING",
    )
    .bind(key.office)
    .bind(key.key)
    .bind(&key.request_hash)
    .bind(response.to_string())
    .bind(lintas_kit::events::timefmt::millis::to_millis(&time::OffsetDateTime::now_utc()))
    .execute(store.pool())
    .await?;
    Ok(())
}
