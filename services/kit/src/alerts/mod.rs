//! The alert desk: where a subscriber keeps the alerts its rules raise, and their lifecycle
//! (acknowledge, escalate, close).
//!
//! - [`AlertDesk::raise`] stores an alert in the batch's transaction and publishes AlertRaised
//!   through the outbox, once per alert id whatever the redelivery.
//! - The lifecycle goes through the query API ([`AlertDesk::router`]): each action is
//!   recorded and published (AlertAcknowledged, AlertEscalated, AlertClosed) in one
//!   transaction.
//! - A subscriber that reads its alert topic hands those events to [`AlertDesk::apply`], so a
//!   rebuild from the topics restores every alert and its status, also an alert raised live
//!   that the rules would not raise again on the replay.
//! - [`AlertDesk::withdraw`] closes an alert a rule raised on facts that turned out wrong
//!   (reason `false_positive`), published like any close; [`AlertDesk::resolve`]
//!   closes one that was right but is answered now (a missed deadline's awaited event
//!   arrived late, a block lifted by a later clearance: reason `resolved`, with a note).
//! - An alert's review date runs from when its owner could first act on it (the later of
//!   its trigger's time and its raising, `AlertRaised::actionable_at`), so an alert raised on
//!   a trigger read late is not born overdue; of two raisings of one alert (live, and again
//!   on a rebuild) the earliest is kept, so a rebuild does not move a live review date.
//! - Each agency's alerts and their lifecycle travel on its own topic
//!   (`lintas.alerts.<agency>.v1`), which only it may write. An action counts only when it
//!   was read on the topic of the agency that took it, and only the owner's actions make an
//!   alert's status: an event that claims another agency on a topic it can write is
//!   dead-lettered as forged. Other agencies' alerts are read under a grant
//!   (`lintas_events::ALERT_GRANTS`) and served as incoming when escalated to this one.
//!
//! An alert's status is computed from its actions, never updated in place: a close wins, then
//! the newest action (by time, then event id). The same actions give the same status in any
//! arrival order, and an action that arrives before its alert (a rebuild reads the alert
//! topic ahead of the others) is kept until the alert is raised again.

mod api;

use lintas_events::timefmt::millis;
use lintas_events::{Agency, AlertRaised, AnyEvent, Summary, Topic};
use sqlx::{AnyConnection, Row};
use uuid::Uuid;

use crate::consumer::{Batch, HandlerError, Record};

pub use api::DeskState;

/// Statuses, as stored and served.
pub const OPEN: &str = "open";
pub const ACKNOWLEDGED: &str = "acknowledged";
pub const ESCALATED: &str = "escalated";
pub const CLOSED: &str = "closed";

/// The alerts of one agency's subscriber.
#[derive(Debug, Clone, Copy)]
pub struct AlertDesk {
    agency: Agency,
}

/// One lifecycle action, as recorded.
#[derive(Debug, Clone)]
pub(crate) struct Action {
    pub event_id: Uuid,
    pub alert_id: Uuid,
    pub action: &'static str,
    pub by_agency: Agency,
    pub office: String,
    pub officer_id: String,
    pub at_ms: i64,
    pub escalated_to: Option<Agency>,
    pub level: Option<i32>,
    pub reason: Option<String>,
    pub note: Option<String>,
}

impl AlertDesk {
    pub const fn new(agency: Agency) -> Self {
        AlertDesk { agency }
    }

    pub fn agency(&self) -> Agency {
        self.agency
    }

    /// Stores `alert` and publishes it when it commits. `Ok(false)` when an alert with this id
    /// was already raised (redelivery, replay): nothing is written or published again.
    pub async fn raise(
        &self,
        batch: &mut Batch<'_>,
        alert: AlertRaised,
    ) -> Result<bool, HandlerError> {
        // An alert already stored (raised before, or restored from the alert topic on a
        // rebuild) keeps its raising: see [`store_alert`].
        let inserted = insert_alert(batch.tx(), &alert, "DO NOTHING").await?;
        if inserted.rows_affected() == 0 {
            return Ok(false);
        }
        // Actions read from the alert topic before this alert was raised again (rebuild).
        refresh(batch.tx(), alert.alert_id).await?;
        batch.publish(&alert).await?;
        Ok(true)
    }

