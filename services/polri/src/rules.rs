//! The recruiter network, rules PO1 and PO2, and the referral deadline PO3.

use lintas_kit::consumer::{Batch, Cancellation, Deadline, Handler, HandlerError, Record};
use lintas_kit::events::calendar::{is_child, TimeZone};
use lintas_kit::events::timefmt::millis;
use lintas_kit::events::{Agency, AlertRaised, AlertSeverity, AnyEvent, RuleAlert, Summary};
use sqlx::Row;
use time::{Date, Duration, OffsetDateTime};
use uuid::Uuid;

#[derive(Debug, Clone)]
pub struct PolriSettings {
    pub office: String,
    /// PO1: blocked people linked to one recruiter…
    pub network_threshold: usize,
    /// …within this window (event time).
    pub network_window: Duration,
    /// PO3: from a referral to the police to the opening of an investigation, in whole
    /// local days (the deadline ends with the last of them).
    pub investigation_within: Duration,
    /// The deployment's time zone: the day of a block (PO2) and the days of PO3.
    pub time_zone: TimeZone,
}

impl Default for PolriSettings {
    fn default() -> Self {
        PolriSettings {
            office: "LINTAS-POLRI".into(),
            network_threshold: 5,
            network_window: Duration::days(90),
            investigation_within: Duration::days(14),
            time_zone: TimeZone::default(),
        }
    }
}

#[derive(Default)]
pub struct PolriHandler {
    pub settings: PolriSettings,
}

/// Rule code of the referral deadline.
pub const PO3: &str = "PO3";

const EPOCH: Date = time::macros::date!(1970 - 01 - 01);

impl PolriHandler {
    /// A report's phone numbers, where this subscriber could decrypt them and the recruiter's
    /// personal data was not erased after the report.
    async fn phones(
        &self,
        batch: &mut Batch<'_>,
        record: &Record,
        e: &lintas_kit::events::RecruiterReported,
    ) -> Result<(), HandlerError> {
        if !record.personal_data_readable() || e.phone_numbers.is_empty() {
            return Ok(());
        }
        let at = millis::to_millis(&e.envelope.occurred_at);
        let erased = crate::PERSONAL_DATA
            .erased_at(batch.tx(), &[e.recruiter_key.as_str()])
            .await?;
        if erased
            .get(&e.recruiter_key)
            .is_some_and(|erased_at| at <= *erased_at)
        {
            return Ok(());
        }
        for phone in &e.phone_numbers {
            sqlx::query(
                "INSERT INTO recruiter_phones (recruiter_key, phone, reported_at_ms) VALUES ($1, $2, $3) \
                 ON CONFLICT (recruiter_key, phone) DO NOTHING",
            )
            .bind(&e.recruiter_key)
            .bind(phone)
            .bind(at)
            .execute(batch.tx())
            .await?;
        }
        Ok(())
    }
}

/// Erases a recruiter's phone numbers reported at or before `at_ms`.
pub fn erase<'c>(
    conn: &'c mut sqlx::AnyConnection,
    recruiter_key: &'c str,
    at_ms: i64,
) -> std::pin::Pin<Box<dyn std::future::Future<Output = Result<(), sqlx::Error>> + Send + 'c>> {
    Box::pin(async move {
        sqlx::query(
            "DELETE FROM recruiter_phones WHERE recruiter_key = $1 AND reported_at_ms <= $2",
        )
        .bind(recruiter_key)
        .bind(at_ms)
        .execute(conn)
        .await?;
        Ok(())
    })
}

