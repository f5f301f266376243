//! How stored timestamps are written in JSON.

use serde::Serialize;

/// Serialises stored UTC timestamps (`NaiveDateTime`) as RFC 3339 with a `Z`, as every
/// timestamp in the API is. Use with `#[serde(serialize_with = "utc")]` and
/// `#[schema(value_type = String, format = DateTime)]`.
pub fn utc<S: serde::Serializer>(time: &chrono::NaiveDateTime, serializer: S) -> Result<S::Ok, S::Error> {
    time.and_utc().serialize(serializer)
}

/// [`utc`] for optional timestamps.
pub fn utc_opt<S: serde::Serializer>(time: &Option<chrono::NaiveDateTime>, serializer: S) -> Result<S::Ok, S::Error> {
    time.map(|t| t.and_utc()).serialize(serializer)
}

/// Stored timestamps written and read as RFC 3339 (`…Z`, microseconds kept), for archives that
/// must come back exactly as they were: `#[serde(with = "crate::timestamps::rfc3339")]`.
pub mod rfc3339 {
    use chrono::{DateTime, NaiveDateTime, SecondsFormat, SubsecRound, Utc};
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(time: &NaiveDateTime, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&time.and_utc().to_rfc3339_opts(SecondsFormat::AutoSi, true))
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(deserializer: D) -> Result<NaiveDateTime, D::Error> {
        let text = String::deserialize(deserializer)?;
        let time = DateTime::parse_from_rfc3339(&text).map_err(serde::de::Error::custom)?;
        // As stored: microseconds.
        Ok(time.with_timezone(&Utc).naive_utc().trunc_subsecs(6))
    }
}

/// [`rfc3339`] for optional timestamps (`null` when absent).
pub mod rfc3339_opt {
    use chrono::NaiveDateTime;
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(time: &Option<NaiveDateTime>, serializer: S) -> Result<S::Ok, S::Error> {
        match time {
            Some(time) => crate::timestamps::rfc3339::serialize(time, serializer),
            None => serializer.serialize_none(),
        }
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Option<NaiveDateTime>, D::Error> {
        #[derive(Deserialize)]
        struct Wrapped(#[serde(with = "crate::timestamps::rfc3339")] NaiveDateTime);
        Ok(Option::<Wrapped>::deserialize(deserializer)?.map(|Wrapped(time)| time))
    }
}
