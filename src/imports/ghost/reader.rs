//! A Ghost export (`{"db": [{"meta": …, "data": {"posts": [...], …}}]}`, or its inner object
//! alone) read as a stream: the tables a pass asks for are handed over one row at a time, with
//! only the fields it asks for; everything else is skipped without being kept, so memory does not
//! grow with the file. Every row and key is bounded in bytes before it is read, and nesting in
//! depth (serde_json keeps a byte per level of what it skips).

use std::io::{BufRead, Read};

use serde::de::{self, DeserializeSeed, IgnoredAny, MapAccess, SeqAccess, Visitor};

use super::row::{Field, Row};
use crate::imports::bounded::{Bounded, Budget};

/// What one read may take.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// One row (a post with its HTML, Mobiledoc or Lexical, and plain text).
    pub row_bytes: u64,
    /// A key, the `meta` object, or what lies between two keys.
    pub small_bytes: u64,
    /// How deep arrays and objects nest anywhere in the file (an export nests five levels).
    pub depth: u32,
}

impl Default for Limits {
    fn default() -> Self {
        Self { row_bytes: 64 * 1024 * 1024, small_bytes: 1024 * 1024, depth: 64 }
    }
}

/// What a pass is handed.
pub trait Rows {
    /// The fields kept of `table`'s rows; `None` skips the table.
    fn fields(&self, table: &str) -> Option<&'static [&'static str]>;
    /// The export's `meta.version`, when the file has one.
    fn version(&mut self, version: String);
    /// One row of a table asked for, in the file's order (`Err` for a row that is not an
    /// object); `Err` back stops the read with that reason.
    fn row(&mut self, table: &str, row: Result<Row, String>) -> Result<(), String>;
}

/// Reads a Ghost export from `input`, handing `rows` what it asks for and `progress` the bytes
/// read so far at each row; `Err` says why the file is not one, or where it is broken (not JSON,
/// cut short, past a limit).
pub fn read(
    input: impl BufRead,
    rows: &mut dyn Rows,
    limits: Limits,
    progress: &mut dyn FnMut(u64),
) -> Result<(), String> {
    let too_long = format!(
        "a row larger than {} MiB, or a key or `meta` larger than {} KiB",
        limits.row_bytes / 1024 / 1024,
        limits.small_bytes / 1024
    );
    let (input, budget) = Bounded::new(input, limits.small_bytes, too_long);
    let input = Depth { inner: input, depth: 0, max: limits.depth, in_text: false, escaped: false };
    let mut deserializer = serde_json::Deserializer::from_reader(input);
    let mut state = State { rows, budget, limits, progress, saw_data: false };
    Top(&mut state).deserialize(&mut deserializer).map_err(|e| e.to_string())?;
    state.budget.lift();
    deserializer.end().map_err(|e| e.to_string())?;
    if !state.saw_data {
        return Err("it has no `data` object: not a Ghost export".into());
    }
    Ok(())
}

/// The input, failing past `max` levels of arrays and objects (strings told apart).
struct Depth<R> {
    inner: R,
    depth: u32,
    max: u32,
    in_text: bool,
    escaped: bool,
}

impl<R: Read> Read for Depth<R> {
    fn read(&mut self, out: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(out)?;
        for &byte in &out[..n] {
            if self.in_text {
                match (self.escaped, byte) {
                    (true, _) => self.escaped = false,
                    (false, b'\\') => self.escaped = true,
                    (false, b'"') => self.in_text = false,
                    _ => {}
                }
                continue;
            }
            match byte {
                b'"' => self.in_text = true,
                b'[' | b'{' => {
                    self.depth += 1;
                    if self.depth > self.max {
                        return Err(std::io::Error::other(format!("lists or objects nested over {} deep", self.max)));
                    }
                }
                b']' | b'}' => self.depth = self.depth.saturating_sub(1),
                _ => {}
            }
        }
        Ok(n)
    }
}

struct State<'r> {
    rows: &'r mut dyn Rows,
    budget: Budget,
    limits: Limits,
    progress: &'r mut dyn FnMut(u64),
    saw_data: bool,
}

impl State<'_> {
    /// Skips a value without keeping it (so without a size limit: the depth is still bounded),
    /// then bounds what comes next.
    fn skip<'de, A: MapAccess<'de>>(&self, map: &mut A) -> Result<(), A::Error> {
        self.budget.lift();
        map.next_value::<IgnoredAny>()?;
        self.budget.set(self.limits.small_bytes);
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
    fields: &'static [&'static str],
}
/// One row: the fields asked for.
struct RowSeed(&'static [&'static str]);
/// One field's value.
struct FieldSeed;

