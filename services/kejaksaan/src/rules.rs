//! Case timelines and rules JA1-JA3.

use lintas_kit::consumer::{Batch, Cancellation, Deadline, Handler, HandlerError, Record};
use lintas_kit::events::calendar::TimeZone;
use lintas_kit::events::timefmt::millis;
use lintas_kit::events::{
    Agency, AlertRaised, AlertSeverity, AnyEvent, ProsecutionStage, ProsecutionStageChanged,
    RuleAlert, Summary,
};
use serde_json::json;
use sqlx::Row;
use time::{Date, Duration, OffsetDateTime};
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
    /// JA3: after the investigator sends a file (`file_sent`), for the prosecutor to answer
    /// it: complete (P-21) or not (P-18, P-19). KUHAP art. 138(1): 7 days.
    pub file_answer_within: Duration,
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
            file_answer_within: Duration::days(7),
            time_zone: TimeZone::default(),
        }
    }
}

#[derive(Default)]
pub struct KejaksaanHandler {
    pub settings: KejaksaanSettings,
}

/// JA1 runs per investigation. The SPDP names its investigation only by the local date it was
/// opened (`investigation_opened_on`; no event carries an investigation id), so the clock is
/// keyed by that date: two investigations of one case opened on one day share a clock.
fn ja1_key(case_id: &str, opened_on: Date) -> String {
    format!("{JA1}:{case_id}:{opened_on}")
}

/// JA2 runs per SPDP (each notice of investigation gets its prosecutor).
fn ja2_key(case_id: &str, spdp_event_id: &str) -> String {
    format!("{JA2}:{case_id}:{spdp_event_id}")
}

/// JA3 runs per stage that sets a file deadline, on that stage's file.
fn ja3_key(case_id: &str, stage_event_id: &str) -> String {
    format!("{JA3}:{case_id}:{stage_event_id}")
}

/// The rule and alert id a deadline's firing raised (or would raise).
fn alert_of(payload: &serde_json::Value) -> Option<(&str, Uuid)> {
    let rule = payload["rule"].as_str()?;
    let trigger = payload["trigger_event_id"].as_str()?.parse::<Uuid>().ok()?;
    Some((rule, AlertRaised::derive_id(rule, &[trigger])))
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
            let summary = self.summary(rule, payload["stage"].as_str());
            let Some((_, alert_id)) = alert_of(payload) else {
                continue;
            };
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
            // Missed, and the awaited event already arrived (late, read before the firing).
            self.answer(batch, deadline).await?;
        }
        Ok(())
    }
}

impl KejaksaanHandler {
    /// What the owner reads when deadline `rule` passes; `stage` is the prosecution stage
    /// that started a JA3 deadline.
    fn summary(&self, rule: &str, stage: Option<&str>) -> Summary {
        let (id, en) = match rule {
            JA1 => (
                "penyidikan dimulai dan SPDP belum dikirim dalam 7 hari sesuai ketentuan"
                    .to_owned(),
                "investigation opened and no SPDP within the legal 7 days".to_owned(),
            ),
            JA2 => (
                "SPDP diterima dan jaksa peneliti belum ditunjuk (P-16) tepat waktu".to_owned(),
                "SPDP received and no prosecutor assigned (P-16) in time".to_owned(),
            ),
            // Whose move it was: the prosecutor's answer to a file sent, or the investigator's
            // corrected file after P-18/P-19.
            _ => match stage {
                Some("file_sent") => {
                    let days = self.settings.file_answer_within.whole_days();
                    (
                        format!("berkas perkara yang dikirim penyidik belum dijawab (P-18, P-19 atau P-21) dalam {days} hari waktu jaksa"),
                        format!("the file sent by the investigator has had no answer (P-18, P-19 or P-21) within the prosecutor's {days} days"),
                    )
                }
                Some(stage @ ("p18" | "p19")) => {
                    let stage = stage.to_uppercase().replace('P', "P-");
                    (
                        format!("berkas perkara yang diperbaiki belum dikirim kembali sampai batas waktunya setelah {stage}"),
                        format!("the corrected file was not sent back by its deadline after {stage}"),
                    )
                }
                stage => (
                    format!(
                        "batas waktu berkas setelah {} terlewati tanpa tahap berikutnya",
                        stage.unwrap_or("tahap terakhir")
                    ),
                    format!(
                        "file deadline after {} passed with no next stage",
                        stage.unwrap_or("the last stage")
                    ),
                ),
            },
        };
        Summary { id, en }
    }

    /// Deadline `key` is awaited no more: an event that meets it occurred at `met_at`. Met in
    /// event time (see the kit's [`Cancellation`]): if the deadline had already fired (the
    /// event arrived late, after lag, a backfill or a stalled publisher), its alert is
    /// withdrawn, so the police or prosecutor who met it are not left accused.
    async fn meet(
        &self,
        batch: &mut Batch<'_>,
        record: &Record,
        key: &str,
        met_at: OffsetDateTime,
    ) -> Result<(), HandlerError> {
        let cancelled = batch.cancel(record, key, met_at).await?;
        self.withdraw_if_fired(batch, record, cancelled).await
    }

