use serde::{Deserialize, Serialize};
use time::Date;

use crate::{
    impl_event, timefmt, Agency, Envelope, LicenceStatus, ProsecutionStage, RecruiterRole,
    ReferralReason, Topic, VillageCode,
};

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
impl_event!(CaseReferred, Topic::Cases, |e| crate::case_partition_key(
    &e.envelope
));

/// schemas/RecruiterReported.avsc
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RecruiterReported {
    pub envelope: Envelope,
    pub recruiter_key: String,
    pub role: RecruiterRole,
    /// Personal data of the reported person.
    pub phone_numbers: Vec<String>,
    pub licence_status: LicenceStatus,
    pub village: Option<String>,
    pub sub_district: Option<String>,
    pub regency: String,
    pub linked_subject_keys: Vec<String>,
    pub placement_agency_name: Option<String>,
    /// Kemendagri code of the village where the reported person is active, if known; the
    /// names are for display.
    pub village_code: Option<VillageCode>,
}
// A report that belongs to a case travels with the case; otherwise every report about one
// recruiter lands in one partition.
impl_event!(RecruiterReported, Topic::Cases, |e| e
    .envelope
    .case_id
    .clone()
    .unwrap_or_else(|| e.recruiter_key.clone()));

/// schemas/InvestigationOpened.avsc
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct InvestigationOpened {
    pub envelope: Envelope,
    pub investigating_unit: String,
    pub legal_articles: Vec<String>,
    pub suspect_recruiter_keys: Vec<String>,
    /// Subject keys of the victims.
    pub subject_keys: Vec<String>,
}
impl_event!(InvestigationOpened, Topic::Cases, |e| {
    crate::case_partition_key(&e.envelope)
});

/// schemas/SpdpSent.avsc
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SpdpSent {
    pub envelope: Envelope,
    pub spdp_number: String,
    pub sent_to_office: String,
    #[serde(with = "timefmt::days")]
    pub investigation_opened_on: Date,
}
impl_event!(SpdpSent, Topic::Cases, |e| crate::case_partition_key(
    &e.envelope
));

/// schemas/ProsecutionStageChanged.avsc
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ProsecutionStageChanged {
    pub envelope: Envelope,
    pub stage: ProsecutionStage,
    pub prosecutor_id: Option<String>,
    #[serde(with = "timefmt::days::option")]
    pub due_date: Option<Date>,
}
impl_event!(ProsecutionStageChanged, Topic::Cases, |e| {
    crate::case_partition_key(&e.envelope)
});
