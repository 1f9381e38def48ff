//! Rule IM1: a subject flagged or blocked again within 12 months (office shopping).
//!
//! The alert belongs to the *later* event and its id derives from that event alone, so the
//! same alerts exist whatever order the events arrive in: when an earlier event arrives
//! late, the alerts of the later events it now precedes are raised then.

use lintas_kit::consumer::{Batch, HandlerError};
use lintas_kit::events::{
    timefmt::millis, Agency, AlertRaised, AlertSeverity, AnyEvent, RuleAlert,
};
use sqlx::Row;
use time::Duration;
use uuid::Uuid;

pub const IM1: &str = "IM1";

#[derive(Debug, Clone)]
pub struct Im1Settings {
    /// Window between two flags or blocks; the brief says 12 months.
    pub window: Duration,
    /// Office code stamped on alerts this subscriber raises.
    pub office: String,
    /// IM2: transit points (IATA) known as routes of women sent to the Middle East on
    /// pilgrimage visas to work.
    pub im2_transit_points: Vec<String>,
    /// The deployment's time zone: the local day on which ages in the history are taken.
    pub time_zone: lintas_kit::events::calendar::TimeZone,
}

impl Default for Im1Settings {
    fn default() -> Self {
        Im1Settings {
            window: Duration::days(365),
            office: "LINTAS-IMIGRASI".into(),
            im2_transit_points: ["DXB", "AUH", "DOH", "MCT", "BAH", "KWI", "KUL"]
                .map(String::from)
                .to_vec(),
            time_zone: Default::default(),
        }
    }
}

pub fn is_flag_or_block(event: &AnyEvent) -> bool {
    matches!(
        event,
        AnyEvent::VisaTypeFlagged(_) | AnyEvent::DepartureBlocked(_)
    )
}

pub async fn im1(
    batch: &mut Batch<'_>,
    settings: &Im1Settings,
    event: &AnyEvent,
) -> Result<(), HandlerError> {
    let envelope = event.envelope();
    let subject = envelope.subject_key.clone().unwrap_or_default();
    let t = millis::to_millis(&envelope.occurred_at);
    let window = settings.window.whole_milliseconds() as i64;
    let rows = sqlx::query(
        "SELECT event_id, occurred_at_ms FROM subject_history \
         WHERE subject_key = $1 AND event_type IN ('VisaTypeFlagged', 'DepartureBlocked') \
         AND occurred_at_ms >= $2 AND occurred_at_ms <= $3 ORDER BY occurred_at_ms, event_id",
    )
    .bind(&subject)
    .bind(t - window)
    .bind(t + window)
    .fetch_all(batch.tx())
    .await?;
    let nearby: Vec<(String, i64)> = rows
        .iter()
        .map(|r| Ok((r.try_get::<String, _>(0)?, r.try_get::<i64, _>(1)?)))
        .collect::<Result<_, sqlx::Error>>()?;
    let me = envelope.event_id.to_string();
    // Candidates: this event and every later one in the window.
    for (i, (later_id, later_t)) in nearby.iter().enumerate() {
        if (*later_t, later_id.as_str()) < (t, me.as_str()) {
            continue;
        }
        let earlier: Vec<&String> = nearby[..i]
            .iter()
            .filter(|(_, et)| later_t - et <= window)
            .map(|(id, _)| id)
            .collect();
        if earlier.is_empty() {
            continue;
        }
        raise(batch, settings, &subject, later_id, *later_t, &earlier).await?;
    }
    Ok(())
}

async fn raise(
    batch: &mut Batch<'_>,
    settings: &Im1Settings,
    subject: &str,
    trigger: &str,
    trigger_ms: i64,
    earlier: &[&String],
) -> Result<(), HandlerError> {
    let trigger_id: Uuid = trigger
        .parse()
        .map_err(|e| HandlerError::Transient(anyhow::anyhow!("bad event id in view: {e}")))?;
    let alert_id = AlertRaised::derive_id(IM1, &[trigger_id]);
    let mut evidence: Vec<Uuid> = earlier.iter().filter_map(|id| id.parse().ok()).collect();
    evidence.push(trigger_id);
    let summary = format!(
        "flagged or blocked {} time(s) in the 12 months before this event",
        earlier.len()
    );
    let occurred =
        millis::from_millis(trigger_ms).map_err(|e| HandlerError::Transient(e.into()))?;
    let alert = RuleAlert {
        rule: IM1.into(),
        owner: Agency::Imigrasi,
        office: settings.office.clone(),
        occurred_at: occurred,
        subject_key: Some(subject.to_string()),
        severity: AlertSeverity::Warning,
        evidence,
        summary,
        review_within: Duration::days(14),
    };
    let evidence = alert.evidence.clone();
    let summary = alert.summary.clone();
    // Raised before all its earlier flags had arrived: the view gets the complete evidence.
    if !crate::ALERTS
        .raise(
            batch,
            AlertRaised::from_rule_in(alert_id, alert, settings.time_zone),
        )
        .await?
    {
        crate::ALERTS
            .revise(batch, alert_id, &evidence, &summary)
            .await?;
    }
    Ok(())
}
