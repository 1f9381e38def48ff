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

// Ages live with the rest of the calendar; kept here too for callers written before.
pub use crate::calendar::{age_band, age_in_years};
