//! Deadlines: rules that fire when something does NOT happen in time (no SPDP within 7 days of
//! an investigation). A handler schedules a deadline in its batch's transaction and cancels
//! it when the awaited event arrives; the runtime fires what is due, once, through
//! [`super::Handler::fire`].
//!
//! Three properties make them safe on a replayed, redelivered, reordered feed:
//! - deadlines are met in event time: a cancel carries the awaited event's occurred time; one
//!   that occurred at or after the due time does not cancel (the deadline was missed, however
//!   early the event arrived) but answers it: the firing, or the cancel after it, hands over
//!   its time ([`Deadline::answered_at`], [`Cancellation::Answered`], once) so the handler
//!   marks its alert answered; one that occurred before it cancels even when it arrives after
//!   the firing, and then the handler withdraws what the firing raised
//!   ([`Cancellation::Withdrawn`]);
//! - a cancel that arrives before its schedule leaves a tombstone with its time, so the
//!   schedule is cancelled if the event met it;
//! - a deadline fires only once the subscriber has caught up with the partition that
//!   scheduled it (the awaited event, keyed like the scheduling one, would be there), so a
//!   replay of last year's cases does not fire every deadline before reading the events that
//!   met them;
//! - firing marks the row in the same transaction as the handler's writes, and takes the
//!   rows `FOR UPDATE SKIP LOCKED` on PostgreSQL, so two instances never fire one twice.

use std::collections::HashSet;
use std::sync::{Arc, Mutex};

use lintas_events::timefmt::millis;
use sqlx::{AnyConnection, Row};
use time::OffsetDateTime;

use super::{Batch, Handler, HandlerError, Sink};
use crate::outbox::now_ms;
use crate::store::{Dialect, Store};

/// A deadline that came due.
#[derive(Debug, Clone, PartialEq)]
pub struct Deadline {
    pub key: String,
    pub due_at: OffsetDateTime,
    /// What the handler stored when it scheduled the deadline.
    pub payload: serde_json::Value,
    /// When the deadline was missed and the awaited event has arrived since, late: the
    /// (earliest) time it occurred. Set on a firing when the late event arrived before it
    /// (lag, a replay), and in [`Cancellation::Answered`] when it arrived after: the handler
    /// marks what the firing raised answered (the alert desk's `resolve_answered`).
    pub answered_at: Option<OffsetDateTime>,
}

/// Where "now" comes from: the system clock, or a manual one that tests move.
#[derive(Clone, Default)]
pub struct Clock {
    manual: Option<Arc<Mutex<OffsetDateTime>>>,
}

impl Clock {
    pub fn system() -> Clock {
        Clock::default()
    }

    /// A clock that stands still at `at` until [`Clock::set`] or [`Clock::advance`].
    pub fn manual(at: OffsetDateTime) -> Clock {
        Clock {
            manual: Some(Arc::new(Mutex::new(at))),
        }
    }

    pub fn now(&self) -> OffsetDateTime {
        match &self.manual {
            Some(at) => *at.lock().expect("clock"),
            None => OffsetDateTime::now_utc(),
        }
    }

    /// The time at `then`, an instant already past: for facts observed then and acted on
    /// now (watermarks taken by the probe thread). A manual clock only moves when set.
    pub fn at(&self, then: std::time::Instant) -> OffsetDateTime {
        match &self.manual {
            Some(at) => *at.lock().expect("clock"),
            None => OffsetDateTime::now_utc() - then.elapsed(),
        }
    }

    /// Moves a manual clock to `at`; the system clock cannot be moved (returns false).
    pub fn set(&self, at: OffsetDateTime) -> bool {
        match &self.manual {
            Some(current) => {
                *current.lock().expect("clock") = at;
                true
            }
            None => false,
        }
    }

    pub fn advance(&self, by: time::Duration) -> bool {
        self.set(self.now() + by)
    }
}

impl std::fmt::Debug for Clock {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.manual {
            Some(_) => write!(f, "Clock::manual({})", self.now()),
            None => f.write_str("Clock::system"),
        }
    }
}

