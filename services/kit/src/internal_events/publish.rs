//! Publishing: records the broker acknowledged or did not, and outbox rows it refused for good.

use std::fmt::Display;

use crate::metrics::{EVENTS_PUBLISHED, OUTBOX_FAILED, PUBLISH_FAILURES};

/// An event the broker acknowledged, published directly or relayed from the outbox
/// (`lintas_events_published_total`, trace).
#[derive(Debug, Clone, Copy)]
pub struct EventPublished<'a> {
    pub topic: &'a str,
    /// The event type's short name (`ApplicantRegistered`).
    pub event_type: &'a str,
}

impl EventPublished<'_> {
    pub fn emit(&self) {
        tracing::trace!(
            topic = self.topic,
            event_type = self.event_type,
            "event published"
        );
        EVENTS_PUBLISHED
            .with_label_values(&[self.topic, self.event_type])
            .inc();
    }
}

/// An event published directly that the broker did not acknowledge (or that could not be
/// encoded): the caller gets the error, an intake answers 503
/// (`lintas_publish_failures_total`, warn).
#[derive(Clone, Copy)]
pub struct EventPublishFailed<'a> {
    pub topic: &'a str,
    pub event_type: &'a str,
    pub error: &'a dyn Display,
}

impl EventPublishFailed<'_> {
    pub fn emit(&self) {
        tracing::warn!(
            topic = self.topic,
            event_type = self.event_type,
            error = %self.error,
            "event not published"
        );
        PUBLISH_FAILURES
            .with_label_values(&[self.topic, self.event_type])
            .inc();
    }
}

/// An outbox row the broker refused for good (too large, not authorised), moved aside to
/// `lintas_outbox_failed` with the reason so that it does not block the rows after it
/// (`lintas_outbox_failed_total`, error).
#[derive(Clone, Copy)]
pub struct OutboxRowSetAside<'a> {
    pub outbox_id: i64,
    pub event_type: &'a str,
    pub error: &'a dyn Display,
}

impl OutboxRowSetAside<'_> {
    pub fn emit(&self) {
        tracing::error!(
            outbox_id = self.outbox_id,
            event_type = self.event_type,
            error = %self.error,
            "outbox row refused by the broker for good; set aside in lintas_outbox_failed"
        );
        OUTBOX_FAILED.with_label_values(&[self.event_type]).inc();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::internal_events::counter_value;

    #[test]
    fn published_and_failed_events_count_on_the_same_labels() {
        let labels = [("topic", "ie.publish.v1"), ("type", "SpdpSent")];
        EventPublished {
            topic: "ie.publish.v1",
            event_type: "SpdpSent",
        }
        .emit();
        EventPublishFailed {
            topic: "ie.publish.v1",
            event_type: "SpdpSent",
            error: &"Message production error: MessageSizeTooLarge",
        }
        .emit();
        assert_eq!(counter_value("lintas_events_published_total", &labels), 1.0);
        assert_eq!(counter_value("lintas_publish_failures_total", &labels), 1.0);
    }

    #[test]
    fn a_row_set_aside_is_counted_by_type() {
        let labels = [("type", "IeRowSetAside")];
        let before = counter_value("lintas_outbox_failed_total", &labels);
        OutboxRowSetAside {
            outbox_id: 9,
            event_type: "IeRowSetAside",
            error: &"not authorised",
        }
        .emit();
        assert_eq!(
            counter_value("lintas_outbox_failed_total", &labels),
            before + 1.0
        );
    }
}
