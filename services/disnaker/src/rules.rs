//! Views and rules DN1-DN4.

use lintas_kit::consumer::{Batch, Handler, HandlerError, Record};
use lintas_kit::events::calendar::{is_child, TimeZone};
use lintas_kit::events::timefmt::millis;
use lintas_kit::events::{
    Agency, AlertRaised, AlertSeverity, AnyEvent, ApplicantRegistered, DeclaredPurpose,
    DepartureBlocked, DepartureCleared, Envelope, RegencyCode, RuleAlert, Summary,
};
use sqlx::Row;
use uuid::Uuid;

use crate::channels::{open_channel, Placement, OPEN_CHANNELS};

#[derive(Debug, Clone)]
pub struct DisnakerSettings {
    /// Office code stamped on the alerts.
    pub office: String,
    /// The regency this office serves, by Kemendagri code (`33.01`, Kabupaten Cilacap):
    /// applicants whose village code lies elsewhere are another office's residents, with no
    /// view, task or alert here (the feed is national). None: every regency (a test or a
    /// national office). A registration without a village code (published before codes were
    /// in the contract) cannot be placed and is kept, as before.
    pub regency: Option<RegencyCode>,
    /// Licence (SIP3MI) numbers known to be valid; when empty, only a missing licence
    /// number triggers DN2.
    pub valid_licences: Vec<String>,
    /// Countries under the domestic-work ban (Kepmenaker 260/2015: the Middle East).
    pub banned_countries: Vec<String>,
    /// DN3: licence numbers of the placement agencies designated for the scheme that is the
    /// one open channel (`crate::channels::OPEN_CHANNELS`). When empty, no placement to a
    /// banned country is known to be inside it.
    pub scheme_agencies: Vec<String>,
    /// Days the village office has to follow up a blocked resident.
    pub follow_up_days: i64,
    /// The deployment's time zone: ages are taken on the local date of the registration,
    /// and the follow-up is due at the end of local day `follow_up_days` after the block (or
    /// after the day the task was raised, when the block was read late).
    pub time_zone: TimeZone,
}

impl Default for DisnakerSettings {
    fn default() -> Self {
        DisnakerSettings {
            office: "LINTAS-DISNAKER".into(),
            regency: None,
            valid_licences: Vec::new(),
            banned_countries: [
                "SA", "AE", "QA", "KW", "BH", "OM", "JO", "LB", "IQ", "IR", "SY", "YE", "EG", "LY",
                "SD", "DZ", "TN", "MA", "PS",
            ]
            .map(String::from)
            .to_vec(),
            scheme_agencies: Vec::new(),
            follow_up_days: 7,
            time_zone: TimeZone::default(),
        }
    }
}

#[derive(Default)]
pub struct DisnakerHandler {
    pub settings: DisnakerSettings,
}

impl Handler for DisnakerHandler {
    async fn apply(&self, batch: &mut Batch<'_>) -> Result<(), HandlerError> {
        let records: Vec<Record> = batch.records().to_vec();
        for record in &records {
            match &record.event {
                AnyEvent::ApplicantRegistered(e) => self.registered(batch, e).await?,
                AnyEvent::DepartureBlocked(e) => self.blocked(batch, e).await?,
                AnyEvent::DepartureCleared(e) => self.cleared(batch, e).await?,
                AnyEvent::VisaTypeFlagged(e) => {
                    if let Some(subject) = &e.envelope.subject_key {
                        sqlx::query(
                            "INSERT INTO flags (subject_key, event_id, occurred_at_ms, reason) VALUES ($1, $2, $3, $4) \
                             ON CONFLICT (subject_key, event_id) DO NOTHING",
                        )
                        .bind(subject)
                        .bind(e.envelope.event_id.to_string())
                        .bind(millis::to_millis(&e.envelope.occurred_at))
                        .bind(e.reason.to_string())
                        .execute(batch.tx())
                        .await?;
                    }
                }
                AnyEvent::AlertRaised(alert) => {
                    crate::ALERTS.apply(batch, record).await?;
                    // A DN1 read back from the alert topic (a rebuild): its task is due when
                    // the alert published live said.
                    if alert.rule == "DN1" && alert.owner == Agency::Disnaker {
                        if let Some(block) = alert.evidence_event_ids.first() {
                            sync_task_due(batch, &block.to_string()).await?;
                        }
                    }
                }
                _ => {
                    crate::ALERTS.apply(batch, record).await?;
                }
            }
        }
        Ok(())
    }
}