const PENDING: &str = "pending";
const CANCELLED: &str = "cancelled";
const FIRED: &str = "fired";
/// The awaited event arrived before the schedule: its time is kept, the schedule compares.
const EARLY: &str = "early";
/// Fired, then met in time by an awaited event that arrived after the firing.
const WITHDRAWN: &str = "withdrawn";
/// Deadlines per firing transaction.
const FIRE_BATCH: i64 = 100;

/// What a cancel did, compared in event time: a deadline is met by an awaited event that
/// *occurred* before it, whenever that event arrives (lag, backfill, rebuild), and is not met
/// by one that occurred after it, however early that event arrives.
#[derive(Debug, Clone, PartialEq)]
#[must_use = "a deadline that had already fired must have what it raised withdrawn"]
pub enum Cancellation {
    /// Pending, and the awaited event occurred before its due time: it will not fire.
    Met,
    /// Not scheduled yet: the awaited event's time is kept, and the schedule is cancelled if
    /// it falls due after that time.
    Early,
    /// The awaited event occurred at or after the due time: the deadline was missed, it fires
    /// all the same (or fired, and was answered late already). Its time is kept: the firing
    /// hands it over as [`Deadline::answered_at`].
    Late,
    /// The deadline had fired (rightly) and now the awaited event arrived, occurred after the
    /// due time: the alert stands but is answered; the handler marks it so. Returned once,
    /// for the first late event; a later or redelivered one gets [`Cancellation::Late`].
    Answered(Deadline),
    /// The deadline had fired although the awaited event occurred before its due time (it
    /// arrived late): what the firing raised was wrong and must be withdrawn (closed) by the
    /// handler. Returned once; a redelivery of the event gets [`Cancellation::Unchanged`].
    Withdrawn(Deadline),
    /// Already cancelled or withdrawn (a redelivery, or an earlier awaited event met it).
    Unchanged,
}

pub(super) async fn schedule(
    conn: &mut AnyConnection,
    origin: (&str, i32),
    key: &str,
    due_at: OffsetDateTime,
    payload: &serde_json::Value,
) -> Result<(), sqlx::Error> {
    // An existing row wins (a redelivery changes nothing, a tombstone of old stays
    // cancelled), except an early arrival of the awaited event: its time decides whether the
    // deadline was met (cancelled) or missed (pending, fires once due).
    sqlx::query(
        "INSERT INTO lintas_deadlines (deadline_key, due_at_ms, payload, topic, partition_id, state, updated_at_ms) \
         VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (deadline_key) DO UPDATE \
         SET due_at_ms = excluded.due_at_ms, payload = excluded.payload, topic = excluded.topic, \
         partition_id = excluded.partition_id, updated_at_ms = excluded.updated_at_ms, \
         state = CASE WHEN lintas_deadlines.met_at_ms < excluded.due_at_ms THEN $8 ELSE $6 END \
         WHERE lintas_deadlines.state = $9",
    )
    .bind(key)
    .bind(millis::to_millis(&due_at))
    .bind(payload.to_string())
    .bind(origin.0)
    .bind(origin.1)
    .bind(PENDING)
    .bind(now_ms())
    .bind(CANCELLED)
    .bind(EARLY)
    .execute(conn)
    .await?;
    Ok(())
}