impl Handler for PolriHandler {
    async fn apply(&self, batch: &mut Batch<'_>) -> Result<(), HandlerError> {
        let records: Vec<Record> = batch.records().to_vec();
        for record in &records {
            let event = &record.event;
            let id = event.envelope().event_id.to_string();
            match event {
                AnyEvent::ApplicantRegistered(e) => {
                    let Some(subject) = &e.envelope.subject_key else {
                        continue;
                    };
                    sqlx::query("INSERT INTO births (subject_key, birth_days) VALUES ($1, $2) ON CONFLICT (subject_key) DO NOTHING")
                        .bind(subject)
                        .bind((e.birth_date - EPOCH).whole_days())
                        .execute(batch.tx())
                        .await?;
                    self.children(batch, subject).await?;
                }
                AnyEvent::DepartureBlocked(e) => {
                    let Some(subject) = &e.envelope.subject_key else {
                        continue;
                    };
                    sqlx::query(
                        "INSERT INTO blocks (subject_key, event_id, occurred_at_ms, traveller_minor) VALUES ($1, $2, $3, $4) ON CONFLICT (subject_key, event_id) DO NOTHING",
                    )
                    .bind(subject)
                    .bind(&id)
                    .bind(millis::to_millis(&e.envelope.occurred_at))
                    // PO2 without a registration: what the checkpoint derived from the NIK.
                    .bind(e.traveller_minor.map(i64::from))
                    .execute(batch.tx())
                    .await?;
                    self.children(batch, subject).await?;
                    for recruiter in recruiters_of(batch, subject).await? {
                        self.network(batch, &recruiter).await?;
                    }
                }
                AnyEvent::DepartureCleared(e) => {
                    let Some(subject) = &e.envelope.subject_key else {
                        continue;
                    };
                    sqlx::query(
                        "INSERT INTO clearances (subject_key, event_id, occurred_at_ms) VALUES ($1, $2, $3) \
                         ON CONFLICT (subject_key, event_id) DO NOTHING",
                    )
                    .bind(subject)
                    .bind(&id)
                    .bind(millis::to_millis(&e.envelope.occurred_at))
                    .execute(batch.tx())
                    .await?;
                    // Its earlier blocks count no more for the networks it is linked to.
                    for recruiter in recruiters_of(batch, subject).await? {
                        self.network(batch, &recruiter).await?;
                    }
                }
                AnyEvent::RecruiterReported(e) => {
                    // The newest report (event time, then id) describes the recruiter, in any
                    // arrival order; phone numbers accumulate.
                    sqlx::query(
                        "INSERT INTO recruiters (recruiter_key, role, licence_status, village, sub_district, regency, \
                         placement_agency_name, reported_at_ms, report_event_id) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) \
                         ON CONFLICT (recruiter_key) DO UPDATE SET role = excluded.role, licence_status = excluded.licence_status, \
                         village = excluded.village, sub_district = excluded.sub_district, regency = excluded.regency, \
                         placement_agency_name = excluded.placement_agency_name, reported_at_ms = excluded.reported_at_ms, \
                         report_event_id = excluded.report_event_id \
                         WHERE excluded.reported_at_ms > recruiters.reported_at_ms \
                         OR (excluded.reported_at_ms = recruiters.reported_at_ms AND excluded.report_event_id > recruiters.report_event_id)",
                    )
                    .bind(&e.recruiter_key)
                    .bind(e.role.to_string())
                    .bind(e.licence_status.to_string())
                    .bind(&e.village)
                    .bind(&e.sub_district)
                    .bind(&e.regency)
                    .bind(&e.placement_agency_name)
                    .bind(millis::to_millis(&e.envelope.occurred_at))
                    .bind(&id)
                    .execute(batch.tx())
                    .await?;
                    self.phones(batch, record, e).await?;
                    self.link(
                        batch,
                        std::slice::from_ref(&e.recruiter_key),
                        &e.linked_subject_keys,
                        &id,
                    )
                    .await?
                }
                AnyEvent::CaseReferred(e) => {
                    self.link(batch, &e.suspected_recruiter_keys, &e.subject_keys, &id)
                        .await?;
                    // PO3: each referral to the police starts a clock for an investigation.
                    if let (Agency::Polri, Some(case_id)) = (e.to_agency, &e.envelope.case_id) {
                        let payload =
                            serde_json::json!({ "case_id": case_id, "trigger_event_id": id });
                        batch
                            .schedule(
                                record,
                                &po3_key(case_id, &id),
                                self.settings.time_zone.end_of_day_after(
                                    e.envelope.occurred_at,
                                    self.settings.investigation_within.whole_days(),
                                ),
                                payload,
                            )
                            .await?;
                        self.po3(batch, record, case_id, "referral").await?;
                    }
                }
                AnyEvent::InvestigationOpened(e) => {
                    self.link(batch, &e.suspect_recruiter_keys, &e.subject_keys, &id)
                        .await?;
                    if let Some(case_id) = &e.envelope.case_id {
                        self.po3(batch, record, case_id, "investigation").await?;
                    }
                }
                _ => {
                    if !crate::PERSONAL_DATA.apply(batch, record).await? {
                        crate::ALERTS.apply(batch, record).await?;
                    }
                }
            }
        }
        Ok(())
    }

