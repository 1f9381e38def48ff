//! Cases: a referral to the police, the recruiter report, the investigation, its SPDP to the
//! prosecutor, the protection referral of minors, and the prosecutor's stages with their
//! due dates. Case ids carry the seed so that runs with different seeds never share a case.

use std::collections::HashSet;

use lintas_events::{Agency, AvroEnum, LicenceStatus, ProsecutionStage, ReferralReason};
use serde_json::json;
use time::Date;
use uuid::Uuid;

use super::calendar::Step;
use super::clock::{date_of_day, date_text, local_day, time_text, DAY, MINUTE};
use super::random::{between, chance, random_uuid};
use super::requests::{draft, Draft, INVESTIGATIONS, KANIM, RECRUITERS, REFERRALS, SPDP, STAGES};
use super::Scenario;
use crate::places::KECAMATAN;

const INVESTIGATING_UNIT: &str = "Satreskrim Unit PPA Polresta Cilacap";
const PROSECUTOR_OFFICE: &str = "KEJARI-CILACAP";

pub(super) struct Case {
    pub(super) id: String,
    pub(super) niks: Vec<String>,
    pub(super) minor_niks: Vec<String>,
    pub(super) recruiter: Option<usize>,
    pub(super) reason: ReferralReason,
    pub(super) articles: Vec<&'static str>,
    /// Office that referred it: a checkpoint code or the immigration office.
    pub(super) office: &'static str,
    pub(super) correlation: Uuid,
    pub(super) investigation_opened: Option<Date>,
    pub(super) prosecutor: String,
    pub(super) pending: u32,
}

impl Scenario {
    pub(super) fn open_case(
        &mut self,
        at: i64,
        niks: Vec<String>,
        minor_niks: Vec<String>,
        recruiter: Option<usize>,
        trafficking: bool,
        office: &'static str,
    ) {
        if let Some(r) = recruiter {
            let linked = &mut self.recruiters[r].linked;
            for nik in &niks {
                linked.push_back((at, nik.clone()));
            }
        }
        let reason = if !minor_niks.is_empty() {
            ReferralReason::ChildExploitation
        } else if trafficking {
            ReferralReason::SuspectedTrafficking
        } else {
            ReferralReason::IllegalPlacement
        };
        let mut articles = match reason {
            ReferralReason::IllegalPlacement => vec!["UU 18/2017 Pasal 81", "UU 18/2017 Pasal 83"],
            _ => vec!["UU 21/2007 Pasal 4", "UU 18/2017 Pasal 81"],
        };
        if !minor_niks.is_empty() {
            articles.push("UU 21/2007 Pasal 6");
        }
        let year = date_of_day(local_day(at)).year();
        let id = self.next_case;
        self.next_case += 1;
        let correlation = random_uuid(&mut self.rng);
        let prosecutor = format!("jaksa-{:04}", between(&mut self.rng, 1, 12));
        self.cases.insert(
            id,
            Case {
                id: format!("SIM{}-CLP-{year}-{:04}", self.seed, id + 1),
                niks,
                minor_niks,
                recruiter,
                reason,
                articles,
                office,
                correlation,
                investigation_opened: None,
                prosecutor,
                pending: 0,
            },
        );
        // The checkpoint works around the clock; the office refers the same or next day.
        let next = if office == KANIM {
            self.office_after(at, 0, 1)
        } else {
            at + between(&mut self.rng, 2 * 60, 36 * 60) * MINUTE
        };
        self.schedule(next, Step::Referral { case: id });
    }

    pub(super) fn referral(&mut self, at: i64, case: u32) -> Draft {
        let officer = match self.cases[&case].office {
            KANIM => self.officer("kanim", 12),
            checkpoint => self.officer(&format!("tpi-{}", checkpoint[4..].to_lowercase()), 20),
        };
        let c = &self.cases[&case];
        let mut body = json!({
            "case_id": c.id,
            "to_agency": "polri",
            "reason": c.reason.symbol(),
            "subject_niks": c.niks,
            "legal_articles": c.articles,
            "officer_id": officer,
            "occurred_at": time_text(at),
            "correlation_id": c.correlation,
        });
        if let Some(r) = c.recruiter {
            body["suspected_recruiter_keys"] = json!([self.recruiters[r].key]);
        }
        let hint = c.office;
        let has_recruiter = c.recruiter.is_some();
        if has_recruiter {
            let next = self.office_after(at, 1, 5);
            self.schedule(next, Step::RecruiterReport { case });
        }
        if chance(&mut self.rng, 0.75) {
            // Rule PO3 (proposed): no investigation within 14 days of a referral.
            let next = if chance(&mut self.rng, 0.8) {
                self.office_after(at, 2, 12)
            } else {
                self.office_after(at, 15, 25)
            };
            self.schedule(next, Step::Investigation { case });
        }
        draft(REFERRALS, Agency::Imigrasi, Some(hint), body)
    }

    pub(super) fn recruiter_report(&mut self, at: i64, case: u32) -> Draft {
        let officer = self.officer("pol-ppa", 6);
        let c = &self.cases[&case];
        let r = &mut self.recruiters[c.recruiter.expect("scheduled only with a recruiter")];
        while r.linked.front().is_some_and(|(t, _)| *t < at - 180 * DAY) {
            r.linked.pop_front();
        }
        let mut seen = HashSet::new();
        let mut linked: Vec<&str> = r
            .linked
            .iter()
            .rev()
            .map(|(_, nik)| nik.as_str())
            .filter(|nik| seen.insert(*nik))
            .take(500)
            .collect();
        linked.reverse();
        let mut body = json!({
            "case_id": c.id,
            "recruiter_key": r.key,
            "role": r.role.symbol(),
            "phone_numbers": r.phones,
            "licence_status": r.licence.symbol(),
            "village_code": KECAMATAN[r.kec].village_code(r.village),
            "village": r.village,
            "sub_district": KECAMATAN[r.kec].name,
            "regency": "Cilacap",
            "linked_subject_niks": linked,
            "officer_id": officer,
            "occurred_at": time_text(at),
            "correlation_id": c.correlation,
        });
        if r.licence != LicenceStatus::Unknown {
            body["placement_agency_name"] = json!(r.agency_name);
        }
        draft(RECRUITERS, Agency::Polri, None, body)
    }

