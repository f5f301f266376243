//! How optional JSON fields are read: absent, `null` and a value mean different things in a
//! partial update (`PATCH`), and serde needs telling which.

/// For optional fields that must not be `null` (`#[serde(default, deserialize_with = "non_null")]`,
/// with `#[schema(nullable = false)]`): absent is `None`, `null` is a 422 naming the field, instead
/// of being taken silently for "absent".
pub fn non_null<'de, D, T>(deserializer: D) -> Result<Option<T>, D::Error>
where
    D: serde::Deserializer<'de>,
    T: serde::Deserialize<'de>,
{
    match <Option<T> as serde::Deserialize>::deserialize(deserializer)? {
        Some(value) => Ok(Some(value)),
        None => Err(serde::de::Error::custom("must not be null (leave the field out to keep it as it is)")),
    }
}

/// For `Option<Option<T>>` fields with `#[serde(default, deserialize_with = "present")]`: absent
/// is `None` (leave as is), `null` is `Some(None)` (clear), a value is `Some(Some(v))`.
pub fn present<'de, D, T>(deserializer: D) -> Result<Option<Option<T>>, D::Error>
where
    D: serde::Deserializer<'de>,
    T: serde::Deserialize<'de>,
{
    serde::Deserialize::deserialize(deserializer).map(Some)
}

/// An optional text field as sent: trimmed, an empty string meaning "none".
pub fn trimmed(value: Option<&str>) -> Option<String> {
    value.map(str::trim).filter(|v| !v.is_empty()).map(str::to_string)
}
