//! Notable runtime events, each logged and counted in one place.
//!
//! One struct per event (in the manner of Vector's `internal_events`): its fields name what
//! happened, and its `emit(&self)` writes the log line at the event's level and updates the
//! event's Prometheus series with labels taken from those same fields, so that a log line and
//! its counter cannot drift apart and no call site spells a label array by position.
//!
//! ```no_run
//! use lintas_kit::internal_events::RecordSkipped;
//!
//! RecordSkipped {
//!     group: "imigrasi",
//!     topic: "lintas.applicants.v1",
//!     partition: 0,
//!     offset: 42,
//!     reason: "unknown_type",
//! }
//! .emit();
//! ```
//!
//! The metric names and labels are those of [`crate::metrics`] (dashboards and the alerting
//! rules in `deploy/prometheus/` read them). No event carries personal data: NIKs, names,
//! phone numbers and passport numbers never reach a log line or a label; what identifies a
//! record is its group, topic, partition and offset.

mod alerts;
mod consumer;
mod oidc;
mod personal_data;
mod publish;

pub use alerts::AlertEventForged;
pub use consumer::{
    ApplyRetried, BatchApplied, BatchFenced, DeadLetterDecided, EventsApplied, OffsetGap,
    OffsetOutsideLog, OutsideLogAction, OutsideLogKind, RecordConsumed, RecordDeadLettered,
    RecordSkipped, RedriveRequestSkipped, RetryCause,
};
pub use oidc::{JwksFetchFailed, JwksLoaded};
pub use personal_data::PersonalDataSealed;
pub use publish::{EventPublishFailed, EventPublished, OutboxRowSetAside};

/// The current value of a counter of the default registry with these labels (0 when the
/// series does not exist), for the tests of each event.
#[cfg(test)]
pub(crate) fn counter_value(name: &str, labels: &[(&str, &str)]) -> f64 {
    prometheus::gather()
        .iter()
        .filter(|family| family.name() == name)
        .flat_map(|family| family.get_metric().iter())
        .filter(|m| {
            labels.iter().all(|(name, value)| {
                m.get_label()
                    .iter()
                    .any(|l| l.name() == *name && l.value() == *value)
            })
        })
        // A family is a counter or a gauge; the other reads as 0.
        .map(|m| m.get_counter().get_value() + m.get_gauge().get_value())
        .sum()
}
