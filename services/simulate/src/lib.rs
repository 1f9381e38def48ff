//! Synthetic feed for Lintas: a deterministic model of one regency (Kabupaten Cilacap) that
//! produces the requests its agencies would send to the intakes, in event-time order.
//!
//! [`Scenario::new`]`(seed, settings)` is an iterator of [`SimRequest`]s: the path, the agency
//! whose token sends it, a hint for the office, the JSON body, an idempotency key
//! `sim-{seed}-{n}` and the event time. Randomness comes only from
//! `ChaCha8Rng::seed_from_u64(seed)` and the only clock is [`Settings::end`], passed in by
//! the caller: the same seed and settings give a byte-identical sequence, so a replay against
//! the same intake publishes nothing new (the intake derives event ids from office and key).
//! `lintas simulate` sends it over HTTP ([`send`]).
//!
//! # The model
//!
//! Figures marked *brief* come from `shared/domain.md` ("Volumes for realistic synthetic
//! data"); those marked *assumption* are ours, documented here so that they can be argued
//! with. The default over-represents the risky profile so that a few simulated days exercise
//! every alert rule; [`Settings::risky_share`] sets it.
//!
//! ## Volume
//! - Cilacap issued 30,988 passports in 2017 (*brief*), about 85 a working day, and sees
//!   5,000 to 11,500 legal departures a year (*brief*). The brief asks for "tens of events a
//!   day for one regency": [`Settings::per_day`] (default 40) is the average number of requests
//!   per simulated day, a sample of about a third of the real regency; any value scales it
//!   (a national replay is per_day in the tens of thousands).
//! - Offices (Disnaker, the immigration office, police, prosecutor) work Monday to Friday,
//!   08:00 to 15:00 WIB; checkpoints work every day, 05:00 to 23:00.
//! - The simulation starts [`Settings::warmup_days`] (120) before the window and publishes
//!   only what happens in the window, so the first simulated day already has departures and
//!   cases in progress, as a real feed joined mid-stream would.
//!
//! ## Who applies
//! - Legal workers: about a third of applicants (*brief*: 5,000 to 11,500 legal departures
//!   against 30,988 passports, 16 % to 37 %). Each gets a Disnaker jobseeker card (AK-1), a
//!   Disnaker passport recommendation, a passport application at Kanim Cilacap, an
//!   interview (approved 99.5 %) and a cleared departure with an e-PMI id, through a
//!   licensed placement agency. Destinations (*assumption*, not in the brief): Taiwan, Hong
//!   Kong, Malaysia, Singapore, Korea, Japan.
//! - Ordinary travellers: the rest of the legitimate applicants: umrah (45 %), tourism,
//!   family visits, study, ziarah, haji; alone or in family groups of 2 to 5; interviews
//!   approve 99.5 %.
//! - The risky (non-procedural) profile: [`Settings::risky_share`] of applicants (default 8 %).
//!   The real share is near 1 %: Cilacap deferred 230 of 30,988 passports in 2017 (0.74 %,
//!   *brief*), while with the default about 7 % of interviews end in a deferral or a
//!   rejection and about 4.5 % of the people checked at a checkpoint are blocked: an
//!   oversample, on purpose (a share of 0.01 gives about 1 % of interviews turned down). They declare umrah, ziarah,
//!   tourism, family visit, internship, cultural ambassador, seaman, marriage or work
//!   without a recommendation, alone or in groups of 2 to 6, and destinations follow the
//!   brief's 2025 top destinations of people stopped, in that order: Malaysia (about 26 %),
//!   Cambodia (17 %), Singapore (13 %), Thailand (12 %), UAE (8 %), plus Saudi Arabia for
//!   umrah and ziarah (24 %). One in ten also holds an AK-1 card declaring work (a purpose
//!   mismatch that the subject history shows).
//!
//! ## Women and children
//! - *Brief*: the 2023 police task force counted, by modus, 533 migrant/domestic-worker
//!   cases, 284 prostitution, 69 child exploitation and 7 ship crew. Domestic work and
//!   prostitution (91 % of those) mostly concern women, ship crew men, and the Cambodia and
//!   Thailand "tourist" routes lead to online-scam compounds that recruit both. Hence, among
//!   the risky profile: 85 % women for umrah, ziarah, family visit, marriage and cultural
//!   ambassador (the IM2 pattern), 45 % for tourism, 50 % for internships, 60 % for work, 5 %
//!   for seamen: about two thirds overall.
//! - Minors: 69 of 893 cases by modus were child exploitation (7.7 %, *brief*), so 7.7 % of
//!   the risky profile are 15 to 17 years old; nobody else is a minor (legal placement needs
//!   18). About 0.6 % of everyone, "a few percent" of the people stopped.
//! - *Assumption*: 65 % of legal workers are women (placements from Central Java are mostly
//!   domestic and care work), 55 % of ordinary travellers.
//!
//! ## Screening
//! - Interviews of the risky profile: 35 % deferred (30 days), 5 % rejected, the rest
//!   approved; 50 % deferred on a second attempt. Bursts: on about one working day in twelve
//!   (fewer with a smaller risky share) a recruiter brings a group of 5 to 8 to the office at once and 85 % of them are
//!   deferred. A deferral or rejection carries a visa flag (85 %, and 8 % of the risky
//!   approvals do) whose reason code matches
//!   the declared purpose (umrah/ziarah without a travel operator letter, tourist visa to a
//!   high-risk destination, internship without a ministry recommendation, ...); 5 % conceal
//!   a prior passport; a second attempt is flagged as a duplicate application (40 %). 30 %
//!   of those deferred or rejected apply again 31 to 60 days later (rule IM1).
//! - Departure checks: TPI-CGK (Soekarno-Hatta) for most (about 85 %, the airport in the
//!   brief's figures), TPI-YIA and TPI-SUB for Malaysia, Singapore and Saudi flights, TPI-CLP
//!   (the port of Cilacap) for ship crew. Travelling parties are checked together
//!   (`/v1/checkpoints/group-checks`, one group id).
//! - A risky party is spotted at the checkpoint 75 % of the time and then 92 % of its members
//!   are blocked; minors are blocked 95 % of the time. Block reasons: 86 % of Soekarno-Hatta's
//!   2022 deferrals were suspected non-procedural workers (3,551 of 4,119, *brief*), so the
//!   non-procedural family of reasons (suspected non-procedural worker, visa/purpose mismatch,
//!   no placement agreement) takes 83 %, suspected trafficking victims 10 %, incomplete or
//!   forged documents the rest; minors travel alone under `minor_without_guardian`. 80 % of
//!   those blocked hold no return ticket (rule IM3). They are handed to the BP3MI shelter,
//!   their family, the airport police (suspected trafficking) or social services (minors).
//!
//! ## Networks and cases
//! - A small pool of recruiters (2 + per_day / 10, at least 3) with Zipf weights, so that one
//!   or two dominate as in the brief's 2023 Cilacap network (2 recruiters, 165 victims); 85 %
//!   of risky parties have one, and it names an unlicensed agency or itself as sponsor.
//! - A blocked party is referred by immigration to the police (always when a trafficking
//!   victim or a minor is among them, else 70 % with a known recruiter, 25 % without) with a
//!   case id, the subjects, the recruiter and the articles (UU 21/2007, UU 18/2017 art. 81
//!   and 83). The police report the recruiter with every person linked to them in the last
//!   180 days (rule PO1), open an investigation for 75 % of referrals (20 % of them after
//!   more than 14 days: rule PO3), send the SPDP within 7 days in 85 % of cases and late
//!   (8 to 16 days) in 15 % (rule JA1), and refer minors to social services. The prosecutor
//!   assigns P-16 (90 %: rule JA2 for the rest), then P-18 and P-19 with their due dates
//!   (7 and 14 days, rule JA3) for 40 % of files, P-21, P-22, P-29 and P-31.
//!
//! ## Identities
//! NIKs are valid and consistent with the body: province 33 (Central Java), regency 01
//! (Cilacap), the kecamatan's Kemendagri code, the birth date as DDMMYY with 40 added to the
//! day for women, and a serial; each is unique in a run. Villages and sub-districts are real
//! Cilacap names; persons, agencies, phones and recruiters are synthetic. Case ids and
//! recruiter keys carry the seed (`SIM7-CLP-2026-0001`, `rk-sim7-001`) so that runs with
//! different seeds never mix up cases.
#![forbid(unsafe_code)]