impl DisnakerHandler {
    async fn registered(
        &self,
        batch: &mut Batch<'_>,
        e: &ApplicantRegistered,
    ) -> Result<(), HandlerError> {
        let Some(subject) = e.envelope.subject_key.clone() else {
            return Ok(());
        };
        if let (Some(served), Some(village)) = (&self.settings.regency, &e.village_code) {
            if !served.contains(village) {
                return Ok(());
            }
        }
        sqlx::query(
            "INSERT INTO residents (subject_key, village_code, village, sub_district, placement_agency, registered_event_id) VALUES ($1, $2, $3, $4, $5, $6) \
             ON CONFLICT (subject_key) DO NOTHING",
        )
        .bind(&subject)
        .bind(e.village_code.as_ref().map(|c| c.to_string()))
        .bind(&e.village)
        .bind(&e.sub_district)
        .bind(e.placement_agency.as_ref().map(|p| p.name.clone()))
        .bind(e.envelope.event_id.to_string())
        .execute(batch.tx())
        .await?;
        let licensed = e
            .placement_agency
            .as_ref()
            .and_then(|p| p.licence_number.as_ref())
            .is_some_and(|licence| {
                self.settings.valid_licences.is_empty()
                    || self.settings.valid_licences.iter().any(|v| v == licence)
            });
        if let Some(agency) = &e.placement_agency {
            if !licensed {
                let name = &agency.name;
                let summary = Summary {
                    id: format!("P3MI `{name}` tidak memiliki izin yang sah"),
                    en: format!("placement agency `{name}` has no valid licence"),
                };
                self.alert(
                    batch,
                    "DN2",
                    &e.envelope,
                    vec![e.envelope.event_id],
                    summary,
                    AlertSeverity::Warning,
                )
                .await?;
            }
        }
        // DN3: work in a banned country is legal only inside an open channel: the scheme's
        // destination and purpose, through an agency designated for it. A licence number on
        // its own (any string, or an agency licensed for Malaysia) is not the channel.
        let banned = self
            .settings
            .banned_countries
            .iter()
            .any(|c| c.eq_ignore_ascii_case(e.destination_country.trim()));
        let placement = Placement {
            destination: &e.destination_country,
            purpose: e.declared_purpose,
            licence: e
                .placement_agency
                .as_ref()
                .and_then(|p| p.licence_number.as_deref()),
        };
        if banned
            && e.declared_purpose == DeclaredPurpose::Work
            && open_channel(placement, &self.settings.scheme_agencies).is_none()
        {
            let (agency_id, agency_en) = match &e.placement_agency {
                Some(agency) => {
                    let (name, licence) = (&agency.name, agency.licence_number.as_deref());
                    (
                        format!("P3MI `{name}`, izin {}", licence.unwrap_or("tidak ada")),
                        format!(
                            "placement agency `{name}`, licence {}",
                            licence.unwrap_or("none")
                        ),
                    )
                }
                None => ("tanpa P3MI".into(), "no placement agency".into()),
            };
            let channels: Vec<String> = OPEN_CHANNELS
                .iter()
                .map(|c| format!("{} ({})", c.name, c.legal_basis))
                .collect();
            let (country, channels) = (&e.destination_country, channels.join(", "));
            let summary = Summary {
                id: format!(
                    "bekerja di {country} yang terkena moratorium pekerja rumah tangga di luar satu-satunya jalur resmi, {channels}: {agency_id}; sektor tidak tercatat, periksa apakah pekerjaan rumah tangga"
                ),
                en: format!(
                    "work in {country} under the domestic-work ban outside the single legal channel, {channels}: {agency_en}; the sector is not recorded, check whether it is domestic work"
                ),
            };
            self.alert(
                batch,
                "DN3",
                &e.envelope,
                vec![e.envelope.event_id],
                summary,
                AlertSeverity::Priority,
            )
            .await?;
        }
        // DN4: under 18 on the local day of the registration.
        let registered_on = self.settings.time_zone.local_date(e.envelope.occurred_at);
        if is_child(e.birth_date, registered_on) {
            self.alert(
                batch,
                "DN4",
                &e.envelope,
                vec![e.envelope.event_id],
                Summary {
                    id: "pemohon berusia di bawah 18 tahun".into(),
                    en: "applicant under 18".into(),
                },
                AlertSeverity::Priority,
            )
            .await?;
        }
        self.follow_up(batch, &subject).await
    }

