//! The event calendar: the steps still to run, in the order they must run (time, then the
//! order they were scheduled, so that equal times never depend on the heap's whims), and
//! when a step may happen (offices keep office hours on working days, checkpoints work every
//! day). The per-party and per-case counters let a party or a case be forgotten once nothing
//! is pending for it, which keeps long runs in bounded memory.

use std::cmp::Ordering;

use lintas_events::ProsecutionStage;

use super::clock::{day_start, local_day, working_day, HOUR, MINUTE};
use super::random::between;
use super::requests::Draft;
use super::Scenario;

/// One step in the life of a party or a case, which it names by id: parties and cases live
/// in the scenario's maps, and a step stays a small `Copy` value on the heap.
#[derive(Debug, Clone, Copy)]
pub(super) enum Step {
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

/// A step and its time. `seq`, the order of scheduling, breaks ties: a binary heap does not
/// keep equal elements in order, and the run must not depend on how it happens to place them.
pub(super) struct Pending {
    pub(super) at: i64,
    pub(super) seq: u64,
    pub(super) step: Step,
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

impl Scenario {
    /// Puts a step on the calendar and counts it against its party or case, which lives until
    /// its last pending step has run.
    pub(super) fn schedule(&mut self, at: i64, step: Step) {
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

    /// A time in office hours (08:00 to 15:00 WIB) on `day`, or the next working day.
    pub(super) fn office_time(&mut self, day: i64) -> i64 {
        let day = working_day(day);
        day_start(day) + 8 * HOUR + between(&mut self.rng, 0, 7 * 60 - 1) * MINUTE
    }

    /// Office hours `min..=max` days after `t`, and always after `t`.
    pub(super) fn office_after(&mut self, t: i64, min: i64, max: i64) -> i64 {
        let day = local_day(t) + between(&mut self.rng, min, max);
        let candidate = self.office_time(day);
        if candidate > t {
            candidate
        } else {
            t + between(&mut self.rng, 10, 90) * MINUTE
        }
    }

    /// A departure time (05:00 to 23:00 WIB) `min..=max` days after `t`.
    pub(super) fn checkpoint_after(&mut self, t: i64, min: i64, max: i64) -> i64 {
        let day = local_day(t) + between(&mut self.rng, min, max);
        let candidate = day_start(day) + 5 * HOUR + between(&mut self.rng, 0, 18 * 60 - 1) * MINUTE;
        if candidate > t {
            candidate
        } else {
            t + between(&mut self.rng, 30, 180) * MINUTE
        }
    }

    /// Runs one step: it builds its request and schedules what follows; then the party or case
    /// is forgotten if nothing more is pending for it.
    pub(super) fn run(&mut self, pending: Pending) -> Draft {
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
}
