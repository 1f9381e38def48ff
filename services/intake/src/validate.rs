//! Field-by-field validation of request bodies. Every problem is collected, so one answer
//! names every bad field; nothing is published unless the list is empty.

use std::collections::BTreeSet;

use lintas_kit::events::{AvroEnum, Sex};
use serde::Serialize;
use serde_json::{Map, Value};
use time::format_description::well_known::Rfc3339;
use time::{Date, Month, OffsetDateTime};

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FieldError {
    pub field: String,
    pub message: String,
}

pub struct Fields<'a> {
    body: &'a Map<String, Value>,
    prefix: String,
    seen: BTreeSet<String>,
    errors: Vec<FieldError>,
}

impl<'a> Fields<'a> {
    pub fn new(body: &'a Value) -> Result<Self, FieldError> {
        match body {
            Value::Object(map) => Ok(Self::over(map, "")),
            _ => Err(FieldError {
                field: "$".into(),
                message: "body must be a JSON object".into(),
            }),
        }
    }

    /// Fields of a nested object; errors name `prefix.field`.
    pub fn nested(body: &'a Map<String, Value>, prefix: &str) -> Self {
        Self::over(body, &format!("{prefix}."))
    }

    fn over(body: &'a Map<String, Value>, prefix: &str) -> Self {
        Fields {
            body,
            prefix: prefix.into(),
            seen: BTreeSet::new(),
            errors: Vec::new(),
        }
    }

    fn error(&mut self, name: &str, message: impl Into<String>) {
        self.errors.push(FieldError {
            field: format!("{}{name}", self.prefix),
            message: message.into(),
        });
    }