    /// Brings a raised alert's evidence and summary up to date when events that belong to it
    /// arrive after it was raised (out of order across topics), so the view ends up the same
    /// whatever the arrival order. The AlertRaised already published is not sent again.
    pub async fn revise(
        &self,
        batch: &mut Batch<'_>,
        alert_id: Uuid,
        evidence: &[Uuid],
        summary: &Summary,
    ) -> Result<(), HandlerError> {
        sqlx::query(
            "UPDATE lintas_alerts SET evidence = $2, summary = $3, summaries = $4 WHERE alert_id = $1",
        )
        .bind(alert_id.to_string())
        .bind(serde_json::to_string(evidence).expect("uuids serialize"))
        .bind(&summary.en)
        .bind(summaries_json(&[("id", &summary.id), ("en", &summary.en)]))
        .execute(batch.tx())
        .await?;
        Ok(())
    }

    /// Records an alert event read from an alert topic: a lifecycle action of this agency's
    /// alerts, or, from an agency whose alerts this one may read, that agency's alert and its
    /// actions. Returns whether `record` was one; events of other topics are left alone.
    /// Idempotent: an action already recorded (the API wrote it) changes nothing. An event
    /// that names another agency than the topic's owner is forged (its writer could only write
    /// its own topic): rejected, so it is dead-lettered with the reason.
    pub async fn apply(
        &self,
        batch: &mut Batch<'_>,
        record: &Record,
    ) -> Result<bool, HandlerError> {
        let Some(topic_owner) = Topic::ALL
            .into_iter()
            .find(|t| record.topic.ends_with(t.base_name()))
            .and_then(Topic::alert_owner)
        else {
            return Ok(false);
        };
        let claimed = match &record.event {
            AnyEvent::AlertRaised(e) => e.owner,
            event => match Action::from_event(event) {
                Some(action) => action.by_agency,
                None => return Ok(false),
            },
        };
        if claimed != topic_owner {
            return Err(self.forged(batch, record, claimed, topic_owner));
        }
        if !lintas_events::may_read_alerts(self.agency, topic_owner) {
            return Ok(false);
        }
        match &record.event {
            // Another agency's alert, or one of this agency's read back from its own topic:
            // on a rebuild an alert raised live (a deadline that fired before its awaited
            // event arrived late, then was withdrawn) may never be raised again by the rules,
            // and must come back with its lifecycle. Idempotent by alert id: an alert the
            // rules raised (or raise later) is one row.
            AnyEvent::AlertRaised(alert) => {
                store_alert(batch.tx(), alert).await?;
                refresh(batch.tx(), alert.alert_id).await?;
                if topic_owner == self.agency {
                    self.schedule_review(batch, record, alert).await?;
                }
            }
            event => {
                let action = Action::from_event(event).expect("a lifecycle event");
                if record_action(batch.tx(), &action).await? {
                    refresh(batch.tx(), action.alert_id).await?;
                }
            }
        }
        Ok(true)
    }

    /// Escalates the alert at its review date if nobody has acted on it by then (see
    /// [`review_due`]). Scheduled when the alert is read back from this agency's alert topic,
    /// not when raised: its acknowledgements and closes are keyed like it, on the same
    /// partition, and a deadline fires only once the subscriber has caught up with the
    /// partition that scheduled it, so on a rebuild an alert acknowledged live is never
    /// escalated before its acknowledgement is read again. The first AlertRaised read of an
    /// alert sets the date (the one published live).
    async fn schedule_review(
        &self,
        batch: &mut Batch<'_>,
        record: &Record,
        alert: &AlertRaised,
    ) -> Result<(), HandlerError> {
        let Some(review_by) = alert.review_by else {
            return Ok(());
        };
        batch
            .schedule(
                record,
                &format!("{REVIEW_KEY}{}", alert.alert_id),
                review_by,
                serde_json::json!({
                    "alert_id": alert.alert_id,
                    "owner": self.agency.to_string(),
                    "office": alert.envelope.office,
                }),
            )
            .await
    }

