//! Serde adapters between `time` types and Avro logical types, so the Rust types stay typed
//! while the wire carries `timestamp-millis` and `date`.

pub mod millis {
    use serde::{Deserialize, Deserializer, Serializer};
    use time::OffsetDateTime;

    /// Now, at the contract's precision, so a value survives a round trip unchanged.
    pub fn now() -> OffsetDateTime {
        let now = OffsetDateTime::now_utc();
        from_millis(to_millis(&now)).expect("now is in range")
    }

    pub fn to_millis(t: &OffsetDateTime) -> i64 {
        (t.unix_timestamp_nanos() / 1_000_000) as i64
    }

    pub fn from_millis(ms: i64) -> Result<OffsetDateTime, time::error::ComponentRange> {
        OffsetDateTime::from_unix_timestamp_nanos(ms as i128 * 1_000_000)
    }

    pub fn serialize<S: Serializer>(t: &OffsetDateTime, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_i64(to_millis(t))
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<OffsetDateTime, D::Error> {
        from_millis(i64::deserialize(d)?).map_err(serde::de::Error::custom)
    }

    pub mod option {
        use super::*;
        pub fn serialize<S: Serializer>(
            t: &Option<OffsetDateTime>,
            s: S,
        ) -> Result<S::Ok, S::Error> {
            match t {
                Some(t) => s.serialize_some(&to_millis(t)),
                None => s.serialize_none(),
            }
        }
        pub fn deserialize<'de, D: Deserializer<'de>>(
            d: D,
        ) -> Result<Option<OffsetDateTime>, D::Error> {
            Option::<i64>::deserialize(d)?
                .map(from_millis)
                .transpose()
                .map_err(serde::de::Error::custom)
        }
    }
}

pub mod days {
    use serde::{Deserialize, Deserializer, Serializer};
    use time::{Date, Duration};

    const EPOCH: Date = time::macros::date!(1970 - 01 - 01);

    pub fn serialize<S: Serializer>(d: &Date, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_i32((*d - EPOCH).whole_days() as i32)
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Date, D::Error> {
        let days = i32::deserialize(d)?;
        EPOCH
            .checked_add(Duration::days(days.into()))
            .ok_or_else(|| {
                serde::de::Error::custom(format!("date {days} days from epoch is out of range"))
            })
    }

    pub mod option {
        use super::*;
        pub fn serialize<S: Serializer>(d: &Option<Date>, s: S) -> Result<S::Ok, S::Error> {
            match d {
                Some(d) => s.serialize_some(&((*d - EPOCH).whole_days() as i32)),
                None => s.serialize_none(),
            }
        }
        pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Date>, D::Error> {
            Option::<i32>::deserialize(d)?
                .map(|days| {
                    EPOCH
                        .checked_add(Duration::days(days.into()))
                        .ok_or_else(|| {
                            serde::de::Error::custom(format!(
                                "date {days} days from epoch is out of range"
                            ))
                        })
                })
                .transpose()
        }
    }
}

/// Age in completed years on `on` of someone born on `born`. A birthday on 29 February falls
/// on 1 March in years without one (the day after 28 February, as civil registries count).
pub fn age_in_years(born: time::Date, on: time::Date) -> i32 {
    let mut age = on.year() - born.year();
    // Comparing (month, day) puts 29 February after 28 February and before 1 March.
    if (on.month() as u8, on.day()) < (born.month() as u8, born.day()) {
        age -= 1;
    }
    age
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

#[cfg(test)]
mod age_tests {
    use super::age_in_years;
    use time::macros::date;

    #[test]
    fn ages_at_the_edges() {
        assert_eq!(
            age_in_years(date!(2008 - 06 - 15), date!(2026 - 06 - 14)),
            17
        );
        assert_eq!(
            age_in_years(date!(2008 - 06 - 15), date!(2026 - 06 - 15)),
            18
        );
        // Born on 29 February: 18 on 1 March of a common year, not before.
        assert_eq!(
            age_in_years(date!(2008 - 02 - 29), date!(2026 - 02 - 28)),
            17
        );
        assert_eq!(
            age_in_years(date!(2008 - 02 - 29), date!(2026 - 03 - 01)),
            18
        );
        assert_eq!(
            age_in_years(date!(2008 - 02 - 29), date!(2028 - 02 - 29)),
            20
        );
        assert_eq!(
            age_in_years(date!(2008 - 02 - 29), date!(2028 - 02 - 28)),
            19
        );
    }
}
