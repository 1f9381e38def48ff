use serde::{Deserialize, Serialize};
use time::Date;

use crate::{
    impl_event, timefmt, DeclaredPurpose, Envelope, RegistrationSource, Sex, Topic, VillageCode,
};

/// schemas/ApplicantRegistered.avsc
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ApplicantRegistered {
    pub envelope: Envelope,
    pub source: RegistrationSource,
    /// Personal data: only for agencies that need it, every read audited.
    pub personal: ApplicantPersonalData,
    pub sex: Sex,
    #[serde(with = "timefmt::days")]
    pub birth_date: Date,
    pub village: String,
    pub sub_district: String,
    pub regency: String,
    pub declared_purpose: DeclaredPurpose,
    pub destination_country: String,
    pub placement_agency: Option<PlacementAgency>,
    /// Personal data of the sponsor or recruiter named, if any.
    pub sponsor_name: Option<String>,
    /// Whether a channel entitled to assert the identity checked it against the document
    /// (passport application, Disnaker AK-1 with document check); a claim otherwise.
    pub identity_verified: bool,
    /// Kemendagri code of the village of residence: how villages are matched (`village`,
    /// `sub_district` and `regency` are names for display). None on registrations published
    /// before the code was part of the contract.
    pub village_code: Option<VillageCode>,
}
impl_event!(ApplicantRegistered, Topic::Applicants, |e| {
    crate::subject_partition_key(&e.envelope)
});

#[derive(Clone, PartialEq, Serialize, Deserialize)]
pub struct ApplicantPersonalData {
    pub nik: String,
    pub full_name: String,
}

// Personal data never reaches a log line through `{:?}`.
impl std::fmt::Debug for ApplicantPersonalData {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ApplicantPersonalData { <redacted> }")
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PlacementAgency {
    pub name: String,
    pub licence_number: Option<String>,
}