    fn get(&mut self, name: &str) -> Option<&'a Value> {
        self.seen.insert(name.to_string());
        self.body.get(name).filter(|v| !v.is_null())
    }

    fn string(&mut self, name: &str, required: bool) -> Option<Option<&'a str>> {
        match self.get(name) {
            None if required => {
                self.error(name, "is required");
                None
            }
            None => Some(None),
            Some(Value::String(s)) => Some(Some(s.as_str())),
            Some(_) => {
                self.error(name, "must be a string");
                None
            }
        }
    }

    fn checked_text(&mut self, name: &str, s: &str, max: usize) -> Option<String> {
        let trimmed = s.trim();
        if trimmed.is_empty() {
            self.error(name, "must not be empty");
            None
        } else if trimmed.chars().count() > max {
            self.error(name, format!("must be at most {max} characters"));
            None
        } else if trimmed.chars().any(char::is_control) {
            self.error(name, "must not contain control characters");
            None
        } else {
            Some(trimmed.to_string())
        }
    }

    pub fn text(&mut self, name: &str, max: usize) -> Option<String> {
        let s = self.string(name, true)??;
        self.checked_text(name, s, max)
    }

    pub fn optional_text(&mut self, name: &str, max: usize) -> Option<Option<String>> {
        match self.string(name, false)? {
            None => Some(None),
            Some(s) => self.checked_text(name, s, max).map(Some),
        }
    }

    /// One of the symbols of an Avro enum of the contract.
    pub fn symbol<E: AvroEnum>(&mut self, name: &str) -> Option<E> {
        let s = self.string(name, true)??;
        match E::from_symbol(s) {
            Some(v) => Some(v),
            None => {
                self.error(
                    name,
                    format!(
                        "unknown code `{s}`; expected one of: {}",
                        E::symbols().join(", ")
                    ),
                );
                None
            }
        }
    }

    /// A national ID number (NIK): 16 digits, a real province code, a real birth date
    /// (day + 40 for women) in digits 7 to 12.
    pub fn nik(&mut self, name: &str) -> Option<String> {
        let s = self.string(name, true)??.trim();
        if s.len() != 16 || !s.bytes().all(|b| b.is_ascii_digit()) {
            self.error(name, "must be exactly 16 digits");
            return None;
        }
        let province: u8 = s[0..2].parse().expect("digits");
        if !PROVINCE_CODES.contains(&province) {
            self.error(name, format!("province code {province:02} does not exist"));
            return None;
        }
        if nik_birth(s).is_none() {
            self.error(
                name,
                "digits 7 to 12 do not encode a valid birth date (DDMMYY, day + 40 for women)",
            );
            return None;
        }
        Some(s.to_string())
    }

    /// The NIK's encoded birth date and sex agree with the declared ones.
    pub fn nik_matches(&mut self, nik: &str, birth_date: Date, sex: Sex) {
        if let Some((day, month, yy, female)) = nik_birth(nik) {
            let matches_date = birth_date.day() == day
                && birth_date.month() as u8 == month
                && birth_date.year().rem_euclid(100) as u8 == yy;
            if !matches_date {
                self.error(
                    "birth_date",
                    "does not match the birth date encoded in the NIK",
                );
            }
            if female != (sex == Sex::Female) {
                self.error("sex", "does not match the sex encoded in the NIK");
            }
        }
    }

    /// A calendar date `YYYY-MM-DD`, not in the future and not before 1900.
    pub fn past_date(&mut self, name: &str) -> Option<Date> {
        let s = self.string(name, true)??;
        let format = time::macros::format_description!("[year]-[month]-[day]");
        match Date::parse(s, format) {
            Ok(d) if d > OffsetDateTime::now_utc().date() => {
                self.error(name, "must not be in the future");
                None
            }
            Ok(d) if d.year() < 1900 => {
                self.error(name, "must not be before 1900");
                None
            }
            Ok(d) => Some(d),
            Err(_) => {
                self.error(name, "must be a date as YYYY-MM-DD");
                None
            }
        }
    }

    /// An RFC 3339 time, not in the future (a few minutes of clock skew allowed); absent
    /// means "now". Kept to milliseconds, the contract's precision.
    pub fn optional_past_time(&mut self, name: &str) -> Option<Option<OffsetDateTime>> {
        let Some(s) = self.string(name, false)? else {
            return Some(None);
        };
        match OffsetDateTime::parse(s, &Rfc3339) {
            Ok(t) if t > OffsetDateTime::now_utc() + time::Duration::minutes(5) => {
                self.error(name, "must not be in the future");
                None
            }
            Ok(t) => Some(Some(
                t.replace_nanosecond(t.nanosecond() / 1_000_000 * 1_000_000)
                    .expect("valid"),
            )),
            Err(_) => {
                self.error(
                    name,
                    "must be an RFC 3339 time such as 2026-03-01T08:15:00+07:00",
                );
                None
            }
        }
    }

    pub fn optional_uuid(&mut self, name: &str) -> Option<Option<uuid::Uuid>> {
        let Some(s) = self.string(name, false)? else {
            return Some(None);
        };
        match uuid::Uuid::parse_str(s) {
            Ok(u) => Some(Some(u)),
            Err(_) => {
                self.error(name, "must be a UUID");
                None
            }
        }
    }

    /// ISO 3166-1 alpha-2 country code, upper case.
    pub fn country(&mut self, name: &str) -> Option<String> {
        let s = self.string(name, true)??;
        if s.len() == 2 && ISO_3166_ALPHA2.split(' ').any(|c| c == s) {
            Some(s.to_string())
        } else {
            self.error(
                name,
                format!("`{s}` is not an ISO 3166-1 alpha-2 country code (for example MY, SA, KH)"),
            );
            None
        }
    }

    pub fn optional_object(&mut self, name: &str) -> Option<&'a Map<String, Value>> {
        match self.get(name)? {
            Value::Object(map) => Some(map),
            _ => {
                self.error(name, "must be an object");
                None
            }
        }
    }

    /// Takes over a nested object's errors.
    pub fn absorb(&mut self, nested: Fields<'_>) {
        let errors = nested.finish();
        self.errors.extend(errors);
    }

    /// Every error, including fields this endpoint does not know (a typo must not be
    /// silently dropped).
    pub fn finish(mut self) -> Vec<FieldError> {
        let unknown: Vec<String> = self
            .body
            .keys()
            .filter(|k| !self.seen.contains(*k))
            .cloned()
            .collect();
        for key in unknown {
            self.error(&key, "is not a field of this request");
        }
        self.errors
    }
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

