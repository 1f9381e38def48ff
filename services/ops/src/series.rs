//! Event counts in fixed time buckets, kept for a bounded span: the charts' data. Two of
//! these run side by side, one fine-grained for the last minutes, one coarse for the last
//! hours, so memory stays constant however long the dashboard runs.

use std::collections::{BTreeMap, VecDeque};

use serde::Serialize;

#[derive(Debug)]
pub struct Series {
    bucket_ms: i64,
    buckets: usize,
    /// Start (ms since the epoch) of the newest bucket.
    newest: i64,
    /// Per name, counts of the buckets, oldest first, newest last.
    counts: BTreeMap<String, VecDeque<u64>>,
}

/// Rates (events per second) of every name, oldest bucket first.
#[derive(Debug, Serialize, PartialEq)]
pub struct Rates {
    pub bucket_seconds: f64,
    /// Start of the newest bucket, ms since the epoch.
    pub newest_bucket_ms: i64,
    pub series: BTreeMap<String, Vec<f64>>,
}

impl Series {
    pub fn new(bucket_seconds: u32, buckets: usize) -> Self {
        Series {
            bucket_ms: i64::from(bucket_seconds) * 1000,
            buckets,
            newest: 0,
            counts: BTreeMap::new(),
        }
    }

    /// Moves the newest bucket forward to `now_ms`, zero-filling skipped buckets.
    fn advance(&mut self, now_ms: i64) {
        let start = now_ms - now_ms.rem_euclid(self.bucket_ms);
        if self.newest == 0 {
            self.newest = start;
        }
        if start <= self.newest {
            return;
        }
        let steps = ((start - self.newest) / self.bucket_ms) as usize;
        for counts in self.counts.values_mut() {
            for _ in 0..steps.min(self.buckets) {
                counts.push_back(0);
            }
            while counts.len() > self.buckets {
                counts.pop_front();
            }
        }
        self.newest = start;
    }

    pub fn add(&mut self, name: &str, count: u64, now_ms: i64) {
        self.advance(now_ms);
        let buckets = self.buckets;
        let counts = self
            .counts
            .entry(name.to_string())
            .or_insert_with(|| VecDeque::from(vec![0; buckets]));
        if let Some(last) = counts.back_mut() {
            *last += count;
        }
    }

    /// Rates per second. The newest bucket is still filling; its rate is over the part of
    /// the bucket that has elapsed, so the chart's right edge does not dip.
    pub fn rates(&mut self, now_ms: i64) -> Rates {
        self.advance(now_ms);
        let full = self.bucket_ms as f64 / 1000.0;
        let elapsed = ((now_ms - self.newest).max(1000) as f64 / 1000.0).min(full);
        let series = self
            .counts
            .iter()
            .map(|(name, counts)| {
                let last = counts.len().saturating_sub(1);
                let rates = counts
                    .iter()
                    .enumerate()
                    .map(|(i, &c)| c as f64 / if i == last { elapsed } else { full })
                    .collect();
                (name.clone(), rates)
            })
            .collect();
        Rates {
            bucket_seconds: full,
            newest_bucket_ms: self.newest,
            series,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_land_in_their_bucket_and_old_buckets_fall_off() {
        let mut s = Series::new(5, 3);
        s.add("a", 10, 1_000_000);
        s.add("a", 5, 1_006_000);
        s.add("b", 20, 1_006_000);
        let r = s.rates(1_009_999);
        assert_eq!(r.series["a"], vec![0.0, 2.0, 5.0 / 4.999]);
        assert_eq!(r.series["b"], vec![0.0, 0.0, 20.0 / 4.999]);
        // A quiet minute later everything has scrolled out.
        let r = s.rates(1_070_000);
        assert_eq!(r.series["a"], vec![0.0, 0.0, 0.0]);
        assert_eq!(r.newest_bucket_ms, 1_070_000);
    }
}
