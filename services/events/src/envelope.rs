use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use uuid::Uuid;

use crate::{timefmt, Agency};

/// Fields every event carries (schemas/Envelope.avsc).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Envelope {
    pub event_id: Uuid,
    #[serde(with = "timefmt::millis")]
    pub occurred_at: OffsetDateTime,
    #[serde(with = "timefmt::millis")]
    pub recorded_at: OffsetDateTime,
    pub agency: Agency,
    pub office: String,
    pub officer_id: String,
    pub subject_key: Option<String>,
    pub case_id: Option<String>,
    pub correlation_id: Option<Uuid>,
    pub legal_basis: Option<String>,
    /// Version of the subject-key secret behind every subject key of the event (`None`: v1).
    pub subject_key_id: Option<String>,
}

impl Envelope {
    /// A new envelope with a fresh event id, recorded now.
    pub fn new(
        agency: Agency,
        office: impl Into<String>,
        officer_id: impl Into<String>,
        occurred_at: OffsetDateTime,
    ) -> Self {
        Envelope {
            event_id: Uuid::new_v4(),
            occurred_at,
            recorded_at: timefmt::millis::now(),
            agency,
            office: office.into(),
            officer_id: officer_id.into(),
            subject_key: None,
            case_id: None,
            correlation_id: None,
            legal_basis: None,
            subject_key_id: None,
        }
    }
}