    /// PO3: a referral to the police with no investigation opened in time.
    async fn fire(&self, batch: &mut Batch<'_>, due: &[Deadline]) -> Result<(), HandlerError> {
        for deadline in due {
            let (Some(case_id), Some(trigger)) = (
                deadline.payload["case_id"].as_str(),
                deadline.payload["trigger_event_id"]
                    .as_str()
                    .and_then(|t| t.parse::<Uuid>().ok()),
            ) else {
                continue;
            };
            let alert_id = po3_alert_id(trigger);
            let mut alert = AlertRaised::from_rule_in(
                alert_id,
                RuleAlert {
                    rule: PO3.into(),
                    owner: Agency::Polri,
                    office: self.settings.office.clone(),
                    occurred_at: deadline.due_at,
                    subject_key: None,
                    severity: AlertSeverity::Warning,
                    evidence: vec![trigger],
                    summary: {
                        let days = self.settings.investigation_within.whole_days();
                        Summary {
                            id: format!(
                                "rujukan diterima dan belum ada penyelidikan dalam {days} hari"
                            ),
                            en: format!(
                                "referral received and no investigation opened within {days} days"
                            ),
                        }
                    },
                    review_within: Duration::days(3),
                },
                self.settings.time_zone,
            );
            alert.envelope.case_id = Some(case_id.to_string());
            crate::ALERTS.raise(batch, alert).await?;
            // Missed, and the investigation already arrived (late, read before the firing).
            self.answer_po3(batch, deadline).await?;
        }
        Ok(())
    }
}

/// PO3's clock for one referral (its event id), in one case.
fn po3_key(case_id: &str, referral_event_id: &str) -> String {
    format!("{PO3}:{case_id}:{referral_event_id}")
}

fn po3_alert_id(referral: Uuid) -> Uuid {
    AlertRaised::derive_id(PO3, &[referral])
}

impl PolriHandler {
    /// Records a referral to the police or an investigation of `case_id` (`kind`), then
    /// meets, in event time, the PO3 clock of every referral of the case that an
    /// investigation answers: a referral is met by the first investigation of the case
    /// opened since the referral before it (the first referral, by any: the police were
    /// already on it). So a second referral after a first one went unanswered gets its own
    /// clock, and an investigation that arrives late but was opened in time withdraws the
    /// alert already raised.
    async fn po3(
        &self,
        batch: &mut Batch<'_>,
        record: &Record,
        case_id: &str,
        kind: &str,
    ) -> Result<(), HandlerError> {
        let envelope = record.event.envelope();
        sqlx::query(
            "INSERT INTO po3_case_events (event_id, case_id, kind, occurred_at_ms) VALUES ($1, $2, $3, $4) \
             ON CONFLICT (event_id) DO NOTHING",
        )
        .bind(envelope.event_id.to_string())
        .bind(case_id)
        .bind(kind)
        .bind(millis::to_millis(&envelope.occurred_at))
        .execute(batch.tx())
        .await?;
        let rows = sqlx::query(
            "SELECT event_id, kind, occurred_at_ms FROM po3_case_events WHERE case_id = $1 \
             ORDER BY occurred_at_ms, event_id",
        )
        .bind(case_id)
        .fetch_all(batch.tx())
        .await?;
        let mut events = Vec::with_capacity(rows.len());
        for row in &rows {
            events.push((
                row.try_get::<String, _>(0)?,
                row.try_get::<String, _>(1)?,
                row.try_get::<i64, _>(2)?,
            ));
        }
        let investigations: Vec<i64> = events
            .iter()
            .filter(|(_, k, _)| k == "investigation")
            .map(|(_, _, at)| *at)
            .collect();
        let mut since = i64::MIN;
        for (referral, _, at) in events.iter().filter(|(_, k, _)| k == "referral") {
            if let Some(opened) = investigations.iter().find(|i| **i >= since) {
                let opened = millis::from_millis(*opened).map_err(HandlerError::transient)?;
                let cancelled = batch
                    .cancel(record, &po3_key(case_id, referral), opened)
                    .await?;
                self.withdraw_po3(batch, cancelled).await?;
            }
            since = *at;
        }
        // A clock of a deployment from before PO3 ran per referral (`PO3:{case}`), still
        // pending or fired: met by this investigation, so an upgrade raises nothing wrong.
        if kind == "investigation" {
            let cancelled = batch
                .cancel_if_scheduled(record, &format!("{PO3}:{case_id}"), envelope.occurred_at)
                .await?;
            self.withdraw_po3(batch, cancelled).await?;
        }
        Ok(())
    }