    async fn blocked(
        &self,
        batch: &mut Batch<'_>,
        e: &DepartureBlocked,
    ) -> Result<(), HandlerError> {
        let Some(subject) = e.envelope.subject_key.clone() else {
            return Ok(());
        };
        sqlx::query(
            "INSERT INTO blocks (subject_key, event_id, occurred_at_ms, checkpoint_code, reason) VALUES ($1, $2, $3, $4, $5) \
             ON CONFLICT (subject_key, event_id) DO NOTHING",
        )
        .bind(&subject)
        .bind(e.envelope.event_id.to_string())
        .bind(millis::to_millis(&e.envelope.occurred_at))
        .bind(&e.checkpoint_code)
        .bind(e.reason.to_string())
        .execute(batch.tx())
        .await?;
        self.follow_up(batch, &subject).await
    }

    /// A departure cleared at a checkpoint: it lifts the resident's earlier blocks (DN1).
    async fn cleared(
        &self,
        batch: &mut Batch<'_>,
        e: &DepartureCleared,
    ) -> Result<(), HandlerError> {
        let Some(subject) = e.envelope.subject_key.clone() else {
            return Ok(());
        };
        sqlx::query(
            "INSERT INTO clearances (subject_key, event_id, occurred_at_ms, checkpoint_code) VALUES ($1, $2, $3, $4) \
             ON CONFLICT (subject_key, event_id) DO NOTHING",
        )
        .bind(&subject)
        .bind(e.envelope.event_id.to_string())
        .bind(millis::to_millis(&e.envelope.occurred_at))
        .bind(&e.checkpoint_code)
        .execute(batch.tx())
        .await?;
        self.lift(batch, &subject).await
    }

    /// DN1's follow-up is for a resident still held back. One cleared at a checkpoint after
    /// a block (the block resolved in the traveller's favour: a legal departure after all)
    /// needs no visit: the task is marked `lifted` and its alert closed `resolved`, saying
    /// where and when the departure was cleared. The same in either arrival order (a
    /// clearance read first lifts the task as soon as it exists); a clearance before the
    /// block lifts nothing. Once per task.
    async fn lift(&self, batch: &mut Batch<'_>, subject: &str) -> Result<(), HandlerError> {
        let rows = sqlx::query(
            "SELECT t.task_id, t.block_event_id, MIN(c.occurred_at_ms) FROM follow_up_tasks t \
             JOIN blocks b ON b.subject_key = t.subject_key AND b.event_id = t.block_event_id \
             JOIN clearances c ON c.subject_key = t.subject_key AND c.occurred_at_ms > b.occurred_at_ms \
             WHERE t.subject_key = $1 AND t.status = 'open' GROUP BY t.task_id, t.block_event_id",
        )
        .bind(subject)
        .fetch_all(batch.tx())
        .await?;
        for row in rows {
            let task: String = row.try_get(0)?;
            let block: String = row.try_get(1)?;
            let cleared_ms: i64 = row.try_get(2)?;
            // The first clearance after the block, whatever the order they were read in.
            let checkpoint: String = sqlx::query_scalar(
                "SELECT MIN(checkpoint_code) FROM clearances WHERE subject_key = $1 AND occurred_at_ms = $2",
            )
            .bind(subject)
            .bind(cleared_ms)
            .fetch_one(batch.tx())
            .await?;
            sqlx::query("UPDATE follow_up_tasks SET status = 'lifted' WHERE task_id = $1")
                .bind(&task)
                .execute(batch.tx())
                .await?;
            let block_id: Uuid = block.parse().map_err(HandlerError::transient)?;
            let cleared = millis::from_millis(cleared_ms).map_err(HandlerError::transient)?;
            let note = format!(
                "block lifted: departure cleared at {checkpoint} on {}; no follow-up visit needed",
                self.settings.time_zone.local_date(cleared)
            );
            crate::ALERTS
                .resolve(
                    batch,
                    AlertRaised::derive_id("DN1", &[block_id]),
                    &self.settings.office,
                    &note,
                )
                .await?;
        }
        Ok(())
    }

