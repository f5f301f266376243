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