    /// Withdraws this agency's alert `alert_id`, raised by a rule on facts that turned out
    /// wrong (a deadline fired, then the awaited event arrived with a time before the
    /// deadline): closes it with reason `false_positive` and `note`, and publishes the
    /// AlertClosed on this agency's alert topic, so the agency blamed sees it withdrawn, not
    /// left open. `Ok(false)` when there is no such alert of this agency, it is closed already
    /// (an officer's close stands), or it was withdrawn already (the close's event id derives
    /// from the alert id: one withdrawal per alert).
    pub async fn withdraw(
        &self,
        batch: &mut Batch<'_>,
        alert_id: Uuid,
        office: &str,
        note: &str,
    ) -> Result<bool, HandlerError> {
        self.close_by_rule(
            batch,
            alert_id,
            office,
            lintas_events::AlertCloseReason::FalsePositive,
            b"AlertClosed:withdrawn",
            note,
        )
        .await
    }

    /// Closes this agency's alert `alert_id` as `resolved` by the rule that raised it: the
    /// alert was right, and what it raised has since been answered (a missed deadline's
    /// awaited event arrived late; a blocked resident was cleared on a departure since).
    /// `note` says what, when (and how late), and the AlertClosed is published on this
    /// agency's alert topic, so officers see the alert answered instead of an open accusation
    /// about a matter that has moved on; the alert and its evidence stay. `Ok(false)` when
    /// there is no such alert of this agency, it is closed already (an officer's close
    /// stands), or the rule resolved it already (the close's event id derives from the alert
    /// id: once per alert, whatever the redelivery).
    pub async fn resolve(
        &self,
        batch: &mut Batch<'_>,
        alert_id: Uuid,
        office: &str,
        note: &str,
    ) -> Result<bool, HandlerError> {
        self.close_by_rule(
            batch,
            alert_id,
            office,
            lintas_events::AlertCloseReason::Resolved,
            b"AlertClosed:answered",
            note,
        )
        .await
    }

    /// A close the rule engine takes, once per alert and `tag`.
    async fn close_by_rule(
        &self,
        batch: &mut Batch<'_>,
        alert_id: Uuid,
        office: &str,
        reason: lintas_events::AlertCloseReason,
        tag: &[u8],
        note: &str,
    ) -> Result<bool, HandlerError> {
        let alert: Option<(String, String)> =
            sqlx::query_as("SELECT owner, status FROM lintas_alerts WHERE alert_id = $1")
                .bind(alert_id.to_string())
                .fetch_optional(batch.tx())
                .await?;
        // An alert an officer already closed keeps that close (a close is final, as through
        // the API).
        match alert {
            Some((owner, status)) if owner == self.agency.to_string() && status != CLOSED => {}
            _ => return Ok(false),
        }
        let mut envelope = lintas_events::Envelope::new(
            self.agency,
            office,
            "rule-engine",
            lintas_events::timefmt::millis::now(),
        );
        envelope.event_id = Uuid::new_v5(&alert_id, tag);
        let closed = lintas_events::AlertClosed {
            envelope,
            alert_id,
            by_agency: self.agency,
            reason,
            note: Some(note.to_string()),
        };
        let action =
            Action::from_event(&AnyEvent::AlertClosed(closed.clone())).expect("a lifecycle event");
        if !record_action(batch.tx(), &action).await? {
            return Ok(false);
        }
        refresh(batch.tx(), alert_id).await?;
        batch.publish(&closed).await?;
        Ok(true)
    }

    /// The note of [`AlertDesk::resolve`] for a deadline answered late ("SPDP sent on
    /// 2026-04-10, 2 days late"): `what`, the local date it happened, and the days late as
    /// officers count them, from the last local day the deadline allowed.
    pub fn answered_late_note(
        what: &str,
        due_at: time::OffsetDateTime,
        answered_at: time::OffsetDateTime,
        time_zone: lintas_events::calendar::TimeZone,
    ) -> String {
        // `due_at` is the end of the last allowed day (the next local midnight).
        let last_day = time_zone.local_date(due_at - time::Duration::milliseconds(1));
        let on = time_zone.local_date(answered_at);
        let late = (on - last_day).whole_days().max(1);
        let days = if late == 1 { "day" } else { "days" };
        format!("{what} on {on}, {late} {days} late")
    }

