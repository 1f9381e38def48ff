//! The subject-history view.

use std::collections::{HashMap, HashSet};
use std::future::Future;
use std::pin::Pin;

use lintas_kit::consumer::{Batch, Handler, HandlerError, Record};
use lintas_kit::events::calendar::{age_band, age_in_years, TimeZone};
use lintas_kit::events::timefmt::millis::to_millis;
use lintas_kit::events::{AnyEvent, ApplicantRegistered};
use serde_json::{json, Value};
use sqlx::AnyConnection;

use crate::rules::{self, Im1Settings};

/// Rows per multi-row INSERT: few statements per batch, within every database's limit on
/// bound parameters.
pub(crate) const ROWS_PER_STATEMENT: usize = 1000;

/// The immigration subscriber's handler; `default()` has IM1's default settings (tests).
#[derive(Default)]
pub struct ImigrasiHandler {
    pub im1: Im1Settings,
}

impl Handler for ImigrasiHandler {
    async fn apply(&self, batch: &mut Batch<'_>) -> Result<(), HandlerError> {
        // An event about a person without the person's key cannot enter a subject history:
        // it is a publisher defect, so it goes to the dead-letter topic with the reason.
        if let Some(index) = batch.records().iter().position(|r| {
            details(&r.event, self.im1.time_zone).is_some()
                && r.event.envelope().subject_key.is_none()
        }) {
            return Err(HandlerError::Rejected {
                index,
                reason: format!(
                    "{} without envelope.subject_key",
                    batch.records()[index].event.type_name()
                ),
            });
        }
        registrations(batch, &self.im1).await?;
        let rows = history_rows(batch.records(), self.im1.time_zone);
        for chunk in rows.chunks(ROWS_PER_STATEMENT) {
            insert_history(batch, chunk).await?;
        }
        // IM1 once per subject of the batch, on its whole history (now including this batch).
        let mut seen = HashSet::new();
        let subjects: Vec<String> = batch
            .records()
            .iter()
            .filter(|r| rules::is_im1_input(&r.event))
            .filter_map(|r| r.event.envelope().subject_key.clone())
            .filter(|s| seen.insert(s.clone()))
            .collect();
        rules::im1(batch, &self.im1, &subjects).await?;
        let records: Vec<Record> = batch.records().to_vec();
        for record in &records {
            crate::travel_rules::check(batch, &self.im1, &record.event).await?;
            crate::ALERTS.apply(batch, record).await?;
            crate::PERSONAL_DATA.apply(batch, record).await?;
        }
        Ok(())
    }
}

/// What a registration leaves in the immigration views: the sex IM2's transit variant joins on
/// (first registration of a subject wins), and, where this subscriber could decrypt it and the
/// person was not erased since, the identity: verified when the channel was entitled to assert
/// it (first verified registration wins), a claim otherwise. One statement per chunk.
async fn registrations(batch: &mut Batch<'_>, settings: &Im1Settings) -> Result<(), HandlerError> {
    let registered: Vec<(ApplicantRegistered, bool)> = batch
        .records()
        .iter()
        .filter_map(|r| match &r.event {
            AnyEvent::ApplicantRegistered(e) if e.envelope.subject_key.is_some() => {
                Some((e.clone(), r.personal_data_readable()))
            }
            _ => None,
        })
        .collect();
    for chunk in registered.chunks(ROWS_PER_STATEMENT) {
        let mut seen = HashSet::new();
        let mut sexes = Vec::new();
        for (e, _) in chunk {
            let subject = e.envelope.subject_key.clone().expect("filtered");
            if seen.insert(subject.clone()) {
                sexes.push(vec![
                    Cell::Text(subject),
                    Cell::Text(e.sex.to_string()),
                    Cell::Text(e.envelope.event_id.to_string()),
                ]);
            }
        }
        insert_rows(
            batch,
            "INSERT INTO subject_registrations (subject_key, sex, registration_event_id)",
            &sexes,
            "ON CONFLICT (subject_key) DO NOTHING",
        )
        .await?;
        let women: Vec<String> = sexes
            .iter()
            .filter(|row| matches!(&row[1], Cell::Text(sex) if sex == "female"))
            .filter_map(|row| match &row[0] {
                Cell::Text(subject) => Some(subject.clone()),
                Cell::Int(_) => None,
            })
            .collect();
        let women: Vec<&str> = women.iter().map(String::as_str).collect();
        crate::travel_rules::registered(batch, settings, &women).await?;
        identities(batch, chunk).await?;
    }
    Ok(())
}