    /// A clock of a deployment from before the clocks ran per investigation and per SPDP
    /// (`JA1:{case}`, `JA2:{case}`), still pending or fired: met the same way, so an upgrade
    /// does not raise alerts on cases their events met.
    async fn meet_once_per_case_clock(
        &self,
        batch: &mut Batch<'_>,
        record: &Record,
        rule: &str,
        case_id: &str,
        met_at: OffsetDateTime,
    ) -> Result<(), HandlerError> {
        let key = format!("{rule}:{case_id}");
        let cancelled = batch.cancel_if_scheduled(record, &key, met_at).await?;
        self.withdraw_if_fired(batch, record, cancelled).await
    }

    /// A missed deadline whose awaited event arrived late: its alert was right (it stays, with
    /// its evidence) and is closed `resolved` with what arrived and how late, so the
    /// prosecutor sees it answered, not an open case that has long moved on. Once per alert.
    async fn answer(&self, batch: &mut Batch<'_>, deadline: &Deadline) -> Result<(), HandlerError> {
        let (Some((rule, alert_id)), Some(answered_at)) =
            (alert_of(&deadline.payload), deadline.answered_at)
        else {
            return Ok(());
        };
        let what = match rule {
            JA1 => "SPDP sent",
            JA2 => "prosecutor assigned (P-16)",
            _ => "next stage of the file recorded",
        };
        let note = lintas_kit::alerts::AlertDesk::answered_late_note(
            what,
            deadline.due_at,
            answered_at,
            self.settings.time_zone,
        );
        crate::ALERTS
            .resolve(batch, alert_id, &self.settings.office, &note)
            .await?;
        Ok(())
    }

