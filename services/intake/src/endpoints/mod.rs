//! The intake endpoints, one file per producing agency's intake.

pub mod applicants;
pub mod cases;
pub mod checkpoints;
pub mod interviews;
pub mod screening;

use crate::spec::{optional, required, Field, Kind};

/// Fields every request carries besides its own: who recorded it and when.
macro_rules! fields {
    ($($field:expr),* $(,)?) => {
        &[
            $crate::endpoints::OFFICER,
            $crate::endpoints::OCCURRED_AT,
            $crate::endpoints::CORRELATION_ID,
            $($field),*
        ]
    };
}
pub(crate) use fields;

pub const OFFICER: Field = required(
    "officer_id",
    Kind::Text { max: 64 },
    "Pseudonymous id of the officer who recorded the fact.",
);
pub const OCCURRED_AT: Field = optional(
    "occurred_at",
    Kind::PastTime,
    "When the fact happened (RFC 3339); now when absent. Without an Idempotency-Key, a request \
     stating it is de-duplicated by its content (a retry is the same event); with neither, a \
     retry publishes a second event.",
);
pub const CORRELATION_ID: Field = optional(
    "correlation_id",
    Kind::Uuid,
    "Id shared by events of one workflow, for tracing across agencies.",
);
pub const NIK: Field = required(
    "nik",
    Kind::Nik,
    "National ID number of the person. Only its HMAC (subject_key) travels on shared topics.",
);