async fn identities(
    batch: &mut Batch<'_>,
    chunk: &[(ApplicantRegistered, bool)],
) -> Result<(), HandlerError> {
    let readable: Vec<&ApplicantRegistered> = chunk
        .iter()
        .filter(|(_, readable)| *readable)
        .map(|(e, _)| e)
        .collect();
    let keys: Vec<&str> = readable
        .iter()
        .filter_map(|e| e.envelope.subject_key.as_deref())
        .collect();
    let erased = crate::PERSONAL_DATA.erased_at(batch.tx(), &keys).await?;
    let (mut verified, mut claims) = (Vec::new(), Vec::new());
    let (mut seen_verified, mut seen_claim) = (HashSet::new(), HashSet::new());
    for e in readable {
        let subject = e.envelope.subject_key.clone().expect("filtered");
        let at = to_millis(&e.envelope.occurred_at);
        if erased
            .get(&subject)
            .is_some_and(|erased_at| at <= *erased_at)
        {
            continue;
        }
        let event_id = e.envelope.event_id.to_string();
        if e.identity_verified {
            if seen_verified.insert(subject.clone()) {
                verified.push(vec![
                    Cell::Text(subject),
                    Cell::Text(e.personal.nik.clone()),
                    Cell::Text(e.personal.full_name.clone()),
                    Cell::Text(e.birth_date.to_string()),
                    Cell::Text(e.village.clone()),
                    Cell::Text(e.sub_district.clone()),
                    Cell::Text(e.source.to_string()),
                    Cell::Text(e.envelope.office.clone()),
                    Cell::Text(event_id),
                    Cell::Int(at),
                ]);
            }
        } else if seen_claim.insert((subject.clone(), event_id.clone())) {
            claims.push(vec![
                Cell::Text(subject),
                Cell::Text(event_id),
                Cell::Text(e.personal.nik.clone()),
                Cell::Text(e.personal.full_name.clone()),
                Cell::Text(e.source.to_string()),
                Cell::Text(e.envelope.office.clone()),
                Cell::Int(at),
            ]);
        }
    }
    insert_rows(
        batch,
        "INSERT INTO subject_identities (subject_key, nik, full_name, birth_date, village, sub_district, source, office, source_event_id, occurred_at_ms)",
        &verified,
        "ON CONFLICT (subject_key) DO NOTHING",
    )
    .await?;
    insert_rows(
        batch,
        "INSERT INTO identity_claims (subject_key, event_id, nik, full_name, source, office, occurred_at_ms)",
        &claims,
        "ON CONFLICT (subject_key, event_id) DO NOTHING",
    )
    .await
}

/// Erases a subject's identity and identity claims recorded at or before `at_ms` (the
/// history keeps no personal data to erase).
pub fn erase<'c>(
    conn: &'c mut AnyConnection,
    subject: &'c str,
    at_ms: i64,
) -> Pin<Box<dyn Future<Output = Result<(), sqlx::Error>> + Send + 'c>> {
    Box::pin(async move {
        for table in ["subject_identities", "identity_claims"] {
            sqlx::query(&format!(
                "DELETE FROM {table} WHERE subject_key = $1 AND occurred_at_ms <= $2"
            ))
            .bind(subject)
            .bind(at_ms)
            .execute(&mut *conn)
            .await?;
        }
        Ok(())
    })
}

struct HistoryRow {
    subject_key: String,
    event_id: String,
    event_type: &'static str,
    occurred_at_ms: i64,
    recorded_at_ms: i64,
    agency: String,
    office: String,
    details: String,
    deliveries: i32,
}

/// One row per (subject, event); an event id seen twice in a batch counts as two deliveries.
fn history_rows(records: &[Record], time_zone: TimeZone) -> Vec<HistoryRow> {
    let mut rows: Vec<HistoryRow> = Vec::new();
    let mut index: HashMap<(String, String), usize> = HashMap::new();
    for record in records {
        let envelope = record.event.envelope();
        let Some(details) = details(&record.event, time_zone) else {
            continue;
        };
        let Some(subject_key) = envelope.subject_key.clone() else {
            continue;
        };
        let key = (subject_key.clone(), envelope.event_id.to_string());
        if let Some(&i) = index.get(&key) {
            rows[i].deliveries += 1;
            continue;
        }
        index.insert(key, rows.len());
        rows.push(HistoryRow {
            subject_key,
            event_id: envelope.event_id.to_string(),
            event_type: record.event.type_name(),
            occurred_at_ms: to_millis(&envelope.occurred_at),
            recorded_at_ms: to_millis(&envelope.recorded_at),
            agency: envelope.agency.to_string(),
            office: envelope.office.clone(),
            details: details.to_string(),
            deliveries: 1,
        });
    }
    rows
}