    /// A PO3 deadline missed, and the investigation opened since (late): the alert was right
    /// and stays, closed `resolved` with when the investigation was opened and how late, so
    /// officers see the referral answered. Once per alert.
    async fn answer_po3(
        &self,
        batch: &mut Batch<'_>,
        deadline: &Deadline,
    ) -> Result<(), HandlerError> {
        let (Some(referral), Some(answered_at)) = (
            deadline.payload["trigger_event_id"]
                .as_str()
                .and_then(|t| t.parse::<Uuid>().ok()),
            deadline.answered_at,
        ) else {
            return Ok(());
        };
        let note = lintas_kit::alerts::AlertDesk::answered_late_note(
            "investigation opened",
            deadline.due_at,
            answered_at,
            self.settings.time_zone,
        );
        crate::ALERTS
            .resolve(batch, po3_alert_id(referral), &self.settings.office, &note)
            .await?;
        Ok(())
    }

    /// Withdraws the PO3 alert of a deadline that fired although its investigation was
    /// opened in time (it arrived after the firing); marks it answered when the
    /// investigation was opened late.
    async fn withdraw_po3(
        &self,
        batch: &mut Batch<'_>,
        cancelled: Cancellation,
    ) -> Result<(), HandlerError> {
        let deadline = match cancelled {
            Cancellation::Withdrawn(deadline) => deadline,
            Cancellation::Answered(deadline) => return self.answer_po3(batch, &deadline).await,
            _ => return Ok(()),
        };
        let Some(referral) = deadline.payload["trigger_event_id"]
            .as_str()
            .and_then(|t| t.parse::<Uuid>().ok())
        else {
            return Ok(());
        };
        crate::ALERTS
            .withdraw(
                batch,
                po3_alert_id(referral),
                &self.settings.office,
                "PO3 withdrawn: the investigation was opened in time and arrived after the deadline fired",
            )
            .await?;
        Ok(())
    }
}

async fn recruiters_of(batch: &mut Batch<'_>, subject: &str) -> Result<Vec<String>, HandlerError> {
    Ok(
        sqlx::query_scalar("SELECT recruiter_key FROM recruiter_links WHERE subject_key = $1")
            .bind(subject)
            .fetch_all(batch.tx())
            .await?,
    )
}

/// Most recruiters one phone-number network gathers; a number shared by a whole district
/// (a switchboard, a typing error) must not join everyone.
const MAX_NETWORK: usize = 50;

/// A phone number as compared across reports (SQL over a column `phone`): a local number
/// (0812…) is the same as its international form (+62812…).
const PHONE: &str = "CASE WHEN phone LIKE '0%' THEN '+62' || SUBSTR(phone, 2) ELSE phone END";

/// `recruiter` and every recruiter reported with a phone number it shares, directly or
/// through others, in key order (at most [`MAX_NETWORK`]): reports under different names
/// or keys that give one number are one network for PO1.
async fn phone_network(
    batch: &mut Batch<'_>,
    recruiter: &str,
) -> Result<Vec<String>, HandlerError> {
    let mut group = vec![recruiter.to_string()];
    let mut next = 0;
    while next < group.len() && group.len() < MAX_NETWORK {
        let sql = format!(
            "SELECT DISTINCT recruiter_key FROM recruiter_phones WHERE recruiter_key <> $1 \
             AND {PHONE} IN (SELECT {PHONE} FROM recruiter_phones WHERE recruiter_key = $1) \
             ORDER BY recruiter_key"
        );
        let sharing: Vec<String> = sqlx::query_scalar(&sql)
            .bind(group[next].clone())
            .fetch_all(batch.tx())
            .await?;
        for other in sharing {
            if !group.contains(&other) && group.len() < MAX_NETWORK {
                group.push(other);
            }
        }
        next += 1;
    }
    group.sort();
    Ok(group)
}

