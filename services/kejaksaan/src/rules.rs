//! Case timelines and rules JA1-JA3.

use lintas_kit::consumer::{Batch, Deadline, Handler, HandlerError, Record};
use lintas_kit::events::calendar::TimeZone;
use lintas_kit::events::timefmt::millis;
use lintas_kit::events::{
    Agency, AlertRaised, AlertSeverity, AnyEvent, ProsecutionStage, ProsecutionStageChanged,
    RuleAlert,
};
use serde_json::json;
use time::{Duration, OffsetDateTime};
use uuid::Uuid;

pub const JA1: &str = "JA1";
pub const JA2: &str = "JA2";
pub const JA3: &str = "JA3";

/// The legal time limits, defaults from the domain brief. Limits count whole local days: a
/// limit of 7 days after an event ends at the end of the 7th local day after its day.
#[derive(Debug, Clone)]
pub struct KejaksaanSettings {
    /// Office code stamped on the alerts this subscriber raises.
    pub office: String,
    /// JA1: from the opening of an investigation to the SPDP.
    pub spdp_within: Duration,
    /// JA2: from the SPDP to the assignment of a prosecutor (P-16).
    pub prosecutor_within: Duration,
    /// JA3: after P-18 or P-19, to return the corrected file (when the stage sets no date).
    pub corrected_file_within: Duration,
    /// The deployment's time zone: of the dates on the forms and of the days the limits count.
    pub time_zone: TimeZone,
}

impl Default for KejaksaanSettings {
    fn default() -> Self {
        KejaksaanSettings {
            office: "LINTAS-KEJAKSAAN".into(),
            spdp_within: Duration::days(7),
            prosecutor_within: Duration::days(7),
            corrected_file_within: Duration::days(14),
            time_zone: TimeZone::default(),
        }
    }
}

#[derive(Default)]
pub struct KejaksaanHandler {
    pub settings: KejaksaanSettings,
}

fn key(rule: &str, case_id: &str) -> String {
    format!("{rule}:{case_id}")
}

impl Handler for KejaksaanHandler {
    async fn apply(&self, batch: &mut Batch<'_>) -> Result<(), HandlerError> {
        let records: Vec<Record> = batch.records().to_vec();
        for record in &records {
            let event = &record.event;
            let Some(case_id) = event.envelope().case_id.clone() else {
                crate::ALERTS.apply(batch, record).await?;
                continue;
            };
            match event {
                AnyEvent::CaseReferred(_)
                | AnyEvent::InvestigationOpened(_)
                | AnyEvent::SpdpSent(_)
                | AnyEvent::ProsecutionStageChanged(_) => {
                    self.case_event(batch, record, &case_id).await?
                }
                _ => {
                    crate::ALERTS.apply(batch, record).await?;
                }
            }
        }
        Ok(())
    }

    async fn fire(&self, batch: &mut Batch<'_>, due: &[Deadline]) -> Result<(), HandlerError> {
        for deadline in due {
            let payload = &deadline.payload;
            let (Some(rule), Some(case_id), Some(trigger)) = (
                payload["rule"].as_str(),
                payload["case_id"].as_str(),
                payload["trigger_event_id"]
                    .as_str()
                    .and_then(|t| t.parse::<Uuid>().ok()),
            ) else {
                tracing::warn!(key = %deadline.key, "deadline without rule, case or trigger; skipped");
                continue;
            };
            let summary = match rule {
                JA1 => "investigation opened and no SPDP within the legal 7 days".to_string(),
                JA2 => "SPDP received and no prosecutor assigned (P-16) in time".to_string(),
                _ => format!(
                    "file deadline after {} passed with no next stage",
                    payload["stage"].as_str().unwrap_or("the last stage")
                ),
            };
            let alert_id = AlertRaised::derive_id(rule, &[trigger]);
            let mut alert = AlertRaised::from_rule_in(
                alert_id,
                RuleAlert {
                    rule: rule.into(),
                    owner: Agency::Kejaksaan,
                    office: self.settings.office.clone(),
                    occurred_at: deadline.due_at,
                    subject_key: None,
                    severity: AlertSeverity::Warning,
                    evidence: vec![trigger],
                    summary,
                    review_within: Duration::days(3),
                },
                self.settings.time_zone,
            );
            alert.envelope.case_id = Some(case_id.to_string());
            crate::ALERTS.raise(batch, alert).await?;
        }
        Ok(())
    }
}

