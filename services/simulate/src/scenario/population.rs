//! Who applies: every working day brings new applicants (Monday to Friday, since the
//! offices are closed at weekends) in three profiles (legal workers, ordinary travellers and
//! the risky, non-procedural profile), alone or in parties with one purpose, destination and
//! correlation id. The shares and sizes are documented, with their sources, in the crate
//! documentation.

use lintas_events::{DeclaredPurpose, InterviewOutcome};
use rand::Rng;
use uuid::Uuid;

use super::calendar::Step;
use super::clock::{weekday, MINUTE};
use super::persons::Person;
use super::random::{below, between, chance, pick, random_uuid, weighted, weighted_f};
use super::Scenario;
use crate::places::{self, KECAMATAN};

/// Probability that a working day sees a recruiter's group at the immigration office, at the
/// default risky share (it scales with the share).
const BURST_DAY: f64 = 0.08;
/// The default of [`crate::Settings::risky_share`]: an oversample, see the crate documentation.
pub(crate) const DEFAULT_RISKY_SHARE: f64 = 0.08;
/// Share of minors among the risky profile: 69 child-exploitation cases of 893 by modus
/// (police task force, June to September 2023, in the brief).
const MINOR_SHARE: f64 = 69.0 / 893.0;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Profile {
    Legal,
    Traveller,
    Risky,
}

pub(super) struct Party {
    pub(super) profile: Profile,
    pub(super) members: Vec<Person>,
    pub(super) purpose: DeclaredPurpose,
    pub(super) destination: &'static str,
    pub(super) recruiter: Option<usize>,
    pub(super) placement_agency: Option<(&'static str, Option<&'static str>)>,
    pub(super) sponsor: Option<String>,
    pub(super) correlation: Uuid,
    pub(super) outcomes: Vec<Option<InterviewOutcome>>,
    pub(super) interviewed: usize,
    /// A recruiter's group brought to the office at once: deferred far more often.
    pub(super) burst: bool,
    pub(super) attempt: u8,
    /// A risky applicant who first took a jobseeker card declaring work.
    pub(super) ak1_first: bool,
    pub(super) pending: u32,
}

impl Scenario {
    pub(super) fn kecamatan(&mut self) -> usize {
        let total: u32 = KECAMATAN.iter().map(|k| k.weight).sum();
        let mut x = self.rng.gen_range(0..total);
        for (i, k) in KECAMATAN.iter().enumerate() {
            if x < k.weight {
                return i;
            }
            x -= k.weight;
        }
        unreachable!("weights add up")
    }

    /// New applicants of one day. Offices are closed at weekends.
    pub(super) fn arrivals(&mut self, day: i64) {
        if weekday(day) >= 5 {
            return;
        }
        let mean = self.persons_per_working_day;
        let target = (mean * (0.75 + 0.5 * self.rng.gen::<f64>()) + self.rng.gen::<f64>()) as u32;
        let risky = self.settings.risky_share.clamp(0.0, 1.0);
        // Person shares divided by mean party sizes (1, 2.0, 2.8) give party shares.
        let weights = [
            (Profile::Legal, (1.0 - risky) / 3.0),
            (Profile::Traveller, (1.0 - risky) * 2.0 / 3.0 / 2.0),
            (Profile::Risky, risky / 2.8),
        ];
        let mut persons = 0;
        while persons < target {
            let profile = weighted_f(&mut self.rng, &weights);
            let size = match profile {
                Profile::Legal => 1,
                Profile::Traveller => match below(&mut self.rng, 4) {
                    0 | 1 => 1,
                    2 => 2,
                    _ => between(&mut self.rng, 3, 5) as usize,
                },
                Profile::Risky => {
                    if chance(&mut self.rng, 0.4) {
                        1
                    } else {
                        between(&mut self.rng, 2, 6) as usize
                    }
                }
            };
            self.new_party(profile, size, day, false);
            persons += size as u32;
        }
        let burst = (BURST_DAY * risky / DEFAULT_RISKY_SHARE).min(1.0);
        if self.settings.per_day > 0 && chance(&mut self.rng, burst) {
            let size = between(&mut self.rng, 5, 8) as usize;
            self.new_party(Profile::Risky, size, day, true);
        }
    }