mod places;
mod scenario;
pub mod send;

use lintas_events::Agency;
use serde_json::{json, Value};
use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;

pub use scenario::Scenario;

/// Agencies whose tokens a simulation needs.
pub const AGENCIES: &[Agency] = &[
    Agency::Disnaker,
    Agency::Imigrasi,
    Agency::Polri,
    Agency::Kejaksaan,
];

/// Checkpoints the model uses; all of them are in `lintas_intake::DEFAULT_CHECKPOINTS`.
pub const CHECKPOINTS: &[&str] = &["TPI-CGK", "TPI-YIA", "TPI-SUB", "TPI-CLP"];

/// What to simulate.
#[derive(Debug, Clone)]
pub struct Settings {
    /// The simulation's only clock: every event happens before it. Dates the intake wants in
    /// the future (prosecution due dates) are only set when at least a day after it, so it
    /// should be close to now.
    pub end: OffsetDateTime,
    /// Simulated days published, ending at `end`.
    pub days: u32,
    /// Average requests per simulated day.
    pub per_day: u32,
    /// Share of applicants in the risky (non-procedural) profile.
    pub risky_share: f64,
    /// Days simulated before the window and not published, so that the window starts with
    /// work in progress.
    pub warmup_days: u32,
}

impl Settings {
    pub fn new(end: OffsetDateTime) -> Settings {
        Settings {
            end,
            days: 7,
            per_day: 40,
            risky_share: scenario::DEFAULT_RISKY_SHARE,
            warmup_days: 120,
        }
    }