    /// DN1, from either side: every block of a resident whose village is known gets a task.
    async fn follow_up(&self, batch: &mut Batch<'_>, subject: &str) -> Result<(), HandlerError> {
        let rows = sqlx::query(
            "SELECT b.event_id, b.occurred_at_ms, r.village, r.sub_district, r.village_code FROM blocks b JOIN residents r ON r.subject_key = b.subject_key \
             WHERE b.subject_key = $1",
        )
        .bind(subject)
        .fetch_all(batch.tx())
        .await?;
        for row in rows {
            let block: String = row.try_get(0)?;
            let at: i64 = row.try_get(1)?;
            let block_id: Uuid = block.parse().map_err(HandlerError::transient)?;
            let task_id = AlertRaised::derive_id("DN1-task", &[block_id]);
            let occurred = millis::from_millis(at).map_err(HandlerError::transient)?;
            let mut envelope = Envelope::new(
                Agency::Disnaker,
                self.settings.office.clone(),
                "rule-engine",
                occurred,
            );
            envelope.subject_key = Some(subject.to_string());
            // The task is due with its alert's review: `follow_up_days` local days from when
            // the village office could first act, the later of the block and its raising
            // (a block read late, or a registration arriving after it, does not make a task
            // born overdue).
            let village = row.try_get::<String, _>(2)?;
            let summary = Summary {
                id: format!(
                    "warga {village} ditunda keberangkatannya: kunjungan tindak lanjut perlu dilakukan"
                ),
                en: format!("a resident of {village} was blocked: follow-up visit due"),
            };
            let alert = self.rule_alert(
                "DN1",
                &envelope,
                vec![block_id],
                summary,
                AlertSeverity::Warning,
            );
            let due_at = alert.review_by.unwrap_or(occurred);
            let created = sqlx::query(
                "INSERT INTO follow_up_tasks (task_id, subject_key, village, sub_district, block_event_id, due_at_ms, status, village_code) \
                 VALUES ($1, $2, $3, $4, $5, $6, 'open', $7) ON CONFLICT (task_id) DO NOTHING",
            )
            .bind(task_id.to_string())
            .bind(subject)
            .bind(row.try_get::<String, _>(2)?)
            .bind(row.try_get::<String, _>(3)?)
            .bind(&block)
            .bind(millis::to_millis(&due_at))
            .bind(row.try_get::<Option<String>, _>(4)?)
            .execute(batch.tx())
            .await?;
            if created.rows_affected() == 1 {
                crate::ALERTS.raise(batch, alert).await?;
                // The alert may have been restored from the alert topic first (a rebuild):
                // the task keeps the review date published live.
                sync_task_due(batch, &block).await?;
            }
        }
        // A clearance read before the task existed lifts it now.
        self.lift(batch, subject).await
    }

    async fn alert(
        &self,
        batch: &mut Batch<'_>,
        rule: &str,
        trigger: &Envelope,
        evidence: Vec<Uuid>,
        summary: Summary,
        severity: AlertSeverity,
    ) -> Result<(), HandlerError> {
        let alert = self.rule_alert(rule, trigger, evidence, summary, severity);
        crate::ALERTS.raise(batch, alert).await?;
        Ok(())
    }

    fn rule_alert(
        &self,
        rule: &str,
        trigger: &Envelope,
        evidence: Vec<Uuid>,
        summary: Summary,
        severity: AlertSeverity,
    ) -> AlertRaised {
        let alert_id = AlertRaised::derive_id(rule, &evidence);
        let alert = RuleAlert {
            rule: rule.into(),
            owner: Agency::Disnaker,
            office: self.settings.office.clone(),
            occurred_at: trigger.occurred_at,
            subject_key: trigger.subject_key.clone(),
            severity,
            evidence,
            summary,
            review_within: time::Duration::days(self.settings.follow_up_days),
        };
        AlertRaised::from_rule_in(alert_id, alert, self.settings.time_zone)
    }
}

/// A DN1 follow-up task is due when its alert is to be reviewed, as stored: the alert desk
/// keeps the earliest raising of an alert (the live one, read back from the alert topic on a
/// rebuild), and the task follows, so a rebuild moves neither.
async fn sync_task_due(batch: &mut Batch<'_>, block_event_id: &str) -> Result<(), HandlerError> {
    let block_id: Uuid = block_event_id.parse().map_err(HandlerError::transient)?;
    sqlx::query(
        "UPDATE follow_up_tasks SET due_at_ms = COALESCE((SELECT review_by_ms FROM lintas_alerts WHERE alert_id = $1), due_at_ms) \
         WHERE block_event_id = $2",
    )
    .bind(AlertRaised::derive_id("DN1", &[block_id]).to_string())
    .bind(block_event_id)
    .execute(batch.tx())
    .await?;
    Ok(())
}
