//! Screening before departure: the Disnaker jobseeker card (AK-1) and passport
//! recommendation, then the passport application and interview at the immigration office,
//! whose outcome decides the trip, a second attempt (office shopping) or, for a recruiter's
//! group turned down at once, a case.

use lintas_events::{
    Agency, AvroEnum, DeclaredPurpose, InterviewOutcome, InterviewReason, VisaFlagReason, VisaType,
};
use rand::Rng;
use serde_json::json;

use super::calendar::Step;
use super::clock::{time_text, MINUTE};
use super::population::{Party, Profile};
use super::random::{between, chance, random_uuid, weighted};
use super::requests::{draft, Draft, APPLICATIONS, INTERVIEWS, JOBSEEKERS, KANIM, RECOMMENDATIONS};
use super::Scenario;

impl Scenario {
    pub(super) fn jobseeker(&mut self, at: i64, party: u32) -> Draft {
        let officer = self.officer("dsn", 6);
        let mut body = self.applicant_body(at, party, 0, officer);
        // An AK-1 card is issued against the identity card: the identity is verified.
        body["identity_document_checked"] = json!(true);
        let p = &self.parties[&party];
        // A risky applicant's jobseeker card declares work, whatever they tell immigration.
        if p.ak1_first {
            body["declared_purpose"] = json!(DeclaredPurpose::Work.symbol());
            body.as_object_mut().expect("object").remove("sponsor_name");
            body.as_object_mut()
                .expect("object")
                .remove("placement_agency");
        }
        if p.profile == Profile::Legal {
            let next = self.office_after(at, 3, 14);
            self.schedule(next, Step::Recommendation { party });
        } else {
            let next = self.office_after(at, 5, 30);
            self.schedule(next, Step::Application { party, member: 0 });
        }
        draft(JOBSEEKERS, Agency::Disnaker, None, body)
    }

    pub(super) fn recommendation(&mut self, at: i64, party: u32) -> Draft {
        let officer = self.officer("dsn", 6);
        let mut body = self.applicant_body(at, party, 0, officer);
        body["identity_document_checked"] = json!(true);
        let next = self.office_after(at, 1, 7);
        self.schedule(next, Step::Application { party, member: 0 });
        draft(RECOMMENDATIONS, Agency::Disnaker, None, body)
    }

    pub(super) fn application(&mut self, at: i64, party: u32, member: usize) -> Draft {
        let officer = self.officer("kanim", 12);
        let body = self.applicant_body(at, party, member, officer);
        let next = at + between(&mut self.rng, 20, 90) * MINUTE;
        self.schedule(next, Step::Interview { party, member });
        draft(APPLICATIONS, Agency::Imigrasi, Some(KANIM), body)
    }

