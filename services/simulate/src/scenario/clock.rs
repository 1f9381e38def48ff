//! Time as the model counts it: Unix seconds for instants, and local (WIB, UTC+7) day
//! numbers since 1970-01-01 for days, because Cilacap's offices open and close by the local
//! clock and the rules decide days on it too. Text forms are those the intakes accept.

use time::format_description::well_known::Rfc3339;
use time::{Date, OffsetDateTime, UtcOffset};

pub(super) const MINUTE: i64 = 60;
pub(super) const HOUR: i64 = 3600;
pub(super) const DAY: i64 = 86_400;
/// Western Indonesia Time (WIB), UTC+7: Cilacap's clock.
const WIB: i64 = 7 * HOUR;

pub(super) fn wib() -> UtcOffset {
    UtcOffset::from_whole_seconds(WIB as i32).expect("valid offset")
}

/// Local (WIB) day number since 1970-01-01.
pub(super) fn local_day(t: i64) -> i64 {
    (t + WIB).div_euclid(DAY)
}

pub(super) fn day_start(day: i64) -> i64 {
    day * DAY - WIB
}

/// 0 = Monday ... 6 = Sunday (1970-01-01 was a Thursday).
pub(super) fn weekday(day: i64) -> i64 {
    (day + 3).rem_euclid(7)
}

/// The day itself, or the Monday after a weekend.
pub(super) fn working_day(day: i64) -> i64 {
    match weekday(day) {
        5 => day + 2,
        6 => day + 1,
        _ => day,
    }
}

pub(super) fn date_of_day(day: i64) -> Date {
    Date::from_julian_day((day + 2_440_588) as i32).expect("date in range")
}

pub(super) fn date_text(date: Date) -> String {
    format!(
        "{:04}-{:02}-{:02}",
        date.year(),
        date.month() as u8,
        date.day()
    )
}

pub(super) fn time_text(t: i64) -> String {
    OffsetDateTime::from_unix_timestamp(t)
        .expect("in range")
        .to_offset(wib())
        .format(&Rfc3339)
        .expect("formattable")
}
