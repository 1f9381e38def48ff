//! The subject-history view.

use std::collections::HashMap;

use lintas_kit::consumer::{Batch, Handler, HandlerError, Record};
use lintas_kit::events::{timefmt::millis::to_millis, AnyEvent};
use serde_json::{json, Value};

use crate::rules::{self, Im1Settings};

/// Rows per INSERT statement: well under the parameter limits of both databases.
/// Rows per multi-row INSERT: few statements per batch, within every database's limit on
/// bound parameters.
const ROWS_PER_STATEMENT: usize = 1000;

pub struct ImigrasiHandler {
    pub im1: Im1Settings,
}

impl Handler for ImigrasiHandler {
    async fn apply(&self, batch: &mut Batch<'_>) -> Result<(), HandlerError> {
        // An event about a person without the person's key cannot enter a subject history:
        // it is a publisher defect, so it goes to the dead-letter topic with the reason.
        if let Some(index) = batch
            .records()
            .iter()
            .position(|r| details(&r.event).is_some() && r.event.envelope().subject_key.is_none())
        {
            return Err(HandlerError::Rejected {
                index,
                reason: format!(
                    "{} without envelope.subject_key",
                    batch.records()[index].event.type_name()
                ),
            });
        }
        // Identities (first registration of a subject wins), and the sex IM2's transit
        // variant joins on: one statement per chunk, not one per event.
        let mut identities: Vec<[String; 5]> = Vec::new();
        let mut seen = std::collections::HashSet::new();
        for r in batch.records() {
            if let AnyEvent::ApplicantRegistered(e) = &r.event {
                let Some(subject) = e.envelope.subject_key.clone() else {
                    continue;
                };
                if !seen.insert(subject.clone()) {
                    continue;
                }
                identities.push([
                    subject,
                    e.personal.nik.clone(),
                    e.personal.full_name.clone(),
                    e.sex.to_string(),
                    e.envelope.event_id.to_string(),
                ]);
            }
        }
        for chunk in identities.chunks(ROWS_PER_STATEMENT) {
            insert_rows(
                batch,
                "INSERT INTO subject_identities (subject_key, nik, full_name, sex, source_event_id)",
                chunk,
                "ON CONFLICT (subject_key) DO NOTHING",
            )
            .await?;
            let women: Vec<&str> = chunk
                .iter()
                .filter(|row| row[3] == "female")
                .map(|row| row[0].as_str())
                .collect();
            crate::travel_rules::registered(batch, &self.im1, &women).await?;
        }
        let rows = history_rows(batch.records());
        for chunk in rows.chunks(ROWS_PER_STATEMENT) {
            insert_history(batch, chunk).await?;
        }
        let triggers: Vec<Record> = batch
            .records()
            .iter()
            .filter(|r| {
                rules::is_flag_or_block(&r.event) && r.event.envelope().subject_key.is_some()
            })
            .cloned()
            .collect();
        for record in &triggers {
            rules::im1(batch, &self.im1, &record.event).await?;
        }
        let events: Vec<lintas_kit::events::AnyEvent> =
            batch.records().iter().map(|r| r.event.clone()).collect();
        for event in &events {
            crate::travel_rules::check(batch, &self.im1, event).await?;
            crate::ALERTS.apply(batch, event).await?;
        }
        Ok(())
    }
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
fn history_rows(records: &[Record]) -> Vec<HistoryRow> {
    let mut rows: Vec<HistoryRow> = Vec::new();
    let mut index: HashMap<(String, String), usize> = HashMap::new();
    for record in records {
        let envelope = record.event.envelope();
        let Some(details) = details(&record.event) else {
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

/// What the history keeps of each event: never the NIK, the name or a sponsor's name.
fn details(event: &AnyEvent) -> Option<Value> {
    Some(match event {
        AnyEvent::ApplicantRegistered(e) => json!({
            "source": e.source, "sex": e.sex, "birth_date": e.birth_date.to_string(),
            "village": e.village, "sub_district": e.sub_district, "regency": e.regency,
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

/// One multi-row INSERT of text columns: `head` names the table and columns, `tail` is the
/// conflict clause.
async fn insert_rows<const N: usize>(
    batch: &mut Batch<'_>,
    head: &str,
    rows: &[[String; N]],
    tail: &str,
) -> Result<(), HandlerError> {
    if rows.is_empty() {
        return Ok(());
    }
    let values: Vec<String> = (0..rows.len())
        .map(|i| {
            let placeholders: Vec<String> = (1..=N).map(|c| format!("${}", i * N + c)).collect();
            format!("({})", placeholders.join(", "))
        })
        .collect();
    let sql = format!("{head} VALUES {} {tail}", values.join(", "));
    let mut query = sqlx::query(&sql);
    for row in rows {
        for value in row {
            query = query.bind(value);
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
