use serde::{Deserialize, Serialize};

use crate::{impl_event, Envelope, ScreeningStage, Topic, VisaFlagReason, VisaType};

/// schemas/VisaTypeFlagged.avsc
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct VisaTypeFlagged {
    pub envelope: Envelope,
    pub reason: VisaFlagReason,
    pub stage: ScreeningStage,
    pub visa_type: VisaType,
    pub destination_country: String,
}
impl_event!(VisaTypeFlagged, Topic::Screening, |e| {
    crate::subject_partition_key(&e.envelope)
});
