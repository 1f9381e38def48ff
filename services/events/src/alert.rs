use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use uuid::Uuid;

use crate::{
    impl_event, timefmt, Agency, AlertCloseReason, AlertSeverity, Envelope, EscalationReason,
};

/// schemas/AlertRaised.avsc
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AlertRaised {
    pub envelope: Envelope,
    pub alert_id: Uuid,
    pub rule: String,
    pub owner: Agency,
    pub severity: AlertSeverity,
    pub evidence_event_ids: Vec<Uuid>,
    /// In English: what readers written before [`AlertRaised::summaries`] existed show.
    pub summary: String,
    #[serde(with = "timefmt::millis::option")]
    pub review_by: Option<OffsetDateTime>,
    /// The summary by language code: `id` (Bahasa Indonesia, what officers read by default)
    /// and `en`. Empty on alerts raised before summaries were translated.
    #[serde(default)]
    pub summaries: BTreeMap<String, String>,
}
impl_event!(AlertRaised, alerts of |a| a.owner, |e| e.alert_id.to_string());

/// An alert's reason in the two languages of the deployment, without personal data.
/// Officers read Bahasa Indonesia by default; English is there for the task force's partners
/// (IOM, embassies) and for readers that predate translations.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Summary {
    /// Bahasa Indonesia.
    pub id: String,
    /// English.
    pub en: String,
}

impl Summary {
    /// The summary in `language` (`id` or `en`); Bahasa Indonesia for any other.
    pub fn in_language(&self, language: &str) -> &str {
        if language == "en" {
            &self.en
        } else {
            &self.id
        }
    }
}

/// What a subscriber's rule raises; [`AlertRaised::from_rule`] makes the event.
#[derive(Debug, Clone)]
pub struct RuleAlert {
    pub rule: String,
    pub owner: Agency,
    /// Office code of the raising subscriber.
    pub office: String,
    /// Event time of the trigger.
    pub occurred_at: OffsetDateTime,
    pub subject_key: Option<String>,
    pub severity: AlertSeverity,
    pub evidence: Vec<Uuid>,
    pub summary: Summary,
    /// Time the owner has to review it, from when it could first act on the alert (see
    /// [`AlertRaised::actionable_at`]); whole days of the deployment's time zone with
    /// [`AlertRaised::from_rule_in`].
    pub review_within: time::Duration,
}

impl AlertRaised {
    /// The event of alert `alert_id`. Its event id derives from the alert id too, so a
    /// redelivery, replay or restart republishes the same event, never a second one.
    pub fn from_rule(alert_id: Uuid, alert: RuleAlert) -> AlertRaised {
        let mut envelope =
            Envelope::new(alert.owner, alert.office, "rule-engine", alert.occurred_at);
        envelope.event_id = Uuid::new_v5(&alert_id, b"AlertRaised");
        envelope.subject_key = alert.subject_key;
        AlertRaised {
            envelope,
            alert_id,
            rule: alert.rule,
            owner: alert.owner,
            severity: alert.severity,
            evidence_event_ids: alert.evidence,
            summaries: BTreeMap::from([
                ("id".to_owned(), alert.summary.id),
                ("en".to_owned(), alert.summary.en.clone()),
            ]),
            summary: alert.summary.en,
            review_by: None,
        }
        .with_review(|actionable| actionable + alert.review_within)
    }

    /// When the owner could first act on the alert: the later of the trigger's time
    /// (`envelope.occurred_at`) and the start of the (UTC) day on which the rule raised it
    /// (`envelope.recorded_at`, the raising subscriber's clock). A trigger read a day or more
    /// late (lag, a backfill, a registration that arrives days after the block it completes)
    /// raises an alert whose review runs from the day of its raising, so it is not born
    /// overdue; one raised the day its trigger happened keeps the trigger's time, so views
    /// built the same day do not depend on the instant or order in which events were applied.
    /// The raise day is not derived from the feed, so a rebuild on a later day raises a copy
    /// with a later time: the alert desk keeps the earliest raising it saw for an alert id
    /// (the one published live, read back from the alert topic), so a rebuild never moves a
    /// live review date.
    pub fn actionable_at(&self) -> OffsetDateTime {
        let raised_day = self
            .envelope
            .recorded_at
            .to_offset(time::UtcOffset::UTC)
            .replace_time(time::Time::MIDNIGHT);
        self.envelope.occurred_at.max(raised_day)
    }

    fn with_review(mut self, review_by: impl FnOnce(OffsetDateTime) -> OffsetDateTime) -> Self {
        self.review_by = Some(review_by(self.actionable_at()));
        self
    }

    /// [`AlertRaised::from_rule`] with the review counted in local days, as officers count
    /// them: due at the end of local day `review_within` (whole days) after the day the
    /// alert became actionable ([`AlertRaised::actionable_at`]) in `time_zone`, not
    /// `review_within` × 24 hours after its instant.
    pub fn from_rule_in(
        alert_id: Uuid,
        alert: RuleAlert,
        time_zone: crate::calendar::TimeZone,
    ) -> AlertRaised {
        let days = alert.review_within.whole_days();
        AlertRaised::from_rule(alert_id, alert)
            .with_review(|actionable| time_zone.end_of_day_after(actionable, days))
    }

    /// The summary in `language` (`id` or `en`): the translation when the alert carries one,
    /// else the English [`AlertRaised::summary`] (alerts raised before translations).
    pub fn summary_in(&self, language: &str) -> &str {
        self.summaries
            .get(language)
            .map_or(self.summary.as_str(), String::as_str)
    }

    /// The alert id for a rule and its evidence: the same rule over the same events always
    /// gives the same id, so a redelivery, replay or restart cannot raise a second alert.
    pub fn derive_id(rule: &str, evidence: &[Uuid]) -> Uuid {
        let mut sorted = evidence.to_vec();
        sorted.sort();
        let mut name = rule.as_bytes().to_vec();
        for id in sorted {
            name.extend_from_slice(id.as_bytes());
        }
        Uuid::new_v5(&ALERT_NAMESPACE, &name)
    }
}

/// schemas/AlertAcknowledged.avsc
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AlertAcknowledged {
    pub envelope: Envelope,
    pub alert_id: Uuid,
    pub by_agency: Agency,
    /// Free text without personal data.
    pub note: Option<String>,
}
impl_event!(AlertAcknowledged, alerts of |a| a.by_agency, |e| e.alert_id.to_string());

/// schemas/AlertEscalated.avsc
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AlertEscalated {
    pub envelope: Envelope,
    pub alert_id: Uuid,
    pub by_agency: Agency,
    pub escalated_to: Agency,
    /// 1 for the first escalation of an alert, one more for each further one.
    pub level: i32,
    pub reason: EscalationReason,
    /// Free text without personal data.
    pub note: Option<String>,
}
impl_event!(AlertEscalated, alerts of |a| a.by_agency, |e| e.alert_id.to_string());

/// schemas/AlertClosed.avsc
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AlertClosed {
    pub envelope: Envelope,
    pub alert_id: Uuid,
    pub by_agency: Agency,
    pub reason: AlertCloseReason,
    /// Free text without personal data.
    pub note: Option<String>,
}
impl_event!(AlertClosed, alerts of |a| a.by_agency, |e| e.alert_id.to_string());

const ALERT_NAMESPACE: Uuid = Uuid::from_u128(0x6c696e74_6173_4000_8000_616c65727473);