    async fn withdraw_if_fired(
        &self,
        batch: &mut Batch<'_>,
        record: &Record,
        cancelled: Cancellation,
    ) -> Result<(), HandlerError> {
        if let Cancellation::Answered(deadline) = &cancelled {
            return self.answer(batch, deadline).await;
        }
        if let Cancellation::Withdrawn(deadline) = cancelled {
            if let Some((rule, alert_id)) = alert_of(&deadline.payload) {
                let note = format!(
                    "{rule} withdrawn: the awaited {} occurred before the deadline and arrived after it fired",
                    record.event.type_name()
                );
                crate::ALERTS
                    .withdraw(batch, alert_id, &self.settings.office, &note)
                    .await?;
            }
        }
        Ok(())
    }

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
        // The file a stage belongs to: the suspect's (a case split into one file per
        // suspect), or the case's single file. No event carries a file number.
        let file_key = match event {
            AnyEvent::ProsecutionStageChanged(e) => {
                e.envelope.subject_key.clone().unwrap_or_default()
            }
            _ => String::new(),
        };
        // A redelivered event changes nothing.
        let inserted = sqlx::query(
            "INSERT INTO case_events (event_id, case_id, kind, stage, agency, office, occurred_at_ms, due_at_ms, file_key) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) ON CONFLICT (event_id) DO NOTHING",
        )
        .bind(&id)
        .bind(case_id)
        .bind(event.type_name())
        .bind(&stage)
        .bind(envelope.agency.to_string())
        .bind(&envelope.office)
        .bind(at_ms)
        .bind(file_due.as_ref().map(millis::to_millis))
        .bind(&file_key)
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
                // Each investigation its own clock, also a second one in the same case.
                let opened_on = self.settings.time_zone.local_date(at);
                batch
                    .schedule(
                        record,
                        &ja1_key(case_id, opened_on),
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
                // The SPDP meets the clock of the investigation it names, by when it was sent.
                self.meet(
                    batch,
                    record,
                    &ja1_key(case_id, e.investigation_opened_on),
                    at,
                )
                .await?;
                self.meet_once_per_case_clock(batch, record, JA1, case_id, at)
                    .await?;
                let ja2 = ja2_key(case_id, &id);
                batch
                    .schedule(
                        record,
                        &ja2,
                        self.days_after(at, self.settings.prosecutor_within),
                        payload(JA2),
                    )
                    .await?;
                // A P-16 of the case already read, from the SPDP's day on, meets it.
                let p16: Option<i64> = sqlx::query_scalar(
                    "SELECT MIN(occurred_at_ms) FROM case_events WHERE case_id = $1 AND kind = 'ProsecutionStageChanged' \
                     AND stage = 'p16' AND occurred_at_ms >= $2",
                )
                .bind(case_id)
                .bind(self.start_of_day_ms(at))
                .fetch_one(batch.tx())
                .await?;
                if let Some(p16) = p16 {
                    let p16 = millis::from_millis(p16).map_err(HandlerError::transient)?;
                    self.meet(batch, record, &ja2, p16).await?;
                }
            }
            AnyEvent::ProsecutionStageChanged(e) => {
                if e.stage == ProsecutionStage::P16 {
                    sqlx::query(
                        "UPDATE cases SET prosecutor_assigned_at_ms = COALESCE(prosecutor_assigned_at_ms, $2) WHERE case_id = $1",
                    )
                    .bind(case_id)
                    .bind(at_ms)
                    .execute(batch.tx())
                    .await?;
                    // It meets the JA2 clock of every SPDP of the case sent by its day.
                    let spdps: Vec<String> = sqlx::query_scalar(
                        "SELECT event_id FROM case_events WHERE case_id = $1 AND kind = 'SpdpSent' AND occurred_at_ms < $2",
                    )
                    .bind(case_id)
                    .bind(millis::to_millis(&self.settings.time_zone.end_of(
                        self.settings.time_zone.local_date(at),
                    )))
                    .fetch_all(batch.tx())
                    .await?;
                    for spdp in spdps {
                        self.meet(batch, record, &ja2_key(case_id, &spdp), at)
                            .await?;
                    }
                    self.meet_once_per_case_clock(batch, record, JA2, case_id, at)
                        .await?;
                }
                self.file_stage(batch, record, case_id, &file_key, file_due, &payload(JA3))
                    .await?;
                // The case view shows the newest stage; a stage published late leaves it.
                let newer: Option<i64> =
                    sqlx::query_scalar("SELECT stage_at_ms FROM cases WHERE case_id = $1")
                        .bind(case_id)
                        .fetch_one(batch.tx())
                        .await?;
                if newer.is_some_and(|n| n > at_ms) {
                    return Ok(());
                }
                let deadline_key = file_due.map(|_| ja3_key(case_id, &id));
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

    /// JA3 on one file, in event time and whatever the arrival order: this stage meets the
    /// deadline of the stage before it on the same file (a stage on another suspect's file
    /// does not), and its own deadline, if it sets one, is met by the next stage on the file
    /// when that one was read first.
    async fn file_stage(
        &self,
        batch: &mut Batch<'_>,
        record: &Record,
        case_id: &str,
        file_key: &str,
        file_due: Option<OffsetDateTime>,
        payload: &serde_json::Value,
    ) -> Result<(), HandlerError> {
        let envelope = record.event.envelope();
        let at = envelope.occurred_at;
        let at_ms = millis::to_millis(&at);
        let id = envelope.event_id.to_string();
        let before = sqlx::query(
            "SELECT event_id, due_at_ms FROM case_events WHERE case_id = $1 AND file_key = $2 \
             AND kind = 'ProsecutionStageChanged' AND (occurred_at_ms < $3 OR (occurred_at_ms = $3 AND event_id < $4)) \
             ORDER BY occurred_at_ms DESC, event_id DESC LIMIT 1",
        )
        .bind(case_id)
        .bind(file_key)
        .bind(at_ms)
        .bind(&id)
        .fetch_optional(batch.tx())
        .await?;
        if let Some(before) = before {
            if before.try_get::<Option<i64>, _>(1)?.is_some() {
                let key = ja3_key(case_id, &before.try_get::<String, _>(0)?);
                self.meet(batch, record, &key, at).await?;
            }
        }
        let Some(due) = file_due else {
            return Ok(());
        };
        let key = ja3_key(case_id, &id);
        batch.schedule(record, &key, due, payload.clone()).await?;
        let next: Option<i64> = sqlx::query_scalar(
            "SELECT occurred_at_ms FROM case_events WHERE case_id = $1 AND file_key = $2 \
             AND kind = 'ProsecutionStageChanged' AND (occurred_at_ms > $3 OR (occurred_at_ms = $3 AND event_id > $4)) \
             ORDER BY occurred_at_ms, event_id LIMIT 1",
        )
        .bind(case_id)
        .bind(file_key)
        .bind(at_ms)
        .bind(&id)
        .fetch_optional(batch.tx())
        .await?;
        if let Some(next) = next {
            let next = millis::from_millis(next).map_err(HandlerError::transient)?;
            self.meet(batch, record, &key, next).await?;
        }
        Ok(())
    }

    /// The first instant of the local day of `at`, in milliseconds.
    fn start_of_day_ms(&self, at: OffsetDateTime) -> i64 {
        let zone = self.settings.time_zone;
        let day = zone.local_date(at);
        millis::to_millis(&zone.end_of(day.previous_day().unwrap_or(day)))
    }

    /// When the file is due after this stage: the date on the form (end of that day, local
    /// time), the corrected-file limit after P-18 and P-19, or the prosecutor's limit to
    /// answer a file sent.
    fn file_due(&self, e: &ProsecutionStageChanged) -> Option<OffsetDateTime> {
        let at = e.envelope.occurred_at;
        match (e.due_date, e.stage) {
            (Some(date), _) => Some(self.settings.time_zone.end_of(date)),
            (None, ProsecutionStage::P18 | ProsecutionStage::P19) => {
                Some(self.days_after(at, self.settings.corrected_file_within))
            }
            (None, ProsecutionStage::FileSent) => {
                Some(self.days_after(at, self.settings.file_answer_within))
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
