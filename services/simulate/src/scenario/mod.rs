//! The simulation engine: a calendar of pending steps (a heap ordered by time, then by the
//! order they were scheduled), fed day by day with new applicants. Every step runs in time
//! order, may schedule later steps, and produces at most one request. All randomness comes
//! from one ChaCha8 stream consumed in that order, so a run is a pure function of the seed
//! and the settings.
//!
//! The engine is split by concern; every submodule adds methods to [`Scenario`] (or plain
//! functions) and none keeps state of its own, so that the one stream stays in one place:
//! - `calendar`: the pending steps, their order, and when offices and checkpoints work;
//! - `population`: who applies, day by day, alone or in parties;
//! - `persons`: one person's identity (NIK, name, birth date, village);
//! - `recruiters`: the recruiters' network behind the risky parties;
//! - `requests`: what every request shares (endpoints, offices, the applicant's body);
//! - `screening`, `checkpoints`, `cases`: the steps of each stage, each building the
//!   body of its endpoint and scheduling what follows;
//! - `clock`: Unix seconds, local (WIB) days and their text forms;
//! - `random`: draws from the seeded stream.
//!
//! Moving code between these modules is free; changing the order in which a step draws from
//! the stream is not: it changes every request that follows, for every seed.

mod calendar;
mod cases;
mod checkpoints;
mod clock;
mod persons;
mod population;
mod random;
mod recruiters;
mod requests;
mod screening;

use std::collections::{BinaryHeap, HashMap, HashSet};

use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use time::OffsetDateTime;

use crate::{Settings, SimRequest};
use calendar::Pending;
use cases::Case;
use clock::{day_start, local_day, wib, DAY};
use population::Party;
use recruiters::Recruiter;

pub(crate) use population::DEFAULT_RISKY_SHARE;

/// Requests one applicant causes on average, over every profile, in the default mix
/// (measured over long runs; it turns `per_day` into applicants per day).
const REQUESTS_PER_PERSON: f64 = 3.75;

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