    /// The start of the day (00:00 WIB, UTC+7) containing `now`: the default `end`, stable
    /// through the day so that runs on one day replay each other.
    pub fn start_of_day_wib(now: OffsetDateTime) -> OffsetDateTime {
        let wib = time::UtcOffset::from_hms(7, 0, 0).expect("valid offset");
        now.to_offset(wib).replace_time(time::Time::MIDNIGHT)
    }
}

/// One request of the feed.
#[derive(Debug, Clone, PartialEq)]
pub struct SimRequest {
    /// Intake path, for example `/v1/imigrasi/interviews`.
    pub path: &'static str,
    /// Whose token sends it.
    pub agency: Agency,
    /// Which office of that agency, when it matters: a checkpoint code such as `TPI-YIA`, or
    /// a prefix such as `KANIM-` (see [`send::TokenBook::token_for`]).
    pub office_hint: Option<&'static str>,
    pub body: Value,
    /// `sim-{seed}-{n}`, n counting from 1.
    pub idempotency_key: String,
    /// When it happened (also the body's `occurred_at`).
    pub at: OffsetDateTime,
}

impl SimRequest {
    /// The request as one JSON object (for `--dry-run`).
    pub fn to_json(&self) -> Value {
        json!({
            "at": self.at.format(&Rfc3339).expect("formattable"),
            "path": self.path,
            "agency": self.agency.to_string(),
            "office_hint": self.office_hint,
            "idempotency_key": self.idempotency_key,
            "body": self.body,
        })
    }
}

#[cfg(test)]
mod tests;
