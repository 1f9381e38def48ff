//! The alert desk's events.

use lintas_events::Agency;

use crate::metrics::ALERT_EVENTS_FORGED;

/// An alert event read on `topic_owner`'s alert topic that names another agency
/// (`claimed`): only the owner may write its topic, so it is forged; it is rejected (and so
/// dead-lettered), never applied (`lintas_alert_events_forged_total` by the reading agency,
/// warn).
#[derive(Debug, Clone, Copy)]
pub struct AlertEventForged<'a> {
    /// The agency whose subscriber read it.
    pub agency: Agency,
    pub claimed: Agency,
    pub topic_owner: Agency,
    pub event_type: &'a str,
    pub topic: &'a str,
    pub partition: i32,
    pub offset: i64,
}

impl AlertEventForged<'_> {
    pub fn emit(&self) {
        tracing::warn!(
            agency = %self.agency,
            claimed = %self.claimed,
            topic_owner = %self.topic_owner,
            event_type = self.event_type,
            topic = self.topic,
            partition = self.partition,
            offset = self.offset,
            "forged alert event: it names another agency than its topic's owner; rejected"
        );
        ALERT_EVENTS_FORGED
            .with_label_values(&[&self.agency.to_string()])
            .inc();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::internal_events::counter_value;

    #[test]
    fn a_forged_event_is_counted_for_the_reading_agency() {
        let count =
            |agency| counter_value("lintas_alert_events_forged_total", &[("agency", agency)]);
        let before = count("kejaksaan");
        AlertEventForged {
            agency: Agency::Kejaksaan,
            claimed: Agency::Disnaker,
            topic_owner: Agency::Polri,
            event_type: "AlertClosed",
            topic: "lintas.alerts.polri.v1",
            partition: 0,
            offset: 3,
        }
        .emit();
        assert_eq!(count("kejaksaan"), before + 1.0);
    }
}