    fn forged(
        &self,
        batch: &Batch<'_>,
        record: &Record,
        claimed: Agency,
        topic_owner: Agency,
    ) -> HandlerError {
        crate::internal_events::AlertEventForged {
            agency: self.agency,
            claimed,
            topic_owner,
            event_type: record.event.type_name(),
            topic: &record.topic,
            partition: record.partition,
            offset: record.offset,
        }
        .emit();
        let index = batch
            .records()
            .iter()
            .position(|r| {
                r.topic == record.topic
                    && r.partition == record.partition
                    && r.offset == record.offset
            })
            .unwrap_or_default();
        HandlerError::Rejected {
            index,
            reason: format!(
                "forged alert event: {} claims {claimed} on {topic_owner}'s alert topic, which only {topic_owner} may write",
                record.event.type_name()
            ),
        }
    }

    /// `/v1/agencies/{agency}/alerts` (list with filters and a cursor), `…/{alert_id}` (one,
    /// with its actions), and `POST …/{alert_id}/acknowledge`, `…/escalate`, `…/close`.
    /// Only this agency's tokens; any other gets 403.
    pub fn router(&self, views: crate::views::ViewState) -> axum::Router {
        api::router(DeskState {
            views,
            agency: self.agency,
        })
    }
}

impl Action {
    fn from_event(event: &AnyEvent) -> Option<Action> {
        let (envelope, alert_id, by_agency) = match event {
            AnyEvent::AlertAcknowledged(e) => (&e.envelope, e.alert_id, e.by_agency),
            AnyEvent::AlertEscalated(e) => (&e.envelope, e.alert_id, e.by_agency),
            AnyEvent::AlertClosed(e) => (&e.envelope, e.alert_id, e.by_agency),
            _ => return None,
        };
        let mut action = Action {
            event_id: envelope.event_id,
            alert_id,
            action: ACKNOWLEDGED,
            by_agency,
            office: envelope.office.clone(),
            officer_id: envelope.officer_id.clone(),
            at_ms: millis::to_millis(&envelope.occurred_at),
            escalated_to: None,
            level: None,
            reason: None,
            note: None,
        };
        match event {
            AnyEvent::AlertAcknowledged(e) => action.note = e.note.clone(),
            AnyEvent::AlertEscalated(e) => {
                action.action = ESCALATED;
                action.escalated_to = Some(e.escalated_to);
                action.level = Some(e.level);
                action.reason = Some(e.reason.to_string());
                action.note = e.note.clone();
            }
            AnyEvent::AlertClosed(e) => {
                action.action = CLOSED;
                action.reason = Some(e.reason.to_string());
                action.note = e.note.clone();
            }
            _ => return None,
        }
        Some(action)
    }
}

/// Key prefix of the review deadlines the desk schedules; the runtime hands them to
/// [`review_due`], never to the subscriber's handler.
pub(crate) const REVIEW_KEY: &str = "lintas:alert-review:";

/// Alerts whose review date has come: one still `open` (nobody acknowledged, escalated or
/// closed it) is escalated by its owner with reason `review_overdue`, to the owner's own
/// supervisors (`escalated_to` is the owner: no other agency is put on the hook
/// automatically), published on its alert topic like an officer's escalation. Once per alert
/// (the event id derives from the alert id); an alert acted on in time is left alone.
pub(crate) async fn review_due(
    batch: &mut Batch<'_>,
    due: &[crate::consumer::Deadline],
) -> Result<(), HandlerError> {
    for deadline in due {
        let payload = &deadline.payload;
        let (Some(alert_id), Some(owner), Some(office)) = (
            payload["alert_id"]
                .as_str()
                .and_then(|a| a.parse::<Uuid>().ok()),
            payload["owner"]
                .as_str()
                .and_then(|o| o.parse::<Agency>().ok()),
            payload["office"].as_str(),
        ) else {
            tracing::warn!(key = %deadline.key, "review deadline without alert, owner or office; skipped");
            continue;
        };
        let current: Option<(String, String, i32)> = sqlx::query_as(
            "SELECT owner, status, escalation_level FROM lintas_alerts WHERE alert_id = $1",
        )
        .bind(alert_id.to_string())
        .fetch_optional(batch.tx())
        .await?;
        let Some((stored_owner, status, level)) = current else {
            continue;
        };
        if status != OPEN || stored_owner != owner.to_string() {
            continue;
        }
        let mut envelope = lintas_events::Envelope::new(
            owner,
            office,
            "rule-engine",
            lintas_events::timefmt::millis::now(),
        );
        envelope.event_id = Uuid::new_v5(&alert_id, b"AlertEscalated:review_overdue");
        let escalated = lintas_events::AlertEscalated {
            envelope,
            alert_id,
            by_agency: owner,
            escalated_to: owner,
            level: level + 1,
            reason: lintas_events::EscalationReason::ReviewOverdue,
            note: Some(
                "not acknowledged, escalated or closed by its review date: escalated automatically"
                    .into(),
            ),
        };
        let action = Action::from_event(&AnyEvent::AlertEscalated(escalated.clone()))
            .expect("a lifecycle event");
        if !record_action(batch.tx(), &action).await? {
            continue;
        }
        refresh(batch.tx(), alert_id).await?;
        batch.publish(&escalated).await?;
    }
    Ok(())
}

