use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::{impl_event, BlockDecision, BlockReason, Envelope, HandedTo, Sex, Topic, VisaType};

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
    /// The traveller's sex as the NIK checked encodes it; `None` on events written before
    /// the field existed. Lets IM2 apply to a traveller never registered in Lintas.
    pub traveller_sex: Option<Sex>,
    /// Whether the traveller was under 18 on the local date of the check; `None` when not
    /// derived. The one fact about age PO2 needs: the birth date itself stays off the topic.
    pub traveller_minor: Option<bool>,
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
    /// The traveller's sex as the NIK checked encodes it; `None` on events written before
    /// the field existed. Lets IM2 apply to a traveller never registered in Lintas.
    pub traveller_sex: Option<Sex>,
    /// Whether the traveller was under 18 on the local date of the check; `None` when not
    /// derived. The one fact about age PO2 needs: the birth date itself stays off the topic.
    pub traveller_minor: Option<bool>,
}
impl_event!(DepartureCleared, Topic::Departures, |e| {
    crate::subject_partition_key(&e.envelope)
});
