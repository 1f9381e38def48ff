//! One person's identity: a NIK that is valid and consistent with the body (province 33,
//! regency 01, the kecamatan's code, the birth date with 40 added to the day for women, a
//! serial) and unique in the run, a name drawn from the local first and second names, a
//! birth date that makes them an adult or, for the minors of the risky profile, 15 to 17.

use time::Date;

use super::clock::date_of_day;
use super::random::{between, chance, pick};
use super::Scenario;
use crate::places::{self, KECAMATAN};

#[derive(Debug, Clone)]
pub(super) struct Person {
    pub(super) nik: String,
    pub(super) name: String,
    pub(super) female: bool,
    pub(super) birth: Date,
    pub(super) kec: usize,
    pub(super) village: &'static str,
    pub(super) minor: bool,
}

impl Scenario {
    #[allow(clippy::too_many_arguments)]
    pub(super) fn person(
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
}
