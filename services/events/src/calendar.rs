//! Indonesian days and ages, the one place the rules and the intakes take them from.
//!
//! Officers, forms and the law count in local calendar days: an SPDP is due "within 7 days",
//! a child is someone who has not had their 18th birthday, a date on a form is "today or
//! earlier". An event carries an instant (UTC on the wire); which day it fell on depends on
//! the deployment's time zone, and Indonesia has three. Taking the day in UTC puts everything
//! between 00:00 and 06:59 WIB on the day before, and counting N×24 hours from an instant
//! ends a deadline in the middle of day N instead of at its end.

use std::fmt;
use std::str::FromStr;

use time::{Date, Duration, OffsetDateTime, UtcOffset};

/// Age of majority in the rules: a child is anyone under 18 (UU 35/2014 on child protection,
/// UU 21/2007 on trafficking).
pub const ADULT_AGE: i32 = 18;

/// Age in completed years on `on` of someone born on `born`. A birthday on 29 February falls
/// on 1 March in years without one (the day after 28 February, as civil registries count).
pub fn age_in_years(born: Date, on: Date) -> i32 {
    let mut age = on.year() - born.year();
    // Comparing (month, day) puts 29 February after 28 February and before 1 March.
    if (on.month() as u8, on.day()) < (born.month() as u8, born.day()) {
        age -= 1;
    }
    age
}

/// Whether someone born on `born` is still a child (under [`ADULT_AGE`]) on the local date
/// `on`. Every rule and check about minors asks this, never its own date arithmetic.
pub fn is_child(born: Date, on: Date) -> bool {
    age_in_years(born, on) < ADULT_AGE
}

/// The same day `months` calendar months after `from`: what "within 12 months" of an event
/// runs to (a year later on the same date, whether or not a 29 February lies between). A day
/// the target month lacks rolls over to the first of the next month, as birthdays do: 12
/// months after 29 February is 1 March in a common year, one month after 31 January is
/// 1 March.
pub fn months_after(from: Date, months: u32) -> Date {
    let index = from.year() as i64 * 12 + (from.month() as i64 - 1) + months as i64;
    let (year, month0) = (index.div_euclid(12) as i32, index.rem_euclid(12) as u8);
    let month = time::Month::try_from(month0 + 1).expect("a month index 0-11 is a month");
    Date::from_calendar_date(year, month, from.day()).unwrap_or_else(|_| {
        // The day does not exist in that month: the first of the next one.
        Date::from_calendar_date(year, month, 1)
            .ok()
            .and_then(|first| first.checked_add(Duration::days(31)))
            .and_then(|later| later.replace_day(1).ok())
            .unwrap_or(Date::MAX)
    })
}

/// Whether local date `later` is within `months` calendar months of local date `earlier`:
/// on or before the same date `months` later ([`months_after`]). The brief's "within 12
/// months" is read this way: a repeat on the same date a year later is still within them.
pub fn within_months(earlier: Date, later: Date, months: u32) -> bool {
    later >= earlier && later <= months_after(earlier, months)
}

/// A coarse age band, for views that must not expose a birth date: under 18, 18–24, 25–34,
/// 35–44, 45–54, 55 and over.
pub fn age_band(age: i32) -> &'static str {
    match age {
        i32::MIN..=17 => "under_18",
        18..=24 => "18-24",
        25..=34 => "25-34",
        35..=44 => "35-44",
        45..=54 => "45-54",
        _ => "55_plus",
    }
}

/// The deployment's time zone: one of Indonesia's three, none with daylight saving time, so a
/// fixed offset is exact. WIB (Western Indonesia, UTC+7: Java, Sumatra, West and Central
/// Kalimantan) by default, the pilot's.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum TimeZone {
    /// Waktu Indonesia Barat, UTC+7 (Asia/Jakarta).
    #[default]
    Wib,
    /// Waktu Indonesia Tengah, UTC+8 (Asia/Makassar): Bali, Nusa Tenggara, Sulawesi, the
    /// rest of Kalimantan.
    Wita,
    /// Waktu Indonesia Timur, UTC+9 (Asia/Jayapura): Maluku and Papua.
    Wit,
}

