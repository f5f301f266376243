//! Moving a publication out and back in: the export (JSON Lines, `format.rs`), written from one
//! snapshot of the database (`export.rs`), and its restore into an empty database
//! (`restore.rs`), which is also how a publication moves between SQLite and PostgreSQL.

pub mod export;
pub mod format;
pub mod restore;
pub mod routes;
