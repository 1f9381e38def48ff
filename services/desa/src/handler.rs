//! The village views and the two notice rules.

use lintas_kit::consumer::{Batch, Handler, HandlerError, Record};
use lintas_kit::events::timefmt::millis;
use lintas_kit::events::{
    Agency, AlertRaised, AlertSeverity, AnyEvent, Envelope, RuleAlert, Summary,
};
use serde_json::json;
use sqlx::Row;
use uuid::Uuid;

/// A resident of a known village was blocked at a checkpoint.
pub const RULE_BLOCKED: &str = "DESA-BLOCKED";
/// A recruiter the police reported was seen in a village.
pub const RULE_RECRUITER: &str = "DESA-RECRUITER";

/// Office code stamped on the notices this subscriber publishes.
pub struct DesaHandler {
    pub office: String,
    /// The deployment's time zone: notices are reviewed by the end of a local day.
    pub time_zone: lintas_kit::events::calendar::TimeZone,
}

impl Default for DesaHandler {
    fn default() -> Self {
        DesaHandler {
            office: "LINTAS-DESA".into(),
            time_zone: Default::default(),
        }
    }
}

impl Handler for DesaHandler {
    async fn apply(&self, batch: &mut Batch<'_>) -> Result<(), HandlerError> {
        let records: Vec<Record> = batch.records().to_vec();
        for record in &records {
            match &record.event {
                AnyEvent::ApplicantRegistered(e) => {
                    let Some(subject) = e.envelope.subject_key.clone() else {
                        continue;
                    };
                    sqlx::query(
                        "INSERT INTO residents (subject_key, village_code, village, sub_district, regency, registered_event_id, registered_at_ms) \
                         VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (subject_key) DO NOTHING",
                    )
                    .bind(&subject)
                    .bind(e.village_code.as_ref().map(|c| c.to_string()))
                    .bind(&e.village)
                    .bind(&e.sub_district)
                    .bind(&e.regency)
                    .bind(e.envelope.event_id.to_string())
                    .bind(millis::to_millis(&e.envelope.occurred_at))
                    .execute(batch.tx())
                    .await?;
                    // Blocks that arrived before the registration.
                    self.notify_blocks_of(batch, &subject).await?;
                }
                AnyEvent::VisaTypeFlagged(e) => {
                    let details = json!({"reason": e.reason, "visa_type": e.visa_type, "destination_country": e.destination_country});
                    remember(batch, &e.envelope, "flagged", details).await?;
                }
                AnyEvent::DepartureBlocked(e) => {
                    let details = json!({"checkpoint_code": e.checkpoint_code, "reason": e.reason, "destination_country": e.destination_country, "handed_to": e.handed_to});
                    if remember(batch, &e.envelope, "blocked", details).await? {
                        let subject = e.envelope.subject_key.clone().unwrap_or_default();
                        self.notify_blocks_of(batch, &subject).await?;
                    }
                }
                AnyEvent::RecruiterReported(e) => {
                    sqlx::query(
                        "INSERT INTO recruiter_sightings (recruiter_key, event_id, village_code, village, sub_district, regency, role, reported_by, occurred_at_ms) \
                         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) ON CONFLICT (recruiter_key, event_id) DO NOTHING",
                    )
                    .bind(&e.recruiter_key)
                    .bind(e.envelope.event_id.to_string())
                    .bind(e.village_code.as_ref().map(|c| c.to_string()))
                    .bind(&e.village)
                    .bind(&e.sub_district)
                    .bind(&e.regency)
                    .bind(e.role.to_string())
                    .bind(e.envelope.agency.to_string())
                    .bind(millis::to_millis(&e.envelope.occurred_at))
                    .execute(batch.tx())
                    .await?;
                    self.notify_recruiter(batch, &e.recruiter_key).await?;
                }
                _ => {}
            }
        }
        Ok(())
    }
}

/// Stores a flag or block; `false` if the subject is missing (the event cannot be placed).
async fn remember(
    batch: &mut Batch<'_>,
    envelope: &Envelope,
    kind: &str,
    details: serde_json::Value,
) -> Result<bool, HandlerError> {
    let Some(subject) = &envelope.subject_key else {
        return Ok(false);
    };
    sqlx::query(
        "INSERT INTO resident_events (subject_key, event_id, kind, occurred_at_ms, details) VALUES ($1, $2, $3, $4, $5) \
         ON CONFLICT (subject_key, event_id) DO NOTHING",
    )
    .bind(subject)
    .bind(envelope.event_id.to_string())
    .bind(kind)
    .bind(millis::to_millis(&envelope.occurred_at))
    .bind(details.to_string())
    .execute(batch.tx())
    .await?;
    Ok(true)
}

impl DesaHandler {
    /// One notice per block of a resident whose village is known.
    async fn notify_blocks_of(
        &self,
        batch: &mut Batch<'_>,
        subject: &str,
    ) -> Result<(), HandlerError> {
        let rows = sqlx::query(
            "SELECT e.event_id, e.occurred_at_ms, r.village_code, r.village, r.sub_district FROM resident_events e \
             JOIN residents r ON r.subject_key = e.subject_key WHERE e.subject_key = $1 AND e.kind = 'blocked'",
        )
        .bind(subject)
        .fetch_all(batch.tx())
        .await?;
        for row in rows {
            let event_id: String = row.try_get(0)?;
            let notice = Notice {
                rule: RULE_BLOCKED,
                trigger: &event_id,
                at_ms: row.try_get(1)?,
                village_code: row.try_get(2)?,
                village: row.try_get(3)?,
                sub_district: row.try_get(4)?,
                subject_key: Some(subject.to_string()),
                recruiter_key: None,
                evidence: vec![event_id.clone()],
                summary: Summary {
                    id: "warga ditunda keberangkatannya di tempat pemeriksaan: kunjungan tindak lanjut oleh pemerintah desa".into(),
                    en: "a resident was blocked at a departure checkpoint: follow-up visit by the village office".into(),
                },
                severity: AlertSeverity::Warning,
            };
            self.raise(batch, notice).await?;
        }
        Ok(())
    }

