//! Consumer-group status in the style of Burrow: judged from what the broker holds (committed
//! offsets against high watermarks, sampled over a sliding window), never from what the
//! subscriber reports about itself, so a subscriber that died still gets a status.
//!
//! Per partition, over the samples of the window:
//! - OK when the lag was zero at any sample, or when the consumer advances and keeps up;
//! - WARN when the committed offset advances but the lag grew at every step;
//! - STALL when the committed offset did not move for the whole window while lag is positive
//!   and the group still has members;
//! - STOP when the same holds and commits stopped altogether: the group has no members, or no
//!   partition of it moved for `stop_after`.
//!
//! The group's status is the worst of its partitions. Subscribers mirror their database
//! offsets to Kafka with librdkafka's auto-commit (every 5 s), so the window must be longer
//! than that for a healthy group never to look stalled.

use std::collections::VecDeque;
use std::time::{Duration, Instant};

use serde::Serialize;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum Status {
    Ok,
    Warn,
    Stall,
    Stop,
}

impl Status {
    pub const ALL: [Status; 4] = [Status::Ok, Status::Warn, Status::Stall, Status::Stop];

    pub fn as_str(self) -> &'static str {
        match self {
            Status::Ok => "OK",
            Status::Warn => "WARN",
            Status::Stall => "STALL",
            Status::Stop => "STOP",
        }
    }
}

/// One observation of one partition.
#[derive(Debug, Clone, Copy)]
pub struct Sample {
    pub at: Instant,
    /// The group's committed offset; `None` before its first commit on the partition.
    pub committed: Option<i64>,
    pub low: i64,
    pub high: i64,
}

impl Sample {
    /// Records behind the high watermark. Before the first commit, everything retained.
    pub fn lag(&self) -> i64 {
        (self.high - self.committed.unwrap_or(self.low).max(self.low)).max(0)
    }
}

/// The sliding window of one partition of one group.
#[derive(Debug, Default)]
pub struct PartitionWindow {
    samples: VecDeque<Sample>,
    /// When the committed offset last changed, or the lag was last zero.
    last_progress: Option<Instant>,
}

/// Thresholds.
#[derive(Debug, Clone, Copy)]
pub struct Rules {
    pub window: Duration,
    pub stop_after: Duration,
}

impl PartitionWindow {
    pub fn push(&mut self, sample: Sample, rules: &Rules) {
        let moved = match self.samples.back() {
            Some(prev) => prev.committed != sample.committed,
            None => true,
        };
        if moved || sample.lag() == 0 {
            self.last_progress = Some(sample.at);
        }
        self.samples.push_back(sample);
        // Keep the newest sample at least `window` old as the window's start.
        while self.samples.len() > 2 && sample.at.duration_since(self.samples[1].at) >= rules.window
        {
            self.samples.pop_front();
        }
    }

    pub fn latest(&self) -> Option<&Sample> {
        self.samples.back()
    }

    pub fn last_progress(&self) -> Option<Instant> {
        self.last_progress
    }

    /// `members`: the group's live members, when the broker told us.
    pub fn status(&self, now: Instant, rules: &Rules, members: Option<usize>) -> Status {
        let (Some(first), Some(last)) = (self.samples.front(), self.samples.back()) else {
            return Status::Ok;
        };
        if self.samples.iter().any(|s| s.lag() == 0) {
            return Status::Ok;
        }
        let covered = last.at.duration_since(first.at) >= rules.window;
        if first.committed == last.committed {
            if !covered {
                return Status::Ok;
            }
            let idle_for = self
                .last_progress
                .map(|p| now.duration_since(p))
                .unwrap_or_default();
            return if members == Some(0) || idle_for >= rules.stop_after {
                Status::Stop
            } else {
                Status::Stall
            };
        }
        let growing = self.samples.len() >= 3
            && self
                .samples
                .iter()
                .zip(self.samples.iter().skip(1))
                .all(|(a, b)| b.lag() > a.lag());
        if growing && covered {
            Status::Warn
        } else {
            Status::Ok
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const RULES: Rules = Rules {
        window: Duration::from_secs(10),
        stop_after: Duration::from_secs(60),
    };

    fn feed(samples: &[(u64, Option<i64>, i64)]) -> (PartitionWindow, Instant) {
        let start = Instant::now();
        let mut window = PartitionWindow::default();
        let mut at = start;
        for &(secs, committed, high) in samples {
            at = start + Duration::from_secs(secs);
            window.push(
                Sample {
                    at,
                    committed,
                    low: 0,
                    high,
                },
                &RULES,
            );
        }
        (window, at)
    }

    #[test]
    fn caught_up_consumer_is_ok() {
        let (w, now) = feed(&[(0, Some(10), 10), (5, Some(20), 25), (10, Some(30), 30)]);
        assert_eq!(w.status(now, &RULES, Some(1)), Status::Ok);
    }

    #[test]
    fn advancing_consumer_with_steady_lag_is_ok() {
        let (w, now) = feed(&[
            (0, Some(10), 20),
            (5, Some(20), 30),
            (10, Some(30), 38),
            (15, Some(40), 49),
        ]);
        assert_eq!(w.status(now, &RULES, Some(1)), Status::Ok);
    }

    #[test]
    fn lag_growing_at_every_step_while_advancing_warns() {
        let (w, now) = feed(&[(0, Some(10), 20), (5, Some(15), 30), (10, Some(20), 40)]);
        assert_eq!(w.status(now, &RULES, Some(1)), Status::Warn);
    }

    #[test]
    fn unmoved_offset_with_lag_stalls_then_stops() {
        let (w, now) = feed(&[(0, Some(10), 20), (5, Some(10), 30), (10, Some(10), 40)]);
        assert_eq!(w.status(now, &RULES, Some(1)), Status::Stall);
        assert_eq!(
            w.status(now + Duration::from_secs(60), &RULES, Some(1)),
            Status::Stop
        );
        // A group with no members has stopped committing.
        assert_eq!(w.status(now, &RULES, Some(0)), Status::Stop);
    }

    #[test]
    fn short_history_is_not_judged_stalled() {
        let (w, now) = feed(&[(0, Some(10), 20), (5, Some(10), 30)]);
        assert_eq!(w.status(now, &RULES, Some(1)), Status::Ok);
    }

    #[test]
    fn idle_feed_with_no_lag_is_ok_however_long() {
        let (w, now) = feed(&[(0, Some(10), 10), (100, Some(10), 10), (200, Some(10), 10)]);
        assert_eq!(w.status(now, &RULES, Some(0)), Status::Ok);
    }

    #[test]
    fn group_that_never_committed_on_a_busy_partition_stalls() {
        let (w, now) = feed(&[(0, None, 5), (5, None, 8), (11, None, 9)]);
        assert_eq!(w.status(now, &RULES, Some(1)), Status::Stall);
    }

    #[test]
    fn window_slides() {
        // Stuck long ago, then moving again: judged on the recent window only.
        let (w, now) = feed(&[
            (0, Some(10), 20),
            (10, Some(10), 20),
            (20, Some(10), 20),
            (30, Some(15), 25),
            (40, Some(20), 28),
        ]);
        assert_eq!(w.status(now, &RULES, Some(1)), Status::Ok);
    }
}