/// What the history keeps of each event: never the NIK, the name or a sponsor's name, and no
/// quasi-identifiers that rebuild a NIK together (birth date, sex and sub-district): an age
/// band and the regency only. The exact values are in the identity, for the role that may read
/// it.
fn details(event: &AnyEvent, time_zone: TimeZone) -> Option<Value> {
    Some(match event {
        AnyEvent::ApplicantRegistered(e) => json!({
            "source": e.source, "sex": e.sex,
            "age_band": age_band(age_in_years(e.birth_date, time_zone.local_date(e.envelope.occurred_at))),
            "regency": e.regency, "identity_verified": e.identity_verified,
            "declared_purpose": e.declared_purpose, "destination_country": e.destination_country,
            "placement_agency": e.placement_agency.as_ref().map(|p| json!({"name": p.name, "licence_number": p.licence_number})),
        }),
        AnyEvent::VisaTypeFlagged(e) => json!({
            "reason": e.reason, "stage": e.stage, "visa_type": e.visa_type, "destination_country": e.destination_country,
        }),
        AnyEvent::DepartureBlocked(e) => json!({
            "checkpoint_code": e.checkpoint_code, "decision": e.decision, "reason": e.reason,
            "carrier": e.carrier, "flight_or_vessel": e.flight_or_vessel,
            "destination_country": e.destination_country, "transit_points": e.transit_points,
            "visa_shown": e.visa_shown, "return_ticket": e.return_ticket, "group_id": e.group_id, "handed_to": e.handed_to,
        }),
        AnyEvent::PassportInterviewConducted(e) => json!({
            "interview_office": e.interview_office, "outcome": e.outcome,
            "defer_until": e.defer_until.map(|d| d.to_string()), "reason_codes": e.reason_codes,
        }),
        AnyEvent::DepartureCleared(e) => json!({
            "checkpoint_code": e.checkpoint_code, "carrier": e.carrier, "flight_or_vessel": e.flight_or_vessel,
            "destination_country": e.destination_country, "transit_points": e.transit_points,
            "visa_shown": e.visa_shown, "group_id": e.group_id,
        }),
        // Cases and alerts are not facts about one subject's travel; they live in other views.
        _ => return None,
    })
}

/// One column value of a multi-row INSERT.
enum Cell {
    Text(String),
    Int(i64),
}

/// One multi-row INSERT: `head` names the table and columns, `tail` is the conflict clause;
/// every row has as many cells as `head` has columns.
async fn insert_rows(
    batch: &mut Batch<'_>,
    head: &str,
    rows: &[Vec<Cell>],
    tail: &str,
) -> Result<(), HandlerError> {
    let Some(width) = rows.first().map(Vec::len) else {
        return Ok(());
    };
    let values: Vec<String> = (0..rows.len())
        .map(|i| {
            let placeholders: Vec<String> =
                (1..=width).map(|c| format!("${}", i * width + c)).collect();
            format!("({})", placeholders.join(", "))
        })
        .collect();
    let sql = format!("{head} VALUES {} {tail}", values.join(", "));
    let mut query = sqlx::query(&sql);
    for row in rows {
        for value in row {
            query = match value {
                Cell::Text(text) => query.bind(text),
                Cell::Int(n) => query.bind(*n),
            };
        }
    }
    query.execute(batch.tx()).await?;
    Ok(())
}

async fn insert_history(batch: &mut Batch<'_>, rows: &[HistoryRow]) -> Result<(), HandlerError> {
    if rows.is_empty() {
        return Ok(());
    }
    const COLUMNS: usize = 9;
    let mut sql = String::from(
        "INSERT INTO subject_history (subject_key, event_id, event_type, occurred_at_ms, recorded_at_ms, agency, office, details, deliveries) VALUES ",
    );
    for i in 0..rows.len() {
        let base = i * COLUMNS;
        let placeholders: Vec<String> = (1..=COLUMNS).map(|c| format!("${}", base + c)).collect();
        sql.push_str(if i == 0 { "(" } else { ", (" });
        sql.push_str(&placeholders.join(", "));
        sql.push(')');
    }
    sql.push_str(" ON CONFLICT (subject_key, event_id) DO UPDATE SET deliveries = subject_history.deliveries + excluded.deliveries");
    let mut query = sqlx::query(&sql);
    for row in rows {
        query = query
            .bind(&row.subject_key)
            .bind(&row.event_id)
            .bind(row.event_type)
            .bind(row.occurred_at_ms)
            .bind(row.recorded_at_ms)
            .bind(&row.agency)
            .bind(&row.office)
            .bind(&row.details)
            .bind(row.deliveries);
    }
    query.execute(batch.tx()).await?;
    Ok(())
}