/// The `Deserialize` plumbing of a seed that is its own visitor.
macro_rules! seed {
    ($type:ty, $method:ident, $value:ty) => {
        impl<'de> DeserializeSeed<'de> for $type {
            type Value = $value;
            fn deserialize<D: de::Deserializer<'de>>(self, deserializer: D) -> Result<$value, D::Error> {
                deserializer.$method(self)
            }
        }
    };
}
seed!(Top<'_, '_>, deserialize_map, ());
seed!(Export<'_, '_>, deserialize_map, ());
seed!(Exports<'_, '_>, deserialize_seq, ());
seed!(Data<'_, '_>, deserialize_map, ());
seed!(Table<'_, '_>, deserialize_seq, ());
seed!(RowSeed, deserialize_any, Result<Row, String>);
seed!(FieldSeed, deserialize_any, Field);

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
        version: Option<serde_json::Value>,
    }
    let meta: Meta = map.next_value()?;
    match meta.version {
        Some(serde_json::Value::String(version)) => state.rows.version(version),
        Some(serde_json::Value::Number(version)) => state.rows.version(version.to_string()),
        _ => {}
    }
    Ok(())
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
        self.0.budget.set(self.0.limits.small_bytes);
        Ok(())
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

impl<'de> Visitor<'de> for Data<'_, '_> {
    type Value = ();
    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("the export's tables (an object of lists)")
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        while let Some(name) = map.next_key::<String>()? {
            match self.0.rows.fields(&name) {
                Some(fields) => {
                    map.next_value_seed(Table { state: &mut *self.0, name, fields })?;
                    self.0.budget.set(self.0.limits.small_bytes);
                }
                None => self.0.skip(&mut map)?,
            }
        }
        Ok(())
    }
}

impl<'de> Visitor<'de> for Table<'_, '_> {
    type Value = ();
    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        write!(f, "a list of {} rows", self.name)
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        loop {
            self.state.budget.set(self.state.limits.row_bytes);
            let Some(row) = seq.next_element_seed(RowSeed(self.fields))? else { break };
            self.state.rows.row(&self.name, row).map_err(de::Error::custom)?;
            (self.state.progress)(self.state.budget.read());
        }
        Ok(())
    }
}

impl<'de> Visitor<'de> for RowSeed {
    type Value = Result<Row, String>;
    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("a row")
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let mut row = Row::default();
        while let Some(key) = map.next_key::<String>()? {
            match self.0.iter().find(|field| **field == key) {
                Some(field) => row.fields.push((field, map.next_value_seed(FieldSeed)?)),
                None => {
                    map.next_value::<IgnoredAny>()?;
                }
            }
        }
        Ok(Ok(row))
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
        while seq.next_element::<IgnoredAny>()?.is_some() {}
        Ok(Err("a row that is a list, not an object".into()))
    }
    fn visit_bool<E>(self, _: bool) -> Result<Self::Value, E> {
        Ok(Err("a row that is a boolean, not an object".into()))
    }
    fn visit_i64<E>(self, _: i64) -> Result<Self::Value, E> {
        Ok(Err("a row that is a number, not an object".into()))
    }
    fn visit_u64<E>(self, _: u64) -> Result<Self::Value, E> {
        Ok(Err("a row that is a number, not an object".into()))
    }
    fn visit_f64<E>(self, _: f64) -> Result<Self::Value, E> {
        Ok(Err("a row that is a number, not an object".into()))
    }
    fn visit_str<E>(self, _: &str) -> Result<Self::Value, E> {
        Ok(Err("a row that is text, not an object".into()))
    }
    fn visit_unit<E>(self) -> Result<Self::Value, E> {
        Ok(Err("a row that is null, not an object".into()))
    }
}

