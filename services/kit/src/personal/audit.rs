//! The audit chain of personal-data reads.
//!
//! ```text
//! entry_hash = hex(SHA-256(JSON [previous_hash, sequence, read_id, at_ms, agency, office,
//!                                officer_id, person_key, purpose, [fields…]]))
//! ```
//!
//! Each entry is numbered within its agency (from 1) and chained to the previous one
//! (`previous_hash`, 64 zeros for the first). The entry is written in the transaction that
//! reads the data and published on the privacy topic through the outbox in the same
//! transaction, so the topic holds a copy the agency's database cannot rewrite: a rebuild
//! restores the log from it, and `lintas audit verify` compares the two.

use std::collections::HashMap;

use axum::extract::{Query, State as AxumState};
use axum::response::{IntoResponse, Response};
use axum::Json;
use lintas_events::timefmt::millis;
use lintas_events::{Agency, Envelope, ErasureScope, PersonalDataRead};
use serde_json::{json, Value};
use sha2::{Digest, Sha256};
use sqlx::{AnyConnection, AnyPool, Row};
use uuid::Uuid;

use super::{Justification, PersonalData, State};
use crate::auth::Caller;
use crate::codec::Codec;
use crate::views::{database_unavailable, require_agency};

/// `previous_hash` of an agency's first entry.
pub const GENESIS_HASH: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// One entry of the chain.
#[derive(Debug, Clone, PartialEq)]
pub struct AuditEntry {
    pub read_id: String,
    pub sequence: i64,
    pub at_ms: i64,
    pub agency: String,
    pub office: String,
    pub officer_id: String,
    pub person_key: String,
    pub purpose: String,
    pub fields: Vec<String>,
    pub previous_hash: String,
}

impl AuditEntry {
    /// The entry's hash, as documented above.
    pub fn hash(&self) -> String {
        let canonical = json!([
            self.previous_hash,
            self.sequence,
            self.read_id,
            self.at_ms,
            self.agency,
            self.office,
            self.officer_id,
            self.person_key,
            self.purpose,
            self.fields,
        ]);
        hex::encode(Sha256::digest(canonical.to_string().as_bytes()))
    }
}

/// Records one read of `fields` of `person_key` by `caller`: the next entry of the agency's
/// chain, written with `conn` (the transaction that reads the data) and enqueued for the
/// privacy topic. Call it before the data leaves the transaction.
pub async fn record_read(
    conn: &mut AnyConnection,
    codec: &Codec,
    data: &PersonalData,
    caller: &Caller,
    why: &Justification,
    person_key: &str,
    fields: &[&str],
) -> anyhow::Result<()> {
    let agency = data.agency.to_string();
    sqlx::query(
        "INSERT INTO lintas_audit_chain (agency, sequence, head_hash) VALUES ($1, 0, $2) \
         ON CONFLICT (agency) DO NOTHING",
    )
    .bind(&agency)
    .bind(GENESIS_HASH)
    .execute(&mut *conn)
    .await?;
    // Takes the row lock: concurrent reads of one agency line up here.
    let head = sqlx::query(
        "UPDATE lintas_audit_chain SET sequence = sequence + 1 WHERE agency = $1 RETURNING sequence, head_hash",
    )
    .bind(&agency)
    .fetch_one(&mut *conn)
    .await?;
    let now = millis::now();
    let read_id = Uuid::new_v4();
    let entry = AuditEntry {
        read_id: read_id.to_string(),
        sequence: head.try_get(0)?,
        at_ms: millis::to_millis(&now),
        agency: agency.clone(),
        office: caller.office.clone(),
        officer_id: why.officer_id.clone(),
        person_key: person_key.to_string(),
        purpose: why.purpose.clone(),
        fields: fields.iter().map(|f| f.to_string()).collect(),
        previous_hash: head.try_get(1)?,
    };
    let entry_hash = entry.hash();
    sqlx::query("UPDATE lintas_audit_chain SET head_hash = $2 WHERE agency = $1")
        .bind(&agency)
        .bind(&entry_hash)
        .execute(&mut *conn)
        .await?;
    insert(conn, &entry, &entry_hash).await?;
    let mut envelope = Envelope::new(
        data.agency,
        caller.office.clone(),
        why.officer_id.clone(),
        now,
    );
    envelope.event_id = read_id;
    if data.scope == ErasureScope::Subject {
        envelope.subject_key = Some(person_key.to_string());
    }
    let event = PersonalDataRead {
        envelope,
        read_id,
        sequence: entry.sequence,
        person_key: entry.person_key.clone(),
        fields: entry.fields.clone(),
        purpose: entry.purpose.clone(),
        previous_hash: entry.previous_hash.clone(),
        entry_hash,
    };
    crate::outbox::enqueue(conn, codec, &event).await?;
    tracing::info!(office = %caller.office, officer = %why.officer_id, sequence = entry.sequence, "personal data read");
    Ok(())
}

