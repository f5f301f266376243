//! A Ghost export (`{"db": [{"meta": …, "data": {"posts": [...], …}}]}`, or its inner object
//! alone) read as a stream: the tables a pass asks for are handed over one row at a time, the
//! others skipped without being kept, so memory does not grow with the file. Each row, and each
//! key, is bounded in bytes before it is read.

use std::io::BufRead;

use serde::de::{self, DeserializeSeed, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde_json::{Map, Value};

use crate::imports::bounded::{Bounded, Budget};

/// The most one row may take (a post with its HTML, Mobiledoc or Lexical, and plain text).
const MAX_ROW_BYTES: u64 = 64 * 1024 * 1024;
/// The most a key, or the `meta` object, may take.
const MAX_SMALL_BYTES: u64 = 1024 * 1024;

/// What a pass is handed.
pub trait Rows {
    /// Whether the rows of `table` are wanted (the others are skipped).
    fn wants(&self, table: &str) -> bool;
    /// The export's `meta.version`, when the file has one.
    fn version(&mut self, version: String);
    /// One row of a wanted table, in the file's order; a row that is not an object is `Err`.
    fn row(&mut self, table: &str, row: Result<Map<String, Value>, String>);
}

/// Reads a Ghost export from `input`, handing `rows` what it asks for and `progress` the bytes
/// read so far at each row; `Err` says why the file is not one, or where it is broken (not JSON,
/// cut short, a row past the size limit).
pub fn read(input: impl BufRead, rows: &mut dyn Rows, progress: &mut dyn FnMut(u64)) -> Result<(), String> {
    let too_long = format!("a row or key larger than {} MiB", MAX_ROW_BYTES / 1024 / 1024);
    let (input, budget) = Bounded::new(input, MAX_SMALL_BYTES, too_long);
    let mut deserializer = serde_json::Deserializer::from_reader(input);
    let mut state = State { rows, budget, progress, saw_data: false };
    Top(&mut state).deserialize(&mut deserializer).map_err(|e| e.to_string())?;
    deserializer.end().map_err(|e| e.to_string())?;
    if !state.saw_data {
        return Err("it has no `data` object: not a Ghost export".into());
    }
    Ok(())
}

struct State<'r> {
    rows: &'r mut dyn Rows,
    budget: Budget,
    progress: &'r mut dyn FnMut(u64),
    saw_data: bool,
}

impl State<'_> {
    /// Skips a value without keeping it (so without a limit), then bounds the next key.
    fn skip<'de, A: MapAccess<'de>>(&self, map: &mut A) -> Result<(), A::Error> {
        self.budget.lift();
        map.next_value::<IgnoredAny>()?;
        self.budget.set(MAX_SMALL_BYTES);
        Ok(())
    }
}

/// The whole file: `{"db": [export, …]}` or an export itself.
struct Top<'s, 'r>(&'s mut State<'r>);
/// `{"meta": …, "data": …}`.
struct Export<'s, 'r>(&'s mut State<'r>);
/// The `db` list: its first export is read, as Ghost writes one.
struct Exports<'s, 'r>(&'s mut State<'r>);
/// `{"posts": [...], "tags": [...], …}`.
struct Data<'s, 'r>(&'s mut State<'r>);
/// One table's rows.
struct Table<'s, 'r> {
    state: &'s mut State<'r>,
    name: String,
}

impl<'de> DeserializeSeed<'de> for Top<'_, '_> {
    type Value = ();
    fn deserialize<D: de::Deserializer<'de>>(self, deserializer: D) -> Result<(), D::Error> {
        deserializer.deserialize_map(self)
    }
}

impl<'de> Visitor<'de> for Top<'_, '_> {
    type Value = ();
    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("a Ghost export (an object with `db`, or `meta` and `data`)")
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        while let Some(key) = map.next_key::<String>()? {
            match key.as_str() {
                "db" => map.next_value_seed(Exports(&mut *self.0))?,
                "meta" | "data" => export_field(&mut *self.0, &key, &mut map)?,
                _ => self.0.skip(&mut map)?,
            }
        }
        Ok(())
    }
}

/// `meta` or `data`, wherever the export is.
fn export_field<'de, A: MapAccess<'de>>(state: &mut State, key: &str, map: &mut A) -> Result<(), A::Error> {
    if key == "data" {
        state.saw_data = true;
        return map.next_value_seed(Data(state));
    }
    #[derive(serde::Deserialize)]
    struct Meta {
        version: Option<Value>,
    }
    let meta: Meta = map.next_value()?;
    match meta.version {
        Some(Value::String(version)) => state.rows.version(version),
        Some(Value::Number(version)) => state.rows.version(version.to_string()),
        _ => {}
    }
    Ok(())
}

impl<'de> DeserializeSeed<'de> for Exports<'_, '_> {
    type Value = ();
    fn deserialize<D: de::Deserializer<'de>>(self, deserializer: D) -> Result<(), D::Error> {
        deserializer.deserialize_seq(self)
    }
}