    pub(super) fn interview(&mut self, at: i64, party: u32, member: usize) -> Draft {
        let officer = self.officer("kanim", 12);
        let (profile, purpose, destination, burst, attempt) = {
            let p = &self.parties[&party];
            (p.profile, p.purpose, p.destination, p.burst, p.attempt)
        };
        let x = self.rng.gen::<f64>();
        let mut reasons: Vec<InterviewReason> = Vec::new();
        let mut flag: Option<VisaFlagReason> = None;
        let mut prior_passport = None;
        let outcome = match profile {
            // The ordinary applicant: 230 deferrals for 30,988 passports (Cilacap 2017).
            Profile::Legal | Profile::Traveller => {
                if x < 0.005 {
                    reasons.push(InterviewReason::IncompleteDocuments);
                    InterviewOutcome::Defer
                } else {
                    InterviewOutcome::Approve
                }
            }
            Profile::Risky => {
                let defer = if burst {
                    0.85
                } else if attempt > 1 {
                    0.5
                } else {
                    0.35
                };
                let outcome = if x < defer {
                    InterviewOutcome::Defer
                } else if x < defer + 0.05 {
                    InterviewOutcome::Reject
                } else {
                    InterviewOutcome::Approve
                };
                let concealed = chance(&mut self.rng, 0.05);
                if outcome != InterviewOutcome::Approve {
                    if concealed {
                        reasons.push(InterviewReason::ConcealedPriorPassport);
                        prior_passport = Some(self.passport_number());
                    }
                    reasons.push(match purpose {
                        DeclaredPurpose::Umrah | DeclaredPurpose::Ziarah => {
                            InterviewReason::MissingTravelOperatorLetter
                        }
                        DeclaredPurpose::Work => InterviewReason::MissingRecommendation,
                        _ => InterviewReason::PurposeMismatch,
                    });
                    reasons.push(InterviewReason::SuspectedNonProcedural);
                }
                let flagged = if outcome == InterviewOutcome::Approve {
                    chance(&mut self.rng, 0.08)
                } else {
                    chance(&mut self.rng, 0.85)
                };
                if flagged {
                    flag = Some(if concealed && outcome != InterviewOutcome::Approve {
                        VisaFlagReason::ConcealedPriorPassport
                    } else if attempt > 1 && chance(&mut self.rng, 0.4) {
                        VisaFlagReason::DuplicateApplication
                    } else {
                        self.flag_reason(purpose, destination)
                    });
                }
                outcome
            }
        };
        let passport = if outcome == InterviewOutcome::Approve {
            Some(self.passport_number())
        } else {
            prior_passport
        };
        let nik = self.parties[&party].members[member].nik.clone();
        let correlation = self.parties[&party].correlation;
        let mut body = json!({
            "nik": nik,
            "outcome": outcome.symbol(),
            "officer_id": officer,
            "occurred_at": time_text(at),
            "correlation_id": correlation,
        });
        if !reasons.is_empty() {
            body["reason_codes"] = json!(reasons.iter().map(|r| r.symbol()).collect::<Vec<_>>());
        }
        if let Some(passport) = passport {
            body["passport_number"] = json!(passport);
        }
        if let Some(reason) = flag {
            body["flag"] = json!({
                "reason": reason.symbol(),
                "visa_type": visa_applied(purpose).symbol(),
                "destination_country": destination,
            });
        }

        let p = self.parties.get_mut(&party).expect("live party");
        p.outcomes[member] = Some(outcome);
        p.interviewed += 1;
        if p.interviewed == p.members.len() {
            self.after_interviews(at, party);
        }
        draft(INTERVIEWS, Agency::Imigrasi, Some(KANIM), body)
    }

    /// Once every member was interviewed: the trip, second attempts, and for a recruiter's
    /// group deferred at the office, a referral to the police.
    fn after_interviews(&mut self, at: i64, party: u32) {
        let p = &self.parties[&party];
        let profile = p.profile;
        let any_approved = p.outcomes.contains(&Some(InterviewOutcome::Approve));
        let turned_down: Vec<usize> = (0..p.members.len())
            .filter(|&i| p.outcomes[i] != Some(InterviewOutcome::Approve))
            .collect();
        if any_approved {
            let (min, max) = match profile {
                Profile::Legal => (21, 60),
                Profile::Traveller => (7, 45),
                Profile::Risky => (3, 21),
            };
            let next = self.checkpoint_after(at, min, max);
            self.schedule(next, Step::Departure { party });
        }
        if profile != Profile::Risky {
            return;
        }
        for &member in &turned_down {
            if chance(&mut self.rng, 0.3) {
                self.second_attempt(at, party, member);
            }
        }
        let p = &self.parties[&party];
        if p.burst && turned_down.len() >= 3 && p.recruiter.is_some() && chance(&mut self.rng, 0.6)
        {
            let niks: Vec<String> = turned_down
                .iter()
                .map(|&i| p.members[i].nik.clone())
                .collect();
            let minors: Vec<String> = turned_down
                .iter()
                .filter(|&&i| p.members[i].minor)
                .map(|&i| p.members[i].nik.clone())
                .collect();
            let recruiter = p.recruiter;
            self.open_case(at, niks, minors, recruiter, false, KANIM);
        }
    }