async fn insert(
    conn: &mut AnyConnection,
    entry: &AuditEntry,
    hash: &str,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO lintas_personal_data_reads (read_id, at_ms, agency, office, officer_id, subject_key, purpose, fields, \
         sequence, previous_hash, entry_hash) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) \
         ON CONFLICT (read_id) DO NOTHING",
    )
    .bind(&entry.read_id)
    .bind(entry.at_ms)
    .bind(&entry.agency)
    .bind(&entry.office)
    .bind(&entry.officer_id)
    .bind(&entry.person_key)
    .bind(&entry.purpose)
    .bind(entry.fields.join(","))
    .bind(entry.sequence)
    .bind(&entry.previous_hash)
    .bind(hash)
    .execute(conn)
    .await?;
    Ok(())
}

/// An entry read back from the privacy topic: restored as recorded (a rebuild, or a
/// database restored from an older backup), and the chain head moved up to it.
pub(super) async fn restore(
    conn: &mut AnyConnection,
    e: &PersonalDataRead,
) -> Result<(), sqlx::Error> {
    let (entry, _) = entry_of(e);
    insert(&mut *conn, &entry, &e.entry_hash).await?;
    sqlx::query(
        "INSERT INTO lintas_audit_chain (agency, sequence, head_hash) VALUES ($1, $2, $3) \
         ON CONFLICT (agency) DO UPDATE SET sequence = excluded.sequence, head_hash = excluded.head_hash \
         WHERE lintas_audit_chain.sequence < excluded.sequence",
    )
    .bind(&entry.agency)
    .bind(entry.sequence)
    .bind(&e.entry_hash)
    .execute(conn)
    .await?;
    Ok(())
}

/// What [`verify_chain`] found.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct ChainReport {
    pub agency: String,
    pub entries: i64,
    pub head_hash: String,
    /// The first problem, if any: a gap, a broken link, an altered entry, a missing tail.
    pub problem: Option<String>,
}

impl ChainReport {
    pub fn valid(&self) -> bool {
        self.problem.is_none()
    }
}

/// Recomputes `agency`'s chain from its first entry: every entry present, each linked to the
/// one before, each hash matching its content, and the last one the recorded head.
pub async fn verify_chain(pool: &AnyPool, agency: Agency) -> Result<ChainReport, sqlx::Error> {
    let mut report = verify_entries(agency, &chain_entries(pool, agency).await?);
    let head = sqlx::query("SELECT sequence, head_hash FROM lintas_audit_chain WHERE agency = $1")
        .bind(agency.to_string())
        .fetch_optional(pool)
        .await?;
    if let (None, Some(head)) = (&report.problem, head) {
        let (sequence, hash): (i64, String) = (head.try_get(0)?, head.try_get(1)?);
        if sequence != report.entries || hash != report.head_hash {
            report.problem = Some(format!(
                "the chain head records {sequence} entries, the log holds {}: entries after {} were removed",
                report.entries, report.entries
            ));
        }
    }
    Ok(report)
}

/// `agency`'s chained entries in the database, in order, each with its stored hash.
pub async fn chain_entries(
    pool: &AnyPool,
    agency: Agency,
) -> Result<Vec<(AuditEntry, String)>, sqlx::Error> {
    let rows = sqlx::query(
        "SELECT read_id, at_ms, office, officer_id, subject_key, purpose, fields, sequence, previous_hash, entry_hash \
         FROM lintas_personal_data_reads WHERE agency = $1 AND sequence IS NOT NULL ORDER BY sequence",
    )
    .bind(agency.to_string())
    .fetch_all(pool)
    .await?;
    rows.iter()
        .map(|row| {
            Ok((
                AuditEntry {
                    read_id: row.try_get(0)?,
                    at_ms: row.try_get(1)?,
                    agency: agency.to_string(),
                    office: row.try_get(2)?,
                    officer_id: row.try_get(3)?,
                    person_key: row.try_get(4)?,
                    purpose: row.try_get(5)?,
                    fields: split_fields(&row.try_get::<String, _>(6)?),
                    sequence: row.try_get(7)?,
                    previous_hash: row.try_get::<Option<String>, _>(8)?.unwrap_or_default(),
                },
                row.try_get::<Option<String>, _>(9)?.unwrap_or_default(),
            ))
        })
        .collect()
}

/// The entry a PersonalDataRead event records.
pub fn entry_of(e: &PersonalDataRead) -> (AuditEntry, String) {
    (
        AuditEntry {
            read_id: e.read_id.to_string(),
            sequence: e.sequence,
            at_ms: millis::to_millis(&e.envelope.occurred_at),
            agency: e.envelope.agency.to_string(),
            office: e.envelope.office.clone(),
            officer_id: e.envelope.officer_id.clone(),
            person_key: e.person_key.clone(),
            purpose: e.purpose.clone(),
            fields: e.fields.clone(),
            previous_hash: e.previous_hash.clone(),
        },
        e.entry_hash.clone(),
    )
}