impl<'de> Visitor<'de> for FieldSeed {
    type Value = Field;
    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("a value")
    }
    fn visit_bool<E>(self, value: bool) -> Result<Field, E> {
        Ok(Field::Bool(value))
    }
    fn visit_i64<E>(self, value: i64) -> Result<Field, E> {
        Ok(Field::Number(value.into()))
    }
    fn visit_u64<E>(self, value: u64) -> Result<Field, E> {
        Ok(Field::Number(value.into()))
    }
    fn visit_f64<E>(self, value: f64) -> Result<Field, E> {
        Ok(serde_json::Number::from_f64(value).map_or(Field::Null, Field::Number))
    }
    fn visit_str<E>(self, value: &str) -> Result<Field, E> {
        Ok(Field::Text(value.to_string()))
    }
    fn visit_string<E>(self, value: String) -> Result<Field, E> {
        Ok(Field::Text(value))
    }
    fn visit_unit<E>(self) -> Result<Field, E> {
        Ok(Field::Null)
    }
    fn visit_none<E>(self) -> Result<Field, E> {
        Ok(Field::Null)
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Field, A::Error> {
        while seq.next_element::<IgnoredAny>()?.is_some() {}
        Ok(Field::Other("a list"))
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Field, A::Error> {
        while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
        Ok(Field::Other("an object"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::imports::ghost::row::{id, text};

    /// Keeps every row of every table, with the fields `id` and `title`.
    #[derive(Default)]
    struct Kept {
        rows: Vec<(String, Result<Row, String>)>,
    }

    impl Rows for Kept {
        fn fields(&self, table: &str) -> Option<&'static [&'static str]> {
            (table != "skipped").then_some(&["id", "title"])
        }
        fn version(&mut self, _: String) {}
        fn row(&mut self, table: &str, row: Result<Row, String>) -> Result<(), String> {
            self.rows.push((table.to_string(), row));
            Ok(())
        }
    }

    const SMALL: Limits = Limits { row_bytes: 1000, small_bytes: 100, depth: 16 };

    fn read_str(json: &str, limits: Limits) -> (Result<(), String>, Kept) {
        let mut kept = Kept::default();
        let result = read(json.as_bytes(), &mut kept, limits, &mut |_| {});
        (result, kept)
    }

    #[test]
    fn rows_keep_only_the_fields_asked_for() {
        let json = r#"{"db": [{"meta": {"version": "5.0.0"}, "data": {"posts": [
            {"id": "a", "title": "T", "html": "<p>x</p>", "nested": {"deep": [1, 2]}}, 7, [1]
        ], "skipped": [{"id": "b"}]}}, {"data": {"posts": [{"id": "c"}]}}]}"#;
        let (result, kept) = read_str(json, Limits::default());
        assert_eq!(result, Ok(()));
        assert_eq!(kept.rows.len(), 3, "the skipped table and the second export are not read");
        let first = kept.rows[0].1.as_ref().unwrap();
        assert_eq!(first.fields.len(), 2);
        assert_eq!(text(first, "title"), Ok(Some("T")));
        assert_eq!(kept.rows[1].1.as_ref().unwrap_err(), "a row that is a number, not an object");
        assert_eq!(kept.rows[2].1.as_ref().unwrap_err(), "a row that is a list, not an object");
    }

    #[test]
    fn a_row_a_key_or_a_nesting_past_its_limit_stops_the_read() {
        let long_row = format!(r#"{{"data": {{"posts": [{{"id": "{}"}}]}}}}"#, "x".repeat(2000));
        assert!(read_str(&long_row, SMALL).0.unwrap_err().contains("a row larger than"));
        let long_key = format!(r#"{{"data": {{"{}": []}}}}"#, "k".repeat(200));
        assert!(read_str(&long_key, SMALL).0.unwrap_err().contains("a key or `meta` larger than"));
        // Skipped values are not kept, so they may be large, but never deep.
        let large_skipped = format!(r#"{{"data": {{"skipped": ["{}"]}}}}"#, "x".repeat(5000));
        assert_eq!(read_str(&large_skipped, SMALL).0, Ok(()));
        let deep = format!(r#"{{"data": {{"skipped": {}{}}}}}"#, "[".repeat(20), "]".repeat(20));
        assert!(read_str(&deep, SMALL).0.unwrap_err().contains("nested over 16 deep"));
        // Brackets inside strings are text.
        let brackets = format!(r#"{{"data": {{"posts": [{{"title": "{}\"]"}}]}}}}"#, "[".repeat(40));
        assert_eq!(read_str(&brackets, SMALL).0, Ok(()));
        // Whitespace after the export is not a key.
        assert_eq!(read_str(&format!(r#"{{"data": {{}}}}{}"#, " ".repeat(500)), SMALL).0, Ok(()));
    }

    #[test]
    fn ids_are_text_or_numbers_and_short() {
        let json =
            format!(r#"{{"data": {{"posts": [{{"id": 42}}, {{"id": "{}"}}, {{"id": true}}]}}}}"#, "a".repeat(65));
        let (_, kept) = read_str(&json, Limits::default());
        let ids: Vec<_> = kept.rows.iter().map(|(_, row)| id(row.as_ref().unwrap(), "id")).collect();
        assert_eq!(ids[0], Ok(Some("42".to_string())));
        assert!(ids[1].as_ref().unwrap_err().contains("longer than 64"));
        assert!(ids[2].as_ref().unwrap_err().contains("a boolean, not an id"));
    }
}