impl TimeZone {
    pub fn offset(self) -> UtcOffset {
        let hours = match self {
            TimeZone::Wib => 7,
            TimeZone::Wita => 8,
            TimeZone::Wit => 9,
        };
        UtcOffset::from_hms(hours, 0, 0).expect("a whole number of hours is a valid offset")
    }

    /// The local calendar date on which `at` fell.
    pub fn local_date(self, at: OffsetDateTime) -> Date {
        at.to_offset(self.offset()).date()
    }

    /// Today's local date, by the system clock.
    pub fn today(self) -> Date {
        self.local_date(OffsetDateTime::now_utc())
    }

    /// The instant local day `date` is over: 00:00 local time of the next day. Whatever
    /// happens up to 23:59:59.999 on `date` is in time; a deadline scheduled at this instant
    /// fires only once the whole day has passed.
    pub fn end_of(self, date: Date) -> OffsetDateTime {
        let next = date.next_day().unwrap_or(Date::MAX);
        next.midnight()
            .assume_offset(self.offset())
            .to_offset(UtcOffset::UTC)
    }

    /// The end of local day `days` after the day of `at` (day 0 is the day of `at`): "within
    /// 7 days" of an investigation opened on Monday afternoon runs to the end of the next
    /// Monday, not to Monday afternoon.
    pub fn end_of_day_after(self, at: OffsetDateTime, days: i64) -> OffsetDateTime {
        let date = self
            .local_date(at)
            .checked_add(Duration::days(days))
            .unwrap_or(Date::MAX);
        self.end_of(date)
    }

    pub fn name(self) -> &'static str {
        match self {
            TimeZone::Wib => "WIB",
            TimeZone::Wita => "WITA",
            TimeZone::Wit => "WIT",
        }
    }
}

impl fmt::Display for TimeZone {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for TimeZone {
    type Err = String;

    /// `WIB`, `WITA` or `WIT` (any case), or the matching IANA name or offset.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim().to_ascii_uppercase().as_str() {
            "WIB" | "ASIA/JAKARTA" | "+07:00" | "UTC+7" => Ok(TimeZone::Wib),
            "WITA" | "ASIA/MAKASSAR" | "+08:00" | "UTC+8" => Ok(TimeZone::Wita),
            "WIT" | "ASIA/JAYAPURA" | "+09:00" | "UTC+9" => Ok(TimeZone::Wit),
            _ => Err(format!(
                "unknown time zone `{s}`; expected WIB (UTC+7), WITA (UTC+8) or WIT (UTC+9)"
            )),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::{date, datetime};

    #[test]
    fn ages_at_the_edges() {
        // The day before the 18th birthday, and the birthday itself.
        assert_eq!(
            age_in_years(date!(2008 - 06 - 15), date!(2026 - 06 - 14)),
            17
        );
        assert_eq!(
            age_in_years(date!(2008 - 06 - 15), date!(2026 - 06 - 15)),
            18
        );
        assert!(is_child(date!(2008 - 06 - 15), date!(2026 - 06 - 14)));
        assert!(!is_child(date!(2008 - 06 - 15), date!(2026 - 06 - 15)));
    }

    #[test]
    fn a_child_born_on_29_february_turns_18_on_1_march_of_a_common_year() {
        let born = date!(2008 - 02 - 29);
        // 2026 is a common year: still a child on 28 February, an adult on 1 March.
        assert!(is_child(born, date!(2026 - 02 - 28)));
        assert!(!is_child(born, date!(2026 - 03 - 01)));
        assert_eq!(age_in_years(born, date!(2026 - 03 - 01)), 18);
        // Years later, on a leap day and the day before it.
        assert_eq!(age_in_years(born, date!(2028 - 02 - 29)), 20);
        assert_eq!(age_in_years(born, date!(2028 - 02 - 28)), 19);
        // A leap year plus 18 is never a leap year, so every leap-day child turns 18 on
        // 1 March: born 2012, adult on 1 March 2030.
        assert!(is_child(date!(2012 - 02 - 29), date!(2030 - 02 - 28)));
        assert!(!is_child(date!(2012 - 02 - 29), date!(2030 - 03 - 01)));
        // Later ages on a leap day count from 29 February itself.
        assert_eq!(
            age_in_years(date!(2004 - 02 - 29), date!(2024 - 02 - 29)),
            20
        );
        assert_eq!(
            age_in_years(date!(2004 - 02 - 29), date!(2024 - 02 - 28)),
            19
        );
    }

