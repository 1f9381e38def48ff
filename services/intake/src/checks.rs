//! Checks of single values against their meaning, shared by every endpoint.

use lintas_kit::events::calendar::is_child;
use lintas_kit::events::Sex;
use time::{Date, Month};

/// A national ID number (NIK): 16 digits, a real province code, regency (kabupaten/kota) and
/// district (kecamatan) codes that are not 00, a real birth date (day + 40 for women) in digits
/// 7 to 12, and a serial from 0001.
pub fn nik(s: &str) -> Result<(), String> {
    if s.len() != 16 || !s.bytes().all(|b| b.is_ascii_digit()) {
        return Err("must be exactly 16 digits".into());
    }
    let province: u8 = s[0..2].parse().expect("digits");
    if !PROVINCE_CODES.contains(&province) {
        return Err(format!("province code {province:02} does not exist"));
    }
    // Regions are numbered from 01 (Permendagri on regional codes) and the civil registry
    // numbers people from 0001: a zero code is a typing or placeholder NIK, and two people
    // with one would share a subject key.
    if &s[2..4] == "00" {
        return Err("regency code (digits 3 to 4) must not be 00".into());
    }
    if &s[4..6] == "00" {
        return Err("district code (digits 5 to 6) must not be 00".into());
    }
    if nik_birth(s).is_none() {
        return Err(
            "digits 7 to 12 do not encode a valid birth date (DDMMYY, day + 40 for women)".into(),
        );
    }
    if &s[12..16] == "0000" {
        return Err("serial number (digits 13 to 16) must not be 0000".into());
    }
    Ok(())
}

/// Which of birth date and sex disagree with what the NIK encodes.
pub fn nik_mismatches(nik: &str, birth_date: Date, sex: Sex) -> Vec<(&'static str, &'static str)> {
    let mut out = Vec::new();
    if let Some((day, month, yy, female)) = nik_birth(nik) {
        let same_date = birth_date.day() == day
            && birth_date.month() as u8 == month
            && birth_date.year().rem_euclid(100) as u8 == yy;
        if !same_date {
            out.push((
                "birth_date",
                "does not match the birth date encoded in the NIK",
            ));
        }
        if female != (sex == Sex::Female) {
            out.push(("sex", "does not match the sex encoded in the NIK"));
        }
    }
    out
}

/// What a departure check tells the other agencies about the traveller, derived from the
/// NIK it checked: the sex it encodes and whether the traveller is a child (under 18) on the
/// local date `on` of the check. Only these derived facts travel on the departures topic, never
/// the birth date (with sex and the district code it rebuilds most of the NIK): IM2 needs the
/// sex and PO2 needs "a child", and an age band or the year would say more than any rule
/// uses. `None` when the NIK encodes no real date (validation refuses such a NIK first).
pub fn nik_traveller_facts(nik: &str, on: Date) -> Option<(Sex, bool)> {
    let (day, month, yy, female) = nik_birth(nik)?;
    let month = Month::try_from(month).ok()?;
    // The NIK gives the year in two digits: read it as the latest century that puts the birth
    // on or before the day of the check. A child is always read right; only a traveller aged
    // 100 or more would be taken for a child (a priority alert an officer dismisses at a
    // glance), never a child for an adult.
    let born = [2000 + yy as i32, 1900 + yy as i32]
        .into_iter()
        .filter_map(|year| Date::from_calendar_date(year, month, day).ok())
        .find(|born| *born <= on)?;
    let sex = if female { Sex::Female } else { Sex::Male };
    Some((sex, is_child(born, on)))
}

/// (day, month, two-digit year, female) encoded in a NIK, if it is a real date.
fn nik_birth(nik: &str) -> Option<(u8, u8, u8, bool)> {
    let dd: u8 = nik.get(6..8)?.parse().ok()?;
    let mm: u8 = nik.get(8..10)?.parse().ok()?;
    let yy: u8 = nik.get(10..12)?.parse().ok()?;
    let (day, female) = if dd > 40 {
        (dd - 40, true)
    } else {
        (dd, false)
    };
    let month = Month::try_from(mm).ok()?;
    // Either century must give a real date (29 February needs a leap year in one of them).
    let real = [1900 + yy as i32, 2000 + yy as i32]
        .iter()
        .any(|y| Date::from_calendar_date(*y, month, day).is_ok());
    real.then_some((day, mm, yy, female))
}

pub fn country(s: &str) -> bool {
    s.len() == 2 && ISO_3166_ALPHA2.split(' ').any(|c| c == s)
}

/// A phone number as written in reports: `+` and 8 to 15 digits (E.164), or a local number
/// starting with 0.
pub fn phone(s: &str) -> bool {
    let digits = s.strip_prefix('+').unwrap_or(s);
    (8..=15).contains(&digits.len())
        && digits.bytes().all(|b| b.is_ascii_digit())
        && (s.starts_with('+') || s.starts_with('0'))
}