impl<'de> Visitor<'de> for Exports<'_, '_> {
    type Value = ();
    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("a list of exports")
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        if seq.next_element_seed(Export(&mut *self.0))?.is_none() {
            return Ok(());
        }
        self.0.budget.lift();
        while seq.next_element::<IgnoredAny>()?.is_some() {}
        self.0.budget.set(MAX_SMALL_BYTES);
        Ok(())
    }
}

impl<'de> DeserializeSeed<'de> for Export<'_, '_> {
    type Value = ();
    fn deserialize<D: de::Deserializer<'de>>(self, deserializer: D) -> Result<(), D::Error> {
        deserializer.deserialize_map(self)
    }
}

impl<'de> Visitor<'de> for Export<'_, '_> {
    type Value = ();
    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("an export (an object with `meta` and `data`)")
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        while let Some(key) = map.next_key::<String>()? {
            match key.as_str() {
                "meta" | "data" => export_field(&mut *self.0, &key, &mut map)?,
                _ => self.0.skip(&mut map)?,
            }
        }
        Ok(())
    }
}

impl<'de> DeserializeSeed<'de> for Data<'_, '_> {
    type Value = ();
    fn deserialize<D: de::Deserializer<'de>>(self, deserializer: D) -> Result<(), D::Error> {
        deserializer.deserialize_map(self)
    }
}

impl<'de> Visitor<'de> for Data<'_, '_> {
    type Value = ();
    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("the export's tables (an object of lists)")
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        while let Some(name) = map.next_key::<String>()? {
            if self.0.rows.wants(&name) {
                map.next_value_seed(Table { state: &mut *self.0, name })?;
                self.0.budget.set(MAX_SMALL_BYTES);
            } else {
                self.0.skip(&mut map)?;
            }
        }
        Ok(())
    }
}

impl<'de> DeserializeSeed<'de> for Table<'_, '_> {
    type Value = ();
    fn deserialize<D: de::Deserializer<'de>>(self, deserializer: D) -> Result<(), D::Error> {
        deserializer.deserialize_seq(self)
    }
}

impl<'de> Visitor<'de> for Table<'_, '_> {
    type Value = ();
    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        write!(f, "a list of {} rows", self.name)
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        loop {
            self.state.budget.set(MAX_ROW_BYTES);
            let Some(row) = seq.next_element::<Value>()? else { break };
            let row = match row {
                Value::Object(row) => Ok(row),
                other => Err(format!("a row that is not an object: {}", kind_of(&other))),
            };
            self.state.rows.row(&self.name, row);
            (self.state.progress)(self.state.budget.read());
        }
        Ok(())
    }
}

fn kind_of(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "a list",
        Value::Object(_) => "an object",
    }
}

/// A row's text field: `None` when missing or null; `Err` when it is not text.
pub fn text<'r>(row: &'r Map<String, Value>, field: &str) -> Result<Option<&'r str>, String> {
    match row.get(field) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(text)) => Ok(Some(text.as_str())),
        Some(other) => Err(format!("`{field}` is {}, not text", kind_of(other))),
    }
}

/// A row's id field (text, or a number in older exports).
pub fn id(row: &Map<String, Value>, field: &str) -> Result<Option<String>, String> {
    match row.get(field) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(text)) if !text.trim().is_empty() => Ok(Some(text.trim().to_string())),
        Some(Value::Number(number)) => Ok(Some(number.to_string())),
        Some(other) => Err(format!("`{field}` is {}, not an id", kind_of(other))),
    }
}

/// A row's flag: `true`/`false`, or 1/0 in older exports; missing is false.
pub fn flag(row: &Map<String, Value>, field: &str) -> Result<bool, String> {
    match row.get(field) {
        None | Some(Value::Null) => Ok(false),
        Some(Value::Bool(flag)) => Ok(*flag),
        Some(Value::Number(number)) => Ok(number.as_f64().is_some_and(|n| n != 0.0)),
        Some(other) => Err(format!("`{field}` is {}, not true or false", kind_of(other))),
    }
}

/// A row's number (a sort order); missing is 0.
pub fn number(row: &Map<String, Value>, field: &str) -> i64 {
    row.get(field).and_then(Value::as_i64).unwrap_or(0)
}

/// A row's time: RFC 3339 (`2019-01-01T10:00:00.000Z`), `2019-01-01 10:00:00` (UTC), or
/// milliseconds since 1970 in older exports.
pub fn time(row: &Map<String, Value>, field: &str) -> Result<Option<chrono::NaiveDateTime>, String> {
    use chrono::SubsecRound;
    let parsed = match row.get(field) {
        None | Some(Value::Null) => return Ok(None),
        Some(Value::String(text)) => chrono::DateTime::parse_from_rfc3339(text.trim())
            .map(|t| t.naive_utc())
            .or_else(|_| chrono::NaiveDateTime::parse_from_str(text.trim(), "%Y-%m-%d %H:%M:%S"))
            .ok(),
        Some(Value::Number(millis)) => {
            millis.as_i64().and_then(chrono::DateTime::from_timestamp_millis).map(|t| t.naive_utc())
        }
        Some(_) => None,
    };
    parsed.map(|t| Some(t.trunc_subsecs(6))).ok_or_else(|| format!("`{field}` is not a time"))
}