/// Stores an alert read from an alert topic (another agency's under a grant, or this
/// agency's own read back on a rebuild). Of several AlertRaised of one alert id (the one
/// published live, and one a rebuild's rules raised again before the topic was read), the
/// earliest raising wins, with its review date: the one officers saw live. A min is the same
/// in any arrival order, so a rebuild never moves a live review date.
async fn store_alert(conn: &mut AnyConnection, alert: &AlertRaised) -> Result<(), sqlx::Error> {
    insert_alert(
        conn,
        alert,
        "DO UPDATE SET raised_at_ms = excluded.raised_at_ms, review_by_ms = excluded.review_by_ms \
         WHERE excluded.raised_at_ms < lintas_alerts.raised_at_ms",
    )
    .await?;
    Ok(())
}

/// Inserts `alert`, open; `on_conflict` says what an alert already stored does. Its
/// `raised_at_ms` is when the owner could first act on it ([`AlertRaised::actionable_at`]):
/// the list sorts by it, so an alert raised today on a trigger read late is among today's,
/// not buried under the alerts raised since the trigger occurred.
async fn insert_alert(
    conn: &mut AnyConnection,
    alert: &AlertRaised,
    on_conflict: &str,
) -> Result<sqlx::any::AnyQueryResult, sqlx::Error> {
    sqlx::query(&format!(
        "INSERT INTO lintas_alerts (alert_id, rule, owner, severity, subject_key, summary, evidence, \
         raised_at_ms, review_by_ms, status, escalation_level, updated_at_ms, summaries) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, 0, $8, $11) ON CONFLICT (alert_id) {on_conflict}"
    ))
    .bind(alert.alert_id.to_string())
    .bind(&alert.rule)
    .bind(alert.owner.to_string())
    .bind(alert.severity.to_string())
    .bind(&alert.envelope.subject_key)
    .bind(&alert.summary)
    .bind(serde_json::to_string(&alert.evidence_event_ids).expect("uuids serialize"))
    .bind(millis::to_millis(&alert.actionable_at()))
    .bind(alert.review_by.as_ref().map(millis::to_millis))
    .bind(OPEN)
    .bind(summaries_json(
        &alert
            .summaries
            .iter()
            .map(|(l, t)| (l.as_str(), t.as_str()))
            .collect::<Vec<_>>(),
    ))
    .execute(conn)
    .await
}

/// The `summaries` column: a JSON object by language code, NULL when there are none (an
/// alert raised before translations), so readers fall back to `summary`.
fn summaries_json(by_language: &[(&str, &str)]) -> Option<String> {
    (!by_language.is_empty()).then(|| {
        let map: std::collections::BTreeMap<&str, &str> = by_language.iter().copied().collect();
        serde_json::to_string(&map).expect("strings serialize")
    })
}

/// Inserts the action; `false` when it was already recorded.
pub(crate) async fn record_action(
    conn: &mut AnyConnection,
    action: &Action,
) -> Result<bool, sqlx::Error> {
    let inserted = sqlx::query(
        "INSERT INTO lintas_alert_actions (event_id, alert_id, action, by_agency, office, officer_id, at_ms, \
         escalated_to, level, reason, note) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) \
         ON CONFLICT (event_id) DO NOTHING",
    )
    .bind(action.event_id.to_string())
    .bind(action.alert_id.to_string())
    .bind(action.action)
    .bind(action.by_agency.to_string())
    .bind(&action.office)
    .bind(&action.officer_id)
    .bind(action.at_ms)
    .bind(action.escalated_to.map(|a| a.to_string()))
    .bind(action.level)
    .bind(&action.reason)
    .bind(&action.note)
    .execute(conn)
    .await?;
    Ok(inserted.rows_affected() > 0)
}