/// Province codes (kode wilayah) as used in NIKs, including the Papua provinces of 2022.
const PROVINCE_CODES: &[u8] = &[
    11, 12, 13, 14, 15, 16, 17, 18, 19, 21, 31, 32, 33, 34, 35, 36, 51, 52, 53, 61, 62, 63, 64, 65,
    71, 72, 73, 74, 75, 76, 81, 82, 91, 92, 93, 94, 95, 96,
];

const ISO_3166_ALPHA2: &str = "AD AE AF AG AI AL AM AO AQ AR AS AT AU AW AX AZ BA BB BD BE BF BG BH BI BJ BL BM BN BO BQ BR BS BT BV BW BY BZ \
CA CC CD CF CG CH CI CK CL CM CN CO CR CU CV CW CX CY CZ DE DJ DK DM DO DZ EC EE EG EH ER ES ET FI FJ FK FM FO FR GA GB GD GE \
GF GG GH GI GL GM GN GP GQ GR GS GT GU GW GY HK HM HN HR HT HU ID IE IL IM IN IO IQ IR IS IT JE JM JO JP KE KG KH KI KM KN KP \
KR KW KY KZ LA LB LC LI LK LR LS LT LU LV LY MA MC MD ME MF MG MH MK ML MM MN MO MP MQ MR MS MT MU MV MW MX MY MZ NA NC NE NF \
NG NI NL NO NP NR NU NZ OM PA PE PF PG PH PK PL PM PN PR PS PT PW PY QA RE RO RS RU RW SA SB SC SD SE SG SH SI SJ SK SL SM SN \
SO SR SS ST SV SX SY SZ TC TD TF TG TH TJ TK TL TM TN TO TR TT TV TW TZ UA UG UM US UY UZ VA VC VE VG VI VN VU WF WS YE YT ZA \
ZM ZW";

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn nik_rules() {
        let body = json!({"a": "3301014501900001", "b": "3301011301900001", "c": "9901014501900001", "d": "33010145019", "e": "3301017213900001"});
        let mut f = Fields::new(&body).unwrap();
        assert!(f.nik("a").is_some()); // woman born 5 Jan 1990
        assert!(f.nik("b").is_some()); // man born 13 Jan 1990
        assert!(f.nik("c").is_none()); // province 99
        assert!(f.nik("d").is_none()); // too short
        assert!(f.nik("e").is_none()); // day 32
        let errors = f.finish();
        assert_eq!(
            errors.iter().map(|e| e.field.as_str()).collect::<Vec<_>>(),
            ["c", "d", "e"]
        );
    }

    #[test]
    fn nik_must_match_declared_birth_date_and_sex() {
        let body = json!({});
        let mut f = Fields::new(&body).unwrap();
        f.nik_matches(
            "3301014501900001",
            time::macros::date!(1990 - 01 - 05),
            Sex::Female,
        );
        assert!(f.errors.is_empty());
        f.nik_matches(
            "3301014501900001",
            time::macros::date!(1991 - 01 - 05),
            Sex::Male,
        );
        assert_eq!(f.errors.len(), 2);
    }

    #[test]
    fn countries_and_unknown_fields() {
        let body = json!({"destination_country": "MY", "other": "KHM", "typo": 1});
        let mut f = Fields::new(&body).unwrap();
        assert_eq!(f.country("destination_country").as_deref(), Some("MY"));
        assert!(f.country("other").is_none());
        let errors = f.finish();
        assert!(errors.iter().any(|e| e.field == "typo"));
    }
}
