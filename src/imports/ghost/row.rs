//! A row of a Ghost export as a pass keeps it: the fields it asked for, scalars kept and lists
//! or objects only named, and how each is read (Ghost's types changed between versions: ids and
//! flags were numbers before Ghost 1, times milliseconds).

/// A row's value for one field asked for: scalars kept, lists and objects only named.
#[derive(Debug, Clone, PartialEq)]
pub enum Field {
    Null,
    Bool(bool),
    Number(serde_json::Number),
    Text(String),
    /// A list or an object, skipped.
    Other(&'static str),
}

impl Field {
    pub(super) fn kind(&self) -> &'static str {
        match self {
            Field::Null => "null",
            Field::Bool(_) => "a boolean",
            Field::Number(_) => "a number",
            Field::Text(_) => "text",
            Field::Other(kind) => kind,
        }
    }
}

/// The fields asked for of one row, as the file has them.
#[derive(Debug, Default)]
pub struct Row {
    pub(super) fields: Vec<(&'static str, Field)>,
}

impl Row {
    pub(super) fn get(&self, name: &str) -> Option<&Field> {
        self.fields.iter().find(|(field, _)| *field == name).map(|(_, value)| value)
    }
}

/// The longest id kept (Ghost's are 24 hexadecimal digits).
const MAX_ID_CHARS: usize = 64;

/// A row's text field: `None` when missing or null; `Err` when it is not text.
pub fn text<'r>(row: &'r Row, field: &str) -> Result<Option<&'r str>, String> {
    match row.get(field) {
        None | Some(Field::Null) => Ok(None),
        Some(Field::Text(text)) => Ok(Some(text.as_str())),
        Some(other) => Err(format!("`{field}` is {}, not text", other.kind())),
    }
}

/// A row's id field (text, or a number in older exports), at most 64 characters.
pub fn id(row: &Row, field: &str) -> Result<Option<String>, String> {
    let id = match row.get(field) {
        None | Some(Field::Null) => return Ok(None),
        Some(Field::Text(text)) if !text.trim().is_empty() => text.trim().to_string(),
        Some(Field::Number(number)) => number.to_string(),
        Some(other) => return Err(format!("`{field}` is {}, not an id", other.kind())),
    };
    match id.chars().count() > MAX_ID_CHARS {
        true => Err(format!("`{field}` is longer than {MAX_ID_CHARS} characters")),
        false => Ok(Some(id)),
    }
}

/// A row's flag: `true`/`false`, or 1/0 in older exports; missing is false.
pub fn flag(row: &Row, field: &str) -> Result<bool, String> {
    match row.get(field) {
        None | Some(Field::Null) => Ok(false),
        Some(Field::Bool(flag)) => Ok(*flag),
        Some(Field::Number(number)) => Ok(number.as_f64().is_some_and(|n| n != 0.0)),
        Some(other) => Err(format!("`{field}` is {}, not true or false", other.kind())),
    }
}

/// A row's number (a sort order); missing is 0.
pub fn number(row: &Row, field: &str) -> i64 {
    match row.get(field) {
        Some(Field::Number(number)) => number.as_i64().unwrap_or(0),
        _ => 0,
    }
}

/// A row's time: RFC 3339 (`2019-01-01T10:00:00.000Z`), `2019-01-01 10:00:00` (UTC), or
/// milliseconds since 1970 in older exports.
pub fn time(row: &Row, field: &str) -> Result<Option<chrono::NaiveDateTime>, String> {
    use chrono::SubsecRound;
    let parsed = match row.get(field) {
        None | Some(Field::Null) => return Ok(None),
        Some(Field::Text(text)) => chrono::DateTime::parse_from_rfc3339(text.trim())
            .map(|t| t.naive_utc())
            .or_else(|_| chrono::NaiveDateTime::parse_from_str(text.trim(), "%Y-%m-%d %H:%M:%S"))
            .ok(),
        Some(Field::Number(millis)) => {
            millis.as_i64().and_then(chrono::DateTime::from_timestamp_millis).map(|t| t.naive_utc())
        }
        Some(_) => None,
    };
    parsed.map(|t| Some(t.trunc_subsecs(6))).ok_or_else(|| format!("`{field}` is not a time"))
}
