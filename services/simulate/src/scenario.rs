//! The simulation engine: a calendar of pending steps (a heap ordered by time, then by the
//! order they were scheduled), fed day by day with new applicants. Every step runs in time
//! order, may schedule later steps, and produces at most one request. All randomness comes
//! from one ChaCha8 stream consumed in that order, so a run is a pure function of the seed
//! and the settings.

use std::cmp::Ordering;
use std::collections::{BinaryHeap, HashMap, HashSet, VecDeque};

use lintas_events::{
    Agency, AvroEnum, BlockReason, DeclaredPurpose, HandedTo, InterviewOutcome, InterviewReason,
    LicenceStatus, ProsecutionStage, RecruiterRole, ReferralReason, VisaFlagReason, VisaType,
};
use rand::{Rng, RngCore, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde_json::{json, Map, Value};
use time::format_description::well_known::Rfc3339;
use time::{Date, OffsetDateTime, UtcOffset};
use uuid::Uuid;

use crate::places::{self, KECAMATAN};
use crate::{Settings, SimRequest};

const MINUTE: i64 = 60;
const HOUR: i64 = 3600;
const DAY: i64 = 86_400;
/// Western Indonesia Time (WIB), UTC+7: Cilacap's clock.
const WIB: i64 = 7 * HOUR;

/// Requests one applicant causes on average, over every profile, in the default mix
/// (measured over long runs; it turns `per_day` into applicants per day).
const REQUESTS_PER_PERSON: f64 = 3.75;
/// Probability that a working day sees a recruiter's group at the immigration office, at the
/// default risky share (it scales with the share).
const BURST_DAY: f64 = 0.08;
pub(crate) const DEFAULT_RISKY_SHARE: f64 = 0.08;
/// Share of minors among the risky profile: 69 child-exploitation cases of 893 by modus
/// (police task force, June to September 2023, in the brief).
const MINOR_SHARE: f64 = 69.0 / 893.0;

const JOBSEEKERS: &str = "/v1/disnaker/jobseekers";
const RECOMMENDATIONS: &str = "/v1/disnaker/passport-recommendations";
const APPLICATIONS: &str = "/v1/imigrasi/passport-applications";
const INTERVIEWS: &str = "/v1/imigrasi/interviews";
const VISA_FLAGS: &str = "/v1/imigrasi/visa-flags";
const DEPARTURE_CHECKS: &str = "/v1/checkpoints/departure-checks";
const GROUP_CHECKS: &str = "/v1/checkpoints/group-checks";
const REFERRALS: &str = "/v1/cases/referrals";
const RECRUITERS: &str = "/v1/cases/recruiters";
const INVESTIGATIONS: &str = "/v1/cases/investigations";
const SPDP: &str = "/v1/cases/spdp";
const STAGES: &str = "/v1/cases/prosecution-stages";

/// Office hint of the immigration office (Kantor Imigrasi) as opposed to its checkpoints.
const KANIM: &str = "KANIM-";
const INVESTIGATING_UNIT: &str = "Satreskrim Unit PPA Polresta Cilacap";
const PROSECUTOR_OFFICE: &str = "KEJARI-CILACAP";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Profile {
    Legal,
    Traveller,
    Risky,
}

#[derive(Debug, Clone)]
struct Person {
    nik: String,
    name: String,
    female: bool,
    birth: Date,
    kec: usize,
    village: &'static str,
    minor: bool,
}

struct Party {
    profile: Profile,
    members: Vec<Person>,
    purpose: DeclaredPurpose,
    destination: &'static str,
    recruiter: Option<usize>,
    placement_agency: Option<(&'static str, Option<&'static str>)>,
    sponsor: Option<String>,
    correlation: Uuid,
    outcomes: Vec<Option<InterviewOutcome>>,
    interviewed: usize,
    /// A recruiter's group brought to the office at once: deferred far more often.
    burst: bool,
    attempt: u8,
    /// A risky applicant who first took a jobseeker card declaring work.
    ak1_first: bool,
    pending: u32,
}

struct Case {
    id: String,
    niks: Vec<String>,
    minor_niks: Vec<String>,
    recruiter: Option<usize>,
    reason: ReferralReason,
    articles: Vec<&'static str>,
    /// Office that referred it: a checkpoint code or the immigration office.
    office: &'static str,
    correlation: Uuid,
    investigation_opened: Option<Date>,
    prosecutor: String,
    pending: u32,
}

struct Recruiter {
    key: String,
    role: RecruiterRole,
    phones: Vec<String>,
    licence: LicenceStatus,
    kec: usize,
    village: &'static str,
    agency_name: &'static str,
    alias: String,
    weight: f64,
    /// (time, NIK) of people linked to them, oldest first.
    linked: VecDeque<(i64, String)>,
}

#[derive(Debug, Clone, Copy)]
enum Step {
    Jobseeker {
        party: u32,
    },
    Recommendation {
        party: u32,
    },
    Application {
        party: u32,
        member: usize,
    },
    Interview {
        party: u32,
        member: usize,
    },
    Departure {
        party: u32,
    },
    CheckpointFlag {
        party: u32,
        member: usize,
        checkpoint: &'static str,
    },
    Referral {
        case: u32,
    },
    RecruiterReport {
        case: u32,
    },
    Investigation {
        case: u32,
    },
    Spdp {
        case: u32,
    },
    Protection {
        case: u32,
    },
    Stage {
        case: u32,
        stage: ProsecutionStage,
    },
}

impl Step {
    fn party(self) -> Option<u32> {
        match self {
            Step::Jobseeker { party }
            | Step::Recommendation { party }
            | Step::Application { party, .. }
            | Step::Interview { party, .. }
            | Step::Departure { party }
            | Step::CheckpointFlag { party, .. } => Some(party),
            _ => None,
        }
    }

    fn case(self) -> Option<u32> {
        match self {
            Step::Referral { case }
            | Step::RecruiterReport { case }
            | Step::Investigation { case }
            | Step::Spdp { case }
            | Step::Protection { case }
            | Step::Stage { case, .. } => Some(case),
            _ => None,
        }
    }
}

struct Pending {
    at: i64,
    seq: u64,
    step: Step,
}

impl PartialEq for Pending {
    fn eq(&self, other: &Self) -> bool {
        (self.at, self.seq) == (other.at, other.seq)
    }
}
impl Eq for Pending {}
impl PartialOrd for Pending {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}
impl Ord for Pending {
    /// Reversed: the heap pops the earliest step, and of equal times the first scheduled.
    fn cmp(&self, other: &Self) -> Ordering {
        (other.at, other.seq).cmp(&(self.at, self.seq))
    }
}

/// One request before it gets its number.
struct Draft {
    path: &'static str,
    agency: Agency,
    hint: Option<&'static str>,
    body: Value,
}

/// The generator: an iterator of requests in event-time order.
pub struct Scenario {
    seed: u64,
    settings: Settings,
    rng: ChaCha8Rng,
    /// Window, in Unix seconds: [start, end).
    start: i64,
    end: i64,
    /// Local (WIB) day numbers since 1970-01-01.
    next_day: i64,
    last_day: i64,
    persons_per_working_day: f64,
    heap: BinaryHeap<Pending>,
    seq: u64,
    emitted: u64,
    parties: HashMap<u32, Party>,
    next_party: u32,
    cases: HashMap<u32, Case>,
    next_case: u32,
    spdp_serial: u32,
    recruiters: Vec<Recruiter>,
    niks: HashSet<String>,
}

impl Scenario {
    pub fn new(seed: u64, settings: Settings) -> Scenario {
        debug_assert!(crate::CHECKPOINTS
            .iter()
            .all(|c| lintas_intake::DEFAULT_CHECKPOINTS
                .split(',')
                .any(|d| d == *c)));
        let end = settings.end.unix_timestamp();
        let start = end - i64::from(settings.days) * DAY;
        let mut scenario = Scenario {
            seed,
            rng: ChaCha8Rng::seed_from_u64(seed),
            start,
            end,
            next_day: local_day(start) - i64::from(settings.warmup_days),
            last_day: local_day(end - 1),
            persons_per_working_day: f64::from(settings.per_day) / REQUESTS_PER_PERSON * 7.0 / 5.0,
            heap: BinaryHeap::new(),
            seq: 0,
            emitted: 0,
            parties: HashMap::new(),
            next_party: 0,
            cases: HashMap::new(),
            next_case: 0,
            spdp_serial: 0,
            recruiters: Vec::new(),
            niks: HashSet::new(),
            settings,
        };
        scenario.recruit();
        scenario
    }

    /// The recruiter pool: 2 + per_day / 10 (at least 3) with Zipf weights, so that one or
    /// two dominate, as in the brief's 2023 Cilacap network (2 recruiters, 165 victims).
    fn recruit(&mut self) {
        let n = (2 + self.settings.per_day / 10).clamp(3, 500);
        for i in 0..n {
            let role = weighted(
                &mut self.rng,
                &[
                    (RecruiterRole::Recruiter, 60),
                    (RecruiterRole::Sponsor, 15),
                    (RecruiterRole::Transporter, 8),
                    (RecruiterRole::ShelterOperator, 6),
                    (RecruiterRole::UnlicensedTrainingCentre, 6),
                    (RecruiterRole::Broker, 5),
                ],
            );
            let phones = (0..between(&mut self.rng, 1, 3))
                .map(|_| phone(&mut self.rng))
                .collect();
            let licence = weighted(
                &mut self.rng,
                &[
                    (LicenceStatus::Unlicensed, 60),
                    (LicenceStatus::Revoked, 15),
                    (LicenceStatus::Unknown, 25),
                ],
            );
            let kec = self.kecamatan();
            let village = *pick(&mut self.rng, KECAMATAN[kec].villages);
            let agency_name = *pick(&mut self.rng, places::UNLICENSED_AGENCIES);
            let alias = if chance(&mut self.rng, 0.7) {
                format!("Pak {}", pick(&mut self.rng, places::MALE_FIRST))
            } else {
                format!("Bu {}", pick(&mut self.rng, places::FEMALE_FIRST))
            };
            self.recruiters.push(Recruiter {
                key: format!("rk-sim{}-{:03}", self.seed, i + 1),
                role,
                phones,
                licence,
                kec,
                village,
                agency_name,
                alias,
                weight: 1.0 / f64::from(i + 1),
                linked: VecDeque::new(),
            });
        }
    }

    fn kecamatan(&mut self) -> usize {
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

    fn schedule(&mut self, at: i64, step: Step) {
        if let Some(p) = step.party() {
            self.parties.get_mut(&p).expect("live party").pending += 1;
        }
        if let Some(c) = step.case() {
            self.cases.get_mut(&c).expect("live case").pending += 1;
        }
        self.seq += 1;
        self.heap.push(Pending {
            at,
            seq: self.seq,
            step,
        });
    }

    // ---- time ----

    /// A time in office hours (08:00 to 15:00 WIB) on `day`, or the next working day.
    fn office_time(&mut self, day: i64) -> i64 {
        let day = working_day(day);
        day_start(day) + 8 * HOUR + between(&mut self.rng, 0, 7 * 60 - 1) * MINUTE
    }

    /// Office hours `min..=max` days after `t`, and always after `t`.
    fn office_after(&mut self, t: i64, min: i64, max: i64) -> i64 {
        let day = local_day(t) + between(&mut self.rng, min, max);
        let candidate = self.office_time(day);
        if candidate > t {
            candidate
        } else {
            t + between(&mut self.rng, 10, 90) * MINUTE
        }
    }

    /// A departure time (05:00 to 23:00 WIB) `min..=max` days after `t`.
    fn checkpoint_after(&mut self, t: i64, min: i64, max: i64) -> i64 {
        let day = local_day(t) + between(&mut self.rng, min, max);
        let candidate = day_start(day) + 5 * HOUR + between(&mut self.rng, 0, 18 * 60 - 1) * MINUTE;
        if candidate > t {
            candidate
        } else {
            t + between(&mut self.rng, 30, 180) * MINUTE
        }
    }

    // ---- arrivals ----

    /// New applicants of one day. Offices are closed at weekends.
    fn arrivals(&mut self, day: i64) {
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
        let correlation = self.uuid();
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
    fn risky_destination(&mut self, purpose: DeclaredPurpose) -> &'static str {
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

    fn pick_recruiter(&mut self) -> usize {
        let weights: Vec<(usize, f64)> = self
            .recruiters
            .iter()
            .enumerate()
            .map(|(i, r)| (i, r.weight))
            .collect();
        weighted_f(&mut self.rng, &weights)
    }

    #[allow(clippy::too_many_arguments)]
    fn person(
        &mut self,
        female: bool,
        minor: bool,
        min_age: i64,
        max_age: i64,
        kec: usize,
        village: &'static str,
        day: i64,
    ) -> Person {
        // In days: minors are 15 to 17, adults at least `min_age` (366-day years keep them
        // on the right side of their birthday).
        let age = if minor {
            between(&mut self.rng, 15 * 366, 18 * 365 - 10)
        } else {
            between(&mut self.rng, min_age * 366, max_age * 365 + 300)
        };
        let birth = date_of_day(day - age);
        // The rules decide childhood with the one calendar helper, on the local (WIB) day;
        // the generator's day counts must agree with it, 29 February births included.
        debug_assert_eq!(
            lintas_events::calendar::is_child(birth, date_of_day(day)),
            minor,
            "born {birth}, registered on {}",
            date_of_day(day)
        );
        let nik = loop {
            let serial = between(&mut self.rng, 1, 9999);
            let nik = format!(
                "3301{:02}{:02}{:02}{:02}{:04}",
                KECAMATAN[kec].code,
                birth.day() + if female { 40 } else { 0 },
                birth.month() as u8,
                birth.year().rem_euclid(100),
                serial
            );
            if self.niks.insert(nik.clone()) {
                break nik;
            }
        };
        let name = if female {
            (places::FEMALE_FIRST, places::FEMALE_SECOND)
        } else {
            (places::MALE_FIRST, places::MALE_SECOND)
        };
        let first = *pick(&mut self.rng, name.0);
        let name = if chance(&mut self.rng, 0.15) {
            first.to_string()
        } else {
            format!("{first} {}", pick(&mut self.rng, name.1))
        };
        Person {
            nik,
            name,
            female,
            birth,
            kec,
            village,
            minor,
        }
    }

    fn uuid(&mut self) -> Uuid {
        let mut bytes = [0u8; 16];
        self.rng.fill_bytes(&mut bytes);
        uuid::Builder::from_random_bytes(bytes).into_uuid()
    }

    fn officer(&mut self, prefix: &str, pool: usize) -> String {
        format!("{prefix}-{:02}", below(&mut self.rng, pool) + 1)
    }

    // ---- steps ----

    fn run(&mut self, pending: Pending) -> Draft {
        let Pending { at, step, .. } = pending;
        let draft = match step {
            Step::Jobseeker { party } => self.jobseeker(at, party),
            Step::Recommendation { party } => self.recommendation(at, party),
            Step::Application { party, member } => self.application(at, party, member),
            Step::Interview { party, member } => self.interview(at, party, member),
            Step::Departure { party } => self.departure(at, party),
            Step::CheckpointFlag {
                party,
                member,
                checkpoint,
            } => self.checkpoint_flag(at, party, member, checkpoint),
            Step::Referral { case } => self.referral(at, case),
            Step::RecruiterReport { case } => self.recruiter_report(at, case),
            Step::Investigation { case } => self.investigation(at, case),
            Step::Spdp { case } => self.spdp(at, case),
            Step::Protection { case } => self.protection(at, case),
            Step::Stage { case, stage } => self.stage(at, case, stage),
        };
        if let Some(p) = step.party() {
            let party = self.parties.get_mut(&p).expect("live party");
            party.pending -= 1;
            if party.pending == 0 {
                self.parties.remove(&p);
            }
        }
        if let Some(c) = step.case() {
            let case = self.cases.get_mut(&c).expect("live case");
            case.pending -= 1;
            if case.pending == 0 {
                self.cases.remove(&c);
            }
        }
        draft
    }

    fn applicant_body(&self, at: i64, party: u32, member: usize, officer: String) -> Value {
        let p = &self.parties[&party];
        let person = &p.members[member];
        let purpose = p.purpose;
        let mut body = json!({
            "nik": person.nik,
            "full_name": person.name,
            "sex": if person.female { "female" } else { "male" },
            "birth_date": date_text(person.birth),
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

    fn jobseeker(&mut self, at: i64, party: u32) -> Draft {
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

    fn recommendation(&mut self, at: i64, party: u32) -> Draft {
        let officer = self.officer("dsn", 6);
        let mut body = self.applicant_body(at, party, 0, officer);
        body["identity_document_checked"] = json!(true);
        let next = self.office_after(at, 1, 7);
        self.schedule(next, Step::Application { party, member: 0 });
        draft(RECOMMENDATIONS, Agency::Disnaker, None, body)
    }

    fn application(&mut self, at: i64, party: u32, member: usize) -> Draft {
        let officer = self.officer("kanim", 12);
        let body = self.applicant_body(at, party, member, officer);
        let next = at + between(&mut self.rng, 20, 90) * MINUTE;
        self.schedule(next, Step::Interview { party, member });
        draft(APPLICATIONS, Agency::Imigrasi, Some(KANIM), body)
    }

    fn interview(&mut self, at: i64, party: u32, member: usize) -> Draft {
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
        let correlation = self.uuid();
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
    fn flag_reason(&mut self, purpose: DeclaredPurpose, destination: &str) -> VisaFlagReason {
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

    fn departure(&mut self, at: i64, party: u32) -> Draft {
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
            body["group_id"] = json!(self.uuid());
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

    fn checkpoint_flag(
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

    // ---- cases ----

    fn open_case(
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
        let correlation = self.uuid();
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

    fn referral(&mut self, at: i64, case: u32) -> Draft {
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

    fn recruiter_report(&mut self, at: i64, case: u32) -> Draft {
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

    fn investigation(&mut self, at: i64, case: u32) -> Draft {
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

    fn spdp(&mut self, at: i64, case: u32) -> Draft {
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
    fn protection(&mut self, at: i64, case: u32) -> Draft {
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
    fn stage(&mut self, at: i64, case: u32, stage: ProsecutionStage) -> Draft {
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

impl Iterator for Scenario {
    type Item = SimRequest;

    fn next(&mut self) -> Option<SimRequest> {
        loop {
            let head = self.heap.peek().map(|p| p.at);
            if self.next_day <= self.last_day
                && head.is_none_or(|at| at >= day_start(self.next_day))
            {
                let day = self.next_day;
                self.next_day += 1;
                self.arrivals(day);
                continue;
            }
            let pending = self.heap.pop()?;
            if pending.at >= self.end {
                // Everything left is later still, and every day has had its arrivals.
                self.heap.clear();
                return None;
            }
            let at = pending.at;
            let draft = self.run(pending);
            if at < self.start {
                continue;
            }
            self.emitted += 1;
            return Some(SimRequest {
                path: draft.path,
                agency: draft.agency,
                office_hint: draft.hint,
                body: draft.body,
                idempotency_key: format!("sim-{}-{}", self.seed, self.emitted),
                at: OffsetDateTime::from_unix_timestamp(at)
                    .expect("in range")
                    .to_offset(wib()),
            });
        }
    }
}

fn draft(path: &'static str, agency: Agency, hint: Option<&'static str>, body: Value) -> Draft {
    Draft {
        path,
        agency,
        hint,
        body,
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

/// The visa that goes with a declared purpose, as applied for.
fn visa_applied(purpose: DeclaredPurpose) -> VisaType {
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

/// The visa shown at the checkpoint: a legal worker's work visa; someone going to work
/// without one shows a tourist visa.
fn visa_shown(profile: Profile, purpose: DeclaredPurpose) -> VisaType {
    match (profile, purpose) {
        (Profile::Legal, _) => VisaType::Work,
        (_, DeclaredPurpose::Work) => VisaType::Tourist,
        _ => visa_applied(purpose),
    }
}

fn phone(rng: &mut ChaCha8Rng) -> String {
    let operator = *pick(
        rng,
        &[
            "11", "12", "13", "21", "22", "52", "53", "57", "77", "78", "95",
        ],
    );
    let number = between(rng, 10_000_000, 99_999_999);
    if chance(rng, 0.6) {
        format!("+628{operator}{number}")
    } else {
        format!("08{operator}{number}")
    }
}

fn roman(month: u8) -> &'static str {
    [
        "I", "II", "III", "IV", "V", "VI", "VII", "VIII", "IX", "X", "XI", "XII",
    ][usize::from(month - 1)]
}

// ---- time ----

fn wib() -> UtcOffset {
    UtcOffset::from_whole_seconds(WIB as i32).expect("valid offset")
}

/// Local (WIB) day number since 1970-01-01.
fn local_day(t: i64) -> i64 {
    (t + WIB).div_euclid(DAY)
}

fn day_start(day: i64) -> i64 {
    day * DAY - WIB
}

/// 0 = Monday ... 6 = Sunday (1970-01-01 was a Thursday).
fn weekday(day: i64) -> i64 {
    (day + 3).rem_euclid(7)
}

/// The day itself, or the Monday after a weekend.
fn working_day(day: i64) -> i64 {
    match weekday(day) {
        5 => day + 2,
        6 => day + 1,
        _ => day,
    }
}

fn date_of_day(day: i64) -> Date {
    Date::from_julian_day((day + 2_440_588) as i32).expect("date in range")
}

fn date_text(date: Date) -> String {
    format!(
        "{:04}-{:02}-{:02}",
        date.year(),
        date.month() as u8,
        date.day()
    )
}

fn time_text(t: i64) -> String {
    OffsetDateTime::from_unix_timestamp(t)
        .expect("in range")
        .to_offset(wib())
        .format(&Rfc3339)
        .expect("formattable")
}

// ---- randomness: only the seeded stream, in platform-independent widths ----

fn chance(rng: &mut ChaCha8Rng, p: f64) -> bool {
    rng.gen::<f64>() < p
}

fn between(rng: &mut ChaCha8Rng, lo: i64, hi: i64) -> i64 {
    rng.gen_range(lo..=hi)
}

fn below(rng: &mut ChaCha8Rng, n: usize) -> usize {
    rng.gen_range(0..n as u32) as usize
}

fn pick<'a, T>(rng: &mut ChaCha8Rng, items: &'a [T]) -> &'a T {
    &items[below(rng, items.len())]
}

fn weighted<T: Copy>(rng: &mut ChaCha8Rng, items: &[(T, u32)]) -> T {
    let total: u32 = items.iter().map(|(_, w)| w).sum();
    let mut x = rng.gen_range(0..total);
    for (item, w) in items {
        if x < *w {
            return *item;
        }
        x -= w;
    }
    unreachable!("weights add up")
}

fn weighted_f<T: Copy>(rng: &mut ChaCha8Rng, items: &[(T, f64)]) -> T {
    let total: f64 = items.iter().map(|(_, w)| w).sum();
    let mut x = rng.gen::<f64>() * total;
    for (item, w) in items {
        if x < *w {
            return *item;
        }
        x -= w;
    }
    items.last().expect("not empty").0
}