    /// One notice per sighting of a police-reported recruiter in a village.
    async fn notify_recruiter(
        &self,
        batch: &mut Batch<'_>,
        recruiter: &str,
    ) -> Result<(), HandlerError> {
        let police: Option<String> = sqlx::query_scalar(
            "SELECT event_id FROM recruiter_sightings WHERE recruiter_key = $1 AND reported_by = $2 ORDER BY occurred_at_ms, event_id LIMIT 1",
        )
        .bind(recruiter)
        .bind(Agency::Polri.to_string())
        .fetch_optional(batch.tx())
        .await?;
        let Some(police_report) = police else {
            return Ok(());
        };
        let sightings = sqlx::query(
            "SELECT event_id, village_code, village, sub_district, occurred_at_ms FROM recruiter_sightings \
             WHERE recruiter_key = $1 AND (village_code IS NOT NULL OR village IS NOT NULL)",
        )
        .bind(recruiter)
        .fetch_all(batch.tx())
        .await?;
        for row in sightings {
            let event_id: String = row.try_get(0)?;
            let mut evidence = vec![event_id.clone()];
            if police_report != event_id {
                evidence.push(police_report.clone());
            }
            let notice = Notice {
                rule: RULE_RECRUITER,
                trigger: &event_id,
                at_ms: row.try_get(4)?,
                village_code: row.try_get(1)?,
                village: row.try_get(2)?,
                sub_district: row.try_get(3)?,
                subject_key: None,
                recruiter_key: Some(recruiter.to_string()),
                evidence,
                summary: Summary {
                    id: "perekrut yang dilaporkan polisi aktif di desa ini: peringatkan warga dan perangkat desa".into(),
                    en: "a recruiter reported by the police is active in this village: warn residents and the village officers".into(),
                },
                severity: AlertSeverity::Priority,
            };
            self.raise(batch, notice).await?;
        }
        Ok(())
    }

    async fn raise(&self, batch: &mut Batch<'_>, notice: Notice<'_>) -> Result<(), HandlerError> {
        let trigger: Uuid = notice.trigger.parse().map_err(HandlerError::transient)?;
        let notice_id = AlertRaised::derive_id(notice.rule, &[trigger]);
        let inserted = sqlx::query(
            "INSERT INTO notices (notice_id, rule, village_code, village, sub_district, subject_key, recruiter_key, summary, evidence, raised_at_ms, summaries) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) ON CONFLICT (notice_id) DO NOTHING",
        )
        .bind(notice_id.to_string())
        .bind(notice.rule)
        .bind(&notice.village_code)
        .bind(notice.village.as_deref().unwrap_or(""))
        .bind(&notice.sub_district)
        .bind(&notice.subject_key)
        .bind(&notice.recruiter_key)
        .bind(&notice.summary.en)
        .bind(serde_json::to_string(&notice.evidence).expect("strings serialize"))
        .bind(notice.at_ms)
        .bind(
            serde_json::to_string(&serde_json::json!({
                "id": notice.summary.id,
                "en": notice.summary.en,
            }))
            .expect("strings serialize"),
        )
        .execute(batch.tx())
        .await?;
        if inserted.rows_affected() == 0 {
            return Ok(());
        }
        let occurred = millis::from_millis(notice.at_ms).map_err(HandlerError::transient)?;
        let alert = RuleAlert {
            rule: notice.rule.into(),
            owner: Agency::Desa,
            office: self.office.clone(),
            occurred_at: occurred,
            subject_key: notice.subject_key.clone(),
            severity: notice.severity,
            evidence: notice
                .evidence
                .iter()
                .filter_map(|e| e.parse().ok())
                .collect(),
            summary: {
                let (id, en) = match (&notice.village, &notice.village_code) {
                    (Some(name), Some(code)) => {
                        (format!("{name}, {code}"), format!("{name}, {code}"))
                    }
                    (None, Some(code)) => (code.clone(), code.clone()),
                    (Some(name), None) => (
                        format!("{name}, tanpa kode desa: belum terpetakan"),
                        format!("{name}, no village code: unplaced"),
                    ),
                    (None, None) => (
                        "tanpa kode desa: belum terpetakan".into(),
                        "no village code: unplaced".into(),
                    ),
                };
                Summary {
                    id: format!("{} ({id})", notice.summary.id),
                    en: format!("{} ({en})", notice.summary.en),
                }
            },
            review_within: time::Duration::days(7),
        };
        batch
            .publish(&AlertRaised::from_rule_in(notice_id, alert, self.time_zone))
            .await
    }
}

struct Notice<'a> {
    rule: &'static str,
    trigger: &'a str,
    at_ms: i64,
    /// The village's Kemendagri code; None for an event without one (unplaced).
    village_code: Option<String>,
    /// Its name, for display.
    village: Option<String>,
    sub_district: Option<String>,
    subject_key: Option<String>,
    recruiter_key: Option<String>,
    evidence: Vec<String>,
    summary: Summary,
    severity: AlertSeverity,
}