/// Checks a chain given in sequence order: numbered from 1 without gaps, each entry linked to
/// the previous one, each stored hash equal to the entry's hash.
pub fn verify_entries(agency: Agency, entries: &[(AuditEntry, String)]) -> ChainReport {
    let mut report = ChainReport {
        agency: agency.to_string(),
        entries: 0,
        head_hash: GENESIS_HASH.to_string(),
        problem: None,
    };
    for (entry, stored_hash) in entries {
        let expected = report.entries + 1;
        report.problem = if entry.sequence != expected {
            Some(format!("entry {expected} is missing"))
        } else if entry.previous_hash != report.head_hash {
            Some(format!(
                "entry {expected} does not follow entry {}",
                expected - 1
            ))
        } else if entry.hash() != *stored_hash {
            Some(format!("entry {expected} was altered"))
        } else {
            None
        };
        if report.problem.is_some() {
            return report;
        }
        report.entries = expected;
        report.head_hash = stored_hash.clone();
    }
    report
}

/// Compares the database's chain with the copy on the privacy topic: every entry published
/// must be in the database unchanged. Entries the database holds beyond the topic's are
/// allowed (the outbox may not have relayed them yet).
pub fn compare_with_topic(
    database: &[(AuditEntry, String)],
    topic: &[(AuditEntry, String)],
) -> Option<String> {
    let in_database: HashMap<i64, &String> = database
        .iter()
        .map(|(entry, hash)| (entry.sequence, hash))
        .collect();
    for (entry, hash) in topic {
        match in_database.get(&entry.sequence) {
            None => {
                return Some(format!(
                    "entry {} is on the privacy topic but missing from the database",
                    entry.sequence
                ))
            }
            Some(stored) if *stored != hash => {
                return Some(format!(
                    "entry {} in the database differs from its copy on the privacy topic",
                    entry.sequence
                ))
            }
            Some(_) => {}
        }
    }
    None
}

fn split_fields(text: &str) -> Vec<String> {
    text.split(',')
        .filter(|f| !f.is_empty())
        .map(str::to_string)
        .collect()
}

/// `GET …/audit/personal-data-reads?subject_key=&office=&limit=`: the agency's own audit
/// log, newest first, for any of its tokens.
pub(super) async fn reads(
    AxumState(state): AxumState<State>,
    caller: Caller,
    Query(query): Query<HashMap<String, String>>,
) -> Response {
    if let Err(e) = require_agency(&caller, state.data.agency) {
        return e.into_response();
    }
    let limit = query
        .get("limit")
        .and_then(|l| l.parse::<i64>().ok())
        .unwrap_or(100)
        .clamp(1, 1000);
    let rows = sqlx::query(
        "SELECT read_id, at_ms, office, officer_id, subject_key, purpose, fields, sequence, entry_hash \
         FROM lintas_personal_data_reads \
         WHERE agency = $1 AND ($2 IS NULL OR subject_key = $2) AND ($3 IS NULL OR office = $3) \
         ORDER BY at_ms DESC, read_id LIMIT $4",
    )
    .bind(state.data.agency.to_string())
    .bind(query.get("subject_key"))
    .bind(query.get("office"))
    .bind(limit)
    .fetch_all(state.views.store.pool())
    .await;
    match rows {
        Ok(rows) => Json(json!({ "reads": rows.iter().map(|r| json!({
            "read_id": r.get::<String, _>(0),
            "at_ms": r.get::<i64, _>(1),
            "office": r.get::<String, _>(2),
            "officer_id": r.get::<String, _>(3),
            "subject_key": r.get::<String, _>(4),
            "purpose": r.get::<String, _>(5),
            "fields": split_fields(&r.get::<String, _>(6)),
            "sequence": r.get::<Option<i64>, _>(7),
            "entry_hash": r.get::<Option<String>, _>(8),
        })).collect::<Vec<Value>>() }))
        .into_response(),
        Err(e) => database_unavailable(e),
    }
}

/// `GET …/audit/personal-data-reads/verify`: the chain recomputed.
pub(super) async fn verify(AxumState(state): AxumState<State>, caller: Caller) -> Response {
    if let Err(e) = require_agency(&caller, state.data.agency) {
        return e.into_response();
    }
    match verify_chain(state.views.store.pool(), state.data.agency).await {
        Ok(report) => Json(json!({
            "valid": report.valid(),
            "entries": report.entries,
            "head_hash": report.head_hash,
            "problem": report.problem,
        }))
        .into_response(),
        Err(e) => database_unavailable(e),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_hash_covers_every_field_and_the_link() {
        let entry = AuditEntry {
            read_id: "a".into(),
            sequence: 1,
            at_ms: 5,
            agency: "imigrasi".into(),
            office: "KANIM".into(),
            officer_id: "im-7".into(),
            person_key: "ab".into(),
            purpose: "interview".into(),
            fields: vec!["nik".into()],
            previous_hash: GENESIS_HASH.into(),
        };
        let hash = entry.hash();
        assert_eq!(hash.len(), 64);
        let mut other = entry.clone();
        other.purpose = "Interview".into();
        assert_ne!(other.hash(), hash);
        let mut relinked = entry.clone();
        relinked.previous_hash = "1".repeat(64);
        assert_ne!(relinked.hash(), hash);
    }
}
