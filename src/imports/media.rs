//! `--fetch-media`: an imported post's featured image brought into the media library with the
//! same checks as an upload (type told by the bytes, pixel limit, metadata stripped). Fetching
//! and storing are the caller's (`Fetcher`): through the SSRF guard of every outgoing request.

use std::collections::HashSet;

use chrono::NaiveDateTime;

use super::records::Writer;
use super::{Report, local_id, remember};
use crate::db::{DbConnection, bookkeeping_transaction};
use crate::error::ApiError;
use crate::media::model::original_object;
use crate::media::processing;
use crate::media::store::{self as media_store, NewMedia};
use crate::media::upload::display_name;

/// Brings files in for an import.
pub trait Fetcher {
    /// The bytes at `url` (refused inside the network, bounded in size and time).
    fn download(&mut self, url: &str) -> Result<Vec<u8>, String>;
    /// Stores a file in the media store under `object`.
    fn store(&mut self, object: &str, bytes: Vec<u8>) -> Result<(), String>;
    /// Removes a file stored for a record that could not be written.
    fn delete(&mut self, object: &str) -> Result<(), String>;
    /// The most pixels an image may declare (`MASTHEAD_MEDIA_MAX_PIXELS`).
    fn max_pixels(&self) -> u64;
}

/// Featured images brought into the media library, with `--fetch-media`.
pub struct Covers<'f> {
    fetcher: Option<&'f mut dyn Fetcher>,
    /// Images that could not be fetched in this run: not tried again.
    unfetched: HashSet<String>,
}

impl<'f> Covers<'f> {
    pub fn new(fetcher: Option<&'f mut dyn Fetcher>) -> Self {
        Self { fetcher, unfetched: HashSet::new() }
    }

    /// The library image `attachment` (at `url`) became, fetched the first time; `None` without
    /// a fetcher, or when it cannot be fetched (the cover is then its URL, and the report says
    /// why).
    #[allow(clippy::too_many_arguments)]
    pub fn library_image(
        &mut self,
        conn: &mut DbConnection,
        writer: &Writer,
        attachment: &str,
        url: &str,
        alt: Option<&str>,
        author: i64,
        report: &mut Report,
    ) -> Option<i64> {
        if self.unfetched.contains(attachment) {
            return None;
        }
        let fetcher = self.fetcher.as_deref_mut()?;
        let fresh = local_id(conn, &writer.source, "attachment", attachment).ok().flatten().is_none();
        match library_image(conn, fetcher, &writer.source, attachment, url, alt, author, writer.now) {
            Ok(id) => {
                if fresh {
                    report.imported("media");
                }
                Some(id)
            }
            Err(error) => {
                report.failed("media", attachment, error.for_terminal());
                self.unfetched.insert(attachment.to_string());
                None
            }
        }
    }
}

/// The library image a source's attachment became: fetched, checked and recorded the first time,
/// remembered after. The file is stored before its record, as an upload's is.
#[allow(clippy::too_many_arguments)]
fn library_image(
    conn: &mut DbConnection,
    fetcher: &mut dyn Fetcher,
    source: &str,
    attachment: &str,
    url: &str,
    alt: Option<&str>,
    uploaded_by: i64,
    now: NaiveDateTime,
) -> Result<i64, ApiError> {
    if let Some(id) = local_id(conn, source, "attachment", attachment)? {
        return Ok(id);
    }
    let bytes = fetcher.download(url).map_err(|e| ApiError::BadRequest(format!("cannot fetch {url}: {e}")))?;
    let cleaned = processing::clean(&bytes, fetcher.max_pixels())?;
    let name = url.split(['?', '#']).next().and_then(display_name);
    let alt = alt.map(str::trim).filter(|alt| !alt.is_empty()).map(|alt| alt.chars().take(1000).collect());
    let new = NewMedia::for_file(&cleaned, name, alt, None, uploaded_by);
    let object = original_object(&new.storage_key, new.format);
    fetcher
        .store(&object, cleaned.bytes)
        .map_err(|e| ApiError::StoreUnavailable(format!("cannot store {url}: {e}")))?;
    // The record and what the import remembers of it, together; the file goes again without them.
    let recorded = bookkeeping_transaction(conn, |conn| {
        let row = media_store::insert(conn, new, now)?;
        remember(conn, source, "attachment", attachment, row.id, now)?;
        Ok(row.id)
    });
    if recorded.is_err()
        && let Err(error) = fetcher.delete(&object)
    {
        tracing::error!(%error, object, "an imported image could not be recorded, and its file could not be removed");
    }
    recorded
}
