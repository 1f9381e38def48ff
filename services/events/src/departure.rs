use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::{impl_event, BlockDecision, BlockReason, Envelope, HandedTo, Topic, VisaType};

/// schemas/DepartureBlocked.avsc
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DepartureBlocked {
    pub envelope: Envelope,
    pub checkpoint_code: String,
    pub decision: BlockDecision,
    pub carrier: String,
    pub flight_or_vessel: String,
    pub destination_country: String,
    pub transit_points: Vec<String>,
    pub visa_shown: VisaType,
    pub return_ticket: bool,
    pub reason: BlockReason,
    pub group_id: Option<Uuid>,
    pub handed_to: HandedTo,
}
impl_event!(DepartureBlocked, Topic::Departures, |e| {
    crate::subject_partition_key(&e.envelope)
});

/// schemas/DepartureCleared.avsc
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DepartureCleared {
    pub envelope: Envelope,
    pub checkpoint_code: String,
    pub carrier: String,
    pub flight_or_vessel: String,
    pub destination_country: String,
    pub transit_points: Vec<String>,
    pub visa_shown: VisaType,
    /// Personal data: the e-PMI id of a legal placement, if any.
    pub epmi_id: Option<String>,
    pub group_id: Option<Uuid>,
}
impl_event!(DepartureCleared, Topic::Departures, |e| {
    crate::subject_partition_key(&e.envelope)
});
