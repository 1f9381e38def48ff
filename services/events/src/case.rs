use serde::{Deserialize, Serialize};

use crate::{impl_event, Agency, Envelope, ReferralReason, Topic};

/// schemas/CaseReferred.avsc
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CaseReferred {
    pub envelope: Envelope,
    pub from_agency: Agency,
    pub to_agency: Agency,
    pub reason: ReferralReason,
    pub subject_keys: Vec<String>,
    pub suspected_recruiter_keys: Vec<String>,
    pub legal_articles: Vec<String>,
}
impl_event!(CaseReferred, Topic::Cases, |e| e
    .envelope
    .case_id
    .clone()
    .unwrap_or_else(|| e.envelope.event_id.to_string()));