    fn new_party(&mut self, profile: Profile, size: usize, day: i64, burst: bool) {
        let (purpose, destination) = match profile {
            Profile::Legal => (
                DeclaredPurpose::Work,
                weighted(
                    &mut self.rng,
                    &[
                        ("TW", 30),
                        ("HK", 25),
                        ("MY", 15),
                        ("SG", 10),
                        ("KR", 10),
                        ("JP", 10),
                    ],
                ),
            ),
            Profile::Traveller => {
                let purpose = weighted(
                    &mut self.rng,
                    &[
                        (DeclaredPurpose::Umrah, 45),
                        (DeclaredPurpose::Tourism, 30),
                        (DeclaredPurpose::FamilyVisit, 10),
                        (DeclaredPurpose::Study, 7),
                        (DeclaredPurpose::Ziarah, 5),
                        (DeclaredPurpose::Haji, 3),
                    ],
                );
                let destination = match purpose {
                    DeclaredPurpose::Tourism => weighted(
                        &mut self.rng,
                        &[("MY", 30), ("SG", 30), ("TH", 15), ("JP", 15), ("KR", 10)],
                    ),
                    DeclaredPurpose::FamilyVisit => weighted(
                        &mut self.rng,
                        &[("HK", 30), ("TW", 30), ("MY", 25), ("SG", 15)],
                    ),
                    DeclaredPurpose::Study => weighted(&mut self.rng, &[("MY", 60), ("JP", 40)]),
                    _ => "SA",
                };
                (purpose, destination)
            }
            Profile::Risky => {
                let purpose = weighted(
                    &mut self.rng,
                    &[
                        (DeclaredPurpose::Tourism, 30),
                        (DeclaredPurpose::Umrah, 16),
                        (DeclaredPurpose::FamilyVisit, 12),
                        (DeclaredPurpose::Internship, 10),
                        (DeclaredPurpose::Work, 9),
                        (DeclaredPurpose::Ziarah, 8),
                        (DeclaredPurpose::Seaman, 6),
                        (DeclaredPurpose::CulturalAmbassador, 5),
                        (DeclaredPurpose::Marriage, 4),
                    ],
                );
                (purpose, self.risky_destination(purpose))
            }
        };
        let recruiter = (profile == Profile::Risky && (burst || chance(&mut self.rng, 0.85)))
            .then(|| self.pick_recruiter());
        // Parties come from one village; a recruiter works mostly around home.
        let kec = match recruiter {
            Some(r) if chance(&mut self.rng, 0.6) => self.recruiters[r].kec,
            _ => self.kecamatan(),
        };
        let village = *pick(&mut self.rng, KECAMATAN[kec].villages);
        let female_share = female_share(profile, purpose);
        let (min_age, max_age) = match (profile, purpose) {
            (Profile::Legal, _) => (19, 40),
            (
                Profile::Traveller,
                DeclaredPurpose::Umrah | DeclaredPurpose::Ziarah | DeclaredPurpose::Haji,
            ) => (25, 68),
            (Profile::Traveller, _) => (20, 55),
            (Profile::Risky, _) => (18, 42),
        };
        let mut members = Vec::with_capacity(size);
        for _ in 0..size {
            let female = chance(&mut self.rng, female_share);
            let minor = profile == Profile::Risky && chance(&mut self.rng, MINOR_SHARE);
            let village = if chance(&mut self.rng, 0.7) {
                village
            } else {
                *pick(&mut self.rng, KECAMATAN[kec].villages)
            };
            members.push(self.person(female, minor, min_age, max_age, kec, village, day));
        }
        let placement_agency = match profile {
            Profile::Legal => {
                let (name, licence) = *pick(&mut self.rng, places::LICENSED_AGENCIES);
                Some((name, Some(licence)))
            }
            Profile::Risky if chance(&mut self.rng, 0.35) => Some((
                match recruiter {
                    Some(r) => self.recruiters[r].agency_name,
                    None => *pick(&mut self.rng, places::UNLICENSED_AGENCIES),
                },
                None,
            )),
            _ => None,
        };
        let sponsor = match recruiter {
            Some(r) if chance(&mut self.rng, 0.5) => Some(self.recruiters[r].alias.clone()),
            _ => None,
        };
        let ak1_first = profile == Profile::Risky && size == 1 && chance(&mut self.rng, 0.1);
        let correlation = random_uuid(&mut self.rng);
        let id = self.next_party;
        self.next_party += 1;
        self.parties.insert(
            id,
            Party {
                profile,
                outcomes: vec![None; members.len()],
                members,
                purpose,
                destination,
                recruiter,
                placement_agency,
                sponsor,
                correlation,
                interviewed: 0,
                burst,
                attempt: 1,
                ak1_first,
                pending: 0,
            },
        );
        let t0 = self.office_time(day);
        if profile == Profile::Legal || ak1_first {
            self.schedule(t0, Step::Jobseeker { party: id });
        } else {
            self.apply_all(id, t0);
        }
    }

    /// Every member of a party files a passport application, one after the other.
    fn apply_all(&mut self, party: u32, t0: i64) {
        let mut t = t0;
        for member in 0..self.parties[&party].members.len() {
            self.schedule(t, Step::Application { party, member });
            t += between(&mut self.rng, 3, 12) * MINUTE;
        }
    }

    /// Destinations of the risky profile: the brief's 2025 top destinations of people
    /// stopped (MY, KH, SG, TH, AE, in that order overall) and SA for pilgrimage.
    pub(super) fn risky_destination(&mut self, purpose: DeclaredPurpose) -> &'static str {
        let table: &[(&'static str, u32)] = match purpose {
            DeclaredPurpose::Tourism => &[("KH", 55), ("TH", 25), ("MY", 10), ("SG", 10)],
            DeclaredPurpose::FamilyVisit => &[("MY", 60), ("SG", 25), ("AE", 15)],
            DeclaredPurpose::Internship => &[("MY", 50), ("TH", 30), ("SG", 20)],
            DeclaredPurpose::CulturalAmbassador => &[("AE", 60), ("MY", 40)],
            DeclaredPurpose::Seaman => &[("SG", 40), ("MY", 30), ("TH", 30)],
            DeclaredPurpose::Marriage => &[("MY", 70), ("SG", 30)],
            DeclaredPurpose::Work => &[("MY", 50), ("AE", 30), ("SG", 20)],
            _ => &[("SA", 1)],
        };
        weighted(&mut self.rng, table)
    }
}

/// Share of women by profile and declared purpose (see the crate documentation).
fn female_share(profile: Profile, purpose: DeclaredPurpose) -> f64 {
    match profile {
        Profile::Legal => 0.65,
        Profile::Traveller => 0.55,
        Profile::Risky => match purpose {
            DeclaredPurpose::Umrah
            | DeclaredPurpose::Ziarah
            | DeclaredPurpose::Haji
            | DeclaredPurpose::FamilyVisit
            | DeclaredPurpose::Marriage
            | DeclaredPurpose::CulturalAmbassador => 0.85,
            DeclaredPurpose::Tourism => 0.45,
            DeclaredPurpose::Seaman => 0.05,
            DeclaredPurpose::Internship => 0.5,
            DeclaredPurpose::Work => 0.6,
            _ => 0.5,
        },
    }
}