impl PolriHandler {
    async fn link(
        &self,
        batch: &mut Batch<'_>,
        recruiters: &[String],
        subjects: &[String],
        source: &str,
    ) -> Result<(), HandlerError> {
        for recruiter in recruiters {
            for subject in subjects {
                sqlx::query(
                    // Reports, referrals and investigations arrive in any order across their
                    // keys; the smallest source id wins so the view does not depend on it.
                    "INSERT INTO recruiter_links (recruiter_key, subject_key, source_event_id) VALUES ($1, $2, $3) \
                     ON CONFLICT (recruiter_key, subject_key) DO UPDATE SET source_event_id = \
                     CASE WHEN excluded.source_event_id < recruiter_links.source_event_id \
                     THEN excluded.source_event_id ELSE recruiter_links.source_event_id END",
                )
                .bind(recruiter)
                .bind(subject)
                .bind(source)
                .execute(batch.tx())
                .await?;
            }
            self.network(batch, recruiter).await?;
        }
        Ok(())
    }

    /// PO1: each crossing of the threshold, `network_threshold` distinct people linked to
    /// `recruiter`'s network (the recruiters sharing a phone number with it) blocked within
    /// one `network_window`, raises one alert. The crossings are found in event time: the
    /// earliest window that holds enough people, then the earliest one starting after it
    /// ends, and so on; a recruiter still active a year after a first alert (closed or not)
    /// is reported again. An alert's id derives from the network's first recruiter key and
    /// the start of its window, so a redelivery raises nothing; a block that arrives late and
    /// moves the start of a window already alerted on raises nothing either (the alert first
    /// raised for that window stands, with its id).
    ///
    /// A block lifted by a later clearance of the same person (cleared at a checkpoint on a
    /// departure after the block: resolved in the traveller's favour) does not count: that
    /// person was not kept from leaving. An open alert whose window no longer holds
    /// `network_threshold` people once such blocks are left out is withdrawn (closed
    /// `false_positive`, saying why); had the clearance been read first it would not have
    /// been raised. Its window stays alerted on (the alert id derives from it).
    async fn network(&self, batch: &mut Batch<'_>, recruiter: &str) -> Result<(), HandlerError> {
        let group = phone_network(batch, recruiter).await?;
        // The group's first key (in key order) names the network, whichever member's event
        // came last.
        let recruiter = group[0].as_str();
        let members = (1..=group.len())
            .map(|i| format!("${i}"))
            .collect::<Vec<_>>()
            .join(", ");
        let sql = format!(
            "SELECT DISTINCT b.subject_key, b.event_id, b.occurred_at_ms FROM blocks b \
             JOIN recruiter_links l ON l.subject_key = b.subject_key \
             WHERE l.recruiter_key IN ({members}) AND NOT EXISTS (SELECT 1 FROM clearances c \
             WHERE c.subject_key = b.subject_key AND c.occurred_at_ms > b.occurred_at_ms) \
             ORDER BY b.occurred_at_ms, b.event_id"
        );
        let mut query = sqlx::query(&sql);
        for member in &group {
            query = query.bind(member.clone());
        }
        let rows = query.fetch_all(batch.tx()).await?;
        let blocks: Vec<(String, String, i64)> = rows
            .iter()
            .map(|r| Ok((r.try_get(0)?, r.try_get(1)?, r.try_get(2)?)))
            .collect::<Result<_, sqlx::Error>>()?;
        let window = self.settings.network_window.whole_milliseconds() as i64;
        // Windows already alerted on for any member, by their start; alerts from before
        // windows were kept count as windows ending at their event time.
        let sql = format!(
            "SELECT COALESCE(r.window_start_ms, a.raised_at_ms - ${}) FROM recruiter_alerts r \
             JOIN lintas_alerts a ON a.alert_id = r.alert_id \
             WHERE r.recruiter_key IN ({members}) AND a.rule = 'PO1'",
            group.len() + 1
        );
        let mut query = sqlx::query_scalar(&sql);
        for member in &group {
            query = query.bind(member.clone());
        }
        let alerted: Vec<i64> = query.bind(window).fetch_all(batch.tx()).await?;
        let mut start = 0;
        while start < blocks.len() {
            let t0 = blocks[start].2;
            let within: Vec<&(String, String, i64)> = blocks[start..]
                .iter()
                .take_while(|(_, _, t)| t - t0 <= window)
                .collect();
            let mut people: Vec<&str> = Vec::new();
            let mut evidence = Vec::new();
            for (subject, event, _) in &within {
                if !people.contains(&subject.as_str()) {
                    people.push(subject);
                    evidence.push(event.parse::<Uuid>().map_err(HandlerError::transient)?);
                }
            }
            if people.len() < self.settings.network_threshold {
                start += 1;
                continue;
            }
            // Overlapping windows are one crossing: the one already alerted on stands.
            if !alerted.iter().any(|a| (a - t0).abs() <= window) {
                let at = within.iter().map(|(_, _, t)| *t).max().unwrap_or(t0);
                let (who_id, who_en) = match group.len() {
                    1 => ("perekrut".to_string(), "recruiter".to_string()),
                    n => (
                        format!("jaringan {n} perekrut yang berbagi nomor telepon"),
                        format!("network of {n} recruiters sharing phone numbers"),
                    ),
                };
                let (blocked, days) = (people.len(), self.settings.network_window.whole_days());
                let summary = Summary {
                    id: format!(
                        "{who_id} terkait dengan {blocked} orang yang ditunda keberangkatannya dalam {days} hari"
                    ),
                    en: format!("{who_en} linked to {blocked} blocked people within {days} days"),
                };
                let recruiter_id = Uuid::new_v5(&Uuid::NAMESPACE_OID, recruiter.as_bytes());
                let window_id = Uuid::new_v5(&recruiter_id, &t0.to_be_bytes());
                self.alert(
                    batch,
                    "PO1",
                    &[recruiter_id, window_id],
                    None,
                    Some((recruiter, t0)),
                    evidence,
                    at,
                    summary,
                    AlertSeverity::Priority,
                )
                .await?;
            }
            // The next crossing starts after this window.
            start += blocks[start..]
                .iter()
                .take_while(|(_, _, t)| t - t0 <= window)
                .count();
        }
        self.withdraw_lifted(batch, &group, &blocks).await
    }

