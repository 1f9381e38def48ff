//! The recruiters' network: a small pool drawn once per run with Zipf weights, so that one
//! or two recruiters bring most of the risky parties, as in the brief's 2023 Cilacap network.
//! A recruiter remembers who was linked to them, for the police's recruiter reports.

use std::collections::VecDeque;

use lintas_events::{LicenceStatus, RecruiterRole};
use rand_chacha::ChaCha8Rng;

use super::random::{between, chance, pick, weighted, weighted_f};
use super::Scenario;
use crate::places::{self, KECAMATAN};

pub(super) struct Recruiter {
    pub(super) key: String,
    pub(super) role: RecruiterRole,
    pub(super) phones: Vec<String>,
    pub(super) licence: LicenceStatus,
    pub(super) kec: usize,
    pub(super) village: &'static str,
    pub(super) agency_name: &'static str,
    pub(super) alias: String,
    pub(super) weight: f64,
    /// (time, NIK) of people linked to them, oldest first.
    pub(super) linked: VecDeque<(i64, String)>,
}

impl Scenario {
    /// The recruiter pool: 2 + per_day / 10 (at least 3) with Zipf weights, so that one or
    /// two dominate, as in the brief's 2023 Cilacap network (2 recruiters, 165 victims).
    pub(super) fn recruit(&mut self) {
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

    pub(super) fn pick_recruiter(&mut self) -> usize {
        let weights: Vec<(usize, f64)> = self
            .recruiters
            .iter()
            .enumerate()
            .map(|(i, r)| (i, r.weight))
            .collect();
        weighted_f(&mut self.rng, &weights)
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