/// Province codes (kode wilayah) as used in NIKs, including the Papua provinces of 2022.
const PROVINCE_CODES: &[u8] = &[
    11, 12, 13, 14, 15, 16, 17, 18, 19, 21, 31, 32, 33, 34, 35, 36, 51, 52, 53, 61, 62, 63, 64, 65,
    71, 72, 73, 74, 75, 76, 81, 82, 91, 92, 93, 94, 95, 96,
];

pub const ISO_3166_ALPHA2: &str = "AD AE AF AG AI AL AM AO AQ AR AS AT AU AW AX AZ BA BB BD BE BF BG BH BI BJ BL BM BN BO BQ BR BS BT BV BW BY BZ \
CA CC CD CF CG CH CI CK CL CM CN CO CR CU CV CW CX CY CZ DE DJ DK DM DO DZ EC EE EG EH ER ES ET FI FJ FK FM FO FR GA GB GD GE \
GF GG GH GI GL GM GN GP GQ GR GS GT GU GW GY HK HM HN HR HT HU ID IE IL IM IN IO IQ IR IS IT JE JM JO JP KE KG KH KI KM KN KP \
KR KW KY KZ LA LB LC LI LK LR LS LT LU LV LY MA MC MD ME MF MG MH MK ML MM MN MO MP MQ MR MS MT MU MV MW MX MY MZ NA NC NE NF \
NG NI NL NO NP NR NU NZ OM PA PE PF PG PH PK PL PM PN PR PS PT PW PY QA RE RO RS RU RW SA SB SC SD SE SG SH SI SJ SK SL SM SN \
SO SR SS ST SV SX SY SZ TC TD TF TG TH TJ TK TL TM TN TO TR TT TV TW TZ UA UG UM US UY UZ VA VC VE VG VI VN VU WF WS YE YT ZA \
ZM ZW";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nik_rules() {
        assert!(nik("3301014501900001").is_ok()); // woman born 5 Jan 1990
        assert!(nik("3301011301900001").is_ok()); // man born 13 Jan 1990
        assert!(nik("9901014501900001").unwrap_err().contains("province"));
        assert!(nik("33010145019").unwrap_err().contains("16 digits"));
        assert!(nik("3301017213900001").unwrap_err().contains("birth date")); // day 32
    }

    #[test]
    fn nik_refuses_zero_region_codes_and_serial() {
        // Regency 00, district 00, serial 0000: no real NIK has them.
        assert!(nik("3300014501900001")
            .unwrap_err()
            .contains("regency code"));
        assert!(nik("3301004501900001")
            .unwrap_err()
            .contains("district code"));
        assert!(nik("3301014501900000").unwrap_err().contains("serial"));
        // The smallest real values pass.
        assert!(nik("3301014501900001").is_ok());
        assert!(nik("1101011301900010").is_ok());
    }

    #[test]
    fn nik_must_match_declared_birth_date_and_sex() {
        let nik = "3301014501900001";
        assert!(nik_mismatches(nik, time::macros::date!(1990 - 01 - 05), Sex::Female).is_empty());
        assert_eq!(
            nik_mismatches(nik, time::macros::date!(1991 - 01 - 05), Sex::Male).len(),
            2
        );
    }

    #[test]
    fn a_nik_tells_the_sex_and_whether_a_child_on_the_day_of_the_check() {
        use time::macros::date;
        // A girl born 17 August 2010 (day + 40): a child until the day before her 18th
        // birthday, an adult on it.
        let girl = "3301155708100003";
        assert_eq!(
            nik_traveller_facts(girl, date!(2026 - 12 - 01)),
            Some((Sex::Female, true))
        );
        assert_eq!(
            nik_traveller_facts(girl, date!(2028 - 08 - 16)),
            Some((Sex::Female, true))
        );
        assert_eq!(
            nik_traveller_facts(girl, date!(2028 - 08 - 17)),
            Some((Sex::Female, false))
        );
        // A man born 2 March 1995: year 95 is read in the 1900s, since 2095 is to come.
        assert_eq!(
            nik_traveller_facts("3301100203950011", date!(2026 - 12 - 01)),
            Some((Sex::Male, false))
        );
        // A boy born 29 February 2012, checked on 28 February 2030: still 17.
        assert_eq!(
            nik_traveller_facts("3301012902120001", date!(2030 - 02 - 28)),
            Some((Sex::Male, true))
        );
        // Day 32 is no date: nothing is derived.
        assert_eq!(
            nik_traveller_facts("3301017213900001", date!(2026 - 12 - 01)),
            None
        );
    }

    #[test]
    fn countries_and_phones() {
        assert!(country("MY") && country("KH") && !country("XX") && !country("MYS"));
        assert!(phone("+6281234567890") && phone("081234567890"));
        assert!(!phone("12345") && !phone("+62-812") && !phone("8123456789"));
    }
}