    /// Office shopping: the same person applies again after the 30-day deferral, sometimes
    /// with another story.
    fn second_attempt(&mut self, at: i64, party: u32, member: usize) {
        let (person, mut purpose, mut destination, recruiter, placement_agency, sponsor) = {
            let p = &self.parties[&party];
            (
                p.members[member].clone(),
                p.purpose,
                p.destination,
                p.recruiter,
                p.placement_agency,
                p.sponsor.clone(),
            )
        };
        if chance(&mut self.rng, 0.5) {
            purpose = weighted(
                &mut self.rng,
                &[
                    (DeclaredPurpose::Tourism, 40),
                    (DeclaredPurpose::Umrah, 25),
                    (DeclaredPurpose::FamilyVisit, 20),
                    (DeclaredPurpose::Ziarah, 15),
                ],
            );
            destination = self.risky_destination(purpose);
        }
        let correlation = random_uuid(&mut self.rng);
        let id = self.next_party;
        self.next_party += 1;
        self.parties.insert(
            id,
            Party {
                profile: Profile::Risky,
                members: vec![person],
                purpose,
                destination,
                recruiter,
                placement_agency,
                sponsor,
                correlation,
                outcomes: vec![None],
                interviewed: 0,
                burst: false,
                attempt: 2,
                ak1_first: false,
                pending: 0,
            },
        );
        let next = self.office_after(at, 31, 60);
        self.schedule(
            next,
            Step::Application {
                party: id,
                member: 0,
            },
        );
    }

    fn passport_number(&mut self) -> String {
        let letter = if chance(&mut self.rng, 0.6) { 'E' } else { 'C' };
        format!("{letter}{:07}", between(&mut self.rng, 0, 9_999_999))
    }

    /// The visa flag reason that fits a declared purpose.
    pub(super) fn flag_reason(
        &mut self,
        purpose: DeclaredPurpose,
        destination: &str,
    ) -> VisaFlagReason {
        match purpose {
            DeclaredPurpose::Umrah | DeclaredPurpose::Ziarah | DeclaredPurpose::Haji => {
                VisaFlagReason::UmrahOrZiarahWithoutTravelOperatorLetter
            }
            DeclaredPurpose::Tourism => {
                if matches!(destination, "SG") || chance(&mut self.rng, 0.2) {
                    VisaFlagReason::CleaningServiceOffer
                } else {
                    VisaFlagReason::TouristVisaToHighRiskDestination
                }
            }
            DeclaredPurpose::FamilyVisit => VisaFlagReason::FamilyVisitWithoutGuarantee,
            DeclaredPurpose::Internship => VisaFlagReason::InternshipWithoutMinistryRecommendation,
            DeclaredPurpose::CulturalAmbassador => VisaFlagReason::CulturalAmbassador,
            DeclaredPurpose::Seaman => VisaFlagReason::SeamanWithoutSeamanBook,
            DeclaredPurpose::Marriage => VisaFlagReason::MarriageArrangedAbroad,
            DeclaredPurpose::Work => VisaFlagReason::PurposeWorkWithoutRecommendation,
            _ => VisaFlagReason::Other,
        }
    }
}

/// The visa that goes with a declared purpose, as applied for.
pub(super) fn visa_applied(purpose: DeclaredPurpose) -> VisaType {
    match purpose {
        DeclaredPurpose::Work => VisaType::None,
        DeclaredPurpose::Umrah => VisaType::Umrah,
        DeclaredPurpose::Haji => VisaType::Haji,
        DeclaredPurpose::Ziarah => VisaType::Ziarah,
        DeclaredPurpose::Tourism => VisaType::Tourist,
        DeclaredPurpose::FamilyVisit | DeclaredPurpose::CulturalAmbassador => VisaType::Visit,
        DeclaredPurpose::Internship => VisaType::Internship,
        DeclaredPurpose::Seaman => VisaType::Seaman,
        DeclaredPurpose::Study => VisaType::Student,
        DeclaredPurpose::Marriage => VisaType::Spouse,
        DeclaredPurpose::Other => VisaType::Other,
    }
}