    /// Withdraws the open PO1 alerts of `group` whose window holds fewer than
    /// `network_threshold` people among `blocks` (the blocks that still count).
    async fn withdraw_lifted(
        &self,
        batch: &mut Batch<'_>,
        group: &[String],
        blocks: &[(String, String, i64)],
    ) -> Result<(), HandlerError> {
        let members = (1..=group.len())
            .map(|i| format!("${i}"))
            .collect::<Vec<_>>()
            .join(", ");
        let sql = format!(
            "SELECT r.alert_id, r.window_start_ms FROM recruiter_alerts r JOIN lintas_alerts a ON a.alert_id = r.alert_id \
             WHERE r.recruiter_key IN ({members}) AND a.rule = 'PO1' AND a.status <> 'closed' \
             AND r.window_start_ms IS NOT NULL"
        );
        let mut query = sqlx::query(&sql);
        for member in group {
            query = query.bind(member.clone());
        }
        let rows = query.fetch_all(batch.tx()).await?;
        let window = self.settings.network_window.whole_milliseconds() as i64;
        for row in rows {
            let (alert_id, start): (String, i64) = (row.try_get(0)?, row.try_get(1)?);
            let mut people: Vec<&str> = blocks
                .iter()
                .filter(|(_, _, t)| *t >= start && t - start <= window)
                .map(|(subject, _, _)| subject.as_str())
                .collect();
            people.sort();
            people.dedup();
            if people.len() >= self.settings.network_threshold {
                continue;
            }
            let note = format!(
                "PO1 withdrawn: people linked were cleared on a departure after their block; {} blocked people remain within {} days, under the threshold of {}",
                people.len(),
                self.settings.network_window.whole_days(),
                self.settings.network_threshold
            );
            crate::ALERTS
                .withdraw(
                    batch,
                    alert_id.parse().map_err(HandlerError::transient)?,
                    &self.settings.office,
                    &note,
                )
                .await?;
        }
        Ok(())
    }