    pub(super) fn investigation(&mut self, at: i64, case: u32) -> Draft {
        let officer = self.officer("pol-ppa", 6);
        let c = self.cases.get_mut(&case).expect("live case");
        c.investigation_opened = Some(date_of_day(local_day(at)));
        let mut body = json!({
            "case_id": c.id,
            "investigating_unit": INVESTIGATING_UNIT,
            "legal_articles": c.articles,
            "subject_niks": c.niks,
            "officer_id": officer,
            "occurred_at": time_text(at),
            "correlation_id": c.correlation,
        });
        if let Some(r) = c.recruiter {
            body["suspect_recruiter_keys"] = json!([self.recruiters[r].key]);
        }
        let minors = !c.minor_niks.is_empty();
        // Rule JA1: the SPDP is due within 7 days; 15 % are late.
        let next = if chance(&mut self.rng, 0.85) {
            self.office_after(at, 1, 6)
        } else {
            self.office_after(at, 8, 16)
        };
        self.schedule(next, Step::Spdp { case });
        if minors {
            let next = self.office_after(at, 0, 3);
            self.schedule(next, Step::Protection { case });
        }
        draft(INVESTIGATIONS, Agency::Polri, None, body)
    }

    pub(super) fn spdp(&mut self, at: i64, case: u32) -> Draft {
        let officer = self.officer("pol-ppa", 6);
        self.spdp_serial += 1;
        let date = date_of_day(local_day(at));
        let c = &self.cases[&case];
        let body = json!({
            "case_id": c.id,
            "spdp_number": format!("SPDP/{}/{}/{}/Reskrim", self.spdp_serial, roman(date.month() as u8), date.year()),
            "sent_to_office": PROSECUTOR_OFFICE,
            "investigation_opened_on": date_text(c.investigation_opened.expect("opened before the SPDP")),
            "officer_id": officer,
            "occurred_at": time_text(at),
            "correlation_id": c.correlation,
        });
        // Rule JA2: an SPDP without a prosecutor assigned (P-16).
        if chance(&mut self.rng, 0.9) {
            let next = self.office_after(at, 1, 6);
            self.schedule(
                next,
                Step::Stage {
                    case,
                    stage: ProsecutionStage::P16,
                },
            );
        }
        draft(SPDP, Agency::Polri, None, body)
    }

    /// Minors go to social services for protection.
    pub(super) fn protection(&mut self, at: i64, case: u32) -> Draft {
        let officer = self.officer("pol-ppa", 6);
        let c = &self.cases[&case];
        let body = json!({
            "case_id": c.id,
            "to_agency": "dinsos",
            "reason": ReferralReason::VictimProtection.symbol(),
            "subject_niks": c.minor_niks,
            "legal_articles": ["UU 21/2007 Pasal 6"],
            "officer_id": officer,
            "occurred_at": time_text(at),
            "correlation_id": c.correlation,
        });
        draft(REFERRALS, Agency::Polri, None, body)
    }

    /// The prosecutor's forms: P-16, then either P-18 and P-19 (file incomplete, returned
    /// with instructions; 7 and 14 days, rule JA3) before P-21, or P-21 at once; then P-22,
    /// P-29 and P-31.
    pub(super) fn stage(&mut self, at: i64, case: u32, stage: ProsecutionStage) -> Draft {
        use ProsecutionStage::*;
        let officer = self.officer("jaksa", 4);
        let (next_stage, min, max, due_in) = match stage {
            P16 => {
                if chance(&mut self.rng, 0.4) {
                    (Some(P18), 20, 40, None)
                } else {
                    (Some(P21), 25, 50, None)
                }
            }
            P18 => (Some(P19), 1, 5, Some(7)),
            P19 => (Some(P21), 7, 14, Some(14)),
            P21 => (Some(P22), 3, 10, None),
            P22 => (Some(P29), 7, 20, None),
            P29 => (Some(P31), 1, 7, None),
            _ => (None, 0, 0, None),
        };
        let c = &self.cases[&case];
        let mut body = json!({
            "case_id": c.id,
            "stage": stage.symbol(),
            "prosecutor_id": c.prosecutor,
            "officer_id": officer,
            "occurred_at": time_text(at),
            "correlation_id": c.correlation,
        });
        // The intake wants due dates from today on: only those at least a day after `end`.
        if let Some(days) = due_in {
            let due = local_day(at) + days;
            if due > local_day(self.end - 1) {
                body["due_date"] = json!(date_text(date_of_day(due)));
            }
        }
        if let Some(next_stage) = next_stage {
            let next = self.office_after(at, min, max);
            self.schedule(
                next,
                Step::Stage {
                    case,
                    stage: next_stage,
                },
            );
        }
        draft(STAGES, Agency::Kejaksaan, None, body)
    }
}

fn roman(month: u8) -> &'static str {
    [
        "I", "II", "III", "IV", "V", "VI", "VII", "VIII", "IX", "X", "XI", "XII",
    ][usize::from(month - 1)]
}
