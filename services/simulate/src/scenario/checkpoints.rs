//! Departure checks at the checkpoints (airports and the port of Cilacap): a party that was
//! approved travels together, checked one by one or as a group; the risky ones are often
//! blocked, flagged, and referred to the police.

use lintas_events::{
    Agency, AvroEnum, BlockReason, DeclaredPurpose, HandedTo, InterviewOutcome, VisaType,
};
use serde_json::{json, Map, Value};

use super::calendar::Step;
use super::clock::{date_of_day, local_day, time_text, MINUTE};
use super::population::Profile;
use super::random::{between, chance, pick, random_uuid, weighted};
use super::requests::{draft, Draft, DEPARTURE_CHECKS, GROUP_CHECKS, VISA_FLAGS};
use super::screening::visa_applied;
use super::Scenario;
use crate::places;

impl Scenario {
    fn checkpoint(&mut self, purpose: DeclaredPurpose, destination: &str) -> &'static str {
        if purpose == DeclaredPurpose::Seaman && chance(&mut self.rng, 0.4) {
            return "TPI-CLP";
        }
        let chosen = weighted(
            &mut self.rng,
            &[("TPI-CGK", 72), ("TPI-YIA", 17), ("TPI-SUB", 11)],
        );
        if chosen != "TPI-CGK" && !matches!(destination, "MY" | "SG" | "SA") {
            "TPI-CGK"
        } else {
            chosen
        }
    }

    pub(super) fn departure(&mut self, at: i64, party: u32) -> Draft {
        let (profile, purpose, destination, recruiter, correlation) = {
            let p = &self.parties[&party];
            (
                p.profile,
                p.purpose,
                p.destination,
                p.recruiter,
                p.correlation,
            )
        };
        let travellers: Vec<usize> = {
            let p = &self.parties[&party];
            (0..p.members.len())
                .filter(|&i| p.outcomes[i] == Some(InterviewOutcome::Approve))
                .collect()
        };
        let checkpoint = self.checkpoint(purpose, destination);
        let (carrier, flight, transit): (&str, &str, &[&str]) = if checkpoint == "TPI-CLP" {
            let (carrier, vessel) = *pick(&mut self.rng, places::VESSELS);
            (carrier, vessel, &[])
        } else {
            let route = pick(&mut self.rng, places::routes(destination));
            (route.carrier, route.flight, route.transit)
        };
        let visa = visa_shown(profile, purpose);
        let officer_prefix = format!("tpi-{}", checkpoint[4..].to_lowercase());
        let officer = self.officer(&officer_prefix, 20);

        let spotted = chance(&mut self.rng, 0.75);
        let mut people = Vec::new();
        let mut blocked = Vec::new();
        let mut trafficking = false;
        for &member in &travellers {
            let person = self.parties[&party].members[member].clone();
            let mut entry = Map::new();
            entry.insert("nik".into(), json!(person.nik));
            let is_blocked = match profile {
                Profile::Risky if person.minor => chance(&mut self.rng, 0.95),
                Profile::Risky => spotted && chance(&mut self.rng, 0.92),
                _ => chance(&mut self.rng, 0.003),
            };
            if is_blocked {
                let reason = if profile != Profile::Risky {
                    BlockReason::IncompleteDocuments
                } else if person.minor {
                    BlockReason::MinorWithoutGuardian
                } else {
                    weighted(
                        &mut self.rng,
                        &[
                            (BlockReason::SuspectedNonProceduralWorker, 70),
                            (BlockReason::SuspectedTraffickingVictim, 10),
                            (BlockReason::VisaPurposeMismatch, 8),
                            (BlockReason::NoPlacementAgreement, 5),
                            (BlockReason::IncompleteDocuments, 4),
                            (BlockReason::ForgedDocuments, 3),
                        ],
                    )
                };
                let refused = reason == BlockReason::ForgedDocuments
                    || (profile == Profile::Risky && chance(&mut self.rng, 0.1));
                let handed = match reason {
                    BlockReason::SuspectedTraffickingVictim | BlockReason::ForgedDocuments => {
                        HandedTo::AirportPolice
                    }
                    BlockReason::MinorWithoutGuardian => HandedTo::SocialServices,
                    _ if profile != Profile::Risky => HandedTo::Family,
                    _ => weighted(
                        &mut self.rng,
                        &[
                            (HandedTo::Bp3miShelter, 65),
                            (HandedTo::Family, 20),
                            (HandedTo::AirportPolice, 15),
                        ],
                    ),
                };
                let return_ticket = if profile == Profile::Risky {
                    chance(&mut self.rng, 0.2)
                } else {
                    true
                };
                trafficking |= reason == BlockReason::SuspectedTraffickingVictim;
                entry.insert(
                    "decision".into(),
                    json!(if refused { "refused" } else { "deferred" }),
                );
                entry.insert("reason".into(), json!(reason.symbol()));
                entry.insert("handed_to".into(), json!(handed.symbol()));
                entry.insert("return_ticket".into(), json!(return_ticket));
                blocked.push(member);
            } else {
                entry.insert("decision".into(), json!("cleared"));
                if profile == Profile::Legal {
                    let year = date_of_day(local_day(at)).year();
                    let id = format!("EPMI-{year}-{:06}", between(&mut self.rng, 1, 999_999));
                    entry.insert("epmi_id".into(), json!(id));
                }
            }
            people.push(Value::Object(entry));
        }

        let mut body = json!({
            "checkpoint_code": checkpoint,
            "carrier": carrier,
            "flight_or_vessel": flight,
            "destination_country": destination,
            "visa_shown": visa.symbol(),
            "officer_id": officer,
            "occurred_at": time_text(at),
            "correlation_id": correlation,
        });
        if !transit.is_empty() {
            body["transit_points"] = json!(transit);
        }
        let path = if people.len() == 1 {
            let Some(Value::Object(person)) = people.pop() else {
                unreachable!("one traveller")
            };
            for (k, v) in person {
                body[k] = v;
            }
            DEPARTURE_CHECKS
        } else {
            body["group_id"] = json!(random_uuid(&mut self.rng));
            body["travellers"] = Value::Array(people);
            GROUP_CHECKS
        };

        if profile == Profile::Risky && !blocked.is_empty() {
            for &member in &blocked {
                if chance(&mut self.rng, 0.4) {
                    let next = at + between(&mut self.rng, 3, 20) * MINUTE;
                    self.schedule(
                        next,
                        Step::CheckpointFlag {
                            party,
                            member,
                            checkpoint,
                        },
                    );
                }
            }
            let p = &self.parties[&party];
            let niks: Vec<String> = blocked.iter().map(|&i| p.members[i].nik.clone()).collect();
            let minors: Vec<String> = blocked
                .iter()
                .filter(|&&i| p.members[i].minor)
                .map(|&i| p.members[i].nik.clone())
                .collect();
            let refer = if trafficking || !minors.is_empty() {
                1.0
            } else if recruiter.is_some() {
                0.7
            } else {
                0.25
            };
            if chance(&mut self.rng, refer) {
                self.open_case(at, niks, minors, recruiter, trafficking, checkpoint);
            }
        }
        draft(path, Agency::Imigrasi, Some(checkpoint), body)
    }

    pub(super) fn checkpoint_flag(
        &mut self,
        at: i64,
        party: u32,
        member: usize,
        checkpoint: &'static str,
    ) -> Draft {
        let (nik, purpose, destination, correlation, profile) = {
            let p = &self.parties[&party];
            (
                p.members[member].nik.clone(),
                p.purpose,
                p.destination,
                p.correlation,
                p.profile,
            )
        };
        let reason = self.flag_reason(purpose, destination);
        let officer = self.officer(&format!("tpi-{}", checkpoint[4..].to_lowercase()), 20);
        let body = json!({
            "nik": nik,
            "reason": reason.symbol(),
            "stage": "checkpoint",
            "visa_type": visa_shown(profile, purpose).symbol(),
            "destination_country": destination,
            "officer_id": officer,
            "occurred_at": time_text(at),
            "correlation_id": correlation,
        });
        draft(VISA_FLAGS, Agency::Imigrasi, Some(checkpoint), body)
    }
}

/// The visa shown at the checkpoint: a legal worker's work visa; someone going to work
/// without one shows a tourist visa.
fn visa_shown(profile: Profile, purpose: DeclaredPurpose) -> VisaType {
    match (profile, purpose) {
        (Profile::Legal, _) => VisaType::Work,
        (_, DeclaredPurpose::Work) => VisaType::Tourist,
        _ => visa_applied(purpose),
    }
}