/// What an alert's actions add up to.
#[derive(Debug, PartialEq)]
pub(crate) struct Lifecycle {
    pub status: &'static str,
    pub level: i32,
    pub escalated_to: Option<String>,
    pub close_reason: Option<String>,
    pub updated_at_ms: Option<i64>,
}

/// One recorded action as folded: action, at (ms), escalated to, level, reason.
pub(crate) type ActionRow = (String, i64, Option<String>, Option<i32>, Option<String>);

/// Folds actions in (time, event id) order: a close is final, otherwise the newest action
/// sets the status; escalation levels only rise.
pub(crate) fn fold(actions: &[ActionRow]) -> Lifecycle {
    let mut life = Lifecycle {
        status: OPEN,
        level: 0,
        escalated_to: None,
        close_reason: None,
        updated_at_ms: None,
    };
    for (action, at_ms, to, level, reason) in actions {
        if life.status == CLOSED {
            break;
        }
        life.updated_at_ms = Some(*at_ms);
        match action.as_str() {
            ESCALATED => {
                life.status = ESCALATED;
                life.level = life.level.max(level.unwrap_or(life.level + 1));
                life.escalated_to = to.clone();
            }
            CLOSED => {
                life.status = CLOSED;
                life.close_reason = reason.clone();
            }
            _ => life.status = ACKNOWLEDGED,
        }
    }
    life
}

/// Recomputes the stored status of `alert_id` from its owner's actions.
pub(crate) async fn refresh(conn: &mut AnyConnection, alert_id: Uuid) -> Result<(), sqlx::Error> {
    let rows = sqlx::query(
        "SELECT action, at_ms, escalated_to, level, reason FROM lintas_alert_actions \
         WHERE alert_id = $1 AND by_agency = (SELECT owner FROM lintas_alerts WHERE alert_id = $1) \
         ORDER BY at_ms, event_id",
    )
    .bind(alert_id.to_string())
    .fetch_all(&mut *conn)
    .await?;
    let actions: Vec<_> = rows
        .iter()
        .map(|r| {
            (
                r.get::<String, _>(0),
                r.get::<i64, _>(1),
                r.get::<Option<String>, _>(2),
                r.get::<Option<i32>, _>(3),
                r.get::<Option<String>, _>(4),
            )
        })
        .collect();
    let life = fold(&actions);
    sqlx::query(
        "UPDATE lintas_alerts SET status = $2, escalation_level = $3, escalated_to = $4, close_reason = $5, \
         updated_at_ms = COALESCE($6, raised_at_ms) WHERE alert_id = $1",
    )
    .bind(alert_id.to_string())
    .bind(life.status)
    .bind(life.level)
    .bind(life.escalated_to)
    .bind(life.close_reason)
    .bind(life.updated_at_ms)
    .execute(conn)
    .await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn a(action: &str, at: i64) -> (String, i64, Option<String>, Option<i32>, Option<String>) {
        (action.into(), at, None, None, Some("resolved".into()))
    }

    #[test]
    fn close_is_final_and_newest_action_wins_otherwise() {
        assert_eq!(fold(&[]).status, OPEN);
        assert_eq!(fold(&[a(ACKNOWLEDGED, 1)]).status, ACKNOWLEDGED);
        let escalated = fold(&[a(ACKNOWLEDGED, 1), a(ESCALATED, 2)]);
        assert_eq!((escalated.status, escalated.level), (ESCALATED, 1));
        let closed = fold(&[a(ACKNOWLEDGED, 1), a(CLOSED, 2), a(ESCALATED, 3)]);
        assert_eq!(closed.status, CLOSED);
        assert_eq!(closed.updated_at_ms, Some(2));
        assert_eq!(closed.close_reason.as_deref(), Some("resolved"));
    }
}