    #[test]
    fn within_12_months_is_the_same_date_a_year_later() {
        // 366 days across 29 February 2028, on the same date: within.
        assert!(within_months(
            date!(2027 - 06 - 10),
            date!(2028 - 06 - 10),
            12
        ));
        assert!(!within_months(
            date!(2027 - 06 - 10),
            date!(2028 - 06 - 11),
            12
        ));
        // From a leap day: through 1 March of the common year that follows.
        assert_eq!(
            months_after(date!(2028 - 02 - 29), 12),
            date!(2029 - 03 - 01)
        );
        assert!(within_months(
            date!(2028 - 02 - 29),
            date!(2029 - 03 - 01),
            12
        ));
        assert!(!within_months(
            date!(2028 - 02 - 29),
            date!(2029 - 03 - 02),
            12
        ));
        // Into a leap year's 29 February, and from one to the next leap day.
        assert_eq!(
            months_after(date!(2027 - 02 - 28), 12),
            date!(2028 - 02 - 28)
        );
        assert_eq!(
            months_after(date!(2028 - 02 - 29), 48),
            date!(2032 - 02 - 29)
        );
        // Month ends and year ends.
        assert_eq!(
            months_after(date!(2026 - 01 - 31), 1),
            date!(2026 - 03 - 01)
        );
        assert_eq!(
            months_after(date!(2026 - 12 - 15), 1),
            date!(2027 - 01 - 15)
        );
        assert_eq!(
            months_after(date!(2026 - 12 - 31), 2),
            date!(2027 - 03 - 01)
        );
        // Earlier is not within.
        assert!(!within_months(
            date!(2026 - 06 - 10),
            date!(2026 - 06 - 09),
            12
        ));
    }

    #[test]
    fn the_local_date_is_the_indonesian_one() {
        // 00:30 WIB on 15 June is still 14 June in UTC.
        let at = datetime!(2026-06-14 17:30 UTC);
        assert_eq!(TimeZone::Wib.local_date(at), date!(2026 - 06 - 15));
        assert_eq!(TimeZone::Wita.local_date(at), date!(2026 - 06 - 15));
        assert_eq!(
            TimeZone::Wib.local_date(datetime!(2026-06-14 16:59:59.999 UTC)),
            date!(2026 - 06 - 14)
        );
        // 06:00 WIT is 21:00 UTC the day before.
        assert_eq!(
            TimeZone::Wit.local_date(datetime!(2026-06-14 21:00 UTC)),
            date!(2026 - 06 - 15)
        );
    }

    #[test]
    fn a_deadline_of_n_days_ends_with_local_day_n() {
        // Opened 16:00 WIB on 1 April: 7 days end at 23:59:59.999 WIB on 8 April.
        let opened = datetime!(2026-04-01 09:00 UTC);
        let end = TimeZone::Wib.end_of_day_after(opened, 7);
        assert_eq!(end, datetime!(2026-04-08 17:00 UTC));
        assert_eq!(
            end - Duration::milliseconds(1),
            datetime!(2026-04-08 23:59:59.999 +7)
        );
        // Opened at 06:00 WIB (still the day before in UTC): day 0 is the WIB day.
        let early = datetime!(2026-04-01 06:00 +7);
        assert_eq!(
            TimeZone::Wib.end_of_day_after(early, 7),
            datetime!(2026-04-09 00:00 +7)
        );
        // The same instant in WIT ends at WIT midnight.
        assert_eq!(
            TimeZone::Wit.end_of_day_after(opened, 0),
            datetime!(2026-04-02 00:00 +9)
        );
    }

    #[test]
    fn time_zones_by_name() {
        assert_eq!("WIB".parse::<TimeZone>().unwrap(), TimeZone::Wib);
        assert_eq!("wita".parse::<TimeZone>().unwrap(), TimeZone::Wita);
        assert_eq!("Asia/Jayapura".parse::<TimeZone>().unwrap(), TimeZone::Wit);
        assert!("UTC".parse::<TimeZone>().unwrap_err().contains("WIB"));
        assert_eq!(TimeZone::default(), TimeZone::Wib);
        assert_eq!(TimeZone::Wita.offset().whole_hours(), 8);
    }
}