pub(super) async fn cancel(
    conn: &mut AnyConnection,
    origin: (&str, i32),
    key: &str,
    met_at: OffsetDateTime,
) -> Result<Cancellation, sqlx::Error> {
    let met_ms = millis::to_millis(&met_at);
    // Pending and met in time. (On PostgreSQL a firing in flight holds the row: this waits
    // for it and then finds it fired, below.)
    let met = sqlx::query(
        "UPDATE lintas_deadlines SET state = $2, met_at_ms = $3, updated_at_ms = $4 \
         WHERE deadline_key = $1 AND state = $5 AND due_at_ms > $3",
    )
    .bind(key)
    .bind(CANCELLED)
    .bind(met_ms)
    .bind(now_ms())
    .bind(PENDING)
    .execute(&mut *conn)
    .await?;
    if met.rows_affected() > 0 {
        return Ok(Cancellation::Met);
    }
    // Fired, though met in time: withdrawn, once.
    let withdrawn = sqlx::query(
        "UPDATE lintas_deadlines SET state = $2, met_at_ms = $3, updated_at_ms = $4 \
         WHERE deadline_key = $1 AND state = $5 AND due_at_ms > $3",
    )
    .bind(key)
    .bind(WITHDRAWN)
    .bind(met_ms)
    .bind(now_ms())
    .bind(FIRED)
    .execute(&mut *conn)
    .await?;
    if withdrawn.rows_affected() > 0 {
        return Ok(Cancellation::Withdrawn(read(conn, key).await?));
    }
    // Missed, and fired already: answered late, once (the first late event to arrive).
    let answered = sqlx::query(
        "UPDATE lintas_deadlines SET met_at_ms = $3, updated_at_ms = $4 \
         WHERE deadline_key = $1 AND state = $2 AND due_at_ms <= $3 AND met_at_ms IS NULL",
    )
    .bind(key)
    .bind(FIRED)
    .bind(met_ms)
    .bind(now_ms())
    .execute(&mut *conn)
    .await?;
    if answered.rows_affected() > 0 {
        let mut deadline = read(conn, key).await?;
        deadline.answered_at = Some(met_at);
        return Ok(Cancellation::Answered(deadline));
    }
    // Missed, not fired yet: the earliest late arrival is kept for the firing to hand over.
    sqlx::query(
        "UPDATE lintas_deadlines SET met_at_ms = $3, updated_at_ms = $4 \
         WHERE deadline_key = $1 AND state = $2 AND due_at_ms <= $3 \
         AND (met_at_ms IS NULL OR met_at_ms > $3)",
    )
    .bind(key)
    .bind(PENDING)
    .bind(met_ms)
    .bind(now_ms())
    .execute(&mut *conn)
    .await?;
    // Not scheduled yet: remember the earliest awaited event for the schedule to compare.
    let early = sqlx::query(
        "INSERT INTO lintas_deadlines (deadline_key, due_at_ms, payload, topic, partition_id, state, updated_at_ms, met_at_ms) \
         VALUES ($1, 0, '{}', $2, $3, $4, $5, $6) ON CONFLICT (deadline_key) DO UPDATE \
         SET met_at_ms = excluded.met_at_ms, updated_at_ms = excluded.updated_at_ms \
         WHERE lintas_deadlines.state = $4 AND excluded.met_at_ms < lintas_deadlines.met_at_ms",
    )
    .bind(key)
    .bind(origin.0)
    .bind(origin.1)
    .bind(EARLY)
    .bind(now_ms())
    .bind(met_ms)
    .execute(&mut *conn)
    .await?;
    let state: String =
        sqlx::query_scalar("SELECT state FROM lintas_deadlines WHERE deadline_key = $1")
            .bind(key)
            .fetch_one(&mut *conn)
            .await?;
    Ok(match state.as_str() {
        EARLY if early.rows_affected() > 0 => Cancellation::Early,
        PENDING | FIRED => Cancellation::Late,
        _ => Cancellation::Unchanged,
    })
}

/// Deadline `key` as stored (without an answer).
async fn read(conn: &mut AnyConnection, key: &str) -> Result<Deadline, sqlx::Error> {
    let row =
        sqlx::query("SELECT due_at_ms, payload FROM lintas_deadlines WHERE deadline_key = $1")
            .bind(key)
            .fetch_one(&mut *conn)
            .await?;
    let due_at = millis::from_millis(row.try_get(0)?)
        .map_err(|e| sqlx::Error::Decode(e.to_string().into()))?;
    let payload = serde_json::from_str(&row.try_get::<String, _>(1)?)
        .map_err(|e| sqlx::Error::Decode(e.into()))?;
    Ok(Deadline {
        key: key.to_string(),
        due_at,
        payload,
        answered_at: None,
    })
}