    /// PO2: every block of a subject who was under 18 on the (local) day of the block, by
    /// either account of it: the block's own (`traveller_minor`, which the checkpoint derived
    /// from the NIK it checked, so a child whose passport predates Lintas or was issued
    /// elsewhere is known at the airport) or the birth date of a registration. When both
    /// exist and disagree, a child by either is a child: both come from the same NIK (the
    /// intakes refuse a birth date the NIK contradicts), so they differ only when one was
    /// recorded wrongly or the NIK's two-digit year was read in the wrong century (a
    /// traveller of 100 or more); a needless priority costs an officer a look, a missed
    /// child costs the child. And a union of the two gives the same alerts in any arrival
    /// order, which "the registration wins" would not (its alert may be out already).
    async fn children(&self, batch: &mut Batch<'_>, subject: &str) -> Result<(), HandlerError> {
        let rows = sqlx::query(
            "SELECT b.event_id, b.occurred_at_ms, n.birth_days, b.traveller_minor FROM blocks b \
             LEFT JOIN births n ON n.subject_key = b.subject_key WHERE b.subject_key = $1",
        )
        .bind(subject)
        .fetch_all(batch.tx())
        .await?;
        for row in rows {
            let (event, at, birth_days, minor): (String, i64, Option<i64>, Option<i64>) = (
                row.try_get(0)?,
                row.try_get(1)?,
                row.try_get(2)?,
                row.try_get(3)?,
            );
            let blocked_on = self
                .settings
                .time_zone
                .local_date(millis::from_millis(at).map_err(HandlerError::transient)?);
            let registered_child =
                birth_days.is_some_and(|days| is_child(EPOCH + Duration::days(days), blocked_on));
            if minor == Some(1) || registered_child {
                let block: Uuid = event.parse().map_err(HandlerError::transient)?;
                let summary = Summary {
                    id: "seorang anak ditunda keberangkatannya di tempat pemeriksaan: prioritas"
                        .into(),
                    en: "a child was blocked at a departure checkpoint: priority".into(),
                };
                self.alert(
                    batch,
                    "PO2",
                    &[block],
                    Some(subject),
                    None,
                    vec![block],
                    at,
                    summary,
                    AlertSeverity::Priority,
                )
                .await?;
            }
        }
        Ok(())
    }

    #[allow(clippy::too_many_arguments)]
    async fn alert(
        &self,
        batch: &mut Batch<'_>,
        rule: &str,
        identity: &[Uuid],
        subject: Option<&str>,
        // The recruiter of a PO1 alert, and the start of its window.
        recruiter: Option<(&str, i64)>,
        evidence: Vec<Uuid>,
        at_ms: i64,
        summary: Summary,
        severity: AlertSeverity,
    ) -> Result<(), HandlerError> {
        let alert_id = AlertRaised::derive_id(rule, identity);
        let occurred: OffsetDateTime =
            millis::from_millis(at_ms).map_err(HandlerError::transient)?;
        let alert = RuleAlert {
            rule: rule.into(),
            owner: Agency::Polri,
            office: self.settings.office.clone(),
            occurred_at: occurred,
            subject_key: subject.map(String::from),
            severity,
            evidence,
            summary,
            review_within: Duration::days(3),
        };
        // Whether raised now or already there (a rebuild restores alerts from the alert topic
        // before the rules meet their events again), the window is recorded as alerted on.
        crate::ALERTS
            .raise(
                batch,
                AlertRaised::from_rule_in(alert_id, alert, self.settings.time_zone),
            )
            .await?;
        if let Some((recruiter, window_start_ms)) = recruiter {
            sqlx::query(
                "INSERT INTO recruiter_alerts (alert_id, recruiter_key, window_start_ms) VALUES ($1, $2, $3) \
                 ON CONFLICT (alert_id) DO NOTHING",
            )
            .bind(alert_id.to_string())
            .bind(recruiter)
            .bind(window_start_ms)
            .execute(batch.tx())
            .await?;
        }
        Ok(())
    }
}
