//! What every request shares: the intake endpoints, the immigration office's hint, the draft
//! a step returns (numbered and timed by the iterator), officer ids, and the applicant's
//! body that the Disnaker and immigration office endpoints have in common.

use lintas_events::{Agency, AvroEnum};
use serde_json::{json, Value};

use super::clock::{date_text, time_text};
use super::random::below;
use super::Scenario;
use crate::places::KECAMATAN;

pub(super) const JOBSEEKERS: &str = "/v1/disnaker/jobseekers";
pub(super) const RECOMMENDATIONS: &str = "/v1/disnaker/passport-recommendations";
pub(super) const APPLICATIONS: &str = "/v1/imigrasi/passport-applications";
pub(super) const INTERVIEWS: &str = "/v1/imigrasi/interviews";
pub(super) const VISA_FLAGS: &str = "/v1/imigrasi/visa-flags";
pub(super) const DEPARTURE_CHECKS: &str = "/v1/checkpoints/departure-checks";
pub(super) const GROUP_CHECKS: &str = "/v1/checkpoints/group-checks";
pub(super) const REFERRALS: &str = "/v1/cases/referrals";
pub(super) const RECRUITERS: &str = "/v1/cases/recruiters";
pub(super) const INVESTIGATIONS: &str = "/v1/cases/investigations";
pub(super) const SPDP: &str = "/v1/cases/spdp";
pub(super) const STAGES: &str = "/v1/cases/prosecution-stages";

/// Office hint of the immigration office (Kantor Imigrasi) as opposed to its checkpoints.
pub(super) const KANIM: &str = "KANIM-";

/// One request before it gets its number.
pub(super) struct Draft {
    pub(super) path: &'static str,
    pub(super) agency: Agency,
    pub(super) hint: Option<&'static str>,
    pub(super) body: Value,
}

pub(super) fn draft(
    path: &'static str,
    agency: Agency,
    hint: Option<&'static str>,
    body: Value,
) -> Draft {
    Draft {
        path,
        agency,
        hint,
        body,
    }
}

impl Scenario {
    pub(super) fn officer(&mut self, prefix: &str, pool: usize) -> String {
        format!("{prefix}-{:02}", below(&mut self.rng, pool) + 1)
    }

    pub(super) fn applicant_body(
        &self,
        at: i64,
        party: u32,
        member: usize,
        officer: String,
    ) -> Value {
        let p = &self.parties[&party];
        let person = &p.members[member];
        let purpose = p.purpose;
        let mut body = json!({
            "nik": person.nik,
            "full_name": person.name,
            "sex": if person.female { "female" } else { "male" },
            "birth_date": date_text(person.birth),
            "village_code": KECAMATAN[person.kec].village_code(person.village),
            "village": person.village,
            "sub_district": KECAMATAN[person.kec].name,
            "regency": "Cilacap",
            "declared_purpose": purpose.symbol(),
            "destination_country": p.destination,
            "officer_id": officer,
            "occurred_at": time_text(at),
            "correlation_id": p.correlation,
        });
        if let Some((name, licence)) = p.placement_agency {
            let mut agency = json!({ "name": name });
            if let Some(licence) = licence {
                agency["licence_number"] = json!(licence);
            }
            body["placement_agency"] = agency;
        }
        if let Some(sponsor) = &p.sponsor {
            body["sponsor_name"] = json!(sponsor);
        }
        body
    }
}