impl KejaksaanHandler {
    async fn case_event(
        &self,
        batch: &mut Batch<'_>,
        record: &Record,
        case_id: &str,
    ) -> Result<(), HandlerError> {
        let event = &record.event;
        let envelope = event.envelope();
        let at = envelope.occurred_at;
        let at_ms = millis::to_millis(&at);
        let id = envelope.event_id.to_string();
        let stage = match event {
            AnyEvent::ProsecutionStageChanged(e) => Some(e.stage.to_string()),
            _ => None,
        };
        let file_due = match event {
            AnyEvent::ProsecutionStageChanged(e) => self.file_due(e),
            _ => None,
        };
        // A redelivered event changes nothing.
        let inserted = sqlx::query(
            "INSERT INTO case_events (event_id, case_id, kind, stage, agency, office, occurred_at_ms, due_at_ms) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT (event_id) DO NOTHING",
        )
        .bind(&id)
        .bind(case_id)
        .bind(event.type_name())
        .bind(&stage)
        .bind(envelope.agency.to_string())
        .bind(&envelope.office)
        .bind(at_ms)
        .bind(file_due.as_ref().map(millis::to_millis))
        .execute(batch.tx())
        .await?;
        if inserted.rows_affected() == 0 {
            return Ok(());
        }
        sqlx::query("INSERT INTO cases (case_id) VALUES ($1) ON CONFLICT (case_id) DO NOTHING")
            .bind(case_id)
            .execute(batch.tx())
            .await?;
        let payload = |rule: &str| json!({ "rule": rule, "case_id": case_id, "trigger_event_id": id, "stage": stage });
        match event {
            AnyEvent::CaseReferred(_) => {
                sqlx::query("UPDATE cases SET referred_at_ms = COALESCE(referred_at_ms, $2) WHERE case_id = $1")
                    .bind(case_id)
                    .bind(at_ms)
                    .execute(batch.tx())
                    .await?;
            }
            AnyEvent::InvestigationOpened(e) => {
                sqlx::query(
                    "UPDATE cases SET investigation_opened_at_ms = COALESCE(investigation_opened_at_ms, $2), \
                     investigating_unit = COALESCE(investigating_unit, $3) WHERE case_id = $1",
                )
                .bind(case_id)
                .bind(at_ms)
                .bind(&e.investigating_unit)
                .execute(batch.tx())
                .await?;
                batch
                    .schedule(
                        record,
                        &key(JA1, case_id),
                        self.days_after(at, self.settings.spdp_within),
                        payload(JA1),
                    )
                    .await?;
            }
            AnyEvent::SpdpSent(e) => {
                sqlx::query(
                    "UPDATE cases SET spdp_sent_at_ms = COALESCE(spdp_sent_at_ms, $2), spdp_number = COALESCE(spdp_number, $3) \
                     WHERE case_id = $1",
                )
                .bind(case_id)
                .bind(at_ms)
                .bind(&e.spdp_number)
                .execute(batch.tx())
                .await?;
                batch.cancel(record, &key(JA1, case_id)).await?;
                batch
                    .schedule(
                        record,
                        &key(JA2, case_id),
                        self.days_after(at, self.settings.prosecutor_within),
                        payload(JA2),
                    )
                    .await?;
            }
            AnyEvent::ProsecutionStageChanged(e) => {
                let newer: Option<i64> =
                    sqlx::query_scalar("SELECT stage_at_ms FROM cases WHERE case_id = $1")
                        .bind(case_id)
                        .fetch_one(batch.tx())
                        .await?;
                if e.stage == ProsecutionStage::P16 {
                    sqlx::query(
                        "UPDATE cases SET prosecutor_assigned_at_ms = COALESCE(prosecutor_assigned_at_ms, $2) WHERE case_id = $1",
                    )
                    .bind(case_id)
                    .bind(at_ms)
                    .execute(batch.tx())
                    .await?;
                    batch.cancel(record, &key(JA2, case_id)).await?;
                }
                // Only the newest stage sets the file deadline; a stage published late
                // leaves the current one alone.
                if newer.is_some_and(|n| n > at_ms) {
                    return Ok(());
                }
                let running: Option<String> =
                    sqlx::query_scalar("SELECT file_deadline_key FROM cases WHERE case_id = $1")
                        .bind(case_id)
                        .fetch_one(batch.tx())
                        .await?;
                if let Some(running) = running {
                    batch.cancel(record, &running).await?;
                }
                let deadline_key = file_due.map(|_| format!("{JA3}:{case_id}:{id}"));
                if let (Some(due), Some(k)) = (file_due, &deadline_key) {
                    batch.schedule(record, k, due, payload(JA3)).await?;
                }
                sqlx::query(
                    "UPDATE cases SET stage = $2, stage_at_ms = $3, file_due_at_ms = $4, file_deadline_key = $5 WHERE case_id = $1",
                )
                .bind(case_id)
                .bind(&stage)
                .bind(at_ms)
                .bind(file_due.as_ref().map(millis::to_millis))
                .bind(deadline_key)
                .execute(batch.tx())
                .await?;
            }
            _ => {}
        }
        Ok(())
    }

    /// When the file is due after this stage: the date on the form (end of that day, local
    /// time), or the corrected-file limit after P-18 and P-19.
    fn file_due(&self, e: &ProsecutionStageChanged) -> Option<OffsetDateTime> {
        match (e.due_date, e.stage) {
            (Some(date), _) => Some(self.settings.time_zone.end_of(date)),
            (None, ProsecutionStage::P18 | ProsecutionStage::P19) => {
                Some(self.days_after(e.envelope.occurred_at, self.settings.corrected_file_within))
            }
            _ => None,
        }
    }

    /// The end of the local day `within` (whole days) after the day of `at`.
    fn days_after(&self, at: OffsetDateTime, within: Duration) -> OffsetDateTime {
        self.settings
            .time_zone
            .end_of_day_after(at, within.whole_days())
    }
}