/// Fires every deadline due at `now` (of the partitions in `owned`, or all of them), one
/// transaction per [`FIRE_BATCH`]. Returns how many fired.
/// With `codec`, the handler's events go to the outbox; without, into `published` (harness).
pub(crate) async fn fire_due<H: Handler>(
    store: &Store,
    handler: &H,
    codec: Option<&crate::codec::Codec>,
    published: &mut Vec<lintas_events::AnyEvent>,
    now: OffsetDateTime,
    owned: Option<&HashSet<(String, i32)>>,
) -> Result<usize, HandlerError> {
    let mut fired = 0;
    loop {
        let mut sql = String::from(
            "SELECT deadline_key, due_at_ms, payload, met_at_ms FROM lintas_deadlines WHERE state = $1 AND due_at_ms <= $2",
        );
        let owned: Vec<&(String, i32)> = owned.map(|o| o.iter().collect()).unwrap_or_default();
        if !owned.is_empty() {
            let clauses: Vec<String> = (0..owned.len())
                .map(|i| format!("(topic = ${} AND partition_id = ${})", 3 + 2 * i, 4 + 2 * i))
                .collect();
            sql.push_str(&format!(" AND ({})", clauses.join(" OR ")));
        }
        sql.push_str(&format!(
            " ORDER BY due_at_ms, deadline_key LIMIT {FIRE_BATCH}"
        ));
        if store.dialect() == Dialect::Postgres {
            sql.push_str(" FOR UPDATE SKIP LOCKED");
        }
        let mut tx = store.pool().begin().await?;
        let mut query = sqlx::query(&sql)
            .bind(PENDING)
            .bind(millis::to_millis(&now));
        for (topic, partition) in &owned {
            query = query.bind(topic.as_str()).bind(*partition);
        }
        let rows = query.fetch_all(&mut *tx).await?;
        if rows.is_empty() {
            tx.rollback().await?;
            return Ok(fired);
        }
        let mut due = Vec::with_capacity(rows.len());
        for row in &rows {
            due.push(Deadline {
                key: row.try_get(0)?,
                due_at: millis::from_millis(row.try_get(1)?).map_err(HandlerError::transient)?,
                payload: serde_json::from_str(&row.try_get::<String, _>(2)?)
                    .map_err(HandlerError::transient)?,
                // A pending deadline holds a time only of a late arrival (one in time
                // cancelled it).
                answered_at: row
                    .try_get::<Option<i64>, _>(3)?
                    .map(millis::from_millis)
                    .transpose()
                    .map_err(HandlerError::transient)?,
            });
        }
        {
            let mut memory = Vec::new();
            let sink = match codec {
                Some(codec) => Sink::Outbox(codec),
                None => Sink::Memory(&mut memory),
            };
            let mut batch = Batch::new(&mut tx, &[], sink);
            // The alert desk's review dates are the kit's own; the handler gets the rest.
            let (reviews, rules): (Vec<Deadline>, Vec<Deadline>) = due
                .iter()
                .cloned()
                .partition(|d| d.key.starts_with(crate::alerts::REVIEW_KEY));
            if !reviews.is_empty() {
                crate::alerts::review_due(&mut batch, &reviews).await?;
            }
            if !rules.is_empty() {
                handler.fire(&mut batch, &rules).await?;
            }
            published.extend(memory);
        }
        for deadline in &due {
            sqlx::query(
                "UPDATE lintas_deadlines SET state = $1, updated_at_ms = $2 WHERE deadline_key = $3",
            )
            .bind(FIRED)
            .bind(now_ms())
            .bind(&deadline.key)
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
        fired += due.len();
        if (rows.len() as i64) < FIRE_BATCH {
            return Ok(fired);
        }
    }
}

/// Deletes fired and cancelled deadlines older than `retention`, hourly, until shutdown. A
/// cancel's tombstone must outlive any redelivery of the record that scheduled it, so the
/// retention is at least the topics' (400 days by default).
pub(crate) async fn purge_loop(
    store: Store,
    retention: std::time::Duration,
    shutdown: crate::shutdown::Shutdown,
) -> anyhow::Result<()> {
    loop {
        let before = crate::outbox::now_ms() - retention.as_millis() as i64;
        match sqlx::query(
            "DELETE FROM lintas_deadlines WHERE state IN ($1, $2, $3, $4) AND updated_at_ms < $5",
        )
        .bind(FIRED)
        .bind(CANCELLED)
        .bind(EARLY)
        .bind(WITHDRAWN)
        .bind(before)
        .execute(store.pool())
        .await
        {
            Ok(done) if done.rows_affected() > 0 => {
                tracing::info!(
                    purged = done.rows_affected(),
                    "old fired and cancelled deadlines purged"
                )
            }
            Ok(_) => {}
            Err(e) => tracing::warn!(error = %e, "deadline purge failed; next hour"),
        }
        tokio::select! {
            _ = tokio::time::sleep(std::time::Duration::from_secs(3600)) => {}
            _ = shutdown.wait() => return Ok(()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    const ORIGIN: (&str, i32) = ("lintas.cases.v1", 0);
    const DUE: OffsetDateTime = datetime!(2026-04-09 00:00 +7);

    async fn state(conn: &mut AnyConnection, key: &str) -> String {
        sqlx::query_scalar("SELECT state FROM lintas_deadlines WHERE deadline_key = $1")
            .bind(key)
            .fetch_one(conn)
            .await
            .unwrap()
    }

    /// Every way an awaited event can meet (or miss) a deadline, compared in event time.
    #[tokio::test]
    async fn a_deadline_is_met_by_what_occurred_before_it_not_by_what_arrived() {
        let store = Store::connect("sqlite::memory:", "test").await.unwrap();
        let mut tx = store.pool().begin().await.unwrap();
        let conn: &mut AnyConnection = &mut tx;
        let payload = serde_json::json!({ "case_id": "C" });
        let in_time = DUE - time::Duration::minutes(1);
        let too_late = DUE;

        // Pending: an event in time cancels, a late one does not; a redelivery is unchanged.
        schedule(conn, ORIGIN, "met", DUE, &payload).await.unwrap();
        assert_eq!(
            cancel(conn, ORIGIN, "met", in_time).await.unwrap(),
            Cancellation::Met
        );
        assert_eq!(
            cancel(conn, ORIGIN, "met", in_time).await.unwrap(),
            Cancellation::Unchanged
        );
        schedule(conn, ORIGIN, "late", DUE, &payload).await.unwrap();
        assert_eq!(
            cancel(conn, ORIGIN, "late", too_late).await.unwrap(),
            Cancellation::Late
        );
        assert_eq!(state(conn, "late").await, PENDING);

        // Before the schedule: the schedule compares with the event's time.
        assert_eq!(
            cancel(conn, ORIGIN, "early", in_time).await.unwrap(),
            Cancellation::Early
        );
        schedule(conn, ORIGIN, "early", DUE, &payload)
            .await
            .unwrap();
        assert_eq!(state(conn, "early").await, CANCELLED);
        schedule(conn, ORIGIN, "early", DUE, &payload)
            .await
            .unwrap();
        assert_eq!(
            state(conn, "early").await,
            CANCELLED,
            "a redelivered schedule"
        );
        assert_eq!(
            cancel(conn, ORIGIN, "early-late", too_late).await.unwrap(),
            Cancellation::Early
        );
        schedule(conn, ORIGIN, "early-late", DUE, &payload)
            .await
            .unwrap();
        assert_eq!(
            state(conn, "early-late").await,
            PENDING,
            "missed: fires once due"
        );

        // Fired, then an event in time arrives: withdrawn once; a late one changes nothing.
        for key in ["fired", "fired-late"] {
            schedule(conn, ORIGIN, key, DUE, &payload).await.unwrap();
            sqlx::query("UPDATE lintas_deadlines SET state = $1 WHERE deadline_key = $2")
                .bind(FIRED)
                .bind(key)
                .execute(&mut *conn)
                .await
                .unwrap();
        }
        assert_eq!(
            cancel(conn, ORIGIN, "fired", in_time).await.unwrap(),
            Cancellation::Withdrawn(Deadline {
                key: "fired".into(),
                due_at: DUE,
                payload: payload.clone(),
                answered_at: None,
            })
        );
        assert_eq!(
            cancel(conn, ORIGIN, "fired", in_time).await.unwrap(),
            Cancellation::Unchanged
        );
        assert_eq!(state(conn, "fired").await, WITHDRAWN);
        // Fired, then a late event: the alert was right, and is now answered, once.
        assert_eq!(
            cancel(conn, ORIGIN, "fired-late", too_late).await.unwrap(),
            Cancellation::Answered(Deadline {
                key: "fired-late".into(),
                due_at: DUE,
                payload: payload.clone(),
                answered_at: Some(too_late),
            })
        );
        assert_eq!(
            cancel(conn, ORIGIN, "fired-late", too_late).await.unwrap(),
            Cancellation::Late
        );
        assert_eq!(state(conn, "fired-late").await, FIRED);
    }
}
